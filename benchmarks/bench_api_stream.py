"""The HTTP API's stream (issue 20): the aggregator's CPU, the bytes per client and the delay
from a snapshot's build to the last client, with N Server-Sent Events clients on `/v1/stream`.

Real pieces throughout: the embedded Valkey server, a real `wallboard aggregate --http
127.0.0.1:PORT --rate R` process (tokens file, `[api] max_streams` above the client count), and
the clients: aiohttp in one or more separate worker processes (`--client-procs`), reading real
HTTP. A producer thread in this process first writes a floor of `--agents` agents and
`--queues` queues (benchmarks.synthetic: `--history-s` seconds of contacts with their own
times, up to now), then a steady trickle of `--events` events/s stamped now, so every tick
builds a new snapshot.

Each run measures, against one aggregator: an idle window (no client), then for each client
count a window with every client on the full stream and one with every client on `?diff=1`,
then idle again. Per window (`--seconds`, after every client has its first event plus
`--warmup`):

- the aggregator's CPU: user + sys from /proc/PID/stat over the window, in % of one core;
- bytes per client per second (SSE bytes after HTTP de-chunking), median over the clients;
- the delay of each event whose `as_of_ms` falls in the window: from `as_of_ms` (the
  aggregator's wall clock when it starts building that snapshot; same machine, same clock) to
  the moment the first and the last client had the whole event. It includes the build and
  the encoding (a few ms), so it bounds the publish-to-client delay from above;
- drops: clients whose stream ended during the run (dropped as slow; they do not reconnect),
  and the open streams /healthz reports at the end of the window;
- the client processes' own CPU, to show whether they kept up.

    python -m benchmarks.bench_api_stream [--clients 200] [--agents 2000] [--queues 20]
        [--rate 2] [--seconds 30] [--runs 1] [--modes full,diff] [--client-procs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis

from benchmarks.bench_ssh_viewers import stop as stop_process
from benchmarks.synthetic import QUEUES, synthetic_events
from feeds.embedded import EmbeddedServer, free_port

TICK = os.sysconf("SC_CLK_TCK")
HEAD = 512  # bytes of an event kept to read its id and as_of_ms (both near its start)
GRACE_S = 3.0  # clients keep reading after the window, for the last events' delays
_EVENT_ID = re.compile(rb"^id: (\S+)$", re.M)
_AS_OF_MS = re.compile(rb'"as_of_ms":(\d+)')


def wall_ms() -> float:
    return time.time_ns() / 1e6


# ---- the floor ---------------------------------------------------------------------------


def floor_events(agents: int, queues: int, start_ms: int) -> Iterator[dict[str, str]]:
    """benchmarks.synthetic's mix, its contacts spread over `queues` queues."""
    names = [f"q{i:02d}" for i in range(queues)]
    rng = random.Random(11)
    for fields in synthetic_events(10**12, agents=agents, start_ms=start_ms):
        if queues != len(QUEUES):
            for key in ("queue", "to_queue"):
                if key in fields:
                    fields[key] = rng.choice(names)
        yield fields


class Producer(threading.Thread):
    """History with the generator's own times up to now, then `rate` events/s stamped now."""

    def __init__(self, url: str, key: str, agents: int, queues: int, history_s: float,
                 rate: float) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.url, self.key, self.rate = url, key, rate
        self.agents, self.queues, self.history_s = agents, queues, history_s
        self.stop = threading.Event()
        self.loaded = threading.Event()
        self.written = 0

    def run(self) -> None:
        client = redis.Redis.from_url(self.url)
        now = int(wall_ms())
        events = floor_events(self.agents, self.queues, now - int(self.history_s * 1000))
        pipe = client.pipeline(transaction=False)
        for fields in events:
            pipe.xadd(self.key, fields)  # type: ignore[arg-type]
            self.written += 1
            if self.written % 5000 == 0:
                pipe.execute()
            if self.written > self.agents and int(fields["ts"]) >= now:
                break
        pipe.execute()
        self.loaded.set()
        step, owed = 0.1, 0.0
        next_at = time.monotonic()
        while not self.stop.is_set():
            ts = str(int(wall_ms()))
            owed += self.rate * step
            for _ in range(int(owed)):
                fields = next(events)
                fields["ts"] = ts  # live: stamped now, whatever the generator's clock says
                pipe.xadd(self.key, fields)  # type: ignore[arg-type]
                self.written += 1
            owed -= int(owed)
            pipe.execute()
            next_at += step
            time.sleep(max(0.0, next_at - time.monotonic()))
        client.close()


# ---- the clients (worker processes) -------------------------------------------------------


@dataclass
class EventSeen:
    as_of_ms: int
    first_ms: float
    last_ms: float
    clients: int = 1


@dataclass
class StreamReader:
    """One SSE client: counts bytes in the window and notes when each event ended."""

    seen: dict[str, EventSeen]
    window: tuple[float, float] = (float("inf"), float("inf"))
    bytes_in_window: int = 0
    events: int = 0
    dropped_ms: float | None = None
    error: str | None = None
    _head: bytearray = field(default_factory=bytearray)
    _newline_last: bool = False

    async def run(self, session: aiohttp.ClientSession, url: str) -> None:
        try:
            async with session.get(url) as response:
                if response.status != 200:
                    self.error = f"HTTP {response.status}: {(await response.text())[:200]}"
                    return
                async for chunk in response.content.iter_any():
                    self.feed(chunk, wall_ms())
            self.dropped_ms = wall_ms()  # the server ended the stream
        except (aiohttp.ClientError, ConnectionError):
            self.dropped_ms = wall_ms()

    def feed(self, chunk: bytes, now_ms: float) -> None:
        start, end = self.window
        if start <= now_ms < end:
            self.bytes_in_window += len(chunk)
        # Events end with a blank line; the data is one line of JSON, so "\n\n" is only there.
        begin = 0
        if self._newline_last and chunk[:1] == b"\n":
            self._complete(now_ms)
            begin = 1
        while (at := chunk.find(b"\n\n", begin)) != -1:
            self._keep(chunk, begin, at)
            self._complete(now_ms)
            begin = at + 2
        self._keep(chunk, begin, len(chunk))
        self._newline_last = chunk[-1:] == b"\n"

    def _keep(self, chunk: bytes, begin: int, end: int) -> None:
        room = HEAD - len(self._head)
        if room > 0:
            self._head += chunk[begin : min(end, begin + room)]

    def _complete(self, now_ms: float) -> None:
        head, self._head = bytes(self._head), bytearray()
        event_id, as_of = _EVENT_ID.search(head), _AS_OF_MS.search(head)
        if event_id is None or as_of is None:
            return  # the `retry:` block
        self.events += 1
        key = event_id.group(1).decode()
        seen = self.seen.get(key)
        if seen is None:
            self.seen[key] = EventSeen(int(as_of.group(1)), now_ms, now_ms)
        else:
            seen.first_ms, seen.last_ms = min(seen.first_ms, now_ms), max(seen.last_ms, now_ms)
            seen.clients += 1


async def run_worker(port: int, token: str, count: int, diff: bool) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/v1/stream" + ("?diff=1" if diff else "")
    seen: dict[str, EventSeen] = {}
    readers = [StreamReader(seen) for _ in range(count)]
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}"},
    ) as session:
        tasks = []
        for reader in readers:  # staggered: the server's accept backlog is 128
            tasks.append(asyncio.create_task(reader.run(session, url)))
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 120
        while not all(r.events or r.error or r.dropped_ms for r in readers):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        failed = [r.error or "dropped before its first event" for r in readers
                  if r.error or r.dropped_ms or not r.events]  # fmt: skip
        print(f"ready {len(failed)} {failed[:1]}", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        start_ms, end_ms = (float(x) for x in line.split())
        for reader in readers:
            reader.window = (start_ms, end_ms)
        await asyncio.sleep(max(0.0, (end_ms - wall_ms()) / 1000 + GRACE_S))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "failed": len(failed),
        "bytes": [r.bytes_in_window for r in readers if not r.error],
        "dropped": [r.dropped_ms for r in readers if r.dropped_ms is not None],
        "events": {k: [s.as_of_ms, s.first_ms, s.last_ms, s.clients] for k, s in seen.items()},
    }


def worker_main(port: int, token: str, count: int, diff: bool) -> None:
    result = asyncio.run(run_worker(port, token, count, diff))
    print(json.dumps(result), flush=True)


# ---- the measuring side -------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    return 0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def get_json(port: int, path: str, token: str | None = None) -> tuple[int, Any, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return response.status, json.loads(body), len(body)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body or b"null"), len(body)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Window:
    mode: str
    clients: int
    cpu: float  # aggregator, % of one core
    client_cpu: float = 0.0  # the worker processes together
    bytes_per_s: float = 0.0  # median client
    bytes_per_event: float = 0.0
    events: int = 0
    first_ms: float = 0.0  # median over events: as_of_ms to the first client
    last_ms: float = 0.0  # median over events: as_of_ms to the last client
    last_p99_ms: float = 0.0
    last_max_ms: float = 0.0
    dropped: int = 0
    open_at_end: int = 0
    failed: int = 0
    load: str = ""


class Bench:
    def __init__(self, args: argparse.Namespace, url: str, tmp: Path) -> None:
        self.args, self.url, self.tmp = args, url, tmp
        self.token = secrets.token_urlsafe(24)
        self.port = free_port()
        self.snapshot_bytes = 0
        self.agents_seen = 0
        self.queues_seen = 0

    def run_once(self, counts: list[int]) -> list[Window]:
        args = self.args
        prefix = f"bench:{uuid.uuid4().hex[:8]}"
        tokens = self.tmp / "tokens"
        tokens.write_text(f"# bench\n{self.token}\n")
        config = self.tmp / "bench.toml"
        config.write_text(
            f'[board]\nstream = "{prefix}:events"\ncontrol_stream = "{prefix}:control"\n\n'
            f'[api]\ntokens_file = "{tokens}"\nmax_streams = {max(counts) + 50}\n'
        )
        producer = Producer(self.url, f"{prefix}:events", args.agents, args.queues,
                            args.history_s, args.events)  # fmt: skip
        producer.start()
        aggregator: subprocess.Popen[bytes] | None = None
        try:
            if not producer.loaded.wait(300):
                raise RuntimeError("the floor took over 300 s to write")
            log = (self.tmp / "aggregate.log").open("wb")
            aggregator = subprocess.Popen(
                [sys.executable, "-m", "wallboard", "aggregate", "--redis", self.url,
                 "--config", str(config), "--snapshot-stream", f"{prefix}:snapshots",
                 "--rate", str(args.rate), "--http", f"127.0.0.1:{self.port}"],
                stdout=log, stderr=log, start_new_session=True)  # fmt: skip
            self._wait_live(aggregator)
            print(f"  floor: {producer.written} events written, aggregator live; snapshot "
                  f"{self.snapshot_bytes / 1000:.0f} KB, {self.agents_seen} agents, "
                  f"{self.queues_seen} queues", flush=True)  # fmt: skip
            windows = [self._idle(aggregator.pid)]
            print(row(windows[-1]), flush=True)
            for count in counts:
                for mode in args.modes.split(","):
                    windows.append(self._loaded(aggregator.pid, count, mode))
                    print(row(windows[-1]), flush=True)
            windows.append(self._idle(aggregator.pid))
            print(row(windows[-1]), flush=True)
            return windows
        finally:
            if aggregator is not None:
                stop_process(aggregator)  # SIGTERM, then the group's SIGKILL
            producer.stop.set()
            producer.join()
            client = redis.Redis.from_url(self.url)
            client.delete(f"{prefix}:events", f"{prefix}:snapshots", f"{prefix}:control")
            client.close()

    def _wait_live(self, aggregator: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 300
        while True:
            if aggregator.poll() is not None:
                raise RuntimeError((self.tmp / "aggregate.log").read_text()[-2000:])
            with contextlib.suppress(OSError):
                status, _, _ = get_json(self.port, "/healthz")
                if status == 200:
                    code, snapshot, size = get_json(self.port, "/v1/snapshot", self.token)
                    if code == 200 and len(snapshot["agents"]) >= self.args.agents:
                        self.snapshot_bytes = size
                        self.agents_seen = len(snapshot["agents"])
                        self.queues_seen = len(snapshot["queues"])
                        return
            if time.monotonic() > deadline:
                raise RuntimeError("the aggregator was not live within 300 s")
            time.sleep(0.5)

    def _idle(self, pid: int) -> Window:
        time.sleep(self.args.warmup)
        load = load_average()
        ticks, started = cpu_ticks(pid), time.monotonic()
        time.sleep(self.args.seconds)
        cpu = 100 * (cpu_ticks(pid) - ticks) / TICK / (time.monotonic() - started)
        return Window("idle", 0, cpu, load=load)

    def _loaded(self, pid: int, count: int, mode: str) -> Window:
        args = self.args
        procs = max(1, min(args.client_procs, count))
        shares = [count // procs + (i < count % procs) for i in range(procs)]
        workers = [subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_api_stream", "--worker", "--port",
             str(self.port), "--token", self.token, "--clients", str(n)]
            + (["--diff"] if mode == "diff" else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
            for n in shares]  # fmt: skip
        try:
            failed = 0
            for worker in workers:
                assert worker.stdout is not None
                line = worker.stdout.readline().decode()
                if not line.startswith("ready"):
                    raise RuntimeError(f"a client worker failed: {line!r}")
                failed += int(line.split()[1])
            start_ms = wall_ms() + args.warmup * 1000
            end_ms = start_ms + args.seconds * 1000
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write(f"{start_ms} {end_ms}\n".encode())
                worker.stdin.flush()
            time.sleep(max(0.0, (start_ms - wall_ms()) / 1000))
            load = load_average()
            ticks, started = cpu_ticks(pid), time.monotonic()
            client_ticks = sum(cpu_ticks(w.pid) for w in workers)
            time.sleep(max(0.0, (end_ms - wall_ms()) / 1000))
            elapsed = time.monotonic() - started
            cpu = 100 * (cpu_ticks(pid) - ticks) / TICK / elapsed
            client_cpu = 100 * (sum(cpu_ticks(w.pid) for w in workers) - client_ticks) \
                / TICK / elapsed  # fmt: skip
            _, health, _ = get_json(self.port, "/healthz")
            results = []
            for worker in workers:
                out, _ = worker.communicate(timeout=60)
                results.append(json.loads(out.decode().splitlines()[-1]))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
        self._wait_streams_closed()
        return summarise(Window(mode, count, cpu, client_cpu, failed=failed, load=load,
                                open_at_end=int(health["streams"])), results,
                         start_ms, end_ms)  # fmt: skip

    def _wait_streams_closed(self) -> None:
        deadline = time.monotonic() + 30
        while get_json(self.port, "/healthz")[1]["streams"] and time.monotonic() < deadline:
            time.sleep(0.2)


def summarise(window: Window, results: list[dict[str, Any]], start_ms: float,
              end_ms: float) -> Window:  # fmt: skip
    span_s = (end_ms - start_ms) / 1000
    per_client = [b for r in results for b in r["bytes"]]
    merged: dict[str, list[float]] = {}
    for result in results:
        for key, (as_of, first, last, clients) in result["events"].items():
            if key in merged:
                held = merged[key]
                held[1], held[2] = min(held[1], first), max(held[2], last)
                held[3] += clients
            else:
                merged[key] = [as_of, first, last, clients]
    inside = [e for e in merged.values() if start_ms <= e[0] < end_ms]
    window.dropped = sum(1 for r in results for _ in r["dropped"])
    window.events = len(inside)
    if per_client:
        window.bytes_per_s = statistics.median(per_client) / span_s
    if inside:
        window.bytes_per_event = window.bytes_per_s * span_s / len(inside)
        lasts = [e[2] - e[0] for e in inside]
        window.first_ms = statistics.median(e[1] - e[0] for e in inside)
        window.last_ms = statistics.median(lasts)
        window.last_p99_ms = percentile(lasts, 0.99)
        window.last_max_ms = max(lasts)
    return window


def tick_breakdown(agents: int, queues: int, history_s: float, ticks: int = 12) -> dict[str, float]:
    """What the aggregator does between a snapshot's `as_of` and its publish to the stream,
    timed in this process on the same floor (the aggregator's own code, compiled the same):
    build the snapshot, encode it for Redis, encode the stream event (snapshot, parts, diff).
    Medians over `ticks` ticks 500 ms apart; the first (cold) is left out."""
    from feeds.api_sse import StreamHub
    from feeds.snapshot_wire import encode_snapshot
    from wallboard.core.config import load_config
    from wallboard.core.fold import BoardState
    from wallboard.core.ingest import RawEntry, fold_until
    from wallboard.core.snapshot import build_snapshot

    now = int(wall_ms())
    entries = []
    for fields in floor_events(agents, queues, now - int(history_s * 1000)):
        entries.append(RawEntry("bench", None, fields))
        if len(entries) > agents and int(fields["ts"]) >= now:
            break
    state = BoardState(load_config(None))
    fold_until(state, entries, now)
    hub = StreamHub()
    times: dict[str, list[float]] = {"build": [], "redis": [], "stream": [], "full": [],
                                     "diff": []}  # fmt: skip
    for tick in range(ticks + 1):
        t0 = time.perf_counter()
        state.advance(now + 500 * (tick + 1))
        snapshot = build_snapshot(state)
        t1 = time.perf_counter()
        encode_snapshot(snapshot)
        t2 = time.perf_counter()
        event = hub.publish(snapshot)
        t3 = time.perf_counter()
        if tick:
            times["build"].append(1000 * (t1 - t0))
            times["redis"].append(1000 * (t2 - t1))
            times["stream"].append(1000 * (t3 - t2))
            times["full"].append(len(event.full_frame))
            times["diff"].append(len(event.diff_frame))
    return {name: statistics.median(values) for name, values in times.items()}


HEADER = (
    f"{'mode':<5} {'clients':>7} {'agg CPU %':>9} {'clients CPU %':>13} {'KB/s/client':>11} "
    f"{'KB/event':>8} {'events':>6} {'first ms':>8} {'last ms':>7} {'p99':>6} {'max':>6} "
    f"{'drops':>5} {'open':>5} {'load':>15}"
)


def row(w: Window) -> str:
    return (f"{w.mode:<5} {w.clients:>7} {w.cpu:>9.1f} {w.client_cpu:>13.1f} "
            f"{w.bytes_per_s / 1000:>11.1f} {w.bytes_per_event / 1000:>8.1f} {w.events:>6} "
            f"{w.first_ms:>8.1f} {w.last_ms:>7.1f} {w.last_p99_ms:>6.0f} {w.last_max_ms:>6.0f} "
            f"{w.dropped:>5} {w.open_at_end:>5} {w.load:>15}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="200", help="client counts, comma-separated")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0, help="aggregator snapshots/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="each measured window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--modes", default="full,diff")
    parser.add_argument("--events", type=float, default=100.0, help="trickle, events/s")
    parser.add_argument(
        "--history-s",
        type=float,
        default=240.0,
        help="seconds of floor history written before the aggregator starts",
    )
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write every window as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--diff", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.port, args.token, int(args.clients), args.diff)
        return
    counts = [int(n) for n in args.clients.split(",")]
    server = EmbeddedServer()
    url = server.start()
    every: list[list[Window]] = []
    try:
        with tempfile.TemporaryDirectory() as name:
            bench = Bench(args, url, Path(name))
            print(f"API stream: {args.agents} agents, {args.queues} queues, aggregator at "
                  f"{args.rate:g} Hz, {args.events:g} events/s, {args.seconds:g} s windows, "
                  f"{args.client_procs} client process(es); {os.cpu_count()} cores, "
                  f"load {load_average()}", flush=True)  # fmt: skip
            parts = tick_breakdown(args.agents, args.queues, args.history_s)
            print(f"tick, in this process on the same floor: build {parts['build']:.1f} ms, "
                  f"Redis encoding {parts['redis']:.1f} ms, stream event {parts['stream']:.1f} "
                  f"ms; a full event {parts['full'] / 1000:.0f} KB, a diff event "
                  f"{parts['diff'] / 1000:.0f} KB", flush=True)  # fmt: skip
            for run in range(args.runs):
                print(f"run {run + 1}", flush=True)
                print(HEADER, flush=True)
                every.append(bench.run_once(counts))
    finally:
        server.stop()
    if args.out is not None:
        args.out.write_text(json.dumps([[vars(w) for w in run] for run in every], indent=1))
    if len(every) > 1:
        print("medians over runs")
        print(HEADER)
        for index, first in enumerate(every[0]):
            group = [run[index] for run in every]
            median = Window(first.mode, first.clients, statistics.median(w.cpu for w in group))
            for name in ("client_cpu", "bytes_per_s", "bytes_per_event", "first_ms", "last_ms",
                         "last_p99_ms", "last_max_ms"):  # fmt: skip
                setattr(median, name, statistics.median(getattr(w, name) for w in group))
            median.events = round(statistics.median(w.events for w in group))
            median.dropped = sum(w.dropped for w in group)
            median.open_at_end = min(w.open_at_end for w in group)
            print(row(median))


if __name__ == "__main__":
    main()
