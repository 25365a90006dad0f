"""Big numbers for the big screen: FIGlet block fonts (pyfiglet), scaled by whole cells.

Why pyfiglet's `ansi_regular` and `mono12` and not Textual's `Digits`: `Digits` has one 3x3
font drawn with box-drawing strokes, lines a fraction of a cell thick that cannot be scaled
(doubling them gives double lines, not thicker ones) and vanish across a room. The FIGlet
fonts here are drawn in full and half blocks (`█ ▀ ▄`): strokes two cells wide that stay solid
when every cell is repeated k x k times, so a tile of any size gets a sharp number. Textual's
3x3 font stays as the rung for small tiles (an 80x24 laptop), where three rows is all there is.

Every digit is drawn in a cell of one width (the font's widest digit), so a number is fixed
width and right-aligned: nothing moves sideways as values change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, NamedTuple

import pyfiglet
from textual.renderables.digits import DIGITS, DIGITS3X3

CHARS: Final = "0123456789:-"


class DigitFont(NamedTuple):
    name: str  # "ansi_regular", "mono12", "textual3x3" or "text"
    scale: int  # every cell repeated scale x scale times
    height: int  # rows
    width: int  # columns of one character cell

    def text_width(self, chars: int) -> int:
        return self.width * chars


@lru_cache(maxsize=8)
def _glyphs(name: str) -> dict[str, list[str]]:
    """Each character's rows, blank rows common to every digit trimmed, padded to one width."""
    if name == "textual3x3":
        glyphs = {}
        for char in CHARS:
            at = DIGITS.find(char)
            glyphs[char] = [DIGITS3X3[at * 3 + i] for i in range(3)] if at >= 0 else ["   "] * 3
    elif name == "text":
        glyphs = {char: [char] for char in CHARS}
    else:
        figlet = pyfiglet.Figlet(font=name, width=1000)
        glyphs = {char: figlet.renderText(char).split("\n") for char in CHARS}
        height = max(len(rows) for rows in glyphs.values())
        for rows in glyphs.values():
            rows.extend([""] * (height - len(rows)))
        inked = [i for i in range(height) if any(rows[i].strip() for rows in glyphs.values())]
        glyphs = {char: rows[inked[0]: inked[-1] + 1] for char, rows in glyphs.items()}
    width = max(len(row) for rows in glyphs.values() for row in rows)
    # Right-justified in the cell: the font's own left bearing is the gap between digits.
    return {char: [row.rjust(width) for row in rows] for char, rows in glyphs.items()}


@lru_cache(maxsize=16)
def font(name: str, scale: int = 1) -> DigitFont:
    glyph = _glyphs(name)["0"]
    return DigitFont(name, scale, len(glyph) * scale, len(glyph[0]) * scale)


def ladder() -> list[DigitFont]:
    """The fonts from the biggest down: a tile takes the first that fits."""
    return [font("ansi_regular", 4), font("ansi_regular", 3), font("ansi_regular", 2),
            font("mono12"), font("ansi_regular"), font("textual3x3"), font("text")]  # fmt: skip


def pick(rows: int, columns: int, chars: int) -> DigitFont | None:
    """The biggest font whose `chars` characters fit in `rows` x `columns`; None if none does."""
    for candidate in ladder():
        if candidate.height <= rows and candidate.text_width(chars) <= columns:
            return candidate
    return None


@lru_cache(maxsize=4096)
def render(text: str, digit_font: DigitFont, chars: int = 0) -> tuple[str, ...]:
    """`text` (digits, `:` and `-`) in `digit_font`, right-aligned in `chars` character cells
    (at least its own length): `digit_font.height` lines of equal width."""
    glyphs = _glyphs(digit_font.name)
    k = digit_font.scale
    base = digit_font.height // k
    cell = digit_font.width // k
    rows = []
    for i in range(base):
        row = "".join(glyphs[c][i] if c in glyphs else " " * cell for c in text)
        row = row.rjust(cell * max(chars, len(text)))
        scaled = "".join(ch * k for ch in row) if k > 1 else row
        rows.extend([scaled] * k)
    return tuple(rows)
