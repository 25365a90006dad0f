"""`wallboard export`: keep a window of the streams beyond their retention (docs/replay.md)."""

from __future__ import annotations

import sys

import click

from wallboard.cli.common import load_config_or_fail, valid_redis_url
from wallboard.cli.replay import parse_window


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              required=True, help="Read from this Redis (env WALLBOARD_REDIS_URL).")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="Event stream key; repeat for several. Default from config.")
@click.option("--from", "from_text", required=True, metavar="TIME",
              help="Window start: ISO 8601 (no offset = board time zone) or epoch ms.")
@click.option("--to", "to_text", required=True, metavar="TIME", help="Window end.")
@click.option("-o", "--output", "output", required=True, metavar="FILE.ndjson.gz",
              type=click.Path(dir_okay=False, writable=True), help="The archive to write.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def export(redis_url: str, streams: tuple[str, ...], from_text: str, to_text: str, output: str,
           config_path: str | None, quiet: bool) -> None:  # fmt: skip
    """Write the window's events and control events, with stream IDs, to a gzip archive that
    `wallboard replay --file`, `report --file` and `snapshot --file` read."""
    from feeds.export import export_window
    from feeds.redis_window import RedisUnavailable, connect
    from feeds.replay_reader import lead_in_ms, start_for, stream_top_ms

    if not output.endswith(".gz"):
        raise click.BadParameter("the archive is gzip NDJSON: name it *.ndjson.gz",
                                 param_hint="-o")  # fmt: skip
    config = load_config_or_fail(config_path)
    start, end = parse_window(config, from_text, to_text)
    names = config.with_complaints(list(streams))  # the control and complaints streams too
    lower = lead_in_ms(config, start)
    try:
        client = connect(redis_url)
        top = stream_top_ms(client, names) or lower
        with click.progressbar(length=max(1, (top - lower) // 1000), label="Exporting",
                               file=sys.stderr, hidden=quiet) as bar:  # fmt: skip
            done = [lower]

            def seen(ms: int) -> None:
                step = (ms - done[0]) // 1000
                if step > 0:
                    bar.update(step)
                    done[0] += step * 1000

            count = export_window(client, names, lower, end, output, seen,
                                  start_for(config, lower, start))  # fmt: skip
    except RedisUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    if not quiet:
        click.echo(f"wrote {count:,} entries to {output}", err=True)
