"""Agent list: sorting, filtering and one row's cells. Pure functions over snapshot agents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from wallboard.core.config_alerts import AgentLoadSection
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import AgentSnapshot
from widgets.fmt import DEFAULT_ROUND_LIMITS, RoundLimits, coarse, duration, pct
from widgets.rowlist import Cell, Column, Row

BAND_SYMBOL: Final = {"under": "▽ under", "healthy": "● ok", "over": "▲ OVER"}
STATE_SHORT: Final = {"logged_out": "out", "available": "avail", "busy": "busy",
                      "wrap_up": "wrap", "break": "break", "away": "away"}  # fmt: skip

SORTS: Final[dict[str, Callable[[AgentSnapshot], tuple[object, ...]]]] = {
    "load": lambda a: (-a.handled_today, a.agent),
    "projected": lambda a: (-a.projected_today, a.agent),
    "messages": lambda a: (-a.messages_last_hour, a.agent),
    "state": lambda a: (a.state or "~", -(a.time_in_state_s or 0), a.agent),
    "time": lambda a: (-(a.time_in_state_s or 0), a.agent),
    "team": lambda a: (a.team or "~", -a.handled_today, a.agent),
    "agent": lambda a: (a.agent,),
    # Response rounds: the most unanswered questions, the oldest, the worst 3-minute rate and
    # the slowest average first; agents with nothing measured go last.
    "open_rounds": lambda a: (-(a.open_rounds or 0), a.agent),
    "oldest_round": lambda a: (-(a.oldest_open_round_s or 0), a.agent),
    "response": lambda a: (_rate_key(a), a.agent),
    "avg_response": lambda a: (_avg_key(a), a.agent),
}
SORT_NAMES: Final = tuple(SORTS)


def _rate_key(a: AgentSnapshot) -> float:
    """Sorts put the smallest key first: the worst rate, then nothing measured (2.0)."""
    r = a.response_today
    return 2.0 if r is None else r.response_rate


def _avg_key(a: AgentSnapshot) -> float:
    """The slowest average first, nothing measured last."""
    r = a.response_today
    return float("inf") if r is None else -r.avg_response_s


COLUMNS: Final = (
    Column("agent", 8),
    Column("name", 8, grow=2, drop=3),
    Column("team", 6, grow=1, drop=5),
    Column("state", 5),
    Column("in", 4, "right"),
    Column("today", 5, "right"),
    Column("load 80-120", 11, grow=4),
    Column("band", 7),
    Column("proj", 4, "right", drop=4),
    Column("msg/h", 7, "right", drop=2),
    Column("shops", 5, "right", drop=1),
    # Response rounds (chat): questions waiting for this agent's reply now, the oldest of
    # them, and today's 3-minute response rate and average response time.
    Column("unans", 5, "right", drop=2),
    Column("oldest", 6, "right", drop=2),
    Column("3m resp", 7, "right", drop=3),
    Column("avg rsp", 7, "right", drop=4),
    Column("pool", 7, drop=6),
)


class AgentFilter(NamedTuple):
    """`queue:X shop:Y team:Z state:S` and free words (agent id or name contains)."""

    queue: str | None = None
    shop: str | None = None
    team: str | None = None
    state: str | None = None
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AgentFilter:
        fields: dict[str, str] = {}
        words: list[str] = []
        for token in text.split():
            key, sep, value = token.partition(":")
            if sep and key.lower() in ("queue", "shop", "team", "state") and value:
                fields[key.lower()] = value
            else:
                words.append(token.lower())
        return cls(fields.get("queue"), fields.get("shop"), fields.get("team"),
                   fields.get("state"), tuple(words))  # fmt: skip

    def describe(self) -> str:
        parts = [f"{k}:{v}" for k, v in zip(("queue", "shop", "team", "state"), self[:4],
                                              strict=True) if v]  # fmt: skip
        return clean(" ".join([*parts, *self.words]), 60)

    def __bool__(self) -> bool:
        return any(self[:4]) or bool(self.words)

    def matches(self, a: AgentSnapshot) -> bool:
        if self.queue is not None and a.queues is not None and self.queue not in a.queues:
            return False
        if self.shop is not None and self.shop not in a.shops:
            return False
        if self.team is not None and a.team != self.team:
            return False
        if self.state is not None and (a.state or "") not in (self.state,
                                                              _long_state(self.state)):
            return False
        text = f"{a.agent} {a.name or ''}".lower()
        return all(word in text for word in self.words)


def _long_state(short: str) -> str:
    for long, abbr in STATE_SHORT.items():
        if abbr == short:
            return long
    return short


def arrange(agents: Sequence[AgentSnapshot], sort: str, reverse: bool,
            filt: AgentFilter) -> list[AgentSnapshot]:  # fmt: skip
    chosen = [a for a in agents if filt.matches(a)] if filt else list(agents)
    chosen.sort(key=SORTS[sort], reverse=reverse)
    return chosen


def load_bar(handled: int, band: str, width: int, load: AgentLoadSection) -> Cell:
    """handled_today against the band: the scale runs to 1.25 x the high mark, with `|` at the
    low and high marks where the bar has not reached them."""
    if width <= 0:
        return ("", "")
    scale = max(1, round(load.daily_high * 1.25))
    filled = min(width, round(handled / scale * width))
    low = min(width - 1, round(load.daily_low / scale * width))
    high = min(width - 1, round(load.daily_high / scale * width))
    glyph = {"under": "▒", "healthy": "█", "over": "█"}.get(band, "█")
    cells = [glyph if i < filled else "·" for i in range(width)]
    for mark in (low, high):
        if mark >= filled:
            cells[mark] = "|"
    return ("".join(cells), band)


def response_cells(a: AgentSnapshot, rounds: RoundLimits) -> Row:
    """Open rounds, the oldest, the 3-minute rate and the average: dashes where no reply came
    this business day (not measured), never zeros."""
    if a.open_rounds is None:
        return (("—", "dim"),) * 4
    oldest = a.oldest_open_round_s or 0.0
    r = a.response_today
    rate = r.response_rate if r is not None else None
    return (
        (str(a.open_rounds), "warn" if a.open_rounds else ""),
        (duration(oldest), rounds.level(oldest)) if a.open_rounds else ("—", ""),
        (pct(rate), rounds.rate_level(rate)),
        (duration(r.avg_response_s if r is not None else None), ""),
    )


def agent_row(a: AgentSnapshot, widths: tuple[int, ...], load: AgentLoadSection,
              rounds: RoundLimits = DEFAULT_ROUND_LIMITS) -> Row:  # fmt: skip
    msg_style = "crit" if a.messages_over_max else ""
    shops_style = {"ok": "", "warn": "warn", "breach": "crit"}.get(a.shops_status, "")
    return (
        (clean(a.agent, 40), "key"),
        (clean(a.name, 40), ""),
        (clean(a.team, 40), "dim"),
        (STATE_SHORT.get(a.state or "", "?"), "dim" if a.state == "logged_out" else ""),
        (coarse(a.time_in_state_s), "dim"),
        (str(a.handled_today), a.load_band),
        load_bar(a.handled_today, a.load_band, widths[6], load),
        (BAND_SYMBOL.get(a.load_band, a.load_band), a.load_band),
        (f"{a.projected_today:.0f}", ""),
        (f"{a.messages_last_hour}/{load.hourly_messages_max}", msg_style),
        (str(len(a.shops)) + ("!" if a.shops_status != "ok" else ""), shops_style),
        *response_cells(a, rounds),
        (a.pool or "", "dim"),
    )
