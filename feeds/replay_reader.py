"""Read a replay window: the event stream(s) and the control stream from Redis (XRANGE pages),
or an archive / NDJSON file, as `(read rank, NDJSON line)` pairs for `wallboard.replay.engine`.

Which entries: every entry with an event time up to the window's end, from the business
day's lead-in (the day of the window's start, minus `board.carry_over_hours`), exactly what
`wallboard snapshot --at` reads, so a replay's state at T is that snapshot's.

Entry IDs and event time: where producers give explicit IDs that follow event time
(`XADD key <ts>-<seq>`, as `wallboard simulate --to` does; or the server's `*` IDs when
events are added as they happen), XRANGE from `start - margin` finds the window's start
directly. Where they do not (a backfill appended later, an import), reading still starts
at `start - margin` (an entry whose ID is more than the margin *before* its event time
would have been rejected by a live board as from the future) and goes on to the stream's
end, because a late entry can carry any older event time: entries stamped after the
window's end are skipped unparsed. The replay then orders by event time, as snapshot does.

An entry holding bytes that are not UTF-8 (a lone surrogate in its text, see
`feeds.redis_window`) cannot be a JSON line as it is: its line has each such byte as the
text `\\xNN` and `_bad_encoding` naming the field, so the replay, and any reader of an
exported archive, rejects it as `bad_encoding`, as a read from Redis does.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import msgspec
import redis

from feeds.files import Salvage, open_lines
from feeds.redis_window import RedisUnavailable, read_entries, xrange_pages
from wallboard.core.businessday import BusinessCalendar
from wallboard.core.config import Config
from wallboard.core.events import ENCODING_MARK, undecoded_field
from wallboard.core.state import HOUR_MS
from wallboard.core.timeutil import parse_event_time

# Entry IDs can precede event time by producer clock skew; read this much earlier (`wallboard
# snapshot` reads from `lead_in_ms` too).
ID_MARGIN_MS: Final = 10 * 60_000
_RANK_BITS: Final = 40  # rank of stream i, entry j: (i << 40) + j: read order of snapshot

_encoder = msgspec.json.Encoder()


def lead_in_ms(config: Config, start_ms: int) -> int:
    """The lowest entry ID read for a window beginning at `start_ms`: its business day's
    start, minus the carry-over and the ID margin (as `snapshot --at` reads)."""
    calendar = BusinessCalendar(config.tz, config.day_start, config.shift_spans)
    day_start = calendar.day_of(start_ms).start_ms
    return day_start - round(config.board.carry_over_hours * HOUR_MS) - ID_MARGIN_MS


def start_for(config: Config, lower_ms: int, at_ms: int) -> dict[str, int]:
    """The streams read from further back than `lower_ms` for a board at `at_ms`: the
    complaints stream, over `[complaints]`'s lookback (max(callback_within_h, rate_days x 24)
    hours plus a day) and the ID margin, whatever the business-day backfill."""
    stream = config.complaints.stream
    if not stream:
        return {}
    return {stream: max(0, min(lower_ms, at_ms - config.complaints.lookback_ms - ID_MARGIN_MS))}


def _late(fields: dict[str, str], end_ms: int) -> bool:
    """Stamped after the window's end (an event or a rejection: never folded either way)."""
    ts = fields.get("ts")
    if ts is None or not ts.isdigit():
        return False
    parsed = parse_event_time(ts)
    return parsed is not None and parsed > end_ms


def _escaped(text: str) -> str:
    """Text with each byte that was not UTF-8 as `\\xNN` (valid text unchanged)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no reader makes
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def undecodable_line(record: dict[str, str]) -> bytes:
    """The line of an entry that held bytes that are not UTF-8 (see the module's docstring)."""
    field = undecoded_field(record) or "?"
    line = {_escaped(name): _escaped(value) for name, value in record.items()}
    line[ENCODING_MARK] = field
    return _encoder.encode(line)


Seen = Callable[[int], None] | None


def _stream_lines(client: redis.Redis, stream: str, index: int, lower_ms: int, end_ms: int,
                  seen: Seen) -> Iterator[tuple[int, int, bytes]]:  # fmt: skip
    """(event time for the merge, rank, line) of one stream, in ID order."""
    rank = index << _RANK_BITS
    for entries in xrange_pages(client, stream, lower_ms):
        for entry_id, fields in entries:
            rank += 1
            if _late(fields, end_ms):
                continue
            id_ms = int(entry_id.partition("-")[0])
            ts = fields.get("ts")
            key = (parse_event_time(ts) if isinstance(ts, str) else None) or id_ms
            record = dict(fields)
            record["_id"] = entry_id
            record["_stream"] = stream
            try:
                line = _encoder.encode(record)
            except UnicodeEncodeError:  # bytes that were not UTF-8: the only text JSON refuses
                line = undecodable_line(record)
            yield key, rank, line
        if seen is not None:
            seen(int(entries[-1][0].partition("-")[0]))


def redis_lines(client: redis.Redis, streams: list[str], lower_ms: int, end_ms: int,
                seen: Seen = None, lower_for: dict[str, int] | None = None,
                ) -> Iterator[tuple[int, bytes]]:  # fmt: skip
    """Every stream's entries from ID `lower_ms` on (a stream in `lower_for`: its own lower
    bound), merged by event time (stable: on equal times the earlier stream first, as a stable
    sort of the streams read one after another). `seen(ms)` is told the ID time of each page
    read (for a progress bar)."""
    lowers = lower_for or {}
    merged = heapq.merge(*(_stream_lines(client, s, i, lowers.get(s, lower_ms), end_ms, seen)
                           for i, s in enumerate(streams)), key=lambda item: item[0])  # fmt: skip
    for _, rank, line in merged:
        yield rank, line


def file_lines(path: str | Path, seen: Seen = None,
               salvage: Salvage | None = None) -> Iterator[tuple[int, bytes]]:  # fmt: skip
    """The lines of an NDJSON file (.gz too), as `feeds.files.read_ndjson` reads them (a
    damaged .gz raises `feeds.files.DamagedFile`, or stops at the fault given a `salvage`).
    `seen(bytes)` is told how far into the file (compressed bytes) reading has come."""
    with open_lines(path, salvage) as (handle, raw):
        for number, line in enumerate(handle):
            if seen is not None and not number & 0x3FFF:
                seen(raw.tell())
            if not line.strip():
                continue
            yield number, line.rstrip(b"\r\n")
        if seen is not None:
            seen(raw.tell())


def stream_top_ms(client: redis.Redis, streams: list[str]) -> int | None:
    """The time part of the newest entry ID over the streams (None: all empty or missing)."""
    tops = []
    for stream in streams:
        try:
            last = read_entries(client, "XREVRANGE", stream, "+", "-", "COUNT", 1)
        except redis.RedisError as exc:
            raise RedisUnavailable(f"cannot read stream {stream!r}: {exc}") from None
        if last:
            tops.append(int(last[0][0].partition("-")[0]))
    return max(tops, default=None)
