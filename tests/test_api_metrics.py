"""`GET /metrics`'s body (feeds/api_metrics.py): parsed with prometheus-client's own parser, its
values equal the snapshot's (hand-worked below), nulls are left out, per-agent series only when
enabled, hostile label values cannot break it; and the Grafana dashboard queries only series
the renderer writes."""

from __future__ import annotations

import json
import math
import re
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from feeds.api_metrics import FEED_STATES, label_value, render_metrics
from tests import board_scenario
from tests.fuzz import fuzz_settings
from tests.scenario import at, config_from, event, fold, queue
from wallboard.core.config import Config, load_config
from wallboard.core.events import AGENT_STATES, REASONS
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.snapshot import Snapshot

T0 = "2026-11-11 10:00:00"  # Asia/Shanghai, the default zone; the business day began at 04:00
SITE = 'Floor 7 "East" \\ Hangzhou'  # a quote and a backslash, in every series' site label
DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana" / "wallboard.json"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def config_with(tmp_path: Path, *, agent_metrics: bool) -> Config:
    return config_from(tmp_path, f"[board]\nsite_name = {json.dumps(SITE)}\n"
                                 f"[api]\nagent_metrics = {str(agent_metrics).lower()}\n")


def scenario() -> list[dict[str, str]]:
    """Queue `sales` (T = 30 s, S = 5 s, target 0.8) and `support`; the window is 30 min, so
    (09:30, 10:00]."""
    sales = {"queue": "sales", "channel": "chat"}
    return [
        event("agent.state", at("2026-11-11 07:00:00", 0), agent="a1", state="available",
              queues="sales", shops="tmall"),
        event("agent.state", at("2026-11-11 07:00:00", 0), agent="a2", state="available",
              queues="sales,support", shops="tmall,jd"),
        event("agent.state", at("2026-11-11 07:00:00", 0), agent="a3", state="break"),
        # before the window: c0 waits 20 s (within T), handle 120 s
        event("contact.offered", at("2026-11-11 08:00:00", 0), contact="c0", **sales),
        event("contact.answered", at("2026-11-11 08:00:00", 20), contact="c0", agent="a1"),
        event("contact.completed", at("2026-11-11 08:00:00", 140), contact="c0", agent="a1"),
        # in the window
        event("contact.offered", at("2026-11-11 09:50:00", 0), contact="c1", **sales),
        event("contact.answered", at("2026-11-11 09:50:00", 10), contact="c1", agent="a1"),
        event("contact.completed", at("2026-11-11 09:50:00", 310), contact="c1", agent="a1"),
        event("contact.offered", at("2026-11-11 09:51:00", 0), contact="c2", **sales),
        event("contact.abandoned", at("2026-11-11 09:51:00", 3), contact="c2"),  # short
        event("contact.offered", at("2026-11-11 09:52:00", 0), contact="c3", **sales),
        event("contact.answered", at("2026-11-11 09:52:00", 40), contact="c3", agent="a2"),
        event("contact.offered", at("2026-11-11 09:59:30", 0), contact="c4", **sales),  # waits
        event("contact.offered", at("2026-11-11 09:59:50", 0), contact="c5", queue="support",
              channel="phone"),  # waits; support has answered and abandoned nothing
    ]  # fmt: skip


def samples(body: bytes) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def value(found: Samples, name: str, site: str = SITE, **labels: str) -> float | None:
    return found.get((name, frozenset({"site": site, **labels}.items())))


def names(found: Samples) -> set[str]:
    return {name for name, _ in found}


@pytest.fixture
def snap(tmp_path: Path) -> Snapshot:
    return fold(scenario(), at(T0, 0), config_with(tmp_path, agent_metrics=False))


CONNECTED = FeedStatus(state="connected", lag_s=0.25, events_per_s=12.5, since_ms=1_794_300_000_000,
                       last_data_ms=1_794_362_399_500)


def test_body_parses_and_queue_values_are_the_hand_worked_ones(tmp_path: Path,
                                                               snap: Snapshot) -> None:
    found = samples(render_metrics(snap, CONNECTED, config_with(tmp_path, agent_metrics=False)))
    v = partial(value, found)
    # waiting: c4 in sales since 09:59:30 (30 s), c5 in support since 09:59:50 (10 s)
    assert v("wallboard_queue_waiting", queue="sales") == 1
    assert v("wallboard_queue_longest_wait_seconds", queue="sales") == 30.0
    assert v("wallboard_queue_waiting", queue="support") == 1
    assert v("wallboard_queue_longest_wait_seconds", queue="support") == 10.0
    today = {"queue": "sales", "period": "today"}
    # today: offered c0..c4 = 5; answered c0, c1, c3 = 3; abandoned c2 = 1 (3 s: short);
    # within 30 s: c0 (20 s), c1 (10 s) = 2; completed c0, c1 = 2
    assert v("wallboard_queue_offered_total", **today) == 5
    assert v("wallboard_queue_answered_total", **today) == 3
    assert v("wallboard_queue_abandoned_total", **today) == 1
    assert v("wallboard_queue_short_abandoned_total", **today) == 1
    assert v("wallboard_queue_answered_within_threshold_total", **today) == 2
    assert v("wallboard_queue_completed_total", **today) == 2
    assert v("wallboard_queue_transferred_out_total", **today) == 0
    assert v("wallboard_queue_ended_by_restart_total", **today) == 0
    assert v("wallboard_queue_left_by_key_total", **today) == 0
    # exclude_short_abandons: 2 / (3 + 1 - 1) = 2/3; ASA (20 + 10 + 40) / 3 = 70/3;
    # AHT (120 + 300) / 2 = 210; abandon 1 / (3 + 1) = 0.25
    assert v("wallboard_queue_service_level_ratio", **today) == pytest.approx(2 / 3)
    assert v("wallboard_queue_asa_seconds", **today) == pytest.approx(70 / 3)
    assert v("wallboard_queue_aht_seconds", **today) == pytest.approx(210)
    assert v("wallboard_queue_abandon_ratio", **today) == pytest.approx(0.25)
    # window (09:30, 10:00]: offered c1..c4 = 4; answered c1, c3 = 2; abandoned c2 = 1, short;
    # within: c1 = 1 -> SL 1 / (2 + 1 - 1) = 0.5; ASA (10 + 40) / 2 = 25; AHT c1 = 300;
    # abandon 1 / 3
    assert v("wallboard_queue_window_offered", queue="sales") == 4
    assert v("wallboard_queue_window_answered", queue="sales") == 2
    assert v("wallboard_queue_window_abandoned", queue="sales") == 1
    window = {"queue": "sales", "period": "window"}
    assert v("wallboard_queue_service_level_ratio", **window) == pytest.approx(0.5)
    assert v("wallboard_queue_asa_seconds", **window) == pytest.approx(25)
    assert v("wallboard_queue_aht_seconds", **window) == pytest.approx(300)
    assert v("wallboard_queue_abandon_ratio", **window) == pytest.approx(1 / 3)
    assert v("wallboard_window_seconds") == 30 * 60
    assert v("wallboard_queue_service_level_target_ratio", queue="sales") == 0.8
    assert v("wallboard_queue_service_level_threshold_seconds", queue="sales") == 30.0
    # staffing: sales is served by a1 and a2 (listed) and a3 (no list: every queue), a3 on
    # break -> staffed 3, available 2; support by a2 and a3 -> staffed 2, available 1
    assert v("wallboard_queue_agents_staffed", queue="sales") == 3
    assert v("wallboard_queue_agents_available", queue="sales") == 2
    assert v("wallboard_queue_agents_working", queue="sales") == 2
    assert v("wallboard_queue_agents_staffed", queue="support") == 2
    assert v("wallboard_queue_agents_available", queue="support") == 1


def test_response_rounds_and_rollups_by_channel_shop_and_floor(tmp_path: Path) -> None:
    config = config_with(tmp_path, agent_metrics=False)
    # c3 (sales, chat, offered 09:52:00) gets the shop's reply at 09:53:40: 100 s
    events = [*scenario(), event("contact.reply", at("2026-11-11 09:53:40", 0), contact="c3")]
    found = samples(render_metrics(fold(events, at(T0, 0), config), CONNECTED, config))
    v = partial(value, found)
    # sales rounds today: c0 (completed 08:02:20), c1 (completed 09:55:10) and c2 (abandoned)
    # unanswered, each counted as 600 s; c3 replied in 100 s (within 180) -> 4 rounds, 1 within,
    # rate 1/4, mean (3 x 600 + 100) / 4 = 475. c4's round is open, 30 s old.
    today = {"queue": "sales", "period": "today"}
    assert v("wallboard_queue_rounds_total", **today) == 4
    assert v("wallboard_queue_rounds_answered_within_total", **today) == 1
    assert v("wallboard_queue_rounds_unanswered_total", **today) == 3
    assert v("wallboard_queue_response_rate_ratio", **today) == pytest.approx(1 / 4)
    assert v("wallboard_queue_response_avg_seconds", **today) == pytest.approx(475)
    # window (09:30, 10:00]: c1, c2, c3 -> 1/3
    assert v("wallboard_queue_response_rate_ratio", queue="sales",
             period="window") == pytest.approx(1 / 3)  # fmt: skip
    assert v("wallboard_queue_window_rounds", queue="sales") == 3
    assert v("wallboard_queue_open_rounds", queue="sales") == 1
    assert v("wallboard_queue_oldest_open_round_seconds", queue="sales") == 30
    # support (phone) had no reply: no response series at all, not zeros
    assert v("wallboard_queue_open_rounds", queue="support") is None
    assert v("wallboard_queue_response_rate_ratio", queue="support", period="today") is None
    # by channel: chat is sales' contacts, phone is support's c5 (waiting 10 s)
    assert v("wallboard_channel_offered_total", channel="chat", period="today") == 5
    assert v("wallboard_channel_offered_total", channel="phone", period="today") == 1
    assert v("wallboard_channel_waiting", channel="phone") == 1
    assert v("wallboard_channel_longest_wait_seconds", channel="phone") == 10
    assert v("wallboard_channel_service_level_ratio", channel="chat",
             period="today") == pytest.approx(2 / 3)  # fmt: skip
    assert v("wallboard_channel_response_rate_ratio", channel="chat",
             period="today") == pytest.approx(1 / 4)  # fmt: skip
    assert v("wallboard_channel_open_rounds", channel="phone") is None
    # the floor: both queues summed; 2 within of 3 answered + 1 short abandon -> 2 / 3
    assert v("wallboard_floor_offered_total", period="today") == 6
    assert v("wallboard_floor_waiting") == 2
    assert v("wallboard_floor_service_level_ratio", period="today") == pytest.approx(2 / 3)
    assert v("wallboard_floor_rounds_total", period="today") == 4
    # no contact names a shop: all of them roll up under "-"
    assert v("wallboard_shop_offered_total", shop="-", period="today") == 6


def test_floor_events_feed_and_alert_values(tmp_path: Path, snap: Snapshot) -> None:
    found = samples(render_metrics(snap, CONNECTED, config_with(tmp_path, agent_metrics=False)))
    v = partial(value, found)
    # a1, a2 available, a3 on break; every state present, the others 0
    assert {s: v("wallboard_agents", state=s) for s in AGENT_STATES} == {
        "logged_out": 0, "available": 2, "busy": 0, "wrap_up": 0, "break": 1, "away": 0}
    assert v("wallboard_agents_staffed") == 3
    assert v("wallboard_agents_known") == 3
    # shops of agents not logged out: tmall (a1, a2) = 2, jd (a2) = 1
    assert v("wallboard_shop_agents", shop="tmall") == 2
    assert v("wallboard_shop_agents", shop="jd") == 1
    # 15 events, all applied; every reason present at 0
    assert v("wallboard_events_applied_total") == 15 == snap.events_applied
    assert {r: v("wallboard_events_rejected_total", reason=r) for r in REASONS} == dict.fromkeys(
        REASONS, 0)
    assert v("wallboard_events_duplicate_total") == 0
    # as_of 10:00:00 +08:00 = 02:00:00 UTC = 1794362400
    assert v("wallboard_snapshot_timestamp_seconds") == 1_794_362_400
    assert v("wallboard_business_day_start_timestamp_seconds") == 1_794_362_400 - 6 * 3600
    assert v("wallboard_newest_event_timestamp_seconds") == 1_794_362_400 - 10  # c5 09:59:50
    assert v("wallboard_feed_up") == 1
    assert {s: v("wallboard_feed_state", state=s) for s in FEED_STATES} == {
        s: (1 if s == "connected" else 0) for s in FEED_STATES}
    assert v("wallboard_feed_lag_seconds") == 0.25
    assert v("wallboard_feed_events_per_second") == 12.5
    assert v("wallboard_feed_last_data_timestamp_seconds") == 1_794_362_399.5
    assert v("wallboard_feed_state_since_timestamp_seconds") == 1_794_300_000
    active = [a for a in snap.alerts if a.cleared_at_ms is None]
    for severity in ("warn", "critical"):
        assert v("wallboard_alerts_active", severity=severity) == sum(
            1 for a in active if a.severity == severity)
    for family in text_string_to_metric_families(
            render_metrics(snap, CONNECTED, config_with(tmp_path, agent_metrics=False)).decode()):
        for s in family.samples:  # every series names its site
            assert s.labels["site"] == SITE, s


def test_alerts_by_severity_and_rule_and_feed_down(tmp_path: Path) -> None:
    """The board scenario's 10:00: its active alerts counted by severity and by rule; a feed
    that is reconnecting is down, in one state, and without a lag has no lag series."""
    config = board_scenario.config(tmp_path)
    snap = fold(board_scenario.events(), board_scenario.NOW, config)
    active = [a for a in snap.alerts if a.cleared_at_ms is None]
    assert len({a.severity for a in active}) == 2  # the scenario has both: the test can fail
    status = FeedStatus(state="reconnecting", error="connection refused")
    found = samples(render_metrics(snap, status, config))
    get = partial(value, found, site="Hangzhou Floor 3")
    for severity in ("warn", "critical"):
        expected = sum(1 for a in active if a.severity == severity)
        assert get("wallboard_alerts_active", severity=severity) == expected
        assert get("wallboard_alerts_unacknowledged", severity=severity) == expected  # no acks
    by_rule = {(dict(labels)["rule"], dict(labels)["severity"]): n for (name, labels), n
               in found.items() if name == "wallboard_alerts_active_by_rule"}  # fmt: skip
    expected_by_rule: dict[tuple[str, str], int] = {}
    for a in active:
        expected_by_rule[a.rule, a.severity] = expected_by_rule.get((a.rule, a.severity), 0) + 1
    assert by_rule == expected_by_rule
    assert get("wallboard_feed_up") == 0
    assert get("wallboard_feed_state", state="reconnecting") == 1
    assert sum(n for (name, _), n in found.items() if name == "wallboard_feed_state") == 1
    assert "wallboard_feed_lag_seconds" not in names(found)
    # the vip recommendation: one reserve agent
    assert get("wallboard_callout_recommended_agents", queue="vip") == 1


def test_nulls_are_left_out_not_zero_or_nan(tmp_path: Path, snap: Snapshot) -> None:
    """support has answered and abandoned nothing: no service level, ASA, AHT or abandon
    ratio for it in either period (while sales has them); a feed with no lag yet has no lag
    series; nothing anywhere is NaN."""
    assert queue(snap, "support").today.service_level is None
    body = render_metrics(snap, FeedStatus(), config_with(tmp_path, agent_metrics=False))
    found = samples(body)
    for name in ("wallboard_queue_service_level_ratio", "wallboard_queue_asa_seconds",
                 "wallboard_queue_aht_seconds", "wallboard_queue_abandon_ratio"):
        for period in ("today", "window"):
            assert value(found, name, queue="support", period=period) is None, (name, period)
            assert value(found, name, queue="sales", period=period) is not None, (name, period)
    assert value(found, "wallboard_queue_waiting", queue="support") == 1  # the queue is there
    for name in ("wallboard_feed_lag_seconds", "wallboard_feed_last_data_timestamp_seconds",
                 "wallboard_feed_state_since_timestamp_seconds"):
        assert name not in names(found)
        assert name.encode() not in body  # not even a HELP line for an empty family
    assert value(found, "wallboard_feed_state", state="connecting") == 1
    assert all(math.isfinite(n) for n in found.values())


def test_an_empty_board_renders(tmp_path: Path) -> None:
    """Before any event: no as_of, no queues, no bots' ratio; the board-wide series are there."""
    config = config_with(tmp_path, agent_metrics=True)
    found = samples(render_metrics(fold([], 0, config), FeedStatus(), config))
    assert "wallboard_snapshot_timestamp_seconds" not in names(found)
    assert "wallboard_queue_waiting" not in names(found)
    assert "wallboard_bot_containment_ratio" not in names(found)
    assert value(found, "wallboard_agents", state="available") == 0
    assert value(found, "wallboard_alerts_active", severity="critical") == 0
    assert value(found, "wallboard_events_applied_total") == 0


def test_agent_series_only_when_enabled(tmp_path: Path, snap: Snapshot) -> None:
    off = samples(render_metrics(snap, CONNECTED, config_with(tmp_path, agent_metrics=False)))
    assert not {n for n in names(off) if n.startswith("wallboard_agent_")}
    assert not any("agent" in dict(labels) for _, labels in off)
    default = samples(render_metrics(snap, CONNECTED, load_config(None)))  # off by default
    assert not {n for n in names(default) if n.startswith("wallboard_agent_")}
    on = samples(render_metrics(snap, CONNECTED, config_with(tmp_path, agent_metrics=True)))
    v = partial(value, on)
    # a1 answered c0 and c1, completed both; a2 answered c3; a3 nothing
    assert [v("wallboard_agent_handled_today", agent=a) for a in ("a1", "a2", "a3")] == [2, 1, 0]
    assert v("wallboard_agent_completed_today", agent="a1") == 2
    assert v("wallboard_agent_handled_last_hour", agent="a1") == 1  # c1 at 09:50:10
    # states since 07:00: 3 h at 10:00, with its state as a label
    assert v("wallboard_agent_state_seconds", agent="a3", state="break") == 3 * 3600
    assert v("wallboard_agent_shops", agent="a2") == 2
    assert v("wallboard_agent_info", agent="a1", team="", pool="") == 1
    # the floor-wide series are the same either way
    assert {k: n for k, n in on.items() if not k[0].startswith("wallboard_agent_")} == off


# (what arrives, what the label reads): quotes and backslashes exactly (the exposition escapes
# them); a character the terminal cleaner would drop as its code point, visibly.
HOSTILE = [
    ('q"uote', 'q"uote'),
    ("back\\slash\\", "back\\slash\\"),
    ('inject"} 1\nwallboard_queue_waiting{queue="evil',  # a newline trying to start a series
     'inject"} 1<U+000A>wallboard_queue_waiting{queue="evil'),
    ("lone\ud800surrogate", "lone<U+D800>surrogate"),
    ("\x1b[2Jwipe\x1b]0;title\x07", "<U+001B>[2Jwipe<U+001B>]0;title<U+0007>"),
    ("tab\there\r\n", "tab<U+0009>here<U+000D><U+000A>"),
    ("日本語 ✓", "日本語 ✓"),
    ("zero\u200bwidth", "zero<U+200B>width"),
    ("zerowidth", "zerowidth"),  # not folded into the one before
    ("zero<U+200B>width", None),  # reads as the one two before: that one is kept, this dropped
    ("", ""),
]


def test_hostile_label_values_round_trip(tmp_path: Path, snap: Snapshot) -> None:
    """Label values that arrive in a snapshot (queue names, agent ids, the site): none adds,
    breaks or merges a series; no control character, escape or lone surrogate is written."""
    template = snap.queues[0]
    queues = [msgspec.structs.replace(template, queue=raw, waiting=i)
              for i, (raw, _) in enumerate(HOSTILE)]  # fmt: skip
    agents = [msgspec.structs.replace(snap.agents[0], agent=raw, handled_today=i)
              for i, (raw, _) in enumerate(HOSTILE)]  # fmt: skip
    hostile = msgspec.structs.replace(snap, site_name='site\n"x"\\\x00', queues=queues,
                                      agents=agents)  # fmt: skip
    body = render_metrics(hostile, CONNECTED, config_with(tmp_path, agent_metrics=True))
    found: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for s in family.samples:
            assert s.labels["site"] == 'site<U+000A>"x"\\<U+0000>'
            if s.name in ("wallboard_queue_waiting", "wallboard_agent_handled_today"):
                key = s.labels.get("queue", s.labels.get("agent", ""))
                assert key not in found.setdefault(s.name, {}), key
                found[s.name][key] = s.value
    expected = {label: i for i, (_, label) in enumerate(HOSTILE) if label is not None}
    assert found["wallboard_queue_waiting"] == expected
    assert found["wallboard_agent_handled_today"] == expected
    assert len(expected) == len(HOSTILE) - 1
    assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", body)  # only the lines' own newlines
    assert "\u200b".encode() not in body
    for key in found["wallboard_queue_waiting"]:
        assert label_value(key) == key  # what is written is already safe: stable if re-read


def test_hostile_text_through_events(tmp_path: Path) -> None:
    """What the event decoder lets through (quotes, backslashes, braces, any script) arrives
    in the labels exactly as sent."""
    config = config_with(tmp_path, agent_metrics=True)
    name, agent = 'pre"sales\\{x="1"}', 'ag\\"ent 李'
    events = [event("agent.state", at(T0, 0), agent=agent, state="available", shops='s"1'),
              event("contact.offered", at(T0, 1), contact="c1", queue=name, channel="chat"),
              event("contact.answered", at(T0, 2), contact="c1", agent=agent)]  # fmt: skip
    snap = fold(events, at(T0, 10), config)
    assert snap.events_applied == 3
    found = samples(render_metrics(snap, CONNECTED, config))
    assert value(found, "wallboard_queue_answered_total", queue=name, period="today") == 1
    assert value(found, "wallboard_agent_handled_today", agent=agent) == 1
    assert value(found, "wallboard_shop_agents", shop='s"1') == 1


# --- property: any snapshot from random events renders and parses ---------------------------

text = st.text(st.sampled_from('ab"\\{}= \n\t\x1b\u200b李'), min_size=1, max_size=6)


@st.composite
def random_event(draw: st.DrawFn) -> dict[str, str]:
    ts = at(T0, draw(st.integers(min_value=0, max_value=4 * 3600)))
    kind = draw(st.sampled_from(["contact.offered", "contact.answered", "contact.abandoned",
                                 "contact.completed", "contact.transferred", "agent.state",
                                 "bot.resolved", "contact.message"]))  # fmt: skip
    fields: dict[str, Any] = {"contact": draw(st.sampled_from(["c1", "c2", "c3", "c4"]))}
    if kind in ("contact.offered", "contact.transferred"):
        fields["queue" if kind == "contact.offered" else "to_queue"] = draw(text)
        fields["channel"] = draw(st.sampled_from(["chat", "phone"]))
    if kind in ("contact.answered", "agent.state", "contact.completed"):
        fields["agent"] = draw(text)
    if kind == "agent.state":
        fields["state"] = draw(st.sampled_from(AGENT_STATES))
        fields["shops"] = draw(text)
    return event(kind, ts, **fields)


@fuzz_settings()
@given(events=st.lists(random_event(), max_size=40), agents_on=st.booleans(),
       lag=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
       state=st.sampled_from(FEED_STATES))  # fmt: skip
def test_any_snapshot_renders_and_parses(tmp_path_factory: pytest.TempPathFactory,
                                         events: list[dict[str, str]], agents_on: bool,
                                         lag: float | None, state: Any) -> None:
    config = _configs(tmp_path_factory)[agents_on]
    snap = fold(events, at(T0, 5 * 3600), config)
    found = samples(render_metrics(snap, FeedStatus(state=state, lag_s=lag), config))
    assert all(math.isfinite(n) for n in found.values())
    assert all(dict(labels)["site"] == SITE for _, labels in found)
    for q in snap.queues:
        assert value(found, "wallboard_queue_waiting", queue=label_value(q.queue)) == q.waiting
        assert value(found, "wallboard_queue_offered_total", queue=label_value(q.queue),
                     period="today") == q.today.offered  # fmt: skip
        assert value(found, "wallboard_queue_service_level_ratio", queue=label_value(q.queue),
                     period="window") == q.window.service_level  # fmt: skip
    handled = {dict(labels)["agent"]: n for (name, labels), n in found.items()
               if name == "wallboard_agent_handled_today"}  # fmt: skip
    assert handled == ({label_value(a.agent): a.handled_today for a in snap.agents}
                       if agents_on else {})  # fmt: skip


_CONFIGS: dict[bool, Config] = {}


def _configs(factory: pytest.TempPathFactory) -> dict[bool, Config]:
    if not _CONFIGS:
        for on in (False, True):
            _CONFIGS[on] = config_with(factory.mktemp("cfg"), agent_metrics=on)
    return _CONFIGS


# --- the Grafana dashboard ---------------------------------------------------------------


def _exprs(panels: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for panel in panels:
        out.extend(t["expr"] for t in panel.get("targets", []) if "expr" in t)
        out.extend(_exprs(panel.get("panels", [])))  # collapsed rows hold their panels
    return out


def test_dashboard_queries_only_series_the_renderer_writes(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["schemaVersion"] >= 36
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert {"site", "queue"} <= set(variables)
    for name in ("site", "queue"):
        assert variables[name]["query"]["query"].startswith("label_values(")
    panels = dashboard["panels"]
    assert len(panels) >= 8
    exprs = _exprs(panels)
    assert len(exprs) >= 10
    # Everything the dashboard could ask for: the board scenario (queues with Erlang figures,
    # alerts of both severities, a recommendation) and a live feed with a lag.
    config = board_scenario.config(tmp_path)
    snap = fold(board_scenario.events(), board_scenario.NOW, config)
    written = names(samples(render_metrics(snap, CONNECTED, config)))
    used = {name for expr in exprs for name in re.findall(r"\bwallboard_\w+", expr)}
    assert used, "no wallboard_ series in the dashboard"
    assert used <= written, f"not written by render_metrics: {sorted(used - written)}"
    assert not {n for n in used if n.startswith("wallboard_agent_")}  # opt-in: not assumed
    for expr in exprs:  # every query follows the site picker
        assert 'site=~"$site"' in expr, expr
    for panel in panels:
        if panel.get("type") != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
