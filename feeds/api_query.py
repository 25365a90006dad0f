"""`GET /v1/snapshot`'s narrowing (`?queues=`, `?fields=`) and its entity tags.

The body is the snapshot contract of `wallboard snapshot --json` (wallboard.core.snapshot.to_json):
unnarrowed it is those very bytes; narrowed, the same JSON with fewer members, in the same
order. `fields` names top-level keys of the snapshot, so a key the contract gains (a new
section) is selectable the moment it exists.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import msgspec
from multidict import MultiMapping

from wallboard.core.snapshot import Snapshot

SNAPSHOT_FIELDS: Final = tuple(Snapshot.__struct_fields__)
_MAX_NAMES: Final = 1000  # names in one list parameter (a long query is a mistake or an attack)


class QueryError(ValueError):
    """A bad query parameter: `error` is the machine-readable code, `valid` what it takes."""

    def __init__(self, error: str, detail: str, valid: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.valid = valid


class Narrowing(msgspec.Struct, frozen=True):
    queues: frozenset[str] | None = None  # None: every queue
    fields: tuple[str, ...] | None = None  # None: every key

    @property
    def whole(self) -> bool:
        return self.queues is None and self.fields is None


def _names(query: MultiMapping[str], key: str) -> list[str] | None:
    if key not in query:
        return None
    names = [name.strip() for name in ",".join(query.getall(key)).split(",")]
    names = [name for name in names if name]
    if not names:
        raise QueryError("bad_parameter", f"`{key}` needs at least one name (a,b)")
    if len(names) > _MAX_NAMES:
        raise QueryError("bad_parameter", f"`{key}` takes at most {_MAX_NAMES} names")
    return names


def parse_narrowing(query: MultiMapping[str]) -> Narrowing:
    """`?queues=a,b&fields=queues,alerts`; repeating a parameter adds to it."""
    queues = _names(query, "queues")
    fields = _names(query, "fields")
    if fields is not None:
        unknown = [name for name in fields if name not in SNAPSHOT_FIELDS]
        if unknown:
            shown = ", ".join(repr(name[:40]) for name in unknown[:5])
            raise QueryError("unknown_field", f"unknown field(s) {shown}; valid: "
                             f"{', '.join(SNAPSHOT_FIELDS)}", SNAPSHOT_FIELDS)  # fmt: skip
    return Narrowing(None if queues is None else frozenset(queues),
                     None if fields is None else tuple(dict.fromkeys(fields)))


def narrow(document: dict[str, Any], narrowing: Narrowing) -> bytes:
    """The snapshot's JSON (decoded, `document`) cut down; keys stay in the contract's order."""
    wanted = set(narrowing.fields or SNAPSHOT_FIELDS)
    out = {key: value for key, value in document.items() if key in wanted}
    if narrowing.queues is not None and "queues" in out:
        out["queues"] = [q for q in out["queues"] if q.get("queue") in narrowing.queues]
    return msgspec.json.encode(out)


def entity_tag(body: bytes | memoryview) -> str:
    """A strong ETag: the same bytes, the same tag (so an unchanged snapshot answers 304)."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or any listed tag, compared weakly (as GET may)."""
    if not if_none_match:
        return False
    candidates = (part.strip() for part in if_none_match.split(","))
    return any(c == "*" or c.removeprefix("W/") == tag for c in candidates)
