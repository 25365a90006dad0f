"""Where simulated events go: an NDJSON file (optionally gzip) or a Redis stream, either as fast
as possible over a span or live, paced to the wall clock.

Redis entry IDs are explicit and follow event time (`<ms>-<seq>`, strictly increasing), so a
written span can be read back by time with XRANGE. XADDs go in pipelined batches.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import msgspec
import redis

from feeds.redis_window import read_entries, xread_entries
from feeds.simulator.model import Record, Simulator
from wallboard.core.events import undecoded_field
from wallboard.core.timeutil import parse_stream_id

PIPELINE_BATCH = 2_000
CHUNK_MS = 60_000  # fast mode: simulate a minute at a time


class Sink(Protocol):
    def write(self, batch: list[Record]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class SimulatorError(RuntimeError):
    """A problem writing the simulation (stream not writable, file not writable)."""


class FileSink:
    """NDJSON lines, gzip-compressed when the name ends in `.gz`; `-` is standard output."""

    def __init__(self, path: str | Path) -> None:
        self._encoder = msgspec.json.Encoder()
        self.count = 0
        text = str(path)
        self._owned = text != "-"
        try:
            handle: IO[bytes]
            if not self._owned:
                handle = sys.stdout.buffer
            elif text.endswith(".gz"):
                handle = gzip.open(text, "wb", compresslevel=5)  # type: ignore[assignment]  # noqa: SIM115
            else:
                handle = open(text, "wb")  # noqa: SIM115  # closed by close()
        except OSError as exc:
            raise SimulatorError(f"cannot write {text}: {exc.strerror}") from None
        self._handle = handle

    def write(self, batch: list[Record]) -> None:
        if batch:
            self._handle.write(self._encoder.encode_lines(batch))
            self.count += len(batch)

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if self._owned:
            self._handle.close()
        else:
            self._handle.flush()


class EntryIds:
    """Explicit stream IDs from event times: `<ts>-0`, then `<ts>-1`... for equal times; never
    at or below the stream's top entry."""

    def __init__(self, top: tuple[int, int] | None = None) -> None:
        self.ms, self.seq = top if top is not None else (0, -1)

    def next(self, ts: int) -> str:
        if ts > self.ms:
            self.ms, self.seq = ts, 0
        else:
            self.seq += 1
        return f"{self.ms}-{self.seq}"


def stream_top(client: redis.Redis, stream: str) -> tuple[int, int] | None:
    """The ID of the newest entry of `stream`, None when it is empty or missing."""
    try:
        last = read_entries(client, "XREVRANGE", stream, "+", "-", "COUNT", 1)  # any bytes
    except redis.ResponseError as exc:
        raise SimulatorError(f"cannot use {stream!r} as a stream: {exc}") from None
    if not last:
        return None
    return parse_stream_id(last[0][0])


class RedisSink:
    """XADD every event with an ID that follows its event time, pipelined in batches.

    With `follow_top` (live mode), when another producer has written past our IDs, the
    rejected entries are written again after the stream's new top instead of failing."""

    def __init__(self, client: redis.Redis, stream: str, ids: EntryIds,
                 batch: int = PIPELINE_BATCH, *, follow_top: bool = False) -> None:  # fmt: skip
        self.client = client
        self.stream = stream
        self.ids = ids
        self.batch = batch
        self.follow_top = follow_top
        self.count = 0

    def write(self, batch: list[Record]) -> None:
        for start in range(0, len(batch), self.batch):
            self._write(batch[start : start + self.batch], retry=self.follow_top)

    def _write(self, records: list[Record], *, retry: bool) -> None:
        stream = self.stream
        next_id = self.ids.next
        pipe = self.client.pipeline(transaction=False)
        for record in records:
            pipe.xadd(stream, record, id=next_id(int(record["ts"])))  # type: ignore[arg-type]
        replies = pipe.execute(raise_on_error=False)
        failed = [r for r, reply in zip(records, replies, strict=True)
                  if isinstance(reply, Exception)]  # fmt: skip
        self.count += len(records) - len(failed)
        if not failed:
            return
        first = next(reply for reply in replies if isinstance(reply, Exception))
        if not (retry and isinstance(first, redis.ResponseError)
                and "equal or smaller" in str(first)):  # fmt: skip
            raise SimulatorError(f"cannot write to stream {stream!r}: {first}")
        top = stream_top(self.client, stream)
        if top is not None and top > (self.ids.ms, self.ids.seq):
            self.ids.ms, self.ids.seq = top
        self._write(failed, retry=False)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def span_sink(client: redis.Redis, stream: str, start_ms: int) -> RedisSink:
    """A sink for a span starting at `start_ms`; the stream must not already hold entries at or
    after that time, since IDs must follow event time and only grow."""
    top = stream_top(client, stream)
    if top is not None and top >= (start_ms, 0):
        raise SimulatorError(
            f"stream {stream!r} already has entries up to ID {top[0]}-{top[1]}, at or after the "
            "span's start; entry IDs must follow event time: write to another --stream or "
            "delete it first")  # fmt: skip
    return RedisSink(client, stream, EntryIds(top))


def run_span(sim: Simulator, sink: Sink, to_ms: int, chunk_ms: int = CHUNK_MS,
             cases: Sink | None = None) -> int:  # fmt: skip
    """Simulate up to `to_ms` as fast as possible into `sink` (complaint events into `cases`,
    when given); the number of events."""
    written = 0
    for batch in chunks(sim, to_ms, chunk_ms):
        sink.write(batch)
        written += len(batch)
        if cases is not None:
            complaints = sim.take_cases(sim.now)
            cases.write(complaints)
            written += len(complaints)
    sink.flush()
    if cases is not None:
        cases.flush()
    return written


class ControlLink:
    """The control stream in live mode: `reserve.callout` in, `reserve.response` out."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self.client = client
        self.stream = stream
        top = stream_top(client, stream)
        self.last_id = f"{top[0]}-{top[1]}" if top else "0-0"  # only callouts from now on
        self.callouts = 0

    def poll(self, sim: Simulator) -> None:
        try:
            reply = xread_entries(self.client, {self.stream: self.last_id}, count=500)
        except redis.ResponseError as exc:
            raise SimulatorError(f"cannot read control stream {self.stream!r}: {exc}") from None
        for _stream, entries in reply:
            for entry_id, fields in entries:
                self.last_id = entry_id
                if fields.get("type") != "reserve.callout" or not fields.get("callout"):
                    continue
                if undecoded_field(fields) is not None:  # bytes that are not UTF-8: no callout
                    continue
                agents = [a.strip() for a in str(fields.get("agents", "")).split(",")]
                sim.callout(str(fields["callout"])[:256], fields.get("queue"),
                            [a for a in agents if a], sim.now)  # fmt: skip
                self.callouts += 1
        responses = sim.take_control()
        if responses:
            pipe = self.client.pipeline(transaction=False)
            for record in responses:
                pipe.xadd(self.stream, record)  # type: ignore[arg-type]
            pipe.execute()


class LiveStats(msgspec.Struct):
    """What a live run achieved: events, wall time, and how late each tick started."""

    events: int = 0
    wall_s: float = 0.0
    ticks: int = 0
    late_ms: list[float] = msgspec.field(default_factory=list)
    tick_events: list[int] = msgspec.field(default_factory=list)  # events written per tick

    @property
    def rate(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else 0.0

    def jitter(self) -> tuple[float, float, float]:
        """Median, 99th percentile and maximum tick lateness, in milliseconds."""
        if not self.late_ms:
            return 0.0, 0.0, 0.0
        ordered = sorted(self.late_ms)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return statistics.median(ordered), p99, ordered[-1]


def run_live(sim: Simulator, sink: Sink, *, speed: float = 1.0, tick_s: float = 0.05,
             duration_s: float | None = None, until_ms: int | None = None,
             stop: threading.Event | None = None, control: ControlLink | None = None,
             clock: Callable[[], float] = time.monotonic,
             cases: Sink | None = None) -> LiveStats:  # fmt: skip
    """Every `tick_s` of wall time, write the events that are due: simulated time runs `speed`
    times faster than the wall clock. Stops after `duration_s` (wall), at simulated `until_ms`,
    or when `stop` is set. A tick that falls behind is not made up in a burst."""
    stats = LiveStats()
    wall0 = clock()
    sim0 = sim.now
    next_tick = wall0
    while True:
        now = clock()
        stats.late_ms.append((now - next_tick) * 1000)
        target = sim0 + int((now - wall0) * speed * 1000)
        if until_ms is not None:
            target = min(target, until_ms)
        batch = sim.run_until(target)
        sink.write(batch)
        sink.flush()
        stats.events += len(batch)
        if cases is not None:  # the complaints stream
            complaints = sim.take_cases(target)
            if complaints:
                cases.write(complaints)
                cases.flush()
                stats.events += len(complaints)
        stats.ticks += 1
        stats.tick_events.append(len(batch))
        if control is not None:
            control.poll(sim)
        if (duration_s is not None and now - wall0 >= duration_s) or (
                until_ms is not None and target >= until_ms) or (
                stop is not None and stop.is_set()):  # fmt: skip
            break
        next_tick += tick_s
        delay = next_tick - clock()
        if delay < -tick_s:
            next_tick = clock()  # fell far behind: restart the schedule, no catch-up burst
        elif delay > 0:
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
    stats.wall_s = clock() - wall0
    return stats


def chunks(sim: Simulator, to_ms: int, chunk_ms: int = CHUNK_MS) -> Iterator[list[Record]]:
    """The events up to `to_ms` in time-ordered batches (for callers with their own sink)."""
    t = sim.now
    while True:
        t = min(to_ms, t + chunk_ms)
        yield sim.run_until(t)
        if t >= to_ms:
            return
