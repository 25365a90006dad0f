"""`[ingest]`: the ingest gateway's settings (`wallboard ingest`, docs/ingest.md).

Typed with the rest of the config, not by the gateway alone, so `check-config` and every
command that reads the file refuse a bad `[ingest]` key or value the same way, naming the
key and the file, before the gateway is ever started. Command-line flags override the table.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

from wallboard.core.config_bounds import MAX_COUNT, WEEK_S

MIN_BODY_BYTES: Final = 1024
# One request is written by one atomic script that blocks Redis while it runs (about 20 ms
# for 500 events): 16 MiB is already a pause of seconds.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
MAX_RATE_PER_S: Final = 1_000_000.0
MAX_WINDOW_S: Final = float(WEEK_S)


class IngestSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # listen address; never empty (aiohttp would listen on every interface)
    host: Annotated[str, msgspec.Meta(min_length=1)] = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8787
    tokens_file: str | None = None
    stream: str | None = None  # default: the board's first stream (wallboard:events)
    # larger bodies get 413
    max_body_bytes: Annotated[int, msgspec.Meta(ge=MIN_BODY_BYTES, le=MAX_BODY_BYTES)] = 1_048_576
    # requests per second per token (token bucket) ...
    rate_per_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_RATE_PER_S)] = 20.0
    # ... with this many in a burst; more get 429
    burst: Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)] = 40
    # A repeated producer `id` within this window is acknowledged, not written again.
    # Default: the board's own dedup window (board.dedup_window_minutes).
    idempotency_window_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_WINDOW_S)] | None = None
    retry_after_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 2  # Retry-After on 503
    redis_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 2.0
