"""`wallboard aggregate`: fold once, publish snapshots for any number of boards (docs/remote.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import click

from wallboard.cli.common import cancel_on_signals, valid_redis_url
from wallboard.core.config import ConfigError, load_config


def _address(_ctx: click.Context, _param: click.Parameter,
             value: str | None) -> tuple[str, int] | None:  # fmt: skip
    """`HOST:PORT` (`[::1]:8080` for IPv6) to (host, port)."""
    if value is None:
        return None
    host, sep, port_text = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise click.BadParameter(f"{value[:80]!r}: give HOST:PORT, e.g. 127.0.0.1:8788 "
                                 "(port 1-65535)")  # fmt: skip
    return host, int(port_text)


def _shown(listen: tuple[str, int]) -> tuple[str, int]:
    host, port = listen
    return (f"[{host}]" if ":" in host else host), port


def _api_tokens(path: str | None, config_path: str | None) -> tuple[str, ...]:
    """The API's bearer tokens; it never serves without them (as the ingest gateway)."""
    from feeds.ingest_auth import TokenFileError, load_tokens

    source = config_path or "the config"
    if path is None:
        raise click.ClickException(f"{source}: `api.tokens_file`: required to serve the API "
                                   "(one bearer token per line; docs/api.md)")  # fmt: skip
    try:
        return load_tokens(path)
    except TokenFileError as exc:
        raise click.ClickException(f"{source}: `api.tokens_file`: {exc}") from None


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis to follow and publish to (env WALLBOARD_REDIS_URL).")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="Event stream key; repeat for several. Default from config: wallboard:events "
              "(the control stream, board.control_stream, is always read too).")
@click.option("--snapshot-stream", "snapshot_key", default="wallboard:snapshots",
              show_default=True, metavar="KEY", help="Stream the snapshots are published to.")
@click.option("--rate", "rate_hz", type=click.FloatRange(min=0.1, max=20), default=2.0,
              show_default=True, help="Snapshots published per second.")
@click.option("--maxlen", type=click.IntRange(min=1), default=120, show_default=True,
              help="Trim the snapshot stream to about this many entries (MAXLEN ~).")
@click.option("--id", "aggregator_id", metavar="NAME",
              help="This aggregator's name in the stream (default: host-pid).")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--no-webhooks", is_flag=True,
              help="Do not send the configured [[webhooks]] (another process sends them).")
@click.option("--http", "http_address", metavar="HOST:PORT", callback=_address,
              help="Serve the HTTP API here (docs/api.md; config [api] host and port).")
def aggregate(redis_url: str, streams: tuple[str, ...], snapshot_key: str, rate_hz: float,
              maxlen: int, aggregator_id: str | None, config_path: str | None,
              no_webhooks: bool, http_address: tuple[str, int] | None) -> None:  # fmt: skip
    """Fold the event stream(s) once and publish the board's snapshots to a snapshot stream."""
    from feeds.aggregator import Aggregator
    from feeds.webhooks import WebhookNotifier

    try:
        config = load_config(config_path)
        notifier = WebhookNotifier(config.webhooks) if config.webhooks and not no_webhooks \
            else None  # fmt: skip
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    api = config.api
    listen = http_address or ((api.host, api.port) if api.port is not None else None)
    tokens = _api_tokens(api.tokens_file, config_path) if listen is not None else ()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    aggregator = Aggregator(redis_url, config.with_complaints(list(streams)), config,
                            snapshot_key=snapshot_key, rate_hz=rate_hz, maxlen=maxlen,
                            aggregator_id=aggregator_id)  # fmt: skip

    async def run() -> None:
        cancel_on_signals()
        logger = logging.getLogger("wallboard.aggregate")
        logger.info("aggregator %s publishing to %s at %.1f Hz", aggregator.id, snapshot_key,
                    rate_hz)  # fmt: skip
        server = None
        if listen is not None:  # the API, in this loop, from the snapshots built here
            from feeds.api_server import ApiServer

            server = ApiServer(aggregator, tokens)
            try:
                await server.start(*listen)
            except OSError as exc:
                raise click.ClickException(f"cannot listen on {listen[0]}:{listen[1]}: "
                                           f"{exc.strerror or exc}") from None  # fmt: skip
            logger.info("API on http://%s:%d/v1/snapshot (%d tokens)", *_shown(listen),
                        len(tokens))  # fmt: skip
        if notifier is not None:  # the floor's webhooks, sent once, from here
            await notifier.start()
            aggregator.snapshot_observers.append(notifier.offer)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await aggregator.run()
        finally:
            if server is not None:
                await server.close()
            if notifier is not None:
                await notifier.close(drain_s=2.0)

    asyncio.run(run())
