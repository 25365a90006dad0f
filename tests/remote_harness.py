"""What the SSH and web tests share: a floor in Redis (hand-worked events, a config naming
fresh stream keys), an aggregator process, a server process, tmux, and process checks.

Every process here is started with tests.processes (its own process group, registered for
the session's safety net) and stopped with its descendants, also when a wait is interrupted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests import processes
from tests.test_demo import alive, children_of

__all__ = ["Floor", "Tmux", "alive", "children_of", "floor_events", "keygen", "ssh_argv",
           "start_floor", "start_server", "stop_process", "wait_for"]

QUEUES = ("vip", "presale", "aftersale", "wechat")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def floor_events(now_ms: int) -> list[dict[str, str]]:
    """Four queues with one contact each, waiting since 5 minutes ago: each queue's longest
    wait (300 s) is above the longest_wait rule's critical level (120 s), so each has an alert.
    Two agents logged in."""
    t = now_ms - 300_000
    events = [{"type": "agent.state", "ts": str(t - 1000), "agent": f"a{i}",
               "state": "available"} for i in (1, 2)]  # fmt: skip
    events += [{"type": "contact.offered", "ts": str(t + i), "contact": f"c-{q}", "queue": q,
                "channel": "chat"} for i, q in enumerate(QUEUES)]  # fmt: skip
    return events


@dataclass
class Floor:
    url: str
    events: str
    control: str
    snapshots: str
    config: Path
    aggregator: subprocess.Popen[bytes]

    def stop(self, client: redis.Redis) -> None:
        try:
            stop_process(self.aggregator)
        finally:
            client.delete(self.events, self.control, self.snapshots)


def start_floor(redis_url: str, client: redis.Redis, tmp: Path, agg_id: str) -> Floor:
    prefix = f"test:{uuid.uuid4().hex}"
    events, control, snaps = f"{prefix}:events", f"{prefix}:control", f"{prefix}:snapshots"
    config = tmp / "board.toml"
    config.write_text(f'[board]\nstream = "{events}"\ncontrol_stream = "{control}"\n')
    for fields in floor_events(time.time_ns() // 1_000_000):
        client.xadd(events, fields)  # type: ignore[arg-type]
    aggregator = processes.spawn(
        [sys.executable, "-m", "wallboard", "aggregate", "--redis", redis_url, "--config",
         str(config), "--snapshot-stream", snaps, "--rate", "4", "--id", agg_id],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: client.xlen(snaps) > 0, 30, "the aggregator's first snapshot")
    except BaseException:  # the caller never gets it to stop: a timeout, a Ctrl-C
        stop_process(aggregator)
        raise
    return Floor(redis_url, events, control, snaps, config, aggregator)


Server = tuple[subprocess.Popen[bytes], int]


def start_server(argv: list[str], log: Path, pattern: str = r"listening on \S+:(\d+)") -> Server:
    """A server process whose stderr goes to `log`; its port, read from its first lines."""
    with log.open("wb") as out:
        process = processes.spawn(argv, stdout=out, stderr=out)

    def port() -> int | None:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        found = re.search(pattern, log.read_text())
        return int(found.group(1)) if found else None

    try:
        return process, wait_for(port, 30, "the server to listen")
    except BaseException:
        stop_process(process)
        raise


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a server's clean stop), SIGKILL after 10 s; with what it started."""
    processes.stop(process, grace_s=10)


class Tmux:
    """A private tmux server; panes stay after their program exits, to be read.

    The server runs in the foreground (`tmux -D`, tmux 3.2+) as our child, so it is stopped
    like any other process; an older tmux daemonizes, and its server is tracked by pid."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wbtmux-"))
        self.socket = str(self.dir / "socket")
        server = processes.spawn(["tmux", "-D", "-S", self.socket, "-f", "/dev/null"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        self.server: subprocess.Popen[bytes] | None = server
        self.daemon: processes.Proc | None = None
        try:
            wait_for(lambda: Path(self.socket).exists() or server.poll() is not None, 10,
                     "tmux to listen")  # fmt: skip
            if server.poll() is not None:  # no -D: the server will be a daemon
                self.server = None
            self("-f", "/dev/null", "new-session", "-d", "-s", "keep", "-x", "80", "-y", "24")
            if self.server is None:
                self.daemon = processes.track(int(self("display-message", "-p", "#{pid}")),
                                              "tmux server", self._kill_server)  # fmt: skip
            self("set-option", "-g", "remain-on-exit", "on")
        except BaseException:
            self.close()
            raise

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout  # fmt: skip

    def start(self, name: str, argv: list[str], columns: int, rows: int,
              env: dict[str, str] | None = None) -> None:  # fmt: skip
        prefix = ["env", *(f"{k}={v}" for k, v in (env or {}).items())]
        command = " ".join(_quote(a) for a in [*prefix, *argv])
        self("new-session", "-d", "-s", name, "-x", str(columns), "-y", str(rows), command)

    def screen(self, name: str, escapes: bool = False, history: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if escapes else []),
                    *(["-S", "-1000"] if history else []), "-t", name)  # fmt: skip

    def keys(self, name: str, *keys: str) -> None:
        self("send-keys", "-t", name, *keys)

    def resize(self, name: str, columns: int, rows: int) -> None:
        self("resize-window", "-t", name, "-x", str(columns), "-y", str(rows))

    def pane_pid(self, name: str) -> int:
        return int(self("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def dead(self, name: str) -> bool:
        return self("display-message", "-p", "-t", name, "#{pane_dead}").strip() == "1"

    def _kill_server(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], check=False,
                       capture_output=True, timeout=10)  # fmt: skip

    def close(self) -> None:
        """The server and every pane's program (they get SIGHUP as their terminals close)."""
        root = self.server.pid if self.server else self.daemon.pid if self.daemon else None
        tree = processes.tree(root)
        try:
            self._kill_server()
        finally:  # what is left of it, and of the panes, whatever they do with SIGHUP
            processes.end(tree, [self.server] if self.server is not None else [], grace_s=5)
            processes.forget(self.daemon)
            if self.server is not None:
                processes.stop(self.server)
            shutil.rmtree(self.dir, ignore_errors=True)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def ssh_argv(port: int, key: Path, user: str, *extra: str) -> list[str]:
    return ["ssh", "-tt", "-p", str(port), "-i", str(key), "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "LogLevel=ERROR", *extra, f"{user}@127.0.0.1"]  # fmt: skip


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True)  # fmt: skip
    return path


def fingerprint(public_key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return out.split()[1]

