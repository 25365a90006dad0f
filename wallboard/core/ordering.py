"""Duplicate detection. Pure state, part of the fold so that checkpoints carry it.

- Stream entries: an entry ID at or below the last one applied from that stream, in read order.
- File lines: a repeated `_id`.
- Producer idempotency keys (`id`): a repeated key.
Keys are remembered for a horizon of event time (config `board.dedup_window_minutes`), so that
memory stays bounded over days of events.
"""

from __future__ import annotations

from collections import deque

from wallboard.core.timeutil import parse_stream_id


class KeyMemory:
    """A set of keys, each forgotten once event time has moved `horizon_ms` past it."""

    __slots__ = ("_order", "_seen", "horizon_ms")

    def __init__(self, horizon_ms: int) -> None:
        self.horizon_ms = horizon_ms
        self._seen: set[str] = set()
        self._order: deque[tuple[int, str]] = deque()

    def seen_before(self, key: str, ts: int) -> bool:
        """True if the key was seen; otherwise remember it and return False."""
        if key in self._seen:
            return True
        self._seen.add(key)
        self._order.append((ts, key))
        return False

    def forget_before(self, as_of: int) -> None:
        cut = as_of - self.horizon_ms
        order, seen = self._order, self._seen
        while order and order[0][0] < cut:
            seen.discard(order.popleft()[1])

    def __len__(self) -> int:
        return len(self._seen)


class EntryGate:
    """Read-order duplicate checks on entry IDs, before events are (possibly) time-sorted."""

    __slots__ = ("_file_ids", "last_ids")

    def __init__(self, horizon_ms: int) -> None:
        self.last_ids: dict[str, tuple[int, int]] = {}
        self._file_ids = KeyMemory(horizon_ms)

    def stream_entry_is_new(self, stream: str, entry_id: str) -> bool:
        parsed = parse_stream_id(entry_id)
        if parsed is None:  # the decoder rejects it; not our business here
            return True
        last = self.last_ids.get(stream)
        if last is not None and parsed <= last:
            return False
        self.last_ids[stream] = parsed
        return True

    def file_entry_is_new(self, entry_id: str, ts: int) -> bool:
        return not self._file_ids.seen_before(entry_id, ts)

    def forget_before(self, as_of: int) -> None:
        self._file_ids.forget_before(as_of)
