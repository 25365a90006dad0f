"""The reserve pool: the roster, confirmed callouts and their callees, and what to call next.

Pure. Callouts are `reserve.callout` control events folded like any event; each callee moves
called -> accepted | declined (a `reserve.response`) -> logged_in (an `agent.state` other than
logged_out after the call). docs/alerts.md describes the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from wallboard.core.config import Config
from wallboard.core.config_alerts import RosterEntry
from wallboard.core.state import AgentState

CALLED = "called"
ACCEPTED = "accepted"
DECLINED = "declined"
LOGGED_IN = "logged_in"
NO_ANSWER = "no_answer"
FINAL = frozenset({DECLINED, LOGGED_IN, NO_ANSWER})


class Callee:
    __slots__ = ("agent", "logged_in_at", "responded_at", "status")

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.status = CALLED
        self.responded_at: int | None = None
        self.logged_in_at: int | None = None


class Callout:
    __slots__ = ("by", "called_at", "callees", "id", "queue")

    def __init__(self, callout_id: str, queue: str, by: str | None, at: int,
                 agents: Iterable[str]) -> None:  # fmt: skip
        self.id = callout_id
        self.queue = queue
        self.by = by
        self.called_at = at
        self.callees = {agent: Callee(agent) for agent in agents}

    def status_of(self, callee: Callee, now: int, response_timeout_ms: int) -> str:
        if callee.status == CALLED and now - self.called_at >= response_timeout_ms:
            return NO_ANSWER
        return callee.status

    def overdue(self, now: int, response_timeout_ms: int, login_timeout_ms: int) -> bool:
        late_login = now - self.called_at >= login_timeout_ms
        return any(
            self.status_of(c, now, response_timeout_ms) == NO_ANSWER
            or (c.status == ACCEPTED and late_login)
            for c in self.callees.values()
        )

    def ended_at(self) -> int | None:
        """When the last callee logged in or answered no, if every callee has (timeouts aside)."""
        times = [c.logged_in_at if c.status == LOGGED_IN else c.responded_at
                 for c in self.callees.values()]  # fmt: skip
        return None if None in times else max(t for t in times if t is not None)

    def active(self, now: int, response_timeout_ms: int, login_timeout_ms: int) -> bool:
        """Someone may still come: a callee neither final nor past the login timeout."""
        if now - self.called_at >= login_timeout_ms:
            return False
        return any(self.status_of(c, now, response_timeout_ms) not in FINAL
                   for c in self.callees.values())  # fmt: skip


class RosterMember(NamedTuple):
    agent: str
    name: str | None
    handle: str | None
    queues: tuple[str, ...]
    level: int


class CalloutBook:
    def __init__(self, config: Config) -> None:
        reserve = config.reserve
        self.response_timeout_ms = round(reserve.response_timeout_s * 1000)
        self.login_timeout_ms = round(reserve.login_timeout_s * 1000)
        self.callouts: dict[str, Callout] = {}  # this business day's, in call order
        self.calls_today: dict[str, int] = {}  # agent -> callouts naming them today
        # The config's roster, with any Redis hash entries merged in at start (feeds.roster).
        self.roster_config: Mapping[str, RosterEntry] = reserve.agents

    def start_day(self, day_start: int) -> None:
        self.callouts = {k: c for k, c in self.callouts.items()
                         if c.active(day_start, self.response_timeout_ms,
                                     self.login_timeout_ms)}  # fmt: skip
        self.calls_today = {}

    def call(self, callout_id: str, queue: str, agents: Iterable[str], by: str | None,
             at: int) -> None:  # fmt: skip
        if callout_id in self.callouts:
            return  # the same callout read twice (another board, a replayed stream)
        callout = Callout(callout_id, queue, by, at, agents)
        self.callouts[callout_id] = callout
        for agent in callout.callees:
            self.calls_today[agent] = self.calls_today.get(agent, 0) + 1

    def respond(self, callout_id: str, agent: str, response: str, at: int) -> None:
        callout = self.callouts.get(callout_id)
        callee = None if callout is None else callout.callees.get(agent)
        if callee is None:
            return
        if callee.responded_at is None:
            callee.responded_at = at
        if callee.status != LOGGED_IN:  # a login (the stronger fact) may have come first
            callee.status = ACCEPTED if response == "accepted" else DECLINED

    def agent_state(self, agent: str, state: str, at: int) -> None:
        """A callee who logs in after the call has come (whatever they answered)."""
        if state == "logged_out":
            return
        for callout in self.callouts.values():
            callee = callout.callees.get(agent)
            if callee is not None and callee.status != LOGGED_IN and at >= callout.called_at:
                callee.status = LOGGED_IN
                callee.logged_in_at = at

    def pending_for(self, queue: str, now: int) -> int:
        """Callees of active callouts for `queue` who may still come."""
        count = 0
        for callout in self.callouts.values():
            if callout.queue != queue or not callout.active(now, self.response_timeout_ms,
                                                            self.login_timeout_ms):  # fmt: skip
                continue
            count += sum(1 for c in callout.callees.values()
                         if callout.status_of(c, now, self.response_timeout_ms) in
                         (CALLED, ACCEPTED))  # fmt: skip
        return count

    def busy_callees(self, now: int) -> set[str]:
        return {agent for callout in self.callouts.values()
                if callout.active(now, self.response_timeout_ms, self.login_timeout_ms)
                for agent, c in callout.callees.items()
                if callout.status_of(c, now, self.response_timeout_ms) in (CALLED, ACCEPTED)}

    def roster(self, agents: Mapping[str, AgentState]) -> list[RosterMember]:
        """Agents the events mark `pool=reserve`, completed and overridden by the roster."""
        members: dict[str, RosterMember] = {}
        for agent_id, agent in agents.items():
            if agent.pool == "reserve":
                members[agent_id] = RosterMember(
                    agent_id, agent.name, None, agent.queues or (), _level(agent.level))
        for agent_id, entry in self.roster_config.items():
            known = members.get(agent_id)
            name = entry.name or (known.name if known else None)
            queues = tuple(entry.queues) or (known.queues if known else ())
            members[agent_id] = RosterMember(agent_id, name, entry.handle, queues, entry.level)
        return sorted(members.values(), key=lambda m: m.agent)

    def rank(self, queue: str, agents: Mapping[str, AgentState], now: int) -> list[RosterMember]:
        """Reserve agents who can be called for `queue`: not logged in, not already called;
        skill match first, then fewest callouts today, then the most senior."""
        busy = self.busy_callees(now)
        free = []
        for member in self.roster(agents):
            agent = agents.get(member.agent)
            if member.agent in busy or (agent is not None and agent.state not in
                                        (None, "logged_out")):  # fmt: skip
                continue
            free.append(member)
        free.sort(key=lambda m: (0 if queue in m.queues or not m.queues else 1,
                                 self.calls_today.get(m.agent, 0), -m.level, m.agent))  # fmt: skip
        return free


def _level(text: str | None) -> int:
    """Agent levels arrive as text ("3", "L3", "senior"); digits rank, anything else is 1."""
    digits = "".join(ch for ch in text or "" if ch in "0123456789")
    return int(digits) if digits else 1


def agents_short(required: int | None, working: int, pending: int) -> int:
    """Agents to call for a queue: Erlang C's shortfall (required minus the agents working the
    queue) less the callees on their way."""
    if required is None:
        return 0
    return max(0, required - working - pending)


def floor_short(projected_total: float, staffed: int, daily_high: int) -> int:
    """Agents missing for the floor's projected load to stay within `daily_high` each."""
    if staffed == 0:
        return 0
    return max(0, math.ceil(projected_total / daily_high) - staffed)
