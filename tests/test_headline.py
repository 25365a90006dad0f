"""The headline lane (issue 3's XADD-to-screen bound): the tiles' waiting counts and longest
waits between full snapshots. Hand-worked numbers; the lane never differs from the snapshot."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import board_scenario as bs
from tests import replay_scenario
from tests.scenario import event, ms
from tests.test_live_feed import wait_for
from wallboard.app.board import WallboardApp
from wallboard.app.replay import ReplayApp
from wallboard.app.sources import MemorySource
from wallboard.core.config import Config, ConfigError, load_config
from wallboard.core.drilldown import WaitingContact
from wallboard.core.fold import BoardState
from wallboard.core.headline import QueueHeadline, headline
from wallboard.core.ingest import RawEntry, ingest
from wallboard.core.snapshot import Snapshot, build_snapshot
from wallboard.replay.engine import Replay
from widgets.tiles import big_digits

T0 = ms("2026-11-11 10:00:00")


def fold(*events: dict[str, str]) -> BoardState:
    state = BoardState(load_config(None))
    for e in events:
        ingest(state, RawEntry("s", None, e))
    return state


def offer(contact: str, seconds: float, queue: str = "pre_sales") -> dict[str, str]:
    return event("contact.offered", T0 + round(seconds * 1000), contact=contact, queue=queue,
                 channel="chat")  # fmt: skip


def lane_of_snapshot(state: BoardState, now: int) -> list[QueueHeadline]:
    state.advance(now)
    return [QueueHeadline(q.queue, q.waiting, q.longest_wait_s)
            for q in build_snapshot(state, with_agents=False).queues]  # fmt: skip


def test_three_offers_one_answered() -> None:
    # Offers at 0, 10 and 20 s; c1 answered at 30 s. At 35 s: c2 and c3 wait, c2 for 35 - 10.
    state = fold(offer("c1", 0), offer("c2", 10), offer("c3", 20),
                 offer("x1", 5, queue="after_sales"),
                 event("contact.answered", T0 + 30_000, contact="c1", agent="a1"),
                 event("contact.abandoned", T0 + 31_000, contact="x1"))  # fmt: skip
    lane = headline(state, T0 + 35_000)
    assert lane == (QueueHeadline("after_sales", 0, 0.0), QueueHeadline("pre_sales", 2, 25.0))
    assert state.as_of == T0 + 31_000  # read only: the clock did not move
    assert list(lane) == lane_of_snapshot(state, T0 + 35_000)


def test_a_clock_behind_the_events_reads_at_the_newest_event() -> None:
    # The state is at 30 s (c2 offered then); a clock at 25 s reads as advance would: 30 s.
    state = fold(offer("c1", 12), offer("c2", 30))
    assert headline(state, T0 + 25_000) == (QueueHeadline("pre_sales", 2, 18.0),)
    assert list(headline(state, T0 + 25_000)) == lane_of_snapshot(state, T0 + 25_000)


def test_out_of_order_offers_take_the_oldest() -> None:
    # c1 arrives first but entered at 8 s; c2 (entered at 2 s) arrives after: the oldest is c2.
    state = fold(offer("c1", 8), offer("c2", 2))
    assert headline(state, T0 + 10_000) == (QueueHeadline("pre_sales", 2, 8.0),)


_step = st.tuples(st.sampled_from(["offer", "answer", "abandon", "transfer"]),
                  st.integers(0, 5), st.sampled_from(["q1", "q2", "q3"]),
                  st.integers(0, 90_000))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(_step, max_size=40), st.integers(-5_000, 120_000))
def test_always_the_snapshot_s_numbers(steps: list[tuple[str, int, str, int]],
                                       now_offset: int) -> None:  # fmt: skip
    events = []
    for kind, n, queue, at in steps:
        ts = T0 + at
        contact = f"c{n}"
        if kind == "offer":
            events.append(event("contact.offered", ts, contact=contact, queue=queue,
                                channel="chat"))  # fmt: skip
        elif kind == "answer":
            events.append(event("contact.answered", ts, contact=contact, agent="a1"))
        elif kind == "abandon":
            events.append(event("contact.abandoned", ts, contact=contact))
        else:
            events.append(event("contact.transferred", ts, contact=contact, to_queue=queue))
    state = fold(*events)
    now = T0 + now_offset
    assert list(headline(state, now)) == lane_of_snapshot(state, now)


@pytest.mark.parametrize("value", ["-1", "0.1", "31", "nan"])
def test_headline_hz_out_of_range_names_key_and_file(tmp_path: Path, value: str) -> None:
    path = tmp_path / "board.toml"
    path.write_text(f"[display]\nheadline_hz = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "`display.headline_hz`: must be 0 (off) or between 0.2 and 30" in str(info.value)


def test_headline_hz_default_and_off(tmp_path: Path) -> None:
    assert load_config(None).display.headline_hz == 10
    path = tmp_path / "board.toml"
    path.write_text("[display]\nheadline_hz = 0\n", encoding="utf-8")
    assert load_config(path).display.headline_hz == 0


def _config(tmp_path: Path, refresh_hz: float, headline_hz: float) -> Config:
    cfg = bs.config(tmp_path)
    display = msgspec.structs.replace(cfg.display, refresh_hz=refresh_hz, headline_hz=headline_hz)
    return msgspec.structs.replace(cfg, display=display)


def _digits(app: WallboardApp, queue: str) -> list[str]:
    return [line[2:-2].rstrip() for line in app.tiles.tile_text(queue).splitlines()[2:5]]


def _waiting_in_snapshot(app: WallboardApp, queue: str) -> int:
    assert app.snapshot is not None
    return next(q.waiting for q in app.snapshot.queues if q.queue == queue)


async def test_a_new_offer_reaches_the_tile_before_the_next_full_tick(tmp_path: Path) -> None:
    # Full ticks every 5 s (the first one at mount), the lane at 10 Hz; the clock frozen at
    # 10:00:00. vip has nobody waiting; an offer that entered at 09:59:53 shows as 1 waiting,
    # longest 7s, within a second, while the full snapshot still says 0.
    cfg = _config(tmp_path, refresh_hz=0.2, headline_hz=10)
    source = bs.source(cfg)
    app = WallboardApp(source, cfg, bs.frozen)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        assert app.headline_lane is not None
        assert _digits(app, "vip") == [row.rstrip() for row in big_digits("0")]
        source.feed([RawEntry("s", None, event("contact.offered", bs.NOW - 7_000,
                                               contact="n1", queue="vip"))])  # fmt: skip
        one = [row.rstrip() for row in big_digits("1")]
        await wait_for(lambda: _digits(app, "vip") == one, 1.0, "1 waiting on the vip tile")
        assert _waiting_in_snapshot(app, "vip") == 0  # the lane drew it, not a full tick
        assert "longest 7s" in app.tiles.tile_text("vip")
        app.tick()  # the full snapshot agrees and takes over
        await pilot.pause()
        assert _waiting_in_snapshot(app, "vip") == 1
        assert _digits(app, "vip") == one and "longest 7s" in app.tiles.tile_text("vip")


async def test_lane_off_leaves_the_tiles_to_the_full_tick(tmp_path: Path) -> None:
    cfg = _config(tmp_path, refresh_hz=0.2, headline_hz=0)
    source = bs.source(cfg)
    app = WallboardApp(source, cfg, bs.frozen)
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        source.feed([RawEntry("s", None, event("contact.offered", bs.NOW - 7_000,
                                               contact="n1", queue="vip"))])  # fmt: skip
        assert app.headline_lane is None
        app.tick_headline()  # called by hand it would draw it; nothing calls it
        await pilot.pause()
        assert _digits(app, "vip") == [row.rstrip() for row in big_digits("1")]


async def test_big_screen_tiles_keep_their_places_until_the_full_snapshot(
        tmp_path: Path) -> None:  # fmt: skip
    # Kiosk order is worst level first, then name: after_sales CRIT (120 s >= 3 x 30 s),
    # pre_sales WARN (60 s >= 30 s), vip WARN (window SL 83% < 90%), by name. 31 offers make vip
    # CRIT (waiting_critical 30): the lane draws 31 and CRIT in vip's place; the next full
    # snapshot moves vip to second.
    cfg = _config(tmp_path, refresh_hz=0.2, headline_hz=10)
    source = bs.source(cfg)
    app = WallboardApp(source, cfg, bs.frozen, kiosk=True, page="overview")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.pause()
        assert [q.queue for q in app.tiles.shown] == ["after_sales", "pre_sales", "vip"]
        assert "WARN" in app.tiles.tile_text("vip")
        source.feed([RawEntry("s", None, event("contact.offered", bs.NOW - 1_000,
                                               contact=f"n{n}", queue="vip"))
                     for n in range(31)])  # fmt: skip
        digits = [row.rstrip() for row in big_digits("31")]
        await wait_for(lambda: _digits(app, "vip") == digits, 1.0, "31 waiting on the vip tile")
        assert "CRIT" in app.tiles.tile_text("vip")
        assert [q.queue for q in app.tiles.shown] == ["after_sales", "pre_sales", "vip"]
        app.tick()
        await pilot.pause()
        assert [q.queue for q in app.tiles.shown] == ["after_sales", "vip", "pre_sales"]
        assert _digits(app, "vip") == digits


class _AggregatorSource(MemorySource):
    """A snapshot board's source (SnapshotSource): the numbers come folded elsewhere."""

    def latest_snapshot(self) -> Snapshot | None:
        return None

    def waiting_contacts(self, queue: str) -> list[WaitingContact]:
        return []


async def test_no_lane_on_snapshot_boards_or_replays(tmp_path: Path) -> None:
    cfg = bs.config(tmp_path)
    app = WallboardApp(_AggregatorSource(cfg), cfg, bs.frozen)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.headline_lane is None
    replay = Replay(replay_scenario.CONFIG, replay_scenario.START, replay_scenario.END, every=400)
    replay.load(enumerate(replay_scenario.lines()))
    replay_app = ReplayApp(replay, replay_scenario.CONFIG, description="scenario")
    async with replay_app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert replay_app.headline_lane is None
