"""Hostile files and bodies (issue 14): deep nesting and damaged archives, through the real
commands (`snapshot`, `report`, `replay` with --file, and the ingest gateway over real HTTP),
and fuzz properties: nothing raises past the boundary and every line is accounted for."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import itertools
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest
import redis
from aiohttp import web
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from feeds.files import DamagedFile, Salvage, read_ndjson
from feeds.ingest_app import Gateway, GatewayOptions
from feeds.replay_reader import file_lines
from tests.fuzz import fuzz_settings
from wallboard.app.replay import ReplayApp
from wallboard.cli.main import main
from wallboard.core.config import load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.linedecode import MAX_NESTING, too_deep_at
from wallboard.core.snapshot import build_snapshot
from wallboard.replay.engine import Replay

START = 1_794_362_400_000  # 2026-11-11 10:00 +08:00
END = START + 20 * 60_000
CONFIG = load_config(None)
COMMANDS = ["snapshot", "report", "replay"]


def offered(i: int, **extra: object) -> dict[str, object]:
    return {"type": "contact.offered", "ts": str(START + i * 1000), "contact": f"c{i}",
            "queue": "presale", "channel": "chat", **extra}  # fmt: skip


GOOD = [msgspec.json.encode(offered(i)) for i in range(120)]


def ndjson(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


class Outcome(NamedTuple):
    exit_code: int
    stderr: str
    applied: int | None = None
    rejected: dict[str, int] | None = None
    duplicate: int | None = None
    source: str | None = None  # how the report or the replay names its source

    @property
    def accounted(self) -> int:
        assert self.applied is not None and self.rejected is not None
        assert self.duplicate is not None
        return self.applied + sum(self.rejected.values()) + self.duplicate


def no_traceback(result: Result) -> None:
    """A command that ends by an exception it did not mean (a traceback) fails the test."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"the command raised: {result.output}") from result.exception


def run(command: str, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        *extra: str) -> Outcome:  # fmt: skip
    """`wallboard <command> --file path` in-process; what it folded, read from its output
    (snapshot's JSON, the report's data payload, the replay app's engine)."""
    if command == "snapshot":
        args = ["snapshot", "--file", str(path), "--at", str(END), "--json"]
    else:
        args = [command, "--file", str(path), "--from", str(START), "--to", str(END)]
    out = tmp_path / "report.html"
    if command == "report":
        args += ["-o", str(out), "-q"]
    apps: list[ReplayApp] = []
    monkeypatch.setattr(ReplayApp, "run", lambda self, **_: apps.append(self))
    result = CliRunner().invoke(main, [*args, *extra])
    no_traceback(result)
    if result.exit_code != 0:
        return Outcome(result.exit_code, result.stderr)
    if command == "snapshot":
        data = msgspec.json.decode(result.stdout)
        return Outcome(0, result.stderr, data["events_applied"], data["events_rejected"],
                       data["events_duplicate"])  # fmt: skip
    if command == "report":
        html = out.read_text()
        payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                            html, re.S)  # fmt: skip
        assert payload is not None
        data = msgspec.json.decode(payload.group(1).replace("<\\/", "</"))
        source = re.search(r"source (.*?); [\d,]+ events applied", html)
        return Outcome(0, result.stderr, data["events_applied"], data["events_rejected"],
                       data["events_duplicate"], source.group(1) if source else None)  # fmt: skip
    [app] = apps
    snap = app.replay.end_snapshot
    assert snap is not None
    return Outcome(0, result.stderr, snap.events_applied, dict(snap.events_rejected),
                   snap.events_duplicate, app.source.status.source)  # fmt: skip


def one_error_line(stderr: str, path: Path) -> str:
    """The command's error: one line, naming the file (beside the replay's progress label)."""
    lines = [line for line in stderr.splitlines() if line.strip() and line != "Reading"]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"Error: {path}: "), stderr
    return lines[0]


def warning_line(stderr: str, path: Path) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Warning: ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"Warning: {path}: "), stderr
    return lines[0]


def salvaged_lines(warning: str) -> int:
    found = re.search(r"salvaged ([\d,]+) lines", warning)
    assert found is not None, warning
    return int(found.group(1).replace(",", ""))


# ---- deep nesting in a file ----------------------------------------------------------------

DEEP_LINES = [
    b"[" * 2_000 + b"]" * 2_000,  # a plain deep line
    msgspec.json.encode(offered(500))[:-1] + b',"extra":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    b"[" * 100_000,  # deep and never closed
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_deeply_nested_line_is_malformed_and_the_rest_folds(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "deep.ndjson"
    path.write_bytes(ndjson([GOOD[0], *DEEP_LINES[:2], *GOOD[1:60], DEEP_LINES[2], *GOOD[60:]]))
    outcome = run(command, path, tmp_path, monkeypatch)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.applied == len(GOOD)
    assert outcome.rejected is not None and outcome.rejected["malformed"] == 3
    assert sum(outcome.rejected.values()) == 3


def test_nesting_up_to_the_limit_in_an_unknown_field_is_still_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    inner = MAX_NESTING - 1  # the event's own object is the first level
    shallow = msgspec.json.encode(offered(1))[:-1] + b',"meta":' + b"[" * inner + b"]" * inner
    deeper = msgspec.json.encode(offered(2))[:-1] + b',"meta":' + b"[" * (inner + 1) + \
        b"]" * (inner + 1)  # fmt: skip
    path = tmp_path / "meta.ndjson"
    path.write_bytes(ndjson([shallow + b"}", deeper + b"}"]))
    outcome = run("snapshot", path, tmp_path, monkeypatch)
    assert outcome.applied == 1 and outcome.rejected is not None
    assert outcome.rejected["malformed"] == 1


@pytest.mark.parametrize("junk", [b"9" * 5_000, b"1e999", b'"\xff\xfe"'])
def test_what_an_unknown_field_holds_is_not_checked_by_any_reader(
        junk: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Numbers past the JSON parser's range and bytes that are not UTF-8, in a field the
    contract does not know: ignored by `snapshot` as by the replay's fast path."""
    path = tmp_path / "junk.ndjson"
    path.write_bytes(ndjson([msgspec.json.encode(offered(1))[:-1] + b',"extra":' + junk + b"}",
                             GOOD[2]]))  # fmt: skip
    outcomes = [run(command, path, tmp_path, monkeypatch) for command in COMMANDS]
    assert [(o.applied, o.rejected, o.duplicate) for o in outcomes] == [
        (2, outcomes[0].rejected, 0)] * 3
    assert outcomes[0].rejected is not None and sum(outcomes[0].rejected.values()) == 0


# ---- damaged archives ---------------------------------------------------------------------

ARCHIVE = gzip.compress(ndjson(GOOD), mtime=0)


def _flipped(data: bytes, at: int) -> bytes:
    damaged = bytearray(data)
    damaged[at] ^= 0xFF
    return bytes(damaged)


# name -> (the file's bytes, words of the error, lines salvage keeps: None when it cannot)
FAULTS: dict[str, tuple[bytes, str, int | None]] = {
    "cut at half": (ARCHIVE[:len(ARCHIVE) // 2], "cut short", None),
    "trailer missing": (ARCHIVE[:-8], "cut short", len(GOOD)),
    "flipped byte": (_flipped(ARCHIVE, len(ARCHIVE) // 2), "damaged", None),
    "flipped checksum": (_flipped(ARCHIVE, len(ARCHIVE) - 6), "checksum", len(GOOD)),
    "garbage after": (ARCHIVE + b"garbage after the member", "not gzip data", len(GOOD)),
}  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_damaged_archive_is_one_line_error_and_exit_2(
        command: str, fault: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    data, words, _ = FAULTS[fault]
    path = tmp_path / "day.ndjson.gz"
    path.write_bytes(data)
    outcome = run(command, path, tmp_path, monkeypatch)
    assert outcome.exit_code == 2
    error = one_error_line(outcome.stderr, path)
    assert words in error and "--salvage" in error


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_salvage_folds_what_was_readable_and_says_what_was_lost(
        command: str, fault: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    data, words, kept = FAULTS[fault]
    path = tmp_path / "day.ndjson.gz"
    path.write_bytes(data)
    outcome = run(command, path, tmp_path, monkeypatch, "--salvage")
    assert outcome.exit_code == 0, outcome.stderr
    warning = warning_line(outcome.stderr, path)
    assert words in warning
    lines = salvaged_lines(warning)
    assert outcome.applied is not None and outcome.rejected is not None
    if kept is not None:  # every line was there
        assert lines == outcome.applied == kept and "no line lost" in warning
    elif fault == "cut at half":  # the lines before the cut, and the cut one as malformed
        assert 0 < outcome.applied < len(GOOD) and outcome.rejected["malformed"] == 1
        assert outcome.accounted == lines and "1 line cut" in warning
    else:  # damaged data: whatever came out before zlib refused it, each line accounted for
        assert outcome.applied < len(GOOD) and outcome.accounted <= lines
    if command != "snapshot":  # the report and the replay name their source with the damage
        assert outcome.source is not None and "damaged" in outcome.source
        assert f"salvaged {lines:,} lines" in outcome.source


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("salvage", [False, True])
def test_plain_text_named_gz_is_not_gzip_even_to_salvage(
        command: str, salvage: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "day.ndjson.gz"
    path.write_bytes(ndjson(GOOD))
    outcome = run(command, path, tmp_path, monkeypatch, *(["--salvage"] if salvage else []))
    assert outcome.exit_code == 2
    error = one_error_line(outcome.stderr, path)
    assert "not a gzip file" in error and "--salvage" not in error  # nothing to salvage


@pytest.mark.parametrize("command", COMMANDS)
def test_concatenated_members_are_one_valid_archive(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "day.ndjson.gz"
    path.write_bytes(b"".join(gzip.compress(ndjson(GOOD[i:i + 40])) for i in range(0, 120, 40))
                     + b"\0" * 16)  # zero padding after the last member, as gzip allows
    for extra in ([], ["--salvage"]):
        outcome = run(command, path, tmp_path, monkeypatch, *extra)
        assert outcome.exit_code == 0, outcome.stderr
        assert outcome.applied == len(GOOD) and outcome.accounted == len(GOOD)
        assert "Warning" not in outcome.stderr and "Error" not in outcome.stderr


def test_salvage_is_for_a_file() -> None:
    result = CliRunner().invoke(main, ["snapshot", "--redis", "redis://127.0.0.1:1/0",
                                       "--salvage"])  # fmt: skip
    assert result.exit_code == 2 and "--salvage is for --file" in result.output


# ---- the depth scan agrees with the parser ------------------------------------------------

JSON_TEXT = st.text(alphabet=st.sampled_from('[]{}",:\\ ab\n\t\u00e9'), max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=30,
)  # fmt: skip


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@fuzz_settings()
@given(JSON_VALUES, st.integers(min_value=1, max_value=6))
def test_the_depth_scan_measures_what_the_parser_nests(value: object, limit: int) -> None:
    text = msgspec.json.encode(value)
    assert (too_deep_at(text, limit) >= 0) == (depth_of(value) > limit)


# Token soup: what a crafted line could use to make the scan undercount (quotes and
# backslashes outside strings, stray closers), then thousands of openers the parser would
# recurse into if the scan let the line through.
SOUP = st.lists(st.sampled_from([b'"', b"\\", b'\\"', b"[", b"]", b"{", b"}", b",", b":",
                                  b"1", b"a", b'"k":']), max_size=40).map(b"".join)


@fuzz_settings()
@given(SOUP, st.sampled_from([b"[", b"{", b'{"a":']), SOUP)
def test_no_crafted_line_makes_a_reader_recurse(head: bytes, opener: bytes, tail: bytes) -> None:
    """Whatever precedes 3,000 openers, no reader recurses past the interpreter's limit: the
    line is judged (malformed, or an event) and nothing raises."""
    from wallboard.core.linedecode import decode_line, decode_lines, parse_line

    line = head + opener * 3000 + tail
    parse_line(line)
    decode_line(line)
    decode_lines([line, b'{"type":"x"}'])


# ---- property: hostile NDJSON lines fold, every line accounted for ------------------------

def _line(fields: dict[str, object]) -> bytes:
    return msgspec.json.encode(fields)


VALID = st.builds(
    lambda i, key, entry, meta: _line(offered(i, **key, **entry, **meta)),
    st.integers(min_value=0, max_value=600),
    st.sampled_from([{}, {"id": "k1"}, {"id": "k2"}]),  # producer ids: duplicates
    st.sampled_from([{}, {"_id": f"{START}-0"}, {"_id": f"{START}-1"}]),  # entry ids too
    st.sampled_from([{}, {"meta": {"crm": [1, {"a": "b"}]}}, {"trace": "x"}]),
)  # fmt: skip
RANDOM_BYTES = st.binary(max_size=60)
TRUNCATED = st.tuples(VALID, st.integers(min_value=0)).map(
    lambda pair: pair[0][:pair[1] % max(1, len(pair[0]))])
DEEP = st.builds(
    lambda depth, shape: shape(depth),
    st.sampled_from([MAX_NESTING, MAX_NESTING + 1, 900, 1_000, 5_000, 100_000]),
    st.sampled_from([
        lambda d: b"[" * d + b"]" * d,
        lambda d: b'{"a":' * d + b"1" + b"}" * d,
        lambda d: _line(offered(7))[:-1] + b',"x":' + b"[" * d + b"]" * d + b"}",
        lambda d: _line(offered(8))[:-1] + b',"queue":' + b"[" * d + b"]" * d + b"}",
        lambda d: b"[" * d,
    ]),
)  # fmt: skip
# Huge, tiny and non-finite numbers; in `ts` only ones that are no time (a time after the
# window's end would be a line read and rightly not counted).
NUMBER_TEXT = st.sampled_from([b"9" * 20, b"9" * 400, b"9" * 5_000, b"-" + b"9" * 5_000,
                               b"1e999", b"-1e999", b"1e-999", b"0.0000001", b"-0",
                               b"18446744073709551616"])  # fmt: skip
HUGE = st.builds(
    lambda field, number: b'{"type":"contact.offered","ts":"%d","contact":"c","queue":"q",' % START
    + b'"%s":%s}' % (field, number),
    st.sampled_from([b"value", b"rating", b"v", b"ts", b"contact", b"other"]), NUMBER_TEXT,
)  # fmt: skip
WRONG_TYPES = st.builds(
    lambda i, field, value: _line({**offered(i), field: value}),
    st.integers(min_value=0, max_value=600),
    st.sampled_from(["type", "ts", "contact", "queue", "channel", "value", "rating", "agents",
                     "_id", "_stream"]),
    st.one_of(st.none(), st.booleans(), st.floats(), st.lists(st.integers(), max_size=2),
              st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
              st.integers(max_value=START), st.integers(min_value=10**13),
              st.text(max_size=5)),
)  # fmt: skip
HOSTILE_LINES = st.lists(
    st.one_of(VALID, RANDOM_BYTES, TRUNCATED, DEEP, HUGE, WRONG_TYPES)
    .map(lambda line: line.replace(b"\n", b" ")),
    max_size=25,
)  # fmt: skip


@fuzz_settings(scale=0.5)
@given(HOSTILE_LINES, st.booleans())
def test_hostile_lines_fold_and_every_line_is_accounted_for(
        tmp_path_factory: pytest.TempPathFactory, lines: list[bytes],
        compressed: bool) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / ("lines.ndjson.gz" if compressed else "lines.ndjson")
    data = ndjson(lines)
    path.write_bytes(gzip.compress(data) if compressed else data)
    counted = sum(1 for line in lines if line.strip())  # blank lines are skipped

    state = BoardState(CONFIG)  # `snapshot --file`
    fold_until(state, read_ndjson(path), END)
    snap = build_snapshot(state)
    engine = Replay(CONFIG, START, END)  # `replay` and `report`
    engine.load(file_lines(path))
    end = engine.end_snapshot
    assert end is not None
    for result in (snap, end):
        accounted = (result.events_applied + sum(result.events_rejected.values())
                     + result.events_duplicate)  # fmt: skip
        assert accounted == counted
    assert (end.events_applied, dict(end.events_rejected), end.events_duplicate) == (
        snap.events_applied, dict(snap.events_rejected), snap.events_duplicate)


# ---- property: damaged gzip streams end cleanly -------------------------------------------

@st.composite
def archives(draw: st.DrawFn) -> tuple[bytes, int, str]:
    """(file bytes, valid lines put in, what was done to it)."""
    count = draw(st.integers(min_value=1, max_value=40))
    lines = GOOD[:count]
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=max(1, count - 1)),
                               max_size=3)))  # fmt: skip
    bounds = [0, *[c for c in cuts if c < count], count]
    level = draw(st.integers(min_value=0, max_value=9))
    data = b"".join(gzip.compress(ndjson(lines[a:b]), compresslevel=level, mtime=0)
                    for a, b in itertools.pairwise(bounds))  # fmt: skip
    damage = draw(st.sampled_from(["none", "truncated", "flipped", "garbage", "plain"]))
    if damage == "truncated":
        data = data[:draw(st.integers(min_value=0, max_value=len(data) - 1))]
    elif damage == "flipped":
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif damage == "garbage":
        data += draw(st.binary(min_size=1, max_size=40))
    elif damage == "plain":
        data = ndjson(lines)
    return data, count, damage


@fuzz_settings(scale=0.5)
@given(archives(), st.booleans())
def test_a_damaged_gzip_stream_succeeds_or_exits_2_with_one_line(
        tmp_path_factory: pytest.TempPathFactory, archive: tuple[bytes, int, str],
        salvage: bool) -> None:  # fmt: skip
    data, count, damage = archive
    path = tmp_path_factory.mktemp("gz") / "day.ndjson.gz"
    path.write_bytes(data)
    args = ["snapshot", "--file", str(path), "--at", str(END), "--json"]
    result = CliRunner().invoke(main, [*args, *(["--salvage"] if salvage else [])])
    no_traceback(result)
    assert result.exit_code in (0, 2), result.output
    # The replay's reader (`replay`, `report`) sees the same fault, or none.
    salvaged = Salvage() if salvage else None
    try:
        replay_lines = sum(1 for _ in file_lines(path, salvage=salvaged))
    except DamagedFile as exc:
        assert result.exit_code == 2 and str(path) in str(exc)
        replay_lines = None
    if result.exit_code == 2:
        one_error_line(result.stderr, path)
        assert replay_lines is None
        return
    assert replay_lines is not None
    snap = msgspec.json.decode(result.stdout)
    accounted = (snap["events_applied"] + sum(snap["events_rejected"].values())
                 + snap["events_duplicate"])  # fmt: skip
    if damage in ("none", "plain") or not salvage or salvaged is None or salvaged.fault is None:
        # Whole (or a fault gzip cannot see: a header byte it does not check, a cut between
        # members): the lines are valid ones, all folded.
        assert "Warning" not in result.stderr
        assert snap["events_applied"] == accounted <= count
        if damage == "none":
            assert accounted == count
        return
    lines = salvaged_lines(warning_line(result.stderr, path))
    assert lines == salvaged.lines  # both readers stop at the same place
    assert accounted <= lines  # damaged data may hold blank lines, which are not entries
    if damage == "truncated":  # a cut leaves valid lines, and the cut one
        assert accounted == lines
        assert snap["events_applied"] == lines - salvaged.lines_cut


# ---- the gateway over real HTTP -----------------------------------------------------------

TOKEN = "tok-hostile-0123456789"


class RunningGateway(NamedTuple):
    port: int
    stream: str
    client: redis.Redis


@pytest.fixture(scope="module")
def gateway(redis_url: str) -> Iterator[RunningGateway]:
    """The gateway on a loopback port, its own event loop in a thread (sync hypothesis tests
    post to it over real HTTP); stopped and its stream deleted however the tests end."""
    stream = f"test:hostile:{uuid.uuid4().hex}"
    options = GatewayOptions(redis_url=redis_url, stream=stream, tokens=(TOKEN,),
                             window_ms=60_000, rate_per_s=1e9, burst=10**9)  # fmt: skip
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(Gateway(options).app())
    ready = threading.Event()
    failed: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        except BaseException as exc:  # told to the test below
            failed.append(exc)
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    thread = threading.Thread(target=serve, name="hostile-gateway", daemon=True)
    thread.start()
    client = redis.Redis.from_url(redis_url)
    try:
        assert ready.wait(15), "the gateway did not start"
        assert not failed, failed
        port = runner.addresses[0][1]
        yield RunningGateway(port, stream, client)
    finally:
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        client.delete(stream)
        client.close()


def post(gw: RunningGateway, body: bytes, content_type: str | None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    try:
        connection.request("POST", "/v1/events", body=body, headers=headers)
        response = connection.getresponse()
        status, raw = response.status, response.read()
        kind = response.getheader("Content-Type", "")
    finally:
        connection.close()
    assert kind.startswith("application/json"), (status, raw[:200])
    return status, msgspec.json.decode(raw)


def test_the_gateway_refuses_deep_nesting_with_400_naming_the_event(
        gateway: RunningGateway) -> None:  # fmt: skip
    detail = f"event nests arrays and objects deeper than {MAX_NESTING} levels"
    now = str(int(time.time() * 1000))
    fine = _line({**offered(1), "ts": now})
    deep = b"[" * 5_000 + b"]" * 5_000
    cases = [
        (deep, "application/json", 0),
        (b"[" + fine + b"," + fine + b"," + fine[:-1] + b',"x":' + deep + b"}]",
         "application/json", 2),
        (fine + b"\n\n" + deep + b"\n" + fine, "application/x-ndjson", 1),
        (b"[" * 100_000, "application/json", 0),
    ]  # fmt: skip
    for body, kind, index in cases:
        status, answer = post(gateway, body, kind)
        assert status == 400, answer
        [error] = answer["errors"]
        assert {key: error[key] for key in ("index", "reason", "field", "detail")} == {
            "index": index, "reason": "malformed", "field": None, "detail": detail}
    assert gateway.client.xlen(gateway.stream) == 0


CONTENT_TYPES = st.one_of(
    st.sampled_from([None, "application/json", "application/json; charset=utf-8",
                     "APPLICATION/X-NDJSON", "application/jsonl", "text/plain", "", "json",
                     "application/xml", "multipart/form-data; boundary=x",
                     "application/x-www-form-urlencoded"]),
    st.from_regex(r"[a-z]{1,10}/[a-z0-9.+-]{1,15}(; ?[a-z]{1,8}=[a-z0-9]{1,8})?",
                  fullmatch=True),
)  # fmt: skip


def _event_now(i: int) -> dict[str, object]:
    return {**offered(i), "ts": str(int(time.time() * 1000))}


BODIES = st.one_of(
    st.binary(max_size=200),
    DEEP,
    st.builds(lambda n, item: b"[" + b",".join([item] * n) + b"]",
              st.integers(min_value=0, max_value=20_000),
              st.sampled_from([b"0", b"{}", b"[]", b'"x"', b"null", b'{"type":"x"}'])),
    st.lists(st.one_of(st.builds(lambda i: _line(_event_now(i)), st.integers(0, 50)),
                       RANDOM_BYTES, TRUNCATED, HUGE, WRONG_TYPES), max_size=6)
    .map(lambda lines: b"\n".join(line.replace(b"\n", b" ") for line in lines)),
    st.lists(st.builds(lambda i: _line(_event_now(i)), st.integers(0, 50)), max_size=4)
    .map(lambda lines: b"[" + b",".join(lines) + b"]"),
)  # fmt: skip


@pytest.mark.redis
@fuzz_settings(scale=0.5)
@given(BODIES, CONTENT_TYPES)
def test_any_body_gets_a_json_answer_and_never_a_5xx(
        gateway: RunningGateway, body: bytes, content_type: str | None) -> None:  # fmt: skip
    before = gateway.client.xlen(gateway.stream)
    status, answer = post(gateway, body, content_type)
    assert status < 500, answer
    if status == 202:
        assert answer["accepted"] == len(answer["ids"])
        return
    assert 400 <= status < 500
    assert "errors" in answer or "error" in answer
    assert gateway.client.xlen(gateway.stream) == before  # a refused request writes nothing
