"""Read a time window of one or more Redis streams with XRANGE pages (synchronous).

Used by `wallboard snapshot --redis` and the benchmarks. Entry IDs are only a hint of event
time: the window starts at an ID a margin before the wanted time and reads to the end, so
entries appended later with older event times (a backfill, an import) are still found; the
fold then selects by event time.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from wallboard.core.ingest import RawEntry

PAGE = 10_000


class RedisUnavailable(RuntimeError):
    """The server cannot be reached; the message says where and why."""


def connect(url: str, *, timeout_s: float = 10.0) -> redis.Redis:
    client = redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"cannot reach Redis at {redact(url)}: {exc}") from None
    return client


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user + ':***@' if user else '***@'}{host}"


def xrange_pages(client: redis.Redis, stream: str, start_ms: int = 0,
                 page: int = PAGE) -> Iterator[list[tuple[str, dict[str, str]]]]:  # fmt: skip
    """The stream's entries from ID `start_ms` to the end, a page of XRANGE at a time."""
    lower = f"{max(0, start_ms)}-0"
    while True:
        try:
            batch = client.xrange(stream, min=lower, max="+", count=page)
        except redis.ResponseError as exc:  # e.g. WRONGTYPE: a key that is not a stream
            raise RedisUnavailable(f"cannot read stream {stream!r}: {exc}") from None
        except redis.RedisError as exc:
            raise RedisUnavailable(f"lost Redis while reading {stream!r}: {exc}") from None
        entries: list[tuple[str, dict[str, str]]] = batch or []  # type: ignore[assignment]
        if entries:
            yield entries
        if len(entries) < page:
            return
        lower = "(" + entries[-1][0]


def read_streams(client: redis.Redis, streams: list[str], start_ms: int = 0,
                 page: int = PAGE) -> Iterator[RawEntry]:  # fmt: skip
    """Every entry of each stream from ID `start_ms` to the end, stream by stream, in ID order."""
    for stream in streams:
        for entries in xrange_pages(client, stream, start_ms, page):
            for entry_id, fields in entries:
                yield RawEntry(stream, entry_id, fields)
