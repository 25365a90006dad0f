"""The replay's line decoder gives exactly what `events.decode` gives for the same line."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.replay_scenario import lines
from wallboard.events import STRING_FIELDS, decode
from wallboard.linedecode import decode_line, parse_line

TYPES = ["contact.offered", "contact.answered", "contact.completed", "agent.state",
         "reserve.callout", "reserve.response", "alert.ack", "bogus"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["1794326400000", "1794326400001", "123", "2026-11-11T00:00:00+08:00",
                     "", "chat", "phone", "busy", "nope", "reserve", "accepted", "1", "5", "6",
                     "2.5", "-1", "nan", "a,b, ,c", "1794326400000-3", "x-y", "q"]),
    st.text(max_size=6),
    st.text(min_size=250, max_size=260, alphabet="ab"),
    st.integers(min_value=-5, max_value=1794326400005),
    st.floats(allow_nan=True),
    st.none(),
)  # fmt: skip


def expected(line: bytes) -> object:
    fields = parse_line(line)
    entry_id = None
    if isinstance(fields, dict) and isinstance(fields.get("_stream"), str):
        entry_id = fields.get("_id") if isinstance(fields.get("_id"), str) else None
    return decode(fields, entry_id)


def test_the_scenario_lines_decode_alike() -> None:
    for line in lines():
        assert decode_line(line)[0] == expected(line)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*STRING_FIELDS, "_stream", "other"]), VALUES,
                       max_size=8), st.sampled_from(TYPES))  # fmt: skip
def test_any_field_map_decodes_alike(fields: dict[str, object], kind: str) -> None:
    fields.setdefault("type", kind)
    line = msgspec.json.encode(fields)
    assert decode_line(line)[0] == expected(line)


def test_the_stream_of_an_archive_line() -> None:
    line = b'{"type":"bot.resolved","ts":"1794326400000","_id":"1794326400000-0","_stream":"s"}'
    event, stream = decode_line(line)
    assert stream == "s"
    assert event == decode({"type": "bot.resolved", "ts": "1794326400000"}, "1794326400000-0")
