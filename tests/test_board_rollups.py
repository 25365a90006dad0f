"""The Rollups page and the agents page's response columns over the fixed scenario
(tests/board_scenario.py), frozen at 2026-11-11 10:00:00."""

from __future__ import annotations

from pathlib import Path

from tests import board_scenario as bs
from wallboard.app.board import WallboardApp
from widgets.agent_rows import arrange, response_cells
from widgets.fmt import RoundLimits


def make_app(tmp_path: Path) -> WallboardApp:
    cfg = bs.config(tmp_path)
    return WallboardApp(bs.source(cfg), cfg, bs.frozen)


def _row(app: WallboardApp, key: str) -> dict[str, str]:
    table = app.rollup_table
    item = next(r for r in table.items if f"{r.by}:{r.name}" == key)
    cells = table._format_row(item, tuple(c.width for c in table.columns))
    return {c.title: text for c, (text, _style) in zip(table.columns, cells, strict=True)}


async def test_key_6_shows_the_floor_groups_shops_and_channels(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert app.page == "rollups"
        keys = [f"{r.by}:{r.name}" for r in app.rollup_table.items]
        # The floor, the configured group, the shops by name ("-": the phone abandons name
        # none), the channels by name.
        assert keys == ["floor:floor", "group:presales", "shop:-", "shop:jd-store",
                        "shop:tmall-flagship", "channel:app", "channel:chat", "channel:phone"]
        floor = _row(app, "floor:floor")
        # Waiting: w1..w4 (pre_sales) + w5 (after_sales) = 5. Open rounds: w1..w4 (chat,
        # opened at their offer) + h1's question at 09:57:30 = 5; the oldest is h1's,
        # 10:00:00 - 09:57:30 = 150 s = 2:30 (w1's is 60 s).
        assert (floor["wait"], floor["unans"], floor["oldest"]) == ("5", "5", "2:30")
        # 2:30 is past the oldest_open_round warn (120 s), under its critical (180 s).
        assert _row(app, "shop:jd-store")["oldest"] == "2:30"
        # The phone channel has no rounds and no replies: dashes, not zeros.
        phone = _row(app, "channel:phone")
        assert (phone["unans"], phone["3m resp"]) == ("—", "—")


async def test_rollups_are_in_the_palette(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Page: rollups" in titles
        assert "Sort agents by response" in titles and "Sort agents by oldest_round" in titles


async def test_agents_sort_by_response_figures(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        agents = app.agents._agents
        by_id = {a.agent: a for a in agents}
        # Rounds today (every chat contact opens one at its offer; every 9th gets no reply and
        # is settled unanswered at its completion; the replied ones take wait + 3 s <= 180 s):
        # a01: 125 contacts, k % 9 == 0 for 14 of them -> 111/125 = 0.888.
        # a02: 94 contacts, 11 unanswered -> 83, plus h1's first round (10 s) -> 84/95 = 0.884.
        # a03: 40 contacts, 5 unanswered -> 35, plus esc1 (app, never replied: settled at its
        #      cap, 600 s after its offer) -> 35/41 = 0.854.
        rates = {k: by_id[k].response_today.response_rate  # type: ignore[union-attr]
                 for k in ("a01", "a02", "a03")}  # fmt: skip
        assert rates == {"a01": 111 / 125, "a02": 84 / 95, "a03": 35 / 41}
        # The worst rate first; a04 and a05 measured nothing and go last.
        assert [a.agent for a in arrange(agents, "response", False, app.agents.filter)] \
            == ["a03", "a02", "a01", "a04", "a05"]  # fmt: skip
        app.set_sort("oldest_round")
        await pilot.pause()
        assert app.agents.agent_list.items[0].agent == "a02"  # h1: 150 s
        cells = response_cells(by_id["a02"], RoundLimits())
        # 1 open (h1); 2:30 old, warn (120 s <= 150 s < 180 s); 84/95 = 0.884 shown as 88%,
        # ok (at or above the 0.8 target less the 0 warn gap).
        assert [text for text, _ in cells[:3]] == ["1", "2:30", "88%"]
        assert [style for _, style in cells[:3]] == ["warn", "warn", "ok"]
