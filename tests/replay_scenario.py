"""A small replay scenario: the Double-11 midnight spike on a floor of six, across the 04:00
business-day boundary, with control events, bad lines, late (out-of-order) lines and a
repeated `_id`: every path of the replay's admission and merge."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from feeds.files import read_ndjson
from feeds.simulator import Simulator, load_profile
from wallboard.core.config import load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.snapshot import Snapshot, build_snapshot
from wallboard.core.timeutil import parse_user_time

TZ = ZoneInfo("Asia/Shanghai")
CONFIG = load_config(None)


def at(text: str) -> int:
    return parse_user_time(text, TZ, 0)


SIM_FROM = at("2026-11-10 23:30")
START = at("2026-11-11 00:00")
END = at("2026-11-11 04:20")
SIM_TO = at("2026-11-11 04:30")  # events after the window's end: read, never folded
CALLOUT_AT = at("2026-11-11 00:10")


def records() -> list[dict[str, str]]:
    """Simulated events, plus a callout (and the simulator's responses) on the control side."""
    sim = Simulator(load_profile("double11"), start_ms=SIM_FROM, seed=5, tz=TZ, agents=6,
                    queues=2)  # fmt: skip
    out = sim.run_until(CALLOUT_AT)
    queue = out[-1].get("queue") or "presale-chat"
    callout = {"type": "reserve.callout", "ts": str(CALLOUT_AT), "callout": "co-1",
               "queue": queue, "agents": "a005,a006", "by": "lead"}  # fmt: skip
    sim.callout("co-1", queue, ["a005", "a006"], CALLOUT_AT)
    out.append(callout)
    out += sim.run_until(SIM_TO)
    out += sim.take_control()
    out.sort(key=lambda r: int(r["ts"]))
    return [dict(r) for r in out]


def lines() -> list[bytes]:
    """NDJSON lines as a file would hold them, with every kind of trouble."""
    recs = records()
    encode = msgspec.json.encode
    body = [encode(r) for r in recs]
    late = [body.pop(len(body) // 2) for _ in range(5)]  # five lines written late
    mid = int(recs[len(recs) // 3]["ts"])
    bad = [
        b"not json at all",
        encode({"type": "contact.offered", "ts": str(mid)}),  # missing contact: has a time
        encode({"type": "bogus"}),  # no time: counted at every T
        encode({"type": "agent.state", "ts": str(mid + 5), "agent": "x\u0007",
                "state": "available"}),
        encode({"type": "contact.offered", "ts": str(mid + 7), "contact": "dup-1",
                "queue": "q-x", "_id": f"{mid + 7}-0"}),
        encode({"type": "contact.offered", "ts": str(mid + 9), "contact": "dup-2",
                "queue": "q-x", "_id": f"{mid + 7}-0"}),  # the same _id again: a duplicate
        encode({"type": "alert.ack", "ts": str(mid + 11), "alert": "no-such-alert",
                "by": "lead"}),
    ]
    third = len(body) // 3
    return body[:third] + bad + body[third:] + late


def write(path: Path, all_lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(all_lines) + b"\n")
    return path


def reference(path: Path, t: int) -> Snapshot:
    """What `wallboard snapshot --file PATH --at t` computes."""
    state = BoardState(CONFIG)
    fold_until(state, read_ndjson(path), t)
    return build_snapshot(state)
