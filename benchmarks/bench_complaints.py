"""Complaints benchmark: the cost of the complaint figures a snapshot reads, and of the
`complaint_overdue` rule's per-second count, for 1,000, 10,000 and 50,000 complaints in the
8-day lookback (30% key, a third called back, some closed).

Run: python -m benchmarks.bench_complaints [--repeat K] [--number N]
Each figure is the median of K timeit repeats of N calls, in milliseconds (figures) or
microseconds (the cached per-second count, and a fresh recount).
"""

from __future__ import annotations

import argparse
import random
import statistics
import timeit
from collections.abc import Callable

from wallboard.core.config import Config
from wallboard.core.events import Event, decode
from wallboard.core.fold import BoardState

HOUR = 3_600_000
NOW = 1_794_369_600_000  # 2026-11-11 10:00 +08:00


def state_with(count: int, seed: int = 1) -> BoardState:
    rng = random.Random(seed)
    state = BoardState(Config())
    departments = ["warehouse", "operations", "finance", "product", "logistics"]
    for n in range(count):
        opened = NOW - int(rng.uniform(0, 190) * HOUR)
        fields = [{"type": "complaint.opened", "ts": str(opened), "complaint": f"k{n}",
                   "key": "true" if rng.random() < 0.3 else "false",
                   "department": rng.choice(departments), "shop": f"shop{n % 40}"}]
        if rng.random() < 0.33:
            fields.append({"type": "complaint.callback", "ts": str(opened + 20 * HOUR),
                           "complaint": f"k{n}"})
        if rng.random() < 0.3:
            fields.append({"type": "complaint.closed", "ts": str(opened + 30 * HOUR),
                           "complaint": f"k{n}"})
        for item in fields:
            event = decode(item)
            assert isinstance(event, Event)
            state.apply(event)
    state.advance(NOW)
    return state


def median(call: Callable[[], object], number: int, repeat: int) -> float:
    return statistics.median(timeit.repeat(call, number=number, repeat=repeat)) / number


def measure(count: int, number: int, repeat: int) -> tuple[float, float, float]:
    """(figures s, cached overdue count s, recounted overdue count s) for `count` complaints."""
    state = state_with(count)
    book = state.complaints
    day_start = state.day.start_ms if state.day is not None else None
    figures = median(lambda: book.figures(NOW, day_start), number, repeat)
    book.overdue_count(NOW)
    cached = median(lambda: book.overdue_count(NOW), number * 100, repeat)

    def recount() -> int:
        book._overdue = None  # what an event costs the rule's next second
        return book.overdue_count(NOW)

    return figures, cached, median(recount, number, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=20)
    args = parser.parse_args()
    print(f"{'complaints':>10} {'figures ms':>11} {'overdue cached us':>18} {'recount us':>11}")
    for count in (1_000, 10_000, 50_000):
        figures, cached, fresh = measure(count, args.number, args.repeat)
        print(f"{count:>10,} {figures * 1e3:>11.2f} {cached * 1e6:>18.2f} {fresh * 1e6:>11.0f}")


if __name__ == "__main__":
    main()
