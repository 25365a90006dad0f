"""Every process a test starts is stopped when the test ends, fails or is interrupted.

- `spawn()` starts a process in a process group of its own (a terminal's Ctrl-C then reaches
  only pytest, which stops the process in order), tied to this thread (Linux
  PR_SET_PDEATHSIG: pytest killed outright still takes it along), and registers it.
- `stop()` ends it with everything it started, even what left its group (`serve ssh` puts
  each `serve session` in a session of its own): SIGTERM, then SIGKILL after a grace period.
  `running()` is `spawn()` and `stop()` as a context manager.
- `track()` registers a process that is not a child (a daemon: an older tmux's server).
- `stop_all()` is the session's safety net (tests/conftest.py: after the last teardown, at
  exit, and on SIGTERM or SIGHUP): what a test interrupted before its own cleanup left.
- `become_subreaper()`: a process whose parent died is re-parented to pytest instead of
  init, so nothing a test started can leave the tree that `stop_all()` walks.

Processes are named by pid and start time (pids are reused).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork
except (OSError, AttributeError):  # not Linux
    _prctl = None


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks after boot at which it started

    def __str__(self) -> str:
        return f"{self.pid} ({command_line(self.pid) or '?'})"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: state, ppid, pgid, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def identify(pid: int) -> Proc | None:
    fields = _stat(pid)
    return None if fields is None else Proc(pid, int(fields[19]))


def alive(proc: Proc) -> bool:
    """Running (a zombie has ended; a pid taken by a newer process is not this one)."""
    fields = _stat(proc.pid)
    return fields is not None and int(fields[19]) == proc.start and fields[0] not in "ZX"


def _group(proc: Proc) -> int | None:
    fields = _stat(proc.pid)
    return None if fields is None else int(fields[2])


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pids: Iterable[int]) -> set[Proc]:
    """Every process below `pids` (children, their children, ...), as they stand now."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: set[Proc] = set()
    todo = [child for pid in pids for child in children.get(pid, [])]
    while todo:
        pid = todo.pop()
        proc = identify(pid)
        if proc is not None and proc not in found:
            found.add(proc)
            todo.extend(children.get(pid, []))
    return found


def tree(pid: int | None) -> set[Proc]:
    """`pid` and everything below it, as they stand now (nothing for None or a gone pid)."""
    proc = None if pid is None else identify(pid)
    if proc is None or not alive(proc):
        return set()
    return descendants([proc.pid]) | {proc}


@dataclass
class _Tracked:
    proc: Proc
    what: str
    popen: subprocess.Popen[Any] | None
    close: Callable[[], None] | None  # its own way to end, tried first (tmux kill-server)


_tracked: dict[Proc, _Tracked] = {}
_lock = threading.Lock()


def _tie_to_parent(then: Callable[[], None] | None) -> Callable[[], None]:
    def in_child() -> None:  # between fork and exec: no imports, no locks
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if then is not None:
            then()

    return in_child


def spawn(argv: Sequence[str], *, preexec: Callable[[], None] | None = None,
          **popen: Any) -> subprocess.Popen[bytes]:  # fmt: skip
    """`subprocess.Popen(argv, **popen)` in a new session and process group, tied to the
    calling thread (start processes from the main thread: a worker thread's end would kill
    them), and registered. `preexec` runs in the child before exec (after setsid)."""
    process: subprocess.Popen[bytes] = subprocess.Popen(
        argv, start_new_session=True, preexec_fn=_tie_to_parent(preexec), **popen)  # noqa: PLW1509
    proc = identify(process.pid) or Proc(process.pid, -1)
    with _lock:
        # Let go of the ones already waited for (a Popen holds its pipes until collected).
        for key in [k for k, t in _tracked.items() if t.popen and t.popen.returncode is not None]:
            del _tracked[key]
        _tracked[proc] = _Tracked(proc, " ".join(argv)[:200], process, None)
    return process


def track(pid: int, what: str, close: Callable[[], None] | None = None) -> Proc | None:
    """Register a process that is not our child (a daemon), to be stopped by `stop_all()`.
    `close` is its own way to end, tried before signals."""
    proc = identify(pid)
    if proc is not None:
        with _lock:
            _tracked[proc] = _Tracked(proc, what, None, close)
    return proc


def forget(proc: Proc | None) -> None:
    if proc is not None:
        with _lock:
            _tracked.pop(proc, None)


def _signal(procs: Iterable[Proc], signum: int) -> None:
    for proc in procs:
        fields = _stat(proc.pid)
        if fields is None or not alive(proc):
            continue
        send = os.killpg if int(fields[2]) == proc.pid else os.kill  # a leader: its group too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            send(proc.pid, signum)
            if signum == signal.SIGTERM:  # a stopped process acts on SIGTERM once resumed
                send(proc.pid, signal.SIGCONT)


def _reap(procs: Iterable[Proc], popens: Iterable[subprocess.Popen[Any]]) -> None:
    """Collect exit statuses, so our ended children are gone rather than zombies: Popen's
    own, and orphans re-parented to us (never a child someone else waits for)."""
    for popen in popens:
        popen.poll()
    me = os.getpid()
    for proc in procs:
        fields = _stat(proc.pid)
        if fields is not None and fields[0] == "Z" and int(fields[1]) == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(proc.pid, os.WNOHANG)


def end(procs: set[Proc], popens: Sequence[subprocess.Popen[Any]] = (),
        grace_s: float = 10.0) -> None:  # fmt: skip
    """SIGTERM `procs` (their groups, when they lead one), SIGKILL what is left after
    `grace_s`; return once all are gone."""
    orphans = {p for p in procs if all(p.pid != popen.pid for popen in popens)}
    if grace_s > 0:
        _signal(procs, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            _reap(orphans, popens)
            if not any(alive(p) for p in procs):
                break
            time.sleep(0.02)
    _signal(procs, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap(orphans, popens)
        if not any(alive(p) for p in procs):
            break
        time.sleep(0.02)
    for popen in popens:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(1)


def stop(process: subprocess.Popen[Any], grace_s: float = 10.0) -> int | None:
    """End `process` and everything it started (SIGTERM, then SIGKILL after `grace_s`; 0:
    SIGKILL at once); its exit status. Safe to call twice, or after it exited."""
    procs = tree(process.pid) if process.poll() is None else set()
    # Its group outlives it (chromium's helpers): members that came to us as orphans. (The
    # group's id is not reused while a member lives.)
    procs |= {p for p in descendants([os.getpid()]) if _group(p) == process.pid}
    end(procs, [process], grace_s)
    with _lock:
        for key in [k for k, t in _tracked.items() if t.popen is process]:
            del _tracked[key]
    return process.returncode


@contextlib.contextmanager
def running(argv: Sequence[str], grace_s: float = 10.0,
            **popen: Any) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    process = spawn(argv, **popen)
    try:
        yield process
    finally:
        stop(process, grace_s)


def stop_all(grace_s: float = 5.0) -> list[str]:
    """The safety net: every registered process still running, and every live process below
    this one, with what each started; what it stopped, to be reported."""
    with _lock:
        tracked = list(_tracked.values())
        _tracked.clear()
    for item in tracked:
        if item.close is not None and alive(item.proc):
            with contextlib.suppress(Exception):
                item.close()
    roots = {t.proc for t in tracked if alive(t.proc)}
    procs = {p for p in descendants([os.getpid(), *(p.pid for p in roots)]) | roots if alive(p)}
    stopped = [str(p) for p in sorted(procs, key=lambda p: p.pid)]
    popens = [t.popen for t in tracked if t.popen is not None]
    if procs:
        end(procs, popens, grace_s)
    # And orphans that ended while they were ours (a subreaper's zombies): the run is over,
    # nobody else will wait for them.
    _reap(descendants([os.getpid()]), popens)
    return stopped


def become_subreaper() -> None:
    """Orphans of anything below this process come to it, not to init (Linux 3.4+)."""
    if _prctl is not None:
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
