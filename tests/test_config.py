"""Configuration: defaults with no file; a wrong key or value names the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from wallboard.core.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "board.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_config_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, """
[board]
site_name = "Hangzhou floor 3"
timezone = "Europe/Berlin"
business_day_start = "05:30"
window_minutes = 15
stream = ["cc:phone", "cc:chat"]

[service_level]
threshold_s = 20
target = 0.9
short_abandon_s = 3
formula = "offered"

[agent_load]
daily_low = 60
daily_high = 100
hourly_messages_max = 300
shops_warn = 1
shops_max = 2

[shifts]
early = "06:00-14:00"
late = "14:00-22:00"

[queues.tickets]
kind = "ticket"

[queues.vip]
threshold_s = 10
target = 0.95
""")
    config = load_config(path)
    assert config.streams == ["cc:phone", "cc:chat"]
    assert config.day_start == (5, 30)
    assert config.queue_rules("tickets").threshold_s == 1800
    assert config.queue_rules("vip").threshold_s == 10 and config.queue_rules("vip").target == 0.95
    other = config.queue_rules("other")
    assert (other.threshold_s, other.target) == (20, 0.9)
    assert [name for name, _, _ in config.shift_spans] == ["early", "late"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[board]\ntimezon = 'UTC'\n", "unknown key `board.timezon`"),
        ("[bord]\n", "unknown key `bord`"),
        ("[queues.vip]\nthreshold = 10\n", "unknown key `queues.vip.threshold`"),
        ("[service_level]\nthreshold_s = 'thirty'\n", "`service_level.threshold_s`"),
        ("[service_level]\nformula = 'magic'\n", "`service_level.formula`"),
        ("[service_level]\ntarget = 80\n", "`service_level.target`: must be a fraction"),
        ("[board]\ntimezone = 'Mars/Olympus'\n", "`board.timezone`: 'Mars/Olympus' is not"),
        ("[board]\nbusiness_day_start = '4am'\n", "`board.business_day_start`"),
        ("[agent_load]\ndaily_low = 130\n", "`agent_load.daily_low`"),
        ("[shifts]\nday = '08:30'\n", "`shifts.day`"),
        ("[queues.t]\nkind = 'email'\n", "`queues.t.kind`"),
        ("[board\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "absent.toml")
