"""The replay on screen: transport keys, the REPLAY banner and timeline, and the board drawing
the engine's snapshot at the virtual time (a fake wall clock drives playback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.replay_scenario import CONFIG, END, START, at, lines, write
from wallboard.app.replay import ReplayApp
from wallboard.cli.main import main
from wallboard.core.snapshot import build_snapshot, to_json
from wallboard.replay.engine import Replay
from widgets.timeline import timeline_cells


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def engine() -> Replay:
    replay = Replay(CONFIG, START, END, every=400)
    replay.load(enumerate(lines()))
    return replay


async def test_transport_keys(engine: Replay) -> None:
    engine.restart()
    wall = FakeWall()
    app = ReplayApp(engine, CONFIG, wall=wall, description="scenario")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        banner = str(app.replay_banner.render())
        assert "REPLAY - NOT LIVE" in banner and "2026-11-11 00:00:00 +0800" in banner
        assert "PAUSED (1x)" in banner
        assert "REPLAY" in str(app.header.render())
        await pilot.press("space")
        for _ in range(3):
            await pilot.press("right_square_bracket")
        assert app.player.speed == 10 and app.player.playing
        wall.t += 6.0  # six wall seconds at 10x: one virtual minute
        app.tick()
        assert engine.now == START + 60_000
        assert "PLAYING 10x" in str(app.replay_banner.render())
        assert app.snapshot is not None and app.snapshot.as_of_ms == START + 60_000
        await pilot.press("space")
        wall.t += 100
        app.tick()
        assert engine.now == START + 60_000  # paused: the clock stands
        await pilot.press("right")
        assert engine.now == START + 120_000
        await pilot.press("left", "left")
        assert engine.now == START
        applied = engine.state.events_applied
        await pilot.press("full_stop")
        assert engine.state.events_applied == applied + 1
        await pilot.press("n")
        first = engine.markers[0]
        assert engine.now == first.at_ms
        await pilot.press("t")
        await pilot.press(*"2026-11-11 03:00", "enter")
        assert engine.now == at("2026-11-11 03:00")
        await pilot.pause()
        assert app.snapshot is not None
        # The board draws the engine's state (agents left out while no agent list shows).
        assert to_json(app.snapshot) == to_json(build_snapshot(engine.state, with_agents=False))
        await pilot.press("t")
        await pilot.press(*"not a time", "enter")
        assert engine.now == at("2026-11-11 03:00")  # a bad time changes nothing
        await pilot.press("r")
        assert engine.now == START


async def test_play_stops_at_the_end(engine: Replay) -> None:
    engine.seek(END - 30_000)
    wall = FakeWall()
    app = ReplayApp(engine, CONFIG, wall=wall, speed=1000)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        wall.t += 10
        app.tick()
        assert engine.now == END and not app.player.playing
        await pilot.press("a")  # a replay never acks: refused, nothing written
        await pilot.pause()


def test_timeline_cells() -> None:
    # 10 cells over 100 s: an alert at 35 s, a callout at 72 s, the cursor at 50 s.
    cells = timeline_cells(10, 0, 100_000, 50_000, [(35_000, "alert"), (72_000, "callout")])
    assert "".join(c for c, _ in cells) == "━━━!━█─C──"


def test_replay_command_loads_the_window_and_runs_the_app(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = write(tmp_path / "day.ndjson", lines())
    ran: list[ReplayApp] = []
    monkeypatch.setattr(ReplayApp, "run", lambda self, **_: ran.append(self))
    args = ["replay", "--file", str(path), "--from", "2026-11-11 00:00", "--to",
            "2026-11-11 04:20", "--speed", "50"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    [app] = ran
    assert app.player.speed == 50 and app.replay.now == START and app.replay.end_ms == END
    assert "events folded" in result.output
    bad = CliRunner().invoke(main, [*args[:-1], "30"])
    assert bad.exit_code == 2 and "one of 1, 2, 5, 10" in bad.output
    both = CliRunner().invoke(main, [*args, "--redis", "redis://127.0.0.1:1/0"])
    assert both.exit_code == 2 and "not both" in both.output
