"""`wallboard serve ssh`: an SSH server (asyncssh) that gives each session its own board.

Public keys only (feeds.ssh_keys gives the role). Each session runs `wallboard serve session`
in a subprocess on a pseudo-terminal of the client's size and TERM (feeds.pty_child); window
changes resize the pty; when the client goes (exit, kill, network cut found by keepalives)
the board's process group gets SIGTERM, then SIGKILL after a timeout. No shell, no forwarding,
no SFTP: whatever command the client asks for, it gets the board.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from feeds.pty_child import PtyChild
from feeds.ssh_keys import Grant, KeyRoles, load_or_create_host_key
from wallboard.core.sanitize import clean

log = logging.getLogger("wallboard.ssh")

# Output waiting for a slow client beyond this: stop reading the board (it then blocks).
HIGH_WATER = 256 * 1024


@dataclass
class SshSettings:
    host: str
    port: int
    host_key: Path
    keys: KeyRoles
    session_env: dict[str, str]  # passed to every board: WALLBOARD_REDIS_URL, _CONFIG, ...
    session_args: list[str] = field(default_factory=list)  # extra `serve session` options
    max_sessions: int = 20
    idle_timeout_s: float = 0.0  # 0: none
    audit_log: Path | None = None
    stop_timeout_s: float = 3.0
    keepalive_s: float = 10.0  # a vanished client is noticed within 3 missed keepalives


class BoardServer:
    """Owns the listening server and every live session."""

    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self.sessions: set[BoardSession] = set()
        self._server: asyncssh.SSHAcceptor | None = None

    async def start(self) -> int:
        """Listen; the port (useful with port 0)."""
        settings = self.settings
        settings.keys.check()
        host_key = load_or_create_host_key(settings.host_key)
        self._server = await asyncssh.create_server(
            lambda: _Connection(self), settings.host, settings.port,
            server_host_keys=[host_key], password_auth=False, kbdint_auth=False,
            gss_auth=False, host_based_auth=False, public_key_auth=True,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False, line_editor=False,
            encoding=None, keepalive_interval=settings.keepalive_s, keepalive_count_max=3,
            login_timeout=30,
        )  # fmt: skip
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else settings.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.gather(*(s.end() for s in list(self.sessions)))

    def child_pids(self) -> list[int]:
        return [pid for s in self.sessions if (pid := s.child_pid) is not None]


class _Connection(asyncssh.SSHServer):
    def __init__(self, server: BoardServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.grant: Grant | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn

    def begin_auth(self, username: str) -> bool:
        return True  # always authenticate

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        assert self.conn is not None
        peer = self.conn.get_extra_info("peername") or ("", 0)
        grant = self.server.settings.keys.grant(key, str(peer[0]), str(peer[0]))
        if grant is None:
            log.info("refused key %s for %r from %s", key.get_fingerprint(), username, peer[0])
            return False
        self.grant = grant
        return True

    def session_requested(self) -> asyncssh.SSHServerSession[bytes] | bool:
        assert self.conn is not None and self.grant is not None
        # The login name signs actions and is drawn: no control characters, bounded.
        username = clean(str(self.conn.get_extra_info("username") or ""), 64) or "?"
        peer = self.conn.get_extra_info("peername") or ("", 0)
        return BoardSession(self.server, self.grant, username, str(peer[0]))


class BoardSession(asyncssh.SSHServerSession[bytes]):
    def __init__(self, server: BoardServer, grant: Grant, user: str, peer: str) -> None:
        self.server = server
        self.grant = grant
        self.user = user
        self.peer = peer
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term = "xterm"
        self.size = (80, 24)
        self.pty = False
        self.child: PtyChild | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._ending: asyncio.Task[None] | None = None

    @property
    def child_pid(self) -> int | None:
        return None if self.child is None else self.child.pid

    # ---- what the client asks for ---------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Mapping[int, int]) -> bool:  # fmt: skip
        self.pty = True
        self.term = _safe_term(term_type)
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return True  # a command is ignored: the session is the board

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no SFTP

    def session_started(self) -> None:
        asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        chan = self.chan
        assert chan is not None
        settings = self.server.settings
        if chan.is_closing():  # the client left before the session started
            return
        if not self.pty:
            self._refuse(b"wallboard needs a terminal: connect with ssh -t", 2)
            return
        if len(self.server.sessions) >= settings.max_sessions:
            self._refuse(f"wallboard: all {settings.max_sessions} sessions are in use; "
                         "try again later".encode(), 3)  # fmt: skip
            return
        self.server.sessions.add(self)
        log.info("session for %s (%s, key %s) from %s, %dx%d %s", self.user, self.grant.role,
                 self.grant.fingerprint, self.peer, *self.size, self.term)  # fmt: skip
        child = PtyChild(self._argv(), self._env(), *self.size)
        try:
            await child.start(self._output)
        except OSError as exc:
            log.error("cannot start a board: %s", exc)
            self.server.sessions.discard(self)
            if not chan.is_closing():
                self._refuse(b"wallboard: the board could not start", 1)
            return
        if self._ending is not None or chan.is_closing():  # the client left while it started
            await child.stop(settings.stop_timeout_s)
            self.server.sessions.discard(self)
            return
        self.child = child
        self._touch()
        status = await child.wait()
        # The board ended by itself (q), or is being ended: one ending either way.
        await self.end(status)

    def _refuse(self, message: bytes, status: int) -> None:
        assert self.chan is not None
        self.chan.write_stderr(message + b"\r\n")
        self.chan.exit(status)

    def _argv(self) -> list[str]:
        settings = self.server.settings
        argv = [sys.executable, "-m", "wallboard", "serve", "session", "--role", self.grant.role,
                *settings.session_args]  # fmt: skip
        if settings.audit_log is not None:
            argv += ["--audit-log", str(settings.audit_log)]
        return argv

    def _env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TZ",
                                                   "PYTHONPATH", "VIRTUAL_ENV")
               if name in os.environ}  # fmt: skip
        if "UTF-8" not in (env.get("LC_ALL") or env.get("LANG") or "").upper():
            env["LANG"] = "C.UTF-8"  # box drawing and the status glyphs need UTF-8
        env.update(self.server.settings.session_env)
        env.update({
            "TERM": self.term,  # the client's terminal decides the colours
            "WALLBOARD_USER": self.user,
            "WALLBOARD_AUDIT_KEY": self.grant.fingerprint,
            "WALLBOARD_AUDIT_PEER": self.peer,
            "WALLBOARD_PARENT_PID": str(os.getpid()),
        })  # fmt: skip
        return env

    # ---- traffic --------------------------------------------------------------------------

    def _output(self, data: bytes) -> None:
        chan = self.chan
        if chan is None or chan.is_closing():
            return
        chan.write(data)
        if chan.get_write_buffer_size() > HIGH_WATER and self.child is not None:
            self.child.pause()

    def pause_writing(self) -> None:
        if self.child is not None:
            self.child.pause()

    def resume_writing(self) -> None:
        if self.child is not None:
            self.child.resume()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self.child is not None:
            self._touch()
            self.child.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:  # fmt: skip
        if self.child is not None:
            self.child.resize(width, height)

    def eof_received(self) -> bool:
        # No more keys (`ssh -tt < /dev/null`): the board goes on drawing until the client
        # disconnects or the board ends.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._schedule_end()

    # ---- ending ---------------------------------------------------------------------------

    def _touch(self) -> None:
        timeout = self.server.settings.idle_timeout_s
        if timeout <= 0:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(timeout, self._idle_out)

    def _idle_out(self) -> None:
        log.info("session for %s idle for %.0f s: closing", self.user,
                 self.server.settings.idle_timeout_s)  # fmt: skip
        self._schedule_end(idle=True)

    def _schedule_end(self, status: int | None = None, *,
                      idle: bool = False) -> asyncio.Task[None]:  # fmt: skip
        if self._ending is None:
            self._ending = asyncio.get_running_loop().create_task(self._end(status, idle))
        return self._ending

    async def end(self, status: int | None = None) -> None:
        """Reap the board and close the channel; the first caller's ending is the one."""
        await asyncio.shield(self._schedule_end(status))

    async def _end(self, status: int | None, idle: bool) -> None:
        if self._idle is not None:
            self._idle.cancel()
        child, self.child = self.child, None
        if child is not None:
            await child.stop(self.server.settings.stop_timeout_s)
            log.info("session for %s ended", self.user)
        self.server.sessions.discard(self)
        chan = self.chan
        if chan is not None and not chan.is_closing():
            if idle:
                chan.write(b"wallboard: idle limit reached, disconnecting\r\n")
            chan.exit(0 if status is None else max(status, 0))


def _safe_term(term: str) -> str:
    """TERM goes into the board's environment: a name, not arbitrary bytes."""
    cleaned = "".join(ch for ch in term if ch.isalnum() or ch in "-_.+")[:64]
    return cleaned or "xterm"


async def serve_forever(settings: SshSettings, ready: Any = None) -> None:
    server = BoardServer(settings)
    port = await server.start()
    log.info("wallboard SSH server on %s:%d", settings.host, port)
    if ready is not None:
        ready(port)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()
