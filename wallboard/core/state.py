"""The records the fold keeps and the alert rules and callout book judge: contacts, queues
and agents. Apart from `BoardState` (wallboard.core.fold) so that the modules that read them
need not import the fold that composes them (the core has no import cycle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from mypy_extensions import mypyc_attr

from wallboard.core.businessday import BusinessDay
from wallboard.core.config import QueueRules
from wallboard.core.metrics import PeriodCounts, QueueLedger, TimeRing

HOUR_MS: Final = 3_600_000
# A contact's status.
WAITING: Final = 0
HANDLING: Final = 1
NO_ROUND: Final = -1  # a contact's `round_at` while no response round is open


@mypyc_attr(acyclic=True)
class Contact:
    """A contact waiting or being handled. Compiled, the collector does not track it (no
    cycle runs through it: it holds strings, ints and the records of its queue and agent,
    which hold no contact): tens of thousands live at a peak, and each full collection would
    walk them all.

    `queue_state` and `agent_state` are the records named by `queue` and `agent`, or None
    until first looked up (and after a checkpoint is restored): a chat's questions (a third
    of all events) then cost no lookup by name. Records are never replaced, so a reference
    stays right while its name does."""

    __slots__ = ("agent", "agent_state", "answered_at", "channel", "offered_at", "queue",
                 "queue_state", "round_at", "rounds", "shop", "status")  # fmt: skip

    def __init__(self, queue: str | None, channel: str, shop: str | None, offered_at: int,
                 status: int = WAITING, agent: str | None = None, answered_at: int = 0,
                 queue_state: QueueState | None = None,
                 agent_state: AgentState | None = None, round_at: int = NO_ROUND,
                 rounds: int = 0) -> None:  # fmt: skip
        self.queue = queue
        self.channel = channel
        self.shop = shop
        self.offered_at = offered_at
        self.status = status
        self.agent = agent
        self.answered_at = answered_at
        self.queue_state = queue_state
        self.agent_state = agent_state
        # The open response round's start (NO_ROUND: none open), and the rounds it has had:
        # the one with `rounds == 1` is its first (docs/metrics.md, first_response_s).
        self.round_at = round_at
        self.rounds = rounds

    def __reduce__(self) -> tuple[type[Contact], tuple[object, ...]]:
        # Its constructor's arguments: pickles in a third of the time of the attribute dict
        # compiled classes give by default (tens of thousands in every replay checkpoint).
        # Not the two references: they are found again by name when first needed, and
        # pickling them cost a checkpoint 15% more (77 -> 89 ms at a midnight peak).
        return Contact, (self.queue, self.channel, self.shop, self.offered_at, self.status,
                         self.agent, self.answered_at, None, None, self.round_at,
                         self.rounds)  # fmt: skip


@mypyc_attr(serializable=True)  # replay checkpoints pickle it
class QueueState:
    __slots__ = ("ledger", "messages", "name", "open_rounds", "response_cap_ms",
                 "response_within_ms", "rules", "short_ms", "threshold_ms", "waiting")  # fmt: skip

    def __init__(self, name: str, rules: QueueRules, window_ms: int) -> None:
        self.name = name
        self.rules = rules
        self.threshold_ms = round(rules.threshold_s * 1000)
        self.short_ms = round(rules.short_abandon_s * 1000)
        self.ledger = QueueLedger(window_ms)
        self.waiting: dict[str, int] = {}  # contact -> time it entered this queue
        self.messages = TimeRing(HOUR_MS)  # customer questions in its chats (rule of thumb)
        self.response_within_ms = round(rules.response_within_s * 1000)
        self.response_cap_ms = round(rules.response_cap_s * 1000)
        # contact -> when its open response round opened, in fold order (the oldest first
        # for a fold in event-time order, as `waiting`)
        self.open_rounds: dict[str, int] = {}

    def rings(self) -> tuple[TimeRing, ...]:
        """Its rolling time rings (for trimming before a checkpoint)."""
        return (self.messages,)

    @property
    def today(self) -> PeriodCounts:
        return self.ledger.today

    @property
    def window(self) -> PeriodCounts:
        return self.ledger.window

    @property
    def lifetime(self) -> PeriodCounts:
        """Everything folded into this queue (read after `BoardState.settle`): the ledger of
        the conservation law."""
        return self.ledger.lifetime()


class AgentState:
    __slots__ = ("agent", "answers", "completed_today", "first_login", "handled_today", "level",
                 "messages", "name", "order_value_today", "orders_today", "outcomes_today",
                 "pool", "queues", "rating_count", "rating_sum", "rounds_today", "shops",
                 "state", "state_since", "team")  # fmt: skip

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.name: str | None = None
        self.team: str | None = None
        self.level: str | None = None
        self.pool: str | None = None
        self.shops: tuple[str, ...] = ()
        self.queues: tuple[str, ...] | None = None
        self.state: str | None = None
        self.state_since = 0
        self.first_login: int | None = None
        self.handled_today = 0
        self.answers = TimeRing(HOUR_MS)
        self.messages = TimeRing(HOUR_MS)
        self.completed_today = 0
        self.outcomes_today = 0
        self.orders_today = 0
        self.order_value_today = 0.0
        self.rating_sum = 0
        self.rating_count = 0
        self.rounds_today = PeriodCounts()  # response rounds settled on this agent today

    def rings(self) -> tuple[TimeRing, ...]:
        """Its rolling time rings (for trimming before a checkpoint)."""
        return (self.answers, self.messages)

    def __reduce__(self) -> tuple[Callable[..., AgentState], tuple[object, ...]]:
        # Every attribute, as one tuple: half the time of the default attribute dict (2,000
        # agents in every replay checkpoint). tests/test_native.py checks none is missed.
        return _agent_from, (self.agent, self.name, self.team, self.level, self.pool,
                             self.shops, self.queues, self.state, self.state_since,
                             self.first_login, self.handled_today, self.answers, self.messages,
                             self.completed_today, self.outcomes_today, self.orders_today,
                             self.order_value_today, self.rating_sum,
                             self.rating_count, self.rounds_today)  # fmt: skip

    def reset_day(self, day: BusinessDay) -> None:
        self.handled_today = 0
        self.completed_today = 0
        self.outcomes_today = 0
        self.orders_today = 0
        self.order_value_today = 0.0
        self.rating_sum = 0
        self.rating_count = 0
        self.rounds_today = PeriodCounts()
        # Someone still logged in when the day begins started their day at its start.
        staffed = self.state is not None and self.state != "logged_out"
        self.first_login = day.start_ms if staffed else None


def _agent_from(agent: str, name: str | None, team: str | None, level: str | None,
                pool: str | None, shops: tuple[str, ...], queues: tuple[str, ...] | None,
                state: str | None, state_since: int, first_login: int | None,
                handled_today: int, answers: TimeRing, messages: TimeRing,
                completed_today: int, outcomes_today: int, orders_today: int,
                order_value_today: float, rating_sum: int,
                rating_count: int, rounds_today: PeriodCounts) -> AgentState:  # fmt: skip
    """An agent from `AgentState.__reduce__`'s tuple."""
    record = AgentState(agent)
    record.name, record.team, record.level, record.pool = name, team, level, pool
    record.shops, record.queues = shops, queues
    record.state, record.state_since = state, state_since
    record.first_login, record.handled_today = first_login, handled_today
    record.answers, record.messages = answers, messages
    record.completed_today, record.outcomes_today = completed_today, outcomes_today
    record.orders_today, record.order_value_today = orders_today, order_value_today
    record.rating_sum, record.rating_count = rating_sum, rating_count
    record.rounds_today = rounds_today
    return record
