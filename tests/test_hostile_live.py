"""The live feed against a hostile server (issue 14): a stalled server shows STALE within
`stale_after_s`, and a stream restored from an older copy while a producer keeps writing is
seen as a reset, the board refolded from what the stream holds.

All against real servers: a paused one (CLIENT PAUSE), and one restarted with kill -9 from an
RDB saved before the board read its last entries.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from feeds.embedded import EmbeddedServer, free_port
from feeds.live import LiveFeed
from tests.test_live_feed import add, now_ms, offered, quick, running, wait_for
from wallboard.core.config import Config
from wallboard.core.snapshot import build_snapshot

pytestmark = pytest.mark.redis

# ---- staleness under a stall ------------------------------------------------------------------

STALE_AFTER_S = 1.5
BLOCK_MS = 1000
# What the status may lag the bound by: the test's 10 ms polling and the loop's scheduling on a
# busy machine. Well below one XREAD block (1 s), by which the status used to be late when the
# pause caught a read waiting in its block.
MARGIN_S = 0.5
PAUSE_MS = 2500  # longer than the bound and its margin


def stall_config() -> Config:
    return quick(stale_after_s=STALE_AFTER_S, block_ms=BLOCK_MS)


def feed_blocked_in_xread(client: redis.Redis) -> bool:
    """The board's connection is waiting in its XREAD BLOCK (flag `b` in CLIENT LIST)."""
    return any(entry.get("name") == "wallboard-live" and "b" in entry.get("flags", "")
               for entry in client.client_list())  # fmt: skip


async def test_a_quiet_server_stays_live_for_many_blocks(own_server: EmbeddedServer) -> None:
    """No false STALE on a healthy stream with nothing to read: a read that waited its whole
    block is followed by a PING, so the last success is never older than one block and a
    round trip (1 s here, under the 1.5 s bound). Before that PING, the last success was the
    previous read's send, up to two blocks back: stale about half of every block."""
    key = "wallboard:events"
    async with running(LiveFeed(own_server.url, [key], stall_config())) as feed:
        await wait_for(lambda: feed.status.state == "connected", 5.0, "connected")
        states: set[str] = set()
        start = time.monotonic()
        while time.monotonic() - start < 4 * BLOCK_MS / 1000:  # four quiet blocks, watched
            states.add(feed.status.state)
            await asyncio.sleep(0.02)
        assert states == {"connected"}


async def test_a_paused_server_shows_stale_within_stale_after_s_then_live_again(
        own_server: EmbeddedServer) -> None:  # fmt: skip
    client = redis.Redis.from_url(own_server.url, decode_responses=True)
    key = "wallboard:events"
    try:
        async with running(LiveFeed(own_server.url, [key], stall_config())) as feed:
            for run in range(3):
                await wait_for(lambda: feed.status.state == "connected", 5.0, "connected")
                # The worst moment: the board's read has just begun its block. The server still
                # answers that read when its block ends, in the pause, but takes nothing after.
                await wait_for(lambda: feed_blocked_in_xread(client), 3.0, "read blocked")
                paused, paused_ms = time.monotonic(), now_ms()
                client.client_pause(PAUSE_MS)
                took = await wait_for(lambda: feed.status.state == "stale", PAUSE_MS / 1000,
                                      "stale during the pause")  # fmt: skip
                assert took <= STALE_AFTER_S + MARGIN_S, f"run {run}: stale after {took:.2f} s"
                # Not before the bound either: the read in flight was sent at most one block
                # before the pause.
                assert took >= STALE_AFTER_S - BLOCK_MS / 1000
                # STALE since the read in flight was sent, plus the bound (20 ms of rounding).
                since = feed.status.since_ms
                assert since is not None
                assert paused_ms + (STALE_AFTER_S * 1000 - BLOCK_MS) - 20 <= since
                assert since <= paused_ms + STALE_AFTER_S * 1000 + 20

                # The pause ends on its own (CLIENT UNPAUSE would wait for it too); then live.
                left_s = PAUSE_MS / 1000 - (time.monotonic() - paused)
                await wait_for(lambda: feed.status.state == "connected",
                               left_s + BLOCK_MS / 1000 + 2.0, "live after the pause")  # fmt: skip
                add(client, key, offered(f"c{run}", now_ms()))
                await wait_for(lambda: feed.state.events_applied == run + 1, 2.0,  # noqa: B023
                               "an entry written after the pause is applied")  # fmt: skip
                assert feed.status.error is None
    finally:
        client.close()


# ---- a restore from an older RDB --------------------------------------------------------------


@pytest.fixture
def rdb_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of the test's own that persists to `tmp_path`: SAVE writes the RDB there and a
    restart on the same port loads it."""
    server = EmbeddedServer(port=free_port(), data_dir=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Producer:
    """A producer thread writing offers, about 200 a second, until stopped."""

    def __init__(self, url: str, key: str) -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self.key = key
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        while not self._stop.is_set():
            try:
                add(self.client, self.key, offered(f"p{uuid.uuid4().hex[:12]}", now_ms()))
                self.written += 1
            except redis.RedisError:
                pass  # the server is not back yet: the producer keeps trying, as they do
            self._stop.wait(0.005)  # about 200 a second

    def __enter__(self) -> Producer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.close()


def offered_today(feed: LiveFeed) -> int:
    return sum(queue.today.offered for queue in build_snapshot(feed.state).queues)


def board_user(client: redis.Redis, name: str, password: str) -> None:
    client.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"],
                       channels=["*"], commands=["+@all"], reset=True)  # fmt: skip


async def test_a_restore_from_an_older_rdb_is_a_reset_even_when_the_producer_writes_first(
        rdb_server: EmbeddedServer) -> None:  # fmt: skip
    """kill -9 and a restart from an RDB saved before the board read its last 15 entries, with
    a producer writing from the moment the server is back. The board is kept out (its server
    user is not in the RDB) until the producer has written: exactly the order that used to
    hide the reset (the stream's last ID is then newer than any the board knew)."""
    url = rdb_server.url
    user, password = "board", f"pw-{uuid.uuid4().hex}"
    board_url = url.replace("redis://", f"redis://{user}:{password}@", 1)
    for run in range(5):
        key = f"wallboard:events:{run}"
        admin = redis.Redis.from_url(url, decode_responses=True)
        try:
            board_user(admin, user, password)
            now = now_ms()
            for n in range(20):
                add(admin, key, offered(f"saved{n}", now))
            async with running(LiveFeed(board_url, [key], quick())) as feed:
                assert feed.state.events_applied == 20
                admin.save()  # the older copy: 20 entries
                for n in range(15):
                    add(admin, key, offered(f"lost{n}", now))
                await wait_for(lambda: feed.state.events_applied == 35, 2.0, "35 read")

                rdb_server.kill()
                await wait_for(lambda: feed.status.error is not None, 3.0, "disconnected")
                rdb_server.start()  # same port, from the RDB; the board's user is not in it
                admin.close()
                admin = redis.Redis.from_url(url, decode_responses=True)
                assert admin.xlen(key) == 20  # the copy, without the 15 the board read
                with Producer(url, key) as producer:
                    await wait_for(lambda: producer.written >= 5, 5.0, "producer writing")
                    board_user(admin, user, password)  # now the board may reconnect
                    await wait_for(lambda: (feed.status.notice or "").startswith("Reset"),
                                   10.0, f"run {run}: the reset seen")  # fmt: skip
                assert "is no longer in it" in (feed.status.notice or "")
                held = admin.xlen(key)
                assert held >= 25
                await wait_for(lambda: feed.state.events_applied == held, 5.0,  # noqa: B023
                               "the stream's entries, each once")  # fmt: skip
                assert offered_today(feed) == held
                assert feed.state.events_duplicate == 0
                await wait_for(lambda: feed.status.state == "connected", 2.0, "connected")
        finally:
            admin.close()


def checks_run(client: redis.Redis) -> int:
    """XINFO STREAM calls the server has served (the feed's checks; nobody else asks)."""
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_xinfo|stream", {}).get("calls", 0))


async def test_a_stream_restored_under_a_connected_board_is_seen_by_the_periodic_check(
        own_server: EmbeddedServer) -> None:  # fmt: skip
    """The same without a reconnect (a proxy that keeps the board's connection, say): the key
    restored from an older copy (RESTORE of a DUMP) and a new entry added in one transaction.
    The board's waiting XREAD returns the new entry before its next check can look, so the
    last entry read is there; the one it read at its previous check is not."""
    client = redis.Redis.from_url(own_server.url, decode_responses=True)
    raw = redis.Redis.from_url(own_server.url)  # DUMP's payload is bytes
    key = "wallboard:events"
    now = now_ms()
    try:
        for n in range(10):
            add(client, key, offered(f"saved{n}", now))
        copy = raw.dump(key)
        assert isinstance(copy, bytes)
        config = quick(check_interval_s=0.1, block_ms=100, stale_after_s=1.0)
        async with running(LiveFeed(own_server.url, [key], config)) as feed:
            for n in range(5):
                add(client, key, offered(f"lost{n}", now))
            await wait_for(lambda: feed.state.events_applied == 15, 2.0, "15 read")
            # Two checks begun after the 15 were read: the second saw the stream with them.
            checks = checks_run(client)
            await wait_for(lambda: checks_run(client) >= checks + 2, 3.0, "checked")
            with raw.pipeline(transaction=True) as tx:
                tx.restore(key, 0, copy, replace=True)
                tx.xadd(key, {k: str(v) for k, v in offered("new", now_ms()).items()})
                tx.execute()
            await wait_for(lambda: (feed.status.notice or "").startswith("Reset"), 3.0, "reset")
            await wait_for(lambda: feed.state.events_applied == 11, 2.0, "refolded")
            assert offered_today(feed) == client.xlen(key) == 11
            assert feed.state.events_duplicate == 0
    finally:
        raw.close()
        client.close()
