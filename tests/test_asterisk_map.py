"""queue_log lines to events (no Redis), and following a live file through a rotation."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from feeds.asterisk_map import BadLine, Mapper
from feeds.asterisk_parse import ParseError, QueueLogLine, parse_line
from feeds.asterisk_tail import Tailer


def line(text: str) -> QueueLogLine:
    parsed = parse_line(text)
    assert isinstance(parsed, QueueLogLine), parsed
    return parsed


def kinds(events: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(fields["type"], fields["ts"]) for fields in events]


def test_parse_line() -> None:
    parsed = line("1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000\n")
    assert parsed == QueueLogLine(1_366_720_340_000, "1366720340.303267", "MYQUEUE", "SIP/8007",
                                  "RINGNOANSWER", ("1000",))  # fmt: skip
    assert line("1366720340.25|NONE|q|NONE|QUEUESTART|").ts == 1_366_720_340_250
    assert parsed.datum(0) == "1000" and parsed.datum(3) == ""
    assert parse_line("1366720340|x|q|a") == ParseError("4 fields, a queue_log line has at least 5")
    assert isinstance(parse_line("yesterday|x|q|a|CONNECT|1"), ParseError)
    assert isinstance(parse_line("1366720340|x|q|a||1"), ParseError)


def test_connect_without_enterqueue_synthesises_the_offer() -> None:
    mapper = Mapper()
    events = mapper.map(line("1000000100|c1|sales|PJSIP/1001|CONNECT|25|c1-b|4"), "k")
    assert kinds(events) == [("contact.offered", "1000000075000"),
                             ("contact.answered", "1000000100000"),
                             ("agent.state", "1000000100000")]  # fmt: skip
    # The same id as the ENTERQUEUE it stands for would have had.
    entered = Mapper().map(line("1000000075|c1|sales|NONE|ENTERQUEUE||138|1"), "other")
    assert events[0]["id"] == entered[0]["id"] == "ast-c1-sales-1000000075"
    assert events[2]["state"] == "busy"
    with pytest.raises(BadLine, match="holdtime"):
        Mapper().map(line("1000000100|c2|sales|PJSIP/1001|CONNECT|soon|x|4"), "k")
    with pytest.raises(BadLine, match="without a queue member"):
        Mapper().map(line("1000000100|c2|sales|NONE|CONNECT|3|x|4"), "k")


def test_abandons_use_each_events_waittime_field() -> None:
    mapper = Mapper()
    # EXITWITHKEY: key|position|origposition|waittime; unseen call -> offer at ts - waittime
    # (100 - 30 = 70). Not an abandon in app_queue.c: `contact.ended reason=key`.
    events = mapper.map(line("1000000100|c1|sales|NONE|EXITWITHKEY|5|1|1|30"), "k")
    assert kinds(events) == [("contact.offered", "1000000070000"),
                             ("contact.ended", "1000000100000")]  # fmt: skip
    assert events[1]["reason"] == "key"
    mapper.map(line("1000000200|c2|sales|NONE|ENTERQUEUE||138|1"), "k2")
    events = mapper.map(line("1000000210|c2|sales|NONE|EXITEMPTY|1|1|10"), "k3")
    assert kinds(events) == [("contact.abandoned", "1000000210000")]


def test_transfers_pauses_and_membership() -> None:
    mapper = Mapper(known_queues=("vip",))
    mapper.map(line("1000000000|NONE|sales|PJSIP/1001|ADDMEMBER|"), "a")
    mapper.map(line("1000000000|NONE|vip|PJSIP/1001|ADDMEMBER|"), "b")
    mapper.map(line("1000000010|c1|sales|NONE|ENTERQUEUE||138|1"), "c")
    mapper.map(line("1000000020|c1|sales|PJSIP/1001|CONNECT|10|x|2"), "d")
    # PAUSE while talking: on break from now (the reason in data1, newer versions).
    [paused] = mapper.map(line("1000000030|NONE|sales|PJSIP/1001|PAUSE|training"), "e")
    assert (paused["state"], paused["reason"], paused["queues"]) == ("break", "training",
                                                                     "sales,vip")  # fmt: skip
    # ATTENDEDTRANSFER: method|data|holdtime|calltime|origposition; BRIDGE is not a queue.
    done, agent = mapper.map(line("1000000040|c1|sales|PJSIP/1001|ATTENDEDTRANSFER|BRIDGE|"
                                  "b-123|10|20|1"), "f")  # fmt: skip
    assert (done["type"], done["agent"], agent["state"]) == ("contact.completed", "PJSIP/1001",
                                                             "break")  # fmt: skip
    [back] = mapper.map(line("1000000050|NONE|NONE|PJSIP/1001|UNPAUSEALL|"), "g")
    assert back["state"] == "available" and "reason" not in back
    mapper.map(line("1000000060|c2|sales|NONE|ENTERQUEUE||139|1"), "h")
    mapper.map(line("1000000065|c2|sales|PJSIP/1001|CONNECT|5|y|2"), "i")
    moved, _free = mapper.map(line("1000000070|c2|sales|PJSIP/1001|TRANSFER|vip|ctx|5|5|1"), "j")
    assert (moved["type"], moved["to_queue"]) == ("contact.transferred", "vip")
    [left] = mapper.map(line("1000000080|NONE|vip|PJSIP/1001|REMOVEMEMBER|"), "k")
    assert (left["state"], left["queues"]) == ("available", "sales")
    [gone] = mapper.map(line("1000000090|NONE|sales|PJSIP/1001|REMOVEMEMBER|"), "l")
    assert gone["state"] == "logged_out" and "queues" not in gone
    # QUEUESTART: c2, still waiting in vip after the transfer, ends (the member is already
    # logged out: no state for it).
    [ended] = mapper.map(line("1000000095|NONE|NONE|NONE|QUEUESTART|"), "m")
    assert (ended["type"], ended["contact"], ended["reason"]) == ("contact.ended", "c2",
                                                                  "restart")  # fmt: skip
    assert mapper.ignored == {}  # it gave an event: mapped, not ignored


def test_follow_reads_new_lines_and_the_rotated_tail(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("1000000000|NONE|sales|PJSIP/1001|ADDMEMBER|\n")
    written: list[dict[str, str]] = []

    def sink(events: list[dict[str, str]]) -> int:
        written.extend(events)
        return 0

    tailer = Tailer(log, tmp_path / "state.json", sink)
    handle = tailer.catch_up()
    assert len(written) == 1
    stop = threading.Event()
    follower = threading.Thread(target=tailer.follow, args=(handle,),
                                kwargs={"poll_s": 0.02, "stop": stop.is_set})  # fmt: skip
    follower.start()

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(written) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(written) == count

    try:
        with log.open("a") as old:
            old.write("1000000010|c1|sales|NONE|ENTERQUEUE||138|1\n")
            old.flush()
            wait_for(2)
            log.rename(tmp_path / "queue_log.1")
            old.write("1000000011|c1|sales|NONE|ABANDON|1|1|1\n")  # late line in the old file
        log.write_text("1000000020|c2|sales|NONE|ENTERQUEUE||139|1\n")
        wait_for(4)
    finally:
        stop.set()
        follower.join(10)
    assert [fields["type"] for fields in written] == [
        "agent.state", "contact.offered", "contact.abandoned", "contact.offered"]
    assert tailer.stats.lines == 4
