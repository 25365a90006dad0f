"""Alert rules: levels, hysteresis, lifecycle and acknowledgement (docs/alerts.md).

Times are hand-placed; the rules are evaluated at every whole second of fold time, on the
state as it stood then (everything folded up to that second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis

from feeds.redis_window import read_streams
from tests.scenario import at, config_from, event, fold
from wallboard.core.config import Config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until, ingest
from wallboard.core.snapshot import AlertSnapshot, Snapshot, build_snapshot

BASE = "2026-11-11 10:00:00"
DEPTH = """
[alerts.queue_depth]
warn = 2
critical = 4
clear = 1
clear_after_s = 10
"""


def offer(cid: str, s: float, queue: str = "q") -> dict[str, Any]:
    return event("contact.offered", at(BASE, s), contact=cid, queue=queue, channel="chat")


def answer(cid: str, s: float, agent: str = "a1") -> dict[str, Any]:
    return event("contact.answered", at(BASE, s), contact=cid, agent=agent)


def alerts_of(snap: Snapshot, rule: str) -> list[AlertSnapshot]:
    return [a for a in snap.alerts if a.rule == rule]


def depth_events() -> list[dict[str, Any]]:
    return [
        offer("c1", 0.1), offer("c2", 0.2), offer("c3", 0.3),  # 3 waiting > warn 2
        offer("c4", 2.5), offer("c5", 2.6),  # 5 waiting > critical 4
        answer("c1", 4.5), answer("c2", 4.5), answer("c3", 4.5), answer("c4", 4.5),  # 1 left
        offer("c6", 8.2),  # 2 waiting at 10:00:09: inside the band (clear 1 < 2 <= warn 2)
        answer("c6", 9.5),  # 1 waiting again: the clear clock restarts at 10:00:10
    ]  # fmt: skip


def test_depth_raises_escalates_holds_in_the_band_and_clears(tmp_path: Path) -> None:
    config = config_from(tmp_path, DEPTH)
    events = depth_events()
    # 10:00:01: 3 waiting -> warn raised at the first whole second after the breach.
    (a,) = alerts_of(fold(events, at(BASE, 1), config), "queue_depth")
    assert (a.id, a.severity, a.raised_at_ms, a.value, a.limit) == (
        "queue_depth/queue:q/2026-11-11/1", "warn", at(BASE, 1), 3, 2)
    # 10:00:03: 5 waiting -> critical (the same alert, escalated).
    (a,) = alerts_of(fold(events, at(BASE, 3), config), "queue_depth")
    assert (a.severity, a.peak_severity, a.value, a.limit) == ("critical", "critical", 5, 4)
    # 10:00:05 1 waiting; at 10:00:09 c6 made it 2 (the band), so the clear clock restarted
    # at 10:00:10: by the 10:00:19 evaluation it has run 9 s, not 10.
    (a,) = alerts_of(fold(events, at(BASE, 19), config), "queue_depth")
    assert a.cleared_at_ms is None
    # De-escalated to warn once below critical for 10 s (10:00:05 -> 10:00:15).
    assert (a.severity, a.peak_severity) == ("warn", "critical")
    # Cleared at 10:00:20: clear level held from the 10:00:10 evaluation for 10 s.
    (a,) = alerts_of(fold(events, at(BASE, 25), config), "queue_depth")
    assert a.cleared_at_ms == at(BASE, 20)
    assert a.message == "q: 5 waiting (limit 2)"  # a cleared alert tells how bad it got


def test_a_second_raise_gets_the_next_id(tmp_path: Path) -> None:
    config = config_from(tmp_path, DEPTH)
    events = [*depth_events(), offer("d1", 30), offer("d2", 30), offer("d3", 30)]
    first, second = alerts_of(fold(events, at(BASE, 32), config), "queue_depth")
    assert first.cleared_at_ms == at(BASE, 20)
    # Offers stamped 10:00:30.000 count in the 10:00:30 evaluation: c5 + d1..d3 = 4 waiting.
    assert (second.id, second.raised_at_ms, second.value) == (
        "queue_depth/queue:q/2026-11-11/2", at(BASE, 30), 4)


def test_live_path_gives_the_same_alerts_as_the_snapshot(tmp_path: Path) -> None:
    """The live board ingests as events arrive and advances its clock 4 times a second; the
    alerts (ids, times, levels) equal those of `wallboard snapshot --at` on the same events."""
    config = config_from(tmp_path, DEPTH)
    events = [*depth_events(), offer("d1", 30), offer("d2", 30), offer("d3", 30)]
    live = BoardState(config)
    pending = sorted(events, key=lambda e: int(e["ts"]))
    for tick in range(40 * 4 + 1):
        now = at(BASE, tick / 4)
        while pending and int(pending[0]["ts"]) <= now:
            ingest(live, RawEntry(None, None, pending.pop(0)))
        live.advance(now)
    assert build_snapshot(live).alerts == fold(events, at(BASE, 40), config).alerts


def test_sl_window_needs_enough_contacts_and_judges_against_the_queue_target(
        tmp_path: Path) -> None:  # fmt: skip
    config = config_from(tmp_path, "[queues.q]\ntarget = 0.9\n")
    events = []
    # 10 answered: 8 within 30 s, 2 after 40 s -> window SL 80%, target 90%: 10 points below.
    for k in range(10):
        wait = 40 if k < 2 else 5
        events += [offer(f"c{k}", k * 50), answer(f"c{k}", k * 50 + wait)]
    before = fold(events[:-2], at(BASE, 9 * 50 - 1), config)  # 9 contacts: no judgement
    assert alerts_of(before, "sl_window") == []
    snap = fold(events, at(BASE, 9 * 50 + 6), config)
    (a,) = alerts_of(snap, "sl_window")
    # The 10th answer, stamped 10:07:35.000, makes 10 contacts: judged in that second.
    assert a.raised_at_ms == at(BASE, 455)
    assert abs(a.value - 0.10) < 1e-9 and a.severity == "warn"  # gap 0.10 is not > 0.10


def test_agent_past_the_daily_high(tmp_path: Path) -> None:
    config = config_from(tmp_path, "")
    events = [event("agent.state", at(BASE, 0), agent="a7", state="available", name="Li Na")]
    for k in range(121):
        events += [offer(f"c{k}", 1 + k), answer(f"c{k}", 1.5 + k, agent="a7")]
    at_120 = fold(events[:-1], at(BASE, 130), config)  # 120 answered: not past the line
    assert alerts_of(at_120, "agent_over_daily_high") == []
    (a,) = alerts_of(fold(events, at(BASE, 130), config), "agent_over_daily_high")
    assert (a.subject, a.value, a.raised_at_ms) == ("agent:a7", 121, at(BASE, 122))
    assert a.message == "a7 Li Na: 121 inquiries today (over 120)"


def test_ack_through_the_control_stream(redis_client: redis.Redis, stream_key: str,
                                        tmp_path: Path) -> None:  # fmt: skip
    """An `alert.ack` on the control stream (real server) acknowledges the alert on every
    board that reads it; an ack of an unknown id changes nothing."""
    config: Config = config_from(tmp_path, DEPTH)
    control = f"{stream_key}:control"
    for fields in depth_events():
        redis_client.xadd(stream_key, {k: str(v) for k, v in fields.items()})
    alert_id = "queue_depth/queue:q/2026-11-11/1"
    redis_client.xadd(control, {"type": "alert.ack", "alert": alert_id, "by": "sup.wang",
                                "ts": str(at(BASE, 2))})  # fmt: skip
    redis_client.xadd(control, {"type": "alert.ack", "alert": "nope", "by": "x",
                                "ts": str(at(BASE, 2))})  # fmt: skip
    state = BoardState(config)
    fold_until(state, read_streams(redis_client, [stream_key, control], 0), at(BASE, 2))
    (a,) = alerts_of(build_snapshot(state), "queue_depth")
    assert (a.acked_by, a.acked_at) == ("sup.wang", "2026-11-11T10:00:02+08:00")
    # Escalation to critical at 10:00:03 asks for a new acknowledgement.
    state = BoardState(config)
    fold_until(state, read_streams(redis_client, [stream_key, control], 0), at(BASE, 3))
    (a,) = alerts_of(build_snapshot(state), "queue_depth")
    assert (a.severity, a.acked_by) == ("critical", None)


def test_a_warn_level_alone_is_checked_against_the_default_clear(tmp_path: Path) -> None:
    """`warn = 2` alone would keep the default clear 15 above it and flap: refused."""
    import pytest

    from wallboard.core.config import ConfigError

    with pytest.raises(ConfigError, match=r"`alerts\.queue_depth\.clear`: must not be above "
                                          r"alerts\.queue_depth\.warn \(15 > 2; set both\)"):
        config_from(tmp_path, "[alerts.queue_depth]\nwarn = 2\n")


def test_waiting_past_threshold_counts_to_one_past_critical(tmp_path: Path) -> None:
    """Seven contacts offered at 10:00:00 are past 30 s from the 10:00:31 evaluation (the
    10:00:30 one still has them at exactly 30 s); raised 15 s later, at 10:00:46. The rule
    counts only to 5 (critical is > 4): the message says so rather than a wrong number."""
    config = config_from(tmp_path, "")
    events = [offer(f"c{k}", 0) for k in range(7)]
    (a,) = alerts_of(fold(events, at(BASE, 50), config), "contact_over_threshold")
    assert (a.severity, a.raised_at_ms, a.value) == ("critical", at(BASE, 46), 5)
    assert a.message == "q: more than 4 waiting past the answer threshold"
