"""Drill-down reads that the snapshot does not carry: the contacts waiting in one queue."""

from __future__ import annotations

from typing import NamedTuple

from wallboard.core.fold import BoardState


class WaitingContact(NamedTuple):
    contact: str
    channel: str
    shop: str | None
    since_ms: int
    waited_s: float


def waiting_contacts(state: BoardState, queue: str, limit: int = 500) -> list[WaitingContact]:
    """The contacts waiting in `queue` at the state's `as_of`, longest wait first."""
    q = state.queues.get(queue)
    if q is None:
        return []
    rows = []
    for contact_id, since in q.waiting.items():
        contact = state.contacts.get(contact_id)
        rows.append(WaitingContact(
            contact_id,
            contact.channel if contact is not None else "other",
            contact.shop if contact is not None else None,
            since,
            max(0, state.as_of - since) / 1000,
        ))  # fmt: skip
    rows.sort(key=lambda r: (r.since_ms, r.contact))
    return rows[:limit]
