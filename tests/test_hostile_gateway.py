"""The ingest gateway refuses what every board would reject: an event stamped further ahead of
the clock than `[board] max_future_s` is a 400 naming the event (its index and producer id),
and nothing of that request is written. The rule is the board's own (core/future_rule.py).
Over real HTTP, against the suite's real Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from feeds.embedded import free_port
from feeds.ingest_app import Gateway, GatewayOptions
from tests import processes
from tests.fuzz import fuzz_settings
from wallboard.core.config import BoardSection, Config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, ingest

pytestmark = pytest.mark.redis

TOKEN = "tok-hostile-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY_MS = 86_400_000


def offered(contact: str, ts: int, **extra: str) -> dict[str, Any]:
    return {"type": "contact.offered", "ts": ts, "contact": contact, "queue": "presale",
            "channel": "chat", **extra}  # fmt: skip


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# ---- the command, as deployed: the board's config, a real process -------------------------

@pytest.fixture
def gateway_url(tmp_path: Path, redis_url: str, stream_key: str) -> Iterator[str]:
    """`wallboard ingest` reading a board config with `max_future_s = 30`; stopped at the end,
    whatever the test did."""
    config = tmp_path / "board.toml"
    config.write_text("[board]\nmax_future_s = 30\n", encoding="utf-8")
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n", encoding="utf-8")
    port = free_port()
    process = processes.spawn(
        [sys.executable, "-m", "wallboard", "ingest", "--redis", redis_url, "--port", str(port),
         "--tokens-file", str(tokens), "--stream", stream_key, "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_wait_healthy(base, process))
        yield base
    finally:
        processes.stop(process)


async def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    stderr = process.stderr.read().decode() if process.stderr and process.poll() is not None \
        else ""  # fmt: skip
    raise AssertionError(f"the gateway did not become healthy: {stderr}")


async def _post(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, \
            session.post(f"{url}/v1/events", json=body, headers=AUTH) as response:  # fmt: skip
        return response.status, await response.json()


def test_an_event_a_day_ahead_is_refused_naming_it(gateway_url: str, redis_client: redis.Redis,
                                                   stream_key: str) -> None:  # fmt: skip
    now = now_ms()
    batch = [offered("c1", now), offered("c2", now + DAY_MS, id="crm-42"), offered("c3", now)]
    status, body = asyncio.run(_post(gateway_url, batch))
    assert status == 400
    assert body["errors"] == [{"index": 1, "id": "crm-42", "reason": "bad_timestamp",
                               "field": "ts", "detail": "event time is more than 30 s ahead of "
                               "the clock"}]  # fmt: skip
    assert redis_client.xlen(stream_key) == 0  # all or nothing: c1 and c3 were not written


def test_the_boards_max_future_is_the_gateways(gateway_url: str, redis_client: redis.Redis,
                                               stream_key: str) -> None:  # fmt: skip
    """The config says 30 s: two minutes ahead is refused (the default 300 s would take it),
    a few seconds ahead is written."""
    now = now_ms()
    status, body = asyncio.run(_post(gateway_url, [offered("c1", now + 120_000, id="early")]))
    assert (status, body["errors"][0]["id"]) == (400, "early")
    assert redis_client.xlen(stream_key) == 0
    status, body = asyncio.run(_post(gateway_url, [offered("c1", now + 5_000)]))
    assert (status, body["accepted"]) == (202, 1)
    assert redis_client.xlen(stream_key) == 1


# ---- the gateway and the fold agree, to the millisecond -----------------------------------

CLOCK = 1_794_369_600_000  # 2026-11-11 10:00:00 +08:00


async def _gateway_status(redis_url: str, stream: str, max_future_s: float, ts: int) -> int:
    options = GatewayOptions(redis_url=redis_url, stream=stream, tokens=(TOKEN,),
                             window_ms=60_000, rate_per_s=1e6, burst=1_000_000,
                             max_future_s=max_future_s, wall_clock_ms=lambda: CLOCK)  # fmt: skip
    async with TestClient(TestServer(Gateway(options).app())) as client:
        response = await client.post("/v1/events", json=offered("c1", ts), headers=AUTH)
        return response.status


def _board_applies(max_future_s: float, ts: int) -> bool:
    state = BoardState(Config(board=BoardSection(max_future_s=max_future_s)))
    state.advance(CLOCK)
    applied = ingest(state, RawEntry(None, None, {**offered("c1", ts), "ts": str(ts)}))
    assert applied or state.rejected["bad_timestamp"] == 1
    return applied


@fuzz_settings(scale=0.2)
@given(max_future_s=st.sampled_from([0.0, 0.001, 1.5, 30.0, 300.0, 86_400.0]),
       offset_ms=st.one_of(st.integers(-3, 3), st.integers(-2 * DAY_MS, 2 * DAY_MS)),
       near_limit=st.booleans())  # fmt: skip
def test_the_gateway_refuses_exactly_what_the_board_rejects(
        redis_url: str, redis_client: redis.Redis, max_future_s: float, offset_ms: int,
        near_limit: bool) -> None:  # fmt: skip
    ts = CLOCK + offset_ms + (round(max_future_s * 1000) if near_limit else 0)
    stream = f"test:future:{max_future_s}:{ts}"
    try:
        status = asyncio.run(_gateway_status(redis_url, stream, max_future_s, ts))
        written = redis_client.xlen(stream)
    finally:
        redis_client.delete(stream)
    applies = _board_applies(max_future_s, ts)
    assert (status, written) == ((202, 1) if applies else (400, 0))


@pytest.fixture
async def clocked(redis_url: str, stream_key: str) -> AsyncIterator[TestClient[Any, Any]]:
    options = GatewayOptions(redis_url=redis_url, stream=stream_key, tokens=(TOKEN,),
                             window_ms=60_000, wall_clock_ms=lambda: CLOCK)  # fmt: skip
    async with TestClient(TestServer(Gateway(options).app())) as client:
        yield client


@pytest.mark.asyncio(loop_scope="session")
async def test_at_the_limit_is_written_one_ms_past_is_not(
        clocked: TestClient[Any, Any], redis_client: redis.Redis, stream_key: str) -> None:
    limit = CLOCK + 300_000  # the default max_future_s
    ndjson = f'{{"type":"bot.resolved","ts":{limit}}}\n{{"type":"bot.resolved","ts":{limit + 1},' \
             '"id":"late-clock"}\n'  # fmt: skip
    response = await clocked.post("/v1/events", data=ndjson.encode(),
                                  headers={**AUTH, "Content-Type": "application/x-ndjson"})
    assert response.status == 400
    [error] = (await response.json())["errors"]
    assert (error["index"], error["id"], error["reason"]) == (1, "late-clock", "bad_timestamp")
    assert redis_client.xlen(stream_key) == 0
    response = await clocked.post("/v1/events", json={"type": "bot.resolved", "ts": limit},
                                  headers=AUTH)  # fmt: skip
    assert response.status == 202
    assert redis_client.xlen(stream_key) == 1
    metrics = await (await clocked.get("/metrics")).text()
    assert 'wallboard_ingest_events_rejected_total{reason="bad_timestamp"} 1.0' in metrics
