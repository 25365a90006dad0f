"""Response rounds travel unchanged: a chat stream with the shop's replies (the simulator's
Double-11 evening) folds to the same snapshot from an NDJSON file as from the XADDed stream,
and the live feed, following the stream as it is written, shows what the replay of the file
shows at the same moment."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import redis
from click.testing import CliRunner

from feeds.live import LiveFeed
from feeds.replay_reader import file_lines
from feeds.simulator import Simulator, load_profile
from feeds.simulator.writers import EntryIds
from wallboard.cli.main import main
from wallboard.core.config import Config, FeedSection
from wallboard.core.snapshot import build_snapshot, to_json
from wallboard.core.timeutil import parse_user_time
from wallboard.replay.engine import Replay

pytestmark = pytest.mark.redis

TZ = ZoneInfo("Asia/Shanghai")
START = parse_user_time("2026-11-11T20:00", TZ, 0)
END = parse_user_time("2026-11-11T20:20", TZ, 0)
STEP_MS = 5_000


@pytest.fixture(scope="module")
def evening() -> list[dict[str, str]]:
    sim = Simulator(load_profile("double11"), start_ms=START, seed=5, tz=TZ, agents=60)
    return sim.run_until(END)


def write_file(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(r) + b"\n" for r in records))
    return path


def xadd(client: redis.Redis, key: str, records: list[dict[str, str]], ids: EntryIds) -> None:
    pipe = client.pipeline(transaction=False)
    for record in records:
        pipe.xadd(key, record, id=ids.next(int(record["ts"])))  # type: ignore[arg-type]
    pipe.execute()


def snapshot_cli(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["snapshot", "--json", *args])
    assert result.exit_code == 0, result.output
    decoded: dict[str, Any] = msgspec.json.decode(result.stdout_bytes)
    return decoded


def test_the_mix_has_replies_and_open_rounds(evening: list[dict[str, str]]) -> None:
    kinds = [r["type"] for r in evening]
    # About a third of the evening's events are replies (docs/simulator.md).
    assert 0.2 < kinds.count("contact.reply") / len(kinds) < 0.45
    assert {r.get("by", "agent") for r in evening if r["type"] == "contact.reply"} \
        >= {"agent", "assist"}  # fmt: skip


def test_file_and_stream_fold_to_the_same_rounds(
        evening: list[dict[str, str]], redis_client: redis.Redis, redis_url: str,
        stream_key: str, tmp_path: Path) -> None:  # fmt: skip
    path = write_file(tmp_path / "evening.ndjson", evening)
    xadd(redis_client, stream_key, evening, EntryIds())
    config = tmp_path / "board.toml"
    config.write_text(f'[board]\nstream = "{stream_key}"\n')
    for clock in ("20:05", "20:12:30", "20:20"):
        t = str(parse_user_time(f"2026-11-11T{clock}", TZ, 0))
        from_stream = snapshot_cli(["--redis", redis_url, "--at", t, "--config", str(config)])
        from_file = snapshot_cli(["--file", str(path), "--at", t, "--config", str(config)])
        assert from_file == from_stream
    floor = next(r for r in from_stream["rollups"] if r["by"] == "floor")
    response = floor["today"]["response"]
    # Not a vacuous equality: rounds were settled, some answered within 180 s, and some are
    # open now. Rounds are conserved: within + late + unanswered.
    assert response["rounds"] > 50 and response["answered_within"] > 0
    assert response["answered"] + response["unanswered"] == response["rounds"]
    assert floor["open_rounds"] > 0


async def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.01)


def applied(feed: LiveFeed, count: int) -> Callable[[], bool]:
    return lambda: feed.state.events_applied == count


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def test_live_following_equals_the_replay(
        evening: list[dict[str, str]], redis_client: redis.Redis, redis_url: str,
        stream_key: str, tmp_path: Path) -> None:  # fmt: skip
    """The board starts at 20:10 (backfill), then follows the next ten minutes as they are
    written; at 20:20 its snapshot is the replay's at 20:20, byte for byte. Rounds whose cap
    passes while the board follows are settled by its clock, as in the replay."""
    middle = parse_user_time("2026-11-11T20:10", TZ, 0)
    before = [r for r in evening if int(r["ts"]) <= middle]
    after = evening[len(before):]
    assert after and all(int(r["ts"]) > middle for r in after)
    ids = EntryIds()
    xadd(redis_client, stream_key, before, ids)
    clock = Clock(middle)
    config = Config(feed=FeedSection(backoff_max_s=0.5))
    feed = LiveFeed(redis_url, [stream_key], config, clock=clock)
    task = asyncio.create_task(feed.run())
    try:
        await wait_for(lambda: feed.status.state == "connected" or task.done(), 10, "connected")
        assert feed.state.events_applied == len(before)
        # Then ten minutes as a producer writes them: each 5 s of events, then the board's
        # tick moves the fold's clock past them (as the app's tick does with the wall clock).
        written = len(before)
        for t in range(middle + STEP_MS, END + 1, STEP_MS):
            batch = [r for r in after if t - STEP_MS < int(r["ts"]) <= t]
            xadd(redis_client, stream_key, batch, ids)
            written += len(batch)
            await wait_for(applied(feed, written), 5, f"{t} applied")
            clock.now = t
            feed.state.advance(t)
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=6.0)
        await feed.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    state = feed.state
    state.advance(END)
    live = to_json(build_snapshot(state))
    path = write_file(tmp_path / "evening.ndjson", evening)
    engine = Replay(config, START, END, every=300)
    engine.load(file_lines(path))
    replayed = to_json(engine.snapshot_at(END))
    assert replayed == live
