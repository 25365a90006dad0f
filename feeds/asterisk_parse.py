"""One line of an Asterisk queue_log: `epoch|callid|queuename|agent|event|data1|data2|...`
(docs/asterisk.md cites Asterisk's documentation for every field).

A line that does not have that shape is a ParseError with the reason; nothing is guessed.
The tailer decodes a line with `surrogateescape`, so bytes that are not UTF-8 arrive as lone
surrogates: in the callid, queue or agent (names the mapper remembers) they make the line a
ParseError; in a data field they matter only if an event carries that field (the contract
then refuses it as bad_encoding).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

_EPOCH: Final = re.compile(r"^(\d{9,11})(?:\.(\d{1,6}))?$")
_EVENT: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class QueueLogLine(NamedTuple):
    ts: int  # epoch milliseconds
    callid: str  # the caller channel's uniqueid, or NONE
    queue: str  # queue name, or NONE
    agent: str  # the queue member as logged (e.g. PJSIP/1001 or its member name), or NONE
    event: str
    data: tuple[str, ...]  # data1, data2, ... (how many depends on the event and the version)

    def datum(self, index: int) -> str:
        """data<index+1>, or "" when this version did not log it."""
        return self.data[index] if index < len(self.data) else ""


class ParseError(NamedTuple):
    detail: str


def parse_line(text: str) -> QueueLogLine | ParseError:
    parts = text.rstrip("\r\n").split("|")
    if len(parts) < 5:
        return ParseError(f"{len(parts)} fields, a queue_log line has at least 5")
    epoch, callid, queue, agent, event = parts[:5]
    match = _EPOCH.match(epoch)
    if match is None:
        return ParseError("the first field is not a UNIX time in seconds")
    fraction = (match.group(2) or "").ljust(3, "0")[:3]
    if _EVENT.match(event) is None:
        return ParseError("the fifth field is not an event name")
    for name, value in (("callid", callid), ("queue", queue), ("agent", agent)):
        if not value.isascii() and _SURROGATE.search(value) is not None:
            return ParseError(f"the {name} field is not valid UTF-8")
    return QueueLogLine(int(match.group(1)) * 1000 + int(fraction), callid, queue, agent,
                        event.upper(), tuple(parts[5:]))  # fmt: skip
