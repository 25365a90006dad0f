"""The gateway's settings: the `[ingest]` table of the board's TOML config, typed here.

Command-line flags override the table; the table overrides the defaults below.
"""

from __future__ import annotations

import msgspec

from wallboard.core.config import Config, ConfigError


class IngestSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8787
    tokens_file: str | None = None
    stream: str | None = None  # default: the board's first stream (wallboard:events)
    max_body_bytes: int = 1_048_576  # larger bodies get 413
    rate_per_s: float = 20.0  # requests per second per token (token bucket) ...
    burst: int = 40  # ... with this many in a burst; more get 429
    # A repeated producer `id` within this window is acknowledged, not written again.
    # Default: the board's own dedup window (board.dedup_window_minutes).
    idempotency_window_s: float | None = None
    retry_after_s: int = 2  # Retry-After on 503 (Redis down)
    redis_timeout_s: float = 2.0


def ingest_settings(config: Config) -> IngestSettings:
    """The typed `[ingest]` table; a ConfigError names the bad key."""
    try:
        settings = msgspec.convert(config.ingest, IngestSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"[ingest]: {exc}") from None
    checks = (
        (settings.max_body_bytes >= 1024, "max_body_bytes must be at least 1024"),
        (settings.rate_per_s > 0, "rate_per_s must be positive"),
        (settings.burst >= 1, "burst must be at least 1"),
        (0 < settings.port < 65536, "port must be 1-65535"),
        (settings.retry_after_s >= 1, "retry_after_s must be at least 1"),
        (settings.redis_timeout_s > 0, "redis_timeout_s must be positive"),
        (settings.idempotency_window_s is None or settings.idempotency_window_s > 0,
         "idempotency_window_s must be positive"),
    )  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"[ingest]: {message}")
    return settings


def window_ms(settings: IngestSettings, config: Config) -> int:
    seconds = settings.idempotency_window_s
    if seconds is None:
        seconds = config.board.dedup_window_minutes * 60
    return max(1, round(seconds * 1000))
