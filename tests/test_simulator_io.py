"""`wallboard simulate` end to end: file and Redis outputs agree, Redis IDs follow event time,
live mode paces and answers callouts on the control stream, profiles and options are checked."""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import redis
from click.testing import CliRunner

from feeds.simulator import ProfileError, Simulator, load_profile
from feeds.simulator.writers import ControlLink, EntryIds, RedisSink, SimulatorError, run_live
from wallboard.cli.main import main
from wallboard.core.timeutil import parse_user_time

TZ = ZoneInfo("Asia/Shanghai")
SPAN = ["--from", "2026-11-10 09:00", "--to", "2026-11-10 09:20"]


def simulate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["simulate", "--quiet", *args])
    return result.exit_code, result.stdout, result.stderr


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def control_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"test:control:{uuid.uuid4().hex}"
    yield key
    redis_client.delete(key)


Entries = list[tuple[str, dict[str, str]]]


def xrange(client: redis.Redis, key: str, lo: str = "-", hi: str = "+") -> Entries:
    """XRANGE with the types of a decode_responses client."""
    entries: Any = client.xrange(key, min=lo, max=hi)
    return [(str(entry_id), dict(fields)) for entry_id, fields in entries]


def read_lines(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return [msgspec.json.decode(line) for line in handle]


def test_file_and_redis_outputs_agree(tmp_path: Path, redis_url: str, redis_client: redis.Redis,
                                      stream_key: str) -> None:  # fmt: skip
    out = tmp_path / "span.ndjson.gz"
    code, _, err = simulate("--out", str(out), "--seed", "5", *SPAN)
    assert code == 0, err
    from_file = read_lines(out)
    cases = f"{stream_key}:cases"  # complaints: their own stream in Redis, the file in a file
    try:
        code, _, err = simulate("--redis", redis_url, "--stream", stream_key, "--cases-stream",
                                cases, "--seed", "5", *SPAN)  # fmt: skip
        assert code == 0, err
        complaints = [fields for _id, fields in xrange(redis_client, cases)]
    finally:
        redis_client.delete(cases)
    entries = xrange(redis_client, stream_key)
    assert [fields for _id, fields in entries] == [
        f for f in from_file if not f["type"].startswith("complaint.")]
    assert complaints == [f for f in from_file if f["type"].startswith("complaint.")]
    assert len(from_file) > 500

    # IDs follow event time: <ts>-<seq>, strictly increasing, seq counting equal times.
    ids = [tuple(int(p) for p in entry_id.split("-")) for entry_id, _ in entries]
    assert ids == sorted(set(ids))
    for (ms, seq), (_, fields) in zip(ids, entries, strict=True):
        assert ms == int(fields["ts"])
        assert seq == 0 or (ms, seq - 1) in set(ids)
    # The first entries are the roster at 09:00 sharp: a001-0, a001's ms with seq 1, ...
    start = parse_user_time("2026-11-10 09:00", TZ, 0)
    assert entries[0][0] == f"{start}-0" and entries[1][0] == f"{start}-1"

    # So a window reads back with XRANGE by time: 09:10 to 09:15.
    lo = parse_user_time("2026-11-10 09:10", TZ, 0)
    hi = parse_user_time("2026-11-10 09:15", TZ, 0)
    window = xrange(redis_client, stream_key, f"{lo}-0", f"{hi}-99999")
    assert [f for _, f in window] == [f for f in from_file if lo <= int(f["ts"]) <= hi]

    # A past span cannot go under entries already there: a clear error, nothing written.
    code, _, err = simulate("--redis", redis_url, "--stream", stream_key, "--cases-stream",
                            cases, "--seed", "5", *SPAN)  # fmt: skip
    assert code == 1 and "entry IDs must follow event time" in err
    assert redis_client.xlen(stream_key) == len(entries)


def test_plain_file_and_standard_output(tmp_path: Path) -> None:
    out = tmp_path / "span.ndjson"
    assert simulate("--out", str(out), "--seed", "8", "--agents", "20", *SPAN)[0] == 0
    code, stdout, _ = simulate("--out", "-", "--seed", "8", "--agents", "20", *SPAN)
    assert code == 0
    assert out.read_text() == stdout
    lines = [msgspec.json.decode(line) for line in stdout.splitlines()]
    assert {line["agent"] for line in lines if line["type"] == "agent.state"} == {
        f"a{n:03d}" for n in range(1, 21)}  # fmt: skip


def test_options_are_checked(tmp_path: Path, redis_url: str) -> None:
    code, _, err = simulate("--out", str(tmp_path / "x"), "--redis", redis_url, *SPAN)
    assert code == 2 and "not both" in err
    code, _, err = simulate(*SPAN)
    assert code == 2 and "give --redis URL" in err
    code, _, err = simulate("--out", "-", "--from", "2026-11-10 09:00", "--to", "2026-11-10")
    assert code == 2 and "must be after --from" in err
    code, _, err = simulate("--out", "-", "--from", "yesterday-ish", "--to", "now")
    assert code == 2 and "--from" in err
    code, _, err = simulate("--out", "-", "--profile", "black-friday", *SPAN)
    assert code == 1 and "no profile named 'black-friday'" in err and "double11" in err
    code, _, err = simulate("--out", "-", "--queues", "9", *SPAN)
    assert code == 2 and "defines 5 queues" in err
    code, _, err = simulate("--redis", "redis://127.0.0.1:1/0", *SPAN)
    assert code == 3 and "cannot reach Redis" in err
    code, _, err = simulate("--out", str(tmp_path / "no" / "such" / "dir.ndjson"), *SPAN)
    assert code == 1 and "cannot write" in err


def test_profile_errors_name_the_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[bot]\nresolve_share = 0.5\nmood = "sunny"\n')
    with pytest.raises(ProfileError, match=r"mine\.toml: unknown key `bot\.mood`"):
        load_profile(str(path))
    path.write_text('hourly = [1.0, 2.0]\n[reserve]\naccept_share = 1.5\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert "`hourly`: needs 24 factors" in str(caught.value)
    assert "`reserve.accept_share`: must be a fraction" in str(caught.value)
    path.write_text('[[queues]]\nname = "q"\nchannel = "fax"\npeak_per_hour = 1\n')
    with pytest.raises(ProfileError, match=r"mine\.toml: `queues\[0\]\.channel`"):
        load_profile(str(path))
    path.write_text("name = ")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(str(path))
    # A profile changes only what it names; the rest are the documented defaults.
    path.write_text('name = "quiet"\n[bot]\nresolve_share = 0.6\n')
    quiet = load_profile(str(path))
    assert quiet.bot.resolve_share == 0.6 and quiet.bot.median_s == 40.0
    assert load_profile("normal") == load_profile(None)  # normal.toml spells out the defaults
    assert load_profile("double11").floor.reserve_share == 0.3


def test_live_mode_paces_and_answers_callouts(redis_client: redis.Redis, stream_key: str,
                                              control_key: str) -> None:  # fmt: skip
    # 120x: a callout answered after 10-300 simulated seconds shows up within 2.5 s.
    start = parse_user_time("2026-11-10 21:00", TZ, 0)
    sim = Simulator(load_profile("double11"), start_ms=start, seed=4, tz=TZ)
    reserve = [a.id for a in sim.agents if a.spec.pool == "reserve"]
    redis_client.xadd(control_key, {"type": "alert.ack", "alert": "x", "by": "sup", "ts": "1"})
    stop = threading.Event()
    sink = RedisSink(redis_client, stream_key, EntryIds())
    link = ControlLink(redis_client, control_key)
    stats_box: list[object] = []
    worker = threading.Thread(target=lambda: stats_box.append(run_live(
        sim, sink, speed=120, stop=stop, control=link)))  # fmt: skip
    worker.start()
    try:
        redis_client.xadd(control_key, {"type": "reserve.callout", "callout": "co-7",
                                        "queue": "wechat", "agents": ",".join(reserve[:3]),
                                        "by": "supervisor", "ts": str(start)})  # fmt: skip

        def responses() -> list[dict[str, str]]:
            return [f for _, f in xrange(redis_client, control_key)
                    if f.get("type") == "reserve.response"]  # fmt: skip

        wait_for(lambda: len(responses()) == 3)
        assert sorted(r["agent"] for r in responses()) == reserve[:3]
        assert {r["callout"] for r in responses()} == {"co-7"}
        accepted = {r["agent"] for r in responses() if r["response"] == "accepted"}

        def logged_in() -> set[str]:
            return {f["agent"] for _, f in xrange(redis_client, stream_key)
                    if f["type"] == "agent.state" and f.get("pool") == "reserve"
                    and f["state"] == "available"}  # fmt: skip

        wait_for(lambda: logged_in() == accepted)
    finally:
        stop.set()
        worker.join(10)
    stats = stats_box[0]
    entries = xrange(redis_client, stream_key)
    ids = [tuple(int(p) for p in entry_id.split("-")) for entry_id, _ in entries]
    assert ids == sorted(set(ids))
    assert all(ms == int(f["ts"]) for (ms, _), (_, f) in zip(ids, entries, strict=True))
    # Paced: simulated time ran at about 120x the wall clock (ticks of 50 ms).
    simulated_s = (int(entries[-1][1]["ts"]) - start) / 1000
    wall_s: float = stats.wall_s  # type: ignore[attr-defined]
    assert 120 * wall_s - 30 <= simulated_s <= 120 * wall_s + 10


def test_live_sink_continues_after_another_producer(redis_client: redis.Redis,
                                                    stream_key: str) -> None:  # fmt: skip
    start = parse_user_time("2026-11-10 10:00", TZ, 0)
    sim = Simulator(load_profile("normal"), start_ms=start, seed=2, tz=TZ, agents=10)
    first, second = sim.run_until(start), sim.run_until(start + 60_000)
    ahead = f"{start + 3_600_000}-5"  # someone else wrote an hour ahead of our event time
    redis_client.xadd(stream_key, {"type": "bot.resolved", "ts": str(start)}, id=ahead)
    with pytest.raises(SimulatorError, match="equal or smaller"):
        RedisSink(redis_client, stream_key, EntryIds()).write(first)
    sink = RedisSink(redis_client, stream_key, EntryIds(), follow_top=True)
    sink.write(first)
    sink.write(second)
    entries = xrange(redis_client, stream_key)
    assert [f for _, f in entries[1:]] == first + second
    # The IDs continue after the other producer's entry: <start + 1 h>-6, -7, ...
    assert entries[1][0] == f"{start + 3_600_000}-6"
    assert sink.count == len(first) + len(second)


def test_live_to_a_file_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "live.ndjson"
    result = CliRunner().invoke(main, ["simulate", "--out", str(out), "--from",
                                       "2026-11-10 10:00", "--speed", "600", "--duration",
                                       "0.5", "--agents", "30"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "seed" in result.stderr and "events/s" in result.stderr  # the summary
    lines = read_lines(out)
    start = parse_user_time("2026-11-10 10:00", TZ, 0)
    last = max(int(line["ts"]) for line in lines)
    # 0.5 s of wall time at 600x is 5 simulated minutes (slack for a busy machine).
    assert start + 4 * 60_000 <= last <= start + 8 * 60_000
