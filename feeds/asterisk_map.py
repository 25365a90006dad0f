"""queue_log events to wallboard events (docs/asterisk.md has the table and the sources).

The mapper remembers what a line alone cannot say: which calls are in a queue or talking
(so a CONNECT whose ENTERQUEUE was never seen synthesises the offer), which queues exist (a
transfer to one is `contact.transferred`), each member's queues and pauses. That memory is
part of the adapter's state file, so a restart resumes exactly.

Every event made here passes wallboard.core.events.decode before it is written; an event the
contract refuses makes its line a bad line, reported, never patched up. A bad line leaves the
memory as it found it (what the line changed is put back), so it is skipped, not half-applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgspec

from feeds.asterisk_parse import QueueLogLine
from wallboard.core.events import ENDED, ENDED_KEY, ENDED_RESTART, Rejection, decode

CHANNEL: Final = "phone"
_NONE: Final = frozenset({"", "NONE"})

# The exits app_queue.c counts with record_abandoned(), and where each logs its waittime
# (data index); SYSCOMPAT logs none. EXITWITHKEY is not an abandon there: its own outcome.
_ABANDONS: Final = {"ABANDON": 2, "EXITWITHTIMEOUT": 2, "EXITEMPTY": 2, "WITHDRAW": 2,
                    "SYSCOMPAT": None}  # fmt: skip
_KEY_EXIT_WAIT: Final = 3  # EXITWITHKEY: key|position|origposition|waittime
_COMPLETES: Final = frozenset({"COMPLETECALLER", "COMPLETEAGENT"})
_TRANSFERS: Final = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})
# Events that change nothing the board counts, named so the summary says so (not bad lines).
# AGENTDUMP: the agent hung up while the caller heard the announcement; the caller stays queued.
_NO_CHANGE: Final = frozenset({"RINGNOANSWER", "RINGCANCELED", "AGENTDUMP"})

# Why a line is bad: the keys of the summary's count of bad lines by reason.
BAD_REASONS: Final = (
    "not_a_queue_log_line",  # not epoch|callid|queue|agent|event|... (asterisk_parse)
    "no_callid",  # a call event without a callid
    "no_member",  # a member event (or a call event that needs one) without a member
    "no_queue",  # a call event without the queue it needs
    "bad_number",  # a holdtime, talk time or waittime that is not a number of seconds
    "unknown_call",  # a call never seen, without the times to make up its offer
    "rejected_by_contract",  # an event the contract refuses (too long, a control character)
)
# A holdtime or waittime of more digits than this (over 300 years) is not one; and int() of
# more than 4,300 digits raises.
_MAX_SECONDS_DIGITS: Final = 10


class Call(msgspec.Struct):
    queue: str
    agent: str | None = None  # set once connected


class Member(msgspec.Struct):
    queues: list[str] = msgspec.field(default_factory=list)
    paused: list[str] = msgspec.field(default_factory=list)  # queues paused in; "*" for all
    reason: str | None = None
    call: str | None = None  # the callid it is talking to
    logged_in: bool = True
    # Removed from its last queue during a call: busy until the call ends, then logged out.
    leaving: bool = False


class MapperState(msgspec.Struct):
    calls: dict[str, Call] = msgspec.field(default_factory=dict)
    members: dict[str, Member] = msgspec.field(default_factory=dict)
    queues: list[str] = msgspec.field(default_factory=list)


class BadLine(Exception):
    """The line cannot be mapped; the message says why, `reason` (one of BAD_REASONS) names
    the kind for the count by reason."""

    def __init__(self, message: str, reason: str = "rejected_by_contract") -> None:
        super().__init__(message)
        self.reason = reason


def _seconds(line: QueueLogLine, index: int, name: str) -> int | None:
    text = line.datum(index)
    if text == "":
        return None  # an older version without this field
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_SECONDS_DIGITS:
        # ("²" is a digit to str.isdigit(), hence isascii)
        raise BadLine(f"{line.event} {name} (data{index + 1}) is not a number of seconds",
                      "bad_number")  # fmt: skip
    return int(text)


def _hold_talk_index(line: QueueLogLine) -> int:
    """Where a completion or transfer logs its holdtime (the talk time follows):
    COMPLETE*: holdtime|calltime|origposition; TRANSFER, BLINDTRANSFER:
    extension|context|holdtime|calltime|origposition; ATTENDEDTRANSFER (log_attended_transfer
    in app_queue.c): BRIDGE|bridge|..., APP|app|..., LINK|channel|channel|..., THREEWAY|...
    (older versions) then holdtime|calltime|origposition."""
    if line.event in _COMPLETES:
        return 0
    if line.event == "ATTENDEDTRANSFER" and line.datum(0) == "LINK":
        return 3
    return 2


def _copy(member: Member | None) -> Member | None:
    if member is None:
        return None
    return Member(list(member.queues), list(member.paused), member.reason, member.call,
                  member.logged_in, member.leaving)  # fmt: skip


class Mapper:
    def __init__(self, state: MapperState | None = None,
                 known_queues: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.state = state or MapperState()
        self._queues = set(self.state.queues) | set(known_queues)
        self.ignored: dict[str, int] = {}

    def map(self, line: QueueLogLine, key: str) -> list[dict[str, str]]:
        """The events of one line, each checked by decode(); [] when the line is ignored.
        `key` (a hash of the line) makes the producer ids. Raises BadLine."""
        handler = _HANDLERS.get(line.event)
        if handler is None:  # RINGNOANSWER, DID, CONFIGRELOAD, ...: nothing the board counts
            self.ignored[line.event] = self.ignored.get(line.event, 0) + 1
            return []
        undo = self._snapshot() if line.event == "QUEUESTART" else self._checkpoint(line)
        try:
            events = handler(self, line)
            for fields in events:
                if "id" not in fields:  # one event of each type per line at most
                    fields["id"] = f"ast-{key}-{fields['type'].rpartition('.')[2]}"
                elif fields["id"].startswith("#"):  # one of several of a type (QUEUESTART)
                    fields["id"] = f"ast-{key}-{fields['id'][1:]}"
                result = decode(fields)
                if isinstance(result, Rejection):
                    raise BadLine(f"{line.event} gives an invalid {fields['type']}: "
                                  f"{result.detail}")  # fmt: skip
        except BadLine:
            undo()
            raise
        if not events:  # a line that changed nothing the board shows: counted by name
            self.ignored[line.event] = self.ignored.get(line.event, 0) + 1
        return events

    def _snapshot(self) -> Callable[[], None]:
        """What puts back the whole memory (QUEUESTART changes every call and member)."""
        state = self.state
        saved = msgspec.json.decode(msgspec.json.encode(state), type=MapperState)

        def undo() -> None:
            self._queues.difference_update(state.queues[len(saved.queues):])
            state.calls, state.members, state.queues = saved.calls, saved.members, saved.queues

        return undo

    def _checkpoint(self, line: QueueLogLine) -> Callable[[], None]:
        """What puts back all that mapping `line` can change: every handler touches only the
        line's call, the members it names (its agent, and the agent of its call) and appends
        to the queues seen. Copies of those few records: the rest of the memory is large."""
        state = self.state
        call = state.calls.get(line.callid)
        saved_call = None if call is None else Call(call.queue, call.agent)
        agents = {line.agent} if call is None or call.agent is None else {line.agent, call.agent}
        saved_members = {agent: _copy(state.members.get(agent)) for agent in agents}
        queues_seen = len(state.queues)

        def undo() -> None:
            if saved_call is None:
                state.calls.pop(line.callid, None)
            else:
                state.calls[line.callid] = saved_call
            for agent, member in saved_members.items():
                if member is None:
                    state.members.pop(agent, None)
                else:
                    state.members[agent] = member
            self._queues.difference_update(state.queues[queues_seen:])
            del state.queues[queues_seen:]

        return undo

    # ---- helpers --------------------------------------------------------------------------

    def _base(self, kind: str, line: QueueLogLine, ts: int | None = None) -> dict[str, str]:
        return {"type": kind, "ts": str(line.ts if ts is None else ts)}

    def _contact(self, line: QueueLogLine) -> str:
        if line.callid in _NONE:
            raise BadLine(f"{line.event} without a callid", "no_callid")
        return line.callid

    def _agent(self, line: QueueLogLine) -> str:
        if line.agent in _NONE:
            raise BadLine(f"{line.event} without a queue member", "no_member")
        return line.agent

    def _know_queue(self, queue: str) -> None:
        if queue not in _NONE and queue not in self._queues:
            self._queues.add(queue)
            self.state.queues.append(queue)

    def _member(self, agent: str) -> Member:
        member = self.state.members.get(agent)
        if member is None:
            member = self.state.members[agent] = Member()
        return member

    def _agent_state(self, line: QueueLogLine, agent: str) -> dict[str, str]:
        member = self._member(agent)
        fields = self._base("agent.state", line)
        fields["agent"] = agent
        if not member.logged_in:
            fields["state"] = "logged_out"
        elif member.paused:
            fields["state"] = "break"
            if member.reason:
                fields["reason"] = member.reason
        else:
            fields["state"] = "busy" if member.call is not None else "available"
        if member.queues:
            fields["queues"] = ",".join(member.queues)
        return fields

    def _offer(self, line: QueueLogLine, contact: str, queue: str, ts: int) -> dict[str, str]:
        self.state.calls[contact] = Call(queue)
        self._know_queue(queue)
        fields = self._base("contact.offered", line, ts)
        # The same id for an ENTERQUEUE and an offer synthesised from the holdtime of a later
        # line: reading the log again never writes the offer twice.
        fields.update(contact=contact, queue=queue, channel=CHANNEL,
                      id=f"ast-{contact}-{queue}-{ts // 1000}")
        return fields

    def _free_agent(self, line: QueueLogLine, agent: str | None) -> list[dict[str, str]]:
        if agent is None or agent in _NONE:
            return []
        member = self._member(agent)
        member.call = None
        if member.leaving:  # removed from its last queue during the call: out now
            member.leaving = False
            member.logged_in = False
        return [self._agent_state(line, agent)]

    def _answer(self, line: QueueLogLine, contact: str, agent: str, queue: str,
                ts: int) -> dict[str, str]:  # fmt: skip
        answered = self._base("contact.answered", line, ts)
        answered.update(contact=contact, agent=agent, queue=queue, channel=CHANNEL)
        return answered

    def _reconstruct(self, line: QueueLogLine, contact: str) -> list[dict[str, str]]:
        """A completion or transfer of a call whose CONNECT was not read (the log started
        mid-call, a line was lost): its offer and answer, made up from the holdtime and talk
        time it logs (answered at time - talk time, offered holdtime before that)."""
        index = _hold_talk_index(line)
        hold = _seconds(line, index, "holdtime")
        talk = _seconds(line, index + 1, "calltime")
        call = self.state.calls.get(contact)
        if call is not None and call.agent is not None:
            return []  # connected: nothing missing
        if talk is None or (call is None and hold is None):
            raise BadLine(f"{line.event} of a call never connected, without its holdtime and "
                          "calltime", "unknown_call")  # fmt: skip
        agent = self._agent(line)
        answered_at = line.ts - talk * 1000
        events: list[dict[str, str]] = []
        if call is None:
            if line.queue in _NONE:
                raise BadLine(f"{line.event} of a call never offered, without a queue name",
                              "no_queue")  # fmt: skip
            offered_at = answered_at - (hold or 0) * 1000
            events.append(self._offer(line, contact, line.queue, offered_at))
            call = self.state.calls[contact]
        call.agent = agent
        events.append(self._answer(line, contact, agent, call.queue, answered_at))
        return events

    # ---- calls ----------------------------------------------------------------------------

    def _enterqueue(self, line: QueueLogLine) -> list[dict[str, str]]:
        if line.queue in _NONE:
            raise BadLine("ENTERQUEUE without a queue name", "no_queue")
        return [self._offer(line, self._contact(line), line.queue, line.ts)]

    def _connect(self, line: QueueLogLine) -> list[dict[str, str]]:
        contact, agent = self._contact(line), self._agent(line)
        hold = _seconds(line, 0, "holdtime")
        events: list[dict[str, str]] = []
        call = self.state.calls.get(contact)
        if call is None or call.queue != line.queue:
            # The ENTERQUEUE is not in what was read (e.g. a rotated file): it happened
            # holdtime seconds before the answer.
            if hold is None:
                raise BadLine("CONNECT of a call never offered, without a holdtime",
                              "unknown_call")  # fmt: skip
            if line.queue in _NONE:
                raise BadLine("CONNECT without a queue name", "no_queue")
            events.append(self._offer(line, contact, line.queue, line.ts - hold * 1000))
            call = self.state.calls[contact]
        call.agent = agent
        events.append(self._answer(line, contact, agent, call.queue, line.ts))
        member = self._member(agent)
        member.call = contact
        member.logged_in = True
        events.append(self._agent_state(line, agent))
        return events

    def _complete(self, line: QueueLogLine) -> list[dict[str, str]]:
        contact = self._contact(line)
        events = self._reconstruct(line, contact)
        call = self.state.calls.pop(contact, None)
        agent = line.agent if line.agent not in _NONE else (call.agent if call else None)
        fields = self._base("contact.completed", line)
        fields["contact"] = contact
        if agent:
            fields["agent"] = agent
        return [*events, fields, *self._free_agent(line, agent)]

    def _left_queue(self, line: QueueLogLine, wait_index: int | None,
                    kind: str) -> tuple[list[dict[str, str]], dict[str, str]]:  # fmt: skip
        """A caller who left the queue unanswered: the offer made up from the waittime when
        the call was never seen, and the event `kind` (queue and contact filled in)."""
        contact = self._contact(line)
        wait = None if wait_index is None else _seconds(line, wait_index, "waittime")
        events: list[dict[str, str]] = []
        call = self.state.calls.pop(contact, None)
        if call is None:
            if wait is None:
                raise BadLine(f"{line.event} of a call never offered, without a waittime",
                              "unknown_call")  # fmt: skip
            if line.queue in _NONE:
                raise BadLine(f"{line.event} of a call never offered, without a queue name",
                              "no_queue")  # fmt: skip
            events.append(self._offer(line, contact, line.queue, line.ts - wait * 1000))
            self.state.calls.pop(contact)
        fields = self._base(kind, line)
        fields.update(contact=contact, queue=call.queue if call else line.queue)
        return events, fields

    def _abandon(self, line: QueueLogLine) -> list[dict[str, str]]:
        events, fields = self._left_queue(line, _ABANDONS[line.event], "contact.abandoned")
        return [*events, fields]

    def _exit_with_key(self, line: QueueLogLine) -> list[dict[str, str]]:
        """EXITWITHKEY: not counted as abandoned by app_queue.c; its own outcome."""
        events, fields = self._left_queue(line, _KEY_EXIT_WAIT, ENDED)
        fields["reason"] = ENDED_KEY
        return [*events, fields]

    def _queue_start(self, line: QueueLogLine) -> list[dict[str, str]]:
        """QUEUESTART (main/logger.c, once Asterisk is up after a start): no call from
        before goes on. Each ends as `contact.ended reason=restart`; every member is reset
        (logged out, in no queue, not paused) until its lines say otherwise."""
        events: list[dict[str, str]] = []
        for number, contact in enumerate(self.state.calls):
            fields = self._base(ENDED, line)
            fields.update(contact=contact, reason=ENDED_RESTART, id=f"#ended-{number}")
            events.append(fields)
        self.state.calls.clear()
        for number, (agent, member) in enumerate(self.state.members.items()):
            was_out = not member.logged_in and not member.queues and not member.paused
            member.queues.clear()
            member.paused.clear()
            member.reason = None
            member.call = None
            member.leaving = False
            member.logged_in = False
            if not was_out:
                state = self._agent_state(line, agent)
                state["id"] = f"#state-{number}"
                events.append(state)
        return events

    def _transfer(self, line: QueueLogLine) -> list[dict[str, str]]:
        contact = self._contact(line)
        events = self._reconstruct(line, contact)
        call = self.state.calls.pop(contact, None)
        agent = line.agent if line.agent not in _NONE else (call.agent if call else None)
        # TRANSFER / BLINDTRANSFER: data1 is the extension dialled; ATTENDEDTRANSFER: data1
        # is the method (BRIDGE, APP, LINK, THREEWAY) and data2 what it joined.
        target = line.datum(1) if line.event == "ATTENDEDTRANSFER" else line.datum(0)
        if target in self._queues:
            fields = self._base("contact.transferred", line)
            fields.update(contact=contact, to_queue=target, channel=CHANNEL)
            self.state.calls[contact] = Call(target)
        else:
            fields = self._base("contact.completed", line)
            fields["contact"] = contact
            if agent:
                fields["agent"] = agent
        return [*events, fields, *self._free_agent(line, agent)]

    def _no_change(self, line: QueueLogLine) -> list[dict[str, str]]:
        """RINGNOANSWER, RINGCANCELED (a member rang and did not answer) and AGENTDUMP: the
        caller stays queued, the member's state is what it was."""
        return []

    # ---- members --------------------------------------------------------------------------

    def _login(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        self._member(agent).logged_in = True
        return [self._agent_state(line, agent)]

    def _logoff(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        member = self._member(agent)
        member.logged_in = False
        member.paused.clear()
        member.reason = None
        return [self._agent_state(line, agent)]

    def _add_member(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        member = self._member(agent)
        member.logged_in = True
        member.leaving = False
        if line.queue not in _NONE and line.queue not in member.queues:
            member.queues.append(line.queue)
            self._know_queue(line.queue)
        # app_queue.c logs `PAUSED` in data1 when the member is added paused: on break.
        if line.datum(0) == "PAUSED":
            where = "*" if line.queue in _NONE else line.queue
            if where not in member.paused:
                member.paused.append(where)
        return [self._agent_state(line, agent)]

    def _remove_member(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        member = self._member(agent)
        if line.queue in member.queues:
            member.queues.remove(line.queue)
        if line.queue in member.paused:
            member.paused.remove(line.queue)
        if not member.queues:
            if member.call is not None:
                member.leaving = True  # still bridged: busy until the call's end
            else:
                member.logged_in = False  # a member of no queue takes no calls
        return [self._agent_state(line, agent)]

    def _pause(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        member = self._member(agent)
        where = "*" if line.event == "PAUSEALL" or line.queue in _NONE else line.queue
        if where not in member.paused:
            member.paused.append(where)
        member.reason = line.datum(0) or None  # the reason, in versions that log one
        return [self._agent_state(line, agent)]

    def _unpause(self, line: QueueLogLine) -> list[dict[str, str]]:
        agent = self._agent(line)
        member = self._member(agent)
        if line.event == "UNPAUSEALL" or line.queue in _NONE:
            member.paused.clear()
        elif line.queue in member.paused:
            member.paused.remove(line.queue)
        else:
            member.paused = [queue for queue in member.paused if queue != "*"]
        if not member.paused:
            member.reason = None
        return [self._agent_state(line, agent)]


_HANDLERS = {
    "ENTERQUEUE": Mapper._enterqueue,
    "CONNECT": Mapper._connect,
    **dict.fromkeys(_COMPLETES, Mapper._complete),
    **dict.fromkeys(_ABANDONS, Mapper._abandon),
    "EXITWITHKEY": Mapper._exit_with_key,
    "QUEUESTART": Mapper._queue_start,
    **dict.fromkeys(_NO_CHANGE, Mapper._no_change),
    **dict.fromkeys(_TRANSFERS, Mapper._transfer),
    "AGENTLOGIN": Mapper._login,
    "AGENTCALLBACKLOGIN": Mapper._login,
    "AGENTLOGOFF": Mapper._logoff,
    "AGENTCALLBACKLOGOFF": Mapper._logoff,
    "ADDMEMBER": Mapper._add_member,
    "REMOVEMEMBER": Mapper._remove_member,
    "PAUSE": Mapper._pause,
    "PAUSEALL": Mapper._pause,
    "UNPAUSE": Mapper._unpause,
    "UNPAUSEALL": Mapper._unpause,
}
