"""The board's layout measured from the rendered screen: how much of a big screen the kiosk's
tiles and panels cover, how tall the big digits are, and that line 1 carries the feed's
state at every width from 60 columns (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.renderables.digits import DIGITS3X3

from tests import board_scenario as bs
from wallboard.app.board import WallboardApp
from wallboard.core.config import load_config
from wallboard.core.feedstatus import FeedState, FeedStatus
from widgets.header import feed_badge, title_line
from widgets.tile_layout import MAX_PER_PAGE, plan
from widgets.tiles import FIGURE_COUNT

TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT = "╭┏╔┌", "╮┓╗┐", "╰┗╚└"
VERTICAL = "│┃║"
INK = "█▀▄"  # the big digits' blocks (the floor's bars are ▇, not counted)
STROKES = "".join(sorted(set("".join(DIGITS3X3)) - {" "}))  # Textual's 3x3 digits


def screen_lines(app: WallboardApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def boxes(lines: list[str]) -> list[tuple[int, int, int, int]]:
    """Every framed box on the screen as (x0, y0, x1, y1), found from its corners: a top-left
    corner, the first top-right corner to its right on that line, and the bottom-left corner
    below it at the end of an unbroken vertical edge."""
    found = []
    for y, text in enumerate(lines):
        for x, char in enumerate(text):
            if char not in TOP_LEFT:
                continue
            x1 = next((i for i in range(x + 1, len(text)) if text[i] in TOP_RIGHT), None)
            if x1 is None:
                continue
            y1 = y + 1
            while y1 < len(lines) and x < len(lines[y1]) and lines[y1][x] in VERTICAL:
                y1 += 1
            if y1 < len(lines) and x < len(lines[y1]) and lines[y1][x] in BOTTOM_LEFT:
                found.append((x, y, x1, y1))
    return found


def coverage(lines: list[str], header_rows: int) -> tuple[float, float]:
    """The share of the rows below the header, and of all columns, that boxes span."""
    rows: set[int] = set()
    columns: set[int] = set()
    for x0, y0, x1, y1 in boxes(lines):
        rows.update(range(max(y0, header_rows), y1 + 1))
        columns.update(range(x0, x1 + 1))
    return len(rows) / (len(lines) - header_rows), len(columns) / len(lines[0])


def digit_heights(lines: list[str], ink: str = INK) -> list[int]:
    """For every box with big digits in it, how many rows hold the digits' `ink`."""
    heights = []
    for x0, y0, x1, y1 in boxes(lines):
        inked = [y for y in range(y0 + 1, y1) if any(c in ink for c in lines[y][x0 + 1: x1])]
        if inked:
            heights.append(inked[-1] - inked[0] + 1)
    return heights


def kiosk(tmp_path: Path, queues: int | None = None) -> WallboardApp:
    cfg = bs.config(tmp_path, bs.CONFIG_TOML if queues is None else bs.SITE_TOML)
    source = bs.source(cfg) if queues is None else bs.many_queues_source(cfg, queues)
    return WallboardApp(source, cfg, bs.frozen, kiosk=True, rotation_clock=lambda: 0.0)


@pytest.mark.parametrize("queues", [None, 1, 5, 12, 14], ids=["scenario", "1", "5", "12", "14"])
async def test_kiosk_tiles_and_panels_fill_a_240x67_screen(tmp_path: Path,
                                                           queues: int | None) -> None:
    app = kiosk(tmp_path, queues)
    async with app.run_test(size=(240, 67)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        # The header's two lines and the critical banner's one are above the tiles.
        header = 3 if app.banner.has_class("-on") else 2
        rows, columns = coverage(lines, header)
        assert rows >= 0.80 and columns >= 0.80, (rows, columns)
        heights = digit_heights(lines)
        expected = min(queues or 3, MAX_PER_PAGE) if queues != 14 else 7  # 14: pages of 7
        assert len(heights) == expected
        assert min(heights) >= 7, heights


@pytest.mark.parametrize(("size", "least"), [((160, 45), 5), ((80, 24), 3)])
async def test_kiosk_digits_scale_with_the_screen(tmp_path: Path, size: tuple[int, int],
                                                  least: int) -> None:  # fmt: skip
    app = kiosk(tmp_path, 12)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        heights = digit_heights(screen_lines(app), INK if least > 3 else STROKES)
        assert heights and min(heights) >= least, heights


async def test_laptop_tiles_keep_level_and_number_and_the_footer_keeps_help_and_quit(
        tmp_path: Path) -> None:  # fmt: skip
    cfg = bs.config(tmp_path)
    app = WallboardApp(bs.source(cfg), cfg, bs.frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        for queue, level in (("after_sales", "CRIT"), ("pre_sales", "WARN"), ("vip", "WARN")):
            text = app.tiles.tile_text(queue)
            assert queue in text and level in text
            assert app.tiles.digit_rows(queue)  # its number, in big digits
        assert digit_heights(lines, STROKES).count(3) == 3  # (the Floor box has a stroke too)
        footer = lines[-1]
        assert "? Keys" in footer and "q Quit" in footer


async def test_laptop_with_too_many_queues_for_tiles_shows_one_line_each(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path, bs.SITE_TOML)
    app = WallboardApp(bs.many_queues_source(cfg, 14), cfg, bs.frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.tiles.compact
        lines = screen_lines(app)
        # q01 has 1 waiting (OK), q14 14 waiting, its oldest 140 s: CRIT.
        row = next(text for text in lines if " q14 " in text or "q14 " in text)
        assert "CRIT" in row and " 14 " in row


LONG_SITE = "Double 11 - Hangzhou customer service floor, building 3, level 2 east wing"
STATES: list[FeedState] = ["connected", "stale", "reconnecting", "backfilling", "replay"]
WORDS = {"connected": "LIVE", "stale": "STALE", "reconnecting": "RECONNECTING",
         "backfilling": "BACKFILLING", "replay": "REPLAY"}  # fmt: skip


@pytest.mark.parametrize("width", [60, 80, 120, 240])
@pytest.mark.parametrize("state", STATES)
async def test_feed_state_is_on_line_1(tmp_path: Path, width: int, state: FeedState) -> None:
    path = tmp_path / "board.toml"
    path.write_text(bs.CONFIG_TOML.replace("Hangzhou Floor 3", LONG_SITE), encoding="utf-8")
    cfg = load_config(path)
    status = FeedStatus(state=state, source="memory", since_ms=bs.NOW - 30_000,
                        last_data_ms=bs.NOW - 30_000)  # fmt: skip
    source = bs.source(cfg)
    source.status = status
    app = WallboardApp(source, cfg, bs.frozen)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        first = screen_lines(app)[0]
        assert WORDS[state] in first
        assert "10:00:00" in first  # the clock stays too
        if width < 120:
            assert "…" in first  # the site name gave way, with an ellipsis
        assert LONG_SITE[:8] in first or width < 80


@given(st.sampled_from(STATES), st.integers(60, 300), st.text(min_size=0, max_size=120),
       st.text(min_size=0, max_size=40))
def test_line_1_fits_and_keeps_the_state_first(state: FeedState, width: int, site: str,
                                               page: str) -> None:  # fmt: skip
    from zoneinfo import ZoneInfo

    from wallboard.core.sanitize import clean

    badge = feed_badge(FeedStatus(state=state, since_ms=bs.NOW), ZoneInfo("Asia/Shanghai"))
    line = title_line(badge, clean(site, 60), "10:00:00", clean(page, 40), width - 2)
    assert line.plain.startswith(badge[0]) and WORDS[state] in line.plain
    assert cell_len(line.plain) <= width - 2
    assert "10:00:00" in line.plain


@given(st.integers(0, 40), st.integers(30, 300), st.integers(10, 100), st.booleans())
def test_planned_tiles_fit_their_area(count: int, width: int, height: int, paged: bool) -> None:
    grid = plan(count, width, height, figures=FIGURE_COUNT, paged=paged)
    if grid.box is None:
        assert not paged or count > 0
        return
    assert grid.columns * grid.tile_width + (grid.columns - 1) <= width
    assert grid.rows * grid.tile_height <= height
    if count:
        assert grid.per_page * grid.pages >= count and grid.per_page <= grid.columns * grid.rows
        if paged:
            assert grid.per_page <= MAX_PER_PAGE
    inner = grid.tile_height - 2
    box = grid.box
    assert 1 + box.digits.height + box.figure_rows + int(box.reason) + box.spare <= inner
