"""Property tests of response rounds and rollups (docs/metrics.md): each round is settled once;
rounds = answered within + answered late + unanswered; a rollup of one queue equals the queue;
the floor, the shops and the channels each sum to the queues."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.scenario import ms
from wallboard.core.config import Config, load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until, ingest
from wallboard.core.metrics import PERIOD_FIELDS, PeriodCounts
from wallboard.core.snapshot import build_snapshot

T0 = ms("2026-11-11 10:00:00")
QUEUES = ("chat", "wechat_q", "phone")
contacts = st.sampled_from([f"c{i}" for i in range(8)])


def _config() -> Config:
    import tempfile
    from pathlib import Path

    text = "".join(f'[groups.only_{q}]\nqueues = ["{q}"]\n' for q in QUEUES)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wallboard.toml"
        path.write_text(text + "[response]\ncap_s = 120\nwithin_s = 30\n", encoding="utf-8")
        return load_config(path)


CONFIG = _config()


@st.composite
def chat_event(draw: st.DrawFn) -> dict[str, str]:
    # Within 40 minutes: past the 120 s cap often, and across the 30-minute window's edge.
    ts = T0 + draw(st.integers(min_value=0, max_value=40 * 60_000))
    kind = draw(st.sampled_from(["contact.offered", "contact.answered", "contact.abandoned",
                                 "contact.completed", "contact.transferred",
                                 "contact.message", "contact.reply", "contact.reply"]))  # fmt: skip
    fields = {"type": kind, "ts": str(ts), "contact": draw(contacts)}
    if kind == "contact.offered":
        fields["queue"] = draw(st.sampled_from(QUEUES))
        fields["channel"] = draw(st.sampled_from(["chat", "wechat", "phone"]))
        shop = draw(st.sampled_from(["s1", "s2", ""]))
        if shop:
            fields["shop"] = shop
    elif kind == "contact.answered":
        fields["agent"] = draw(st.sampled_from(["a1", "a2"]))
    elif kind == "contact.transferred":
        fields["to_queue"] = draw(st.sampled_from(QUEUES))
    elif kind == "contact.reply":
        fields["by"] = draw(st.sampled_from(["agent", "assist", "bot"]))
        if draw(st.booleans()):
            fields["agent"] = draw(st.sampled_from(["a1", "a3"]))
    return fields


def _fold(events: list[dict[str, str]], sort_by_time: bool, until: int) -> BoardState:
    state = BoardState(CONFIG)
    if sort_by_time:
        fold_until(state, (RawEntry(None, None, e) for e in events), until)
    else:  # live order: whatever order they arrive in
        for fields in events:
            ingest(state, RawEntry(None, None, fields))
        state.advance(until)
    assert sum(state.rejected.values()) == 0
    state.settle()
    return state


def _sum(periods: list[PeriodCounts]) -> dict[str, int]:
    return {name: sum(getattr(p, name) for p in periods) for name in PERIOD_FIELDS}


def _fields(period: PeriodCounts) -> dict[str, int]:
    return {name: getattr(period, name) for name in PERIOD_FIELDS}


@settings(max_examples=300, deadline=None)
@given(st.lists(chat_event(), max_size=60), st.booleans())
def test_each_round_is_settled_once(events: list[dict[str, str]], sort_by_time: bool) -> None:
    state = _fold(events, sort_by_time, T0 + 41 * 60_000)
    settled = sum(q.lifetime.rounds for q in state.queues.values())
    still_open = sum(len(q.open_rounds) for q in state.queues.values())
    assert settled + still_open == state.rounds_opened
    # Past every cap nothing is left open, and every round was settled exactly once.
    state.advance(T0 + 41 * 60_000 + 121_000)
    state.settle()
    assert sum(len(q.open_rounds) for q in state.queues.values()) == 0
    assert sum(q.lifetime.rounds for q in state.queues.values()) == state.rounds_opened
    for contact in state.contacts.values():
        assert contact.round_at == -1


@settings(max_examples=300, deadline=None)
@given(st.lists(chat_event(), max_size=60), st.booleans())
def test_rounds_are_within_late_or_unanswered(events: list[dict[str, str]],
                                              sort_by_time: bool) -> None:  # fmt: skip
    state = _fold(events, sort_by_time, T0 + 41 * 60_000)
    ledgers = [*(q.ledger for q in state.queues.values()), *state.cell_ledgers.values()]
    periods = [p for ledger in ledgers for p in (ledger.today, ledger.window, ledger.lifetime())]
    periods += [a.rounds_today for a in state.agents.values()]
    for p in periods:
        late = p.rounds_replied - p.rounds_within
        assert late >= 0 and p.rounds_within >= 0 and p.rounds_unanswered >= 0
        assert p.rounds == p.rounds_within + late + p.rounds_unanswered
        assert 0 <= p.first_rounds <= p.rounds
        assert p.round_ms <= p.rounds * 120_000  # every response time is capped


@settings(max_examples=200, deadline=None)
@given(st.lists(chat_event(), max_size=60), st.booleans())
def test_rollups_sum_the_queues(events: list[dict[str, str]], sort_by_time: bool) -> None:
    state = _fold(events, sort_by_time, T0 + 41 * 60_000)
    for period in ("today", "window"):
        queues = _sum([getattr(q.ledger, period) for q in state.queues.values()])
        cells = _sum([getattr(x, period) for x in state.cell_ledgers.values()])
        assert cells == queues
    snap = build_snapshot(state)
    counted = ("offered", "answered", "abandoned", "answered_within", "transferred_out",
               "completed")  # fmt: skip
    for period in ("today", "window"):
        floor_counts = [getattr(getattr(snap.rollups[0], period), k) for k in counted]
        for by in ("shop", "channel"):  # each contact in exactly one shop and one channel
            views = [getattr(r, period) for r in snap.rollups if r.by == by]
            assert [sum(getattr(v, k) for v in views) for k in counted] == floor_counts
    floor = next(r for r in snap.rollups if r.by == "floor")
    assert floor.today.offered == sum(q.today.offered for q in snap.queues)
    assert floor.waiting == sum(q.waiting for q in snap.queues)
    if floor.open_rounds is not None:
        # the floor counts every queue's open rounds once any reply came (a queue without
        # replies of its own reports none, but its rounds are on the floor)
        assert floor.open_rounds == sum(len(q.open_rounds) for q in state.queues.values())
    for rollup in snap.rollups:
        if rollup.by != "group":
            continue
        (name,) = rollup.queues or []
        q = next((q for q in snap.queues if q.queue == name), None)
        if q is None:
            continue  # a queue not seen yet: the group sums nothing
        # a rollup of one queue equals that queue, number for number
        assert (rollup.today, rollup.window) == (q.today, q.window)
        assert (rollup.waiting, rollup.longest_wait_s) == (q.waiting, q.longest_wait_s)
        assert (rollup.open_rounds, rollup.oldest_open_round_s) == (q.open_rounds,
                                                                     q.oldest_open_round_s)
