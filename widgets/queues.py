"""The queue table (the Queues page); the tiles are in widgets/tiles.py."""

from __future__ import annotations

from wallboard.core.config import DisplaySection
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import QueueSnapshot
from widgets.fmt import LABELS, QueueLevels, duration, pct
from widgets.rowlist import Column, Row, RowList


def queue_columns() -> tuple[Column, ...]:
    return (
        Column("queue", 10, grow=2),
        Column("status", 7),
        Column("wait", 4, "right"),
        Column("longest", 7, "right"),
        Column("SL today", 8, "right"),
        Column("SL win", 7, "right"),
        Column("target", 8, "right", drop=3),
        Column("ASA", 5, "right", drop=4),
        Column("aband", 6, "right"),
        Column("offered", 7, "right", drop=2),
        Column("free/staff", 10, "right", drop=1),
        Column("need", 6, "right", drop=2),  # Erlang C required agents and the gap
        Column("360/h", 5, "right", drop=4),  # the seeds' rule of thumb
        Column("kind", 8, drop=5),
    )


def queue_row(q: QueueSnapshot, d: DisplaySection) -> Row:
    lv = QueueLevels(q, d)
    return (
        (clean(q.queue, 40), "key"),
        (LABELS[lv.overall], lv.overall),
        (str(q.waiting), lv.waiting),
        (duration(q.longest_wait_s), lv.longest),
        (pct(q.today.service_level, 1), lv.sl_today),
        (pct(q.window.service_level), lv.sl_window),
        (f"{q.sl_target * 100:.0f}%@{q.sl_threshold_s:g}s", "dim"),
        (duration(q.today.asa_s), ""),
        (pct(q.today.abandon_rate, 1), lv.abandon),
        (str(q.today.offered), ""),
        (f"{q.agents_available}/{q.agents_staffed}", ""),
        _need(q),
        ("—" if q.rule_of_thumb_agents is None else str(q.rule_of_thumb_agents), "dim"),
        (q.kind, "dim"),
    )


def _need(q: QueueSnapshot) -> tuple[str, str]:
    """Erlang C's required agents, with the shortfall when there is one: "14 +3". With the
    queue's `shrinkage` set, the positions to schedule, marked so: "20pos" (the shortfall
    is still in agents on the phones now)."""
    if q.required_agents is None or q.staffed_gap is None:
        return ("—", "dim")
    need = str(q.required_agents) if q.required_positions is None \
        else f"{q.required_positions}pos"  # fmt: skip
    if q.staffed_gap > 0:
        return (f"{need} +{q.staffed_gap}", "warn")
    return (need, "")


class QueueTable(RowList[QueueSnapshot]):
    def __init__(self, display: DisplaySection, *, id: str | None = None) -> None:
        super().__init__(queue_columns(), lambda q, _w: queue_row(q, display), lambda q: q.queue,
                         empty="no queues yet (no contact events)", id=id)  # fmt: skip
