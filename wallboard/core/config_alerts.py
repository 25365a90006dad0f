"""Config sections for alert rules, Erlang C staffing and the reserve pool (docs/alerts.md).

Each rule's levels default per rule (`rule_defaults` below, which the config check and the
alert engine share); a `[alerts.<rule>]` table overrides only the keys it names. The levels'
bounds follow what the rule measures: counts, seconds and rates cannot be negative; only
`sl_window`, whose value is a gap (target - SL), has meaningful negative levels.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import msgspec

from wallboard.core.config_bounds import (
    MAX_COUNT,
    WEEK_S,
    Count,
    PositiveCount,
    PositiveFraction,
    PositiveSeconds,
    Seconds,
)

# A level of a rule that counts (contacts, inquiries, messages, shops).
CountLevel = Annotated[float, msgspec.Meta(ge=0, le=MAX_COUNT)]
# A level of a rule that measures seconds (a wait, a stale feed).
SecondsLevel = Annotated[float, msgspec.Meta(ge=0, le=WEEK_S)]
# A level of a rate rule (abandons over offers).
RateLevel = Annotated[float, msgspec.Meta(ge=0, le=1)]
# A level of the service-level gap (target - SL): a clear level below 0 asks for SL above target.
GapLevel = Annotated[float, msgspec.Meta(ge=-1, le=1)]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AgentLoadSection(_Section):
    """The inquiry load an agent should carry; the agent alert rules' levels follow it."""

    daily_low: Count = 80
    daily_high: PositiveCount = 120  # divides the projected load (reserve, staffing)
    hourly_messages_max: PositiveCount = 360
    shops_warn: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 2
    shops_max: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3


class AlertRuleSection(_Section):
    """Raise at `warn`/`critical` (value strictly above the level), clear at `clear` (value at
    or below it) once it has held `clear_after_s`; raise only after `raise_after_s` above.

    This is the section of a rule that counts; the subclasses bound the levels of the rules
    that measure seconds, a rate or the service-level gap."""

    enabled: bool = True
    warn: CountLevel | None = None
    critical: CountLevel | None = None
    clear: CountLevel | None = None
    raise_after_s: Seconds | None = None
    clear_after_s: Seconds | None = None
    min_contacts: Count | None = None  # rate rules: judged only on this many contacts or more


class SecondsRuleSection(AlertRuleSection):
    warn: SecondsLevel | None = None
    critical: SecondsLevel | None = None
    clear: SecondsLevel | None = None


class RateRuleSection(AlertRuleSection):
    warn: RateLevel | None = None
    critical: RateLevel | None = None
    clear: RateLevel | None = None


class GapRuleSection(AlertRuleSection):
    warn: GapLevel | None = None
    critical: GapLevel | None = None
    clear: GapLevel | None = None


class AlertsSection(_Section):
    bell: bool = False  # ring the terminal bell on a new critical alert (big screen)
    contact_over_threshold: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    ticket_over_threshold: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    sl_window: GapRuleSection = msgspec.field(default_factory=GapRuleSection)
    longest_wait: SecondsRuleSection = msgspec.field(default_factory=SecondsRuleSection)
    queue_depth: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    abandon_rate: RateRuleSection = msgspec.field(default_factory=RateRuleSection)
    agent_over_daily_high: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_projected_over: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_messages: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_shops: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    feed_stale: SecondsRuleSection = msgspec.field(default_factory=SecondsRuleSection)
    oldest_open_round: SecondsRuleSection = msgspec.field(default_factory=SecondsRuleSection)
    response_rate: GapRuleSection = msgspec.field(default_factory=GapRuleSection)
    complaint_overdue: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)


class StaffingSection(_Section):
    # Erlang C: also keep occupancy at or below this
    max_occupancy: PositiveFraction | None = None


class RosterEntry(_Section):
    name: str | None = None
    handle: str | None = None  # how to reach them: phone, WeChat id, pager
    queues: list[str] = msgspec.field(default_factory=list)
    level: Count = 1  # higher: more senior


class ReserveSection(_Section):
    response_timeout_s: PositiveSeconds = 300.0  # a callee who has not answered by then: no_answer
    login_timeout_s: PositiveSeconds = 1800.0  # accepted but not logged in by then: overdue
    sl_below_for_s: PositiveSeconds = 300.0  # window SL below target this long: recommend a callout
    roster_hash: str | None = None  # Redis hash: agent id -> JSON {name, handle, queues, level}
    agents: dict[str, RosterEntry] = msgspec.field(default_factory=dict)


class RuleDefaults(NamedTuple):
    subject_kind: str  # queue | agent | board
    warn: float
    critical: float
    clear: float
    raise_after_s: float = 0.0
    clear_after_s: float = 30.0
    min_contacts: int = 0


def rule_defaults(load: AgentLoadSection) -> dict[str, RuleDefaults]:
    """Every rule's default levels: `value > level` raises, `value <= clear` clears. The
    agent rules' levels follow `[agent_load]`."""
    high = float(load.daily_high)
    messages = float(load.hourly_messages_max)
    return {
        # contacts waiting longer than the queue's SL threshold (realtime queues)
        "contact_over_threshold": RuleDefaults("queue", 0, 4, 0, raise_after_s=15,
                                               clear_after_s=30),
        # tickets waiting past the ticket queue's threshold (30 minutes by default)
        "ticket_over_threshold": RuleDefaults("queue", 0, 9, 0, clear_after_s=30),
        # window service level below target: the value is the gap (target - SL)
        "sl_window": RuleDefaults("queue", 0.0, 0.10, -0.02, clear_after_s=60, min_contacts=10),
        "longest_wait": RuleDefaults("queue", 60, 120, 45),  # seconds, realtime queues
        "queue_depth": RuleDefaults("queue", 20, 50, 15),  # contacts waiting
        "abandon_rate": RuleDefaults("queue", 0.05, 0.10, 0.04, clear_after_s=60,
                                     min_contacts=10),
        "agent_over_daily_high": RuleDefaults("agent", high, round(high * 1.25), high),
        "agent_projected_over": RuleDefaults("agent", high, round(high * 1.25), high - 5,
                                             raise_after_s=300, clear_after_s=300),
        "agent_messages": RuleDefaults("agent", messages, round(messages * 1.25),
                                       round(messages * 0.95)),
        "agent_shops": RuleDefaults("agent", load.shops_max, load.shops_max + 2, load.shops_max,
                                    clear_after_s=0),
        "feed_stale": RuleDefaults("board", 0, 30, 0, clear_after_s=5),  # seconds stale
        # a customer waiting for the shop's reply (the oldest open response round), seconds
        "oldest_open_round": RuleDefaults("queue", 120, 180, 90),
        # window response rate below `[response] target`: the value is the gap (target - rate)
        "response_rate": RuleDefaults("queue", 0.0, 0.10, -0.02, clear_after_s=60,
                                      min_contacts=10),
        # key complaints past their callback deadline, not called back, not closed
        "complaint_overdue": RuleDefaults("board", 0, 4, 0, clear_after_s=300),
    }
