"""The compiled fold (mypyc, built at install) and its Python sources give the same board."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import wallboard.fold
from wallboard import native

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
    assert native.compiled(), wallboard.fold.__file__


def test_an_edited_source_runs_as_source(tmp_path: Path) -> None:
    """Stale machine code never runs: a copy of the package with fold.py edited after the
    build loads all three modules from source (they call each other natively, so all or
    none)."""
    package = Path(native.__file__).parent
    copy = tmp_path / "wallboard"
    subprocess.run(["cp", "-r", str(package), str(copy)], check=True)
    with (copy / "fold.py").open("a") as source:
        source.write("\n# edited\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from wallboard import native; "
            "print(native.describe()); import wallboard.alerts, wallboard.metrics; "
            "print(sorted(m.__file__.rsplit('.', 1)[1] for m in "
            "(wallboard.fold, wallboard.alerts, wallboard.metrics)))")  # fmt: skip
    lines = _run("-c", code, str(tmp_path), pure=False).splitlines()
    expected = ("fold.py changed since the build (reinstall to compile it)"
                if native.MANIFEST.exists() else "not compiled at install")  # fmt: skip
    assert lines == [f"Python source ({expected})", "['py', 'py', 'py']"]
