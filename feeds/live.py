"""The live feed behind `wallboard board`: backfill the business day from Redis streams, then
follow them with XREAD BLOCK, reconnecting with backoff, never double counting or skipping
silently. docs/live-feed.md states the rules.

The feed only folds entries into `state` and keeps `status`; the app advances the state and
builds snapshots on its own timer, in the same asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from feeds.connect import async_client
from feeds.live_status import StatusTracker, url_secrets
from feeds.live_streams import (
    Position,
    Verdict,
    check_stream,
    fold_backfill,
    format_id,
    read_backfill,
    to_id,
)
from feeds.reconnect import CONNECTION_ERRORS, Reconnecting, stop_if_cancelled
from feeds.redis_window import redact
from wallboard.core.businessday import BusinessCalendar
from wallboard.core.config import Config
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, ingest
from wallboard.core.sanitize import clean
from wallboard.core.timeutil import to_local

FOLLOW_COUNT: Final = 1000  # entries per XREAD: bounds the time one batch holds the loop


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class LiveFeed(Reconnecting):
    """Backfill, then follow forever (`run()`, reconnecting with backoff)."""

    def __init__(self, url: str, streams: list[str], config: Config, *,
                 clock: Callable[[], int] = wall_clock_ms) -> None:  # fmt: skip
        if not streams:
            raise ValueError("the live feed needs at least one stream key")
        self.url = url
        self.streams = list(dict.fromkeys(streams))
        self.config = config
        self.clock = clock
        self._state = BoardState(config)
        source = f"{redact(url)} {' '.join(self.streams)}"
        self._status = StatusTracker(source, clock, round(config.feed.stale_after_s * 1000),
                                     url_secrets(url))  # fmt: skip
        self._client: aioredis.Redis | None = None
        self._positions: dict[str, Position] | None = None  # None until the first backfill
        self._backoff_s = config.feed.backoff_min_s
        self._next_check = 0.0
        self._closed = False

    @property
    def state(self) -> BoardState:
        return self._state

    @property
    def status(self) -> FeedStatus:
        return self._status.status(self._state.newest_event_ts)

    # ---- the loop -------------------------------------------------------------------------

    async def _session(self) -> None:
        client = self._connect()
        sent = self._status.sending()
        await client.ping()
        self._status.ok(sent)
        if self._positions is None:
            await self._backfill(client)
        else:
            await self._check(client)
        self._status.enter("connected")
        self._backoff_s = self.config.feed.backoff_min_s
        await self._follow(client)

    def _connect(self) -> aioredis.Redis:
        feed = self.config.feed
        # No retries inside redis-py: a dead server must surface at once, not after a minute
        # of silent retries of a blocked read; this loop does the reconnecting.
        # Text decoded per field in C, a byte that is not UTF-8 kept as a lone surrogate
        # (surrogateescape): the contract rejects that entry as `bad_encoding`, where strict
        # decoding failed the whole reply (XREAD, XRANGE, XINFO's first and last entry) and
        # froze the board.
        client = async_client(
            self.url, decode_responses=True, encoding_errors="surrogateescape",
            socket_timeout=feed.socket_timeout_s, socket_connect_timeout=feed.socket_timeout_s,
            retry=Retry(NoBackoff(), 0), client_name="wallboard-live",
        )  # fmt: skip
        self._client = client
        return client

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):  # already broken: nothing to close
                await client.aclose()

    async def _follow(self, client: aioredis.Redis) -> None:
        feed = self.config.feed
        loop = asyncio.get_running_loop()
        self._next_check = loop.time() + feed.check_interval_s
        block_s = feed.block_ms / 1000
        while not self._closed:
            assert self._positions is not None
            cursors: dict[Any, Any] = {s: format_id(p.cursor) for s, p in self._positions.items()}
            # Fresh as of the send: a paused server still ends a waiting XREAD BLOCK on time.
            sent = self._status.sending()
            reply = await client.xread(cursors, count=FOLLOW_COUNT, block=feed.block_ms)
            stop_if_cancelled()
            count = self._apply(reply)
            self._status.entries_read(count, sent)  # an empty reply is still a successful read
            # A read that waited (a quiet stream: up to block_ms; or a stall) leaves the last
            # success sent that long ago: a PING brings it up to now, so a quiet board is never
            # older than one block and a round trip, and a stalled one waits here for the server.
            if self._status.sending() - sent >= block_s / 2 or self._status.overdue():
                sent = self._status.sending()
                await client.ping()
                self._status.ok(sent)
            if loop.time() >= self._next_check:
                await self._check(client)
                self._next_check = loop.time() + feed.check_interval_s

    def _apply(self, reply: Any) -> int:
        if not reply:
            return 0
        items = reply.items() if isinstance(reply, dict) else reply  # RESP3 gives a dict
        state = self._state
        positions = self._positions
        assert positions is not None
        count = 0
        batch: list[RawEntry] = []
        for stream, entries in items:
            for entry_id, fields in entries:
                entry = RawEntry(stream, entry_id, fields)
                ingest(state, entry)
                batch.append(entry)
            if entries:
                positions[stream].read(to_id(entries[-1][0]), len(entries))
                count += len(entries)
        self._on_batch(batch)
        return count

    def _on_batch(self, batch: list[RawEntry]) -> None:
        """Called after each live batch is folded (benchmarks measure latency here)."""

    # ---- backfill, checks, rebuild --------------------------------------------------------

    def _lower_bound_ms(self, now: int) -> int:
        board = self.config.board
        calendar = BusinessCalendar(self.config.tz, self.config.day_start,
                                    self.config.shift_spans)  # fmt: skip
        carry_ms = round(board.carry_over_hours * 3_600_000)
        skew_ms = round(self.config.feed.id_skew_s * 1000)
        return max(0, calendar.day_of(now).start_ms - carry_ms - skew_ms)

    async def _backfill(self, client: aioredis.Redis) -> None:
        """Read from the business day's start minus the carry-over, fold into a new state as of
        now, then swap it in: the board keeps showing the old state until the new one is whole."""
        self._status.enter("backfilling")
        now = self.clock()
        lower = self._lower_bound_ms(now)
        # The complaints stream over its own, longer lookback (docs/live-feed.md).
        skew_ms = round(self.config.feed.id_skew_s * 1000)
        cases = self.config.complaints.stream
        lower_for = {cases: max(0, min(lower, now - self.config.complaints.lookback_ms
                                       - skew_ms))} if cases in self.streams else {}  # fmt: skip
        pages, positions = await read_backfill(client, self.streams, lower,
                                               self.config.feed.page_size, lower_for)  # fmt: skip
        self._status.ok()
        state = BoardState(self.config)
        # A big backfill folds in a thread so the app's loop keeps drawing; the new state is
        # not visible to anyone until it is swapped in below.
        await asyncio.to_thread(fold_backfill, state, pages, now)
        self._state = state
        self._positions = positions
        # The fold may have taken longer than stale_after_s: show live only if the server
        # still answers.
        sent = self._status.sending()
        await client.ping()
        self._status.ok(sent)

    async def _check(self, client: aioredis.Redis) -> None:
        """XINFO STREAM each stream; on a gap or a reset say so and rebuild."""
        assert self._positions is not None
        for stream in self.streams:
            position = self._positions[stream]
            sent = self._status.sending()
            verdict = await check_stream(client, stream, position)
            self._status.ok(sent)
            if verdict.kind in ("gap", "reset"):
                self._status.notice = self._notice(stream, verdict, position)
                await self._backfill(client)
                self._status.enter("connected")
                return

    def _notice(self, stream: str, verdict: Verdict, position: Position) -> str:
        def hms(ms: int) -> str:
            return to_local(ms, self.config.tz).strftime("%H:%M:%S")

        where = f" on {clean(stream, 80)}" if len(self.streams) > 1 else ""
        rebuilt = f"rebuilt at {hms(self.clock())} from what the stream holds"
        if verdict.kind == "gap":
            lost = f"{hms(verdict.lost_from_ms)} and {hms(verdict.lost_to_ms)}"
            return f"Gap{where}: entries between {lost} were trimmed before being read; {rebuilt}"
        if verdict.vanished_ms:
            return (f"Reset{where}: the stream was restored from an older copy or recreated "
                    f"(an entry read from it, of {hms(verdict.vanished_ms)}, is no longer in "
                    f"it); {rebuilt}")  # fmt: skip
        return (f"Reset{where}: the stream was deleted or recreated (its newest entry, "
                f"{hms(verdict.last_generated_ms)}, is older than the newest one known, "
                f"{hms(position.generated[0])}); {rebuilt}")  # fmt: skip
