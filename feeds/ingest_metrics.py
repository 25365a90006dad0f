"""The gateway's Prometheus metrics, in a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from wallboard.core.events import REASONS

__all__ = ["CONTENT_TYPE_LATEST", "IngestMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class IngestMetrics:
    def __init__(self) -> None:
        # The *_created series only add noise to a scrape.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "wallboard_ingest_requests", "POST /v1/events requests by HTTP status",
            ["status"], registry=self.registry)  # fmt: skip
        self.accepted = Counter(
            "wallboard_ingest_events_accepted",
            "Events acknowledged with 202 (written now, or earlier under the same id)",
            registry=self.registry)  # fmt: skip
        self.duplicates = Counter(
            "wallboard_ingest_events_duplicate",
            "Accepted events whose producer id was already written within the window",
            registry=self.registry)  # fmt: skip
        self.rejected = Counter(
            "wallboard_ingest_events_rejected", "Events that failed validation, by reason",
            ["reason"], registry=self.registry)  # fmt: skip
        for reason in REASONS:
            self.rejected.labels(reason)
        self.latency = Histogram(
            "wallboard_ingest_request_duration_seconds",
            "Time to answer POST /v1/events, any status", buckets=_LATENCY_BUCKETS,
            registry=self.registry)  # fmt: skip
        self.redis_errors = Counter(
            "wallboard_ingest_redis_errors", "Redis commands that failed (connection or error)",
            registry=self.registry)  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)
