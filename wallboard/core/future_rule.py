"""The board's time rule, in one place for the fold and the ingest gateway: an event stamped
more than `[board] max_future_s` after the clock is `bad_timestamp`. The gateway refuses
what every board would reject, and the two cannot drift apart.

The fold computes the limit when its clock moves (`advance`) and compares each event's time
with it (`ts > limit`); only a rejected event builds the rejection.
"""

from __future__ import annotations

from wallboard.core.events import Rejection


def future_limit_ms(clock_ms: int, max_future_s: float) -> int:
    """The latest event time accepted at `clock_ms`: an event with `ts` above it is rejected."""
    return clock_ms + round(max_future_s * 1000)


def future_rejection(ts: int, max_future_s: float, entry_id: str | None) -> Rejection:
    return Rejection("bad_timestamp", "ts", f"event time is more than {max_future_s:g} s "
                     "ahead of the clock", entry_id, ts)  # fmt: skip
