"""Health of the feed behind a board, drawn in its header. A frozen board must never look live.

Pure data: the live feed (feeds/) fills it, widgets draw it, neither knows the other.
"""

from __future__ import annotations

from typing import Literal

import msgspec

FeedState = Literal["connecting", "backfilling", "connected", "reconnecting", "stale", "replay"]


class FeedStatus(msgspec.Struct, frozen=True, kw_only=True):
    state: FeedState = "connecting"
    source: str = ""  # what is read, without secrets: "redis://host:6379/0 wallboard:events"
    since_ms: int | None = None  # when `state` began (wall clock)
    last_data_ms: int | None = None  # wall-clock time the newest entry was read
    events_per_s: float = 0.0
    lag_s: float | None = None  # now - the newest event's own time
    notice: str | None = None  # e.g. a gap (stream trimmed) or a reset, shown until cleared
    error: str | None = None  # the last connection error, while not connected
    via: str | None = None  # the aggregator a snapshot-following board draws from
