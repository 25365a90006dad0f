"""Complaints and the key-complaint callback rate (docs/metrics.md, "Complaints").

Pure and deterministic: events come in through `ComplaintBook.apply`, time only through the
`now` (and the business day's start) the readers pass. Nothing is decided while folding: a
key complaint's decision is a function of its opening, its reached callbacks and `now`, so
the same events give the same figures in any arrival order, live or replayed.

A key complaint is decided at the earlier of its first `reached` callback (at or after its
opening) and its deadline (opened + `callback_within_h`); in time when that callback is at or
before the deadline. It counts in the period that holds its decision time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

from wallboard.core import events as ev
from wallboard.core.config_complaints import ComplaintsSection
from wallboard.core.event_record import Event

NO_NAME: Final = "-"  # the department (or shop) of complaints that name none
DUE_SOON_MS: Final = 24 * 3_600_000
_FAR: Final = 1 << 60


class Complaint:
    """What the events said of one complaint."""

    __slots__ = ("agent", "closed_at", "contact", "department", "id", "key", "last_seen",
                 "opened_at", "queue", "reached", "resolution", "shop")  # fmt: skip

    def __init__(self, complaint_id: str) -> None:
        self.id = complaint_id
        self.opened_at: int | None = None  # None: a callback or close came before its opening
        self.key = False
        self.department = NO_NAME
        self.shop = NO_NAME
        self.queue: str | None = None
        self.agent: str | None = None
        self.contact: str | None = None
        self.reached: list[tuple[int, str | None]] = []  # reached callbacks: (time, agent)
        self.closed_at: int | None = None
        self.resolution: str | None = None
        self.last_seen = 0

    def first_reached(self) -> tuple[int, str | None] | None:
        """The first reached callback at or after the opening (time, agent)."""
        opened = self.opened_at
        if opened is None:
            return None
        times = [item for item in self.reached if item[0] >= opened]
        return min(times, key=lambda item: item[0]) if times else None

    def decision(self, deadline_ms: int) -> tuple[int, bool] | None:
        """(decided at, in time) of a key complaint, whether or not that time has come; None
        for one that is not key or whose opening is unknown."""
        if not self.key or self.opened_at is None:
            return None
        deadline = self.opened_at + deadline_ms
        first = self.first_reached()
        if first is not None and first[0] <= deadline:
            return first[0], True
        return deadline, False


class Tally:
    """Counts of one group (the floor, a department, a shop) at one `now`."""

    __slots__ = ("decided_rolling", "decided_today", "due_24h", "in_time_rolling",
                 "in_time_today", "oldest_overdue_deadline", "open_key", "open_other",
                 "opened_today", "overdue")  # fmt: skip

    def __init__(self) -> None:
        self.open_key = 0
        self.due_24h = 0
        self.overdue = 0
        self.oldest_overdue_deadline: int | None = None
        self.opened_today = 0
        self.open_other = 0  # complaints that are not key, not closed
        self.decided_today = 0
        self.in_time_today = 0
        self.decided_rolling = 0
        self.in_time_rolling = 0


class Figures(NamedTuple):
    floor: Tally
    by_department: dict[str, Tally]
    by_shop: dict[str, Tally]


class ComplaintBook:
    """Every complaint still inside the lookback, by id."""

    def __init__(self, section: ComplaintsSection) -> None:
        self.deadline_ms = section.deadline_ms
        self.rate_ms = section.rate_ms
        self.lookback_ms = section.lookback_ms
        self.complaints: dict[str, Complaint] = {}
        self.applied = 0  # complaint events folded (the decided-once law's ledger)
        # overdue_count's last answer: (from, until (exclusive), count); None: recount.
        self._overdue: tuple[int, int, int] | None = None

    def _get(self, complaint_id: str) -> Complaint:
        record = self.complaints.get(complaint_id)
        if record is None:
            record = self.complaints[complaint_id] = Complaint(complaint_id)
        return record

    def apply(self, event: Event) -> None:
        complaint_id = event.complaint
        if complaint_id is None:  # the contract requires it; decode saw to that
            return
        self.applied += 1
        self._overdue = None
        record = self._get(complaint_id)
        ts = event.ts
        record.last_seen = max(record.last_seen, ts)
        kind = event.type
        if kind == ev.COMPLAINT_OPENED:
            # The earliest opening wins, whatever the arrival order; its fields with it.
            if record.opened_at is not None and record.opened_at <= ts:
                return
            record.opened_at = ts
            record.key = bool(event.key_complaint)
            record.department = event.department or NO_NAME
            record.shop = event.shop or NO_NAME
            record.queue = event.queue
            record.agent = event.agent
            record.contact = event.contact
        elif kind == ev.COMPLAINT_CALLBACK:
            if (event.outcome or ev.REACHED) == ev.REACHED:
                record.reached.append((ts, event.agent))
        elif kind == ev.COMPLAINT_CLOSED and (record.closed_at is None
                                               or ts < record.closed_at):  # fmt: skip
            record.closed_at = ts
            record.resolution = event.resolution

    def forget(self, now: int, day_start: int) -> None:
        """Drop what no figure at `now` or later can count: complaints opened before the
        lookback (a board started now would not read them either), and decided ones outside
        `rate_days` that can no longer be overdue (called back in time, or closed)."""
        horizon = now - self.lookback_ms
        rate_floor = now - self.rate_ms
        gone: list[str] = []
        for complaint_id, record in self.complaints.items():
            opened = record.opened_at
            if opened is None:
                if record.last_seen < horizon:
                    gone.append(complaint_id)
                continue
            if opened < horizon:
                gone.append(complaint_id)
                continue
            if opened >= day_start:
                continue
            decision = record.decision(self.deadline_ms)
            if decision is None:  # not key: only its being open counts, until it closes
                if record.closed_at is not None and record.closed_at <= now:
                    gone.append(complaint_id)
            elif decision[0] <= rate_floor and (decision[1] or (
                    record.closed_at is not None and record.closed_at <= now)):  # fmt: skip
                gone.append(complaint_id)
        for complaint_id in gone:
            del self.complaints[complaint_id]
        if gone:
            self._overdue = None

    def overdue_count(self, now: int) -> int:
        """The floor's `overdue` at `now`, as `figures` counts it; asked every second by the
        alert rule, so counted again only after an event or when some complaint's deadline,
        callback, close or lookback horizon is passed."""
        cached = self._overdue
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        count = 0
        until = _FAR
        horizon = now - self.lookback_ms
        for record in self.complaints.values():
            opened = record.opened_at
            if opened is None or not record.key:
                continue
            leaves = opened + self.lookback_ms + 1  # past the horizon from then on
            if opened < horizon:
                continue
            until = min(until, leaves)
            deadline = opened + self.deadline_ms
            first = record.first_reached()
            closed = record.closed_at
            for change in (deadline, None if first is None else first[0], closed):
                if change is not None and change > now:
                    until = min(until, change)
            if deadline <= now and (first is None or first[0] > now) \
                    and (closed is None or closed > now):  # fmt: skip
                count += 1
        self._overdue = (now, until, count)
        return count

    def figures(self, now: int, day_start: int | None) -> Figures:
        """The figures at `now` (`day_start`: the business day's start; None: no day yet)."""
        floor = Tally()
        by_department: dict[str, Tally] = {}
        by_shop: dict[str, Tally] = {}
        today_from = now + 1 if day_start is None else day_start
        rate_floor = now - self.rate_ms
        for record in self.complaints.values():
            opened = record.opened_at
            if opened is None or opened < now - self.lookback_ms:
                continue
            department = by_department.get(record.department)
            if department is None:
                department = by_department[record.department] = Tally()
            shop = by_shop.get(record.shop)
            if shop is None:
                shop = by_shop[record.shop] = Tally()
            _count(record, (floor, department, shop), now, today_from, rate_floor,
                   self.deadline_ms)  # fmt: skip
        return Figures(floor, by_department, by_shop)


def _count(record: Complaint, tallies: Iterable[Tally], now: int, today_from: int,
           rate_floor: int, deadline_ms: int) -> None:  # fmt: skip
    opened = record.opened_at
    assert opened is not None
    closed = record.closed_at is not None and record.closed_at <= now
    opened_today = today_from <= opened <= now
    decision = record.decision(deadline_ms)
    for tally in tallies:
        if opened_today:
            tally.opened_today += 1
        if decision is None and not closed:
            tally.open_other += 1
    if decision is None:
        return
    decided_at, in_time = decision
    deadline = opened + deadline_ms
    first = record.first_reached()
    reached_by_now = first is not None and first[0] <= now
    for tally in tallies:
        if decided_at <= now:
            if decided_at >= today_from:
                tally.decided_today += 1
                tally.in_time_today += in_time
            if decided_at > rate_floor:
                tally.decided_rolling += 1
                tally.in_time_rolling += in_time
        if reached_by_now:
            continue
        if deadline > now:
            tally.open_key += 1
            if deadline - now <= DUE_SOON_MS:
                tally.due_24h += 1
        elif not closed:
            tally.overdue += 1
            oldest = tally.oldest_overdue_deadline
            if oldest is None or deadline < oldest:
                tally.oldest_overdue_deadline = deadline
