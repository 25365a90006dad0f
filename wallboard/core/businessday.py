"""The business day: the span a floor's "today" counters cover.

It starts at a configured local time (default 04:00), not at midnight, so the evening shift
17:30-00:30 falls in one day. Shifts are anchored to the business day they start in.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import msgspec

from wallboard.core.timeutil import local_ms, to_local


class BusinessDay(msgspec.Struct, frozen=True):
    date: str  # ISO date of the day's start, e.g. 2026-11-11
    start_ms: int
    end_ms: int

    def __contains__(self, ms: int) -> bool:
        return self.start_ms <= ms < self.end_ms


class Shift(msgspec.Struct, frozen=True):
    name: str
    start_ms: int
    end_ms: int


class BusinessCalendar:
    def __init__(
        self,
        tz: ZoneInfo,
        day_start: tuple[int, int],
        shifts: list[tuple[str, tuple[int, int], tuple[int, int]]],
    ) -> None:
        self.tz = tz
        self._hour, self._minute = day_start
        self._shift_spans = shifts
        self._last: BusinessDay | None = None
        self._shift_cache: dict[str, list[Shift]] = {}

    def day_of(self, ms: int) -> BusinessDay:
        last = self._last
        if last is not None and last.start_ms <= ms < last.end_ms:
            return last
        local = to_local(ms, self.tz)
        if (local.hour, local.minute) < (self._hour, self._minute):
            local -= timedelta(days=1)
        start = local_ms(local, self._hour, self._minute, self.tz)
        if start > ms:  # a DST jump can move the wall-clock start past us
            local -= timedelta(days=1)
            start = local_ms(local, self._hour, self._minute, self.tz)
        end = local_ms(local, self._hour, self._minute, self.tz, add_days=1)
        day = BusinessDay(local.date().isoformat(), start, end)
        self._last = day
        return day

    def shifts(self, day: BusinessDay) -> list[Shift]:
        """The day's shifts in epoch ms; a shift starting before the day's start time belongs
        to the next calendar date (e.g. a 02:00 shift in a day starting 04:00)."""
        cached = self._shift_cache.get(day.date)
        if cached is not None:
            return cached
        base = to_local(day.start_ms, self.tz)
        out = []
        for name, (sh, sm), (eh, em) in self._shift_spans:
            start_offset = 1 if (sh, sm) < (self._hour, self._minute) else 0
            end_offset = start_offset + (1 if (eh, em) <= (sh, sm) else 0)
            out.append(Shift(name, local_ms(base, sh, sm, self.tz, start_offset),
                             local_ms(base, eh, em, self.tz, end_offset)))  # fmt: skip
        out.sort(key=lambda shift: shift.start_ms)
        if len(self._shift_cache) > 8:
            self._shift_cache.clear()
        self._shift_cache[day.date] = out
        return out

    def shift_for_login(self, day: BusinessDay, login_ms: int) -> Shift | None:
        """The shift containing the login; else the next one to start; else none."""
        shifts = self.shifts(day)
        for shift in shifts:
            if shift.start_ms <= login_ms < shift.end_ms:
                return shift
        for shift in shifts:
            if shift.start_ms > login_ms:
                return shift
        return None
