"""The immutable snapshot of the board: what widgets draw and `wallboard snapshot --json` prints.

The JSON keys are a public contract (docs/snapshot.md): add keys, never rename or remove.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from wallboard.core.alert_text import describe
from wallboard.core.alerts import AlertRecord
from wallboard.core.complaints import Tally
from wallboard.core.erlang import required_agents, required_positions, rule_of_thumb_agents
from wallboard.core.events import AGENT_STATES
from wallboard.core.fold import BoardState
from wallboard.core.period_view import (
    Period,
    Response,
    WindowPeriod,
    period,
    response_of,
    window_period,
)
from wallboard.core.projection import agent_shift, projected_today
from wallboard.core.reserve import Callout, agents_short, floor_short
from wallboard.core.rollups import Live, LiveScan, RollupSnapshot, build_rollups
from wallboard.core.state import AgentState, QueueState
from wallboard.core.timeutil import format_local

SNAPSHOT_VERSION: Final = 1
_WORKING: Final = frozenset({"available", "busy", "wrap_up"})


# The period types live with their builders (core/period_view.py); the contract names them here.
__all__ = ["Period", "Response", "RollupSnapshot", "WindowPeriod"]


class QueueSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    queue: str
    kind: str
    waiting: int
    longest_wait_s: float
    oldest_waiting_since: str | None
    sl_threshold_s: float
    sl_target: float
    short_abandon_s: float
    sl_formula: str
    today: Period
    window: WindowPeriod
    agents_staffed: int
    sl_count_at: str = "answer"  # `[service_level] count_at`: "answer" or "end"
    agents_available: int
    # Agents available to the queue's traffic: idle, busy or in wrap-up (not on break or away);
    # Erlang C's N. An agent serving several queues counts in each.
    agents_working: int = 0
    # Erlang C on the window's arrival rate and AHT (docs/staffing.md); None without data.
    required_agents: int | None = None
    staffed_gap: int | None = None  # required minus agents_working; > 0: short of agents
    offered_per_hour: float | None = None
    erlang_service_level: float | None = None
    erlang_asa_s: float | None = None
    erlang_occupancy: float | None = None
    # `[queues.NAME] shrinkage` when set, and then the positions to schedule for
    # `required_agents`: ceil(required / (1 - shrinkage)); the board's "need" shows these.
    shrinkage: float | None = None
    required_positions: int | None = None
    # The seeds' rule of thumb: customer questions (contact.message) in the last hour / 360
    # per agent, rounded up; None while the queue has no question in the hour.
    questions_last_hour: int = 0
    rule_of_thumb_agents: int | None = None
    # Response rounds open now and the oldest one's age (docs/metrics.md); None where no
    # `contact.reply` came this business day.
    open_rounds: int | None = None
    oldest_open_round_s: float | None = None
    response_within_s: float = 180.0
    response_cap_s: float = 600.0


class AgentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    name: str | None
    team: str | None
    level: str | None
    state: str | None
    state_since: str | None
    time_in_state_s: float | None
    handled_today: int
    load_band: str
    projected_today: float
    shift: str | None
    shift_end: str | None
    handled_last_hour: int
    messages_last_hour: int
    messages_over_max: bool
    shops: list[str]
    shops_status: str
    pool: str | None
    queues: list[str] | None
    completed_today: int
    conversion_today: float | None
    rating_today: float | None
    order_value_today: float
    # Response rounds settled on the agent today, and open now on contacts they handle; None
    # while no `contact.reply` came this business day.
    response_today: Response | None = None
    open_rounds: int | None = None
    oldest_open_round_s: float | None = None
    # `state_since` as epoch ms: time_in_state_s = max(0, as_of_ms - state_since_ms) / 1000
    # exactly (an API diff leaves out agents whose only change is that clock, docs/api.md).
    state_since_ms: int | None = None
    # `shift_end` as epoch ms: projected_today = handled_today + handled_last_hour x
    # (max(0, shift_end_ms - as_of_ms) / 3,600,000), or handled_today without a shift.
    shift_end_ms: int | None = None


class Floor(msgspec.Struct, frozen=True, kw_only=True):
    staffed: int
    available: int
    by_state: dict[str, int]
    agents_known: int


class Bots(msgspec.Struct, frozen=True, kw_only=True):
    resolved_today: int
    escalated_today: int
    containment_today: float | None


class RejectedEntry(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    field: str | None
    detail: str
    entry_id: str | None


class AlertSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One alert of the business day (active or cleared). `id` is stable: every board that
    folds the same events, and a later replay, gives the same alert the same id."""

    id: str
    rule: str
    severity: str  # warn | critical (the current level; `peak_severity` the worst so far)
    peak_severity: str
    subject: str  # "queue:<name>", "agent:<id>" or "board"
    subject_kind: str  # queue | agent | board
    subject_id: str | None
    value: float  # the measured value when last evaluated
    limit: float  # the level it is judged against (the current severity's raise level)
    message: str
    raised_at: str
    raised_at_ms: int
    acked_by: str | None
    acked_at: str | None
    cleared_at: str | None
    cleared_at_ms: int | None


class CalleeSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    name: str | None
    status: str  # called | accepted | declined | logged_in | no_answer
    responded_at: str | None
    logged_in_at: str | None


class CalloutSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A confirmed reserve callout (a `reserve.callout` control event) and its callees."""

    id: str
    queue: str
    by: str | None
    called_at: str
    called_at_ms: int
    agents: list[CalleeSnapshot]
    overdue: bool  # some callee neither answered nor logged in within the timeout
    active: bool
    ended_at_ms: int | None = None  # every callee logged in or declined, at this time


class CalloutRecommendation(msgspec.Struct, frozen=True, kw_only=True):
    """What the board suggests calling in, with the reason in numbers."""

    queue: str
    agents_needed: int
    agents: list[str]  # reserve agent ids, best match first
    reason: str


class CallbackRate(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Key complaints decided in a period, those called back in time, and their ratio."""

    decided: int
    in_time: int
    callback_rate: float | None
    days: int | None = msgspec.field(default=None)  # `rolling` only


class ComplaintGroup(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    open_key: int
    due_24h: int
    overdue: int
    opened_today: int
    rolling: CallbackRate


class ComplaintsSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    today: CallbackRate
    rolling: CallbackRate
    open_key: int
    due_24h: int
    overdue: int
    oldest_overdue_s: float | None
    opened_today: int
    by_department: list[ComplaintGroup]
    by_shop: list[ComplaintGroup]


def empty_complaints(rate_days: int = 7) -> ComplaintsSnapshot:
    none = CallbackRate(decided=0, in_time=0, callback_rate=None)
    return ComplaintsSnapshot(
        today=none, rolling=CallbackRate(decided=0, in_time=0, callback_rate=None,
                                         days=rate_days),
        open_key=0, due_24h=0, overdue=0, oldest_overdue_s=None, opened_today=0,
        by_department=[], by_shop=[])  # fmt: skip


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    snapshot_version: int
    site_name: str
    as_of: str | None
    as_of_ms: int | None
    timezone: str
    business_day: str | None
    business_day_start: str | None
    newest_event_at: str | None
    events_applied: int
    events_rejected: dict[str, int]
    events_duplicate: int
    rejected_recent: list[RejectedEntry]
    queues: list[QueueSnapshot]
    agents: list[AgentSnapshot]
    floor: Floor
    bots: Bots
    alerts: list[AlertSnapshot] = msgspec.field(default_factory=list)
    callouts: list[CalloutSnapshot] = msgspec.field(default_factory=list)
    callout_recommendations: list[CalloutRecommendation] = msgspec.field(default_factory=list)
    rollups: list[RollupSnapshot] = msgspec.field(default_factory=list)
    complaints: ComplaintsSnapshot = msgspec.field(default_factory=empty_complaints)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _staffing(state: BoardState) -> tuple[list[int], dict[str, list[int]]]:
    """[staffed, available (idle), working (idle, busy or in wrap-up: Erlang C's N)] of the
    agents serving every queue (no `queues` list), and per queue of those that list it: one
    pass over the agents, not one per queue."""
    everywhere = [0, 0, 0]
    listed: dict[str, list[int]] = {}
    for agent in state.agents.values():
        if agent.state is None or agent.state == "logged_out":
            continue
        available = 1 if agent.state == "available" else 0
        working = 1 if agent.state in _WORKING else 0
        serves = (everywhere,) if agent.queues is None else [
            listed.setdefault(q, [0, 0, 0]) for q in set(agent.queues)]
        for counts in serves:
            counts[0] += 1
            counts[1] += available
            counts[2] += working
    return everywhere, listed


def _queue_snapshot(state: BoardState, queue: QueueState,
                    staffing: tuple[list[int], dict[str, list[int]]],
                    live: Live) -> QueueSnapshot:  # fmt: skip
    formula, count_at = queue.rules.formula, queue.rules.count_at
    as_of = state.as_of
    measured = queue.ledger.replied_today
    oldest = min(queue.waiting.values()) if queue.waiting else None
    everywhere, listed = staffing
    own = listed.get(queue.name, [0, 0, 0])
    staffed, available, working = (a + b for a, b in zip(everywhere, own, strict=True))
    erlang = _erlang(state, queue, working)
    return QueueSnapshot(
        queue=queue.name,
        kind=queue.rules.kind,
        waiting=len(queue.waiting),
        longest_wait_s=0.0 if oldest is None else max(0, as_of - oldest) / 1000,
        oldest_waiting_since=None if oldest is None else format_local(oldest, state.config.tz),
        sl_threshold_s=queue.rules.threshold_s,
        sl_target=queue.rules.target,
        short_abandon_s=queue.rules.short_abandon_s,
        sl_formula=formula,
        today=period(queue.today, formula, measured, count_at),
        window=window_period(queue.window, formula, measured,
                             state.config.board.window_minutes, count_at),
        sl_count_at=count_at,
        agents_staffed=staffed,
        agents_available=available,
        agents_working=working,
        **erlang,
        **_rule_of_thumb(state, queue),
        open_rounds=live.rounds if measured else None,
        oldest_open_round_s=(max(0, as_of - live.oldest_round) / 1000 if live.oldest_round
                             else 0.0) if measured else None,
        response_within_s=queue.rules.response_within_s,
        response_cap_s=queue.rules.response_cap_s,
    )


def _rule_of_thumb(state: BoardState, queue: QueueState) -> dict[str, Any]:
    questions = queue.messages.count(state.as_of)
    per_agent = state.config.agent_load.hourly_messages_max
    return {"questions_last_hour": questions,
            "rule_of_thumb_agents": rule_of_thumb_agents(questions, per_agent) if questions
            else None}  # fmt: skip


def _erlang(state: BoardState, queue: QueueState, working: int) -> dict[str, Any]:
    """Erlang C on the window's arrival rate (over the part of the window the board has seen)
    and AHT (the window's, else today's); docs/staffing.md."""
    span_ms = min(state.window_ms, state.as_of - state.first_event_ts)
    aht = queue.window.aht_s() or queue.today.aht_s()
    if span_ms < 60_000 or not aht:  # no handle time yet (or all zero): nothing to size
        return {}
    per_hour = queue.window.offered * 3_600_000 / span_ms
    # An agent working `concurrency` chats at once is that many servers to Erlang C.
    staffing = required_agents(per_hour / queue.rules.concurrency, aht, queue.rules.threshold_s,
                               queue.rules.target, state.config.staffing.max_occupancy)
    shrinkage = queue.rules.shrinkage
    positions = {} if shrinkage is None else {
        "shrinkage": shrinkage,
        "required_positions": required_positions(staffing.required_agents, shrinkage)}
    return {
        **positions,
        "required_agents": staffing.required_agents,
        "staffed_gap": staffing.required_agents - working,
        "offered_per_hour": per_hour,
        "erlang_service_level": staffing.service_level,
        "erlang_asa_s": staffing.asa_s,
        "erlang_occupancy": staffing.occupancy,
    }


def _agent_snapshot(state: BoardState, agent: AgentState, live: Live | None) -> AgentSnapshot:
    config = state.config
    load = config.agent_load
    as_of = state.as_of
    handled = agent.handled_today
    band = ("under" if handled < load.daily_low
            else "over" if handled > load.daily_high else "healthy")  # fmt: skip
    last_hour = agent.answers.count(as_of)
    messages = agent.messages.count(as_of)
    shift = agent_shift(state.calendar, state.day, agent)
    shops = len(agent.shops)
    tz = config.tz
    return AgentSnapshot(
        agent=agent.agent,
        name=agent.name,
        team=agent.team,
        level=agent.level,
        state=agent.state,
        state_since=None if agent.state is None else format_local(agent.state_since, tz),
        time_in_state_s=None if agent.state is None else max(0, as_of - agent.state_since) / 1000,
        handled_today=handled,
        load_band=band,
        projected_today=projected_today(state.as_of, agent, shift, last_hour),
        shift=None if shift is None else shift.name,
        shift_end=None if shift is None else format_local(shift.end_ms, tz),
        handled_last_hour=last_hour,
        messages_last_hour=messages,
        messages_over_max=messages > load.hourly_messages_max,
        shops=list(agent.shops),
        shops_status="breach" if shops > load.shops_max else "warn" if shops > load.shops_warn
        else "ok",
        pool=agent.pool,
        queues=None if agent.queues is None else list(agent.queues),
        completed_today=agent.completed_today,
        conversion_today=_ratio(agent.orders_today, agent.outcomes_today),
        rating_today=agent.rating_sum / agent.rating_count if agent.rating_count else None,
        order_value_today=agent.order_value_today,
        state_since_ms=None if agent.state is None else agent.state_since,
        shift_end_ms=None if shift is None else shift.end_ms,
        response_today=response_of(agent.rounds_today, state.replied_today),
        open_rounds=(0 if live is None else live.rounds) if state.replied_today else None,
        oldest_open_round_s=(max(0, as_of - live.oldest_round) / 1000 if live is not None
                             and live.oldest_round else 0.0) if state.replied_today else None,
    )


def build_snapshot(state: BoardState, *, with_agents: bool = True) -> Snapshot:
    """Read the state at its `as_of` (settling its counts first: bookkeeping that changes no
    number the fold would produce). `with_agents=False` leaves `agents` empty: the board does
    that while no agent list is on screen, as 2,000 agent rows are most of a snapshot's cost."""
    state.settle()
    config = state.config
    tz = config.tz
    by_state = dict.fromkeys(AGENT_STATES, 0)
    for agent in state.agents.values():
        if agent.state is not None:
            by_state[agent.state] += 1
    staffed = sum(count for name, count in by_state.items() if name != "logged_out")
    day = state.day
    started = state.as_of > 0
    staffing = _staffing(state)
    scan = LiveScan(state, with_agents)
    queues = [_queue_snapshot(state, state.queues[name], staffing, scan.queues[name])
              for name in sorted(state.queues)]  # fmt: skip
    agents = ([_agent_snapshot(state, state.agents[name], scan.agents.get(name))
               for name in sorted(state.agents)] if with_agents else [])  # fmt: skip
    return Snapshot(
        snapshot_version=SNAPSHOT_VERSION,
        site_name=config.board.site_name,
        as_of=format_local(state.as_of, tz) if started else None,
        as_of_ms=state.as_of if started else None,
        timezone=config.board.timezone,
        business_day=None if day is None else day.date,
        business_day_start=None if day is None else format_local(day.start_ms, tz),
        newest_event_at=None if state.newest_event_ts is None
        else format_local(state.newest_event_ts, tz),
        events_applied=state.events_applied,
        events_rejected=dict(state.rejected),
        events_duplicate=state.events_duplicate,
        rejected_recent=[
            RejectedEntry(reason=r.reason, field=r.field, detail=r.detail, entry_id=r.entry_id)
            for r in state.recent_rejections
        ],
        queues=queues,
        agents=agents,
        floor=Floor(
            staffed=staffed,
            available=by_state["available"],
            by_state=by_state,
            agents_known=len(state.agents),
        ),
        bots=Bots(
            resolved_today=state.bot_resolved_today,
            escalated_today=state.escalated_today,
            containment_today=_ratio(
                state.bot_resolved_today, state.bot_resolved_today + state.escalated_today),
        ),
        alerts=[_alert_snapshot(state, record) for record in state.alerts.history],
        callouts=[_callout_snapshot(state, c) for c in state.reserve.callouts.values()],
        callout_recommendations=_recommendations(state, queues),
        rollups=build_rollups(state, scan),
        complaints=_complaints(state),
    )


def _rate(decided: int, in_time: int, days: int | None = None) -> CallbackRate:
    return CallbackRate(decided=decided, in_time=in_time, callback_rate=_ratio(in_time, decided),
                        days=days)  # fmt: skip


def _complaint_groups(tallies: dict[str, Tally], days: int) -> list[ComplaintGroup]:
    return [ComplaintGroup(name=name, open_key=t.open_key, due_24h=t.due_24h, overdue=t.overdue,
                           opened_today=t.opened_today,
                           rolling=_rate(t.decided_rolling, t.in_time_rolling, days))
            for name, t in sorted(tallies.items())]  # fmt: skip


def _complaints(state: BoardState) -> ComplaintsSnapshot:
    """docs/snapshot.md, `complaints`: the figures at `as_of`."""
    now = state.as_of
    days = state.config.complaints.rate_days
    figures = state.complaints.figures(now, None if state.day is None else state.day.start_ms)
    floor = figures.floor
    oldest = floor.oldest_overdue_deadline
    return ComplaintsSnapshot(
        today=_rate(floor.decided_today, floor.in_time_today),
        rolling=_rate(floor.decided_rolling, floor.in_time_rolling, days),
        open_key=floor.open_key, due_24h=floor.due_24h, overdue=floor.overdue,
        oldest_overdue_s=None if oldest is None else (now - oldest) / 1000,
        opened_today=floor.opened_today,
        by_department=_complaint_groups(figures.by_department, days),
        by_shop=_complaint_groups(figures.by_shop, days))  # fmt: skip


def _alert_snapshot(state: BoardState, record: AlertRecord) -> AlertSnapshot:
    tz = state.config.tz
    agent = state.agents.get(record.subject_id or "") if record.subject_kind == "agent" else None
    return AlertSnapshot(
        id=record.id,
        rule=record.rule,
        severity=record.severity,
        peak_severity=record.peak,
        subject=record.subject,
        subject_kind=record.subject_kind,
        subject_id=record.subject_id,
        value=record.value,
        limit=record.limit,
        message=describe(record, agent.name if agent is not None else None),
        raised_at=format_local(record.raised_at, tz),
        raised_at_ms=record.raised_at,
        acked_by=record.acked_by,
        acked_at=None if record.acked_at is None else format_local(record.acked_at, tz),
        cleared_at=None if record.cleared_at is None else format_local(record.cleared_at, tz),
        cleared_at_ms=record.cleared_at,
    )


def _callout_snapshot(state: BoardState, callout: Callout) -> CalloutSnapshot:
    tz = state.config.tz
    book, now = state.reserve, state.as_of

    def local(ms: int | None) -> str | None:
        return None if ms is None else format_local(ms, tz)

    return CalloutSnapshot(
        id=callout.id,
        queue=callout.queue,
        by=callout.by,
        called_at=format_local(callout.called_at, tz),
        called_at_ms=callout.called_at,
        agents=[
            CalleeSnapshot(
                agent=c.agent,
                name=_callee_name(state, c.agent),
                status=callout.status_of(c, now, book.response_timeout_ms),
                responded_at=local(c.responded_at),
                logged_in_at=local(c.logged_in_at),
            )
            for c in callout.callees.values()
        ],
        overdue=callout.overdue(now, book.response_timeout_ms, book.login_timeout_ms),
        active=callout.active(now, book.response_timeout_ms, book.login_timeout_ms),
        ended_at_ms=callout.ended_at(),
    )


def _callee_name(state: BoardState, agent_id: str) -> str | None:
    agent = state.agents.get(agent_id)
    if agent is not None and agent.name:
        return agent.name
    entry = state.reserve.roster_config.get(agent_id)
    return None if entry is None else entry.name


def _recommendations(state: BoardState,
                     queues: list[QueueSnapshot]) -> list[CalloutRecommendation]:  # fmt: skip
    """Callouts to suggest (docs/alerts.md): Erlang C's shortfall per queue; a window service
    level below target for `reserve.sl_below_for_s`; the floor's projected load past the daily
    high. Reserve agents are ranked per queue, and none is suggested twice."""
    book, now = state.reserve, state.as_of
    below_ms = round(state.config.reserve.sl_below_for_s * 1000)
    sl_alerts = {r.subject_id: r for r in state.alerts.active() if r.rule == "sl_window"}
    wanted: list[tuple[int, QueueSnapshot, str]] = []
    for q in queues:
        pending = book.pending_for(q.queue, now)
        short = agents_short(q.required_agents, q.agents_working, pending)
        if short > 0:
            reason = (f"Erlang C needs {q.required_agents} agents for {q.offered_per_hour:.0f}"
                      f"/h at AHT {q.window.aht_s or q.today.aht_s or 0:.0f}s "
                      f"({q.sl_target:.0%} in {q.sl_threshold_s:g}s): {q.agents_working} "
                      f"on the queue, {pending} on the way")  # fmt: skip
            wanted.append((short, q, reason))
            continue
        alert = sl_alerts.get(q.queue)
        if alert is not None and now - alert.raised_at >= below_ms and pending == 0:
            level = q.window.service_level
            wanted.append((1, q, f"window service level {level or 0:.1%} below the "
                                 f"{q.sl_target:.0%} target for "
                                 f"{(now - alert.raised_at) // 60_000} min"))  # fmt: skip
    if not wanted and queues:  # the floor's projection: every agent, so only when needed
        load = state.config.agent_load
        core = [a for a in state.agents.values()
                if a.pool != "reserve" and a.state not in (None, "logged_out")]  # fmt: skip
        calendar, day, as_of = state.calendar, state.day, state.as_of
        projected = sum(projected_today(as_of, a, agent_shift(calendar, day, a),
                                        a.answers.count(now))
                        for a in core)  # fmt: skip
        short = floor_short(projected, len(core), load.daily_high)
        if short > 0:
            busiest = max(queues, key=lambda q: (q.waiting, q.queue))
            reason = (f"floor projected {projected / len(core):.0f} inquiries per agent, "
                      f"over {load.daily_high}")
            wanted.append((short, busiest, reason))
    taken: set[str] = set()
    out = []
    for short, q, reason in sorted(wanted, key=lambda w: (-w[0], w[1].queue)):
        ranked = [m.agent for m in book.rank(q.queue, state.agents, now) if m.agent not in taken]
        chosen = ranked[:short]
        taken.update(chosen)
        note = f"; only {len(chosen)} reserve agents free" if len(chosen) < short else ""
        out.append(CalloutRecommendation(queue=q.queue, agents_needed=short, agents=chosen,
                                         reason=reason + note))  # fmt: skip
    return out


_encoder = msgspec.json.Encoder()


def to_json(snapshot: Snapshot) -> bytes:
    return _encoder.encode(snapshot)
