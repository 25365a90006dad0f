"""NDJSON lines straight to events: the replay's fast path, always equal to `events.decode`.

`events.decode` looks up every contract field in a dict and runs a regex over each value
(about 9 us an event). Here msgspec parses a line straight into a typed struct (lengths
checked in C) and only the per-type rules run in Python. A line the fast path is not sure
about (a backslash escape or DEL/C1 bytes that could hide a control character, a number where
a string is expected, an RFC 3339 time, any rule broken) goes the slow way: parsed as
`feeds.files.read_ndjson` parses it, then `events.decode`. So the result is always what
`decode` gives (property-tested in tests/test_replay_decode.py).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Final

import msgspec

from wallboard import events as ev
from wallboard.events import Event, Rejection, decode
from wallboard.timeutil import parse_event_time, parse_stream_id

_Text = Annotated[str, msgspec.Meta(max_length=ev.MAX_FIELD_LEN)]
# One optional, length-checked string per contract field, plus the archive's `_stream`.
_FIELDS: Final = [
    *[(("id_" if name == "_id" else name), _Text | None, msgspec.field(default=None, name=name))
      for name in ev.STRING_FIELDS],
    ("stream_", str | None, msgspec.field(default=None, name="_stream")),
]
Line: Any = msgspec.defstruct("Line", _FIELDS, gc=False)

# The order `_fast` passes Event's fields in; should Event change, the slow path takes over.
_POSITIONAL: Final = Event.__struct_fields__ == (
    "type", "ts", "contact", "queue", "channel", "shop", "agent", "via", "outcome", "value",
    "rating", "to_queue", "state", "reason", "name", "team", "level", "shops", "queues", "pool",
    "alert", "by", "callout", "agents", "response", "key", "entry_id")  # fmt: skip
_line_decoder = msgspec.json.Decoder(Line)
_any_decoder = msgspec.json.Decoder()
_NOT_JSON: Final = {"_malformed": "line is not a JSON object"}


def parse_line(line: bytes) -> object:
    """The line as `read_ndjson` yields it: a JSON value, or a non-mapping when not JSON."""
    try:
        return _any_decoder.decode(line)
    except msgspec.DecodeError:
        return [_NOT_JSON]


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in text.split(",")) if part)


def decode_line(line: bytes) -> tuple[Event | Rejection, str | None]:
    """One NDJSON line to what `decode` gives for it, and the line's `_stream` (archives)."""
    # Bytes that may stand for a control character in a value: JSON escapes, DEL, and the
    # UTF-8 lead byte of U+0080-U+00BF (the C1 controls live there).
    if b"\\" in line or b"\x7f" in line or (not line.isascii() and b"\xc2" in line):
        return _slow(line)
    try:
        f = _line_decoder.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _slow(line)
    event = _fast(f)
    if event is None:
        return _slow(line)
    return event, f.stream_


def _slow(line: bytes) -> tuple[Event | Rejection, str | None]:
    fields = parse_line(line)
    stream = None
    entry_id = None
    if isinstance(fields, dict):
        raw_stream, raw_id = fields.get("_stream"), fields.get("_id")
        if isinstance(raw_stream, str) and isinstance(raw_id, str):
            stream, entry_id = raw_stream, raw_id
    return decode(fields, entry_id), stream


def _fast(f: Any) -> Event | None:
    """The event when every rule of `decode` passes on the common path, else None."""
    kind = f.type
    required = ev.REQUIRED.get(kind) if kind is not None else None
    if required is None or f.ts is None:
        return None
    ts = parse_event_time(f.ts)
    if ts is None:
        return None
    entry_id = f.id_
    if entry_id is not None and parse_stream_id(entry_id) is None:
        return None
    for name in required:
        if not getattr(f, name):
            return None
    if f.v is not None and f.v != ev.SCHEMA_VERSION:
        return None
    channel = f.channel
    if channel is not None and channel not in ev.CHANNELS:
        return None
    state = f.state
    if state is not None and state not in ev.AGENT_STATE_SET:
        return None
    pool = f.pool
    if pool is not None and pool not in ev.POOLS:
        return None
    response = f.response
    if response is not None and response not in ev.RESPONSES:
        return None
    agents_text = f.agents
    agents = None if agents_text is None else _comma_list(agents_text)
    if kind == ev.CALLOUT and not agents:
        return None
    value: float | None = None
    if f.value is not None:
        try:
            value = float(f.value)
        except ValueError:
            return None
        if not math.isfinite(value) or value < 0:
            return None
    rating: int | None = None
    if f.rating is not None:
        if f.rating not in ("1", "2", "3", "4", "5"):
            return None
        rating = int(f.rating)
    shops, queues = f.shops, f.queues
    if not _POSITIONAL:
        return None
    # Positional, in Event's field order: keywords cost ten times more on this hot path.
    return Event(kind, ts, f.contact, f.queue or None, channel, f.shop, f.agent, f.via,
                 f.outcome, value, rating, f.to_queue, state, f.reason, f.name, f.team, f.level,
                 None if shops is None else _comma_list(shops),
                 None if queues is None else _comma_list(queues), pool, f.alert, f.by,
                 f.callout, agents, response, f.id or None, entry_id)
