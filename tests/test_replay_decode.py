"""The replay's line decoder gives exactly what `events.decode` gives for the same line."""

from __future__ import annotations

from unittest.mock import patch

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.replay_scenario import lines, records
from wallboard.core.events import STRING_FIELDS, decode
from wallboard.core.linedecode import decode_line, decode_lines, parse_line

TYPES = ["contact.offered", "contact.answered", "contact.completed", "agent.state",
         "reserve.callout", "reserve.response", "alert.ack", "contact.reply", "bogus"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["1794326400000", "1794326400001", "123", "2026-11-11T00:00:00+08:00",
                     "", "chat", "phone", "busy", "nope", "reserve", "accepted", "1", "5", "6",
                     "assist", "bot", "agent",
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


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(st.sampled_from([*STRING_FIELDS, "_stream", "other"]),
                                          VALUES, max_size=8),
                          st.sampled_from(TYPES)), max_size=12))  # fmt: skip
def test_a_batch_decodes_as_its_lines(items: list[tuple[dict[str, object], str]]) -> None:
    """Good and bad lines mixed: one bad line sends the batch one line at a time, and the
    result is still each line's own."""
    lines = []
    for fields, kind in items:
        fields.setdefault("type", kind)
        lines.append(msgspec.json.encode(fields))
    assert decode_lines(lines) == [decode_line(line) for line in lines]
    assert [item for item, _ in decode_lines(lines)] == [expected(line) for line in lines]


GOOD = (b'{"type":"contact.offered","ts":"1794326400000","contact":"c1","queue":"q",'
        b'"channel":"chat"}')
EDGE_CASES = [
    GOOD,
    # Times: other scripts' digits and superscripts pass str.isdigit but are not a time.
    GOOD.replace(b'"1794326400000"', '"١٧٩٤٣٢٦٤٠٠٠٠٠"'.encode()),
    GOOD.replace(b'"1794326400000"', '"1794326400000²"'.encode()),
    GOOD.replace(b'"1794326400000"', b'"99999999999"'),  # one below the plausible range
    GOOD.replace(b'"1794326400000"', b'"100000000000"'),  # its first value
    GOOD.replace(b'"1794326400000"', b'"7258118400001"'),  # one past the last
    GOOD.replace(b'"1794326400000"', b'"2026-11-11T00:00:00+08:00"'),  # RFC 3339: slow path
    GOOD.replace(b'"1794326400000"', b'1794326400000'),  # a number: decode takes it
    GOOD.replace(b',"ts":"1794326400000"', b',"_id":"1794326400000-1"'),  # time from the ID
    GOOD.replace(b'"q"', b'""'),  # an empty required queue
    GOOD.replace(b'"queue":"q"', b'"queue":"q","id":""'),  # an empty key becomes None
    b'{"type":"contact.abandoned","ts":"1794326400000","contact":"c1","queue":""}',
    b'{"type":"contact.abandoned","ts":"1794326400000","contact":"c1","queue":null}',
    # The same key twice: the last one counts, as in the dict read_ndjson gives.
    b'{"type":"contact.offered","type":"bogus","ts":"1794326400000","contact":"c","queue":"q"}',
    b'{"type":"bogus","type":"contact.abandoned","ts":"1794326400000","contact":"c"}',
    b'{"type":"contact.abandoned","ts":"1794326400000","contact":"c","contact":""}',
    b'{"ts":"1794326400000","contact":"c","type":"contact.abandoned"}',  # the tag last
    b'{"type":"contact.completed","ts":"1794326400000","contact":"c","value":" 1_0.5 ",'
    b'"rating":"5"}',
    b'{"type":"contact.completed","ts":"1794326400000","contact":"c","value":"inf"}',
    b'{"type":"contact.completed","ts":"1794326400000","contact":"c","rating":"05"}',
    b'{"type":"reserve.callout","ts":"1794326400000","callout":"k","queue":"q","agents":" , "}',
    b'{"type":"agent.state","ts":"1794326400000","agent":"a","state":"busy","shops":"x, y,,"}',
    b'{"type":"agent.state","ts":"1794326400000","agent":"a","state":"Busy"}',
    b'{"type":"bot.resolved","ts":"1794326400000","v":"2"}',
    b'{"type":"bot.resolved","ts":"1794326400000","channel":"fax"}',
    b'{"type":"bot.resolved","ts":"1794326400000","_id":"17-x"}',
    b'{"type":"bot.resolved","ts":"1794326400000"} {"type":"bot.resolved","ts":"1"}',
    b'{"type":"bot.resolved","ts":"1794326400000","other":{"nested":[1,"\\u0007"]}}',
    b'{"type":"bot.resolved","ts":"1794326400000","name":"caf\xc3\xa9"}',
    b'{"type":"bot.resolved","ts":"1794326400000","name":"\xc2\x9b31m"}',  # a C1 control
    b'{"type":"bot.resolved","ts":"1794326400000","name":"a\\u0007"}',  # an escaped BEL
    b'[1, 2]',
    b'"just a string"',
    b'{"type":"bot.resolved",',
]


def test_edge_cases_decode_alike_alone_and_in_a_batch() -> None:
    for line in EDGE_CASES:
        assert decode_line(line)[0] == expected(line), line
    assert [item for item, _ in decode_lines(EDGE_CASES)] == [expected(x) for x in EDGE_CASES]
    # A clean batch (no suspect byte) with bad lines in it goes line by line too.
    clean = [line for line in EDGE_CASES if line.isascii() and b"\\" not in line]
    assert [item for item, _ in decode_lines(clean)] == [expected(x) for x in clean]


def test_the_fast_path_takes_the_common_lines() -> None:
    """The simulator's lines never need the slow way (else the replay's first pass slows)."""
    good = [msgspec.json.encode(record) for record in records()]
    with patch("wallboard.core.linedecode._slow", side_effect=AssertionError("slow path")):
        assert len(decode_lines(good)) == len(good) > 1000
        decode_line(GOOD)


def test_an_empty_batch() -> None:
    assert decode_lines([]) == []
