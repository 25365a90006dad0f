"""Outbound webhooks (feeds/webhooks.py) against a real local aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from aiohttp import web

from feeds.webhook_diff import SnapshotDiff
from feeds.webhooks import WebhookNotifier, redact_url
from wallboard.core.config import Config, ConfigError, load_config
from wallboard.core.config_webhooks import WebhookSection
from wallboard.core.fold import BoardState
from wallboard.core.snapshot import (
    AlertSnapshot,
    CalleeSnapshot,
    CalloutSnapshot,
    Snapshot,
    build_snapshot,
)

BASE = msgspec.structs.replace(build_snapshot(BoardState(Config())), site_name="Floor 3",
                               as_of="2026-11-11T10:00:00+08:00")  # fmt: skip


def alert(*, id: str = "A1", rule: str = "sl_window", severity: str = "warn",
          peak: str | None = None, acked_by: str | None = None,
          cleared: bool = False) -> AlertSnapshot:  # fmt: skip
    return AlertSnapshot(
        id=id, rule=rule, severity=severity, peak_severity=peak or severity,
        subject="queue:pre_sales", subject_kind="queue", subject_id="pre_sales", value=0.62,
        limit=0.8, message="service level 62% below target 80%",
        raised_at="2026-11-11T10:00:00+08:00", raised_at_ms=1, acked_by=acked_by,
        acked_at=None if acked_by is None else "2026-11-11T10:01:00+08:00",
        cleared_at="2026-11-11T10:05:00+08:00" if cleared else None,
        cleared_at_ms=5 if cleared else None,
    )  # fmt: skip


def snap(*alerts: AlertSnapshot, callouts: list[CalloutSnapshot] | None = None) -> Snapshot:
    return msgspec.structs.replace(BASE, alerts=list(alerts), callouts=callouts or [])


def callout(statuses: dict[str, str], *, overdue: bool = False,
            active: bool = True) -> CalloutSnapshot:  # fmt: skip
    return CalloutSnapshot(
        id="C1", queue="pre_sales", by="lead", called_at="2026-11-11T10:02:00+08:00",
        called_at_ms=2, overdue=overdue, active=active,
        agents=[CalleeSnapshot(agent=a, name=None, status=s, responded_at=None,
                               logged_in_at=None) for a, s in statuses.items()],
    )  # fmt: skip


class Receiver:
    """A real HTTP server that records each request and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int | str] = []  # status codes, or "hang"; then 200 forever
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        step = self.script.pop(0) if self.script else 200
        if step == "hang":
            await asyncio.sleep(3600)
        return web.Response(status=int(step))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook/secret-token"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.requests]

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies()]


@pytest_asyncio.fixture(loop_scope="function")  # the test's own loop (suite default: session)
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


def hook(url: str, **fields: Any) -> WebhookSection:
    fields.setdefault("backoff_s", 0.02)
    fields.setdefault("backoff_max_s", 0.1)
    fields.setdefault("timeout_s", 2.0)
    return msgspec.convert({"url": url, **fields}, WebhookSection)


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_raise_ack_clear_delivered_with_keys(receiver: Receiver) -> None:
    async with WebhookNotifier([hook(receiver.url)]) as notifier:
        notifier.offer(snap(alert()))
        notifier.offer(snap(alert(acked_by="zhang")))
        notifier.offer(snap(alert(acked_by="zhang", cleared=True)))
        assert await notifier.wait_idle(5)
        assert receiver.events() == ["alert.raised", "alert.acknowledged", "alert.cleared"]
        raised = receiver.bodies()[0]
        assert set(raised) == {"version", "event", "dedup_key", "site", "as_of", "summary",
                               "alert"}
        assert raised["version"] == 1
        assert raised["dedup_key"] == "A1:raised"
        assert raised["site"] == "Floor 3"
        assert raised["as_of"] == "2026-11-11T10:00:00+08:00"
        assert raised["alert"]["id"] == "A1" and raised["alert"]["rule"] == "sl_window"
        assert raised["alert"]["severity"] == "warn" and raised["alert"]["value"] == 0.62
        assert set(raised["alert"]) >= {"id", "rule", "severity", "subject", "raised_at",
                                        "acked_by", "cleared_at", "message"}
        assert "WARN sl_window on queue:pre_sales" in raised["summary"]
        headers = [h for h, _b in receiver.requests]
        assert [h["Idempotency-Key"] for h in headers] == ["A1:raised", "A1:acknowledged",
                                                           "A1:cleared"]
        assert headers[0]["Content-Type"] == "application/json"
        assert headers[1]["X-Wallboard-Event"] == "alert.acknowledged"
        assert "X-Wallboard-Signature" not in headers[0]
        assert receiver.bodies()[1]["alert"]["acked_by"] == "zhang"
        status = notifier.status()[0]
        assert (status.delivered, status.pending, status.failures_in_row) == (3, 0, 0)
        assert status.healthy and status.last_error is None


async def test_same_snapshot_twice_sends_once_and_escalation(receiver: Receiver) -> None:
    async with WebhookNotifier([hook(receiver.url)]) as notifier:
        first = snap(alert())
        notifier.offer(first)
        notifier.offer(first)
        notifier.offer(snap(alert()))  # an equal, new snapshot
        notifier.offer(snap(alert(severity="critical")))
        notifier.offer(snap(alert(severity="warn", peak="critical")))  # back down: no news
        notifier.offer(snap(alert(severity="critical")))
        assert await notifier.wait_idle(5)
        assert receiver.events() == ["alert.raised", "alert.escalated"]
        assert receiver.bodies()[1]["dedup_key"] == "A1:escalated:critical"


def test_diff_rules() -> None:
    diff = SnapshotDiff()
    # Raised critical at first sight: one raise, no separate escalation.
    assert [n.key for n in diff.changes(snap(alert(id="B", severity="critical")))] == [
        "B:raised"]
    assert diff.changes(snap(alert(id="B", severity="critical"))) == []
    # Cleared before the notifier ever saw it: history, not news.
    assert diff.changes(snap(alert(id="old", cleared=True))) == []
    # An acknowledged, active alert seen for the first time: raise and ack.
    notes = diff.changes(snap(alert(id="C", acked_by="li")))
    assert [(n.kind, n.severity) for n in notes] == [("alert.raised", "warn"),
                                                     ("alert.acknowledged", "warn")]


def test_callout_first_seen_with_callees_past_called() -> None:
    """A response folded in the same refresh as its callout: the first snapshot the notifier
    sees already has the callee past `called`. The change is news all the same."""
    diff = SnapshotDiff()
    notes = diff.changes(snap(callouts=[callout({"r1": "called", "r2": "accepted",
                                                 "r3": "logged_in"})]))  # fmt: skip
    assert [n.key for n in notes] == ["C1:created", "C1:r2:accepted", "C1:r3:logged_in"]
    assert [n.key for n in diff.changes(snap(callouts=[callout(
        {"r1": "declined", "r2": "logged_in", "r3": "logged_in"})]))] == [
        "C1:r1:declined", "C1:r2:logged_in"]  # fmt: skip
    # A callout already over when first seen stays history: nothing at all.
    assert diff.changes(snap(callouts=[msgspec.structs.replace(
        callout({"r1": "logged_in"}, overdue=True, active=False), id="C0")])) == []  # fmt: skip


async def test_retry_after_two_500s(receiver: Receiver) -> None:
    receiver.script = [500, 500]
    async with WebhookNotifier([hook(receiver.url, max_attempts=3)]) as notifier:
        notifier.offer(snap(alert()))
        assert await notifier.wait_idle(5)
        assert len(receiver.requests) == 3
        keys = {headers["Idempotency-Key"] for headers, _body in receiver.requests}
        assert keys == {"A1:raised"}  # the same notification, same key and bytes
        assert len({body for _headers, body in receiver.requests}) == 1
        status = notifier.status()[0]
        assert (status.delivered, status.dropped, status.failures_in_row) == (1, 0, 0)
        assert status.last_error == "HTTP 500"  # kept for the board; cleared by healthy


async def test_gives_up_after_max_attempts_and_4xx_is_final(receiver: Receiver) -> None:
    receiver.script = [503, 503, 404]
    async with WebhookNotifier([hook(receiver.url, max_attempts=2)]) as notifier:
        notifier.offer(snap(alert()))  # 503, 503: dropped after 2 attempts
        await until(lambda: notifier.status()[0].dropped == 1)
        notifier.offer(snap(alert(acked_by="x")))  # 404: dropped at once, not retried
        await until(lambda: notifier.status()[0].dropped == 2)
        assert len(receiver.requests) == 3
        status = notifier.status()[0]
        assert status.failures_in_row == 3 and status.last_error == "HTTP 404"
        assert not status.healthy


async def test_hanging_server_never_blocks_offer(receiver: Receiver) -> None:
    receiver.script = ["hang"]
    section = hook(receiver.url, timeout_s=0.5, max_attempts=2, backoff_s=0.5, backoff_max_s=1)
    async with WebhookNotifier([section]) as notifier:
        started = time.perf_counter()
        for n in range(50):
            notifier.offer(snap(alert(id=f"H{n}")))
        assert time.perf_counter() - started < 0.1  # well under the 0.5 s request timeout
        await until(lambda: notifier.status()[0].last_error is not None)
        status = notifier.status()[0]
        assert status.last_error == "timed out"
        assert status.failures_in_row >= 1
        assert status.pending == 50  # the first is being retried; nothing lost yet
        await until(lambda: notifier.status()[0].delivered == 50)  # second attempt onwards ok


async def test_refused_connection_shows_in_status() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:pw@127.0.0.1:{port}/services/T1/B2/XYZ?token=abc"
    async with WebhookNotifier([hook(url, max_attempts=2)]) as notifier:
        started = time.perf_counter()
        notifier.offer(snap(alert()))
        assert time.perf_counter() - started < 0.05
        await until(lambda: notifier.status()[0].dropped == 1)
        status = notifier.status()[0]
        assert status.failures_in_row == 2 and status.pending == 0
        assert status.last_error is not None and "Connect" in status.last_error
        assert status.url == f"http://127.0.0.1:{port}/services/***?token=***"
        assert "pw" not in status.last_error and "XYZ" not in status.last_error


async def test_filters() -> None:
    paths: list[tuple[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        paths.append((request.path, (await request.json())["dedup_key"]))
        return web.Response()

    app = web.Application()
    app.router.add_post("/{name}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    hooks = [hook(f"{base}/all"), hook(f"{base}/sl", rules=["sl_window"]),
             hook(f"{base}/critical", min_severity="critical"),
             hook(f"{base}/clears", events=["alert.cleared"]),
             hook(f"{base}/callouts", events=["callout.created", "callout.callee"])]
    try:
        async with WebhookNotifier(hooks) as notifier:
            q = alert(id="Q", rule="queue_depth", severity="critical")
            notifier.offer(snap(alert(id="S"), q))
            notifier.offer(snap(alert(id="S", cleared=True), q,
                                callouts=[callout({"r1": "called", "r2": "called"})]))
            notifier.offer(snap(alert(id="S", cleared=True), q,
                                callouts=[callout({"r1": "accepted", "r2": "called"})]))
            assert await notifier.wait_idle(5)
    finally:
        await runner.cleanup()
    by_path: dict[str, set[str]] = {}
    for path, key in paths:
        by_path.setdefault(path, set()).add(key)
    assert by_path["/all"] == {"S:raised", "Q:raised", "S:cleared", "C1:created",
                               "C1:r1:accepted"}
    assert by_path["/sl"] == {"S:raised", "S:cleared", "C1:created", "C1:r1:accepted"}
    assert by_path["/critical"] == {"Q:raised", "C1:created", "C1:r1:accepted"}
    assert by_path["/clears"] == {"S:cleared"}
    assert by_path["/callouts"] == {"C1:created", "C1:r1:accepted"}
    assert len(paths) == 5 + 4 + 3 + 1 + 2  # nothing twice


async def test_callout_events_and_signature(receiver: Receiver) -> None:
    section = hook(receiver.url, secret_env="WB_SECRET", headers={"X-Team": "floor3"})
    notifier = WebhookNotifier([section], environ={"WB_SECRET": "s3cret"})
    await notifier.start()
    try:
        notifier.offer(snap(callouts=[callout({"r1": "called", "r2": "called"})]))
        notifier.offer(snap(callouts=[callout({"r1": "declined", "r2": "called"})]))
        notifier.offer(snap(callouts=[callout({"r1": "declined", "r2": "called"},
                                              overdue=True)]))
        notifier.offer(snap(callouts=[callout({"r1": "declined", "r2": "logged_in"},
                                              overdue=True)]))
        assert await notifier.wait_idle(5)
    finally:
        await notifier.close()
    assert receiver.events() == ["callout.created", "callout.callee", "callout.overdue",
                                 "callout.callee"]
    bodies = receiver.bodies()
    assert [b["dedup_key"] for b in bodies] == ["C1:created", "C1:r1:declined", "C1:overdue",
                                                "C1:r2:logged_in"]
    assert bodies[0]["callout"]["queue"] == "pre_sales"
    assert [c["agent"] for c in bodies[0]["callout"]["agents"]] == ["r1", "r2"]
    assert bodies[1]["callee"] == {"agent": "r1", "name": None, "status": "declined",
                                   "responded_at": None, "logged_in_at": None}
    for headers, body in receiver.requests:
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Wallboard-Signature"] == f"sha256={expected}"
        assert headers["X-Team"] == "floor3"


def test_missing_secret_env_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"webhooks\[0\]\.secret_env: .*NOPE is not set"):
        WebhookNotifier([hook("http://127.0.0.1:1/", secret_env="NOPE")], environ={})


async def test_queue_bound_drops_oldest(receiver: Receiver) -> None:
    receiver.script = ["hang"]
    section = hook(receiver.url, queue_size=3, timeout_s=1.0, max_attempts=1)
    async with WebhookNotifier([section]) as notifier:
        notifier.offer(snap(alert(id="first")))
        await until(lambda: len(receiver.requests) == 1)  # "first" is in flight, hanging
        notifier.offer(snap(*[alert(id=f"Q{n}") for n in range(5)]))
        assert notifier.status()[0].dropped == 2  # Q0, Q1 pushed out by Q2..Q4
        assert notifier.status()[0].pending == 4
        await until(lambda: notifier.status()[0].pending == 0)
    assert [b["alert"]["id"] for b in receiver.bodies()] == ["first", "Q2", "Q3", "Q4"]


async def test_offer_from_another_thread(receiver: Receiver) -> None:
    async with WebhookNotifier([hook(receiver.url)]) as notifier:
        await asyncio.to_thread(notifier.offer, snap(alert()))
        await until(lambda: notifier.status()[0].delivered == 1)


def test_redact_url() -> None:
    assert redact_url("https://u:p@hooks.example.com/services/T1/B2/XYZ?token=abc&x=1") == (
        "https://hooks.example.com/services/***?token=***&x=***")
    assert redact_url("http://10.0.0.5:8080/") == "http://10.0.0.5:8080"
    assert redact_url("https://example.com/alerts") == "https://example.com/alerts"


def test_config_tables(tmp_path: Path) -> None:
    path = tmp_path / "board.toml"
    path.write_text('[[webhooks]]\nurl = "https://hooks.example.com/x"\nname = "ops chat"\n'
                    'rules = ["sl_window"]\nmin_severity = "critical"\n'
                    'events = ["alert.raised", "alert.cleared"]\nmax_attempts = 3\n'
                    '[webhooks.headers]\nAuthorization = "Bearer t"\n', encoding="utf-8")
    config = load_config(path)
    assert len(config.webhooks) == 1
    section = config.webhooks[0]
    assert (section.name, section.min_severity, section.max_attempts) == ("ops chat",
                                                                          "critical", 3)
    assert section.timeout_s == 5.0 and section.headers == {"Authorization": "Bearer t"}
    assert load_config(None).webhooks == []


@pytest.mark.parametrize(
    ("toml", "message"),
    [('url = "ftp://x/y"', "`webhooks[0].url`: must be an http:// or https:// URL"),
     ('url = "https://"', "`webhooks[0].url`: must be an http:// or https:// URL"),
     ('url = "http://a"\ntimeout_s = 0', "`webhooks[0].timeout_s`: must be in (0, 300]"),
     ('url = "http://a"\nmax_attempts = 0', "`webhooks[0].max_attempts`"),
     ('url = "http://a"\nbackoff_s = 10\nbackoff_max_s = 5', "`webhooks[0].backoff_s`"),
     ('url = "http://a"\nqueue_size = 0', "`webhooks[0].queue_size`"),
     ('url = "http://a"\nevents = ["alert.raised", "nope"]', "`webhooks[0].events`: unknown"),
     ('url = "http://a"\nmin_severity = "info"', "`webhooks[0].min_severity`"),
     ('url = "http://a"\nrules = ["sl_window", "sl_below"]',
      "`webhooks[0].rules`: unknown 'sl_below'; known: contact_over_threshold,"),
     ('url = "http://a"\nsecret = "a"\nsecret_env = "B"', "`webhooks[0].secret_env`"),
     ('url = "http://a"\nheaders = { "Idempotency-Key" = "x" }',
      "`webhooks[0].headers.Idempotency-Key`: is set by wallboard"),
     ('url = "http://a"\nheaders = { "X-A" = "a\\nb" }', "control characters"),
     ('url = "http://a"\nretries = 3', "unknown key `webhooks[0].retries`"),
     ('name = "x"', "`webhooks[0]`: Object missing required field `url`")],
)  # fmt: skip
def test_config_errors(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "board.toml"
    path.write_text(f"[[webhooks]]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
