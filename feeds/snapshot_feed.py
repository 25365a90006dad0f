"""A board source that draws the snapshots `wallboard aggregate` publishes instead of folding.

Several aggregators may publish to the same stream (redundancy); each entry names its
aggregator. A viewer follows one of them and ignores the others' entries (it reads them, to
know who is alive, but never decodes them). When the followed aggregator publishes nothing
for `feed.stale_after_s`, the viewer fails over to the aggregator that published most
recently, says so in the feed notice, and stays with it (no flapping back). If none is
publishing, the board shows STALE: it never draws a frozen snapshot as live.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Final

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from feeds.connect import async_client
from feeds.live import wall_clock_ms
from feeds.live_status import StatusTracker, url_secrets
from feeds.reconnect import CONNECTION_ERRORS, Reconnecting, stop_if_cancelled
from feeds.redis_window import redact
from feeds.snapshot_wire import Published, WireError, decode_entry, entry_aggregator
from wallboard.core.config import Config
from wallboard.core.drilldown import WaitingContact
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.fold import BoardState
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot
from wallboard.core.timeutil import to_local

START_SCAN: Final = 50  # newest entries read at start to find who publishes and the latest
READ_COUNT: Final = 100


def _id_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


class SnapshotFeed(Reconnecting):
    """`BoardSource` plus `latest_snapshot()`: the app draws that snapshot as it is."""

    def __init__(self, url: str, config: Config, *, key: str = "wallboard:snapshots",
                 prefer: str | None = None,
                 clock: Callable[[], int] = wall_clock_ms) -> None:  # fmt: skip
        self.url = url
        self.key = key
        self.config = config
        self.clock = clock
        self.prefer = prefer
        self.stale_after_ms = round(config.feed.stale_after_s * 1000)
        self._state = BoardState(config)  # never folded; only the drill-down reads it
        self._status = StatusTracker(f"{redact(url)} {key}", clock, self.stale_after_ms,
                                      url_secrets(url))  # fmt: skip
        self._client: aioredis.Redis | None = None
        self._cursor: str | None = None
        self._seen: dict[str, tuple[int, dict[bytes, bytes]]] = {}  # agg -> (seen at, fields)
        self._fresh_fields: dict[bytes, bytes] | None = None  # the followed one's, not decoded
        self.following: str | None = None
        self.latest: Published | None = None
        self._latest_seen_ms = 0
        self._backoff_s = config.feed.backoff_min_s
        self._closed = False

    # ---- what the app reads ---------------------------------------------------------------

    @property
    def state(self) -> BoardState:
        return self._state

    def latest_snapshot(self) -> Snapshot | None:
        return None if self.latest is None else self.latest.snapshot

    def waiting_contacts(self, queue: str) -> list[WaitingContact]:
        """The drill-down's rows, as the aggregator saw them at the snapshot's time."""
        latest = self.latest
        if latest is None:
            return []
        as_of = latest.snapshot.as_of_ms or 0
        return [WaitingContact(contact, channel, shop, since, max(0, as_of - since) / 1000)
                for contact, channel, shop, since in latest.waiting.get(queue, [])]  # fmt: skip

    @property
    def status(self) -> FeedStatus:
        own = self._status.status(None)
        latest = self.latest
        via = None if self.following is None else clean(self.following, 40)
        if own.state != "connected":
            return msgspec.structs.replace(own, via=via)
        now = self.clock()
        if latest is None:  # connected, but no aggregator has published a snapshot we can read
            waited = now - (own.since_ms or now)
            return msgspec.structs.replace(
                own, state="connecting" if waited <= self.stale_after_ms else "stale", via=via,
                error=f"no snapshot on {clean(self.key, 80)} yet: is `wallboard aggregate` "
                      "running?")  # fmt: skip
        silent_ms = now - self._seen.get(latest.aggregator, (self._latest_seen_ms, {}))[0]
        if silent_ms > self.stale_after_ms:
            since = now - silent_ms + self.stale_after_ms
            error = f"no aggregator has published since {self._hms(now - silent_ms)}"
            return FeedStatus(state="stale", source=own.source, since_ms=since,
                              last_data_ms=latest.status.last_data_ms, via=via,
                              notice=self._status.notice, error=error)  # fmt: skip
        up = latest.status
        lag = None if up.lag_s is None else up.lag_s + max(0, now - self._latest_seen_ms) / 1000
        return msgspec.structs.replace(
            up, source=f"{clean(up.source, 120)} via {via} on {own.source}", lag_s=lag, via=via,
            notice=self._status.notice or up.notice)  # fmt: skip

    # ---- the loop -------------------------------------------------------------------------

    async def _session(self) -> None:
        feed = self.config.feed
        client = async_client(
            self.url, socket_timeout=feed.socket_timeout_s,
            socket_connect_timeout=feed.socket_timeout_s, retry=Retry(NoBackoff(), 0),
            client_name="wallboard-viewer",
        )  # fmt: skip
        self._client = client
        await client.ping()
        self._status.ok()
        if self._cursor is None:
            await self._start(client)
        self._status.enter("connected")
        self._backoff_s = feed.backoff_min_s
        while not self._closed:
            reply: Any = await client.xread({self.key: self._cursor or "0-0"}, count=READ_COUNT,
                                            block=feed.block_ms)  # fmt: skip
            stop_if_cancelled()
            now = self.clock()
            count = 0
            items = reply.items() if isinstance(reply, dict) else (reply or [])
            for _stream, entries in items:
                for entry_id, fields in entries:
                    self._take(fields, now)
                    self._cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    count += 1
            self._status.entries_read(count)
            self._choose(now)

    async def _start(self, client: aioredis.Redis) -> None:
        """Who published lately, and their newest snapshots: entries' ages come from their
        IDs against the server's own clock (TIME), so machine clock skew does not matter."""
        entries: Any = await client.xrevrange(self.key, "+", "-", count=START_SCAN)
        seconds, micros = await client.time()
        server_ms = int(seconds) * 1000 + int(micros) // 1000
        now = self.clock()
        for entry_id, fields in reversed(entries):
            self._take(fields, now - max(0, server_ms - _id_ms(entry_id)))
        self._cursor = (entries[0][0].decode() if entries else "0-0")
        self._choose(now)

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.aclose()

    # ---- following one aggregator ---------------------------------------------------------

    def _take(self, fields: dict[bytes, bytes], seen_ms: int) -> None:
        agg = entry_aggregator(fields)
        if agg is None:
            return
        self._seen[agg] = (seen_ms, fields)
        if agg == self.following:
            self._fresh_fields = fields
            self._latest_seen_ms = seen_ms

    def _choose(self, now: int) -> None:
        fresh = {agg: seen for agg, (seen, _f) in self._seen.items()
                 if now - seen <= self.stale_after_ms}  # fmt: skip
        current = self.following
        if current is None or (current not in fresh and fresh):
            if not fresh:
                return
            new = (self.prefer if self.prefer in fresh
                   else max(fresh, key=lambda agg: (fresh[agg], agg)))  # fmt: skip
            if current is not None:
                silent = self._hms(self._seen[current][0])
                self._status.notice = clean(
                    f"Failover: aggregator {current} silent since {silent}; following {new}", 160)
            self.following = new
            self._latest_seen_ms, self._fresh_fields = self._seen[new]
        if self._fresh_fields is not None:
            fields, self._fresh_fields = self._fresh_fields, None
            try:
                self.latest = decode_entry(fields)
            except WireError as exc:
                self._status.notice = clean(str(exc), 160)

    def _hms(self, ms: int) -> str:
        return to_local(ms, self.config.tz).strftime("%H:%M:%S")
