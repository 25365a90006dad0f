"""The aggregator's HTTP API (aiohttp, in the aggregator's own event loop; docs/api.md):

- `GET /v1/snapshot`: the snapshot JSON of `wallboard snapshot --json`, `?queues=` and
  `?fields=` to narrow it, ETag / If-None-Match (304 while unchanged);
- `GET /v1/stream`: Server-Sent Events, one per new snapshot (`?diff=1`: changed queues and
  agents only), resumable with `Last-Event-ID` (feeds/api_sse.py);
- `GET /metrics`: Prometheus text (feeds/api_metrics.py); without a token only with
  `[api] public_metrics = true`;
- `GET /healthz`: 200 while the aggregator's feed is live, else 503 with the reason; open,
  as the ingest gateway's, so a load balancer or systemd can probe it without a secret.

Everything else needs a bearer token from `[api] tokens_file` (the ingest gateway's file format
and constant-time check, feeds/ingest_auth.py). It serves what the aggregator already built:
a request never folds, and a snapshot is encoded once however many clients read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from feeds.aggregator import Aggregator
from feeds.api_query import QueryError, entity_tag, matches, narrow, parse_narrowing
from feeds.api_sse import RETRY_MS, StreamHub
from feeds.ingest_auth import TokenCheck
from wallboard.core.config_api import ApiSection
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.snapshot import Snapshot

log = logging.getLogger("wallboard.api")

_SSE_HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once (docs/api.md)
}
_FLAGS: Final = {"1": True, "true": True, "0": False, "false": False, "": False}
EVENT_ID_HEADER: Final = "Wallboard-Event-Id"  # which stream event a /v1/snapshot body is


def _problem(status: int, error: str, detail: str, headers: Mapping[str, str] | None = None,
             extra: Mapping[str, Any] | None = None) -> web.Response:  # fmt: skip
    return web.json_response({"error": error, "detail": detail, **(extra or {})},
                             status=status, headers=headers)  # fmt: skip


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def feed_reason(status: FeedStatus, stale_after_s: float) -> str:
    """Why the feed is not live, in words for an operator."""
    if status.error:
        return f"{status.state}: {status.error}"
    return {
        "connecting": "connecting to Redis",
        "backfilling": "reading the business day's events (backfill), not live yet",
        "reconnecting": "the connection to Redis was lost; reconnecting",
        "stale": f"no data from Redis for over {stale_after_s:g} s",
    }.get(status.state, f"the feed is {status.state}")


class ApiServer:
    """The API of one aggregator: registers with it for every new snapshot."""

    def __init__(self, aggregator: Aggregator, tokens: tuple[str, ...],
                 settings: ApiSection | None = None) -> None:  # fmt: skip
        self.aggregator = aggregator
        self.settings = settings or aggregator.config.api
        self.tokens = TokenCheck(tokens)
        self.hub = StreamHub(resume_events=self.settings.resume_events,
                             send_buffer_events=self.settings.send_buffer_events)  # fmt: skip
        aggregator.built_observers.append(self._offer)
        self._runner: web.AppRunner | None = None
        self._built_live = False
        self._metrics_cache: tuple[Snapshot, str, bytes] | None = None

    def _offer(self, snapshot: Snapshot) -> None:
        self.hub.publish(snapshot)
        # A snapshot built before the feed caught up (mid-backfill) must not pass for live.
        self._built_live = self.aggregator.feed.status.state == "connected"

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/v1/snapshot", self.snapshot)
        application.router.add_get("/v1/stream", self.stream)
        application.router.add_get("/metrics", self.metrics)
        application.router.add_get("/healthz", self.healthz)
        return application

    async def start(self, host: str, port: int) -> None:
        """Listen (OSError when the address cannot be bound)."""
        # handler_cancellation: a stream whose client hung up ends at once (its slot under
        # max_streams is free again), not at the next event it fails to write.
        runner = web.AppRunner(self.app(), handle_signals=False, access_log=None,
                               handler_cancellation=True, shutdown_timeout=2.0)  # fmt: skip
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        if not is_loopback(host):
            log.warning("the API listens on %s, beyond this machine: put TLS in front of it "
                        "(a reverse proxy, docs/api.md)", host)  # fmt: skip

    @property
    def addresses(self) -> list[Any]:
        return [] if self._runner is None else list(self._runner.addresses)

    async def close(self) -> None:
        self.hub.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        with contextlib.suppress(ValueError):
            self.aggregator.built_observers.remove(self._offer)

    # ---- auth -----------------------------------------------------------------------------

    def _denied(self, request: web.Request) -> web.Response | None:
        if self.tokens.identify(request.headers.get("Authorization")) is not None:
            return None
        return _problem(401, "unauthorized", "a valid bearer token is required",
                        {"WWW-Authenticate": 'Bearer realm="wallboard"'})  # fmt: skip

    def _no_snapshot(self) -> web.Response:
        return _problem(503, "no_snapshot", "the aggregator has not built a snapshot yet",
                        {"Retry-After": str(self.settings.retry_after_s)})  # fmt: skip

    # ---- GET /v1/snapshot ------------------------------------------------------------------

    async def snapshot(self, request: web.Request) -> web.StreamResponse:
        denied = self._denied(request)
        if denied is not None:
            return denied
        try:
            narrowing = parse_narrowing(request.query)
        except QueryError as exc:
            extra = {"valid": list(exc.valid)} if exc.valid else None
            return _problem(400, exc.error, exc.detail, extra=extra)
        latest = self.hub.latest
        if latest is None:
            return self._no_snapshot()
        body = latest.body if narrowing.whole else narrow(latest.document, narrowing)
        tag = latest.tag if narrowing.whole else entity_tag(body)
        headers = {"ETag": tag, "Cache-Control": "no-cache", EVENT_ID_HEADER: latest.event_id}
        if matches(request.headers.get("If-None-Match"), tag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/json", headers=headers)

    # ---- GET /v1/stream --------------------------------------------------------------------

    async def stream(self, request: web.Request) -> web.StreamResponse:
        denied = self._denied(request)
        if denied is not None:
            return denied
        diff = _FLAGS.get(request.query.get("diff", "").lower())
        if diff is None:
            return _problem(400, "bad_parameter", "`diff` takes 1 or 0")
        hub = self.hub
        if len(hub.clients) >= self.settings.max_streams:
            hub.counts.refused_full += 1
            return _problem(503, "too_many_streams",
                            f"{self.settings.max_streams} streams are open (api.max_streams)",
                            {"Retry-After": str(self.settings.retry_after_s)})  # fmt: skip
        # Subscribed before the first await: no event falls between the backlog and the queue.
        client = hub.subscribe(diff, request.headers.get("Last-Event-ID"), request.transport)
        response = web.StreamResponse(headers=_SSE_HEADERS)
        try:
            await response.prepare(request)
            await response.write(b"retry: %d\n\n" % RETRY_MS)
            backlog, client.backlog = client.backlog, []
            for chunk in backlog:
                await response.write(chunk)
            while (chunk_or_end := await client.queue.get()) is not None:
                await response.write(chunk_or_end)
        except ConnectionError:  # hung up, or dropped as too slow (aiohttp's reset errors)
            pass
        finally:
            hub.unsubscribe(client)
        return response

    # ---- GET /metrics, /healthz ------------------------------------------------------------

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        if not self.settings.public_metrics:
            denied = self._denied(request)
            if denied is not None:
                return denied
        snapshot = self.hub.latest_snapshot
        if snapshot is None:
            return self._no_snapshot()
        from feeds.api_metrics import render_metrics

        aggregator = self.aggregator
        status = aggregator.feed.status
        # One render per snapshot and feed state, however many scrapers (with 2,000 agents'
        # series a render is ~0.2 s), and off the loop: the stream's clients keep receiving.
        cached = self._metrics_cache  # the snapshot itself is kept: its id cannot be reused
        if cached is None or cached[0] is not snapshot or cached[1] != status.state:
            body = await asyncio.to_thread(render_metrics, snapshot, status, aggregator.config)
            cached = self._metrics_cache = (snapshot, status.state, body)
        return web.Response(body=cached[2], headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(self, request: web.Request) -> web.Response:
        aggregator = self.aggregator
        status = aggregator.feed.status
        latest = self.hub.latest
        body: dict[str, Any] = {
            "feed": status.state, "lag_s": status.lag_s, "published": aggregator.published,
            "publish_error": aggregator.publish_error, "streams": len(self.hub.clients),
            "last_event_id": None if latest is None else latest.event_id,
        }  # fmt: skip
        if status.state == "connected" and latest is not None and self._built_live:
            return web.json_response({"status": "ok", **body})
        reason = (feed_reason(status, aggregator.config.feed.stale_after_s)
                  if status.state != "connected" else "no live snapshot built yet")  # fmt: skip
        return web.json_response({"status": "unavailable", "reason": reason, **body},
                                 status=503,
                                 headers={"Retry-After": str(self.settings.retry_after_s)})
