"""Bearer tokens: a file of one token per line (`#` comments), checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path


class TokenFileError(ValueError):
    """The tokens file cannot be used; the message says which file and why."""


def load_tokens(path: str | Path) -> tuple[str, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"cannot read tokens file {path}: {exc}") from None
    tokens: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        token = line.split("#", 1)[0].strip()
        if not token:
            continue
        if any(ch.isspace() for ch in token) or not token.isprintable():
            raise TokenFileError(f"{path}:{number}: a token must be one printable word")
        if len(token) < 16:
            raise TokenFileError(f"{path}:{number}: a token must have at least 16 characters")
        tokens.append(token)
    if not tokens:
        raise TokenFileError(f"{path}: no tokens (one per line, # starts a comment)")
    return tuple(tokens)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TokenCheck:
    """Which token (by position) an Authorization header carries, or None.

    Every configured token is compared, each with hmac.compare_digest on SHA-256 digests, so
    the time taken does not depend on which token matched or on how much of one matched."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self._digests = [_digest(token) for token in tokens]

    def identify(self, header: str | None) -> int | None:
        if not header:
            return None
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        offered = _digest(credential.strip())
        found: int | None = None
        for index, digest in enumerate(self._digests):
            if hmac.compare_digest(offered, digest) and found is None:
                found = index
        return found
