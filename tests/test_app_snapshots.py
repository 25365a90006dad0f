"""SVG snapshots of the board's pages over the fixed scenario and frozen clocks (the board's
and the kiosk rotation's), at a laptop's 80x24, 160x45 and a 4K screen's 240x67.

Regenerate with `pytest tests/test_app_snapshots.py --snapshot-update` only after looking at
the new screenshots (see docs/board.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import board_scenario as bs
from tests.replay_scenario import CONFIG as REPLAY_CONFIG
from tests.replay_scenario import END, START, lines
from wallboard.app.board import WallboardApp
from wallboard.app.replay import ReplayApp
from wallboard.replay.engine import Replay

SIZES = [(80, 24), (160, 45), (240, 67)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


def frozen_wall() -> float:
    return 0.0


def app(tmp_path: Path, page: str, kiosk: bool = False, pinned: bool = True) -> WallboardApp:
    cfg = bs.config(tmp_path)
    return WallboardApp(bs.source(cfg), cfg, bs.frozen, kiosk=kiosk,
                        page=page if pinned else None, rotation_clock=frozen_wall)  # fmt: skip


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("page", ["overview", "queues", "agents", "alerts"])
def test_supervisor_pages(snap_compare: Any, tmp_path: Path, page: str,
                          size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path, page), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_kiosk_overview(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    # Rotating (not pinned): the header counts down to the next page.
    assert snap_compare(app(tmp_path, "overview", kiosk=True, pinned=False), terminal_size=size)


@pytest.mark.parametrize("size", SIZES[1:], ids=SIZE_IDS[1:])
@pytest.mark.parametrize("page", ["queues", "agents", "alerts"])
def test_kiosk_pages(snap_compare: Any, tmp_path: Path, page: str,
                     size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path, page, kiosk=True), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_kiosk_pages_of_tiles(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    # 14 queues: more than the 12 a page holds, so two pages of 7 and the indicator 1/2.
    cfg = bs.config(tmp_path, bs.SITE_TOML)
    board = WallboardApp(bs.many_queues_source(cfg, 14), cfg, bs.frozen, kiosk=True,
                         rotation_clock=frozen_wall)  # fmt: skip
    assert snap_compare(board, terminal_size=size)


def test_trends_page(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path, "trends"), terminal_size=(160, 45))


def test_drill_down(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path, "queues"), press=["down", "enter"],
                        terminal_size=(80, 24))


@pytest.fixture(scope="module")
def engine() -> Replay:
    replay = Replay(REPLAY_CONFIG, START, END, every=400)
    replay.load(enumerate(lines()))
    return replay


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_replay(snap_compare: Any, engine: Replay, size: tuple[int, int]) -> None:
    engine.restart()
    replay = ReplayApp(engine, REPLAY_CONFIG, wall=frozen_wall, description="scenario")
    replay.player.seek(START + 30 * 60_000)  # 00:30, paused

    async def settle(pilot: Any) -> None:
        replay.tick()
        await pilot.pause()

    assert snap_compare(replay, terminal_size=size, run_before=settle)
