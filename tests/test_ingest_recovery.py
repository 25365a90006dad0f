"""The gateway when Redis goes away: 503 with Retry-After, nothing written, and it recovers by
itself when a server is back on the same port (a real server killed and restarted). Also the
real command: `wallboard ingest` listening on a socket."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from feeds.embedded import EmbeddedServer, free_port
from feeds.ingest_app import Gateway, GatewayOptions
from tests import processes

pytestmark = [pytest.mark.redis, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "tok-recovery-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STREAM = "wallboard:events"


def offered(contact: str) -> dict[str, str]:
    return {"type": "contact.offered", "ts": "1794369600000", "contact": contact,
            "queue": "presale", "channel": "phone", "id": f"rec-{contact}"}  # fmt: skip


async def test_redis_down_gives_503_then_recovers(own_server: EmbeddedServer) -> None:
    options = GatewayOptions(redis_url=own_server.url, stream=STREAM, tokens=(TOKEN,),
                             window_ms=60_000, redis_timeout_s=0.5, retry_after_s=3)  # fmt: skip
    async with TestClient(TestServer(Gateway(options).app())) as test:
        response = await test.post("/v1/events", json=[offered("c1")], headers=AUTH)
        assert response.status == 202

        own_server.kill()  # SIGKILL: connections drop, the port is refused
        response = await test.post("/v1/events", json=[offered("c2"), offered("c3")],
                                   headers=AUTH)  # fmt: skip
        assert response.status == 503
        assert response.headers["Retry-After"] == "3"
        assert (await response.json())["error"] == "redis_unavailable"
        health = await test.get("/healthz")
        assert health.status == 503 and (await health.json())["redis"] == "down"

        own_server.start()  # a fresh, empty server on the same port
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline:
            response = await test.post("/v1/events", json=[offered("c2"), offered("c3")],
                                       headers=AUTH)  # fmt: skip
            status = response.status
            if status == 202:
                break
            await asyncio.sleep(0.05)
        assert status == 202
        assert (await (await test.get("/healthz")).json())["length"] == 2
        metrics = await (await test.get("/metrics")).text()
        assert "wallboard_ingest_redis_errors_total 0.0" not in metrics
    client = redis.Redis.from_url(own_server.url, decode_responses=True)
    try:
        # Only the retried request: the refused one wrote nothing, the old server is gone.
        assert [fields["contact"] for _, fields in client.xrange(STREAM)] == ["c2", "c3"]  # type: ignore[union-attr,index]
    finally:
        client.close()


async def test_the_command_listens_and_writes(tmp_path: Path, redis_url: str, stream_key: str,
                                              redis_client: redis.Redis) -> None:  # fmt: skip
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# test\n{TOKEN}\n")
    port = free_port()
    process = processes.spawn(
        [sys.executable, "-m", "wallboard", "ingest", "--redis", redis_url, "--host",
         "127.0.0.1", "--port", str(port), "--tokens-file", str(tokens), "--stream", stream_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 20
            healthy: dict[str, Any] = {}
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    async with session.get(f"{base}/healthz") as response:
                        healthy = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            assert healthy.get("status") == "ok", process.stderr.read() if process.stderr else ""
            async with session.post(f"{base}/v1/events", json=offered("c1"),
                                    headers=AUTH) as response:  # fmt: skip
                assert response.status == 202
            async with session.post(f"{base}/v1/events", json=offered("c1")) as response:
                assert response.status == 401
        assert redis_client.xlen(stream_key) == 1
    finally:
        processes.stop(process)
