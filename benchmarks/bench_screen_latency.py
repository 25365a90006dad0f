"""XADD to the screen: the latency from a probe's XADD to the refreshed frame that shows it.

A writer process adds the live-feed benchmark's mix (2,000 agents, 20 queues) at --rate events/s
plus ten probe offers a second into the queue `probe`, each stamped with its send time. This
process runs the real board (LiveFeed + WallboardApp, headless at 200x56, display.refresh_hz
default 4, display.headline_hz default 10). After every full tick and every headline-lane tick
the app reads the count the `probe` tile was given (probes only accumulate, so the first that
many probes in fold order are the ones it counts) and asks for a callback after the next screen
refresh; the probes new on the tile are then on the rendered frame, and their latency is that
moment minus their send time. Each probe is credited to the lane that first put it on the tile.

    python benchmarks/bench_screen_latency.py [--seconds 20] [--rate 1000] [--refresh-hz 4]
        [--headline-hz 10] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import time

import redis

from benchmarks.bench_live_feed import KEY, writer
from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from wallboard.app.board import WallboardApp
from wallboard.app.sources import wall_clock
from wallboard.core.config import Config, DisplaySection


class TimedBoard(WallboardApp):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen: set[str] = set()
        self.latencies_ms: list[float] = []
        self.lanes: dict[str, int] = {"full": 0, "headline": 0}
        self.recording = False

    def tick(self) -> None:
        super().tick()
        self._note("full")

    def tick_headline(self) -> None:
        super().tick_headline()
        self._note("headline")

    def _note(self, lane: str) -> None:
        queue = self.source.state.queues.get("probe")
        on_tile = next((q.waiting for q in self.tiles.queues if q.queue == "probe"), 0)
        if queue is None or not on_tile:
            return
        fresh = [c for c in list(queue.waiting)[:on_tile] if c not in self.seen]
        if fresh:
            self.seen.update(fresh)
            self.call_after_refresh(self._on_screen, fresh, lane)

    def _on_screen(self, probes: list[str], lane: str) -> None:
        now = time.time_ns()
        if self.recording:
            self.latencies_ms += [(now - int(c[6:])) / 1e6 for c in probes]
            self.lanes[lane] += len(probes)


async def measure(url: str, rate: int, seconds: float, refresh_hz: float,
                  headline_hz: float) -> dict[str, float]:  # fmt: skip
    config = Config(display=DisplaySection(refresh_hz=refresh_hz, headline_hz=headline_hz))
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
        "by_headline": app.lanes["headline"],
        "by_full_tick": app.lanes["full"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--refresh-hz", type=float, nargs="+", default=[4.0])
    parser.add_argument("--headline-hz", type=float, default=10.0, help="0: lane off")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    server = EmbeddedServer()
    url = server.start()
    try:
        print(f"machine: {platform.processor() or platform.machine()}, "
              f"python {platform.python_version()}")  # fmt: skip
        for hz in args.refresh_hz:
            for _ in range(args.runs):
                with redis.Redis.from_url(url) as client:
                    client.delete(KEY)  # each run starts from an empty stream
                result = asyncio.run(measure(url, args.rate, args.seconds, hz, args.headline_hz))
                print(f"refresh {hz:g} Hz, headline {args.headline_hz:g} Hz, {args.rate} ev/s "
                      "background: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()),
                      flush=True)  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
