"""Outbound webhooks: the board offers each snapshot; the notifier works out what is new
(feeds/webhook_diff.py) and each configured webhook POSTs it in the background with retries
(feeds/webhook_delivery.py). `offer()` never waits on the network. docs/webhooks.md.

    notifier = WebhookNotifier(config.webhooks)
    await notifier.start()          # in the board's asyncio loop
    notifier.offer(snapshot)        # every snapshot; returns at once
    notifier.status()               # list[WebhookStatus] for the board
    await notifier.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import aiohttp

from feeds.webhook_delivery import Channel, WebhookStatus, redact_url
from feeds.webhook_diff import Notification, SnapshotDiff
from wallboard.core.config_webhooks import WebhookSection
from wallboard.core.snapshot import Snapshot

__all__ = ["WebhookNotifier", "WebhookStatus", "redact_url"]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class WebhookNotifier:
    def __init__(self, webhooks: list[WebhookSection], *,
                 clock: Callable[[], int] = wall_clock_ms,
                 environ: Mapping[str, str] | None = None) -> None:  # fmt: skip
        """Raises ValueError naming the key when a `secret_env` variable is not set."""
        env = os.environ if environ is None else environ
        self._channels: list[Channel] = []
        for index, hook in enumerate(webhooks):
            secret = hook.secret
            if hook.secret_env:
                if not env.get(hook.secret_env):
                    raise ValueError(f"webhooks[{index}].secret_env: environment variable "
                                     f"{hook.secret_env} is not set")  # fmt: skip
                secret = env[hook.secret_env]
            self._channels.append(Channel(hook, secret, clock))
        self._diff = SnapshotDiff()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start one sender task per webhook in the running loop."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        if not self._channels:
            return
        self._session = aiohttp.ClientSession()
        self._tasks = [asyncio.create_task(channel.run(self._session),
                                           name=f"webhook:{channel.name}")
                       for channel in self._channels]  # fmt: skip

    def offer(self, snapshot: Snapshot) -> None:
        """Queue what is new in `snapshot` for every webhook whose filters accept it. Returns at
        once; safe from another thread (the work then runs in the notifier's loop)."""
        if not self._channels:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                if asyncio.get_running_loop() is loop:
                    self._queue(snapshot)
                    return
            loop.call_soon_threadsafe(self._queue, snapshot)
            return
        self._queue(snapshot)  # not started yet: queued, sent once start() runs

    def _queue(self, snapshot: Snapshot) -> None:
        notes: list[Notification] = self._diff.changes(snapshot)
        for note in notes:
            for channel in self._channels:
                if channel.accepts(note):
                    channel.put(note)

    def status(self) -> list[WebhookStatus]:
        return [channel.status() for channel in self._channels]

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is pending (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout_s
        while any(channel.pending for channel in self._channels):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def close(self, drain_s: float = 0.0) -> None:
        """Stop the senders, after waiting up to `drain_s` for pending notifications."""
        if drain_s > 0:
            await self.wait_idle(drain_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._loop = None

    async def __aenter__(self) -> WebhookNotifier:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:  # fmt: skip
        await self.close()
