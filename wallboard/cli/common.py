"""What every `wallboard` command shares: the config read (a bad key stops the command,
naming it and the file), the wall clock in epoch milliseconds, times typed by a person, and
a long-running command's stop on a signal."""

from __future__ import annotations

import asyncio
import signal
import time

import click

from wallboard.core.config import Config, ConfigError, load_config
from wallboard.core.timeutil import parse_user_time


def load_config_or_fail(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def user_time_or_fail(text: str, config: Config, now: int, option: str) -> int:
    """A time typed for `option` (--at, --from, --to) in the board's zone; a clear error
    naming the option otherwise."""
    try:
        return parse_user_time(text, config.tz, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def cancel_on_signals() -> None:
    """From inside a running task: SIGINT, SIGTERM and SIGHUP cancel it (a server's clean
    stop: its `finally` blocks run)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, task.cancel)


def valid_redis_url(_ctx: click.Context, param: click.Parameter,
                    value: str | None) -> str | None:  # fmt: skip
    """`--redis` in one of its three forms (feeds/connect.py), refused at once otherwise."""
    if value is None:
        return None
    from feeds.connect import BadRedisUrl, parse_redis_url

    try:
        parse_redis_url(value)
    except BadRedisUrl as exc:
        raise click.BadParameter(str(exc), param=param) from None
    return value
