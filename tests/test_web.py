"""`wallboard serve web`: the board in headless Chromium (DevTools protocol), the token, the
session cap, and reaping of closed tabs' apps, even one that ignores SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis
from click.testing import CliRunner

from feeds.web_server import WebBoardServer, run_web
from tests.cdp import CHROMIUM, chromium
from tests.remote_harness import (
    Floor,
    alive,
    children_of,
    start_floor,
    start_server,
    stop_process,
)
from wallboard.cli.main import main

pytestmark = pytest.mark.redis
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def floor(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    floor = start_floor(redis_url, client, tmp_path_factory.mktemp("web"), "agg-web")
    try:
        yield floor
    finally:
        floor.stop(client)
        client.close()


def serve_web(floor: Floor, tmp: Path, *extra: str) -> tuple[object, int, int]:
    process, port = start_server(
        [sys.executable, "-m", "wallboard", "serve", "web", "--redis", floor.url, "--port", "0",
         "--token", TOKEN, "--snapshot-stream", floor.snapshots, "--config", str(floor.config),
         *extra], tmp / "web.log", pattern=r"wallboard web on http://\S+:(\d+)/")  # fmt: skip
    return process, process.pid, port


async def poll(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
async def test_the_browser_shows_the_board(floor: Floor, tmp_path: Path) -> None:
    process, server_pid, port = serve_web(floor, tmp_path, "--page", "overview")
    try:
        async with chromium(tmp_path) as page:
            await page.call("Page.navigate", url=f"http://127.0.0.1:{port}/?token={TOKEN}")

            def painted() -> bool:
                seen = page.received()
                return b"LIVE" in seen and b"via agg-web" in seen and b"vip" in seen

            await poll(painted, 60, "the board to arrive over the websocket")
            await poll(lambda: len(children_of(server_pid)) == 1, 10, "one app process")
            # The terminal element is connected; let the browser paint two frames, then shoot.
            query = "!!document.querySelector('.-connected')"
            connected = await page.call("Runtime.evaluate", expression=query)
            assert connected["result"]["value"] is True
            await page.call("Runtime.evaluate", awaitPromise=True, expression=(
                "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"))
            await asyncio.sleep(0.5)  # the WebGL renderer draws on its own frame
            shot = await page.screenshot(tmp_path / "board.png")
            assert shot.startswith(b"\x89PNG")
            # A page of text and colour, not the empty "Session ended" page (about 10 KB).
            assert len(shot) > 30_000
            apps = children_of(server_pid)
        # The tab (the whole browser) is gone: its app is reaped.
        await poll(lambda: not any(alive(pid) for pid in apps), 40, "the tab's app to be reaped")
    finally:
        stop_process(process)  # type: ignore[arg-type]


async def test_token_and_session_cap(floor: Floor, tmp_path: Path) -> None:
    process, server_pid, port = serve_web(floor, tmp_path, "--max-sessions", "1")
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for url in (f"{base}/", f"{base}/?token=wrong"):
                async with http.get(url) as reply:
                    assert reply.status == 401
            async with http.get(f"{base}/?token={TOKEN}") as reply:
                assert reply.status == 200
                assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws/{TOKEN}"' in (
                    await reply.text())
            async with http.get(f"{base}/", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                assert r.status == 200
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{base}/ws/wrong?width=100&height=30")
            assert refused.value.status == 401

            first = await http.ws_connect(f"{base}/ws/{TOKEN}?width=100&height=30")
            seen = bytearray()

            async def read_until(marker: bytes) -> None:
                while marker not in seen:
                    message = await asyncio.wait_for(first.receive(), 30)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        seen.extend(message.data)

            await read_until(b"LIVE")
            apps = children_of(server_pid)
            assert len(apps) == 1
            # The one session is taken: the page and a second websocket are turned away.
            with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                await http.ws_connect(f"{base}/ws/{TOKEN}?width=100&height=30")
            assert full.value.status == 503
            async with http.get(f"{base}/?token={TOKEN}") as reply:
                assert reply.status == 503
                assert "all 1 sessions are in use" in await reply.text()
            await first.close()  # the tab closes: its app quits
            await poll(lambda: not any(alive(pid) for pid in apps), 15, "the app to be reaped")
            second = await http.ws_connect(f"{base}/ws/{TOKEN}?width=100&height=30")
            await second.close()
    finally:
        stop_process(process)  # type: ignore[arg-type]


STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
sys.stdout.write("__GANGLION__\\n"); sys.stdout.flush()
while True:
    time.sleep(1)
"""


async def test_a_closed_tabs_app_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    server = WebBoardServer([sys.executable, "-c", STUBBORN, str(pid_file)], {},
                            host="127.0.0.1", port=0, token=None, max_sessions=2,
                            reap_timeout_s=0.5)  # fmt: skip
    ports: list[int] = []
    task = asyncio.create_task(run_web(server, ready=ports.append))
    try:
        await poll(lambda: ports, 10, "the server to listen")
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"http://127.0.0.1:{ports[0]}/ws?width=80&height=24")
            await poll(lambda: pid_file.exists() and pid_file.read_text(), 10, "the app")
            pid = int(pid_file.read_text())
            closed = time.monotonic()
            await ws.close()
            await poll(lambda: not alive(pid), 10, "the stubborn app to be killed")
            # quit request ignored (0.5 s), SIGTERM ignored (0.5 s), then SIGKILL
            assert time.monotonic() - closed >= 1.0
            # The session ends once stop() has seen the process go: a moment after it died.
            await poll(lambda: server.services == set(), 5, "the session to be let go")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_listening_beyond_loopback_needs_a_token() -> None:
    result = CliRunner().invoke(main, ["serve", "web", "--host", "0.0.0.0"], env={
        "WALLBOARD_WEB_TOKEN": ""})  # fmt: skip
    assert result.exit_code == 2
    assert "beyond loopback: give --token" in result.output
