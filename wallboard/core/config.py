"""Typed configuration from one TOML file. Defaults work with no file at all.

msgspec does the typing, rejects unknown keys and checks every number's range while it
converts (the bounded types of core/config_bounds.py: NaN, inf and absurd integers never get
through); the checks here add the cross-field rules. Every error names the key and the file,
before anything starts.
"""

from __future__ import annotations

import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from wallboard.core.config_alerts import (
    AgentLoadSection,
    AlertsSection,
    ReserveSection,
    StaffingSection,
    rule_defaults,
)
from wallboard.core.config_api import ApiSection
from wallboard.core.config_bounds import (
    DAY_S,
    HOUR_S,
    MAX_COUNT,
    Count,
    Fraction,
    PositiveSeconds,
    Seconds,
    ThresholdSeconds,
)
from wallboard.core.config_complaints import ComplaintsSection
from wallboard.core.config_errors import control_chars, escape, explain
from wallboard.core.config_ingest import IngestSection
from wallboard.core.config_response import (
    GroupSection,
    ResponseSection,
    RoundSeconds,
    check_response,
)
from wallboard.core.config_webhooks import WebhookSection, check_webhooks

Formula = Literal["exclude_short_abandons", "answered", "offered", "abandons_within_positive",
                  "offered_incl_flowouts", "queued"]
# When an answered contact counts in the service level: at the answer, or when its handling
# ends (as Asterisk's `queue show` counts); docs/metrics.md.
CountAt = Literal["answer", "end"]
# `[queues.NAME] shrinkage`: the share of paid time agents are not on the phones.
Shrinkage = Annotated[float, msgspec.Meta(ge=0, le=0.9, description="a fraction from 0 to 0.9")]
QueueKind = Literal["realtime", "ticket"]

DEFAULT_STREAM: Final = "wallboard:events"
DEFAULT_CONTROL_STREAM: Final = "wallboard:control"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# `[display] theme`: Textual's built-in themes and the board's own (wallboard/app/board.py).
# The core cannot import Textual; tests/test_hostile_config.py checks this list against it.
THEMES: Final = frozenset({
    "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
    "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
    "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
    "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night",
    "wallboard-contrast",
})  # fmt: skip

ShortAbandonSeconds = Annotated[float, msgspec.Meta(ge=0, le=HOUR_S)]
TargetFraction = Annotated[float, msgspec.Meta(gt=0, le=1,
                                               description="a fraction in (0, 1], e.g. 0.8")]
Concurrency = Annotated[float, msgspec.Meta(ge=1, le=20)]


class ConfigError(ValueError):
    """A configuration problem, with the file and key in its message."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BoardSection(_Section):
    site_name: Annotated[str, msgspec.Meta(max_length=200)] = "Customer Service Floor"
    timezone: str = "Asia/Shanghai"
    business_day_start: str = "04:00"
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 30
    stream: str | list[str] = DEFAULT_STREAM
    # Acks, reserve callouts and responses; read with the events by every board, replay and
    # snapshot so they all see the same actions. Empty: none.
    control_stream: str = DEFAULT_CONTROL_STREAM
    # How far before the business day a reader goes to learn agent states and waiting
    # contacts; up to a week.
    carry_over_hours: Annotated[float, msgspec.Meta(ge=0, le=7 * 24)] = 24.0
    # Idempotency keys (`id`, `_id`) are remembered this long (event time); up to a week.
    dedup_window_minutes: Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 60)] = 120.0
    # Events stamped further ahead of the board's clock than this are rejected (bad_timestamp;
    # core/future_rule.py, shared with the ingest gateway).
    max_future_s: Seconds = 300.0


class ServiceLevelSection(_Section):
    threshold_s: ThresholdSeconds = 30.0
    target: TargetFraction = 0.8
    short_abandon_s: ShortAbandonSeconds = 5.0
    formula: Formula = "exclude_short_abandons"
    count_at: CountAt = "answer"
    ticket_threshold_s: ThresholdSeconds = 1800.0


class QueueSection(_Section):
    kind: QueueKind = "realtime"
    threshold_s: ThresholdSeconds | None = None
    target: TargetFraction | None = None
    short_abandon_s: ShortAbandonSeconds | None = None
    # Contacts one agent handles at once (chat: often 2-3). Erlang C sizes the queue for the
    # offered traffic divided by this; docs/staffing.md.
    concurrency: Concurrency = 1.0
    # Response rounds of this queue's chats (docs/metrics.md); unset: `[response]`'s.
    response_within_s: RoundSeconds | None = None
    response_cap_s: RoundSeconds | None = None
    # The service level's formula and attribution for this queue; unset: `[service_level]`'s.
    formula: Formula | None = None
    count_at: CountAt | None = None
    # Set: the queue's "need" is positions to schedule, ceil(required / (1 - shrinkage))
    # (docs/staffing.md).
    shrinkage: Shrinkage | None = None


class DisplaySection(_Section):
    """How the live board draws (`wallboard board`); never changes a number, only its colour."""

    # screen refreshes from the newest snapshot per second
    refresh_hz: Annotated[float, msgspec.Meta(ge=0.2, le=30)] = 4.0
    # tiles' waiting and longest wait between snapshots; 0: off
    headline_hz: Annotated[float, msgspec.Meta(
        ge=0, le=30, description="0 (off) or between 0.2 and 30")] = 10.0
    # trend charts redraw at most this often (plotext is costly)
    chart_hz: Annotated[float, msgspec.Meta(
        gt=0, le=1, description="in (0, 1]: charts redraw at most 1/s")] = 1.0
    rotate_s: Annotated[float, msgspec.Meta(ge=2, le=DAY_S)] = 20.0  # kiosk: seconds per page
    theme: str = ""  # a Textual theme name (THEMES); empty: textual-dark, high contrast in kiosk
    # Service level is WARN below the queue's target minus the warn gap, CRIT below the
    # target minus the critical gap (fractions), so each queue is judged on its own target.
    sl_warn_gap: Fraction = 0.0
    sl_critical_gap: Fraction = 0.1
    waiting_warn: Count = 10
    waiting_critical: Count = 30
    # Longest wait in multiples of the queue's answer threshold (30 s, or 30 min for tickets).
    longest_wait_warn_x: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 1.0
    longest_wait_critical_x: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 3.0
    abandon_warn: Fraction = 0.05
    abandon_critical: Fraction = 0.10


class FeedSection(_Section):
    """How the live feed reads Redis (`feeds/live.py`). docs/live-feed.md explains each."""

    # no successful read or ping for this long: the board is stale
    stale_after_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 3.0
    # XREAD BLOCK; kept below socket_timeout_s so a quiet read never errs (0 blocks forever)
    block_ms: Annotated[int, msgspec.Meta(ge=10, le=60_000)] = 1000
    # a hung server surfaces as an error after this
    socket_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 5.0
    # reconnect delay, doubling up to backoff_max_s
    backoff_min_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 0.2
    backoff_max_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 5.0
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)] = 10_000  # XRANGE page, backfill
    id_skew_s: Seconds = 300.0  # backfill reads from this much before the wanted event time
    check_interval_s: PositiveSeconds = 10.0  # XINFO STREAM gap/reset check while following


def _default_shifts() -> dict[str, str]:
    return {"day": "08:30-17:30", "evening": "17:30-00:30"}


class Config(_Section, dict=True):
    board: BoardSection = msgspec.field(default_factory=BoardSection)
    service_level: ServiceLevelSection = msgspec.field(default_factory=ServiceLevelSection)
    agent_load: AgentLoadSection = msgspec.field(default_factory=AgentLoadSection)
    shifts: dict[str, str] = msgspec.field(default_factory=_default_shifts)
    queues: dict[str, QueueSection] = msgspec.field(default_factory=dict)
    display: DisplaySection = msgspec.field(default_factory=DisplaySection)
    feed: FeedSection = msgspec.field(default_factory=FeedSection)
    webhooks: list[WebhookSection] = msgspec.field(default_factory=list)
    alerts: AlertsSection = msgspec.field(default_factory=AlertsSection)
    staffing: StaffingSection = msgspec.field(default_factory=StaffingSection)
    reserve: ReserveSection = msgspec.field(default_factory=ReserveSection)
    ingest: IngestSection = msgspec.field(default_factory=IngestSection)  # `wallboard ingest`
    api: ApiSection = msgspec.field(default_factory=ApiSection)  # `wallboard aggregate --http`
    response: ResponseSection = msgspec.field(default_factory=ResponseSection)
    groups: dict[str, GroupSection] = msgspec.field(default_factory=dict)
    complaints: ComplaintsSection = msgspec.field(default_factory=ComplaintsSection)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.board.timezone)

    @property
    def streams(self) -> list[str]:
        stream = self.board.stream
        return [stream] if isinstance(stream, str) else list(stream)

    def with_control(self, streams: list[str]) -> list[str]:
        """The event streams given (or configured) plus the control stream."""
        keys = list(streams) or self.streams
        control = self.board.control_stream
        return [*keys, control] if control and control not in keys else keys

    def with_complaints(self, streams: list[str]) -> list[str]:
        """`with_control(streams)` plus the complaints stream (`[complaints] stream`)."""
        keys = self.with_control(streams)
        cases = self.complaints.stream
        return [*keys, cases] if cases and cases not in keys else keys

    @cached_property
    def day_start(self) -> tuple[int, int]:
        return parse_clock(self.board.business_day_start)

    @cached_property
    def shift_spans(self) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
        return [(name, *parse_shift(text)) for name, text in self.shifts.items()]

    @cached_property
    def response_channels(self) -> frozenset[str]:
        return frozenset(self.response.channels)

    def response_rounds(self, queue: str) -> tuple[float, float]:
        """The queue's response (within_s, cap_s): its own where set, else `[response]`'s."""
        section = self.queues.get(queue)
        response = self.response
        within = None if section is None else section.response_within_s
        cap = None if section is None else section.response_cap_s
        return (response.within_s if within is None else within,
                response.cap_s if cap is None else cap)  # fmt: skip

    def queue_rules(self, queue: str) -> QueueRules:
        section = self.queues.get(queue)
        sl = self.service_level
        within, cap = self.response_rounds(queue)
        if section is None:
            return QueueRules("realtime", sl.threshold_s, sl.target, sl.short_abandon_s,
                              response_within_s=within, response_cap_s=cap,
                              response_target=self.response.target, formula=sl.formula,
                              count_at=sl.count_at)  # fmt: skip
        default_threshold = sl.ticket_threshold_s if section.kind == "ticket" else sl.threshold_s
        return QueueRules(
            section.kind,
            default_threshold if section.threshold_s is None else section.threshold_s,
            sl.target if section.target is None else section.target,
            sl.short_abandon_s if section.short_abandon_s is None else section.short_abandon_s,
            section.concurrency,
            within,
            cap,
            self.response.target,
            sl.formula if section.formula is None else section.formula,
            sl.count_at if section.count_at is None else section.count_at,
            section.shrinkage,
        )


class QueueRules(msgspec.Struct, frozen=True):
    kind: QueueKind
    threshold_s: float
    target: float
    short_abandon_s: float
    concurrency: float = 1.0
    response_within_s: float = 180.0
    response_cap_s: float = 600.0
    response_target: float = 0.8
    formula: Formula = "exclude_short_abandons"
    count_at: CountAt = "answer"
    shrinkage: float | None = None


def parse_clock(text: str) -> tuple[int, int]:
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"{text[:40]!r} is not a time of day HH:MM")
    return int(match.group(1)), int(match.group(2))


def parse_shift(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """`HH:MM-HH:MM` to ((h, m), (h, m)); an end before the start crosses midnight."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text[:40]!r} is not HH:MM-HH:MM")
    first, last = parse_clock(start.strip()), parse_clock(end.strip())
    if first == last:
        raise ValueError("a shift must not start and end at the same time")
    return first, last


def _check(config: Config) -> list[tuple[str, str]]:
    """Cross-field checks and the checks a type cannot say: (key, problem) pairs. Every
    number's own range was checked while converting."""
    problems: list[tuple[str, str]] = []
    board, load = config.board, config.agent_load
    try:
        ZoneInfo(board.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America", a directory
        problems.append(("board.timezone", f"{board.timezone[:60]!r} is not an IANA time zone"))
    try:
        parse_clock(board.business_day_start)
    except ValueError as exc:
        problems.append(("board.business_day_start", str(exc)))
    if not config.streams or any(not s for s in config.streams):
        problems.append(("board.stream", "needs at least one non-empty stream key"))
    for name in config.queues:
        if not name.strip():
            problems.append((f"queues.{name}", "a queue needs a name"))
    if load.daily_low > load.daily_high:
        problems.append(("agent_load.daily_low", "must be between 0 and agent_load.daily_high"))
    if load.shops_warn > load.shops_max:
        problems.append(("agent_load.shops_warn", "must be between 1 and agent_load.shops_max"))
    problems += _check_display(config.display)
    problems += _check_feed(config.feed)
    problems += check_webhooks(config.webhooks)
    problems += _check_alerts(config)
    caps = {name: (*config.response_rounds(name), "response_within_s"
                   if section.response_within_s is not None else "response_cap_s")
            for name, section in config.queues.items()}  # fmt: skip
    problems += check_response(config.response, caps, config.groups)
    for name, text in config.shifts.items():
        try:
            parse_shift(text)
        except ValueError as exc:
            problems.append((f"shifts.{name}", str(exc)))
    return problems


def _check_display(display: DisplaySection) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if 0 < display.headline_hz < 0.2:
        problems.append(("display.headline_hz", "must be 0 (off) or between 0.2 and 30"))
    if display.theme and display.theme not in THEMES:
        problems.append(("display.theme", f"unknown theme {display.theme[:40]!r}; known: "
                         f"{', '.join(sorted(THEMES))}"))  # fmt: skip
    pairs = (("sl_warn_gap", display.sl_warn_gap, "sl_critical_gap", display.sl_critical_gap),
             ("waiting_warn", display.waiting_warn, "waiting_critical", display.waiting_critical),
             ("longest_wait_warn_x", display.longest_wait_warn_x, "longest_wait_critical_x",
              display.longest_wait_critical_x),
             ("abandon_warn", display.abandon_warn, "abandon_critical", display.abandon_critical))
    for warn_key, warn, crit_key, crit in pairs:
        if crit < warn:
            problems.append((f"display.{crit_key}", f"must not be below display.{warn_key}"))
    return problems


def _check_feed(feed: FeedSection) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if feed.socket_timeout_s * 1000 <= feed.block_ms:
        problems.append(("feed.socket_timeout_s", "must be longer than feed.block_ms"))
    if feed.stale_after_s * 1000 <= feed.block_ms:
        problems.append(("feed.stale_after_s", "must be longer than feed.block_ms"))
    if feed.backoff_min_s > feed.backoff_max_s:
        problems.append(("feed.backoff_min_s", "must be positive and <= feed.backoff_max_s"))
    return problems


def _check_alerts(config: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    defaults = rule_defaults(config.agent_load)
    for name in AlertsSection.__struct_fields__:
        rule = getattr(config.alerts, name)
        if not hasattr(rule, "warn"):
            continue
        # Judge the levels as they will apply: a table that sets `warn` alone keeps the
        # default `critical` and `clear`, which must still bracket it (else it would flap).
        base = defaults[name]
        warn = base.warn if rule.warn is None else rule.warn
        critical = base.critical if rule.critical is None else rule.critical
        clear = base.clear if rule.clear is None else rule.clear
        if critical < warn:
            problems.append((f"alerts.{name}.critical", f"must not be below alerts.{name}.warn "
                             f"({critical:g} < {warn:g}; set both)"))  # fmt: skip
        if clear > warn:
            problems.append((f"alerts.{name}.clear", f"must not be above alerts.{name}.warn "
                             f"({clear:g} > {warn:g}; set both)"))  # fmt: skip
    return problems


def explain_validation(message: str) -> str:
    """msgspec says 'Object contains unknown field `x` - at `$.board`'; make it name the key.
    (For the simulator's profiles; the board's config gets `config_errors.explain`.)"""
    unknown = re.match(r"Object contains unknown field `([^`]+)`(?: - at `\$\.?([^`]*)`)?", message)
    if unknown:
        key = ".".join(part for part in (unknown.group(2), unknown.group(1)) if part)
        return f"unknown key `{key}`"
    at = re.search(r" - at `\$\.?([^`]*)`", message)
    if at:
        return f"`{at.group(1)}`: {message[: at.start()]}"
    return message


def _to_config(raw: dict[str, Any]) -> Config:
    return msgspec.convert(raw, Config)


def _line(source: str, key: str, problem: str) -> str:
    if not key:
        return f"{source}: {problem}"
    if problem == "unknown key":
        return f"{source}: unknown key `{key}`"
    return f"{source}: `{key}`: {problem}"


def _convert(raw: dict[str, Any], source: str) -> Config:
    try:
        config = _to_config(raw)
    except msgspec.ValidationError as exc:
        key, problem = explain(exc, raw, Config, _to_config)
        raise ConfigError(_line(source, key, problem)) from None
    # Every string left is a string key's value (the types passed): none may hold a control
    # character, as a site name, queue or agent name would reach the screen.
    problems = control_chars(raw)
    if problems:
        raise ConfigError("\n".join(_line(source, key, problem) for key, problem in problems))
    return config


def _read(path: str | Path, source: str) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the config file: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is no error
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{source}: not UTF-8 text: byte 0x{data[exc.start]:02x} on line "
                          f"{line} (save the file as UTF-8)") from None  # fmt: skip
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: arrays or tables nested too "
                          "deeply") from None  # fmt: skip
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def load_config(path: str | Path | None) -> Config:
    """Read and check the config; `None` gives the defaults."""
    if path is None:
        config = Config()
        source = "built-in defaults"
    else:
        source = str(path)
        config = _convert(_read(path, source), source)
    problems = _check(config)
    if problems:
        raise ConfigError("\n".join(_line(source, escape(key), problem)
                                    for key, problem in problems))  # fmt: skip
    return config
