"""Key complaints: the panel (open, due within 24 h, overdue, the 3-day callback rate against
its target) and the by-department / by-shop table, a widget of its own so that any page (the
rollups page) can mount it. Names from events are drawn as plain text (widgets.styles.line)."""

from __future__ import annotations

from typing import Final

from textual.content import Content
from textual.widgets import Static

from wallboard.core.snapshot import CallbackRate, ComplaintGroup, ComplaintsSnapshot, Snapshot
from widgets.fmt import Level, coarse, pct
from widgets.styles import line, tagged

NAME_WIDTH: Final = 16
ROWS_SHOWN: Final = 12  # per table; the rest are summed in a last line


def rate_level(rate: CallbackRate, target: float) -> Level:
    """ok at or above target; warn within 5 points below; crit further below; none: undecided."""
    value = rate.callback_rate
    if value is None:
        return "none"
    if value >= target:
        return "ok"
    return "warn" if value >= target - 0.05 else "crit"


class _Panel(Static):
    DEFAULT_CSS = """
    _Panel { border: round $primary; padding: 0 1; height: auto; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.border_title = title
        self._content: Content | None = None

    def _set(self, content: Content) -> None:
        if content != self._content:
            self._content = content
            self.update(content)


class ComplaintsPanel(_Panel):
    """Key complaints open, due within 24 h, overdue, and the callback rate against `target`."""

    def __init__(self, target: float, *, id: str | None = None) -> None:
        super().__init__("Key complaints", id=id)
        self.target = target

    def show(self, snap: Snapshot) -> None:
        self._set(panel_content(snap.complaints, self.target))


def panel_content(c: ComplaintsSnapshot, target: float) -> Content:
    overdue: Level = "crit" if c.overdue else "ok"
    due: Level = "warn" if c.due_24h else "ok"
    oldest = f" (oldest {coarse(c.oldest_overdue_s)})" if c.oldest_overdue_s is not None else ""
    days = c.rolling.days or 0
    return line(
        "open ", (f"{c.open_key}", "bold"), "  due 24h ", tagged(f"{c.due_24h}", due),
        "  overdue ", tagged(f"{c.overdue}", overdue), oldest, "\n",
        "callback rate today ", tagged(pct(c.today.callback_rate), rate_level(c.today, target)),
        f" ({c.today.in_time}/{c.today.decided})", "\n",
        f"callback rate {days}d ", tagged(pct(c.rolling.callback_rate),
                                          rate_level(c.rolling, target)),
        f" ({c.rolling.in_time}/{c.rolling.decided})  target {pct(target)}", "\n",
        f"opened today {c.opened_today}")  # fmt: skip


class ComplaintGroups(_Panel):
    """Key complaints by department and by shop: open, due 24 h, overdue, opened today and the
    rolling callback rate, worst first (most overdue, then most due)."""

    def __init__(self, target: float, *, id: str | None = None) -> None:
        super().__init__("Complaints by department and shop", id=id)
        self.target = target

    def show(self, snap: Snapshot) -> None:
        self._set(groups_content(snap.complaints, self.target))


def _order(group: ComplaintGroup) -> tuple[int, int, int, str]:
    return (-group.overdue, -group.due_24h, -group.open_key, group.name)


def groups_content(c: ComplaintsSnapshot, target: float) -> Content:
    parts: list[str | tuple[str, str]] = []
    for title, groups in (("department", c.by_department), ("shop", c.by_shop)):
        parts.append((f"{title:<{NAME_WIDTH}} {'open':>5} {'due':>4} {'over':>5} "
                      f"{'today':>5}  rate\n", "bold"))  # fmt: skip
        ranked = sorted(groups, key=_order)
        for group in ranked[:ROWS_SHOWN]:
            name = group.name[:NAME_WIDTH]
            parts += [f"{name:<{NAME_WIDTH}} {group.open_key:>5} {group.due_24h:>4} ",
                      tagged(f"{group.overdue:>5}", "crit" if group.overdue else "ok"),
                      f" {group.opened_today:>5}  ",
                      tagged(pct(group.rolling.callback_rate), rate_level(group.rolling, target)),
                      "\n"]  # fmt: skip
        rest = ranked[ROWS_SHOWN:]
        if rest:
            parts.append(f"… {len(rest)} more, {sum(g.overdue for g in rest)} overdue\n")
        if not groups:
            parts.append("no complaints\n")
    return line(*parts)
