"""A request body to a list of candidate events: one JSON object, a JSON array, or NDJSON,
chosen by Content-Type. Validation of each event is wallboard.core.events.decode's job.

A body in which an event nests arrays and objects deeper than a file's line may
(`MAX_NESTING`) is refused before it is parsed, naming the event: the parser's recursion then
stays far from the interpreter's limit."""

from __future__ import annotations

from typing import Final, NamedTuple

import msgspec

from wallboard.core.linedecode import MAX_NESTING, too_deep_at

JSON_TYPES: Final = frozenset({"application/json"})
NDJSON_TYPES: Final = frozenset({
    "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
})  # fmt: skip

_decoder = msgspec.json.Decoder()
_TOO_DEEP: Final = f"event nests arrays and objects deeper than {MAX_NESTING} levels"
_JSON_SPACE: Final = b" \t\r\n"


class BodyError(NamedTuple):
    """A body that is not a list of JSON values; `at` is the event at fault, when known: its
    NDJSON line (among the non-blank ones) or its place in the JSON array."""

    detail: str
    at: int | None = None


class UnsupportedType(NamedTuple):
    content_type: str


def split_body(content_type: str, raw: bytes) -> list[object] | BodyError | UnsupportedType:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
        in_array = raw.lstrip(_JSON_SPACE).startswith(b"[")
        deep = too_deep_at(raw, MAX_NESTING + (1 if in_array else 0))  # the array: a level
        if deep >= 0:
            return BodyError(_TOO_DEEP, deep if in_array else 0)
        try:
            value: object = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            return BodyError(f"body is not JSON: {exc}")
        items = value if isinstance(value, list) else [value]
    elif kind in NDJSON_TYPES:
        items = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            if too_deep_at(line, MAX_NESTING) >= 0:
                return BodyError(_TOO_DEEP, len(items))
            try:
                items.append(_decoder.decode(line))
            except msgspec.DecodeError as exc:
                return BodyError(f"line is not JSON: {exc}", len(items))
    else:
        return UnsupportedType(kind or "(none)")
    if not items:
        return BodyError("no events in the body")
    return items
