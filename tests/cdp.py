"""A headless Chromium driven over the DevTools protocol (aiohttp websockets): just enough to
open a page, watch its websocket frames and take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests import processes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.frames: list[bytes] = []  # payloads the page's websockets received
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = message.json()
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                response = data["params"]["response"]
                payload = response["payloadData"]
                self.frames.append(base64.b64decode(payload) if response["opcode"] == 2
                                   else payload.encode())  # fmt: skip

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = future
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def received(self) -> bytes:
        return b"".join(self.frames)

    async def screenshot(self, path: Path) -> bytes:
        result = await self.call("Page.captureScreenshot", format="png")
        data = base64.b64decode(result["data"])
        path.write_bytes(data)
        return data


@contextlib.asynccontextmanager
async def chromium(tmp: Path, width: int = 1280, height: int = 800) -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    process = processes.spawn(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--use-gl=swiftshader",
         "--enable-unsafe-swiftshader", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size={width},{height}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        url = None
        loop = asyncio.get_running_loop()
        while url is None:
            line = await asyncio.wait_for(loop.run_in_executor(None, process.stderr.readline), 30)
            if not line:
                raise RuntimeError("chromium exited before listening")
            found = re.search(rb"DevTools listening on (ws://\S+)", line)
            url = found.group(1).decode() if found else None
        port = url.split(":")[2].split("/")[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as reply:
                targets = await reply.json()
            page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with http.ws_connect(page_url, max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Network.enable")
                await page.call("Page.enable")
                try:
                    yield page
                finally:
                    page.reader.cancel()
    finally:
        processes.stop(process, grace_s=0)
