"""`wallboard replay` on screen: the live board's app, fed by the replay engine, plus the
transport keys, a permanent REPLAY banner and a timeline. Read only (role viewer): a replay
never writes acks or callouts to a control stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from wallboard.app.board import WallboardApp
from wallboard.core.config import Config
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.fold import BoardState
from wallboard.core.sanitize import clean
from wallboard.core.timeutil import parse_user_time
from wallboard.replay.engine import Replay
from wallboard.replay.player import Player
from widgets.replay_banner import ReplayBanner
from widgets.timeline import Timeline


class ReplaySource:
    """The board's source: the engine's state at the virtual time; nothing to run."""

    def __init__(self, replay: Replay, description: str) -> None:
        self.replay = replay
        self._status = FeedStatus(state="replay", source=description)
        self._stop = asyncio.Event()

    @property
    def state(self) -> BoardState:
        return self.replay.state

    @property
    def status(self) -> FeedStatus:
        return self._status

    async def run(self) -> None:
        await self._stop.wait()

    async def close(self) -> None:
        self._stop.set()


class ReplayApp(WallboardApp):
    CSS = "#replay-goto { dock: bottom; }"
    AUTO_FOCUS = None  # not the hidden time box: keys go to the transport
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause"),
        Binding("right_square_bracket", "speed(1)", "Faster"),
        Binding("left_square_bracket", "speed(-1)", "Slower"),
        Binding("full_stop", "step_event(1)", "Step", show=False),
        Binding("comma", "step_event(-1)", "Step back", show=False),
        Binding("right", "step_minute(1)", "+1 min", show=False),
        Binding("left", "step_minute(-1)", "-1 min", show=False),
        Binding("t", "goto", "Go to time"),
        Binding("n", "marker(1)", "Next mark"),
        Binding("N", "marker(-1)", "Prev mark", show=False),
        Binding("r", "restart", "Restart", show=False),
    ]

    def __init__(self, replay: Replay, config: Config, *, speed: int = 1,
                 wall: Callable[[], float] = time.monotonic, description: str = "replay",
                 page: str | None = None) -> None:  # fmt: skip
        self.replay = replay
        self.player = Player(replay, wall, speed)
        super().__init__(ReplaySource(replay, description), config, self.player.now,
                         page=page, role="viewer")  # fmt: skip
        self.replay_banner = ReplayBanner(config.tz, replay.start_ms, replay.end_ms,
                                          id="replay-banner")  # fmt: skip
        self.timeline = Timeline(config.tz, replay.start_ms, replay.end_ms,
                                 [(m.at_ms, m.kind) for m in replay.markers], id="timeline")
        self._drawn_at = replay.now

    def compose(self) -> ComposeResult:
        yield self.replay_banner
        yield from super().compose()
        goto = Input(placeholder="go to time: 2026-11-11 10:30 (board time zone), epoch ms",
                     id="replay-goto")  # fmt: skip
        goto.display = False  # hidden (and not focusable) until `t`
        yield goto
        yield self.timeline

    def tick(self) -> None:
        self.player.update()
        now = self.replay.now
        if now < self._drawn_at:  # moved back: the trend charts start again from here
            history = self.history
            history.samples.clear()
            history.offered.clear()
            history._last_offered = None  # the app's own history
            history.version += 1
        self._drawn_at = now
        super().tick()
        self.replay_banner.show(now, self.player.playing, self.player.speed)
        self.timeline.show(now)

    # ---- transport ------------------------------------------------------------------------

    def action_play(self) -> None:
        self.player.toggle()
        self.tick()

    def action_speed(self, steps: int) -> None:
        self.player.faster(steps)
        self.tick()

    def action_step_event(self, delta: int) -> None:
        self.player.step_event(delta)
        self.tick()

    def action_step_minute(self, delta: int) -> None:
        self.player.step_minute(delta)
        self.tick()

    def action_restart(self) -> None:
        self.player.restart()
        self.tick()

    def action_marker(self, direction: int) -> None:
        found = self.player.marker(direction)
        if found is None:
            self.tell("No further alert or callout in that direction.")
        else:
            self.tell(clean(found.label, 120), title=found.kind.capitalize())
        self.tick()

    def action_goto(self) -> None:
        box = self.query_one("#replay-goto", Input)
        box.display = True
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#replay-goto")
    def _goto_submitted(self, event: Input.Submitted) -> None:
        box = event.input
        box.display = False
        self.set_focus(None)
        try:
            t = parse_user_time(event.value, self.config.tz, self.replay.now)
        except ValueError as exc:
            self.tell(clean(str(exc), 200), severity="warning")
            return
        self.player.seek(t)
        self.tick()
