"""The queue ledger counts in bulk (array slices, late records put in place at settle); it must
give exactly what counting each record by itself gives, whatever the order they came in."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.metrics import PERIOD_FIELDS, PeriodCounts, QueueLedger

Record = tuple[int, int, int, int, int]
SPAN = 1_000
# Small times for the property: ties at the window's edge and the day's start are common.
SMALL_SPAN = 20
SMALL_DAY_START = 25

record = st.tuples(st.integers(0, 4), st.integers(0, 60), st.integers(0, 90_000),
                   st.integers(0, 1), st.integers(0, 1))  # fmt: skip
# "settle" at the newest time, or a clock moved on by n ms with nothing new, then settle
step = st.one_of(record, st.just("settle"), st.integers(1, 30))


def _expected(records: list[Record], keep: Callable[[int], bool]) -> PeriodCounts:
    counts = PeriodCounts()
    for kind, ts, a, b, c in records:
        if not keep(ts):
            continue
        if kind == 0:
            counts.offered += 1
        elif kind == 1:
            counts.answered += 1
            counts.wait_ms += a
            counts.answered_within += b
        elif kind == 2:
            counts.abandoned += 1
            counts.short_abandoned += b
            counts.abandoned_within += c
        elif kind == 3:
            counts.transferred_out += 1
        else:
            counts.handled += 1
            counts.handle_ms += a
    return counts


def _fields(counts: PeriodCounts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in PERIOD_FIELDS}


@settings(max_examples=400, deadline=None)
@given(st.lists(step, max_size=80))
def test_bulk_counting_equals_counting_each_record(steps: list[Record | str | int]) -> None:
    ledger = QueueLedger(SMALL_SPAN)
    seen: list[Record] = []
    as_of = 0
    for item in [*steps, "settle"]:
        if isinstance(item, int):
            as_of += item  # the clock moves on (advance): records leave the window
        if isinstance(item, str | int):
            ledger.settle(SMALL_DAY_START, as_of)
            cut = as_of - SMALL_SPAN

            def in_window(t: int, cut: int = cut) -> bool:
                return t > cut

            assert _fields(ledger.today) == _fields(_expected(seen, lambda t: t >= SMALL_DAY_START))
            assert _fields(ledger.before_today) == _fields(
                _expected(seen, lambda t: t < SMALL_DAY_START))
            assert _fields(ledger.window) == _fields(_expected(seen, in_window))
            continue
        kind, ts, a, b, c = item
        as_of = max(as_of, ts)  # the fold's as_of is the newest time folded
        seen.append((kind, ts, a, b, c))
        if kind == 0:
            ledger.offer(ts)
        elif kind == 1:
            ledger.answer(ts, a, b)
        elif kind == 2:
            ledger.abandon(ts, b, c)
        elif kind == 3:
            ledger.transfer_out(ts)
        else:
            ledger.handle(ts, a)


def test_expired_prefix_is_dropped_and_counts_stay() -> None:
    """10,000 offers a millisecond apart, a window of 1 s: the arrays drop what expired."""
    ledger = QueueLedger(SPAN)
    for ts in range(10_000):
        ledger.offer(ts)
    ledger.settle(0, 9_999)  # window (8999, 9999]: 1,000 offers
    assert ledger.window.offered == 1_000
    assert ledger.today.offered == 10_000
    assert len(ledger.offers.ts) == 1_000  # the 9,000 expired were cut off
    ledger.offer(10_000)
    ledger.offer(9_500)  # late, still inside the window
    ledger.offer(8_000)  # late, already outside the window
    ledger.settle(0, 10_000)  # window (9000, 10000]
    assert ledger.window.offered == 1_001  # 9001..10000 and the late 9500
    assert ledger.today.offered == 10_003
