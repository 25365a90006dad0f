"""Bounded number types for the typed config, shared by its sections.

Every number in the config has a lower and an upper bound, checked by msgspec while the file
is converted: NaN fails every bound, inf and -inf fail one of them, and an integer past any
sane size (or past 2**63, which Redis and the compiled fold could not take) fails its upper
bound. So none of them gets past `load_config`, and the error names the key and the file.
The bounds are generous: they catch nonsense, not unusual floors.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

MINUTE_S: Final = 60
HOUR_S: Final = 3600
DAY_S: Final = 86_400
WEEK_S: Final = 7 * DAY_S
# Contacts, inquiries, messages, agents, entries: far more than any floor has in a day.
MAX_COUNT: Final = 1_000_000

# Seconds: a delay, a timeout or a duration, 0 (none) up to a day.
Seconds = Annotated[float, msgspec.Meta(ge=0, le=DAY_S)]
# Seconds that must be positive (a timeout, an interval), up to a day.
PositiveSeconds = Annotated[float, msgspec.Meta(gt=0, le=DAY_S)]
# An answer threshold (tickets may be given days), positive, up to a week.
ThresholdSeconds = Annotated[float, msgspec.Meta(gt=0, le=WEEK_S)]
# A share: 0 to 1.
Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]
# A share that must be above 0: a target, an occupancy.
PositiveFraction = Annotated[float, msgspec.Meta(gt=0, le=1)]
# A whole count: 0 up to MAX_COUNT.
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
# A count that must be at least 1.
PositiveCount = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)]
