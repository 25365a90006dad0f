"""The Rollups page: the floor, the configured groups, the shops and the channels, each with
the same live and period figures and the same level colours as a queue (docs/board.md)."""

from __future__ import annotations

from wallboard.core.config import DisplaySection
from wallboard.core.rollups import RollupSnapshot
from wallboard.core.sanitize import clean
from widgets.fmt import (
    DEFAULT_ROUND_LIMITS,
    LABELS,
    Level,
    RoundLimits,
    abandon_level,
    duration,
    longest_level,
    pct,
    sl_level,
    waiting_level,
    worst,
)
from widgets.rowlist import Column, Row, RowList

KIND_LABELS = {"floor": "FLOOR", "group": "group", "shop": "shop", "channel": "channel"}

ROLLUP_COLUMNS = (
    Column("view", 7),
    Column("name", 10, grow=2),
    Column("status", 7),
    Column("wait", 4, "right"),
    Column("longest", 7, "right"),
    Column("SL today", 8, "right", drop=2),
    Column("SL win", 7, "right"),
    Column("aband", 6, "right", drop=2),
    Column("offered", 7, "right", drop=3),
    Column("unans", 5, "right"),
    Column("oldest", 6, "right"),
    Column("3m resp", 7, "right"),
    Column("resp win", 8, "right", drop=1),
    Column("avg rsp", 7, "right", drop=4),
)


class RollupLevels:
    """A rollup's levels: a queue's, judged on the board's default target and threshold (each
    contact was already judged by its own queue's), plus the response figures'."""

    __slots__ = ("abandon", "longest", "oldest_round", "overall", "response", "sl_today",
                 "sl_window", "waiting")  # fmt: skip

    def __init__(self, r: RollupSnapshot, d: DisplaySection, rounds: RoundLimits) -> None:
        self.waiting = waiting_level(r.waiting, d)
        self.longest = longest_level(r.longest_wait_s, r.sl_threshold_s, d)
        self.sl_today = sl_level(r.today.service_level, r.sl_target, d)
        self.sl_window = sl_level(r.window.service_level, r.sl_target, d)
        self.abandon = abandon_level(r.today.abandon_rate, d)
        measured = r.open_rounds is not None
        self.oldest_round: Level = rounds.level(r.oldest_open_round_s) if measured and \
            r.open_rounds else "none"  # fmt: skip
        response = r.window.response
        self.response: Level = rounds.rate_level(response.response_rate if response else None)
        self.overall = worst(self.waiting, self.longest, self.sl_window, self.abandon,
                             self.oldest_round, self.response)  # fmt: skip


def rollup_row(r: RollupSnapshot, d: DisplaySection, rounds: RoundLimits) -> Row:
    lv = RollupLevels(r, d, rounds)
    today, window = r.today.response, r.window.response
    unanswered = "—" if r.open_rounds is None else str(r.open_rounds)
    oldest = duration(r.oldest_open_round_s) if r.open_rounds else "—"
    return (
        (KIND_LABELS.get(r.by, r.by), "key" if r.by == "floor" else "dim"),
        (clean(r.name, 40), "key"),
        (LABELS[lv.overall], lv.overall),
        (str(r.waiting), lv.waiting),
        (duration(r.longest_wait_s), lv.longest),
        (pct(r.today.service_level, 1), lv.sl_today),
        (pct(r.window.service_level), lv.sl_window),
        (pct(r.today.abandon_rate, 1), lv.abandon),
        (str(r.today.offered), ""),
        (unanswered, "warn" if r.open_rounds else ""),
        (oldest, lv.oldest_round),
        (pct(today.response_rate if today else None, 1),
         rounds.rate_level(today.response_rate if today else None)),
        (pct(window.response_rate if window else None), lv.response),
        (duration(today.avg_response_s if today else None), ""),
    )  # fmt: skip


class RollupTable(RowList[RollupSnapshot]):
    def __init__(self, display: DisplaySection, rounds: RoundLimits = DEFAULT_ROUND_LIMITS, *,
                 id: str | None = None) -> None:  # fmt: skip
        super().__init__(ROLLUP_COLUMNS, lambda r, _w: rollup_row(r, display, rounds),
                         lambda r: f"{r.by}:{r.name}", empty="no rollups yet (no contact events)",
                         id=id)  # fmt: skip
