"""A period's numbers as the snapshot shows them (a queue's, an agent's or a rollup's `today`
and `window`), read from `PeriodCounts`. docs/snapshot.md names every key."""

from __future__ import annotations

import msgspec

from wallboard.core.metrics import PeriodCounts


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """Response rounds settled in the period (docs/metrics.md, "Response rounds")."""

    rounds: int
    answered: int  # closed by a valid reply (within or later)
    answered_within: int  # closed by a reply within the response threshold (180 s)
    unanswered: int  # settled at the cap, or when the contact ended, without a reply
    response_rate: float  # answered_within / rounds
    avg_response_s: float  # mean response time, unanswered rounds counted as the cap
    first_response_s: float | None  # mean over the contacts' first rounds; None: none settled


class Period(msgspec.Struct, frozen=True, kw_only=True):
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within: int
    abandoned_within: int
    transferred_out: int
    completed: int
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    abandon_rate: float | None
    # None while no round settled, or where no `contact.reply` came this business day.
    response: Response | None = None
    # Outcomes neither answered nor abandoned (`contact.ended`, docs/metrics.md): contacts
    # waiting when their system restarted, callers who left the queue by a key.
    ended_by_restart: int = 0
    left_by_key: int = 0


class WindowPeriod(Period, frozen=True, kw_only=True):
    minutes: int


def response_of(counts: PeriodCounts, measured: bool) -> Response | None:
    if not measured or not counts.rounds:
        return None
    return Response(
        rounds=counts.rounds,
        answered=counts.rounds_replied,
        answered_within=counts.rounds_within,
        unanswered=counts.rounds_unanswered,
        response_rate=counts.rounds_within / counts.rounds,
        avg_response_s=counts.round_ms / counts.rounds / 1000,
        first_response_s=counts.first_response_s(),
    )


def period_fields(counts: PeriodCounts, formula: str, measured: bool,
                  count_at: str = "answer") -> dict[str, object]:  # fmt: skip
    """The keyword arguments of a `Period` over `counts`; `measured`: replies came this day;
    `count_at`: `[service_level] count_at`."""
    return {
        "offered": counts.offered,
        "answered": counts.answered,
        "abandoned": counts.abandoned,
        "short_abandoned": counts.short_abandoned,
        "answered_within": counts.answered_within,
        "abandoned_within": counts.abandoned_within,
        "transferred_out": counts.transferred_out,
        "completed": counts.handled,
        "service_level": counts.service_level(formula, count_at),  # type: ignore[arg-type]
        "asa_s": counts.asa_s(),
        "aht_s": counts.aht_s(),
        "abandon_rate": counts.abandon_rate(),
        "response": response_of(counts, measured),
        "ended_by_restart": counts.ended_by_restart,
        "left_by_key": counts.left_by_key,
    }


def period(counts: PeriodCounts, formula: str, measured: bool,
           count_at: str = "answer") -> Period:  # fmt: skip
    return Period(**period_fields(counts, formula, measured, count_at))  # type: ignore[arg-type]


def window_period(counts: PeriodCounts, formula: str, measured: bool, minutes: int,
                  count_at: str = "answer") -> WindowPeriod:  # fmt: skip
    return WindowPeriod(**period_fields(counts, formula, measured, count_at),  # type: ignore[arg-type]
                        minutes=minutes)  # fmt: skip
