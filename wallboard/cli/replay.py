"""`wallboard replay`: the board over a past window, on a virtual clock (docs/replay.md).

Also the window options and loading shared by `wallboard report` and `wallboard export`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wallboard.cli.common import load_config_or_fail, now_ms, user_time_or_fail, valid_redis_url
from wallboard.cli.salvage import damaged_file_stops, salvage_for, salvage_option, tell_salvaged
from wallboard.core.config import Config
from wallboard.core.timeutil import format_local
from wallboard.replay.engine import Replay
from wallboard.replay.player import SPEEDS

if TYPE_CHECKING:
    from feeds.files import Salvage

# A checkpoint at least every this much reading, decoding and folding: a seek redoes no more
# than that (plus restoring a checkpoint, about 0.1 s, and the snapshot): under 1 s with room
# for a busy machine (0.6 s gave a 1.19 s worst seek once the fold got faster).
CHECKPOINT_BUDGET_S = 0.45

F = TypeVar("F", bound=Callable[..., Any])


def window_options(func: F) -> F:
    """--redis/--stream/--file, --from/--to and --config, as the issue names them."""
    for option in reversed([
        click.option("--redis", "redis_url",
                     callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
                     help="Read the stream(s) and the control stream from this Redis."),
        click.option("--stream", "streams", multiple=True, metavar="KEY",
                     help="Event stream key; repeat for several. Default from config."),
        click.option("--file", "file_path", type=click.Path(exists=True, dir_okay=False),
                     help="Read an archive (wallboard export) or NDJSON file (.gz too)."),
        click.option("--from", "from_text", required=True, metavar="TIME",
                     help="Window start: ISO 8601 (no offset = board time zone) or epoch ms."),
        click.option("--to", "to_text", required=True, metavar="TIME",
                     help="Window end, after --from."),
        click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
                     type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG)."),
    ]):  # fmt: skip
        func = option(func)
    return func


def parse_window(config: Config, from_text: str, to_text: str) -> tuple[int, int]:
    now = now_ms()
    start = user_time_or_fail(from_text, config, now, "--from")
    end = user_time_or_fail(to_text, config, now, "--to")
    if end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    return start, end


def check_source(ctx: click.Context, redis_url: str | None, file_path: str | None) -> None:
    given = ctx.get_parameter_source("redis_url") == click.core.ParameterSource.COMMANDLINE
    if file_path and given:
        raise click.UsageError("give either --redis or --file, not both")
    if not file_path and not redis_url:
        raise click.UsageError("give --redis URL (or WALLBOARD_REDIS_URL) or --file ARCHIVE")


def _progress(label: str, length: int, quiet: bool) -> Any:
    return click.progressbar(length=max(length, 1), label=label, file=sys.stderr,
                             show_eta=True, hidden=quiet)  # fmt: skip


def load_window(config: Config, redis_url: str | None, streams: tuple[str, ...],
                file_path: str | None, start: int, end: int, *, quiet: bool = False,
                salvage: Salvage | None = None) -> Replay:  # fmt: skip
    """Read and fold the window once (checkpoints on the way), with a progress bar. A damaged
    --file ends the command (exit 2), unless `salvage` is given: then it is told the damage."""
    replay = Replay(config, start, end, budget_s=CHECKPOINT_BUDGET_S, timer=time.perf_counter)
    if file_path:
        import os

        from feeds.replay_reader import file_lines

        with _progress("Reading", os.path.getsize(file_path), quiet) as bar:
            done = [0]

            def seen(position: int) -> None:
                bar.update(position - done[0])
                done[0] = position

            with damaged_file_stops(salvage):
                replay.load(file_lines(file_path, seen, salvage))
        tell_salvaged(salvage, file_path)
        return replay
    assert redis_url is not None
    from feeds.redis_window import RedisUnavailable, connect
    from feeds.replay_reader import lead_in_ms, redis_lines, start_for, stream_top_ms

    names = config.with_complaints(list(streams))  # as `wallboard snapshot` reads
    lower = lead_in_ms(config, start)
    lower_for = start_for(config, lower, start)
    try:
        client = connect(redis_url)
        top = stream_top_ms(client, names) or lower
        with _progress("Reading", (top - lower) // 1000, quiet) as bar:
            done = [lower]

            def seen_ms(ms: int) -> None:
                step = (ms - done[0]) // 1000
                if step > 0:
                    bar.update(step)
                    done[0] += step * 1000

            replay.load(redis_lines(client, names, lower, end, seen_ms, lower_for))
    except RedisUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    return replay


def describe(config: Config, redis_url: str | None, streams: tuple[str, ...],
             file_path: str | None, salvage: Salvage | None = None) -> str:  # fmt: skip
    from feeds.redis_window import redact

    if file_path:
        note = salvage.note() if salvage is not None else None
        return file_path if note is None else f"{file_path} ({note})"
    return f"{redact(redis_url or '')} {' '.join(streams or config.streams)}"


def _speed(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value not in SPEEDS:
        raise click.BadParameter(f"one of {', '.join(map(str, SPEEDS))}")
    return value


@click.command()
@window_options
@click.option("--speed", type=int, default=1, show_default=True, callback=_speed, metavar="N",
              help=f"Initial playback speed: {', '.join(map(str, SPEEDS))}.")
@salvage_option
@click.pass_context
def replay(ctx: click.Context, redis_url: str | None, streams: tuple[str, ...],
           file_path: str | None, from_text: str, to_text: str, config_path: str | None,
           speed: int, salvage: bool) -> None:  # fmt: skip
    """Replay a past window on the board: same fold, widgets and alerts, a virtual clock."""
    config = load_config_or_fail(config_path)
    start, end = parse_window(config, from_text, to_text)
    check_source(ctx, redis_url, file_path)
    salvaged = salvage_for(salvage, file_path)
    began = time.perf_counter()
    engine = load_window(config, redis_url, streams, file_path, start, end, salvage=salvaged)
    click.echo(f"{engine.events:,} events folded in {time.perf_counter() - began:.1f} s; "
               f"{len(engine.markers)} alert/callout markers; replaying "
               f"{format_local(start, config.tz)} to {format_local(end, config.tz)}",
               err=True)  # fmt: skip
    from wallboard.app.replay import ReplayApp

    ReplayApp(engine, config, speed=speed,
              description=describe(config, redis_url, streams, file_path, salvaged)).run()


