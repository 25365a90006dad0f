"""The gateway's settings: the `[ingest]` table of the board's TOML config.

The table is typed and range-checked with the rest of the config (wallboard/core/config_ingest.py),
so every command that reads the file, `check-config` first, refuses a bad `[ingest]` key or
value naming the key and the file. Command-line flags override the table; the table overrides
the defaults.
"""

from __future__ import annotations

from wallboard.core.config import Config
from wallboard.core.config_ingest import IngestSection

IngestSettings = IngestSection  # the name the gateway's code knows it by


def ingest_settings(config: Config) -> IngestSettings:
    """The config's `[ingest]` table (already checked by `load_config`)."""
    return config.ingest


def window_ms(settings: IngestSettings, config: Config) -> int:
    seconds = settings.idempotency_window_s
    if seconds is None:
        seconds = config.board.dedup_window_minutes * 60
    return max(1, round(seconds * 1000))
