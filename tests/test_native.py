"""The compiled fold (mypyc, built at install) and its Python sources give the same board."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import wallboard.core.fold
from wallboard.core import native

SAMPLE = Path(__file__).parent.parent / "samples" / "double11-evening.ndjson.gz"


def _run(*args: str, pure: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "WALLBOARD_PURE"}
    if pure:
        env["WALLBOARD_PURE"] = "1"
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    return done.stdout


def test_the_sources_and_the_build_give_the_same_snapshots() -> None:
    """The evening sample at its peak (alerts up, thousands waiting) and at its end."""
    for at in ("2026-11-11 20:15:30", "2026-11-11 21:00:00"):
        args = ("-m", "wallboard", "snapshot", "--file", str(SAMPLE), "--at", at, "--json")
        pure, built = _run(*args, pure=True), _run(*args, pure=False)
        assert json.loads(pure) == json.loads(built)
        assert json.loads(pure)["events_applied"] > 10_000


def test_wallboard_pure_runs_the_sources() -> None:
    code = "from wallboard import native; print(native.describe())"
    assert _run("-c", code, pure=True).strip() == "Python source (WALLBOARD_PURE is set)"


def test_a_build_that_compiled_is_the_one_that_runs() -> None:
    """When the install compiled the fold (it wrote the manifest) and nobody edited the
    sources since, the compiled modules load: the guard must not fall back by mistake."""
    if not native.MANIFEST.exists() or native.why_not_compiled() is not None:
        assert not native.compiled()
        return
    assert native.compiled(), wallboard.core.fold.__file__


def test_an_edited_source_runs_as_source(tmp_path: Path) -> None:
    """Stale machine code never runs: a copy of the package with fold.py edited after the
    build loads all three modules from source (they call each other natively, so all or
    none)."""
    copy = tmp_path / "wallboard"
    subprocess.run(["cp", "-r", str(native.PACKAGE_DIR), str(copy)], check=True)
    with (copy / "core" / "fold.py").open("a") as source:
        source.write("\n# edited\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from wallboard import native; "
            "print(native.describe()); import wallboard.core.alerts, wallboard.core.metrics; "
            "print(sorted(m.__file__.rsplit('.', 1)[1] for m in "
            "(wallboard.core.fold, wallboard.core.alerts, wallboard.core.metrics)))")  # fmt: skip
    lines = _run("-c", code, str(tmp_path), pure=False).splitlines()
    expected = ("core/fold.py changed since the build (reinstall to compile it)"
                if native.MANIFEST.exists() else "not compiled at install")  # fmt: skip
    assert lines == [f"Python source ({expected})", "['py', 'py', 'py']"]


def _attributes(cls: type) -> tuple[str, ...]:
    # Compiled classes list their attributes in __mypyc_attrs__ (they have no __slots__).
    names: tuple[str, ...] = getattr(cls, "__mypyc_attrs__", None) or cls.__dict__["__slots__"]
    return names


def test_pickling_keeps_every_attribute_of_the_records_with_their_own_reduce() -> None:
    """Contact, AgentState and TimeRing pickle as tuples (faster than the default): a new
    attribute left out of `__reduce__` would vanish from replay checkpoints. Every attribute
    set to a value of its own must come back, except a contact's references to its records,
    which are left out on purpose."""
    from wallboard.core.config import Config
    from wallboard.core.event_record import Event
    from wallboard.core.fold import BoardState
    from wallboard.core.metrics import PERIOD_FIELDS, PeriodCounts, TimeRing
    from wallboard.core.state import AgentState, Contact, QueueState

    ring = TimeRing(60_000)
    for ts in (1, 5, 9):
        ring.add(ts)
    ring.head = 1
    agent = AgentState("a7")
    # A queue's record as the fold makes it (mypyc 2.4.1 skips the __init__ of a serializable
    # class called from Python, see BoardState).
    board = BoardState(Config())
    board.apply(Event("contact.offered", 1_000, contact="c1", queue="chat"))
    chat = board.queues["chat"]
    contact = Contact("chat", "wechat", "kids", 1_000, 1, "a7", 2_000, chat, agent, 3_000, 2)
    rounds = PeriodCounts()
    for n, field in enumerate(PERIOD_FIELDS):
        setattr(rounds, field, 100 + n)
    values: dict[str, object] = {
        "name": "Yang Lan", "team": "Peony", "level": "elite", "pool": "reserve",
        "shops": ("kids", "home"), "queues": ("chat",), "state": "busy", "state_since": 11,
        "first_login": 12, "handled_today": 13, "answers": ring, "messages": TimeRing(5),
        "completed_today": 14, "outcomes_today": 15, "orders_today": 16,
        "order_value_today": 17.5, "rating_sum": 18, "rating_count": 19,
        "rounds_today": rounds,
    }  # fmt: skip
    for name, value in values.items():
        setattr(agent, name, value)
    assert set(_attributes(AgentState)) == {"agent", *values}  # a new one: add it above too
    for record in (contact, agent, ring):
        back = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        for name in _attributes(type(record)):
            mine, theirs = getattr(record, name), getattr(back, name)
            if isinstance(mine, TimeRing):
                mine, theirs = _ring(mine), _ring(theirs)
            elif isinstance(mine, PeriodCounts):
                mine, theirs = ([getattr(p, f) for f in PERIOD_FIELDS]
                                for p in (mine, theirs))  # fmt: skip
            elif isinstance(mine, AgentState | QueueState):
                # A contact's references to its records are found again by name after a
                # restore (tests/test_fold_properties.py checks they then name the same).
                assert theirs is None, name
                continue
            assert theirs == mine, name


def _ring(ring: object) -> tuple[object, ...]:
    return ring.span_ms, list(ring.times), ring.head  # type: ignore[attr-defined]

