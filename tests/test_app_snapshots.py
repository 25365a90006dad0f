"""SVG snapshots of the board's main pages over the fixed scenario and frozen clock.

Regenerate with `pytest tests/test_app_snapshots.py --snapshot-update` only after looking at
the new screenshots (see docs/board.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import board_scenario as bs
from wallboard.app.board import WallboardApp

SIZES = [(80, 24), (120, 34), (200, 56)]


def app(tmp_path: Path, page: str, kiosk: bool = False) -> WallboardApp:
    cfg = bs.config(tmp_path)
    return WallboardApp(bs.source(cfg), cfg, bs.frozen, kiosk=kiosk, page=page)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("page", ["overview", "queues", "agents", "rollups"])
def test_supervisor_pages(snap_compare: Any, tmp_path: Path, page: str,
                          size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path, page), terminal_size=size)


@pytest.mark.parametrize("size", SIZES[1:], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("page", ["overview", "agents"])
def test_kiosk_pages(snap_compare: Any, tmp_path: Path, page: str,
                     size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path, page, kiosk=True), terminal_size=size)


def test_trends_page(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path, "trends"), terminal_size=(120, 34))


def test_drill_down(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path, "queues"), press=["down", "enter"],
                        terminal_size=(80, 24))
