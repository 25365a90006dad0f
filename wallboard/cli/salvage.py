"""`--salvage` and the one-line error for a damaged `--file` (`snapshot`, `report`, `replay`).

Without the flag a damaged .gz stops the command: `Error: <file>: <fault>`, exit 2. With it,
the lines before the fault are folded (the line cut there counts as `malformed`) and stderr
says what was lost; a file with nothing readable stops all the same."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from feeds.files import Salvage

DAMAGED_EXIT = 2

salvage_option = click.option(
    "--salvage", is_flag=True,
    help="With --file: fold what a damaged .gz holds before the fault, and say what was lost.",
)  # fmt: skip


def salvage_for(wanted: bool, file_path: str | None) -> Salvage | None:
    """A `Salvage` to fill when --salvage is given (it reads --file only)."""
    if not wanted:
        return None
    if not file_path:
        raise click.UsageError("--salvage is for --file: give --file PATH")
    from feeds.files import Salvage

    return Salvage()


@contextmanager
def damaged_file_stops(salvage: Salvage | None) -> Iterator[None]:
    """A `feeds.files.DamagedFile` inside ends the command with its one-line error."""
    from feeds.files import DamagedFile

    try:
        yield
    except DamagedFile as exc:
        hint = ""
        if exc.salvageable and salvage is None:
            hint = " (--salvage folds the lines before it)"
        click.echo(f"Error: {exc}{hint}", err=True)
        sys.exit(DAMAGED_EXIT)


def tell_salvaged(salvage: Salvage | None, file_path: str) -> None:
    """What the salvage went past, on stderr (nothing for a whole file)."""
    summary = salvage.summary(file_path) if salvage is not None else None
    if summary is not None:
        click.echo(f"Warning: {summary}", err=True)
