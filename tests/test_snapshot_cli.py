"""`wallboard snapshot`: the headless contract, from a file and from a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import redis
from click.testing import CliRunner

from feeds.files import write_ndjson
from tests.scenario import at, event
from wallboard.cli.main import main

T0 = "2026-11-11 10:00:00"


def day_of_events() -> list[dict[str, str]]:
    """Yesterday evening's agent, waiting contacts across the boundary, today's traffic."""
    return [
        event("agent.state", at("2026-11-10 17:30:00", 0), agent="e7", state="available",
              name="Night Owl", shops="tmall-flagship", pool="core"),
        event("contact.offered", at("2026-11-11 03:58:00", 0), contact="old", queue="presale",
              channel="chat"),
        event("agent.state", at(T0, -3600), agent="d1", state="available", name="李娜",
              shops="tmall-flagship,jd-store", queues="presale", pool="core"),
        event("contact.offered", at(T0, 0), contact="c1", queue="presale", channel="chat",
              shop="tmall-flagship", id="evt-1"),
        event("contact.answered", at(T0, 12), contact="c1", agent="d1"),
        event("contact.message", at(T0, 30), contact="c1"),
        event("contact.completed", at(T0, 400), contact="c1", outcome="order", value="199",
              rating="5"),
        event("contact.offered", at(T0, 20), contact="c2", queue="presale", channel="chat"),
        event("contact.abandoned", at(T0, 80), contact="c2"),
        event("contact.offered", at(T0, 30), contact="c3", queue="aftersale", channel="phone"),
        event("contact.transferred", at(T0, 50), contact="c3", to_queue="presale"),
        {"type": "contact.offered", "ts": str(at(T0, 60)), "contact": "bad"},  # missing queue
        event("bot.resolved", at(T0, 70), contact="b1", queue="presale"),
    ]  # fmt: skip


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_redis_and_file_give_the_same_json(tmp_path: Path, redis_client: redis.Redis,
                                           redis_url: str, stream_key: str) -> None:  # fmt: skip
    events = day_of_events()
    # server-assigned IDs: now, not event time; the file carries the same IDs as `_id`
    ids = [str(redis_client.xadd(stream_key, fields))  # type: ignore[arg-type]
           for fields in events]
    path = tmp_path / "events.ndjson.gz"
    write_ndjson(path, [{**fields, "_id": entry_id}
                        for fields, entry_id in zip(events, ids, strict=True)])
    at_time = "2026-11-11T10:10:00+08:00"
    from_redis = json.loads(run(["snapshot", "--redis", redis_url, "--stream", stream_key,
                                 "--at", at_time, "--json"]).output)  # fmt: skip
    from_file = json.loads(run(["snapshot", "--file", str(path), "--at", at_time,
                                "--json"]).output)  # fmt: skip
    assert from_redis == from_file
    # and the numbers are the hand-worked ones
    assert from_file["business_day"] == "2026-11-11"
    assert from_file["events_applied"] == 12 and from_file["events_rejected"]["missing_field"] == 1
    presale = next(q for q in from_file["queues"] if q["queue"] == "presale")
    # presale: old (yesterday), c1, c2, c3 (by transfer at T0+50) offered; today 3 of them
    assert presale["today"]["offered"] == 3
    assert presale["waiting"] == 2  # old (since 03:58) and c3 (since 10:00:50)
    assert presale["longest_wait_s"] == 6 * 3600 + 12 * 60  # 03:58 -> 10:10
    assert presale["today"]["service_level"] == 1 / 2  # c1 within 30 s; c2 abandoned after 60 s
    agents = {a["agent"]: a for a in from_file["agents"]}
    assert agents["e7"]["state"] == "available"  # logged in yesterday, carried over
    assert agents["d1"]["handled_today"] == 1 and agents["d1"]["messages_last_hour"] == 1
    assert agents["d1"]["name"] == "李娜"
    assert from_file["floor"] == {"staffed": 2, "available": 2, "agents_known": 2, "by_state": {
        "logged_out": 0, "available": 2, "busy": 0, "wrap_up": 0, "break": 0, "away": 0}}


def test_window_selection_with_ids_following_event_time(redis_client: redis.Redis,
                                                        redis_url: str, stream_key: str) -> None:
    for fields in sorted(day_of_events(), key=lambda fields: int(fields["ts"])):
        redis_client.xadd(stream_key, fields, id=f"{fields['ts']}-*")  # type: ignore[arg-type]
    # a late backfill: an old event written with a new ID must still count at its event time
    late = event("contact.offered", at(T0, 90), contact="late", queue="presale")
    redis_client.xadd(stream_key, late)  # type: ignore[arg-type]
    out = json.loads(run(["snapshot", "--redis", redis_url, "--stream", stream_key, "--at",
                          "2026-11-11 10:05", "--json"]).output)  # fmt: skip
    presale = next(q for q in out["queues"] if q["queue"] == "presale")
    assert presale["today"]["offered"] == 4  # c1, c2, c3 by transfer, late
    # an earlier --at leaves out what came after it, whatever the ID order
    early = json.loads(run(["snapshot", "--redis", redis_url, "--stream", stream_key, "--at",
                            "2026-11-11T10:00:15+08:00", "--json"]).output)  # fmt: skip
    presale = next(q for q in early["queues"] if q["queue"] == "presale")
    assert presale["today"]["offered"] == 1 and presale["today"]["answered"] == 1


def test_text_output_is_a_readable_table(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    write_ndjson(path, day_of_events())
    out = run(["snapshot", "--file", str(path), "--at", "2026-11-11 10:10"]).output
    assert "presale" in out and "SL today/target" in out and "Night Owl" in out
    assert "missing_field" in out


def test_bad_config_and_unreachable_redis_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[board]\nsite = 'x'\n")
    events = tmp_path / "e.ndjson"
    write_ndjson(events, day_of_events())
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "snapshot", "--file", str(events), "--config",
         str(bad)], capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode != 0
    assert f"{bad}: unknown key `board.site`" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "wallboard", "snapshot", "--redis",
         "redis://user:secret@127.0.0.1:1/0"],
        capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 3
    assert "cannot reach Redis at redis://user:***@127.0.0.1:1/0" in result.stderr
    assert "secret" not in result.stderr


def test_snapshot_and_replay_read_the_complaints_stream_days_back(
        tmp_path: Path, redis_client: redis.Redis, redis_url: str,
        stream_key: str) -> None:  # fmt: skip
    # Complaints on their own stream four days apart; the contact stream holds one contact
    # of today. `snapshot --redis` and the replay engine read the complaints stream back
    # 8 days (max(72 h, 7 x 24 h) + 24 h), the contacts from the business day only.
    from feeds.replay_reader import lead_in_ms, redis_lines, start_for
    from wallboard.core.config import load_config
    from wallboard.core.snapshot import build_snapshot
    from wallboard.replay.engine import Replay

    cases = f"{stream_key}:cases"
    config_path = tmp_path / "wallboard.toml"
    config_path.write_text(f'[complaints]\nstream = "{cases}"\n')
    old = event("complaint.opened", at("2026-11-07 10:00:00", 0), complaint="k1", key="true",
                department="warehouse")
    new = event("complaint.opened", at(T0, -3600), complaint="k2", key="true",
                department="finance")
    try:
        for fields in (old, new):
            redis_client.xadd(cases, fields, id=f"{fields['ts']}-*")  # type: ignore[arg-type]
        offer = event("contact.offered", at(T0, 0), contact="c1", queue="presale",
                      channel="chat")
        redis_client.xadd(stream_key, offer, id=f"{offer['ts']}-*")  # type: ignore[arg-type]
        out = json.loads(run(["snapshot", "--redis", redis_url, "--stream", stream_key,
                              "--config", str(config_path), "--at", "2026-11-11T10:00:00+08:00",
                              "--json"]).output)  # fmt: skip
        complaints = out["complaints"]
        # k1: deadline 11-10 10:00, 24 h ago: overdue 86,400 s; k2: opened 09:00 today, open.
        assert (complaints["overdue"], complaints["oldest_overdue_s"]) == (1, 86_400.0)
        assert (complaints["open_key"], complaints["opened_today"]) == (1, 1)
        config = load_config(config_path)
        start, end = at(T0, -1800), at(T0, 0)
        lower = lead_in_ms(config, start)
        replay = Replay(config, start, end)
        replay.load(redis_lines(redis_client, config.with_complaints([stream_key]), lower, end,
                                lower_for=start_for(config, lower, start)))  # fmt: skip
        replay.seek(end)
        # The replay at 10:00 shows what `snapshot --at 10:00` showed.
        assert msgspec.to_builtins(build_snapshot(replay.state).complaints) == complaints
    finally:
        redis_client.delete(cases)
