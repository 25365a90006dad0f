"""The board fold: a pure, IO-free state that turns events into the numbers the floor sees.

Time comes only from events and from `advance(now)`; `as_of` is the latest of both, so the
same events and the same `advance` calls always give the same snapshot (replay relies on it).
docs/metrics.md defines every number; docs/events.md the contact lifecycle rules used here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from mypy_extensions import mypyc_attr

from wallboard.core import events as ev
from wallboard.core.alerts import AlertEngine
from wallboard.core.businessday import BusinessCalendar, BusinessDay
from wallboard.core.config import Config
from wallboard.core.events import Event, Rejection
from wallboard.core.future_rule import future_limit_ms, future_rejection
from wallboard.core.ordering import EntryGate, KeyMemory
from wallboard.core.reserve import CalloutBook
from wallboard.core.state import HANDLING, WAITING, AgentState, Contact, QueueState

RECENT_REJECTIONS: Final = 20
# Later than any event time, and a short int to mypyc (under 2**62): compares stay native.
_NEVER: Final = 1 << 60
SECOND_MS: Final = 1000
MINUTE_MS: Final = 60_000
# Every agent's rules (projections, and the decay of the hourly counts) are judged this
# often; an event re-judges its agent at the next second.
AGENT_SWEEP_MS: Final = 5 * MINUTE_MS
# After a quiet gap longer than this, alert rules are evaluated every second for its first
# part and again for its last minute only (a board idle overnight does not replay the night).
MAX_GAP_EVALUATIONS: Final = 900


# Pickled by replay checkpoints, and built from Python code: mypyc (2.4.1) runs the
# __init__ of a serializable class called from Python only when it allows subclasses there.
@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class BoardState:
    """Fold events into board state; `wallboard.core.snapshot.build_snapshot` reads it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.calendar = BusinessCalendar(config.tz, config.day_start, config.shift_spans)
        self.window_ms = config.board.window_minutes * 60_000
        self.max_future_s = config.board.max_future_s
        horizon_ms = round(config.board.dedup_window_minutes * 60_000)
        self.as_of = 0
        self.clock: int | None = None  # the latest advance(), for the future-time check
        self.day: BusinessDay | None = None
        self.queues: dict[str, QueueState] = {}
        self.agents: dict[str, AgentState] = {}
        self.contacts: dict[str, Contact] = {}
        self.events_applied = 0
        self.events_duplicate = 0
        self.rejected: dict[str, int] = dict.fromkeys(ev.REASONS, 0)
        self.recent_rejections: deque[Rejection] = deque(maxlen=RECENT_REJECTIONS)
        self.keys = KeyMemory(horizon_ms)
        self.gate = EntryGate(horizon_ms)
        self.bot_resolved_today = 0
        self.escalated_today = 0
        self._newest = 0  # the newest event time folded; 0: none yet
        self._future_limit = _NEVER  # clock + max_future once advance() gave a clock
        self._day_start = _NEVER  # the business day's bounds, cached for the hot path
        self._day_end = 0
        self.alerts = AlertEngine(config)
        self._agent_watch = self.alerts.agent_watch()
        self.reserve = CalloutBook(config)
        # Touched since the last alert evaluation, in the order touched (deterministic).
        self.dirty_agents: dict[str, AgentState] = {}
        self._next_eval = 0  # the next whole second the alert rules are evaluated at
        self._next_agents_eval = 0  # when every agent's rules are next evaluated
        self.first_event_ts = 0
        for name in config.queues:
            self._queue(name)

    @property
    def newest_event_ts(self) -> int | None:
        return self._newest or None

    # ---- entry points -------------------------------------------------------------------

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason] += 1
        self.recent_rejections.append(rejection)

    def duplicate(self) -> None:
        self.events_duplicate += 1

    def apply(self, event: Event) -> bool:
        """Fold one decoded event; False when it was not applied (duplicate or future)."""
        ts = event.ts
        if ts > self._future_limit:
            self.reject(future_rejection(ts, self.max_future_s, event.entry_id))
            return False
        key = event.key
        if key is not None and self.keys.seen_before(key, ts):
            self.events_duplicate += 1
            return False
        if ts > self.as_of:
            if ts > self._next_eval:
                self._evaluate_before(ts)
            self.as_of = ts
            if ts >= self._day_end:
                self._start_day(self.calendar.day_of(ts))
        self.events_applied += 1
        if ts > self._newest:  # noqa: PLR1730  (max() is slower on this hot path)
            self._newest = ts
        _HANDLERS[event.type](self, event)
        return True

    def apply_all(self, items: Iterable[Event | Rejection]) -> None:
        for item in items:
            if isinstance(item, Event):
                self.apply(item)
            else:
                self.reject(item)

    def advance(self, now: int) -> None:
        """Move the board's clock; windows and the business day follow."""
        if self.clock is None or now > self.clock:
            self.clock = now
            self._future_limit = future_limit_ms(now, self.max_future_s)
        if now > self.as_of:
            self._move_to(now)

    def settle(self) -> None:
        """Bring the queues' counts up to `as_of` (done before every snapshot): count what was
        folded since the last settle, drop what left the rolling windows."""
        as_of, day_start = self.as_of, self._day_start
        for queue in self.queues.values():
            queue.ledger.settle(day_start, as_of)
        self.keys.forget_before(as_of)
        self.gate.forget_before(as_of)

    # ---- time ---------------------------------------------------------------------------

    def _move_to(self, ts: int) -> None:
        if ts >= self._next_eval:
            self._evaluate_before(ts + 1)
        self.as_of = ts
        if ts >= self._day_end:
            self._start_day(self.calendar.day_of(ts))

    def _start_day(self, day: BusinessDay) -> None:
        for queue in self.queues.values():  # count the old day's records into the old day
            queue.ledger.settle(self._day_start, self.as_of)
            queue.ledger.start_day()
        self.day = day
        self._day_start = day.start_ms
        self._day_end = day.end_ms
        for agent in self.agents.values():
            agent.reset_day(day)
        self.alerts.start_day(day.date)
        self.reserve.start_day(day.start_ms)
        self.bot_resolved_today = 0
        self.escalated_today = 0

    def _evaluate_before(self, limit: int) -> None:
        """Evaluate the alert rules at every whole second before `limit` not yet evaluated,
        each on the state as it stood then (everything folded up to that second)."""
        at = self._next_eval
        if at == 0:  # the first event: nothing to judge before it
            self.first_event_ts = limit
            self._next_eval = -(-limit // SECOND_MS) * SECOND_MS
            return
        last = (limit - 1) // SECOND_MS * SECOND_MS
        if (last - at) // SECOND_MS > MAX_GAP_EVALUATIONS:
            self._evaluate_range(at, at + MAX_GAP_EVALUATIONS * SECOND_MS)
            at = max(at, last - MINUTE_MS)
        self._evaluate_range(at, last)
        self._next_eval = last + SECOND_MS

    def _evaluate_range(self, first: int, last: int) -> None:
        alerts = self.alerts
        for at in range(first, last + 1, SECOND_MS):
            if at > self.as_of:
                self.as_of = at
                if at >= self._day_end:
                    self._start_day(self.calendar.day_of(at))
            day_start = self._day_start
            # A queue with nobody waiting, no count changed and no alert or pending one has
            # nothing to judge (most of a quiet night, or a queue closed for the day).
            judged = [queue for queue in self.queues.values()
                      if queue.ledger.settle(day_start, at) or queue.waiting
                      or alerts.watching(queue.name)]  # fmt: skip
            alerts.evaluate_queues(judged, at)
            if at >= self._next_agents_eval:
                alerts.evaluate_agents(self.agents.values(), at,
                                       (self.calendar, self.day, self.as_of))  # fmt: skip
                self._next_agents_eval = at - at % AGENT_SWEEP_MS + AGENT_SWEEP_MS
                self.dirty_agents.clear()
            elif self.dirty_agents:
                alerts.evaluate_agents(self.dirty_agents.values(), at)
                self.dirty_agents.clear()

    def _in_today(self, ts: int) -> bool:
        return ts >= self._day_start

    # ---- records ------------------------------------------------------------------------

    def _queue(self, name: str) -> QueueState:
        queue = self.queues.get(name)
        if queue is None:
            queue = QueueState(name, self.config.queue_rules(name), self.window_ms)
            self.queues[name] = queue
        return queue

    def _agent(self, agent_id: str) -> AgentState:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = AgentState(agent_id)
            self.agents[agent_id] = agent
        return agent

    def _queue_of(self, contact: Contact) -> QueueState | None:
        """The record of the contact's queue (made when first needed, as by name)."""
        queue = contact.queue_state
        if queue is None and contact.queue is not None:
            queue = contact.queue_state = self.queues.get(contact.queue) \
                or self._queue(contact.queue)  # fmt: skip
        return queue

    def _agent_of(self, contact: Contact) -> AgentState | None:
        """The record of the agent handling the contact (made when first needed)."""
        agent = contact.agent_state
        if agent is None and contact.agent:  # as `contact.agent or event.agent` reads it
            agent = contact.agent_state = self.agents.get(contact.agent) \
                or self._agent(contact.agent)  # fmt: skip
        return agent

    def _offer(self, contact_id: str, queue_name: str, channel: str, shop: str | None,
               ts: int) -> None:  # fmt: skip
        queue = self.queues.get(queue_name) or self._queue(queue_name)
        self.contacts[contact_id] = Contact(queue_name, channel, shop, ts, queue_state=queue)
        queue.waiting[contact_id] = ts
        queue.ledger.offer(ts)

    def _leave_queue(self, contact_id: str, contact: Contact) -> QueueState:
        queue: QueueState = self._queue_of(contact)  # type: ignore[assignment]  # waiting
        del queue.waiting[contact_id]
        return queue

    def _end_handling(self, contact: Contact, ts: int) -> None:
        queue = self._queue_of(contact)
        if queue is not None:
            handle_ms = ts - contact.answered_at
            queue.ledger.handle(ts, handle_ms if handle_ms > 0 else 0)

    def _answer(self, contact_id: str, contact: Contact, agent_id: str | None, ts: int) -> None:
        queue = self._leave_queue(contact_id, contact)
        wait = max(ts - contact.offered_at, 0)
        queue.ledger.answer(ts, wait, 1 if wait <= queue.threshold_ms else 0)
        contact.status = HANDLING
        contact.answered_at = ts
        contact.agent = agent_id
        contact.agent_state = None if agent_id is None else self._agent_handled(agent_id, ts)

    def _agent_handled(self, agent_id: str, ts: int) -> AgentState:
        agent = self.agents.get(agent_id) or self._agent(agent_id)
        if ts >= self._day_start:
            agent.handled_today += 1
        agent.answers.add(ts)
        self._touched(agent)
        return agent

    def _touched(self, agent: AgentState) -> None:
        """Judge the agent's rules at the next second when one of them could speak: a value
        above its warn level (the question ring's length bounds its count) or an alert or
        pending raise on it. Skipping the others changes nothing: their rules would skip."""
        high, questions, shops, high_tracks, question_tracks, shop_tracks = self._agent_watch
        ring = agent.messages
        agent_id = agent.agent
        if agent.handled_today > high or ring.upper_count() > questions \
                or len(agent.shops) > shops or agent_id in high_tracks \
                or agent_id in question_tracks or agent_id in shop_tracks:  # fmt: skip
            self.dirty_agents[agent_id] = agent

    # ---- event handlers -----------------------------------------------------------------

    def _offered(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]  # required by the contract
        queue_name: str = event.queue  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.get(contact_id)
        channel = event.channel
        if contact is not None:
            if contact.status == WAITING:
                if contact.queue == queue_name:
                    return  # already waiting here: a repeated offer changes nothing
                # Re-offered elsewhere while waiting: the first queue lost it to a transfer.
                left = self._leave_queue(contact_id, contact)
                left.ledger.transfer_out(ts)
            else:
                self._end_handling(contact, ts)  # back in a queue after handling
            channel = channel or contact.channel
        if event.via == "bot" and self._in_today(ts):
            self.escalated_today += 1
        self._offer(contact_id, queue_name, channel or "other", event.shop, ts)

    def _answered(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.get(contact_id)
        if contact is None:
            # No offer seen: the agent handled it, but the queue cannot time its wait.
            agent_id: str = event.agent  # type: ignore[assignment]  # required by the contract
            self.contacts[contact_id] = Contact(event.queue, event.channel or "other", event.shop,
                                                ts, HANDLING, agent_id, ts, None,
                                                self._agent_handled(agent_id, ts))  # fmt: skip
        elif contact.status == WAITING:
            self._answer(contact_id, contact, event.agent, ts)
        elif event.agent != contact.agent:
            contact.agent = event.agent  # taken over by another agent: not a new contact
            contact.agent_state = None

    def _abandoned(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        contact = self.contacts.get(contact_id)
        if contact is None or contact.status != WAITING:
            return  # nobody was waiting: nothing to count
        ts = event.ts
        queue = self._leave_queue(contact_id, contact)
        wait = max(0, ts - contact.offered_at)
        queue.ledger.abandon(ts, 1 if wait < queue.short_ms else 0,
                             1 if wait <= queue.threshold_ms else 0)  # fmt: skip
        del self.contacts[contact_id]

    def _completed(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.pop(contact_id, None)
        agent_id = event.agent
        agent: AgentState | None = None
        if contact is not None:
            if contact.status == WAITING:
                # Finished without an answer event: it was answered at the latest now.
                self._answer(contact_id, contact, agent_id, ts)
            else:
                self._end_handling(contact, ts)
            if not agent_id or agent_id == contact.agent:
                agent_id = contact.agent
                agent = contact.agent_state
        if agent_id is None or ts < self._day_start:
            return
        if agent is None:
            agent = self.agents.get(agent_id) or self._agent(agent_id)
        agent.completed_today += 1
        if event.outcome is not None:
            agent.outcomes_today += 1
            if event.outcome == "order":
                agent.orders_today += 1
        if event.value is not None:
            agent.order_value_today += event.value
        if event.rating is not None:
            agent.rating_sum += event.rating
            agent.rating_count += 1

    def _transferred(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.get(contact_id)
        channel = event.channel
        shop = event.shop
        if contact is not None:
            if contact.status == WAITING:
                left = self._leave_queue(contact_id, contact)
                left.ledger.transfer_out(ts)
            else:
                self._end_handling(contact, ts)
            channel = channel or contact.channel
            shop = shop or contact.shop
        self._offer(contact_id, event.to_queue, channel or "other", shop, ts)  # type: ignore[arg-type]

    def _message(self, event: Event) -> None:
        ts = event.ts
        contact = self.contacts.get(event.contact)  # type: ignore[arg-type]
        queue: QueueState | None = None
        agent: AgentState | None = None
        if contact is not None:
            queue = self._queue_of(contact)
            agent = self._agent_of(contact)
            agent_id = contact.agent or event.agent
        else:
            queue_name, agent_id = event.queue, event.agent
            if queue_name is not None:
                queue = self.queues.get(queue_name) or self._queue(queue_name)
        if queue is not None:
            queue.messages.add(ts)
        if agent is None and agent_id is not None:
            agent = self.agents.get(agent_id) or self._agent(agent_id)
        if agent is not None:
            agent.messages.add(ts)
            self._touched(agent)

    def _bot_resolved(self, event: Event) -> None:
        if self._in_today(event.ts):
            self.bot_resolved_today += 1

    def _agent_state(self, event: Event) -> None:
        agent = self._agent(event.agent)  # type: ignore[arg-type]
        ts = event.ts
        state: str = event.state  # type: ignore[assignment]
        if state != agent.state:
            agent.state = state
            agent.state_since = ts
        if event.name is not None:
            agent.name = event.name
        if event.team is not None:
            agent.team = event.team
        if event.level is not None:
            agent.level = event.level
        if event.pool is not None:
            agent.pool = event.pool
        if event.shops is not None:
            agent.shops = event.shops
        if event.queues is not None:
            agent.queues = event.queues or None
        if state != "logged_out" and agent.first_login is None and self._in_today(ts):
            agent.first_login = ts
        self.dirty_agents[agent.agent] = agent
        self.reserve.agent_state(agent.agent, state, ts)

    def _alert_ack(self, event: Event) -> None:
        self.alerts.ack(event.alert, event.by, event.ts)  # type: ignore[arg-type]

    def _callout(self, event: Event) -> None:
        self.reserve.call(event.callout, event.queue, event.agents, event.by,  # type: ignore[arg-type]
                          event.ts)

    def _callout_response(self, event: Event) -> None:
        self.reserve.respond(event.callout, event.agent, event.response,  # type: ignore[arg-type]
                             event.ts)


# Plain functions, not bound methods: a state holding its own bound methods is a reference
# cycle, which only a full collection frees (each state a replay seek drops).
_HANDLERS: Final[dict[str, Callable[[BoardState, Event], None]]] = {
    ev.OFFERED: BoardState._offered,
    ev.ANSWERED: BoardState._answered,
    ev.ABANDONED: BoardState._abandoned,
    ev.COMPLETED: BoardState._completed,
    ev.TRANSFERRED: BoardState._transferred,
    ev.MESSAGE: BoardState._message,
    ev.BOT_RESOLVED: BoardState._bot_resolved,
    ev.AGENT_STATE: BoardState._agent_state,
    ev.ALERT_ACK: BoardState._alert_ack,
    ev.CALLOUT: BoardState._callout,
    ev.CALLOUT_RESPONSE: BoardState._callout_response,
}
