"""Not collected by the suite: tests/test_cleanup.py runs this file in a pytest of its own,
starts the processes a real test starts, and then interrupts that pytest (Ctrl-C, SIGTERM or
a pytest-timeout) to check that none is left. The probe uses only the suite's own fixtures
and helpers (the session's server, tests.remote_harness), as test_ssh.py does.

Set by the outer test:
- WALLBOARD_PROBE_READY: a file to write once everything is up.
- WALLBOARD_PROBE_AT: `test` waits in the test body; `setup` waits inside a fixture, before
  its `yield` (a fixture still setting up has no teardown to run).
- WALLBOARD_PROBE_SSH: `1` also starts `serve ssh` with an `ssh -tt` client in tmux (and so a
  `serve session`).
- WALLBOARD_PROBE_TIMEOUT: `1` makes pytest-timeout's alarm go off once everything is up.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.remote_harness import (
    Floor,
    Tmux,
    keygen,
    ssh_argv,
    start_floor,
    start_server,
    stop_process,
    wait_for,
)


def _up() -> None:
    """Everything is running: say so, then wait to be interrupted."""
    Path(os.environ["WALLBOARD_PROBE_READY"]).write_text(str(os.getpid()))
    if os.environ.get("WALLBOARD_PROBE_TIMEOUT") == "1":
        # pytest-timeout (signal method) armed ITIMER_REAL for this test; bring it forward, so
        # its own handler ends the test as a real timeout would, without waiting 120 s.
        signal.setitimer(signal.ITIMER_REAL, 0.2)
    wait_for(lambda: False, 600, "the outer test to interrupt this run")


@pytest.fixture
def floor(redis_url: str, tmp_path: Path) -> Iterator[Floor]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    floor = start_floor(redis_url, client, tmp_path, "agg-probe")
    if os.environ.get("WALLBOARD_PROBE_AT") == "setup":
        _up()
    try:
        yield floor
    finally:
        floor.stop(client)
        client.close()


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    mux = Tmux()
    try:
        yield mux
    finally:
        mux.close()


def test_processes_until_interrupted(tmux: Tmux, floor: Floor, tmp_path: Path) -> None:
    if os.environ.get("WALLBOARD_PROBE_SSH") == "1":
        viewer = keygen(tmp_path / "viewer", "viewer@probe")
        keygen(tmp_path / "supervisor", "supervisor@probe")
        for role in ("viewer", "supervisor"):
            (tmp_path / f"{role}_keys").write_text((tmp_path / f"{role}.pub").read_text())
        server, port = start_server(
            [sys.executable, "-m", "wallboard", "serve", "ssh", "--redis", floor.url,
             "--host", "127.0.0.1", "--port", "0", "--host-key", str(tmp_path / "host_key"),
             "--viewer-keys", str(tmp_path / "viewer_keys"),
             "--supervisor-keys", str(tmp_path / "supervisor_keys"),
             "--snapshot-stream", floor.snapshots, "--config", str(floor.config)],
            tmp_path / "server.log")  # fmt: skip
        try:
            tmux.start("probe", ssh_argv(port, viewer, "probe"), 100, 30)
            wait_for(lambda: "via agg-probe" in tmux.screen("probe"), 60, "the board over ssh")
            _up()
        finally:
            stop_process(server)
    else:
        _up()
