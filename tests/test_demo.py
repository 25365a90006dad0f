"""`wallboard demo` in a real pseudo-terminal: it shows the live board, and however it ends
(q, a closed terminal, a kill) no server or simulator process is left behind."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests import processes


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _controlling_terminal() -> None:
    """Make the pty the child's controlling terminal (in the new session `spawn` made), as a
    terminal emulator does, so that closing it sends SIGHUP."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def start_demo() -> tuple[subprocess.Popen[bytes], int, bytearray]:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "34"}
    try:
        process = processes.spawn(
            [sys.executable, "-m", "wallboard", "demo", "--speed", "20"],
            stdin=slave, stdout=slave, stderr=slave, env=env, preexec=_controlling_terminal,
        )  # fmt: skip
    finally:
        os.close(slave)
    screen = bytearray()

    def board_is_live() -> bool:
        import select

        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            screen.extend(chunk)
        return b"LIVE" in screen

    try:
        wait_for(board_is_live, 60, "the board to show LIVE")
    except BaseException:
        processes.stop(process, grace_s=0)
        os.close(master)
        raise
    return process, master, screen


@pytest.mark.parametrize("ending", ["quit-key", "closed-terminal", "killed"])
def test_demo_leaves_nothing_behind(ending: str) -> None:
    process, master, screen = start_demo()
    try:
        end_demo(process, master, screen, ending)
    finally:  # a failing run must not leave a demo behind either
        processes.stop(process, grace_s=0)


def end_demo(process: subprocess.Popen[bytes], master: int, screen: bytearray,
             ending: str) -> None:
    servers = children_of(process.pid)
    assert servers, "the demo should have started its embedded server"
    assert b"Double 11" in screen
    if ending == "quit-key":
        os.write(master, b"q")
        process.wait(timeout=30)
        os.close(master)
    elif ending == "closed-terminal":
        os.close(master)  # the terminal goes away: SIGHUP
    else:
        process.send_signal(signal.SIGKILL)
        os.close(master)
    process.wait(timeout=30)
    wait_for(lambda: not any(alive(pid) for pid in servers), 10, "the server to stop")
