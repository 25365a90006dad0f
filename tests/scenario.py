"""Helpers for hand-worked scenarios: events as plain dicts, times as local wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from wallboard.core.config import Config, load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until
from wallboard.core.snapshot import QueueSnapshot, Snapshot, build_snapshot

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ms(text: str, tz: ZoneInfo = SHANGHAI) -> int:
    """'2026-11-11 10:00:30' in the board's zone -> epoch ms."""
    moment = datetime.fromisoformat(text).replace(tzinfo=tz)
    return round(moment.timestamp() * 1000)


def at(base: str, seconds: float) -> int:
    """`seconds` after a local wall-clock time."""
    return ms(base) + round(seconds * 1000)


def iso(epoch_ms: int, tz: ZoneInfo = SHANGHAI) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz).isoformat()


def plus(text: str, **delta: float) -> str:
    return (datetime.fromisoformat(text) + timedelta(**delta)).isoformat(sep=" ")


def event(kind: str, ts: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "ts": str(ts), **fields}


def config_from(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "wallboard.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def fold(events: list[Any], at_ms: int, config: Config | None = None) -> Snapshot:
    state = BoardState(config or load_config(None))
    fold_until(state, (RawEntry(None, None, e) for e in events), at_ms)
    return build_snapshot(state)


def queue(snap: Snapshot, name: str) -> QueueSnapshot:
    found = [q for q in snap.queues if q.queue == name]
    assert found, f"no queue {name} in {[q.queue for q in snap.queues]}"
    return found[0]


def as_dict(snap: Snapshot) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(snap)
    return result
