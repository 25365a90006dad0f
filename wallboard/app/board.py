"""The live board: a Textual app over a `BoardSource` (live feed, replay or a test's memory).

One timer at `display.refresh_hz` advances the fold to the injected clock, builds one snapshot
and assigns it inside `batch_update()`; widgets update in place and only what changed. A
headline lane at `display.headline_hz` redraws just the tiles' waiting counts and longest
waits in between (wallboard.core.headline, docs/board.md). Charts redraw at most
`display.chart_hz`. The app never reads the wall clock itself (tests freeze it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Final

import msgspec
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input
from textual.worker import Worker

from wallboard.app.sources import BoardSource, Clock, ControlSink, SnapshotSource
from wallboard.core.config import Config
from wallboard.core.drilldown import waiting_contacts
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.fold import BoardState
from wallboard.core.headline import Headline, headline
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot, build_snapshot
from wallboard.core.trend_history import TrendHistory
from widgets.agent_rows import SORT_NAMES, AgentFilter
from widgets.agents import AgentPanel
from widgets.alerts import (
    AlertBanner,
    AlertList,
    AlertRow,
    AlertsSummary,
    CalloutList,
    active_alerts,
    unacked_critical,
)
from widgets.complaints import ComplaintGroups, ComplaintsPanel
from widgets.floor import FloorSummary
from widgets.fmt import RoundLimits
from widgets.header import BoardHeader
from widgets.queues import QueueTable
from widgets.rollups import RollupTable
from widgets.rowlist import RowList
from widgets.safe_text import literal
from widgets.screens import DrillScreen, HelpScreen
from widgets.tiles import QueueTiles
from widgets.trends import TrendCharts

PAGES: Final = ("overview", "queues", "agents", "trends", "alerts", "rollups")
STATUS_CHECK_S: Final = 0.05  # how often the feed's state is compared with the screen's

HIGH_CONTRAST: Final = Theme(
    name="wallboard-contrast", dark=True,
    primary="#FFFFFF", secondary="#00FFFF", accent="#00FFFF",
    foreground="#FFFFFF", background="#000000", surface="#000000", panel="#1C1C1C",
    success="#00FF5F", warning="#FFFF00", error="#FF3030", boost="#262626",
)  # fmt: skip


async def _every(interval: float, callback: Callable[[], None]) -> None:
    """Call `callback` every `interval` seconds and at once after a stall (a full tick or a
    garbage collection that held the loop longer than `interval`). Not Textual's set_interval:
    after a stall that skips to the next interval but one, up to two intervals of latency."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        due = max(due + interval, loop.time())
        await asyncio.sleep(due - loop.time())
        callback()


class WallboardApp(App[None]):
    CSS_PATH = Path(__file__).with_name("board.tcss")
    TITLE = "wallboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "page('overview')", "Overview"),
        Binding("2", "page('queues')", "Queues"),
        Binding("3", "page('agents')", "Agents"),
        Binding("4", "page('trends')", "Trends"),
        Binding("5", "page('alerts')", "Alerts"),
        Binding("6", "page('rollups')", "Rollups", show=False),  # in help: the footer keeps q
        Binding("a", "ack", "Ack", show=False),
        Binding("c", "confirm_callout", "Call in", show=False),
        Binding("p", "next_page", "Next page", show=False),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("d", "drill", "Drill", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    snapshot: var[Snapshot | None] = var(None, always_update=True, init=False)
    status: var[FeedStatus] = var(FeedStatus(), init=False)

    def __init__(self, source: BoardSource, config: Config, clock: Clock, *,
                 kiosk: bool = False, page: str | None = None, role: str = "supervisor",
                 user: str | None = None, control: ControlSink | None = None) -> None:  # fmt: skip
        super().__init__()
        if role not in ("viewer", "supervisor"):
            raise ValueError(f"unknown role {role!r}: viewer or supervisor")
        self.role = role  # a viewer is read only: actions are refused with a notice
        self.user = user  # signs control events (`by`)
        self.control = control
        if page is not None and page not in PAGES:
            raise ValueError(f"unknown page {page!r}: one of {', '.join(PAGES)}")
        self.source = source
        self.config = config
        self.clock = clock
        self.kiosk = kiosk
        self.pinned = page
        self.page = page or "overview"
        self.now_ms = 0
        self.history = TrendHistory()
        self.source_error: str | None = None
        display = config.display
        self.header = BoardHeader(config.tz, id="header")
        self.tiles = QueueTiles(display, fit=kiosk, id="tiles")
        self.floor = FloorSummary(id="floor")
        self.alerts = AlertsSummary(id="alerts-box")
        self.banner = AlertBanner(id="banner")
        self.alert_list = AlertList(id="alert-list")
        self.callout_list = CalloutList(id="callout-list")
        # Key complaints (docs/board.md): the panel on the alerts page beside the callouts;
        # on the rollups page the panel again with the by-department / by-shop table.
        self.complaints_panel = ComplaintsPanel(config.complaints.target, id="complaints")
        self.rollup_complaints = ComplaintsPanel(config.complaints.target,
                                                 id="rollup-complaints")  # fmt: skip
        self.complaint_groups = ComplaintGroups(config.complaints.target,
                                                id="complaint-groups")  # fmt: skip
        self._rung: set[str] = set()  # critical alerts the bell has rung for
        # Called with every snapshot of a live, caught-up feed (webhooks): never during a
        # backfill, a replay or a reconnect, when alerts of the past would look new.
        self.live_snapshot_observers: list[Callable[[Snapshot], None]] = []
        # A short text while an outbound webhook is failing (wallboard.app.live), else None.
        self.webhook_status: Callable[[], str | None] | None = None
        self.queue_table = QueueTable(display, id="queue-table")
        self.queue_table.show_cursor = not kiosk
        self.agents = AgentPanel(config.agent_load, id="agents-panel", show_cursor=not kiosk,
                                 rounds=RoundLimits.from_config(config))  # fmt: skip
        self.charts = TrendCharts(self.history, id="charts")
        self.rollup_table = RollupTable(display, RoundLimits.from_config(config),
                                        id="rollup-table")  # fmt: skip
        self.rollup_table.show_cursor = not kiosk
        self._rotation: Timer | None = None
        self._last_key: tuple[object, ...] = ()
        self._agents_second = -1  # the clock second the agent rows were last built in
        self._headline: Headline = ()  # the fast lane's last figures given to the tiles
        self.headline_lane: Worker[None] | None = None
        self.register_theme(HIGH_CONTRAST)
        wanted = display.theme or ("wallboard-contrast" if kiosk else "textual-dark")
        self.theme = wanted if wanted in self.available_themes else "textual-dark"
        if kiosk:
            self.add_class("-kiosk")

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.banner
        with ContentSwitcher(initial=self.page, id="pages"):
            with Horizontal(id="overview"):
                yield self.tiles
                with Vertical(id="side"):
                    yield self.floor
                    yield self.alerts
            with Vertical(id="alerts"):
                yield self.alert_list
                yield self.callout_list
                with Horizontal(id="complaints-row"):
                    yield self.complaints_panel
            with Vertical(id="queues"):
                yield self.queue_table
            with Vertical(id="agents"):
                yield self.agents
                yield Input(placeholder="filter: queue:X shop:Y team:Z state:busy words",
                            id="agent-filter")  # fmt: skip
            with Vertical(id="trends"):
                yield self.charts
            with Vertical(id="rollups"):
                yield self.rollup_table
                with Horizontal(id="rollup-complaints-row"):
                    yield self.rollup_complaints
                    yield self.complaint_groups
        if not self.kiosk:
            yield Footer()

    def on_mount(self) -> None:
        display = self.config.display
        self.run_worker(self._run_source(), name="source", exit_on_error=False)
        self.set_interval(1 / display.refresh_hz, self.tick)
        # The feed's state on screen within a twentieth of a second of its change, whatever
        # the refresh rate: the STALE bound (docs/live-feed.md) is what the floor sees.
        self.set_interval(STATUS_CHECK_S, self._check_feed_state)
        # The fast lane needs the fold in this process (not an aggregator's snapshots) and the
        # wall clock's now (a replay's clock jumps and steps back).
        if display.headline_hz and not isinstance(self.source, SnapshotSource) \
                and self.source.status.state != "replay":  # fmt: skip
            self.headline_lane = self.run_worker(_every(1 / display.headline_hz,
                                                        self.tick_headline), name="headline")
        self.set_interval(1 / display.chart_hz, self._redraw_charts)
        if self.kiosk and self.pinned is None:
            self._rotation = self.set_interval(display.rotate_s, self.action_next_page)
        self.tick()
        self._show_page(self.page)

    async def _run_source(self) -> None:
        try:
            await self.source.run()
        except Exception as exc:  # the feed's own loop reconnects; this is a bug or bad URL
            self.source_error = clean(f"{type(exc).__name__}: {exc}", 200)
            self.tell(self.source_error, title="Feed stopped", severity="error", timeout=30)

    async def on_unmount(self) -> None:
        await self.source.close()

    # ---- the tick -------------------------------------------------------------------------

    def tick(self) -> None:
        if not self.is_running:  # shutting down: the screens' widgets are being removed
            return
        now = self.clock()
        if isinstance(self.source, SnapshotSource):
            ready = self.source.latest_snapshot()
            if ready is not None:  # an aggregator folded it: draw it as it is
                self._draw_ready(ready, now)
                return
        state = self.source.state  # may be replaced by the feed on a rebuild: read it each time
        status = self.source.status
        # Nothing new and the same second on the clock: the screen would not change, and a
        # snapshot of 2,000 agents is the costliest part of a tick.
        key = (id(state), state.events_applied, state.events_duplicate,
               sum(state.rejected.values()), now // 1000, status)
        if key == self._last_key:
            return
        self._last_key = key
        state.advance(now)
        stale_s = (now - status.since_ms) / 1000 if status.state == "stale" and status.since_ms \
            else 0.0  # fmt: skip
        state.alerts.evaluate_feed(stale_s, now)
        snap = self._build(state, now)
        self.now_ms = now
        with self.batch_update():
            self.status = status
            self.snapshot = snap

    def _check_feed_state(self) -> None:
        """A full tick as soon as the feed's state changes (a cheap read, 20 times a second)."""
        if self.is_running and self.source.status.state != self.status.state:
            self.tick()

    def tick_headline(self) -> None:
        """The fast lane (`display.headline_hz`): the tiles' waiting counts and longest waits
        between full ticks, read from the state as the next snapshot would read them."""
        if not self.is_running:
            return
        if self.page != "overview" or self.snapshot is None:
            self._headline = ()  # the page, when shown, draws the full snapshot: start afresh
            return
        lane = headline(self.source.state, self.clock())
        if lane == self._headline:
            return
        self._headline = lane
        with self.batch_update():
            self.tiles.show_headline(lane)

    def _draw_ready(self, snap: Snapshot, now: int) -> None:
        status = self.source.status
        # A new snapshot, a new second, or a change of feed state: the lag figure (new on every
        # read) alone does not redraw the board.
        key = (id(snap), now // 1000, status.state, status.notice, status.error, status.via)
        if key == self._last_key:
            return
        self._last_key = key
        self.now_ms = now
        with self.batch_update():
            self.status = status
            self.snapshot = snap

    def watch_snapshot(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        self.history.add(snap)
        self.header.page = self.page.capitalize() + (" (pinned)" if self.pinned and self.kiosk
                                                     else "")  # fmt: skip
        self.header.show(snap, self._status_now(), self.now_ms)
        self.banner.show(snap, self.now_ms)
        self._ring_for(snap)
        if self.status.state == "connected":
            for observe in self.live_snapshot_observers:
                observe(snap)
        self._push_page(snap)
        screen = self.screen
        if isinstance(screen, DrillScreen) and screen.is_mounted:  # else it fills as it mounts
            self._fill_drill(screen)

    def _fill_drill(self, screen: DrillScreen) -> None:
        snap = self.snapshot
        if snap is None:
            return
        if not snap.agents and not isinstance(self.source, SnapshotSource):
            snap = build_snapshot(self.source.state)  # the tick left the agents out
        offset = self.config.tz.utcoffset(datetime.fromtimestamp(self.now_ms / 1000))
        waiting = (self.source.waiting_contacts(screen.queue)
                   if isinstance(self.source, SnapshotSource)
                   else waiting_contacts(self.source.state, screen.queue))  # fmt: skip
        screen.show(snap, waiting, int(offset.total_seconds() * 1000) if offset else 0)

    def _build(self, state: BoardState, now: int) -> Snapshot:
        """The tick's snapshot. The agent rows (2,000 of them are most of its cost) only while
        an agent list is on screen, and at most once a second of the board's clock: between,
        the queues, floor and alerts are new and the rows are the last second's."""
        last = self.snapshot
        if not self._agents_on_screen():
            return build_snapshot(state, with_agents=False)
        if last is not None and last.agents and self._agents_second == now // 1000 \
                and last.as_of_ms is not None and last.as_of_ms <= state.as_of:  # fmt: skip
            return msgspec.structs.replace(build_snapshot(state, with_agents=False),
                                           agents=last.agents)  # fmt: skip
        self._agents_second = now // 1000
        return build_snapshot(state)

    def _agents_on_screen(self) -> bool:
        return self.page == "agents" or isinstance(self.screen, DrillScreen)

    def _status_now(self) -> FeedStatus:
        status = self.status
        if self.source_error and status.state == "connected":
            return FeedStatus(state="stale", source=status.source, since_ms=status.since_ms,
                              last_data_ms=status.last_data_ms, error=self.source_error)
        return status

    def _push_page(self, snap: Snapshot) -> None:
        """Only the visible page is fed: a hidden page catches up when it is shown."""
        page = self.page
        if page == "overview":
            self.tiles.show(snap.queues)
            self.floor.show(snap)
            problem = self.webhook_status() if self.webhook_status is not None else None
            self.alerts.show(snap, self.now_ms, problem)
        elif page == "queues":
            self.queue_table.set_items(snap.queues)
        elif page == "rollups":
            self.rollup_table.set_items(snap.rollups)
            self.rollup_complaints.show(snap)
            self.complaint_groups.show(snap)
        elif page == "agents":
            self.agents.show(snap)
        elif page == "alerts":
            alerts = active_alerts(snap)
            alerts += [a for a in reversed(snap.alerts) if a.cleared_at is not None]
            self.alert_list.set_items([AlertRow(a, self.now_ms) for a in alerts])
            self.callout_list.show(snap, self.now_ms)
            self.complaints_panel.show(snap)

    def _ring_for(self, snap: Snapshot) -> None:
        """The terminal bell, once per new unacknowledged critical alert (if configured)."""
        critical = {a.id for a in unacked_critical(snap)}
        if critical - self._rung and self.config.alerts.bell:
            self.bell()
        self._rung = critical

    def _redraw_charts(self) -> None:
        if self.page == "trends" and self.is_running:  # a timer: not while shutting down
            self.charts.redraw()

    # ---- pages ----------------------------------------------------------------------------

    def _show_page(self, page: str) -> None:
        needs_agents = page == "agents" and self.snapshot is not None and not self.snapshot.agents
        self.page = page
        if needs_agents:
            self._last_key = ()  # the last snapshot left the agents out: take a full one now
            self.tick()
        self.query_one("#pages", ContentSwitcher).current = page
        if self.snapshot is not None:
            self.header.page = page.capitalize()
            self.header.show(self.snapshot, self._status_now(), self.now_ms)
            self._push_page(self.snapshot)
        if page == "trends":
            self.call_after_refresh(self.charts.redraw)
        if not self.kiosk:
            if page == "queues":
                self.queue_table.focus()
            elif page == "agents":
                self.agents.agent_list.focus()
            elif page == "alerts":
                self.alert_list.focus()
            elif page == "rollups":
                self.rollup_table.focus()

    def action_page(self, page: str) -> None:
        if page in PAGES:
            self._show_page(page)

    def action_next_page(self) -> None:
        if not self.is_running:  # the kiosk's rotation timer, firing while shutting down
            return
        self._show_page(PAGES[(PAGES.index(self.page) + 1) % len(PAGES)])

    # ---- agent list -----------------------------------------------------------------------

    def action_sort(self) -> None:
        sort = SORT_NAMES[(SORT_NAMES.index(self.agents.sort) + 1) % len(SORT_NAMES)]
        self.set_sort(sort)

    def set_sort(self, sort: str) -> None:
        if self.page != "agents":
            self._show_page("agents")
        self.agents.set_view(sort=sort)

    def action_reverse(self) -> None:
        self.agents.set_view(reverse=not self.agents.reverse)

    def action_filter(self) -> None:
        if self.page != "agents":
            self._show_page("agents")
        box = self.query_one("#agent-filter", Input)
        box.add_class("-open")
        box.value = "" if not self.agents.filter else self.agents.filter.describe()
        box.focus()

    def set_filter(self, text: str) -> None:
        self.agents.set_view(filt=AgentFilter.parse(text))

    @on(Input.Submitted, "#agent-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.set_filter(event.value)
        event.input.remove_class("-open")
        self.agents.agent_list.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#agent-filter", Input)
        box.remove_class("-open")
        self.agents.set_view(filt=AgentFilter())
        if self.page == "agents":
            self.agents.agent_list.focus()

    # ---- drill-down -----------------------------------------------------------------------

    def action_drill(self) -> None:
        if self.page == "queues":
            key = self.queue_table.cursor_key()
            if key is not None:
                self.drill(key)

    @on(RowList.Selected, "#queue-table")
    def _queue_selected(self, event: RowList.Selected) -> None:
        self.drill(event.key)

    def drill(self, queue: str) -> None:
        # The screen fills itself from the current snapshot as it mounts (no waiting for the
        # next tick: a screenshot or a person sees it complete at once).
        self.push_screen(DrillScreen(queue, self.config, fill=self._fill_drill))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ---- supervisor actions ---------------------------------------------------------------

    async def action_ack(self) -> None:
        """Acknowledge the selected alert (Alerts page) or the worst unacknowledged one."""
        snap = self.snapshot
        if snap is None:
            return
        alert_id = self.alert_list.cursor_key() if self.page == "alerts" else None
        if alert_id is None:
            pending = [a for a in active_alerts(snap) if a.acked_by is None]
            alert_id = pending[0].id if pending else None
        if alert_id is None:
            self.tell("No alert to acknowledge.")
            return
        if await self.send_control({"type": "alert.ack", "alert": alert_id,
                                    "ts": str(self.now_ms)}):  # fmt: skip
            self.tell(f"Acknowledged {clean(alert_id, 80)}", title="Alert")

    async def action_confirm_callout(self) -> None:
        """Confirm the selected (or the first) recommended callout: a `reserve.callout`."""
        snap = self.snapshot
        if snap is None:
            return
        recs = {f"rec:{r.queue}": r for r in snap.callout_recommendations if r.agents}
        key = self.callout_list.cursor_key() if self.page == "alerts" else None
        rec = recs.get(key or "") or next(iter(recs.values()), None)
        if rec is None:
            self.tell("No callout to confirm: nothing recommended, or nobody free.")
            return
        callout_id = f"co-{self.now_ms}-{rec.queue}"
        sent = await self.send_control({"type": "reserve.callout", "callout": callout_id,
                                        "queue": rec.queue, "agents": ",".join(rec.agents),
                                        "ts": str(self.now_ms)})  # fmt: skip
        if sent:
            who = ", ".join(clean(agent, 30) for agent in rec.agents)
            self.tell(f"Called in {who} for {clean(rec.queue, 30)}", title="Reserve callout")

    @on(RowList.Selected, "#alert-list")
    def _alert_selected(self, event: RowList.Selected) -> None:
        """Jump to what the alert is about: the queue's drill-down or the agent's row."""
        snap = self.snapshot
        alert = next((a for a in snap.alerts if a.id == event.key), None) if snap else None
        if alert is None or alert.subject_id is None:
            return
        if alert.subject_kind == "queue":
            self.drill(alert.subject_id)
        elif alert.subject_kind == "agent":
            self._show_page("agents")
            self.set_filter(alert.subject_id)

    async def send_control(self, fields: dict[str, str]) -> str | None:
        """Send a supervisor action (alert.ack, reserve.callout) to the control stream, signed
        with `user`; a viewer, or a board without a control sink, is refused with a notice."""
        if self.role != "supervisor":
            self.tell("This view is read only: only a supervisor can do that.",
                      title="Not allowed", severity="warning")  # fmt: skip
            return None
        if self.control is None:
            self.tell("This board has no control stream.", severity="warning")
            return None
        return await self.control.send({**fields, "by": self.user or "?"})

    def tell(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
             timeout: float | None = None) -> None:  # fmt: skip
        """A notification with event text in it: plain text, cleaned (`notify` would parse
        it as markup, and an agent named `a[/x]b` would stop the board)."""
        self.notify(clean(message, 400), title=clean(title, 60), severity=severity,
                    timeout=timeout, markup=False)  # fmt: skip

    # ---- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for page in PAGES:
            yield SystemCommand(f"Page: {page}", f"Show the {page} page",
                                lambda p=page: self._show_page(p))
        for sort in SORT_NAMES:
            yield SystemCommand(f"Sort agents by {sort}", "Agent list order",
                                lambda s=sort: self.set_sort(s))
        if self.snapshot is not None:
            for q in self.snapshot.queues:
                name = literal(q.queue, 40)  # the palette reads its titles as markup
                yield SystemCommand(f"Drill into queue {name}",
                                    "Waiting contacts and agents of the queue",
                                    lambda n=q.queue: self.drill(n))
                yield SystemCommand(f"Filter agents by queue {name}", "Agents serving it",
                                    lambda n=q.queue: self.set_filter(f"queue:{n}"))
