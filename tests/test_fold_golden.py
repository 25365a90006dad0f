"""Golden scenarios: hand-worked numbers, with the arithmetic written next to each assertion."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario import at, config_from, event, fold, ms, queue
from wallboard.core.config import load_config

T0 = "2026-11-11 10:00:00"  # Asia/Shanghai, the default board zone


def sl_scenario() -> list[dict[str, str]]:
    """Queue `presale`, T = 30 s, S = 5 s (defaults)."""
    q = {"queue": "presale", "channel": "chat"}
    return [
        event("contact.offered", at(T0, 0), contact="c1", **q),
        event("contact.offered", at(T0, 0), contact="c2", **q),
        event("contact.offered", at(T0, 5), contact="c3", **q),
        event("contact.offered", at(T0, 10), contact="c4", **q),
        event("contact.offered", at(T0, 10), contact="c5", **q),
        event("contact.answered", at(T0, 10), contact="c1", agent="a1"),  # wait 10: within
        event("contact.abandoned", at(T0, 13), contact="c4"),  # wait 3: short, within T
        event("contact.offered", at(T0, 20), contact="c6", **q),
        event("contact.offered", at(T0, 30), contact="c8", **q),
        event("contact.answered", at(T0, 35), contact="c3", agent="a2"),  # wait 30: within (<=)
        event("contact.abandoned", at(T0, 35), contact="c8"),  # wait 5: not short (< 5 only)
        event("contact.answered", at(T0, 40), contact="c2", agent="a3"),  # wait 40: late
        event("contact.abandoned", at(T0, 45), contact="c6"),  # wait 25: within T
        event("contact.abandoned", at(T0, 50), contact="c5"),  # wait 40
        event("contact.offered", at(T0, 60), contact="c7", **q),  # still waiting
        event("contact.completed", at(T0, 240), contact="c2"),  # handle 240 - 40 = 200
        event("contact.completed", at(T0, 310), contact="c1"),  # handle 310 - 10 = 300
    ]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # answered_within = 2 (c1, c3); answered = 3; abandoned = 4; short_abandoned = 1 (c4);
        # abandoned with wait <= 30 = 3 (c4: 3 s, c8: 5 s, c6: 25 s)
        ("exclude_short_abandons", 2 / (3 + 4 - 1)),  # 2/6
        ("answered", 2 / 3),
        ("offered", 2 / (3 + 4)),  # 2/7
        ("abandons_within_positive", (2 + 3) / (3 + 4)),  # 5/7
    ],
)
def test_service_level_formulas(tmp_path: Path, formula: str, expected: float) -> None:
    config = config_from(tmp_path, f'[service_level]\nformula = "{formula}"\n')
    snap = fold(sl_scenario(), at(T0, 600), config)
    presale = queue(snap, "presale")
    assert presale.today.service_level == pytest.approx(expected)
    assert presale.window.service_level == pytest.approx(expected)  # all inside 30 minutes
    assert presale.sl_formula == formula


def test_queue_counts_asa_aht_and_waiting() -> None:
    snap = fold(sl_scenario(), at(T0, 600))
    presale = queue(snap, "presale")
    today = presale.today
    assert (today.offered, today.answered, today.abandoned) == (8, 3, 4)
    assert (today.answered_within, today.short_abandoned, today.abandoned_within) == (2, 1, 3)
    assert today.asa_s == pytest.approx((10 + 30 + 40) / 3)  # 26.67 s
    assert today.aht_s == pytest.approx((200 + 300) / 2)  # 250 s
    assert today.completed == 2
    assert today.abandon_rate == pytest.approx(4 / 7)
    # c7 entered at T0+60 and still waits at T0+600: 540 s
    assert presale.waiting == 1
    assert presale.longest_wait_s == pytest.approx(540.0)
    assert presale.sl_threshold_s == 30.0 and presale.sl_target == 0.8
    # conservation: 8 offered = 3 answered + 4 abandoned + 0 transferred + 1 waiting
    assert today.offered == today.answered + today.abandoned + today.transferred_out + 1
    assert snap.events_applied == 17
    assert snap.as_of == "2026-11-11T10:10:00+08:00"


def test_empty_denominators_are_null_and_nobody_waiting_is_zero(tmp_path: Path) -> None:
    config = config_from(tmp_path, "[queues.vip]\nkind = 'realtime'\n")
    snap = fold([], ms("2026-11-11 10:00:00"), config)
    vip = queue(snap, "vip")
    assert vip.waiting == 0 and vip.longest_wait_s == 0
    for period in (vip.today, vip.window):
        assert period.service_level is None
        assert period.asa_s is None and period.aht_s is None and period.abandon_rate is None
    # Only short abandons: the exclude_short_abandons denominator is 1 - 1 = 0 -> null, not 0
    q = {"queue": "vip"}
    only_short = [
        event("contact.offered", at(T0, 0), contact="x", **q),
        event("contact.abandoned", at(T0, 2), contact="x"),
    ]
    vip = queue(fold(only_short, at(T0, 60), config), "vip")
    assert vip.today.service_level is None
    assert vip.today.abandon_rate == 1.0


def test_transfers_while_waiting_and_after_answer() -> None:
    events = [
        # d1 waits 20 s in A, is transferred to B, answered there 10 s later
        event("contact.offered", at(T0, 0), contact="d1", queue="A", channel="phone"),
        event("contact.transferred", at(T0, 20), contact="d1", to_queue="B"),
        event("contact.answered", at(T0, 30), contact="d1", agent="x"),
        # d2 answered in A after 5 s by y, transferred after 60 s of handling, answered in B
        # after 60 s of waiting by x, completed 60 s later
        event("contact.offered", at(T0, 0), contact="d2", queue="A", channel="phone"),
        event("contact.answered", at(T0, 5), contact="d2", agent="y"),
        event("contact.transferred", at(T0, 65), contact="d2", to_queue="B"),
        event("contact.answered", at(T0, 125), contact="d2", agent="x"),
        event("contact.completed", at(T0, 185), contact="d2"),
    ]
    snap = fold(events, at(T0, 300))
    a, b = queue(snap, "A"), queue(snap, "B")
    # A: offered d1, d2; d1 left waiting by transfer; d2 answered (stays answered in A)
    assert (a.today.offered, a.today.answered, a.today.transferred_out, a.waiting) == (2, 1, 1, 0)
    assert a.today.aht_s == pytest.approx(60.0)  # d2's handling in A: 65 - 5
    assert a.today.asa_s == pytest.approx(5.0)
    # B: offered both at their transfer times; waits 10 s (within) and 60 s (late)
    assert (b.today.offered, b.today.answered, b.today.answered_within) == (2, 2, 1)
    assert b.today.service_level == pytest.approx(1 / 2)
    assert b.today.asa_s == pytest.approx((10 + 60) / 2)
    assert b.today.aht_s == pytest.approx(60.0)  # d2: 185 - 125; d1 not completed
    agents = {ag.agent: ag for ag in snap.agents}
    assert agents["x"].handled_today == 2 and agents["y"].handled_today == 1
    for q in (a, b):  # conservation per queue
        assert q.today.offered == q.today.answered + q.today.abandoned + q.today.transferred_out
        assert q.waiting == 0


def test_ticket_queues_use_their_own_threshold(tmp_path: Path) -> None:
    config = config_from(
        tmp_path,
        "[service_level]\nthreshold_s = 20\n"
        "[queues.tickets]\nkind = 'ticket'\n"
        "[queues.email]\nkind = 'ticket'\nthreshold_s = 3600\n",
    )
    events = [
        event("contact.offered", at(T0, 0), contact="t1", queue="tickets", channel="ticket"),
        event("contact.offered", at(T0, 0), contact="t2", queue="tickets", channel="ticket"),
        event("contact.offered", at(T0, 0), contact="e1", queue="email", channel="email"),
        event("contact.offered", at(T0, 0), contact="r1", queue="chat"),
        event("contact.answered", at(T0, 25), contact="r1", agent="a"),  # 25 s > 20 s: late
        event("contact.answered", at(T0, 1500), contact="t1", agent="a"),  # 25 min <= 30 min
        event("contact.answered", at(T0, 2400), contact="t2", agent="a"),  # 40 min > 30 min
        event("contact.answered", at(T0, 2400), contact="e1", agent="a"),  # 40 min <= 60 min
    ]
    snap = fold(events, at(T0, 3000), config)
    tickets, email, chat = queue(snap, "tickets"), queue(snap, "email"), queue(snap, "chat")
    assert tickets.kind == "ticket" and tickets.sl_threshold_s == 1800.0
    assert tickets.today.service_level == pytest.approx(1 / 2)
    assert email.sl_threshold_s == 3600.0 and email.today.service_level == 1.0
    assert chat.kind == "realtime" and chat.sl_threshold_s == 20.0
    assert chat.today.service_level == 0.0  # answered, but late: a real 0, not a null


def test_rolling_window_is_open_at_the_start_and_closed_at_the_end(tmp_path: Path) -> None:
    config = config_from(tmp_path, "[board]\nwindow_minutes = 30\n")
    events = [
        event("contact.offered", ms("2026-11-11 10:00:00"), contact="w1", queue="q"),
        event("contact.answered", ms("2026-11-11 10:00:10"), contact="w1", agent="a"),
        event("contact.offered", ms("2026-11-11 10:20:00"), contact="w2", queue="q"),
        event("contact.abandoned", ms("2026-11-11 10:20:30"), contact="w2"),
    ]
    # (10:00:00 - 0.001 .. 10:30:00 - 0.001]: the offer at 10:00:00 is inside
    snap = fold(events, ms("2026-11-11 10:30:00") - 1, config)
    assert queue(snap, "q").window.offered == 2
    # (10:00:00, 10:30:00]: an offer at exactly as_of - 30 min is out, its answer at 10:00:10 in
    w = queue(fold(events, ms("2026-11-11 10:30:00"), config), "q").window
    assert (w.offered, w.answered, w.abandoned, w.minutes) == (1, 1, 1, 30)
    # at 10:45 only w2's offer (10:20) and abandon (10:20:30) remain
    w = queue(fold(events, ms("2026-11-11 10:45:00"), config), "q").window
    assert (w.offered, w.answered, w.abandoned) == (1, 0, 1)
    # 0 answered within / (0 answered + 1 abandoned - 0 short: it waited 30 s) = 0.0, not null
    assert w.service_level == 0.0
    # the day keeps everything
    assert queue(fold(events, ms("2026-11-11 10:45:00"), config), "q").today.offered == 2


def test_business_day_rolls_at_four_across_midnight() -> None:
    evening = [
        event("agent.state", ms("2026-11-11 17:30:00"), agent="e1", state="available",
              name="Evening One", pool="core"),
        event("contact.offered", ms("2026-11-11 23:49:50"), contact="n1", queue="chat"),
        event("contact.answered", ms("2026-11-11 23:50:00"), contact="n1", agent="e1"),
        event("contact.offered", ms("2026-11-12 00:19:40"), contact="n2", queue="chat"),
        event("contact.answered", ms("2026-11-12 00:20:00"), contact="n2", agent="e1"),
        event("contact.offered", ms("2026-11-12 03:59:00"), contact="n3", queue="chat"),
    ]
    snap = fold(evening, ms("2026-11-12 00:30:00"))
    # 00:30 on the 12th still belongs to the business day that began 2026-11-11 04:00
    assert snap.business_day == "2026-11-11"
    assert snap.agents[0].handled_today == 2
    assert queue(snap, "chat").today.offered == 2

    after = [*evening, event("contact.answered", ms("2026-11-12 04:10:00"), contact="n3",
                             agent="e1")]  # fmt: skip
    snap = fold(after, ms("2026-11-12 04:30:00"))
    chat = queue(snap, "chat")
    assert snap.business_day == "2026-11-12"
    assert snap.business_day_start == "2026-11-12T04:00:00+08:00"
    # n3 was offered yesterday (03:59) and answered today (04:10): the answer counts today,
    # the offer yesterday; its wait is 11 min, so it is late
    assert (chat.today.offered, chat.today.answered, chat.today.answered_within) == (0, 1, 0)
    assert chat.today.asa_s == pytest.approx(660.0)
    e1 = snap.agents[0]
    assert e1.handled_today == 1  # yesterday's two are gone, today's answer at 04:10 counts
    assert e1.state == "available"  # state carries over the boundary
    assert e1.state_since == "2026-11-11T17:30:00+08:00"


def test_waiting_contact_carries_over_the_boundary() -> None:
    events = [event("contact.offered", ms("2026-11-12 03:59:00"), contact="n3", queue="chat")]
    chat = queue(fold(events, ms("2026-11-12 04:30:00")), "chat")
    assert chat.today.offered == 0
    assert chat.waiting == 1
    assert chat.longest_wait_s == pytest.approx(31 * 60)


def test_projection_load_band_and_shifts() -> None:
    events = [
        event("agent.state", ms("2026-11-11 08:30:00"), agent="d1", state="available"),
        event("agent.state", ms("2026-11-11 17:30:00"), agent="e1", state="available"),
    ]
    for i, t in enumerate(["09:10", "09:20", "09:40", "10:05"]):
        events.append(event("contact.answered", ms(f"2026-11-11 {t}:00"), contact=f"d{i}",
                            agent="d1"))  # fmt: skip
    for i, t in enumerate(["21:40", "22:10"]):
        events.append(event("contact.answered", ms(f"2026-11-11 {t}:00"), contact=f"e{i}",
                            agent="e1"))  # fmt: skip
    snap = fold(events, ms("2026-11-11 10:30:00"))
    d1 = next(a for a in snap.agents if a.agent == "d1")
    # last hour (09:30, 10:30]: 09:40 and 10:05 -> 2; 7 h left to 17:30: 4 + 2 * 7 = 18
    assert (d1.handled_today, d1.handled_last_hour) == (4, 2)
    assert d1.projected_today == pytest.approx(18.0)
    assert d1.shift == "day" and d1.shift_end == "2026-11-11T17:30:00+08:00"
    assert d1.load_band == "under"

    snap = fold(events, ms("2026-11-11 22:30:00"))
    e1 = next(a for a in snap.agents if a.agent == "e1")
    # (21:30, 22:30]: both answers; 2 h left to 00:30: 2 + 2 * 2 = 6
    assert e1.shift == "evening" and e1.shift_end == "2026-11-12T00:30:00+08:00"
    assert e1.projected_today == pytest.approx(6.0)
    d1 = next(a for a in snap.agents if a.agent == "d1")
    assert d1.projected_today == pytest.approx(4.0)  # shift over: no hours left


@pytest.mark.parametrize(
    ("handled", "band"), [(79, "under"), (80, "healthy"), (120, "healthy"), (121, "over")]
)
def test_load_band_edges(handled: int, band: str) -> None:
    # answers with no offer seen count for the agent but not for any queue's service level
    events = [
        event("contact.answered", ms("2026-11-11 09:00:00") + i * 1000, contact=f"k{i}",
              agent="busy-bee", queue="chat")
        for i in range(handled)
    ]
    snap = fold(events, ms("2026-11-11 12:00:00"))
    assert snap.agents[0].handled_today == handled
    assert snap.agents[0].load_band == band
    assert all(q.today.answered == 0 for q in snap.queues)


def test_agents_floor_messages_shops_and_outcomes() -> None:
    t = "2026-11-11 09:00:00"
    events = [
        event("agent.state", at(t, 0), agent="a", state="available", shops="s1,s2,s3",
              queues="chat", name="An", team="red", level="gold", pool="core"),
        event("agent.state", at(t, 0), agent="b", state="busy", shops="s1,s2,s3,s4",
              queues="phone", pool="core"),
        event("agent.state", at(t, 0), agent="c", state="break", reason="lunch", pool="reserve"),
        event("agent.state", at(t, 0), agent="d", state="logged_out", pool="reserve"),
        event("contact.offered", at(t, 10), contact="m1", queue="chat", channel="chat"),
        event("contact.answered", at(t, 12), contact="m1", agent="a"),
        *[event("contact.message", at(t, 20 + i), contact="m1") for i in range(361)],
        event("contact.completed", at(t, 600), contact="m1", outcome="order", value="88.5",
              rating="5"),
        event("contact.completed", at(t, 700), contact="m9", agent="a", outcome="no_order",
              rating="3"),
    ]
    snap = fold(events, at(t, 900))
    agents = {ag.agent: ag for ag in snap.agents}
    a = agents["a"]
    assert a.messages_last_hour == 361 and a.messages_over_max  # 361 > 360
    assert a.shops == ["s1", "s2", "s3"] and a.shops_status == "warn"  # 3 > 2
    assert agents["b"].shops_status == "breach"  # 4 > 3
    assert agents["c"].shops_status == "ok"
    assert a.conversion_today == pytest.approx(1 / 2)  # 1 order of 2 with an outcome
    assert a.rating_today == pytest.approx((5 + 3) / 2)
    assert a.order_value_today == pytest.approx(88.5)
    assert a.completed_today == 2
    assert a.state == "available" and a.time_in_state_s == pytest.approx(900.0)
    assert (a.name, a.team, a.level, a.pool) == ("An", "red", "gold", "core")
    assert snap.floor.by_state == {"logged_out": 1, "available": 1, "busy": 1, "wrap_up": 0,
                                   "break": 1, "away": 0}  # fmt: skip
    assert (snap.floor.staffed, snap.floor.available) == (3, 1)  # a, b, c; only a available
    chat = queue(snap, "chat")
    # staffed for chat: a (queues=chat) and c (no list: serves every queue); b serves phone
    assert (chat.agents_staffed, chat.agents_available) == (2, 1)


def test_bots_resolved_and_escalated() -> None:
    events = [
        event("bot.resolved", at(T0, 0), contact="b1", queue="presale"),
        event("bot.resolved", at(T0, 1), contact="b2"),
        event("bot.resolved", at(T0, 2)),
        event("contact.offered", at(T0, 3), contact="b4", queue="presale", via="bot"),
    ]
    snap = fold(events, at(T0, 10))
    assert (snap.bots.resolved_today, snap.bots.escalated_today) == (3, 1)
    assert snap.bots.containment_today == pytest.approx(3 / 4)


def test_lifecycle_edge_rules() -> None:
    events = [
        # a repeated offer into the same queue changes nothing
        event("contact.offered", at(T0, 0), contact="r", queue="q"),
        event("contact.offered", at(T0, 5), contact="r", queue="q"),
        # an offer into another queue while waiting moves it (a transfer out of the first)
        event("contact.offered", at(T0, 0), contact="m", queue="q"),
        event("contact.offered", at(T0, 9), contact="m", queue="other"),
        # an abandon with nothing waiting is applied but counts nothing
        event("contact.abandoned", at(T0, 10), contact="ghost"),
        # completed while still waiting: answered at the completion time
        event("contact.offered", at(T0, 0), contact="w", queue="q"),
        event("contact.completed", at(T0, 20), contact="w", agent="z"),
    ]
    snap = fold(events, at(T0, 60))
    q, other = queue(snap, "q"), queue(snap, "other")
    assert (q.today.offered, q.today.transferred_out, q.today.answered, q.waiting) == (3, 1, 1, 1)
    assert q.today.asa_s == pytest.approx(20.0) and q.today.completed == 0
    assert q.longest_wait_s == pytest.approx(60.0)  # r waits since T0, not since the repeat
    assert (other.today.offered, other.waiting) == (1, 1)
    assert snap.events_applied == 7


def test_a_takeover_moves_questions_and_completion_to_the_new_agent() -> None:
    """A second answer by another agent is a takeover: the contact's questions and its
    completion count for whoever holds it then; the first agent keeps its answer."""
    t = "2026-11-11 09:00:00"
    events = [
        event("contact.offered", at(t, 0), contact="k", queue="chat", channel="chat"),
        event("contact.answered", at(t, 10), contact="k", agent="a"),  # wait 10
        event("contact.message", at(t, 20), contact="k"),  # a's question
        event("contact.message", at(t, 21), contact="k"),  # a's question
        event("contact.answered", at(t, 30), contact="k", agent="b"),  # b takes it over
        event("contact.message", at(t, 40), contact="k"),  # b's question
        event("contact.completed", at(t, 100), contact="k", outcome="order", rating="4"),
        # an answer with no offer seen, then its question naming nobody: the answerer's
        event("contact.answered", at(t, 200), contact="n", agent="c", queue="chat"),
        event("contact.message", at(t, 210), contact="n"),
    ]
    snap = fold(events, at(t, 300))
    agents = {ag.agent: ag for ag in snap.agents}
    a, b, c = agents["a"], agents["b"], agents["c"]
    assert (a.handled_today, a.messages_last_hour, a.completed_today) == (1, 2, 0)
    assert (b.handled_today, b.messages_last_hour, b.completed_today) == (0, 1, 1)
    assert (b.conversion_today, b.rating_today) == (1.0, 4.0)
    assert (c.handled_today, c.messages_last_hour) == (1, 1)
    chat = queue(snap, "chat")
    # One offer, one timed answer (wait 10 s); handled 100 - 10 = 90 s in chat.
    assert (chat.today.offered, chat.today.answered, chat.today.completed) == (1, 1, 1)
    assert chat.today.asa_s == 10.0 and chat.today.aht_s == 90.0


def test_config_defaults_match_the_seeds() -> None:
    config = load_config(None)
    assert config.service_level.threshold_s == 30  # 30-second answer rate
    assert config.service_level.ticket_threshold_s == 1800  # 30-minute work-order response
    assert (config.agent_load.daily_low, config.agent_load.daily_high) == (80, 120)
    assert config.agent_load.hourly_messages_max == 360
    assert config.board.business_day_start == "04:00"
