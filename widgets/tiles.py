"""Queue tiles drawn with the line API: one widget for the whole grid, each tile's nine lines
built only when its queue's numbers change, and only the changed tiles' lines repainted.
`show` takes a snapshot's queues; `show_headline` only newer waiting counts and longest waits
(the app's headline lane, ten times a second) over them, in place.

Twenty tiles as separate Static/Digits widgets cost a CSS and content pass per tile per tick
(about 4 ms each) and a full repaint of every changed line; here a tick that changes nothing
costs a comparison per queue, and a changed tile one strip per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar, Final

import msgspec
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.renderables.digits import DIGITS, DIGITS3X3
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wallboard.core.config import DisplaySection
from wallboard.core.headline import Headline
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import QueueSnapshot
from widgets.fmt import LABELS, Level, QueueLevels, duration, longest_level, pct, rank

TILE_WIDTH: Final = 25  # the narrowest tile; wider screens share the spare columns
TILE_HEIGHT: Final = 9
GUTTER: Final = 1
_BORDERS: Final = {  # (top-left, horizontal, top-right, vertical, bottom-left, bottom-right)
    "round": ("╭", "─", "╮", "│", "╰", "╯"),
    "heavy": ("┏", "━", "┓", "┃", "┗", "┛"),
}

Piece = tuple[str, str]  # text and a style name (a component class suffix, "" for plain)


def big_digits(text: str) -> list[str]:
    """Three lines of Textual's 3x3 digit font."""
    rows = ["", "", ""]
    for char in text:
        position = DIGITS.find(char)
        for i in range(3):
            rows[i] += DIGITS3X3[position * 3 + i].ljust(3) if position >= 0 else " "
    return rows


@lru_cache(maxsize=1024)
def _title(queue: str) -> str:
    return clean(queue, 40)


def tile_lines(q: QueueSnapshot, d: DisplaySection) -> tuple[Level, list[list[Piece]]]:
    """The tile's level and the pieces of its seven inner lines."""
    lv = QueueLevels(q, d)
    digits = big_digits(str(q.waiting))
    return lv.overall, [
        [(_title(q.queue), "title"), (" ", ""), (f" {LABELS[lv.overall]} ", lv.overall)],
        *([(row, "")] for row in digits),
        [("longest ", ""), (duration(q.longest_wait_s), lv.longest),
         (f"  ASA {duration(q.today.asa_s)}", "")],
        [("SL ", ""), (pct(q.today.service_level), lv.sl_today), (" win ", ""),
         (pct(q.window.service_level), lv.sl_window), (f" ▸{q.sl_target * 100:.0f}%", "")],
        [("aband ", ""), (pct(q.today.abandon_rate, 1), lv.abandon),
         (f"  {q.agents_available}/{q.agents_staffed} free", "")],
    ]  # fmt: skip


def _reads_same(longest_wait_s: float, q: QueueSnapshot, d: DisplaySection) -> bool:
    """A longest wait draws as `q`'s does: the same text and the same level (its colour)."""
    old = q.longest_wait_s
    return longest_wait_s == old or (
        duration(longest_wait_s) == duration(old)
        and longest_level(longest_wait_s, q.sl_threshold_s, d)
        == longest_level(old, q.sl_threshold_s, d))


class QueueTiles(ScrollView):
    """A grid of queue tiles. `fit` (kiosk): only as many as fit, worst first, and a tile
    saying how many more there are; otherwise all of them, by name, scrolling."""

    DEFAULT_CSS = """
    QueueTiles { height: 1fr; }
    QueueTiles > .tiles--title { text-style: bold; }
    QueueTiles > .tiles--ok { color: $success; }
    QueueTiles > .tiles--warn { color: $warning; text-style: bold; }
    QueueTiles > .tiles--crit { color: $error; text-style: bold reverse; }
    QueueTiles > .tiles--none { color: $text-muted; }
    QueueTiles > .tiles--border-ok { color: $primary; }
    QueueTiles > .tiles--border-none { color: $primary; }
    QueueTiles > .tiles--border-warn { color: $warning; }
    QueueTiles > .tiles--border-crit { color: $error; }
    QueueTiles > .tiles--more { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"tiles--{name}" for name in (
        "title", "ok", "warn", "crit", "none", "border-ok", "border-none", "border-warn",
        "border-crit", "more")}

    def __init__(self, display: DisplaySection, *, fit: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_config = display
        self.fit = fit
        self.queues: Sequence[QueueSnapshot] = ()
        self.shown: list[QueueSnapshot] = []  # in grid order
        self.hidden = 0
        # name -> (the queue as drawn, tile width, its lines' pieces, their strips)
        self._tiles: dict[str, tuple[QueueSnapshot, int, list[tuple[Piece, ...]], list[Strip]]] = {}
        self._styles: dict[str, Style] = {}
        self._blanks: dict[int, Strip] = {}  # gutters and right margins, by width
        self._layout: tuple[int, int] = (1, TILE_WIDTH)  # columns, tile width

    # ---- data -------------------------------------------------------------------------

    def show(self, queues: Sequence[QueueSnapshot]) -> None:
        self.queues = queues
        self._lay_out()

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
        columns = max(1, (width + GUTTER) // (TILE_WIDTH + GUTTER))
        tile_width = max(TILE_WIDTH, (width - GUTTER * (columns - 1)) // columns)
        layout_changed = (columns, tile_width) != self._layout
        self._layout = (columns, tile_width)
        queues = list(self.queues)
        hidden = 0
        if self.fit:
            d = self.display_config
            # Worst level first, then by name: not by the waiting count, which would make the
            # tiles jump around the big screen (and repaint all of them) every tick.
            queues.sort(key=lambda q: (-rank(QueueLevels(q, d).overall), q.queue))
            capacity = max(1, columns * max(1, height // TILE_HEIGHT))
            if len(queues) > capacity:
                hidden = len(queues) - (capacity - 1)
                queues = queues[: capacity - 1]
        order_changed = [q.queue for q in queues] != [q.queue for q in self.shown]
        self.shown, self.hidden = queues, hidden
        slots = len(queues) + (1 if hidden else 0)
        rows = -(-slots // columns)
        size = Size(width, rows * TILE_HEIGHT)
        if size != self.virtual_size:
            self.virtual_size = size
        if layout_changed or order_changed:
            self._tiles.clear()
            self.refresh()
            return
        for index, q in enumerate(queues):
            self._redraw(index, q)
        if hidden:
            self._refresh_slot(len(queues))

    def _redraw(self, index: int, q: QueueSnapshot) -> None:
        """The tile in slot `index` now shows `q`: repaint only the lines that read differently
        (every byte goes over SSH)."""
        drawn = self._tiles.get(q.queue)
        width = self._layout[1]
        if drawn is None or drawn[1] != width:
            self._tiles.pop(q.queue, None)
            self._refresh_slot(index)
        elif drawn[0] != q:
            _, _, old_lines, old_strips = drawn
            level, lines = tile_lines(q, self.display_config)
            new_lines = self._framed(lines, width, level)
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
        columns, tile_width = self._layout
        row, column = divmod(index, columns)
        x = column * (tile_width + GUTTER)
        y = row * TILE_HEIGHT - round(self.scroll_offset.y)
        if line is None:
            self.refresh(Region(0, y, x + tile_width, TILE_HEIGHT))
        else:
            self.refresh(Region(0, y + line, x + tile_width, 1))

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

    def _tile(self, q: QueueSnapshot,
              width: int) -> tuple[QueueSnapshot, int, list[tuple[Piece, ...]], list[Strip]]:
        drawn = self._tiles.get(q.queue)
        if drawn is not None and drawn[0] == q and drawn[1] == width:
            return drawn
        level, lines = tile_lines(q, self.display_config)
        framed = self._framed(lines, width, level)
        drawn = (q, width, framed, [self._strip(pieces, width) for pieces in framed])
        self._tiles[q.queue] = drawn
        return drawn

    def _tile_strips(self, q: QueueSnapshot, width: int) -> list[Strip]:
        return self._tile(q, width)[3]

    @staticmethod
    def _framed(lines: list[list[Piece]], width: int, level: str) -> list[tuple[Piece, ...]]:
        tl, h, tr, v, bl, br = _BORDERS["heavy" if level in ("warn", "crit") else "round"]
        border = f"border-{level}"
        inner = width - 4  # border and one column of padding each side
        framed: list[tuple[Piece, ...]] = [((tl + h * (width - 2) + tr, border),)]
        for pieces in lines:
            fitted: list[Piece] = []
            room = inner
            for text, name in pieces:
                if room <= 0:
                    break
                shown = set_cell_size(text, room) if cell_len(text) > room else text
                fitted.append((shown, name))
                room -= cell_len(shown)
            framed.append(((v + " ", border), *fitted, (" " * room, ""), (" " + v, border)))
        framed.append(((bl + h * (width - 2) + br, border),))
        return framed

    def _more_strips(self, width: int) -> list[Strip]:
        text = [f"+{self.hidden} more queues", "(see the Queues page)"]
        lines = [[("", "")]] * 2 + [[(t.center(width - 4), "more")] for t in text] + \
            [[("", "")]] * 3  # fmt: skip
        return [self._strip(pieces, width) for pieces in self._framed(lines, width, "none")]

    def render_line(self, y: int) -> Strip:
        columns, tile_width = self._layout
        width = self.size.width
        absolute = y + round(self.scroll_offset.y)
        row, line = divmod(absolute, TILE_HEIGHT)
        first = row * columns
        segments: list[Segment] = []
        used = 0
        for column in range(columns):
            index = first + column
            if index < len(self.shown):
                tile = self._tile_strips(self.shown[index], tile_width)
            elif index == len(self.shown) and self.hidden:
                tile = self._more_strips(tile_width)
            else:
                break
            if column:
                segments.extend(self._blank(GUTTER))
                used += GUTTER
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
        q = next((q for q in self.shown if q.queue == queue), None)
        if q is None:
            return ""
        return "\n".join(strip.text for strip in self._tile_strips(q, self._layout[1]))
