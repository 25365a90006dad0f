"""From raw entries to the fold: decode, read-order duplicate checks, selection by event time.

Pure functions over `BoardState`; the feeds supply the entries. Every entry ends up applied,
rejected (by reason) or counted as a duplicate: nothing is dropped silently, except entries
stamped after the requested `at`, which by definition are not part of that snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from wallboard.core.events import Event, decode
from wallboard.core.fold import BoardState


class RawEntry(NamedTuple):
    """One entry as read. `stream` is the stream key, or None for a file line."""

    stream: str | None
    entry_id: str | None
    fields: object


def _admit(state: BoardState, entry: RawEntry, at: int | None) -> Event | None:
    item = decode(entry.fields, entry.entry_id)
    if not isinstance(item, Event):
        if item.ts is None or at is None or item.ts <= at:
            state.reject(item)
        return None
    if at is not None and item.ts > at:
        return None
    entry_id = item.entry_id
    if entry_id is not None:
        if entry.stream is not None:
            is_new = state.gate.stream_entry_is_new(entry.stream, entry_id)
        else:
            is_new = state.gate.file_entry_is_new(entry_id, item.ts)
        if not is_new:
            state.duplicate()
            return None
    return item


def ingest(state: BoardState, entry: RawEntry) -> bool:
    """Live path: fold one entry as it arrives. True when it was applied."""
    event = _admit(state, entry, None)
    return event is not None and state.apply(event)


def fold_until(state: BoardState, entries: Iterable[RawEntry], at: int) -> None:
    """Fold every entry with event time <= `at`, in event-time order (read order breaks ties),
    then advance to `at`. Entries may come in any order: a stream whose IDs do not follow event
    time (a backfill, an import) gives the same board as one that does."""
    selected: list[Event] = []
    in_order = True
    last_ts = 0
    for entry in entries:
        event = _admit(state, entry, at)
        if event is None:
            continue
        if event.ts < last_ts:
            in_order = False
        last_ts = event.ts
        selected.append(event)
    if not in_order:
        selected.sort(key=lambda event: event.ts)  # stable: ties keep read order
    apply = state.apply
    for event in selected:
        apply(event)
    state.advance(at)
