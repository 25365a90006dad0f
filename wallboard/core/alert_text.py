"""One line per alert for people: what, where, how bad, against what level."""

from __future__ import annotations

from wallboard.core.alerts import AlertRecord

_WHAT = {
    "contact_over_threshold": "{v:.0f} waiting past the answer threshold",
    "ticket_over_threshold": "{v:.0f} tickets waiting past their threshold",
    "sl_window": "window service level {points:.1f} points below target",
    "longest_wait": "longest wait {v:.0f}s (limit {limit:.0f}s)",
    "queue_depth": "{v:.0f} waiting (limit {limit:.0f})",
    "abandon_rate": "window abandon rate {v:.1%} (limit {limit:.1%})",
    "agent_over_daily_high": "{v:.0f} inquiries today (over {limit:.0f})",
    "agent_projected_over": "projected {v:.0f} inquiries by shift end (over {limit:.0f})",
    "agent_messages": "{v:.0f} questions in the last hour (over {limit:.0f})",
    "agent_shops": "logged into {v:.0f} shops (over {limit:.0f})",
    "feed_stale": "feed stale for {v:.0f}s",
    "oldest_open_round": "a customer has waited {v:.0f}s for a reply (limit {limit:.0f}s)",
    "response_rate": "window response rate {points:.1f} points below target",
    "complaint_overdue": "{v:.0f} key complaints overdue for a callback (limit {limit:.0f})",
}


# Rules that count only up to one past their critical level (wallboard.core.alerts._over_threshold).
_COUNTED_TO_CRITICAL = frozenset({"contact_over_threshold", "ticket_over_threshold"})


def describe(record: AlertRecord, name: str | None = None) -> str:
    subject = record.subject_id if name is None else f"{record.subject_id} {name}"
    template = _WHAT.get(record.rule, "{v:g}")
    # A cleared alert tells how bad it got; an active one how bad it is now.
    value = record.worst if record.cleared_at is not None else record.value
    text = template.format(v=value, limit=record.limit, points=value * 100)
    if record.rule in _COUNTED_TO_CRITICAL and record.peak == "critical" and value > record.limit:
        text = text.replace(f"{value:.0f} ", f"more than {value - 1:.0f} ", 1)
    return text if subject is None else f"{subject}: {text}"
