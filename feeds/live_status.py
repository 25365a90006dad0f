"""The live feed's health record: what state it is in since when, how fresh its data are.

Staleness is worked out when the status is read, not by the read loop, so a loop stuck in a
hung read still shows stale on time: a frozen board must never look live.
"""

from __future__ import annotations

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
                 secrets: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.source = source
        self.clock = clock
        self.stale_after_ms = stale_after_ms
        self.secrets = tuple(secret for secret in secrets if secret)
        self.state: FeedState = "connecting"
        self.since_ms = clock()
        self.last_ok_ms: int | None = None  # the last successful command (read or ping)
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

    def ok(self) -> None:
        self.last_ok_ms = self.clock()

    def entries_read(self, count: int) -> None:
        now = self.clock()
        self.last_ok_ms = now
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

    def status(self, newest_event_ts: int | None) -> FeedStatus:
        now = self.clock()
        state, since = self.state, self.since_ms
        last_ok = self.last_ok_ms
        if state in _FOLLOWING and last_ok is not None and now - last_ok > self.stale_after_ms:
            state, since = "stale", last_ok + self.stale_after_ms
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
