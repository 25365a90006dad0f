"""The live feed's health record: what state it is in since when, how fresh its data are.

Staleness is worked out when the status is read, not by the read loop, so a loop stuck in a
hung read still shows stale on time: a frozen board must never look live. It is judged on the
monotonic clock from when the last successful command was *sent*: a reply proves the server
took the command then, not that it takes commands now (a paused server still answers an
XREAD BLOCK that was waiting when the pause began, at the end of its block), and a wall clock
that steps must not hide a stall or fake one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Final
from urllib.parse import unquote, urlsplit

from wallboard.core.feedstatus import FeedState, FeedStatus
from wallboard.core.sanitize import clean

RATE_WINDOW_S: Final = 10  # events_per_s is the mean over this many seconds
_FOLLOWING: Final = frozenset({"connected", "reconnecting"})


class StatusTracker:
    """Mutable health of one feed; `status(newest_event_ts)` gives the frozen FeedStatus."""

    def __init__(self, source: str, clock: Callable[[], int], stale_after_ms: int,
                 secrets: tuple[str, ...] = (), *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.source = source
        self.clock = clock
        self.monotonic = monotonic
        self.stale_after_ms = stale_after_ms
        self.secrets = tuple(secret for secret in secrets if secret)
        self.state: FeedState = "connecting"
        self.since_ms = clock()
        # When the last successful command (read or ping) was sent: on `clock` (for since_ms)
        # and on `monotonic` (what staleness is judged by).
        self.last_ok_ms: int | None = None
        self._last_ok_at: float | None = None
        self.last_data_ms: int | None = None
        self.error: str | None = None
        self.notice: str | None = None
        self._seconds: deque[list[int]] = deque()  # [second, entries read in it]

    def enter(self, state: FeedState) -> None:
        if state != self.state:
            self.state = state
            self.since_ms = self.clock()
        if state == "connected":
            self.error = None

    def failed(self, error: BaseException) -> None:
        """A command failed: connecting before the first backfill, reconnecting after it."""
        self.error = self.describe(error)
        self.enter("connecting" if self.last_ok_ms is None else "reconnecting")

    def describe(self, error: BaseException) -> str:
        text = str(error) or type(error).__name__
        for secret in self.secrets:  # a server may echo what it was sent; never show a password
            text = text.replace(secret, "***")
        return clean(f"{type(error).__name__}: {text}")

    def sending(self) -> float:
        """Call just before sending a command; pass the result to `ok` or `entries_read` when
        it succeeds."""
        return self.monotonic()

    def ok(self, sent: float | None = None) -> None:
        """A command sent at `sent` (a `sending()` reading; None: just now) succeeded."""
        at = self.monotonic()
        sent = at if sent is None else min(sent, at)
        if self._last_ok_at is None or sent > self._last_ok_at:
            self._last_ok_at = sent
            self.last_ok_ms = self.clock() - round((at - sent) * 1000)

    def entries_read(self, count: int, sent: float | None = None) -> None:
        self.ok(sent)
        now = self.clock()
        if not count:
            return
        self.last_data_ms = now
        second = now // 1000
        seconds = self._seconds
        if seconds and seconds[-1][0] == second:
            seconds[-1][1] += count
        else:
            seconds.append([second, count])
            while seconds and seconds[0][0] <= second - RATE_WINDOW_S:
                seconds.popleft()

    def _over_ms(self) -> int:
        """How long past stale_after_ms since the last success was sent (<= 0: fresh)."""
        if self._last_ok_at is None:
            return 0
        return round((self.monotonic() - self._last_ok_at) * 1000) - self.stale_after_ms

    def overdue(self) -> bool:
        """No command sent within stale_after_ms has succeeded yet."""
        return self._over_ms() > 0

    def status(self, newest_event_ts: int | None) -> FeedStatus:
        now = self.clock()
        state, since = self.state, self.since_ms
        over_ms = self._over_ms()
        if state in _FOLLOWING and over_ms > 0:
            state, since = "stale", now - over_ms
        first_second = now // 1000 - RATE_WINDOW_S + 1
        recent = sum(count for second, count in self._seconds if second >= first_second)
        return FeedStatus(
            state=state,
            source=self.source,
            since_ms=since,
            last_data_ms=self.last_data_ms,
            events_per_s=recent / RATE_WINDOW_S,
            lag_s=None if newest_event_ts is None else (now - newest_event_ts) / 1000,
            notice=self.notice,
            error=None if state == "connected" else self.error,
        )


def url_secrets(url: str) -> tuple[str, ...]:
    """The password in a URL, as written and decoded, to scrub from error texts."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return ()
    if not password:
        return ()
    return (password, unquote(password))
