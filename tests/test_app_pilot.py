"""Pilot tests of the live board over the fixed scenario (tests/board_scenario.py), frozen at
2026-11-11 10:00:00 Asia/Shanghai."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests import board_scenario as bs
from tests.scenario import ms
from wallboard.app.board import WallboardApp
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.ingest import RawEntry
from widgets.screens import DrillScreen, HelpScreen


def make_app(tmp_path: Path, **kwargs: object) -> WallboardApp:
    cfg = bs.config(tmp_path)
    return WallboardApp(bs.source(cfg), cfg, bs.frozen, **kwargs)  # type: ignore[arg-type]


def tile_digits(app: WallboardApp, queue: str) -> list[str]:
    """The big-digit rows of a queue's tile as drawn (inside the border and padding)."""
    return app.tiles.digit_rows(queue)


def agent_order(app: WallboardApp) -> list[str]:
    return [a.agent for a in app.agents.agent_list.items]


async def test_pages_switch_with_number_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.page == "overview"
        for key, page in (("2", "queues"), ("3", "agents"), ("4", "trends"), ("1", "overview"),
                          ("p", "queues")):
            await pilot.press(key)
            assert app.page == page
            assert app.query_one("#pages").current == page  # type: ignore[attr-defined]


async def test_header_and_tiles_show_the_scenario(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        header = str(app.header.render())
        assert "Hangzhou Floor 3" in header and "10:00:00" in header
        assert "business day 2026-11-11" in header and "LIVE" in header
        # Waiting: pre_sales w1..w4, after_sales w5, vip nobody (big digits).
        assert {name: tile_digits(app, name) for name in ("after_sales", "pre_sales", "vip")} \
            == {name: app.tiles.number_rows(n) for name, n in
                (("after_sales", "1"), ("pre_sales", "4"), ("vip", "0"))}  # fmt: skip
        # after_sales: w5 has waited 120 s = 4 x 30 s >= the critical 3 x threshold.
        assert "CRIT ■" in app.tiles.tile_text("after_sales").splitlines()[1]
        assert "1 (bad_timestamp 1)" in str(app.alerts.render())
        box = str(app.alerts.render())
        # a01 answered 125 today (> 120); after_sales' w5 waited 120 s (> the 60 s limit).
        assert "a01 Li Na: 125 inquiries today (over 120)" in box
        assert "after_sales: longest wait 120s (limit 60s)" in box


async def test_agents_sorted_by_load_then_other_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        # handled today: a01 125, a02 95, a03 41 (40 + the bot escalation), a04 0, a05 0.
        assert agent_order(app) == ["a01", "a02", "a03", "a04", "a05"]
        assert [a.handled_today for a in app.agents.agent_list.items] == [125, 95, 41, 0, 0]
        await pilot.press("S")  # reverse
        assert agent_order(app) == ["a05", "a04", "a03", "a02", "a01"]
        await pilot.press("S")
        app.set_sort("state")  # by state name: available < break < busy < logged_out
        assert [a.state for a in app.agents.agent_list.items] == [
            "available", "available", "break", "busy", "logged_out"]
        await pilot.press("s")  # the key after "state" in the cycle is "time"
        assert app.agents.sort == "time"


async def test_filter_agents_by_team_state_queue_and_words(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        assert app.page == "agents"
        await pilot.press(*"team:blue", "enter")
        assert agent_order(app) == ["a03", "a04", "a05"]
        app.set_filter("team:blue state:break")
        assert agent_order(app) == ["a04"]
        # queue:vip: agents listing vip (a03, a04) plus a05 who lists no queues (serves all).
        app.set_filter("queue:vip")
        assert sorted(agent_order(app)) == ["a03", "a04", "a05"]
        app.set_filter("wang")
        assert agent_order(app) == ["a02"]
        await pilot.press("escape")
        assert agent_order(app) == ["a01", "a02", "a03", "a04", "a05"]


async def test_drill_into_queue_lists_waiting_longest_first(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "down", "enter")  # after_sales, then pre_sales
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DrillScreen) and screen.queue == "pre_sales"
        waits = [(c.contact, c.waited_s) for c in screen.contacts.items]
        assert waits == [("w1", 60.0), ("w2", 20.0), ("w3", 10.0), ("w4", 10.0)]
        # Agents serving pre_sales: a01, a02, a03 (a05 lists no queues: serves every queue).
        assert sorted(a.agent for a in screen.agents.agent_list.items) == [
            "a01", "a02", "a03", "a05"]
        await pilot.press("escape")
        assert not isinstance(app.screen, DrillScreen)


async def test_help_screen_shows_the_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_kiosk_rotates_pages_on_the_configured_interval(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path)
    wall = [100.0]  # the rotation's clock, turned by hand
    app = WallboardApp(bs.source(cfg), cfg, bs.frozen, kiosk=True, rotation_clock=lambda: wall[0])
    async with app.run_test(size=(120, 34)) as pilot:
        assert app.page == "overview"
        assert not app.query("Footer")
        assert app.theme == "wallboard-contrast"
        # display.rotate_s is 20 by default: the countdown says so, and 19.9 s on nothing turns.
        assert "next in 20s" in str(app.header.render())
        wall[0] = 112.2
        app._rotate()  # what the kiosk's timer calls twice a second
        assert app.page == "overview" and "next in 8s" in str(app.header.render())
        wall[0] = 120.0
        app._rotate()
        assert app.page == "queues" and "Queues · next in 20s" in str(app.header.render())
        await pilot.pause()


async def test_kiosk_page_pinned(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path)
    wall = [0.0]
    app = WallboardApp(bs.source(cfg), cfg, bs.frozen, kiosk=True, page="agents",
                       rotation_clock=lambda: wall[0])  # fmt: skip
    async with app.run_test(size=(120, 34)):
        assert app.page == "agents"
        wall[0] = 60.0
        app._rotate()
        assert app.page == "agents" and "(pinned)" in str(app.header.render())
        assert agent_order(app)[0] == "a01"  # the overloaded agent floats to the top


async def test_new_events_and_stale_status_reach_the_screen(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path)
    source = bs.source(cfg)
    app = WallboardApp(source, cfg, bs.frozen)
    async with app.run_test(size=(100, 30)) as pilot:
        source.feed([RawEntry("s", None, {"type": "contact.offered", "ts": str(bs.NOW),
                                          "contact": "n1", "queue": "vip"})])
        source.status = FeedStatus(state="stale", since_ms=ms("2026-11-11 09:59:30"),
                                   last_data_ms=ms("2026-11-11 09:59:18"))
        app.tick()
        await pilot.pause()
        assert tile_digits(app, "vip") == app.tiles.number_rows("1")
        header = str(app.header.render())
        assert "STALE since 09:59:30" in header and "data 42s old" in header
        assert "LIVE" not in header


async def test_a_change_of_feed_state_is_drawn_at_once_whatever_the_refresh_rate(
        tmp_path: Path) -> None:
    """The STALE bound is what the floor sees: at refresh_hz 0.2 (a tick every 5 s) the header
    still shows STALE within a fraction of a second of the feed saying so (before: up to one
    refresh period later, 250 ms at the default 4 Hz, 5 s here), and LIVE again likewise."""
    cfg = bs.config(tmp_path)
    cfg.display.refresh_hz = 0.2
    source = bs.source(cfg)
    app = WallboardApp(source, cfg, bs.frozen)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "LIVE" in str(app.header.render())
        loop = asyncio.get_running_loop()

        async def seconds_until(word: str) -> float:
            start = loop.time()
            while word not in str(app.header.render()):
                assert loop.time() - start < 3, f"{word} not drawn within 3 s"
                await asyncio.sleep(0.01)
            return loop.time() - start

        source.status = FeedStatus(state="stale", since_ms=bs.NOW - 3000,
                                   last_data_ms=bs.NOW - 3000)  # fmt: skip
        assert await seconds_until("STALE") < 0.5
        source.status = FeedStatus(state="connected", source="memory")
        assert await seconds_until("LIVE") < 0.5


async def test_event_text_is_cleaned_before_drawing(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path)
    source = bs.source(cfg)
    # A bidi override survives the decoder (not a control char); the widgets must strip it.
    source.feed([RawEntry("s", None, {"type": "agent.state", "ts": str(bs.NOW), "agent": "a09",
                                      "state": "busy", "name": "Eve\u202eliam"})])
    app = WallboardApp(source, cfg, bs.frozen, page="agents")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        row = app.agents.agent_list.render_line(1 + agent_order(app).index("a09"))
        assert "Eveliam" in row.text and "\u202e" not in row.text


async def test_agent_rows_are_rebuilt_at_most_once_a_second(tmp_path: Path) -> None:
    """The costly agent rows follow the board's clock second; the queues follow every tick."""
    cfg = bs.config(tmp_path)
    source = bs.source(cfg)
    now = [bs.NOW]
    app = WallboardApp(source, cfg, lambda: now[0], page="agents")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()

        def handled(agent: str) -> int:
            snap = app.snapshot
            assert snap is not None
            return next(a.handled_today for a in snap.agents if a.agent == agent)

        before = handled("a03")
        source.feed([RawEntry("s", None, {"type": "contact.answered", "ts": str(bs.NOW),
                                          "contact": "w3", "agent": "a03"})])  # fmt: skip
        now[0] = bs.NOW + 400  # the same second: queues new, rows kept
        app.tick()
        assert handled("a03") == before
        assert next(q.waiting for q in app.snapshot.queues  # type: ignore[union-attr]
                    if q.queue == "pre_sales") == 3  # fmt: skip
        now[0] = bs.NOW + 1000  # the next second: rows rebuilt
        app.tick()
        assert handled("a03") == before + 1


async def test_palette_screenshot_goes_to_the_working_directory_and_says_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))  # no ~/Downloads
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_screenshot()
        await pilot.pause()
        saved = list(tmp_path.glob("*.svg"))
        assert len(saved) == 1 and saved[0].read_text(encoding="utf-8").startswith("<svg")
        said = [n.message for n in app._notifications]
        assert any(str(saved[0]) in message for message in said), said


def test_trend_axes_span_the_data_with_whole_number_ticks() -> None:
    from widgets.trends import count_ticks, span_minutes, time_ticks

    # 5 minutes of data: the axis spans 5 minutes, not the ring's 120.
    assert span_minutes([-4.2, -2.0, 0.0]) == 5.0
    assert span_minutes([-37.5, 0.0]) == 38.0  # rounded up to a whole minute
    assert span_minutes([-500.0]) == 120.0 and span_minutes([]) == 5.0
    # 38 minutes in at most 6 steps: steps of ceil(38 / 6) = 7, from -35 to 0.
    assert time_ticks(38.0) == [-35, -28, -21, -14, -7, 0]
    # Counts up to 37 in at most 5 steps: steps of ceil(37 / 5) = 8, up to 40 (past 37).
    assert count_ticks([3, 37]) == [0, 8, 16, 24, 32, 40]
    assert count_ticks([0.4]) == [0, 1]  # never a fractional tick
