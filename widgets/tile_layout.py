"""Where the queue tiles go: a grid that grows its tiles to fill the area, pages beyond it.

Pure arithmetic over cell counts (no Textual), so the choices are tested directly:
- the grid with the biggest waiting digits wins, then the one showing more figures, then
  the one covering more of the area;
- the big screen (kiosk) puts at most `MAX_PER_PAGE` tiles on a page and rotates pages;
- a supervisor's board shows every tile or, where they do not all fit at their smallest,
  one line per queue (`compact`).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from widgets.bigdigits import DigitFont, pick

MAX_PER_PAGE: Final = 12
GUTTER: Final = 1  # columns between tiles (rows need none: the frames separate them)
MIN_WIDTH: Final = 22  # a title, a level word and three 3x3 digits
MIN_HEIGHT: Final = 6  # frame, title, three digit rows, one row of figures
FIGURE_WIDTH: Final = 20  # one "label  value" cell of the figures area
DIGIT_CHARS: Final = 3  # the number's fixed width: up to 999 without changing font
SECONDARY_ROWS: Final = 2  # kept for more figures (chat response rounds) when room allows


class TileBox(NamedTuple):
    """The inside of one tile: how its rows are spent."""

    digits: DigitFont
    figure_columns: int
    figure_rows: int
    reason: bool  # a line saying what drives the level
    spare: int  # rows left blank (the secondary area and centring)


class Grid(NamedTuple):
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    per_page: int
    pages: int
    box: TileBox | None  # None: compact, one line per queue


def tile_box(width: int, height: int, figures: int) -> TileBox | None:
    """How a tile of `width` x `height` cells (frame included) spends its rows: a title line,
    the big number as big as fits, then as many figure rows as fit after it, a reason line
    and the secondary area. None if not even the title and a 3-row number fit."""
    inner_w, inner_h = width - 4, height - 2
    if inner_w < MIN_WIDTH - 4 or inner_h < 1 + 3:
        return None
    columns = max(1, inner_w // FIGURE_WIDTH)
    all_rows = -(-figures // columns)
    # What the rows below the number are for, in the order they are given up for it: a big
    # number readable across the room comes first, down to 7 rows, then 5, then 3.
    options = [(all_rows, True, SECONDARY_ROWS), (all_rows, True, 0), (all_rows, False, 0),
               *((r, False, 0) for r in range(all_rows - 1, 0, -1))]  # fmt: skip
    for wanted in (7, 5, 3):
        for figure_rows, reason, secondary in options:
            room = inner_h - 1 - figure_rows - int(reason) - secondary
            digits = pick(room, inner_w, DIGIT_CHARS)
            if digits is not None and digits.height >= wanted:
                spare = inner_h - 1 - digits.height - figure_rows - int(reason)
                return TileBox(digits, columns, figure_rows, reason, spare)
    digits = pick(inner_h - 1, inner_w, DIGIT_CHARS)
    if digits is None or digits.height < 3:
        return None
    return TileBox(digits, columns, 0, False, inner_h - 1 - digits.height)


def _score(box: TileBox, columns: int, rows: int, tile_w: int, tile_h: int,
           width: int, height: int) -> tuple[int, int, int, int]:  # fmt: skip
    shown = box.figure_rows * box.figure_columns
    covered = (columns * tile_w + GUTTER * (columns - 1)) * rows * tile_h
    return (box.digits.height, shown, int(box.reason), covered * 100 // max(1, width * height))


def _best(count: int, width: int, height: int, figures: int) -> Grid | None:
    """The best grid for `count` tiles on one page, or None if they do not fit."""
    best: tuple[tuple[int, int, int, int], Grid] | None = None
    for columns in range(1, count + 1):
        rows = -(-count // columns)
        tile_w = (width - GUTTER * (columns - 1)) // columns
        tile_h = height // rows
        if tile_w < MIN_WIDTH or tile_h < MIN_HEIGHT:
            continue
        box = tile_box(tile_w, tile_h, figures)
        if box is None:
            continue
        score = _score(box, columns, rows, tile_w, tile_h, width, height)
        if best is None or score > best[0]:
            best = (score, Grid(columns, rows, tile_w, tile_h, count, 1, box))
    return None if best is None else best[1]


def plan(count: int, width: int, height: int, *, figures: int, paged: bool) -> Grid:
    """The grid for `count` tiles in `width` x `height` cells. `paged` (the big screen): at
    most MAX_PER_PAGE a page, fewer if they would not fit, the tiles shared evenly between
    the pages (13 tiles: 7 and 6, not 12 and 1); else all on one page or, if they do not fit,
    compact (`box` None)."""
    if count <= 0:
        return Grid(1, 1, width, height, 0, 1, tile_box(width, height, figures))
    per_page = min(count, MAX_PER_PAGE) if paged else count
    while per_page >= 1:
        grid = _best(per_page, width, height, figures)
        if grid is not None:
            pages = -(-count // per_page)
            even = -(-count // pages)
            if even != per_page:
                grid = _best(even, width, height, figures) or grid
            return grid._replace(pages=-(-count // grid.per_page))
        if not paged:
            break
        per_page -= 1
    return Grid(1, count, width, 1, count, 1, None)
