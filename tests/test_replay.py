"""The replay engine: the state at any T equals `wallboard snapshot --at T` of the same events,
whatever the path there (first pass, seeks back and forth, steps, playback)."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import pytest

from tests.replay_scenario import CONFIG, END, START, at, lines, records, reference, write
from wallboard.core.snapshot import to_json
from wallboard.replay.engine import Replay


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], Path]:
    all_lines = lines()
    return all_lines, write(tmp_path_factory.mktemp("replay") / "day.ndjson", all_lines)


def load(all_lines: list[bytes], every: int = 150) -> Replay:
    replay = Replay(CONFIG, START, END, every=every)
    replay.load(enumerate(all_lines))
    return replay


def test_snapshot_at_many_times_equals_snapshot_at(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, path = scenario
    replay = load(all_lines)
    assert replay.checkpoints > 5  # the seeks below cross checkpoints both ways
    rng = random.Random(3)
    times = [START, END, at("2026-11-11 04:00"), at("2026-11-11 03:59:59.999"),
             at("2026-11-11 00:10")]  # fmt: skip
    times += [rng.randrange(START, END) for _ in range(9)]  # random order: back and forth
    for t in times:
        got = to_json(replay.snapshot_at(t))
        assert got == to_json(reference(path, t)), t


def test_counts_of_the_scenario(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, _ = scenario
    replay = load(all_lines)
    end = replay.snapshot_at(END)
    # The bad lines: one not JSON, one without contact, one without time (decode looks at the
    # time first), one with a control character; the repeated _id is a duplicate.
    assert end.events_rejected["malformed"] == 1
    assert end.events_rejected["missing_field"] == 2
    assert end.events_rejected["unknown_type"] == 0
    assert end.events_rejected["control_char"] == 1
    assert end.events_duplicate == 1
    # Before the bad lines' time, only the one without a time counts (as snapshot --at does).
    early = replay.snapshot_at(START)
    assert early.events_rejected["missing_field"] == 1  # the one without a time
    assert early.events_rejected["malformed"] == 1  # not JSON: no time, always counted
    assert early.events_rejected["control_char"] == 0
    assert early.events_duplicate == 0


def test_steps_and_restart(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, path = scenario
    replay = load(all_lines)
    assert replay.now == START
    applied = replay.snapshot().events_applied
    replay.step_event()
    assert replay.snapshot().events_applied == applied + 1
    assert replay.now >= START
    replay.step_minute()
    minute = replay.now
    assert to_json(replay.snapshot()) == to_json(reference(path, minute))
    replay.step_minute(-1)
    assert replay.now == minute - 60_000
    assert to_json(replay.snapshot()) == to_json(reference(path, minute - 60_000))
    replay.seek(END + 3_600_000)
    assert replay.now == END  # clamped to the window
    replay.restart()
    assert replay.now == START
    assert replay.snapshot().events_applied == applied


def test_playback_forward_equals_a_seek(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, path = scenario
    replay = load(all_lines)
    t = START
    while t < at("2026-11-11 00:40"):
        t += 7_000  # ticks of a fast playback
        replay.play_to(t)
        replay.snapshot()  # the app snapshots every tick
    assert to_json(replay.snapshot()) == to_json(reference(path, t))


def test_callout_marker_and_jumps(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, _ = scenario
    replay = load(all_lines)
    callouts = [m for m in replay.markers if m.kind == "callout"]
    assert [m.at_ms for m in callouts] == [at("2026-11-11 00:10")]
    assert replay.markers == sorted(replay.markers)
    marker = replay.next_marker()
    assert marker is not None and replay.now == marker.at_ms
    first = marker
    replay.seek(END)
    last = replay.next_marker(-1)
    assert last is not None and last.at_ms < END and replay.now == last.at_ms
    replay.seek(first.at_ms)
    assert replay.next_marker(-1) is None or replay.now < first.at_ms


def test_time_sorted_input_checkpoints_by_count(tmp_path: Path) -> None:
    ordered = sorted(records(), key=lambda r: int(r["ts"]))
    ordered_lines = [msgspec.json.encode(r) for r in ordered]
    path = write(tmp_path / "ordered.ndjson", ordered_lines)
    replay = load(ordered_lines, every=400)
    assert replay.checkpoints == -(-replay.events // 400)
    for t in (START, at("2026-11-11 02:00"), at("2026-11-11 01:00"), END):
        assert to_json(replay.snapshot_at(t)) == to_json(reference(path, t))


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="after its start"):
        Replay(CONFIG, END, START)


def test_step_back_stops_at_the_window_start(scenario: tuple[list[bytes], Path]) -> None:
    all_lines, path = scenario
    replay = load(all_lines)
    at_start = to_json(replay.snapshot())
    replay.step_event(-1)
    assert replay.now == START and to_json(replay.snapshot()) == at_start
    replay.step_event(2)
    second = replay.now
    replay.step_event(-1)
    replay.step_event(-1)
    assert replay.now == START and to_json(replay.snapshot()) == to_json(reference(path, START))
    assert second >= START
