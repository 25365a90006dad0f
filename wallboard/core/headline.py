"""The headline: the numbers the floor must see within a second, cheap enough for a fast lane.

Per queue only `waiting` and `longest_wait_s` (the tiles' big digits and longest wait), read
from the state as `build_snapshot` would read them after `advance(now_ms)`: the lane never
shows a number the next full snapshot at the same time would not. No settle, no advance, no
other bookkeeping: it reads the waiting contacts and the clock, O(waiting contacts).
"""

from __future__ import annotations

import msgspec

from wallboard.core.fold import BoardState


class QueueHeadline(msgspec.Struct, frozen=True, array_like=True):
    queue: str
    waiting: int
    longest_wait_s: float


Headline = tuple[QueueHeadline, ...]


def headline(state: BoardState, now_ms: int) -> Headline:
    """Every queue's waiting count and longest wait at `now_ms` (or the state's `as_of` if that
    is later, as `advance` would leave it), in the snapshot's queue order (by name)."""
    as_of = max(state.as_of, now_ms)
    queues = state.queues
    out: list[QueueHeadline] = []
    for name in sorted(queues):
        waiting = queues[name].waiting
        # min, not the first entry: events may arrive out of time order (as build_snapshot)
        oldest = min(waiting.values()) if waiting else None
        out.append(QueueHeadline(
            name, len(waiting), 0.0 if oldest is None else max(0, as_of - oldest) / 1000))
    return tuple(out)
