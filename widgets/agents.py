"""The agent load list: every agent's day against the 80-120 band, sortable and filterable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from wallboard.core.config_alerts import AgentLoadSection
from wallboard.core.snapshot import AgentSnapshot, Snapshot
from widgets.agent_rows import COLUMNS, AgentFilter, agent_row, arrange
from widgets.fmt import DEFAULT_ROUND_LIMITS, RoundLimits
from widgets.rowlist import RowList


class AgentList(RowList[AgentSnapshot]):
    def __init__(self, load: AgentLoadSection, *, rounds: RoundLimits = DEFAULT_ROUND_LIMITS,
                 id: str | None = None) -> None:  # fmt: skip
        super().__init__(COLUMNS, lambda a, w: agent_row(a, w, load, rounds), lambda a: a.agent,
                         empty="no agents known yet (no agent.state events)", id=id)  # fmt: skip


class AgentPanel(Vertical):
    """A title line (sort, filter, counts) over the list."""

    DEFAULT_CSS = """
    AgentPanel { height: 1fr; }
    AgentPanel > .agents-title { height: 1; background: $panel; color: $text; }
    """

    def __init__(self, load: AgentLoadSection, *, sort: str = "load", id: str | None = None,
                 show_cursor: bool = True,
                 rounds: RoundLimits = DEFAULT_ROUND_LIMITS) -> None:  # fmt: skip
        super().__init__(id=id)
        self.load = load
        self.sort = sort
        self.reverse = False
        self.filter = AgentFilter()
        self._agents: list[AgentSnapshot] = []
        self._title = ""
        self.agent_list = AgentList(load, rounds=rounds)
        self.agent_list.show_cursor = show_cursor

    def compose(self) -> ComposeResult:
        yield Static("", classes="agents-title", markup=False)
        yield self.agent_list

    def show(self, snap: Snapshot) -> None:
        self._agents = snap.agents
        self._apply()

    def set_view(self, *, sort: str | None = None, reverse: bool | None = None,
                 filt: AgentFilter | None = None) -> None:  # fmt: skip
        if sort is not None:
            self.sort = sort
        if reverse is not None:
            self.reverse = reverse
        if filt is not None:
            self.filter = filt
        self._apply()

    def _apply(self) -> None:
        shown = arrange(self._agents, self.sort, self.reverse, self.filter)
        over = sum(1 for a in shown if a.load_band == "over")
        under = sum(1 for a in shown if a.load_band == "under")
        order = "ascending" if self.reverse else "descending"
        title = (f" Agents {len(shown)}/{len(self._agents)}  ▲ over {over}  ▽ under {under}"
                 f"  sort: {self.sort} ({order})")
        if self.filter:
            title += f"  filter: {self.filter.describe()}"
        if title != self._title and self.is_mounted:
            self._title = title
            self.query_one(".agents-title", Static).update(title)
        self.agent_list.set_items(shown)
