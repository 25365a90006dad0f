"""The HTTP ingest gateway with a real server: accepted events/s and latency for batches of 1
and of 500 events. `wallboard ingest` runs as its own process against an embedded server; a
load generator in this process (aiohttp, a fixed number of requests in flight, loopback) sends
a bounded number of requests for at most a bounded time. Half the events carry an `id`, so
the idempotency path is measured too.

Run: python benchmarks/bench_ingest.py [--seconds 15] [--requests-1 20000] [--requests-500 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from feeds.embedded import EmbeddedServer, free_port

TOKEN = "bench-token-0123456789abcdef"
TS = 1_794_369_600_000


def batch(serial: int, size: int) -> list[dict[str, Any]]:
    out = []
    for n in range(size):
        number = serial * size + n
        event: dict[str, Any] = {"type": "contact.offered", "ts": TS + number, "contact":
                                 f"c{number}", "queue": f"q{number % 20}", "channel": "chat"}
        if number % 2:
            event["id"] = f"bench-{number}"
        out.append(event)
    return out


async def load(url: str, size: int, requests: int, in_flight: int,
               seconds: float) -> dict[str, float]:  # fmt: skip
    latencies: list[float] = []
    accepted = 0
    statuses: dict[int, int] = {}
    bodies = [batch(n, size) for n in range(min(requests, 2000 if size == 1 else requests))]
    next_request = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_request, accepted
        while next_request < requests and time.perf_counter() < deadline:
            serial = next_request
            next_request += 1
            body = bodies[serial % len(bodies)] if size > 1 else batch(serial, 1)
            started = time.perf_counter()
            async with session.post(url, json=body, headers=headers) as response:
                answer = await response.json()
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 202:
                accepted += answer["accepted"]

    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(in_flight)))
        wall = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "events_per_s": accepted / wall, "wall_s": wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "non_202": sum(count for code, count in statuses.items() if code != 202)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--requests-1", type=int, default=20_000)
    parser.add_argument("--requests-500", type=int, default=400)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    with EmbeddedServer() as server, tempfile.TemporaryDirectory() as folder:
        tokens = Path(folder) / "tokens"
        tokens.write_text(TOKEN + "\n")
        port = free_port()
        gateway = subprocess.Popen(
            [sys.executable, "-m", "wallboard", "ingest", "--redis", server.url, "--port",
             str(port), "--tokens-file", str(tokens), "--rate", "1000000", "--burst",
             "1000000", "--max-body", str(4 << 20)], start_new_session=True,
            stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"

            async def ready() -> None:
                async with aiohttp.ClientSession() as session:
                    for _ in range(400):
                        try:
                            async with session.get(f"{url}/healthz") as response:
                                if response.status == 200:
                                    return
                        except aiohttp.ClientConnectionError:
                            pass
                        await asyncio.sleep(0.05)
                raise SystemExit("gateway did not start")

            asyncio.run(ready())
            for size, requests in ((1, args.requests_1), (500, args.requests_500)):
                result = asyncio.run(load(f"{url}/v1/events", size, requests, args.in_flight,
                                          args.seconds))  # fmt: skip
                print(f"batch {size:>3}: {result['requests']:>6} requests in "
                      f"{result['wall_s']:.1f} s, {result['events_per_s']:>9,.0f} events/s, "
                      f"latency p50 {result['p50_ms']:.1f} ms p99 {result['p99_ms']:.1f} ms, "
                      f"non-202 {result['non_202']}")  # fmt: skip
        finally:
            os.killpg(gateway.pid, signal.SIGTERM)
            gateway.wait(10)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
