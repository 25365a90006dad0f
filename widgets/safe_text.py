"""Event text into Textual, safely. Two rules, each in one place:

- **Plain text everywhere.** Cells (RowList), tiles, Content built by `widgets.styles.line`,
  Statics with `markup=False`, and the app's notifications (`WallboardApp.tell`,
  `markup=False`) take event text as text, cleaned by `wallboard.core.sanitize.clean` (no
  escape sequences, controls or bidi characters). A name like `a[/x]b` is drawn as written.
- **Markup only where Textual insists.** The command palette parses its titles as markup;
  event text goes into them through `literal`.
"""

from __future__ import annotations

from typing import Final

from wallboard.core.sanitize import clean

UNBOUNDED: Final = 1 << 30  # clean without cutting: the caller has already bounded the text


def plain(text: str | None, limit: int = UNBOUNDED) -> str:
    """`clean`, keeping our own line breaks: each line cleaned on its own (the widgets' last
    line of defence for multi-line Content; event text has been cleaned with a limit)."""
    if not text:
        return ""
    if "\n" not in text:
        return clean(text, limit)
    return "\n".join(clean(part, limit) for part in text.split("\n"))[:limit]


def literal(text: str | None, limit: int = 256) -> str:
    """`clean(text, limit)` escaped for Textual's content markup: `Content.from_markup` of the
    result reads exactly `clean(text, limit)`, whatever brackets or dollars it holds.

    Not `textual.markup.escape`: made for Rich's markup, it leaves `[$error]`, `[B]`, `[ b]`,
    `[1x]` and an unclosed `[/x` as tags for Textual's parser (a style taken from an event,
    or a MarkupError). Textual reads `\\[` as a literal bracket and nothing else as an
    escape, so every bracket is escaped. A trailing backslash would escape a tag written
    right after the insert: put it last, or before text that is not a `[`."""
    return clean(text, limit).replace("[", "\\[")
