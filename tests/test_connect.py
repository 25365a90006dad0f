"""`--redis` in its three forms (feeds/connect.py): one server, a cluster's seed nodes, and
Sentinel's master name. Sentinel runs for real here: a master, its replica and a Sentinel
started from the same server binary, and a failover that the board follows."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest
import redis
from click.testing import CliRunner

from feeds.connect import BadRedisUrl, parse_redis_url
from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from wallboard.cli.main import main
from wallboard.core.config import Config, FeedSection

pytestmark = pytest.mark.redis


def test_the_three_forms_parse() -> None:
    one = parse_redis_url("redis://127.0.0.1:6379/0")
    assert (one.mode, one.url) == ("server", "redis://127.0.0.1:6379/0")
    cluster = parse_redis_url("redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001")
    assert cluster.mode == "cluster"
    assert cluster.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001))
    assert (cluster.username, cluster.password) == ("u", "p@ss")
    sentinel = parse_redis_url("redis+sentinel://s1:26379,s2:26380/floor-hz1")
    assert (sentinel.mode, sentinel.master) == ("sentinel", "floor-hz1")
    assert sentinel.nodes == (("s1", 26379), ("s2", 26380))
    assert parse_redis_url("rediss+sentinel://s1:26379/m").tls


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://s1:26379", "name the master"),
    ("redis+sentinel://s1:26379/a/b", "name the master"),
    ("redis+cluster://h1:7000/0", "no path or database"),
    ("redis+cluster://h1", "'h1' is not host:port"),
    ("redis+cluster://h1:99999", "'h1:99999' is not host:port"),
    ("redis+cluster://h1:7000,", "'an empty node' is not host:port"),
    ("memcached://h1:11211", "the scheme must be"),
])  # fmt: skip
def test_a_bad_url_says_which_part(url: str, says: str) -> None:
    with pytest.raises(BadRedisUrl, match=says) as caught:
        parse_redis_url(url)
    assert str(caught.value).startswith(url)


def test_a_command_refuses_a_bad_url_naming_the_option() -> None:
    result = CliRunner().invoke(main, ["snapshot", "--json", "--redis", "redis+sentinel://h:1"])
    assert result.exit_code == 2
    assert "Invalid value for '--redis'" in result.output and "name the master" in result.output


class SentinelSet(NamedTuple):
    master: EmbeddedServer
    replica: EmbeddedServer
    sentinel: EmbeddedServer

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/floor"

    def master_port(self) -> int | None:
        client = redis.Redis.from_url(self.sentinel.url, socket_timeout=1)
        try:
            addr = command(client, "SENTINEL", "get-master-addr-by-name", "floor")
            return int(addr[1]) if addr else None
        finally:
            client.close()


@pytest.fixture
def sentinel_set() -> Iterator[SentinelSet]:
    servers: list[EmbeddedServer] = []
    try:
        master = EmbeddedServer()
        servers.append(master)
        master.start()
        replica = EmbeddedServer(extra_args=["--replicaof", "127.0.0.1", str(master.port)])
        servers.append(replica)
        replica.start()
        sentinel = EmbeddedServer(sentinel=(
            f"sentinel monitor floor 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds floor 500\n"
            "sentinel failover-timeout floor 3000"))  # fmt: skip
        servers.append(sentinel)
        sentinel.start()
        yield SentinelSet(master, replica, sentinel)
    finally:
        for server in reversed(servers):
            server.stop()


def wait(condition: Callable[[], Any], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)


async def await_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.02)


def command(client: redis.Redis, *args: Any) -> Any:
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def offer(contact: str, ts: int) -> dict[str, str]:
    return {"type": "contact.offered", "ts": str(ts), "contact": contact, "queue": "q1",
            "channel": "chat"}  # fmt: skip


def test_snapshot_reads_through_sentinel(sentinel_set: SentinelSet, tmp_path: Path) -> None:
    client = redis.Redis.from_url(sentinel_set.master.url, decode_responses=True)
    now = time.time_ns() // 1_000_000
    for i in range(3):
        client.xadd("wallboard:events", offer(f"c{i}", now - 1000 + i))  # type: ignore[arg-type]
    result = CliRunner().invoke(main, ["snapshot", "--json", "--redis", sentinel_set.url])
    assert result.exit_code == 0, result.output
    snap = msgspec.json.decode(result.stdout_bytes)
    assert [q["waiting"] for q in snap["queues"]] == [3]


async def test_the_live_board_follows_a_sentinel_failover(sentinel_set: SentinelSet) -> None:
    """The master dies; Sentinel promotes the replica; the board, connected by the master's
    name, reconnects to the new master and applies what is written there, without counting
    the replicated entries twice."""
    old = redis.Redis.from_url(sentinel_set.master.url, decode_responses=True)
    now = time.time_ns() // 1_000_000
    for i in range(5):
        old.xadd("wallboard:events", offer(f"before{i}", now - 5000 + i))  # type: ignore[arg-type]
    command(old, "WAIT", 1, 2000)  # on the replica before the master dies
    feed = LiveFeed(sentinel_set.url, ["wallboard:events"],
                    Config(feed=FeedSection(backoff_max_s=0.5)))  # fmt: skip
    task = asyncio.create_task(feed.run())
    try:
        await await_for(lambda: feed.state.events_applied == 5, 10, "the backfill")
        sentinel_set.master.kill()
        replica_port = sentinel_set.replica.port
        await asyncio.to_thread(wait, lambda: sentinel_set.master_port() == replica_port, 20,
                                "Sentinel promotes the replica")  # fmt: skip
        promoted = redis.Redis.from_url(sentinel_set.replica.url, decode_responses=True)
        await asyncio.to_thread(
            wait, lambda: command(promoted, "ROLE")[0] == "master", 10, "a master")
        for i in range(3):
            promoted.xadd("wallboard:events", offer(f"after{i}", now + i))  # type: ignore[arg-type]
        await await_for(lambda: feed.state.events_applied == 8 and
                        feed.status.state == "connected", 20, "the writes after the failover")
        assert sorted(feed.state.queues["q1"].waiting) == sorted(
            [f"before{i}" for i in range(5)] + [f"after{i}" for i in range(3)])
        assert feed.state.events_duplicate == 0
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=6.0)
        await feed.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def cluster() -> Iterator[list[EmbeddedServer]]:
    """Three masters of a Redis Cluster from the same binary, the slots split in thirds."""
    nodes: list[EmbeddedServer] = []
    try:
        for _ in range(3):
            node = EmbeddedServer(extra_args=["--cluster-enabled", "yes", "--cluster-config-file",
                                              "nodes.conf", "--cluster-node-timeout", "2000"])
            nodes.append(node)
            node.start()
        clients = [redis.Redis.from_url(n.url) for n in nodes]
        for client, (low, high) in zip(clients, ((0, 5460), (5461, 10922), (10923, 16383)),
                                       strict=True):  # fmt: skip
            command(client, "CLUSTER", "ADDSLOTSRANGE", low, high)
        for client in clients[1:]:
            command(client, "CLUSTER", "MEET", "127.0.0.1", nodes[0].port)
        wait(lambda: all(b"cluster_state:ok" in command(c, "CLUSTER", "INFO")
                         for c in clients), 20, "the cluster is ok")  # fmt: skip
        for client in clients:
            client.close()
        yield nodes
    finally:
        for node in reversed(nodes):
            node.stop()


async def test_snapshot_and_live_board_through_a_cluster(cluster: list[EmbeddedServer]) -> None:
    """Given one seed node, the client finds the node that owns the stream's slot."""
    url = f"redis+cluster://127.0.0.1:{cluster[0].port}"
    from feeds.connect import sync_client

    writer = sync_client(url, decode_responses=True)
    now = time.time_ns() // 1_000_000
    for i in range(3):
        writer.xadd("wallboard:events", offer(f"c{i}", now - 1000 + i))  # type: ignore[arg-type]
    result = await asyncio.to_thread(CliRunner().invoke, main,
                                     ["snapshot", "--json", "--redis", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [q["waiting"] for q in msgspec.json.decode(result.stdout_bytes)["queues"]] == [3]
    feed = LiveFeed(url, ["wallboard:events"], Config(feed=FeedSection(backoff_max_s=0.5)))
    task = asyncio.create_task(feed.run())
    try:
        await await_for(lambda: feed.state.events_applied == 3, 10, "the backfill")
        writer.xadd("wallboard:events", offer("c3", now + 1))  # type: ignore[arg-type]
        await await_for(lambda: feed.state.events_applied == 4, 5, "the follow")
        assert feed.status.state == "connected"
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=6.0)
        await feed.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        writer.close()
