"""`wallboard callout` and `wallboard ack`: supervisor actions from a shell (docs/alerts.md).

Each appends one control event (`reserve.callout`, `alert.ack`) to the control stream, the
same entry the board's `c` and `a` keys write, so every board, aggregator and replay folds it.
The fields are checked with the event contract's own decoder first: what this writes is never
an entry the boards would reject.
"""

from __future__ import annotations

import sys

import click

from wallboard.cli.common import load_config_or_fail, now_ms, valid_redis_url
from wallboard.core.config import Config
from wallboard.core.events import Event, decode

_REDIS_HELP = "Redis with the control stream (env WALLBOARD_REDIS_URL)."
_CONFIG_HELP = "TOML config (env WALLBOARD_CONFIG): board.control_stream names the stream."




def callout_fields(callout_id: str, queue: str, agents: list[str], by: str,
                   ts: int) -> dict[str, str]:  # fmt: skip
    """A `reserve.callout` entry, exactly the contract's fields."""
    return {"type": "reserve.callout", "callout": callout_id, "queue": queue,
            "agents": ",".join(agents), "by": by, "ts": str(ts)}  # fmt: skip


def ack_fields(alert_id: str, by: str, ts: int) -> dict[str, str]:
    """An `alert.ack` entry, exactly the contract's fields."""
    return {"type": "alert.ack", "alert": alert_id, "by": by, "ts": str(ts)}


def split_agents(text: str) -> list[str]:
    """`a,b, c,a` -> [a, b, c]: trimmed, empty parts and repeats dropped, order kept."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _check(fields: dict[str, str]) -> None:
    """Refuse what a board would reject (too long, control characters, missing fields)."""
    if not fields["by"].strip():
        raise click.BadParameter("must not be empty: control events are signed", param_hint="--by")
    item = decode(fields)
    if not isinstance(item, Event):
        option = {"callout": "--id", "alert": "--alert"}.get(item.field or "", f"--{item.field}")
        raise click.BadParameter(item.detail, param_hint=option)


def _send(redis_url: str, config: Config, fields: dict[str, str]) -> str:
    from feeds.redis_window import RedisUnavailable, connect, redact

    stream = config.board.control_stream
    if not stream:
        raise click.ClickException(
            "board.control_stream is empty in the config: no board would read this; "
            "set it (default wallboard:control)")  # fmt: skip
    import redis

    try:
        client = connect(redis_url)
        entry_id = client.xadd(stream, fields)  # type: ignore[arg-type]
    except RedisUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    except redis.RedisError as exc:  # e.g. WRONGTYPE: the key is not a stream
        click.echo(f"Error: cannot write to {stream!r} at {redact(redis_url)}: {exc}", err=True)
        sys.exit(3)
    return str(entry_id)


@click.command()
@click.option("--queue", required=True, metavar="Q", help="The queue the callees will serve.")
@click.option("--agents", "agents_text", required=True, metavar="A,B",
              help="Reserve agent ids, comma separated.")
@click.option("--by", required=True, metavar="NAME", help="Who calls them in (the supervisor).")
@click.option("--id", "callout_id", metavar="ID",
              help="Callout id (default co-<epoch ms>-<queue>); the same id twice is one callout.")
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True, help=_REDIS_HELP)
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help=_CONFIG_HELP)
def callout(queue: str, agents_text: str, by: str, callout_id: str | None, redis_url: str,
            config_path: str | None) -> None:  # fmt: skip
    """Call reserve agents in for a queue: a `reserve.callout` on the control stream.

    Prints the callout id and the stream entry ID. The simulator and any callout tooling
    answer with `reserve.response`; the boards track each callee until they log in.
    """
    config = load_config_or_fail(config_path)
    agents = split_agents(agents_text)
    if not agents:
        raise click.BadParameter("name at least one agent", param_hint="--agents")
    ts = now_ms()
    if callout_id is None:
        callout_id = f"co-{ts}-{queue[:64]}"  # as the board's `c` key names them
    fields = callout_fields(callout_id, queue, agents, by, ts)
    _check(fields)
    entry_id = _send(redis_url, config, fields)
    click.echo(f"callout {callout_id} entry {entry_id} stream {config.board.control_stream}")


@click.command()
@click.option("--alert", "alert_id", required=True, metavar="ID",
              help="The alert id, e.g. sl_window/queue:pre_sales/2026-11-11/1.")
@click.option("--by", required=True, metavar="NAME", help="Who acknowledges it.")
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True, help=_REDIS_HELP)
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help=_CONFIG_HELP)
def ack(alert_id: str, by: str, redis_url: str, config_path: str | None) -> None:
    """Acknowledge an alert: an `alert.ack` on the control stream. Prints the entry ID.

    An ack of an id no board has raised yet is kept until the alert appears (replays).
    """
    config = load_config_or_fail(config_path)
    fields = ack_fields(alert_id, by, now_ms())
    _check(fields)
    entry_id = _send(redis_url, config, fields)
    click.echo(f"alert {alert_id} entry {entry_id} stream {config.board.control_stream}")
