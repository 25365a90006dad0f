"""Erlang C and the 360-per-hour rule of thumb on the board (docs/staffing.md).

The Call Centre Helper worked example ("Erlang C Formula - Made Simple With an Easy Worked
Example"): 100 calls in 30 minutes, AHT 180 s, 80% answered in 20 s: 10 Erlangs, 14 agents
(service level 88.8%). Here the same traffic is folded from events and the board must say 14."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.scenario import at, config_from, event, fold, queue
from wallboard.core.config import load_config
from widgets.queues import _need

BASE = "2026-11-11 10:00:00"
CONFIG = """
[board]
window_minutes = 30

[queues.hotline]
threshold_s = 20
target = 0.8
{extra}
"""


def traffic() -> list[dict[str, Any]]:
    """An agent known since 09:00 (the board has seen more than the window), then 100 calls
    18 s apart from 10:00:09, each answered at once and handled for exactly 180 s."""
    events = [event("agent.state", at(BASE, -3600), agent="a1", state="busy",
                    queues="hotline")]  # fmt: skip
    for k in range(100):
        start = 9 + 18 * k
        cid = f"c{k}"
        events += [
            event("contact.offered", at(BASE, start), contact=cid, queue="hotline",
                  channel="phone"),
            event("contact.answered", at(BASE, start), contact=cid, agent="a1"),
            event("contact.completed", at(BASE, start + 180), contact=cid, agent="a1"),
        ]  # fmt: skip
    return events


def test_erlang_c_on_the_window_matches_the_worked_example(tmp_path: Path) -> None:
    config = config_from(tmp_path, CONFIG.format(extra=""))
    q = queue(fold(traffic(), at(BASE, 1800), config), "hotline")
    # 100 offers in the 30-minute window = 200 an hour; every handle 180 s.
    assert q.window.offered == 100 and q.window.aht_s == 180.0
    assert q.offered_per_hour == 200.0
    assert q.required_agents == 14
    assert q.erlang_service_level is not None and abs(q.erlang_service_level - 0.888) < 0.001
    assert q.erlang_occupancy is not None and abs(q.erlang_occupancy - 10 / 14) < 1e-9
    assert q.agents_working == 1 and q.staffed_gap == 13  # a1 alone is busy on it


def test_concurrency_divides_the_traffic(tmp_path: Path) -> None:
    """Two chats at once per agent: 5 Erlangs of agents, which the Erlang C table sizes at
    8 for 80% in 20 s (7 agents reach only 76.7%)."""
    config = config_from(tmp_path, CONFIG.format(extra="concurrency = 2"))
    q = queue(fold(traffic(), at(BASE, 1800), config), "hotline")
    assert q.required_agents == 8


def test_rule_of_thumb_from_questions_in_the_last_hour(tmp_path: Path) -> None:
    """721 customer questions in the hour: ceil(721 / 360) = 3 agents. Questions older than
    an hour no longer count."""
    config = config_from(tmp_path, CONFIG.format(extra=""))
    events = [event("contact.offered", at(BASE, 0), contact="chat1", queue="hotline",
                    channel="chat"),
              event("contact.answered", at(BASE, 1), contact="chat1", agent="a1")]  # fmt: skip
    events += [event("contact.message", at(BASE, 2 + k * 4), contact="chat1")
               for k in range(721)]  # fmt: skip
    q = queue(fold(events, at(BASE, 2 + 720 * 4), config), "hotline")
    assert (q.questions_last_hour, q.rule_of_thumb_agents) == (721, 3)
    # At 11:00:06 the hour is (10:00:06, 11:00:06]: the questions of 10:00:02 and 10:00:06
    # have left it, 719 remain: 2 agents.
    q = queue(fold(events, at(BASE, 6 + 3600), config), "hotline")
    assert (q.questions_last_hour, q.rule_of_thumb_agents) == (719, 2)


def test_shrinkage_makes_need_positions_to_schedule(tmp_path: Path) -> None:
    """Call Centre Helper's example goes on: 14 agents at 30% shrinkage are
    ceil(14 / (1 - 0.3)) = ceil(20.0) = 20 positions to schedule. The gap stays in agents on
    the phones now (14 required - 1 working = 13)."""
    config = config_from(tmp_path, CONFIG.format(extra="shrinkage = 0.3"))
    q = queue(fold(traffic(), at(BASE, 1800), config), "hotline")
    assert (q.required_agents, q.shrinkage, q.required_positions) == (14, 0.3, 20)
    assert q.staffed_gap == 13
    assert _need(q) == ("20pos +13", "warn")  # the board says they are positions
    plain = queue(fold(traffic(), at(BASE, 1800), config_from(tmp_path, CONFIG.format(
        extra=""))), "hotline")  # fmt: skip
    assert (plain.shrinkage, plain.required_positions) == (None, None)
    assert _need(plain) == ("14 +13", "warn")
    assert load_config(None).queue_rules("hotline").shrinkage is None
