"""Queue counters for a period (the business day, or a rolling window) and the industry ratios.

Definitions (docs/metrics.md has the full text):
- answered_within: answered with wait <= T; short_abandoned: abandoned with wait < S.
- service level by formula; ASA = mean wait of answered; AHT = mean (completed - answered),
  wrap-up included; abandon rate = abandoned / (answered + abandoned).
- Every ratio or mean is None when its denominator is empty: never 0 or 1 by default.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
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

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.today = PeriodCounts()
        self.before_today = PeriodCounts()  # earlier days and late events: the lifetime rest
        self.window = PeriodCounts()
        self.fresh: list[tuple[int, int, int, int, int]] = []  # (ts, code, a, b, c), uncounted
        self.records: deque[tuple[int, int, int, int, int]] = deque()  # counted in `window`

    def settle(self, day_start: int, as_of: int) -> bool:
        """True when a count changed (records came in, or left the window)."""
        cut = as_of - self.span_ms
        fresh = self.fresh
        changed = bool(fresh)
        if fresh:
            fresh.sort()  # nearly sorted: linear for timsort
            today, before = self.today, self.before_today
            window, records = self.window, self.records
            for record in fresh:
                ts, code, a, b, c = record
                period = today if ts >= day_start else before
                period.record(code, a, b, c)
                if ts > cut:
                    window.record(code, a, b, c)
                    if records and ts < records[-1][0]:
                        insort(records, record)
                    else:
                        records.append(record)
            fresh.clear()
        records, window = self.records, self.window
        while records and records[0][0] <= cut:
            _, code, a, b, c = records.popleft()
            window.record(code, a, b, c, -1)
            changed = True
        return changed

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


class TimeRing:
    """Times of things (answers, messages) for a rolling count over (as_of - span, as_of]."""

    __slots__ = ("span_ms", "times")

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.times: deque[int] = deque()

    def add(self, ts: int) -> None:
        times = self.times
        if times and ts < times[-1]:
            insort(times, ts)
        else:
            times.append(ts)

    def count(self, as_of: int) -> int:
        cut = as_of - self.span_ms
        times = self.times
        while times and times[0] <= cut:
            times.popleft()
        return len(times)
