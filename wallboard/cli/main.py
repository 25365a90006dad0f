"""The `wallboard` command line: the click group and its commands, one module each."""

from __future__ import annotations

import click

from wallboard.cli.aggregate import aggregate
from wallboard.cli.asterisk import asterisk
from wallboard.cli.board import board
from wallboard.cli.callout import ack, callout
from wallboard.cli.check_config import check_config
from wallboard.cli.demo import demo
from wallboard.cli.export import export
from wallboard.cli.ingest import ingest
from wallboard.cli.replay import replay
from wallboard.cli.report import report
from wallboard.cli.serve import serve
from wallboard.cli.simulate import simulate
from wallboard.cli.snapshot import snapshot
from wallboard.cli.staffing import staffing


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wallboard")
def main() -> None:
    """wallboard: a sub-second terminal wallboard for contact-centre floors."""


# In the order `wallboard --help` has always listed them (click sorts them anyway).
for command in (snapshot, check_config, simulate, board, demo, aggregate, serve, staffing,
                ingest, asterisk, callout, ack, replay, export, report):
    main.add_command(command)
