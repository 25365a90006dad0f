"""Reserve callouts: the callee lifecycle, timeouts, the ranking, the Redis-hash roster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis

from feeds.roster import merge_roster_hash
from tests.scenario import at, config_from, event, fold
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until
from wallboard.core.snapshot import build_snapshot

BASE = "2026-11-11 10:00:00"
ROSTER = """
[reserve]
response_timeout_s = 60
login_timeout_s = 600

[reserve.agents.r1]
name = "Reserve One"
queues = ["pre_sales"]
level = 1

[reserve.agents.r2]
name = "Reserve Two"
queues = ["pre_sales"]
level = 3

[reserve.agents.r3]
name = "Reserve Three"
queues = ["after_sales"]
level = 5
"""


def callout(cid: str, s: float, agents: str, queue: str = "pre_sales") -> dict[str, Any]:
    return event("reserve.callout", at(BASE, s), callout=cid, queue=queue, agents=agents,
                 by="sup.wang")


def test_callee_lifecycle_and_timeouts(tmp_path: Path) -> None:
    config = config_from(tmp_path, ROSTER)
    events = [
        callout("co-1", 0, "r1,r2,r3"),
        event("reserve.response", at(BASE, 20), callout="co-1", agent="r1", response="accepted"),
        event("reserve.response", at(BASE, 25), callout="co-1", agent="r2", response="declined"),
        event("agent.state", at(BASE, 90), agent="r1", state="available", pool="reserve"),
    ]
    snap = fold(events, at(BASE, 30), config)
    (co,) = snap.callouts
    assert (co.id, co.queue, co.by, co.active, co.overdue) == (
        "co-1", "pre_sales", "sup.wang", True, False)
    assert [(c.agent, c.status) for c in co.agents] == [
        ("r1", "accepted"), ("r2", "declined"), ("r3", "called")]
    # 60 s without an answer: r3 is no_answer and the callout is flagged.
    (co,) = fold(events, at(BASE, 60), config).callouts
    assert [c.status for c in co.agents] == ["accepted", "declined", "no_answer"]
    assert co.overdue and co.active  # r1 accepted and may still log in
    # r1 logs in at +90 s: every callee is final, the callout is done.
    (co,) = fold(events, at(BASE, 95), config).callouts
    assert [c.status for c in co.agents] == ["logged_in", "declined", "no_answer"]
    assert co.agents[0].logged_in_at == "2026-11-11T10:01:30+08:00"
    assert not co.active


def test_ranking_skill_then_fewest_callouts_then_level(tmp_path: Path) -> None:
    config = config_from(tmp_path, ROSTER)
    state = BoardState(config)
    fold_events = [callout("co-1", 0, "r2"),
                   event("reserve.response", at(BASE, 5), callout="co-1", agent="r2",
                         response="declined")]  # fmt: skip
    fold_until(state, (RawEntry(None, None, e) for e in fold_events), at(BASE, 10))
    ranked = [m.agent for m in state.reserve.rank("pre_sales", state.agents, state.as_of)]
    # r1 and r2 match pre_sales; r2 is more senior but was already called once today.
    assert ranked == ["r1", "r2", "r3"]
    ranked = [m.agent for m in state.reserve.rank("after_sales", state.agents, state.as_of)]
    assert ranked == ["r3", "r1", "r2"]
    assert build_snapshot(state).callouts[0].agents[0].status == "declined"


def test_roster_from_a_redis_hash(redis_client: redis.Redis, redis_url: str, stream_key: str,
                                  tmp_path: Path) -> None:  # fmt: skip
    key = f"{stream_key}:roster"
    redis_client.hset(key, mapping={
        "r9": '{"name": "Hash Nine", "handle": "wx:nine", "queues": ["vip"], "level": 2}',
        "r1": '{"name": "Not this one"}',  # the config's own entry wins
        "bad": "{not json",
    })  # fmt: skip
    config = config_from(tmp_path, ROSTER.replace("[reserve]\n",
                                                  f'[reserve]\nroster_hash = "{key}"\n'))
    raw = redis.Redis.from_url(redis_url)  # bytes a strict client cannot decode
    raw.hset(key, mapping={b"x\xff": b'{"name": "n"}', b"r8": b'{"name": "\xff"}'})
    raw.close()
    problems = merge_roster_hash(redis_client, config)
    # Each entry that cannot be read is a line, the rest are read (was: UnicodeDecodeError).
    assert len(problems) == 3, problems
    assert "'bad'" in problems[0] and "'r8'" in problems[1] and "not valid UTF-8" in problems[2]
    assert config.reserve.agents["r9"].handle == "wx:nine"
    assert config.reserve.agents["r1"].name == "Reserve One"
    state = BoardState(config)
    assert next(m.agent for m in state.reserve.rank("vip", state.agents, 0)) == "r9"


def test_response_after_login_keeps_its_time_and_roster_names_show(tmp_path: Path) -> None:
    """The simulator writes the login before the response: the callee stays logged_in and
    the response time is kept; a roster-only callee is named from the roster."""
    config = config_from(tmp_path, ROSTER)
    events = [
        callout("co-1", 0, "r1,r2"),
        event("agent.state", at(BASE, 30), agent="r1", state="available"),
        event("reserve.response", at(BASE, 31), callout="co-1", agent="r1", response="accepted"),
        event("reserve.response", at(BASE, 40), callout="co-1", agent="r2", response="declined"),
    ]
    (co,) = fold(events, at(BASE, 45), config).callouts
    assert [(c.agent, c.name, c.status, c.responded_at) for c in co.agents] == [
        ("r1", "Reserve One", "logged_in", "2026-11-11T10:00:31+08:00"),
        ("r2", "Reserve Two", "declined", "2026-11-11T10:00:40+08:00")]
    assert co.ended_at_ms == at(BASE, 40) and not co.active


def test_floor_projection_recommends_a_callout(tmp_path: Path) -> None:
    """No queue is short by Erlang C (no handle time yet) and service holds, but two agents
    on the 08:30-17:30 shift answered 60 each in the last hour: each is projected at
    60 + 60 x 7.5 h left = 510 by 17:30, 1,020 in all, which takes ceil(1020 / 120) = 9
    agents: 7 short. One reserve agent is free."""
    config = config_from(tmp_path, '[reserve.agents.r1]\nname = "Reserve One"\n')
    events: list[dict[str, Any]] = []
    for agent in ("a1", "a2"):
        events.append(event("agent.state", at("2026-11-11 08:30:00", 0), agent=agent,
                            state="available", pool="core", queues="q"))  # fmt: skip
        for k in range(60):
            cid = f"{agent}-{k}"
            events += [event("contact.offered", at("2026-11-11 09:00:00", k * 60), contact=cid,
                             queue="q", channel="chat"),
                       event("contact.answered", at("2026-11-11 09:00:05", k * 60), contact=cid,
                             agent=agent)]  # fmt: skip
    snap = fold(events, at(BASE, 0), config)
    (rec,) = snap.callout_recommendations
    assert (rec.queue, rec.agents_needed, rec.agents) == ("q", 7, ["r1"])
    assert rec.reason == ("floor projected 510 inquiries per agent, over 120; "
                          "only 1 reserve agents free")
