"""`wallboard board`: the live wallboard in this terminal."""

from __future__ import annotations

import click

from wallboard.cli.common import load_config_or_fail, valid_redis_url
from wallboard.core.config import Config


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis to follow (env WALLBOARD_REDIS_URL); rediss:// and user:pass work.")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="Stream key; repeat for several. Default from config: wallboard:events.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--kiosk", is_flag=True, help="Big screen: pages rotate, no keyboard needed.")
@click.option("--page", type=click.Choice(["overview", "queues", "agents", "trends", "alerts",
                                          "rollups"]),
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
        from wallboard.app.live import login_name
        from wallboard.cli.serve import run_snapshot_board

        run_snapshot_board(redis_url, snapshot_key, config, kiosk=kiosk, page=page,
                           user=user or login_name())  # fmt: skip
        return
    try:
        from feeds.live import LiveFeed
    except ImportError as exc:
        raise click.ClickException(f"the live Redis feed is not available: {exc}") from None
    from wallboard.app.board import WallboardApp
    from wallboard.app.live import control_sink, login_name, run_board, webhook_notifier
    from wallboard.app.sources import wall_clock

    try:
        notifier = None if no_webhooks else webhook_notifier(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _merge_roster(redis_url, config)
    feed = LiveFeed(redis_url, config.with_complaints(list(streams)), config, clock=wall_clock)
    app = WallboardApp(feed, config, wall_clock, kiosk=kiosk, page=page,
                       user=user or login_name(), control=control_sink(redis_url, config))
    run_board(app, notifier)


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
