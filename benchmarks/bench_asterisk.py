"""The Asterisk adapter on a generated 1,000,000-line queue_log: lines/s parsing and mapping
alone, and end to end (`--once` into an embedded server, idempotency keys included).

Run: python benchmarks/bench_asterisk.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import redis

from feeds.asterisk_tail import Tailer
from feeds.embedded import EmbeddedServer
from feeds.ingest_store import BatchWriter

QUEUES = [f"q{n}" for n in range(10)]
AGENTS = [f"PJSIP/{1000 + n}" for n in range(200)]


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Calls of 3 lines (ENTERQUEUE, CONNECT, COMPLETE*), some abandoned (2 lines), and now
    and then a pause or unpause."""
    rng = random.Random(seed)
    now = 1_794_340_000
    written = 0
    call = 0
    with path.open("w") as handle:
        while written < lines:
            now += rng.randint(0, 2)
            call += 1
            callid = f"{now}.{call}"
            queue = rng.choice(QUEUES)
            agent = rng.choice(AGENTS)
            hold = rng.randint(1, 90)
            out = [f"{now}|{callid}|{queue}|NONE|ENTERQUEUE||1380000{call % 10000:04d}|1"]
            if rng.random() < 0.1:
                out.append(f"{now + hold}|{callid}|{queue}|NONE|ABANDON|1|1|{hold}")
            else:
                talk = rng.randint(30, 600)
                out.append(f"{now + hold}|{callid}|{queue}|{agent}|CONNECT|{hold}|x.{call}|3")
                out.append(f"{now + hold + talk}|{callid}|{queue}|{agent}|COMPLETECALLER|"
                           f"{hold}|{talk}|1")  # fmt: skip
            if rng.random() < 0.05:
                kind = rng.choice(["PAUSE|lunch", "UNPAUSE|"])
                out.append(f"{now}|NONE|{queue}|{agent}|{kind}")
            out = out[: lines - written]
            handle.write("\n".join(out) + "\n")
            written += len(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "queue_log"
        began = time.perf_counter()
        generate(log, args.lines)
        print(f"generated {args.lines:,} lines ({log.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip

        tailer = Tailer(log, Path(folder) / "parse-state.json", lambda events: 0)
        began, cpu = time.perf_counter(), time.process_time()
        tailer.catch_up().close()
        wall, used = time.perf_counter() - began, time.process_time() - cpu
        stats = tailer.stats
        print(f"parse + map + state: {stats.lines / wall:,.0f} lines/s ({stats.events:,} events, "
              f"{wall:.1f} s wall, {used:.1f} s CPU)")  # fmt: skip

        with EmbeddedServer() as server:
            client = redis.Redis.from_url(server.url, decode_responses=True)
            writer = BatchWriter(client, "wallboard:events", 3_600_000)

            def sink(events: list[dict[str, str]]) -> int:
                duplicates = 0
                for start in range(0, len(events), 500):
                    written = writer.write(events[start:start + 500])
                    duplicates += sum(1 for item in written if item.duplicate)
                return duplicates

            tailer = Tailer(log, Path(folder) / "state.json", sink)
            began, cpu = time.perf_counter(), time.process_time()
            tailer.catch_up().close()
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            stats = tailer.stats
            length = client.xlen("wallboard:events")
            print(f"end to end into Redis: {stats.lines / wall:,.0f} lines/s, "
                  f"{stats.events / wall:,.0f} events/s ({wall:.1f} s wall, {used:.1f} s CPU "
                  f"in the adapter; stream length {length:,})")  # fmt: skip
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
