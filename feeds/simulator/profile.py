"""Simulation profiles: typed TOML (msgspec), every parameter with a default.

The defaults here are the `normal` profile; feeds/profiles/normal.toml spells them all out as
documentation, and a profile file only needs the keys it changes. Unknown keys are an error that
names the key and the file, like wallboard/core/config.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Final, Literal

import msgspec

from wallboard.core.config import explain_validation, parse_shift

PROFILE_DIR: Final = Path(__file__).resolve().parent.parent / "profiles"

Channel = Literal["phone", "chat", "email", "ticket", "wechat", "app", "other"]


class ProfileError(ValueError):
    """A profile problem, with the file and key in its message."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ChannelParams(_Section):
    concurrency: int = 1  # contacts of this channel one agent handles at once
    answer_delay_s: float = 3.0  # median time from routing to the answer (ringing, first reply)
    handle_median_s: float = 240.0  # handle time is log-normal: median and shape (sigma)
    handle_sigma: float = 0.6
    wrap_up_median_s: float = 0.0  # after-contact work (log-normal, sigma 0.5); 0 = none
    patience_mean_s: float = 0.0  # exponential customer patience; 0 = never abandons
    message_every_s: float = 0.0  # mean gap between customer questions in a chat; 0 = none
    # The shop's replies (`contact.reply`, docs/simulator.md): the agent's first reply after
    # the answer and one after each question, log-normal (median, sigma); 0 = no replies.
    reply_median_s: float = 0.0
    reply_sigma: float = 0.9
    # Under load (waiting / reply_pressure_waiting, up to 1) replies slow down by up to
    # 1 + reply_slowdown times, and up to reply_miss_share of questions get no reply at all.
    reply_pressure_waiting: float = 20.0
    reply_slowdown: float = 3.0
    reply_miss_share: float = 0.15
    assist_share: float = 0.0  # replies a bot sends in assist mode (`by=assist`)


class QueueParams(_Section):
    name: str
    channel: Channel
    peak_per_hour: float  # arrivals per hour at hourly factor 1.0, for `floor.agents` agents
    bot: bool = False  # arrivals meet the bot first
    staff_share: float = 0.2  # share of the agents whose primary queue this is
    transfer_share: float = 0.0  # share of handled contacts transferred to `transfer_to`
    transfer_to: str = ""
    conversion: float = 0.0  # share of completed contacts that order; 0 = outcome "resolved"
    order_value_median: float = 180.0  # log-normal order value
    order_value_sigma: float = 0.8


class LevelParams(_Section):
    share: float
    handle_factor: float = 1.0  # multiplies handle times
    conversion_bonus: float = 0.0  # added to the queue's conversion


def _levels() -> dict[str, LevelParams]:
    return {
        "normal": LevelParams(share=0.40, handle_factor=1.10, conversion_bonus=0.0),
        "senior": LevelParams(share=0.25, handle_factor=1.00, conversion_bonus=0.03),
        "elite": LevelParams(share=0.15, handle_factor=0.95, conversion_bonus=0.05),
        "expert": LevelParams(share=0.12, handle_factor=0.90, conversion_bonus=0.07),
        "gold": LevelParams(share=0.08, handle_factor=0.85, conversion_bonus=0.10),
    }


def _shops() -> list[str]:
    return ["flagship", "outlet", "global", "kids", "home"]


class FloorParams(_Section):
    agents: int = 60  # floor size the queue rates are written for; --agents scales both
    reserve_share: float = 0.15  # agents in the reserve pool (logged out until called out)
    day_shift_share: float = 0.55  # core agents on the day shift; the rest work evenings
    team_size: int = 8
    shops: list[str] = msgspec.field(default_factory=_shops)
    shop_count_weights: list[float] = msgspec.field(default_factory=lambda: [0.6, 0.32, 0.08])
    second_queue_share: float = 0.35  # agents who also serve a second queue of their channel
    levels: dict[str, LevelParams] = msgspec.field(default_factory=_levels)


class ShiftParams(_Section):
    day: str = "08:30-17:30"
    evening: str = "17:30-00:30"
    login_jitter_minutes: float = 5.0  # logins and logouts spread +-this around the shift edge
    break_every_minutes: float = 120.0
    break_minutes: float = 15.0


class BotParams(_Section):
    resolve_share: float = 0.45  # share of bot conversations the bot resolves (30-60% is usual)
    median_s: float = 40.0  # log-normal length of a bot conversation
    sigma: float = 0.5


class OutcomeParams(_Section):
    rating_share: float = 0.6  # share of completed contacts the customer rates
    rating_weights: list[float] = msgspec.field(
        default_factory=lambda: [0.03, 0.04, 0.10, 0.28, 0.55])  # fmt: skip  # ratings 1..5


def _departments() -> list[str]:
    return ["warehouse", "operations", "finance", "product", "logistics"]


class ComplaintParams(_Section):
    """Complaints raised from completed contacts, and the callbacks of the key ones."""

    share: float = 0.01  # completed contacts that become a complaint
    key_share: float = 0.3  # complaints that are key ones (a 72 h callback deadline)
    departments: list[str] = msgspec.field(default_factory=_departments)
    callback_median_h: float = 20.0  # log-normal delay to the reached callback (some late)
    callback_sigma: float = 0.9
    no_answer_share: float = 0.25  # a first attempt that does not reach the customer
    missed_share: float = 0.08  # key complaints never called back
    close_after_h: float = 2.0  # closed this long after the reached callback (mean)


class ReserveParams(_Section):
    accept_share: float = 0.8  # reserve agents who accept a callout
    delay_median_s: float = 60.0  # log-normal response delay, clipped to [min, max]
    delay_sigma: float = 0.7
    delay_min_s: float = 10.0
    delay_max_s: float = 300.0
    stint_minutes: float = 180.0  # how long an accepted reserve agent stays logged in


def _hourly() -> list[float]:
    # A normal e-commerce day, local time: quiet nights, a morning and afternoon plateau and an
    # evening peak when people shop after work.
    return [0.15, 0.08, 0.05, 0.04, 0.04, 0.06, 0.12, 0.25, 0.50, 0.80, 0.95, 1.00,
            0.85, 0.90, 0.95, 0.95, 0.90, 0.80, 0.75, 0.85, 1.00, 1.00, 0.75, 0.40]  # fmt: skip


def _channels() -> dict[str, ChannelParams]:
    return {
        "chat": ChannelParams(concurrency=3, answer_delay_s=6, handle_median_s=420,
                              handle_sigma=0.6, patience_mean_s=120, message_every_s=50,
                              reply_median_s=20),
        "wechat": ChannelParams(concurrency=3, answer_delay_s=8, handle_median_s=480,
                                handle_sigma=0.6, patience_mean_s=180, message_every_s=60,
                                reply_median_s=25),
        "phone": ChannelParams(concurrency=1, answer_delay_s=4, handle_median_s=210,
                               handle_sigma=0.55, wrap_up_median_s=25, patience_mean_s=75),
        "ticket": ChannelParams(concurrency=1, answer_delay_s=20, handle_median_s=300,
                                handle_sigma=0.5),
    }  # fmt: skip


def _queues() -> list[QueueParams]:
    return [
        QueueParams(name="presale-chat", channel="chat", peak_per_hour=260, bot=True,
                    staff_share=0.30, transfer_share=0.03, transfer_to="aftersale-chat",
                    conversion=0.7),
        QueueParams(name="aftersale-chat", channel="chat", peak_per_hour=170, bot=True,
                    staff_share=0.22, transfer_share=0.02, transfer_to="tickets"),
        QueueParams(name="phone-hotline", channel="phone", peak_per_hour=70,
                    staff_share=0.22, transfer_share=0.04, transfer_to="tickets"),
        QueueParams(name="wechat", channel="wechat", peak_per_hour=100, bot=True,
                    staff_share=0.14, transfer_share=0.02, transfer_to="presale-chat",
                    conversion=0.5),
        QueueParams(name="tickets", channel="ticket", peak_per_hour=25, staff_share=0.12),
    ]  # fmt: skip


class Profile(_Section):
    name: str = "normal"
    description: str = "An ordinary trading day"
    hourly: list[float] = msgspec.field(default_factory=_hourly)  # 24 factors, local hours
    floor: FloorParams = msgspec.field(default_factory=FloorParams)
    shifts: ShiftParams = msgspec.field(default_factory=ShiftParams)
    bot: BotParams = msgspec.field(default_factory=BotParams)
    outcomes: OutcomeParams = msgspec.field(default_factory=OutcomeParams)
    reserve: ReserveParams = msgspec.field(default_factory=ReserveParams)
    complaints: ComplaintParams = msgspec.field(default_factory=ComplaintParams)
    channels: dict[str, ChannelParams] = msgspec.field(default_factory=_channels)
    queues: list[QueueParams] = msgspec.field(default_factory=_queues)

    def channel(self, name: str) -> ChannelParams:
        return self.channels.get(name) or ChannelParams()


def _check(profile: Profile) -> list[tuple[str, str]]:
    """Range and cross-field checks: (key, problem) pairs."""
    problems: list[tuple[str, str]] = []

    def share(key: str, value: float) -> None:
        if not 0 <= value <= 1:
            problems.append((key, "must be a fraction between 0 and 1"))

    def positive(key: str, value: float) -> None:
        if value <= 0:
            problems.append((key, "must be positive"))

    def non_negative(key: str, value: float) -> None:
        if value < 0:
            problems.append((key, "must not be negative"))

    if len(profile.hourly) != 24:
        problems.append(("hourly", f"needs 24 factors (one per local hour), got "
                                   f"{len(profile.hourly)}"))  # fmt: skip
    if any(f < 0 for f in profile.hourly):
        problems.append(("hourly", "factors must not be negative"))
    floor = profile.floor
    positive("floor.agents", floor.agents)
    share("floor.reserve_share", floor.reserve_share)
    share("floor.day_shift_share", floor.day_shift_share)
    share("floor.second_queue_share", floor.second_queue_share)
    positive("floor.team_size", floor.team_size)
    if not floor.shops:
        problems.append(("floor.shops", "needs at least one shop"))
    weights = floor.shop_count_weights
    if not 1 <= len(weights) <= 3 or any(w < 0 for w in weights) or sum(weights) <= 0:
        problems.append(("floor.shop_count_weights",
                         "needs 1-3 non-negative weights (for 1, 2, 3 shops)"))  # fmt: skip
    if not floor.levels or any(lv.share < 0 for lv in floor.levels.values()) or sum(
            lv.share for lv in floor.levels.values()) <= 0:  # fmt: skip
        problems.append(("floor.levels", "needs levels with non-negative shares"))
    for name, level in floor.levels.items():
        positive(f"floor.levels.{name}.handle_factor", level.handle_factor)
    for key, text in (("shifts.day", profile.shifts.day),
                      ("shifts.evening", profile.shifts.evening)):  # fmt: skip
        try:
            parse_shift(text)
        except ValueError as exc:
            problems.append((key, str(exc)))
    non_negative("shifts.login_jitter_minutes", profile.shifts.login_jitter_minutes)
    positive("shifts.break_every_minutes", profile.shifts.break_every_minutes)
    non_negative("shifts.break_minutes", profile.shifts.break_minutes)
    share("bot.resolve_share", profile.bot.resolve_share)
    positive("bot.median_s", profile.bot.median_s)
    non_negative("bot.sigma", profile.bot.sigma)
    share("outcomes.rating_share", profile.outcomes.rating_share)
    ratings = profile.outcomes.rating_weights
    if len(ratings) != 5 or any(w < 0 for w in ratings) or sum(ratings) <= 0:
        problems.append(("outcomes.rating_weights", "needs 5 non-negative weights (1..5)"))
    cases = profile.complaints
    share("complaints.share", cases.share)
    share("complaints.key_share", cases.key_share)
    share("complaints.no_answer_share", cases.no_answer_share)
    share("complaints.missed_share", cases.missed_share)
    positive("complaints.callback_median_h", cases.callback_median_h)
    non_negative("complaints.callback_sigma", cases.callback_sigma)
    positive("complaints.close_after_h", cases.close_after_h)
    if not cases.departments or any(not d.strip() or len(d) > 256 for d in cases.departments):
        problems.append(("complaints.departments", "needs names of 1 to 256 characters"))
    res = profile.reserve
    share("reserve.accept_share", res.accept_share)
    positive("reserve.delay_median_s", res.delay_median_s)
    non_negative("reserve.delay_sigma", res.delay_sigma)
    if not 0 <= res.delay_min_s <= res.delay_max_s:
        problems.append(("reserve.delay_min_s", "must be between 0 and reserve.delay_max_s"))
    positive("reserve.stint_minutes", res.stint_minutes)
    for name, ch in profile.channels.items():
        prefix = f"channels.{name}"
        if ch.concurrency < 1:
            problems.append((f"{prefix}.concurrency", "must be at least 1"))
        positive(f"{prefix}.handle_median_s", ch.handle_median_s)
        for key in ("answer_delay_s", "handle_sigma", "wrap_up_median_s", "patience_mean_s",
                    "message_every_s", "reply_median_s", "reply_sigma",
                    "reply_pressure_waiting", "reply_slowdown", "reply_miss_share",
                    "assist_share"):  # fmt: skip
            non_negative(f"{prefix}.{key}", getattr(ch, key))
    if not profile.queues:
        problems.append(("queues", "needs at least one queue"))
    names = [q.name for q in profile.queues]
    for i, queue in enumerate(profile.queues):
        prefix = f"queues[{i}]"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", queue.name):
            problems.append((f"{prefix}.name", f"{queue.name!r} is not a queue name "
                                               "(letters, digits, - _ . :)"))  # fmt: skip
        if names.count(queue.name) > 1:
            problems.append((f"{prefix}.name", f"{queue.name!r} is defined twice"))
        non_negative(f"{prefix}.peak_per_hour", queue.peak_per_hour)
        non_negative(f"{prefix}.staff_share", queue.staff_share)
        share(f"{prefix}.transfer_share", queue.transfer_share)
        share(f"{prefix}.conversion", queue.conversion)
        positive(f"{prefix}.order_value_median", queue.order_value_median)
        if queue.transfer_to and queue.transfer_to not in names:
            problems.append((f"{prefix}.transfer_to", f"{queue.transfer_to!r} is not a queue"))
        if queue.transfer_to == queue.name:
            problems.append((f"{prefix}.transfer_to", "a queue cannot transfer to itself"))
    return problems


def profile_path(name_or_path: str) -> Path:
    """A bundled profile name (`normal`, `double11`) or a path to a TOML file."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", name_or_path):
        bundled = PROFILE_DIR / f"{name_or_path}.toml"
        if bundled.is_file():
            return bundled
        if not Path(name_or_path).exists():
            known = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.toml")))
            raise ProfileError(f"no profile named {name_or_path!r} (bundled: {known}; "
                               "or give a path to a TOML file)")  # fmt: skip
    return Path(name_or_path)


def load_profile(name_or_path: str | None = None) -> Profile:
    """Read and check a profile; None gives the built-in defaults (the `normal` profile)."""
    if name_or_path is None:
        profile = Profile()
        source = "built-in defaults"
    else:
        path = profile_path(name_or_path)
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"{source}: cannot read the profile: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ProfileError(f"{source}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{source}: not valid TOML: {exc}") from None
        if isinstance(raw.get("channels"), dict):
            # Channels the file does not name keep the built-in ones (a `[channels.X]` table
            # replaces X alone, every key of it spelled out or at ChannelParams' default).
            defaults = {name: msgspec.to_builtins(p) for name, p in _channels().items()}
            raw = {**raw, "channels": {**defaults, **raw["channels"]}}
        try:
            profile = msgspec.convert(raw, Profile)
        except msgspec.ValidationError as exc:
            raise ProfileError(f"{source}: {explain_validation(str(exc))}") from None
    problems = _check(profile)
    if problems:
        raise ProfileError("\n".join(f"{source}: `{key}`: {why}" for key, why in problems))
    return profile
