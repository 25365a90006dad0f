"""Header: the feed's state, site, clock and page on line 1; business day and the feed's health
in words on line 2. A stale or reconnecting feed says so in words, a shape and reverse video,
never only by colour, and line 1 keeps it at every width from 60 columns (the site name is
cut first)."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static

from wallboard.core.feedstatus import FeedStatus
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot
from wallboard.i18n import _
from widgets.fmt import duration, ellipsize
from widgets.styles import line


def _clock(ms: int | None, tz: ZoneInfo) -> str:
    if ms is None:
        return "--:--:--"
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%H:%M:%S")


def error_words(error: str) -> str:
    """A feed error in words for the floor; the exception's text goes to the log and the
    help screen (`?`), not across the big screen."""
    lowered = error.lower()
    if "authentication" in lowered or "wrongpass" in lowered or "noauth" in lowered:
        return _("Redis refused the password")
    if "timeout" in lowered:
        return _("Redis not answering")
    if "connection" in lowered or "error 111" in lowered or "refused" in lowered \
            or "name or service" in lowered or "oserror" in lowered:  # fmt: skip
        return _("Redis unreachable")
    if error.startswith("no snapshot on"):
        return _("no snapshots yet: is the aggregator running?")
    return _("feed error (details: press ?)")


_BADGES: Final[dict[str, tuple[str, str]]] = {
    "connected": ("● LIVE", "$success bold reverse"),
    "stale": ("■ STALE", "$error bold reverse"),
    "reconnecting": ("▲ RECONNECTING", "$warning bold reverse"),
    "backfilling": ("◌ BACKFILLING", "$warning bold reverse"),
    "connecting": ("◌ CONNECTING", "$warning bold reverse"),
    "replay": ("◆ REPLAY", "$secondary bold reverse"),
}


def feed_badge(status: FeedStatus, tz: ZoneInfo) -> tuple[str, str]:
    """The feed's state for line 1: a word, a shape, reverse video, and since when."""
    text, style = _BADGES.get(status.state, (f"◌ {status.state.upper()}", "$warning bold reverse"))
    if status.state in ("stale", "reconnecting"):
        text += " " + _("since {clock}").format(clock=_clock(status.since_ms, tz))
    return (f" {text} ", style)


def feed_line(status: FeedStatus, now_ms: int, tz: ZoneInfo,
              last_event_ms: int | None = None) -> Content:  # fmt: skip
    """Line 2: how the feed is doing, in words (the state itself is on line 1)."""
    state = status.state
    age = None if status.last_data_ms is None else max(0.0, (now_ms - status.last_data_ms) / 1000)
    if age is not None:
        age_text = _("data {age} old").format(age=duration(age))
    elif last_event_ms is not None:  # data came before (a reconnect, a snapshot board)
        age_text = _("last event {clock}").format(clock=_clock(last_event_ms, tz))
    else:
        age_text = _("no data yet")
    if state == "connected":
        detail = _("connected · {rate} ev/s").format(rate=f"{status.events_per_s:.0f}")
        if age is not None and age >= IDLE_S:  # a quiet stream: its lag is only its age
            detail += " · " + _("idle · last event {age} ago").format(age=duration(age))
        elif status.lag_s is not None:
            detail += " · " + _("lag {lag}").format(lag=f"{status.lag_s:.1f}s")
        if status.via is not None:
            detail += " · " + _("via {name}").format(name=clean(status.via, 40))
        style = ""
    elif state == "stale":
        detail = f"{age_text} · " + _("numbers are frozen, not live")
        style = "$error bold"
    elif state == "reconnecting":
        detail = f"{age_text} · " + _("numbers may be behind")
        style = "$warning"
    elif state == "replay":
        detail = _("not live")
        style = "$secondary"
    else:
        detail = _("starting, numbers incomplete")
        style = "$warning"
    parts: list[str | tuple[str, str]] = [(detail, style)]
    if status.error and state != "connected":
        parts.append((" · " + error_words(status.error), "$text-muted"))
    if status.notice:
        parts.append((f"  ⚠ {clean(status.notice, 100)}", "$warning bold"))
    return line(*parts)


IDLE_S: Final = 10.0  # no entry read for this long on a connected feed: "idle"


def title_line(badge: tuple[str, str], site: str, clock: str, page: str, width: int) -> Content:
    """Line 1 in `width` cells: the feed's state first, always; then the clock and the page;
    the site name gets what is left, cut with an ellipsis before anything else is lost."""
    badge_w = cell_len(badge[0])
    room = width - badge_w - 2 - cell_len(clock)
    page_text = ellipsize(page, max(0, room - 2)) if page else ""
    room -= cell_len(page_text) + (2 if page_text else 0)
    site_text = ellipsize(site, room - 2) if room >= 4 else ""
    parts: list[str | tuple[str, str]] = [badge]
    if site_text:
        parts += ["  ", (site_text, "bold")]
    parts += ["  ", (clock, "bold")]
    if page_text:
        parts += ["  ", (page_text, "$accent bold")]
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
        self._shown: tuple[Snapshot, FeedStatus, int] | None = None

    def show(self, snap: Snapshot, status: FeedStatus, now_ms: int) -> None:
        self._shown = (snap, status, now_ms)
        width = max(20, self.content_size.width or self.app.size.width - 2)
        top = title_line(feed_badge(status, self.tz), clean(snap.site_name, 60),
                         _clock(now_ms, self.tz), f"▸ {self.page}" if self.page else "", width)
        day = _("business day {day}").format(day=snap.business_day or "—")
        second = Content.assemble(line((day, ""), "  "), feed_line(status, now_ms, self.tz,
                                                                   snap.as_of_ms))
        content = Content("\n").join([top, second])
        if content != self._content:
            self._content = content
            self.update(content, layout=False)

    def set_page(self, page: str) -> None:
        """A new page label (the kiosk's countdown): redrawn at once."""
        if page != self.page:
            self.page = page
            if self._shown is not None:
                self.show(*self._shown)

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)
