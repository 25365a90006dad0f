"""Per-token rate limit: a token bucket per client token, in this process."""

from __future__ import annotations


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}  # token -> (level, last time)

    def wait_s(self, token: int, now: float) -> float:
        """0 when one request may pass now (and take it), else the seconds until one may."""
        level, last = self._buckets.get(token, (self.burst, now))
        level = min(self.burst, level + (now - last) * self.rate)
        if level >= 1.0:
            self._buckets[token] = (level - 1.0, now)
            return 0.0
        self._buckets[token] = (level, now)
        return (1.0 - level) / self.rate
