"""What every `wallboard` command shares: the config read (a bad key stops the command,
naming it and the file) and the wall clock in epoch milliseconds."""

from __future__ import annotations

import time

import click

from wallboard.config import Config, ConfigError, load_config


def load_config_or_fail(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def now_ms() -> int:
    return time.time_ns() // 1_000_000
