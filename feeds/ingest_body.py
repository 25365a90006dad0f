"""A request body to a list of candidate events: one JSON object, a JSON array, or NDJSON,
chosen by Content-Type. Validation of each event is wallboard.core.events.decode's job."""

from __future__ import annotations

from typing import Final, NamedTuple

import msgspec

JSON_TYPES: Final = frozenset({"application/json"})
NDJSON_TYPES: Final = frozenset({
    "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
})  # fmt: skip

_decoder = msgspec.json.Decoder()


class BodyError(NamedTuple):
    """A body that is not a list of JSON values; `at` is the bad NDJSON line's event index."""

    detail: str
    at: int | None = None


class UnsupportedType(NamedTuple):
    content_type: str


def split_body(content_type: str, raw: bytes) -> list[object] | BodyError | UnsupportedType:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
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
            try:
                items.append(_decoder.decode(line))
            except msgspec.DecodeError as exc:
                return BodyError(f"line is not JSON: {exc}", len(items))
    else:
        return UnsupportedType(kind or "(none)")
    if not items:
        return BodyError("no events in the body")
    return items
