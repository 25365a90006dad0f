"""`wallboard staffing`: Erlang C agents for a planned peak (docs/staffing.md)."""

from __future__ import annotations

import math
import sys

import click
import msgspec

from wallboard.core.erlang import (
    Staffing,
    asa_s,
    erlang_c,
    required_agents,
    required_positions,
    service_level,
)

_POSITIVE = click.FloatRange(min=0, min_open=True)
_FRACTION = click.FloatRange(min=0, max=1, min_open=True)
_SHRINKAGE = click.FloatRange(min=0, max=0.9)


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number", ctx=ctx, param=param)
    return value


def _row(agents: int, traffic: float, aht: float, threshold: float) -> str:
    sl = service_level(agents, traffic, aht, threshold)
    asa = asa_s(agents, traffic, aht)
    occupancy = traffic / agents if agents else 0.0
    asa_text = "unbounded" if math.isinf(asa) else f"{asa:.1f}"
    return (f"{agents:>8}  {erlang_c(agents, traffic):>8.4f}  {sl:>8.1%}  {asa_text:>9}  "
            f"{occupancy:>9.1%}")  # fmt: skip


def render_table(result: Staffing, aht: float, threshold: float, target: float,
                 shrinkage: float = 0.0) -> str:  # fmt: skip
    traffic = result.traffic_erlangs
    lines = [
        f"Traffic: {traffic:.2f} Erlangs. "
        f"Target: {target * 100:g}% answered within {threshold:g} s.",
        f"Required agents: {result.required_agents}",
    ]
    if shrinkage:
        lines.append(f"Required positions at {shrinkage * 100:g}% shrinkage: "
                     f"{required_positions(result.required_agents, shrinkage)}")  # fmt: skip
    lines += [
        "",
        f"{'agents':>8}  {'P(wait)':>8}  {'SL':>8}  {'ASA (s)':>9}  {'occupancy':>9}",
    ]
    n = result.required_agents
    for agents in range(max(n - 1, 0), n + 2):
        marker = "  <- required" if agents == n else ""
        lines.append(_row(agents, traffic, aht, threshold) + marker)
    return "\n".join(lines)


@click.command()
@click.option("--calls-per-hour", required=True, type=click.FloatRange(min=0), callback=_finite,
              metavar="N", help="Offered contacts per hour (peak hour to plan for).")
@click.option("--aht", required=True, type=_POSITIVE, callback=_finite, metavar="SECONDS",
              help="Average handle time, seconds (talk + hold + wrap-up).")
@click.option("--threshold", required=True, type=click.FloatRange(min=0), callback=_finite,
              metavar="SECONDS", help="Service-level answer threshold, e.g. 30.")
@click.option("--target", required=True, type=_FRACTION, metavar="FRACTION",
              help="Service-level target in (0, 1], e.g. 0.8.")
@click.option("--max-occupancy", type=_FRACTION, metavar="FRACTION",
              help="Also keep occupancy (traffic / agents) at or below this, e.g. 0.85.")
@click.option("--shrinkage", type=_SHRINKAGE, default=0.0, show_default=True, callback=_finite,
              metavar="FRACTION", help="Share of paid time not on the phones (0-0.9): "
              "positions to schedule = ceil(required agents / (1 - shrinkage)).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def staffing(calls_per_hour: float, aht: float, threshold: float, target: float,
             max_occupancy: float | None, shrinkage: float, as_json: bool) -> None:  # fmt: skip
    """Agents needed to answer TARGET of contacts within THRESHOLD seconds (Erlang C)."""
    try:
        result = required_agents(calls_per_hour, aht, threshold, target, max_occupancy)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        document = {
            **msgspec.structs.asdict(result),
            # At the required count: the probability of waiting (Erlang C).
            "p_wait": erlang_c(result.required_agents, result.traffic_erlangs),
            "shrinkage": shrinkage,
            "required_positions": required_positions(result.required_agents, shrinkage),
        }
        sys.stdout.buffer.write(msgspec.json.encode(document) + b"\n")
    else:
        click.echo(render_table(result, aht, threshold, target, shrinkage))
