"""Terminal safety: nothing that came from an event reaches the screen raw.

The decoder already rejects C0/C1 control characters (so no ESC, no CSI); this also strips
invisible format characters that can reorder or hide text on a terminal (bidi overrides,
zero-width joiners and the like), as a last line of defence at the point of drawing.
"""

from __future__ import annotations

import re
from typing import Final

_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def clean(text: str | None, limit: int = 256) -> str:
    """Text safe to draw: control and format characters removed, length bounded."""
    if not text:
        return ""
    return _UNSAFE.sub("", text)[:limit]
