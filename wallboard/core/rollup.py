"""Numbers across queues, read from a snapshot (the trend charts and the report share them)."""

from __future__ import annotations

from wallboard.core.snapshot import Snapshot


def overall_service_level(snap: Snapshot) -> float | None:
    """All queues' window service level, each weighted by its window's offered contacts."""
    weighted = total = 0.0
    for q in snap.queues:
        sl = q.window.service_level
        if sl is not None and q.window.offered:
            weighted += sl * q.window.offered
            total += q.window.offered
    return weighted / total if total else None
