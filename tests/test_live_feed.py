"""The live feed against the real server: backfill, follow, reconnect, gap, reset, day change.

Times are hand-worked in Asia/Shanghai (the default zone, business day from 04:00). Tests with
a fixed clock write entries with explicit IDs at the events' own times, as a producer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import redis
from redis.asyncio.connection import SSLConnection

from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from feeds.redis_window import read_streams
from tests.scenario import ms
from wallboard.core.config import BoardSection, Config, ConfigError, FeedSection, load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.snapshot import build_snapshot, to_json
from wallboard.core.timeutil import to_local

pytestmark = pytest.mark.redis


class FixedClock:
    def __init__(self, text: str) -> None:
        self.now = ms(text)

    def __call__(self) -> int:
        return self.now


def quick(**feed: Any) -> Config:
    """Defaults, with a short reconnect backoff so tests recover fast."""
    settings: dict[str, Any] = {"backoff_max_s": 0.5, **feed}
    return Config(feed=FeedSection(**settings))


async def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until the condition holds; the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


@contextlib.asynccontextmanager
async def running(feed: LiveFeed) -> AsyncIterator[LiveFeed]:
    task = asyncio.create_task(feed.run())
    try:
        await wait_for(lambda: feed.status.state == "connected" or task.done(), 10, "connected")
        yield feed
    finally:
        await stop(feed, task)


async def stop(feed: LiveFeed, task: asyncio.Task[None]) -> None:
    """As the app stops it: cancel, then close."""
    task.cancel()
    await asyncio.wait([task], timeout=6.0)  # at worst one socket timeout
    await feed.close()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def add(client: redis.Redis, key: str, fields: dict[str, Any], at_ms: int | None = None) -> str:
    """XADD; with `at_ms` the ID carries the event's time, as a producer stamping IDs would."""
    entry_id = "*" if at_ms is None else f"{at_ms}-*"
    return str(client.xadd(key, {k: str(v) for k, v in fields.items()}, id=entry_id))


def offered(contact: str, ts: int, queue: str = "pre_sales", **more: Any) -> dict[str, Any]:
    return {"type": "contact.offered", "ts": ts, "contact": contact, "queue": queue,
            "channel": "chat", **more}  # fmt: skip


def answered(contact: str, agent: str, ts: int) -> dict[str, Any]:
    return {"type": "contact.answered", "ts": ts, "contact": contact, "agent": agent}


def agent_state(agent: str, state: str, ts: int) -> dict[str, Any]:
    return {"type": "agent.state", "ts": ts, "agent": agent, "state": state}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def snapshot_json(state: BoardState) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(to_json(build_snapshot(state)))
    return decoded


def hms(epoch_ms: int) -> str:
    return to_local(epoch_ms, Config().tz).strftime("%H:%M:%S")


def id_ms(entry_id: str) -> int:
    return int(entry_id.partition("-")[0])


# ---- following ------------------------------------------------------------------------------


async def test_entries_written_are_applied_within_a_second(
        redis_url: str, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    async with running(LiveFeed(redis_url, [stream_key], quick())) as feed:
        assert feed.status.error is None
        assert feed.state.events_applied == 0  # the key does not exist yet: normal, waited for
        now = now_ms()
        add(redis_client, stream_key, agent_state("a1", "available", now))
        add(redis_client, stream_key, offered("c1", now))
        add(redis_client, stream_key, answered("c1", "a1", now + 4000))
        took = await wait_for(lambda: feed.state.events_applied == 3, 1.0, "3 applied")
        assert took < 1.0
        snap = build_snapshot(feed.state)
        assert snap.agents[0].handled_today == 1
        assert snap.queues[0].today.answered_within == 1  # answered after 4 s
        status = feed.status
        assert status.state == "connected"
        assert status.last_data_ms is not None
        assert status.events_per_s == pytest.approx(0.3)  # 3 entries over the 10 s window
        assert status.lag_s is not None and status.lag_s < 0  # newest event 4 s ahead of now
        assert status.source.endswith(stream_key)


async def test_backfill_knows_yesterday_evening_and_the_days_counts(
        redis_url: str, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    # A board started at 15:00 on 11-11. The business day began at 04:00; the backfill reads
    # from 04:00 on 11-10 (24 h carry-over) minus 5 min of ID skew.
    clock = FixedClock("2026-11-11 15:00:00")
    history = [
        agent_state("a4", "available", ms("2026-11-09 10:00")),  # before the carry-over: unread
        agent_state("a3", "available", ms("2026-11-10 18:00")),
        agent_state("a1", "available", ms("2026-11-10 20:00")),  # still logged in from last night
        offered("c0", ms("2026-11-10 22:00")),
        answered("c0", "a1", ms("2026-11-10 22:00:10")),  # yesterday's: not in today's counts
        agent_state("a3", "logged_out", ms("2026-11-10 23:00")),
        offered("c1", ms("2026-11-10 23:30")),  # still waiting since last night
        agent_state("a2", "available", ms("2026-11-11 09:00")),
        offered("c2", ms("2026-11-11 10:00")),
        answered("c2", "a2", ms("2026-11-11 10:00:20")),  # 20 s: within 30 s
        offered("c3", ms("2026-11-11 10:01")),
        offered("c4", ms("2026-11-11 10:02")),
        answered("c3", "a1", ms("2026-11-11 10:02:40")),  # 100 s
        # Stamped 30 s after the board's clock (a producer clock ahead): still applied.
        agent_state("a2", "break", ms("2026-11-11 15:00:30")),
    ]
    for fields in history:
        add(redis_client, stream_key, fields, at_ms=int(fields["ts"]))
    async with running(LiveFeed(redis_url, [stream_key], quick(), clock=clock)) as feed:
        state = feed.state
        assert state.events_applied == 13  # all but a4's
        snap = build_snapshot(state)
        agents = {agent.agent: agent for agent in snap.agents}
        assert sorted(agents) == ["a1", "a2", "a3"]
        assert agents["a1"].state == "available"
        assert agents["a1"].handled_today == 1  # c3 only
        assert agents["a2"].state == "break"
        assert agents["a2"].handled_today == 1
        assert agents["a3"].state == "logged_out"
        assert snap.floor.staffed == 2
        [queue] = snap.queues
        assert (queue.today.offered, queue.today.answered, queue.today.answered_within) == (3, 2, 1)
        assert queue.waiting == 2  # c1 and c4
        # c1 waits from 23:30 to the newest time the board knows, 15:00:30: 15 h 30 min 30 s.
        assert queue.longest_wait_s == 55_830.0
        assert feed.status.state == "connected"


async def test_multiple_streams_backfill_and_follow_in_one_read(
        redis_url: str, redis_client: redis.Redis) -> None:  # fmt: skip
    keys = [f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"]
    try:
        now = now_ms()
        add(redis_client, keys[0], offered("c1", now - 60_000))
        async with running(LiveFeed(redis_url, keys, quick())) as feed:
            assert feed.state.events_applied == 1
            add(redis_client, keys[1], offered("c2", now, queue="after_sales"))
            add(redis_client, keys[0], answered("c1", "a1", now))
            await wait_for(lambda: feed.state.events_applied == 3, 1.0, "3 applied")
            assert sorted(feed.state.queues) == ["after_sales", "pre_sales"]
    finally:
        redis_client.delete(*keys)


# ---- dead and hung servers --------------------------------------------------------------------


async def test_killed_server_goes_stale_then_recovers_without_double_counting(
        own_server: EmbeddedServer) -> None:  # fmt: skip
    url = own_server.url
    client = redis.Redis.from_url(url, decode_responses=True)
    key = "wallboard:events"
    now = now_ms()
    async with running(LiveFeed(url, [key], quick())) as feed:
        for n in range(1, 6):
            add(client, key, offered(f"c{n}", now, id=f"k{n}"))
        await wait_for(lambda: feed.state.events_applied == 5, 1.0, "5 applied")

        own_server.kill()
        killed = time.monotonic()
        await wait_for(lambda: feed.status.state in ("reconnecting", "stale")
                       and feed.status.error is not None, 3.0, "reconnecting")  # fmt: skip
        await wait_for(lambda: feed.status.state == "stale", 3.5 - (time.monotonic() - killed),
                       "stale about 3 s after the server died")  # fmt: skip
        status = feed.status
        assert status.since_ms is not None
        assert status.error is not None and "Error" in status.error  # the connection error

        own_server.start()  # same port, empty: the server kept nothing
        client = redis.Redis.from_url(url, decode_responses=True)
        # Three new contacts, and the producer re-sends its last two (same idempotency keys).
        for n in (6, 7, 8, 4, 5):
            add(client, key, offered(f"c{n}", now, id=f"k{n}"))
        await wait_for(lambda: feed.state.events_applied + feed.state.events_duplicate == 10,
                       10.0, "recovered")  # fmt: skip
        assert feed.state.events_applied == 8  # each written event once
        assert feed.state.events_duplicate == 2  # the two re-sent ones
        await wait_for(lambda: feed.status.state == "connected", 2.0, "connected")
        assert feed.status.error is None
        assert len(feed.state.queues["pre_sales"].waiting) == 8
    client.close()


async def test_hung_server_goes_stale_within_3_s(own_server: EmbeddedServer) -> None:
    assert own_server.process is not None
    pid = own_server.process.pid
    client = redis.Redis.from_url(own_server.url, decode_responses=True)
    async with running(LiveFeed(own_server.url, ["s"], quick())) as feed:
        os.kill(pid, signal.SIGSTOP)  # accepts nothing, answers nothing, closes nothing
        try:
            took = await wait_for(lambda: feed.status.state == "stale", 3.5, "stale")
            assert took <= 3.5
        finally:
            os.kill(pid, signal.SIGCONT)
        add(client, "s", offered("c1", now_ms()))
        await wait_for(lambda: feed.state.events_applied == 1, 10.0, "applied after SIGCONT")
        await wait_for(lambda: feed.status.state == "connected", 2.0, "connected")
    client.close()


# ---- gap and reset ---------------------------------------------------------------------------


async def test_trim_while_disconnected_shows_the_gap_and_rebuilds(
        redis_url: str, redis_client: redis.Redis, stream_key: str,
        feed_user: tuple[str, str]) -> None:  # fmt: skip
    user, password = feed_user
    assert redis_url.startswith("redis://")
    url = redis_url.replace("redis://", f"redis://{user}:{password}@", 1)
    now = now_ms()
    ids = [add(redis_client, stream_key, offered(f"c{n}", now)) for n in range(1, 11)]
    async with running(LiveFeed(url, [stream_key], quick())) as feed:
        assert feed.state.events_applied == 10
        assert password not in feed.status.source

        redis_client.acl_setuser(user, enabled=False)
        redis_client.client_kill_filter(user=user)
        await wait_for(lambda: "AuthenticationError" in (feed.status.error or ""), 3.0,
                       "locked out")  # fmt: skip
        assert feed.status.state in ("reconnecting", "stale")
        assert password not in (feed.status.error or "")
        # While the feed is out: ten more, and a trim to the newest five, so c11..c15 are
        # never read.
        ids += [add(redis_client, stream_key, offered(f"c{n}", now)) for n in range(11, 21)]
        redis_client.xtrim(stream_key, maxlen=5, approximate=False)
        redis_client.acl_setuser(user, enabled=True)

        await wait_for(lambda: (feed.status.notice or "").startswith("Gap"), 10.0, "gap notice")
        await wait_for(lambda: feed.status.state == "connected", 2.0, "connected")
        notice = feed.status.notice or ""
        # From the last entry read (c10) to the last one trimmed unread (c15).
        assert f"between {hms(id_ms(ids[9]))} and {hms(id_ms(ids[14]))} were trimmed" in notice
        assert re.search(r"rebuilt at \d\d:\d\d:\d\d from what the stream holds$", notice)

        state = feed.state
        assert state.events_applied == 5
        assert sorted(state.queues["pre_sales"].waiting) == [f"c{n}" for n in range(16, 21)]
        # The same board as a fresh fold of what the stream holds.
        at = now_ms()
        state.advance(at)
        reference = BoardState(state.config)
        fold_until(reference, read_streams(redis_client, [stream_key]), at)
        assert snapshot_json(state) == snapshot_json(reference)


async def test_recreated_stream_shows_the_reset_notice_and_rebuilds(
        redis_url: str, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    now = now_ms()
    for n in range(1, 4):
        add(redis_client, stream_key, offered(f"c{n}", now))
    async with running(LiveFeed(redis_url, [stream_key], quick(check_interval_s=0.1))) as feed:
        assert feed.state.events_applied == 3
        # Deleted and recreated with older IDs (e.g. restored from an older copy): XREAD from
        # our last ID would never return these.
        redis_client.delete(stream_key)
        hour_ago = now - 3_600_000
        add(redis_client, stream_key, offered("r1", hour_ago), at_ms=hour_ago)
        add(redis_client, stream_key, offered("r2", hour_ago + 1000), at_ms=hour_ago + 1000)
        await wait_for(lambda: (feed.status.notice or "").startswith("Reset"), 3.0, "reset")
        notice = feed.status.notice or ""
        newest = hms(hour_ago + 1000)
        assert f"its newest entry, {newest}, is older than the newest one known" in notice
        await wait_for(lambda: feed.state.events_applied == 2, 2.0, "rebuilt")
        assert sorted(feed.state.queues["pre_sales"].waiting) == ["r1", "r2"]
        add(redis_client, stream_key, offered("r3", now_ms()))
        await wait_for(lambda: feed.state.events_applied == 3, 1.0, "following again")


# ---- the business day ------------------------------------------------------------------------


async def test_crossing_the_day_boundary_equals_a_fresh_start(
        redis_url: str, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    clock = FixedClock("2026-11-11 03:59:00")
    before = [
        agent_state("a1", "available", ms("2026-11-10 20:00")),
        offered("c1", ms("2026-11-10 23:59")),
        answered("c1", "a1", ms("2026-11-11 03:58")),
    ]
    after = [
        offered("c2", ms("2026-11-11 04:00:05")),
        answered("c2", "a1", ms("2026-11-11 04:00:15")),
        offered("c3", ms("2026-11-11 04:00:30")),
        {"type": "bot.resolved", "ts": ms("2026-11-11 04:00:40"), "contact": "b1",
         "channel": "chat"},
    ]
    for fields in before:
        add(redis_client, stream_key, fields, at_ms=int(fields["ts"]))
    async with running(LiveFeed(redis_url, [stream_key], quick(), clock=clock)) as feed:
        snap = build_snapshot(feed.state)
        assert snap.business_day == "2026-11-10"
        assert snap.agents[0].handled_today == 1  # c1, answered at 03:58
        for fields in after:
            add(redis_client, stream_key, fields, at_ms=int(fields["ts"]))
        await wait_for(lambda: feed.state.events_applied == 7, 1.0, "7 applied")
        clock.now = ms("2026-11-11 04:01:00")
        feed.state.advance(clock())  # as the app does on its timer
        running_board = snapshot_json(feed.state)

    fresh = LiveFeed(redis_url, [stream_key], quick(), clock=clock)
    async with running(fresh):
        fresh_board = snapshot_json(fresh.state)
    assert running_board["business_day"] == "2026-11-11"
    [queue] = running_board["queues"]
    assert (queue["today"]["offered"], queue["today"]["answered"], queue["waiting"]) == (2, 1, 1)
    assert running_board["agents"][0]["handled_today"] == 1  # c2 only: c1 was yesterday
    assert running_board["bots"]["resolved_today"] == 1
    assert running_board == fresh_board


# ---- configuration and safety ---------------------------------------------------------------


async def test_bad_password_is_an_error_without_the_password(
        redis_url: str, feed_user: tuple[str, str]) -> None:  # fmt: skip
    user, _ = feed_user
    url = redis_url.replace("redis://", f"redis://{user}:not-the-s3cret@", 1)
    feed = LiveFeed(url, ["s"], quick())
    task = asyncio.create_task(feed.run())
    try:
        await wait_for(lambda: feed.status.error is not None, 3.0, "error")
        status = feed.status
        assert status.state == "connecting"  # never connected: no data to call stale
        assert "AuthenticationError" in (status.error or "")
        assert "not-the-s3cret" not in (status.error or "") + status.source
        assert status.source.startswith(f"redis://{user}:***@")
    finally:
        await stop(feed, task)


def test_feed_section_is_checked(tmp_path: Any) -> None:
    path = tmp_path / "wallboard.toml"
    path.write_text("[feed]\nblock_ms = 6000\nsocket_timeout_s = 5.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`feed.socket_timeout_s`: must be longer"):
        load_config(path)
    path.write_text("[feed]\nstale_after_s = 2\nblock_ms = 500\n", encoding="utf-8")
    assert load_config(path).feed.stale_after_s == 2.0
    assert Config(board=BoardSection()).feed.block_ms == 1000


async def test_tls_url_gives_a_tls_client_with_credentials_and_no_retries() -> None:
    # The embedded server has no TLS: this checks the client the feed builds, not a handshake.
    feed = LiveFeed("rediss://board:pa%24s@redis.example:6380/0?ssl_cert_reqs=none", ["s"],
                    quick())  # fmt: skip
    client = feed._connect()
    pool = client.connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("board", "pa$s")
    assert kwargs["retry"].get_retries() == 0  # errors surface at once; the feed reconnects
    assert (kwargs["socket_timeout"], kwargs["ssl_cert_reqs"]) == (5.0, "none")
    assert feed.status.source == "rediss://board:***@redis.example:6380/0?ssl_cert_reqs=none s"
    await feed.close()


async def test_complaints_written_four_days_apart_show_on_a_board_started_today(
        redis_url: str, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    # The complaints stream is read back max(72 h, 7 x 24 h) + 24 h = 8 days, whatever the
    # business-day backfill (from 11-10 04:00 here): both complaints show, the contact of
    # 11-07 on the contact stream does not.
    from wallboard.core.config_complaints import ComplaintsSection

    cases = f"{stream_key}:cases"
    clock = FixedClock("2026-11-11 15:00:00")
    add(redis_client, stream_key, offered("old", ms("2026-11-07 10:00")), ms("2026-11-07 10:00"))
    old: dict[str, Any] = {"type": "complaint.opened", "ts": ms("2026-11-07 10:00"),
                           "complaint": "k1", "key": "true", "department": "warehouse"}
    new: dict[str, Any] = {"type": "complaint.opened", "ts": ms("2026-11-11 10:00"),
                           "complaint": "k2", "key": "true", "department": "finance"}
    add(redis_client, cases, old, at_ms=int(old["ts"]))
    add(redis_client, cases, new, at_ms=int(new["ts"]))
    config = Config(feed=FeedSection(backoff_max_s=0.5),
                    complaints=ComplaintsSection(stream=cases))  # fmt: skip
    try:
        feed = LiveFeed(redis_url, config.with_complaints([stream_key]), config, clock=clock)
        async with running(feed):
            complaints = snapshot_json(feed.state)["complaints"]
            # k1: deadline 11-10 10:00 passed 29 h ago, never called back: overdue 104,400 s.
            # k2: opened today, deadline 11-14 10:00 (67 h away): open, not due within 24 h.
            assert (complaints["overdue"], complaints["oldest_overdue_s"]) == (1, 104_400.0)
            assert (complaints["open_key"], complaints["due_24h"]) == (1, 0)
            assert complaints["opened_today"] == 1
            assert [d["name"] for d in complaints["by_department"]] == ["finance", "warehouse"]
            assert snapshot_json(feed.state)["queues"] == []  # the 11-07 contact: not read
            # A callback now, followed live, decides k2 in time.
            add(redis_client, cases, {"type": "complaint.callback",
                                      "ts": ms("2026-11-11 14:00"), "complaint": "k2"})
            await wait_for(lambda: feed.state.events_applied == 3, 2.0, "callback applied")
            complaints = snapshot_json(feed.state)["complaints"]
            assert complaints["today"] == {"decided": 1, "in_time": 1, "callback_rate": 1.0}
    finally:
        redis_client.delete(cases)
