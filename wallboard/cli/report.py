"""`wallboard report`: the post-mortem of a window as one self-contained HTML file."""

from __future__ import annotations

import time
from pathlib import Path

import click

from wallboard.cli.common import load_config_or_fail
from wallboard.cli.replay import (
    check_source,
    describe,
    load_window,
    parse_window,
    window_options,
)
from wallboard.cli.salvage import salvage_for, salvage_option
from wallboard.core.config import Config
from wallboard.replay.engine import Replay

MINUTE_MS = 60_000
MAX_SAMPLES = 300


def sample_step_ms(start_ms: int, end_ms: int) -> int:
    """Whole minutes, at most MAX_SAMPLES points over the window."""
    minutes = -(-(end_ms - start_ms) // (MAX_SAMPLES * MINUTE_MS))
    return max(1, minutes) * MINUTE_MS


def build_report(engine: Replay, config: Config, source: str) -> str:
    from wallboard.core.snapshot import build_snapshot
    from wallboard.report.html import render_report, sample_of

    high = config.agent_load.daily_high
    samples = []
    passed_at: dict[str, int] = {}
    for snap in engine.samples(sample_step_ms(engine.start_ms, engine.end_ms),
                               with_agents=False):  # fmt: skip
        samples.append(sample_of(snap))
        for agent in engine.state.agents.values():
            if agent.handled_today > high and agent.agent not in passed_at:
                passed_at[agent.agent] = engine.now
    end = build_snapshot(engine.state)  # the samples end at the window's end
    return render_report(site=config.board.site_name, tz=config.tz, start_ms=engine.start_ms,
                         end_ms=engine.end_ms, samples=samples, end=end,
                         day_snapshots=engine.day_snapshots, daily_high=high,
                         passed_at=passed_at, source=source,
                         response_target=config.response.target)  # fmt: skip


@click.command()
@window_options
@click.option("-o", "--output", "output", required=True, metavar="FILE.html",
              type=click.Path(dir_okay=False, writable=True), help="The HTML file to write.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@salvage_option
@click.pass_context
def report(ctx: click.Context, redis_url: str | None, streams: tuple[str, ...],
           file_path: str | None, from_text: str, to_text: str, config_path: str | None,
           output: str, quiet: bool, salvage: bool) -> None:  # fmt: skip
    """Write the post-mortem of a window: charts, alerts, callouts, overloaded agents and
    rejected events, in one HTML file a browser opens."""
    config = load_config_or_fail(config_path)
    start, end = parse_window(config, from_text, to_text)
    check_source(ctx, redis_url, file_path)
    salvaged = salvage_for(salvage, file_path)
    began = time.perf_counter()
    engine = load_window(config, redis_url, streams, file_path, start, end, quiet=quiet,
                         salvage=salvaged)  # fmt: skip
    html = build_report(engine, config, describe(config, redis_url, streams, file_path, salvaged))
    try:
        Path(output).write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    if not quiet:
        click.echo(f"wrote {output} ({engine.events:,} events, "
                   f"{time.perf_counter() - began:.1f} s)", err=True)  # fmt: skip
