"""The aggregator's HTTP API (feeds/api_server.py, docs/api.md), over real HTTP, against a real
aggregator following the suite's real server.

Most tests freeze the aggregator's clock: a snapshot then changes only when an event arrives,
so each test decides exactly when there is something new to serve or stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
import redis
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from feeds.aggregator import Aggregator
from feeds.api_server import ApiServer
from feeds.embedded import EmbeddedServer, free_port
from tests import processes
from tests.test_aggregate import hand_events, now_ms, quick, wait_for
from wallboard.core.config import Config, ConfigError, load_config
from wallboard.core.config_api import ApiSection
from wallboard.core.snapshot import Snapshot

pytestmark = pytest.mark.redis

TOKEN = "api-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    aggregator: Aggregator
    server: ApiServer
    url: str

    @property
    def hub(self) -> Any:
        return self.server.hub

    def latest_seq(self) -> int:
        latest = self.hub.latest
        return 0 if latest is None else int(latest.seq)


@contextlib.asynccontextmanager
async def api_stack(redis_url: str, streams: list[str], *, config: Config | None = None,
                    settings: ApiSection | None = None,
                    clock: Callable[[], int] | None = None) -> AsyncIterator[Stack]:  # fmt: skip
    """An aggregator (20 Hz) with its API on a free loopback port, both stopped at the end."""
    config = config or quick()
    kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
    aggregator = Aggregator(redis_url, config.with_control(streams), config, rate_hz=20,
                            snapshot_key=f"{streams[0]}:snapshots", **kwargs)  # fmt: skip
    server = ApiServer(aggregator, (TOKEN,), settings or ApiSection())
    await server.start("127.0.0.1", 0)
    task = asyncio.create_task(aggregator.run())
    try:
        port = server.addresses[0][1]
        yield Stack(aggregator, server, f"http://127.0.0.1:{port}")
    finally:
        await server.close()
        await aggregator.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def add(client: redis.Redis, key: str, events: list[dict[str, str]]) -> None:
    for fields in events:
        client.xadd(key, fields)  # type: ignore[arg-type]


async def applied(stack: Stack, count: int) -> Snapshot:
    """Wait until the API serves a snapshot of `count` applied events."""
    await wait_for(lambda: (s := stack.hub.latest_snapshot) is not None
                   and s.events_applied == count, 15, f"{count} events served")  # fmt: skip
    snapshot: Snapshot = stack.hub.latest_snapshot
    return snapshot


@dataclass
class Sse:
    event: str
    id: str
    data: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.data)


async def next_event(response: aiohttp.ClientResponse, timeout_s: float = 10) -> Sse:
    """The next SSE event (blocks without data, as `retry:`, are skipped)."""
    async with asyncio.timeout(timeout_s):
        event, event_id, data = "message", "", b""
        while True:
            line = await response.content.readline()
            if not line:
                raise EOFError("the stream ended")
            line = line.rstrip(b"\n")
            if not line:
                if data:
                    return Sse(event, event_id, data)
                continue
            name, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if name == b"event":
                event = value.decode()
            elif name == b"id":
                event_id = value.decode()
            elif name == b"data":
                data = value


def seq(event_id: str) -> int:
    return int(event_id.rsplit("-", 1)[1])


def offered(t: int, contact: str, queue_name: str) -> dict[str, str]:
    return {"type": "contact.offered", "ts": str(t), "contact": contact, "queue": queue_name,
            "channel": "chat"}  # fmt: skip


def session() -> aiohttp.ClientSession:
    # Big lines: a snapshot of hundreds of agents is one `data:` line of hundreds of KB.
    return aiohttp.ClientSession(read_bufsize=1 << 22)


# ---- GET /v1/snapshot ----------------------------------------------------------------------


async def test_the_snapshot_is_the_snapshot_commands_json_at_the_same_instant(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 7)
        async with http.get(f"{stack.url}/v1/snapshot", headers=AUTH) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            body = await response.read()
        command = processes.spawn(
            [sys.executable, "-m", "wallboard", "snapshot", "--redis", redis_url, "--stream",
             stream_key, "--at", str(t0), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        try:
            out, err = await asyncio.to_thread(command.communicate, timeout=60)
        finally:
            processes.stop(command)
        assert command.returncode == 0, err.decode()
    assert body + b"\n" == out  # the very bytes
    assert msgspec.json.decode(body)["events_applied"] == 7


async def test_queues_and_fields_narrow_the_snapshot(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, [*hand_events(t0), offered(t0 - 5000, "o1", "other")])
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 8)

        async def get(query: str) -> tuple[int, Any]:
            async with http.get(f"{stack.url}/v1/snapshot?{query}", headers=AUTH) as response:
                return response.status, await response.json()

        _, whole = await get("")
        assert [q["queue"] for q in whole["queues"]] == ["other", "vip"]
        status, only_vip = await get("queues=vip")
        assert status == 200
        assert only_vip["queues"] == [q for q in whole["queues"] if q["queue"] == "vip"]
        assert {k: v for k, v in only_vip.items() if k != "queues"} == \
            {k: v for k, v in whole.items() if k != "queues"}  # fmt: skip
        status, some = await get("fields=queues,floor&queues=other,nowhere")
        assert status == 200
        assert list(some) == ["queues", "floor"]  # the contract's order, nothing else
        assert some["floor"] == whole["floor"]
        assert [q["queue"] for q in some["queues"]] == ["other"]
        status, repeated = await get("fields=alerts&fields=events_applied")
        assert (status, list(repeated)) == (200, ["events_applied", "alerts"])

        status, error = await get("fields=queues,nonsense")
        assert status == 400
        assert error["error"] == "unknown_field" and "nonsense" in error["detail"]
        assert error["valid"] == list(Snapshot.__struct_fields__)
        # `rollups` is selectable the moment the snapshot has it, refused until then.
        status, rolled = await get("fields=queues,rollups")
        if "rollups" in Snapshot.__struct_fields__:
            assert (status, list(rolled)) == (200, ["queues", "rollups"])
        else:
            assert status == 400 and "rollups" in rolled["detail"]
        assert (await get("fields="))[0] == 400
        assert (await get("queues=,"))[0] == 400


async def test_if_none_match_answers_304_until_the_snapshot_changes(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 7)

        async def get(query: str = "", tag: str | None = None) -> tuple[int, str, bytes]:
            headers = {**AUTH, **({"If-None-Match": tag} if tag else {})}
            async with http.get(f"{stack.url}/v1/snapshot{query}", headers=headers) as response:
                return response.status, response.headers["ETag"], await response.read()

        status, tag, body = await get()
        assert status == 200 and body
        vip_status, vip_tag, _ = await get("?queues=vip&fields=queues")
        assert vip_status == 200 and vip_tag != tag
        assert (await get(tag=tag))[:2] == (304, tag)
        assert (await get(tag=f'W/{tag}, "other"'))[0] == 304  # a list, weak form: still ours
        assert (await get(tag='"not-it"'))[0] == 200
        # A republished but unchanged snapshot keeps its tag: still 304 a few ticks later.
        before = stack.aggregator.published
        await wait_for(lambda: stack.aggregator.published >= before + 3, 5, "3 more publishes")
        status, _, empty = await get(tag=tag)
        assert (status, empty) == (304, b"")

        # A new contact in `other`: the whole snapshot changed, vip's queue did not.
        add(redis_client, stream_key, [offered(t0 - 1000, "o1", "other")])
        await applied(stack, 8)
        status, new_tag, new_body = await get(tag=tag)
        assert status == 200 and new_tag != tag
        assert msgspec.json.decode(new_body)["events_applied"] == 8
        assert (await get("?queues=vip&fields=queues", vip_tag))[0] == 304


# ---- GET /v1/stream ------------------------------------------------------------------------


async def test_a_client_that_reconnects_with_last_event_id_misses_nothing_and_gets_nothing_twice(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 7)
        reference = await http.get(f"{stack.url}/v1/stream", headers=AUTH)  # reads throughout
        client = await http.get(f"{stack.url}/v1/stream", headers=AUTH)
        assert client.headers["Content-Type"].startswith("text/event-stream")
        first = await next_event(client)
        assert first.event == "snapshot"
        assert first.json()["events_applied"] == 7
        received = [first]
        for n in range(3):  # one event at a time, each seen before the next is written
            add(redis_client, stream_key, [offered(t0 - 3000 + n, f"x{n}", "vip")])
            received.append(await next_event(client))
        assert received[-1].json()["events_applied"] == 10
        client.close()
        await wait_for(lambda: len(stack.hub.clients) == 1, 5, "the server to see it hang up")
        for n in range(3):  # while it is away
            add(redis_client, stream_key, [offered(t0 - 2000 + n, f"y{n}", "vip")])
            await applied(stack, 11 + n)
        missed_up_to = stack.latest_seq()
        resumed = await http.get(f"{stack.url}/v1/stream",
                                 headers={**AUTH, "Last-Event-ID": received[-1].id})  # fmt: skip
        while not received or seq(received[-1].id) < missed_up_to:
            received.append(await next_event(resumed))
        add(redis_client, stream_key, [offered(t0 - 1000, "z", "vip")])  # and live again
        received.append(await next_event(resumed))
        resumed.close()

        expected: list[Sse] = []  # it connected at the same snapshot as the client
        while len(expected) < len(received):
            expected.append(await next_event(reference))
        reference.close()
    ids = [seq(e.id) for e in received]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # no gap, nothing twice
    assert [(e.id, e.event, e.data) for e in received] == \
        [(e.id, e.event, e.data) for e in expected]  # fmt: skip
    assert [e.json()["events_applied"] for e in received] == list(range(7, 15))


async def test_an_id_no_longer_held_gets_a_resync_with_the_full_snapshot(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    settings = ApiSection(resume_events=3)
    async with api_stack(redis_url, [stream_key], clock=lambda: t0,
                         settings=settings) as stack, session() as http:  # fmt: skip
        await applied(stack, 7)
        old_id = stack.hub.latest.event_id
        for n in range(4):  # 4 newer events: the ring of 3 no longer holds old_id's successor
            add(redis_client, stream_key, [offered(t0 - 3000 + n, f"x{n}", "vip")])
            await applied(stack, 8 + n)
        latest = stack.hub.latest
        for last_id in (old_id, "deadbeef-3", "garbage"):
            for query in ("", "?diff=1"):
                async with http.get(f"{stack.url}/v1/stream{query}",
                                    headers={**AUTH, "Last-Event-ID": last_id}) as response:
                    event = await next_event(response)
                assert (event.event, event.id, event.data) == ("resync", latest.event_id,
                                                               latest.body)  # fmt: skip
        assert stack.hub.counts.resyncs == 6
        # The oldest id still held resumes without a resync: its successors are all there.
        oldest = stack.hub.events[0]
        async with http.get(f"{stack.url}/v1/stream",
                            headers={**AUTH, "Last-Event-ID": oldest.event_id}) as response:
            event = await next_event(response)
        assert (event.event, seq(event.id)) == ("snapshot", oldest.seq + 1)


def clock_moved(agent: dict[str, Any], as_of_ms: int) -> dict[str, Any]:
    """An agent's clock fields at `as_of_ms` (docs/api.md, "Diffs")."""
    out = dict(agent)
    if agent["state_since_ms"] is not None:
        out["time_in_state_s"] = max(0, as_of_ms - agent["state_since_ms"]) / 1000
    end = agent["shift_end_ms"]
    hours_left = 0.0 if end is None else max(0, end - as_of_ms) / 3_600_000
    out["projected_today"] = agent["handled_today"] + agent["handled_last_hour"] * hours_left
    return out


def apply_diff(document: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """A client's use of a diff event (docs/api.md): replace the other keys, upsert queues by
    `queue` and agents by `agent`, drop the removed, keep each list sorted by its key, and move
    the clock of the agents not sent: time_in_state_s = max(0, as_of_ms - state_since_ms) / 1000."""
    out = {key: value for key, value in diff.items() if key not in ("queues", "agents", "diff")}
    assert diff["diff"]["clock_fields"] == ["time_in_state_s", "projected_today"]
    for key, name in (("queues", "queue"), ("agents", "agent")):
        members = {m[name]: m for m in document[key]}
        members.update({m[name]: m for m in diff[key]})
        for gone in diff["diff"][f"{key}_removed"]:
            members.pop(gone, None)
        out[key] = [members[k] for k in sorted(members)]
    sent = {a["agent"] for a in diff["agents"]}
    out["agents"] = [a if a["agent"] in sent else clock_moved(a, diff["as_of_ms"])
                     for a in out["agents"]]  # fmt: skip
    return {key: out[key] for key in document}  # the contract's key order


async def test_diff_events_carry_only_the_changed_queues_and_agents(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, [*hand_events(t0), offered(t0 - 9000, "o1", "other")])
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 8)
        full = await http.get(f"{stack.url}/v1/stream", headers=AUTH)
        diffs = await http.get(f"{stack.url}/v1/stream?diff=1", headers=AUTH)
        start = await next_event(diffs)
        assert start.event == "snapshot"  # a diff stream starts from a whole snapshot
        assert (await next_event(full)).data == start.data
        document = start.json()

        steps = [
            [offered(t0 - 5000, "o2", "other")],
            [{"type": "agent.state", "ts": str(t0 - 4000), "agent": "a2", "state": "break"}],
            [{"type": "agent.state", "ts": str(t0 - 3000), "agent": "a9", "state": "available"},
             offered(t0 - 3000, "v9", "vip")],
        ]  # fmt: skip
        previous_id = start.id
        sent: list[dict[str, Any]] = []
        for events in steps:
            add(redis_client, stream_key, events)
            want = stack.hub.latest_snapshot.events_applied + len(events)
            while True:  # (two events may be folded into one snapshot or two)
                event = await next_event(diffs)
                whole = await next_event(full)
                assert (event.event, event.id) == ("diff", whole.id)
                diff = event.json()
                assert diff["diff"]["base"] == previous_id
                # Exactly the members whose JSON changed, in full; nothing else.
                for key, name in (("queues", "queue"), ("agents", "agent")):
                    before = {m[name]: m for m in document[key]}
                    changed = [m[name] for m in whole.json()[key] if before.get(m[name]) != m]
                    assert [m[name] for m in diff[key]] == changed
                previous_id = event.id
                document = apply_diff(document, diff)
                assert document == whole.json()  # the diff rebuilds the very snapshot
                sent.append(diff)
                if diff["events_applied"] == want:
                    break
        # An offer in `other` touches `other` alone; a new agent is sent, the others not.
        first_diff = sent[0]
        assert [q["queue"] for q in first_diff["queues"]] == ["other"]
        assert first_diff["agents"] == []
        assert "a9" in [a["agent"] for d in sent for a in d["agents"]]
        assert all(a["agent"] != "a1" for d in sent for a in d["agents"])
        assert all(d["diff"]["queues_removed"] == d["diff"]["agents_removed"] == [] for d in sent)
        full.close()
        diffs.close()

        async with http.get(f"{stack.url}/v1/stream?diff=maybe", headers=AUTH) as response:
            assert response.status == 400


async def test_a_diff_leaves_out_agents_whose_clock_alone_moved(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    moved = [0]
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0 + moved[0]) as stack, \
            session() as http:  # fmt: skip
        await applied(stack, 7)
        full = await http.get(f"{stack.url}/v1/stream", headers=AUTH)
        diffs = await http.get(f"{stack.url}/v1/stream?diff=1", headers=AUTH)
        start = await next_event(diffs)
        assert (await next_event(full)).data == start.data
        document = start.json()
        assert any(a["time_in_state_s"] for a in document["agents"])
        moved[0] = 7_250  # the clock alone moves: every agent's time in state grows
        while document["as_of_ms"] < t0 + 7_250:
            event, whole = await next_event(diffs), await next_event(full)
            diff = event.json()
            assert diff["agents"] == []  # nothing but the clock changed for any agent
            document = apply_diff(document, diff)
            assert document == whole.json()  # and the client's clock rebuilds them exactly
        assert document["agents"] != start.json()["agents"]
        full.close()
        diffs.close()


# ---- security and limits -------------------------------------------------------------------


async def test_every_endpoint_but_healthz_needs_a_token(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 7)
        for path in ("/v1/snapshot", "/v1/stream", "/metrics"):
            for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                            {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
                async with http.get(f"{stack.url}{path}", headers=headers) as response:
                    assert response.status == 401, (path, headers)
                    assert response.headers["WWW-Authenticate"].startswith("Bearer")
                    assert (await response.json())["error"] == "unauthorized"
        async with http.get(f"{stack.url}/healthz") as response:
            assert response.status in (200, 503)  # open: a probe needs no secret
        async with http.get(f"{stack.url}/metrics", headers=AUTH) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST


async def test_public_metrics_opens_metrics_alone(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0,
                         settings=ApiSection(public_metrics=True)) as stack, \
            session() as http:  # fmt: skip
        await applied(stack, 7)
        async with http.get(f"{stack.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            assert b"wallboard_queue_waiting" in await response.read()
        for path in ("/v1/snapshot", "/v1/stream"):
            async with http.get(f"{stack.url}{path}") as response:
                assert response.status == 401


async def test_metrics_over_http_parse_and_equal_the_snapshot_served_beside_them(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    """GET /metrics, read by prometheus-client's own parser, says what GET /v1/snapshot says
    at the same instant (a frozen clock: both come from one published snapshot)."""
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    async with api_stack(redis_url, [stream_key], clock=lambda: t0) as stack, session() as http:
        await applied(stack, 7)
        async with http.get(f"{stack.url}/v1/snapshot", headers=AUTH) as response:
            snap = await response.json()
        async with http.get(f"{stack.url}/metrics", headers=AUTH) as response:
            text = (await response.read()).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    site = snap["site_name"]
    assert snap["queues"], "the scenario has queues"
    for queue in snap["queues"]:
        labels = {"site": site, "queue": queue["queue"]}
        assert samples[("wallboard_queue_waiting", tuple(sorted(labels.items())))] \
            == queue["waiting"]  # fmt: skip
        today = tuple(sorted({**labels, "period": "today"}.items()))
        assert samples[("wallboard_queue_offered_total", today)] == queue["today"]["offered"]
        assert samples[("wallboard_queue_abandoned_total", today)] \
            == queue["today"]["abandoned"]  # fmt: skip
    assert samples[("wallboard_events_applied_total", (("site", site),))] \
        == snap["events_applied"]  # fmt: skip


async def test_the_stream_cap_holds(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    add(redis_client, stream_key, hand_events(t0))
    settings = ApiSection(max_streams=2, retry_after_s=7)
    async with api_stack(redis_url, [stream_key], clock=lambda: t0,
                         settings=settings) as stack, session() as http:  # fmt: skip
        await applied(stack, 7)
        one = await http.get(f"{stack.url}/v1/stream", headers=AUTH)
        two = await http.get(f"{stack.url}/v1/stream?diff=1", headers=AUTH)
        assert (one.status, two.status) == (200, 200)
        async with http.get(f"{stack.url}/v1/stream", headers=AUTH) as third:
            assert third.status == 503
            assert third.headers["Retry-After"] == "7"
            assert (await third.json())["error"] == "too_many_streams"
        assert stack.hub.counts.refused_full == 1
        # The two still stream.
        add(redis_client, stream_key, [offered(t0 - 1000, "n", "vip")])
        await next_event(one)
        await next_event(two)
        assert (await next_event(one)).json()["events_applied"] == 8
        # A slot freed is a slot to take.
        one.close()
        await wait_for(lambda: len(stack.hub.clients) == 1, 5, "the server to see it hang up")
        async with http.get(f"{stack.url}/v1/stream", headers=AUTH) as again:
            assert again.status == 200
        two.close()


def agents_logged_in(t: int, count: int) -> list[dict[str, str]]:
    return [{"type": "agent.state", "ts": str(t), "agent": f"agent-{n:04d}-{'x' * 40}",
             "state": "available"} for n in range(count)]  # fmt: skip


def _drain_until_closed(sock: socket.socket, timeout_s: float) -> bool:
    """Read until the server closes (True) or `timeout_s` passes (False)."""
    sock.settimeout(timeout_s)
    try:
        while sock.recv(1 << 16):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


async def test_a_client_that_never_reads_is_dropped_and_the_others_keep_receiving(
        redis_client: redis.Redis, redis_url: str, stream_key: str) -> None:  # fmt: skip
    t0 = now_ms()
    # 300 agents: each snapshot is a frame of about 100 KB, so a stuck socket fills at once.
    add(redis_client, stream_key, [*hand_events(t0), *agents_logged_in(t0 - 50_000, 300)])
    settings = ApiSection(send_buffer_events=2)
    async with api_stack(redis_url, [stream_key], clock=lambda: t0,
                         settings=settings) as stack, session() as http:  # fmt: skip
        await applied(stack, 307)
        reader = await http.get(f"{stack.url}/v1/stream", headers=AUTH)
        await next_event(reader)
        slow = socket.socket()
        try:
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect
            port = stack.server.addresses[0][1]
            await asyncio.to_thread(slow.connect, ("127.0.0.1", port))
            slow.sendall(f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}"
                         "\r\n\r\n".encode())  # fmt: skip
            await wait_for(lambda: len(stack.hub.clients) == 2, 5, "the slow client streams")
            n = 0
            deadline = time.monotonic() + 30
            while stack.hub.counts.dropped_slow == 0:  # new snapshots until it is dropped
                assert time.monotonic() < deadline, "the slow client was never dropped"
                add(redis_client, stream_key, [offered(t0 - 20_000 + n, f"s{n}", "vip")])
                n += 1
                await applied(stack, 307 + n)
                event = await next_event(reader)  # the reader keeps up all along
                assert event.json()["events_applied"] == 307 + n
            assert stack.hub.counts.dropped_slow == 1
            assert len(stack.hub.clients) == 1  # the reader alone
            assert await asyncio.to_thread(_drain_until_closed, slow, 10), "never closed"
            # And the reader goes on.
            add(redis_client, stream_key, [offered(t0 - 1000, "after", "vip")])
            assert (await next_event(reader)).json()["events_applied"] == 308 + n
        finally:
            slow.close()
            reader.close()
    assert n >= 2  # it took more than one frame: it was dropped for not reading


# ---- GET /healthz --------------------------------------------------------------------------


async def test_healthz_is_200_while_the_feed_is_live_and_503_with_the_reason_when_not(
        own_server: EmbeddedServer, stream_key: str) -> None:  # fmt: skip
    own = redis.Redis.from_url(own_server.url)
    try:
        add(own, stream_key, hand_events(now_ms()))
    finally:
        own.close()
    async with api_stack(own_server.url, [stream_key]) as stack, session() as http:

        async def health() -> tuple[int, Any]:
            async with http.get(f"{stack.url}/healthz") as response:
                return response.status, await response.json()

        deadline = time.monotonic() + 15
        while (answer := await health())[0] != 200:
            assert time.monotonic() < deadline, f"never live: {answer}"
            await asyncio.sleep(0.05)
        assert answer[1]["status"] == "ok" and answer[1]["feed"] == "connected"
        own_server.kill()
        deadline = time.monotonic() + 15
        while (answer := await health())[0] != 503:
            assert time.monotonic() < deadline, f"still 200 with the server gone: {answer}"
            await asyncio.sleep(0.05)
        body = answer[1]
        assert body["status"] == "unavailable" and body["feed"] != "connected"
        assert body["reason"]


# ---- the command, its config, the OpenAPI document -----------------------------------------


def write_config(tmp_path: Path, api: str) -> Path:
    path = tmp_path / "board.toml"
    path.write_text(f"[feed]\nstale_after_s = 1.0\nblock_ms = 200\n\n[api]\n{api}\n")
    return path


def test_aggregate_http_serves_the_api_and_stops_on_sigterm(
        redis_client: redis.Redis, redis_url: str, stream_key: str,
        tmp_path: Path) -> None:  # fmt: skip
    add(redis_client, stream_key, hand_events(now_ms()))
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# the API's readers\n{TOKEN}\n")
    config = write_config(tmp_path, f'tokens_file = "{tokens}"\nport = 1\n')
    port = free_port()
    process = processes.spawn(
        [sys.executable, "-m", "wallboard", "aggregate", "--redis", redis_url, "--stream",
         stream_key, "--snapshot-stream", f"{stream_key}:snapshots", "--config", str(config),
         "--http", f"127.0.0.1:{port}"],  # overrides [api] port
        stderr=subprocess.PIPE, env={**os.environ})  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    async def probe() -> None:
        async with session() as http:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, "aggregate exited"
                assert time.monotonic() < deadline, "the API never became healthy"
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
            async with http.get(f"{url}/v1/snapshot", headers=AUTH) as response:
                assert response.status == 200
                assert (await response.json())["events_applied"] == 7
            async with http.get(f"{url}/v1/snapshot") as response:
                assert response.status == 401

    try:
        asyncio.run(probe())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        processes.stop(process)
        redis_client.delete(f"{stream_key}:snapshots")


@pytest.mark.parametrize(("api", "args", "message"), [
    ("port = 8788", [], "api.tokens_file`: required"),
    ('tokens_file = "/nonexistent/tokens"', ["--http", "127.0.0.1:8788"],
     "cannot read tokens file"),
])  # fmt: skip
def test_aggregate_http_never_serves_without_tokens(
        tmp_path: Path, api: str, args: list[str], message: str) -> None:  # fmt: skip
    config = write_config(tmp_path, api)
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "aggregate", "--redis", "redis://127.0.0.1:1/0",
         "--config", str(config), *args], capture_output=True, text=True, timeout=60,
        check=False)  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr and str(config) in result.stderr


@pytest.mark.parametrize("value", ["8788", "127.0.0.1", "127.0.0.1:0", "host:99999", ":8788"])
def test_a_bad_http_address_is_a_usage_error(value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "aggregate", "--http", value],
        capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "--http" in result.stderr and "HOST:PORT" in result.stderr


@pytest.mark.parametrize(("api", "key"), [
    ("port = 0", "api.port"), ("port = 65536", "api.port"), ("max_streams = 0", "api.max_streams"),
    ("max_streams = 100001", "api.max_streams"), ('host = ""', "api.host"),
    ("public_metrics = 1", "api.public_metrics"), ("send_buffer_events = 0",
                                                   "api.send_buffer_events"),
    ("colour = 1", "api.colour"),
])  # fmt: skip
def test_a_bad_api_key_names_the_key_and_the_file(tmp_path: Path, api: str, key: str) -> None:
    path = write_config(tmp_path, api)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"`{key}`" in str(caught.value) and str(path) in str(caught.value)


def test_the_api_table_defaults() -> None:
    api = Config().api
    assert (api.host, api.port, api.tokens_file, api.public_metrics, api.max_streams,
            api.agent_metrics) == ("127.0.0.1", None, None, False, 200, False)  # fmt: skip


def test_the_openapi_document_is_valid_and_names_every_route() -> None:
    document: Any = read_from_filename(str(ROOT / "docs" / "openapi-api.yaml"))[0]
    validate(document)  # raises on an invalid OpenAPI 3 document
    todo: list[Any] = [document]
    while todo:  # and every local $ref resolves (validate leaves a dangling one alone)
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: Any = document
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]  # KeyError: dangling
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    config = Config()
    aggregator = Aggregator("redis://127.0.0.1:1/0", ["s"], config)
    router = ApiServer(aggregator, (TOKEN,)).app().router
    routes = {route.resource.canonical for route in router.routes()
              if route.resource is not None}  # fmt: skip
    assert set(document["paths"]) == routes
