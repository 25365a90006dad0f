"""The decoded event: a compiled record the fold reads a dozen fields of per event.

A separate module so that it compiles with the fold (`wallboard.core.native`): compiled code reads
a field of a compiled class from its slot, where a field of any other object (a msgspec
Struct, as before) costs a generic attribute lookup - a sixth of the fold's time, measured.
`wallboard.core.events.decode` and `wallboard.core.linedecode` build it; nothing changes it after.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

# The constructor's parameters, in order (`wallboard.core.linedecode` passes them positionally).
FIELDS: Final = (
    "type", "ts", "key", "contact", "queue", "channel", "shop", "agent", "via", "outcome",
    "value", "rating", "to_queue", "state", "reason", "name", "team", "level", "shops",
    "queues", "pool", "alert", "by", "callout", "agents", "response", "entry_id",
    # Complaint events only (docs/events.md, complaints); `key_complaint` is the wire's `key`.
    "complaint", "department", "resolution", "key_complaint",
)  # fmt: skip


# Holds only strings, numbers and tuples of strings: the collector need not track it (a day
# of events in memory would make every full collection walk millions of them).
@mypyc_attr(acyclic=True)
class Event:
    """A validated event. Times are epoch milliseconds; `key` is the producer's idempotency
    key (`id`), `entry_id` the stream entry ID (or `_id` in a file)."""

    __slots__ = FIELDS

    def __init__(self, type: str, ts: int, key: str | None = None,
                 contact: str | None = None, queue: str | None = None,
                 channel: str | None = None, shop: str | None = None,
                 agent: str | None = None, via: str | None = None,
                 outcome: str | None = None, value: float | None = None,
                 rating: int | None = None, to_queue: str | None = None,
                 state: str | None = None, reason: str | None = None,
                 name: str | None = None, team: str | None = None,
                 level: str | None = None, shops: tuple[str, ...] | None = None,
                 queues: tuple[str, ...] | None = None, pool: str | None = None,
                 alert: str | None = None, by: str | None = None,
                 callout: str | None = None, agents: tuple[str, ...] | None = None,
                 response: str | None = None, entry_id: str | None = None,
                 complaint: str | None = None, department: str | None = None,
                 resolution: str | None = None,
                 key_complaint: bool | None = None) -> None:  # fmt: skip
        self.type = type
        self.ts = ts
        self.key = key
        self.contact = contact
        self.queue = queue
        self.channel = channel
        self.shop = shop
        self.agent = agent
        self.via = via
        self.outcome = outcome
        self.value = value
        self.rating = rating
        self.to_queue = to_queue
        self.state = state
        self.reason = reason
        self.name = name
        self.team = team
        self.level = level
        self.shops = shops
        self.queues = queues
        self.pool = pool
        self.alert = alert
        self.by = by
        self.callout = callout
        self.agents = agents
        self.response = response
        self.entry_id = entry_id
        self.complaint = complaint
        self.department = department
        self.resolution = resolution
        self.key_complaint = key_complaint

    def _values(self) -> tuple[object, ...]:
        return (self.type, self.ts, self.key, self.contact, self.queue, self.channel, self.shop,
                self.agent, self.via, self.outcome, self.value, self.rating, self.to_queue,
                self.state, self.reason, self.name, self.team, self.level, self.shops,
                self.queues, self.pool, self.alert, self.by, self.callout, self.agents,
                self.response, self.entry_id, self.complaint, self.department,
                self.resolution, self.key_complaint)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={value!r}" for name, value in zip(FIELDS, self._values(),
                                                                     strict=True)
                          if value is not None)  # fmt: skip
        return f"Event({given})"
