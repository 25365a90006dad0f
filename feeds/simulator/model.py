"""The traffic model: a discrete-event simulation of a contact-centre floor.

One heap of timed actions (arrivals, bot escalations, completions, abandons, shifts, breaks,
callout responses) is processed in time order; every action appends the contract events it
causes. Events that are certain once drawn and change no state (an answer a few seconds after
routing, the agent's `busy`, chat messages, bot resolutions) skip the heap: they go to time
buckets and are merged into the output by a stable sort on `ts`, so the output is sorted by
event time. Everything random comes from `random.Random(seed)`, so the same seed and
arguments give the same events; the shop's replies draw from a second generator seeded from
the same seed, so adding them left every other event of a seed as it was.

Arrivals per queue are a non-homogeneous Poisson process with a piecewise-constant rate per
local hour (the profile's 24 factors): within an hour the gaps are exponential, and at every
hour boundary each queue draws afresh with the new rate (exact, since the process is
memoryless).
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import cache
from itertools import accumulate, count
from operator import itemgetter
from statistics import NormalDist
from typing import Final
from zoneinfo import ZoneInfo

from feeds.simulator.floor import DAY, AgentSpec, build_roster, weighted
from feeds.simulator.profile import Profile
from wallboard.core.config import parse_shift
from wallboard.core.timeutil import local_ms

Record = dict[str, str]

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 86_400_000

# Heap action kinds (indexes into the handler table).
_HOUR, _ARRIVE, _BOT, _ABANDON, _TALK_END, _COMPLETE = range(6)
_SHIFT, _LOGOUT, _BREAK_DUE, _BREAK_END, _RESPONSE = range(6, 11)

# Records drawn ahead (answers, chat messages, bot resolutions) wait in buckets of 2**10 ms and
# are merged by a stable sort on `ts`. (Epoch-ms strings of 13 digits sort like the numbers,
# hence the start-time floor.)
_BUCKET_BITS: Final = 10
MIN_START_MS: Final = 1_000_000_000_000  # 2001-09-09

# Normal deviates come from a table of quantiles at the midpoints of 8,192 equal slices (tails
# cut at +-3.7 sd): one random() and an index instead of random.gauss's arithmetic.
_NORMAL_POINTS: Final = 8192


@cache
def _normal_table() -> tuple[float, ...]:
    inv_cdf = NormalDist().inv_cdf
    return tuple(inv_cdf((i + 0.5) / _NORMAL_POINTS) for i in range(_NORMAL_POINTS))

# Contact status.
_NEW, _WAITING, _HANDLING, _GONE = range(4)

AVAILABLE: Final = "available"
BUSY: Final = "busy"
WRAP_UP: Final = "wrap_up"
BREAK: Final = "break"
LOGGED_OUT: Final = "logged_out"


class _Queue:
    __slots__ = ("answer_mu", "bot", "channel", "clock", "conversion", "free", "gen",
                 "handle_mu", "handle_sigma", "index", "message_rate", "name", "patience_rate",
                 "peak", "rate", "reply", "transfer_share", "transfer_to", "value_mu",
                 "value_sigma", "waiting", "wrap_mu")  # fmt: skip

    def __init__(self, index: int, name: str, channel: str) -> None:
        self.index = index
        self.name = name
        self.channel = channel
        self.peak = 0.0  # arrivals per hour at factor 1, after scaling
        self.rate = 0.0  # arrivals per ms this hour
        self.gen = 0  # bumped every hour: pending arrivals of the old rate are dropped
        self.clock = 0.0  # float time of the last arrival draw
        self.bot = False
        self.transfer_share = 0.0
        self.transfer_to = -1
        self.conversion = 0.0
        self.value_mu = 0.0
        self.value_sigma = 0.0
        self.answer_mu = 0.0
        self.handle_mu = 0.0
        self.handle_sigma = 0.0
        self.wrap_mu: float | None = None
        self.patience_rate = 0.0  # per ms; 0 = never abandons
        self.message_rate = 0.0  # per ms; 0 = no messages
        # replies: (mu, sigma, pressure waiting, slowdown, miss share, assist share), or None
        self.reply: tuple[float, float, float, float, float, float] | None = None
        self.waiting: deque[_Contact] = deque()  # FIFO, abandoned entries skipped lazily
        self.free: dict[_Agent, None] = {}  # agents with spare capacity, longest-free first


class _Agent:
    __slots__ = ("bonus", "cap", "factor", "free", "id", "leaving", "load", "on", "pending",
                 "queues", "session", "spec", "state", "want_break")  # fmt: skip

    def __init__(self, spec: AgentSpec, factor: float, bonus: float) -> None:
        self.spec = spec
        self.id = spec.agent
        self.queues = spec.queues
        self.cap = 1
        self.load = 0
        self.state = LOGGED_OUT
        self.on = False
        self.free = False
        self.leaving = False
        self.want_break = False
        self.pending = False  # a callout response is on its way
        self.session = 0
        self.factor = factor  # handle-time factor of the agent's level
        self.bonus = bonus  # conversion bonus of the agent's level


class _Contact:
    __slots__ = ("agent", "channel", "end", "gen", "id", "queue", "shop", "since", "status",
                 "transfer")  # fmt: skip

    def __init__(self, contact_id: str, queue: int, channel: str, shop: str, since: int) -> None:
        self.id = contact_id
        self.queue = queue
        self.channel = channel
        self.shop = shop
        self.since = since  # when it entered its current queue
        self.status = _NEW
        self.gen = 0
        self.agent: _Agent | None = None
        self.end = 0
        self.transfer = -1


def _mu(median_s: float) -> float:
    """Log-normal location for a median given in seconds, in milliseconds."""
    return math.log(max(median_s, 0.001) * 1000.0)


class Simulator:
    """A simulated floor from `start_ms` on. Call `run_until(t)` for the events up to `t`."""

    def __init__(self, profile: Profile, *, start_ms: int, seed: int, tz: ZoneInfo,
                 agents: int | None = None, queues: int | None = None) -> None:  # fmt: skip
        if not MIN_START_MS <= start_ms < 10 * MIN_START_MS:
            raise ValueError("the simulated start must be between 2001-09-09 and 2286-11-20")
        self.profile = profile
        self.tz = tz
        self.start_ms = start_ms
        self.now = start_ms
        self.rng = rng = random.Random(seed)
        self.reply_rng = random.Random(f"replies-{seed}")
        # Complaints draw from their own generator: the contact events stay as they were.
        self.case_rng = random.Random(f"cases-{seed}")
        self._cases: list[tuple[int, int, Record]] = []  # (time, order, record), a heap
        self._complaints = 0
        n_agents = profile.floor.agents if agents is None else agents
        n_queues = len(profile.queues) if queues is None else queues
        if n_agents < 0:
            raise ValueError("the number of agents must not be negative")
        if not 1 <= n_queues <= len(profile.queues):
            raise ValueError(f"profile {profile.name!r} defines {len(profile.queues)} queues; "
                             f"ask for 1 to {len(profile.queues)}")  # fmt: skip
        chosen = profile.queues[:n_queues]
        # Fewer queues keep the load per agent: their rates grow by the staff they gained.
        all_staff = sum(q.staff_share for q in profile.queues)
        chosen_staff = sum(q.staff_share for q in chosen)
        share_scale = all_staff / chosen_staff if chosen_staff > 0 else 1.0
        self.rate_scale = n_agents / profile.floor.agents * share_scale
        names = [q.name for q in chosen]
        self.queues: list[_Queue] = []
        for i, params in enumerate(chosen):
            q = _Queue(i, params.name, params.channel)
            ch = profile.channel(params.channel)
            q.peak = params.peak_per_hour * self.rate_scale
            q.bot = params.bot
            q.transfer_share = params.transfer_share
            q.transfer_to = names.index(params.transfer_to) if params.transfer_to in names else -1
            q.conversion = params.conversion
            q.value_mu = math.log(params.order_value_median)
            q.value_sigma = params.order_value_sigma
            q.answer_mu = _mu(ch.answer_delay_s) if ch.answer_delay_s > 0 else -math.inf
            q.handle_mu = _mu(ch.handle_median_s)
            q.handle_sigma = ch.handle_sigma
            q.wrap_mu = _mu(ch.wrap_up_median_s) if ch.wrap_up_median_s > 0 else None
            q.patience_rate = 1.0 / (ch.patience_mean_s * 1000) if ch.patience_mean_s else 0.0
            q.message_rate = 1.0 / (ch.message_every_s * 1000) if ch.message_every_s else 0.0
            if ch.reply_median_s > 0:
                q.reply = (_mu(ch.reply_median_s), ch.reply_sigma,
                           max(ch.reply_pressure_waiting, 1.0), ch.reply_slowdown,
                           ch.reply_miss_share, ch.assist_share)  # fmt: skip
            self.queues.append(q)
        self._concurrency = [profile.channel(q.channel).concurrency for q in self.queues]

        levels = profile.floor.levels
        roster = build_roster(profile, n_agents, list(range(n_queues)), rng)
        self.agents = [_Agent(spec, levels[spec.level].handle_factor,
                              levels[spec.level].conversion_bonus) for spec in roster]
        self._by_id = {a.id: a for a in self.agents}

        shops = profile.floor.shops
        self._shops = shops
        self._shop_cum = list(accumulate(1.0 / (i + 1) for i in range(len(shops))))
        self._rating_cum = list(accumulate(profile.outcomes.rating_weights))
        self._ratings = ("1", "2", "3", "4", "5")
        self._normal = _normal_table()
        self._bot_mu = _mu(profile.bot.median_s)
        self._bot_sigma = profile.bot.sigma
        self._bot_share = profile.bot.resolve_share
        self._rating_share = profile.outcomes.rating_share
        self._hour_end = start_ms
        self._prefix = f"c{_base36(start_ms // 1000 % 36**6)}{_base36(seed % 36**3)}-"
        self._contacts = 0
        self._heap: list[tuple[int, int, int, object, object]] = []
        self._seq = count()
        self._out: list[Record] = []
        self._later: dict[int, list[Record]] = {}  # message bucket -> records
        self._next_bucket = start_ms >> _BUCKET_BITS  # the oldest bucket not yet drained
        self._control: list[Record] = []
        self._local_start = datetime.fromtimestamp(start_ms / 1000, tz)
        self._spans: dict[tuple[str, int], tuple[int, int]] = {}
        self._handlers: list[Callable[[int, object, object], None]] = [
            self._on_hour, self._on_arrive, self._on_bot, self._on_abandon,  # type: ignore[list-item]
            self._on_talk_end, self._on_complete,  # type: ignore[list-item]
            self._on_shift, self._on_logout, self._on_break_due, self._on_break_end,  # type: ignore[list-item]
            self._on_response,  # type: ignore[list-item]
        ]  # fmt: skip
        self._start_floor()
        self._on_hour(start_ms, None, None)

    # ---- public -------------------------------------------------------------------------

    def run_until(self, until_ms: int) -> list[Record]:
        """Process every action up to and including `until_ms`; the events, in time order."""
        heap = self._heap
        pop = heapq.heappop
        handlers = self._handlers
        while heap and heap[0][0] <= until_ms:
            t, _, kind, a, b = pop(heap)
            self.now = t
            handlers[kind](t, a, b)
        self.now = max(self.now, until_ms)
        out = self._out
        self._out = []
        # Merge the chat messages that are due: the output is one sorted run, each bucket a
        # short unsorted one, so the sort is close to linear.
        later = self._later
        last = until_ms >> _BUCKET_BITS
        due: list[Record] = []
        for bucket in range(self._next_bucket, last):
            records = later.pop(bucket, None)
            if records is not None:
                due.extend(records)
        records = later.pop(last, None)
        if records is not None:
            keep = [r for r in records if int(r["ts"]) > until_ms]
            if keep:
                later[last] = keep
                due.extend(r for r in records if int(r["ts"]) <= until_ms)
            else:
                due.extend(records)
        self._next_bucket = last
        if due:
            out.extend(due)
            out.sort(key=_by_ts)
        return out

    def take_cases(self, until_ms: int) -> list[Record]:
        """Complaint events (the complaints stream) stamped up to `until_ms`, in time order,
        then forgotten; callbacks and closes planned later stay for a later call."""
        out: list[Record] = []
        cases = self._cases
        while cases and cases[0][0] <= until_ms:
            out.append(heapq.heappop(cases)[2])
        return out

    def _complaint(self, t: int, contact: _Contact, queue: str, agent: str) -> None:
        """Perhaps a complaint from a completed contact; a key one gets callbacks (a first
        attempt that does not reach the customer now and then, some late, a few never)."""
        params = self.profile.complaints
        rng = self.case_rng
        if rng.random() >= params.share:
            return
        self._complaints += 1
        cid = f"{self._prefix}k{_base36(self._complaints)}"
        key = rng.random() < params.key_share
        opened_at = t + int(rng.uniform(1, 600) * 1000)
        seq = self._seq

        def plan(at: int, record: Record) -> None:
            heapq.heappush(self._cases, (at, next(seq), record))

        plan(opened_at, {"type": "complaint.opened", "ts": str(opened_at), "complaint": cid,
                         "contact": contact.id, "key": "true" if key else "false",
                         "department": rng.choice(params.departments), "shop": contact.shop,
                         "queue": queue, "agent": agent})  # fmt: skip
        hour = 3_600_000
        if not key:
            closed = opened_at + int(rng.expovariate(1 / (params.close_after_h * 6)) * hour)
            plan(closed, {"type": "complaint.closed", "ts": str(closed), "complaint": cid,
                          "resolution": "resolved"})  # fmt: skip
            return
        if rng.random() < params.missed_share:
            return  # never called back: overdue at its deadline
        caller = agent if rng.random() < 0.7 else rng.choice(self.agents).id
        reached = opened_at + int(math.exp(math.log(params.callback_median_h)
                                           + params.callback_sigma * self._case_gauss()) * hour)
        if rng.random() < params.no_answer_share:
            tried = opened_at + (reached - opened_at) // 2
            plan(tried, {"type": "complaint.callback", "ts": str(tried), "complaint": cid,
                         "agent": caller, "outcome": "no_answer"})  # fmt: skip
        plan(reached, {"type": "complaint.callback", "ts": str(reached), "complaint": cid,
                       "agent": caller, "outcome": "reached"})  # fmt: skip
        closed = reached + int(rng.expovariate(1 / params.close_after_h) * hour)
        plan(closed, {"type": "complaint.closed", "ts": str(closed), "complaint": cid,
                      "resolution": "resolved"})  # fmt: skip

    def _case_gauss(self) -> float:
        return self._normal[int(self.case_rng.random() * _NORMAL_POINTS)]

    def take_control(self) -> list[Record]:
        """Control-stream events produced so far (`reserve.response`), then forgotten."""
        out = self._control
        self._control = []
        return out

    def callout(self, callout_id: str, queue: str | None, agents: list[str],
                at_ms: int) -> list[str]:  # fmt: skip
        """A `reserve.callout` seen at `at_ms`: each named reserve agent of this floor who is
        logged out answers after a delay (accepted ones log in and serve `queue` first).
        Returns the agents who will answer; names not on this floor are ignored."""
        res = self.profile.reserve
        rng = self.rng
        at_ms = max(at_ms, self.now)
        queue_index = next((q.index for q in self.queues if q.name == queue), -1)
        lo, hi = res.delay_min_s * 1000, res.delay_max_s * 1000
        mu = _mu(res.delay_median_s)
        answering: list[str] = []
        for name in agents:
            agent = self._by_id.get(name)
            if agent is None or agent.spec.pool != "reserve" or agent.on or agent.pending:
                continue
            agent.pending = True
            accept = rng.random() < res.accept_share
            delay = min(hi, max(lo, math.exp(mu + res.delay_sigma * self._gauss())))
            self._push(at_ms + int(delay), _RESPONSE, agent, (callout_id, queue_index, accept))
            answering.append(name)
        return answering

    # ---- plumbing -----------------------------------------------------------------------

    def _push(self, t: int, kind: int, a: object = None, b: object = None) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), kind, a, b))

    def _gauss(self) -> float:
        """A standard normal deviate from the quantile table (cheaper than rng.gauss)."""
        return self._normal[int(self.rng.random() * _NORMAL_POINTS)]

    def _lognormal(self, mu: float, sigma: float) -> int:
        return int(math.exp(mu + sigma * self._gauss()))

    def _shift_span(self, shift: str, day: int) -> tuple[int, int]:
        """Start and end (epoch ms) of `shift` on the local day `day` days after the start's."""
        cached = self._spans.get((shift, day))
        if cached is not None:
            return cached
        text = self.profile.shifts.day if shift == DAY else self.profile.shifts.evening
        (h1, m1), (h2, m2) = parse_shift(text)
        start = local_ms(self._local_start, h1, m1, self.tz, day)
        end = local_ms(self._local_start, h2, m2, self.tz, day + (1 if (h2, m2) < (h1, m1) else 0))
        self._spans[(shift, day)] = (start, end)
        return start, end

    def _jitter(self) -> int:
        j = self.profile.shifts.login_jitter_minutes * 60_000
        return int(self.rng.uniform(-j, j))

    # ---- floor --------------------------------------------------------------------------

    def _start_floor(self) -> None:
        start = self.start_ms
        for agent in self.agents:
            shift = agent.spec.shift
            login_now = False
            if shift is not None:
                for day in (-1, 0, 1):
                    first, last = self._shift_span(shift, day)
                    if last <= start:
                        continue
                    if first <= start:
                        login_now = True
                        self._login(start, agent)
                        self._push(max(start, last + self._jitter()), _LOGOUT, agent,
                                   agent.session)  # fmt: skip
                        self._push(self._shift_span(shift, day + 1)[0] + self._jitter(),
                                   _SHIFT, agent, day + 1)  # fmt: skip
                    else:
                        self._push(max(start, first + self._jitter()), _SHIFT, agent, day)
                    break
            if not login_now:
                self._state(start, agent, LOGGED_OUT, full=True)

    def _state(self, t: int, agent: _Agent, state: str, *, full: bool = False,
               reason: str | None = None) -> None:  # fmt: skip
        agent.state = state
        record = {"type": "agent.state", "ts": str(t), "agent": agent.id, "state": state}
        if reason is not None:
            record["reason"] = reason
        if full:
            spec = agent.spec
            record["name"] = spec.name
            record["team"] = spec.team
            record["level"] = spec.level
            record["pool"] = spec.pool
            record["shops"] = ",".join(spec.shops)
            record["queues"] = ",".join(self.queues[i].name for i in agent.queues)
        self._out.append(record)

    def _login(self, t: int, agent: _Agent) -> None:
        agent.on = True
        agent.leaving = False
        agent.want_break = False
        agent.session += 1
        agent.cap = min(self._concurrency[i] for i in agent.queues)
        self._state(t, agent, AVAILABLE, full=True)
        every = self.profile.shifts.break_every_minutes * 60_000
        self._push(t + int(every * self.rng.uniform(0.8, 1.2)), _BREAK_DUE, agent, agent.session)
        self._fill(t, agent)

    def _logout(self, t: int, agent: _Agent, reason: str) -> None:
        self._unfree(agent)
        agent.on = False
        agent.leaving = False
        self._state(t, agent, LOGGED_OUT, full=agent.queues != agent.spec.queues, reason=reason)
        agent.queues = agent.spec.queues

    def _free(self, agent: _Agent) -> None:
        if not agent.free:
            agent.free = True
            for i in agent.queues:
                self.queues[i].free[agent] = None

    def _unfree(self, agent: _Agent) -> None:
        if agent.free:
            agent.free = False
            for i in agent.queues:
                del self.queues[i].free[agent]

    def _fill(self, t: int, agent: _Agent) -> None:
        """Take the longest-waiting contacts of the agent's queues while there is room."""
        queues = self.queues
        while agent.load < agent.cap:
            best: deque[_Contact] | None = None
            since = 0
            for i in agent.queues:
                waiting = queues[i].waiting
                while waiting and waiting[0].status != _WAITING:
                    waiting.popleft()
                if waiting and (best is None or waiting[0].since < since):
                    best = waiting
                    since = waiting[0].since
            if best is None:
                break
            self._assign(t, agent, best.popleft())
        if agent.load < agent.cap:
            self._free(agent)
        if agent.load == 0 and agent.state != AVAILABLE:
            self._state(t, agent, AVAILABLE)

    def _assign(self, t: int, agent: _Agent, contact: _Contact) -> None:
        """Route `contact` to `agent`. The answer follows after a short delay; nothing can
        change the outcome in between, so the answer, the agent's `busy` and the chat's
        messages are drawn now and go to the time buckets, and only the end is scheduled."""
        contact.status = _HANDLING
        contact.agent = agent
        agent.load += 1
        if agent.load >= agent.cap:
            self._unfree(agent)
        q = self.queues[contact.queue]
        rng = self.rng
        normal = self._normal
        later_add = self._later_add
        if q.answer_mu > -math.inf:
            t += int(math.exp(q.answer_mu + 0.5 * normal[int(rng.random() * _NORMAL_POINTS)]))
        later_add(t, {"type": "contact.answered", "ts": str(t), "contact": contact.id,
                      "queue": q.name, "channel": contact.channel, "shop": contact.shop,
                      "agent": agent.id})  # fmt: skip
        if agent.state != BUSY:
            agent.state = BUSY
            later_add(t, {"type": "agent.state", "ts": str(t), "agent": agent.id,
                          "state": BUSY})  # fmt: skip
        handle = math.exp(q.handle_mu + q.handle_sigma * normal[int(rng.random() * _NORMAL_POINTS)])
        end = t + int(handle * agent.factor)
        contact.end = end
        if q.transfer_to >= 0 and rng.random() < q.transfer_share:
            contact.transfer = q.transfer_to
        replies = self._replies(q, contact, agent, end)
        if replies is not None:
            replies(t)  # the agent's first reply, to the question that opened the chat
        if q.message_rate:
            # The customer's questions while the chat lasts: exponential gaps.
            mean = 1.0 / q.message_rate
            later = self._later
            log = math.log
            random_ = rng.random
            name, channel, contact_id = q.name, contact.channel, contact.id
            at = t - mean * log(1.0 - random_())
            while at < end:
                when = int(at)
                record = {"type": "contact.message", "ts": str(when), "contact": contact_id,
                          "queue": name, "channel": channel}  # fmt: skip
                bucket = later.get(when >> _BUCKET_BITS)
                if bucket is None:
                    later[when >> _BUCKET_BITS] = [record]
                else:
                    bucket.append(record)
                if replies is not None:
                    replies(when)
                at -= mean * log(1.0 - random_())
        heapq.heappush(self._heap, (end, next(self._seq),
                                    _COMPLETE if q.wrap_mu is None else _TALK_END, contact, None))

    def _replies(self, q: _Queue, contact: _Contact, agent: _Agent,
                 end: int) -> Callable[[int], None] | None:  # fmt: skip
        """A function that draws the shop's reply to a question asked at a time (or none: a
        queue without replies). The queue's pressure when the agent took the chat slows the
        replies and leaves some questions unanswered; a reply after the chat ends is not sent."""
        if q.reply is None:
            return None
        mu, sigma, full, slowdown, miss_share, assist_share = q.reply
        pressure = min(1.0, len(q.waiting) / full)
        mu += math.log(1.0 + slowdown * pressure)
        miss = miss_share * pressure
        rng, normal, later_add = self.reply_rng, self._normal, self._later_add
        contact_id, agent_id = contact.id, agent.id

        def reply(asked: int) -> None:
            if miss and rng.random() < miss:
                return
            when = asked + int(math.exp(mu + sigma * normal[int(rng.random() * _NORMAL_POINTS)]))
            if when >= end:
                return
            record = {"type": "contact.reply", "ts": str(when), "contact": contact_id,
                      "agent": agent_id}  # fmt: skip
            if assist_share and rng.random() < assist_share:
                record["by"] = "assist"
            later_add(when, record)

        return reply

    def _release(self, t: int, agent: _Agent) -> None:
        agent.load -= 1
        if agent.leaving or agent.want_break:
            if agent.load == 0:
                if agent.leaving:
                    self._logout(t, agent, _end_reason(agent))
                else:
                    self._start_break(t, agent)
            return
        self._fill(t, agent)

    def _start_break(self, t: int, agent: _Agent) -> None:
        self._unfree(agent)
        self._state(t, agent, BREAK, reason="break")
        minutes = self.profile.shifts.break_minutes * self.rng.uniform(0.8, 1.2)
        self._push(t + int(minutes * 60_000), _BREAK_END, agent, agent.session)

    def _on_shift(self, t: int, agent: _Agent, day: int) -> None:
        shift = agent.spec.shift
        assert shift is not None
        if not agent.on:
            self._login(t, agent)
            end = self._shift_span(shift, day)[1]
            self._push(max(t, end + self._jitter()), _LOGOUT, agent, agent.session)
        self._push(self._shift_span(shift, day + 1)[0] + self._jitter(), _SHIFT, agent, day + 1)

    def _on_logout(self, t: int, agent: _Agent, session: int) -> None:
        if not agent.on or session != agent.session:
            return
        agent.leaving = True
        self._unfree(agent)
        if agent.load == 0:
            self._logout(t, agent, _end_reason(agent))

    def _on_break_due(self, t: int, agent: _Agent, session: int) -> None:
        if not agent.on or session != agent.session or agent.leaving:
            return
        agent.want_break = True
        self._unfree(agent)
        if agent.load == 0:
            self._start_break(t, agent)

    def _on_break_end(self, t: int, agent: _Agent, session: int) -> None:
        if not agent.on or session != agent.session or agent.state != BREAK:
            return
        agent.want_break = False
        if agent.leaving:
            self._logout(t, agent, _end_reason(agent))
            return
        self._state(t, agent, AVAILABLE)
        every = self.profile.shifts.break_every_minutes * 60_000
        self._push(t + int(every * self.rng.uniform(0.8, 1.2)), _BREAK_DUE, agent, agent.session)
        self._fill(t, agent)

    def _on_response(self, t: int, agent: _Agent, arg: tuple[str, int, bool]) -> None:
        callout_id, queue_index, accept = arg
        agent.pending = False
        self._control.append({"type": "reserve.response", "callout": callout_id,
                              "agent": agent.id, "response": "accepted" if accept else "declined",
                              "ts": str(t)})  # fmt: skip
        if not accept or agent.on:
            return
        if queue_index >= 0:
            agent.queues = (queue_index, *(i for i in agent.spec.queues if i != queue_index))
        self._login(t, agent)
        stint = int(self.profile.reserve.stint_minutes * 60_000)
        self._push(t + stint, _LOGOUT, agent, agent.session)

    # ---- traffic ------------------------------------------------------------------------

    def _on_hour(self, t: int, _a: object, _b: object) -> None:
        moment = datetime.fromtimestamp(t / 1000, self.tz)
        into_hour = (moment.minute * 60 + moment.second) * 1000 + moment.microsecond // 1000
        end = t - into_hour + HOUR_MS
        self._hour_end = end
        factor = self.profile.hourly[moment.hour]
        for q in self.queues:
            q.gen += 1
            q.rate = q.peak * factor / HOUR_MS
            q.clock = float(t)
            self._next_arrival(q)
        self._push(end, _HOUR)

    def _next_arrival(self, q: _Queue) -> None:
        if q.rate <= 0:
            return
        q.clock += self.rng.expovariate(q.rate)
        if q.clock < self._hour_end:
            heapq.heappush(self._heap, (int(q.clock), next(self._seq), _ARRIVE, q, q.gen))

    def _on_arrive(self, t: int, q: _Queue, gen: int) -> None:
        if gen != q.gen:
            return  # drawn with last hour's rate
        rng = self.rng
        heap = self._heap
        q.clock -= math.log(1.0 - rng.random()) / q.rate  # the next arrival (exponential gap)
        if q.clock < self._hour_end:
            heapq.heappush(heap, (int(q.clock), next(self._seq), _ARRIVE, q, gen))
        self._contacts += 1
        contact_id = self._prefix + str(self._contacts)
        cum = self._shop_cum
        shop = self._shops[bisect(cum, rng.random() * cum[-1])]
        if q.bot:
            normal = self._normal[int(rng.random() * _NORMAL_POINTS)]
            done = t + int(math.exp(self._bot_mu + self._bot_sigma * normal))
            if rng.random() < self._bot_share:
                # Resolved by the bot: nothing else happens to it, so its record goes straight
                # to the time buckets, like chat messages.
                self._later_add(done, {"type": "bot.resolved", "ts": str(done),
                                       "contact": contact_id, "queue": q.name,
                                       "channel": q.channel, "shop": shop})  # fmt: skip
                return
            contact = _Contact(contact_id, q.index, q.channel, shop, t)
            heapq.heappush(heap, (done, next(self._seq), _BOT, contact, None))
        else:
            self._offer(t, q, _Contact(contact_id, q.index, q.channel, shop, t), None)

    def _later_add(self, when: int, record: Record) -> None:
        bucket = self._later.get(when >> _BUCKET_BITS)
        if bucket is None:
            self._later[when >> _BUCKET_BITS] = [record]
        else:
            bucket.append(record)

    def _on_bot(self, t: int, contact: _Contact, _b: object) -> None:
        """The bot could not help: the contact escalates to its queue."""
        self._offer(t, self.queues[contact.queue], contact, "bot")

    def _offer(self, t: int, q: _Queue, contact: _Contact, via: str | None) -> None:
        record = {"type": "contact.offered", "ts": str(t), "contact": contact.id,
                  "queue": q.name, "channel": contact.channel, "shop": contact.shop}  # fmt: skip
        if via is not None:
            record["via"] = via
        self._out.append(record)
        self._route(t, q, contact)

    def _route(self, t: int, q: _Queue, contact: _Contact) -> None:
        contact.since = t
        if q.free:
            self._assign(t, next(iter(q.free)), contact)
            return
        contact.status = _WAITING
        contact.gen += 1  # an abandon pending from an earlier queue no longer applies
        q.waiting.append(contact)
        if q.patience_rate:
            patience = -math.log(1.0 - self.rng.random()) / q.patience_rate
            heapq.heappush(self._heap, (t + int(patience), next(self._seq), _ABANDON, contact,
                                        contact.gen))  # fmt: skip

    def _on_abandon(self, t: int, contact: _Contact, gen: int) -> None:
        if contact.status != _WAITING or contact.gen != gen:
            return
        contact.status = _GONE
        self._out.append({"type": "contact.abandoned", "ts": str(t), "contact": contact.id,
                          "queue": self.queues[contact.queue].name, "channel": contact.channel,
                          "shop": contact.shop})  # fmt: skip

    def _on_talk_end(self, t: int, contact: _Contact, _b: object) -> None:
        agent = contact.agent
        assert agent is not None
        q = self.queues[contact.queue]
        if agent.load == 1:
            self._state(t, agent, WRAP_UP)
        assert q.wrap_mu is not None
        self._push(t + self._lognormal(q.wrap_mu, 0.5), _COMPLETE, contact)

    def _on_complete(self, t: int, contact: _Contact, _b: object) -> None:
        agent = contact.agent
        assert agent is not None
        q = self.queues[contact.queue]
        rng = self.rng
        if contact.transfer >= 0:
            target = self.queues[contact.transfer]
            contact.transfer = -1
            contact.queue = target.index
            contact.channel = target.channel
            contact.agent = None
            self._out.append({"type": "contact.transferred", "ts": str(t),
                              "contact": contact.id, "queue": q.name, "to_queue": target.name,
                              "channel": target.channel, "shop": contact.shop,
                              "agent": agent.id})  # fmt: skip
            self._route(t, target, contact)
        else:
            contact.status = _GONE
            record = {"type": "contact.completed", "ts": str(t), "contact": contact.id,
                      "queue": q.name, "channel": contact.channel, "shop": contact.shop,
                      "agent": agent.id}  # fmt: skip
            if q.conversion > 0:
                if rng.random() < q.conversion + agent.bonus:
                    record["outcome"] = "order"
                    value = math.exp(q.value_mu + q.value_sigma * self._gauss())
                    record["value"] = f"{value:.2f}"
                else:
                    record["outcome"] = "no_order"
            else:
                record["outcome"] = "resolved"
            if rng.random() < self._rating_share:
                record["rating"] = self._ratings[weighted(rng, self._rating_cum)]
            self._out.append(record)
            self._complaint(t, contact, q.name, agent.id)
        self._release(t, agent)


_by_ts = itemgetter("ts")


def _end_reason(agent: _Agent) -> str:
    return "shift_end" if agent.spec.pool == "core" else "stint_end"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text
