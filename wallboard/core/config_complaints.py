"""`[complaints]`: key complaints and their callback deadline (docs/metrics.md, "Complaints")."""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

from wallboard.core.config_bounds import PositiveFraction

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
DEFAULT_COMPLAINTS_STREAM: Final = "wallboard:cases"

# A callback deadline: an hour up to a fortnight.
CallbackHours = Annotated[float, msgspec.Meta(ge=1, le=14 * 24)]
# The rolling callback rate's span: a day up to a month.
RateDays = Annotated[int, msgspec.Meta(ge=1, le=31)]


class ComplaintsSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # The stream complaint events go to (read with a longer backfill than the contacts');
    # empty: no complaints are read.
    stream: Annotated[str, msgspec.Meta(max_length=256)] = DEFAULT_COMPLAINTS_STREAM
    # A key complaint's callback deadline: opened + this many hours.
    callback_within_h: CallbackHours = 72.0
    # The rolling callback rate covers this many days.
    rate_days: RateDays = 7
    # The callback rate the panel and the `complaint_overdue` rule judge against.
    target: PositiveFraction = 0.95

    @property
    def deadline_ms(self) -> int:
        return round(self.callback_within_h * HOUR_MS)

    @property
    def rate_ms(self) -> int:
        return self.rate_days * DAY_MS

    @property
    def lookback_ms(self) -> int:
        """How far back every reader reads the complaints stream: max(callback_within_h,
        rate_days x 24) hours plus a day, whatever the business-day backfill is."""
        return max(self.deadline_ms, self.rate_ms) + DAY_MS
