"""Queue tiles drawn with the line API: one widget for the whole grid, each tile's lines
built only when its queue's numbers change, and only the changed tiles' lines repainted.
The tiles grow to fill the widget (widgets/tile_layout.py); the waiting count is drawn in
big block digits (widgets/bigdigits.py) as big as the tile allows.

A tile, top to bottom: the queue's name and its level (word, colour and frame shape), the
waiting count, a line saying what drives a WARN or CRIT level, the figures area (`Figure`s,
as many as fit, the most important first) and two blank rows kept for more figures.
`show` takes a snapshot's queues; `show_headline` only newer waiting counts and longest waits
(the app's headline lane, ten times a second) over them, in place.

Twenty tiles as separate Static/Digits widgets cost a CSS and content pass per tile per tick
(about 4 ms each) and a full repaint of every changed line; here a tick that changes nothing
costs a comparison per queue, and a changed tile one strip per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar, Final, NamedTuple

import msgspec
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wallboard.core.config import DisplaySection
from wallboard.core.headline import Headline
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import QueueSnapshot
from wallboard.i18n import _
from widgets.bigdigits import DigitFont, font, render
from widgets.fmt import (
    LABELS,
    Level,
    QueueLevels,
    duration,
    ellipsize,
    longest_level,
    pct,
    rank,
)
from widgets.tile_layout import DIGIT_CHARS, GUTTER, SECONDARY_ROWS, Grid, TileBox, plan

_BORDERS: Final = {  # (top-left, horizontal, top-right, vertical, bottom-left, bottom-right)
    "round": ("╭", "─", "╮", "│", "╰", "╯"),
    "heavy": ("┏", "━", "┓", "┃", "┗", "┛"),
    "double": ("╔", "═", "╗", "║", "╚", "╝"),
}
# The frame's shape says the level as well as its colour and word: round OK, heavy WARN,
# double CRIT (across a room, or on a monochrome screen, the frames differ).
_FRAME: Final[dict[str, str]] = {"ok": "round", "none": "round", "warn": "heavy", "crit": "double"}

Piece = tuple[str, str]  # text and a style name (a component class suffix, "" for plain)


class Figure(NamedTuple):
    """One secondary figure of a tile: a label, its value (right-aligned) and the value's
    level. The figures area takes as many as fit, in order; more can be appended."""

    label: str
    value: str
    level: str = ""


def big_digits(text: str, digit_font: DigitFont | None = None, chars: int = 0) -> list[str]:
    """`text` in big digits (Textual's 3x3 font unless another is given)."""
    return list(render(text, digit_font or font("textual3x3"), chars))


@lru_cache(maxsize=1024)
def _title(queue: str) -> str:
    return clean(queue, 40)


def fit_text(text: str, width: int) -> str:
    return ellipsize(text, width)


def figures(q: QueueSnapshot, lv: QueueLevels) -> list[Figure]:
    """The tile's secondary figures, the most important first (a small tile shows the first)."""
    return [
        Figure(_("longest"), duration(q.longest_wait_s), lv.longest),
        Figure(_("SL {minutes}m").format(minutes=q.window.minutes),
               pct(q.window.service_level), lv.sl_window),
        Figure(_("abandoned"), pct(q.today.abandon_rate, 1), lv.abandon),
        Figure(_("free/staffed"), f"{q.agents_available}/{q.agents_staffed}"),
        Figure(_("SL today"), pct(q.today.service_level), lv.sl_today),
        Figure(_("ASA"), duration(q.today.asa_s)),
        Figure(_("target"), f"{q.sl_target * 100:.0f}%/{q.sl_threshold_s:g}s"),
    ]  # fmt: skip


FIGURE_COUNT: Final = 7  # len(figures(...)): the layout plans rows for them


def reason(q: QueueSnapshot, lv: QueueLevels, d: DisplaySection) -> str:
    """What puts the tile at its level, in words: the first figure past its display level."""
    if lv.overall not in ("warn", "crit"):
        return ""
    level = lv.overall
    if lv.waiting == level:
        limit = d.waiting_critical if level == "crit" else d.waiting_warn
        return _("{n} waiting ≥ {limit}").format(n=q.waiting, limit=limit)
    if lv.longest == level:
        x = d.longest_wait_critical_x if level == "crit" else d.longest_wait_warn_x
        return _("longest {wait} ≥ {limit}").format(
            wait=duration(q.longest_wait_s), limit=duration(x * q.sl_threshold_s))
    if lv.sl_window == level:
        gap = d.sl_critical_gap if level == "crit" else d.sl_warn_gap
        return _("SL {minutes}m {value} < {limit}").format(
            minutes=q.window.minutes, value=pct(q.window.service_level),
            limit=pct(q.sl_target - gap))
    limit_rate = d.abandon_critical if level == "crit" else d.abandon_warn
    return _("abandoned {value} ≥ {limit}").format(
        value=pct(q.today.abandon_rate, 1), limit=pct(limit_rate))


def rows_above_digits(box: TileBox) -> int:
    """Blank rows between the title and the number: half of what the secondary area (kept
    at the bottom) leaves, so a tall tile's number sits in its middle."""
    return max(0, box.spare - SECONDARY_ROWS) // 2


def tile_lines(q: QueueSnapshot, d: DisplaySection, box: TileBox, inner: int,
               alerted: bool = True) -> tuple[Level, list[list[Piece]]]:  # fmt: skip
    """The tile's level and the pieces of its inner lines (`inner` cells wide), laid out as
    `box` says: title and level, the big number, a reason line, the figures, blank rows."""
    lv = QueueLevels(q, d)
    level = lv.overall
    badge = f" {LABELS[level]} "
    title = fit_text(_title(q.queue), max(1, inner - cell_len(badge) - 1))
    lines: list[list[Piece]] = [[(title, "title"),
                                 (" " * (inner - cell_len(title) - cell_len(badge)), ""),
                                 (badge, level)]]  # fmt: skip
    digits = render(str(q.waiting), box.digits, DIGIT_CHARS)
    label = _("waiting")
    room = inner - cell_len(digits[0])
    lines += [[("", "")]] * rows_above_digits(box)
    for i, row in enumerate(digits):
        # The label beside the number's last row where there is room, else none: the
        # number is always the waiting count (docs/board.md).
        text = label if i == len(digits) - 1 and cell_len(label) < room else ""
        lines.append([(text, "label"), (" " * (room - cell_len(text)), ""),
                      (row, f"digits-{lv.waiting}")])  # fmt: skip
    if box.reason:
        why = reason(q, lv, d)
        if why and not alerted:
            why += _(" · no alert yet")
        lines.append([(fit_text(why, inner), level if why else "")])
    shown = figures(q, lv)[: box.figure_rows * box.figure_columns]
    cell = inner // box.figure_columns
    for row_start in range(0, len(shown), box.figure_columns):
        pieces: list[Piece] = []
        for k, figure in enumerate(shown[row_start: row_start + box.figure_columns]):
            gap = 2 if k else 0
            width = cell - gap
            value = figure.value
            name = fit_text(figure.label, max(1, width - cell_len(value) - 1))
            pad = max(1, width - cell_len(name) - cell_len(value))
            pieces += [(" " * gap + name + " " * pad, "label"), (value, figure.level)]
        lines.append(pieces)
    while len(lines) < 1 + box.spare + box.digits.height + int(box.reason) + box.figure_rows:
        lines.append([("", "")])
    return level, lines


def compact_line(q: QueueSnapshot, d: DisplaySection, width: int) -> list[Piece]:
    """One queue on one line (the board where tiles do not fit): name, level, waiting, then
    as many figures as fit, every value right-aligned in a fixed width."""
    lv = QueueLevels(q, d)
    badge = f" {LABELS[lv.overall]:<6} "
    cells: list[Piece] = [(badge, lv.overall), (" ", "")]
    tail: list[Piece] = [(f"{q.waiting:>5} ", f"digits-{lv.waiting}")]
    for figure in figures(q, lv)[:4]:
        tail += [(f" {figure.label} ", "label"), (f"{figure.value:>6}", figure.level)]
    used = sum(cell_len(t) for t, _ in cells)
    name_w = max(6, min(24, width - used - sum(cell_len(t) for t, _ in tail[:3])))
    cells.append((fit_text(_title(q.queue), name_w).ljust(name_w), "title"))
    room = width - used - name_w
    for text, style in tail:
        if cell_len(text) > room:
            break
        cells.append((text, style))
        room -= cell_len(text)
    return cells


def _reads_same(longest_wait_s: float, q: QueueSnapshot, d: DisplaySection) -> bool:
    """A longest wait draws as `q`'s does: the same text and the same level (its colour)."""
    old = q.longest_wait_s
    return longest_wait_s == old or (
        duration(longest_wait_s) == duration(old)
        and longest_level(longest_wait_s, q.sl_threshold_s, d)
        == longest_level(old, q.sl_threshold_s, d))


class QueueTiles(ScrollView):
    """A grid of queue tiles that grow to fill the widget (widgets/tile_layout.py). `fit`
    (kiosk): worst level first, at most 12 a page, pages turned by `next_page`; otherwise
    all of them by name, or one line per queue where they do not all fit."""

    DEFAULT_CSS = """
    QueueTiles { height: 1fr; }
    QueueTiles > .tiles--title { text-style: bold; }
    QueueTiles > .tiles--label { color: $text-muted; }
    QueueTiles > .tiles--ok { color: $success; }
    QueueTiles > .tiles--warn { color: $warning; text-style: bold; }
    QueueTiles > .tiles--crit { color: $error; text-style: bold reverse; }
    QueueTiles > .tiles--none { color: $text-muted; }
    QueueTiles > .tiles--digits-ok { color: $foreground; }
    QueueTiles > .tiles--digits-none { color: $foreground; }
    QueueTiles > .tiles--digits-warn { color: $warning; }
    QueueTiles > .tiles--digits-crit { color: $error; }
    QueueTiles > .tiles--border-ok { color: $primary; }
    QueueTiles > .tiles--border-none { color: $primary; }
    QueueTiles > .tiles--border-warn { color: $warning; }
    QueueTiles > .tiles--border-crit { color: $error; }
    QueueTiles > .tiles--header { text-style: bold; background: $panel; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"tiles--{name}" for name in (
        "title", "label", "ok", "warn", "crit", "none", "digits-ok", "digits-none",
        "digits-warn", "digits-crit", "border-ok", "border-none", "border-warn", "border-crit",
        "header")}

    def __init__(self, display: DisplaySection, *, fit: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_config = display
        self.fit = fit
        self.queues: Sequence[QueueSnapshot] = ()
        self.alerted: frozenset[str] | None = None  # queues with an active alert
        self.shown: list[QueueSnapshot] = []  # this page's, in grid order
        self.page = 0
        self.grid: Grid = Grid(1, 1, 0, 0, 0, 1, None)
        # name -> (the queue as drawn, tile width, its lines' pieces, their strips)
        self._tiles: dict[str, tuple[QueueSnapshot, int, list[tuple[Piece, ...]], list[Strip]]] = {}
        self._styles: dict[str, Style] = {}
        self._blanks: dict[int, Strip] = {}  # gutters and right margins, by width

    @property
    def pages(self) -> int:
        return self.grid.pages

    @property
    def compact(self) -> bool:
        return self.grid.box is None

    # ---- data -------------------------------------------------------------------------

    def show(self, queues: Sequence[QueueSnapshot], alerted: frozenset[str] | None = None) -> None:
        self.queues = queues
        if alerted != self.alerted:
            self.alerted = alerted
            self._tiles.clear()
            self.refresh()
        self._lay_out()

    def next_page(self) -> bool:
        """Turn to the next page of tiles; False (and back to the first) after the last."""
        if self.page + 1 < self.pages:
            self.page += 1
            self._lay_out()
            return True
        if self.page:
            self.page = 0
            self._lay_out()
        return False

    def show_headline(self, lane: Headline) -> bool:
        """The fast lane (wallboard.core.headline): newer waiting counts and longest waits over the
        last snapshot's tiles, between full snapshots (the next `show` replaces them). Only the
        lines that read differently repaint; True if any tile changed. The tiles keep their
        places: on the big screen (worst first) the full snapshot decides the order, else a
        level flickering at a threshold would move, and repaint, every tile ten times a
        second."""
        d = self.display_config
        fresh = {h.queue: h for h in lane}
        newer: dict[str, QueueSnapshot] = {}
        for index, q in enumerate(self.shown):
            h = fresh.get(q.queue)
            if h is None or (h.waiting == q.waiting and _reads_same(h.longest_wait_s, q, d)):
                continue  # would read the same: not even a tile rebuild
            now = msgspec.structs.replace(q, waiting=h.waiting, longest_wait_s=h.longest_wait_s)
            self.shown[index] = newer[q.queue] = now
            self._redraw(index, now)
        if newer:  # a resize lays the tiles out again from these
            self.queues = [newer.get(q.queue, q) for q in self.queues]
        return bool(newer)

    def _lay_out(self) -> None:
        width, height = self.size
        queues = list(self.queues)
        d = self.display_config
        if self.fit:
            # Worst level first, then by name: not by the waiting count, which would make the
            # tiles jump around the big screen (and repaint all of them) every tick.
            queues.sort(key=lambda q: (-rank(QueueLevels(q, d).overall), q.queue))
        grid = plan(len(queues), width, height, figures=FIGURE_COUNT, paged=self.fit)
        layout_changed = grid != self.grid
        self.grid = grid
        if grid.box is None:  # compact: a header line and every queue, scrolling
            page_queues = queues
            size = Size(width, len(queues) + 1)
        else:
            self.page = min(self.page, grid.pages - 1)
            first = self.page * grid.per_page
            page_queues = queues[first: first + grid.per_page]
            size = Size(width, height)
        order_changed = [q.queue for q in page_queues] != [q.queue for q in self.shown]
        self.shown = page_queues
        if size != self.virtual_size:
            self.virtual_size = size
        if layout_changed or order_changed or grid.box is None:
            self._tiles.clear()
            self.refresh()
            return
        for index, q in enumerate(page_queues):
            self._redraw(index, q)

    def _slot(self, index: int) -> tuple[int, int, int]:
        """Slot `index`'s (x, y, width): the last row's tiles share its width among fewer."""
        g = self.grid
        row, column = divmod(index, g.columns)
        in_row = min(g.columns, len(self.shown) - row * g.columns)
        width = (self.size.width - GUTTER * (in_row - 1)) // max(1, in_row)
        width = g.tile_width if in_row == g.columns else width
        return column * (width + GUTTER), row * g.tile_height, width

    def _redraw(self, index: int, q: QueueSnapshot) -> None:
        """The tile in slot `index` now shows `q`: repaint only the lines that read differently
        (every byte goes over SSH)."""
        if self.grid.box is None:
            self.refresh()
            return
        drawn = self._tiles.get(q.queue)
        _, _, width = self._slot(index)
        if drawn is None or drawn[1] != width:
            self._tiles.pop(q.queue, None)
            self._refresh_slot(index)
        elif drawn[0] != q:
            _, _, old_lines, old_strips = drawn
            new_lines = self._tile_pieces(q, width)
            strips = list(old_strips)  # a Strip is costly to make: only for the changed lines
            for line, (old, new) in enumerate(zip(old_lines, new_lines, strict=True)):
                if old != new:
                    strips[line] = self._strip(new, width)
                    self._refresh_slot(index, line)
            self._tiles[q.queue] = (q, width, new_lines, strips)

    def _refresh_slot(self, index: int, line: int | None = None) -> None:
        """Repaint a tile or one of its lines.

        Every region starts at the widget's left edge: Textual writes a changed line of a
        widget from its left edge to the region's end whatever the region's start, once per
        separate region, so five tiles changing on one screen line as five regions were
        written as 1 + 2 + 3 + 4 + 5 tiles; as regions from the left edge they merge into one."""
        x, y, width = self._slot(index)
        y -= round(self.scroll_offset.y)
        if line is None:
            self.refresh(Region(0, y, x + width, self.grid.tile_height))
        else:
            self.refresh(Region(0, y + line, x + width, 1))

    def on_resize(self) -> None:
        self._lay_out()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._blanks.clear()
        self._tiles.clear()

    # ---- drawing ----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base + self.get_component_rich_style(f"tiles--{name}") if name else base
            self._styles[name] = style
        return style

    def _blank(self, width: int) -> Strip:
        blank = self._blanks.get(width)
        if blank is None:
            blank = self._blanks[width] = Strip.blank(width, self._style(""))
        return blank

    def _strip(self, pieces: Sequence[Piece], width: int) -> Strip:
        segments = [Segment(text, self._style(name)) for text, name in pieces]
        used = sum(cell_len(text) for text, _ in pieces)
        if used < width:
            segments.append(Segment(" " * (width - used), self._style("")))
        return Strip(segments, width).crop(0, width)

    def _tile_pieces(self, q: QueueSnapshot, width: int) -> list[tuple[Piece, ...]]:
        box = self.grid.box
        assert box is not None
        alerted = True if self.alerted is None else q.queue in self.alerted
        level, lines = tile_lines(q, self.display_config, box, width - 4, alerted)
        lines = lines[: self.grid.tile_height - 2]
        lines += [[("", "")]] * (self.grid.tile_height - 2 - len(lines))
        return self._framed(lines, width, level)

    def _tile(self, q: QueueSnapshot,
              width: int) -> tuple[QueueSnapshot, int, list[tuple[Piece, ...]], list[Strip]]:
        drawn = self._tiles.get(q.queue)
        if drawn is not None and drawn[0] == q and drawn[1] == width:
            return drawn
        framed = self._tile_pieces(q, width)
        drawn = (q, width, framed, [self._strip(pieces, width) for pieces in framed])
        self._tiles[q.queue] = drawn
        return drawn

    def _tile_strips(self, q: QueueSnapshot, width: int) -> list[Strip]:
        return self._tile(q, width)[3]

    @staticmethod
    def _framed(lines: list[list[Piece]], width: int, level: str) -> list[tuple[Piece, ...]]:
        tl, h, tr, v, bl, br = _BORDERS[_FRAME.get(level, "round")]
        border = f"border-{level}"
        inner = width - 4  # border and one column of padding each side
        framed: list[tuple[Piece, ...]] = [((tl + h * (width - 2) + tr, border),)]
        for pieces in lines:
            fitted: list[Piece] = []
            room = inner
            for text, name in pieces:
                if room <= 0:
                    break
                shown = fit_text(text, room)
                fitted.append((shown, name))
                room -= cell_len(shown)
            framed.append(((v + " ", border), *fitted, (" " * room, ""), (" " + v, border)))
        framed.append(((bl + h * (width - 2) + br, border),))
        return framed

    def _compact_strip(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            text = fit_text(_("queues: one line each (too many for tiles here)"), width)
            return self._strip([(text, "header")], width)
        index = y - 1
        if index >= len(self.shown):
            return self._blank(width)
        return self._strip(compact_line(self.shown[index], self.display_config, width), width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        absolute = y + round(self.scroll_offset.y)
        g = self.grid
        if g.box is None:
            return self._compact_strip(absolute)
        row, line = divmod(absolute, max(1, g.tile_height))
        first = row * g.columns
        segments: list[Segment] = []
        used = 0
        for column in range(g.columns):
            index = first + column
            if index >= len(self.shown) or row >= g.rows:
                break
            x, _, tile_width = self._slot(index)
            tile = self._tile_strips(self.shown[index], tile_width)
            if x > used:
                segments.extend(self._blank(x - used))
                used = x
            segments.extend(tile[line])
            used += tile_width
        if used < width:
            segments.extend(self._blank(width - used))
        # One segment per run of one style: a tile line is six segments of two or three
        # styles, each written with its own colour codes (three quarters of the bytes). One
        # Strip, not a join and a simplified copy: making a Strip is most of a line's cost.
        strip = Strip(Segment.simplify(segments), max(used, width))
        return strip.crop(0, width) if used > width else strip

    # ---- for tests and tools ----------------------------------------------------------

    def tile_text(self, queue: str) -> str:
        """The tile of `queue` as plain text (lines joined by newlines), as drawn."""
        for index, q in enumerate(self.shown):
            if q.queue == queue and self.grid.box is not None:
                return "\n".join(s.text for s in self._tile_strips(q, self._slot(index)[2]))
        return ""

    def digit_rows(self, queue: str) -> list[str]:
        """The big number's rows of `queue`'s tile, as drawn (stripped)."""
        box = self.grid.box
        lines = self.tile_text(queue).splitlines()
        if box is None or not lines:
            return []
        top = 2 + rows_above_digits(box)
        rows = lines[top: top + box.digits.height]
        q = next(q for q in self.shown if q.queue == queue)
        width = box.digits.text_width(max(DIGIT_CHARS, len(str(q.waiting))))
        return [row[2:-2][-width:].strip() for row in rows]

    def number_rows(self, text: str) -> list[str]:
        """What `text` looks like as this layout's big number (stripped rows), for comparing
        with `digit_rows`."""
        box = self.grid.box
        if box is None:
            return []
        return [row.strip() for row in render(text, box.digits, DIGIT_CHARS)]
