"""The board fold: a pure, IO-free state that turns events into the numbers the floor sees.

Time comes only from events and from `advance(now)`; `as_of` is the latest of both, so the
same events and the same `advance` calls always give the same snapshot (replay relies on it).
docs/metrics.md defines every number; docs/events.md the contact lifecycle rules used here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from heapq import heappop, heappush
from typing import Final

from mypy_extensions import mypyc_attr

from wallboard.core import events as ev
from wallboard.core.alerts import AlertEngine
from wallboard.core.businessday import BusinessCalendar, BusinessDay
from wallboard.core.complaints import ComplaintBook
from wallboard.core.config import Config
from wallboard.core.events import Event, Rejection
from wallboard.core.future_rule import future_limit_ms, future_rejection
from wallboard.core.metrics import COUNT_AT_END, QueueLedger
from wallboard.core.ordering import EntryGate, KeyMemory
from wallboard.core.reserve import CalloutBook
from wallboard.core.state import HANDLING, NO_ROUND, WAITING, AgentState, Contact, QueueState

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
NO_SHOP: Final = "-"  # the shop rollup of contacts that name no shop
# The `offered_at` of a contact answered without an offer seen: no queue counted its answer.
NOT_OFFERED: Final = -1


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
        # Complaints keep their own time (days, not the business day): docs/metrics.md.
        self.complaints = ComplaintBook(config.complaints)
        # Touched since the last alert evaluation, in the order touched (deterministic).
        self.dirty_agents: dict[str, AgentState] = {}
        self._next_eval = 0  # the next whole second the alert rules are evaluated at
        self._next_agents_eval = 0  # when every agent's rules are next evaluated
        self.first_event_ts = 0
        # Response rounds (docs/metrics.md): the channels that have them, whether bot replies
        # close them, and every open round's cap as (deadline, opened at, contact), a heap;
        # an entry whose round closed earlier is skipped when it comes up.
        self.response_channels = config.response_channels
        self.count_bot_replies = config.response.count_bot_replies
        self.round_deadlines: list[tuple[int, int, str]] = []
        self._next_deadline = _NEVER
        self.replied_today = False  # a `contact.reply` came this business day
        self.rounds_opened = 0  # every round ever opened (the settled-once law's ledger)
        # The counts of every queue again by the contacts' (shop, channel), for the rollups: a
        # shop's or a channel's numbers are the sums of its cells (one ledger per record
        # instead of one per shop and one per channel: docs/performance.md).
        self.cell_ledgers: dict[tuple[str, str], QueueLedger] = {}
        # Answers are counted again when their handling ends only where a service level counts
        # them then (`count_at = "end"`, the board's or a queue's): no cost otherwise.
        self.count_ends = config.service_level.count_at == COUNT_AT_END or any(
            section.count_at == COUNT_AT_END for section in config.queues.values())
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
        if event.type in _CLOCKLESS:
            # A complaint event moves no clock: its stream is read days back, and the board's
            # day, windows and alert rules must not replay those days.
            self.events_applied += 1
            if ts > self._newest:  # noqa: PLR1730
                self._newest = ts
            self.complaints.apply(event)
            return True
        if ts > self.as_of:
            if ts > self._next_eval:
                self._evaluate_before(ts)
            self._move_as_of(ts)
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
        """Bring the queues' counts up to `as_of` (done before every snapshot): settle the
        response rounds whose cap passed before it, count what was folded since the last
        settle, drop what left the rolling windows."""
        as_of, day_start = self.as_of, self._day_start
        if as_of > self._next_deadline:
            self._expire_rounds(as_of)
        for ledger in self._ledgers():
            ledger.settle(day_start, as_of)
        self.keys.forget_before(as_of)
        self.gate.forget_before(as_of)
        self.complaints.forget(as_of, day_start)

    # ---- time ---------------------------------------------------------------------------

    def _move_to(self, ts: int) -> None:
        if ts >= self._next_eval:
            self._evaluate_before(ts + 1)
        self._move_as_of(ts)

    def _move_as_of(self, ts: int) -> None:
        """`as_of` to `ts` (later than it): rounds capped before `ts` settle, in the business
        day their cap falls in, and a new day starts when `ts` is in it."""
        if ts > self._next_deadline:
            self._expire_rounds(ts)
        self.as_of = ts
        if ts >= self._day_end:
            self._start_day(self.calendar.day_of(ts))
            if ts > self._next_deadline:
                self._expire_rounds(ts)

    def _ledgers(self) -> list[QueueLedger]:
        return [*(queue.ledger for queue in self.queues.values()),
                *self.cell_ledgers.values()]  # fmt: skip

    def _start_day(self, day: BusinessDay) -> None:
        for ledger in self._ledgers():  # count the old day's records into the old day
            ledger.settle(self._day_start, self.as_of)
            ledger.start_day()
        self.day = day
        self._day_start = day.start_ms
        self._day_end = day.end_ms
        for agent in self.agents.values():
            agent.reset_day(day)
        self.alerts.start_day(day.date)
        self.reserve.start_day(day.start_ms)
        self.bot_resolved_today = 0
        self.escalated_today = 0
        self.replied_today = False

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
                self._move_as_of(at)
            day_start = self._day_start
            # A queue with nobody waiting or no open round, no count changed and no alert or
            # pending one has nothing to judge (most of a quiet night, or a closed queue).
            judged = [queue for queue in self.queues.values()
                      if queue.ledger.settle(day_start, at) or queue.waiting
                      or queue.open_rounds or alerts.watching(queue.name)]  # fmt: skip
            alerts.evaluate_queues(judged, at)
            alerts.evaluate_complaints(self.complaints.overdue_count(at), at)
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
               ts: int, rounds: int = 0) -> None:  # fmt: skip
        """The contact waits in the queue from `ts`; on a response channel a round opens
        (`rounds`: the rounds it had before, in the queue it left)."""
        queue = self.queues.get(queue_name) or self._queue(queue_name)
        contact = Contact(queue_name, channel, shop, ts, queue_state=queue, rounds=rounds)
        self.contacts[contact_id] = contact
        queue.waiting[contact_id] = ts
        queue.ledger.offer(ts)
        self._cell(contact).offer(ts)
        if channel in self.response_channels:
            self._open_round(contact_id, contact, queue, ts)

    def _cell(self, contact: Contact) -> QueueLedger:
        key = (contact.shop or NO_SHOP, contact.channel)
        ledger = self.cell_ledgers.get(key)
        if ledger is None:
            ledger = self.cell_ledgers[key] = QueueLedger(self.window_ms)
        return ledger

    def _transfer_out(self, contact_id: str, contact: Contact, ts: int) -> None:
        left = self._leave_queue(contact_id, contact)
        left.ledger.transfer_out(ts)
        self._cell(contact).transfer_out(ts)

    # ---- response rounds (docs/metrics.md) ----------------------------------------------

    def _open_round(self, contact_id: str, contact: Contact, queue: QueueState,
                    ts: int) -> None:  # fmt: skip
        contact.round_at = ts
        contact.rounds += 1
        self.rounds_opened += 1
        queue.open_rounds[contact_id] = ts
        deadline = ts + queue.response_cap_ms
        heappush(self.round_deadlines, (deadline, ts, contact_id))
        if deadline < self._next_deadline:  # noqa: PLR1730  (min() is slower here)
            self._next_deadline = deadline

    def _settle_round(self, contact_id: str, contact: Contact, at: int,
                      agent: AgentState | None, replied_ms: int) -> None:  # fmt: skip
        """Settle the contact's open round at `at`: answered after `replied_ms`, or (-1)
        unanswered, counted as the cap. It counts for the contact's queue, shop and channel
        and for `agent`."""
        contact.round_at = NO_ROUND
        queue = self._queue_of(contact)
        if queue is None:
            return
        del queue.open_rounds[contact_id]
        first = 1 if contact.rounds == 1 else 0
        if replied_ms < 0:
            ms, replied, within = queue.response_cap_ms, 0, 0
        else:
            ms, replied = replied_ms, 1
            within = 1 if replied_ms <= queue.response_within_ms else 0
        queue.ledger.round(at, ms, replied, within, first)
        self._cell(contact).round(at, ms, replied, within, first)
        if agent is not None and at >= self._day_start:
            agent.rounds_today.add_round(ms, replied, within, first)

    def _handler(self, contact: Contact) -> AgentState | None:
        """The agent handling the contact (none while it waits in a queue)."""
        return self._agent_of(contact) if contact.status == HANDLING else None

    def _end_round(self, contact_id: str, contact: Contact, ts: int) -> None:
        """The contact ends or moves (abandoned, completed, transferred): an open round is
        settled now, unanswered."""
        if contact.round_at != NO_ROUND:
            self._settle_round(contact_id, contact, ts, self._handler(contact), -1)

    def _expire_rounds(self, limit: int) -> None:
        """Settle at its cap, unanswered, every open round whose cap is before `limit` and in
        the current business day (the rest once that day has started)."""
        heap, contacts, day_end = self.round_deadlines, self.contacts, self._day_end
        while heap and heap[0][0] < limit and heap[0][0] < day_end:
            deadline, opened, contact_id = heappop(heap)
            contact = contacts.get(contact_id)
            if contact is None or contact.round_at != opened:
                continue  # closed earlier (or the contact ended)
            queue = self._queue_of(contact)
            if queue is None or opened + queue.response_cap_ms != deadline:
                continue  # an entry of a round that closed at the same instant elsewhere
            self._settle_round(contact_id, contact, deadline, self._handler(contact), -1)
        self._next_deadline = heap[0][0] if heap else _NEVER

    def _leave_queue(self, contact_id: str, contact: Contact) -> QueueState:
        queue: QueueState = self._queue_of(contact)  # type: ignore[assignment]  # waiting
        del queue.waiting[contact_id]
        return queue

    def _end_handling(self, contact: Contact, ts: int) -> None:
        queue = self._queue_of(contact)
        if queue is not None:
            handle_ms = ts - contact.answered_at
            handle_ms = handle_ms if handle_ms > 0 else 0
            queue.ledger.handle(ts, handle_ms)
            self._cell(contact).handle(ts, handle_ms)
            self._answer_ended(queue, contact, ts)

    def _answer_ended(self, queue: QueueState, contact: Contact, ts: int) -> None:
        """The handling of an answered contact ended: its answer counts now for the service
        level with `count_at = "end"` (if a queue counted the answer)."""
        if self.count_ends and contact.offered_at != NOT_OFFERED:
            within = 1 if contact.answered_at - contact.offered_at <= queue.threshold_ms else 0
            queue.ledger.answer_end(ts, within)
            self._cell(contact).answer_end(ts, within)

    def _answer(self, contact_id: str, contact: Contact, agent_id: str | None, ts: int) -> None:
        queue = self._leave_queue(contact_id, contact)
        wait = max(ts - contact.offered_at, 0)
        within = 1 if wait <= queue.threshold_ms else 0
        queue.ledger.answer(ts, wait, within)
        self._cell(contact).answer(ts, wait, within)
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
        rounds = 0
        if contact is not None:
            if contact.status == WAITING and contact.queue == queue_name:
                return  # already waiting here: a repeated offer changes nothing
            self._end_round(contact_id, contact, ts)
            if contact.status == WAITING:
                # Re-offered elsewhere while waiting: the first queue lost it to a transfer.
                self._transfer_out(contact_id, contact, ts)
            else:
                self._end_handling(contact, ts)  # back in a queue after handling
            channel = channel or contact.channel
            rounds = contact.rounds
        if event.via == "bot" and self._in_today(ts):
            self.escalated_today += 1
        self._offer(contact_id, queue_name, channel or "other", event.shop, ts, rounds)

    def _answered(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.get(contact_id)
        if contact is None:
            # No offer seen: the agent handled it, but the queue cannot time its wait.
            agent_id: str = event.agent  # type: ignore[assignment]  # required by the contract
            self.contacts[contact_id] = Contact(event.queue, event.channel or "other", event.shop,
                                                NOT_OFFERED, HANDLING, agent_id, ts, None,
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
        self._end_round(contact_id, contact, ts)
        queue = self._leave_queue(contact_id, contact)
        wait = max(0, ts - contact.offered_at)
        short = 1 if wait < queue.short_ms else 0
        within = 1 if wait <= queue.threshold_ms else 0
        queue.ledger.abandon(ts, short, within)
        self._cell(contact).abandon(ts, short, within)
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
                self._answer_ended(self._queue_of(contact), contact, ts)  # type: ignore[arg-type]
            else:
                self._end_handling(contact, ts)
            self._end_round(contact_id, contact, ts)
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

    def _ended(self, event: Event) -> None:
        """`contact.ended`: a contact ends neither answered nor abandoned (docs/events.md).
        Waiting, it counts as `ended_by_restart` or `left_by_key`; being handled, its handling
        ends without a handle-time sample (when the call really ended is not known)."""
        contact_id: str = event.contact  # type: ignore[assignment]
        contact = self.contacts.get(contact_id)
        if contact is None:
            return
        ts = event.ts
        self._end_round(contact_id, contact, ts)
        if contact.status == WAITING:
            queue = self._leave_queue(contact_id, contact)
            if event.reason == ev.ENDED_KEY:
                queue.ledger.key_exit(ts)
                self._cell(contact).key_exit(ts)
            else:
                queue.ledger.restart_end(ts)
                self._cell(contact).restart_end(ts)
        elif event.reason == ev.ENDED_KEY:
            return  # a key pressed after the answer leaves no queue: nothing changes
        del self.contacts[contact_id]

    def _transferred(self, event: Event) -> None:
        contact_id: str = event.contact  # type: ignore[assignment]
        ts = event.ts
        contact = self.contacts.get(contact_id)
        channel = event.channel
        shop = event.shop
        rounds = 0
        if contact is not None:
            self._end_round(contact_id, contact, ts)
            if contact.status == WAITING:
                self._transfer_out(contact_id, contact, ts)
            else:
                self._end_handling(contact, ts)
            channel = channel or contact.channel
            shop = shop or contact.shop
            rounds = contact.rounds
        # In the new queue a new round opens at the transfer (on a response channel).
        self._offer(contact_id, event.to_queue, channel or "other", shop, ts, rounds)  # type: ignore[arg-type]

    def _message(self, event: Event) -> None:
        ts = event.ts
        contact = self.contacts.get(event.contact)  # type: ignore[arg-type]
        queue: QueueState | None = None
        agent: AgentState | None = None
        if contact is not None:
            queue = self._queue_of(contact)
            agent = self._agent_of(contact)
            agent_id = contact.agent or event.agent
            # A customer question opens a round when none is open (docs/metrics.md).
            if contact.round_at == NO_ROUND and queue is not None \
                    and contact.channel in self.response_channels:  # fmt: skip
                self._open_round(event.contact, contact, queue, ts)  # type: ignore[arg-type]
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

    def _reply(self, event: Event) -> None:
        """A reply from the shop: the first valid one closes the contact's open round."""
        contact_id: str = event.contact  # type: ignore[assignment]
        contact = self.contacts.get(contact_id)
        if contact is None:
            return  # no contact on the board: no round to close
        ts = event.ts
        queue = self._queue_of(contact)
        if queue is None:
            return
        self.replied_today = True
        queue.ledger.replied_today = True
        self._cell(contact).replied_today = True
        opened = contact.round_at
        if opened == NO_ROUND or (event.by == "bot" and not self.count_bot_replies):
            return
        deadline = opened + queue.response_cap_ms
        if ts > deadline:  # a late event past the cap: the round was unanswered
            self._settle_round(contact_id, contact, deadline, self._handler(contact), -1)
            return
        # The agent who replied (the handler unless the reply names another).
        agent = self._handler(contact) if event.agent is None or event.agent == contact.agent \
            else self.agents.get(event.agent) or self._agent(event.agent)  # fmt: skip
        self._settle_round(contact_id, contact, ts, agent, ts - opened if ts > opened else 0)

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


_CLOCKLESS: Final = ev.COMPLAINT_TYPES


# Plain functions, not bound methods: a state holding its own bound methods is a reference
# cycle, which only a full collection frees (each state a replay seek drops).
_HANDLERS: Final[dict[str, Callable[[BoardState, Event], None]]] = {
    ev.OFFERED: BoardState._offered,
    ev.ANSWERED: BoardState._answered,
    ev.ABANDONED: BoardState._abandoned,
    ev.COMPLETED: BoardState._completed,
    ev.TRANSFERRED: BoardState._transferred,
    ev.ENDED: BoardState._ended,
    ev.MESSAGE: BoardState._message,
    ev.REPLY: BoardState._reply,
    ev.BOT_RESOLVED: BoardState._bot_resolved,
    ev.AGENT_STATE: BoardState._agent_state,
    ev.ALERT_ACK: BoardState._alert_ack,
    ev.CALLOUT: BoardState._callout,
    ev.CALLOUT_RESPONSE: BoardState._callout_response,
}
