"""The event contract: decode one flat field map (a stream entry or an NDJSON line) into an Event.

Every producer, down to `redis-cli XADD`, writes flat string fields, so this module is the
single gate: whatever passes here is safe to fold and safe to draw; whatever does not is a
`Rejection` with one of the named reasons. The ingest gateway validates with the same function.

Bytes that are not UTF-8: the Redis readers decode each key and value with `surrogateescape`,
so such a byte arrives here as a lone surrogate (U+DC80-U+DCFF), which strict UTF-8 never
yields and no JSON decoder here accepts. An entry holding one, in a key or a value, is
rejected as `bad_encoding` before any other check, naming the field. An archive line carries
such an entry with the bytes written as `\\xNN` and `ENCODING_MARK` naming the field
(feeds/replay_reader.py); it is rejected the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from wallboard.core.event_record import Event as Event  # noqa: PLC0414  (re-exported: the contract's type)
from wallboard.core.timeutil import parse_event_time, parse_stream_id

SCHEMA_VERSION: Final = "1"
MAX_FIELD_LEN: Final = 256

CHANNELS: Final = frozenset({"phone", "chat", "email", "ticket", "wechat", "app", "other"})
AGENT_STATES: Final = ("logged_out", "available", "busy", "wrap_up", "break", "away")
AGENT_STATE_SET: Final = frozenset(AGENT_STATES)
POOLS: Final = frozenset({"core", "reserve"})

OFFERED: Final = "contact.offered"
ANSWERED: Final = "contact.answered"
ABANDONED: Final = "contact.abandoned"
COMPLETED: Final = "contact.completed"
TRANSFERRED: Final = "contact.transferred"
MESSAGE: Final = "contact.message"
# Ended neither answered nor abandoned (docs/events.md): `reason` says how.
ENDED: Final = "contact.ended"
ENDED_RESTART: Final = "restart"  # the system restarted: nothing from before it goes on
ENDED_KEY: Final = "key"  # the caller left the queue by a key (an IVR option)
ENDED_REASONS: Final = frozenset({ENDED_RESTART, ENDED_KEY})
# A reply from the shop inside a contact (docs/metrics.md, response rounds); `by` says who.
REPLY: Final = "contact.reply"
REPLY_BY: Final = frozenset({"agent", "assist", "bot"})
BOT_RESOLVED: Final = "bot.resolved"
AGENT_STATE: Final = "agent.state"
# Control-stream events (supervisor actions and reserve-pool traffic, docs/events.md).
ALERT_ACK: Final = "alert.ack"
CALLOUT: Final = "reserve.callout"
CALLOUT_RESPONSE: Final = "reserve.response"
RESPONSES: Final = frozenset({"accepted", "declined"})
# Complaints (docs/events.md, "Complaints"), on their own stream (`[complaints] stream`).
COMPLAINT_OPENED: Final = "complaint.opened"
COMPLAINT_CALLBACK: Final = "complaint.callback"
COMPLAINT_CLOSED: Final = "complaint.closed"
COMPLAINT_TYPES: Final = frozenset({COMPLAINT_OPENED, COMPLAINT_CALLBACK, COMPLAINT_CLOSED})
REACHED: Final = "reached"
CALLBACK_OUTCOMES: Final = frozenset({REACHED, "no_answer"})

# Required fields per type, beyond `type` and a readable time.
REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    OFFERED: ("contact", "queue"),
    ANSWERED: ("contact", "agent"),
    ABANDONED: ("contact",),
    COMPLETED: ("contact",),
    TRANSFERRED: ("contact", "to_queue"),
    ENDED: ("contact", "reason"),
    MESSAGE: ("contact",),
    REPLY: ("contact",),
    BOT_RESOLVED: (),
    AGENT_STATE: ("agent", "state"),
    ALERT_ACK: ("alert", "by"),
    CALLOUT: ("callout", "queue", "agents"),
    CALLOUT_RESPONSE: ("callout", "agent", "response"),
    COMPLAINT_OPENED: ("complaint",),
    COMPLAINT_CALLBACK: ("complaint",),
    COMPLAINT_CLOSED: ("complaint",),
}
EVENT_TYPES: Final = frozenset(REQUIRED)

# Rejection reasons: the keys of `events_rejected`, in a stable order.
REASONS: Final = (
    "malformed",
    "missing_field",
    "unknown_type",
    "bad_timestamp",
    "bad_value",
    "too_long",
    "control_char",
    "bad_encoding",
)
# The field an archive line gets for an entry that held bytes that are not UTF-8: its value
# names the field, and the line is rejected as `bad_encoding` wherever it is read.
ENCODING_MARK: Final = "_bad_encoding"

# Every field the contract knows. Only these are checked; anything else is ignored.
STRING_FIELDS: Final = (
    "type", "ts", "v", "id", "_id", "contact", "queue", "channel", "shop", "agent", "via",
    "outcome", "value", "rating", "to_queue", "state", "reason", "name", "team", "level",
    "shops", "queues", "pool", "alert", "by", "callout", "agents", "response",
)  # fmt: skip
_NUMERIC_OK: Final = frozenset({"ts", "value", "rating", "v"})
# Known to complaint events only (any other type ignores them, as it ignores unknown fields).
# `key` is `true` | `false`: strings in stream fields, JSON booleans in NDJSON and over HTTP.
COMPLAINT_FIELDS: Final = ("complaint", "key", "department", "resolution")
_KEY_TEXT: Final = {"true": True, "false": False}

# C0 controls, DEL and C1 controls (which include the 8-bit CSI), and lone surrogates: bytes
# that were not UTF-8, told apart from controls only on the (rare) way out.
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_SHOWN_LEN: Final = 40


class Rejection(msgspec.Struct, frozen=True, gc=False):
    """Why an entry was not applied. `ts` is its event time when that could be read."""

    reason: str
    field: str | None
    detail: str
    entry_id: str | None = None
    ts: int | None = None


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in text.split(",")) if part)


def _undecoded(text: object) -> bool:
    return isinstance(text, str) and not text.isascii() and _SURROGATE.search(text) is not None


def shown_name(name: str) -> str:
    """A field name as printable ASCII for a rejection: a byte that was not UTF-8 as `\\xNN`,
    as is any other byte outside printable ASCII; at most 40 characters."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no reader makes: escape it as text
        raw = name.encode("utf-8", "backslashreplace")
    return ascii(raw)[2:-1][:_SHOWN_LEN]


def undecoded_field(fields: Mapping[Any, object]) -> str | None:
    """The field (`shown_name`) whose key or value holds bytes that were not UTF-8, the first in
    the entry's order, or the one an archive line's `ENCODING_MARK` names; None when there is
    none. The whole entry is looked at, fields outside the contract too."""
    for name, raw in fields.items():
        if name == ENCODING_MARK:
            return raw if isinstance(raw, str) and raw.isascii() and raw.isprintable() \
                and len(raw) <= _SHOWN_LEN else shown_name(str(raw))  # fmt: skip
        if _undecoded(name):
            return shown_name(str(name))
        if _undecoded(raw):
            return shown_name(str(name))
    return None


def _bad_encoding(fields: Mapping[Any, object], entry_id: str | None,
                  ts: int | None) -> Rejection | None:  # fmt: skip
    """The `bad_encoding` rejection of an entry, if it is one: asked before any other reason is
    given (off the hot path), so that reason is the same whatever else is wrong with it."""
    field = undecoded_field(fields)
    if field is None:
        return None
    return Rejection("bad_encoding", field, f"{field}: not valid UTF-8", entry_id, ts)


def decode(fields: object, entry_id: str | None = None) -> Event | Rejection:
    """Validate one entry. `entry_id` is the stream ID, if the entry came from a stream."""
    result = _decode(fields, entry_id)
    if isinstance(result, Event) or result.reason in ("malformed", "bad_encoding"):
        return result
    # Rejected for another reason: bytes that were not UTF-8 are the reason instead, whatever
    # else is wrong (looked for only here, off the path of a valid event).
    assert isinstance(fields, Mapping)  # only `malformed` is given for anything else
    return _bad_encoding(fields, result.entry_id, result.ts) or result


def _decode(fields: object, entry_id: str | None) -> Event | Rejection:
    if not isinstance(fields, Mapping):
        return Rejection("malformed", None, "entry is not an object of fields", entry_id)

    values: dict[str, str] = {}
    for name in STRING_FIELDS:
        raw = fields.get(name)
        if raw is None:
            continue
        if isinstance(raw, str):
            text = raw
        elif name in _NUMERIC_OK and isinstance(raw, int | float) and not isinstance(raw, bool):
            text = repr(raw) if isinstance(raw, float) else str(raw)
        else:
            return Rejection("malformed", name, f"{name} is not a string", entry_id)
        values[name] = text
    kind_given = values.get("type")
    key_flag: bool | None = None
    if kind_given in COMPLAINT_TYPES:
        for name in COMPLAINT_FIELDS:
            raw = fields.get(name)
            if raw is None:
                continue
            if name == "key" and isinstance(raw, bool):
                key_flag = raw
                continue
            if not isinstance(raw, str):
                return Rejection("malformed", name, f"{name} is not a string", entry_id)
            values[name] = raw

    if entry_id is None:
        entry_id = values.get("_id")
    entry_ms: int | None = None
    if entry_id is not None:
        parsed_id = parse_stream_id(entry_id)
        if parsed_id is None:
            return Rejection("bad_value", "_id", "entry ID is not <ms>-<seq>", entry_id)
        entry_ms = parsed_id[0]

    # Time first: the caller selects entries by event time, even rejected ones.
    ts_text = values.get("ts")
    if ts_text is None:
        if entry_ms is None:
            return Rejection("missing_field", "ts", "no ts and no stream entry ID", entry_id)
        ts = entry_ms
    else:
        if len(ts_text) > MAX_FIELD_LEN:
            return Rejection("too_long", "ts", "ts is longer than 256 characters", entry_id)
        parsed_ts = parse_event_time(ts_text)
        if parsed_ts is None:
            return Rejection(
                "bad_timestamp", "ts", "ts is neither epoch milliseconds nor RFC 3339 "
                "with an offset", entry_id)  # fmt: skip
        ts = parsed_ts

    # Keys (or values) outside the contract: only then can an accepted entry hold undecodable
    # bytes (every contract value is scanned below).
    if len(fields) > len(values):
        rejection = _bad_encoding(fields, entry_id, ts)
        if rejection is not None:
            return rejection
    # Every contract value is scanned here (`_UNSAFE` includes lone surrogates).
    for name, text in values.items():
        if len(text) > MAX_FIELD_LEN:
            return Rejection("too_long", name, f"{name} is longer than 256 characters",
                             entry_id, ts)  # fmt: skip
        if _UNSAFE.search(text) is not None:
            return Rejection(
                "control_char", name, f"{name} contains a control character", entry_id, ts
            )

    kind = values.get("type")
    if kind is None:
        return Rejection("missing_field", "type", "type is missing", entry_id, ts)
    required = REQUIRED.get(kind)
    if required is None:
        return Rejection("unknown_type", "type", f"unknown type {kind[:40]!r}", entry_id, ts)
    for name in required:
        if not values.get(name):
            return Rejection("missing_field", name, f"{kind} needs {name}", entry_id, ts)

    version = values.get("v")
    if version is not None and version != SCHEMA_VERSION:
        return Rejection("bad_value", "v", f"unsupported schema version {version!r}", entry_id, ts)
    channel = values.get("channel")
    if channel is not None and channel not in CHANNELS:
        return Rejection("bad_value", "channel", f"unknown channel {channel!r}", entry_id, ts)
    state = values.get("state")
    if state is not None and state not in AGENT_STATE_SET:
        return Rejection("bad_value", "state", f"unknown agent state {state!r}", entry_id, ts)
    pool = values.get("pool")
    if pool is not None and pool not in POOLS:
        return Rejection("bad_value", "pool", f"unknown pool {pool!r}", entry_id, ts)
    response = values.get("response")
    if response is not None and response not in RESPONSES:
        return Rejection("bad_value", "response", f"unknown response {response!r}", entry_id, ts)
    if kind == ENDED and values["reason"] not in ENDED_REASONS:
        return Rejection("bad_value", "reason", "contact.ended reason is not restart or key",
                         entry_id, ts)  # fmt: skip
    if kind == REPLY:
        by = values.get("by")
        if by is not None and by not in REPLY_BY:
            return Rejection("bad_value", "by", f"unknown reply author {by[:40]!r}", entry_id, ts)
    if kind in COMPLAINT_TYPES:
        key_text = values.get("key")
        if key_text is not None:
            if key_text not in _KEY_TEXT:
                return Rejection("bad_value", "key", "key is neither true nor false", entry_id, ts)
            key_flag = _KEY_TEXT[key_text]
        outcome = values.get("outcome")
        if kind == COMPLAINT_CALLBACK and outcome is not None \
                and outcome not in CALLBACK_OUTCOMES:  # fmt: skip
            return Rejection("bad_value", "outcome", "unknown callback outcome "
                             f"{outcome[:40]!r}", entry_id, ts)  # fmt: skip
    agents_text = values.get("agents")
    agents = None if agents_text is None else _comma_list(agents_text)
    if kind == CALLOUT and not agents:
        return Rejection("missing_field", "agents", f"{kind} needs agents", entry_id, ts)

    value: float | None = None
    value_text = values.get("value")
    if value_text is not None:
        try:
            value = float(value_text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            return Rejection("bad_value", "value", "value is not a non-negative number",
                             entry_id, ts)  # fmt: skip
    rating: int | None = None
    rating_text = values.get("rating")
    if rating_text is not None:
        if rating_text not in ("1", "2", "3", "4", "5"):
            return Rejection("bad_value", "rating", "rating is not 1-5", entry_id, ts)
        rating = int(rating_text)

    shops_text = values.get("shops")
    queues_text = values.get("queues")
    get = values.get
    # Positional, in `event_record.FIELDS` order: a compiled class parses keywords slowly
    # (measured for this function: 8.0-10.3 us an event with keywords, 4.8-7.4 without).
    return Event(kind, ts, get("id") or None, get("contact"), get("queue") or None, channel,
                 get("shop"), get("agent"), get("via"), get("outcome"), value, rating,
                 get("to_queue"), state, get("reason"), get("name"), get("team"), get("level"),
                 None if shops_text is None else _comma_list(shops_text),
                 None if queues_text is None else _comma_list(queues_text), pool, get("alert"),
                 get("by"), get("callout"), agents, response, entry_id, get("complaint"),
                 get("department"), get("resolution"), key_flag)  # fmt: skip


def encode_fields(event: Event) -> dict[str, str]:
    """The flat string fields of an event, as a producer would XADD them (no entry ID)."""
    out: dict[str, str] = {"type": event.type, "ts": str(event.ts)}
    for name in ("contact", "queue", "channel", "shop", "agent", "via", "outcome", "to_queue",
                 "state", "reason", "name", "team", "level", "pool", "alert", "by", "callout",
                 "response"):  # fmt: skip
        text = getattr(event, name)
        if text is not None:
            out[name] = text
    if event.value is not None:
        out["value"] = repr(event.value)
    if event.rating is not None:
        out["rating"] = str(event.rating)
    if event.shops is not None:
        out["shops"] = ",".join(event.shops)
    if event.queues is not None:
        out["queues"] = ",".join(event.queues)
    if event.agents is not None:
        out["agents"] = ",".join(event.agents)
    if event.key is not None:
        out["id"] = event.key
    for name in ("complaint", "department", "resolution"):
        text = getattr(event, name)
        if text is not None:
            out[name] = text
    if event.key_complaint is not None:
        out["key"] = "true" if event.key_complaint else "false"
    return out


def encode_json(event: Event) -> dict[str, object]:
    """The event as an NDJSON line's object: `encode_fields`, with `key` a JSON boolean."""
    out: dict[str, object] = dict(encode_fields(event))
    if event.key_complaint is not None:
        out["key"] = event.key_complaint
    return out
