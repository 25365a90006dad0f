"""Header: site, clock, business day, page and the feed's health. A stale or reconnecting feed
says so in words (and reverse video), never only by colour."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual.content import Content
from textual.widgets import Static

from wallboard.core.feedstatus import FeedStatus
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot
from widgets.styles import line


def _clock(ms: int | None, tz: ZoneInfo) -> str:
    if ms is None:
        return "--:--:--"
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%H:%M:%S")


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def feed_line(status: FeedStatus, now_ms: int, tz: ZoneInfo) -> Content:
    state = status.state
    age = None if status.last_data_ms is None else max(0.0, (now_ms - status.last_data_ms) / 1000)
    age_text = "no data yet" if age is None else f"data {_age(age)} old"
    since = _clock(status.since_ms, tz)
    if state == "connected":
        head: tuple[str, str] = (" ● LIVE ", "$success bold reverse")
        detail = f" connected · {status.events_per_s:.0f} ev/s"
        if status.lag_s is not None:
            detail += f" · lag {status.lag_s:.1f}s"
        if status.via is not None:
            detail += f" · via {clean(status.via, 40)}"
        if age is not None and age >= 10:
            detail += f" · quiet, {age_text}"
    elif state == "stale":
        head = (f" ■ STALE since {since} ", "$error bold reverse")
        detail = f" {age_text} · numbers are frozen, not live"
    elif state == "reconnecting":
        head = (f" ▲ RECONNECTING since {since} ", "$warning bold reverse")
        detail = f" {age_text} · numbers may be behind"
    elif state == "replay":
        head = (" ◆ REPLAY ", "$secondary bold reverse")
        detail = " not live"
    else:
        head = (f" ◌ {state.upper()} ", "$warning bold reverse")
        detail = " starting, numbers incomplete"
    parts: list[str | tuple[str, str]] = [head, detail]
    if status.error and state != "connected":
        parts.append((f" · {clean(status.error, 60)}", "$text-muted"))
    if status.notice:
        parts.append((f"  ⚠ {clean(status.notice, 100)}", "$warning bold"))
    return line(*parts)


class BoardHeader(Static):
    DEFAULT_CSS = """
    BoardHeader { height: 2; background: $panel; padding: 0 1; }
    """

    def __init__(self, tz: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.tz = tz
        self.page = ""
        self._content: Content | None = None

    def show(self, snap: Snapshot, status: FeedStatus, now_ms: int) -> None:
        top = line(
            (clean(snap.site_name, 60), "bold"),
            "  ",
            (_clock(now_ms, self.tz), "bold"),
            f"  business day {snap.business_day or '—'}",
            (f"  ▸ {self.page}" if self.page else "", "$accent bold"),
        )
        content = Content("\n").join([top, feed_line(status, now_ms, self.tz)])
        if content != self._content:
            self._content = content
            self.update(content, layout=False)
