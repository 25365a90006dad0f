"""`wallboard snapshot`: fold the events up to a time and print the board's numbers."""

from __future__ import annotations

import sys

import click

from wallboard.cli.common import load_config_or_fail, now_ms, user_time_or_fail, valid_redis_url
from wallboard.cli.salvage import damaged_file_stops, salvage_for, salvage_option, tell_salvaged
from wallboard.core.fold import BoardState


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              help="Read the event stream(s) from this Redis (env WALLBOARD_REDIS_URL).")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="Stream key; repeat for several. Default from config: wallboard:events.")
@click.option("--file", "file_path", type=click.Path(exists=True, dir_okay=False),
              help="Read events from an NDJSON file (.ndjson or .ndjson.gz) instead.")
@click.option("--at", "at_text", default="now", show_default=True, metavar="TIME",
              help="Snapshot time: ISO 8601 (no offset = board time zone), epoch ms or now.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the documented contract).")
@salvage_option
@click.pass_context
def snapshot(ctx: click.Context, redis_url: str | None, streams: tuple[str, ...],
             file_path: str | None, at_text: str, config_path: str | None,
             as_json: bool, salvage: bool) -> None:  # fmt: skip
    """Fold the events up to --at and print the board's numbers."""
    from wallboard.core.ingest import fold_until
    from wallboard.core.snapshot import build_snapshot, to_json
    from wallboard.report.text import render_text

    config = load_config_or_fail(config_path)
    at = user_time_or_fail(at_text, config, now_ms(), "--at")
    redis_given = ctx.get_parameter_source("redis_url") == click.core.ParameterSource.COMMANDLINE
    if file_path and redis_given:
        raise click.UsageError("give either --redis or --file, not both")
    if not file_path and not redis_url:
        raise click.UsageError("give --redis URL (or WALLBOARD_REDIS_URL) or --file PATH")
    salvaged = salvage_for(salvage, file_path)

    state = BoardState(config)
    if file_path:
        from feeds.files import read_ndjson

        with damaged_file_stops(salvaged):
            fold_until(state, read_ndjson(file_path, salvaged), at)
        tell_salvaged(salvaged, file_path)
    else:
        assert redis_url is not None
        from feeds.redis_window import RedisUnavailable, connect, read_streams
        from feeds.replay_reader import lead_in_ms, start_for

        start = lead_in_ms(config, at)
        try:
            client = connect(redis_url)
            keys = config.with_complaints(list(streams))  # control and complaints too
            fold_until(state, read_streams(client, keys, start,
                                           start_for=start_for(config, start, at)), at)
        except RedisUnavailable as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3)
    snap = build_snapshot(state)
    if as_json:
        sys.stdout.buffer.write(to_json(snap) + b"\n")
    else:
        click.echo(render_text(snap))
