"""The reserve roster from a Redis hash (config `reserve.roster_hash`): agent id -> JSON
`{"name", "handle", "queues", "level"}`. Read once at start and merged over the config's own
`[reserve.agents.ID]` tables; a bad entry is reported by id and skipped, never guessed."""

from __future__ import annotations

import msgspec
import redis

from wallboard.core.config import Config
from wallboard.core.config_alerts import RosterEntry


def read_roster_hash(client: redis.Redis, key: str) -> tuple[dict[str, RosterEntry], list[str]]:
    """The hash's entries and one problem line per entry that could not be read."""
    entries: dict[str, RosterEntry] = {}
    problems: list[str] = []
    raw: dict[bytes | str, bytes | str] = client.hgetall(key)
    for agent, value in sorted(raw.items(), key=lambda kv: str(kv[0])):
        agent_id = agent.decode() if isinstance(agent, bytes) else agent
        try:
            entries[agent_id] = msgspec.json.decode(value, type=RosterEntry)
        except msgspec.DecodeError as exc:
            problems.append(f"{key}[{agent_id!r}]: {exc}")
    return entries, problems


def merge_roster_hash(client: redis.Redis, config: Config) -> list[str]:
    """Add the hash's roster to `config.reserve.agents` (the config's own entries win)."""
    key = config.reserve.roster_hash
    if not key:
        return []
    entries, problems = read_roster_hash(client, key)
    for agent_id, entry in entries.items():
        config.reserve.agents.setdefault(agent_id, entry)
    return problems
