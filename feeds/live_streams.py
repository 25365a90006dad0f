"""Redis stream reading for the live feed: the backfill and the gap/reset check (redis.asyncio).

Entry IDs are compared as (ms, seq) tuples. A stream's cursor is the last ID we read from it,
or, before any, a point just below the backfill's lower bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, Final, Literal, NamedTuple, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from wallboard.core.events import MAX_FIELD_LEN, decode
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until
from wallboard.core.timeutil import parse_event_time, parse_stream_id

StreamId = tuple[int, int]
MAX_SEQ: Final = 2**64 - 1
Fields = dict[str, str]


def format_id(entry_id: StreamId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def to_id(text: str) -> StreamId:
    parsed = parse_stream_id(text)
    if parsed is None:  # the server only hands out well-formed IDs
        raise ValueError(f"not a stream ID: {text!r}")
    return parsed


def below(lower_ms: int) -> StreamId:
    """The ID just below `<lower_ms>-0`: XREAD from it returns everything from lower_ms on."""
    return (lower_ms - 1, MAX_SEQ) if lower_ms > 0 else (0, 0)


class Position:
    """Where we are in one stream, and what we know of it at that point."""

    __slots__ = ("added", "checked", "cursor", "generated", "last_read")

    def __init__(self, cursor: StreamId, generated: StreamId, added: int | None) -> None:
        self.cursor = cursor  # follow from here (XREAD returns entries after it)
        self.generated = generated  # the newest ID the stream had generated, as far as we know
        # The stream's `entries-added` counter at our cursor (None: unknown, e.g. Redis < 7):
        # what lets a trim of unread entries be told from a trim that stopped at our cursor.
        self.added = added
        self.last_read: StreamId | None = None
        # The last entry read when the previous check found the stream sound: a second entry
        # to look for, in case new entries were read after the stream went back.
        self.checked: StreamId | None = None

    def read(self, entry_id: StreamId, count: int) -> None:
        self.cursor = self.last_read = entry_id
        self.generated = max(self.generated, entry_id)
        if self.added is not None:
            self.added += count


async def _info(client: aioredis.Redis, stream: str) -> dict[str, Any] | None:
    """XINFO STREAM, or None for a key that does not exist (yet)."""
    try:
        info: dict[str, Any] = await client.xinfo_stream(stream)
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return None
        raise
    return info


def _added(info: dict[str, Any]) -> int | None:
    added = info.get("entries-added")
    return None if added is None else int(added)


Pages = deque[list[RawEntry]]


async def read_backfill(client: aioredis.Redis, streams: list[str], lower_ms: int,
                        page: int, lower_for: dict[str, int] | None = None,
                        ) -> tuple[Pages, dict[str, Position]]:  # fmt: skip
    """XRANGE every stream from `<lower_ms>-0` (a stream in `lower_for`: its own bound) up to
    the last ID XINFO reported just before; entries added since are left for XREAD, so the
    position's counters are exact."""
    pages: deque[list[RawEntry]] = deque()
    positions: dict[str, Position] = {}
    base_ms = lower_ms
    for stream in streams:
        lower_ms = base_ms if lower_for is None else lower_for.get(stream, base_ms)
        info = await _info(client, stream)
        floor = below(lower_ms)
        if info is None:
            positions[stream] = Position(floor, (0, 0), 0)
            continue
        generated = to_id(str(info["last-generated-id"]))
        position = positions[stream] = Position(max(floor, generated), generated, _added(info))
        if generated <= floor:
            continue
        lower, upper = f"{max(0, lower_ms)}-0", format_id(generated)
        while True:
            raw = await client.xrange(stream, min=lower, max=upper, count=page)
            # The live client's text: a byte that is not UTF-8 as a lone surrogate (feeds/live.py)
            batch = cast(list[tuple[str, Fields]], raw or [])
            if batch:
                pages.append([RawEntry(stream, entry_id, fields) for entry_id, fields in batch])
                position.last_read = to_id(batch[-1][0])
                lower = "(" + batch[-1][0]
            if len(batch) < page:
                break
    return pages, positions


def _event_time(entry: RawEntry) -> int | None:
    """The event time decode() will find, cheaply: `ts`, else the entry ID's milliseconds."""
    fields = entry.fields
    if not isinstance(fields, dict):
        return None
    raw = fields.get("ts")
    if raw is None:
        parsed = parse_stream_id(entry.entry_id or "")
        return None if parsed is None else parsed[0]
    if isinstance(raw, str) and len(raw) <= MAX_FIELD_LEN:
        return parse_event_time(raw)
    return None


def fold_backfill(state: BoardState, pages: deque[list[RawEntry]], now: int) -> None:
    """Fold the backfill as of `now` (event-time order, see fold_until), freeing pages as they
    are read. Entries stamped after `now` (a producer's clock ahead of ours) are not part of
    the snapshot at `now` but are part of the feed: they follow in read order, as the live
    path would apply them, so nothing read is dropped."""
    later: list[RawEntry] = []

    def entries() -> Iterator[RawEntry]:
        while pages:
            for entry in pages.popleft():
                ts = _event_time(entry)
                if ts is not None and ts > now:
                    later.append(entry)
                else:
                    yield entry

    fold_until(state, entries(), now)
    # Not through the ID gate: each was read once, and the gate has moved past some of them.
    state.apply_all(decode(entry.fields, entry.entry_id) for entry in later)


class Verdict(NamedTuple):
    kind: Literal["ok", "missing", "gap", "reset"]
    lost_from_ms: int = 0  # gap: the last ID read .. the first ID still there after the loss
    lost_to_ms: int = 0
    last_generated_ms: int = 0  # reset: the stream's newest ID now
    vanished_ms: int = 0  # reset of a stream that went on: an entry read, not in it now


async def check_stream(client: aioredis.Redis, stream: str, position: Position) -> Verdict:
    """Compare the stream with our position (and re-base the position's counter).

    Reset: the stream's last generated ID is below the newest we knew: it was deleted and
    recreated (or restored from an older copy); XREAD from our cursor would skip its entries.
    Or, whatever was written since (a producer may write to a restored copy before we look),
    the stream holds entries from before one we read (the last one, or the last one at the
    previous sound check) but not that one, and never deleted it (`max-deleted-entry-id` is
    below it): it is an older copy, and we counted entries it does not hold. On a reconnect
    this is looked at before any new entry is read, so it does not depend on who comes first.
    A stream that holds nothing from before them (a server restarted empty) is followed on:
    what we read is all anyone can know.
    Gap: entries after our cursor were removed unread. XDEL shows in `max-deleted-entry-id`;
    a trim (MAXLEN/MINID) removes the oldest entries, so it can only have hit unread ones if the
    stream now starts after our cursor, and then it did exactly when more entries were added
    after our cursor than the stream still holds. Without `entries-added` (Redis < 7) a stream
    that starts after the last entry we read counts as a gap, which may be a false alarm when
    the trim stopped exactly there.
    """
    info = await _info(client, stream)
    if info is None:
        position.added = 0  # a stream that appears later counts its entries from zero
        return Verdict("missing")
    generated = to_id(str(info["last-generated-id"]))
    if generated < position.generated:
        return Verdict("reset", last_generated_ms=generated[0])
    for known in dict.fromkeys((position.last_read, position.checked)):
        if known is not None and await _vanished(client, stream, info, known):
            return Verdict("reset", last_generated_ms=generated[0], vanished_ms=known[0])
    verdict = _gap(info, position, generated)
    if verdict.kind == "ok":
        position.checked = position.last_read
    return verdict


def _gap(info: dict[str, Any], position: Position, generated: StreamId) -> Verdict:
    cursor = position.cursor
    max_deleted = info.get("max-deleted-entry-id")
    if max_deleted is not None and to_id(str(max_deleted)) > cursor:
        return Verdict("gap", cursor[0], to_id(str(max_deleted))[0])
    first = info.get("first-entry")
    first_id = to_id(str(first[0])) if first else None
    if first_id is not None and first_id <= cursor:
        return Verdict("ok")  # a trim never removes entries after one still held
    length, added = int(info["length"]), _added(info)
    lost_to = (first_id or generated)[0]
    if added is None or position.added is None:
        last = position.last_read
        if first_id is not None and last is not None and first_id > last:
            return Verdict("gap", last[0], lost_to)
        return Verdict("ok")
    unread_added = added - position.added
    if unread_added > length:
        return Verdict("gap", cursor[0], lost_to)
    position.added = added - length  # all it holds is after our cursor: exact
    return Verdict("ok")


async def _vanished(client: aioredis.Redis, stream: str, info: dict[str, Any],
                    read: StreamId) -> bool:  # fmt: skip
    """The stream starts at or before an entry we read, that entry is not in it, and it was
    not deleted (Redis < 7 has no `max-deleted-entry-id`: then counted as lost). A trim only
    removes the oldest entries, so it cannot have taken this one and left older ones."""
    first = info.get("first-entry")
    if not first or to_id(str(first[0])) > read:
        return False
    max_deleted = info.get("max-deleted-entry-id")
    if max_deleted is not None and to_id(str(max_deleted)) >= read:
        return False  # maybe deleted with XDEL after we read it: nothing we counted is wrong
    # One command, so a trim between XINFO and here cannot pass for a loss: the newest entry at
    # or before ours. Ours: present. An older one: it holds older entries but not ours.
    # None: a trim took ours since XINFO (it removes the oldest first), nothing we counted.
    held: Any = await client.xrevrange(stream, max=format_id(read), min="-", count=1)
    return bool(held) and to_id(str(held[0][0])) != read
