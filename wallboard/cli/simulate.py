"""`wallboard simulate`: realistic floor traffic into Redis or an NDJSON file (docs/simulator.md).

The simulator is imported inside the command, so `wallboard --help` stays quick.
"""

from __future__ import annotations

import sys
import time

import click

from wallboard.cli.common import load_config_or_fail, now_ms, user_time_or_fail, valid_redis_url
from wallboard.core.config import DEFAULT_STREAM
from wallboard.core.timeutil import format_local

DEFAULT_CONTROL = "wallboard:control"


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              help="Write to a stream of this Redis (env WALLBOARD_REDIS_URL).")
@click.option("--stream", metavar="KEY",
              help=f"Stream key to write (default from config: {DEFAULT_STREAM}).")
@click.option("--control-stream", default=DEFAULT_CONTROL, show_default=True, metavar="KEY",
              help="Control stream read for reserve callouts (live Redis mode).")
@click.option("--cases-stream", metavar="KEY",
              help="Stream key for complaint events (default from config: [complaints] "
                   "stream, wallboard:cases; with --out they go to the file).")
@click.option("--out", "out_path", metavar="FILE",
              help="Write NDJSON to FILE instead (.gz compresses; - is standard output).")
@click.option("--profile", default="normal", show_default=True, metavar="NAME|PATH",
              help="Traffic profile: normal, double11 or a TOML file.")
@click.option("--agents", type=click.IntRange(min=0), metavar="N",
              help="Agents on the floor (default: the profile's); traffic scales with it.")
@click.option("--queues", type=click.IntRange(min=1), metavar="N",
              help="Use the profile's first N queues (default: all).")
@click.option("--seed", type=click.IntRange(min=0), metavar="N",
              help="Random seed: the same seed and options give the same events.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, metavar="N", help="Live mode: N times faster than real time.")
@click.option("--from", "from_text", metavar="TIME",
              help="Simulated start (default now): ISO 8601 (no offset = board time zone), "
                   "epoch ms or now.")
@click.option("--to", "to_text", metavar="TIME",
              help="Simulate up to TIME as fast as possible, then stop (no --to: live).")
@click.option("--duration", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Live mode: stop after this many wall-clock seconds.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="Board config, for its time zone and stream.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on standard error.")
@click.pass_context
def simulate(ctx: click.Context, redis_url: str | None, stream: str | None, control_stream: str,
             cases_stream: str | None, out_path: str | None, profile: str, agents: int | None,
             queues: int | None, seed: int | None, speed: float, from_text: str | None,
             to_text: str | None, duration: float | None, config_path: str | None,
             quiet: bool) -> None:  # fmt: skip
    """Simulate a contact-centre floor and write its events, live or for a span."""
    import random

    import redis

    from feeds.redis_window import RedisUnavailable, connect, redact
    from feeds.simulator import ProfileError, Simulator, load_profile
    from feeds.simulator.writers import (
        ControlLink,
        EntryIds,
        FileSink,
        RedisSink,
        SimulatorError,
        Sink,
        run_live,
        run_span,
        span_sink,
        stream_top,
    )

    redis_given = ctx.get_parameter_source("redis_url") == click.core.ParameterSource.COMMANDLINE
    if out_path and redis_given:
        raise click.UsageError("give either --redis or --out, not both")
    if not out_path and not redis_url:
        raise click.UsageError("give --redis URL (or WALLBOARD_REDIS_URL) or --out FILE")
    config = load_config_or_fail(config_path)
    now = now_ms()
    start = user_time_or_fail(from_text or "now", config, now, "--from")
    end: int | None = None
    if to_text is not None:
        end = user_time_or_fail(to_text, config, now, "--to")
        if end <= start:
            raise click.BadParameter("must be after --from", param_hint="--to")
    try:
        chosen = load_profile(profile)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    try:
        sim = Simulator(chosen, start_ms=start, seed=seed, tz=config.tz, agents=agents,
                        queues=queues)  # fmt: skip
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None

    def say(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    key = stream or config.streams[0]
    where = out_path if out_path else f"{key} on {redact(redis_url or '')}"
    mode = (f"{format_local(start, config.tz)} to {format_local(end, config.tz)}"
            if end is not None else f"live from {format_local(start, config.tz)} at {speed:g}x")
    say(f"simulating profile {chosen.name!r}, {len(sim.agents)} agents, "
        f"{len(sim.queues)} queues, seed {seed}: {mode} into {where}")  # fmt: skip
    sink: Sink
    cases: Sink | None = None
    cases_key = cases_stream or config.complaints.stream
    control: ControlLink | None = None
    began = time.perf_counter()
    try:
        if out_path:
            sink = cases = FileSink(out_path)  # complaints travel with the others in a file
        else:
            assert redis_url is not None
            client = connect(redis_url)
            if end is not None:
                sink = span_sink(client, key, start)
                if cases_key:
                    cases = span_sink(client, cases_key, start)
            else:
                top = stream_top(client, key)
                if top is not None and top[0] > start:
                    say(f"note: {key} already has entries up to {top[0]}-{top[1]}; new IDs "
                        "continue after them")  # fmt: skip
                sink = RedisSink(client, key, EntryIds(top), follow_top=True)
                if cases_key:
                    cases = RedisSink(client, cases_key, EntryIds(stream_top(client, cases_key)),
                                      follow_top=True)  # fmt: skip
                control = ControlLink(client, control_stream)
        try:
            if end is not None:
                count = run_span(sim, sink, end, cases=cases)
                elapsed = time.perf_counter() - began
                say(f"wrote {count} events in {elapsed:.2f} s "
                    f"({count / max(elapsed, 1e-9):,.0f} events/s)")  # fmt: skip
            else:
                try:
                    stats = run_live(sim, sink, speed=speed, duration_s=duration, control=control,
                                     cases=cases)  # fmt: skip
                except KeyboardInterrupt:
                    say("stopped")
                    return
                median, p99, _worst = stats.jitter()
                say(f"wrote {stats.events} events in {stats.wall_s:.1f} s "
                    f"({stats.rate:,.0f} events/s; tick lateness median {median:.1f} ms, "
                    f"p99 {p99:.1f} ms)")  # fmt: skip
        finally:
            sink.close()
            if cases is not None and cases is not sink:
                cases.close()
    except RedisUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    except redis.RedisError as exc:
        click.echo(f"Error: lost Redis at {redact(redis_url or '')}: {exc}", err=True)
        sys.exit(3)
    except SimulatorError as exc:
        raise click.ClickException(str(exc)) from None
    except BrokenPipeError:  # `--out - | head`: the reader has had enough
        sys.stderr.close()
        sys.exit(0)
