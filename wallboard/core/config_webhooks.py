"""`[[webhooks]]` tables of the config: where alert and callout notifications go
(feeds/webhooks.py sends them; docs/webhooks.md describes the requests)."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

import msgspec

from wallboard.core.config_alerts import AlertRuleSection, AlertsSection
from wallboard.core.config_bounds import HOUR_S, MAX_COUNT

Severity = Literal["warn", "critical"]

# Every kind of notification; a webhook's `events` picks some (empty: all).
WEBHOOK_EVENTS: Final = (
    "alert.raised",
    "alert.escalated",
    "alert.acknowledged",
    "alert.cleared",
    "callout.created",
    "callout.callee",
    "callout.overdue",
)
# Headers the notifier sets itself; a configured header must not replace them.
RESERVED_HEADERS: Final = frozenset({
    "content-type", "content-length", "host", "idempotency-key", "x-wallboard-event",
    "x-wallboard-signature",
})
# The alert rule names (`rule` of an alert): the [alerts.NAME] tables.
ALERT_RULES: Final = tuple(name for name in AlertsSection.__struct_fields__
                           if isinstance(getattr(AlertsSection(), name), AlertRuleSection))
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)


class WebhookSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: str
    name: str = ""  # shown on the board instead of the (redacted) URL
    rules: list[str] = msgspec.field(default_factory=list)  # alert rules sent; empty: all
    min_severity: Severity = "warn"
    events: list[str] = msgspec.field(default_factory=list)  # WEBHOOK_EVENTS; empty: all
    # one request, connect to last byte
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300,
                                             description="in (0, 300] seconds")] = 5.0
    # tries per notification before it is dropped
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    # wait after the first failure, doubling per attempt up to backoff_max_s
    backoff_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 1.0
    backoff_max_s: Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)] = 60.0
    # notifications waiting; past this the oldest is dropped
    queue_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)] = 1000
    secret: str = ""  # HMAC-SHA256 key for X-Wallboard-Signature
    secret_env: str = ""  # or: the environment variable that holds the key
    headers: dict[str, str] = msgspec.field(default_factory=dict)


def check_webhooks(webhooks: list[WebhookSection]) -> list[tuple[str, str]]:
    """Range and format checks: (key, problem) pairs, keys like `webhooks[0].url`."""
    problems: list[tuple[str, str]] = []
    for index, hook in enumerate(webhooks):
        key = f"webhooks[{index}]"
        problems += [(f"{key}.{name}", problem) for name, problem in _check_one(hook, key)]
    return problems


def _check_one(hook: WebhookSection, key: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    try:
        parts = urlsplit(hook.url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        problems.append(("url", f"not a valid URL: {exc}"))
    else:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(("url", "must be an http:// or https:// URL with a host"))
    # The numbers' ranges are checked by msgspec while converting (their Meta); here the
    # rules between keys.
    if hook.backoff_s > hook.backoff_max_s:
        problems.append(("backoff_s", f"must not be above {key}.backoff_max_s"))
    unknown = [event for event in hook.events if event not in WEBHOOK_EVENTS]
    if unknown:
        problems.append(("events", f"unknown {', '.join(map(repr, unknown))}; "
                                   f"known: {', '.join(WEBHOOK_EVENTS)}"))  # fmt: skip
    unknown_rules = [rule for rule in hook.rules if rule not in ALERT_RULES]
    if unknown_rules:
        problems.append(("rules", f"unknown {', '.join(map(repr, unknown_rules))}; "
                                  f"known: {', '.join(ALERT_RULES)}"))  # fmt: skip
    if hook.secret and hook.secret_env:
        problems.append(("secret_env", "give either secret or secret_env, not both"))
    for name, value in hook.headers.items():
        if not _TOKEN.match(name):
            problems.append((f"headers.{name}", "is not a valid header name"))
        elif name.lower() in RESERVED_HEADERS:
            problems.append((f"headers.{name}", "is set by wallboard and cannot be configured"))
        if any((ord(char) < 32 and char != "\t") or ord(char) == 127 for char in value):
            problems.append((f"headers.{name}", "must not contain control characters"))
    return problems
