"""Number formatting and the warn/critical levels shared by the board's widgets.

A level is always drawn with a word or symbol beside its colour, so the board reads on a
monochrome or 16-colour terminal and for colour-blind viewers.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

from wallboard.core.alerts import resolve_rules
from wallboard.core.config import Config, DisplaySection
from wallboard.core.snapshot import QueueSnapshot

Level = Literal["ok", "warn", "crit", "none"]

LABELS: Final[dict[Level, str]] = {"ok": "OK", "warn": "WARN ▲", "crit": "CRIT ■", "none": "·"}
_RANK: Final[dict[Level, int]] = {"none": 0, "ok": 1, "warn": 2, "crit": 3}


def worst(*levels: Level) -> Level:
    return max(levels, key=_RANK.__getitem__)


def rank(level: Level) -> int:
    return _RANK[level]


def pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def duration(seconds: float | None) -> str:
    """Compact wait/duration: 45s, 3:07, 1h05 (minute or coarser above a minute keeps the
    screen from repainting every row every second)."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s // 3600}h{s % 3600 // 60:02d}"


def coarse(seconds: float | None) -> str:
    """Time in state for long lists: whole minutes only."""
    if seconds is None:
        return "—"
    m = int(seconds) // 60
    if m < 1:
        return "<1m"
    if m < 60:
        return f"{m}m"
    return f"{m // 60}h{m % 60:02d}"


def hhmmss(iso: str | None) -> str:
    """The clock part of an RFC 3339 local time (snapshot strings are already local)."""
    if not iso or len(iso) < 19:
        return "—"
    return iso[11:19]


def sl_level(value: float | None, target: float, d: DisplaySection) -> Level:
    if value is None:
        return "none"
    if value < target - d.sl_critical_gap:
        return "crit"
    if value < target - d.sl_warn_gap:
        return "warn"
    return "ok"


def waiting_level(waiting: int, d: DisplaySection) -> Level:
    if waiting >= d.waiting_critical:
        return "crit"
    return "warn" if waiting >= d.waiting_warn else "ok"


def longest_level(seconds: float, threshold_s: float, d: DisplaySection) -> Level:
    if seconds <= 0:
        return "ok"
    if seconds >= d.longest_wait_critical_x * threshold_s:
        return "crit"
    return "warn" if seconds >= d.longest_wait_warn_x * threshold_s else "ok"


def abandon_level(rate: float | None, d: DisplaySection) -> Level:
    if rate is None:
        return "none"
    if rate >= d.abandon_critical:
        return "crit"
    return "warn" if rate >= d.abandon_warn else "ok"


class QueueLevels:
    """Every level of one queue tile, computed once per snapshot."""

    __slots__ = ("abandon", "longest", "overall", "sl_today", "sl_window", "waiting")

    def __init__(self, q: QueueSnapshot, d: DisplaySection) -> None:
        self.waiting = waiting_level(q.waiting, d)
        self.longest = longest_level(q.longest_wait_s, q.sl_threshold_s, d)
        self.sl_today = sl_level(q.today.service_level, q.sl_target, d)
        self.sl_window = sl_level(q.window.service_level, q.sl_target, d)
        self.abandon = abandon_level(q.today.abandon_rate, d)
        self.overall = worst(self.waiting, self.longest, self.sl_window, self.abandon)


class RoundLimits(NamedTuple):
    """Levels of the response figures: the oldest open round against the `oldest_open_round`
    alert rule's warn and critical seconds, a response rate against `[response] target` with
    the display's service-level gaps (so a tile, a row and an alert agree)."""

    warn_s: float = 120.0
    critical_s: float = 180.0
    target: float = 0.8
    warn_gap: float = 0.0
    critical_gap: float = 0.1

    @classmethod
    def from_config(cls, config: Config) -> RoundLimits:
        rule = resolve_rules(config).get("oldest_open_round")
        d = config.display
        base = cls()
        return cls(rule.warn if rule else base.warn_s,
                   rule.critical if rule else base.critical_s,
                   config.response.target, d.sl_warn_gap, d.sl_critical_gap)  # fmt: skip

    def level(self, oldest_s: float | None) -> Level:
        if oldest_s is None:
            return "none"
        if oldest_s >= self.critical_s:
            return "crit"
        return "warn" if oldest_s >= self.warn_s else "ok"

    def rate_level(self, rate: float | None) -> Level:
        if rate is None:
            return "none"
        if rate < self.target - self.critical_gap:
            return "crit"
        return "warn" if rate < self.target - self.warn_gap else "ok"


DEFAULT_ROUND_LIMITS: Final = RoundLimits()
