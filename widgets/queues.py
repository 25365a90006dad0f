"""Queue tiles (big digits for the waiting count) and the queue table."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from wallboard.config import DisplaySection
from wallboard.sanitize import clean
from wallboard.snapshot import QueueSnapshot
from widgets.fmt import LABELS, QueueLevels, duration, pct, rank
from widgets.rowlist import Column, Row, RowList
from widgets.styles import badge, line, tagged

TILE_WIDTH = 25
TILE_HEIGHT = 9


class QueueTile(Vertical):
    DEFAULT_CSS = """
    QueueTile { border: round $primary; height: 9; padding: 0 1; }
    QueueTile.-warn { border: heavy $warning; }
    QueueTile.-crit { border: heavy $error; }
    QueueTile.-empty { display: none; }
    QueueTile > Digits { width: auto; height: 3; }
    QueueTile > .tile-title, QueueTile > .tile-stats { width: 1fr; text-wrap: nowrap;
                                                       text-overflow: ellipsis; }
    QueueTile > .tile-stats { height: 3; }
    """

    def __init__(self, display: DisplaySection) -> None:
        super().__init__(classes="-empty")
        self.display_config = display
        self.data: QueueSnapshot | None = None
        self.title = Static("", classes="tile-title")
        self.digits = Digits("0")
        self.stats = Static("", classes="tile-stats")

    def compose(self) -> ComposeResult:
        yield self.title
        yield self.digits
        yield self.stats

    def show(self, q: QueueSnapshot | None) -> None:
        if q == self.data:
            return
        self.data = q
        if q is None:
            self.set_class(True, "-empty")
            return
        lv = QueueLevels(q, self.display_config)
        self.set_class(False, "-empty")
        self.set_class(lv.overall == "warn", "-warn")
        self.set_class(lv.overall == "crit", "-crit")
        if self.digits.value != str(q.waiting):
            self.digits.update(str(q.waiting))
        # Fixed-size tile: no layout pass per tick, and no repaint of an unchanged line.
        _update(self.title, line((clean(q.queue, 40), "bold"), " ", badge(lv.overall)))
        _update(self.stats, line(
            "longest ", tagged(duration(q.longest_wait_s), lv.longest),
            f"  ASA {duration(q.today.asa_s)}\n",
            "SL ", tagged(pct(q.today.service_level), lv.sl_today),
            " win ", tagged(pct(q.window.service_level), lv.sl_window),
            f" ▸{q.sl_target * 100:.0f}%\n",
            "aband ", tagged(pct(q.today.abandon_rate, 1), lv.abandon),
            f"  {q.agents_available}/{q.agents_staffed} free",
        ))


def _update(widget: Static, content: Content) -> None:
    if widget.content != content:
        widget.update(content, layout=False)


class QueueTiles(Grid):
    """A pool of tiles updated in place. `fit`: show only as many as fit, worst first, and say
    how many more there are (kiosk: nothing cut off); otherwise all of them, by name, scrolling."""

    DEFAULT_CSS = f"""
    QueueTiles {{ grid-size: 3; grid-gutter: 0 1; grid-rows: {TILE_HEIGHT};
                 height: 1fr; overflow-y: auto; }}
    QueueTiles > .tiles-more {{ height: {TILE_HEIGHT}; content-align: center middle;
                               color: $text-muted; border: round $panel; }}
    QueueTiles > .tiles-more.-hidden {{ display: none; }}
    """

    def __init__(self, display: DisplaySection, *, fit: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_config = display
        self.fit = fit
        self.queues: Sequence[QueueSnapshot] = ()
        self._more = Static("", classes="tiles-more -hidden")

    def compose(self) -> ComposeResult:
        yield self._more

    def _capacity(self) -> int:
        width, height = self.size
        columns = max(1, width // TILE_WIDTH)
        self.styles.grid_size_columns = columns
        if not self.fit:
            return len(self.queues)
        return max(1, columns * max(1, height // TILE_HEIGHT))

    def on_resize(self) -> None:
        self._lay_out()

    def show(self, queues: Sequence[QueueSnapshot]) -> None:
        self.queues = queues
        self._lay_out()

    def _lay_out(self) -> None:
        if not self.is_mounted:
            return
        queues = list(self.queues)
        if self.fit:
            d = self.display_config
            queues.sort(key=lambda q: (-rank(QueueLevels(q, d).overall), -q.waiting, q.queue))
        capacity = self._capacity()
        hidden = 0
        if len(queues) > capacity:
            hidden = len(queues) - (capacity - 1)
            queues = queues[: capacity - 1]
        tiles = list(self.query(QueueTile))
        if len(tiles) < len(queues):
            new = [QueueTile(self.display_config) for _ in range(len(queues) - len(tiles))]
            self.mount_all(new, before=self._more)
            tiles += new
        for i, tile in enumerate(tiles):
            tile.show(queues[i] if i < len(queues) else None)
        self._more.set_class(hidden == 0, "-hidden")
        if hidden:
            self._more.update(f"+{hidden} more queues\n(see the Queues page)")


def queue_columns() -> tuple[Column, ...]:
    return (
        Column("queue", 10, grow=2),
        Column("status", 7),
        Column("wait", 4, "right"),
        Column("longest", 7, "right"),
        Column("SL today", 8, "right"),
        Column("SL win", 7, "right"),
        Column("target", 8, "right", drop=3),
        Column("ASA", 5, "right", drop=4),
        Column("aband", 6, "right"),
        Column("offered", 7, "right", drop=2),
        Column("free/staff", 10, "right", drop=1),
        Column("kind", 8, drop=5),
    )


def queue_row(q: QueueSnapshot, d: DisplaySection) -> Row:
    lv = QueueLevels(q, d)
    return (
        (clean(q.queue, 40), "key"),
        (LABELS[lv.overall], lv.overall),
        (str(q.waiting), lv.waiting),
        (duration(q.longest_wait_s), lv.longest),
        (pct(q.today.service_level, 1), lv.sl_today),
        (pct(q.window.service_level), lv.sl_window),
        (f"{q.sl_target * 100:.0f}%@{q.sl_threshold_s:g}s", "dim"),
        (duration(q.today.asa_s), ""),
        (pct(q.today.abandon_rate, 1), lv.abandon),
        (str(q.today.offered), ""),
        (f"{q.agents_available}/{q.agents_staffed}", ""),
        (q.kind, "dim"),
    )


class QueueTable(RowList[QueueSnapshot]):
    def __init__(self, display: DisplaySection, *, id: str | None = None) -> None:
        super().__init__(queue_columns(), lambda q, _w: queue_row(q, display), lambda q: q.queue,
                         empty="no queues yet (no contact events)", id=id)  # fmt: skip
