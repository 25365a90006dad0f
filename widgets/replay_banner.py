"""The permanent REPLAY banner: the virtual time, play state and speed, so nobody takes a
replay for the live floor. Drawn in words and reverse video, never only by colour."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual.content import Content
from textual.widgets import Static

from widgets.styles import line


def banner_text(now_ms: int, playing: bool, speed: int, start_ms: int, end_ms: int,
                tz: ZoneInfo) -> Content:  # fmt: skip
    moment = datetime.fromtimestamp(now_ms / 1000, tz)
    start = datetime.fromtimestamp(start_ms / 1000, tz)
    end = datetime.fromtimestamp(end_ms / 1000, tz)
    window = f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M}"
    state = f"▶ PLAYING {speed}x" if playing else f"❚❚ PAUSED ({speed}x)"
    return line((" ◆ REPLAY - NOT LIVE ", "$secondary bold reverse"),
                (f" {moment:%Y-%m-%d %H:%M:%S %z} ", "bold"), (f" {state} ", "$accent bold"),
                (f" window {window} ", "$text-muted"))  # fmt: skip


class ReplayBanner(Static):
    DEFAULT_CSS = """
    ReplayBanner { dock: top; height: 1; background: $panel; }
    """

    def __init__(self, tz: ZoneInfo, start_ms: int, end_ms: int, **kwargs: str) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self.tz = tz
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._shown: tuple[int, bool, int] | None = None

    def show(self, now_ms: int, playing: bool, speed: int) -> None:
        key = (now_ms // 1000, playing, speed)
        if key != self._shown:
            self._shown = key
            self.update(banner_text(now_ms, playing, speed, self.start_ms, self.end_ms, self.tz))
