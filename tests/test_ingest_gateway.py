"""The HTTP ingest gateway over real HTTP (aiohttp's test server on a loopback socket) against
the suite's real Redis: validation, all-or-nothing, auth, limits, idempotency, health, metrics."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from feeds.ingest_app import Gateway, GatewayOptions

# The fixtures' event loop is the session's (pyproject): the tests run in the same loop.
pytestmark = [pytest.mark.redis, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "tok-alpha-0123456789"
OTHER = "tok-beta-9876543210x"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TS = 1_794_369_600_000  # 2026-11-11 10:00:00 +08:00


def offered(contact: str, **extra: str) -> dict[str, Any]:
    return {"type": "contact.offered", "ts": TS, "contact": contact, "queue": "presale",
            "channel": "chat", **extra}  # fmt: skip


class FakeClock:
    """The rate limiter's clock, moved by the test (the rate limit is about time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def options(redis_url: str, stream: str, **overrides: Any) -> GatewayOptions:
    # The gateway's clock on the events' day (it refuses events ahead of it), whatever the date.
    base: dict[str, Any] = {"redis_url": redis_url, "stream": stream, "tokens": (TOKEN, OTHER),
                            "window_ms": 60_000, "rate_per_s": 1000.0, "burst": 1000,
                            "wall_clock_ms": lambda: TS}  # fmt: skip
    base.update(overrides)
    return GatewayOptions(**base)


@pytest.fixture
async def client(redis_url: str, stream_key: str) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(Gateway(options(redis_url, stream_key)).app())) as test:
        yield test


async def post(client: TestClient[Any, Any], body: Any, **kwargs: Any) -> ClientResponse:
    headers = kwargs.pop("headers", AUTH)
    return await client.post("/v1/events", json=body, headers=headers, **kwargs)


# ---- writing ----------------------------------------------------------------------------


async def test_one_object_is_written_with_its_fields(
        client: TestClient[Any, Any], redis_client: redis.Redis, stream_key: str) -> None:
    response = await post(client, offered("c1", shop="tmall", extra="ignored"))
    assert response.status == 202
    body = await response.json()
    assert body["accepted"] == 1 and body["duplicates"] == 0
    entries = redis_client.xrange(stream_key)
    assert [entry_id for entry_id, _ in entries] == body["ids"]  # type: ignore[union-attr]
    # Contract fields as strings (ts was a JSON number); unknown fields are not written.
    assert entries[0][1] == {"type": "contact.offered", "ts": str(TS), "contact": "c1",  # type: ignore[index]
                             "queue": "presale", "channel": "chat", "shop": "tmall"}


async def test_array_and_ndjson_keep_request_order(
        client: TestClient[Any, Any], redis_client: redis.Redis, stream_key: str) -> None:
    response = await post(client, [offered("c1"), offered("c2"), offered("c3")])
    assert response.status == 202
    assert (await response.json())["accepted"] == 3
    ndjson = b'{"type":"bot.resolved","ts":"2026-11-11T10:00:05+08:00"}\n\n' \
             b'{"type":"contact.abandoned","ts":1794369610000,"contact":"c2"}\n'
    response = await client.post("/v1/events", data=ndjson,
                                 headers={**AUTH, "Content-Type": "application/x-ndjson"})
    assert response.status == 202
    body = await response.json()
    assert body["accepted"] == 2
    entries = redis_client.xrange(stream_key)
    assert [fields["contact"] for _, fields in entries[:3]] == ["c1", "c2", "c3"]  # type: ignore[index]
    assert entries[3][1] == {"type": "bot.resolved", "ts": "2026-11-11T10:00:05+08:00"}  # type: ignore[index]
    assert [entry_id for entry_id, _ in entries[3:]] == body["ids"]  # type: ignore[index]


async def test_one_bad_event_rejects_the_whole_request(
        client: TestClient[Any, Any], redis_client: redis.Redis, stream_key: str) -> None:
    batch = [offered("c1"), {"type": "contact.offered", "ts": TS, "contact": "c2"},
             offered("c3", channel="fax"), offered("c4"), "not an object",
             offered("c5", ts="yesterday")]  # fmt: skip
    response = await post(client, batch)
    assert response.status == 400
    assert (await response.json())["errors"] == [
        {"index": 1, "id": None, "reason": "missing_field", "field": "queue",
         "detail": "contact.offered needs queue"},
        {"index": 2, "id": None, "reason": "bad_value", "field": "channel",
         "detail": "unknown channel 'fax'"},
        {"index": 4, "id": None, "reason": "malformed", "field": None,
         "detail": "entry is not an object of fields"},
        {"index": 5, "id": None, "reason": "bad_timestamp", "field": "ts",
         "detail": "ts is neither epoch milliseconds nor RFC 3339 with an offset"},
    ]  # fmt: skip
    assert redis_client.xlen(stream_key) == 0


async def test_bodies_that_are_not_json(client: TestClient[Any, Any], redis_client: redis.Redis,
                                        stream_key: str) -> None:  # fmt: skip
    response = await client.post("/v1/events", data=b'[{"type": ',
                                 headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 400
    [error] = (await response.json())["errors"]
    assert error["index"] is None and error["reason"] == "malformed"
    ndjson = b'{"type":"bot.resolved","ts":1794369600000}\n{oops\n'
    response = await client.post("/v1/events", data=ndjson,
                                 headers={**AUTH, "Content-Type": "application/x-ndjson"})
    assert response.status == 400
    [error] = (await response.json())["errors"]
    assert error["index"] == 1 and error["reason"] == "malformed"
    response = await post(client, [])
    assert response.status == 400
    response = await client.post("/v1/events", data=b"type=x",
                                 headers={**AUTH, "Content-Type": "text/plain"})
    assert response.status == 415
    assert redis_client.xlen(stream_key) == 0


# ---- auth, limits -----------------------------------------------------------------------


async def test_bearer_token_is_required(client: TestClient[Any, Any], redis_client: redis.Redis,
                                        stream_key: str) -> None:  # fmt: skip
    for headers in ({}, {"Authorization": "Bearer wrong-token-000000"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}):
        response = await post(client, offered("c1"), headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert redis_client.xlen(stream_key) == 0
    response = await post(client, offered("c1"), headers={"Authorization": f"Bearer {OTHER}"})
    assert response.status == 202


async def test_body_size_limit(redis_url: str, stream_key: str,
                               redis_client: redis.Redis) -> None:  # fmt: skip
    gateway = Gateway(options(redis_url, stream_key, max_body_bytes=2048))
    async with TestClient(TestServer(gateway.app())) as test:
        big = [offered(f"c{n}") for n in range(40)]  # about 3.6 kB of JSON
        response = await post(test, big)
        assert response.status == 413
        assert (await response.json())["error"] == "too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: aiohttp's own limit
            for _ in range(30):
                yield b" " * 100
            yield b"[]"

        response = await test.post("/v1/events", data=chunks(),
                                   headers={**AUTH, "Content-Type": "application/json"})
        assert response.status == 413
        response = await post(test, big[:10])
        assert response.status == 202
    assert redis_client.xlen(stream_key) == 10


async def test_rate_limit_per_token(redis_url: str, stream_key: str) -> None:
    clock = FakeClock()
    gateway = Gateway(options(redis_url, stream_key, rate_per_s=0.5, burst=2, clock=clock))
    async with TestClient(TestServer(gateway.app())) as test:
        assert (await post(test, offered("c1"))).status == 202
        assert (await post(test, offered("c2"))).status == 202
        refused = await post(test, offered("c3"))
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "2"  # one request per 2 s
        # Another token has its own bucket.
        other = {"Authorization": f"Bearer {OTHER}"}
        assert (await post(test, offered("c4"), headers=other)).status == 202
        clock.now += 1.0  # half a request refilled: still refused, 1 s to go
        refused = await post(test, offered("c3"))
        assert refused.status == 429 and refused.headers["Retry-After"] == "1"
        clock.now += 1.0
        assert (await post(test, offered("c3"))).status == 202


# ---- idempotency ------------------------------------------------------------------------


async def test_repeated_id_is_acknowledged_not_written_twice(
        redis_url: str, stream_key: str, redis_client: redis.Redis) -> None:
    first_gateway = Gateway(options(redis_url, stream_key))
    second_gateway = Gateway(options(redis_url, stream_key))  # another process, same Redis
    async with TestClient(TestServer(first_gateway.app())) as first, \
            TestClient(TestServer(second_gateway.app())) as second:  # fmt: skip
        response = await post(first, [offered("c1", id="crm-1"), offered("c2", id="crm-2")])
        written = await response.json()
        assert written["accepted"] == 2 and written["duplicates"] == 0
        # A retry through another gateway, plus one new event and an id repeated in the batch.
        response = await post(second, [offered("c1", id="crm-1"), offered("c3", id="crm-3"),
                                       offered("c3", id="crm-3")])  # fmt: skip
        assert response.status == 202
        again = await response.json()
        assert again["accepted"] == 3 and again["duplicates"] == 2
        assert again["ids"][0] == written["ids"][0]  # the original entry's ID
        assert again["ids"][2] == again["ids"][1]
        assert redis_client.xlen(stream_key) == 3
        # Events without an id are never deduplicated.
        await post(second, [offered("c9"), offered("c9")])
        assert redis_client.xlen(stream_key) == 5
    text = first_gateway.metrics.render().decode()
    assert "wallboard_ingest_events_duplicate_total 0.0" in text
    assert "wallboard_ingest_events_duplicate_total 2.0" in second_gateway.metrics.render().decode()


async def test_idempotency_window_expires(redis_url: str, stream_key: str,
                                          redis_client: redis.Redis) -> None:  # fmt: skip
    gateway = Gateway(options(redis_url, stream_key, window_ms=200))
    async with TestClient(TestServer(gateway.app())) as test:
        assert (await (await post(test, offered("c1", id="k"))).json())["duplicates"] == 0
        assert (await (await post(test, offered("c1", id="k"))).json())["duplicates"] == 1
        key = f"wallboard:ingest:id:{stream_key}:k"
        assert 0 < redis_client.pttl(key) <= 200
        deadline = time.monotonic() + 5
        while redis_client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not redis_client.exists(key)
        assert (await (await post(test, offered("c1", id="k"))).json())["duplicates"] == 0
    assert redis_client.xlen(stream_key) == 2


# ---- health, metrics, wrong stream type ---------------------------------------------------


async def test_healthz_reports_stream_length(client: TestClient[Any, Any]) -> None:
    await post(client, [offered("c1"), offered("c2")])
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["redis"] == "up" and body["length"] == 2


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match is not None, name
    return float(match.group(1))


async def test_metrics_count_what_happened(client: TestClient[Any, Any]) -> None:
    await post(client, [offered("c1"), offered("c2", id="x")])  # 202: 2 accepted
    await post(client, offered("c2", id="x"))  # 202: 1 accepted, a duplicate
    # 400: one missing_field, one unknown_type
    await post(client, [offered("c3"), {"type": "contact.offered", "ts": TS, "contact": "c4"},
                        {"type": "nope", "ts": TS}])  # fmt: skip
    await post(client, offered("c5"), headers={})  # 401
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert metric(text, "wallboard_ingest_events_accepted_total") == 3
    assert metric(text, "wallboard_ingest_events_duplicate_total") == 1
    assert metric(text, 'wallboard_ingest_events_rejected_total{reason="missing_field"}') == 1
    assert metric(text, 'wallboard_ingest_events_rejected_total{reason="unknown_type"}') == 1
    assert metric(text, 'wallboard_ingest_events_rejected_total{reason="too_long"}') == 0
    assert metric(text, 'wallboard_ingest_requests_total{status="202"}') == 2
    assert metric(text, 'wallboard_ingest_requests_total{status="400"}') == 1
    assert metric(text, 'wallboard_ingest_requests_total{status="401"}') == 1
    assert metric(text, "wallboard_ingest_request_duration_seconds_count") == 4
    assert metric(text, "wallboard_ingest_redis_errors_total") == 0


async def test_a_key_that_is_not_a_stream_writes_nothing(
        redis_url: str, stream_key: str, redis_client: redis.Redis) -> None:
    redis_client.set(stream_key, "a string")
    async with TestClient(TestServer(Gateway(options(redis_url, stream_key)).app())) as test:
        response = await post(test, [offered("c1", id="w1"), offered("c2")])
        assert response.status == 500
        assert (await response.json())["error"] == "stream_misconfigured"
    assert redis_client.get(stream_key) == "a string"
    assert not redis_client.exists(f"wallboard:ingest:id:{stream_key}:w1")


async def test_a_complaint_posted_with_a_json_boolean_key_is_written_as_text(
        client: TestClient[Any, Any], redis_client: redis.Redis, stream_key: str) -> None:
    body = {"type": "complaint.opened", "ts": TS, "complaint": "k1", "key": True,
            "department": "warehouse", "shop": "tmall"}  # fmt: skip
    response = await post(client, body)
    assert response.status == 202
    entries = redis_client.xrange(stream_key)
    # `key` as the stream's `true`: the board reads it back as a key complaint.
    assert entries[0][1] == {"type": "complaint.opened", "ts": str(TS), "complaint": "k1",  # type: ignore[index]
                             "key": "true", "department": "warehouse", "shop": "tmall"}
    bad = await post(client, {**body, "key": "maybe"})
    assert bad.status == 400  # rejected by reason, as any bad event
    [error] = (await bad.json())["errors"]
    assert (error["reason"], error["field"]) == ("bad_value", "key")
    assert redis_client.xlen(stream_key) == 1
