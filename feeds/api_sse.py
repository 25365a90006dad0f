"""`GET /v1/stream`'s events: one per new snapshot, encoded once and shared by every client.

Each snapshot the aggregator builds becomes a `StreamEvent` with a sequence number; its id is
`<run>-<seq>` (`run` is random per process, so an id from an earlier aggregator, or another
one behind the same proxy, is never taken for one of ours). Three frames:

- `event: snapshot`: the snapshot JSON (exactly `wallboard snapshot --json`);
- `event: diff`: only the queues and agents whose JSON changed since the previous event (an
  agent whose only changes are `time_in_state_s` and `projected_today`, which move with the
  clock, is not sent: the client computes them from `state_since_ms` and `shift_end_ms`,
  docs/api.md), the other top-level keys in full, and `diff` =
  {base, queues_removed, agents_removed, clock_fields};
- `event: resync`: the snapshot JSON, sent first when a `Last-Event-ID` is no longer held.

The `StreamHub` keeps the last `resume_events` events, so a client that reconnects with
`Last-Event-ID` gets exactly the events after that id: nothing missed, nothing twice. A client
is a bounded queue of frames: the hub never waits for one; a client whose queue is full (its
socket stopped taking data) is dropped and counted, and resumes from its last id when it
comes back.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import msgspec

from feeds.api_query import entity_tag
from wallboard.core.snapshot import Snapshot, to_json

RETRY_MS: Final = 2000  # EventSource reconnect delay, sent once per connection
_ID: Final = re.compile(r"^([0-9a-f]{1,32})-(\d{1,18})$")
_ENCODER: Final = msgspec.json.Encoder()
# An agent's fields that move with the clock alone: left out when agents are compared.
CLOCK_FIELDS: Final = ("time_in_state_s", "projected_today")
_CLOCK_VALUE: Final = re.compile(rb'"(?:time_in_state_s|projected_today)":[^,}]*')


def frame(event: str, event_id: str, data: bytes | memoryview) -> bytes:
    """One SSE event. The data is compact JSON: it never holds a newline (strings escape it)."""
    return b"event: %s\nid: %s\ndata: %s\n\n" % (event.encode(), event_id.encode(), data)


@dataclass(eq=False)
class StreamEvent:
    seq: int
    event_id: str
    full_frame: bytes  # `event: snapshot`, its data the snapshot JSON
    diff_frame: bytes  # `event: diff` (the first event of a run: `event: snapshot`)
    body_at: int  # where the JSON starts in full_frame

    @cached_property
    def body(self) -> memoryview:
        """to_json(snapshot): a view into the frame, not a second copy of a megabyte."""
        return memoryview(self.full_frame)[self.body_at : -2]

    @cached_property
    def tag(self) -> str:
        return entity_tag(self.body)

    @cached_property
    def resync_frame(self) -> bytes:
        return frame("resync", self.event_id, self.body)

    @cached_property
    def document(self) -> dict[str, Any]:
        """The body decoded, for narrowed `/v1/snapshot` answers (once per snapshot)."""
        decoded: dict[str, Any] = msgspec.json.decode(self.body)
        return decoded


@dataclass(eq=False)
class StreamClient:
    diff: bool
    queue: asyncio.Queue[bytes | None]
    backlog: list[bytes]  # written before anything from the queue
    transport: asyncio.Transport | None
    dropped: bool = False


@dataclass
class StreamCounts:
    opened: int = 0
    dropped_slow: int = 0  # clients whose send buffer filled: dropped
    refused_full: int = 0  # 503s: max_streams reached
    resyncs: int = 0  # Last-Event-ID too old or unknown: sent a full snapshot first


def _parts(items: Iterable[Any], key: str) -> dict[str, bytes]:
    return {getattr(item, key): _ENCODER.encode(item) for item in items}


@dataclass
class _Previous:
    event_id: str
    queues: dict[str, bytes] = field(default_factory=dict)
    agents: dict[str, bytes] = field(default_factory=dict)


class StreamHub:
    """The recent events and the connected clients. Runs in the aggregator's event loop."""

    def __init__(self, *, resume_events: int = 30, send_buffer_events: int = 16) -> None:
        self.run = secrets.token_hex(4)
        self.events: deque[StreamEvent] = deque(maxlen=resume_events)
        self.clients: set[StreamClient] = set()
        self.counts = StreamCounts()
        self._send_buffer = send_buffer_events
        self._seq = 0
        self._previous: _Previous | None = None
        self.latest_snapshot: Snapshot | None = None

    @property
    def latest(self) -> StreamEvent | None:
        return self.events[-1] if self.events else None

    # ---- publishing -----------------------------------------------------------------------

    def publish(self, snapshot: Snapshot) -> StreamEvent:
        """Record a new snapshot and queue it for every client (never waits)."""
        self._seq += 1
        event_id = f"{self.run}-{self._seq}"
        body = to_json(snapshot)
        full = frame("snapshot", event_id, body)
        queues, agents = _parts(snapshot.queues, "queue"), _parts(snapshot.agents, "agent")
        # Agents are compared without their clock fields (a few ms for 2,000 agents).
        compared = {key: _CLOCK_VALUE.sub(b"", part) for key, part in agents.items()}
        previous = self._previous
        if previous is None:
            diff_frame = full
        else:
            diff_frame = frame("diff", event_id,
                               _diff(snapshot, previous, queues, agents, compared))  # fmt: skip
        self._previous = _Previous(event_id, queues, compared)
        body_at = len(full) - len(body) - 2
        event = StreamEvent(self._seq, event_id, full, diff_frame, body_at)
        self.latest_snapshot = snapshot  # the newest only: the ring holds bytes
        self.events.append(event)
        for client in list(self.clients):
            try:
                client.queue.put_nowait(event.diff_frame if client.diff else event.full_frame)
            except asyncio.QueueFull:
                self._drop(client)
        return event

    # ---- clients --------------------------------------------------------------------------

    def subscribe(self, diff: bool, last_event_id: str | None,
                  transport: asyncio.Transport | None) -> StreamClient:  # fmt: skip
        """A new client with what it must be sent first: the events after `last_event_id`
        when they are all still held, else (or with none) the latest snapshot in full."""
        backlog: list[bytes] = []
        latest = self.latest
        after = self._held_after(last_event_id)
        if after is not None:
            backlog = [e.diff_frame if diff else e.full_frame for e in self.events
                       if e.seq > after]  # fmt: skip
        elif latest is not None:
            if last_event_id:
                self.counts.resyncs += 1
                backlog = [latest.resync_frame]
            else:
                backlog = [latest.full_frame]
        client = StreamClient(diff, asyncio.Queue(self._send_buffer), backlog, transport)
        self.clients.add(client)
        self.counts.opened += 1
        return client

    def unsubscribe(self, client: StreamClient) -> None:
        self.clients.discard(client)

    def close(self) -> None:
        """End every stream (shutdown): each writer finishes what it has and stops."""
        for client in list(self.clients):
            try:
                client.queue.put_nowait(None)
            except asyncio.QueueFull:
                self.clients.discard(client)
                if client.transport is not None:
                    client.transport.abort()

    def _held_after(self, last_event_id: str | None) -> int | None:
        """The sequence number to resume after, if that id is ours and nothing after it was
        let go; None means a full snapshot is due."""
        if not last_event_id:
            return None
        match = _ID.match(last_event_id.strip())
        if match is None or match.group(1) != self.run:
            return None
        seq = int(match.group(2))
        latest = self.latest
        if latest is None or seq > latest.seq or seq < self.events[0].seq:
            # Older than the oldest held: the events between are gone (the oldest held is
            # its own successor's base, so seq == oldest still resumes without a gap).
            return None
        return seq

    def _drop(self, client: StreamClient) -> None:
        client.dropped = True
        self.clients.discard(client)
        self.counts.dropped_slow += 1
        if client.transport is not None:
            client.transport.abort()  # the writer's pending write fails; it cleans up


def _diff(snapshot: Snapshot, previous: _Previous, queues: dict[str, bytes],
          agents: dict[str, bytes], compared: dict[str, bytes]) -> bytes:  # fmt: skip
    out: dict[str, Any] = {}
    for name in Snapshot.__struct_fields__:
        if name == "queues":
            out[name] = [msgspec.Raw(part) for key, part in queues.items()
                         if previous.queues.get(key) != part]  # fmt: skip
        elif name == "agents":
            out[name] = [msgspec.Raw(part) for key, part in agents.items()
                         if previous.agents.get(key) != compared[key]]  # fmt: skip
        else:
            out[name] = getattr(snapshot, name)
    out["diff"] = {
        "base": previous.event_id,
        "queues_removed": [key for key in previous.queues if key not in queues],
        "agents_removed": [key for key in previous.agents if key not in agents],
        "clock_fields": list(CLOCK_FIELDS),
    }
    return _ENCODER.encode(out)
