"""The event contract: every entry is applied, rejected by a named reason, or a duplicate."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenario import at, event, fold, ms, queue
from wallboard.core.events import Event, Rejection, decode
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until, ingest
from wallboard.core.snapshot import build_snapshot

T0 = "2026-11-11 10:00:00"


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        (["not", "a", "map"], "malformed", None),
        ({"type": "contact.offered", "ts": "1794362400000", "contact": 5, "queue": "q"},
         "malformed", "contact"),
        ({"type": "contact.offered", "ts": "1794362400000", "contact": "c"}, "missing_field",
         "queue"),
        ({"type": "contact.answered", "ts": "1794362400000", "contact": "c"}, "missing_field",
         "agent"),
        ({"type": "contact.transferred", "ts": "1794362400000", "contact": "c"},
         "missing_field", "to_queue"),
        ({"type": "agent.state", "ts": "1794362400000", "agent": "a"}, "missing_field", "state"),
        ({"ts": "1794362400000", "contact": "c"}, "missing_field", "type"),
        ({"type": "contact.offered", "contact": "c", "queue": "q"}, "missing_field", "ts"),
        ({"type": "contact.teleported", "ts": "1794362400000"}, "unknown_type", "type"),
        ({"type": "bot.resolved", "ts": "yesterday"}, "bad_timestamp", "ts"),
        ({"type": "bot.resolved", "ts": "2026-11-11T10:00:00"}, "bad_timestamp", "ts"),  # no offset
        ({"type": "bot.resolved", "ts": "1794362400"}, "bad_timestamp", "ts"),  # seconds, not ms
        ({"type": "contact.offered", "ts": "1794362400000", "contact": "c", "queue": "q",
          "channel": "fax"}, "bad_value", "channel"),
        ({"type": "agent.state", "ts": "1794362400000", "agent": "a", "state": "asleep"},
         "bad_value", "state"),
        ({"type": "agent.state", "ts": "1794362400000", "agent": "a", "state": "busy",
          "pool": "bench"}, "bad_value", "pool"),
        ({"type": "contact.completed", "ts": "1794362400000", "contact": "c", "rating": "6"},
         "bad_value", "rating"),
        ({"type": "contact.completed", "ts": "1794362400000", "contact": "c", "value": "lots"},
         "bad_value", "value"),
        ({"type": "bot.resolved", "ts": "1794362400000", "v": "2"}, "bad_value", "v"),
        ({"type": "contact.offered", "ts": "1794362400000", "contact": "c", "queue": "q" * 257},
         "too_long", "queue"),
        ({"type": "agent.state", "ts": "1794362400000", "agent": "a", "state": "busy",
          "name": "Mallory\x1b[2J"}, "control_char", "name"),
        ({"type": "agent.state", "ts": "1794362400000", "agent": "a", "state": "busy",
          "name": "C1\x9b31m"}, "control_char", "name"),
        ({"type": "contact.reply", "ts": "1794362400000"}, "missing_field", "contact"),
        ({"type": "contact.reply", "ts": "1794362400000", "contact": "c", "by": "robot"},
         "bad_value", "by"),
    ],
)  # fmt: skip
def test_rejection_reasons(fields: Any, reason: str, field: str | None) -> None:
    result = decode(fields)
    assert isinstance(result, Rejection)
    assert (result.reason, result.field) == (reason, field)


def test_a_reply_names_who_sent_it() -> None:
    for by in ("agent", "assist", "bot", None):
        fields = {"type": "contact.reply", "ts": "1794362400000", "contact": "c"}
        if by is not None:
            fields["by"] = by
        decoded = decode(fields)
        assert isinstance(decoded, Event) and decoded.by == by  # None: the agent (default)


def test_valid_forms_and_ignored_extras() -> None:
    rfc = decode({"type": "contact.offered", "ts": "2026-11-11T10:00:00+08:00", "contact": "c",
                  "queue": "q", "colour": "\x1b[31m" * 300})  # unknown field: not checked
    assert isinstance(rfc, Event) and rfc.ts == ms(T0) and rfc.channel is None
    zulu = decode({"type": "bot.resolved", "ts": "2026-11-11T02:00:00Z"})
    assert isinstance(zulu, Event) and zulu.ts == ms(T0)
    from_id = decode({"type": "bot.resolved"}, entry_id=f"{ms(T0)}-3")
    assert isinstance(from_id, Event) and from_id.ts == ms(T0)  # no ts: the entry ID's time
    listy = decode({"type": "agent.state", "ts": ms(T0), "agent": "a", "state": "busy",
                    "shops": " s1, ,s2 ", "queues": "chat,phone", "rating": 4, "v": "1"})
    assert isinstance(listy, Event)
    assert listy.shops == ("s1", "s2") and listy.queues == ("chat", "phone")


def test_bad_input_is_counted_by_reason_and_kept_for_display() -> None:
    good = event("contact.offered", at(T0, 0), contact="c1", queue="q")
    entries = [
        good,
        {"type": "contact.offered", "ts": str(at(T0, 1)), "contact": "c2"},  # missing queue
        {"type": "nope", "ts": str(at(T0, 2))},
        {"type": "bot.resolved", "ts": "soon"},
        ["garbage"],
        event("agent.state", at(T0, 3), agent="a", state="busy", name="x" * 300),
    ]
    snap = fold(entries, at(T0, 60))
    assert snap.events_applied == 1
    assert snap.events_rejected == {"malformed": 1, "missing_field": 1, "unknown_type": 1,
                                    "bad_timestamp": 1, "bad_value": 0, "too_long": 1,
                                    "control_char": 0, "bad_encoding": 0}  # fmt: skip
    assert [r.reason for r in snap.rejected_recent] == [
        "missing_field", "unknown_type", "bad_timestamp", "malformed", "too_long"]
    assert queue(snap, "q").waiting == 1


def test_selection_by_event_time_and_unreadable_time_always_counts() -> None:
    entries = [
        event("contact.offered", at(T0, 0), contact="c1", queue="q"),
        event("contact.offered", at(T0, 120), contact="c2", queue="q"),  # after --at: ignored
        {"type": "nope", "ts": str(at(T0, 120))},  # bad, but after --at: not counted either
        {"type": "nope", "ts": "garbage"},  # time unreadable: always counted
    ]
    snap = fold(entries, at(T0, 60))
    assert snap.events_applied == 1 and queue(snap, "q").today.offered == 1
    assert snap.events_rejected["unknown_type"] == 0
    assert snap.events_rejected["bad_timestamp"] == 1


def test_duplicates_by_key_file_id_and_stream_id(tmp_path: Any) -> None:
    state = BoardState(build_config())
    offered = event("contact.offered", at(T0, 0), contact="c1", queue="q", id="p-1")
    # a producer retry with the same idempotency key
    again = event("contact.offered", at(T0, 1), contact="c1", queue="q", id="p-1")
    file_line = {**event("contact.offered", at(T0, 2), contact="c2", queue="q"),
                 "_id": f"{at(T0, 2)}-0"}  # fmt: skip
    entries = [RawEntry(None, None, offered), RawEntry(None, None, again),
               RawEntry(None, None, file_line), RawEntry(None, None, dict(file_line))]
    fold_until(state, entries, at(T0, 60))
    snap = build_snapshot(state)
    assert (snap.events_applied, snap.events_duplicate) == (2, 2)

    live = BoardState(build_config())
    fields = event("contact.offered", at(T0, 0), contact="s1", queue="q")
    assert ingest(live, RawEntry("wallboard:events", f"{at(T0, 0)}-0", fields))
    assert not ingest(live, RawEntry("wallboard:events", f"{at(T0, 0)}-0", fields))  # re-read
    assert not ingest(live, RawEntry("wallboard:events", f"{at(T0, -1)}-5", fields))  # below
    # the same ID on another stream is another entry
    other = event("contact.offered", at(T0, 0), contact="s2", queue="q")
    assert ingest(live, RawEntry("other:events", f"{at(T0, 0)}-0", other))
    snap = build_snapshot(live)
    assert (snap.events_applied, snap.events_duplicate) == (2, 2)


def test_future_events_are_rejected_once_the_clock_is_known() -> None:
    state = BoardState(build_config())
    state.advance(ms(T0))
    far = event("bot.resolved", ms(T0) + 301_000)  # default max_future_s = 300
    near = event("bot.resolved", ms(T0) + 299_000)
    assert not ingest(state, RawEntry(None, None, far))
    assert ingest(state, RawEntry(None, None, near))
    assert state.rejected["bad_timestamp"] == 1


def test_out_of_order_input_folds_like_sorted_input() -> None:
    q = {"queue": "q"}
    ordered = [
        event("contact.offered", at(T0, 0), contact="a", **q),
        event("contact.answered", at(T0, 10), contact="a", agent="x"),
        event("contact.offered", at(T0, 20), contact="b", **q),
        event("contact.abandoned", at(T0, 50), contact="b"),
    ]
    shuffled = [ordered[3], ordered[1], ordered[2], ordered[0]]
    assert fold(shuffled, at(T0, 60)) == fold(ordered, at(T0, 60))


def build_config() -> Any:
    from wallboard.core.config import load_config

    return load_config(None)


def test_non_ascii_digits_are_not_numbers() -> None:
    """str.isdigit() accepts "²" and "٣"; times and entry IDs take ASCII digits only."""
    from wallboard.core.events import Rejection, decode

    bad_ts = decode({"type": "bot.resolved", "ts": "17943624000²"})
    assert isinstance(bad_ts, Rejection) and bad_ts.reason == "bad_timestamp"
    bad_id = decode({"type": "bot.resolved"}, "²-0")
    assert isinstance(bad_id, Rejection) and (bad_id.reason, bad_id.field) == ("bad_value", "_id")


def test_every_field_lands_in_its_own_place() -> None:
    """Both decoders build events positionally (keywords cost several times more): each field
    of the contract must come back under its own name, through either of them."""
    import json

    from wallboard.core.events import encode_fields
    from wallboard.core.linedecode import decode_line

    fields = {"type": "contact.completed", "ts": "1794362400000", "id": "k-1", "contact": "c",
              "queue": "q", "channel": "chat", "shop": "s", "agent": "a", "via": "bot",
              "outcome": "order", "value": "12.5", "rating": "4", "to_queue": "t",
              "state": "busy", "reason": "r", "name": "n", "team": "tm", "level": "l",
              "shops": "s1,s2", "queues": "q1,q2", "pool": "core", "alert": "al", "by": "b",
              "callout": "co", "agents": "a1,a2", "response": "accepted"}  # fmt: skip
    entry_id = "1794362400000-7"
    from_map = decode(fields, entry_id)
    from_line, _stream = decode_line(json.dumps({**fields, "_id": entry_id}).encode())
    for decoded in (from_map, from_line):
        assert isinstance(decoded, Event)
        assert encode_fields(decoded) == fields
        assert (decoded.ts, decoded.key, decoded.entry_id) == (1794362400000, "k-1", entry_id)
    assert from_map == from_line
