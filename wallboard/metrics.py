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


class RollingWindow:
    """Counters over the rolling window (as_of - span, as_of], kept exact with a time-ordered
    record deque and running sums. Records arrive in time order almost always; a late one is
    inserted in place."""

    __slots__ = ("counts", "records", "span_ms")

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.counts = PeriodCounts()
        self.records: deque[tuple[int, int, int, int, int]] = deque()

    def add(self, ts: int, code: int, a: int = 0, b: int = 0, c: int = 0) -> None:
        records = self.records
        if records and ts < records[-1][0]:
            insort(records, (ts, code, a, b, c))
        else:
            records.append((ts, code, a, b, c))
        self.counts.record(code, a, b, c)

    def evict(self, as_of: int) -> None:
        cut = as_of - self.span_ms
        records = self.records
        counts = self.counts
        while records and records[0][0] <= cut:
            _, code, a, b, c = records.popleft()
            counts.record(code, a, b, c, -1)

    def clear(self) -> None:
        self.records.clear()
        self.counts = PeriodCounts()


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
