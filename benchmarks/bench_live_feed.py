"""The live feed alone: XADD-to-applied latency and CPU share at 1,000 events/s, and backfill.

A writer process adds a contact-centre mix (2,000 agents, 20 queues) at a steady rate, and
ten probe entries a second each stamped with their send time; this process runs only the
feed, and the latency is the time from just before a probe's XADD to the moment it has been
folded into the state. Run: python benchmarks/bench_live_feed.py [--seconds 20] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import time
from typing import Any

import redis

from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from wallboard.core.config import Config
from wallboard.core.ingest import RawEntry

KEY = "wallboard:events"
AGENTS = [f"agent{n:04d}" for n in range(2000)]
QUEUES = [f"queue{n:02d}" for n in range(20)]


def mix(rng: random.Random, serial: int, now: int) -> dict[str, str]:
    """One event of a plausible mix: messages dominate, then the contact lifecycle."""
    roll = rng.random()
    contact = f"c{serial // 4}"
    base = {"ts": str(now), "contact": contact, "queue": rng.choice(QUEUES), "channel": "chat"}
    if roll < 0.5:
        return {**base, "type": "contact.message", "agent": rng.choice(AGENTS)}
    if roll < 0.65:
        return {**base, "type": "contact.offered"}
    if roll < 0.8:
        return {**base, "type": "contact.answered", "agent": rng.choice(AGENTS)}
    if roll < 0.95:
        return {**base, "type": "contact.completed", "agent": rng.choice(AGENTS),
                "outcome": "order"}  # fmt: skip
    return {"type": "agent.state", "ts": str(now), "agent": rng.choice(AGENTS),
            "state": rng.choice(["available", "busy", "wrap_up", "break"])}  # fmt: skip


def writer(url: str, rate: int, seconds: float, probes_per_s: int) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    rng = random.Random(7)
    tick = 0.02
    per_tick = rate * tick
    start = time.monotonic()
    serial = 0
    owed = 0.0
    next_probe = start
    while (now_mono := time.monotonic()) - start < seconds:
        owed += per_tick
        pipe = client.pipeline(transaction=False)
        now = time.time_ns() // 1_000_000
        while owed >= 1:
            pipe.xadd(KEY, mix(rng, serial, now))  # type: ignore[arg-type]
            serial += 1
            owed -= 1
        pipe.execute()
        while next_probe <= time.monotonic():
            sent = time.time_ns()
            client.xadd(KEY, {"type": "contact.offered", "ts": str(sent // 1_000_000),
                              "contact": f"probe-{sent}", "queue": "probe"})  # fmt: skip
            next_probe += 1 / probes_per_s
        time.sleep(max(0.0, now_mono + tick - time.monotonic()))
    client.close()


class TimedFeed(LiveFeed):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latencies_ms: list[float] = []

    def _on_batch(self, batch: list[RawEntry]) -> None:
        now = time.time_ns()
        for entry in batch:
            fields = entry.fields
            if isinstance(fields, dict) and fields.get("queue") == "probe":
                sent = int(fields["contact"][6:])
                self.latencies_ms.append((now - sent) / 1e6)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(url: str, rate: int, seconds: float) -> dict[str, float]:
    feed = TimedFeed(url, [KEY], Config())
    task = asyncio.create_task(feed.run())
    while feed.status.state != "connected":
        await asyncio.sleep(0.01)
    idle_cpu, idle_wall = cpu_s(), time.monotonic()
    await asyncio.sleep(5)
    idle_share = (cpu_s() - idle_cpu) / (time.monotonic() - idle_wall)

    process = multiprocessing.Process(target=writer, args=(url, rate, seconds + 2, 10))
    process.start()
    await asyncio.sleep(2)  # warm up
    feed.latencies_ms.clear()
    applied0, cpu0, wall0 = feed.state.events_applied, cpu_s(), time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - wall0
    applied, cpu = feed.state.events_applied - applied0, cpu_s() - cpu0
    process.join()
    task.cancel()
    await asyncio.wait([task], timeout=6)
    await feed.close()
    lat = sorted(feed.latencies_ms)
    return {
        "events_per_s": applied / wall,
        "cpu_share": cpu / wall,
        "idle_cpu_share": idle_share,
        "probes": len(lat),
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))],
        "max_ms": lat[-1],
    }


async def backfill(url: str, entries: int) -> dict[str, float]:
    client = redis.Redis.from_url(url, decode_responses=True)
    client.delete(KEY)
    rng = random.Random(3)
    now = time.time_ns() // 1_000_000
    for start in range(0, entries, 5000):
        pipe = client.pipeline(transaction=False)
        for serial in range(start, min(entries, start + 5000)):
            pipe.xadd(KEY, mix(rng, serial, now - entries + serial))  # type: ignore[arg-type]
        pipe.execute()
    client.close()
    feed = LiveFeed(url, [KEY], Config())
    began = time.monotonic()
    task = asyncio.create_task(feed.run())
    while feed.status.state != "connected":
        await asyncio.sleep(0.005)
    took = time.monotonic() - began
    task.cancel()
    await asyncio.wait([task], timeout=6)
    await feed.close()
    return {"entries": feed.state.events_applied, "seconds": took,
            "entries_per_s": feed.state.events_applied / took}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--backfill", type=int, default=200_000)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        live = asyncio.run(measure(server.url, args.rate, args.seconds))
        print(f"live feed at {live['events_per_s']:.0f} events/s over {args.seconds:.0f} s:")
        print(f"  XADD -> applied latency over {live['probes']:.0f} probes: "
              f"p50 {live['p50_ms']:.2f} ms, p99 {live['p99_ms']:.2f} ms, "
              f"max {live['max_ms']:.2f} ms")  # fmt: skip
        print(f"  CPU share of one core: {live['cpu_share']:.1%} "
              f"(idle, following an empty stream: {live['idle_cpu_share']:.2%})")  # fmt: skip
        fill = asyncio.run(backfill(server.url, args.backfill))
        print(f"backfill of {fill['entries']:.0f} entries: {fill['seconds']:.2f} s "
              f"({fill['entries_per_s']:.0f} entries/s) to connected")  # fmt: skip


if __name__ == "__main__":
    main()
