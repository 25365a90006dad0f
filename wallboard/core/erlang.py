"""Erlang C staffing for one queue (docs/staffing.md): pure arithmetic, no IO.

Erlang B comes from the recurrence 1/B(n) = 1 + (n/A)/B(n-1) (never factorials or powers,
so thousands of agents neither overflow nor underflow), and Erlang C from B. The board calls
this per queue several times a second, so the recurrence starts late (see `_inverse_b`).
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

# The recurrence starts this many standard deviations (sqrt(A)) below A: what it leaves out
# weighs less than exp(-SKIP_SIGMAS**2 / 2) = 2e-22 of the result (docs/staffing.md).
SKIP_SIGMAS: Final = 10.0
# required_agents gives up past A + this many sqrt(A) (+ a margin): only a target of 1.0
# (met when the float rounds to 1) comes near it.
MAX_SIGMAS: Final = 60.0


class Staffing(msgspec.Struct, frozen=True):
    required_agents: int
    traffic_erlangs: float
    service_level: float
    asa_s: float
    occupancy: float


def _finite(name: str, value: float, *, positive: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a finite {kind} number, got {value!r}")


def _inverse_b(agents: int, traffic: float) -> float:
    """1/B(agents, traffic), traffic > 0.

    The recurrence x(n) = 1 + (n/A)·x(n-1) shrinks an error in x(m) by the product of n/A
    over m < n <= A, about exp(-(A-m)²/2A); starting at m = A - 10·sqrt(A) from the
    recurrence's local fixed point 1/(1 - m/A) leaves a relative error below 1e-20, so large
    traffic costs O(sqrt(A) + agents - A) steps instead of O(agents)."""
    start = max(0, min(agents, math.floor(traffic - SKIP_SIGMAS * math.sqrt(traffic))))
    x = 1.0 if start == 0 else 1.0 / (1.0 - start / traffic)
    for n in range(start + 1, agents + 1):
        x = 1.0 + n / traffic * x
    return x


def _c_from_inverse_b(agents: int, traffic: float, inv_b: float) -> float:
    # C = N·B / (N - A·(1 - B)), divided through by B.
    return agents / (traffic + (agents - traffic) * inv_b)


def _sl(agents: int, traffic: float, c: float, aht_s: float, threshold_s: float) -> float:
    return 1.0 - c * math.exp(-(agents - traffic) * threshold_s / aht_s)


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Probability that a contact waits (M/M/N). 1.0 when agents <= traffic (the queue grows
    without bound); 0.0 with no traffic."""
    _finite("traffic_erlangs", traffic_erlangs)
    if agents < 0:
        raise ValueError(f"agents must not be negative, got {agents}")
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    return _c_from_inverse_b(agents, traffic_erlangs, _inverse_b(agents, traffic_erlangs))


def service_level(agents: int, traffic_erlangs: float, aht_s: float, threshold_s: float) -> float:
    """P(wait <= threshold) = 1 - C·exp(-(N - A)·t / AHT); 0.0 when agents <= traffic."""
    _finite("aht_s", aht_s, positive=True)
    _finite("threshold_s", threshold_s)
    c = erlang_c(agents, traffic_erlangs)
    if traffic_erlangs == 0:
        return 1.0
    if agents <= traffic_erlangs:
        return 0.0
    return _sl(agents, traffic_erlangs, c, aht_s, threshold_s)


def asa_s(agents: int, traffic_erlangs: float, aht_s: float) -> float:
    """Average speed of answer C·AHT/(N - A), seconds; infinite when agents <= traffic."""
    _finite("aht_s", aht_s, positive=True)
    c = erlang_c(agents, traffic_erlangs)
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return math.inf
    return c * aht_s / (agents - traffic_erlangs)


def required_agents(calls_per_hour: float, aht_s: float, threshold_s: float, target: float,
                    max_occupancy: float | None = None) -> Staffing:  # fmt: skip
    """The fewest agents whose service level at `threshold_s` reaches `target` (and whose
    occupancy A/N stays at or below `max_occupancy` when given), with the resulting figures."""
    _finite("calls_per_hour", calls_per_hour)
    _finite("aht_s", aht_s, positive=True)
    _finite("threshold_s", threshold_s)
    if not 0 < target <= 1:
        raise ValueError(f"target must be a fraction in (0, 1], got {target!r}")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy must be a fraction in (0, 1], got {max_occupancy!r}")
    traffic = calls_per_hour * aht_s / 3600.0
    if not math.isfinite(traffic):
        raise ValueError("calls_per_hour x aht_s is too large")
    if traffic == 0:
        return Staffing(0, 0.0, 1.0, 0.0, 0.0)
    agents = math.floor(traffic) + 1  # the fewest that keep the queue finite
    if max_occupancy is not None:
        agents = max(agents, math.ceil(traffic / max_occupancy))
        if traffic / agents > max_occupancy:  # ceil of a rounded quotient can fall short
            agents += 1
    limit = agents + math.ceil(MAX_SIGMAS * math.sqrt(traffic)) + 1000
    inv_b = _inverse_b(agents, traffic)
    while True:
        c = _c_from_inverse_b(agents, traffic, inv_b)
        sl = _sl(agents, traffic, c, aht_s, threshold_s)
        if sl >= target or agents >= limit:
            return Staffing(agents, traffic, sl, c * aht_s / (agents - traffic), traffic / agents)
        agents += 1
        inv_b = 1.0 + agents / traffic * inv_b


def required_positions(agents: int, shrinkage: float) -> int:
    """Positions to schedule so that `agents` are on the phones when a `shrinkage` share of
    paid time (breaks, training, absence) is lost: ceil(agents / (1 - shrinkage))."""
    if not 0 <= shrinkage <= 0.9:
        raise ValueError(f"shrinkage must be a fraction from 0 to 0.9, got {shrinkage!r}")
    # The small tolerance keeps a quotient that is whole on paper (14 / 0.7 = 20) whole.
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


def rule_of_thumb_agents(peak_questions_per_hour: float, per_agent: int = 360) -> int:
    """The seeds' rule: one agent answers at most `per_agent` questions an hour (360 measured),
    so a peak hour needs ceil(peak / per_agent) agents, before any reserve."""
    _finite("peak_questions_per_hour", peak_questions_per_hour)
    if per_agent <= 0:
        raise ValueError(f"per_agent must be positive, got {per_agent}")
    return math.ceil(peak_questions_per_hour / per_agent)
