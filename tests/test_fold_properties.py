"""Property tests: the fold never raises, and the conservation law always holds."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.scenario import ms
from wallboard.core.config import load_config
from wallboard.core.events import EVENT_TYPES, STRING_FIELDS
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until, ingest
from wallboard.core.snapshot import build_snapshot

CONFIG = load_config(None)
# The same with answers counted again when their handling ends (`count_at = "end"`).
END_CONFIG = msgspec.structs.replace(
    CONFIG, service_level=msgspec.structs.replace(CONFIG.service_level, count_at="end"))
T0 = ms("2026-11-11 10:00:00")

scalar = st.one_of(
    st.text(max_size=12), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(),
    st.lists(st.integers(), max_size=2), st.sampled_from(sorted(EVENT_TYPES)),
    st.integers(min_value=T0 - 10**8, max_value=T0 + 10**8).map(str),
)  # fmt: skip
field_maps = st.dictionaries(
    st.one_of(st.sampled_from(STRING_FIELDS), st.text(max_size=5)), scalar, max_size=10
)
anything = st.one_of(field_maps, st.lists(scalar, max_size=3), scalar)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(anything, st.one_of(st.none(), st.text(max_size=15))), max_size=30),
       st.integers(min_value=0, max_value=10**13))  # fmt: skip
def test_fold_never_raises_on_arbitrary_field_maps(entries: list[Any], now: int) -> None:
    state = BoardState(CONFIG)
    for fields, entry_id in entries:
        ingest(state, RawEntry("s", entry_id, fields))
    state.advance(now)
    snap = build_snapshot(state)
    total = snap.events_applied + sum(snap.events_rejected.values()) + snap.events_duplicate
    assert total == len(entries)  # every entry is applied, rejected or a duplicate


contacts = st.sampled_from([f"c{i}" for i in range(6)])
queues = st.sampled_from(["chat", "phone", "tickets"])
agents = st.sampled_from(["a1", "a2", "a3"])


@st.composite
def contact_event(draw: st.DrawFn) -> dict[str, str]:
    ts = T0 + draw(st.integers(min_value=0, max_value=4 * 3_600_000))
    kind = draw(st.sampled_from(["contact.offered", "contact.answered", "contact.abandoned",
                                 "contact.completed", "contact.transferred",
                                 "contact.message", "bot.resolved", "agent.state",
                                 "contact.ended"]))  # fmt: skip
    fields = {"type": kind, "ts": str(ts), "contact": draw(contacts)}
    if kind == "contact.offered":
        fields["queue"] = draw(queues)
    elif kind in ("contact.answered", "agent.state"):
        fields["agent"] = draw(agents)
        if kind == "agent.state":
            fields["state"] = draw(st.sampled_from(["available", "busy", "logged_out"]))
    elif kind == "contact.transferred":
        fields["to_queue"] = draw(queues)
    elif kind == "contact.ended":
        fields["reason"] = draw(st.sampled_from(["restart", "key"]))
    return fields


@settings(max_examples=300, deadline=None)
@given(st.lists(contact_event(), max_size=60), st.booleans(), st.booleans())
def test_conservation_per_queue(events: list[dict[str, str]], sort_by_time: bool,
                                count_ends: bool) -> None:  # fmt: skip
    """offered = answered + abandoned + transferred_out + ended_by_restart + left_by_key
    + waiting, over all events folded; the same for every shop and channel ledger."""
    state = BoardState(END_CONFIG if count_ends else CONFIG)
    if sort_by_time:
        fold_until(state, (RawEntry(None, None, e) for e in events), T0 + 5 * 3_600_000)
    else:  # live order: whatever order they arrive in
        for fields in events:
            ingest(state, RawEntry(None, None, fields))
    assert sum(state.rejected.values()) == 0
    state.settle()
    for queue in state.queues.values():
        life = queue.lifetime
        assert life.offered == (life.answered + life.abandoned + life.transferred_out
                                + life.ended_by_restart + life.left_by_key
                                + len(queue.waiting)), queue.name  # fmt: skip
    # Every contact is in one (shop, channel) cell: the cells add up as the queues do.
    lives = [ledger.lifetime() for ledger in state.cell_ledgers.values()]
    waiting = sum(len(queue.waiting) for queue in state.queues.values())
    assert sum(life.offered for life in lives) == sum(
        life.answered + life.abandoned + life.transferred_out + life.ended_by_restart
        + life.left_by_key for life in lives) + waiting
    # With count_at = "end" an answer counts once its handling ended: never more than answered
    # (a call talked when its system restarted never ends, as in Asterisk).
    for queue in state.queues.values():
        life = queue.lifetime
        assert life.ended_within <= life.ended_answered <= life.answered
        assert life.ended_within <= life.answered_within
        if not count_ends:
            assert life.ended_answered == 0
    snap = build_snapshot(state)
    for q in snap.queues:
        for period in (q.today, q.window):
            for ratio in (period.service_level, period.abandon_rate):
                assert ratio is None or 0.0 <= ratio <= 1.0


@st.composite
def handover_event(draw: st.DrawFn) -> dict[str, str]:
    """Contact events where agents change hands: answers by several agents (a takeover),
    questions and completions that name an agent or not, transfers and re-offers."""
    fields = draw(contact_event())
    if fields["type"] in ("contact.message", "contact.completed") and draw(st.booleans()):
        fields["agent"] = draw(agents)
    if fields["type"] in ("contact.answered", "contact.message") and draw(st.booleans()):
        fields["queue"] = draw(queues)  # an answer or a question with no offer seen
    return fields


def _references_hold(state: BoardState) -> None:
    for contact in state.contacts.values():
        if contact.queue_state is not None:
            assert contact.queue_state is state.queues[contact.queue]  # type: ignore[index]
        if contact.agent_state is not None:
            assert contact.agent_state is state.agents[contact.agent]  # type: ignore[index]


@settings(max_examples=300, deadline=None)
@given(st.lists(handover_event(), max_size=60))
def test_contacts_reference_the_records_they_name(events: list[dict[str, str]]) -> None:
    """A contact holds the records of its queue and agent (the fold's hot path skips the
    lookup by name). After every event, and after a checkpoint's pickling, each reference is
    the record the board keeps under that name: the board counts exactly as by name."""
    import pickle

    state = BoardState(CONFIG)
    for fields in events:
        ingest(state, RawEntry(None, None, fields))
        _references_hold(state)
    restored: BoardState = pickle.loads(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    _references_hold(restored)
    for fields in events[::-1]:  # the restored board folds on (late events, re-offers...)
        ingest(restored, RawEntry(None, None, {**fields, "ts": str(int(fields["ts"]) + 1)}))
        _references_hold(restored)
