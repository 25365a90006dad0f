"""What changed between successive snapshots that a webhook should hear about: alert raised,
escalated to critical, acknowledged, cleared; callout created, a callee's new status, callout
overdue. Pure: snapshots in, encoded notifications out (feeds/webhooks.py sends them).

Each notification has a stable key (alert or callout id + kind [+ severity or callee status]);
a key is produced once per notifier, so offering the same snapshot twice sends nothing new.
Alert and callout ids are stable across boards and replays, so a receiver can also drop
repeats after a board restart by the key (docs/webhooks.md).
"""

from __future__ import annotations

from typing import Any

import msgspec

from wallboard.core.reserve import CALLED
from wallboard.core.snapshot import AlertSnapshot, CalleeSnapshot, CalloutSnapshot, Snapshot

BODY_VERSION = 1


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # one of wallboard.core.config_webhooks.WEBHOOK_EVENTS
    key: str  # the dedup key, also sent as Idempotency-Key
    rule: str | None  # alert events only (webhook `rules` filter)
    severity: str | None  # alert events only (webhook `min_severity` filter)
    body: bytes  # encoded once: every retry sends (and signs) the same bytes


class _Body(msgspec.Struct, omit_defaults=True, kw_only=True):
    version: int
    event: str
    dedup_key: str
    site: str
    as_of: str | None
    summary: str
    alert: dict[str, Any] | None = None
    callout: dict[str, Any] | None = None
    callee: dict[str, Any] | None = None


_ENCODER = msgspec.json.Encoder()


class SnapshotDiff:
    """Remembers what it has produced, per alert and callout id of the current snapshots."""

    def __init__(self) -> None:
        self._alerts: dict[str, set[str]] = {}  # alert id -> kinds produced
        self._callouts: dict[str, dict[str, str]] = {}  # callout id -> agent -> last status
        self._callout_keys: dict[str, set[str]] = {}

    def changes(self, snapshot: Snapshot) -> list[Notification]:
        out: list[Notification] = []
        for alert in snapshot.alerts:
            out += self._alert(snapshot, alert)
        for callout in snapshot.callouts:
            out += self._callout(snapshot, callout)
        # A new business day drops yesterday's alerts from the snapshot: forget them too.
        for gone in self._alerts.keys() - {alert.id for alert in snapshot.alerts}:
            del self._alerts[gone]
        for gone in self._callouts.keys() - {callout.id for callout in snapshot.callouts}:
            del self._callouts[gone], self._callout_keys[gone]
        return out

    def _alert(self, snap: Snapshot, alert: AlertSnapshot) -> list[Notification]:
        done = self._alerts.get(alert.id)
        if done is None:
            done = self._alerts[alert.id] = set()
            if alert.cleared_at is not None:  # history from before this notifier: not news
                done.update(("raised", "escalated", "acknowledged", "cleared"))
                return []
        out: list[Notification] = []
        if "raised" not in done:
            done.add("raised")
            if alert.peak_severity == "critical":  # raised critical: no separate escalation
                done.add("escalated")
            out.append(_alert_note(snap, alert, "raised", alert.peak_severity))
        if "escalated" not in done and alert.peak_severity == "critical":
            done.add("escalated")
            out.append(_alert_note(snap, alert, "escalated", "critical"))
        if "acknowledged" not in done and alert.acked_by is not None:
            done.add("acknowledged")
            out.append(_alert_note(snap, alert, "acknowledged", alert.peak_severity))
        if "cleared" not in done and alert.cleared_at is not None:
            done.add("cleared")
            out.append(_alert_note(snap, alert, "cleared", alert.peak_severity))
        return out

    def _callout(self, snap: Snapshot, callout: CalloutSnapshot) -> list[Notification]:
        statuses = self._callouts.get(callout.id)
        keys = self._callout_keys.setdefault(callout.id, set())
        out: list[Notification] = []
        if statuses is None:
            if not callout.active:  # history: not news
                statuses = self._callouts[callout.id] = {c.agent: c.status
                                                         for c in callout.agents}  # fmt: skip
                keys.update(f"{c.agent}:{c.status}" for c in callout.agents)
                keys.add("overdue")
                return []
            # Active: news, and so is every callee who already moved past `called` (a response
            # folded in the same tick as the callout, a board restarted mid-callout): start
            # them all at `called`, so the loop below sends their status as a change.
            statuses = self._callouts[callout.id] = dict.fromkeys(
                (c.agent for c in callout.agents), CALLED)  # fmt: skip
            keys.update(f"{agent}:{CALLED}" for agent in statuses)
            out.append(_callout_note(snap, callout, "created", f"{callout.id}:created", None))
        for callee in callout.agents:
            if statuses.get(callee.agent) != callee.status:
                statuses[callee.agent] = callee.status
                key = f"{callee.agent}:{callee.status}"
                if key not in keys:
                    keys.add(key)
                    out.append(_callout_note(snap, callout, "callee", f"{callout.id}:{key}",
                                             callee))  # fmt: skip
        if callout.overdue and "overdue" not in keys:
            keys.add("overdue")
            out.append(_callout_note(snap, callout, "overdue", f"{callout.id}:overdue", None))
        return out


def _alert_note(snap: Snapshot, alert: AlertSnapshot, what: str, severity: str) -> Notification:
    kind = f"alert.{what}"
    key = f"{alert.id}:{what}" + (f":{severity}" if what == "escalated" else "")
    who = f" by {alert.acked_by}" if what == "acknowledged" and alert.acked_by else ""
    summary = (f"[{snap.site_name}] {what.upper()}{who}: {severity.upper()} {alert.rule} "
               f"on {alert.subject}: {alert.message}")  # fmt: skip
    body = _Body(version=BODY_VERSION, event=kind, dedup_key=key, site=snap.site_name,
                 as_of=snap.as_of, summary=summary, alert=msgspec.to_builtins(alert))  # fmt: skip
    return Notification(kind=kind, key=key, rule=alert.rule, severity=severity,
                        body=_ENCODER.encode(body))  # fmt: skip


def _callout_note(snap: Snapshot, callout: CalloutSnapshot, what: str, key: str,
                  callee: CalleeSnapshot | None) -> Notification:  # fmt: skip
    kind = f"callout.{what}"
    agents = ", ".join(c.agent for c in callout.agents)
    if callee is not None:
        name = f" ({callee.name})" if callee.name else ""
        summary = f"callee {callee.agent}{name} is {callee.status}"
    elif what == "created":
        summary = f"{len(callout.agents)} reserve agent(s) called in: {agents}"
    else:
        summary = "some callees neither answered nor logged in in time"
    summary = f"[{snap.site_name}] CALLOUT {callout.id} for queue {callout.queue}: {summary}"
    body = _Body(version=BODY_VERSION, event=kind, dedup_key=key, site=snap.site_name,
                 as_of=snap.as_of, summary=summary, callout=msgspec.to_builtins(callout),
                 callee=None if callee is None else msgspec.to_builtins(callee))  # fmt: skip
    return Notification(kind=kind, key=key, rule=None, severity=None,
                        body=_ENCODER.encode(body))  # fmt: skip
