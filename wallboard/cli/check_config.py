"""`wallboard check-config`: check a config file and print the effective settings."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wallboard.cli.common import load_config_or_fail


@click.command("check-config")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def check_config(path: Path) -> None:
    """Check a config file and print the effective settings as JSON."""
    import msgspec

    config = load_config_or_fail(str(path))
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(config)) + b"\n")
