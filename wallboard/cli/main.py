"""The `wallboard` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wallboard.cli_common import load_config_or_fail, now_ms, user_time_or_fail
from wallboard.config import Config
from wallboard.fold import HOUR_MS, BoardState

# Entry IDs can precede event time by producer clock skew; read this much earlier.
ID_MARGIN_MS = 10 * 60_000


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wallboard")
def main() -> None:
    """wallboard: a sub-second terminal wallboard for contact-centre floors."""


@main.command()
@click.option("--redis", "redis_url", envvar="WALLBOARD_REDIS_URL", metavar="URL",
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
@click.pass_context
def snapshot(ctx: click.Context, redis_url: str | None, streams: tuple[str, ...],
             file_path: str | None, at_text: str, config_path: str | None,
             as_json: bool) -> None:  # fmt: skip
    """Fold the events up to --at and print the board's numbers."""
    from wallboard.ingest import fold_until
    from wallboard.snapshot import build_snapshot, to_json
    from wallboard.text_report import render_text

    config = load_config_or_fail(config_path)
    at = user_time_or_fail(at_text, config, now_ms(), "--at")
    redis_given = ctx.get_parameter_source("redis_url") == click.core.ParameterSource.COMMANDLINE
    if file_path and redis_given:
        raise click.UsageError("give either --redis or --file, not both")
    if not file_path and not redis_url:
        raise click.UsageError("give --redis URL (or WALLBOARD_REDIS_URL) or --file PATH")

    state = BoardState(config)
    if file_path:
        from feeds.files import read_ndjson

        fold_until(state, read_ndjson(file_path), at)
    else:
        assert redis_url is not None
        from feeds.redis_window import RedisUnavailable, connect, read_streams

        day = state.calendar.day_of(at)
        start = day.start_ms - round(config.board.carry_over_hours * HOUR_MS) - ID_MARGIN_MS
        try:
            client = connect(redis_url)
            keys = config.with_control(list(streams))
            fold_until(state, read_streams(client, keys, start), at)
        except RedisUnavailable as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3)
    snap = build_snapshot(state)
    if as_json:
        sys.stdout.buffer.write(to_json(snap) + b"\n")
    else:
        click.echo(render_text(snap))


def _merge_roster(redis_url: str, config: Config) -> None:
    """The reserve roster's Redis hash, if configured, read once at start."""
    if not config.reserve.roster_hash:
        return
    from feeds.redis_window import RedisUnavailable, connect
    from feeds.roster import merge_roster_hash

    try:
        problems = merge_roster_hash(connect(redis_url), config)
    except RedisUnavailable as exc:
        problems = [f"reserve roster not read: {exc}"]
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


@main.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def check_config(path: Path) -> None:
    """Check a config file and print the effective settings as JSON."""
    import msgspec

    config = load_config_or_fail(str(path))
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(config)) + b"\n")


from wallboard.cli_simulate import simulate  # noqa: E402

main.add_command(simulate)



@main.command()
@click.option("--redis", "redis_url", envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis to follow (env WALLBOARD_REDIS_URL); rediss:// and user:pass work.")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="Stream key; repeat for several. Default from config: wallboard:events.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--kiosk", is_flag=True, help="Big screen: pages rotate, no keyboard needed.")
@click.option("--page", type=click.Choice(["overview", "queues", "agents", "trends", "alerts"]),
              help="Show only this page (kiosk: pinned instead of rotating).")
@click.option("--from-snapshots", is_flag=True,
              help="Draw the snapshots `wallboard aggregate` publishes instead of folding.")
@click.option("--snapshot-stream", "snapshot_key", default="wallboard:snapshots",
              show_default=True, metavar="KEY", help="With --from-snapshots: the stream read.")
@click.option("--user", envvar="WALLBOARD_USER", metavar="NAME",
              help="Signs acks (a) and callouts (c); default the login name (env WALLBOARD_USER).")
@click.option("--no-webhooks", is_flag=True,
              help="Do not send the config's webhooks from this board (another board does).")
def board(redis_url: str, streams: tuple[str, ...], config_path: str | None, kiosk: bool,
          page: str | None, from_snapshots: bool, snapshot_key: str, user: str | None,
          no_webhooks: bool) -> None:  # fmt: skip
    """The live wallboard: follow the event stream(s) and draw the floor."""
    config = load_config_or_fail(config_path)
    if from_snapshots:
        from wallboard.board_live import login_name
        from wallboard.cli_serve import run_snapshot_board

        run_snapshot_board(redis_url, snapshot_key, config, kiosk=kiosk, page=page,
                           user=user or login_name())  # fmt: skip
        return
    try:
        from feeds.live import LiveFeed
    except ImportError as exc:
        raise click.ClickException(f"the live Redis feed is not available: {exc}") from None
    from wallboard.app import WallboardApp
    from wallboard.app_source import wall_clock
    from wallboard.board_live import control_sink, login_name, run_board, webhook_notifier

    try:
        notifier = None if no_webhooks else webhook_notifier(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _merge_roster(redis_url, config)
    feed = LiveFeed(redis_url, config.with_control(list(streams)), config, clock=wall_clock)
    app = WallboardApp(feed, config, wall_clock, kiosk=kiosk, page=page,
                       user=user or login_name(), control=control_sink(redis_url, config))
    run_board(app, notifier)


from wallboard.cli_simulate import simulate  # noqa: E402

main.add_command(simulate)

from wallboard.cli_demo import demo  # noqa: E402

main.add_command(demo)

from wallboard.cli_aggregate import aggregate  # noqa: E402

main.add_command(aggregate)

from wallboard.cli_serve import serve  # noqa: E402

main.add_command(serve)

from wallboard.cli_staffing import staffing  # noqa: E402

main.add_command(staffing)

from wallboard.cli_ingest import ingest  # noqa: E402

main.add_command(ingest)

from wallboard.cli_asterisk import asterisk  # noqa: E402

main.add_command(asterisk)

from wallboard.cli_callout import ack, callout  # noqa: E402

main.add_command(callout)
main.add_command(ack)

from wallboard.cli_replay import replay  # noqa: E402

main.add_command(replay)

from wallboard.cli_export import export  # noqa: E402

main.add_command(export)

from wallboard.cli_report import report  # noqa: E402

main.add_command(report)
