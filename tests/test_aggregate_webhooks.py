"""The aggregator sends the floor's webhooks once (real server, real HTTP): an alert raised
by events in the stream reaches a local receiver as `alert.raised`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import redis

from feeds.aggregator import Aggregator
from feeds.webhooks import WebhookNotifier
from tests.scenario import config_from
from tests.test_webhooks import Receiver, until
from wallboard.app.sources import wall_clock


async def test_aggregator_sends_a_raised_alert_once(redis_url: str, redis_client: redis.Redis,
                                                    stream_key: str, tmp_path: Path) -> None:
    receiver = Receiver()
    await receiver.start()
    # Three waiting contacts: queue_depth over its warn level of 2 at the next second.
    config = config_from(tmp_path, f"""
[board]
control_stream = "{stream_key}:control"

[alerts.queue_depth]
warn = 2
critical = 10
clear = 1

[[webhooks]]
url = "{receiver.url}"
rules = ["queue_depth"]
""")
    now = wall_clock()
    for n in range(3):
        redis_client.xadd(stream_key, {"type": "contact.offered", "ts": str(now),
                                       "contact": f"c{n}", "queue": "q", "channel": "chat"})
    aggregator = Aggregator(redis_url, config.with_control([stream_key]), config,
                            snapshot_key=f"{stream_key}:snapshots", rate_hz=5)  # fmt: skip
    notifier = WebhookNotifier(config.webhooks)
    await notifier.start()
    aggregator.snapshot_observers.append(notifier.offer)
    task = asyncio.create_task(aggregator.run())
    try:
        started = time.monotonic()
        await until(lambda: "alert.raised" in receiver.events(), 10.0)
        assert time.monotonic() - started < 10
        (body,) = [b for b in receiver.bodies() if b.get("event") == "alert.raised"]
        assert body["alert"]["id"].startswith("queue_depth/queue:q/")
        assert body["alert"]["value"] == 3
    finally:
        await aggregator.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await notifier.close()
        await receiver.stop()
