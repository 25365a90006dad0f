"""A careless operator's config: every bad value is refused by `check-config` and by every
command that reads the file, before anything starts, naming the key and the file; none gets
into a board to crash it later. Regression tests for the values that got through, and a
property over every table and key of the config."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from feeds.live import LiveFeed
from feeds.replay_reader import lead_in_ms
from feeds.webhooks import WebhookNotifier
from tests.fuzz import fuzz_settings
from tests.scenario import ms
from wallboard.cli.main import main
from wallboard.core.config import THEMES, Config, ConfigError, load_config
from wallboard.core.config_webhooks import ALERT_RULES
from wallboard.core.fold import BoardState
from wallboard.core.ingest import RawEntry, ingest
from wallboard.core.snapshot import build_snapshot, to_json

T0 = ms("2026-11-11 10:00:00")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def write(tmp_path: Path, text: str, name: str = "board.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.ndjson"
    path.write_text(
        f'{{"type":"agent.state","ts":{T0},"agent":"a1","state":"available"}}\n'
        f'{{"type":"contact.offered","ts":{T0},"contact":"c1","queue":"q","channel":"chat"}}\n'
        f'{{"type":"contact.answered","ts":{T0 + 5000},"contact":"c1","agent":"a1"}}\n',
        encoding="utf-8")  # fmt: skip
    return path


def assert_refused(result: Result, path: Path, key: str) -> None:
    """Exit non-zero with one clear error line naming the key and the file: no traceback, no
    exception other than click's own exit."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert str(path) in result.output and f"`{key}`" in result.output, result.output
    assert "Traceback" not in result.output


# ---- the values that got through ----------------------------------------------------------

# (TOML, the key the error must name). These crashed `snapshot` or the live board after
# `check-config` had passed them; those in ACCEPTED were taken as they were.
CRASHED = [
    ("[feed]\nstale_after_s = nan\n", "feed.stale_after_s"),
    ("[board]\nmax_future_s = nan\n", "board.max_future_s"),
    ("[board]\ndedup_window_minutes = nan\n", "board.dedup_window_minutes"),
    ("[board]\ncarry_over_hours = inf\n", "board.carry_over_hours"),
    ("[service_level]\nthreshold_s = nan\n", "service_level.threshold_s"),
    # Found by the property below: a ZeroDivisionError building the staffing numbers.
    ("[agent_load]\ndaily_low = 0\ndaily_high = 0\n", "agent_load.daily_high"),
]
ACCEPTED = [
    ("[feed]\nsocket_timeout_s = inf\n", "feed.socket_timeout_s"),
    ("[feed]\npage_size = 99999999999999999999999\n", "feed.page_size"),
    ("[display]\ntheme = 'no-such-theme'\n", "display.theme"),
    ("[ingest]\nport = 70000\n", "ingest.port"),
    ("[ingest]\nbogus = 1\n", "ingest.bogus"),
    # Negative levels where a level cannot be negative: counts, seconds, rates, depths.
    ("[alerts.queue_depth]\nwarn = -5\ncritical = 50\nclear = -6\n", "alerts.queue_depth.warn"),
    ("[alerts.longest_wait]\nclear = -1\n", "alerts.longest_wait.clear"),
    ("[alerts.abandon_rate]\nclear = -0.01\n", "alerts.abandon_rate.clear"),
    ("[alerts.feed_stale]\nwarn = -1\ncritical = 30\nclear = -2\n", "alerts.feed_stale.warn"),
    ("[alerts.agent_shops]\nclear = -1\n", "alerts.agent_shops.clear"),
    ("[alerts.contact_over_threshold]\nclear = -1\n", "alerts.contact_over_threshold.clear"),
    # A rate above 1 means nothing either; nor does a gap beyond 1.
    ("[alerts.abandon_rate]\nwarn = 0.05\ncritical = 1.5\n", "alerts.abandon_rate.critical"),
    ("[alerts.sl_window]\nclear = -1.5\n", "alerts.sl_window.clear"),
    # The other kinds of bad number, one per table.
    ("[service_level]\nshort_abandon_s = inf\n", "service_level.short_abandon_s"),
    ("[agent_load]\nhourly_messages_max = 99999999999999999999999\n",
     "agent_load.hourly_messages_max"),
    ("[display]\nrotate_s = inf\n", "display.rotate_s"),
    ("[display]\nlongest_wait_critical_x = nan\n", "display.longest_wait_critical_x"),
    ("[feed]\nbackoff_max_s = inf\n", "feed.backoff_max_s"),
    ("[feed]\nid_skew_s = nan\n", "feed.id_skew_s"),
    ("[feed]\ncheck_interval_s = inf\n", "feed.check_interval_s"),
    ("[reserve]\nlogin_timeout_s = inf\n", "reserve.login_timeout_s"),
    ("[reserve.agents.r1]\nlevel = 99999999999999999999999\n", "reserve.agents.r1.level"),
    ("[[webhooks]]\nurl = 'http://a'\nbackoff_max_s = nan\n", "webhooks[0].backoff_max_s"),
    ("[alerts.queue_depth]\nraise_after_s = inf\n", "alerts.queue_depth.raise_after_s"),
    ("[alerts.queue_depth]\nmin_contacts = 99999999999999999999999\n",
     "alerts.queue_depth.min_contacts"),
    ("[ingest]\nrate_per_s = nan\n", "ingest.rate_per_s"),
    ("[ingest]\nidempotency_window_s = inf\n", "ingest.idempotency_window_s"),
    ("[board]\ntimezone = 'America'\n", "board.timezone"),  # a directory: was an OSError
    ("[board]\nsite_name = \"floor\\u001b[2J\"\n", "board.site_name"),  # reaches the screen
]  # fmt: skip


# Refused before too (by hand-written checks, now by the types): kept refused.
STILL_REFUSED = [
    ("[board]\nwindow_minutes = 99999999999999999999999\n", "board.window_minutes"),
    ("[queues.vip]\ntarget = nan\n", "queues.vip.target"),
    ("[queues.vip]\nconcurrency = inf\n", "queues.vip.concurrency"),
    ("[staffing]\nmax_occupancy = nan\n", "staffing.max_occupancy"),
]
REFUSED = CRASHED + ACCEPTED + STILL_REFUSED


@pytest.mark.parametrize(("text", "key"), REFUSED, ids=[key for _, key in REFUSED])
def test_check_config_refuses_naming_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    assert_refused(run("check-config", str(path)), path, key)


@pytest.mark.parametrize(("text", "key"), CRASHED, ids=[k for _, k in CRASHED])
def test_snapshot_refuses_before_anything_starts(tmp_path: Path, text: str, key: str) -> None:
    """These crashed the fold, the feed or the lead-in after the config had been read; now the
    file is refused first. From a file, and from a Redis that does not answer: the config
    error comes before any attempt to reach it (exit 3 would mean it was tried)."""
    path = write(tmp_path, text)
    result = run("snapshot", "--file", str(events_file(tmp_path)), "--at", str(T0 + 60_000),
                 "--config", str(path), "--json")  # fmt: skip
    assert_refused(result, path, key)
    assert "{" not in result.output  # no snapshot was printed
    result = run("snapshot", "--redis", "redis://127.0.0.1:1/0", "--at", str(T0 + 60_000),
                 "--config", str(path))  # fmt: skip
    assert_refused(result, path, key)
    assert result.exit_code != 3


def test_sl_window_may_clear_below_zero(tmp_path: Path) -> None:
    """The one rule whose value is a gap (target - SL): a negative clear level means "clear
    once SL is this far above target", and is its default (-0.02)."""
    config = load_config(write(tmp_path, "[alerts.sl_window]\nwarn = -0.01\ncritical = 0.1\n"
                                         "clear = -0.05\n"))  # fmt: skip
    assert (config.alerts.sl_window.warn, config.alerts.sl_window.clear) == (-0.01, -0.05)


def test_a_non_utf8_file_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "board.toml"
    path.write_bytes(b"[board]\nsite_name = \"Caf\xe9\"\n")  # Latin-1, as an old editor saves it
    result = run("check-config", str(path))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert f"{path}: not UTF-8 text: byte 0xe9 on line 2" in result.output


@pytest.mark.parametrize("text", ["a = " + "[" * 600 + "]" * 600 + "\n",
                                  "a = " + "9" * 5000 + "\n"], ids=["deep", "long-int"])
def test_toml_the_parser_cannot_take_names_the_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: not valid TOML: "):
        load_config(path)


def test_themes_are_textuals_and_the_boards_own() -> None:
    """The core cannot import Textual, so it lists the theme names; this keeps the list true."""
    from textual.theme import BUILTIN_THEMES

    from wallboard.app.board import HIGH_CONTRAST

    assert set(BUILTIN_THEMES) | {HIGH_CONTRAST.name} == THEMES


# ---- [ingest]: checked with the rest of the file ------------------------------------------

@pytest.mark.parametrize(("text", "key"), [("[ingest]\nport = 70000\n", "ingest.port"),
                                           ("[ingest]\nbogus = 1\n", "ingest.bogus")])
def test_ingest_refuses_a_bad_ingest_table_naming_the_file(tmp_path: Path, text: str,
                                                           key: str) -> None:  # fmt: skip
    path = write(tmp_path, text)
    tokens = write(tmp_path, "token-0123456789abcdef\n", "tokens")
    # An unreachable Redis: were the table accepted, the gateway would start serving.
    result = run("ingest", "--config", str(path), "--tokens-file", str(tokens),
                 "--redis", "redis://127.0.0.1:1/0", "--port", "1")  # fmt: skip
    assert_refused(result, path, key)


@pytest.mark.parametrize("flag", ["--rate", "--idempotency-window"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_ingest_flags_refuse_nan_and_inf(tmp_path: Path, flag: str, value: str) -> None:
    result = run("ingest", "--tokens-file", str(tmp_path / "absent"), flag, value)
    assert result.exit_code == 2, result.output  # a usage error, before the tokens are read
    assert flag in result.output


# ---- the property: any value in any key ---------------------------------------------------

Path_ = tuple[str | int, ...]


def _slots(info: mi.Type, where: Path_) -> Iterator[tuple[Path_, mi.Type]]:
    """Every place a value can go, with the type it takes there. Dict tables get one member
    named `x1` (`X-A` for headers); `webhooks` one entry."""
    if isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        for option in info.types:
            if isinstance(option, mi.StructType | mi.DictType | mi.ListType):
                yield from _slots(option, where)
        return
    if isinstance(info, mi.StructType):
        for field in info.fields:
            yield (*where, field.encode_name), field.type
            yield from _slots(field.type, (*where, field.encode_name))
    elif isinstance(info, mi.DictType):
        member = "X-A" if where[-1:] == ("headers",) else "x1"
        yield (*where, member), info.value_type
        yield from _slots(info.value_type, (*where, member))
    elif isinstance(info, mi.ListType) and isinstance(info.item_type, mi.StructType):
        yield from _slots(info.item_type, (*where, 0))


def _is_table(info: mi.Type) -> bool:
    if isinstance(info, mi.UnionType):
        return any(_is_table(option) for option in info.types)
    return isinstance(info, mi.StructType | mi.DictType)


SLOTS: dict[Path_, mi.Type] = dict(_slots(mi.type_info(Config), ()))
PATHS = sorted(SLOTS, key=lambda p: [str(s) for s in p])
TABLES = [(), *(path for path in PATHS if _is_table(SLOTS[path]))]


def key_of(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text


STRINGS = st.sampled_from(["", "q", "08:30-17:30", "22:00-06:00", "04:00", "UTC",
                           "Europe/Berlin", "America", "http://127.0.0.1:9/x", "textual-light",
                           "wallboard-contrast", "critical", "alert.raised", "sl_window",
                           "wallboard:events"])  # fmt: skip


def valid_for(info: mi.Type) -> st.SearchStrategy[Any]:
    """A value of the key's own type and range, so the cross-field rules and the fold see
    configs that pass the types too."""
    if isinstance(info, mi.Metadata):
        return valid_for(info.type)
    if isinstance(info, mi.UnionType):
        return st.one_of([valid_for(t) for t in info.types if not isinstance(t, mi.NoneType)])
    if isinstance(info, mi.FloatType):
        low = info.ge if info.ge is not None else info.gt
        high = info.le if info.le is not None else info.lt
        return st.floats(min_value=low, max_value=high, exclude_min=info.gt is not None,
                         allow_nan=False)  # fmt: skip
    if isinstance(info, mi.IntType):
        return st.integers(min_value=info.ge, max_value=info.le)
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.LiteralType):
        return st.sampled_from(info.values)
    if isinstance(info, mi.ListType):
        return st.lists(valid_for(info.item_type), max_size=3)
    if isinstance(info, mi.StrType):
        return STRINGS
    return st.just({})


HOSTILE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 2**63, 2**64 + 1, -(2**63) - 1,
                     99999999999999999999999, 10**300, -1, -0.5, 1e308, -1e308, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=4), st.floats()), max_size=3),
    st.dictionaries(st.sampled_from(["a", "warn", "url"]), st.integers(-3, 3), max_size=2),
    st.sampled_from([date(2026, 11, 11), datetime(2026, 11, 11, 10, 0)]),  # TOML dates
)
UNKNOWN_KEY = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=10)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)  # fmt: skip
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def _put(raw: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    """Set `value` at `path`, making the tables (and the one webhook, with its url) on the way."""
    node: Any = raw
    for index, part in enumerate(path[:-1]):
        container = list if isinstance(path[index + 1], int) else dict
        if isinstance(part, int):
            while len(node) <= part:
                node.append({"url": "http://127.0.0.1:9/hook"})
            if not isinstance(node[part], container):  # an earlier draw put a value here
                node[part] = container()
        elif not isinstance(node.get(part), container):
            node[part] = container()
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append({"url": "http://127.0.0.1:9/hook"})
    node[last] = value


@st.composite
def hostile_configs(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A raw config with one to three keys set to random values (and maybe an unknown key in
    some table), and the dotted keys that were set."""
    raw: dict[str, Any] = {}
    keys: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        value = draw(st.one_of(valid_for(SLOTS[path]), valid_for(SLOTS[path]), HOSTILE))
        _put(raw, path, value)
        keys.append(key_of(path))
    if draw(st.integers(0, 3)) == 0:
        table = draw(st.sampled_from(TABLES))
        name = draw(UNKNOWN_KEY)
        path = (*table, name)
        if table == () and name in Config.__struct_fields__:
            return raw, keys
        _put(raw, path, draw(HOSTILE))
        keys.append(key_of(path))
    return raw, keys


def _exercise(config: Config) -> None:
    """What the commands do with a config: fold, snapshot, the feed's and the lead-in's sums,
    the webhook channels, check-config's JSON."""
    state = BoardState(config)
    state.advance(T0)
    queue = next(iter(config.queues), "q")
    entries = [
        {"type": "agent.state", "ts": str(T0), "agent": "a1", "state": "available",
         "shops": "s1,s2,s3,s4,s5,s6"},
        {"type": "contact.offered", "ts": str(T0 + 1000), "contact": "c1", "queue": queue,
         "channel": "chat", "id": "e1"},
        {"type": "contact.offered", "ts": str(T0 + 1000), "contact": "c1", "queue": queue,
         "channel": "chat", "id": "e1"},
        {"type": "contact.answered", "ts": str(T0 + 40_000), "contact": "c1", "agent": "a1"},
        {"type": "contact.offered", "ts": str(T0 + 50_000), "contact": "c2", "queue": queue,
         "channel": "phone"},
        {"type": "contact.abandoned", "ts": str(T0 + 52_000), "contact": "c2"},
        {"type": "bot.resolved", "ts": str(T0 + 86_400_000)},  # a day ahead
    ]  # fmt: skip
    for fields in entries:
        ingest(state, RawEntry(None, None, fields))
    state.advance(T0 + 120_000)
    to_json(build_snapshot(state))
    lead_in_ms(config, T0)
    LiveFeed("redis://127.0.0.1:1/0", config.streams, config)._lower_bound_ms(T0)
    WebhookNotifier(config.webhooks, environ={hook.secret_env: "s" for hook in config.webhooks})
    msgspec.json.encode(config)
    assert set(ALERT_RULES) <= set(config.alerts.__struct_fields__)


@fuzz_settings()
@given(case=hostile_configs())
def test_any_value_in_any_key_is_taken_or_refused_by_name(tmp_path_factory: pytest.TempPathFactory,
                                                          case: tuple[dict[str, Any], list[str]]
                                                          ) -> None:  # fmt: skip
    raw, keys = case
    path = tmp_path_factory.mktemp("cfg") / "board.toml"
    path.write_text("\n".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in raw.items())
                    + "\n", encoding="utf-8")  # fmt: skip
    try:
        config = load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: "), message
        assert any(key in message for key in keys), (keys, message)
        return
    _exercise(config)


def test_every_table_and_key_is_reached_by_the_property() -> None:
    """The slots the property draws from cover the config's tables, down to the alert rules,
    a queue, a roster entry, a shift and a webhook's header."""
    keys = {key_of(path) for path in PATHS}
    assert {"board.max_future_s", "ingest.port", "queues.x1.concurrency", "shifts.x1",
            "reserve.agents.x1.level", "webhooks[0].headers.X-A", "webhooks[0].url",
            "display.theme", "staffing.max_occupancy", "feed.page_size"} <= keys
    assert all(f"alerts.{rule}.warn" in keys for rule in ALERT_RULES)
