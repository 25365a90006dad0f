"""`wallboard export`: a window of the event and control streams to a gzip NDJSON archive.

Each line is the entry's fields plus `_id` (its stream entry ID) and `_stream`, merged by
event time; per stream, lines stay in ID order, so reading the archive back checks
duplicates per stream by ID exactly as a read from Redis does. An entry holding bytes that
are not UTF-8 is kept, not dropped: its line has each such byte as the text `\\xNN` and
`_bad_encoding` naming the field, so every reader of the archive counts it as `bad_encoding`,
as a read from Redis does (feeds/replay_reader.py). Streams through: one XRANGE
page per stream in memory, whatever the window's size. Written to a temporary file and
renamed, so a failed export never leaves a truncated archive under the wanted name.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import redis

from feeds.replay_reader import redis_lines


def export_window(client: redis.Redis, streams: list[str], lower_ms: int, end_ms: int,
                  out: str | Path, seen: Callable[[int], None] | None = None,
                  lower_for: dict[str, int] | None = None) -> int:  # fmt: skip
    """Write every entry from ID `lower_ms` (a stream in `lower_for`: its own lower bound, the
    complaints stream's lookback) stamped up to `end_ms`; the number of lines."""
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    count = 0
    try:
        with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb",
                                                       compresslevel=6) as handle:  # fmt: skip
            for _, line in redis_lines(client, streams, lower_ms, end_ms, seen, lower_for):
                handle.write(line)
                handle.write(b"\n")
                count += 1
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count
