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

Nesting: a line whose JSON nests arrays and objects more than `MAX_NESTING` deep is not
parsed at all (`parse_line` gives a non-mapping: `malformed`), whatever it holds, so the
parser's recursion never reaches the interpreter's limit and every reader draws the line at
the same depth. The fast path costs nothing for it: its struct forbids unknown fields and
types every known one as a string, so what it accepts nests one level deep; a line with
unknown fields is parsed (one at a time) with a lenient struct only when its brackets are too
few to nest deeper (`_few_brackets`), and goes the slow way otherwise.

Unknown fields are not checked (docs/events.md): the lenient struct skips their values, so
`parse_line` too, when only they stop the JSON parser (a number beyond its range, text that
is not UTF-8), takes the line's known fields.
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
_LINE_SPEC: Final = [_field(name) for name in (*ev.STRING_FIELDS, "_stream")]
# Strict: a line with a field the contract does not know fails here, so that a line accepted
# on the fast path holds no nesting (an unknown field's value could nest as deep as it likes).
Line: Any = msgspec.defstruct("Line", _LINE_SPEC, gc=False, forbid_unknown_fields=True)
# Lenient: unknown fields skipped, for a line whose brackets cannot nest past the limit.
LenientLine: Any = msgspec.defstruct("LenientLine", _LINE_SPEC, gc=False)
_decoder: Final = msgspec.json.Decoder(Line)
_lenient_decoder: Final = msgspec.json.Decoder(LenientLine)
# Loose: the known fields (and an archive's encoding mark) as any JSON, the unknown ones
# skipped: not checked, as on the fast path (a number too large for Python's parser, bytes
# that are not UTF-8 in them pass).
_LOOSE_FIELDS: Final = (*ev.STRING_FIELDS, *ev.COMPLAINT_FIELDS, "_stream", ev.ENCODING_MARK)
_any_field: Any = msgspec.field
LooseLine: Any = msgspec.defstruct("LooseLine", [
    (f"f{at}", Any, _any_field(default=None, name=name))
    for at, name in enumerate(_LOOSE_FIELDS)], gc=False)  # fmt: skip
_loose_decoder: Final = msgspec.json.Decoder(LooseLine)
_LINE_FIELDS: Final = (*ev.STRING_FIELDS, "_stream")
# Where each required field sits in `astuple(line)`, per type. Complaint events (rare, with
# fields the line struct does not know) always go the slow way: they have no entry here.
_REQUIRED: Final = {kind: tuple(_LINE_FIELDS.index(n) for n in names)
                    for kind, names in ev.REQUIRED.items()
                    if kind not in ev.COMPLAINT_TYPES}  # fmt: skip
_astuple: Final = msgspec.structs.astuple
_KINDS: Final = {kind: kind for kind in ev.REQUIRED}  # the type string, one object a type
_any_decoder: Final = msgspec.json.Decoder()
_NOT_JSON: Final = {"_malformed": "line is not a JSON object"}
_TOO_DEEP: Final = {"_malformed": "line nests too deep"}
# Events are flat maps; an unknown field may hold some structure (ignored), never this deep.
MAX_NESTING: Final = 32
_NOT_BRACKETS: Final = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_NOT_MARKS: Final = bytes(byte for byte in range(256) if byte not in b'[]{},"')
_OPENERS: Final = b"[{"
_FAILED: Final = (msgspec.DecodeError, msgspec.ValidationError)
_ENCODING_MARK: Final = ev.ENCODING_MARK.encode()
# The order `_event` unpacks a line's fields in, and the order it passes Event's fields in;
# should either change, the slow path takes over.
_POSITIONAL: Final = _LINE_FIELDS == (
    "type", "ts", "v", "id", "_id", "contact", "queue", "channel", "shop", "agent", "via",
    "outcome", "value", "rating", "to_queue", "state", "reason", "name", "team", "level",
    "shops", "queues", "pool", "alert", "by", "callout", "agents", "response", "_stream",
) and FIELDS == (
    "type", "ts", "key", "contact", "queue", "channel", "shop", "agent", "via", "outcome",
    "value", "rating", "to_queue", "state", "reason", "name", "team", "level", "shops", "queues",
    "pool", "alert", "by", "callout", "agents", "response", "entry_id", "complaint",
    "department", "resolution", "key_complaint")  # fmt: skip


def parse_line(line: bytes) -> object:
    """The line as `read_ndjson` yields it: a JSON value, or a non-mapping when not JSON or
    nested deeper than `MAX_NESTING`. Fields the contract does not know are not checked:
    when only they stop the JSON parser, the line is its known fields."""
    if not _few_brackets(line, MAX_NESTING) and too_deep_at(line, MAX_NESTING) >= 0:
        return [_TOO_DEEP]
    try:
        return _any_decoder.decode(line)
    except msgspec.DecodeError:
        pass
    try:
        loose = _loose_decoder.decode(line)
    except _FAILED:
        return [_NOT_JSON]
    return {name: value for name, value in zip(_LOOSE_FIELDS, _astuple(loose), strict=True)
            if value is not None}  # fmt: skip


def _few_brackets(data: bytes, limit: int) -> bool:
    """Too few brackets to nest deeper than `limit` (1 or more): a cheap bound. A flat event's
    line has no `[` and one `{`, its first byte: two memchr scans say so."""
    if b"[" not in data and data.find(b"{", 1) < 0:
        return True
    return data.count(b"[") + data.count(b"{") <= limit


def too_deep_at(text: bytes, limit: int) -> int:
    """-1 when JSON `text` nests arrays and objects at most `limit` deep (brackets inside
    strings do not count). Otherwise how many commas the outermost array or object had
    passed where the text went deeper: for a top-level array, the index of the element at
    fault. The scan reads the text as a parser would up to its first syntax error, so a
    parser given text that passes never recurses deeper than `limit`."""
    if _few_brackets(text, limit) or not _nests_past(_outside_strings(text, _NOT_BRACKETS),
                                                     limit):  # fmt: skip
        return -1
    # Too deep: once more with the commas, to say where.
    depth = 0
    element = 0
    for mark in _outside_strings(text, _NOT_MARKS):
        if mark in _OPENERS:
            depth += 1
            if depth > limit:
                break
        elif mark == 0x2C:  # ,
            if depth == 1:
                element += 1
        else:  # ] }
            depth -= 1
    return element


def _outside_strings(text: bytes, drop: bytes) -> bytes:
    """The bytes of `text` outside JSON strings, less those in `drop` (which keeps quotes).
    Escapes go first (an escaped backslash, then an escaped quote: a parser's reading, left
    to right); then every other quote opens or closes a string. All of it runs in C."""
    bare = text.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, drop)
    return b"".join(bare.split(b'"')[::2])


def _nests_past(brackets: bytes, limit: int) -> bool:
    depth = 0
    for mark in brackets:
        if mark in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _suspect(data: bytes) -> bool:
    """Bytes that may stand for a control character in a value: JSON escapes, DEL, and the
    UTF-8 lead byte of U+0080-U+00BF (the C1 controls live there); and the field that marks
    an entry that held bytes that are not UTF-8 (`decode` rejects it: `bad_encoding`)."""
    return (b"\\" in data or b"\x7f" in data or (not data.isascii() and b"\xc2" in data)
            or _ENCODING_MARK in data)  # fmt: skip


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
    # No `[` and one `{` a line: every line that parses is one flat object, so unknown fields
    # (a producer's extras) may be skipped in the batch too; else the strict struct.
    flat = b"[" not in text and text.count(b"{") == len(lines)
    try:
        structs = (_lenient_decoder if flat else _decoder).decode_lines(text)
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
    # Unknown fields are skipped only where the line's brackets are too few to nest too deep.
    decoder = _lenient_decoder if _few_brackets(line, MAX_NESTING) else _decoder
    try:
        struct = decoder.decode(line)
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
    if kind == ev.REPLY and by is not None and by not in ev.REPLY_BY:
        return None  # the slow path gives the rejection
    if kind == ev.ENDED and reason not in ev.ENDED_REASONS:
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
