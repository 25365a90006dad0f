"""The board end to end with the real server: what is written appears on the screen within a
second; a killed server shows STALE within 3 s and the board recovers without counting an
event twice; a trimmed stream shows the gap notice in the header (issue 3)."""

from __future__ import annotations

import time

import pytest
import redis

from feeds.embedded import EmbeddedServer
from feeds.live import LiveFeed
from tests.test_live_feed import add, now_ms, offered, quick, wait_for
from wallboard.app.board import WallboardApp
from wallboard.app.sources import wall_clock

pytestmark = pytest.mark.redis
KEY = "wallboard:events"


def waiting_on_screen(app: WallboardApp, queue: str) -> int | None:
    """The waiting count the tiles were last given (the snapshot the screen shows)."""
    snap = app.snapshot
    found = [q.waiting for q in snap.queues if q.queue == queue] if snap else []
    return found[0] if found else None


def header(app: WallboardApp) -> str:
    return str(app.header.render())


async def test_written_events_show_then_stale_then_recovery(
        own_server: EmbeddedServer) -> None:  # fmt: skip
    url = own_server.url
    client = redis.Redis.from_url(url, decode_responses=True)
    config = quick()
    feed = LiveFeed(url, config.with_control([KEY]), config, clock=wall_clock)
    app = WallboardApp(feed, config, wall_clock)
    async with app.run_test(size=(120, 34)):
        await wait_for(lambda: "LIVE" in header(app), 10, "live")
        now = now_ms()
        written = time.monotonic()
        for n in range(1, 6):
            add(client, KEY, offered(f"c{n}", now, id=f"k{n}"))
        await wait_for(lambda: waiting_on_screen(app, "pre_sales") == 5, 1.0,
                       "5 waiting on the screen within a second")  # fmt: skip
        assert time.monotonic() - written < 1.0

        own_server.kill()
        killed = time.monotonic()
        await wait_for(lambda: "STALE since" in header(app), 3.6,
                       "STALE in the header about 3 s after the server died")  # fmt: skip
        assert time.monotonic() - killed <= 3.6
        assert "numbers are frozen, not live" in header(app)

        own_server.start()  # same port, empty
        client = redis.Redis.from_url(url, decode_responses=True)
        for n in (6, 7, 8, 4, 5):  # three new, two re-sent by the producer (same keys)
            add(client, KEY, offered(f"c{n}", now, id=f"k{n}"))
        await wait_for(lambda: waiting_on_screen(app, "pre_sales") == 8, 10.0, "recovered")
        await wait_for(lambda: "LIVE" in header(app), 2.0, "LIVE again")
        snap = app.snapshot
        assert snap is not None
        assert (snap.events_applied, snap.events_duplicate) == (8, 2)
    client.close()


async def test_trimmed_stream_shows_the_gap_notice(
        redis_url: str, redis_client: redis.Redis, stream_key: str,
        feed_user: tuple[str, str]) -> None:  # fmt: skip
    user, password = feed_user
    url = redis_url.replace("redis://", f"redis://{user}:{password}@", 1)
    now = now_ms()
    for n in range(1, 11):
        add(redis_client, stream_key, offered(f"c{n}", now))
    config = quick()
    feed = LiveFeed(url, [stream_key], config, clock=wall_clock)
    app = WallboardApp(feed, config, wall_clock)
    async with app.run_test(size=(160, 34)):
        await wait_for(lambda: waiting_on_screen(app, "pre_sales") == 10, 10, "backfilled")
        redis_client.acl_setuser(user, enabled=False)
        redis_client.client_kill_filter(user=user)
        await wait_for(lambda: "RECONNECTING" in header(app) or "STALE" in header(app), 3.5,
                       "not live while locked out")  # fmt: skip
        for n in range(11, 21):
            add(redis_client, stream_key, offered(f"c{n}", now))
        redis_client.xtrim(stream_key, maxlen=5, approximate=False)
        redis_client.acl_setuser(user, enabled=True)
        await wait_for(lambda: "⚠ Gap" in header(app), 10.0, "the gap notice on screen")
        await wait_for(lambda: waiting_on_screen(app, "pre_sales") == 5, 2.0,
                       "rebuilt from what the stream holds")  # fmt: skip
        assert "were trimmed" in header(app)

