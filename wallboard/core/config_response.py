"""`[response]`: how chat response rounds are measured (docs/metrics.md, "Response rounds"),
and `[groups.NAME]`: named sets of queues the board rolls up (docs/metrics.md, "Rollups")."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from wallboard.core.config_bounds import HOUR_S, PositiveFraction

Channel = Literal["phone", "chat", "email", "ticket", "wechat", "app", "other"]
# A round's cap and its "within": positive, up to an hour (the platforms use 600 s and 180 s).
RoundSeconds = Annotated[float, msgspec.Meta(gt=0, le=HOUR_S)]


def _default_channels() -> list[Channel]:
    return ["chat", "wechat", "app"]


class ResponseSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Contacts of these channels have response rounds (a round opens on their offer).
    channels: list[Channel] = msgspec.field(default_factory=_default_channels)
    # A round with no valid reply by open + cap is settled there, unanswered, as the cap.
    cap_s: RoundSeconds = 600.0
    # Rounds answered within this count for the response rate (the 3-minute response rate).
    within_s: RoundSeconds = 180.0
    # Automatic bot replies close a round only when true (assist-mode replies always do).
    count_bot_replies: bool = False
    # The response rate the `response_rate` alert rule judges the window against.
    target: PositiveFraction = 0.8


class GroupSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    queues: list[Annotated[str, msgspec.Meta(min_length=1, max_length=256)]] = msgspec.field(
        default_factory=list)  # fmt: skip


def check_response(response: ResponseSection,
                   queue_caps: dict[str, tuple[float, float, str]],
                   groups: dict[str, GroupSection]) -> list[tuple[str, str]]:  # fmt: skip
    """(key, problem) pairs: `within_s` must not exceed the cap it is measured under (a round
    is settled at the cap, so nothing could be answered later than that), per queue too,
    naming the key the queue set (`queue_caps`: within, cap, that key); a group names at
    least one queue."""
    problems: list[tuple[str, str]] = []
    if response.within_s > response.cap_s:
        problems.append(("response.within_s", f"must not be above response.cap_s "
                         f"({response.within_s:g} > {response.cap_s:g})"))  # fmt: skip
    for name, (within, cap, key) in queue_caps.items():
        if within > cap:
            problems.append((f"queues.{name}.{key}", "response_within_s must not be above the "
                             f"queue's response cap ({within:g} > {cap:g})"))  # fmt: skip
    for name, group in groups.items():
        if not name.strip():
            problems.append((f"groups.{name}", "a group needs a name"))
        if not group.queues:
            problems.append((f"groups.{name}.queues", "a group needs at least one queue"))
    return problems
