"""`wallboard serve web`: the board in a browser through textual-serve, with what it lacks.

textual-serve (aiohttp) runs one app process per browser tab and relays the terminal over a
websocket; it has no authentication and no session cap. This adds:

- a token (`?token=` on the page URL, or an `Authorization: Bearer` / `X-Wallboard-Token`
  header); the page's websocket URL carries it in its path (`/ws/<token>`), since the page's
  script appends its own query string;
- a cap on concurrent sessions (HTTP 503 beyond it);
- reaping: when a tab closes, the app is asked to quit, then its process group gets SIGTERM,
  then SIGKILL after `reap_timeout_s` (an app that ignores SIGTERM does not outlive its tab);
- URLs built from the request's Host header, so a server bound to 0.0.0.0 works from others.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("wallboard.web")


class ReapingAppService(AppService):
    """An AppService that starts the app in its own process group (no shell) and always
    ends it: quit request, then SIGTERM, then SIGKILL."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], reap_timeout_s: float,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.extra_env = dict(env)
        self.reap_timeout_s = reap_timeout_s
        self._stopped = False

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment.update(self.extra_env)
        return environment

    async def _open_app_process(self, width: int = 80,
                                height: int = 24) -> asyncio.subprocess.Process:  # fmt: skip
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self._build_environment(width, height),
            start_new_session=True)  # fmt: skip
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        process = self._process
        timeout = self.reap_timeout_s
        with contextlib.suppress(Exception):  # a dead app cannot take the quit request
            await asyncio.wait_for(self.send_meta({"type": "quit"}), timeout)
        if process is not None:
            for signum in (None, signal.SIGTERM, signal.SIGKILL):
                if signum is not None:
                    log.info("app %d still running: %s", process.pid, signum.name)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signum)
                try:
                    await asyncio.wait_for(process.wait(), timeout)
                    break
                except TimeoutError:
                    continue
        task, self._task = self._task, None
        if task is not None:  # it ends on the app's EOF, passing on the app's stderr
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)


class WebBoardServer(Server):
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, host: str, port: int,
                 token: str | None, max_sessions: int, reap_timeout_s: float = 5.0,
                 public_url: str | None = None, title: str = "wallboard") -> None:  # fmt: skip
        super().__init__(" ".join(argv), host=host, port=port, title=title,
                         public_url=public_url)  # fmt: skip
        self.argv = list(argv)
        self.env = dict(env)
        self.token = token
        self.max_sessions = max_sessions
        self.reap_timeout_s = reap_timeout_s
        self.fixed_public_url = public_url
        self.services: set[ReapingAppService] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/ws/{token}", self.handle_websocket, name="websocket_token")
        return app

    def child_pids(self) -> list[int]:
        return [pid for s in self.services if (pid := s.pid) is not None]

    # ---- access ---------------------------------------------------------------------------

    def _allowed(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        given = (request.match_info.get("token") or request.query.get("token")
                 or request.headers.get("X-Wallboard-Token") or "")  # fmt: skip
        auth = request.headers.get("Authorization", "")
        if not given and auth.startswith("Bearer "):
            given = auth[len("Bearer "):]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _base_url(self, request: web.Request) -> str:
        return self.fixed_public_url or f"{request.scheme}://{request.host}"

    async def handle_index(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            raise web.HTTPUnauthorized(text="wallboard: a valid token is needed (?token=...)")
        if len(self.services) >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"wallboard: all {self.max_sessions} sessions are in use")
        base = self._base_url(request)
        ws_path = "/ws" if self.token is None else f"/ws/{self.token}"
        ws_base = ("wss:" if base.startswith("https") else "ws:") + base.split(":", 1)[1]
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ws_base + ws_path,
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._allowed(request):
            raise web.HTTPUnauthorized(text="wallboard: a valid token is needed")
        if len(self.services) >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"wallboard: all {self.max_sessions} sessions are in use")
        websocket = web.WebSocketResponse(heartbeat=15)  # a vanished tab: closed within ~30 s
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service = ReapingAppService(
            self.argv, self.env, self.reap_timeout_s, write_bytes=websocket.send_bytes,
            write_str=websocket.send_str, close=websocket.close,
            download_manager=self.download_manager)  # fmt: skip
        self.services.add(service)  # counted before the first await: the cap cannot be raced
        try:
            await websocket.prepare(request)
            await service.start(width, height)
            log.info("web session %d from %s, %dx%d", service.pid or 0, request.remote,
                     width, height)  # fmt: skip
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            pass
        except Exception as error:
            log.warning("web session failed: %s", error)
        finally:
            await service.stop()
            self.services.discard(service)
            with contextlib.suppress(Exception):
                await websocket.close()
            log.info("web session %d ended", service.pid or 0)
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner here; `run_web` reports the bound port instead)"""

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.stop() for s in list(self.services)))


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_web(server: WebBoardServer, ready: Any = None) -> None:
    """Serve until cancelled (a test or the CLI); `ready(port)` once listening."""
    app = await server._make_app()
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    await site.start()
    port = server.port
    sockets = getattr(site._server, "sockets", None)
    if sockets:
        port = int(sockets[0].getsockname()[1])
    if ready is not None:
        ready(port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
