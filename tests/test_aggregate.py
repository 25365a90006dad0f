"""Fold once, view many: `wallboard aggregate` publishes snapshots, boards draw them
(`SnapshotFeed`), several aggregators stand in for one another. Against the real server.

The events are hand-worked: in queue `vip`, c1, c2 and c3 are offered, c1 is answered by a1,
c2 abandons, c3 still waits: offered 3, answered 1, abandoned 1, waiting 1; agents a1 and a2
are logged in (staffed 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from feeds.aggregator import Aggregator
from feeds.snapshot_feed import SnapshotFeed
from feeds.snapshot_wire import decode_entry, encode_snapshot
from tests import processes
from tests.remote_harness import start_floor
from wallboard.app.board import WallboardApp
from wallboard.app.sources import MemorySource
from wallboard.core.config import Config, FeedSection
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.snapshot import Snapshot, build_snapshot

pytestmark = pytest.mark.redis


def quick() -> Config:
    # Stale after 1 s (block 200 ms): failover within about a second.
    return Config(feed=FeedSection(stale_after_s=1.0, block_ms=200, backoff_max_s=0.5))


def hand_events(now_ms: int) -> list[dict[str, str]]:
    t = now_ms - 60_000  # a minute ago: inside today's business day unless just after 04:00
    return [
        {"type": "agent.state", "ts": str(t), "agent": "a1", "state": "available"},
        {"type": "agent.state", "ts": str(t), "agent": "a2", "state": "available"},
        {"type": "contact.offered", "ts": str(t + 1000), "contact": "c1", "queue": "vip",
         "channel": "chat"},
        {"type": "contact.offered", "ts": str(t + 2000), "contact": "c2", "queue": "vip",
         "channel": "chat"},
        {"type": "contact.offered", "ts": str(t + 3000), "contact": "c3", "queue": "vip",
         "channel": "phone"},
        {"type": "contact.answered", "ts": str(t + 4000), "contact": "c1", "agent": "a1"},
        {"type": "contact.abandoned", "ts": str(t + 40_000), "contact": "c2"},
    ]  # fmt: skip


async def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(*runners: Any) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        yield tasks
    finally:
        for r in runners:
            await r.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def newest(redis_url: str, key: str, count: int) -> list[Any]:
    """The newest `count` entries of the snapshot stream, decoded (newest first)."""
    raw = redis.Redis.from_url(redis_url)
    try:
        entries: Any = raw.xrevrange(key, count=count)
        return [decode_entry(fields) for _id, fields in entries]
    finally:
        raw.close()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def queue(snap: Snapshot, name: str) -> Any:
    return next(q for q in snap.queues if q.queue == name)


async def test_the_aggregator_publishes_the_fold_and_a_viewer_draws_it(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    for fields in hand_events(t0):
        redis_client.xadd(stream_key, fields)  # type: ignore[arg-type]
    snap_key = f"{stream_key}:snapshots"
    config = quick()
    aggregator = Aggregator(redis_url, [stream_key], config, snapshot_key=snap_key,
                            rate_hz=10, aggregator_id="agg-1")  # fmt: skip
    viewer = SnapshotFeed(redis_url, config, key=snap_key)
    try:
        async with running(aggregator, viewer):
            # The aggregator's last snapshot of its backfill may still say `backfilling`: the
            # viewer shows the 7 events, then `connected` from the next one.
            await wait_for(lambda: (s := viewer.latest_snapshot()) is not None
                           and s.events_applied == 7 and viewer.status.state == "connected",
                           10, "the viewer draws 7 events, connected")  # fmt: skip
            snap = viewer.latest_snapshot()
            assert snap is not None
            vip = queue(snap, "vip")
            assert (vip.today.offered, vip.today.answered, vip.today.abandoned) == (3, 1, 1)
            assert vip.waiting == 1
            assert snap.floor.staffed == 2
            # The drill-down's rows travel with the snapshot: c3 (phone) still waits in vip,
            # since its offer; waited = the snapshot's time minus that.
            (row,) = viewer.waiting_contacts("vip")
            since = int(hand_events(0)[4]["ts"]) + t0
            assert (row.contact, row.channel, row.shop, row.since_ms) == ("c3", "phone", None,
                                                                           since)  # fmt: skip
            assert snap.as_of_ms is not None
            assert row.waited_s == (snap.as_of_ms - since) / 1000
            assert viewer.waiting_contacts("nowhere") == []
            status = viewer.status
            assert status.state == "connected"
            assert status.via == "agg-1"
            assert "agg-1" in status.source and stream_key in status.source
            # The board shows the aggregator's own health: its upstream is the event stream.
            assert status.events_per_s >= 0 and status.lag_s is not None
            # A new event reaches the viewer through the aggregator.
            redis_client.xadd(stream_key, {"type": "contact.completed", "ts": str(now_ms()),
                                           "contact": "c1"})  # fmt: skip
            await wait_for(lambda: viewer.latest_snapshot().events_applied == 8,  # type: ignore[union-attr]
                           5, "the completion to arrive")  # fmt: skip
    finally:
        redis_client.delete(snap_key)


async def test_the_snapshot_stream_is_trimmed_and_compact(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    for fields in hand_events(now_ms()):
        redis_client.xadd(stream_key, fields)  # type: ignore[arg-type]
    snap_key = f"{stream_key}:snapshots"
    aggregator = Aggregator(redis_url, [stream_key], quick(), snapshot_key=snap_key,
                            maxlen=10, aggregator_id="agg-trim")  # fmt: skip
    try:
        for _ in range(250):
            assert await aggregator.publish_once() is not None
        # MAXLEN ~ trims whole radix-tree nodes (100 entries): at most 10 + 100 remain.
        assert 10 <= redis_client.xlen(snap_key) <= 110
        (published,) = newest(redis_url, snap_key, 1)
        assert (published.aggregator, published.seq) == ("agg-trim", 250)
        assert published.snapshot == round_trip(published.snapshot)
        assert len(encode_snapshot(published.snapshot)) < len(
            msgspec.json.encode(published.snapshot))
    finally:
        await aggregator.feed.close()
        redis_client.delete(snap_key)


def round_trip(snap: Snapshot) -> Snapshot:
    """A snapshot through the wire format (it must come back unchanged)."""
    return msgspec.msgpack.decode(zlib.decompress(encode_snapshot(snap)), type=Snapshot)


async def test_a_viewer_fails_over_to_another_aggregator_then_goes_stale(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    for fields in hand_events(now_ms()):
        redis_client.xadd(stream_key, fields)  # type: ignore[arg-type]
    snap_key = f"{stream_key}:snapshots"
    config = quick()
    one = Aggregator(redis_url, [stream_key], config, snapshot_key=snap_key, rate_hz=10,
                     aggregator_id="agg-one")  # fmt: skip
    two = Aggregator(redis_url, [stream_key], config, snapshot_key=snap_key, rate_hz=10,
                     aggregator_id="agg-two")  # fmt: skip
    viewer = SnapshotFeed(redis_url, config, key=snap_key, prefer="agg-one")
    try:
        async with running(one, two, viewer) as tasks:
            def on_one() -> bool:
                latest = viewer.latest
                return viewer.following == "agg-one" and latest is not None and (
                    latest.snapshot.events_applied == 7)

            await wait_for(on_one, 10, "following agg-one with all 7 events")
            # Both publish into one stream without disturbing each other.
            seen = {p.aggregator for p in newest(redis_url, snap_key, 20)}
            assert seen == {"agg-one", "agg-two"}
            await one.close()
            tasks[0].cancel()
            stopped = time.monotonic()
            await wait_for(lambda: viewer.following == "agg-two", 5, "failover to two")
            took = time.monotonic() - stopped
            assert 0.9 <= took <= 3.0  # stale_after_s is 1 s; one read block (0.2 s) later
            status = viewer.status
            assert status.state == "connected" and status.via == "agg-two"
            assert status.notice is not None
            assert status.notice.startswith("Failover: aggregator agg-one silent since ")
            assert status.notice.endswith("; following agg-two")
            assert viewer.latest is not None and viewer.latest.aggregator == "agg-two"
            await two.close()
            tasks[1].cancel()
            await wait_for(lambda: viewer.status.state == "stale", 5, "stale with nobody left")
            assert (viewer.status.error or "").startswith("no aggregator has published since")
    finally:
        redis_client.delete(snap_key)


async def test_a_viewer_ignores_entries_that_are_not_snapshots(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    snap_key = f"{stream_key}:snapshots"
    redis_client.xadd(snap_key, {"hello": "world"})  # no aggregator: skipped unread
    redis_client.xadd(snap_key, {"agg": "odd", "v": "9", "seq": "1"})  # a future layout
    viewer = SnapshotFeed(redis_url, quick(), key=snap_key)
    try:
        async with running(viewer):
            await wait_for(lambda: viewer.following == "odd", 5, "following the only one")
            assert viewer.latest_snapshot() is None
            assert viewer.status.notice == ("snapshot entry version '9', "
                                            "this board reads '1'")  # fmt: skip
    finally:
        redis_client.delete(snap_key)


async def test_a_viewer_without_any_aggregator_says_so(redis_url: str, stream_key: str) -> None:
    viewer = SnapshotFeed(redis_url, quick(), key=f"{stream_key}:snapshots")
    async with running(viewer):
        await wait_for(lambda: viewer.status.state == "stale", 5, "stale without snapshots")
        assert viewer.status.error == (f"no snapshot on {stream_key}:snapshots yet: "
                                       "is `wallboard aggregate` running?")  # fmt: skip
        assert viewer.latest_snapshot() is None


class ReadySource(MemorySource):
    """A source that offers ready snapshots, as SnapshotFeed does."""

    def __init__(self, config: Config, snap: Snapshot | None) -> None:
        super().__init__(config, status=FeedStatus(state="connected", source="test",
                                                   via="agg-test"))  # fmt: skip
        self.ready = snap

    def latest_snapshot(self) -> Snapshot | None:
        return self.ready

    def waiting_contacts(self, queue: str) -> list[Any]:
        from wallboard.core.drilldown import WaitingContact

        return [WaitingContact("c3", "phone", None, 1000, 56.0)] if queue == "vip" else []


async def test_the_app_draws_a_ready_snapshot_instead_of_folding() -> None:
    from wallboard.core.fold import BoardState
    from wallboard.core.ingest import RawEntry, ingest

    config = Config()
    folded = BoardState(config)
    for i, fields in enumerate(hand_events(now_ms())):
        ingest(folded, RawEntry("s", f"{i + 1}-0", fields))
    folded.advance(now_ms())
    ready = build_snapshot(folded)
    source = ReadySource(config, None)
    app = WallboardApp(source, config, now_ms)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        assert app.snapshot is not None and app.snapshot.events_applied == 0  # folds (empty)
        source.ready = ready
        app.tick()
        await pilot.pause()
        assert app.snapshot is ready  # drawn as it is, not rebuilt
        header = app.header.render()
        assert "via agg-test" in str(header)
        # The drill-down takes its rows from the source, not from a fold it does not have.
        app.drill("vip")
        await pilot.pause()
        await pilot.pause()
        from widgets.screens import DrillScreen

        screen = app.screen
        assert isinstance(screen, DrillScreen)
        assert [row.contact for row in screen.contacts.items] == ["c3"]


async def test_a_snapshot_drawn_while_the_drill_down_is_torn_down_is_harmless() -> None:
    """On exit Textual removes a screen's widgets before the screen, while the board's refresh
    timer still runs: a snapshot drawn in between once raised NoMatches from the drill-down."""
    from wallboard.core.fold import BoardState
    from wallboard.core.ingest import RawEntry, ingest
    from widgets.screens import DrillScreen

    config = Config()
    folded = BoardState(config)
    for i, fields in enumerate(hand_events(now_ms())):
        ingest(folded, RawEntry("s", f"{i + 1}-0", fields))
    folded.advance(now_ms())
    source = ReadySource(config, build_snapshot(folded))
    app = WallboardApp(source, config, now_ms)
    async with app.run_test(size=(120, 34)) as pilot:
        app.drill("vip")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DrillScreen) and screen.is_mounted
        await screen.remove_children()  # what App._prune does first on exit
        newer = msgspec.structs.replace(build_snapshot(folded), site_name="newer")
        source.ready = newer
        app.tick()
        assert app.snapshot is newer  # drawn, and the drill-down took it without raising
    # After exit the timer's last tick does nothing.
    source.ready = build_snapshot(folded)
    app.tick()
    assert app.snapshot is newer


def test_aggregate_command_publishes_and_stops_on_sigterm(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    snap_key = f"{stream_key}:snapshots"
    process = processes.spawn(
        [sys.executable, "-m", "wallboard", "aggregate", "--redis", redis_url, "--stream",
         stream_key, "--snapshot-stream", snap_key, "--rate", "5", "--id", "agg-cli"],
        stderr=subprocess.PIPE, env={**os.environ})  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while redis_client.xlen(snap_key) < 3:
            assert time.monotonic() < deadline, "no snapshots published"
            assert process.poll() is None, "aggregate exited"
            time.sleep(0.05)
        assert newest(redis_url, snap_key, 1)[0].aggregator == "agg-cli"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        processes.stop(process)
        redis_client.delete(snap_key)


def test_board_from_snapshots_in_a_terminal(redis_client: redis.Redis, redis_url: str,
                                            tmp_path: Path) -> None:  # fmt: skip
    """`wallboard board --from-snapshots` on a real pty: the aggregator's board, `via` it;
    a closed terminal ends it."""
    import pty
    import select

    floor = start_floor(redis_url, redis_client, tmp_path, "agg-board")
    master, slave = pty.openpty()
    try:
        board = processes.spawn(
            [sys.executable, "-m", "wallboard", "board", "--from-snapshots", "--redis",
             redis_url, "--snapshot-stream", floor.snapshots, "--config", str(floor.config)],
            stdin=slave, stdout=slave, stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "34"})
    except BaseException:
        floor.stop(redis_client)
        raise
    finally:
        os.close(slave)
    screen = bytearray()
    try:
        deadline = time.monotonic() + 30
        while b"via agg-board" not in screen or b"vip" not in screen:
            assert time.monotonic() < deadline, f"no board: {bytes(screen[-500:])!r}"
            if select.select([master], [], [], 0.1)[0]:
                screen.extend(os.read(master, 65536))
        assert b"LIVE" in screen
        board.send_signal(signal.SIGHUP)  # the terminal goes away
        # Keep reading while it quits: its last frame and the terminal's restore are written
        # on the way out, and a pty nobody reads fills up and blocks that write forever.
        deadline = time.monotonic() + 15
        while board.poll() is None:
            assert time.monotonic() < deadline, "the board did not quit on SIGHUP"
            if select.select([master], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):  # EIO once the board has closed its side
                    os.read(master, 65536)
        assert board.returncode == 0
    finally:
        processes.stop(board)
        os.close(master)
        floor.stop(redis_client)
