"""Where the replay puts its checkpoints, and what a checkpoint keeps."""

from __future__ import annotations

from pathlib import Path

import msgspec

from tests.replay_scenario import CONFIG, END, START, at, records, reference, write
from wallboard.core.metrics import TimeRing
from wallboard.core.snapshot import to_json
from wallboard.replay.engine import MAX_INTERVAL_EVENTS, Replay


def ordered_lines() -> list[bytes]:
    """The scenario's good events in time order (no late line: no second pass)."""
    ordered = sorted(records(), key=lambda r: int(r["ts"]))
    return [msgspec.json.encode(r) for r in ordered]


def replay_on_fake_clock(lines: list[bytes], seconds_per_event: float,
                         every: int | None = None) -> Replay:  # fmt: skip
    """A first pass whose clock says each event took `seconds_per_event` to fold."""
    box: list[Replay] = []
    replay = Replay(CONFIG, START, END, every=every, budget_s=0.5,
                    timer=lambda: box[0].events * seconds_per_event)  # fmt: skip
    box.append(replay)
    replay.load(enumerate(lines))
    return replay


def test_checkpoints_follow_the_fold_time_budget() -> None:
    lines = ordered_lines()
    # 1 ms an event: the 0.5 s budget is spent after 500 events; the clock is read every
    # 256 events, so at 512: a checkpoint after events 0, 512, 1024, ...
    slow = replay_on_fake_clock(lines, 0.001)
    n = slow.events
    assert n > 2048  # the scenario: 2,670 events
    assert slow._cp_index == list(range(0, n + 1, 512))
    # A fold four times faster: 2,000 events in the budget, read at 2,048: a quarter as many.
    fast = replay_on_fake_clock(lines, 0.00025)
    assert fast._cp_index == list(range(0, n + 1, 2048))  # 2 against 6 for 2,670 events
    assert fast.every == MAX_INTERVAL_EVENTS  # with a budget, the count is only a bound


def test_the_event_bound_still_cuts_a_long_interval(tmp_path: Path) -> None:
    lines = ordered_lines()
    # 0.1 ms an event: 5,000 in the budget, but at most 1,000 lines an interval.
    replay = replay_on_fake_clock(lines, 0.0001, every=1000)
    assert replay._cp_index == list(range(0, replay.events + 1, 1000))
    path = write(tmp_path / "ordered.ndjson", lines)
    for t in (at("2026-11-11 02:00"), START, END):
        assert to_json(replay.snapshot_at(t)) == to_json(reference(path, t))


def test_ring_trim_keeps_the_count_and_drops_the_dead_times() -> None:
    ring = TimeRing(1500)
    for t in (1000, 2000, 3000, 4000):
        ring.add(t)
    assert ring.trim(4000) == 2  # the window is (2500, 4000]: 3000 and 4000
    assert list(ring.times) == [3000, 4000] and ring.head == 0
    assert ring.count(4000) == 2
    ring.add(3500)  # late: into its place
    assert list(ring.times) == [3000, 3500, 4000]
    assert ring.count(4600) == 2  # (3100, 4600]: 3500 and 4000
