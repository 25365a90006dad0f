"""Typed configuration from one TOML file. Defaults work with no file at all.

msgspec does the typing and rejects unknown keys; the checks here add the ranges and
cross-field rules. Every error names the key and the file, before anything starts.
"""

from __future__ import annotations

import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from wallboard.core.config_alerts import (
    AgentLoadSection,
    AlertsSection,
    ReserveSection,
    StaffingSection,
    rule_defaults,
)
from wallboard.core.config_webhooks import WebhookSection, check_webhooks

Formula = Literal["exclude_short_abandons", "answered", "offered", "abandons_within_positive"]
QueueKind = Literal["realtime", "ticket"]

DEFAULT_STREAM: Final = "wallboard:events"
DEFAULT_CONTROL_STREAM: Final = "wallboard:control"
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ConfigError(ValueError):
    """A configuration problem, with the file and key in its message."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BoardSection(_Section):
    site_name: str = "Customer Service Floor"
    timezone: str = "Asia/Shanghai"
    business_day_start: str = "04:00"
    window_minutes: int = 30
    stream: str | list[str] = DEFAULT_STREAM
    # Acks, reserve callouts and responses; read with the events by every board, replay and
    # snapshot so they all see the same actions. Empty: none.
    control_stream: str = DEFAULT_CONTROL_STREAM
    # How far before the business day a reader goes to learn agent states and waiting contacts.
    carry_over_hours: float = 24.0
    # Idempotency keys (`id`, `_id`) are remembered this long (event time).
    dedup_window_minutes: float = 120.0
    # Events stamped further ahead of the board's clock than this are rejected (bad_timestamp).
    max_future_s: float = 300.0


class ServiceLevelSection(_Section):
    threshold_s: float = 30.0
    target: float = 0.8
    short_abandon_s: float = 5.0
    formula: Formula = "exclude_short_abandons"
    ticket_threshold_s: float = 1800.0


class QueueSection(_Section):
    kind: QueueKind = "realtime"
    threshold_s: float | None = None
    target: float | None = None
    short_abandon_s: float | None = None
    # Contacts one agent handles at once (chat: often 2-3). Erlang C sizes the queue for the
    # offered traffic divided by this; docs/staffing.md.
    concurrency: float = 1.0


class DisplaySection(_Section):
    """How the live board draws (`wallboard board`); never changes a number, only its colour."""

    refresh_hz: float = 4.0  # screen refreshes from the newest snapshot per second
    headline_hz: float = 10.0  # tiles' waiting and longest wait between snapshots; 0: off
    chart_hz: float = 1.0  # trend charts redraw at most this often (plotext is costly)
    rotate_s: float = 20.0  # kiosk: seconds per page while rotating
    theme: str = ""  # a Textual theme name; empty: textual-dark, high contrast in kiosk
    # Service level is WARN below the queue's target minus the warn gap, CRIT below the
    # target minus the critical gap (fractions), so each queue is judged on its own target.
    sl_warn_gap: float = 0.0
    sl_critical_gap: float = 0.1
    waiting_warn: int = 10
    waiting_critical: int = 30
    # Longest wait in multiples of the queue's answer threshold (30 s, or 30 min for tickets).
    longest_wait_warn_x: float = 1.0
    longest_wait_critical_x: float = 3.0
    abandon_warn: float = 0.05
    abandon_critical: float = 0.10


class FeedSection(_Section):
    """How the live feed reads Redis (`feeds/live.py`). docs/live-feed.md explains each."""

    stale_after_s: float = 3.0  # no successful read or ping for this long: the board is stale
    block_ms: int = 1000  # XREAD BLOCK; kept below socket_timeout_s so a quiet read never errs
    socket_timeout_s: float = 5.0  # a hung server surfaces as an error after this
    backoff_min_s: float = 0.2  # reconnect delay, doubling up to backoff_max_s
    backoff_max_s: float = 5.0
    page_size: int = 10_000  # XRANGE page for the backfill
    id_skew_s: float = 300.0  # backfill reads from this much before the wanted event time
    check_interval_s: float = 10.0  # XINFO STREAM gap/reset check while following


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
    ingest: dict[str, str | int | float] = msgspec.field(default_factory=dict)  # ingest_config

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

    @cached_property
    def day_start(self) -> tuple[int, int]:
        return parse_clock(self.board.business_day_start)

    @cached_property
    def shift_spans(self) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
        return [(name, *parse_shift(text)) for name, text in self.shifts.items()]

    def queue_rules(self, queue: str) -> QueueRules:
        section = self.queues.get(queue)
        sl = self.service_level
        if section is None:
            return QueueRules("realtime", sl.threshold_s, sl.target, sl.short_abandon_s)
        default_threshold = sl.ticket_threshold_s if section.kind == "ticket" else sl.threshold_s
        return QueueRules(
            section.kind,
            default_threshold if section.threshold_s is None else section.threshold_s,
            sl.target if section.target is None else section.target,
            sl.short_abandon_s if section.short_abandon_s is None else section.short_abandon_s,
            section.concurrency,
        )


class QueueRules(msgspec.Struct, frozen=True):
    kind: QueueKind
    threshold_s: float
    target: float
    short_abandon_s: float
    concurrency: float = 1.0


def parse_clock(text: str) -> tuple[int, int]:
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    return int(match.group(1)), int(match.group(2))


def parse_shift(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """`HH:MM-HH:MM` to ((h, m), (h, m)); an end before the start crosses midnight."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    first, last = parse_clock(start.strip()), parse_clock(end.strip())
    if first == last:
        raise ValueError("a shift must not start and end at the same time")
    return first, last


def _check(config: Config) -> list[tuple[str, str]]:
    """Range and cross-field checks: (key, problem) pairs."""
    problems: list[tuple[str, str]] = []
    board, sl, load = config.board, config.service_level, config.agent_load
    try:
        ZoneInfo(board.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("board.timezone", f"{board.timezone!r} is not an IANA time zone"))
    try:
        parse_clock(board.business_day_start)
    except ValueError as exc:
        problems.append(("board.business_day_start", str(exc)))
    if not 1 <= board.window_minutes <= 24 * 60:
        problems.append(("board.window_minutes", "must be between 1 and 1440"))
    if not config.streams or any(not s for s in config.streams):
        problems.append(("board.stream", "needs at least one non-empty stream key"))
    for key, number in (("board.carry_over_hours", board.carry_over_hours),
                        ("board.dedup_window_minutes", board.dedup_window_minutes),
                        ("board.max_future_s", board.max_future_s)):  # fmt: skip
        if number < 0:
            problems.append((key, "must not be negative"))

    def check_sl(prefix: str, threshold: float | None, target: float | None,
                 short: float | None) -> None:  # fmt: skip
        if threshold is not None and threshold <= 0:
            problems.append((f"{prefix}.threshold_s", "must be positive"))
        if target is not None and not 0 < target <= 1:
            problems.append((f"{prefix}.target", "must be a fraction in (0, 1], e.g. 0.8"))
        if short is not None and short < 0:
            problems.append((f"{prefix}.short_abandon_s", "must not be negative"))

    check_sl("service_level", sl.threshold_s, sl.target, sl.short_abandon_s)
    if sl.ticket_threshold_s <= 0:
        problems.append(("service_level.ticket_threshold_s", "must be positive"))
    for name, queue in config.queues.items():
        check_sl(f"queues.{name}", queue.threshold_s, queue.target, queue.short_abandon_s)
        if not 1 <= queue.concurrency <= 20:
            problems.append((f"queues.{name}.concurrency", "must be between 1 and 20"))

    if not 0 <= load.daily_low <= load.daily_high:
        problems.append(("agent_load.daily_low", "must be between 0 and agent_load.daily_high"))
    if load.hourly_messages_max <= 0:
        problems.append(("agent_load.hourly_messages_max", "must be positive"))
    if not 0 < load.shops_warn <= load.shops_max:
        problems.append(("agent_load.shops_warn", "must be between 1 and agent_load.shops_max"))
    problems += _check_display(config.display)
    problems += _check_feed(config.feed)
    problems += check_webhooks(config.webhooks)
    problems += _check_alerts(config)
    for name, text in config.shifts.items():
        try:
            parse_shift(text)
        except ValueError as exc:
            problems.append((f"shifts.{name}", str(exc)))
    return problems


def _check_display(display: DisplaySection) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not 0.2 <= display.refresh_hz <= 30:
        problems.append(("display.refresh_hz", "must be between 0.2 and 30"))
    if display.headline_hz != 0 and not 0.2 <= display.headline_hz <= 30:
        problems.append(("display.headline_hz", "must be 0 (off) or between 0.2 and 30"))
    if not 0 < display.chart_hz <= 1:
        problems.append(("display.chart_hz", "must be in (0, 1]: charts redraw at most 1/s"))
    if display.rotate_s < 2:
        problems.append(("display.rotate_s", "must be at least 2 seconds"))
    pairs = (("sl_warn_gap", display.sl_warn_gap, "sl_critical_gap", display.sl_critical_gap),
             ("waiting_warn", display.waiting_warn, "waiting_critical", display.waiting_critical),
             ("longest_wait_warn_x", display.longest_wait_warn_x, "longest_wait_critical_x",
              display.longest_wait_critical_x),
             ("abandon_warn", display.abandon_warn, "abandon_critical", display.abandon_critical))
    for warn_key, warn, crit_key, crit in pairs:
        if warn < 0:
            problems.append((f"display.{warn_key}", "must not be negative"))
        if crit < warn:
            problems.append((f"display.{crit_key}", f"must not be below display.{warn_key}"))
    if display.sl_critical_gap > 1 or display.abandon_critical > 1:
        problems.append(("display", "service-level gaps and abandon rates are fractions (<= 1)"))
    return problems


def _check_feed(feed: FeedSection) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if feed.block_ms < 10:
        problems.append(("feed.block_ms", "must be at least 10 (0 would block forever)"))
    if feed.socket_timeout_s * 1000 <= feed.block_ms:
        problems.append(("feed.socket_timeout_s", "must be longer than feed.block_ms"))
    if feed.stale_after_s * 1000 <= feed.block_ms:
        problems.append(("feed.stale_after_s", "must be longer than feed.block_ms"))
    if not 0 < feed.backoff_min_s <= feed.backoff_max_s:
        problems.append(("feed.backoff_min_s", "must be positive and <= feed.backoff_max_s"))
    if feed.page_size < 1:
        problems.append(("feed.page_size", "must be positive"))
    if feed.id_skew_s < 0:
        problems.append(("feed.id_skew_s", "must not be negative"))
    if feed.check_interval_s <= 0:
        problems.append(("feed.check_interval_s", "must be positive"))
    return problems


def _check_alerts(config: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    defaults = rule_defaults(config.agent_load)
    for name in AlertsSection.__struct_fields__:
        rule = getattr(config.alerts, name)
        if not hasattr(rule, "warn"):
            continue
        for key in ("raise_after_s", "clear_after_s"):
            if (getattr(rule, key) or 0) < 0:
                problems.append((f"alerts.{name}.{key}", "must not be negative"))
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
    occupancy = config.staffing.max_occupancy
    if occupancy is not None and not 0 < occupancy <= 1:
        problems.append(("staffing.max_occupancy", "must be a fraction in (0, 1]"))
    reserve = config.reserve
    for key in ("response_timeout_s", "login_timeout_s", "sl_below_for_s"):
        if getattr(reserve, key) <= 0:
            problems.append((f"reserve.{key}", "must be positive"))
    return problems


def explain_validation(message: str) -> str:
    """msgspec says 'Object contains unknown field `x` - at `$.board`'; make it name the key."""
    unknown = re.match(r"Object contains unknown field `([^`]+)`(?: - at `\$\.?([^`]*)`)?", message)
    if unknown:
        key = ".".join(part for part in (unknown.group(2), unknown.group(1)) if part)
        return f"unknown key `{key}`"
    at = re.search(r" - at `\$\.?([^`]*)`", message)
    if at:
        return f"`{at.group(1)}`: {message[: at.start()]}"
    return message


def _convert(raw: dict[str, object], source: str) -> Config:
    """msgspec reports dict members as `queues[...]`; convert those one by one to name them."""
    queues = raw.pop("queues", {})
    shifts = raw.get("shifts", {})
    if not isinstance(queues, dict):
        raise ConfigError(f"{source}: `queues`: must be a table of [queues.NAME] tables")
    if isinstance(shifts, dict):
        for name, text in shifts.items():
            if not isinstance(text, str):
                raise ConfigError(f"{source}: `shifts.{name}`: must be a string HH:MM-HH:MM")
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {explain_validation(str(exc))}") from None
    for name, section in queues.items():
        try:
            config.queues[name] = msgspec.convert(section, QueueSection)
        except msgspec.ValidationError as exc:
            detail = _prefix(explain_validation(str(exc)), f"queues.{name}")
            raise ConfigError(f"{source}: {detail}") from None
    return config


def _prefix(detail: str, prefix: str) -> str:
    """Put a table's name in front of the key a message names."""
    if detail.startswith("unknown key `"):
        return f"unknown key `{prefix}.{detail[len('unknown key `'):]}"
    if detail.startswith("`"):
        return f"`{prefix}.{detail[1:]}"
    return f"`{prefix}`: {detail}"


def load_config(path: str | Path | None) -> Config:
    """Read and check the config; `None` gives the defaults."""
    if path is None:
        config = Config()
        source = "built-in defaults"
    else:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the config file: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        config = _convert(raw, source)
    problems = _check(config)
    if problems:
        lines = [f"{source}: `{key}`: {problem}" for key, problem in problems]
        raise ConfigError("\n".join(lines))
    return config
