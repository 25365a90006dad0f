"""NDJSON lines straight to events: the replay's fast path, always equal to `events.decode`.

`events.decode` looks up every contract field in a dict and runs a regex over each value
(about 7 us an event). Here msgspec parses a line straight into a typed struct and checks in C
what it can (lengths, the closed sets: channel, state, pool, response, v, rating); only the
per-type rules run in Python. A line the fast path is not sure about (a backslash escape or
DEL/C1 bytes that could hide a control character, a number where a string is expected, an
RFC 3339 time, an empty `queue` or `id`, any rule broken) goes the slow way: parsed as
`feeds.files.read_ndjson` parses it, then `events.decode`. So the result is always what
`decode` gives (property-tested in tests/test_replay_decode.py).

`decode_lines` does a batch: one byte scan and one msgspec call for the lot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from sys import intern
from typing import Annotated, Any, Final, Literal

import msgspec

from wallboard.core import events as ev
from wallboard.core.event_record import FIELDS, Event
from wallboard.core.events import Rejection, decode
from wallboard.core.timeutil import parse_event_time, parse_stream_id

Decoded = tuple[Event | Rejection, str | None]

_MIN_MS: Final = 100_000_000_000  # parse_event_time's bounds, for the all-digit fast path
_MAX_MS: Final = 7_258_118_400_000
assert parse_event_time(str(_MIN_MS)) == _MIN_MS and parse_event_time(str(_MIN_MS - 1)) is None
assert parse_event_time(str(_MAX_MS)) == _MAX_MS and parse_event_time(str(_MAX_MS + 1)) is None

_Text = Annotated[str, msgspec.Meta(max_length=ev.MAX_FIELD_LEN)]
_Filled = Annotated[str, msgspec.Meta(min_length=1, max_length=ev.MAX_FIELD_LEN)]
_RATINGS: Final = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
# Closed sets checked in C. Values are plain ASCII words: no control character to miss.
_CLOSED: Final[dict[str, Any]] = {
    "channel": Literal[tuple(sorted(ev.CHANNELS))],
    "state": Literal[ev.AGENT_STATES],
    "pool": Literal[tuple(sorted(ev.POOLS))],
    "response": Literal[tuple(sorted(ev.RESPONSES))],
    "v": Literal[ev.SCHEMA_VERSION],
    "rating": Literal[tuple(_RATINGS)],
}
# `queue` and `id` become None when empty (`or None` in decode): an empty one goes slow.
_FILLED_WHEN_GIVEN: Final = frozenset({"queue", "id"})
_ATTR: Final = {"_id": "id_", "_stream": "stream_"}


def _field(name: str) -> tuple[str, Any, Any]:
    kind_of: Any = _CLOSED.get(name, _Filled if name in _FILLED_WHEN_GIVEN else _Text)
    if name == "_stream":
        kind_of = str
    # Any: msgspec types field() as its default (None here), which compiled code would check.
    spec: Any = msgspec.field
    return _ATTR.get(name, name), kind_of | None, spec(default=None, name=name)


# One struct for every type, every field optional: a tagged union (a struct per type, required
# fields checked in C) parsed faster but made each attribute read below polymorphic (eight
# types through one function defeat CPython's attribute caches): 3.55 against 2.89 us an event.
Line: Any = msgspec.defstruct("Line", [_field(name) for name in (*ev.STRING_FIELDS, "_stream")],
                              gc=False)  # fmt: skip
_decoder: Final = msgspec.json.Decoder(Line)
_LINE_FIELDS: Final = (*ev.STRING_FIELDS, "_stream")
# Where each required field sits in `astuple(line)`, per type.
_REQUIRED: Final = {kind: tuple(_LINE_FIELDS.index(n) for n in names)
                    for kind, names in ev.REQUIRED.items()}  # fmt: skip
_astuple: Final = msgspec.structs.astuple
_KINDS: Final = {kind: kind for kind in ev.REQUIRED}  # the type string, one object a type
_any_decoder: Final = msgspec.json.Decoder()
_NOT_JSON: Final = {"_malformed": "line is not a JSON object"}
_FAILED: Final = (msgspec.DecodeError, msgspec.ValidationError)
# The order `_event` unpacks a line's fields in, and the order it passes Event's fields in;
# should either change, the slow path takes over.
_POSITIONAL: Final = _LINE_FIELDS == (
    "type", "ts", "v", "id", "_id", "contact", "queue", "channel", "shop", "agent", "via",
    "outcome", "value", "rating", "to_queue", "state", "reason", "name", "team", "level",
    "shops", "queues", "pool", "alert", "by", "callout", "agents", "response", "_stream",
) and FIELDS == (
    "type", "ts", "key", "contact", "queue", "channel", "shop", "agent", "via", "outcome",
    "value", "rating", "to_queue", "state", "reason", "name", "team", "level", "shops", "queues",
    "pool", "alert", "by", "callout", "agents", "response", "entry_id")  # fmt: skip


def parse_line(line: bytes) -> object:
    """The line as `read_ndjson` yields it: a JSON value, or a non-mapping when not JSON."""
    try:
        return _any_decoder.decode(line)
    except msgspec.DecodeError:
        return [_NOT_JSON]


def _suspect(data: bytes) -> bool:
    """Bytes that may stand for a control character in a value: JSON escapes, DEL, and the
    UTF-8 lead byte of U+0080-U+00BF (the C1 controls live there)."""
    return b"\\" in data or b"\x7f" in data or (not data.isascii() and b"\xc2" in data)


def decode_line(line: bytes) -> Decoded:
    """One NDJSON line to what `decode` gives for it, and the line's `_stream` (archives)."""
    if _suspect(line):
        return _slow(line)
    return _clean(line)


def decode_lines(lines: Sequence[bytes]) -> list[Decoded]:
    """`decode_line` of each line (lines without a newline in them, as a file's are)."""
    if not lines:
        return []
    text = b"\n".join(lines)
    if _suspect(text):
        return [decode_line(line) for line in lines]
    try:
        structs = _decoder.decode_lines(text)
    except _FAILED:
        return [_clean(line) for line in lines]  # some line is not for the fast path
    if len(structs) != len(lines):  # a line held two documents: one by one
        return [_clean(line) for line in lines]
    out: list[Decoded] = []
    append = out.append
    for struct, line in zip(structs, lines, strict=True):
        event = _event(struct)
        append(_slow(line) if event is None else (event, struct.stream_))
    return out


def _clean(line: bytes) -> Decoded:
    """A line without suspect bytes."""
    try:
        struct = _decoder.decode(line)
    except _FAILED:
        return _slow(line)
    event = _event(struct)
    if event is None:
        return _slow(line)
    return event, struct.stream_


def _slow(line: bytes) -> Decoded:
    fields = parse_line(line)
    stream = None
    entry_id = None
    if isinstance(fields, dict):
        raw_stream, raw_id = fields.get("_stream"), fields.get("_id")
        if isinstance(raw_stream, str) and isinstance(raw_id, str):
            stream, entry_id = raw_stream, raw_id
    return decode(fields, entry_id), stream


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in text.split(",")) if part)


def _event(f: Any) -> Event | None:
    """The event for a line msgspec accepted, when the rest of `decode`'s rules pass too."""
    if not _POSITIONAL:
        return None
    # One call for all fields, then locals: a few dozen attribute reads cost more.
    line: tuple[Any, ...] = _astuple(f)
    (kind, text, _, key, entry_id, contact, queue, channel, shop, agent, via, outcome, raw_value,
     rating, to_queue, state, reason, name, team, level, shops, queues, pool, alert, by,
     callout, agents, response, _) = line  # fmt: skip
    required = _REQUIRED.get(kind) if kind is not None else None
    if required is None or text is None:  # no ts: the entry ID's time (slow path)
        return None
    if text.isascii() and text.isdigit():  # isdigit alone takes "²" and other scripts' digits
        ts = int(text)
        if ts < _MIN_MS or ts > _MAX_MS:
            return None
    else:
        parsed = parse_event_time(text)
        if parsed is None:
            return None
        ts = parsed
    for at in required:
        if not line[at]:
            return None
    if entry_id is not None and parse_stream_id(entry_id) is None:
        return None
    value: float | None = None
    if raw_value is not None:
        try:
            value = float(raw_value)
        except ValueError:
            return None
        if not math.isfinite(value) or value < 0:
            return None
    if agents is not None:
        agents = _comma_list(agents)
    if kind == ev.CALLOUT and not agents:
        return None
    # One string object per queue, shop and agent (msgspec makes a new one each line): the
    # state's contacts then share them, and a checkpoint pickles each once (measured: a
    # fifth off pickling 20,000 contacts).
    if queue is not None:
        queue = intern(queue)
    if shop is not None:
        shop = intern(shop)
    if agent is not None:
        agent = intern(agent)
    # Positional, in Event's field order: keywords cost ten times more on this hot path.
    return Event(_KINDS[kind], ts, key, contact, queue, channel, shop, agent, via, outcome,
                 value, None if rating is None else _RATINGS[rating], to_queue, state,
                 reason, name, team, level,
                 None if shops is None else _comma_list(shops),
                 None if queues is None else _comma_list(queues), pool, alert, by,
                 callout, agents, response, entry_id)  # fmt: skip
