"""The reserve roster from a Redis hash (config `reserve.roster_hash`): agent id -> JSON
`{"name", "handle", "queues", "level"}`. Read once at start and merged over the config's own
`[reserve.agents.ID]` tables; a bad entry is reported by id and skipped, never guessed."""

from __future__ import annotations

from typing import Any

import msgspec
import redis
from redis.client import NEVER_DECODE

from wallboard.core.config import Config
from wallboard.core.config_alerts import RosterEntry


def read_roster_hash(client: redis.Redis, key: str) -> tuple[dict[str, RosterEntry], list[str]]:
    """The hash's entries and one problem line per entry that could not be read."""
    entries: dict[str, RosterEntry] = {}
    problems: list[str] = []
    run: Any = client.execute_command  # untyped in redis-py
    # As bytes, whatever the client decodes: one id that is not UTF-8 is a problem line for
    # that entry, not a traceback at the board's start.
    reply = run("HGETALL", key, **{NEVER_DECODE: True})
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2],
                                                              strict=True)  # fmt: skip
    for agent, value in sorted(pairs):
        try:
            agent_id = agent.decode()
        except UnicodeDecodeError:
            problems.append(f"{key}[{agent!r}]: the agent id is not valid UTF-8")
            continue
        try:
            entries[agent_id] = msgspec.json.decode(value, type=RosterEntry)
        except msgspec.DecodeError as exc:  # invalid UTF-8 in the JSON is a DecodeError too
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
