"""Terminal safety: nothing that came from an event reaches the screen raw.

The decoder already rejects C0/C1 control characters in events, but text also comes from
snapshots an aggregator wrote, the control stream, exception messages and config files; so
every string is cleaned again at the point of drawing:

- whole escape sequences go (CSI such as `ESC [ 2 J`, OSC such as a window title
  `ESC ] 0 ; ... BEL`, DCS/SOS/PM/APC strings, their 8-bit forms, two-byte `ESC x`), so no
  stray parameters are left behind;
- then every character Unicode calls a control (Cc: C0, DEL, C1), a format character (Cf:
  bidi embeddings, overrides and isolates, zero-width spaces and joiners, the BOM, soft
  hyphens, tags), a lone surrogate (Cs: the terminal's encoder would raise on it) or a line
  or paragraph separator (Zl, Zp).

Markup is not this module's business: brackets are left as they are, and the widgets pass
the text to Textual as plain text (widgets/safe_text.py).
"""

from __future__ import annotations

import re
from typing import Final

# ECMA-48: CSI (ESC [ or 0x9B) params, intermediates, a final byte; OSC, DCS, SOS, PM, APC
# (ESC ] P X ^ _ or 0x9D 0x90 0x98 0x9E 0x9F) up to BEL or ST (ESC \ or 0x9C); or ESC,
# intermediates and one final byte.
_SEQUENCE: Final = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)

# Cc, Cf, Cs, Zl and Zp as of Unicode 15.1 (tests/test_hostile_screen.py checks this against
# the running Python's unicodedata, so a newer Unicode cannot slip one past).
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def clean(text: str | None, limit: int = 256) -> str:
    """Text safe to draw: escape sequences, control and format characters removed, at most
    `limit` characters."""
    if not text:
        return ""
    if text.isprintable():  # the common case, in C: no Cc, Cf, Cs, Zl or Zp in it
        return text[:limit]
    return _UNSAFE.sub("", _SEQUENCE.sub("", text))[:limit]
