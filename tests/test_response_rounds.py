"""Response rounds (docs/metrics.md, "Response rounds") and rollups: hand-worked scenarios,
with the arithmetic written next to each assertion. Defaults: within 180 s, cap 600 s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scenario import at, config_from, event, fold, ms, queue
from wallboard.core.period_view import Response
from wallboard.core.snapshot import AgentSnapshot, RollupSnapshot, Snapshot

T0 = "2026-11-11 10:00:00"
CHAT = {"channel": "chat"}


def agent(snap: Snapshot, agent_id: str) -> AgentSnapshot:
    return next(a for a in snap.agents if a.agent == agent_id)


def rollup(snap: Snapshot, by: str, name: str) -> RollupSnapshot:
    found = [r for r in snap.rollups if r.by == by and r.name == name]
    assert found, f"no rollup {by}/{name} in {[(r.by, r.name) for r in snap.rollups]}"
    return found[0]


def response(value: Response | None) -> Response:
    assert value is not None
    return value


def one_chat() -> list[dict[str, Any]]:
    def t(seconds: float) -> int:
        return at(T0, seconds)

    c = {"contact": "c1"}
    return [
        event("contact.offered", t(0), queue="chat1", **c, **CHAT),  # round 1 opens at 0
        event("contact.answered", t(10), agent="a1", **c),
        event("contact.message", t(20), **c),  # round 1 is open: no new round
        event("contact.message", t(30), **c),
        event("contact.reply", t(180), **c),  # closes round 1: 180 - 0 = 180 <= 180, within
        event("contact.message", t(200), **c),  # round 2 opens at 200
        event("contact.reply", t(381), **c),  # closes round 2: 181 s, answered late
        event("contact.message", t(400), **c),  # round 3 opens at 400
        # no reply by 400 + 600 = 1000: round 3 settles there, unanswered, as 600 s
        event("contact.reply", t(1001), **c),  # after the cap: closes nothing
        event("contact.message", t(1100), **c),  # round 4 opens (the last one was capped)
        event("contact.completed", t(1200), **c),  # round 4 ends unanswered: 600 s
    ]


def test_rounds_of_one_chat() -> None:
    snap = fold(one_chat(), at(T0, 1300))
    chat = queue(snap, "chat1")
    today = response(chat.today.response)
    assert (today.rounds, today.answered, today.answered_within, today.unanswered) == (4, 2, 1, 2)
    assert today.response_rate == pytest.approx(1 / 4)
    assert today.avg_response_s == pytest.approx((180 + 181 + 600 + 600) / 4)  # 390.25
    assert today.first_response_s == pytest.approx(180)  # round 1 only
    assert response(chat.window.response) == today  # all within the 30-minute window
    assert (chat.open_rounds, chat.oldest_open_round_s) == (0, 0)
    # Every round was on a1's contact while a1 handled it (answered at 10 s).
    assert response(agent(snap, "a1").response_today) == today
    assert agent(snap, "a1").open_rounds == 0


def test_a_round_is_open_until_its_cap() -> None:
    events = one_chat()[:8]  # up to round 3 opening at 400
    before = fold(events, at(T0, 1000))  # at the cap itself: still open, 600 s old
    chat = queue(before, "chat1")
    assert (chat.open_rounds, chat.oldest_open_round_s) == (1, 600)
    assert response(chat.today.response).rounds == 2
    assert (agent(before, "a1").open_rounds, agent(before, "a1").oldest_open_round_s) == (1, 600)
    after = fold(events, at(T0, 1000.001))  # one ms later it is settled, at 1000
    assert queue(after, "chat1").open_rounds == 0
    assert response(queue(after, "chat1").today.response).unanswered == 1


def test_a_reply_exactly_at_the_cap_closes_the_round(tmp_path: Path) -> None:
    c = {"contact": "c1"}
    events = [event("contact.offered", at(T0, 0), queue="q", **c, **CHAT),
              event("contact.reply", at(T0, 600), **c)]  # fmt: skip
    today = response(queue(fold(events, at(T0, 700)), "q").today.response)
    # closed by the reply at 600 s: answered (late: 600 > 180), not unanswered
    assert (today.rounds, today.answered, today.answered_within, today.unanswered) == (1, 1, 0, 0)
    assert today.avg_response_s == 600


@pytest.mark.parametrize(("count_bot", "within", "avg"), [
    # c2: bot at 5 does not count; assist at 20 closes (20 s). c3: bot at 30 ignored, the
    # agent at 200 closes (200 s > 180, late). avg = (20 + 200) / 2
    (False, 1, (20 + 200) / 2),
    # bot replies count: c2 closes at 5 s, c3 at 30 s, both within. avg = (5 + 30) / 2
    (True, 2, (5 + 30) / 2),
])  # fmt: skip
def test_assist_and_bot_replies(tmp_path: Path, count_bot: bool, within: int,
                                avg: float) -> None:  # fmt: skip
    config = config_from(tmp_path, f"[response]\ncount_bot_replies = {str(count_bot).lower()}\n")
    events = [
        event("contact.offered", at(T0, 0), contact="c2", queue="q", **CHAT),
        event("contact.reply", at(T0, 5), contact="c2", by="bot"),
        event("contact.reply", at(T0, 20), contact="c2", by="assist"),
        event("contact.offered", at(T0, 0), contact="c3", queue="q", **CHAT),
        event("contact.answered", at(T0, 10), contact="c3", agent="a2"),
        event("contact.reply", at(T0, 30), contact="c3", by="bot"),
        event("contact.reply", at(T0, 200), contact="c3", by="agent"),
    ]
    today = response(queue(fold(events, at(T0, 300), config), "q").today.response)
    assert (today.rounds, today.answered_within, today.unanswered) == (2, within, 0)
    assert today.avg_response_s == pytest.approx(avg)


def test_abandon_and_transfer_settle_the_open_round() -> None:
    events = [
        # c4 waits in chat1 and leaves at 50: its round settles unanswered (600 s) in chat1
        event("contact.offered", at(T0, 0), contact="c4", queue="chat1", **CHAT),
        event("contact.abandoned", at(T0, 50), contact="c4"),
        # c5 is answered by a1, transferred at 60: unanswered in chat1, on a1 (600 s); a new
        # round opens in chat2 at 60 and a3's reply at 100 closes it (40 s, within)
        event("contact.offered", at(T0, 0), contact="c5", queue="chat1", **CHAT),
        event("contact.answered", at(T0, 5), contact="c5", agent="a1"),
        event("contact.transferred", at(T0, 60), contact="c5", to_queue="chat2"),
        event("contact.reply", at(T0, 100), contact="c5", agent="a3"),
        # c6: replied in 10 s in chat1
        event("contact.offered", at(T0, 0), contact="c6", queue="chat1", **CHAT),
        event("contact.reply", at(T0, 10), contact="c6"),
    ]
    snap = fold(events, at(T0, 200))
    chat1 = response(queue(snap, "chat1").today.response)
    assert (chat1.rounds, chat1.answered_within, chat1.unanswered) == (3, 1, 2)
    assert chat1.avg_response_s == pytest.approx((600 + 600 + 10) / 3)
    assert chat1.first_response_s == pytest.approx((600 + 600 + 10) / 3)  # all first rounds
    chat2 = response(queue(snap, "chat2").today.response)
    assert (chat2.rounds, chat2.answered_within, chat2.avg_response_s) == (1, 1, 40)
    assert chat2.first_response_s is None  # c5's first round settled in chat1
    a1 = response(agent(snap, "a1").response_today)
    assert (a1.rounds, a1.unanswered) == (1, 1)  # the transfer left it unanswered on a1
    a3 = response(agent(snap, "a3").response_today)
    assert (a3.rounds, a3.answered_within) == (1, 1)  # the reply names a3
    floor = response(rollup(snap, "floor", "floor").today.response)
    # 4 rounds, 2 within; (600 + 600 + 10 + 40) / 4 = 312.5; first: c4, c5 (chat1), c6
    assert (floor.rounds, floor.answered_within, floor.response_rate) == (4, 2, 0.5)
    assert floor.avg_response_s == pytest.approx(312.5)
    assert floor.first_response_s == pytest.approx((600 + 600 + 10) / 3)


def test_no_rounds_without_replies_and_for_bot_only_contacts() -> None:
    events = [
        # a chat queue whose producer sends no replies: rounds open and settle at the cap,
        # but the queue reports no response figures, not a floor of 0%
        event("contact.offered", at(T0, 0), contact="c1", queue="quiet", **CHAT),
        event("contact.completed", at(T0, 100), contact="c1", agent="a1"),
        event("contact.offered", at(T0, 0), contact="c2", queue="quiet", **CHAT),
        # a phone call has no rounds
        event("contact.offered", at(T0, 0), contact="p1", queue="phone", channel="phone"),
        event("contact.answered", at(T0, 3), contact="p1", agent="a2"),
        # a bot-only contact: questions and a bot reply, never offered to a human queue
        event("contact.message", at(T0, 5), contact="b1", queue="bot"),
        event("contact.reply", at(T0, 6), contact="b1", by="bot"),
        event("bot.resolved", at(T0, 7), contact="b1"),
    ]
    snap = fold(events, at(T0, 200))
    quiet = queue(snap, "quiet")
    assert quiet.today.response is None and quiet.window.response is None
    assert (quiet.open_rounds, quiet.oldest_open_round_s) == (None, None)
    assert queue(snap, "phone").today.response is None
    assert all(q.queue != "bot" or q.today.offered == 0 for q in snap.queues)
    assert agent(snap, "a1").response_today is None
    assert rollup(snap, "floor", "floor").today.response is None
    assert rollup(snap, "floor", "floor").open_rounds is None


def test_the_day_boundary_and_the_window_edge() -> None:
    day1 = "2026-11-11 03:50:00"  # the business day starts at 04:00 (the default)
    events = [
        # replied at 03:59: yesterday's round
        event("contact.offered", at(day1, 0), contact="c1", queue="q", **CHAT),
        event("contact.reply", at(day1, 540), contact="c1"),  # 9 min: late
        # opened 03:55, no reply: capped at 04:05, in the new day
        event("contact.offered", at(day1, 300), contact="c2", queue="q", **CHAT),
        # opened 03:58, replied 04:00:30 (150 s): today's, within
        event("contact.offered", at(day1, 480), contact="c3", queue="q", **CHAT),
        event("contact.reply", at(day1, 630), contact="c3"),
    ]
    snap = fold(events, ms("2026-11-11 04:06:00"))
    assert snap.business_day == "2026-11-11"
    today = response(queue(snap, "q").today.response)
    assert (today.rounds, today.answered_within, today.unanswered) == (2, 1, 1)  # c3, c2
    assert today.avg_response_s == pytest.approx((150 + 600) / 2)
    # The 30-minute window at 04:29:59.999 still holds c1's round (settled 03:59:00)?
    # (04:29:59.999 - 30 min, ...] starts at 03:59:59.999: c1 (03:59:00) is out, c3 in.
    late = fold(events, ms("2026-11-11 04:29:59") + 999)
    assert response(queue(late, "q").window.response).rounds == 2  # c3 (04:00:30), c2 (04:05)
    edge = fold(events, ms("2026-11-11 04:30:30"))  # (04:00:30, ...]: c3 at 04:00:30 is out
    assert response(queue(edge, "q").window.response).rounds == 1


def shops_scenario() -> list[dict[str, Any]]:
    """qa answers within 20 s, qb within 40 s; shops s1 and s2 spread over both."""
    return [
        event("contact.offered", at(T0, 0), contact="c1", queue="qa", shop="s1", **CHAT),
        event("contact.answered", at(T0, 30), contact="c1", agent="a1"),  # 30 > 20: late
        event("contact.offered", at(T0, 0), contact="c2", queue="qb", shop="s1", **CHAT),
        event("contact.answered", at(T0, 30), contact="c2", agent="a2"),  # 30 <= 40: within
        event("contact.offered", at(T0, 0), contact="c5", queue="qa", shop="s1", **CHAT),
        event("contact.answered", at(T0, 5), contact="c5", agent="a3"),  # within
        event("contact.offered", at(T0, 0), contact="c3", queue="qa", shop="s2", **CHAT),
        event("contact.answered", at(T0, 10), contact="c3", agent="a4"),  # within
        event("contact.offered", at(T0, 0), contact="c4", queue="qb", shop="s2", **CHAT),
        event("contact.abandoned", at(T0, 50), contact="c4"),  # 50 s: not short, not within
        event("contact.offered", at(T0, 0), contact="c6", queue="qb", **CHAT),  # no shop
    ]


SHOPS_CONFIG = """
[queues.qa]
threshold_s = 20
[queues.qb]
threshold_s = 40
[groups.presales]
queues = ["qa"]
[groups.all]
queues = ["qa", "qb", "not_yet_seen"]
"""


def test_rollups_by_shop_over_queues_with_different_thresholds(tmp_path: Path) -> None:
    snap = fold(shops_scenario(), at(T0, 60), config_from(tmp_path, SHOPS_CONFIG))
    s1, s2 = rollup(snap, "shop", "s1"), rollup(snap, "shop", "s2")
    # s1: answered c1 (late by qa's 20 s), c2 (within qb's 40 s), c5 (within): 2 / 3
    assert (s1.today.answered, s1.today.answered_within) == (3, 2)
    assert s1.today.service_level == pytest.approx(2 / 3)
    # s2: c3 within, c4 abandoned after 50 s: 1 / (1 + 1)
    assert s2.today.service_level == pytest.approx(1 / 2)
    floor = rollup(snap, "floor", "floor")
    # summed: 3 within of 4 answered + 1 abandoned = 3/5, not the mean of ratios (0.583)
    assert floor.today.service_level == pytest.approx(3 / 5)
    assert (floor.waiting, floor.today.offered) == (1, 6)  # c6 still waits
    assert rollup(snap, "shop", "-").waiting == 1  # c6 names no shop
    assert floor.queues == ["qa", "qb"]
    everything = rollup(snap, "group", "all")
    assert everything.queues == ["qa", "qb", "not_yet_seen"]
    assert everything.today == floor.today
    assert rollup(snap, "channel", "chat").today == floor.today  # every contact is a chat


def test_a_rollup_of_one_queue_equals_the_queue(tmp_path: Path) -> None:
    snap = fold(shops_scenario(), at(T0, 60), config_from(tmp_path, SHOPS_CONFIG))
    qa, group = queue(snap, "qa"), rollup(snap, "group", "presales")
    # qa's own threshold (20 s) judged each contact; the group takes the same counts
    assert group.today == qa.today and group.window == qa.window
    assert (group.waiting, group.longest_wait_s) == (qa.waiting, qa.longest_wait_s)
    assert (group.open_rounds, group.oldest_open_round_s) == (qa.open_rounds,
                                                               qa.oldest_open_round_s)


def test_config_checks_the_response_section(tmp_path: Path) -> None:
    from wallboard.core.config import ConfigError

    with pytest.raises(ConfigError, match=r"`response.within_s`: must not be above"):
        config_from(tmp_path, "[response]\nwithin_s = 700\n")
    with pytest.raises(ConfigError, match=r"`response.channels"):
        config_from(tmp_path, '[response]\nchannels = ["fax"]\n')
    with pytest.raises(ConfigError, match=r"`groups.g.queues`: a group needs at least one"):
        config_from(tmp_path, "[groups.g]\nqueues = []\n")
    with pytest.raises(ConfigError, match=r"`queues.q.response_within_s`"):
        config_from(tmp_path, "[queues.q]\nresponse_within_s = 300\nresponse_cap_s = 200\n")
    config = config_from(tmp_path, "[queues.q]\nresponse_within_s = 60\nresponse_cap_s = 120\n")
    events = [event("contact.offered", at(T0, 0), contact="c", queue="q", **CHAT),
              event("contact.offered", at(T0, 0), contact="d", queue="q", **CHAT),
              event("contact.reply", at(T0, 61), contact="c")]  # fmt: skip
    today = response(queue(fold(events, at(T0, 200), config), "q").today.response)
    # c: 61 s > the queue's 60 s: late; d: capped at the queue's 120 s
    assert (today.rounds, today.answered_within, today.avg_response_s) == (2, 0, (61 + 120) / 2)
