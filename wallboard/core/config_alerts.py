"""Config sections for alert rules, Erlang C staffing and the reserve pool (docs/alerts.md).

Each rule's levels default per rule (`wallboard.core.alerts.RULES`); a `[alerts.<rule>]` table
overrides only the keys it names.
"""

from __future__ import annotations

import msgspec


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AlertRuleSection(_Section):
    """Raise at `warn`/`critical` (value strictly above the level), clear at `clear` (value at
    or below it) once it has held `clear_after_s`; raise only after `raise_after_s` above."""

    enabled: bool = True
    warn: float | None = None
    critical: float | None = None
    clear: float | None = None
    raise_after_s: float | None = None
    clear_after_s: float | None = None
    min_contacts: int | None = None  # rate rules: judged only on this many contacts or more


class AlertsSection(_Section):
    bell: bool = False  # ring the terminal bell on a new critical alert (big screen)
    contact_over_threshold: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    ticket_over_threshold: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    sl_window: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    longest_wait: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    queue_depth: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    abandon_rate: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_over_daily_high: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_projected_over: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_messages: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    agent_shops: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)
    feed_stale: AlertRuleSection = msgspec.field(default_factory=AlertRuleSection)


class StaffingSection(_Section):
    max_occupancy: float | None = None  # Erlang C: also keep occupancy at or below this


class RosterEntry(_Section):
    name: str | None = None
    handle: str | None = None  # how to reach them: phone, WeChat id, pager
    queues: list[str] = msgspec.field(default_factory=list)
    level: int = 1  # higher: more senior


class ReserveSection(_Section):
    response_timeout_s: float = 300.0  # a callee who has not answered by then: no_answer
    login_timeout_s: float = 1800.0  # accepted but not logged in by then: the callout is overdue
    sl_below_for_s: float = 300.0  # window SL below target this long also recommends a callout
    roster_hash: str | None = None  # Redis hash: agent id -> JSON {name, handle, queues, level}
    agents: dict[str, RosterEntry] = msgspec.field(default_factory=dict)
