"""Alert rules with hysteresis and a raised -> acknowledged -> cleared lifecycle (docs/alerts.md).

Pure and deterministic: the fold calls `evaluate_*` at every whole second of its time (queues)
and for the agents an event touched (all agents once a minute), so the same events give the
same alerts, with the same ids, on every board and in every replay. Ids count raises per rule,
subject and business day ("sl_window/queue:pre_sales/2026-11-11/2"): robust to a board that
evaluated a second later than another.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Final, NamedTuple

from mypy_extensions import mypyc_attr

from wallboard.core.businessday import BusinessCalendar, BusinessDay
from wallboard.core.config import Config
from wallboard.core.config_alerts import AlertRuleSection, rule_defaults
from wallboard.core.projection import agent_shift, projected_today
from wallboard.core.state import AgentState, QueueState

WARN: Final = "warn"
CRITICAL: Final = "critical"

# What agents' projections are made on: the calendar, the business day, the fold's time.
Projections = tuple[BusinessCalendar, BusinessDay | None, int]


class Rule(NamedTuple):
    name: str
    subject_kind: str
    warn: float
    critical: float
    clear: float
    raise_after_ms: int
    clear_after_ms: int
    min_contacts: int


def resolve_rules(config: Config) -> dict[str, Rule]:
    """The enabled rules, config overriding the defaults key by key."""
    rules: dict[str, Rule] = {}
    for name, base in rule_defaults(config.agent_load).items():
        section: AlertRuleSection = getattr(config.alerts, name)
        if not section.enabled:
            continue

        def pick(value: float | None, default: float) -> float:
            return default if value is None else value

        rules[name] = Rule(
            name, base.subject_kind,
            pick(section.warn, base.warn), pick(section.critical, base.critical),
            pick(section.clear, base.clear),
            round(pick(section.raise_after_s, base.raise_after_s) * 1000),
            round(pick(section.clear_after_s, base.clear_after_s) * 1000),
            int(pick(section.min_contacts, base.min_contacts)),
        )  # fmt: skip
    return rules


@mypyc_attr(serializable=True)  # replay checkpoints pickle it
class AlertRecord:
    """One alert; mutable while active, kept in the day's history after it clears."""

    __slots__ = ("acked_at", "acked_by", "cleared_at", "id", "limit", "peak", "raised_at",
                 "rule", "severity", "subject_id", "subject_kind", "value", "worst")  # fmt: skip

    def __init__(self, alert_id: str, rule: Rule, subject_id: str | None, severity: str,
                 value: float, at: int) -> None:  # fmt: skip
        self.id = alert_id
        self.rule = rule.name
        self.subject_kind = rule.subject_kind
        self.subject_id = subject_id
        self.severity = severity
        self.peak = severity
        self.value = value
        self.worst = value  # every rule is "higher is worse"
        self.limit = rule.critical if severity == CRITICAL else rule.warn
        self.raised_at = at
        self.acked_by: str | None = None
        self.acked_at: int | None = None
        self.cleared_at: int | None = None

    @property
    def subject(self) -> str:
        return "board" if self.subject_id is None else f"{self.subject_kind}:{self.subject_id}"


class _Track:
    """Hysteresis state of one rule on one subject."""

    __slots__ = ("calm_since", "clear_since", "pending_since", "record")

    def __init__(self) -> None:
        self.pending_since: int | None = None
        self.clear_since: int | None = None
        self.calm_since: int | None = None
        self.record: AlertRecord | None = None


@mypyc_attr(serializable=True)  # replay checkpoints pickle it
class AlertEngine:
    def __init__(self, config: Config) -> None:
        self.rules = resolve_rules(config)
        self._formula: str = config.service_level.formula
        self._daily_high = config.agent_load.daily_high
        self.day: str = ""
        # rule -> subject -> hysteresis state; only subjects above a level or with an alert
        self.tracks: dict[str, dict[str | None, _Track]] = {name: {} for name in self.rules}
        self.history: list[AlertRecord] = []  # the business day's alerts, in raise order
        self.by_id: dict[str, AlertRecord] = {}
        self.raises: dict[tuple[str, str | None], int] = {}  # per business day
        self.early_acks: dict[str, tuple[str, int]] = {}  # acks read before their alert
        self._queue_rules = [r for r in self.rules.values() if r.subject_kind == "queue"]
        self._agent_rules = [r for r in self.rules.values() if r.subject_kind == "agent"]
        # Each queue rule with its value function and its tracks (stable objects).
        self._queue_values = [(r, _QUEUE_VALUES[r.name], self.tracks[r.name])
                              for r in self._queue_rules]  # fmt: skip
        # Per kind of queue (realtime, ticket): without the rules always 0 there (never above
        # a warn level >= 0, so never tracked): one call less per queue and second.
        self._values_by_kind = {
            ticket: [v for v in self._queue_values
                     if not (v[0].warn >= 0 and v[0].name in _ZERO_FOR[ticket])]
            for ticket in (False, True)}  # fmt: skip

    def agent_watch(self) -> tuple[float, float, float, dict[str | None, _Track],
                                   dict[str | None, _Track], dict[str | None, _Track]]:
        """What the fold needs to know whether a touched agent could make a per-second agent
        rule speak: the warn levels of handled today, questions in the last hour and shops
        (infinite when the rule is off), and those rules' tracks (stable objects)."""

        def warn(name: str) -> float:
            rule = self.rules.get(name)
            return math.inf if rule is None else rule.warn

        def tracks(name: str) -> dict[str | None, _Track]:
            return self.tracks.get(name, {})  # a rule that is off never gets a track

        high, questions, shops = "agent_over_daily_high", "agent_messages", "agent_shops"
        return (warn(high), warn(questions), warn(shops), tracks(high), tracks(questions),
                tracks(shops))

    # ---- lifecycle ----------------------------------------------------------------------

    def start_day(self, day: str) -> None:
        """A new business day: the history keeps only what is still active; ids restart."""
        self.day = day
        self.history = [r for r in self.history if r.cleared_at is None]
        self.by_id = {r.id: r for r in self.history}
        self.raises = {}

    def active(self) -> list[AlertRecord]:
        return [r for r in self.history if r.cleared_at is None]

    def ack(self, alert_id: str, by: str, at: int) -> None:
        record = self.by_id.get(alert_id)
        if record is None:
            if len(self.early_acks) < 10_000:
                self.early_acks[alert_id] = (by, at)
            return
        if record.acked_by is None:
            record.acked_by = by
            record.acked_at = at

    def observe(self, rule: Rule, subject_id: str | None, value: float | None, now: int) -> None:
        """One evaluation of `rule` on a subject. None: no judgement possible (too few
        contacts): counts as healthy for clearing and never raises."""
        tracks = self.tracks[rule.name]
        track = tracks.get(subject_id)
        if track is None:
            if value is None or value <= rule.warn:
                return  # the common case: healthy and nothing pending
            track = tracks[subject_id] = _Track()
        level = (None if value is None or value <= rule.warn
                 else CRITICAL if value > rule.critical else WARN)  # fmt: skip
        record = track.record
        if record is None:
            if level is None:
                del tracks[subject_id]
                return
            if track.pending_since is None:
                track.pending_since = now
            if now - track.pending_since >= rule.raise_after_ms:
                self._raise(track, rule, subject_id, level, value, now)  # type: ignore[arg-type]
            return
        if value is not None:
            record.value = value
            if value > record.worst:  # noqa: PLR1730  (max() costs a call, every second)
                record.worst = value
        if level == CRITICAL:
            track.calm_since = None
            if record.severity != CRITICAL:
                record.severity = record.peak = CRITICAL
                record.limit = rule.critical
                record.acked_by = record.acked_at = None  # a worse state needs a new ack
        elif record.severity == CRITICAL:
            if track.calm_since is None:
                track.calm_since = now
            if now - track.calm_since >= rule.clear_after_ms:
                record.severity = WARN
                record.limit = rule.warn
                track.calm_since = None
        if value is None or value <= rule.clear:
            if track.clear_since is None:
                track.clear_since = now
            if now - track.clear_since >= rule.clear_after_ms:
                record.cleared_at = now
                del tracks[subject_id]
        else:
            track.clear_since = None

    def _raise(self, track: _Track, rule: Rule, subject_id: str | None, level: str,
               value: float, now: int) -> None:  # fmt: skip
        key = (rule.name, subject_id)
        count = self.raises.get(key, 0) + 1
        self.raises[key] = count
        subject = "board" if subject_id is None else f"{rule.subject_kind}:{subject_id}"
        record = AlertRecord(f"{rule.name}/{subject}/{self.day}/{count}", rule, subject_id,
                             level, value, now)  # fmt: skip
        track.record = record
        track.pending_since = None
        self.history.append(record)
        self.by_id[record.id] = record
        early = self.early_acks.pop(record.id, None)
        if early is not None:
            record.acked_by, record.acked_at = early

    # ---- rules --------------------------------------------------------------------------

    def watching(self, subject_id: str) -> bool:
        """Some queue rule has an alert or a pending raise on this subject."""
        return any(subject_id in tracks for _, _, tracks in self._queue_values)

    def evaluate_queues(self, queues: Iterable[QueueState], now: int) -> None:
        formula = self._formula
        observe = self.observe
        for queue in queues:
            ticket = queue.rules.kind == "ticket"
            name = queue.name
            for rule, value_of, rule_tracks in self._values_by_kind[ticket]:
                value = value_of(rule, queue, ticket, formula, now)
                # Healthy with nothing pending is the common case: skip the call.
                if (value is not None and value > rule.warn) or name in rule_tracks:
                    observe(rule, name, value, now)

    def evaluate_agents(self, agents: Iterable[AgentState], now: int,
                        projections: Projections | None = None) -> None:  # fmt: skip
        """The agent rules; projections (slow-moving, and the costly part) only when given
        the calendar, business day and fold time they are made on: the fold gives them every
        few minutes for every agent, and judges the touched ones each second without."""
        high = self._daily_high
        observe = self.observe
        # One tight loop per rule: hundreds of agents are touched every second at peak, and
        # most are under every level with nothing pending (skipped without a call).
        for rule in self._agent_rules:
            name = rule.name
            tracks, warn = self.tracks[name], rule.warn
            if name == "agent_over_daily_high":
                for agent in agents:
                    if agent.handled_today > warn or agent.agent in tracks:
                        observe(rule, agent.agent, agent.handled_today, now)
            elif name == "agent_messages":
                for agent in agents:
                    ring = agent.messages
                    # The ring holds at least the last hour's count: under the level, skip.
                    if ring.upper_count() > warn or agent.agent in tracks:
                        observe(rule, agent.agent, ring.count(now), now)
            elif name == "agent_shops":
                for agent in agents:
                    logged_in = agent.state is not None and agent.state != "logged_out"
                    shops = len(agent.shops) if logged_in else 0
                    if shops > warn or agent.agent in tracks:
                        observe(rule, agent.agent, shops, now)
            elif projections is not None:  # agent_projected_over
                calendar, day, as_of = projections
                for agent in agents:
                    logged_in = agent.state is not None and agent.state != "logged_out"
                    value = 0.0  # not working, or already over: the other rule speaks
                    if logged_in and agent.handled_today <= high:
                        shift = agent_shift(calendar, day, agent)
                        value = projected_today(as_of, agent, shift, agent.answers.count(now))
                    if value > warn or agent.agent in tracks:
                        observe(rule, agent.agent, value, now)

    def evaluate_complaints(self, overdue: int, now: int) -> None:
        """complaint_overdue: key complaints overdue for a callback (docs/metrics.md)."""
        rule = self.rules.get("complaint_overdue")
        if rule is not None:
            self.observe(rule, None, overdue, now)

    def evaluate_feed(self, stale_s: float, now: int) -> None:
        rule = self.rules.get("feed_stale")
        if rule is not None:
            self.observe(rule, None, stale_s, now)


def _over_threshold(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                    now: int) -> float | None:  # fmt: skip
    """contact_over_threshold (realtime queues) and ticket_over_threshold (ticket queues)."""
    waiting = queue.waiting
    if not waiting or ticket != (rule.name == "ticket_over_threshold"):
        return 0
    # Contacts enter `waiting` in fold order, which is event-time order for a snapshot or
    # replay: count from the oldest and stop at the first one inside the threshold, or
    # once past the critical level (all the rule needs; thousands may wait on a peak day
    # and this runs every second). The message then says "more than <critical>".
    cut = now - queue.threshold_ms
    enough = int(rule.critical) + 1
    count = 0
    for since in waiting.values():
        if since >= cut or count == enough:
            break
        count += 1
    return count


def _queue_depth(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                 now: int) -> float | None:  # fmt: skip
    return len(queue.waiting)


def _longest_wait(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                  now: int) -> float | None:  # fmt: skip
    waiting = queue.waiting
    if ticket or not waiting:
        return 0
    return max(0, now - next(iter(waiting.values()))) / 1000  # the oldest (fold order)


def _sl_window(rule: Rule, queue: QueueState, ticket: bool, formula: str,
               now: int) -> float | None:  # fmt: skip
    window = queue.window
    if window.answered + window.abandoned < max(rule.min_contacts, 1):
        return None
    level = window.service_level(formula)  # type: ignore[arg-type]
    return None if level is None else queue.rules.target - level


def _abandon_rate(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                  now: int) -> float | None:  # fmt: skip
    window = queue.window
    if window.answered + window.abandoned < max(rule.min_contacts, 1):
        return None
    return window.abandon_rate()


def _oldest_open_round(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                       now: int) -> float | None:  # fmt: skip
    """The oldest open response round's age; None where no reply came this business day
    (not measured: a producer that sends no replies raises nothing)."""
    if not queue.ledger.replied_today:
        return None
    rounds = queue.open_rounds
    if not rounds:
        return 0
    return max(0, now - next(iter(rounds.values()))) / 1000  # the oldest (fold order)


def _response_rate(rule: Rule, queue: QueueState, ticket: bool, formula: str,
                   now: int) -> float | None:  # fmt: skip
    window = queue.window
    if not queue.ledger.replied_today or window.rounds < max(rule.min_contacts, 1):
        return None
    return queue.rules.response_target - window.rounds_within / window.rounds


# Rules whose value is always 0 on a realtime (False) or ticket (True) queue.
_ZERO_FOR: Final = {False: {"ticket_over_threshold"},
                    True: {"contact_over_threshold", "longest_wait"}}  # fmt: skip
_QUEUE_VALUES: Final[dict[str, Callable[[Rule, QueueState, bool, str, int], float | None]]] = {
    "contact_over_threshold": _over_threshold,
    "ticket_over_threshold": _over_threshold,
    "queue_depth": _queue_depth,
    "longest_wait": _longest_wait,
    "sl_window": _sl_window,
    "abandon_rate": _abandon_rate,
    "oldest_open_round": _oldest_open_round,
    "response_rate": _response_rate,
}
