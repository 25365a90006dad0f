"""An agent's projected inquiries by the end of their shift (docs/metrics.md): today's count
plus the last hour's pace over the hours left. Shared by the snapshot and the alert rules."""

from __future__ import annotations

from wallboard.core.businessday import BusinessCalendar, BusinessDay, Shift
from wallboard.core.state import HOUR_MS, AgentState


def agent_shift(calendar: BusinessCalendar, day: BusinessDay | None,
                agent: AgentState) -> Shift | None:  # fmt: skip
    """The shift of the agent's first login today, on the business day `day`."""
    if day is None or agent.first_login is None:
        return None
    return calendar.shift_for_login(day, agent.first_login)


def projected_today(as_of: int, agent: AgentState, shift: Shift | None,
                    last_hour: int) -> float:  # fmt: skip
    hours_left = 0.0 if shift is None else max(0, shift.end_ms - as_of) / HOUR_MS
    return agent.handled_today + last_hour * hours_left
