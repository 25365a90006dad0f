"""The HTTP ingest gateway (aiohttp): POST /v1/events, GET /healthz, GET /metrics.

Every event is validated with wallboard.core.events.decode, the fold's own gate, and with the
board's time rule (wallboard.core.future_rule: stamped more than `[board] max_future_s` ahead of
the gateway's clock is bad_timestamp, which every board would count); a request is all or
nothing (feeds/ingest_store.py writes it in one atomic script). docs/ingest.md has the
contract; docs/openapi-ingest.yaml the schema.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio
from aiohttp import web

from feeds.ingest_auth import TokenCheck
from feeds.ingest_body import BodyError, UnsupportedType, split_body
from feeds.ingest_limit import RateLimiter
from feeds.ingest_metrics import CONTENT_TYPE_LATEST, IngestMetrics
from feeds.ingest_store import DEFAULT_ID_PREFIX, AsyncBatchWriter, async_client, stream_fields
from wallboard.core.events import MAX_FIELD_LEN, Rejection, decode
from wallboard.core.future_rule import future_limit_ms, future_rejection

# Redis failures that mean "not reachable now": the answer is 503 and the client retries.
_UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError, TimeoutError)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class GatewayOptions:
    redis_url: str
    stream: str
    tokens: tuple[str, ...]
    window_ms: int
    max_body_bytes: int = 1_048_576
    rate_per_s: float = 20.0
    burst: int = 40
    retry_after_s: int = 2
    redis_timeout_s: float = 2.0
    id_prefix: str = DEFAULT_ID_PREFIX
    clock: Callable[[], float] = field(default=time.monotonic)  # the rate limiter's
    # The board's `[board] max_future_s`, judged against this clock (epoch ms).
    max_future_s: float = 300.0
    wall_clock_ms: Callable[[], int] = field(default=wall_clock_ms)


def _problem(status: int, error: str, detail: str,
             headers: Mapping[str, str] | None = None) -> web.Response:  # fmt: skip
    return web.json_response({"error": error, "detail": detail}, status=status, headers=headers)


def _producer_id(item: object) -> str | None:
    """The event's producer `id`, to name it in a 400 (cut to the contract's field length)."""
    value = item.get("id") if isinstance(item, Mapping) else None
    return value[:MAX_FIELD_LEN] if isinstance(value, str) else None


class Gateway:
    """One gateway: its settings, its Redis client (made on startup) and its metrics."""

    def __init__(self, options: GatewayOptions) -> None:
        self.options = options
        self.tokens = TokenCheck(options.tokens)
        self.limiter = RateLimiter(options.rate_per_s, options.burst)
        self.metrics = IngestMetrics()
        self._client: redis.asyncio.Redis | None = None
        self._writer: AsyncBatchWriter | None = None

    async def _redis(self, app: web.Application) -> AsyncIterator[None]:
        opts = self.options
        self._client = async_client(opts.redis_url, opts.redis_timeout_s)
        self._writer = AsyncBatchWriter(self._client, opts.stream, opts.window_ms, opts.id_prefix)
        yield
        await self._client.aclose()

    def app(self) -> web.Application:
        # aiohttp refuses a larger body while reading it (a chunked body has no length).
        application = web.Application(client_max_size=self.options.max_body_bytes)
        application.cleanup_ctx.append(self._redis)
        application.router.add_post("/v1/events", self.post_events)
        application.router.add_get("/healthz", self.healthz)
        application.router.add_get("/metrics", self.metrics_page)
        return application

    # ---- POST /v1/events ----------------------------------------------------------------

    async def post_events(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        response = await self._post(request)
        self.metrics.latency.observe(time.perf_counter() - started)
        self.metrics.requests.labels(str(response.status)).inc()
        return response

    async def _post(self, request: web.Request) -> web.Response:
        opts = self.options
        token = self.tokens.identify(request.headers.get("Authorization"))
        if token is None:
            return _problem(401, "unauthorized", "a valid bearer token is required",
                            {"WWW-Authenticate": 'Bearer realm="wallboard"'})  # fmt: skip
        wait = self.limiter.wait_s(token, opts.clock())
        if wait > 0:
            retry = {"Retry-After": str(max(1, math.ceil(wait)))}
            return _problem(429, "rate_limited",
                            f"over {opts.rate_per_s:g} requests/s for this token", retry)
        too_large = _problem(413, "too_large", f"body over {opts.max_body_bytes} bytes")
        length = request.content_length
        if length is not None and length > opts.max_body_bytes:
            return too_large
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return too_large
        items = split_body(request.headers.get("Content-Type", ""), raw)
        if isinstance(items, UnsupportedType):
            return _problem(415, "unsupported_media_type", f"{items.content_type!r}: send "
                            "application/json or application/x-ndjson")  # fmt: skip
        if isinstance(items, BodyError):
            self.metrics.rejected.labels("malformed").inc()
            error = {"index": items.at, "id": None, "reason": "malformed", "field": None,
                     "detail": items.detail}  # fmt: skip
            return web.json_response({"errors": [error]}, status=400)
        return await self._write(items)

    async def _write(self, items: list[object]) -> web.Response:
        errors: list[dict[str, Any]] = []
        batch: list[dict[str, str]] = []
        opts = self.options
        limit = future_limit_ms(opts.wall_clock_ms(), opts.max_future_s)
        for index, item in enumerate(items):
            result = decode(item)
            if not isinstance(result, Rejection) and result.ts > limit:
                result = future_rejection(result.ts, opts.max_future_s, None)
            if isinstance(result, Rejection):
                self.metrics.rejected.labels(result.reason).inc()
                errors.append({"index": index, "id": _producer_id(item), "reason": result.reason,
                               "field": result.field, "detail": result.detail})  # fmt: skip
            elif not errors:
                batch.append(stream_fields(item))  # type: ignore[arg-type]  # a Mapping
        if errors:
            return web.json_response({"errors": errors}, status=400)
        assert self._writer is not None
        try:
            written = await self._writer.write(batch)
        except _UNREACHABLE as exc:
            return self._unavailable(exc)
        except redis.ResponseError as exc:
            self.metrics.redis_errors.inc()
            if str(exc).startswith("WRONGTYPE"):
                return _problem(500, "stream_misconfigured", str(exc))
            return self._unavailable(exc)  # OOM, LOADING, BUSY: the server may recover
        except redis.RedisError as exc:
            return self._unavailable(exc)
        duplicates = sum(1 for item in written if item.duplicate)
        self.metrics.accepted.inc(len(written))
        self.metrics.duplicates.inc(duplicates)
        body = {"accepted": len(written), "duplicates": duplicates,
                "ids": [item.entry_id for item in written]}  # fmt: skip
        return web.json_response(body, status=202)

    def _unavailable(self, exc: BaseException) -> web.Response:
        if not isinstance(exc, redis.ResponseError):
            self.metrics.redis_errors.inc()
        detail = str(exc) or type(exc).__name__
        return _problem(503, "redis_unavailable", f"nothing was written: {detail}",
                        {"Retry-After": str(self.options.retry_after_s)})  # fmt: skip

    # ---- GET /healthz, /metrics ---------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        assert self._client is not None
        stream = self.options.stream
        try:
            await self._client.ping()
            length = await self._client.xlen(stream)
        except (TimeoutError, redis.RedisError, OSError) as exc:
            self.metrics.redis_errors.inc()
            body = {"status": "unavailable", "redis": "down", "stream": stream,
                    "detail": str(exc) or type(exc).__name__}  # fmt: skip
            return web.json_response(body, status=503,
                                     headers={"Retry-After": str(self.options.retry_after_s)})
        return web.json_response({"status": "ok", "redis": "up", "stream": stream,
                                  "length": int(length)})  # fmt: skip

    async def metrics_page(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response
