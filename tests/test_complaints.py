"""Key complaints and the 3-day callback rate (docs/metrics.md, "Complaints"): hand-worked
scenarios, the decided-once law, and the NDJSON / XADD round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.files import read_ndjson
from feeds.redis_window import read_streams
from tests.scenario import ms
from wallboard.core.config import Config
from wallboard.core.config_complaints import ComplaintsSection
from wallboard.core.events import Event, Rejection, decode, encode_fields, encode_json
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.linedecode import decode_line
from wallboard.core.snapshot import build_snapshot

H = 3_600_000
DAY = 24 * H


def opened(cid: str, ts: int, *, key: bool = True, department: str | None = None,
           shop: str | None = None) -> dict[str, str]:  # fmt: skip
    fields = {"type": "complaint.opened", "ts": str(ts), "complaint": cid,
              "key": "true" if key else "false"}  # fmt: skip
    if department is not None:
        fields["department"] = department
    if shop is not None:
        fields["shop"] = shop
    return fields


def callback(cid: str, ts: int, outcome: str | None = None, agent: str = "a1") -> dict[str, str]:
    fields = {"type": "complaint.callback", "ts": str(ts), "complaint": cid, "agent": agent}
    if outcome is not None:
        fields["outcome"] = outcome
    return fields


def closed(cid: str, ts: int) -> dict[str, str]:
    return {"type": "complaint.closed", "ts": str(ts), "complaint": cid, "resolution": "refund"}


def board(entries: list[dict[str, str]], at: int, config: Config | None = None) -> Any:
    """The snapshot's `complaints` at `at`, the entries folded as a backfill would."""
    from wallboard.core.ingest import RawEntry

    state = BoardState(config or Config())
    fold_until(state, [RawEntry(None, None, fields) for fields in entries], at)
    return build_snapshot(state).complaints


# ---- the contract -----------------------------------------------------------------------------


def test_decode_reads_key_as_text_in_streams_and_as_a_boolean_in_ndjson() -> None:
    ts = ms("2026-11-09 10:00")
    from_stream = decode(opened("k1", ts, department="warehouse", shop="s1"))
    from_file, _ = decode_line(json.dumps({**opened("k1", ts, department="warehouse",
                                                    shop="s1"), "key": True}).encode())  # fmt: skip
    assert isinstance(from_stream, Event)
    assert from_stream == from_file
    assert (from_stream.complaint, from_stream.key_complaint, from_stream.department) == (
        "k1", True, "warehouse")
    assert decode({**opened("k1", ts), "key": "false"}).key_complaint is False  # type: ignore[union-attr]
    unsaid = decode({"type": "complaint.opened", "ts": str(ts), "complaint": "k"})
    assert isinstance(unsaid, Event)
    assert unsaid.key_complaint is None  # not given: not key (the book reads None as false)


@pytest.mark.parametrize(("fields", "reason", "field"), [
    ({"type": "complaint.opened", "ts": "1780000000000"}, "missing_field", "complaint"),
    ({"type": "complaint.opened", "ts": "1780000000000", "complaint": "c", "key": "yes"},
     "bad_value", "key"),
    ({"type": "complaint.callback", "ts": "1780000000000", "complaint": "c",
      "outcome": "voicemail"}, "bad_value", "outcome"),
    ({"type": "complaint.opened", "ts": "1780000000000", "complaint": "c",
      "department": "ware\x1b[31mhouse"}, "control_char", "department"),
    ({"type": "complaint.closed", "ts": "1780000000000", "complaint": "c" * 257},
     "too_long", "complaint"),
    ({"type": "complaint.opened", "ts": "1780000000000", "complaint": "c", "key": 1},
     "malformed", "key"),
])  # fmt: skip
def test_bad_complaint_events_are_rejected_by_reason(fields: dict[str, Any], reason: str,
                                                     field: str) -> None:  # fmt: skip
    result = decode(fields)
    assert isinstance(result, Rejection)
    assert (result.reason, result.field) == (reason, field)
    line_result, _ = decode_line(json.dumps(fields).encode())
    assert line_result == result  # the fast path agrees


# ---- hand-worked scenarios -----------------------------------------------------------------


def test_a_callback_exactly_at_72_h_is_in_time_and_one_a_second_later_is_missed() -> None:
    # Both opened Mon 11-09 10:00; deadline = +72 h = Thu 11-12 10:00:00.
    # on_time is reached at 10:00:00 (at the deadline: in time), late at 10:00:01.
    t0 = ms("2026-11-09 10:00")
    entries = [opened("on_time", t0), opened("late", t0),
               callback("on_time", t0 + 72 * H), callback("late", t0 + 72 * H + 1000)]
    snap = board(entries, ms("2026-11-12 12:00"))
    # Both decided Thu 10:00:00 (on_time by its callback, late by its deadline), today's
    # business day (from Thu 04:00): decided 2, in time 1, 1/2 = 0.5.
    assert (snap.today.decided, snap.today.in_time, snap.today.callback_rate) == (2, 1, 0.5)
    assert (snap.rolling.decided, snap.rolling.in_time, snap.rolling.days) == (2, 1, 7)
    # `late` was reached after all: not overdue, though missed.
    assert (snap.open_key, snap.overdue, snap.oldest_overdue_s) == (0, 0, None)
    # One millisecond before the deadline nothing is decided and both are due within 24 h.
    before = board(entries[:2], t0 + 72 * H - 1)
    assert (before.today.decided, before.today.callback_rate) == (0, None)
    assert (before.open_key, before.due_24h) == (2, 2)


def test_a_no_answer_callback_does_not_count_and_the_reached_one_after_it_does() -> None:
    t0 = ms("2026-11-09 10:00")  # deadline Thu 11-12 10:00
    entries = [opened("c", t0), callback("c", ms("2026-11-10 10:00"), "no_answer"),
               callback("c", ms("2026-11-11 10:00"), "reached")]
    tue = board(entries, ms("2026-11-10 12:00"))
    # Tue 12:00: no reached callback yet; the deadline is 46 h away (> 24 h): open, not due.
    assert (tue.open_key, tue.due_24h, tue.rolling.decided) == (1, 0, 0)
    wed = board(entries, ms("2026-11-11 12:00"))
    # Wed 10:00 reached, 24 h before the deadline: decided then, in time: 1/1.
    assert (wed.open_key, wed.today.decided, wed.today.in_time, wed.today.callback_rate) == (
        0, 1, 1, 1.0)


def test_closing_before_any_callback_is_missed_at_the_deadline_and_never_overdue() -> None:
    t0 = ms("2026-11-09 10:00")  # deadline Thu 11-12 10:00
    entries = [opened("c", t0, department="finance"), closed("c", ms("2026-11-09 11:00"))]
    wed = board(entries, ms("2026-11-11 12:00"))
    # Wed 12:00: no reached callback, deadline 22 h away: open and due within 24 h.
    assert (wed.open_key, wed.due_24h, wed.rolling.decided) == (1, 1, 0)
    thu = board(entries, ms("2026-11-12 10:00"))
    # At the deadline: decided, missed (0/1); closed, so not overdue.
    assert (thu.today.decided, thu.today.in_time, thu.today.callback_rate) == (1, 0, 0.0)
    assert (thu.open_key, thu.overdue) == (0, 0)
    [finance] = thu.by_department
    assert (finance.name, finance.rolling.decided, finance.rolling.callback_rate) == (
        "finance", 1, 0.0)
    # The same complaint not closed is overdue: 2 h past its deadline at 12:00 = 7,200 s.
    open_one = board(entries[:1], ms("2026-11-12 12:00"))
    assert (open_one.overdue, open_one.oldest_overdue_s) == (1, 7200.0)


def test_several_callbacks_decide_once_at_the_first_reached_one() -> None:
    t0 = ms("2026-11-09 10:00")
    entries = [opened("c", t0, shop="s1"), callback("c", ms("2026-11-10 09:00"), agent="a1"),
               callback("c", ms("2026-11-11 09:00"), agent="a2"),
               callback("c", ms("2026-11-13 09:00"), agent="a3")]  # fmt: skip
    snap = board(entries, ms("2026-11-13 12:00"))
    # One complaint, one decision (Tue 09:00, in time), whatever came after: 1/1.
    assert (snap.rolling.decided, snap.rolling.in_time) == (1, 1)
    assert snap.today.decided == 0  # Tuesday's decision is not Friday's
    [shop] = snap.by_shop
    assert (shop.name, shop.rolling.decided) == ("s1", 1)


def test_a_complaint_opened_before_the_lookback_is_not_counted() -> None:
    # Lookback = max(72 h, 7 x 24 h) + 24 h = 192 h = 8 days. At Fri 11-20 12:00, a complaint
    # opened 8 days and 1 ms earlier is out; one opened exactly 8 days earlier is in (and,
    # never called back, overdue by 8 d - 72 h = 5 days = 432,000 s).
    now = ms("2026-11-20 12:00")
    entries = [opened("out", now - 8 * DAY - 1), opened("in", now - 8 * DAY)]
    snap = board(entries, now)
    assert (snap.overdue, snap.oldest_overdue_s) == (1, 432_000.0)
    # Decided (missed) 5 days ago: within the 7 rolling days.
    assert (snap.rolling.decided, snap.rolling.in_time) == (1, 0)


def test_the_business_day_boundary_splits_today_at_04_00() -> None:
    # Deadlines Thu 11-12 03:59:59 and 04:00:00; the business day starts at 04:00.
    entries = [opened("yesterday", ms("2026-11-09 03:59:59")),
               opened("today", ms("2026-11-09 04:00:00"))]
    snap = board(entries, ms("2026-11-12 05:00"))
    # Only the 04:00:00 decision is in Thursday's business day: today 1, rolling both.
    assert (snap.today.decided, snap.rolling.decided) == (1, 2)
    assert snap.opened_today == 0  # both opened on Monday


def test_the_rolling_rate_covers_seven_days_back_exclusive() -> None:
    # At Fri 11-20 12:00 the rolling window is (Fri 11-13 12:00, Fri 11-20 12:00].
    now = ms("2026-11-20 12:00")
    edge = now - 7 * DAY
    entries = [opened("at_edge", edge - 10 * H), callback("at_edge", edge),       # out
               opened("inside", edge - 10 * H), callback("inside", edge + 1000),  # in, on time
               opened("missed", now - 4 * DAY)]  # deadline now - 1 day: in, missed
    snap = board(entries, now)
    # Rolling: inside (in time) and missed (missed): 1/2 = 0.5.
    assert (snap.rolling.decided, snap.rolling.in_time, snap.rolling.callback_rate) == (2, 1, 0.5)
    # With 10 rolling days all three count: 2 of 3 in time.
    ten = Config(complaints=ComplaintsSection(rate_days=10))
    wide = board(entries, now, ten)
    assert (wide.rolling.decided, wide.rolling.in_time, wide.rolling.days) == (3, 2, 10)


def test_non_key_complaints_count_as_opened_but_have_no_deadline() -> None:
    now = ms("2026-11-12 12:00")
    entries = [opened("n1", ms("2026-11-12 09:00"), key=False, department="logistics"),
               opened("n2", ms("2026-11-01 09:00"), key=False, department="logistics"),
               opened("k1", ms("2026-11-12 10:00"), department="logistics")]
    snap = board(entries, now)
    # Opened today (from 04:00): n1 and k1. Only k1 is key: open, deadline 70 h away.
    assert (snap.opened_today, snap.open_key, snap.due_24h, snap.overdue) == (2, 1, 0, 0)
    [logistics] = snap.by_department
    assert (logistics.opened_today, logistics.open_key) == (2, 1)


def test_decided_complaints_leave_the_state_outside_rate_days() -> None:
    t0 = ms("2026-11-09 10:00")
    state = BoardState(Config())
    for fields in [opened("a", t0), callback("a", t0 + H), opened("b", t0)]:
        event = decode(fields)
        assert isinstance(event, Event)
        state.apply(event)
    # a was decided at 11:00 Mon (in time); b missed at Thu 10:00 and stays overdue (open).
    state.advance(t0 + H + 7 * DAY + 1)  # a's decision is now outside the 7 days
    build_snapshot(state)
    assert sorted(state.complaints.complaints) == ["b"]
    state.advance(t0 + 8 * DAY + 1)  # b opened before the 8-day lookback
    assert build_snapshot(state).complaints.overdue == 0
    assert state.complaints.complaints == {}


# ---- the decided-once law -------------------------------------------------------------------

_T0 = ms("2026-11-09 04:00")
_complaint = st.tuples(
    st.integers(0, 3 * DAY),  # opened, after _T0
    st.lists(st.tuples(st.integers(-H, 5 * DAY), st.sampled_from(["reached", "no_answer"])),
             max_size=4),  # callbacks, relative to the opening
    st.one_of(st.none(), st.integers(0, 5 * DAY)),  # closed, relative to the opening
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_complaint, min_size=1, max_size=12), st.permutations(range(40)))
def test_every_key_complaint_is_decided_once_at_the_earlier_of_reached_and_deadline(
        complaints: list[tuple[int, list[tuple[int, str]], int | None]],
        order: list[int]) -> None:  # fmt: skip
    deadline = 72 * H
    entries: list[dict[str, str]] = []
    expected: dict[str, tuple[int, bool]] = {}
    opened_at: dict[str, int] = {}
    for n, (start, calls, close) in enumerate(complaints):
        cid = f"c{n}"
        t = opened_at[cid] = _T0 + start
        entries.append(opened(cid, t))
        entries += [callback(cid, t + d, outcome) for d, outcome in calls]
        if close is not None:
            entries.append(closed(cid, t + close))
        reached = [t + d for d, outcome in calls if outcome == "reached" and d >= 0]
        first = min(reached, default=None)
        expected[cid] = (first, True) if first is not None and first <= t + deadline \
            else (t + deadline, False)  # fmt: skip
    # Arrival order does not matter: fold the entries live, in a shuffled order.
    shuffled = sorted(entries, key=lambda f: order[entries.index(f) % len(order)])
    state = BoardState(Config())
    for fields in shuffled:
        event = decode(fields)
        assert isinstance(event, Event)
        state.apply(event)
    book = state.complaints
    for cid, want in expected.items():
        assert book.complaints[cid].decision(deadline) == want
    # Summed over the business days, each decision is counted once, on the day it fell in.
    counted = in_time = 0
    day_end = ms("2026-11-10 04:00")
    while day_end <= _T0 + 9 * DAY:
        state.advance(day_end - 1)
        snap = build_snapshot(state).complaints
        counted += snap.today.decided
        in_time += snap.today.in_time
        # The rolling 7 days: the decisions in (now - 7 d, now], as worked out by hand here,
        # of the complaints opened within the 8-day lookback (what a board started now reads).
        now = day_end - 1
        window = [ok for cid, (at, ok) in expected.items() if now - 7 * DAY < at <= now
                  and opened_at[cid] >= now - 8 * DAY]
        assert (snap.rolling.decided, snap.rolling.in_time) == (len(window), sum(window))
        day_end += DAY
    assert counted == len(expected)
    assert in_time == sum(ok for _, ok in expected.values())


# ---- NDJSON and XADD ----------------------------------------------------------------------


@pytest.mark.redis
def test_ndjson_and_xadd_round_trip_to_the_same_events_and_board(
        tmp_path: Path, redis_client: redis.Redis, stream_key: str) -> None:  # fmt: skip
    t0 = ms("2026-11-09 10:00")
    entries = [opened("c1", t0, department="warehouse", shop="s1"),
               opened("c2", t0 + H, key=False, department="product"),
               callback("c1", t0 + 2 * H, "no_answer"), callback("c1", t0 + 3 * H),
               closed("c2", t0 + 4 * H)]  # fmt: skip
    events = [decode(fields) for fields in entries]
    assert all(isinstance(e, Event) for e in events)
    path = tmp_path / "cases.ndjson"
    path.write_bytes(b"".join(msgspec.json.encode(encode_json(e)) + b"\n"
                              for e in events if isinstance(e, Event)))  # fmt: skip
    assert b'"key":true' in path.read_bytes()  # a JSON boolean in the file
    for e in events:
        assert isinstance(e, Event)
        redis_client.xadd(stream_key, encode_fields(e))  # type: ignore[arg-type]
    from_file = [decode(entry.fields) for entry in read_ndjson(path)]
    from_stream = [decode(entry.fields) for entry in read_streams(redis_client, [stream_key])]
    assert from_file == events
    assert [(e.complaint, e.key_complaint, e.department, e.outcome)  # type: ignore[union-attr]
            for e in from_stream] == [(e.complaint, e.key_complaint, e.department, e.outcome)  # type: ignore[union-attr]
                                      for e in events]  # fmt: skip
    at = ms("2026-11-09 20:00")
    file_state, stream_state = BoardState(Config()), BoardState(Config())
    fold_until(file_state, read_ndjson(path), at)
    fold_until(stream_state, read_streams(redis_client, [stream_key]), at)
    file_snap = build_snapshot(file_state).complaints
    assert file_snap == build_snapshot(stream_state).complaints
    # c1 reached at 13:00, 3 h after opening: decided in time; c2 not key. Opened today: 2.
    assert (file_snap.today.decided, file_snap.today.in_time, file_snap.opened_today) == (1, 1, 2)


# ---- the complaint_overdue rule -----------------------------------------------------------


def _apply(state: BoardState, fields: dict[str, str]) -> None:
    event = decode(fields)
    assert isinstance(event, Event)
    assert state.apply(event)


def _overdue_alerts(state: BoardState) -> list[Any]:
    return [a for a in build_snapshot(state).alerts if a.rule == "complaint_overdue"]


def test_complaint_overdue_raises_at_the_deadline_and_clears_after_300_s_at_zero() -> None:
    state = BoardState(Config())
    state.advance(ms("2026-11-12 09:59:50"))
    # Opened Mon 10:00: the deadline is Thu 11-12 10:00:00.
    _apply(state, opened("k", ms("2026-11-09 10:00")))
    state.advance(ms("2026-11-12 09:59:59"))
    assert _overdue_alerts(state) == []  # not yet overdue: nothing to judge
    state.advance(ms("2026-11-12 10:00:05"))
    [alert] = _overdue_alerts(state)
    # Judged at 10:00:00: 1 overdue > warn 0, raised at once (raise_after_s 0).
    assert (alert.id, alert.severity, alert.value, alert.subject) == (
        "complaint_overdue/board/2026-11-12/1", "warn", 1.0, "board")
    assert alert.raised_at_ms == ms("2026-11-12 10:00:00")
    assert "1 key complaints overdue" in alert.message
    # Reached at 10:00:10 (late: still missed, no longer overdue). 0 <= clear 0 from 10:00:10;
    # hysteresis: cleared only once that has held clear_after_s = 300 s, at 10:05:10.
    _apply(state, callback("k", ms("2026-11-12 10:00:10")))
    state.advance(ms("2026-11-12 10:05:09"))
    assert _overdue_alerts(state)[0].cleared_at_ms is None
    state.advance(ms("2026-11-12 10:05:11"))
    assert _overdue_alerts(state)[0].cleared_at_ms == ms("2026-11-12 10:05:10")


def test_complaint_overdue_is_critical_above_four() -> None:
    state = BoardState(Config())
    state.advance(ms("2026-11-12 09:00"))
    for n in range(5):  # five deadlines at 10:00:00, 10:00:01, ... 10:00:04
        _apply(state, opened(f"k{n}", ms("2026-11-09 10:00") + n * 1000))
    state.advance(ms("2026-11-12 10:00:03"))
    assert [(a.severity, a.value) for a in _overdue_alerts(state)] == [("warn", 4.0)]
    state.advance(ms("2026-11-12 10:00:05"))
    # 5 > critical 4 at 10:00:04.
    assert [(a.severity, a.value) for a in _overdue_alerts(state)] == [("critical", 5.0)]


@settings(max_examples=40, deadline=None)
@given(st.lists(_complaint, min_size=1, max_size=8), st.integers(0, 9 * DAY))
def test_the_rules_overdue_count_is_the_snapshots(
        complaints: list[tuple[int, list[tuple[int, str]], int | None]],
        at: int) -> None:  # fmt: skip
    state = BoardState(Config())
    for n, (start, calls, close) in enumerate(complaints):
        t = _T0 + start
        _apply(state, opened(f"c{n}", t))
        for d, outcome in calls:
            _apply(state, callback(f"c{n}", t + d, outcome))
        if close is not None:
            _apply(state, closed(f"c{n}", t + close))
    book = state.complaints
    # Asked at rising times (cached between changes), it agrees with the full count.
    for now in (_T0 + at // 3, _T0 + at // 2, _T0 + at, _T0 + at + 1):
        assert book.overdue_count(now) == book.figures(now, None).floor.overdue


def test_the_html_report_has_a_complaints_section_with_names_escaped() -> None:
    from wallboard.core.ingest import RawEntry
    from wallboard.report.html import complaints_section

    t0 = ms("2026-11-09 10:00")
    state = BoardState(Config())
    entries = [opened("k1", t0, department="<script>x</script>"), opened("k2", t0, shop="s1"),
               callback("k2", t0 + H)]  # fmt: skip
    fold_until(state, [RawEntry(None, None, f) for f in entries], ms("2026-11-12 12:00"))
    html = "\n".join(complaints_section(build_snapshot(state)))
    # k1 missed at Thu 10:00, overdue 2 h at 12:00; k2 in time Mon 11:00: 7 days 1/2 = 50.0%.
    assert "Key complaints (0 open, 1 overdue)" in html
    assert "<td class=n>50.0% (1/2)</td>" in html
    assert "<td class=n>2h 00m</td>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
