"""`wallboard asterisk` end to end: queue_log samples written from Asterisk's documentation
(tests/data/asterisk), a rotation in the middle, restarts, --from-start; then the numbers that
`wallboard snapshot` prints, worked out by hand below."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from wallboard.cli.main import main

pytestmark = pytest.mark.redis

DATA = Path(__file__).parent / "data" / "asterisk"
T = 1_794_369_600  # 2026-11-11 12:00:00 +08:00, the samples' time origin (seconds)


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def summary(result: Any) -> str:
    lines: list[str] = [line for line in result.stderr.splitlines() if line.startswith("read ")]
    return lines[-1]


def test_import_rotation_restart_and_snapshot(tmp_path: Path, redis_url: str, stream_key: str,
                                              redis_client: redis.Redis) -> None:  # fmt: skip
    log = tmp_path / "queue_log"
    shutil.copy(DATA / "queue_log.part1", log)
    args = ["asterisk", "--queue-log", str(log), "--redis", redis_url, "--stream", stream_key,
            "--state", str(tmp_path / "state.json"), "--once"]  # fmt: skip

    first = run(args)
    assert f"{log}:16: bad line: 2 fields, a queue_log line has at least 5" in first.stderr
    # 16 lines: QUEUESTART and RINGNOANSWER ignored, one garbled; the rest give 16 events
    # (3 ADDMEMBER, 4 ENTERQUEUE, 2 ABANDON, PAUSE: 1 each; 2 CONNECT, COMPLETECALLER: 2 each).
    assert summary(first) == (f"read 16 lines from {log}: 16 events (0 already written), "
                              "1 bad lines (not_a_queue_log_line 1); "
                              "ignored QUEUESTART 1, RINGNOANSWER 1")  # fmt: skip
    assert redis_client.xlen(stream_key) == 16

    # Asterisk writes two more lines, then logrotate renames the file and a new one starts.
    with log.open("a") as handle:
        handle.write((DATA / "queue_log.part1b").read_text())
    log.rename(tmp_path / "queue_log.1")
    shutil.copy(DATA / "queue_log.part2", log)

    second = run(args)
    # The rest of the old file (TRANSFER: 2 events, ENTERQUEUE: 1), then the new one: CONNECT
    # 2, UNPAUSE 1, CONNECT of an unseen call 3 (synthesised offer), ENTERQUEUE 1,
    # EXITWITHTIMEOUT 1, COMPLETEAGENT 2, BLINDTRANSFER to a non-queue 2, REMOVEMEMBER 1.
    assert summary(second) == (f"read 10 lines from {tmp_path / 'queue_log.1'}, {log}: "
                               "16 events (0 already written), 0 bad lines")  # fmt: skip
    assert redis_client.xlen(stream_key) == 32

    assert summary(run(args)).startswith("read 0 lines")  # a restart: nothing new
    again = run([*args, "--from-start"])  # the whole current file again: nothing written twice
    assert summary(again) == (f"read 8 lines from {log}: 14 events (14 already written), "
                              "0 bad lines")  # fmt: skip
    assert redis_client.xlen(stream_key) == 32

    at = str((T + 400) * 1000)
    snap = json.loads(run(["snapshot", "--redis", redis_url, "--stream", stream_key,
                           "--at", at, "--json"]).stdout)  # fmt: skip
    assert snap["events_applied"] == 32 and snap["events_duplicate"] == 0
    assert sum(snap["events_rejected"].values()) == 0
    queues = {queue["queue"]: queue["today"] for queue in snap["queues"]}

    # presale: offered .1 (+10 s), .2 (+30), .3 (+40), .4 (+160) and .9, whose ENTERQUEUE was
    # before the log: CONNECT at +240 with holdtime 50 puts its offer at +190.
    # Answered: .1 after 12 s (within 30 s), .3 after 45, .9 after 50 -> ASA 107/3 s.
    # Abandoned: .2 after 3 s (short, under 5 s), .4 after 40 s.
    # SL (short abandons excluded) = 1 / (3 + 2 - 1) = 0.25; abandon rate 2/5.
    # Handled: .1 120 s (+22..+142), .3 125 s (+85..+210, transferred to aftersale),
    # .9 70 s (+240..+310, blind transfer to extension 8000: completed) -> AHT 105 s.
    presale = queues["presale"]
    assert (presale["offered"], presale["answered"], presale["abandoned"]) == (5, 3, 2)
    assert (presale["answered_within"], presale["short_abandoned"]) == (1, 1)
    assert presale["service_level"] == pytest.approx(0.25)
    assert presale["asa_s"] == pytest.approx(107 / 3)
    assert presale["abandon_rate"] == pytest.approx(0.4)
    assert (presale["completed"], presale["aht_s"]) == (3, pytest.approx(105.0))

    # aftersale: .3 arrives by transfer at +210 (its ENTERQUEUE at +211 is the same offer),
    # answered at +220 after 10 s, completed at +300 (80 s); .11 leaves by timeout after 40 s.
    # SL = 1 / (1 + 1) = 0.5.
    aftersale = queues["aftersale"]
    assert (aftersale["offered"], aftersale["answered"], aftersale["abandoned"]) == (2, 1, 1)
    assert aftersale["service_level"] == pytest.approx(0.5)
    assert aftersale["asa_s"] == pytest.approx(10.0)
    assert (aftersale["completed"], aftersale["aht_s"]) == (1, pytest.approx(80.0))

    # Agents: 1001 answered .1 and .9 (paused for lunch between), 1002 answered .3, 1003
    # answered .3 in aftersale and then left its only queue.
    agents = {agent["agent"]: agent for agent in snap["agents"]}
    assert {name: (agent["state"], agent["handled_today"]) for name, agent in agents.items()} \
        == {"PJSIP/1001": ("available", 2), "PJSIP/1002": ("available", 1),
            "PJSIP/1003": ("logged_out", 1)}  # fmt: skip
    assert agents["PJSIP/1001"]["queues"] == ["presale"]


def test_state_survives_a_partial_line_and_a_replaced_file(
        tmp_path: Path, redis_url: str, stream_key: str, redis_client: redis.Redis) -> None:
    log = tmp_path / "queue_log"
    lines = (DATA / "queue_log.part1").read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:5]) + lines[5].rstrip("\n"))  # Asterisk mid-write
    args = ["asterisk", "--queue-log", str(log), "--redis", redis_url, "--stream", stream_key,
            "--state", str(tmp_path / "state.json"), "--once", "--quiet"]  # fmt: skip
    run(args)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["file"]["line"] == 5  # the unfinished 6th line waits
    assert state["file"]["offset"] == sum(len(line) for line in lines[:5])
    assert redis_client.xlen(stream_key) == 4  # 3 ADDMEMBER + 1 ENTERQUEUE
    with log.open("a") as handle:
        handle.write("\n")
    run(args)
    assert redis_client.xlen(stream_key) == 6  # CONNECT: answered + agent busy

    # copytruncate-style: the same path now holds other content (new first line).
    log.write_text("".join(lines[6:9]))
    result = run([*args[:-1]])
    assert "truncated or replaced" in result.stderr
    assert redis_client.xlen(stream_key) == 9  # ENTERQUEUE .2, ABANDON .2, ENTERQUEUE .3


def test_missing_log_and_damaged_state_are_clear_errors(tmp_path: Path, redis_url: str) -> None:
    args = ["asterisk", "--queue-log", str(tmp_path / "nope"), "--redis", redis_url,
            "--state", str(tmp_path / "state.json"), "--once"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and f"no queue_log at {tmp_path / 'nope'}" in result.output
    (tmp_path / "state.json").write_text("{not json")
    (tmp_path / "nope").write_text("")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "is damaged" in result.output
