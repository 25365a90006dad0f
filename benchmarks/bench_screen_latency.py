"""XADD to the screen: the latency from a probe's XADD to the refreshed frame that shows it.

A writer process adds the live-feed benchmark's mix (2,000 agents, 20 queues) at --rate events/s
plus ten probe offers a second into the queue `probe`, each stamped with its send time. This
process runs the real board (LiveFeed + WallboardApp, headless at 200x56, display.refresh_hz
from the config, default 4). After every tick the app asks for a callback after the next
screen refresh; the probes that snapshot counted are then on the rendered frame, and their
latency is that moment minus their send time.

    python benchmarks/bench_screen_latency.py [--seconds 20] [--rate 1000] [--refresh-hz 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import time

from benchmarks.bench_live_feed import KEY, writer
from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from wallboard.app import WallboardApp
from wallboard.app_source import wall_clock
from wallboard.config import Config, DisplaySection


class TimedBoard(WallboardApp):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen: set[str] = set()
        self.latencies_ms: list[float] = []
        self.recording = False

    def tick(self) -> None:
        super().tick()
        queue = self.source.state.queues.get("probe")
        if queue is None:
            return
        fresh = [c for c in queue.waiting if c not in self.seen]
        if fresh:
            self.seen.update(fresh)
            self.call_after_refresh(self._on_screen, fresh)

    def _on_screen(self, probes: list[str]) -> None:
        now = time.time_ns()
        if self.recording:
            self.latencies_ms += [(now - int(c[6:])) / 1e6 for c in probes]


async def measure(url: str, rate: int, seconds: float, refresh_hz: float) -> dict[str, float]:
    config = Config(display=DisplaySection(refresh_hz=refresh_hz))
    feed = LiveFeed(url, [KEY], config, clock=wall_clock)
    app = TimedBoard(feed, config, wall_clock, page="overview")
    async with app.run_test(size=(200, 56)):
        while feed.status.state != "connected":
            await asyncio.sleep(0.05)
        process = multiprocessing.Process(target=writer, args=(url, rate, seconds + 3, 10))
        process.start()
        await asyncio.sleep(3)  # warm up
        app.recording = True
        await asyncio.sleep(seconds)
        app.recording = False
        process.join()
    lat = sorted(app.latencies_ms)
    return {
        "probes": len(lat),
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))],
        "max_ms": lat[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--refresh-hz", type=float, nargs="+", default=[4.0])
    args = parser.parse_args()
    server = EmbeddedServer()
    url = server.start()
    try:
        print(f"machine: {platform.processor() or platform.machine()}, "
              f"python {platform.python_version()}")  # fmt: skip
        for hz in args.refresh_hz:
            result = asyncio.run(measure(url, args.rate, args.seconds, hz))
            print(f"refresh {hz:g} Hz, {args.rate} ev/s background: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
