"""End to end, real parts only: the simulator writes a surging floor live into the real server,
the board (LiveFeed + WallboardApp in a Pilot, its clock the simulated one) raises the window
service-level alert, recommends a callout, a key press calls the reserve in through the
control stream, a local HTTP server receives the webhooks, the simulated reserve accepts and
logs in, and the alert clears once the queue has recovered.

The floor (SURGE_PROFILE): one phone queue served by 3 core agents (about 11 s per contact
with the answer delay: some 16 contacts a minute between them), 9 reserve agents at home.
From 10:59 the queue gets 6 contacts a minute (hour factor 0.2 of 30); at 11:00 the surge
brings 30 a minute, nearly twice what the floor can answer, so waits pass the queue's 5 s
threshold and the window (1 minute) service level falls below its 80% target within a minute.
Erlang C, held to 50% occupancy, then asks for 8-10 agents. With 4 or more reserve agents in
(38+ a minute) the backlog drains and the window recovers, about three minutes after the
surge. The roster also names r99, the most senior, who is not on the simulated floor and so
never answers: the callout stays on the big screen and turns overdue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from feeds.control import RedisControlSink
from feeds.live import LiveFeed
from feeds.simulator import Simulator, load_profile
from feeds.simulator.writers import ControlLink, EntryIds, RedisSink, run_live
from tests.scenario import SHANGHAI, config_from, ms
from tests.test_board_live import Receiver
from wallboard.app.board import WallboardApp
from wallboard.app.live import live_extras, webhook_notifier
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import AlertSnapshot, CalloutSnapshot, Snapshot
from widgets.alerts import unacked_critical

SPEED = 20.0  # simulated seconds per wall-clock second
THRESHOLD_MS = 5_000
TARGET = 0.8
MIN_CONTACTS = 10
WINDOW_MS = 60_000
USER = "sup.wang"

SURGE_PROFILE = """
name = "surge"
description = "One phone queue swamped at 11:00"
hourly = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2, 1.0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

[floor]
agents = 12
reserve_share = 0.75        # 9 reserve, 3 core
day_shift_share = 1.0
team_size = 12
shops = ["flagship"]
shop_count_weights = [1.0]
second_queue_share = 0.0
[floor.levels.senior]
share = 1.0
handle_factor = 1.0

[shifts]
login_jitter_minutes = 0.0
break_every_minutes = 600.0

[reserve]
accept_share = 1.0
delay_median_s = 4.0        # answers spread over seconds: the board shows them coming in
delay_sigma = 0.7
delay_min_s = 1.0
delay_max_s = 12.0

[channels.phone]
concurrency = 1
answer_delay_s = 0.5
handle_median_s = 10.0
handle_sigma = 0.3
patience_mean_s = 0.0       # nobody hangs up: the service level is answers within 5 s

[[queues]]
name = "hotline"
channel = "phone"
peak_per_hour = 1800.0      # 30 a minute at factor 1.0
staff_share = 1.0
"""

BOARD_CONFIG = """
[board]
timezone = "Asia/Shanghai"
window_minutes = 1
stream = "{events}"
control_stream = "{control}"

[display]
refresh_hz = 10

[feed]
stale_after_s = 600         # simulated seconds: 30 s of wall time at 20x

[queues.hotline]
threshold_s = 5
target = 0.8

[alerts.sl_window]
min_contacts = 10
clear_after_s = 5

[staffing]
max_occupancy = 0.5

[reserve]
response_timeout_s = 120    # simulated: 6 s of wall time

# On the roster but not on the simulated floor: never answers (the most senior, called first).
[reserve.agents.r99]
name = "Standby Sun"
handle = "wechat:sun99"
queues = ["hotline"]
level = 9

# Only the rule under test, so that `a` acknowledges its alert.
[alerts.contact_over_threshold]
enabled = false
[alerts.longest_wait]
enabled = false
[alerts.queue_depth]
enabled = false
[alerts.agent_projected_over]
enabled = false
[alerts.feed_stale]
enabled = false

[[webhooks]]
name = "floor chat"
url = "{url}"
events = ["alert.raised", "alert.acknowledged", "alert.cleared", "callout.created",
          "callout.callee", "callout.overdue"]
"""


class SharedClock:
    """The simulator's wall clock (run_live's `clock`), remembering its first reading, so that
    the board's simulated clock is exactly the simulator's: start + (wall - wall0) * speed."""

    def __init__(self, start_ms: int, speed: float) -> None:
        self.start_ms = start_ms
        self.speed = speed
        self.wall0: float | None = None

    def wall(self) -> float:
        now = time.monotonic()
        if self.wall0 is None:
            self.wall0 = now
        return now

    def sim(self) -> int:
        if self.wall0 is None:
            return self.start_ms
        return self.start_ms + int((time.monotonic() - self.wall0) * self.speed * 1000)


async def until(condition: Callable[[], Any], timeout_s: float, what: str,
                explain: Callable[[], object] | None = None) -> Any:  # fmt: skip
    """Poll `condition` (every 20 ms, letting the app run) until it gives a true value;
    on a timeout, `explain()` says what was seen instead."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; seen: {explain()}" if explain is not None else ""
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}{seen}")
        await asyncio.sleep(0.02)


def entries(client: redis.Redis, key: str) -> list[tuple[str, dict[str, str]]]:
    raw: Any = client.xrange(key)
    return [(str(entry_id), dict(fields)) for entry_id, fields in raw]


def first_breach(events: list[dict[str, str]]) -> int:
    """The first whole second S at which the hotline's window service level, counted here
    from the raw events, is below target on at least MIN_CONTACTS contacts: answers in
    (S - 1 min, S], within the threshold when answered <= 5 s after the offer. Nobody
    abandons in this floor, so every formula is answered-within / answered."""
    offered: dict[str, int] = {}
    answers: list[tuple[int, bool]] = []
    for e in events:
        if e["type"] == "contact.offered":
            offered[e["contact"]] = int(e["ts"])
        elif e["type"] == "contact.answered":
            ts = int(e["ts"])
            answers.append((ts, ts - offered[e["contact"]] <= THRESHOLD_MS))
        assert e["type"] != "contact.abandoned"
    first = -(-min(int(e["ts"]) for e in events) // 1000) * 1000
    last = max(int(e["ts"]) for e in events)
    for second in range(first, last + 1, 1000):
        window = [within for ts, within in answers if second - WINDOW_MS < ts <= second]
        if len(window) >= MIN_CONTACTS and TARGET - sum(window) / len(window) > 0:
            return second
    raise AssertionError("the window service level never fell below target")


def sl_alerts(snap: Snapshot | None) -> list[AlertSnapshot]:
    return [] if snap is None else [a for a in snap.alerts if a.rule == "sl_window"
                                    and a.subject == "queue:hotline"]  # fmt: skip


def callout_of(snap: Snapshot | None, callout_id: str) -> CalloutSnapshot | None:
    return next((c for c in snap.callouts if c.id == callout_id), None) if snap else None


async def test_surge_alert_callout_webhooks_reserve_login_and_recovery(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    events_key, control_key = f"{stream_key}:events", f"{stream_key}:control"
    receiver = Receiver()
    await receiver.start()
    (tmp_path / "surge.toml").write_text(SURGE_PROFILE, encoding="utf-8")
    profile = load_profile(str(tmp_path / "surge.toml"))
    config = config_from(tmp_path, BOARD_CONFIG.format(events=events_key, control=control_key,
                                                       url=receiver.url))  # fmt: skip
    # Today's date, so that the control stream's entry IDs (the wall clock) are never older
    # than the business day the board backfills from.
    today = datetime.now(SHANGHAI).date().isoformat()
    start = ms(f"{today} 10:59:00")
    surge = ms(f"{today} 11:00:00")
    clock = SharedClock(start, SPEED)
    sim_client = redis.Redis.from_url(redis_url, decode_responses=True)
    sim = Simulator(profile, start_ms=start, seed=5, tz=SHANGHAI)
    reserve = {a.id for a in sim.agents if a.spec.pool == "reserve"}
    assert len(reserve) == 9 and len(sim.agents) == 12
    sink = RedisSink(sim_client, events_key, EntryIds(None), follow_top=True)
    link = ControlLink(sim_client, control_key)
    stop = threading.Event()
    thread = threading.Thread(target=run_live, name="simulator", daemon=True, kwargs={
        "sim": sim, "sink": sink, "speed": SPEED, "tick_s": 0.01, "stop": stop,
        "control": link, "clock": clock.wall})  # fmt: skip
    thread.start()
    feed = LiveFeed(redis_url, config.with_control([]), config, clock=clock.sim)
    control_client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    app = WallboardApp(feed, config, clock.sim, user=USER,
                       control=RedisControlSink(control_client, control_key))  # fmt: skip
    watchers: list[asyncio.Task[None]] = []
    try:
        async with live_extras(app, webhook_notifier(config)), \
                app.run_test(size=(160, 48)) as pilot:  # fmt: skip
            # 1. The surge: the window service level falls and the alert is raised.
            alert = (await until(lambda: sl_alerts(app.snapshot), 15, "the sl_window alert"))[0]
            assert alert.id == f"sl_window/queue:hotline/{today}/1"
            assert alert.raised_at_ms >= surge  # before the surge the floor keeps up
            # Soon more than 10 points below target: critical, and the banner is up.
            await until(lambda: sl_alerts(app.snapshot)[0].severity == "critical"
                        and app.banner.has_class("-on"), 10, "critical and the banner")  # fmt: skip
            assert "‼ CRITICAL ‼ hotline: window service level" in str(app.banner.render())

            # 2. A callout is recommended for the queue, naming reserve agents, the most senior
            # first. As the window fills with the surge, Erlang C asks for more: wait until it
            # names 5 (r99 and 4 who will come) before calling them in.
            def recommended() -> list[str]:
                snap = app.snapshot
                recs = [r for r in snap.callout_recommendations if r.queue == "hotline"] \
                    if snap else []  # fmt: skip
                return recs[0].agents if recs and len(recs[0].agents) >= 5 else []

            proposed = await until(recommended, 10, "a recommendation of 5 or more")
            assert proposed[0] == "r99" and set(proposed[1:]) <= reserve

            # 3. `c` confirms it: a reserve.callout on the control stream, signed by the user.
            seen: list[str] = []  # the alerts box whenever it shows a callee logged in
            # Every snapshot the board draws from here on. What it showed is checked here, not
            # only what is on screen when the test looks again: pilot.press() returns only after
            # Textual waited for the process to go idle (up to 1 s, twice; never idle with the
            # simulator thread running), some 40 simulated seconds later.
            drawn: list[Snapshot] = []
            app.live_snapshot_observers.append(drawn.append)

            async def watch_box() -> None:
                while True:
                    text = str(app.alerts.render())
                    if "● logged in" in text and text not in seen:
                        seen.append(text)
                    await asyncio.sleep(0.01)

            watcher = asyncio.create_task(watch_box())
            watchers.append(watcher)
            await pilot.press("c")
            callouts = await until(lambda: [f for _, f in entries(redis_client, control_key)
                                            if f["type"] == "reserve.callout"], 5,
                                   "the reserve.callout entry")  # fmt: skip
            assert len(callouts) == 1
            fields = callouts[0]
            assert set(fields) == {"type", "callout", "queue", "agents", "by", "ts"}
            assert (fields["queue"], fields["by"]) == ("hotline", USER)
            called = fields["agents"].split(",")
            assert called[0] == "r99" and len(called) >= 5 and set(called[1:]) <= reserve
            simulated = called[1:]
            callout_id = fields["callout"]
            assert callout_id == f"co-{fields['ts']}-hotline"

            # 4. `a` acknowledges the worst unacknowledged alert (the control stream again).
            # The surge may have raised other critical hotline alerts besides sl_window (the
            # longest wait, say), newer and so first, and an alert that went back to warn and
            # up to critical again needs a new ack (docs/alerts.md): press until the board has
            # drawn the sl_window alert acknowledged and no critical one is left unacknowledged.
            # Each press must have its ack drawn, looked for in every snapshot drawn since: in
            # the time press() takes, the ack can be drawn and reset by such an escalation.
            def acked_ids(snaps: list[Snapshot]) -> set[str]:
                return {a.id for snap in snaps for a in snap.alerts if a.acked_by == USER}

            for _ in range(8):
                now = app.snapshot
                assert now is not None
                if alert.id in acked_ids(drawn) and not unacked_critical(now):
                    break
                before, since = acked_ids([now]), len(drawn)
                await pilot.press("a")
                await until(lambda: acked_ids(drawn[since:]) - before, 15,  # noqa: B023
                            "an acknowledgement drawn",
                            lambda: ([(a.id, a.severity, a.acked_by, a.cleared_at)
                                      for a in app.snapshot.alerts] if app.snapshot else None,
                                     entries(redis_client, control_key)[-3:]))  # fmt: skip
            assert alert.id in acked_ids(drawn)
            await until(lambda: not app.banner.has_class("-on"), 5, "the banner to go")

            # 5. The simulated reserve accepts and logs in while r99 is still called (by now
            # r99 may be past the response timeout); the alerts box shows each callee.
            def statuses(snap: Snapshot | None) -> dict[str, str]:
                c = callout_of(snap, callout_id)
                return {} if c is None else {x.agent: x.status for x in c.agents}

            logged_in = {"r99": "called", **dict.fromkeys(simulated, "logged_in")}
            first = await until(lambda: next((snap for snap in drawn
                                              if statuses(snap) == logged_in), None), 20,
                                "the simulated callees logged in")  # fmt: skip
            done = callout_of(first, callout_id)
            assert done is not None and done.active and done.by == USER
            names = {x.agent: clean(x.name or x.agent, 16) for x in done.agents}
            await until(lambda: any(all(f"{names[a]:<16} ● logged in" in text
                                        for a in simulated) for text in seen), 15,
                        "the box to show them all logged in")  # fmt: skip
            box = next(t for t in seen if all(f"{names[a]:<16} ● logged in" in t
                                              for a in simulated))  # fmt: skip
            assert "☎ hotline" in box and f"{names['r99']:<16} … called" in box, box

            # 6. Nobody answers for r99: after the response timeout the callout is overdue.
            await until(lambda: statuses(app.snapshot).get("r99") == "no_answer", 20,
                        "r99 no_answer")  # fmt: skip
            await until(lambda: "OVERDUE" in str(app.alerts.render()), 15, "OVERDUE in the box")
            assert f"{names['r99']:<16} ! no answer" in str(app.alerts.render())
            watcher.cancel()
            responses = [f for _, f in entries(redis_client, control_key)
                         if f["type"] == "reserve.response"]  # fmt: skip
            assert sorted(f["agent"] for f in responses) == sorted(simulated)
            assert {f["response"] for f in responses} == {"accepted"}

            # 7. The queue recovers and the alert clears.
            def all_cleared() -> list[AlertSnapshot]:
                found = sl_alerts(app.snapshot)
                return found if all(a.cleared_at_ms for a in found) else []

            cleared = await until(all_cleared, 30, "the alert to clear")
            logins = [_local_ms(x.logged_in_at) for x in done.agents if x.agent != "r99"]
            assert cleared[-1].cleared_at_ms > max(logins)

            # 8. The webhooks arrived at the local HTTP server.
            wanted = {("alert.raised", alert.id), ("callout.created", callout_id),
                      ("alert.acknowledged", alert.id), ("alert.cleared", cleared[-1].id),
                      ("callout.callee", callout_id), ("callout.overdue", callout_id)}
            await until(lambda: wanted <= set(receiver.events()), 15, "the webhooks")
            raised = next(b for b in receiver.bodies if b["event"] == "alert.raised")
            assert raised["alert"]["raised_at_ms"] == alert.raised_at_ms

            def callee_news() -> set[tuple[str, str]]:
                return {(b["callee"]["agent"], b["callee"]["status"]) for b in receiver.bodies
                        if b["event"] == "callout.callee"}  # fmt: skip

            # One webhook per callee change, each its own POST: they may land in any order.
            await until(lambda: {("r99", "no_answer"), *((a, "logged_in") for a in simulated)}
                        <= callee_news(), 15, "a callee webhook per callee")  # fmt: skip
        # 9. Raised within 2 s of the breach, counted independently from the raw events.
        breach = first_breach([f for _, f in entries(redis_client, events_key)])
        assert 0 <= alert.raised_at_ms - breach <= 2000, (alert.raised_at_ms, breach)
    finally:
        for task in watchers:
            task.cancel()
        stop.set()
        thread.join(timeout=5)
        sim_client.close()
        await receiver.stop()
        redis_client.delete(events_key, control_key)


def _local_ms(text: str | None) -> int:
    assert text is not None
    return round(datetime.fromisoformat(text).timestamp() * 1000)
