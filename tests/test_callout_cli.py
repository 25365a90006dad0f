"""`wallboard callout` and `wallboard ack` against the real server: the exact control fields,
what a board folds from them, and clear errors for bad input or an unusable Redis."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis
from click.testing import CliRunner

from feeds.redis_window import read_streams
from tests.scenario import config_from, event
from wallboard.cli.main import main
from wallboard.core.config import load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.snapshot import build_snapshot


def _entries(client: redis.Redis, key: str) -> list[tuple[str, dict[str, str]]]:
    """XRANGE of a stream (decode_responses client: strings)."""
    entries: Any = client.xrange(key)
    return [(str(entry_id), dict(fields)) for entry_id, fields in entries]


def _config(tmp_path: Path, control: str) -> str:
    config_from(tmp_path, f'[board]\ncontrol_stream = "{control}"\n'
                          "[alerts.queue_depth]\nwarn = 2\ncritical = 4\nclear = 1\n")  # fmt: skip
    return str(tmp_path / "wallboard.toml")


def test_callout_writes_the_contract_fields_and_boards_track_it(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    config_path = _config(tmp_path, stream_key)
    before = time.time_ns() // 1_000_000
    result = CliRunner().invoke(main, ["callout", "--queue", "pre_sales", "--agents",
                                       " r07, r02,r07,", "--by", "sup.wang", "--redis",
                                       redis_url, "--config", config_path])  # fmt: skip
    after = time.time_ns() // 1_000_000
    assert result.exit_code == 0, result.output
    ((entry_id, fields),) = _entries(redis_client, stream_key)
    # Exactly the contract's fields; the agents trimmed, the repeat and the empty part dropped.
    assert set(fields) == {"type", "callout", "queue", "agents", "by", "ts"}
    assert (fields["type"], fields["queue"], fields["agents"], fields["by"]) == (
        "reserve.callout", "pre_sales", "r07,r02", "sup.wang")
    ts = int(fields["ts"])
    assert before <= ts <= after
    assert fields["callout"] == f"co-{ts}-pre_sales"
    assert result.output == f"callout co-{ts}-pre_sales entry {entry_id} stream {stream_key}\n"

    state = BoardState(load_config(None))
    fold_until(state, read_streams(redis_client, [stream_key]), ts + 1000)
    (c,) = build_snapshot(state).callouts
    assert (c.id, c.queue, c.by, c.called_at_ms) == (f"co-{ts}-pre_sales", "pre_sales",
                                                      "sup.wang", ts)  # fmt: skip
    assert [(x.agent, x.status) for x in c.agents] == [("r07", "called"), ("r02", "called")]


def test_the_same_callout_id_twice_is_one_callout(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    config_path = _config(tmp_path, stream_key)
    args = ["callout", "--queue", "q", "--agents", "r1", "--by", "li", "--id", "night-1",
            "--redis", redis_url, "--config", config_path]  # fmt: skip
    for _ in range(2):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("callout night-1 entry ")
    entries = _entries(redis_client, stream_key)
    assert len(entries) == 2  # both written (a retry is harmless) ...
    state = BoardState(load_config(None))
    last_ts = int(entries[-1][1]["ts"])
    fold_until(state, read_streams(redis_client, [stream_key]), last_ts + 1000)
    assert [c.id for c in build_snapshot(state).callouts] == ["night-1"]  # ... folded once


def test_ack_acknowledges_the_alert_on_every_board(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    config_path = _config(tmp_path, f"{stream_key}:control")
    config = load_config(config_path)
    control = f"{stream_key}:control"
    # Three contacts waiting (depth 3 > warn 2) a minute ago: an alert raised then.
    base = (time.time_ns() // 1_000_000 - 60_000) // 1000 * 1000
    for k in range(3):
        offer = event("contact.offered", base + 100 * (k + 1), contact=f"c{k}", queue="q",
                      channel="chat")  # fmt: skip
        redis_client.xadd(stream_key, offer)  # type: ignore[arg-type]
    state = BoardState(config)
    fold_until(state, read_streams(redis_client, [stream_key, control]), base + 2000)
    (alert,) = [a for a in build_snapshot(state).alerts if a.rule == "queue_depth"]
    assert (alert.rule, alert.raised_at_ms, alert.acked_by) == ("queue_depth", base + 1000, None)

    result = CliRunner().invoke(main, ["ack", "--alert", alert.id, "--by", "sup.wang",
                                       "--redis", redis_url, "--config", config_path])  # fmt: skip
    assert result.exit_code == 0, result.output
    ((entry_id, fields),) = _entries(redis_client, control)
    ts = int(fields["ts"])
    assert fields == {"type": "alert.ack", "alert": alert.id, "by": "sup.wang", "ts": str(ts)}
    assert result.output == f"alert {alert.id} entry {entry_id} stream {control}\n"
    state = BoardState(config)
    fold_until(state, read_streams(redis_client, [stream_key, control]), ts + 1000)
    (acked,) = [a for a in build_snapshot(state).alerts if a.rule == "queue_depth"]
    assert (acked.id, acked.acked_by) == (alert.id, "sup.wang")
    redis_client.delete(control)


def test_bad_input_is_refused_before_anything_is_written(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    config_path = _config(tmp_path, stream_key)
    common = ["--redis", redis_url, "--config", config_path]
    cases = [
        (["callout", "--queue", "q", "--agents", " , ", "--by", "li"], "--agents",
         "name at least one agent"),
        (["callout", "--queue", "q", "--agents", "r1", "--by", "li\x1b[31m"], "--by",
         "control character"),
        (["callout", "--queue", "q", "--agents", "r1", "--by", "  "], "--by", "must not be empty"),
        (["callout", "--queue", "", "--agents", "r1", "--by", "li"], "--queue", "needs queue"),
        (["callout", "--queue", "q", "--agents", "r1", "--by", "li", "--id", "x" * 300], "--id",
         "longer than 256"),
        (["ack", "--alert", "a\nb", "--by", "li"], "--alert", "control character"),
    ]  # fmt: skip
    for args, option, words in cases:
        result = CliRunner().invoke(main, [*args, *common])
        assert result.exit_code == 2, (args, result.output)
        assert option in result.output and words in result.output, result.output
    assert redis_client.exists(stream_key) == 0


def test_an_unusable_redis_or_control_stream_is_a_clear_error(
    redis_url: str, redis_client: redis.Redis, stream_key: str, tmp_path: Path
) -> None:
    args = ["callout", "--queue", "q", "--agents", "r1", "--by", "li"]
    # Nothing listens on port 1: exit 3, the URL named.
    result = CliRunner().invoke(main, [*args, "--redis", "redis://127.0.0.1:1/0", "--config",
                                       _config(tmp_path, stream_key)])  # fmt: skip
    assert result.exit_code == 3
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in result.output
    # The control key holds a string, not a stream.
    redis_client.set(stream_key, "not a stream")
    result = CliRunner().invoke(main, [*args, "--redis", redis_url, "--config",
                                       _config(tmp_path, stream_key)])  # fmt: skip
    assert result.exit_code == 3
    assert f"cannot write to {stream_key!r}" in result.output and "WRONGTYPE" in result.output
    # No control stream configured: nothing would read the callout.
    result = CliRunner().invoke(main, [*args, "--redis", redis_url, "--config",
                                       _config(tmp_path, "")])  # fmt: skip
    assert result.exit_code == 1
    assert "board.control_stream is empty" in result.output
