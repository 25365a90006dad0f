"""Supervisor actions taken remotely, signed and written down: a control sink that puts the
authenticated user in `by` and appends one JSON line per action to an audit log."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

import msgspec


class Sink(Protocol):  # wallboard.app.sources.ControlSink
    async def send(self, fields: dict[str, str]) -> str: ...


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    at_ms: int
    user: str
    role: str
    via: str  # ssh | web | local
    key: str | None  # the SSH key's fingerprint
    peer: str | None  # the client's address
    event: dict[str, str]
    entry_id: str | None  # the control stream entry, None when sending failed
    error: str | None


class AuditedControlSink:
    def __init__(self, inner: Sink, path: Path | None, *, user: str, role: str, via: str,
                 key: str | None = None, peer: str | None = None) -> None:  # fmt: skip
        self.inner = inner
        self.path = path
        self.user = user
        self.role = role
        self.via = via
        self.key = key
        self.peer = peer

    async def send(self, fields: dict[str, str]) -> str:
        # The session's login is the signature, whatever the caller put in `by`.
        signed = {**fields, "by": self.user} if "by" in fields else dict(fields)
        try:
            entry_id = await self.inner.send(signed)
        except Exception as exc:
            self._write(signed, None, f"{type(exc).__name__}: {exc}")
            raise
        self._write(signed, entry_id, None)
        return entry_id

    def _write(self, event: dict[str, str], entry_id: str | None, error: str | None) -> None:
        if self.path is None:
            return
        record = AuditRecord(at_ms=time.time_ns() // 1_000_000, user=self.user, role=self.role,
                             via=self.via, key=self.key, peer=self.peer, event=event,
                             entry_id=entry_id, error=error)  # fmt: skip
        line = msgspec.json.encode(record) + b"\n"
        # One write to an O_APPEND file: lines from concurrent sessions never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
