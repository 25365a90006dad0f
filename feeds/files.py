"""NDJSON event files (optionally gzip-compressed): one JSON object per line, the contract's
fields plus an optional `_id` carrying the stream entry ID (and, in archives, `_stream`)."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from wallboard.core.ingest import RawEntry

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_NOT_JSON = {"_malformed": "line is not a JSON object"}


def _open(path: Path, mode: str) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "b")  # type: ignore[return-value]
    return open(path, mode + "b")


def read_ndjson(path: str | Path) -> Iterator[RawEntry]:
    """Yield every line as a raw entry. A line that is not JSON is yielded as a non-mapping so
    that the decoder counts it as `malformed`; blank lines are skipped."""
    with _open(Path(path), "r") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                fields: object = _decoder.decode(line)
            except msgspec.DecodeError:
                fields = [_NOT_JSON]  # not a mapping: rejected as malformed
            if isinstance(fields, dict):
                # An archive line (`wallboard export`) names its stream: duplicate checks are
                # then per stream, by entry ID, as when read from Redis.
                stream, entry_id = fields.get("_stream"), fields.get("_id")
                if isinstance(stream, str) and isinstance(entry_id, str):
                    yield RawEntry(stream, entry_id, fields)
                    continue
            yield RawEntry(None, None, fields)


def write_ndjson(path: str | Path, records: Iterable[dict[str, str]]) -> int:
    """Write flat records, one per line; returns the count."""
    count = 0
    with _open(Path(path), "w") as handle:
        for record in records:
            handle.write(_encoder.encode(record))
            handle.write(b"\n")
            count += 1
    return count
