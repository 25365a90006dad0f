"""The vendors' service-level definitions (issue 18): `offered_incl_flowouts` (Genesys Cloud),
`queued` (Amazon Connect), `count_at = "end"` (Asterisk's `queue show`), per queue too; and
the outcomes neither answered nor abandoned (`contact.ended`): hand-worked numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario import at, config_from, event, fold, queue
from tests.test_fold_golden import T0, sl_scenario
from widgets.screens import _other_outcomes


def flowout_scenario() -> list[dict[str, str]]:
    """sl_scenario plus c9: offered at +70, transferred to `vip` at +80 while waiting."""
    q = {"queue": "presale", "channel": "chat"}
    return [*sl_scenario(),
            event("contact.offered", at(T0, 70), contact="c9", **q),
            event("contact.transferred", at(T0, 80), contact="c9", to_queue="vip")]  # fmt: skip


# In presale at +600: offered 9 (c1..c9; c7 still waits), answered 3 (c1 10 s, c3 30 s within;
# c2 40 s late), abandoned 4 (c4 3 s short; c4, c8 5 s and c6 25 s within T), transferred_out 1
# (c9). Handling ended: c2 at +240 (answered late), c1 at +310 (within); c3 is still talked.
@pytest.mark.parametrize(
    ("formula", "count_at", "expected"),
    [
        ("offered_incl_flowouts", "answer", 2 / (3 + 4 + 1)),  # 2/8 = 0.25
        ("queued", "answer", (2 + 3) / 9),  # removed within T (answered 2 + abandoned 3) / 9
        # count_at = "end": answered = the 2 ended (c1, c2), within = 1 (c1).
        ("answered", "end", 1 / 2),  # Asterisk's `queue show` SL: completedinsl / completed
        ("abandons_within_positive", "end", (1 + 3) / (2 + 4)),  # its SL2: 4/6
        ("exclude_short_abandons", "end", 1 / (2 + 4 - 1)),  # 1/5
        ("offered_incl_flowouts", "end", 1 / (2 + 4 + 1)),  # 1/7
        ("queued", "end", (1 + 3) / 9),  # 4/9
        ("exclude_short_abandons", "answer", 2 / (3 + 4 - 1)),  # unchanged: 2/6
    ],
)
def test_vendor_formulas(tmp_path: Path, formula: str, count_at: str, expected: float) -> None:
    config = config_from(tmp_path, f'[service_level]\nformula = "{formula}"\n'
                                   f'count_at = "{count_at}"\n')  # fmt: skip
    snap = fold(flowout_scenario(), at(T0, 600), config)
    presale = queue(snap, "presale")
    assert presale.today.service_level == pytest.approx(expected)
    assert presale.window.service_level == pytest.approx(expected)  # all inside 30 minutes
    assert (presale.sl_formula, presale.sl_count_at) == (formula, count_at)
    floor = snap.rollups[0]  # presale and vip; vip's only contact (c9) still waits there
    assert floor.by == "floor" and floor.today.service_level is not None


def test_queued_moves_while_callers_wait(tmp_path: Path) -> None:
    """`queued` counts a waiting contact in the denominator of the period it entered in."""
    config = config_from(tmp_path, '[service_level]\nformula = "queued"\n')
    q = {"queue": "presale", "channel": "phone"}
    events = [event("contact.offered", at(T0, 0), contact="c1", **q),
              event("contact.answered", at(T0, 10), contact="c1", agent="a1"),
              event("contact.offered", at(T0, 20), contact="c2", **q)]  # fmt: skip
    # At +25: c1 answered within (10 s), c2 waits: 1 / 2 offered.
    assert queue(fold(events, at(T0, 25), config), "presale").today.service_level == 0.5
    # Later c2 abandons after 100 s (not within 30): still 1/2; answered within 25 s: 2/2.
    late = [*events, event("contact.abandoned", at(T0, 120), contact="c2")]
    assert queue(fold(late, at(T0, 130), config), "presale").today.service_level == 0.5
    quick = [*events, event("contact.answered", at(T0, 45), contact="c2", agent="a2")]
    assert queue(fold(quick, at(T0, 50), config), "presale").today.service_level == 1.0


def test_per_queue_formula_and_count_at(tmp_path: Path) -> None:
    config = config_from(tmp_path, '[queues.presale]\nformula = "answered"\ncount_at = "end"\n')
    snap = fold(flowout_scenario(), at(T0, 600), config)
    presale, vip = queue(snap, "presale"), queue(snap, "vip")
    assert presale.today.service_level == pytest.approx(1 / 2)  # c1 of c1, c2 ended
    assert (presale.sl_formula, presale.sl_count_at) == ("answered", "end")
    # vip keeps the board's: exclude_short_abandons at the answer; nothing answered there.
    assert (vip.sl_formula, vip.sl_count_at) == ("exclude_short_abandons", "answer")
    assert vip.today.service_level is None


def test_count_at_end_counts_a_talked_call_nowhere_yet(tmp_path: Path) -> None:
    config = config_from(tmp_path, '[service_level]\nformula = "answered"\ncount_at = "end"\n')
    q = {"queue": "presale", "channel": "phone"}
    events = [event("contact.offered", at(T0, 0), contact="c1", **q),
              event("contact.answered", at(T0, 5), contact="c1", agent="a1")]
    talking = queue(fold(events, at(T0, 60), config), "presale")
    assert talking.today.answered == 1 and talking.today.service_level is None  # 0/0
    done = [*events, event("contact.completed", at(T0, 65), contact="c1")]
    assert queue(fold(done, at(T0, 70), config), "presale").today.service_level == 1.0
    # A transfer after the answer ends the handling here too; an answer with no offer seen
    # counts in no queue's service level, at the answer or at the end.
    other = [event("contact.answered", at(T0, 5), contact="x", agent="a1", queue="presale"),
             event("contact.completed", at(T0, 65), contact="x")]  # fmt: skip
    assert queue(fold(other, at(T0, 70), config), "presale").today.service_level is None


def test_ended_outcomes_are_counted_shown_and_rolled_up() -> None:
    q = {"queue": "presale", "channel": "phone", "shop": "s1"}
    events = [
        event("contact.offered", at(T0, 0), contact="c1", **q),
        event("contact.offered", at(T0, 1), contact="c2", **q),
        event("contact.offered", at(T0, 2), contact="c3", **q),
        event("contact.answered", at(T0, 3), contact="c3", agent="a1"),
        event("contact.ended", at(T0, 30), contact="c2", reason="key"),  # left by a key
        event("contact.ended", at(T0, 60), contact="c1", reason="restart"),  # waiting: counted
        event("contact.ended", at(T0, 60), contact="c3", reason="restart"),  # talked: ends only
        event("contact.ended", at(T0, 61), contact="nobody", reason="restart"),  # nothing
    ]
    snap = fold(events, at(T0, 120))
    presale = queue(snap, "presale")
    for period in (presale.today, presale.window):
        assert (period.offered, period.answered, period.abandoned) == (3, 1, 0)
        assert (period.ended_by_restart, period.left_by_key) == (1, 1)
        # 3 offered = 1 answered + 0 abandoned + 0 transferred + 1 restart + 1 key + 0 waiting
        assert period.offered == (period.answered + period.abandoned + period.transferred_out
                                  + period.ended_by_restart + period.left_by_key)  # fmt: skip
        assert period.completed == 0  # c3's handling ended with no handle-time sample
        assert period.abandon_rate == 0.0  # 0 / (1 + 0): neither outcome is an abandon
    assert presale.waiting == 0
    # The drill-down shows them beside the abandons; a queue without them shows nothing more.
    assert _other_outcomes(presale) == "  left by key 1  ended by restart 1"
    assert _other_outcomes(queue(fold(sl_scenario(), at(T0, 600)), "presale")) == ""
    for rollup in snap.rollups:  # floor, shop s1, channel phone: one queue, the same counts
        assert (rollup.today.ended_by_restart, rollup.today.left_by_key) == (1, 1), rollup.by
        assert (rollup.window.ended_by_restart, rollup.window.left_by_key) == (1, 1), rollup.by


def test_ended_needs_a_known_reason() -> None:
    snap = fold([event("contact.ended", at(T0, 0), contact="c1", reason="bored")], at(T0, 1))
    assert snap.events_rejected["bad_value"] == 1
    snap = fold([event("contact.ended", at(T0, 0), contact="c1")], at(T0, 1))
    assert snap.events_rejected["missing_field"] == 1
