"""The snapshot stream's entries (`wallboard aggregate` writes them, `SnapshotFeed` reads them).

One stream entry per published snapshot, flat fields as every stream entry here:

- `v` = "1" (this layout), `agg` (the aggregator's id), `seq` (its publish counter),
- `status`: the aggregator's own FeedStatus as JSON (its upstream health),
- `snap`: the Snapshot as msgpack, zlib-compressed (about 30 KB for 2,000 agents, against
  1 MB of JSON: the stream and every viewer's link carry 30x less),
- `wait` (optional): the contacts waiting per queue, longest first, at most WAITING_LIMIT a
  queue, for the drill-down (the snapshot carries only counts): msgpack + zlib of
  `{queue: [[contact, channel, shop, since_ms], ...]}`.
"""

from __future__ import annotations

import zlib
from typing import Final

import msgspec

from wallboard.core.feedstatus import FeedStatus
from wallboard.core.snapshot import Snapshot

WIRE_VERSION: Final = "1"
ZLIB_LEVEL: Final = 3  # level 3: within 20% of level 6's size at half its cost
WAITING_LIMIT: Final = 200  # rows a drill-down can show; the queue's count is in the snapshot

WaitingRow = tuple[str, str, str | None, int]  # contact, channel, shop, waiting since (ms)
Waiting = dict[str, list[WaitingRow]]

_snap_decoder = msgspec.msgpack.Decoder(Snapshot)
_status_decoder = msgspec.json.Decoder(FeedStatus)
_waiting_decoder = msgspec.msgpack.Decoder(Waiting)


class WireError(ValueError):
    """An entry of the snapshot stream that is not a snapshot this board can read."""


class Published(msgspec.Struct, frozen=True):
    aggregator: str
    seq: int
    status: FeedStatus
    snapshot: Snapshot
    waiting: Waiting = msgspec.field(default_factory=dict)


def encode_snapshot(snapshot: Snapshot) -> bytes:
    return zlib.compress(msgspec.msgpack.encode(snapshot), ZLIB_LEVEL)


def encode_waiting(waiting: Waiting) -> bytes:
    return zlib.compress(msgspec.msgpack.encode(waiting), ZLIB_LEVEL)


def encode_entry(aggregator: str, seq: int, status: FeedStatus, snapshot: bytes,
                 waiting: bytes | None = None) -> dict[str, bytes]:  # fmt: skip
    """The stream entry's fields; `snapshot` and `waiting` as `encode_*` gave them."""
    fields = {
        "v": WIRE_VERSION.encode(),
        "agg": aggregator.encode(),
        "seq": str(seq).encode(),
        "status": msgspec.json.encode(status),
        "snap": snapshot,
    }
    if waiting is not None:
        fields["wait"] = waiting
    return fields


def entry_aggregator(fields: dict[bytes, bytes]) -> str | None:
    """Who published an entry, without decoding its snapshot (viewers skip the others)."""
    agg = fields.get(b"agg")
    return None if agg is None else agg.decode("utf-8", "replace")


def decode_entry(fields: dict[bytes, bytes]) -> Published:
    version = fields.get(b"v", b"").decode("ascii", "replace")
    if version != WIRE_VERSION:
        raise WireError(f"snapshot entry version {version!r}, this board reads {WIRE_VERSION!r}")
    try:
        return Published(
            aggregator=fields[b"agg"].decode("utf-8", "replace"),
            seq=int(fields[b"seq"]),
            status=_status_decoder.decode(fields[b"status"]),
            snapshot=_snap_decoder.decode(zlib.decompress(fields[b"snap"])),
            waiting=(_waiting_decoder.decode(zlib.decompress(fields[b"wait"]))
                     if b"wait" in fields else {}),
        )  # fmt: skip
    except (KeyError, ValueError, zlib.error, msgspec.DecodeError) as exc:
        raise WireError(f"unreadable snapshot entry: {type(exc).__name__}: {exc}") from None
