"""Trend history kept by the board: small rings sampled from snapshots (not in the fold).

Waiting and service level are sampled every `step_ms` of board time over `span_ms`; offered
contacts are counted per 5-minute bucket from the growth of the day's offered total.
"""

from __future__ import annotations

from collections import deque
from typing import Final, NamedTuple

from wallboard.core.rollup import overall_service_level
from wallboard.core.snapshot import Snapshot

TWO_HOURS_MS: Final = 2 * 3_600_000


class Sample(NamedTuple):
    at_ms: int
    waiting: int
    service_level: float | None  # all queues' window SL, weighted by each window's offered


class TrendHistory:
    def __init__(self, span_ms: int = TWO_HOURS_MS, step_ms: int = 30_000,
                 bucket_ms: int = 300_000) -> None:  # fmt: skip
        self.step_ms = step_ms
        self.bucket_ms = bucket_ms
        self.samples: deque[Sample] = deque(maxlen=span_ms // step_ms + 1)
        self.offered: deque[list[int]] = deque(maxlen=span_ms // bucket_ms)  # [start, count]
        self._last_offered: int | None = None
        self.version = 0  # bumps when anything a chart draws changed

    def add(self, snap: Snapshot) -> None:
        now = snap.as_of_ms
        if now is None:
            return
        offered = sum(q.today.offered for q in snap.queues)
        if self._last_offered is not None:
            grown = offered - self._last_offered
            # The day counters reset at the business-day boundary: the new total is all new.
            grown = offered if grown < 0 else grown
            start = now - now % self.bucket_ms
            if not self.offered or self.offered[-1][0] != start:
                self.offered.append([start, 0])
                self.version += 1
            if grown:
                self.offered[-1][1] += grown
                self.version += 1
        self._last_offered = offered
        if not self.samples or now - self.samples[-1].at_ms >= self.step_ms:
            waiting = sum(q.waiting for q in snap.queues)
            self.samples.append(Sample(now, waiting, overall_service_level(snap)))
            self.version += 1
