"""The simulated floor's roster: who the agents are, which queues and shops they serve, which
shift they work and which pool they belong to. Drawn once from the seeded generator."""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate
from typing import Final

from feeds.simulator.profile import Profile

SURNAMES: Final = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
                   "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo")  # fmt: skip
GIVEN: Final = ("Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yan",
                "Jie", "Tao", "Ming", "Chao", "Xiu", "Xia", "Ping", "Gang", "Hui", "Lan",
                "Yun", "Bo", "Hong")  # fmt: skip
TEAMS: Final = ("Peony", "Lotus", "Bamboo", "Jade", "Orchid", "Phoenix", "Crane", "Pine",
                "Plum", "Willow", "Magnolia", "Osprey", "Lantern", "Silk", "Harbour", "Summit")

DAY: Final = "day"
EVENING: Final = "evening"


class AgentSpec:
    """Static facts about one agent; the model keeps the moving parts."""

    __slots__ = ("agent", "level", "name", "pool", "queues", "shift", "shops", "team")

    def __init__(self, agent: str, name: str, team: str, level: str, pool: str,
                 shift: str | None, shops: tuple[str, ...], queues: tuple[int, ...]) -> None:
        self.agent = agent
        self.name = name
        self.team = team
        self.level = level
        self.pool = pool
        self.shift = shift  # None for the reserve
        self.shops = shops
        self.queues = queues  # indexes into the simulation's queue list, primary first


def weighted(rng: random.Random, cumulative: list[float]) -> int:
    """Index drawn with the weights whose running sums are `cumulative`."""
    return bisect(cumulative, rng.random() * cumulative[-1])


def build_roster(profile: Profile, agents: int, queue_indexes: list[int],
                 rng: random.Random) -> list[AgentSpec]:  # fmt: skip
    """`agents` agents serving the profile queues listed in `queue_indexes` (by position)."""
    floor = profile.floor
    queues = [profile.queues[i] for i in queue_indexes]
    shares = [max(q.staff_share, 0.0) for q in queues]
    if sum(shares) <= 0:
        shares = [1.0] * len(queues)
    level_names = list(floor.levels)
    level_cum = list(accumulate(lv.share for lv in floor.levels.values()))
    shop_cum = list(accumulate(floor.shop_count_weights))
    reserve = round(agents * floor.reserve_share)
    core = agents - reserve
    day = round(core * floor.day_shift_share)
    # Each group (day shift, evening shift, reserve) gets the queues in proportion to their
    # staff shares, so that no shift is left without anyone for a queue by chance.
    primaries: list[int] = []
    for size in (day, core - day, reserve):
        group = apportion(shares, size)
        rng.shuffle(group)
        primaries.extend(group)
    width = max(3, len(str(agents)))
    roster: list[AgentSpec] = []
    for n in range(agents):
        primary = primaries[n]
        served = [primary]
        same_channel = [i for i, q in enumerate(queues)
                        if i != primary and q.channel == queues[primary].channel]  # fmt: skip
        if same_channel and rng.random() < floor.second_queue_share:
            served.append(rng.choice(same_channel))
        shop_count = min(weighted(rng, shop_cum) + 1, len(floor.shops))
        shops = tuple(rng.sample(floor.shops, shop_count))
        pool = "core" if n < core else "reserve"
        shift = (DAY if n < day else EVENING) if pool == "core" else None
        team_no = n // floor.team_size
        team = TEAMS[team_no] if team_no < len(TEAMS) else f"Team {team_no + 1}"
        roster.append(AgentSpec(
            agent=f"a{n + 1:0{width}d}",
            name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
            team=team,
            level=level_names[weighted(rng, level_cum)],
            pool=pool,
            shift=shift,
            shops=shops,
            queues=tuple(served),
        ))  # fmt: skip
    return roster


def apportion(shares: list[float], size: int) -> list[int]:
    """`size` queue indexes split by `shares` (largest remainder); every queue with a share
    gets at least one agent when there are enough."""
    total = sum(shares)
    exact = [share / total * size for share in shares]
    counts = [int(x) for x in exact]
    if size >= sum(1 for s in shares if s > 0):
        counts = [max(c, 1) if s > 0 else c for c, s in zip(counts, shares, strict=True)]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - exact[i])
    while sum(counts) < size:
        counts[by_remainder[0]] += 1
        by_remainder.append(by_remainder.pop(0))
    while sum(counts) > size:  # the minimum of one pushed us over: take from the largest
        counts[max(range(len(counts)), key=lambda i: counts[i])] -= 1
    return [i for i, c in enumerate(counts) for _ in range(c)]
