"""`wallboard serve ssh` and `wallboard serve web`: boards for remote viewers (docs/remote.md).

Both run one board process per viewer: the hidden `wallboard serve session` command, which
draws the aggregator's snapshots (or folds the raw stream with --fold) with the viewer's role.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
from pathlib import Path
from typing import Any

import click

from wallboard.cli.common import cancel_on_signals, load_config_or_fail, valid_redis_url
from wallboard.core.config import Config

PAGES = click.Choice(["overview", "queues", "agents", "trends", "alerts", "rollups"])


def run_snapshot_board(redis_url: str, snapshot_key: str, config: Config, *, kiosk: bool,
                       page: str | None, fold_streams: list[str] | None = None,
                       role: str = "supervisor", user: str | None = None,
                       control: Any = None) -> None:  # fmt: skip
    """The board app over the snapshot stream (or, with `fold_streams`, the raw events)."""
    from wallboard.app.board import WallboardApp
    from wallboard.app.sources import BoardSource, wall_clock

    source: BoardSource
    if fold_streams:
        from feeds.live import LiveFeed

        source = LiveFeed(redis_url, fold_streams, config, clock=wall_clock)
    else:
        from feeds.snapshot_feed import SnapshotFeed

        source = SnapshotFeed(redis_url, config, key=snapshot_key, clock=wall_clock)
    if control is None:
        from feeds.control import RedisControlSink

        control = RedisControlSink(_async_client(redis_url), config.board.control_stream)
    app = WallboardApp(source, config, wall_clock, kiosk=kiosk, page=page, role=role,
                       user=user, control=control)  # fmt: skip

    def on_signal(_signum: int, _frame: object) -> None:
        # The server ends a session with SIGTERM: quit cleanly, so the terminal is restored
        # (alternate screen, mouse, cursor) before the client gets its last bytes.
        if app.is_running:
            app.call_later(app.exit)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    app.run()


def _async_client(url: str) -> Any:
    from feeds.connect import async_client

    return async_client(url, decode_responses=True, socket_timeout=5,
                                   socket_connect_timeout=5, client_name="wallboard-control")


@click.group()
def serve() -> None:
    """Serve boards to remote viewers: over SSH, or in a browser."""


def _die_with_parent() -> None:
    """A board whose server is gone (even killed) must not live on: Linux PR_SET_PDEATHSIG."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    parent = os.environ.get("WALLBOARD_PARENT_PID")
    if parent and parent.isdigit() and os.getppid() != int(parent):
        raise SystemExit(1)  # the server died before the line above took effect


@serve.command("session", hidden=True)
@click.option("--redis", "redis_url", callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL",
              default="redis://127.0.0.1:6379/0")
@click.option("--snapshot-stream", "snapshot_key", default="wallboard:snapshots")
@click.option("--fold", is_flag=True, help="Fold the raw stream instead of reading snapshots.")
@click.option("--stream", "streams", multiple=True)
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG")
@click.option("--role", type=click.Choice(["viewer", "supervisor"]), default="viewer")
@click.option("--user", envvar="WALLBOARD_USER", default=None)
@click.option("--via", type=click.Choice(["ssh", "web"]), default="ssh")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kiosk", is_flag=True)
@click.option("--page", type=PAGES)
def session(redis_url: str, snapshot_key: str, fold: bool, streams: tuple[str, ...],
            config_path: str | None, role: str, user: str | None, via: str,
            audit_log: Path | None, kiosk: bool, page: str | None) -> None:  # fmt: skip
    """One remote viewer's board (started by `serve ssh` / `serve web`)."""
    _die_with_parent()
    config = load_config_or_fail(config_path)
    from feeds.audit import AuditedControlSink
    from feeds.control import RedisControlSink

    sink = RedisControlSink(_async_client(redis_url), config.board.control_stream)
    control = AuditedControlSink(sink, audit_log, user=user or "?", role=role, via=via,
                                 key=os.environ.get("WALLBOARD_AUDIT_KEY"),
                                 peer=os.environ.get("WALLBOARD_AUDIT_PEER"))  # fmt: skip
    run_snapshot_board(redis_url, snapshot_key, config, kiosk=kiosk, page=page,
                       fold_streams=config.with_complaints(list(streams)) if fold else None,
                       role=role, user=user, control=control)  # fmt: skip


@serve.command("ssh")
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis with the snapshot and control streams (env WALLBOARD_REDIS_URL).")
@click.option("--host", default="0.0.0.0", show_default=True, metavar="ADDR",
              help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=2222, show_default=True)
@click.option("--host-key", type=click.Path(dir_okay=False, path_type=Path), required=True,
              metavar="PATH", help="Server host key; generated here (ed25519) if missing.")
@click.option("--viewer-keys", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="authorized_keys file: these keys may watch (read only).")
@click.option("--supervisor-keys", type=click.Path(dir_okay=False, path_type=Path),
              metavar="PATH", help="authorized_keys file: these keys may also ack and call out.")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Append one JSON line per supervisor action here.")
@click.option("--max-sessions", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--idle-timeout", type=click.FloatRange(min=0), default=0, show_default=True,
              metavar="SECONDS", help="Close a session after this long without a key (0: never).")
@click.option("--keepalive", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              metavar="SECONDS", help="Probe quiet clients this often; 3 unanswered: gone.")
@click.option("--snapshot-stream", "snapshot_key", default="wallboard:snapshots",
              show_default=True, metavar="KEY")
@click.option("--fold", is_flag=True,
              help="Each session folds the raw event stream itself (no aggregator needed).")
@click.option("--stream", "streams", multiple=True, metavar="KEY",
              help="With --fold: event stream key(s).")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
def ssh(redis_url: str, host: str, port: int, host_key: Path, viewer_keys: Path | None,
        supervisor_keys: Path | None, audit_log: Path | None, max_sessions: int,
        idle_timeout: float, keepalive: float, snapshot_key: str, fold: bool,
        streams: tuple[str, ...], config_path: str | None) -> None:  # fmt: skip
    """An SSH server: each session gets its own board, sized to the client's terminal."""
    from feeds.ssh_keys import KeyRoles, load_or_create_host_key
    from feeds.ssh_server import SshSettings, serve_forever

    load_config_or_fail(config_path)  # a bad config fails here, not in every session
    try:
        keys = KeyRoles(viewer_keys, supervisor_keys)
        keys.check()
        load_or_create_host_key(host_key)  # a first start generates it here
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    env = {"WALLBOARD_REDIS_URL": redis_url}  # in the environment: never in `ps` output
    if config_path:
        env["WALLBOARD_CONFIG"] = str(Path(config_path).resolve())
    args = ["--snapshot-stream", snapshot_key, "--via", "ssh"]
    if fold:
        args.append("--fold")
        for stream in streams:
            args += ["--stream", stream]
    audit = None if audit_log is None else audit_log.resolve()
    settings = SshSettings(host=host, port=port, host_key=host_key, keys=keys,
                           session_env=env, session_args=args, max_sessions=max_sessions,
                           idle_timeout_s=idle_timeout, audit_log=audit,
                           keepalive_s=keepalive)  # fmt: skip
    _run_server(serve_forever(settings, ready=lambda p: click.echo(
        f"wallboard SSH server listening on {host}:{p}", err=True)))


def _run_server(main: Any) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def run() -> None:
        cancel_on_signals()
        with contextlib.suppress(asyncio.CancelledError):
            await main

    try:
        asyncio.run(run())
    except OSError as exc:  # the port is taken, the address is not ours
        raise click.ClickException(str(exc)) from None


@serve.command("web")
@click.option("--redis", "redis_url",
              callback=valid_redis_url, envvar="WALLBOARD_REDIS_URL", metavar="URL",
              default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis with the snapshot and control streams (env WALLBOARD_REDIS_URL).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Address to listen on; beyond loopback a --token is required.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token", envvar="WALLBOARD_WEB_TOKEN", metavar="SECRET",
              help="Required in the URL (?token=) or a header (env WALLBOARD_WEB_TOKEN).")
@click.option("--max-sessions", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--kiosk/--no-kiosk", default=True, show_default=True,
              help="Big-screen mode: rotating pages, high contrast.")
@click.option("--page", type=PAGES, help="Show only this page.")
@click.option("--role", type=click.Choice(["viewer", "supervisor"]), default="viewer",
              show_default=True, help="What the browser may do.")
@click.option("--user", default="web", show_default=True,
              help="Who signs supervisor actions taken in the browser.")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Append one JSON line per supervisor action here.")
@click.option("--reap-timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              metavar="SECONDS", help="A closed tab's app: SIGTERM, then SIGKILL after this.")
@click.option("--public-url", metavar="URL",
              help="Base URL browsers use (behind a proxy); default: from the request.")
@click.option("--snapshot-stream", "snapshot_key", default="wallboard:snapshots",
              show_default=True, metavar="KEY")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False), help="TOML config (env WALLBOARD_CONFIG).")
def web(redis_url: str, host: str, port: int, token: str | None, max_sessions: int,
        kiosk: bool, page: str | None, role: str, user: str, audit_log: Path | None,
        reap_timeout: float, public_url: str | None, snapshot_key: str,
        config_path: str | None) -> None:  # fmt: skip
    """The board in a browser (textual-serve), one app per tab, token and session cap."""
    import sys

    from feeds.web_server import WebBoardServer, is_loopback, run_web

    load_config_or_fail(config_path)
    if not is_loopback(host) and not token:
        raise click.UsageError(f"--host {host} is beyond loopback: give --token (or "
                               "WALLBOARD_WEB_TOKEN) so that not anyone can watch")  # fmt: skip
    argv = [sys.executable, "-m", "wallboard", "serve", "session", "--via", "web",
            "--role", role, "--user", user, "--snapshot-stream", snapshot_key]  # fmt: skip
    if kiosk:
        argv.append("--kiosk")
    if page:
        argv += ["--page", page]
    if audit_log is not None:
        argv += ["--audit-log", str(audit_log.resolve())]
    env = {"WALLBOARD_REDIS_URL": redis_url, "WALLBOARD_PARENT_PID": str(os.getpid())}
    if config_path:
        env["WALLBOARD_CONFIG"] = str(Path(config_path).resolve())
    server = WebBoardServer(argv, env, host=host, port=port, token=token,
                            max_sessions=max_sessions, reap_timeout_s=reap_timeout,
                            public_url=public_url)  # fmt: skip
    _run_server(run_web(server, ready=lambda p: click.echo(
        f"wallboard web on http://{host}:{p}/" + ("?token=..." if token else ""), err=True)))
