"""Queue counters for a period (the business day, or a rolling window) and the industry ratios.

Definitions (docs/metrics.md has the full text):
- answered_within: answered with wait <= T; short_abandoned: abandoned with wait < S.
- service level by formula; ASA = mean wait of answered; AHT = mean (completed - answered),
  wrap-up included; abandon rate = abandoned / (answered + abandoned).
- Every ratio or mean is None when its denominator is empty: never 0 or 1 by default.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Final

from wallboard.config import Formula

# Record codes of the rolling window.
OFFER: Final = 0
ANSWER: Final = 1
ABANDON: Final = 2
TRANSFER_OUT: Final = 3
HANDLE: Final = 4


class PeriodCounts:
    """Counters of one period, attributed by the time each thing happened."""

    __slots__ = (
        "abandoned",
        "abandoned_within",
        "answered",
        "answered_within",
        "handle_ms",
        "handled",
        "offered",
        "short_abandoned",
        "transferred_out",
        "wait_ms",
    )

    def __init__(self) -> None:
        self.offered = 0
        self.answered = 0
        self.answered_within = 0
        self.wait_ms = 0  # sum of the waits of answered contacts
        self.abandoned = 0
        self.short_abandoned = 0
        self.abandoned_within = 0
        self.transferred_out = 0
        self.handled = 0  # completed contacts (handle-time samples)
        self.handle_ms = 0

    def record(self, code: int, a: int, b: int, c: int, sign: int = 1) -> None:
        """Add (or with sign=-1 remove) one record; a/b/c depend on the code."""
        if code == OFFER:
            self.offered += sign
        elif code == ANSWER:  # a = wait ms, b = within threshold
            self.answered += sign
            self.wait_ms += sign * a
            self.answered_within += sign * b
        elif code == ABANDON:  # a = wait ms (unused), b = short, c = within threshold
            self.abandoned += sign
            self.short_abandoned += sign * b
            self.abandoned_within += sign * c
        elif code == TRANSFER_OUT:
            self.transferred_out += sign
        else:  # HANDLE: a = handle ms
            self.handled += sign
            self.handle_ms += sign * a

    def merge(self, other: PeriodCounts) -> None:
        for name in PeriodCounts.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def service_level(self, formula: Formula) -> float | None:
        if formula == "exclude_short_abandons":
            numerator, denominator = (
                self.answered_within, self.answered + self.abandoned - self.short_abandoned)
        elif formula == "answered":
            numerator, denominator = self.answered_within, self.answered
        elif formula == "offered":
            numerator, denominator = self.answered_within, self.answered + self.abandoned
        else:  # abandons_within_positive
            numerator = self.answered_within + self.abandoned_within
            denominator = self.answered + self.abandoned
        return numerator / denominator if denominator > 0 else None

    def asa_s(self) -> float | None:
        return self.wait_ms / self.answered / 1000 if self.answered else None

    def aht_s(self) -> float | None:
        return self.handle_ms / self.handled / 1000 if self.handled else None

    def abandon_rate(self) -> float | None:
        left = self.answered + self.abandoned
        return self.abandoned / left if left else None


class QueueLedger:
    """Counts of one queue for today, for earlier days, and for the rolling window
    (as_of - span, as_of], kept exact.

    The fold's hot path only appends a record to `fresh` (one list append per counted thing);
    `settle()` - before every snapshot and at the day boundary - counts the fresh records into
    the periods, keeps the window's records in time order (a late one is inserted in place)
    and drops those that left the window. Same numbers as counting each record at once,
    at a fraction of the cost per event.
    """

    __slots__ = ("before_today", "fresh", "records", "span_ms", "today", "window")
    # 1,000 events/s keep over a million window records for 30 minutes: they are held as
    # compact columns (about 19 bytes a record, not 140 for a tuple of ints).

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.today = PeriodCounts()
        self.before_today = PeriodCounts()  # earlier days and late events: the lifetime rest
        self.window = PeriodCounts()
        self.fresh: list[tuple[int, int, int, int, int]] = []  # (ts, code, a, b, c), uncounted
        self.records = _Columns()  # counted in `window`, in time order

    def settle(self, day_start: int, as_of: int) -> bool:
        """True when a count changed (records came in, or left the window)."""
        cut = as_of - self.span_ms
        fresh = self.fresh
        changed = bool(fresh)
        if fresh:
            fresh.sort()  # nearly sorted: linear for timsort
            today, before = self.today, self.before_today
            window, records = self.window, self.records
            for ts, code, a, b, c in fresh:
                period = today if ts >= day_start else before
                period.record(code, a, b, c)
                if ts > cut:
                    window.record(code, a, b, c)
                    records.add(ts, code, a, b, c)
            fresh.clear()
        return self.records.expire(cut, self.window) or changed

    def start_day(self) -> None:
        """Call after `settle` with the old day: today's counts move to the earlier days."""
        self.before_today.merge(self.today)
        self.today = PeriodCounts()

    def lifetime(self) -> PeriodCounts:
        """Everything counted, all days together (after `settle`)."""
        total = PeriodCounts()
        total.merge(self.before_today)
        total.merge(self.today)
        return total


class _Columns:
    """Window records (ts, code, a, b, c) in time order as parallel arrays; `head` is the
    first one still in the window (the expired prefix is cut off in bulk)."""

    __slots__ = ("a", "b", "c", "code", "head", "ts")

    def __init__(self) -> None:
        self.ts = array("q")
        self.code = array("b")
        self.a = array("q")
        self.b = array("b")
        self.c = array("b")
        self.head = 0

    def add(self, ts: int, code: int, a: int, b: int, c: int) -> None:
        times = self.ts
        if len(times) > self.head and ts < times[-1]:  # late: in place (rare)
            i = bisect_right(times, ts, self.head)
            times.insert(i, ts)
            self.code.insert(i, code)
            self.a.insert(i, a)
            self.b.insert(i, b)
            self.c.insert(i, c)
        else:
            times.append(ts)
            self.code.append(code)
            self.a.append(a)
            self.b.append(b)
            self.c.append(c)

    def expire(self, cut: int, window: PeriodCounts) -> bool:
        """Take the records at or before `cut` out of `window`; True if there were any."""
        times, head = self.ts, self.head
        end = len(times)
        if head == end or times[head] > cut:
            return False
        stop = bisect_right(times, cut, head)
        code, a, b, c = self.code, self.a, self.b, self.c
        for i in range(head, stop):
            window.record(code[i], a[i], b[i], c[i], -1)
        self.head = stop
        if stop > 4096 and stop * 2 > end:  # drop the expired prefix now and then
            for column in (times, code, a, b, c):
                del column[:stop]
            self.head = 0
        return True

    def __len__(self) -> int:
        return len(self.ts) - self.head


class TimeRing:
    """Times of things (answers, messages) for a rolling count over (as_of - span, as_of],
    as a compact array (an hour of 1,000 messages a second is 3.6 million times)."""

    __slots__ = ("head", "span_ms", "times")

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.times = array("q")
        self.head = 0  # the first time still counted

    def add(self, ts: int) -> None:
        times = self.times
        if len(times) > self.head and ts < times[-1]:  # late: in place (rare)
            times.insert(bisect_right(times, ts, self.head), ts)
        else:
            times.append(ts)

    def count(self, as_of: int) -> int:
        cut = as_of - self.span_ms
        times, head = self.times, self.head
        end = len(times)
        if head < end and times[head] <= cut:
            head = bisect_right(times, cut, head)
            if head > 4096 and head * 2 > end:
                del times[:head]
                head = 0
            self.head = head
        return len(times) - head
