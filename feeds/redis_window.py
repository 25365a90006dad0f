"""Read a time window of one or more Redis streams with XRANGE pages (synchronous).

Used by `wallboard snapshot --redis` and the benchmarks. Entry IDs are only a hint of event
time: the window starts at an ID a margin before the wanted time and reads to the end, so
entries appended later with older event times (a backfill, an import) are still found; the
fold then selects by event time.

Entries come out as text whatever the client decodes. A byte that is not UTF-8 comes out as a
lone surrogate (`surrogateescape`), which the contract rejects as `bad_encoding`
(wallboard/core/events.py): one such entry never fails a read. The client decodes replies
strictly in C (hiredis), and one undecodable entry fails the whole reply; only then is that
reply read again as bytes and decoded field by field in Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import redis
from redis.client import NEVER_DECODE

from feeds.connect import sync_client
from wallboard.core.ingest import RawEntry

PAGE = 10_000
Entries = list[tuple[str, dict[str, str]]]


class RedisUnavailable(RuntimeError):
    """The server cannot be reached; the message says where and why."""


def connect(url: str, *, timeout_s: float = 10.0) -> redis.Redis:
    client = sync_client(
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


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def as_text(entries: Any) -> Entries:
    """Stream entries (ID, fields) as text: a reply read as bytes, or already text."""
    if not entries or isinstance(entries[0][0], str):
        return entries or []
    return [(_text(entry_id), {_text(k): _text(v) for k, v in (fields or {}).items()})
            for entry_id, fields in entries]  # fmt: skip


def read_entries(client: redis.Redis, *command: str | int) -> Entries:
    """XRANGE / XREVRANGE `command`'s entries as text (see the module's docstring)."""
    run: Any = client.execute_command  # untyped in redis-py
    try:
        reply = run(*command)
    except UnicodeDecodeError:  # the connection was dropped with the reply: ask again raw
        reply = run(*command, **{NEVER_DECODE: True})
    return as_text(reply)


def xread_entries(client: redis.Redis, cursors: dict[str, str],
                  count: int) -> list[tuple[str, Entries]]:  # fmt: skip
    """XREAD (without BLOCK) after each stream's cursor: (stream, entries as text) per stream."""
    command: list[str | int] = ["XREAD", "COUNT", count, "STREAMS", *cursors, *cursors.values()]
    run: Any = client.execute_command  # untyped in redis-py
    try:
        reply = run(*command)
    except UnicodeDecodeError:  # as in read_entries
        reply = run(*command, **{NEVER_DECODE: True})
    items = reply.items() if isinstance(reply, dict) else (reply or [])  # RESP3 gives a dict
    return [(_text(stream), as_text(entries)) for stream, entries in items]


def xrange_pages(client: redis.Redis, stream: str, start_ms: int = 0,
                 page: int = PAGE) -> Iterator[Entries]:  # fmt: skip
    """The stream's entries from ID `start_ms` to the end, a page of XRANGE at a time."""
    lower = f"{max(0, start_ms)}-0"
    while True:
        try:
            entries = read_entries(client, "XRANGE", stream, lower, "+", "COUNT", page)
        except redis.ResponseError as exc:  # e.g. WRONGTYPE: a key that is not a stream
            raise RedisUnavailable(f"cannot read stream {stream!r}: {exc}") from None
        except redis.RedisError as exc:
            raise RedisUnavailable(f"lost Redis while reading {stream!r}: {exc}") from None
        if entries:
            yield entries
        if len(entries) < page:
            return
        lower = "(" + entries[-1][0]


def read_streams(client: redis.Redis, streams: list[str], start_ms: int = 0,
                 page: int = PAGE,
                 start_for: Mapping[str, int] | None = None) -> Iterator[RawEntry]:  # fmt: skip
    """Every entry of each stream from ID `start_ms` (a stream in `start_for`: its own start,
    the complaints stream's longer lookback) to the end, stream by stream, in ID order."""
    for stream in streams:
        lower = start_ms if start_for is None else start_for.get(stream, start_ms)
        for entries in xrange_pages(client, stream, lower, page):
            for entry_id, fields in entries:
                yield RawEntry(stream, entry_id, fields)
