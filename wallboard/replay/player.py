"""The replay's transport: play/pause and speed over the engine, on an injected wall clock.

While playing, virtual time runs `speed` times the wall clock from the last anchor; every
manual move (seek, step, marker, restart) re-anchors, so playback continues from there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from wallboard.replay.engine import Marker, Replay

SPEEDS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class Player:
    def __init__(self, replay: Replay, wall: Callable[[], float], speed: int = 1) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(map(str, SPEEDS))}")
        self.replay = replay
        self.wall = wall
        self.speed = speed
        self.playing = False
        self._anchor = (wall(), replay.now)

    def now(self) -> int:
        return self.replay.now

    def _reanchor(self) -> None:
        self._anchor = (self.wall(), self.replay.now)

    def update(self) -> None:
        """Move the engine to the virtual time the wall clock has reached (while playing)."""
        if not self.playing:
            return
        wall0, virtual0 = self._anchor
        target = virtual0 + int((self.wall() - wall0) * 1000 * self.speed)
        self.replay.play_to(min(target, self.replay.end_ms))
        if self.replay.now >= self.replay.end_ms:
            self.playing = False  # the end of the window: stop there

    def toggle(self) -> None:
        self.update()
        if not self.playing and self.replay.now >= self.replay.end_ms:
            self.replay.restart()  # play at the end starts over
        self.playing = not self.playing
        self._reanchor()

    def faster(self, steps: int = 1) -> None:
        self.update()
        index = min(max(SPEEDS.index(self.speed) + steps, 0), len(SPEEDS) - 1)
        self.speed = SPEEDS[index]
        self._reanchor()

    def seek(self, t: int) -> None:
        self.replay.seek(t)
        self._reanchor()

    def step_event(self, delta: int = 1) -> None:
        self.replay.step_event(delta)
        self._reanchor()

    def step_minute(self, delta: int = 1) -> None:
        self.replay.step_minute(delta)
        self._reanchor()

    def restart(self) -> None:
        self.replay.restart()
        self._reanchor()

    def marker(self, direction: int = 1) -> Marker | None:
        found = self.replay.next_marker(direction)
        self._reanchor()
        return found
