"""A fast, deterministic event mix for benchmarks: contacts through their whole lifecycle
(offer, answer or abandon, chat messages, completion, some transfers) and agent state changes,
in event-time order, as a real stream is. Not a traffic model (that is the simulator)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator

QUEUES = [f"q{i:02d}" for i in range(20)]


def synthetic_events(count: int, agents: int = 2000, start_ms: int = 1_794_355_200_000,
                     seed: int = 7) -> Iterator[dict[str, str]]:  # fmt: skip
    rng = random.Random(seed)
    ts = start_ms
    produced = 0
    contact = 0
    seq = 0
    pending: list[tuple[int, int, dict[str, str]]] = []
    for index in range(agents):
        yield {"type": "agent.state", "ts": str(ts), "agent": f"a{index}", "state": "available",
               "shops": "s1,s2", "pool": "core"}  # fmt: skip
        produced += 1
    while produced < count:
        contact += 1
        cid = f"c{contact}"
        queue = rng.choice(QUEUES)
        agent = f"a{rng.randrange(agents)}"
        ts += rng.randrange(1, 8)
        batch = [{"type": "contact.offered", "ts": str(ts), "contact": cid, "queue": queue,
                  "channel": "chat", "shop": "s1"}]  # fmt: skip
        wait = rng.randrange(0, 60_000)
        if rng.random() < 0.1:
            batch.append({"type": "contact.abandoned", "ts": str(ts + wait), "contact": cid})
        else:
            batch.append({"type": "contact.answered", "ts": str(ts + wait), "contact": cid,
                          "agent": agent})  # fmt: skip
            for i in range(rng.randrange(0, 4)):
                batch.append({"type": "contact.message", "ts": str(ts + wait + i * 1000),
                              "contact": cid})  # fmt: skip
            if rng.random() < 0.05:
                batch.append({"type": "contact.transferred", "ts": str(ts + wait + 5000),
                              "contact": cid, "to_queue": rng.choice(QUEUES)})  # fmt: skip
            batch.append({"type": "contact.completed", "ts": str(ts + wait + 200_000),
                          "contact": cid, "outcome": "order", "rating": "5"})  # fmt: skip
        if rng.random() < 0.02:
            batch.append({"type": "agent.state", "ts": str(ts), "agent": agent,
                          "state": rng.choice(["busy", "available", "break"])})  # fmt: skip
        # a real stream is in time order: contacts' lifecycles interleave
        for fields in batch:
            seq += 1
            heapq.heappush(pending, (int(fields["ts"]), seq, fields))
        while pending and pending[0][0] <= ts:
            yield heapq.heappop(pending)[2]
            produced += 1
            if produced >= count:
                return
