"""queue_log as apps/app_queue.c and main/logger.c write it (issue 18): each case a hand-worked
log, mapped by the adapter and folded by the board, with the per-queue and per-agent numbers
written out. T = 30 s and S = 5 s (the defaults); times are epoch seconds 1,000,000,000 + n
(09:46:40 + n in Asia/Shanghai, one business day)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feeds.asterisk_map import BAD_REASONS, BadLine, Mapper
from feeds.asterisk_parse import QueueLogLine, parse_line
from feeds.asterisk_tail import Tailer
from tests.scenario import fold, queue
from wallboard.core.events import Rejection, decode
from wallboard.core.snapshot import AgentSnapshot, Snapshot

BASE = 1_000_000_000


def log(*lines: str) -> list[str]:
    """`+n|callid|queue|agent|EVENT|data...` with +n seconds after BASE."""
    out = []
    for text in lines:
        offset, _, rest = text.partition("|")
        out.append(f"{BASE + int(offset)}|{rest}")
    return out


def mapped(lines: list[str], mapper: Mapper | None = None) -> list[dict[str, str]]:
    mapper = mapper or Mapper()
    events: list[dict[str, str]] = []
    for number, text in enumerate(lines):
        parsed = parse_line(text)
        assert isinstance(parsed, QueueLogLine), text
        events.extend(mapper.map(parsed, f"k{number}"))
    for fields in events:
        assert not isinstance(decode(fields), Rejection), fields
    return events


def board(lines: list[str], until: int) -> Snapshot:
    return fold(mapped(lines), (BASE + until) * 1000)


def agent(snap: Snapshot, name: str) -> AgentSnapshot:
    [found] = [a for a in snap.agents if a.agent == name]
    return found


def test_queuestart_ends_everything_from_before() -> None:
    lines = log("0|NONE|sales|PJSIP/1001|ADDMEMBER|",
                "10|c1|sales|NONE|ENTERQUEUE||1001|1",
                "20|c2|sales|NONE|ENTERQUEUE||1002|2",
                "25|c2|sales|PJSIP/1001|CONNECT|5|c2-b|2",  # c2 talked from +25
                # Asterisk died; it logs QUEUESTART once it is up again, at +3600.
                "3600|NONE|NONE|NONE|QUEUESTART|",
                "3610|c3|sales|NONE|ENTERQUEUE||1003|1")  # fmt: skip
    snap = board(lines, 3620)
    sales = queue(snap, "sales")
    # offered 3 (c1, c2, c3); answered 1 (c2, wait 5 s); c1 ended by the restart (neither
    # answered nor abandoned); c3 waits from +3610: 10 s at +3620 (not c1's hour).
    assert (sales.today.offered, sales.today.answered, sales.today.abandoned) == (3, 1, 0)
    assert sales.today.ended_by_restart == 1 and sales.today.left_by_key == 0
    assert sales.waiting == 1 and sales.longest_wait_s == pytest.approx(10.0)
    # 3 = 1 answered + 0 abandoned + 0 transferred + 1 restart + 0 key + 1 waiting
    assert sales.today.completed == 0  # c2's call ended with Asterisk: no handle time
    member = agent(snap, "PJSIP/1001")
    assert member.state == "logged_out" and member.handled_today == 1


def test_withdraw_and_syscompat_are_abandons_exitwithkey_is_not() -> None:
    lines = log("0|c1|sales|NONE|ENTERQUEUE||1001|1",
                "0|c2|sales|NONE|ENTERQUEUE||1002|2",
                "0|c3|sales|NONE|ENTERQUEUE||1003|3",
                "30|c1|sales|NONE|WITHDRAW|1|1|30|callback",  # pos|origpos|waittime|info
                "5|c2|sales|PJSIP/1001|SYSCOMPAT|",  # no waittime: the board's own 5 s
                "40|c3|sales|NONE|EXITWITHKEY|5|1|3|40",  # key|pos|origpos|waittime
                # Calls never entered in what was read: offers made up from the waittime.
                "100|c4|sales|NONE|WITHDRAW|1|1|2|",  # offered at +98, wait 2 s: short
                "100|c5|sales|NONE|EXITWITHKEY|0|1|1|50")  # offered at +50  # fmt: skip
    sales = queue(board(lines, 200), "sales")
    # abandoned: c1 (30 s, within T since <= 30), c2 (5 s: not short, short is < 5), c4 (2 s,
    # short, within); left by key: c3, c5. offered 5 = 0 + 3 + 0 + 0 restart + 2 key + 0.
    today = sales.today
    assert (today.offered, today.abandoned, today.left_by_key, today.answered) == (5, 3, 2, 0)
    assert (today.short_abandoned, today.abandoned_within) == (1, 3)
    assert today.abandon_rate == 1.0  # 3 / (0 answered + 3 abandoned): keys are not abandons
    assert sales.waiting == 0


def test_a_member_added_paused_is_on_break() -> None:
    lines = log("0|NONE|sales|PJSIP/1001|ADDMEMBER|PAUSED",
                "0|NONE|sales|PJSIP/1002|ADDMEMBER|",
                "10|NONE|sales|PJSIP/1001|UNPAUSE|",
                "20|NONE|sales|PJSIP/1002|PAUSE|lunch")  # a reason (newer versions)  # fmt: skip
    events = mapped(lines)
    assert [(e["agent"], e["state"], e.get("reason")) for e in events] == [
        ("PJSIP/1001", "break", None), ("PJSIP/1002", "available", None),
        ("PJSIP/1001", "available", None), ("PJSIP/1002", "break", "lunch")]  # fmt: skip
    snap = fold(events[:2], (BASE + 5) * 1000)
    assert (agent(snap, "PJSIP/1001").state, agent(snap, "PJSIP/1002").state) == (
        "break", "available")  # fmt: skip
    assert snap.floor.available == 1  # only 1002


def test_a_completion_without_its_connect_makes_up_the_offer_and_answer() -> None:
    lines = log(# COMPLETEAGENT holdtime|calltime|origposition: answered at 300 - 120 = +180,
                # offered 20 s before, at +160.
                "300|c1|sales|PJSIP/1001|COMPLETEAGENT|20|120|1",
                # BLINDTRANSFER exten|context|holdtime|calltime|origposition to an extension:
                # answered at 400 - 60 = +340, offered at +330.
                "400|c2|sales|PJSIP/1002|BLINDTRANSFER|2000|from-internal|10|60|1",
                # ATTENDEDTRANSFER LINK|chan|chan|holdtime|calltime|origposition: answered at
                # 500 - 100 = +400, offered 45 s before (late: not within 30).
                "500|c3|sales|PJSIP/1001|ATTENDEDTRANSFER|LINK|PJSIP/1001-a|PJSIP/2000-b|45|100|1",
                # ENTERQUEUE read, CONNECT lost: only the answer is made up, at 600 - 30.
                "550|c4|sales|NONE|ENTERQUEUE||1004|1",
                "600|c4|sales|PJSIP/1002|COMPLETECALLER|20|30|1")  # fmt: skip
    events = mapped(lines)
    assert [(e["type"], int(e["ts"]) // 1000 - BASE) for e in events[:3]] == [
        ("contact.offered", 160), ("contact.answered", 180), ("contact.completed", 300)]
    sales = queue(fold(events, (BASE + 700) * 1000), "sales")
    today = sales.today
    # Waits: c1 20, c2 10, c3 45, c4 570 - 550 = 20; within T: c1, c2, c4.
    assert (today.offered, today.answered, today.answered_within) == (4, 4, 3)
    assert today.asa_s == pytest.approx((20 + 10 + 45 + 20) / 4)  # 23.75 s
    # Handle times: c1 120, c2 60, c3 100, c4 30 (each its calltime).
    assert today.aht_s == pytest.approx((120 + 60 + 100 + 30) / 4)  # 77.5 s
    assert sales.waiting == 0
    snap = fold(events, (BASE + 700) * 1000)
    assert agent(snap, "PJSIP/1001").handled_today == 2  # c1, c3
    assert agent(snap, "PJSIP/1002").handled_today == 2  # c2, c4
    assert agent(snap, "PJSIP/1001").state == "available"


def test_removemember_during_a_call_keeps_the_agent_busy_until_the_end() -> None:
    lines = log("0|NONE|sales|PJSIP/1001|ADDMEMBER|",
                "10|c1|sales|NONE|ENTERQUEUE||1001|1",
                "15|c1|sales|PJSIP/1001|CONNECT|5|c1-b|1",
                "20|NONE|sales|PJSIP/1001|REMOVEMEMBER|",
                "80|c1|sales|PJSIP/1001|COMPLETECALLER|5|65|1")  # fmt: skip
    events = mapped(lines)
    states = [e["state"] for e in events if e["type"] == "agent.state"]
    assert states == ["available", "busy", "busy", "logged_out"]
    assert agent(board(lines, 50), "PJSIP/1001").state == "busy"  # still bridged at +50
    assert agent(board(lines, 90), "PJSIP/1001").state == "logged_out"


def test_the_formats_across_versions() -> None:
    lines = log(# ENTERQUEUE url|callerid (old), url|callerid|position, and a fourth field.
                "0|c1|sales|NONE|ENTERQUEUE||1001",
                "0|c2|sales|NONE|ENTERQUEUE||1002|2",
                "0|c3|sales|NONE|ENTERQUEUE||1003|3|x",
                # A realtime export: data1..data5, the unused ones empty.
                "0|c4|sales|NONE|ENTERQUEUE||1004|4||",
                # Ringing that was not answered, or was cancelled, and AGENTDUMP: the callers
                # stay queued, the members' states do not change.
                "2|c1|sales|PJSIP/1001|RINGNOANSWER|2000",
                "3|c1|sales|PJSIP/1002|RINGCANCELED|1000",
                "4|c1|sales|PJSIP/1001|AGENTDUMP|",
                # CONNECT holdtime|bridged uniqueid (old) and with ringtime; realtime columns.
                "10|c1|sales|PJSIP/1001|CONNECT|10|c1-b",
                "12|c2|sales|PJSIP/1002|CONNECT|12|c2-b|2",
                "40|c3|sales|PJSIP/1003|CONNECT|40|c3-b|1||",
                # ATTENDEDTRANSFER BRIDGE|id|... and APP|app|...: ended here (not a queue).
                "70|c1|sales|PJSIP/1001|ATTENDEDTRANSFER|BRIDGE|b-1|10|60|1",
                "72|c2|sales|PJSIP/1002|ATTENDEDTRANSFER|APP|Voicemail|12|60|2",
                "100|c3|sales|PJSIP/1003|COMPLETEAGENT|40|60|3||",
                # PAUSEALL / UNPAUSEALL with a reason; PAUSE with a reason.
                "110|NONE|NONE|PJSIP/1001|PAUSEALL|meeting",
                "120|NONE|sales|PJSIP/1002|PAUSE|lunch",
                "130|NONE|NONE|PJSIP/1001|UNPAUSEALL|")  # fmt: skip
    mapper = Mapper()
    events = mapped(lines, mapper)
    assert mapper.ignored == {"RINGNOANSWER": 1, "RINGCANCELED": 1, "AGENTDUMP": 1}
    snap = fold(events, (BASE + 140) * 1000)
    sales = queue(snap, "sales")
    # offered 4; answered c1 (10 s), c2 (12 s), c3 (40 s: late); c4 still waits, 140 s.
    assert (sales.today.offered, sales.today.answered, sales.today.answered_within) == (4, 3, 2)
    assert sales.waiting == 1 and sales.longest_wait_s == pytest.approx(140.0)
    # Handle times: c1 70 - 10 = 60, c2 72 - 12 = 60, c3 100 - 40 = 60.
    assert sales.today.aht_s == pytest.approx(60.0) and sales.today.completed == 3
    assert (agent(snap, "PJSIP/1001").state, agent(snap, "PJSIP/1002").state) == (
        "available", "break")  # fmt: skip
    assert [e.get("reason") for e in events if e.get("state") == "break"] == ["meeting", "lunch"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0|c9|sales|PJSIP/1001|COMPLETECALLER||", "unknown_call"),  # no times to rebuild
        ("0|c9|sales|PJSIP/1001|CONNECT||c9-b|1", "unknown_call"),
        ("0|c9|sales|NONE|SYSCOMPAT|", "unknown_call"),  # never offered, no waittime
        ("0|c9|NONE|PJSIP/1001|COMPLETECALLER|5|10|1", "no_queue"),
        ("0|c9|sales|NONE|COMPLETECALLER|5|10|1", "no_member"),
        ("0|NONE|sales|PJSIP/1001|COMPLETECALLER|5|10|1", "no_callid"),
        ("0|c9|sales|PJSIP/1001|COMPLETEAGENT|5|ten|1", "bad_number"),
        ("0|c9|sales|NONE|WITHDRAW|1|1|-3|", "bad_number"),
    ],
)
def test_an_unusable_line_says_why(text: str, reason: str) -> None:
    [raw] = log(text)
    parsed = parse_line(raw)
    assert isinstance(parsed, QueueLogLine)
    mapper = Mapper()
    with pytest.raises(BadLine) as caught:
        mapper.map(parsed, "k")
    assert caught.value.reason == reason and reason in BAD_REASONS
    assert mapper.state.calls == {} and mapper.ignored == {}


def test_bad_lines_are_counted_by_reason(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("\n".join(log("0|c9|sales|PJSIP/1001|COMPLETECALLER||",
                                  "1|c8|sales|PJSIP/1001|COMPLETECALLER||",
                                  "2|c7|sales|PJSIP/1001|CONNECT|x|c7-b|1"))
                    + "\nnot a line\n")  # fmt: skip
    tailer = Tailer(path, tmp_path / "state.json", lambda events: 0)
    tailer.catch_up().close()
    assert tailer.stats.bad == 4
    assert tailer.stats.bad_reasons == {"unknown_call": 2, "bad_number": 1,
                                        "not_a_queue_log_line": 1}  # fmt: skip


SESSION = log("0|NONE|sales|PJSIP/1001|ADDMEMBER|",
              "0|NONE|sales|PJSIP/1002|ADDMEMBER|PAUSED",
              "10|c1|sales|NONE|ENTERQUEUE||1001|1",
              "12|c1|sales|PJSIP/1001|CONNECT|2|c1-b|1",
              "13|c2|sales|NONE|ENTERQUEUE||1002|2",
              "15|c2|sales|NONE|EXITWITHKEY|1|1|2|2",
              "16|c3|sales|NONE|ENTERQUEUE||1003|1",
              "20|NONE|sales|PJSIP/1001|REMOVEMEMBER|",
              "30|c1|sales|PJSIP/1001|COMPLETECALLER|2|18|1",
              "40|c4|sales|PJSIP/1002|COMPLETEAGENT|10|20|1",
              "41|c3|sales|NONE|WITHDRAW|1|1|25|",
              "50|c5|sales|NONE|ENTERQUEUE||1005|1",
              "60|NONE|NONE|NONE|QUEUESTART|",
              "61|c6|sales|NONE|ENTERQUEUE||1006|1")  # fmt: skip


def run_tailer(path: Path, state: Path, out: list[dict[str, str]]) -> Any:
    def sink(events: list[dict[str, str]]) -> int:
        out.extend(events)
        return 0

    tailer = Tailer(path, state, sink)
    tailer.catch_up().close()
    return tailer.stats


def test_one_go_and_line_by_line_across_restarts_write_the_same_events(tmp_path: Path) -> None:
    whole: list[dict[str, str]] = []
    once = tmp_path / "once"
    once.mkdir()
    (once / "queue_log").write_text("".join(f"{text}\n" for text in SESSION))
    run_tailer(once / "queue_log", once / "state.json", whole)
    pieces: list[dict[str, str]] = []
    slow = tmp_path / "slow"
    slow.mkdir()
    path = slow / "queue_log"
    path.write_text("")
    for text in SESSION:  # a line appended, then a new adapter (a restart) reads it
        with path.open("a") as handle:
            handle.write(f"{text}\n")
        run_tailer(path, slow / "state.json", pieces)
    assert pieces == whole
    # And what they wrote, folded: offered c1..c6 (c4 made up from its completion) = 6;
    # answered c1, c4; left by key c2; abandoned c3 (withdraw, 25 s); ended by the restart
    # c5; c6 waits. 6 = 2 + 1 + 0 + 1 + 1 + 1.
    snap = fold(whole, (BASE + 70) * 1000)
    sales = queue(snap, "sales")
    today = sales.today
    assert (today.offered, today.answered, today.abandoned, today.left_by_key,
            today.ended_by_restart, sales.waiting) == (6, 2, 1, 1, 1, 1)  # fmt: skip
    assert today.aht_s == pytest.approx((18 + 20) / 2)  # c1 30 - 12, c4 its calltime 20
    # 1001 logged out when c1 ended (removed during it); 1002 (added paused, then took c4)
    # logged out by the restart.
    assert agent(snap, "PJSIP/1001").state == "logged_out"
    assert agent(snap, "PJSIP/1002").state == "logged_out"
