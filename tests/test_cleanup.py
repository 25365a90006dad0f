"""An interrupted test run leaves no process behind.

Each case runs tests/cleanup_probe.py in a pytest of its own (its own process group, as in a
terminal of its own), which starts what real tests start: the session's server, `wallboard
aggregate` and a tmux server, and in some cases `serve ssh` with an `ssh -tt` client (so a
`serve session` too). Once they are up the run is interrupted: Ctrl-C (SIGINT to its group)
in the test or while a fixture is still setting up, SIGTERM (a CI job's timeout), or a
pytest-timeout. Then no process of that run may be left: none carrying the run's marker in
its environment, and none of the processes seen below it while it ran.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import processes
from tests.processes import Proc

pytestmark = [pytest.mark.redis, pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("ssh", "ssh-keygen", "tmux")),
    reason="needs ssh, ssh-keygen and tmux")]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
MARKER = "WALLBOARD_CLEANUP_RUN"


@dataclass(frozen=True)
class Case:
    at: str  # where the probe waits: "test" or "setup" (inside a fixture, before its yield)
    ssh: bool  # also `serve ssh`, `serve session` and an `ssh -tt` client
    signum: int | None  # what interrupts the run; None: its own pytest-timeout
    to_group: bool = True  # a terminal's Ctrl-C goes to the whole foreground group


CASES = {
    "ctrl-c": Case("test", ssh=True, signum=signal.SIGINT),
    "ctrl-c-while-a-fixture-sets-up": Case("setup", ssh=False, signum=signal.SIGINT),
    "sigterm": Case("test", ssh=True, signum=signal.SIGTERM, to_group=False),
    "pytest-timeout-while-a-fixture-sets-up": Case("setup", ssh=False, signum=None),
}


def marked(run: str) -> set[Proc]:
    """Processes whose environment carries the run's marker (everything it started, except
    what was given an environment of its own, such as a `serve session`)."""
    needle = f"{MARKER}={run}\0".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in environ:
                proc = processes.identify(int(entry.name))
                if proc is not None:
                    found.add(proc)
    return found


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def leftovers() -> Iterator[set[Proc]]:
    """What the test saw of the inner run: killed at the end, whatever the outcome, so this
    test leaves nothing either."""
    seen: set[Proc] = set()
    yield seen
    processes.end({p for p in seen if processes.alive(p)}, grace_s=0)


@pytest.mark.parametrize("name", list(CASES))
def test_an_interrupted_run_leaves_no_process(name: str, tmp_path: Path,
                                              leftovers: set[Proc]) -> None:  # fmt: skip
    case = CASES[name]
    run = uuid.uuid4().hex
    ready, log = tmp_path / "ready", tmp_path / "inner.log"
    env = {k: v for k, v in os.environ.items() if k != "WALLBOARD_TEST_REDIS_URL"}
    env.update({MARKER: run, "WALLBOARD_PROBE_READY": str(ready), "WALLBOARD_PROBE_AT": case.at,
                "WALLBOARD_PROBE_SSH": "1" if case.ssh else "0",
                "WALLBOARD_PROBE_TIMEOUT": "1" if case.signum is None else "0"})  # fmt: skip
    with log.open("wb") as out:
        inner = processes.spawn(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
             f"cache_dir={tmp_path / 'cache'}", "--basetemp", str(tmp_path / "inner"),
             "tests/cleanup_probe.py"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)  # fmt: skip
    try:
        def up() -> bool:
            assert inner.poll() is None, f"the inner run ended early:\n{log.read_text()}"
            return ready.exists()

        wait_for(up, 90, "the inner run's processes to be up")
        tree = marked(run)
        tree |= processes.descendants(p.pid for p in tree)
        leftovers.update(tree)
        commands = " | ".join(processes.command_line(p.pid) for p in tree)
        expected = ["-server", "wallboard aggregate", "tmux"]
        if case.ssh:
            expected += ["wallboard serve ssh", "wallboard serve session", "ssh -tt"]
        for what in expected:
            assert what in commands, f"{what!r} is not running: {commands}"

        if case.signum is not None:
            if case.to_group:
                os.killpg(inner.pid, case.signum)
            else:
                os.kill(inner.pid, case.signum)
        inner.wait(90)
        output = log.read_text()
        # It was this interruption that ended the run. (Not its exit status: a Ctrl-C in a
        # fixture's setup makes pytest's own tmp_path teardown fail, an internal error.)
        if case.signum is None:
            assert "from pytest-timeout" in output, output
        elif case.signum == signal.SIGINT:
            assert "KeyboardInterrupt" in output, output

        def left() -> set[Proc]:
            return {p for p in tree | marked(run) if processes.alive(p)}

        try:
            wait_for(lambda: not left(), 20, "the run's processes to end")
        except AssertionError:
            remaining = left()
            leftovers.update(remaining)
            raise AssertionError("left running: " + "; ".join(map(str, remaining))) from None
    finally:
        processes.stop(inner, grace_s=0)
