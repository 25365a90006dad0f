"""Alerts and reserve callouts: the banner (big screen), the side box, and the supervisor's
lists. Every severity is a word and a symbol as well as a colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from textual.content import Content
from textual.widgets import Static

from wallboard.core.sanitize import clean
from wallboard.core.snapshot import AlertSnapshot, CalloutRecommendation, CalloutSnapshot, Snapshot
from widgets.rowlist import Column, Row, RowList
from widgets.styles import line

RECENT_MS: Final = 10 * 60_000
SYMBOL: Final = {"critical": "‼ CRIT", "warn": "▲ WARN"}
CALLEE_SYMBOL: Final = {"called": "… called", "accepted": "✓ accepted", "declined": "✗ declined",
                        "logged_in": "● logged in", "no_answer": "! no answer"}  # fmt: skip


def age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h{seconds % 3600 // 60:02.0f}m"


def active_alerts(snap: Snapshot) -> list[AlertSnapshot]:
    """Active alerts: critical first, then what the whole floor suffers (queues, the feed)
    before single agents, then the unacknowledged, then the newest."""
    active = [a for a in snap.alerts if a.cleared_at is None]
    active.sort(key=lambda a: (a.severity != "critical", a.subject_kind == "agent",
                               a.acked_by is not None, -a.raised_at_ms))  # fmt: skip
    return active


def unacked_critical(snap: Snapshot) -> list[AlertSnapshot]:
    return [a for a in active_alerts(snap) if a.severity == "critical" and a.acked_by is None]


class AlertBanner(Static):
    """One line across the screen while an unacknowledged critical alert is active."""

    DEFAULT_CSS = """
    AlertBanner { height: 1; display: none; background: $error; color: $text;
                  text-style: bold; padding: 0 1; }
    AlertBanner.-on { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def show(self, snap: Snapshot, now_ms: int) -> None:
        alerts = unacked_critical(snap)
        self.set_class(bool(alerts), "-on")
        if not alerts:
            return
        first = alerts[0]
        more = f"  (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
        self.update(line(f"‼ CRITICAL ‼ {clean(first.message, 120)} · for "
                         f"{age((now_ms - first.raised_at_ms) / 1000)}{more}"))


def _callout_lines(callouts: Sequence[CalloutSnapshot], now_ms: int,
                   limit: int) -> list[str | tuple[str, str]]:  # fmt: skip
    parts: list[str | tuple[str, str]] = []
    for c in callouts[:limit]:
        flag = ("  OVERDUE", "$error bold") if c.overdue else ""
        parts += [("\n☎ ", "bold"), f"{clean(c.queue, 16)} {age((now_ms - c.called_at_ms) / 1000)}"
                  " ago", flag]  # fmt: skip
        for callee in c.agents:
            name = clean(callee.name or callee.agent, 16)
            parts.append(f"\n   {name:<16} {CALLEE_SYMBOL.get(callee.status, callee.status)}")
    return parts


class AlertsSummary(Static):
    """The overview's box: active alerts, recommended and running callouts, refused input."""

    DEFAULT_CSS = """
    AlertsSummary { border: round $primary; padding: 0 1; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.border_title = "Alerts"
        self._content: Content | None = None

    def show(self, snap: Snapshot, now_ms: int, webhook_problem: str | None = None) -> None:
        active = active_alerts(snap)
        parts: list[str | tuple[str, str]] = []
        if not active:
            parts.append(("✓ no active alerts", "$success"))
        for a in active[:8]:
            style = "$error bold reverse" if a.severity == "critical" else "$warning bold"
            ack = f" ack {clean(a.acked_by, 12)}" if a.acked_by else ""
            parts += [(SYMBOL.get(a.severity, a.severity), style),
                      f" {clean(a.message, 60)} ", (f"{age((now_ms - a.raised_at_ms) / 1000)}"
                                                    f"{ack}\n", "$text-muted")]  # fmt: skip
        if len(active) > 8:
            parts.append(f"… {len(active) - 8} more (page 5)\n")
        for rec in snap.callout_recommendations[:3]:
            who = ", ".join(clean(a, 12) for a in rec.agents[:6]) or "nobody free"
            if len(rec.agents) > 6:
                who += f" +{len(rec.agents) - 6} more"
            parts += [("\n☎ CALL ", "$warning bold reverse"),
                      f" {rec.agents_needed} for {clean(rec.queue, 16)}: {who}\n",
                      (clean(rec.reason, 160), "$text-muted")]  # fmt: skip
        # Running ones, and for ten minutes those just completed: the floor sees them arrive.
        running = [c for c in snap.callouts if c.active or c.overdue or (
            c.ended_at_ms is not None and now_ms - c.ended_at_ms < RECENT_MS)]
        parts += _callout_lines(running, now_ms, 3)
        rejected = sum(snap.events_rejected.values())
        if rejected:
            reasons = ", ".join(f"{k} {v}" for k, v in snap.events_rejected.items() if v)
            parts += [("\n\nRejected events: ", "$warning bold"), f"{rejected} ({reasons})"]
        if snap.events_duplicate:
            parts.append(f"\nDuplicates ignored: {snap.events_duplicate}")
        if webhook_problem:
            parts += [("\n\nWebhook failing: ", "$error bold"), clean(webhook_problem, 100)]
        content = line(*parts)
        if content != self._content:
            self._content = content
            self.update(content)


ALERT_COLUMNS = (
    Column("severity", 7),
    Column("alert", 30, grow=3),
    Column("age", 8, "right"),
    Column("ack", 12, grow=1, drop=1),
    Column("rule", 22, drop=2),
)


class AlertRow(NamedTuple):
    alert: AlertSnapshot
    now_ms: int


class AlertList(RowList[AlertRow]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(ALERT_COLUMNS, self._format, lambda r: r.alert.id,
                         empty="no alerts today", id=id)  # fmt: skip

    @staticmethod
    def _format(row: AlertRow, _w: tuple[int, ...]) -> Row:
        a = row.alert
        level = "crit" if a.severity == "critical" else "warn"
        if a.cleared_at is not None:
            return ((f"✓ {a.severity}", "dim"), (clean(a.message, 120), "dim"),
                    (f"cleared {a.cleared_at[11:19]}", "dim"), (clean(a.acked_by or "", 12), "dim"),
                    (a.rule, "dim"))  # fmt: skip
        return ((SYMBOL.get(a.severity, a.severity), level), (clean(a.message, 120), ""),
                (age((row.now_ms - a.raised_at_ms) / 1000), ""),
                (clean(a.acked_by, 12) if a.acked_by else "— press a", "dim" if a.acked_by
                 else "warn"), (a.rule, "dim"))  # fmt: skip


CALLOUT_COLUMNS = (
    Column("callout", 10),
    Column("queue", 14, grow=1),
    Column("agents", 30, grow=3),
    Column("status", 16, grow=1),
)


class CalloutItem(NamedTuple):
    key: str
    recommendation: CalloutRecommendation | None
    callout: CalloutSnapshot | None
    now_ms: int


class CalloutList(RowList[CalloutItem]):
    """Recommendations (press c to confirm) above the day's confirmed callouts."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(CALLOUT_COLUMNS, self._format, lambda r: r.key,
                         empty="no callouts recommended or running", id=id)  # fmt: skip

    @staticmethod
    def _format(item: CalloutItem, _w: tuple[int, ...]) -> Row:
        rec, c = item.recommendation, item.callout
        if rec is not None:
            who = ", ".join(rec.agents) or "no reserve agent free"
            return (("☎ CALL", "warn"), (clean(rec.queue, 30), "key"),
                    (clean(f"{rec.agents_needed}: {who}", 120), ""),
                    (clean("press c · " + rec.reason, 200), "dim"))  # fmt: skip
        assert c is not None
        states = ", ".join(f"{x.name or x.agent} {CALLEE_SYMBOL.get(x.status, x.status)}"
                           for x in c.agents)  # fmt: skip
        status = "OVERDUE" if c.overdue else "active" if c.active else "done"
        return ((c.called_at[11:16], "dim"), (clean(c.queue, 30), "key"), (clean(states, 200), ""),
                (f"{status} · {age((item.now_ms - c.called_at_ms) / 1000)}",
                 "crit" if c.overdue else ""))  # fmt: skip

    def show(self, snap: Snapshot, now_ms: int) -> None:
        items = [CalloutItem(f"rec:{r.queue}", r, None, now_ms)
                 for r in snap.callout_recommendations]  # fmt: skip
        items += [CalloutItem(f"co:{c.id}", None, c, now_ms) for c in reversed(snap.callouts)]
        self.set_items(items)
