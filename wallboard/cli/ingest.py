"""`wallboard ingest`: the HTTP ingest gateway (docs/ingest.md). aiohttp is imported inside
the command, so `wallboard --help` stays quick."""

from __future__ import annotations

import math
from typing import Any

import click

from wallboard.cli.common import load_config_or_fail, valid_redis_url
from wallboard.core.config_ingest import (
    MAX_BODY_BYTES,
    MAX_RATE_PER_S,
    MAX_WINDOW_S,
    MIN_BODY_BYTES,
)


class _FiniteRange(click.FloatRange):
    """click's FloatRange lets `nan` through (every comparison with it is false)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:  # fmt: skip
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


@click.command()
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Write to a stream of this Redis (env WALLBOARD_REDIS_URL).")
@click.option("--host", metavar="ADDR", help="Listen address (config [ingest] host; 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), metavar="N",
              help="Listen port (config [ingest] port; 8787).")
@click.option("--tokens-file", metavar="PATH", type=click.Path(dir_okay=False),
              help="Bearer tokens, one per line, # comments (config [ingest] tokens_file).")
@click.option("--stream", metavar="KEY", help="Stream key (default: the board's first stream).")
@click.option("--max-body", "max_body", type=click.IntRange(MIN_BODY_BYTES, MAX_BODY_BYTES),
              metavar="BYTES", help="Largest request body; larger gets 413 (default 1 MiB).")
@click.option("--rate", type=_FiniteRange(min=0, min_open=True, max=MAX_RATE_PER_S), metavar="N",
              help="Requests per second per token; more gets 429 (default 20).")
@click.option("--burst", type=click.IntRange(1, 1_000_000), metavar="N",
              help="Requests a token may send at once before --rate applies (default 40).")
@click.option("--idempotency-window", "window_s",
              type=_FiniteRange(min=0, min_open=True, max=MAX_WINDOW_S),
              metavar="SECONDS", help="A repeated producer id within this time is acknowledged "
              "but not written again (default: the board's dedup window, 2 h).")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
def ingest(redis_url: str, host: str | None, port: int | None, tokens_file: str | None,
           stream: str | None, max_body: int | None, rate: float | None, burst: int | None,
           window_s: float | None, config_path: str | None) -> None:  # fmt: skip
    """HTTP ingest gateway: POST /v1/events validated into the event stream."""
    import msgspec
    from aiohttp import web

    from feeds.ingest_app import Gateway, GatewayOptions
    from feeds.ingest_auth import TokenFileError, load_tokens
    from feeds.ingest_config import ingest_settings, window_ms
    from feeds.redis_window import redact

    # The whole file is checked, [ingest] with it; an error names the key and the file.
    config = load_config_or_fail(config_path)
    settings = ingest_settings(config)
    path = tokens_file or settings.tokens_file
    if not path:
        raise click.UsageError("give --tokens-file PATH (or tokens_file in the config's "
                               "[ingest] table): the gateway never runs without tokens")
    try:
        tokens = load_tokens(path)
    except TokenFileError as exc:
        raise click.ClickException(str(exc)) from None
    if window_s is not None:
        settings = msgspec.structs.replace(settings, idempotency_window_s=window_s)
    options = GatewayOptions(
        redis_url=redis_url,
        stream=stream or settings.stream or config.streams[0],
        tokens=tokens,
        window_ms=window_ms(settings, config),
        max_body_bytes=max_body or settings.max_body_bytes,
        rate_per_s=rate or settings.rate_per_s,
        burst=burst or settings.burst,
        retry_after_s=settings.retry_after_s,
        redis_timeout_s=settings.redis_timeout_s,
        max_future_s=config.board.max_future_s,
    )
    listen_host = host or settings.host
    listen_port = port or settings.port
    click.echo(f"wallboard ingest: http://{listen_host}:{listen_port}/v1/events -> "
               f"{options.stream} on {redact(redis_url)} ({len(tokens)} tokens)", err=True)
    try:
        web.run_app(Gateway(options).app(), host=listen_host, port=listen_port, print=None,
                    access_log=None)  # fmt: skip
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen_host}:{listen_port}: {exc}") from None
