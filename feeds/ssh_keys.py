"""Who may log in over SSH, and as what: two ordinary OpenSSH authorized_keys files.

Keys in the viewer file get the read-only `viewer` role, keys in the supervisor file the
`supervisor` role (a key in both is a supervisor). The files are read at each login, so
adding or removing a key takes effect without a restart; an unreadable file is an error
logged once per change and counts as empty (nobody gets in by a broken file).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final, NamedTuple

import asyncssh

log = logging.getLogger("wallboard.ssh")

ROLES: Final = ("viewer", "supervisor")


class Grant(NamedTuple):
    role: str
    fingerprint: str
    comment: str


class KeyRoles:
    def __init__(self, viewer_keys: Path | None, supervisor_keys: Path | None) -> None:
        if viewer_keys is None and supervisor_keys is None:
            raise ValueError("give a viewer or a supervisor authorized_keys file (or both)")
        self.files = {"supervisor": supervisor_keys, "viewer": viewer_keys}
        self._errors: dict[Path, str] = {}

    def check(self) -> None:
        """Fail early (at server start) on a key file that cannot be read."""
        for role, path in self.files.items():
            if path is None:
                continue
            try:
                asyncssh.read_authorized_keys(str(path))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{role} keys {path}: {exc}") from None

    def grant(self, key: asyncssh.SSHKey, client_host: str, client_addr: str) -> Grant | None:
        """The role of a public key, or None: not listed in either file."""
        for role in ("supervisor", "viewer"):  # the stronger role wins
            path = self.files[role]
            if path is None:
                continue
            keys = self._read(path)
            if keys is not None and keys.validate(key, client_host, client_addr) is not None:
                comment = key.get_comment() or ""
                return Grant(role, key.get_fingerprint(), comment)
        return None

    def _read(self, path: Path) -> asyncssh.SSHAuthorizedKeys | None:
        try:
            keys = asyncssh.read_authorized_keys(str(path))
        except (OSError, ValueError, asyncssh.KeyImportError) as exc:
            text = f"{type(exc).__name__}: {exc}"
            if self._errors.get(path) != text:
                log.error("cannot read %s (%s): nobody gets in by it", path, text)
            self._errors[path] = text
            return None
        self._errors.pop(path, None)
        return keys


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's persistent host key: generated (ed25519, mode 0600) on first start."""
    if path.exists():
        try:
            return asyncssh.read_private_key(str(path))
        except (OSError, ValueError) as exc:
            raise ValueError(f"host key {path}: {exc}") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="wallboard host key")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = key.export_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    log.info("generated a new SSH host key at %s (%s)", path, key.get_fingerprint())
    return key
