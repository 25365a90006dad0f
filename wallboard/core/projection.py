"""An agent's projected inquiries by the end of their shift (docs/metrics.md): today's count
plus the last hour's pace over the hours left. Shared by the snapshot and the alert rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wallboard.core.businessday import Shift

if TYPE_CHECKING:
    from wallboard.core.fold import AgentState, BoardState

HOUR_MS = 3_600_000


def agent_shift(state: BoardState, agent: AgentState) -> Shift | None:
    if state.day is None or agent.first_login is None:
        return None
    return state.calendar.shift_for_login(state.day, agent.first_login)


def projected_today(state: BoardState, agent: AgentState, shift: Shift | None,
                    last_hour: int) -> float:  # fmt: skip
    hours_left = 0.0 if shift is None else max(0, shift.end_ms - state.as_of) / HOUR_MS
    return agent.handled_today + last_hour * hours_left
