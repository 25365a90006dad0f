"""Erlang C staffing (wallboard/core/erlang.py) and `wallboard staffing`.

Published worked examples the numbers come from:
- Mike Tanner, "The Erlang-C Formula" (mitan.co.uk/erlang/elgcmath.htm, Westbay/Mitan's
  step-by-step example): 360 calls per half hour, 4-minute calls, 55 agents, 15 s answer
  target: traffic 48 Erlangs, occupancy 87.3%, probability of waiting 0.2387, ASA 8.2 s,
  service level 84.6%. With 54 agents the level is 79.3%, so 55 is the answer for 80/15.
- Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example": 100 calls
  in 30 minutes, AHT 180 s, 80% in 20 s: 10 Erlangs; 11 agents wait with probability 0.6821
  (service level 39%); 14 agents are required (service level 88.8%).
- jonesthenet.com, "Erlang uplift": 250 calls an hour, AHT 330 s, 80% in 30 s: 22.9 Erlangs
  of workload and 28 advisors.
Each figure is also checked against an exact rational evaluation of the textbook formula
(factorials in Fraction arithmetic), an independent oracle for the recurrence.
"""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.cli.main import main
from wallboard.core.erlang import (
    Staffing,
    asa_s,
    erlang_c,
    required_agents,
    rule_of_thumb_agents,
    service_level,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> float:
    """The textbook formula, term by term in exact arithmetic."""
    top = traffic**agents / math.factorial(agents)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return float(top / (top + (1 - traffic / agents) * below))


def test_mitan_worked_example() -> None:
    traffic = 360 / 1800 * 240  # calls per second x seconds per call
    assert traffic == 48.0
    assert erlang_c(55, 48.0) == pytest.approx(0.2387, abs=5e-5)
    assert erlang_c(55, 48.0) == pytest.approx(exact_erlang_c(55, Fraction(48)), rel=1e-12)
    assert asa_s(55, 48.0, 240) == pytest.approx(8.18, abs=0.005)
    assert service_level(55, 48.0, 240, 15) == pytest.approx(0.8459, abs=5e-5)
    assert service_level(54, 48.0, 240, 15) == pytest.approx(0.7929, abs=5e-5)
    result = required_agents(720, 240, 15, 0.8)
    assert result.required_agents == 55
    assert result.traffic_erlangs == 48.0
    assert result.occupancy == pytest.approx(48 / 55)
    assert result.service_level == pytest.approx(0.8459, abs=5e-5)
    assert result.asa_s == pytest.approx(8.18, abs=0.005)


def test_call_centre_helper_worked_example() -> None:
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.3896, abs=5e-5)
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=5e-5)  # just short
    result = required_agents(200, 180, 20, 0.8)
    assert result == Staffing(14, 10.0, pytest.approx(0.8884, abs=5e-5),  # type: ignore[arg-type]
                              pytest.approx(7.84, abs=0.005), pytest.approx(10 / 14))  # type: ignore[arg-type]


def test_jonesthenet_average_hour() -> None:
    result = required_agents(250, 330, 30, 0.8)
    assert result.traffic_erlangs == pytest.approx(22.9, abs=0.05)
    assert result.required_agents == 28


def test_max_occupancy_adds_agents() -> None:
    # 10 Erlangs: SL alone needs 14 (occupancy 71.4%); at most 70% needs ceil(10 / 0.7) = 15.
    assert required_agents(200, 180, 20, 0.8, max_occupancy=0.75).required_agents == 14
    capped = required_agents(200, 180, 20, 0.8, max_occupancy=0.7)
    assert capped.required_agents == 15
    assert capped.occupancy == pytest.approx(10 / 15)
    # A quotient that is exactly an integer: 10 / 0.5 = 20 agents, occupancy exactly 0.5.
    assert required_agents(200, 180, 20, 0.8, max_occupancy=0.5).required_agents == 20


def test_edges() -> None:
    assert required_agents(0, 300, 20, 0.8) == Staffing(0, 0.0, 1.0, 0.0, 0.0)
    assert erlang_c(0, 0.0) == 0.0
    assert erlang_c(3, 5.0) == 1.0 and erlang_c(5, 5.0) == 1.0
    assert service_level(5, 5.0, 300, 20) == 0.0
    assert math.isinf(asa_s(4, 5.0, 300))
    # Threshold 0: SL is the share answered at once, 1 - C.
    assert service_level(14, 10.0, 180, 0) == pytest.approx(1 - erlang_c(14, 10.0))
    # Tiny traffic still needs one agent.
    assert required_agents(1, 60, 20, 0.8).required_agents == 1


@pytest.mark.parametrize(
    ("args", "word"),
    [((-1, 300, 20, 0.8), "calls_per_hour"), ((10, 0, 20, 0.8), "aht_s"),
     ((10, 300, -1, 0.8), "threshold_s"), ((10, 300, 20, 0.0), "target"),
     ((10, 300, 20, 1.5), "target"), ((math.nan, 300, 20, 0.8), "calls_per_hour"),
     ((math.inf, 300, 20, 0.8), "calls_per_hour"), ((1e300, 1e300, 20, 0.8), "too large")],
)  # fmt: skip
def test_bad_input(args: tuple[float, float, float, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        required_agents(*args)


def test_bad_occupancy_and_rule_of_thumb_input() -> None:
    with pytest.raises(ValueError, match="max_occupancy"):
        required_agents(10, 300, 20, 0.8, max_occupancy=0)
    with pytest.raises(ValueError, match="per_agent"):
        rule_of_thumb_agents(100, per_agent=0)
    with pytest.raises(ValueError, match="agents"):
        erlang_c(-1, 2.0)


def test_rule_of_thumb() -> None:
    # The seeds: one agent answers at most 360 questions an hour.
    assert rule_of_thumb_agents(0) == 0
    assert rule_of_thumb_agents(360) == 1
    assert rule_of_thumb_agents(361) == 2
    assert rule_of_thumb_agents(36_000) == 100
    assert rule_of_thumb_agents(1000, per_agent=250) == 4


def test_large_traffic_is_fast_and_finite() -> None:
    started = time.perf_counter()
    result = required_agents(2000 * 3600 / 300, 300, 20, 0.8)  # 2,000 Erlangs
    elapsed = time.perf_counter() - started
    assert result.traffic_erlangs == pytest.approx(2000.0)
    # Square-root staffing puts the answer a little above A; SL just over the target.
    assert 2000 < result.required_agents < 2100
    assert 0.8 <= result.service_level < 0.85
    assert 0 < result.asa_s < 60 and result.occupancy < 1
    assert not service_level(result.required_agents - 1, 2000.0, 300, 20) >= 0.8
    assert elapsed < 0.1
    # 10,000 agents against 9,000 Erlangs: no overflow, a vanishing probability of waiting.
    assert 0 < erlang_c(10_000, 9000.0) < 1e-20  # about 10.5 standard deviations out


def test_late_start_matches_full_recurrence() -> None:
    """The recurrence skips the terms far below A; compare with it run from n = 0."""
    for agents, traffic in [(1050, 1000.0), (2030, 2000.0), (5000, 4000.5), (260, 250.25)]:
        inv_b = 1.0
        for n in range(1, agents + 1):
            inv_b = 1.0 + n / traffic * inv_b
        full = agents / (traffic + (agents - traffic) * inv_b)
        assert erlang_c(agents, traffic) == pytest.approx(full, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(traffic=st.floats(0.01, 300), agents=st.integers(1, 400))
def test_sl_increases_with_agents(traffic: float, agents: int) -> None:
    aht, threshold = 240.0, 20.0
    now = service_level(agents, traffic, aht, threshold)
    more = service_level(agents + 1, traffic, aht, threshold)
    assert 0 <= now <= more <= 1
    assert erlang_c(agents + 1, traffic) <= erlang_c(agents, traffic)


@settings(max_examples=80, deadline=None)
@given(calls=st.floats(1, 20_000), aht=st.floats(10, 1800), threshold=st.floats(0, 120),
       target=st.floats(0.05, 0.99), occupancy=st.none() | st.floats(0.3, 1.0))  # fmt: skip
def test_answer_is_minimal(calls: float, aht: float, threshold: float, target: float,
                           occupancy: float | None) -> None:  # fmt: skip
    result = required_agents(calls, aht, threshold, target, occupancy)
    n, traffic = result.required_agents, result.traffic_erlangs
    assert n > traffic
    assert result.service_level >= target
    assert result.service_level == pytest.approx(service_level(n, traffic, aht, threshold))
    if occupancy is not None:
        assert result.occupancy <= occupancy
    below = n - 1
    missed_sl = below <= traffic or service_level(below, traffic, aht, threshold) < target
    missed_occupancy = occupancy is not None and below > 0 and traffic / below > occupancy
    assert missed_sl or missed_occupancy


@settings(max_examples=30, deadline=None)
@given(traffic=st.fractions(Fraction(1, 10), Fraction(60)), extra=st.integers(1, 15))
def test_matches_exact_formula(traffic: Fraction, extra: int) -> None:
    agents = math.floor(traffic) + extra
    assert erlang_c(agents, float(traffic)) == pytest.approx(exact_erlang_c(agents, traffic),
                                                             rel=1e-9)


def test_cli_json_keys() -> None:
    result = CliRunner().invoke(main, ["staffing", "--calls-per-hour", "720", "--aht", "240",
                                       "--threshold", "15", "--target", "0.8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["required_agents", "traffic_erlangs", "service_level", "asa_s",
                          "occupancy", "p_wait", "shrinkage", "required_positions"]
    assert data["p_wait"] == pytest.approx(0.2387, abs=5e-5)  # Mitan's P(wait) at 55 agents
    assert (data["shrinkage"], data["required_positions"]) == (0.0, 55)
    assert data["required_agents"] == 55
    assert data["traffic_erlangs"] == 48.0
    assert data["service_level"] == pytest.approx(0.8459, abs=5e-5)
    assert data["asa_s"] == pytest.approx(8.18, abs=0.005)
    assert data["occupancy"] == pytest.approx(0.8727, abs=5e-5)


def test_cli_shrinkage_and_max_occupancy_json() -> None:
    """Call Centre Helper: 200 calls an hour, AHT 180 s, 80% in 20 s: 14 agents, P(wait) at
    14 = the textbook formula's; with 30% shrinkage ceil(14 / 0.7) = 20 positions. With
    --max-occupancy 0.7 (10 Erlangs / 0.7 = 14.3): 15 agents, ceil(15 / 0.7) = ceil(21.4) = 22."""
    args = ["staffing", "--calls-per-hour", "200", "--aht", "180", "--threshold", "20",
            "--target", "0.8", "--shrinkage", "0.3", "--json"]
    data = json.loads(CliRunner().invoke(main, args).output)
    assert (data["required_agents"], data["required_positions"]) == (14, 20)
    assert data["p_wait"] == pytest.approx(exact_erlang_c(14, Fraction(10)), rel=1e-9)
    assert data["occupancy"] == pytest.approx(10 / 14)
    assert data["asa_s"] == pytest.approx(asa_s(14, 10.0, 180))
    data = json.loads(CliRunner().invoke(main, [*args, "--max-occupancy", "0.7"]).output)
    assert (data["required_agents"], data["required_positions"]) == (15, 22)
    assert data["occupancy"] == pytest.approx(10 / 15)
    text = CliRunner().invoke(main, args[:-1]).output
    assert "Required positions at 30% shrinkage: 20" in text


def test_cli_table_and_occupancy() -> None:
    result = CliRunner().invoke(main, ["staffing", "--calls-per-hour", "200", "--aht", "180",
                                       "--threshold", "20", "--target", "0.8",
                                       "--max-occupancy", "0.7"])
    assert result.exit_code == 0, result.output
    assert "Required agents: 15" in result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip()[:2].isdigit()]
    assert [row[0] for row in rows] == ["14", "15", "16"]
    assert rows[0][2] == "88.8%" and rows[1][-2:] == ["<-", "required"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--calls-per-hour", "-5"], "--calls-per-hour"), (["--aht", "0"], "--aht"),
     (["--target", "1.2"], "--target"), (["--target", "0"], "--target"),
     (["--max-occupancy", "2"], "--max-occupancy"), (["--calls-per-hour", "nan"], "finite"),
     (["--shrinkage", "0.95"], "--shrinkage"), (["--shrinkage", "nan"], "finite"),
     (["--threshold", "abc"], "--threshold")],
)  # fmt: skip
def test_cli_bad_input(args: list[str], message: str) -> None:
    base = {"--calls-per-hour": "100", "--aht": "300", "--threshold": "20", "--target": "0.8"}
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value
    argv = ["staffing", *[item for pair in base.items() for item in pair]]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
