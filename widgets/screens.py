"""Modal screens: the key help (`?`) and the drill-down into one queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from wallboard.core.config import Config
from wallboard.core.drilldown import WaitingContact
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot
from widgets.agent_rows import AgentFilter
from widgets.agents import AgentPanel
from widgets.fmt import LABELS, QueueLevels, RoundLimits, duration, pct
from widgets.rowlist import Column, RowList
from widgets.styles import badge, line, tagged

HELP = """\
 Keys
   1 2 3 4 5 6 Overview · Queues · Agents · Trends · Alerts · Rollups
   p           next page
   ↑ ↓ PgUp/PgDn Home/End   move in a list
   Enter / d   drill into the selected queue (Queues page)
   s / S       agent sort: next key / reverse order (load, response, oldest round...)
   /           filter agents: queue:X shop:Y team:Z state:busy and words
   Esc         clear the filter · close this or a drill-down
   a           acknowledge the selected alert (or the worst unacknowledged one)
   c           confirm the selected (or first) recommended reserve callout
   Enter       on an alert: jump to its queue or agent
   Ctrl+P      command palette (pages, queues, sorts, theme)
   ?           this help            q   quit

 Levels are colour AND words: OK, WARN ▲, CRIT ■.
 Agent load against the daily band: ▽ under, ● ok, ▲ OVER.
 The header says LIVE, RECONNECTING or STALE: a frozen board never looks live.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: auto; max-width: 90%; height: auto; border: round $accent;
                          background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(HELP, markup=False)


WAIT_COLUMNS = (
    Column("contact", 14, grow=2),
    Column("waited", 7, "right"),
    Column("since", 8),
    Column("channel", 7),
    Column("shop", 10, grow=1, drop=1),
)


class ContactList(RowList[WaitingContact]):
    def __init__(self) -> None:
        super().__init__(WAIT_COLUMNS, self._format, lambda c: c.contact,
                         empty="nobody waiting", id="drill-contacts")  # fmt: skip
        self.threshold_s = 30.0
        self.tz_offset_ms = 0

    def _format(self, c: WaitingContact, _w: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
        style = "crit" if c.waited_s >= 3 * self.threshold_s else (
            "warn" if c.waited_s >= self.threshold_s else "")
        local = (c.since_ms + self.tz_offset_ms) // 1000 % 86400
        since = f"{local // 3600:02d}:{local % 3600 // 60:02d}:{local % 60:02d}"
        return ((clean(c.contact, 40), "key"), (duration(c.waited_s), style), (since, "dim"),
                (clean(c.channel, 10), ""), (clean(c.shop, 40), "dim"))  # fmt: skip


class DrillScreen(Screen[None]):
    """One queue: its numbers, its waiting contacts (longest first) and the agents serving it."""

    DEFAULT_CSS = """
    DrillScreen > #drill-summary { height: 3; background: $panel; padding: 0 1; }
    DrillScreen > Vertical { height: 1fr; }
    DrillScreen .drill-label { height: 1; text-style: bold; background: $boost; }
    DrillScreen #drill-contacts { height: 1fr; }
    DrillScreen AgentPanel { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("tab", "focus_next", "Switch list", show=False),
    ]

    def __init__(self, queue: str, config: Config,
                 fill: Callable[[DrillScreen], None] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.queue = queue
        self.config = config
        self._fill = fill
        # Held, not queried: the app may hand a snapshot to a screen whose children are being
        # removed (on exit), and a query would then find nothing.
        self.summary = Static("", id="drill-summary", markup=False)
        self.contacts = ContactList()
        self.agents = AgentPanel(config.agent_load, id="drill-agents",
                                 rounds=RoundLimits.from_config(config))  # fmt: skip
        self.agents.filter = AgentFilter(queue=queue)

    def compose(self) -> ComposeResult:
        yield self.summary
        with Vertical():
            yield Static(f" Waiting in {clean(self.queue, 40)} (longest first)",
                         classes="drill-label", markup=False)  # fmt: skip
            yield self.contacts
            yield self.agents
        yield Footer()

    def on_mount(self) -> None:
        if self._fill is not None:
            self._fill(self)

    def show(self, snap: Snapshot, waiting: list[WaitingContact], utc_offset_ms: int) -> None:
        q = next((q for q in snap.queues if q.queue == self.queue), None)
        summary = self.summary
        if q is None:
            summary.update(f"Queue {clean(self.queue, 40)}: no data")
        else:
            lv = QueueLevels(q, self.config.display)
            self.contacts.threshold_s = q.sl_threshold_s
            summary.update(line(
                (f"Queue {clean(q.queue, 40)}", "bold"), " ", badge(lv.overall),
                "  waiting ", tagged(str(q.waiting), lv.waiting),
                "  longest ", tagged(duration(q.longest_wait_s), lv.longest),
                f"  target {q.sl_target * 100:.0f}% in {q.sl_threshold_s:g}s\n",
                "SL today ", tagged(pct(q.today.service_level, 1), lv.sl_today),
                f" ({LABELS[lv.sl_today]})  window {q.window.minutes}m ",
                tagged(pct(q.window.service_level, 1), lv.sl_window),
                f"  ASA {duration(q.today.asa_s)}  AHT {duration(q.today.aht_s)}\n",
                f"offered {q.today.offered}  answered {q.today.answered}  abandoned "
                f"{q.today.abandoned} (", tagged(pct(q.today.abandon_rate, 1), lv.abandon),
                f")  agents free {q.agents_available} of {q.agents_staffed} staffed",
            ))  # fmt: skip
        self.contacts.tz_offset_ms = utc_offset_ms
        self.contacts.set_items(waiting)
        self.agents.show(snap)
