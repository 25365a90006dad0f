"""Hostile bytes in Redis streams: an entry that is not UTF-8 (in a key or a value) is rejected
as `bad_encoding` and every reader carries on: `snapshot --redis`, the live feed, the
aggregator, replay and report from Redis, export (and what reads its archive), and the
simulator's control link. Against the suite's real server, entries written as raw bytes.

The hand-worked stream (IDs at the events' times, Asia/Shanghai): its first entry has agent
b"x\\xff", its last a field *name* b"ag\\xffent"; between them a1 logs in, c1 and c2 are
offered to `vip`, a1 answers c1. So: applied 4, bad_encoding 2; offered 2, answered 1,
waiting 1; one agent known.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from feeds.aggregator import Aggregator
from feeds.live import LiveFeed
from feeds.redis_window import connect, read_streams
from feeds.replay_reader import file_lines, redis_lines, stream_top_ms, undecodable_line
from feeds.simulator.model import Simulator
from feeds.simulator.profile import load_profile
from feeds.simulator.writers import ControlLink, stream_top
from feeds.snapshot_wire import decode_entry
from tests.fuzz import fuzz_settings
from tests.scenario import at, ms
from wallboard.cli.main import main
from wallboard.core.config import Config, FeedSection, load_config
from wallboard.core.events import REASONS, Event, Rejection, decode
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, fold_until
from wallboard.core.linedecode import decode_line, decode_lines, parse_line
from wallboard.core.snapshot import build_snapshot
from wallboard.core.timeutil import parse_event_time
from wallboard.replay.engine import Replay

T0 = "2026-11-11 10:00:00"
START = at(T0, 0)
END = at(T0, 60)  # the snapshot time and the fixed clock of the live readers
LAST_MS = 7_258_118_400_000  # the latest event time the contract reads
RawFields = dict[bytes, bytes]


def hand_entries() -> list[RawFields]:
    def t(seconds: int) -> bytes:
        return str(at(T0, seconds)).encode()

    return [
        {b"type": b"agent.state", b"ts": t(0), b"agent": b"x\xff", b"state": b"busy"},
        {b"type": b"agent.state", b"ts": t(1), b"agent": b"a1", b"state": b"available"},
        {b"type": b"contact.offered", b"ts": t(2), b"contact": b"c1", b"queue": b"vip",
         b"channel": b"chat"},
        {b"type": b"contact.offered", b"ts": t(3), b"contact": b"c2", b"queue": b"vip",
         b"channel": b"chat"},
        {b"type": b"contact.answered", b"ts": t(4), b"contact": b"c1", b"agent": b"a1"},
        {b"type": b"agent.state", b"ts": t(5), b"ag\xffent": b"a2", b"state": b"busy"},
    ]  # fmt: skip


def write_raw(client: redis.Redis, key: str, entries: list[RawFields]) -> list[str]:
    """XADD each entry as it is (bytes), with an ID at its event time when it has one."""
    ids = []
    for number, fields in enumerate(entries):
        ts = parse_event_time(fields.get(b"ts", b"").decode("utf-8", "replace"))
        entry_id = f"{ts if ts is not None else START + number}-*"
        ids.append(client.xadd(key, fields, id=entry_id).decode())  # type: ignore[arg-type, union-attr]
    return ids


@pytest.fixture
def raw_client(redis_url: str) -> Iterator[redis.Redis]:
    """Bytes in, bytes out: how a hostile producer writes."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def keys(raw_client: redis.Redis, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """An event stream, an (empty) control stream and a config naming both, all the test's own."""
    stream, control = f"test:{uuid.uuid4().hex}", f"test-control:{uuid.uuid4().hex}"
    config = tmp_path / "board.toml"
    config.write_text(f'[board]\nstream = "{stream}"\ncontrol_stream = "{control}"\n')
    yield stream, control, config
    raw_client.delete(stream, control)


def cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result


def snapshot_cli(url: str, config: Path, *more: str) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.json.decode(cli(
        "snapshot", "--redis", url, "--at", str(END), "--config", str(config), "--json",
        *more).stdout_bytes)  # fmt: skip
    return out


def assert_hand_worked(applied: int, rejected: dict[str, int], queue: dict[str, Any]) -> None:
    assert applied == 4
    assert rejected == {**dict.fromkeys(REASONS, 0), "bad_encoding": 2}
    assert (queue["offered"], queue["answered"], queue["waiting"]) == (2, 1, 1)


def quick() -> Config:
    return Config(feed=FeedSection(backoff_max_s=0.5, block_ms=100))


async def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def following(feed: LiveFeed) -> AsyncIterator[LiveFeed]:
    """The feed running until the block ends (stopped even when the test fails)."""
    task = asyncio.create_task(feed.run())
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=6.0)
        await feed.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---- the regression: each reader, the hand-worked stream ----------------------------------


def test_snapshot_from_redis_rejects_the_entry_and_folds_the_rest(
        raw_client: redis.Redis, redis_url: str, keys: tuple[str, str, Path]) -> None:  # fmt: skip
    stream, _control, config = keys
    ids = write_raw(raw_client, stream, hand_entries())
    snap = snapshot_cli(redis_url, config)
    vip = next(q for q in snap["queues"] if q["queue"] == "vip")
    assert_hand_worked(snap["events_applied"], snap["events_rejected"],
                       {**vip["today"], "waiting": vip["waiting"]})  # fmt: skip
    assert [a["agent"] for a in snap["agents"]] == ["a1"]
    # Named: the value's field, and the field name itself with its byte escaped.
    assert snap["rejected_recent"] == [
        {"reason": "bad_encoding", "field": "agent", "detail": "agent: not valid UTF-8",
         "entry_id": ids[0]},
        {"reason": "bad_encoding", "field": "ag\\xffent",
         "detail": "ag\\xffent: not valid UTF-8", "entry_id": ids[-1]},
    ]  # fmt: skip


async def test_the_live_feed_carries_on_past_the_entry(
        raw_client: redis.Redis, redis_url: str, keys: tuple[str, str, Path]) -> None:  # fmt: skip
    stream = keys[0]
    entries = hand_entries()
    write_raw(raw_client, stream, entries[:3])  # the backfill meets the first bad entry
    clock = ms("2026-11-11 10:01:00")
    async with following(LiveFeed(redis_url, [stream], quick(), clock=lambda: clock)) as feed:
        await wait_for(lambda: feed.status.state == "connected", 10, "connected")
        assert feed.state.events_applied == 2
        write_raw(raw_client, stream, entries[3:])  # XREAD meets the second
        await wait_for(lambda: feed.state.events_applied == 4
                       and feed.state.rejected["bad_encoding"] == 2, 5, "all read")  # fmt: skip
        snap = build_snapshot(feed.state)
        vip = next(q for q in snap.queues if q.queue == "vip")
        assert_hand_worked(snap.events_applied, snap.events_rejected,
                           {"offered": vip.today.offered, "answered": vip.today.answered,
                            "waiting": vip.waiting})  # fmt: skip
        # Live, not stale: and a valid entry after the bad one still shows.
        status = feed.status
        assert (status.state, status.error) == ("connected", None)
        write_raw(raw_client, stream, [{b"type": b"contact.abandoned", b"contact": b"c2",
                                        b"ts": str(at(T0, 6)).encode()}])  # fmt: skip
        await wait_for(lambda: feed.state.events_applied == 5, 5, "the abandon applied")
        assert feed.status.state == "connected"


async def test_the_aggregator_publishes_past_the_entry(
        raw_client: redis.Redis, redis_url: str, keys: tuple[str, str, Path]) -> None:  # fmt: skip
    stream = keys[0]
    write_raw(raw_client, stream, hand_entries())
    snapshots = f"test-snapshots:{uuid.uuid4().hex}"
    clock = ms("2026-11-11 10:01:00")
    agg = Aggregator(redis_url, [stream], quick(), snapshot_key=snapshots, rate_hz=20,
                     aggregator_id="agg-1", clock=lambda: clock)  # fmt: skip
    task = asyncio.create_task(agg.run())
    try:
        await wait_for(lambda: agg.feed.status.state == "connected"
                       and agg.feed.state.events_applied == 4, 10, "folded")  # fmt: skip
        published = agg.published
        await wait_for(lambda: agg.published > published, 5, "published after the fold")
        entry: Any = raw_client.xrevrange(snapshots, count=1)
        latest = decode_entry(entry[0][1])
        snap = latest.snapshot
        vip = next(q for q in snap.queues if q.queue == "vip")
        assert_hand_worked(snap.events_applied, snap.events_rejected,
                           {"offered": vip.today.offered, "answered": vip.today.answered,
                            "waiting": vip.waiting})  # fmt: skip
        assert latest.status.state == "connected"
    finally:
        await agg.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raw_client.delete(snapshots)


def test_replay_and_report_from_redis(
        raw_client: redis.Redis, redis_url: str, keys: tuple[str, str, Path],
        tmp_path: Path) -> None:  # fmt: skip
    stream, _control, config_path = keys
    write_raw(raw_client, stream, hand_entries())
    config = load_config(str(config_path))
    client = connect(redis_url)
    try:
        assert stream_top_ms(client, [stream]) == at(T0, 5)  # its newest entry is the bad one
        engine = Replay(config, START, END, every=30)
        engine.load(redis_lines(client, config.with_control([]), START - 600_000, END))
    finally:
        client.close()
    snap = engine.snapshot_at(END)
    vip = next(q for q in snap.queues if q.queue == "vip")
    assert_hand_worked(snap.events_applied, snap.events_rejected,
                       {"offered": vip.today.offered, "answered": vip.today.answered,
                        "waiting": vip.waiting})  # fmt: skip
    out = tmp_path / "report.html"
    cli("report", "--redis", redis_url, "--from", str(START), "--to", str(END), "-o", str(out),
        "--config", str(config_path), "-q")  # fmt: skip
    payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                        out.read_text(), re.S)  # fmt: skip
    assert payload is not None
    data = msgspec.json.decode(payload.group(1).replace("<\\/", "</"))
    assert data["events_applied"] == 4 and data["events_rejected"]["bad_encoding"] == 2


def test_export_keeps_the_entry_escaped_and_its_readers_reject_it_alike(
        raw_client: redis.Redis, redis_url: str, keys: tuple[str, str, Path],
        tmp_path: Path) -> None:  # fmt: skip
    stream, _control, config_path = keys
    ids = write_raw(raw_client, stream, hand_entries())
    out = tmp_path / "window.ndjson.gz"
    result = cli("export", "--redis", redis_url, "--from", str(START), "--to", str(END),
                 "-o", str(out), "--config", str(config_path))  # fmt: skip
    assert "wrote 6 entries" in result.output  # the bad ones too: nothing lost
    with gzip.open(out, "rb") as handle:
        archived = [msgspec.json.decode(line) for line in handle]
    assert archived[0] == {"type": "agent.state", "ts": str(at(T0, 0)), "agent": "x\\xff",
                           "state": "busy", "_id": ids[0], "_stream": stream,
                           "_bad_encoding": "agent"}  # fmt: skip
    assert archived[-1]["ag\\xffent"] == "a2" and archived[-1]["_bad_encoding"] == "ag\\xffent"
    assert all("_bad_encoding" not in line for line in archived[1:-1])
    # The archive gives the same board as the stream, to the byte, rejections included.
    from_redis = cli("snapshot", "--redis", redis_url, "--at", str(END), "--config",
                     str(config_path), "--json").stdout_bytes  # fmt: skip
    from_file = cli("snapshot", "--file", str(out), "--at", str(END), "--config",
                    str(config_path), "--json").stdout_bytes  # fmt: skip
    assert from_file == from_redis
    engine = Replay(load_config(str(config_path)), START, END, every=30)
    engine.load(file_lines(out))
    snap = engine.snapshot_at(END)
    assert snap.events_applied == 4 and snap.events_rejected["bad_encoding"] == 2
    assert [(r.reason, r.field) for r in snap.rejected_recent] == [
        ("bad_encoding", "agent"), ("bad_encoding", "ag\\xffent")]  # fmt: skip


def test_read_streams_gives_text_with_any_client(raw_client: redis.Redis, redis_url: str,
                                                 keys: tuple[str, str, Path]) -> None:  # fmt: skip
    """Whatever the caller's client decodes (strictly, or not at all), entries come as text and
    a short page after a bad entry is still read whole."""
    stream = keys[0]
    write_raw(raw_client, stream, hand_entries())
    strict = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for client in (strict, raw_client):
            entries = list(read_streams(client, [stream], page=4))
            assert len(entries) == 6
            assert entries[0].fields["agent"] == "x\udcff"  # type: ignore[index]
            assert all(isinstance(e.entry_id, str) for e in entries)
            state = BoardState(Config())
            fold_until(state, entries, END)
            assert (state.events_applied, state.rejected["bad_encoding"]) == (4, 2)
    finally:
        strict.close()


def test_the_simulator_skips_an_undecodable_callout(
        raw_client: redis.Redis, redis_client: redis.Redis,
        keys: tuple[str, str, Path]) -> None:  # fmt: skip
    _stream, control, _config = keys
    start = ms("2026-11-10 21:00:00")
    sim = Simulator(load_profile("double11"), start_ms=start, seed=4, tz=Config().tz)
    reserve = [a.id for a in sim.agents if a.spec.pool == "reserve"][:2]
    link = ControlLink(redis_client, control)
    write_raw(raw_client, control, [
        {b"type": b"reserve.callout", b"callout": b"co\xff", b"queue": b"wechat",
         b"agents": ",".join(reserve).encode(), b"by": b"sup", b"ts": str(start).encode()},
        {b"type": b"reserve.callout", b"callout": b"co-1", b"queue": b"wechat",
         b"agents": ",".join(reserve).encode(), b"by": b"sup", b"ts": str(start).encode()},
        {b"type": b"alert.ack", b"alert\xff": b"x", b"by": b"sup", b"ts": str(start).encode()},
    ])  # fmt: skip
    assert stream_top(redis_client, control) is not None  # its newest entry is a bad one
    link.poll(sim)
    assert link.callouts == 1


# ---- decode: the reason, whatever else is wrong ---------------------------------------------


def reader_text(fields: RawFields) -> dict[str, str]:
    """What the readers hand the core (surrogateescape)."""
    return {k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
            for k, v in fields.items()}  # fmt: skip


@pytest.mark.parametrize(("fields", "field"), [
    ({b"type": b"agent.state", b"ts": b"1794\xff", b"agent": b"a", b"state": b"busy"}, "ts"),
    ({b"type": b"agent.state", b"agent": b"a", b"state": b"busy"}, None),  # none: applied
    ({b"type": b"agent.state", b"agent": b"a" * 300 + b"\xff", b"state": b"busy"}, "agent"),
    ({b"type": b"agent.state", b"agent": b"\x1b[2J", b"state": b"\xed\xa0\x80"}, "state"),
    ({b"type": b"nope\xc0\xaf"}, "type"),
    ({b"type": b"bot.resolved", b"note": b"\xf4\x90\x80\x80"}, "note"),
    ({b"type": b"bot.resolved", b"\x1b[31m\xff": b"x"}, "\\x1b[31m\\xff"),
    ({b"\xff" * 60: b""}, "\\xff" * 10),
])  # fmt: skip
def test_undecodable_bytes_are_the_reason_given(fields: RawFields, field: str | None) -> None:
    item = decode(reader_text(fields), "1794326400000-0")
    if field is None:
        assert isinstance(item, Event)
        return
    assert isinstance(item, Rejection)
    assert (item.reason, item.field, item.detail) == ("bad_encoding", field,
                                                      f"{field}: not valid UTF-8")  # fmt: skip
    # the archive's line for it is rejected the same way by both line decoders
    record = {**reader_text(fields), "_id": "1794326400000-0", "_stream": "s"}
    line = undecodable_line(record)
    assert decode_line(line) == (item, "s")
    assert decode_lines([line, line]) == [(item, "s")] * 2


def test_a_hand_written_mark_is_rejected_by_both_line_decoders() -> None:
    line = b'{"type":"bot.resolved","ts":"1794326400000","_bad_encoding":"agent"}'
    want = Rejection("bad_encoding", "agent", "agent: not valid UTF-8", None, 1794326400000)
    assert decode(parse_line(line)) == want
    assert decode_line(line) == (want, None)
    assert decode_lines([line]) == [(want, None)]


# ---- the fuzz harness: hostile field bytes --------------------------------------------------

SPECIMENS = [
    b"x\xff", b"\xff", b"\x80", b"\xc3", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80",
    b"\xed\xa0\x80", b"\xed\xb2\x80", b"\xed\xa0\xbd\xed\xb8\x80",  # surrogates, as UTF-8
    b"\x00", b"a\x00b", b"\x1b[2J", b"\x1b]0;owned\x07", b"\x9b31m", "\u009b31m".encode(),
    b"[/x]", b"a[/x]b", b"[bold red]", b"[link=file:///etc/passwd]x[/link]", b"\\",
    "\u202e".encode(), "r\u202e1".encode(), "\u200b\ufeff".encode(), "李娜".encode(), b"",
    b"busy", b"available", b"vip", b"chat", b"1794326400000", b"2026-11-11T10:00:00+08:00",
]  # fmt: skip
HUGE = [b"h" * 100_000, b"h" * 100_000 + b"\xff", "界".encode() * 34_000]
VALUES = st.one_of(st.sampled_from(SPECIMENS), st.binary(max_size=12),
                   st.text(max_size=8).map(str.encode), st.sampled_from(HUGE))  # fmt: skip
NAMES = st.one_of(st.sampled_from([b"type", b"ts", b"agent", b"state", b"contact", b"queue",
                                   b"channel", b"name", b"id", b"_bad_encoding", b""]),
                  st.sampled_from(SPECIMENS), st.binary(max_size=6))  # fmt: skip
BASES: list[RawFields] = [
    {b"type": b"agent.state", b"agent": b"h", b"state": b"busy"},
    {b"type": b"contact.offered", b"contact": b"hc", b"queue": b"vip", b"channel": b"chat"},
    {b"type": b"bot.resolved"},
]
HOSTILE = st.tuples(st.sampled_from(BASES),
                    st.dictionaries(NAMES, VALUES, min_size=1, max_size=3)).map(
    lambda pair: {**pair[0], **pair[1]})  # fmt: skip


def valid_entry(number: int) -> RawFields:
    return {b"type": b"agent.state", b"agent": f"ok{number}".encode(), b"state": b"available"}


def late(fields: RawFields, at_ms: int) -> bool:
    """Stamped after `at_ms` (not part of a snapshot at that time), as decode reads the time."""
    ts = reader_text(fields).get("ts")
    parsed = None if ts is None else parse_event_time(ts)
    return parsed is not None and parsed > at_ms


@fuzz_settings()
@given(st.lists(HOSTILE, min_size=1, max_size=8))
def test_hostile_fields_are_accounted_for_by_the_core(entries: list[RawFields]) -> None:
    """Without a server: every entry as a reader gives it is applied, rejected by a reason, or
    a duplicate; an undecodable one is `bad_encoding`, named in printable ASCII; its archive
    line gets the same answer from both line decoders."""
    state = BoardState(Config())
    raws = []
    for number, fields in enumerate(entries):
        entry_id = f"{START + number}-0"
        text = reader_text(fields)
        item = decode(text, entry_id)
        marked = b"_bad_encoding" in fields  # as an archive line marks one
        undecodable = marked or any(_not_utf8(k) or _not_utf8(v) for k, v in fields.items())
        assert (isinstance(item, Rejection) and item.reason == "bad_encoding") == undecodable
        if isinstance(item, Rejection) and item.reason == "bad_encoding":
            assert item.field is not None and item.detail == f"{item.field}: not valid UTF-8"
            assert item.detail.isascii() and item.detail.isprintable()
        record = {**text, "_id": entry_id, "_stream": "s"}
        try:
            line = msgspec.json.encode(record)
        except UnicodeEncodeError:
            line = undecodable_line(record)
        assert decode_line(line)[0] == decode(parse_line(line), entry_id)
        raws.append(RawEntry("s", entry_id, text))
    fold_until(state, raws, LAST_MS)  # no entry can be stamped later
    total = state.events_applied + sum(state.rejected.values()) + state.events_duplicate
    assert total == len(entries)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@fuzz_settings(scale=0.2)
@given(st.lists(HOSTILE, min_size=1, max_size=5), st.integers(min_value=1, max_value=4),
       st.randoms(use_true_random=False))  # fmt: skip
def test_hostile_entries_written_to_redis_stop_no_reader(
        redis_url: str, tmp_path: Path, hostile: list[RawFields], valid: int,
        rng: Any) -> None:  # fmt: skip
    """XADD hostile entries among valid ones; `snapshot`, the live feed and the aggregator each
    account for every entry and apply every valid one."""
    entries = [*hostile, *(valid_entry(n) for n in range(valid))]
    rng.shuffle(entries)
    for number, fields in enumerate(entries):
        fields.setdefault(b"ts", str(START + number * 1000).encode())
    stream = f"test:{uuid.uuid4().hex}"
    snapshots = f"test-snapshots:{uuid.uuid4().hex}"
    config = tmp_path / f"{stream.replace(':', '-')}.toml"
    config.write_text(f'[board]\nstream = "{stream}"\ncontrol_stream = ""\n')
    writer = redis.Redis.from_url(redis_url)
    try:
        for number, fields in enumerate(entries):
            writer.xadd(stream, fields, id=f"{START + number * 1000}-0")  # type: ignore[arg-type]
        want_agents = {f"ok{n}" for n in range(valid)}
        counted = len(entries) - sum(late(fields, END) for fields in entries)

        snap = snapshot_cli(redis_url, config)
        assert (snap["events_applied"] + sum(snap["events_rejected"].values())
                + snap["events_duplicate"]) == counted  # fmt: skip
        assert want_agents <= {a["agent"] for a in snap["agents"]}

        async def live_and_aggregate() -> None:
            agg = Aggregator(redis_url, [stream], quick(), snapshot_key=snapshots,
                             aggregator_id="fuzz", clock=lambda: END)  # fmt: skip
            async with following(agg.feed) as feed:
                await wait_for(lambda: feed.status.state == "connected", 10, "connected")
                state = feed.state
                total = state.events_applied + sum(state.rejected.values())
                assert total + state.events_duplicate == len(entries)
                assert want_agents <= set(state.agents)
                assert await agg.publish_once() is not None
            await agg._drop_client()
            entry: Any = writer.xrevrange(snapshots, count=1)
            published = decode_entry(entry[0][1]).snapshot
            assert (published.events_applied + sum(published.events_rejected.values())
                    + published.events_duplicate) == len(entries)  # fmt: skip
            assert want_agents <= {a.agent for a in published.agents}

        asyncio.run(live_and_aggregate())
    finally:
        writer.delete(stream, snapshots)
        writer.close()
