"""Time parsing and formatting. Internally every time is epoch milliseconds (int)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# Epoch-millisecond values below this (March 1973) are almost certainly epoch *seconds*
# written by mistake; above the upper bound (year 2200) they are garbage.
_MIN_MS: Final = 100_000_000_000
_MAX_MS: Final = 7_258_118_400_000


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_stream_id(entry_id: str) -> tuple[int, int] | None:
    """`<ms>-<seq>` (or a bare `<ms>`) to a comparable tuple, None when malformed."""
    ms_text, _, seq_text = entry_id.partition("-")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not _digits(ms_text) or (seq_text and not _digits(seq_text)):
        return None
    if not seq_text and "-" in entry_id:
        return None
    return int(ms_text), int(seq_text or 0)


def parse_event_time(text: str) -> int | None:
    """Epoch milliseconds (digits) or RFC 3339 with an offset; None when unreadable."""
    if _digits(text):
        ms = int(text)
        return ms if _MIN_MS <= ms <= _MAX_MS else None
    if len(text) < 20 or text[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # RFC 3339 requires the offset
        return None
    ms = round(moment.timestamp() * 1000)
    return ms if _MIN_MS <= ms <= _MAX_MS else None


def parse_user_time(text: str, tz: ZoneInfo, now_ms: int) -> int:
    """A time typed by a person (`--at`, `--from`): `now`, epoch ms, ISO 8601 with or without
    an offset (without one it is read in the board's time zone), or a date (its midnight)."""
    text = text.strip()
    if text == "now":
        return now_ms
    if _digits(text):
        ms = int(text)
        if not _MIN_MS <= ms <= _MAX_MS:
            raise ValueError(f"{text!r} is not a plausible epoch-milliseconds time")
        return ms
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 such as 2026-11-11T10:00:00+08:00, "
            "2026-11-11 10:00 (board time zone), epoch milliseconds or 'now'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return round(moment.timestamp() * 1000)


def to_local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def format_local(ms: int, tz: ZoneInfo) -> str:
    """RFC 3339 in the board's zone, with milliseconds only when there are any."""
    moment = to_local(ms, tz)
    spec = "milliseconds" if ms % 1000 else "seconds"
    return moment.isoformat(timespec=spec)


def local_ms(day: datetime, hours: int, minutes: int, tz: ZoneInfo, add_days: int = 0) -> int:
    """Epoch ms of a wall-clock time on a local date (DST gaps resolve as zoneinfo does)."""
    date = (day + timedelta(days=add_days)).date()
    moment = datetime(date.year, date.month, date.day, hours, minutes, tzinfo=tz)
    return round(moment.timestamp() * 1000)
