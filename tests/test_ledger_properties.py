"""The queue ledger counts in bulk (array slices, late records put in place at settle); it must
give exactly what counting each record by itself gives, whatever the order they came in."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.core.metrics import PERIOD_FIELDS, PeriodCounts, QueueLedger

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


ring_step = st.one_of(st.tuples(st.just("add"), st.integers(0, 200)),
                      st.tuples(st.just("count"), st.integers(0, 60)),
                      st.tuples(st.just("pickle"), st.just(0)))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(ring_step, max_size=80))
def test_time_ring_counts_what_a_list_of_times_counts(steps: list[tuple[str, int]]) -> None:
    """Times are kept in a list until the next count, then moved into the array in bulk; a
    late time goes into its place. Counted at any moment, before or after a checkpoint's
    pickling, the ring gives the count of (as_of - span, as_of] over every time added."""
    import pickle

    from wallboard.core.metrics import TimeRing

    span = 30
    ring = TimeRing(span)
    added: list[int] = []
    as_of = 0
    for action, value in steps:
        if action == "add":
            ring.add(value)
            added.append(value)
            as_of = max(as_of, value)
            assert ring.upper_count() >= sum(1 for t in added if t > as_of - span)
        elif action == "count":
            as_of += value  # counts only move forward, as the board's clock does
            assert ring.count(as_of) == sum(1 for t in added if as_of - span < t <= as_of)
        else:
            ring = pickle.loads(pickle.dumps(ring, protocol=pickle.HIGHEST_PROTOCOL))
    assert ring.count(as_of) == sum(1 for t in added if as_of - span < t <= as_of)


def test_time_ring_moves_a_long_uncounted_run_into_its_array() -> None:
    """A ring nobody counts (a queue's, between snapshots) does not grow a list without end:
    every 4,096 times go into the compact array."""
    from wallboard.core.metrics import TimeRing

    ring = TimeRing(10_000)
    for ts in range(10_000):
        ring.add(ts)
    assert len(ring.times) == 8_192 and len(ring.new) == 10_000 - 8_192
    assert ring.count(9_999) == 10_000  # (-1, 9999]: all of them


def test_a_ledger_pickled_between_settles_keeps_its_new_records() -> None:
    """Records appended since the last settle wait in lists; a checkpoint taken then keeps
    them, and the restored ledger counts them at its next settle."""
    import pickle

    ledger = QueueLedger(SPAN)
    ledger.offer(100)
    ledger.answer(150, 50, 1)
    ledger.settle(0, 150)
    ledger.offer(200)
    ledger.abandon(260, 1, 1)
    ledger.handle(300, 150)
    restored = pickle.loads(pickle.dumps(ledger, protocol=pickle.HIGHEST_PROTOCOL))
    restored.settle(0, 300)
    # offers 100, 200; answer 150 (wait 50, within); abandon 260 (short, within);
    # handle 300 (150 ms): all inside (300 - 1000, 300]
    assert _fields(restored.window) == _fields(_expected(
        [(0, 100, 0, 0, 0), (1, 150, 50, 1, 0), (0, 200, 0, 0, 0), (2, 260, 0, 1, 1),
         (4, 300, 150, 0, 0)], lambda t: True))  # fmt: skip
