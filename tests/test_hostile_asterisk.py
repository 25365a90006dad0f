"""Hostile Asterisk queue_log lines (issue 14): whatever bytes a queue_log holds, the adapter
never raises, and every line is accounted for: it gave events, or it is an ignored event
(counted by name), a blank line, or a bad line (counted and reported with its number).

Lines are built field by field (`epoch|callid|queue|agent|event|data...`) from plausible and
hostile parts: bytes that are not UTF-8, NUL and other controls, markup, bidi controls, pipes,
huge and negative numbers, NaN-looking times, unknown and lower-case verbs, missing fields,
very long fields; and some lines are random bytes. Each property reads them through the real
tailer (a file on disk, the state file, the mapper), as `wallboard asterisk --once` does.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from feeds.asterisk_map import BadLine, Mapper
from feeds.asterisk_parse import QueueLogLine, parse_line
from feeds.asterisk_tail import Stats, Tailer, load_state
from tests.fuzz import fuzz_settings
from wallboard.cli.main import main
from wallboard.core.events import Rejection, decode

QUEUES = ("sales", "support", "vip")
VERBS = ("ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON",
         "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "TRANSFER", "BLINDTRANSFER",
         "ATTENDEDTRANSFER", "AGENTLOGIN", "AGENTCALLBACKLOGIN", "AGENTLOGOFF",
         "AGENTCALLBACKLOGOFF", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "PAUSEALL", "UNPAUSE",
         "UNPAUSEALL", "RINGNOANSWER", "QUEUESTART", "CONFIGRELOAD", "DID", "INFO",
         "WITHDRAW", "SYSCOMPAT", "RINGCANCELED", "AGENTDUMP")  # fmt: skip

HOSTILE_TEXT = st.one_of(
    st.sampled_from([
        b"\xff", b"a\xfeb", b"\xc3", b"\xed\xa0\x80", b"\x00", b"x\x00y", b"\x1b[31m",
        b"\x1b]0;t\x07", b"\r", b"\x7f", b"\xc2\x9b2J", b"[b]x[/b]", b"a[/x]b",
        b"[link=http://x]y", "\u202eevil".encode(), "\u2066x\u2069".encode(), b"<script>",
        b"%s%n", b"\\x00", b"none", b"", b" ", "代理".encode(), "²".encode(), b"a" * 300,
        b"b" * 5000,
    ]),
    st.binary(max_size=12),
    st.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
)  # fmt: skip
HOSTILE_NUMBER = st.sampled_from([
    b"-1", b"-5", b"nan", b"NaN", b"inf", b"-inf", b"1e9", b"0x10", b"1.5", b"\xd9\xa3",
    "²".encode(), b"9" * 11, b"9" * 20, b"9" * 5000, b" 5", b"5 ", b"",
])  # fmt: skip
HOSTILE_EPOCH = st.sampled_from([
    b"0", b"-1366720340", b"nan", b"NaN", b"inf", b"1e9", b"", b"99999999999",
    b"99999999999.999999", b"100000000", b"1366720340.", b".5", b"1366720340.1234567",
    b"9" * 400, b"\xff1366720340",
])  # fmt: skip
HOSTILE_VERB = st.one_of(
    st.sampled_from(VERBS).map(lambda v: v.lower().encode()),
    st.sampled_from([b"FOO", b"X" * 41, b"1ENTER", b"ENTER QUEUE", b"", b"CONNECT\x00"]),
)  # fmt: skip


def mostly(plain: st.SearchStrategy[bytes],
           hostile: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:  # fmt: skip
    """Plain seven times in eight: a line's other fields plausible often enough that it
    reaches the mapper, and calls and members build up memory over the lines."""
    return st.integers(0, 7).flatmap(lambda n: hostile if n == 0 else plain)


EPOCH = mostly(st.one_of(
    st.integers(1_000_000_000, 1_000_000_600).map(lambda n: str(n).encode()),
    st.integers(1_000_000_000, 1_000_000_600).map(lambda n: f"{n}.{n % 1000:03d}".encode()),
), HOSTILE_EPOCH)  # fmt: skip
CALLID = mostly(st.sampled_from([b"c1", b"c2", b"c3", b"1366720340.303267", b"NONE"]),
                HOSTILE_TEXT)  # fmt: skip
QUEUE = mostly(st.sampled_from([*(q.encode() for q in QUEUES), b"other", b"NONE"]),
               HOSTILE_TEXT)  # fmt: skip
AGENT = mostly(st.sampled_from([b"PJSIP/1001", b"SIP/8007", b"Local/1001@agents", b"NONE"]),
               HOSTILE_TEXT)  # fmt: skip
CALL_VERBS = ("ENTERQUEUE", "CONNECT", "COMPLETECALLER", "ABANDON", "TRANSFER", "EXITWITHKEY")
VERB = mostly(st.sampled_from(VERBS + CALL_VERBS * 4).map(str.encode), HOSTILE_VERB)
DATUM = mostly(st.one_of(st.integers(0, 600).map(lambda n: str(n).encode()),
                         st.sampled_from([*(q.encode() for q in QUEUES), b"1001", b"BRIDGE",
                                          b"lunch", b"PAUSED", b"LINK", b"APP", b""])),
               st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT))  # fmt: skip


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One queue_log line, without its newline (and none inside: that makes two lines)."""
    if draw(st.integers(0, 19)) == 0:  # random bytes, or a blank line
        line = draw(st.one_of(st.binary(max_size=60), st.sampled_from([b"", b"  ", b"\t"])))
    else:
        fields = [draw(EPOCH), draw(CALLID), draw(QUEUE), draw(AGENT), draw(VERB)]
        fields += draw(st.lists(DATUM, max_size=6))
        if draw(st.integers(0, 9)) == 0:  # fields missing
            del fields[draw(st.integers(0, len(fields))):]
        line = b"|".join(fields)
    crlf = draw(st.integers(0, 3)) == 0  # a file written on Windows
    return line.replace(b"\n", b"") + (b"\r" if crlf else b"")


LOGS = st.lists(lines(), max_size=40)


class Run:
    """One `--once` pass of the real tailer over a file: its events, stats and reports."""

    def __init__(self, log: Path, state: Path) -> None:
        self.events: list[dict[str, str]] = []
        self.reports: list[str] = []
        self.tailer = Tailer(log, state, self._sink, known_queues=QUEUES,
                             report=self.reports.append)  # fmt: skip
        self.tailer.catch_up().close()

    def _sink(self, events: list[dict[str, str]]) -> int:
        for fields in events:
            for value in (*fields, *fields.values()):
                value.encode("utf-8")  # what the Redis client does: strict UTF-8
        self.events.extend(events)
        return 0

    @property
    def stats(self) -> Stats:
        return self.tailer.stats


@contextmanager
def queue_log(content: bytes) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="wb-queue-log-") as folder:
        log, state = Path(folder) / "queue_log", Path(folder) / "state.json"
        log.write_bytes(content)
        yield log, state


def accounted(stats: Stats) -> int:
    return stats.mapped + stats.bad + stats.blank + sum(stats.ignored.values())


@fuzz_settings()
@given(LOGS)
def test_every_line_is_accounted_for_and_nothing_raises(log_lines: list[bytes]) -> None:
    with queue_log(b"".join(line + b"\n" for line in log_lines)) as (log, state):
        run = Run(log, state)
        stats = run.stats
        assert stats.lines == len(log_lines)
        assert accounted(stats) == len(log_lines)
        assert stats.events == len(run.events)
        # Every bad line is reported once, by its number, in plain printable text.
        bad = [r for r in run.reports if ": bad line: " in r]
        assert len(bad) == stats.bad == len(run.reports)
        assert len({r.split(": bad line: ")[0] for r in bad}) == stats.bad
        assert all(r.isprintable() for r in bad)
        # Whatever was written is what any board accepts.
        for fields in run.events:
            assert not isinstance(decode(fields), Rejection), fields
        # The state file is written (with the mapper's memory) and says all was read.
        saved = load_state(state)
        if log_lines:
            assert saved is not None and saved.file is not None
            assert saved.file.offset == log.stat().st_size
            assert saved.file.line == len(log_lines)


@fuzz_settings(scale=0.5)
@given(LOGS, st.data())
def test_a_restart_anywhere_gives_the_same_events(log_lines: list[bytes],
                                                   data: st.DataObject) -> None:  # fmt: skip
    """Read in two runs (the state file between them) or in one: the same events, and the
    lines counted once. The mapper's memory survives its state file."""
    cut = data.draw(st.integers(0, len(log_lines)), label="restart after line")
    whole = b"".join(line + b"\n" for line in log_lines)
    with queue_log(whole) as (log, state):
        once = Run(log, state)
    with queue_log(b"".join(line + b"\n" for line in log_lines[:cut])) as (log, state):
        first = Run(log, state)
        with log.open("ab") as more:
            more.write(b"".join(line + b"\n" for line in log_lines[cut:]))
        second = Run(log, state)
    assert first.events + second.events == once.events
    assert first.stats.lines + second.stats.lines == once.stats.lines == len(log_lines)
    assert first.stats.bad + second.stats.bad == once.stats.bad
    assert accounted(first.stats) + accounted(second.stats) == len(log_lines)


@fuzz_settings()
@given(st.lists(lines(), min_size=1, max_size=20))
def test_a_bad_line_changes_nothing_the_mapper_remembers(log_lines: list[bytes]) -> None:
    """A skipped line is skipped: the mapper's memory after a bad line is what it was."""
    mapper = Mapper(known_queues=QUEUES)
    for number, raw in enumerate(log_lines):
        parsed = parse_line(raw.decode("utf-8", "surrogateescape"))
        if not isinstance(parsed, QueueLogLine):
            continue
        before = copy.deepcopy(mapper.state)
        try:
            mapper.map(parsed, f"k{number}")
        except BadLine:
            assert mapper.state == before, raw
        msgspec.json.encode(mapper.state)  # the state file can always be written


# ---- the faults found, one line each ---------------------------------------------------------


def one_line(raw: bytes) -> Run:
    with queue_log(raw + b"\n") as (log, state):
        return Run(log, state)


@pytest.mark.parametrize("raw", [
    b"1000000100|c1|sales|PJSIP/1001|CONNECT|" + b"9" * 5000 + b"|c1-b|4",
    b"1000000100|c1|sales|NONE|ABANDON|1|1|" + b"9" * 5000,
], ids=["holdtime", "waittime"])  # fmt: skip
def test_a_number_too_long_for_int_is_a_bad_line(raw: bytes) -> None:
    """It raised ValueError (Python's 4,300-digit limit on int()) and stopped the adapter."""
    run = one_line(raw)
    assert run.stats.bad == 1 and run.events == []
    assert "is not a number of seconds" in run.reports[0]


def test_bytes_that_are_not_utf8_make_a_bad_line_not_a_changed_name() -> None:
    """They were replaced by U+FFFD, so `a\\xffb` and `a\\xfeb` became the same agent."""
    run = one_line(b"1000000100|NONE|sales|a\xffb|ADDMEMBER|")
    assert run.events == [] and run.stats.bad == 1
    assert "not valid UTF-8" in run.reports[0]
    # Bytes in a field no event carries (ENTERQUEUE's caller id) change nothing.
    run = one_line(b"1000000100|c1|sales|NONE|ENTERQUEUE||\xe9milie|1")
    assert [fields["type"] for fields in run.events] == ["contact.offered"]


def test_blank_lines_are_counted() -> None:
    with queue_log(b"\n  \n1000000100|NONE|sales|NONE|QUEUESTART|\n\r\n") as (log, state):
        run = Run(log, state)
    assert run.stats.lines == 4 and run.stats.blank == 3
    assert run.stats.ignored == {"QUEUESTART": 1}


@pytest.mark.parametrize(("raw", "why"), [
    (b"1000000100|c1|sales|PJSIP/1001|PAUSE|" + b"r" * 300, "reason is longer than 256"),
    (b"1000000100|c1|s\x00les|NONE|ENTERQUEUE||138|1", "control character"),
    (b"1000000100|c1|" + b"q" * 300 + b"|NONE|ENTERQUEUE||138|1", "longer than 256"),
    (b"1000000100|c1|sales|PJSIP/1001|CONNECT|9999999999|c1-b|4", "ts"),
], ids=["long-pause-reason", "nul-in-queue", "long-queue", "offer-before-1970"])  # fmt: skip
def test_a_bad_line_leaves_no_trace(raw: bytes, why: str) -> None:
    """A line the contract refuses used to stay half-applied in the mapper: a pause without
    its event, a call in a queue no event names, a member no event made."""
    mapper = Mapper(known_queues=QUEUES)
    parsed = parse_line(raw.decode("utf-8", "surrogateescape"))
    assert isinstance(parsed, QueueLogLine)
    with pytest.raises(BadLine, match=why):
        mapper.map(parsed, "k")
    assert mapper.state == Mapper().state
    # The agent's next state is what the log said before the bad line: not on a break.
    events = mapper.map(line_of(b"1000000200|NONE|sales|PJSIP/1001|AGENTLOGIN|"), "k2")
    assert events[0]["state"] == "available"


def line_of(raw: bytes) -> QueueLogLine:
    parsed = parse_line(raw.decode())
    assert isinstance(parsed, QueueLogLine)
    return parsed


def test_a_first_line_over_64_kib_is_not_taken_for_a_new_file() -> None:
    """The saved head hashed the whole first line, the check on restart only its first 64 KiB:
    every restart read the file again from the start."""
    first = b"1000000100|NONE|sales|NONE|INFO|" + b"x" * 70_000
    with queue_log(first + b"\n") as (log, state):
        Run(log, state)
        with log.open("ab") as more:
            more.write(b"1000000101|NONE|sales|NONE|QUEUESTART|\n")
        again = Run(log, state)
    assert again.stats.lines == 1 and again.reports == []


@pytest.mark.redis
def test_the_command_writes_only_valid_events_and_counts_every_line(
        tmp_path: Path, redis_url: str, stream_key: str) -> None:  # fmt: skip
    """`wallboard asterisk --once` into the suite's server: a call amid hostile lines. The
    summary accounts for every line; what the stream holds is the call, every entry valid."""
    log = tmp_path / "queue_log"
    log.write_bytes(b"\n".join([
        b"1000000100|c1|sales|NONE|ENTERQUEUE||\xe9milie|1",  # caller id not UTF-8: fine
        b"1000000101|c1|sales|a\xffb|CONNECT|1|c1-b|1",  # member not UTF-8: bad
        b"1000000102|c1|sales|PJSIP/1001|CONNECT|2|c1-b|1",
        b"",
        b"1000000103|c1|sales|PJSIP/1001|CONNECT|" + b"9" * 5000 + b"|c1-b|1",  # bad
        b"\x00\x1b[2J|[/x]|\xed\xa0\x80",  # bad
        b"1000000104|NONE|sales|PJSIP/1001|PAUSE|" + b"r" * 300,  # bad: the reason
        b"1000000105|c1|sales|PJSIP/1001|COMPLETECALLER|2|3|1",
        b"1000000106|NONE|NONE|NONE|QUEUESTART|",
    ]) + b"\n")  # fmt: skip
    result = CliRunner().invoke(main, ["asterisk", "--queue-log", str(log), "--redis", redis_url,
                                       "--stream", stream_key, "--state",
                                       str(tmp_path / "state.json"), "--once"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = [line for line in result.stderr.splitlines() if line.startswith("read ")]
    # QUEUESTART logs the member (available after the completion) out: the sixth event. The
    # bad lines by reason: line 2 (member not UTF-8) and 6 (garbage) are not queue_log lines,
    # line 5 a holdtime of 5,000 digits, line 7 a reason over 256 characters.
    assert summary == [f"read 9 lines from {log}: 6 events (0 already written), 4 bad lines "
                       "(bad_number 1, not_a_queue_log_line 2, rejected_by_contract 1), "
                       "1 blank lines"]  # fmt: skip
    assert [line.split(": bad line: ")[0] for line in result.stderr.splitlines()
            if ": bad line: " in line] == [f"{log}:{n}" for n in (2, 5, 6, 7)]  # fmt: skip
    client = redis.Redis.from_url(redis_url)  # bytes, as a board reads them
    try:
        entries: Any = client.xrange(stream_key)
    finally:
        client.close()
    fields = [{k.decode(): v.decode() for k, v in raw.items()} for _id, raw in entries]  # strict
    assert [(f["type"], f.get("state")) for f in fields] == [
        ("contact.offered", None), ("contact.answered", None), ("agent.state", "busy"),
        ("contact.completed", None), ("agent.state", "available"),
        ("agent.state", "logged_out")]  # fmt: skip
    assert all(not isinstance(decode(f), Rejection) for f in fields)
