"""Supervisor actions to the control stream (`wallboard:control`), where every board and
replay folds them like any event."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis


class RedisControlSink:
    def __init__(self, client: aioredis.Redis, key: str = "wallboard:control") -> None:
        self.client = client
        self.key = key

    async def send(self, fields: dict[str, str]) -> str:
        entry_id: Any = await self.client.xadd(self.key, fields)  # type: ignore[arg-type]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
