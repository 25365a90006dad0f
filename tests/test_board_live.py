"""The live board's extras (wallboard/app/live.py): acks signed with the user to the real
control stream, webhooks run in the app's loop against a real local HTTP server, and a
failing webhook shown on the board until it recovers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
from aiohttp import web

from feeds.control import RedisControlSink
from feeds.live import LiveFeed
from feeds.webhooks import WebhookStatus
from tests.scenario import at, config_from, event, iso
from wallboard.app.board import WallboardApp
from wallboard.app.live import live_extras, webhook_notifier, webhook_problem
from wallboard.app.sources import MemorySource
from wallboard.core.ingest import RawEntry

BASE = "2026-11-11 10:00:00"


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each JSON body and answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(json.loads(await request.read()))
        return web.Response(status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self) -> list[tuple[str, str]]:
        """(event, alert or callout id) of every request received."""
        return [(b["event"], (b.get("alert") or b.get("callout") or {}).get("id", ""))
                for b in self.bodies]  # fmt: skip


async def until(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


def _status(name: str, failures: int, error: str | None = None, pending: int = 0) -> WebhookStatus:
    return WebhookStatus(name=name, url="http://x/***", pending=pending, delivered=1, dropped=0,
                         failures_in_row=failures, last_error=error, last_error_at_ms=None,
                         last_success_at_ms=None)  # fmt: skip


def test_webhook_problem_names_only_the_failing_ones() -> None:
    assert webhook_problem([]) is None
    # A recovered webhook keeps its last error for the record, but is not failing.
    assert webhook_problem([_status("chat", 0, "HTTP 503")]) is None
    assert webhook_problem([_status("chat", 3, "HTTP 503", 2), _status("pager", 0)]) == (
        "chat: HTTP 503 (3 failed in a row, 2 waiting)")
    assert webhook_problem([_status("a", 1, None), _status("b", 2, "timed out")]) == (
        "a: failing (1 failed in a row, 0 waiting); b: timed out (2 failed in a row, 0 waiting)")


async def test_failing_webhook_shows_on_the_board_and_ack_is_signed(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    receiver.status = 503
    config = config_from(tmp_path, f"""
[alerts.queue_depth]
warn = 2
critical = 4
clear = 1

[[webhooks]]
name = "floor chat"
url = "{receiver.url}"
backoff_s = 0.05
backoff_max_s = 0.05
max_attempts = 100
""")  # fmt: skip
    # Three contacts waiting from 10:00:00.1: depth 3 > warn 2, raised at 10:00:01.
    source = MemorySource(config, [RawEntry(None, None, event(
        "contact.offered", at(BASE, 0.1 * k), contact=f"c{k}", queue="q", channel="chat"))
        for k in (1, 2, 3)])  # fmt: skip
    t0 = time.monotonic()

    def clock() -> int:  # the board's time runs from 10:00:02 at the wall clock's pace
        return at(BASE, 2) + int((time.monotonic() - t0) * 1000)

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    app = WallboardApp(source, config, clock, user="sup.li",
                       control=RedisControlSink(client, stream_key))  # fmt: skip
    alert_id = "queue_depth/queue:q/2026-11-11/1"
    try:
        async with live_extras(app, webhook_notifier(config)), app.run_test() as pilot:
            box = app.alerts
            await until(lambda: "Webhook failing: floor chat: HTTP 503" in str(box.render()),
                        10, "the failing webhook on the board")  # fmt: skip
            assert ("alert.raised", alert_id) in receiver.events()
            receiver.status = 200  # the receiver recovers: the notice goes
            await until(lambda: "Webhook failing" not in str(box.render()), 10, "the notice to go")
            await pilot.press("a")
            await until(lambda: redis_client.xlen(stream_key) == 1, 5, "the ack")
        entries: Any = redis_client.xrange(stream_key)
        fields = dict(entries[0][1])
        assert fields == {"type": "alert.ack", "alert": alert_id, "by": "sup.li",
                          "ts": fields["ts"]}  # fmt: skip
        assert app.live_snapshot_observers == [] and app.webhook_status is None
    finally:
        await receiver.stop()


async def test_callee_who_answered_before_the_first_snapshot_gets_a_webhook(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    """The reserve answers within one refresh of the callout (a fast callee, a board that
    starts mid-callout): the first snapshot with the callout already shows r1 as accepted.
    The webhook still hears `callout.callee` for r1, after `callout.created`."""
    receiver = Receiver()
    await receiver.start()
    config = config_from(tmp_path, f"""
[board]
control_stream = "{stream_key}"

[reserve.agents.r1]
queues = ["q"]
[reserve.agents.r2]
queues = ["q"]

[[webhooks]]
name = "floor chat"
url = "{receiver.url}"
events = ["callout.created", "callout.callee"]
""")  # fmt: skip
    callout_id = f"co-{at(BASE, 1)}-q"
    # Both on the real control stream before the board starts: the backfill folds them
    # together, as a live read does when the answer comes within a refresh.
    for fields in (event("reserve.callout", at(BASE, 1), callout=callout_id, queue="q",
                         agents="r1,r2", by="sup.li"),
                   event("reserve.response", at(BASE, 2), callout=callout_id, agent="r1",
                         response="accepted")):  # fmt: skip
        redis_client.xadd(stream_key, fields)  # type: ignore[arg-type]
    feed = LiveFeed(redis_url, config.with_control([stream_key]), config,
                    clock=lambda: at(BASE, 10))  # fmt: skip
    app = WallboardApp(feed, config, lambda: at(BASE, 10))
    try:
        async with live_extras(app, webhook_notifier(config)), app.run_test():
            await until(lambda: len(receiver.bodies) >= 2, 10, "the created and callee webhooks")
            await asyncio.sleep(0.3)  # nothing more is due: r2 has not answered
        assert receiver.events() == [("callout.created", callout_id),
                                     ("callout.callee", callout_id)]  # fmt: skip
        created, callee = receiver.bodies
        statuses = {c["agent"]: c["status"] for c in created["callout"]["agents"]}
        assert statuses == {"r1": "accepted", "r2": "called"}  # first seen past `called`
        assert callee["dedup_key"] == f"{callout_id}:r1:accepted"
        assert callee["callee"]["responded_at"] == iso(at(BASE, 2))
    finally:
        await receiver.stop()
