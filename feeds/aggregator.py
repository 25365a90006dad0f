"""`wallboard aggregate`: fold the event stream(s) once and publish the board's snapshot to a
snapshot stream at a fixed rate, so any number of boards can draw it without folding.

The fold is the board's own: a `LiveFeed` (backfill, follow, gaps, resets, reconnects). Every
`1 / rate_hz` seconds the aggregator advances the state to its clock, builds the snapshot and
XADDs it (feeds.snapshot_wire) with its id and its feed status, trimming the stream with
`MAXLEN ~`. It publishes even while its own feed is down: the entry then carries the stale or
reconnecting status, and viewers show that rather than a frozen board that looks live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from feeds.connect import async_client
from feeds.live import LiveFeed, wall_clock_ms
from feeds.live_status import url_secrets
from feeds.reconnect import CONNECTION_ERRORS
from feeds.snapshot_wire import WAITING_LIMIT, encode_entry, encode_snapshot, encode_waiting
from wallboard.core.config import Config
from wallboard.core.drilldown import waiting_contacts
from wallboard.core.snapshot import Snapshot, build_snapshot

log = logging.getLogger("wallboard.aggregate")

DEFAULT_SNAPSHOT_KEY: Final = "wallboard:snapshots"
DEFAULT_MAXLEN: Final = 120  # ~60 s at 2 Hz from one aggregator: enough to start a viewer


def default_aggregator_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Aggregator:
    def __init__(self, url: str, streams: list[str], config: Config, *,
                 snapshot_key: str = DEFAULT_SNAPSHOT_KEY, rate_hz: float = 2.0,
                 maxlen: int = DEFAULT_MAXLEN, aggregator_id: str | None = None,
                 clock: Callable[[], int] = wall_clock_ms) -> None:  # fmt: skip
        if rate_hz <= 0:
            raise ValueError("the publish rate must be above 0 Hz")
        if maxlen < 1:
            raise ValueError("the snapshot stream length must be at least 1")
        self.url = url
        self.config = config
        self.snapshot_key = snapshot_key
        self.rate_hz = rate_hz
        self.maxlen = maxlen
        self.id = aggregator_id or default_aggregator_id()
        self.clock = clock
        self.feed = LiveFeed(url, streams, config, clock=clock)
        self.published = 0
        self.publish_error: str | None = None
        self._secrets = url_secrets(url)
        self._client: aioredis.Redis | None = None
        self._closed = False
        self._last_key: tuple[object, ...] = ()
        self._last_blob: bytes = b""
        self._last_waiting: bytes = b""
        # Called with each new snapshot while the feed is caught up (webhooks: one process
        # sends them for the whole floor, not every viewer).
        self.snapshot_observers: list[Callable[[Snapshot], None]] = []
        # Called with every new snapshot whatever the feed's state, as it is published (the
        # HTTP API, feeds/api_server.py: its clients judge the feed by /healthz).
        self.built_observers: list[Callable[[Snapshot], None]] = []

    async def run(self) -> None:
        """Follow the events and publish until closed or cancelled."""
        self._closed = False
        feed_task = asyncio.create_task(self.feed.run(), name="aggregate-feed")
        loop = asyncio.get_running_loop()
        period = 1 / self.rate_hz
        next_at = loop.time()
        try:
            while not self._closed:
                await self.publish_once()
                # a fixed cadence (not sleep(period) after the work): viewers judge staleness
                # by the gap between entries
                next_at = max(next_at + period, loop.time())
                await asyncio.sleep(next_at - loop.time())
        finally:
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
            await self.feed.close()
            await self._drop_client()

    async def close(self) -> None:
        self._closed = True

    async def publish_once(self) -> str | None:
        """Build and XADD one snapshot; the entry ID, or None when Redis refused it (logged;
        the next tick tries again on a new connection)."""
        fields = self._entry()
        try:
            client = self._connect()
            entry_id = await client.xadd(self.snapshot_key, fields,  # type: ignore[arg-type]
                                         maxlen=self.maxlen, approximate=True)  # fmt: skip
        except CONNECTION_ERRORS as exc:
            text = self._describe(exc)
            if text != self.publish_error:
                log.warning("publishing to %s failed: %s", self.snapshot_key, text)
            self.publish_error = text
            await self._drop_client()
            return None
        if self.publish_error is not None:
            log.info("publishing to %s again", self.snapshot_key)
        self.publish_error = None
        self.published += 1
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def _entry(self) -> dict[str, bytes]:
        now = self.clock()
        state = self.feed.state  # replaced on a rebuild: read it each time
        status = self.feed.status
        key = (id(state), state.events_applied, state.events_duplicate,
               sum(state.rejected.values()), now // 1000)  # fmt: skip
        if key != self._last_key or not self._last_blob:
            # as the board's tick: nothing new within the same second gives the same snapshot
            state.advance(now)
            snapshot = build_snapshot(state)
            self._last_key, self._last_blob = key, encode_snapshot(snapshot)
            for observe in self.built_observers:
                observe(snapshot)
            if status.state == "connected":
                for observe in self.snapshot_observers:
                    observe(snapshot)
            self._last_waiting = encode_waiting({
                name: [(r.contact, r.channel, r.shop, r.since_ms)
                       for r in waiting_contacts(state, name, WAITING_LIMIT)]
                for name, queue in state.queues.items() if queue.waiting})  # fmt: skip
        return encode_entry(self.id, self.published + 1, status, self._last_blob,
                            self._last_waiting)  # fmt: skip

    def _connect(self) -> aioredis.Redis:
        if self._client is None:
            feed = self.config.feed
            self._client = async_client(
                self.url, socket_timeout=feed.socket_timeout_s,
                socket_connect_timeout=feed.socket_timeout_s, retry=Retry(NoBackoff(), 0),
                client_name="wallboard-aggregate",
            )  # fmt: skip
        return self._client

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.aclose()

    def _describe(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

