"""The board's live numbers as Prometheus metrics: the body of the API's `GET /metrics`.

One render reads one snapshot (and the feed's status) through a collector of its own in a
fresh registry, so a scrape shows exactly one published snapshot and nothing lingers from the
last one (a queue or an agent that left the day leaves the scrape). prometheus-client writes
and escapes the text; docs/metrics-prometheus.md lists every series.

- Every series carries `site` (`[board] site_name`, as the snapshot names it).
- A number the snapshot has as null (a service level with nothing answered, no lag yet) is left
  out, never written as 0 or NaN: "no data" must not read as "0 %" on a graph.
- Label values come from events. A character `wallboard.core.sanitize.clean` would drop (a
  control or format character, a lone surrogate) is written as the text `<U+XXXX>` instead:
  nothing raw reaches a dashboard, and two ids that differ only in such a character stay two
  series (the event decoder lets format characters such as U+200B through; dropping them
  would fold "a1" and "a1<ZWSP>" into one, or an id into an empty label, which Prometheus
  reads as no label). prometheus-client then escapes quotes, backslashes and newlines. A
  series whose labels repeat one already written is dropped, so no input can make the
  exposition unparsable.
- Per-agent series only with `[api] agent_metrics = true`: 2,000 agents make 2,000 series per
  metric, in every scrape, kept by Prometheus for its whole retention.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Final, get_args

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from wallboard.core.config import Config
from wallboard.core.events import AGENT_STATES, REASONS
from wallboard.core.feedstatus import FeedState, FeedStatus
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import (
    AgentSnapshot,
    Period,
    QueueSnapshot,
    RollupSnapshot,
    Snapshot,
)

__all__ = ["CONTENT_TYPE_LATEST", "label_value", "render_metrics"]

SEVERITIES: Final = ("warn", "critical")
FEED_STATES: Final[tuple[str, ...]] = get_args(FeedState)

# (snapshot field, metric word, help) of the counts a period has.
_COUNTS: Final = (
    ("offered", "offered", "Contacts that entered the queue (offers and transfers in)"),
    ("answered", "answered", "Contacts answered"),
    ("answered_within", "answered_within_threshold",
     "Contacts answered within the queue's service-level threshold"),
    ("abandoned", "abandoned", "Contacts that left before an answer"),
    ("short_abandoned", "short_abandoned",
     "Abandoned contacts that waited less than the short-abandon time"),
    ("transferred_out", "transferred_out", "Contacts transferred away while still waiting"),
    ("completed", "completed", "Handle-time samples: completions, and transfers after an answer"),
    ("ended_by_restart", "ended_by_restart",
     "Contacts still waiting when their system restarted (neither answered nor abandoned)"),
    ("left_by_key", "left_by_key", "Callers who left the queue by a key (not abandoned)"),
)  # fmt: skip
# (response field, metric word, help) of a period's response rounds (docs/metrics.md).
_ROUNDS: Final = (
    ("rounds", "rounds", "Response rounds settled (a customer question and the shop's reply)"),
    ("answered_within", "rounds_answered_within",
     "Response rounds closed by a reply within the response threshold (180 s)"),
    ("unanswered", "rounds_unanswered",
     "Response rounds settled without a reply (at the cap, or when the contact ended)"),
)  # fmt: skip
# Rollups (docs/metrics.md): the metric prefix and label of each kind; the floor has none.
_ROLLUP_LABELS: Final = {"floor": None, "group": "group", "shop": "shop", "channel": "channel"}


def render_metrics(snap: Snapshot, status: FeedStatus, config: Config) -> bytes:
    """The Prometheus text exposition (served as `CONTENT_TYPE_LATEST`) of one snapshot and the
    feed's status."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap, status, config))
    return generate_latest(registry)


def label_value(text: str | None) -> str:
    """`text` with each character `clean` would remove written as `<U+XXXX>`; not truncated
    (event fields are at most 256 characters), so distinct ids stay distinct."""
    if not text:
        return ""
    if clean(text, len(text)) == text:  # the common case: isprintable, in C
        return text
    return "".join(ch if clean(ch) else f"<U+{ord(ch):04X}>" for ch in text)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _epoch_s(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


class _Family:
    """One metric family: `site` first on every series, labels made safe, nulls and repeats
    left out."""

    def __init__(self, metric: GaugeMetricFamily | CounterMetricFamily, site: str,
                 labels: dict[str | None, str]) -> None:  # fmt: skip
        self.metric, self.site, self.labels = metric, site, labels
        self.seen: set[tuple[str, ...]] = set()

    def _label(self, text: str | None) -> str:
        written = self.labels.get(text)
        if written is None:  # once per render per id, not once per series
            written = self.labels[text] = label_value(text)
        return written

    def add(self, value: float | None, *labels: str | None) -> None:
        number = _finite(value)
        if number is None:
            return
        key = (self.site, *(self._label(v) for v in labels))
        if key in self.seen:  # two raw values written as the same text: keep the first
            return
        self.seen.add(key)
        self.metric.add_metric(key, number)


class _SnapshotCollector:
    def __init__(self, snap: Snapshot, status: FeedStatus, config: Config) -> None:
        self.snap, self.status, self.config = snap, status, config
        self.site = label_value(snap.site_name)
        self.families: list[_Family] = []
        self.labels: dict[str | None, str] = {}  # label values as written, shared by families

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> _Family:
        return self._family(GaugeMetricFamily(name, documentation, labels=["site", *labels]))

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> _Family:
        """`name` without `_total`; the exposition adds it."""
        return self._family(CounterMetricFamily(name, documentation, labels=["site", *labels]))

    def _family(self, metric: GaugeMetricFamily | CounterMetricFamily) -> _Family:
        family = _Family(metric, self.site, self.labels)
        self.families.append(family)
        return family

    def collect(self) -> Iterator[Metric]:
        self.families = []
        self._board()
        self._queues(self.snap.queues)
        self._responses(self.snap.queues)
        for kind, label in _ROLLUP_LABELS.items():
            self._rollups(kind, label, [r for r in self.snap.rollups if r.by == kind])
        self._floor()
        if self.config.api.agent_metrics:
            self._agents(self.snap.agents)
        self._alerts()
        self._feed()
        # A family with no series is left out (e.g. no queue has a required-agents figure).
        return (f.metric for f in self.families if f.metric.samples)

    def _board(self) -> None:
        snap = self.snap
        self.gauge("wallboard_snapshot_timestamp_seconds",
                   "The snapshot's as_of: the newest event time folded or the latest advance, "
                   "Unix time").add(None if snap.as_of_ms is None else snap.as_of_ms / 1000)
        self.gauge("wallboard_newest_event_timestamp_seconds",
                   "Event time of the newest event folded, Unix time"
                   ).add(_epoch_s(snap.newest_event_at))
        self.gauge("wallboard_business_day_start_timestamp_seconds",
                   "Start of the business day the today counts cover, Unix time"
                   ).add(_epoch_s(snap.business_day_start))
        self.gauge("wallboard_window_seconds",
                   "Length of the rolling window behind period=\"window\" and the "
                   "wallboard_queue_window_* counts").add(self.config.board.window_minutes * 60)
        self.counter("wallboard_events_applied", "Events folded into the board"
                     ).add(snap.events_applied)
        rejected = self.counter("wallboard_events_rejected",
                                "Entries rejected, by reason (docs/events.md)", ["reason"])
        for reason in (*REASONS, *sorted(set(snap.events_rejected) - set(REASONS))):
            rejected.add(snap.events_rejected.get(reason, 0), reason)
        self.counter("wallboard_events_duplicate",
                     "Entries skipped as duplicates of an idempotency key already folded"
                     ).add(snap.events_duplicate)

    def _queues(self, queues: Iterable[QueueSnapshot]) -> None:
        info = self.gauge("wallboard_queue_info", "Always 1: the queue's kind and "
                          "service-level formula", ["queue", "kind", "sl_formula"])
        waiting = self.gauge("wallboard_queue_waiting", "Contacts waiting in the queue now",
                             ["queue"])
        longest = self.gauge("wallboard_queue_longest_wait_seconds",
                             "How long the oldest waiting contact has waited; 0 when nobody "
                             "waits", ["queue"])
        threshold = self.gauge("wallboard_queue_service_level_threshold_seconds",
                               "The queue's service-level answer threshold", ["queue"])
        target = self.gauge("wallboard_queue_service_level_target_ratio",
                            "The queue's service-level target", ["queue"])
        today = {word: self.counter(f"wallboard_queue_{word}", f"{text}, this business day "
                                    "(resets at the business day's start)", ["queue", "period"])
                 for key, word, text in _COUNTS}  # fmt: skip
        window = {word: self.gauge(f"wallboard_queue_window_{word}",
                                   f"{text}, in the rolling window (wallboard_window_seconds)",
                                   ["queue"])
                  for key, word, text in _COUNTS}  # fmt: skip
        service_level = self.gauge("wallboard_queue_service_level_ratio",
                                   "Service level by the configured formula; absent while its "
                                   "denominator is empty", ["queue", "period"])
        abandon = self.gauge("wallboard_queue_abandon_ratio", "Abandoned / (answered + "
                             "abandoned); absent while both are 0", ["queue", "period"])
        asa = self.gauge("wallboard_queue_asa_seconds", "Average speed of answer: mean wait of "
                         "answered contacts; absent without answers", ["queue", "period"])
        aht = self.gauge("wallboard_queue_aht_seconds", "Average handle time, answer to "
                         "completion (wrap-up included); absent without samples",
                         ["queue", "period"])
        staffed = self.gauge("wallboard_queue_agents_staffed",
                             "Agents serving the queue who are not logged out", ["queue"])
        available = self.gauge("wallboard_queue_agents_available",
                               "Agents serving the queue who are available (idle)", ["queue"])
        working = self.gauge("wallboard_queue_agents_working", "Agents serving the queue who "
                             "are available, busy or in wrap-up (Erlang C's N)", ["queue"])
        required = self.gauge("wallboard_queue_agents_required", "Agents Erlang C needs for "
                              "the window's traffic at target; absent without data", ["queue"])
        gap = self.gauge("wallboard_queue_agents_gap", "Required minus working agents; above "
                         "0: short of agents. Absent without data", ["queue"])
        questions = self.gauge("wallboard_queue_questions_last_hour",
                               "Customer questions (contact.message) in the last hour",
                               ["queue"])
        for q in queues:
            name = q.queue
            info.add(1, name, q.kind, q.sl_formula)
            waiting.add(q.waiting, name)
            longest.add(q.longest_wait_s, name)
            threshold.add(q.sl_threshold_s, name)
            target.add(q.sl_target, name)
            for key, word, _text in _COUNTS:
                today[word].add(getattr(q.today, key), name, "today")
                window[word].add(getattr(q.window, key), name)
            periods: tuple[tuple[str, Period], ...] = (("today", q.today), ("window", q.window))
            for period, counts in periods:
                service_level.add(counts.service_level, name, period)
                abandon.add(counts.abandon_rate, name, period)
                asa.add(counts.asa_s, name, period)
                aht.add(counts.aht_s, name, period)
            staffed.add(q.agents_staffed, name)
            available.add(q.agents_available, name)
            working.add(q.agents_working, name)
            required.add(q.required_agents, name)
            gap.add(q.staffed_gap, name)
            questions.add(q.questions_last_hour, name)

    def _responses(self, queues: Iterable[QueueSnapshot]) -> None:
        """Response rounds per queue; absent where no reply came this business day."""
        record = self._round_families("wallboard_queue", ["queue"])
        for q in queues:
            record(q.queue, q.open_rounds, q.oldest_open_round_s, q.today, q.window)

    def _round_families(self, prefix: str, labels: list[str]) -> Callable[..., None]:
        open_rounds = self.gauge(f"{prefix}_open_rounds", "Response rounds open now: customer "
                                 "questions waiting for the shop's reply", labels)
        oldest = self.gauge(f"{prefix}_oldest_open_round_seconds", "Age of the oldest open "
                            "response round; 0 when none", labels)
        rate = self.gauge(f"{prefix}_response_rate_ratio", "Response rounds answered within "
                          "the threshold over rounds settled", [*labels, "period"])
        average = self.gauge(f"{prefix}_response_avg_seconds", "Mean response time of the "
                             "rounds settled, unanswered ones as the cap", [*labels, "period"])
        first = self.gauge(f"{prefix}_first_response_seconds", "Mean response time of the "
                           "contacts' first rounds", [*labels, "period"])
        today = {word: self.counter(f"{prefix}_{word}", f"{text}, this business day",
                                    [*labels, "period"]) for key, word, text in _ROUNDS}
        window = {word: self.gauge(f"{prefix}_window_{word}", f"{text}, in the rolling window",
                                   labels) for key, word, text in _ROUNDS}  # fmt: skip

        def record(name: str | None, open_now: int | None, oldest_s: float | None,
                   day: Period, rolling: Period) -> None:  # fmt: skip
            keys = () if name is None else (name,)
            open_rounds.add(open_now, *keys)
            oldest.add(oldest_s, *keys)
            for period, counts in (("today", day), ("window", rolling)):
                response = counts.response
                if response is None:
                    continue
                rate.add(response.response_rate, *keys, period)
                average.add(response.avg_response_s, *keys, period)
                first.add(response.first_response_s, *keys, period)
                for key, word, _text in _ROUNDS:
                    if period == "today":
                        today[word].add(getattr(response, key), *keys, period)
                    else:
                        window[word].add(getattr(response, key), *keys)

        return record

    def _rollups(self, kind: str, label: str | None, rollups: list[RollupSnapshot]) -> None:
        """`wallboard_floor_*`, `wallboard_group_*{group}`, `wallboard_shop_*{shop}` and
        `wallboard_channel_*{channel}`: the queues combined from summed counts."""
        prefix = f"wallboard_{kind}"
        labels = [] if label is None else [label]
        what = "the floor" if label is None else f"the {label}"
        waiting = self.gauge(f"{prefix}_waiting", f"Contacts waiting now, {what}", labels)
        longest = self.gauge(f"{prefix}_longest_wait_seconds",
                             f"How long the oldest waiting contact has waited, {what}", labels)
        today = {word: self.counter(f"{prefix}_{word}", f"{text}, this business day, {what}",
                                    [*labels, "period"]) for key, word, text in _COUNTS}
        window = {word: self.gauge(f"{prefix}_window_{word}",
                                   f"{text}, in the rolling window, {what}", labels)
                  for key, word, text in _COUNTS}  # fmt: skip
        service_level = self.gauge(f"{prefix}_service_level_ratio", "Service level over the "
                                   f"summed counts (the default formula), {what}",
                                   [*labels, "period"])
        abandon = self.gauge(f"{prefix}_abandon_ratio", f"Abandoned / (answered + abandoned), "
                             f"{what}", [*labels, "period"])
        record_rounds = self._round_families(prefix, labels)
        for r in rollups:
            keys = () if label is None else (r.name,)
            waiting.add(r.waiting, *keys)
            longest.add(r.longest_wait_s, *keys)
            for key, word, _text in _COUNTS:
                today[word].add(getattr(r.today, key), *keys, "today")
                window[word].add(getattr(r.window, key), *keys)
            for period, counts in (("today", r.today), ("window", r.window)):
                service_level.add(counts.service_level, *keys, period)
                abandon.add(counts.abandon_rate, *keys, period)
            record_rounds(None if label is None else r.name, r.open_rounds,
                          r.oldest_open_round_s, r.today, r.window)  # fmt: skip

    def _floor(self) -> None:
        snap = self.snap
        by_state = self.gauge("wallboard_agents", "Agents on the floor by state (every state "
                              "always present)", ["state"])
        for state in (*AGENT_STATES, *sorted(set(snap.floor.by_state) - set(AGENT_STATES))):
            by_state.add(snap.floor.by_state.get(state, 0), state)
        self.gauge("wallboard_agents_staffed", "Agents in any state but logged_out"
                   ).add(snap.floor.staffed)
        self.gauge("wallboard_agents_known", "Agents the board has seen"
                   ).add(snap.floor.agents_known)
        shops: dict[str, int] = {}
        for agent in snap.agents:
            if agent.state not in (None, "logged_out"):
                for shop in set(agent.shops):
                    shops[shop] = shops.get(shop, 0) + 1
        per_shop = self.gauge("wallboard_shop_agents",
                              "Agents not logged out who are logged into the shop", ["shop"])
        for shop in sorted(shops):
            per_shop.add(shops[shop], shop)
        bots = snap.bots
        self.counter("wallboard_bot_resolved", "Contacts a bot resolved, this business day",
                     ["period"]).add(bots.resolved_today, "today")
        self.counter("wallboard_bot_escalated", "Contacts a bot handed to the queues (offers "
                     "with via=bot), this business day", ["period"]
                     ).add(bots.escalated_today, "today")
        self.gauge("wallboard_bot_containment_ratio", "Resolved / (resolved + escalated); "
                   "absent while both are 0", ["period"]).add(bots.containment_today, "today")
        callouts = self.gauge("wallboard_callouts", "Reserve callouts of the business day: "
                              "active, and overdue (a callee neither answered nor logged in "
                              "in time)", ["status"])
        callouts.add(sum(1 for c in snap.callouts if c.active), "active")
        callouts.add(sum(1 for c in snap.callouts if c.overdue), "overdue")
        recommended = self.gauge("wallboard_callout_recommended_agents",
                                 "Reserve agents the board suggests calling in", ["queue"])
        for rec in snap.callout_recommendations:
            recommended.add(rec.agents_needed, rec.queue)

    def _agents(self, agents: Iterable[AgentSnapshot]) -> None:
        handled = self.gauge("wallboard_agent_handled_today",
                             "Contacts the agent answered this business day", ["agent"])
        last_hour = self.gauge("wallboard_agent_handled_last_hour",
                               "Contacts the agent answered in the last hour", ["agent"])
        completed = self.gauge("wallboard_agent_completed_today",
                               "Contacts the agent completed this business day", ["agent"])
        projected = self.gauge("wallboard_agent_projected_today", "handled_today plus the "
                               "last hour's pace over the rest of the shift", ["agent"])
        messages = self.gauge("wallboard_agent_messages_last_hour",
                              "Customer questions attributed to the agent in the last hour",
                              ["agent"])
        in_state = self.gauge("wallboard_agent_state_seconds", "Time in the current state; "
                              "one series per agent, labelled with that state",
                              ["agent", "state"])
        shops = self.gauge("wallboard_agent_shops", "Shops the agent is logged into", ["agent"])
        info = self.gauge("wallboard_agent_info",
                          "Always 1: the agent's team and pool (no name: see the docs)",
                          ["agent", "team", "pool"])
        for a in agents:
            handled.add(a.handled_today, a.agent)
            last_hour.add(a.handled_last_hour, a.agent)
            completed.add(a.completed_today, a.agent)
            projected.add(a.projected_today, a.agent)
            messages.add(a.messages_last_hour, a.agent)
            if a.state is not None:
                in_state.add(a.time_in_state_s, a.agent, a.state)
            shops.add(len(a.shops), a.agent)
            info.add(1, a.agent, a.team, a.pool)

    def _alerts(self) -> None:
        active = [a for a in self.snap.alerts if a.cleared_at_ms is None]
        by_severity = self.gauge("wallboard_alerts_active", "Alerts raised and not cleared, by "
                                 "current severity (both always present)", ["severity"])
        unacked = self.gauge("wallboard_alerts_unacknowledged", "Active alerts nobody has "
                             "acknowledged, by severity", ["severity"])
        for severity in (*SEVERITIES, *sorted({a.severity for a in active} - set(SEVERITIES))):
            by_severity.add(sum(1 for a in active if a.severity == severity), severity)
            unacked.add(sum(1 for a in active if a.severity == severity and a.acked_by is None),
                        severity)  # fmt: skip
        by_rule = self.gauge("wallboard_alerts_active_by_rule",
                             "Active alerts by rule and severity (only those with any)",
                             ["rule", "severity"])
        counts: dict[tuple[str, str], int] = {}
        for a in active:
            counts[a.rule, a.severity] = counts.get((a.rule, a.severity), 0) + 1
        for (rule, severity), count in sorted(counts.items()):
            by_rule.add(count, rule, severity)

    def _feed(self) -> None:
        status = self.status
        self.gauge("wallboard_feed_up", "1 while the feed is connected and following, else 0"
                   ).add(1 if status.state == "connected" else 0)
        state = self.gauge("wallboard_feed_state", "The feed's state as an enum: 1 for the "
                           "current state, 0 for the others", ["state"])
        for name in FEED_STATES:
            state.add(1 if status.state == name else 0, name)
        self.gauge("wallboard_feed_lag_seconds", "Now minus the newest event's own time; "
                   "absent until an event is read").add(status.lag_s)
        self.gauge("wallboard_feed_events_per_second", "Entries read per second, recently"
                   ).add(status.events_per_s)
        self.gauge("wallboard_feed_last_data_timestamp_seconds", "Wall-clock time the newest "
                   "entry was read, Unix time").add(
            None if status.last_data_ms is None else status.last_data_ms / 1000)
        self.gauge("wallboard_feed_state_since_timestamp_seconds", "Wall-clock time the "
                   "current state began, Unix time").add(
            None if status.since_ms is None else status.since_ms / 1000)
