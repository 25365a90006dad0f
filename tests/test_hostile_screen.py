"""Hostile text on screen (issue 14): ids, names, queues, shops and teams that look like
markup, carry escape sequences, control or bidi characters, or are long, CJK or emoji. The
board draws them literally and keeps running, whatever key is pressed on whatever page; no
escape sequence, control or bidi character of theirs reaches the terminal.

Two ways in: events through the real decoder into a hand-fed board (the decoder rejects C0
and C1 controls, so those arrive as rejections), and an aggregator-style source handing the
app ready snapshots whose strings hold everything raw (a snapshot stream is not decoded)."""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from textual.content import Content
from textual.widgets import Input
from textual.widgets._toast import Toast

from tests.fuzz import fuzz_settings
from tests.scenario import at, config_from, event
from wallboard.app.board import WallboardApp
from wallboard.app.replay import ReplayApp
from wallboard.app.sources import MemorySource
from wallboard.core.config import Config
from wallboard.core.drilldown import WaitingContact, waiting_contacts
from wallboard.core.ingest import RawEntry
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot, build_snapshot
from wallboard.replay.engine import Replay
from wallboard.report.html import render_report, sample_of
from wallboard.report.text import render_text
from widgets.safe_text import literal
from widgets.screens import DrillScreen, HelpScreen

BASE = "2026-11-11 10:00:00"
NOW = at(BASE, 0)
UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

HOSTILE = [
    "a[/x]b", "[bold red]x", "[link=http://e]y[/link]", "\x1b[2J", "\x1b]0;pwn\x07",
    "\u202eevil", "x\x00y", "客服小王", "🧑‍💻 emoji 😀", "[$error]v[/]", "back\\", "[/]",
    "\x9b31mc1", "\u2066iso\u2069", "[@click=app.quit]q", "W" * 200,
]  # fmt: skip


def unsafe_chars(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES]


# ---- the hand-fed board ---------------------------------------------------------------------


class MemoryControl:
    """The control stream in memory: what the board sends is folded back into its source, as
    the real stream's entries are (RedisControlSink is tested against a real server)."""

    def __init__(self, source: MemorySource) -> None:
        self.source = source
        self.sent: list[dict[str, str]] = []

    async def send(self, fields: dict[str, str]) -> str:
        self.sent.append(fields)
        self.source.feed([RawEntry("wallboard:control", None, dict(fields))])
        return f"{NOW}-{len(self.sent)}"


def shops_events(agent: str) -> list[dict[str, Any]]:
    """`agent` logged into 5 shops (over the 3 allowed): the agent_shops alert, alone."""
    return [event("agent.state", at(BASE, -3600), agent=agent, state="available",
                  shops="s1,s2,s3,s4,s5", queues="q")]  # fmt: skip


def callout_events(reserve: str, queue: str) -> list[dict[str, Any]]:
    """Two agents answered 60 each in the last hour: the floor is projected over the daily
    high (tests/test_reserve.py works the numbers), and `reserve` is the one free to call."""
    out = [event("agent.state", at(BASE, -7200), agent=reserve, state="logged_out",
                 pool="reserve")]  # fmt: skip
    for agent in ("busy-1", "busy-2"):
        out.append(event("agent.state", at("2026-11-11 08:30:00", 0), agent=agent,
                         state="available", pool="core", queues=queue))  # fmt: skip
        for k in range(60):
            cid = f"{agent}-{k}"
            out += [event("contact.offered", at("2026-11-11 09:00:00", k * 60), contact=cid,
                          queue=queue, channel="chat"),
                    event("contact.answered", at("2026-11-11 09:00:05", k * 60), contact=cid,
                          agent=agent)]  # fmt: skip
    return out


def hostile_events(names: list[str]) -> list[dict[str, Any]]:
    """Every name as an agent id, a name, a team, shops, a queue and contact ids: the shops
    rule fires for each agent, the queues' waits raise queue alerts, a reserve named
    `names[0]` is recommended for `names[2]`, and a few events are rejected."""
    n = len(names)
    out: list[dict[str, Any]] = []
    for i, agent in enumerate(names):
        queue = names[(i + 3) % n]
        shops = ",".join(names[(i + k) % n][:40] for k in range(5))  # within 256 in all
        out.append(event("agent.state", at(BASE, -3600), agent=agent, state="available",
                         name=names[(i + 1) % n], team=names[(i + 2) % n], shops=shops,
                         queues=queue, level="3"))  # fmt: skip
        for k in range(3):
            cid = f"{agent}#{k}"
            out.append(event("contact.offered", at(BASE, -600 + 60 * k), contact=cid,
                             queue=queue, channel="chat", shop=names[(i + k) % n]))  # fmt: skip
        out.append(event("contact.answered", at(BASE, -590), contact=f"{agent}#0", agent=agent))
        out.append(event("agent.state", at(BASE, -100), agent=agent, state="busy"))
    out += callout_events(f"r{names[0]}", names[2])
    out += [event("agent.state", at(BASE, -50), agent="bad-state", state=names[1]),
            event("contact.offered", at(BASE, -40), contact="c", queue="q", channel=names[0]),
            {"type": names[0], "ts": str(at(BASE, -30))}]  # fmt: skip
    out.sort(key=lambda e: int(e["ts"]))
    return out


def source_of(config: Config, events: list[dict[str, Any]]) -> MemorySource:
    return MemorySource(config, (RawEntry("wallboard:events", None, e) for e in events))


class ReadySnapshots(MemorySource):
    """An aggregator's feed in memory (the app's SnapshotSource): it hands the app `snap` as
    it is, and the drill-down its `waiting` contacts."""

    def __init__(self, config: Config, snap: Snapshot,
                 waiting: dict[str, list[WaitingContact]]) -> None:  # fmt: skip
        super().__init__(config)
        self.snap = snap
        self.waiting = waiting

    def latest_snapshot(self) -> Snapshot | None:
        return self.snap

    def waiting_contacts(self, queue: str) -> list[WaitingContact]:
        return self.waiting.get(queue, [])


def _swap(value: Any, swap: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return swap(value)
    if isinstance(value, list):
        return [_swap(v, swap) for v in value]
    if isinstance(value, dict):
        return {swap(k): _swap(v, swap) for k, v in value.items()}
    return value


def raw_snapshot_source(config: Config) -> ReadySnapshots:
    """The hostile scenario folded with a token in place of each name, then every token put
    back as the raw name (escapes, NULs and all) in every string of the snapshot: what a
    snapshot stream could carry, where no decoder stands between it and the screen."""
    tokens = [f"<{i}>" for i in range(len(HOSTILE))]
    state = source_of(config, hostile_events(tokens)).state
    state.advance(NOW)

    def swap(text: str) -> str:
        for token, name in zip(tokens, HOSTILE, strict=True):
            text = text.replace(token, name)
        return text

    snap = msgspec.convert(_swap(msgspec.to_builtins(build_snapshot(state)), swap), Snapshot)
    snap = msgspec.structs.replace(snap, site_name=HOSTILE[4] + HOSTILE[0])
    waiting = {swap(q): [w._replace(contact=swap(w.contact), shop=swap(w.shop or ""))
                         for w in waiting_contacts(state, q)] for q in state.queues}
    return ReadySnapshots(config, snap, waiting)


# ---- what reached the screen ----------------------------------------------------------------

# What the compositor itself writes around the text: cursor moves and colours (SGR).
_OWN_SEQUENCES = re.compile(r"\x1b\[\d+;\d+H|\x1b\[[\d;:]*m")


def screen_lines(app: WallboardApp) -> list[str]:
    """The screen as text, every layer composed (toasts and modal screens included)."""
    update: Any = app.screen._compositor.render_update(full=True,
                                                       screen_stack=app._background_screens)
    return ["".join(strip.text for strip in line) for line in update.strips]


def terminal_bytes(app: WallboardApp) -> str:
    """What a full repaint writes to a truecolor terminal."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    update: Any = app.screen._compositor.render_update(full=True,
                                                       screen_stack=app._background_screens)
    text: str = update.render_segments(console)
    return text


def assert_screen_clean(app: WallboardApp, after: str) -> str:
    """The app runs and the screen holds no raw escape, control or bidi character: in the
    text, and in the bytes once the compositor's own cursor moves and colours are taken out
    (an OSC 8 link from parsed `[link=...]` markup would show here). The screen text."""
    assert app.is_running, f"the board stopped after {after}"
    text = "\n".join(screen_lines(app))
    assert not unsafe_chars(text.replace("\n", "")), (after, unsafe_chars(text))
    written = _OWN_SEQUENCES.sub("", terminal_bytes(app)).replace("\n", "")
    assert not unsafe_chars(written), (after, unsafe_chars(written), written[:200])
    return text


async def until(pilot: Any, condition: Callable[[], object], what: str,
                tries: int = 250) -> None:  # fmt: skip
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def toast_text(app: WallboardApp) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


# ---- the two crashes ------------------------------------------------------------------------


async def test_ack_of_an_alert_on_a_markup_looking_agent_keeps_the_board_running(
    tmp_path: Path,
) -> None:
    """Was: the ack was written, then `notify` parsed "Acknowledged agent_shops/agent:a[/x]b/…"
    as markup and the board exited with MarkupError."""
    config = config_from(tmp_path, "")
    source = source_of(config, shops_events("a[/x]b"))
    control = MemoryControl(source)
    app = WallboardApp(source, config, lambda: NOW, user="sup.li", control=control)
    alert_id = "agent_shops/agent:a[/x]b/2026-11-11/1"
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        assert app.snapshot is not None and [a.id for a in app.snapshot.alerts] == [alert_id]
        await pilot.press("a")
        await until(pilot, lambda: app.screen.query(Toast), "the toast")
        await pilot.pause()
        assert control.sent == [{"type": "alert.ack", "alert": alert_id, "ts": str(NOW),
                                 "by": "sup.li"}]  # fmt: skip
        text = assert_screen_clean(app, "a")
        assert f"Acknowledged {alert_id}" in toast_text(app)
        assert "a[/x]b" in text
        await pilot.press("5")  # the alert, acknowledged by the supervisor
        await until(pilot, lambda: "sup.li" in "\n".join(screen_lines(app)), "the ack shown")
        assert_screen_clean(app, "5")
    assert app.return_code in (None, 0)


async def test_calling_in_a_markup_looking_reserve_agent_keeps_the_board_running(
    tmp_path: Path,
) -> None:
    """Was: the callout was written, then "Called in r[/y]1 for q" stopped the board."""
    config = config_from(tmp_path, "")
    source = source_of(config, callout_events("r[/y]1", "q"))
    control = MemoryControl(source)
    app = WallboardApp(source, config, lambda: NOW, user="sup.li", control=control)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        assert app.snapshot is not None
        assert [(r.queue, r.agents) for r in app.snapshot.callout_recommendations] == [
            ("q", ["r[/y]1"])]
        await pilot.press("c")
        await until(pilot, lambda: app.screen.query(Toast), "the toast")
        await pilot.pause()
        assert [(f["type"], f["agents"]) for f in control.sent] == [("reserve.callout",
                                                                     "r[/y]1")]  # fmt: skip
        assert_screen_clean(app, "c")
        assert "Called in r[/y]1 for q" in toast_text(app)
    assert app.return_code in (None, 0)


# ---- every key on every page ----------------------------------------------------------------

LIST_KEYS = ("down", "pagedown", "end", "up", "pageup", "home")


async def press_everything(app: WallboardApp, pilot: Any) -> None:
    """Every key of the board (wallboard/app/board.py, widgets/screens.py, widgets/rowlist.py)
    on the pages where it does something, the screens they open, a hostile filter and the
    command palette (which reads its titles as markup); the screen checked after each key."""

    async def press(*keys: str) -> None:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            assert_screen_clean(app, f"{key} on {app.page}")

    await press("1", "a", "c")
    await press("2", *LIST_KEYS, "d")
    assert isinstance(app.screen, DrillScreen)
    await press("tab", "down", "s", "escape", "2", "enter")
    assert isinstance(app.screen, DrillScreen)
    await press("escape")
    await press("3", *LIST_KEYS, "j", "k", "s", "S", "slash")
    app.query_one("#agent-filter", Input).value = "a[/x]b [bold red]x \x1b[2J"
    await press("enter", "escape", "4")
    await press("5", *LIST_KEYS, "a", "c", "enter")  # an alert: to its queue or its agent
    while isinstance(app.screen, DrillScreen):
        await press("escape")
    await press("5", "p", "question_mark")
    assert isinstance(app.screen, HelpScreen)
    await press("escape", "ctrl+p", *"drill", "down")
    while app.screen is not app.screen_stack[0]:  # the palette
        await press("escape")


def assert_names_shown(app: WallboardApp) -> None:
    """Markup-looking names read as written: the filter finds "a[/x]b" and the reserve
    "ra[/x]b" (and whoever is named "a[/x]b")."""
    app.set_filter("a[/x]b")
    found = app.agents.agent_list.items
    assert {"a[/x]b", "ra[/x]b"} <= {a.agent for a in found}
    assert all("a[/x]b" in f"{a.agent} {a.name}" for a in found)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_hostile_events_on_every_page_at_every_key(tmp_path: Path,
                                                         size: tuple[int, int]) -> None:
    config = config_from(tmp_path, '[board]\nsite_name = "[bold]Site[/x] 客服"\n')
    source = source_of(config, hostile_events(HOSTILE))
    app = WallboardApp(source, config, lambda: NOW, user="sup[/u]", control=MemoryControl(source))
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        snap = build_snapshot(source.state)
        assert snap.events_rejected.get("control_char", 0) >= 4  # the names with controls
        assert {"a[/x]b", "[bold red]x", "客服小王", "\u202eevil"} <= {a.agent for a in snap.agents}
        assert "W" * 200 in {a.name for a in snap.agents}
        assert "[bold]Site[/x] 客服" in assert_screen_clean(app, "start")
        await press_everything(app, pilot)
        await pilot.press("3")
        assert_names_shown(app)
        await pilot.pause()
        text = assert_screen_clean(app, "the filter")
        assert "a[/x]b" in text and "filter: a[/x]b" in text
        app.set_filter("客服小王")
        await pilot.pause()
        assert "客服小王" in assert_screen_clean(app, "a CJK filter")
        await pilot.press("2")
        await pilot.pause()
        shown = assert_screen_clean(app, "2").splitlines()
        # The queues by name, drawn as written (the bidi override gone from "\u202eevil").
        for name in ("[/]", "[@click=app.quit]", "[bold red]x", "a[/x]b", "back\\", "evil"):
            assert any(row.startswith(name) for row in shown), name
        await pilot.press("q")
    assert app.return_code == 0


async def test_raw_snapshot_strings_on_every_page_at_every_key(tmp_path: Path) -> None:
    """A snapshot stream's strings are not decoded: escapes, NULs and C1 controls in every
    id, name, queue, alert and callout reach the widgets raw, and must stop there. On the
    wide screen, where most of each string is drawn (the narrow one is the events' test)."""
    config = config_from(tmp_path, "")
    source = raw_snapshot_source(config)
    assert any("\x1b" in a.agent for a in source.snap.agents)
    assert any("\x00" in q.queue for q in source.snap.queues)
    app = WallboardApp(source, config, lambda: NOW, control=MemoryControl(source))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await pilot.pause()
        assert_screen_clean(app, "start")
        await press_everything(app, pilot)
        await pilot.press("3")
        assert_names_shown(app)
        await pilot.press("2", "enter")  # a drill-down into a raw queue name
        await pilot.pause()
        assert isinstance(app.screen, DrillScreen)
        assert_screen_clean(app, "the drill-down")
        await pilot.press("escape", "q")
    assert app.return_code == 0


async def test_replay_of_hostile_events_at_every_transport_key(tmp_path: Path) -> None:
    """The replay draws the same pages, alert and callout markers' labels as notifications,
    and answers a mistyped time with the text typed (was: "[/x" stopped the replay)."""
    config = config_from(tmp_path, "")
    lines = [msgspec.json.encode(e) for e in hostile_events(HOSTILE)]
    replay = Replay(config, at(BASE, -7200), at(BASE, 60), every=100)
    replay.load(enumerate(lines))
    assert replay.markers  # the shops alerts, named after the hostile agents
    app = ReplayApp(replay, config, wall=lambda: 1000.0, description="hostile")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        for key in ("space", "right_square_bracket", "left_square_bracket", "full_stop",
                    "comma", "right", "left", "n", "n", "N", "r", "5", "n", "3", "2"):
            await pilot.press(key)
            await pilot.pause()
            assert_screen_clean(app, key)
        await pilot.press("t")
        app.query_one("#replay-goto", Input).value = "[/x"
        await pilot.press("enter")
        await until(pilot, lambda: "'[/x' is not a time" in toast_text(app), "the warning")
        assert_screen_clean(app, "a bad time")
        await pilot.press("q")
    assert app.return_code == 0


# ---- the text helpers -----------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=[]), max_size=60),
    st.lists(st.sampled_from(["[", "]", "/", "\\", "$", "=", "@", "b", "B", " ", "x", "\x1b",
                              "\x9b", "\x07", "\x9c", "]0;", "[2J", *BIDI, "\u200d", "\ud800",
                              "\u2028", "客", "😀"]),
             max_size=40).map("".join),
    st.sampled_from(HOSTILE),
)  # fmt: skip


@fuzz_settings()
@given(hostile_text, st.integers(min_value=1, max_value=300))
def test_cleaned_and_escaped_text_is_safe_and_reads_as_written(text: str, limit: int) -> None:
    cleaned = clean(text, limit)
    assert not unsafe_chars(cleaned)
    assert len(cleaned) <= limit
    assert clean(cleaned, limit) == cleaned  # nothing left to take out
    if text.isprintable():
        assert cleaned == text[:limit]  # plain text is left alone
    escaped = literal(text, limit)
    assert not unsafe_chars(escaped)
    assert Content.from_markup(escaped).plain == cleaned
    # Inside a template, with our own tags around it, it is still read as text.
    assert Content.from_markup(f"[b]{escaped} [/b]tail").plain == f"{cleaned} tail"
    # Plain Content (what the widgets build) reads the same, with nothing to strip.
    assert Content(cleaned).plain == cleaned


def test_clean_removes_whole_escape_sequences() -> None:
    assert clean("a\x1b[2Jb\x1b]0;pwn\x07c\x1b]8;;http://e\x1b\\d\x9b31me\x1bPq\x1b\\f") == "abcdef"
    assert clean("\u202eevil\u2066x\u2069") == "evilx"
    assert clean("x\x00y\x7f\x85z") == "xyz"
    assert clean("客服小王 😀") == "客服小王 😀"


def test_clean_covers_every_control_format_and_separator_character() -> None:
    """The character class in sanitize.py against this Python's Unicode database: nothing of
    Cc, Cf, Cs, Zl or Zp passes, and nothing else is taken but characters still unassigned
    here (assigned as format characters by a newer Unicode)."""
    passed = [f"U+{c:04X}" for c in range(0x110000)
              if unicodedata.category(chr(c)) in UNSAFE_CATEGORIES and clean(chr(c)) != ""]
    taken = [f"U+{c:04X}" for c in range(0x110000)
             if unicodedata.category(chr(c)) not in (*UNSAFE_CATEGORIES, "Cn")
             and clean(chr(c)) != chr(c)]  # fmt: skip
    assert passed == [] and taken == []


# ---- the reports ----------------------------------------------------------------------------


def hostile_snapshot(tmp_path: Path) -> Snapshot:
    return raw_snapshot_source(config_from(tmp_path, "")).snap


def test_html_report_escapes_hostile_names(tmp_path: Path) -> None:
    config = config_from(tmp_path, "[agent_load]\ndaily_low = 1\ndaily_high = 1\n")
    script = "<script>alert(1)</script>"
    names = [script, '"><img src=x onerror=alert(2)>', "<!--<script>", *HOSTILE]
    second = [event("contact.offered", at(BASE, -300), contact="c2", queue=script,
                    channel="chat"),
              event("contact.answered", at(BASE, -290), contact="c2", agent=script)]  # fmt: skip
    state = source_of(config, hostile_events(names) + second).state
    state.advance(NOW)
    snap = build_snapshot(state)
    assert script in {a.agent for a in snap.agents} and script in {q.queue for q in snap.queues}
    page = render_report(site=script, tz=config.tz, start_ms=at(BASE, -3600), end_ms=NOW,
                         samples=[sample_of(snap)], end=snap, day_snapshots=[snap],
                         daily_high=0, passed_at={}, source=script)  # fmt: skip
    payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                        page, re.S)  # fmt: skip
    assert payload is not None
    # The data, inert: no `<` in it, so nothing in it can close its element or open another.
    assert "<" not in payload.group(1)
    data = msgspec.json.decode(payload.group(1))
    assert script in data["queues"] and script in data["agents_over_daily_high"]
    # The rest: the only elements are ours (no script, no img, no comment), names as text.
    rest = page[:payload.start()] + page[payload.end():]
    assert "<script" not in rest and "<img" not in rest and "<!--" not in rest
    assert f"<td>{html.escape(script)}</td>" in rest  # the agent and the queue
    assert html.escape('"><img src=x onerror=alert(2)>') in rest
    # Bidi controls could reorder the page's text; the data keeps the ids as they are.
    assert not unsafe_chars(rest.replace("\n", ""))


def test_text_report_has_no_raw_control_characters(tmp_path: Path) -> None:
    text = render_text(hostile_snapshot(tmp_path))
    assert not unsafe_chars(text.replace("\n", ""))
    assert "a[/x]b" in text and "客服小王" in text

