"""Replay benchmark: a simulated 24-hour Double-11 day for 2,000 agents, first pass and seeks.

    python -m benchmarks.bench_replay [--seeks 60] [--config FILE] [--profile]

The day (profile double11, 2,000 agents, seed 11, 2026-11-11 00:00 to 2026-11-12 00:00
Asia/Shanghai; about 2.7 million events) is simulated once into a cached NDJSON file. Then:
(a) the first pass as `wallboard replay --file` does it (read, decode, fold, checkpoints every
`CHECKPOINT_BUDGET_S` of fold time), (b) random seeks over the day, each followed by the
snapshot the board would draw, (c) the parts: decode alone (the replay's line decoder and
`events.decode`), and the fold alone on pre-decoded events of the busiest hour.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import statistics
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.replay_reader import file_lines
from wallboard.cli.replay import CHECKPOINT_BUDGET_S
from wallboard.core.config import load_config
from wallboard.core.events import decode
from wallboard.core.fold import BoardState
from wallboard.core.linedecode import decode_line, decode_lines, parse_line
from wallboard.core.snapshot import build_snapshot
from wallboard.core.timeutil import parse_user_time
from wallboard.replay.engine import Replay

TZ = ZoneInfo("Asia/Shanghai")
CACHE = Path(os.environ.get("WALLBOARD_BENCH_DIR", "/tmp/replay_bench")) / "d11-2000.ndjson"
START = parse_user_time("2026-11-11 00:00", TZ, 0)
END = parse_user_time("2026-11-12 00:00", TZ, 0)


def day_file() -> Path:
    if CACHE.exists():
        return CACHE
    from feeds.simulator import Simulator, load_profile
    from feeds.simulator.writers import FileSink, run_span

    CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = CACHE.with_suffix(".partial")
    sim = Simulator(load_profile("double11"), start_ms=START, seed=11, tz=TZ, agents=2000)
    sink = FileSink(partial)
    try:
        run_span(sim, sink, END)
    finally:
        sink.close()
    partial.rename(CACHE)
    return CACHE


def parts(path: Path, config_path: str | None) -> None:
    """Decode alone and fold alone, on the busiest hour's lines (20:00-21:00 is the evening
    peak; 00:00-01:00 the midnight spike: take the spike)."""
    with open(path, "rb") as handle:
        lines = [line.rstrip(b"\n") for _, line in zip(range(400_000), handle, strict=False)]
    began = time.perf_counter()
    events = [item for first in range(0, len(lines), 4096)
              for item, _ in decode_lines(lines[first:first + 4096])]  # fmt: skip
    fast = time.perf_counter() - began
    began = time.perf_counter()
    singles = [decode_line(line)[0] for line in lines]  # kept too, as the batches' are
    single = time.perf_counter() - began
    assert singles == events
    del singles
    began = time.perf_counter()
    for line in lines[:100_000]:
        decode(parse_line(line))
    slow = (time.perf_counter() - began) * len(lines) / 100_000
    state = BoardState(load_config(config_path))
    apply = state.apply
    began = time.perf_counter()
    for event in events:
        apply(event)  # type: ignore[arg-type]
    fold = time.perf_counter() - began
    n = len(lines)
    print(f"(c) first {n:,} lines (the midnight spike): line decoder {fast / n * 1e6:.2f} us/event"
          f" in batches of 4,096 ({single / n * 1e6:.2f} one line at a time), events.decode "
          f"{slow / n * 1e6:.2f} us/event, fold {n / fold:,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeks", type=int, default=60)
    parser.add_argument("--config", default=None, help="board config (default: built in)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first pass")
    parser.add_argument("--no-parts", action="store_true")
    args = parser.parse_args()
    path = day_file()
    print(f"day file {path} ({path.stat().st_size / 1e6:.0f} MB); load {os.getloadavg()}")
    config = load_config(args.config)
    replay = Replay(config, START, END, budget_s=CHECKPOINT_BUDGET_S, timer=time.perf_counter)
    cpu0, began = time.process_time(), time.perf_counter()
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(replay.load, file_lines(path))
    else:
        replay.load(file_lines(path))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu0
    print(f"(a) first pass: {replay.events:,} events in {wall:.1f} s wall, {cpu:.1f} s CPU: "
          f"{replay.events / wall:,.0f} events/s; {replay.checkpoints} checkpoints, "
          f"{replay.checkpoint_bytes() / 1e6:.0f} MB held (checkpoints + lines); "
          f"{len(replay.markers)} markers; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    rng = random.Random(1)
    latencies = []
    cpu_times = []
    for _ in range(args.seeks):
        t = rng.randrange(START, END)
        began, cpu0 = time.perf_counter(), time.process_time()
        replay.seek(t)
        build_snapshot(replay.state)
        latencies.append(time.perf_counter() - began)
        cpu_times.append(time.process_time() - cpu0)
    ordered = sorted(latencies)
    cpu_ordered = sorted(cpu_times)
    # CPU time too: on the shared machine the wall time of one seek is often someone else's.
    print(f"(b) {len(latencies)} random seeks + snapshot: median "
          f"{statistics.median(ordered) * 1000:.0f} ms, p90 "
          f"{ordered[int(len(ordered) * 0.9)] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms "
          f"(CPU median {statistics.median(cpu_ordered) * 1000:.0f} ms, max "
          f"{cpu_ordered[-1] * 1000:.0f} ms); load {os.getloadavg()}")
    if not args.no_parts:
        parts(path, args.config)


if __name__ == "__main__":
    main()
