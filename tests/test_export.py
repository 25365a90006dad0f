"""`wallboard export` and replay from Redis: windows by event time, control stream included,
archives that `snapshot --file` and `replay --file` read as Redis itself would be read."""

from __future__ import annotations

import gzip
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import redis
from click.testing import CliRunner

from feeds.replay_reader import file_lines, lead_in_ms, redis_lines
from feeds.simulator.writers import EntryIds
from tests.replay_scenario import END, START, at, records
from wallboard.cli.main import main
from wallboard.core.config import Config, load_config
from wallboard.core.snapshot import to_json
from wallboard.replay.engine import Replay

CONTROL_TYPES = ("reserve.callout", "reserve.response", "alert.ack")


@pytest.fixture
def streams(redis_client: redis.Redis, stream_key: str,
            tmp_path: Path) -> Iterator[tuple[str, str, Path]]:  # fmt: skip
    """An event stream and a control stream of the test's own, and a config naming them."""
    control = f"test-control:{uuid.uuid4().hex}"
    config = tmp_path / "board.toml"
    config.write_text(f'[board]\nstream = "{stream_key}"\ncontrol_stream = "{control}"\n')
    yield stream_key, control, config
    redis_client.delete(control)


def add(client: redis.Redis, key: str, recs: list[dict[str, str]], *, explicit: bool) -> None:
    """XADD with IDs that follow event time (explicit) or server IDs in the given order."""
    ids = EntryIds()
    pipe = client.pipeline(transaction=False)
    for rec in recs:
        pipe.xadd(key, rec, id=ids.next(int(rec["ts"])) if explicit else "*")  # type: ignore[arg-type]
    pipe.execute()


def split(recs: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return ([r for r in recs if r["type"] not in CONTROL_TYPES],
            [r for r in recs if r["type"] in CONTROL_TYPES])  # fmt: skip


def snapshot_cli(args: list[str]) -> bytes:
    result = CliRunner().invoke(main, ["snapshot", "--json", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.strip()


def replay_of(config: Config, lines: Iterator[tuple[int, bytes]]) -> Replay:
    engine = Replay(config, START, END, every=300)
    engine.load(lines)
    return engine


TIMES = [at("2026-11-11 00:05"), at("2026-11-11 03:00"), at("2026-11-11 00:12"), END]


def test_export_then_replay_and_snapshot_from_the_archive(
        redis_client: redis.Redis, redis_url: str, streams: tuple[str, str, Path],
        tmp_path: Path) -> None:  # fmt: skip
    events_key, control_key, config_path = streams
    events, control = split(records())
    add(redis_client, events_key, events, explicit=True)
    add(redis_client, control_key, control, explicit=True)
    out = tmp_path / "window.ndjson.gz"
    result = CliRunner().invoke(main, ["export", "--redis", redis_url, "--from", str(START),
                                       "--to", str(END), "-o", str(out), "--config",
                                       str(config_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    in_window = [r for r in events + control if int(r["ts"]) <= END]
    assert f"wrote {len(in_window):,} entries" in result.output
    with gzip.open(out, "rb") as handle:
        archived = [msgspec.json.decode(line) for line in handle]
    assert len(archived) == len(in_window)
    assert {a["_stream"] for a in archived} == {events_key, control_key}
    assert [a["type"] for a in archived if a["_stream"] == control_key] == [
        r["type"] for r in control if int(r["ts"]) <= END]
    # Per stream in ID order (duplicate checks by ID stay exact), overall by event time.
    for key in (events_key, control_key):
        ids = [tuple(map(int, a["_id"].split("-"))) for a in archived if a["_stream"] == key]
        assert ids == sorted(ids)
    assert [int(a["ts"]) for a in archived] == sorted(int(a["ts"]) for a in archived)

    config = load_config(str(config_path))
    engine = replay_of(config, file_lines(out))
    assert [m.at_ms for m in engine.markers if m.kind == "callout"] == [at("2026-11-11 00:10")]
    for t in TIMES:
        live = snapshot_cli(["--redis", redis_url, "--at", str(t), "--config", str(config_path)])
        archive = snapshot_cli(["--file", str(out), "--at", str(t), "--config",
                                str(config_path)])  # fmt: skip
        assert archive == live
        assert to_json(engine.snapshot_at(t)) == live


def test_replay_from_redis_when_ids_do_not_follow_event_time(
        redis_client: redis.Redis, redis_url: str,
        streams: tuple[str, str, Path]) -> None:  # fmt: skip
    events_key, control_key, config_path = streams
    events, control = split(records())
    random.Random(4).shuffle(events)  # a backfill: server IDs, event times in any order
    add(redis_client, events_key, events, explicit=False)
    add(redis_client, control_key, control, explicit=False)
    config = load_config(str(config_path))
    lower = lead_in_ms(config, START)
    engine = replay_of(config, redis_lines(redis_client, config.with_control([]), lower, END))
    assert engine.events == sum(1 for r in events + control if int(r["ts"]) <= END)
    for t in TIMES:
        live = snapshot_cli(["--redis", redis_url, "--at", str(t), "--config", str(config_path)])
        assert to_json(engine.snapshot_at(t)) == live


def test_export_refuses_a_name_without_gz(redis_url: str, tmp_path: Path) -> None:
    args = ["export", "--redis", redis_url, "--from", str(START), "--to", str(END),
            "-o", str(tmp_path / "a.ndjson")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "ndjson.gz" in result.output


def test_export_with_redis_down_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--redis", "redis://127.0.0.1:1/0", "--from",
                                       str(START), "--to", str(END), "-o",
                                       str(tmp_path / "a.ndjson.gz")])  # fmt: skip
    assert result.exit_code == 3
    assert "cannot reach Redis" in result.output
    assert not (tmp_path / "a.ndjson.gz").exists()


def test_archive_ids_are_per_stream(tmp_path: Path) -> None:
    # The same entry ID in the event and the control stream is no duplicate; twice in one
    # stream it is (as when read from Redis).
    ts = str(START)
    lines = [
        {"type": "contact.offered", "ts": ts, "contact": "c1", "queue": "q", "_id": f"{ts}-0",
         "_stream": "wallboard:events"},
        {"type": "alert.ack", "ts": ts, "alert": "x", "by": "lead", "_id": f"{ts}-0",
         "_stream": "wallboard:control"},
        {"type": "contact.offered", "ts": ts, "contact": "c2", "queue": "q", "_id": f"{ts}-0",
         "_stream": "wallboard:events"},
    ]  # fmt: skip
    path = tmp_path / "a.ndjson"
    path.write_bytes(b"\n".join(msgspec.json.encode(line) for line in lines) + b"\n")
    snap = msgspec.json.decode(snapshot_cli(["--file", str(path), "--at", ts]))
    assert (snap["events_applied"], snap["events_duplicate"]) == (2, 1)
    engine = Replay(load_config(None), START - 1, START + 1)
    engine.load(file_lines(path))
    assert to_json(engine.snapshot_at(START)) == snapshot_cli(["--file", str(path), "--at", ts])
