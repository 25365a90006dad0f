"""What a board that folds the live stream adds around the app: supervisor actions (`a`, `c`)
signed with the login name and sent to the control stream, and outbound webhooks running in
the board's own asyncio loop, fed the caught-up live snapshots (docs/alerts.md, webhooks.md).

    notifier = webhook_notifier(config)  # ValueError: a webhook's secret_env is not set
    app = WallboardApp(feed, config, clock, user=login_name(), control=control_sink(url, config))
    run_board(app, notifier)          # instead of app.run()

Tests use `live_extras(app, notifier)` around `app.run_test()` the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from collections.abc import AsyncIterator, Sequence

from feeds.connect import async_client
from feeds.control import RedisControlSink
from feeds.webhooks import WebhookNotifier, WebhookStatus
from wallboard.app.board import WallboardApp
from wallboard.core.config import Config

DRAIN_S = 2.0  # on exit, wait this long for notifications still being sent (a clear, say)


def login_name() -> str | None:
    """Who signs this board's acks and callouts when no --user is given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no such user in a container, no LOGNAME
        return None


def control_sink(redis_url: str, config: Config) -> RedisControlSink | None:
    """The control stream writer, or None when the config turned the control stream off."""
    stream = config.board.control_stream
    if not stream:
        return None
    client = async_client(
        redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5,
        client_name="wallboard-control")  # fmt: skip
    return RedisControlSink(client, stream)


def webhook_problem(statuses: Sequence[WebhookStatus]) -> str | None:
    """One short line about the webhooks failing now (none failing: None)."""
    failing = [s for s in statuses if s.failures_in_row > 0]
    if not failing:
        return None
    return "; ".join(f"{s.name}: {s.last_error or 'failing'} ({s.failures_in_row} failed in a "
                     f"row, {s.pending} waiting)" for s in failing)  # fmt: skip


def webhook_notifier(config: Config) -> WebhookNotifier | None:
    """The configured webhooks (none: None). Raises ValueError naming the key when a
    webhook's `secret_env` is not set: call it before the board takes the terminal."""
    return WebhookNotifier(config.webhooks) if config.webhooks else None


@contextlib.asynccontextmanager
async def live_extras(app: WallboardApp, notifier: WebhookNotifier | None) -> AsyncIterator[None]:
    """Run the webhooks in the running loop (the app's) for as long as the block runs: every
    caught-up live snapshot is offered, and a failing webhook shows on the board. On the way
    out the control stream's connection is closed too."""
    if notifier is not None:
        await notifier.start()
        app.live_snapshot_observers.append(notifier.offer)
        app.webhook_status = lambda: webhook_problem(notifier.status())
    try:
        yield
    finally:
        if notifier is not None:
            with contextlib.suppress(ValueError):
                app.live_snapshot_observers.remove(notifier.offer)
            app.webhook_status = None
            await notifier.close(drain_s=DRAIN_S)
        if isinstance(app.control, RedisControlSink):
            await app.control.client.aclose()


def run_board(app: WallboardApp, notifier: WebhookNotifier | None) -> None:
    """`app.run()` with the live extras around it, all in one asyncio loop."""

    async def main() -> None:
        async with live_extras(app, notifier):
            await app.run_async()

    asyncio.run(main())
