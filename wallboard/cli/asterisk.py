"""`wallboard asterisk`: an Asterisk queue_log into the event stream (docs/asterisk.md)."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from wallboard.cli.common import load_config_or_fail, valid_redis_url

DEFAULT_QUEUE_LOG = "/var/log/asterisk/queue_log"
BATCH = 500  # events per atomic script call: keeps each call short for other clients


@click.command()
@click.option("--queue-log", "queue_log", default=DEFAULT_QUEUE_LOG, show_default=True,
              metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="The queue_log to follow.")
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Write to a stream of this Redis (env WALLBOARD_REDIS_URL).")
@click.option("--stream", metavar="KEY", help="Stream key (default: the board's first stream).")
@click.option("--once", is_flag=True, help="Read to the end and exit (import history).")
@click.option("--from-start", is_flag=True,
              help="Read the whole file again, ignoring the saved offset (events already "
                   "written within the idempotency window are not written twice).")
@click.option("--state", "state_path", metavar="FILE", type=click.Path(dir_okay=False,
              path_type=Path), help="Offset and file identity (default: "
              "~/.local/state/wallboard/asterisk-<hash>.json).")  # fmt: skip
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="A queue a transfer may target (queues seen in the log and the config's "
                   "[queues] count too); repeat for several.")
@click.option("--idempotency-window", "window_s", type=click.FloatRange(min=1), default=86400,
              show_default=True, metavar="SECONDS",
              help="How long Redis remembers each written line's id.")
@click.option("--poll", "poll_s", type=click.FloatRange(min=0.05), default=0.5,
              show_default=True, metavar="SECONDS", help="How often to look for new lines.")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and bad lines on standard error.")
def asterisk(queue_log: Path, redis_url: str, stream: str | None, once: bool, from_start: bool,
             state_path: Path | None, queues: tuple[str, ...], window_s: float, poll_s: float,
             config_path: str | None, quiet: bool) -> None:  # fmt: skip
    """Tail an Asterisk queue_log and write the matching events."""
    import redis

    from feeds.asterisk_tail import Tailer, TailError, default_state_path
    from feeds.ingest_store import BatchWriter
    from feeds.redis_window import RedisUnavailable, connect, redact

    config = load_config_or_fail(config_path)
    key = stream or config.streams[0]
    state_file = state_path or default_state_path(queue_log, key)

    def say(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    try:
        client = connect(redis_url)
    except RedisUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    writer = BatchWriter(client, key, round(window_s * 1000))

    def sink(events: list[dict[str, str]]) -> int:
        duplicates = 0
        for start in range(0, len(events), BATCH):
            written = writer.write(events[start:start + BATCH])
            duplicates += sum(1 for item in written if item.duplicate)
        return duplicates

    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    say(f"wallboard asterisk: {queue_log} -> {key} on {redact(redis_url)} (state {state_file})")
    try:
        tailer = Tailer(queue_log, state_file, sink, known_queues=(*queues, *config.queues),
                        from_start=from_start, report=lambda text: click.echo(text, err=True))
        handle = tailer.catch_up()
        if once:
            handle.close()
        else:
            signal.signal(signal.SIGTERM, stop)
            with contextlib.suppress(KeyboardInterrupt):
                tailer.follow(handle, poll_s=poll_s, stop=lambda: stopping)
    except TailError as exc:
        raise click.ClickException(str(exc)) from None
    except redis.RedisError as exc:
        click.echo(f"Error: lost Redis at {redact(redis_url)}: {exc} (the offset is saved up "
                   "to the last written line; run again to resume)", err=True)  # fmt: skip
        sys.exit(3)
    stats = tailer.stats
    ignored = ", ".join(f"{name} {count}" for name, count in sorted(stats.ignored.items()))
    say(f"read {stats.lines} lines from {', '.join(stats.files)}: {stats.events} events "
        f"({stats.duplicates} already written), {stats.bad} bad lines"
        + (f", {stats.blank} blank lines" if stats.blank else "")
        + (f"; ignored {ignored}" if ignored else ""))  # fmt: skip
