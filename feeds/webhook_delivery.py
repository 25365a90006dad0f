"""One webhook's delivery: its filters, a bounded queue, and a background task that POSTs each
notification in order with retries and exponential backoff (docs/webhooks.md)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import deque
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgspec

from feeds.webhook_diff import Notification
from wallboard.core.config_webhooks import WebhookSection

USER_AGENT: Final = "wallboard-webhooks/1"
# Client errors that a retry can fix; any other 4xx is the request's fault: drop it.
RETRY_4XX: Final = frozenset({408, 409, 425, 429})
_SEVERITY_RANK: Final = {"warn": 0, "critical": 1}


class WebhookStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the board shows per webhook. `url` never carries credentials."""

    name: str
    url: str
    pending: int  # queued plus the one being sent
    delivered: int
    dropped: int  # gave up after max_attempts, refused with a 4xx, or pushed out of the queue
    failures_in_row: int  # failed attempts since the last success
    last_error: str | None
    last_error_at_ms: int | None
    last_success_at_ms: int | None

    @property
    def healthy(self) -> bool:
        return self.failures_in_row == 0


def redact_url(url: str) -> str:
    """No user or password, query values masked, path kept only to its first segment (Slack
    style URLs carry their token in the path)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    segments = [s for s in parts.path.split("/") if s]
    path = "".join(f"/{s}" for s in segments[:1]) + ("/***" if len(segments) > 1 else "")
    query = "&".join(f"{item.partition('=')[0]}=***" for item in parts.query.split("&") if item)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


class Channel:
    def __init__(self, section: WebhookSection, secret: str,
                 clock: Callable[[], int]) -> None:  # fmt: skip
        self.section = section
        self.name = section.name or redact_url(section.url)
        self._redacted = redact_url(section.url)
        self._secret = secret.encode() if secret else None
        self._clock = clock
        self._queue: deque[Notification] = deque()
        self._current: Notification | None = None
        self._wake: asyncio.Event | None = None
        self._rules = frozenset(section.rules)
        self._events = frozenset(section.events)
        self._min_rank = _SEVERITY_RANK[section.min_severity]
        self.delivered = self.dropped = self.failures_in_row = 0
        self.last_error: str | None = None
        self.last_error_at_ms: int | None = None
        self.last_success_at_ms: int | None = None

    def accepts(self, note: Notification) -> bool:
        if self._events and note.kind not in self._events:
            return False
        if note.rule is not None and self._rules and note.rule not in self._rules:
            return False
        return note.severity is None or _SEVERITY_RANK.get(note.severity, 1) >= self._min_rank

    def put(self, note: Notification) -> None:
        if len(self._queue) >= self.section.queue_size:
            self._queue.popleft()  # the newest news matters most on a flooded receiver
            self.dropped += 1
        self._queue.append(note)
        if self._wake is not None:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue) + (self._current is not None)

    def status(self) -> WebhookStatus:
        return WebhookStatus(
            name=self.name, url=self._redacted, pending=self.pending, delivered=self.delivered,
            dropped=self.dropped, failures_in_row=self.failures_in_row,
            last_error=self.last_error, last_error_at_ms=self.last_error_at_ms,
            last_success_at_ms=self.last_success_at_ms,
        )  # fmt: skip

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Send queued notifications one at a time, in order, until cancelled."""
        self._wake = asyncio.Event()
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            self._current = self._queue.popleft()
            try:
                await self._deliver(session, self._current)
            finally:
                self._current = None

    async def _deliver(self, session: aiohttp.ClientSession, note: Notification) -> None:
        hook = self.section
        for attempt in range(1, hook.max_attempts + 1):
            retry_after = None
            try:
                async with session.post(
                    hook.url, data=note.body, headers=self._headers(note),
                    timeout=aiohttp.ClientTimeout(total=hook.timeout_s), allow_redirects=False,
                ) as response:  # fmt: skip
                    code = response.status
                    retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                self._failed(_describe(exc, hook.url, self._redacted))
            else:
                if 200 <= code < 300:
                    self.delivered += 1
                    self.failures_in_row = 0
                    self.last_success_at_ms = self._clock()
                    return
                self._failed(f"HTTP {code}")
                if 400 <= code < 500 and code not in RETRY_4XX:
                    break
            if attempt < hook.max_attempts:
                delay = hook.backoff_s * 2 ** (attempt - 1)
                await asyncio.sleep(min(hook.backoff_max_s, max(delay, retry_after or 0)))
        self.dropped += 1

    def _failed(self, error: str) -> None:
        self.failures_in_row += 1
        self.last_error = error
        self.last_error_at_ms = self._clock()

    def _headers(self, note: Notification) -> dict[str, str]:
        headers = {**self.section.headers, "Content-Type": "application/json",
                   "User-Agent": USER_AGENT, "Idempotency-Key": note.key,
                   "X-Wallboard-Event": note.kind}  # fmt: skip
        if self._secret is not None:
            digest = hmac.new(self._secret, note.body, hashlib.sha256).hexdigest()
            headers["X-Wallboard-Signature"] = f"sha256={digest}"
        return headers


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is ignored: backoff applies)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _describe(exc: BaseException, url: str, redacted: str) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text.replace(url, redacted)[:300]
