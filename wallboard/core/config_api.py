"""`[api]`: the aggregator's HTTP API (`wallboard aggregate --http`, docs/api.md).

Typed with the rest of the config, so `check-config` and every command that reads the file
refuse a bad `[api]` key or value naming the key and the file before anything listens.
`--http HOST:PORT` overrides `host` and `port`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec


class ApiSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # listen address; never empty (aiohttp would listen on every interface)
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] = "127.0.0.1"
    # set (or give --http) to serve the API; none: the aggregator serves no HTTP
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    tokens_file: str | None = None  # required to serve: one bearer token per line
    public_metrics: bool = False  # GET /metrics without a token (Prometheus scrapers)
    max_streams: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 200  # SSE clients at once
    agent_metrics: bool = False  # per-agent series on /metrics (one per agent per metric)
    # Events queued for one SSE client beyond what its socket took; one more and it is dropped.
    send_buffer_events: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 16
    # Recent events kept for Last-Event-ID resumes (30: 15 s at 2 Hz); older ids get a resync.
    resume_events: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 30
    retry_after_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 2  # Retry-After on a 503
