"""Erlang C benchmark: microseconds per call of `required_agents` (the board's per-queue,
per-snapshot call) and of `erlang_c` at the answer, for traffic of 10, 100, 1,000 and 2,000
Erlangs (AHT 300 s, 80% in 20 s), beside the plain recurrence run from n = 0.

Run: python -m benchmarks.bench_erlang [--repeat K] [--number N]
Each figure is the median of K timeit repeats of N calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import timeit
from collections.abc import Callable
from functools import partial

from wallboard.core.erlang import erlang_c, required_agents

AHT_S = 300.0
THRESHOLD_S = 20.0
TARGET = 0.8


def full_recurrence(agents: int, traffic: float) -> float:
    """Erlang C with the recurrence from n = 0 (what the late start saves)."""
    inv_b = 1.0
    for n in range(1, agents + 1):
        inv_b = 1.0 + n / traffic * inv_b
    return agents / (traffic + (agents - traffic) * inv_b)


def median_us(call: Callable[[], object], number: int, repeat: int) -> float:
    runs = timeit.repeat(call, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'A (Erlangs)':>12} {'N':>6} {'required_agents us':>19} {'erlang_c us':>12} "
          f"{'full recurrence us':>19}")
    for traffic in (10.0, 100.0, 1000.0, 2000.0):
        calls = traffic * 3600 / AHT_S
        result = required_agents(calls, AHT_S, THRESHOLD_S, TARGET)
        n = result.required_agents
        number = max(50, args.number // max(1, int(traffic) // 100))
        solve = median_us(partial(required_agents, calls, AHT_S, THRESHOLD_S, TARGET),
                          number, args.repeat)
        one = median_us(partial(erlang_c, n, traffic), number, args.repeat)
        full = median_us(partial(full_recurrence, n, traffic), number, args.repeat)
        print(f"{traffic:>12,.0f} {n:>6} {solve:>19.1f} {one:>12.1f} {full:>19.1f}")


if __name__ == "__main__":
    main()
