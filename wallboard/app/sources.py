"""What the board app reads: a `BoardSource` (live Redis feed, replay, tests) and a clock.

The app only reads `state` and `status` on its own timer and runs `run()` as a task, so live,
replay and tests differ only in the source and the clock passed in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from wallboard.core.config import Config
from wallboard.core.drilldown import WaitingContact
from wallboard.core.feedstatus import FeedStatus
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, ingest
from wallboard.core.snapshot import Snapshot

Clock = Callable[[], int]


def wall_clock() -> int:
    return time.time_ns() // 1_000_000


class BoardSource(Protocol):
    @property
    def state(self) -> BoardState: ...

    @property
    def status(self) -> FeedStatus: ...

    async def run(self) -> None: ...

    async def close(self) -> None: ...


class ControlSink(Protocol):
    """Where supervisor actions go (feeds.control.RedisControlSink: the control stream)."""

    async def send(self, fields: dict[str, str]) -> str:
        """Append one control event; its stream entry ID."""
        ...


@runtime_checkable
class SnapshotSource(Protocol):
    """A source that hands the app ready snapshots (feeds.snapshot_feed: an aggregator's):
    while it has one, the app draws it as it is instead of folding `state`."""

    def latest_snapshot(self) -> Snapshot | None: ...

    def waiting_contacts(self, queue: str) -> list[WaitingContact]:
        """The drill-down's waiting contacts (the snapshot carries only their count)."""
        ...


class MemorySource:
    """A fixed or hand-fed board: a BoardState built from entries, a settable status, and a
    `run()` that just waits. Tests, demos and benchmarks feed it with `feed()`."""

    def __init__(self, config: Config, entries: Iterable[RawEntry] = (),
                 status: FeedStatus | None = None) -> None:  # fmt: skip
        self._state = BoardState(config)
        self._status = status or FeedStatus(state="connected", source="memory")
        self._stop = asyncio.Event()
        self.feed(entries)

    @property
    def state(self) -> BoardState:
        return self._state

    @property
    def status(self) -> FeedStatus:
        return self._status

    @status.setter
    def status(self, value: FeedStatus) -> None:
        self._status = value

    def replace_state(self, state: BoardState) -> None:
        self._state = state

    def feed(self, entries: Iterable[RawEntry]) -> int:
        applied = 0
        for entry in entries:
            applied += ingest(self._state, entry)
        return applied

    async def run(self) -> None:
        await self._stop.wait()

    async def close(self) -> None:
        self._stop.set()
