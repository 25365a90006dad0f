"""Tokens file and constant-time token check; the rate limiter's bucket arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.ingest_auth import TokenCheck, TokenFileError, load_tokens
from feeds.ingest_limit import RateLimiter

TOKEN = "tok-alpha-0123456789"
OTHER = "tok-beta-9876543210x"


def test_tokens_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# producers\n{TOKEN}  # the CRM\n\n   {OTHER}\n")
    tokens = load_tokens(path)
    assert tokens == (TOKEN, OTHER)
    check = TokenCheck(tokens)
    assert check.identify(f"Bearer {OTHER}") == 1
    assert check.identify(f"bearer  {TOKEN}") == 0
    assert check.identify(None) is None
    path.write_text("# nothing here\n")
    with pytest.raises(TokenFileError, match="no tokens"):
        load_tokens(path)
    path.write_text("short\n")
    with pytest.raises(TokenFileError, match=":1: a token must have at least 16"):
        load_tokens(path)


def test_token_bucket() -> None:
    limiter = RateLimiter(rate_per_s=4.0, burst=2)
    assert limiter.wait_s(0, 10.0) == 0 and limiter.wait_s(0, 10.0) == 0
    assert limiter.wait_s(0, 10.0) == pytest.approx(0.25)  # empty: 1/4 s to the next one
    assert limiter.wait_s(0, 10.125) == pytest.approx(0.125)  # half refilled
    assert limiter.wait_s(0, 10.25) == 0
    assert limiter.wait_s(1, 10.25) == 0  # another token: its own bucket
    # A long pause refills to the burst, never beyond it.
    assert [limiter.wait_s(0, 100.0) for _ in range(3)] == [0, 0, pytest.approx(0.25)]


def test_ingest_table_of_the_config(tmp_path: Path) -> None:
    from feeds.ingest_config import ingest_settings, window_ms
    from wallboard.core.config import ConfigError, load_config

    path = tmp_path / "wallboard.toml"
    path.write_text('[board]\ndedup_window_minutes = 30\n\n[ingest]\ntokens_file = "/etc/t"\n'
                    "port = 9000\nrate_per_s = 5\n")  # fmt: skip
    config = load_config(str(path))
    settings = ingest_settings(config)
    assert (settings.tokens_file, settings.port, settings.rate_per_s) == ("/etc/t", 9000, 5.0)
    assert window_ms(settings, config) == 30 * 60_000  # the board's dedup window by default
    path.write_text("[ingest]\nrate_limit = 5\n")
    with pytest.raises(ConfigError, match="rate_limit"):
        ingest_settings(load_config(str(path)))
    path.write_text("[ingest]\nburst = 0\n")
    with pytest.raises(ConfigError, match=r"`ingest\.burst`: must be an integer from 1 "):
        ingest_settings(load_config(str(path)))
