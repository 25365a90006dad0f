"""The reconnect loop shared by the Redis readers (live feed, snapshot feed): run a session
until the reader is closed; on a connection error say so in the status, drop the client and
wait with capped exponential backoff (a session that connects resets it)."""

from __future__ import annotations

import asyncio
from typing import Final

from redis.exceptions import RedisError

from feeds.live_status import StatusTracker
from wallboard.core.config import Config

CONNECTION_ERRORS: Final = (RedisError, OSError, asyncio.TimeoutError)


def stop_if_cancelled() -> None:
    """redis-py (8.1, Python 3.11) can lose a cancellation that lands in a read; the task
    still knows it was cancelled, so stop here rather than follow on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Reconnecting:
    config: Config
    _status: StatusTracker
    _backoff_s: float
    _closed: bool

    async def _session(self) -> None:
        raise NotImplementedError

    async def _drop_client(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Sessions until closed; reconnect with capped exponential backoff."""
        feed = self.config.feed
        self._closed = False
        try:
            while not self._closed:
                try:
                    await self._session()
                except CONNECTION_ERRORS as exc:
                    stop_if_cancelled()
                    if self._closed:
                        break
                    self._status.failed(exc)
                await self._drop_client()
                await asyncio.sleep(self._backoff_s)
                self._backoff_s = min(self._backoff_s * 2, feed.backoff_max_s)
        finally:
            await self._drop_client()

    async def close(self) -> None:
        """Close the connection; a running `run()` then returns (after its current read)."""
        self._closed = True
        await self._drop_client()
