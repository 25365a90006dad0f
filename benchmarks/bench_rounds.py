"""Response rounds' cost (issue 15): the pure fold's events/s on the simulator's Double-11 mix
with the shop's replies, against the same mix without them (today's mix before replies). Run
under two checkouts (the code before rounds and after), alternating, for side-by-side figures:

    python -m benchmarks.bench_rounds --make DIR     # writes DIR/with.ndjson, DIR/without.ndjson
    python -m benchmarks.bench_rounds DIR/with.ndjson     # prints one events/s figure per run

Under `valgrind --tool=callgrind`, a run with `--decode-only` subtracted from a full one gives
the fold's instructions per event: deterministic on a shared, noisy machine.

The simulator draws replies from their own random generator, so the file without replies is
exactly what the simulator wrote before replies existed. Imports only what both checkouts have.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from pathlib import Path

from wallboard.core.config import load_config
from wallboard.core.events import Event
from wallboard.core.fold import BoardState
from wallboard.core.linedecode import decode_lines
from wallboard.core.snapshot import build_snapshot


def make(directory: Path, agents: int, start: str, end: str) -> None:
    from zoneinfo import ZoneInfo

    from feeds.simulator import Simulator, load_profile
    from wallboard.core.timeutil import parse_user_time

    tz = ZoneInfo("Asia/Shanghai")
    sim = Simulator(load_profile("double11"), start_ms=parse_user_time(start, tz, 0), seed=11,
                    tz=tz, agents=agents)  # fmt: skip
    records = sim.run_until(parse_user_time(end, tz, 0))
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "with.ndjson").open("w") as both, \
            (directory / "without.ndjson").open("w") as plain:  # fmt: skip
        for record in records:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            both.write(line)
            if record["type"] != "contact.reply":
                plain.write(line)
    replies = sum(1 for r in records if r["type"] == "contact.reply")
    print(f"{len(records)} events, {replies} replies ({replies / len(records):.1%})")


def fold_rate(path: Path, fold: bool = True) -> tuple[float, int]:
    lines = path.read_bytes().splitlines()
    events = [e for e, _ in decode_lines(lines) if isinstance(e, Event)]
    if not fold:  # the decode alone: subtracted from a full run's instruction count
        return 0.0, len(events)
    state = BoardState(load_config(None))
    gc.collect()
    gc.disable()  # as the board's fold runs: collections are rare there
    start = time.perf_counter()
    for event in events:
        state.apply(event)
    build_snapshot(state)
    elapsed = time.perf_counter() - start
    gc.enable()
    return len(events) / elapsed, len(events)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--make", type=Path)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--start", default="2026-11-11T19:00")
    parser.add_argument("--end", default="2026-11-11T22:00")
    parser.add_argument("--decode-only", action="store_true")
    args = parser.parse_args()
    if args.make:
        make(args.make, args.agents, args.start, args.end)
        return
    rate, count = fold_rate(args.file, fold=not args.decode_only)
    print(f"{rate:.0f} events/s ({count} events, {platform.python_version()})")


if __name__ == "__main__":
    main()
