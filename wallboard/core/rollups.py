"""Rollups: the queues' numbers combined by floor, shop, channel and configured group
(docs/metrics.md, "Rollups"), and the live figures (waiting, open response rounds) counted
once over the contacts for every view that needs them.

Every rollup is computed from summed counts, never from averaged ratios: the floor and the
groups merge their queues' period counts; shops and channels merge the fold's ledgers per
(shop, channel) cell, fed with the same records as the queues (so each contact's
within-threshold was judged by its own queue's threshold). Ratios are then taken over the
sums, with the board's default service-level formula."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec

from wallboard.core.fold import NO_SHOP, BoardState
from wallboard.core.metrics import PeriodCounts, QueueLedger
from wallboard.core.period_view import Period, WindowPeriod, period, window_period
from wallboard.core.state import HANDLING, QueueState

ROLLUP_KINDS: Final = ("floor", "group", "shop", "channel")


class RollupSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    by: str  # floor | shop | channel | group
    name: str  # "floor" for the floor; "-" is the shop of contacts that name none
    queues: list[str] | None  # the queues summed (floor, group); None for shop and channel
    waiting: int
    longest_wait_s: float
    sl_threshold_s: float  # the board's default; each contact was judged by its own queue's
    sl_target: float  # the board's default target
    sl_formula: str
    today: Period
    window: WindowPeriod
    # None where no `contact.reply` came this business day (as the response figures).
    open_rounds: int | None
    oldest_open_round_s: float | None


class Live:
    """Contacts waiting and response rounds open now, with the oldest of each (epoch ms)."""

    __slots__ = ("oldest_round", "oldest_wait", "rounds", "waiting")

    def __init__(self) -> None:
        self.waiting = 0
        self.oldest_wait = 0  # 0: none
        self.rounds = 0
        self.oldest_round = 0

    def add_wait(self, since: int) -> None:
        self.waiting += 1
        if not self.oldest_wait or since < self.oldest_wait:
            self.oldest_wait = since

    def add_round(self, since: int) -> None:
        self.rounds += 1
        if not self.oldest_round or since < self.oldest_round:
            self.oldest_round = since

    def merge(self, other: Live) -> None:
        self.waiting += other.waiting
        self.rounds += other.rounds
        for name in ("oldest_wait", "oldest_round"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs and (not mine or theirs < mine):
                setattr(self, name, theirs)


class LiveScan:
    """One pass over the waiting contacts and the open rounds: per queue, shop, channel and
    (for open rounds of handled contacts) agent."""

    def __init__(self, state: BoardState, with_agents: bool) -> None:
        self.queues: dict[str, Live] = {}
        self.shops: dict[str, Live] = {}
        self.channels: dict[str, Live] = {}
        self.agents: dict[str, Live] = {}
        contacts = state.contacts
        for name, queue in state.queues.items():
            own = self.queues[name] = Live()
            for contact_id, since in queue.waiting.items():
                own.add_wait(since)
                contact = contacts.get(contact_id)
                if contact is not None:
                    self._live(self.shops, contact.shop or NO_SHOP).add_wait(since)
                    self._live(self.channels, contact.channel).add_wait(since)
            for contact_id, since in queue.open_rounds.items():
                own.add_round(since)
                contact = contacts.get(contact_id)
                if contact is None:
                    continue
                self._live(self.shops, contact.shop or NO_SHOP).add_round(since)
                self._live(self.channels, contact.channel).add_round(since)
                if with_agents and contact.status == HANDLING and contact.agent:
                    self._live(self.agents, contact.agent).add_round(since)

    @staticmethod
    def _live(table: dict[str, Live], name: str) -> Live:
        live = table.get(name)
        if live is None:
            live = table[name] = Live()
        return live


def _age_s(as_of: int, since: int) -> float:
    return max(0, as_of - since) / 1000 if since else 0.0


def _rollup(state: BoardState, by: str, name: str, queues: list[str] | None,
            ledgers: Iterable[QueueLedger], live: Live) -> RollupSnapshot:  # fmt: skip
    today, window = PeriodCounts(), PeriodCounts()
    measured = False
    for ledger in ledgers:
        today.merge(ledger.today)
        window.merge(ledger.window)
        measured = measured or ledger.replied_today
    config = state.config
    sl = config.service_level
    as_of = state.as_of
    return RollupSnapshot(
        by=by, name=name, queues=queues, waiting=live.waiting,
        longest_wait_s=_age_s(as_of, live.oldest_wait), sl_threshold_s=sl.threshold_s,
        sl_target=sl.target, sl_formula=sl.formula, today=period(today, sl.formula, measured),
        window=window_period(window, sl.formula, measured, config.board.window_minutes),
        open_rounds=live.rounds if measured else None,
        oldest_open_round_s=_age_s(as_of, live.oldest_round) if measured else None,
    )  # fmt: skip


def _sum_live(lives: Iterable[Live]) -> Live:
    total = Live()
    for live in lives:
        total.merge(live)
    return total


def build_rollups(state: BoardState, scan: LiveScan) -> list[RollupSnapshot]:
    """The floor, then the configured groups (in config order), the shops and the channels
    (by name). Call after `state.settle()`."""
    queues: dict[str, QueueState] = state.queues
    names = sorted(queues)
    out = [_rollup(state, "floor", "floor", names, (queues[n].ledger for n in names),
                   _sum_live(scan.queues.values()))]  # fmt: skip
    for group, section in state.config.groups.items():
        members = list(dict.fromkeys(section.queues))
        present = [n for n in members if n in queues]  # a queue not seen yet adds nothing
        out.append(_rollup(state, "group", group, members,
                           (queues[n].ledger for n in present),
                           _sum_live(scan.queues[n] for n in present)))  # fmt: skip
    cells = state.cell_ledgers
    for shop in sorted({shop for shop, _ in cells}):
        out.append(_rollup(state, "shop", shop, None,
                           (ledger for (s, _), ledger in cells.items() if s == shop),
                           scan.shops.get(shop) or Live()))  # fmt: skip
    for channel in sorted({channel for _, channel in cells}):
        out.append(_rollup(state, "channel", channel, None,
                           (ledger for (_, c), ledger in cells.items() if c == channel),
                           scan.channels.get(channel) or Live()))  # fmt: skip
    return out
