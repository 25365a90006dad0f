"""Queue counters for a period (the business day, or a rolling window) and the industry ratios.

Definitions (docs/metrics.md has the full text):
- answered_within: answered with wait <= T; short_abandoned: abandoned with wait < S.
- service level by formula; ASA = mean wait of answered; AHT = mean (completed - answered),
  wrap-up included; abandon rate = abandoned / (answered + abandoned).
- Every ratio or mean is None when its denominator is empty: never 0 or 1 by default.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import ClassVar, Final

from mypy_extensions import mypyc_attr

from wallboard.core.config import Formula

# A constant, not `PeriodCounts.__slots__`: a compiled (mypyc) class has no __slots__ to read.
PERIOD_FIELDS: Final = (
    "abandoned", "abandoned_within", "answered", "answered_within", "first_round_ms",
    "first_rounds", "handle_ms", "handled", "offered", "round_ms", "rounds", "rounds_replied",
    "rounds_unanswered", "rounds_within", "short_abandoned", "transferred_out", "wait_ms",
)


class PeriodCounts:
    """Counters of one period, attributed by the time each thing happened."""

    __slots__ = PERIOD_FIELDS

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
        # Response rounds settled (docs/metrics.md): closed by a reply, of those within the
        # response threshold, settled unanswered (at the cap or when the contact ended); the
        # sum of their response times (capped); the contacts' first rounds and their times.
        self.rounds = 0
        self.rounds_replied = 0
        self.rounds_within = 0
        self.rounds_unanswered = 0
        self.round_ms = 0
        self.first_rounds = 0
        self.first_round_ms = 0

    def merge(self, other: PeriodCounts) -> None:
        for name in PERIOD_FIELDS:
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

    def add_round(self, response_ms: int, replied: int, within: int, first: int) -> None:
        """One settled response round, counted at once (an agent's day; a queue's periods
        come from its ledger)."""
        self.rounds += 1
        self.round_ms += response_ms
        self.rounds_replied += replied
        self.rounds_within += within
        self.rounds_unanswered += 1 - replied
        if first:
            self.first_rounds += 1
            self.first_round_ms += response_ms

    def response_rate(self) -> float | None:
        return self.rounds_within / self.rounds if self.rounds else None

    def avg_response_s(self) -> float | None:
        return self.round_ms / self.rounds / 1000 if self.rounds else None

    def first_response_s(self) -> float | None:
        return self.first_round_ms / self.first_rounds / 1000 if self.first_rounds else None


@mypyc_attr(serializable=True)  # replay checkpoints pickle it
class _Series:
    """Records of one kind (offers, answers, ...) in time order as parallel arrays: the time,
    and one column per value the record carries. `counted` records have been counted into the
    periods; from `head` on they are in the rolling window. A record older than the newest
    (rare: a late event) waits in `late` until the next settle puts it in place.

    A settle counts the new records and the expired ones over index ranges (a slice `sum`
    runs in C), so it costs a few operations per kind, not a few calls per record. Each kind
    names its PeriodCounts fields: the count, then one per column."""

    __slots__ = ("cols", "counted", "head", "last", "late", "new_cols", "new_ts", "ts")
    FIELDS: ClassVar[tuple[str, ...]]
    CODES: ClassVar[str]

    def __init__(self) -> None:
        self.ts = array("q")
        self.cols = tuple(array(code) for code in self.CODES)
        # Records appended since the last settle, as lists: an int appended to an array goes
        # through argument parsing (several times the cost of a list append); `fromlist` at
        # the settle converts them in bulk.
        self.new_ts: list[int] = []
        self.new_cols: list[list[int]] = [[] for _ in self.CODES]
        self.counted = 0
        self.head = 0
        self.last = -(1 << 60)  # the newest time appended
        self.late: list[tuple[int, ...]] = []

    def flush(self) -> None:
        """Move the records appended since the last settle into the arrays."""
        new_ts = self.new_ts
        if not new_ts:
            return
        cols, new_cols = self.cols, self.new_cols
        if len(new_ts) == 1:  # most flushes of most queues: `append` costs a third of `fromlist`
            self.ts.append(new_ts[0])
            for i in range(len(cols)):
                cols[i].append(new_cols[i][0])
                new_cols[i].clear()
        else:
            self.ts.fromlist(new_ts)
            for i in range(len(cols)):
                cols[i].fromlist(new_cols[i])
                new_cols[i].clear()
        new_ts.clear()

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        """Count records lo..hi into `period` (sign -1: take them out), and into `also` when
        given (the window and today: summed once); each kind spells out its fields."""
        raise NotImplementedError

    def _add_values(self, period: PeriodCounts, sums: list[int]) -> None:
        """One record's count and values by field name: the slow path of late records."""
        for name, value in zip(self.FIELDS, sums, strict=True):
            setattr(period, name, getattr(period, name) + value)

    def settle(self, day_start: int, cut: int, today: PeriodCounts, before: PeriodCounts,
               window: PeriodCounts) -> bool:  # fmt: skip
        """Count what came since the last settle; take what is at or before `cut` out of the
        window. True when a count changed."""
        times = self.ts
        end, counted, head = len(times), self.counted, self.head
        changed = end > counted or bool(self.late)
        if end > counted:
            if times[counted] >= day_start:  # all of them today: the common case
                self._add(window, counted, end, 1, today)
            else:
                self._add(window, counted, end)
                split = bisect_left(times, day_start, counted, end)
                self._add(before, counted, split)
                self._add(today, split, end)
            self.counted = end
        if self.late:
            self._place_late(day_start, cut, today, before, window)
            end = len(times)
        if head < end and times[head] <= cut:
            stop = bisect_right(times, cut, head, end)
            self._add(window, head, stop, -1)
            head = self.head = stop
            changed = True
            if head > 4096 and head * 2 > end:  # drop the expired prefix now and then
                for column in (times, *self.cols):
                    del column[:head]
                self.head = 0
                self.counted = end - head
        return changed

    def _place_late(self, day_start: int, cut: int, today: PeriodCounts,
                    before: PeriodCounts, window: PeriodCounts) -> None:  # fmt: skip
        times, cols = self.ts, self.cols
        for ts, *values in self.late:
            sums = [1, *values]
            self._add_values(today if ts >= day_start else before, sums)
            if ts > cut:  # still in the window: into it, in its place
                i = bisect_right(times, ts, self.head)
                times.insert(i, ts)
                for column, value in zip(cols, values, strict=True):
                    column.insert(i, value)
                self._add_values(window, sums)
                self.counted += 1
        self.late.clear()


class _Offers(_Series):
    __slots__ = ()
    FIELDS = ("offered",)
    CODES = ""

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        period.offered += sign * (hi - lo)
        if also is not None:
            also.offered += sign * (hi - lo)


class _Transfers(_Series):
    __slots__ = ()
    FIELDS = ("transferred_out",)
    CODES = ""

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        period.transferred_out += sign * (hi - lo)
        if also is not None:
            also.transferred_out += sign * (hi - lo)


class _Answers(_Series):
    __slots__ = ()
    FIELDS = ("answered", "wait_ms", "answered_within")
    CODES = "qb"  # wait ms, answered within the threshold (0/1)

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        wait, within = self.cols
        n = sign * (hi - lo)
        if hi - lo == 1:  # most settles of a quiet queue: no slice
            wait_ms, inside = sign * wait[lo], sign * within[lo]
        else:
            wait_ms, inside = sign * sum(wait[lo:hi]), sign * sum(within[lo:hi])
        for p in (period,) if also is None else (period, also):
            p.answered += n
            p.wait_ms += wait_ms
            p.answered_within += inside


class _Abandons(_Series):
    __slots__ = ()
    FIELDS = ("abandoned", "short_abandoned", "abandoned_within")
    CODES = "bb"  # short abandon (0/1), abandoned within the threshold (0/1)

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        short, within = self.cols
        n = sign * (hi - lo)
        if hi - lo == 1:
            shorts, inside = sign * short[lo], sign * within[lo]
        else:
            shorts, inside = sign * sum(short[lo:hi]), sign * sum(within[lo:hi])
        for p in (period,) if also is None else (period, also):
            p.abandoned += n
            p.short_abandoned += shorts
            p.abandoned_within += inside


class _Handles(_Series):
    __slots__ = ()
    FIELDS = ("handled", "handle_ms")
    CODES = "q"  # handle ms

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        (handle,) = self.cols
        n = sign * (hi - lo)
        ms = sign * (handle[lo] if hi - lo == 1 else sum(handle[lo:hi]))
        for p in (period,) if also is None else (period, also):
            p.handled += n
            p.handle_ms += ms


class _Rounds(_Series):
    __slots__ = ()
    FIELDS = ("rounds", "round_ms", "rounds_replied", "rounds_within", "rounds_unanswered",
              "first_rounds", "first_round_ms")  # fmt: skip
    # response ms (capped), replied, within, unanswered, first round (0/1), its response ms
    CODES = "qbbbbq"

    def _add(self, period: PeriodCounts, lo: int, hi: int, sign: int = 1,
             also: PeriodCounts | None = None) -> None:  # fmt: skip
        ms, replied, within, unanswered, first, first_ms = self.cols
        n = sign * (hi - lo)
        if hi - lo == 1:
            total, answered, inside = sign * ms[lo], sign * replied[lo], sign * within[lo]
            missed, firsts, first_total = sign * unanswered[lo], sign * first[lo], \
                sign * first_ms[lo]  # fmt: skip
        else:
            total, answered = sign * sum(ms[lo:hi]), sign * sum(replied[lo:hi])
            inside, missed = sign * sum(within[lo:hi]), sign * sum(unanswered[lo:hi])
            firsts, first_total = sign * sum(first[lo:hi]), sign * sum(first_ms[lo:hi])
        for p in (period,) if also is None else (period, also):
            p.rounds += n
            p.round_ms += total
            p.rounds_replied += answered
            p.rounds_within += inside
            p.rounds_unanswered += missed
            p.first_rounds += firsts
            p.first_round_ms += first_total


# Later than any event time, and a short int to mypyc (under 2**62): compares stay native.
_NEVER: Final = 1 << 60


# Pickled by replay checkpoints, and built from Python code: mypyc (2.4.1) runs the
# __init__ of a serializable class called from Python only when it allows subclasses there.
@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class QueueLedger:
    """Counts of one queue for today, for earlier days, and for the rolling window
    (as_of - span, as_of], kept exact.

    The fold's hot path only appends a record's time and values to its kind's arrays;
    `settle()` - every second of fold time, before every snapshot and at the day boundary -
    counts them into the periods in bulk and drops what left the window. Same numbers as
    counting each record at once, at a fraction of the cost per event. 1,000 events/s keep
    over a million window records for 30 minutes: as arrays, 8-17 bytes a record. A settle
    with nothing new and nothing due to leave the window returns at once (most seconds of
    most queues on a replayed day).
    """

    __slots__ = ("abandons", "answers", "before_today", "expires_after", "fresh", "handles",
                 "offers", "replied_today", "rounds", "span_ms", "today", "transfers",
                 "window")  # fmt: skip

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.today = PeriodCounts()
        self.before_today = PeriodCounts()  # earlier days and late events: the lifetime rest
        self.window = PeriodCounts()
        self.offers = _Offers()
        self.answers = _Answers()
        self.abandons = _Abandons()
        self.transfers = _Transfers()
        self.handles = _Handles()
        self.rounds = _Rounds()
        # A `contact.reply` came here this business day: response figures are measured only
        # where replies come (docs/metrics.md, "Not measured yet").
        self.replied_today = False
        self.fresh = False  # records added since the last settle
        self.expires_after = _NEVER  # a cut at or past this takes a record out of the window

    # The hot path: one call per counted thing, a few appends.

    def offer(self, ts: int) -> None:
        self.fresh = True
        s = self.offers
        if ts >= s.last:
            s.new_ts.append(ts)
            s.last = ts
        else:
            s.late.append((ts,))

    def answer(self, ts: int, wait_ms: int, within: int) -> None:
        self.fresh = True
        s = self.answers
        if ts >= s.last:
            s.new_ts.append(ts)
            cols = s.new_cols
            cols[0].append(wait_ms)
            cols[1].append(within)
            s.last = ts
        else:
            s.late.append((ts, wait_ms, within))

    def abandon(self, ts: int, short: int, within: int) -> None:
        self.fresh = True
        s = self.abandons
        if ts >= s.last:
            s.new_ts.append(ts)
            cols = s.new_cols
            cols[0].append(short)
            cols[1].append(within)
            s.last = ts
        else:
            s.late.append((ts, short, within))

    def transfer_out(self, ts: int) -> None:
        self.fresh = True
        s = self.transfers
        if ts >= s.last:
            s.new_ts.append(ts)
            s.last = ts
        else:
            s.late.append((ts,))

    def handle(self, ts: int, handle_ms: int) -> None:
        self.fresh = True
        s = self.handles
        if ts >= s.last:
            s.new_ts.append(ts)
            s.new_cols[0].append(handle_ms)
            s.last = ts
        else:
            s.late.append((ts, handle_ms))

    def round(self, ts: int, response_ms: int, replied: int, within: int, first: int) -> None:
        """A response round settled at `ts`: closed by a reply (`replied` 1) or unanswered."""
        self.fresh = True
        s = self.rounds
        first_ms = response_ms if first else 0
        if ts >= s.last:
            s.new_ts.append(ts)
            cols = s.new_cols
            cols[0].append(response_ms)
            cols[1].append(replied)
            cols[2].append(within)
            cols[3].append(1 - replied)
            cols[4].append(first)
            cols[5].append(first_ms)
            s.last = ts
        else:
            s.late.append((ts, response_ms, replied, within, 1 - replied, first, first_ms))

    def settle(self, day_start: int, as_of: int) -> bool:
        """True when a count changed (records came in, or left the window)."""
        cut = as_of - self.span_ms
        if not self.fresh and cut < self.expires_after:
            return False
        today, before, window = self.today, self.before_today, self.window
        changed = False
        oldest = _NEVER
        for series in (self.offers, self.answers, self.abandons, self.transfers, self.handles,
                       self.rounds):  # fmt: skip
            series.flush()
            times = series.ts
            end, head = len(times), series.head
            # Only a kind with something new or something due to leave the window.
            if end > series.counted or series.late or (head < end and times[head] <= cut):
                if series.settle(day_start, cut, today, before, window):
                    changed = True
                end, head = len(times), series.head
            if head < end and times[head] < oldest:
                oldest = times[head]
        self.fresh = False
        self.expires_after = oldest
        return changed

    def start_day(self) -> None:
        """Call after `settle` with the old day: today's counts move to the earlier days."""
        self.before_today.merge(self.today)
        self.today = PeriodCounts()
        self.replied_today = False

    def lifetime(self) -> PeriodCounts:
        """Everything counted, all days together (after `settle`)."""
        total = PeriodCounts()
        total.merge(self.before_today)
        total.merge(self.today)
        return total


class TimeRing:
    """Times of things (answers, messages) for a rolling count over (as_of - span, as_of],
    as a compact array (an hour of 1,000 messages a second is 3.6 million times)."""

    __slots__ = ("head", "last", "new", "span_ms", "times")

    def __init__(self, span_ms: int) -> None:
        self.span_ms = span_ms
        self.times = array("q")
        self.head = 0  # the first time still counted
        # Times added since the last count, as a list: appended to the array one by one they
        # would each go through argument parsing; `fromlist` converts them in bulk.
        self.new: list[int] = []
        # The newest time added (-1: none yet): read back from the array, it would be a new
        # int object on every add.
        self.last = -1

    def __reduce__(self) -> tuple[Callable[[int, array[int], int, int, list[int]], TimeRing],
                                  tuple[object, ...]]:  # fmt: skip
        # A tuple: faster to pickle than the attribute dict.
        return _ring_from, (self.span_ms, self.times, self.head, self.last, self.new)

    def add(self, ts: int) -> None:
        if ts >= self.last:
            self.new.append(ts)
            self.last = ts
            if len(self.new) >= 4096:  # a ring nobody counts (a queue's, between snapshots)
                self.flush()
        else:  # late: in place (rare)
            self.flush()
            self.times.insert(bisect_right(self.times, ts, self.head), ts)

    def flush(self) -> None:
        if self.new:
            self.times.fromlist(self.new)
            self.new.clear()

    def upper_count(self) -> int:
        """`count()` at the last count plus everything added since: at least `count(as_of)`
        for any later as_of, without moving the head."""
        return len(self.times) - self.head + len(self.new)

    def count(self, as_of: int) -> int:
        self.flush()
        cut = as_of - self.span_ms
        times, head = self.times, self.head
        end = len(times)
        if head < end and times[head] <= cut:
            head = bisect_right(times, cut, head)
            # Drop the dead prefix once it is half the array: amortised O(1) a time, and an
            # agent's ring of a few hundred times a day stays small over days of running.
            if head > 64 and head * 2 > end:
                del times[:head]
                head = 0
            self.head = head
        return len(times) - head

    def trim(self, as_of: int) -> int:
        """`count(as_of)`, and every time before the window dropped for good (before a
        checkpoint is pickled)."""
        count = self.count(as_of)
        if self.head:
            del self.times[: self.head]
            self.head = 0
        return count


def _ring_from(span_ms: int, times: array[int], head: int, last: int,
               new: list[int]) -> TimeRing:  # fmt: skip
    ring = TimeRing(span_ms)
    ring.times, ring.head, ring.last, ring.new = times, head, last, new
    return ring
