"""Whether the fold's hot modules run compiled (mypyc, built by setup.py) or as Python source.

The compiled modules share one library and call each other natively, so they load all
together or not at all. They load only when the install compiled them from exactly the
sources present now (the build writes their hashes): after an edit, or with `WALLBOARD_PURE`
set, the sources run instead of stale or unwanted machine code. Both give the same numbers;
tests/test_native.py checks that.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

# The wallboard package (this module is wallboard/core/native.py): the manifest and the
# compiled library sit at its top, the sources in its subpackages.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
MANIFEST = PACKAGE_DIR / "_native_manifest.json"
# Keep in step with COMPILED in setup.py.
MODULES = ("wallboard.core.metrics", "wallboard.core.alerts", "wallboard.core.fold",
           "wallboard.core.linedecode", "wallboard.replay.engine", "wallboard.core.event_record",
           "wallboard.core.state")


class _SourcesFirst(importlib.abc.MetaPathFinder):
    """Loads the listed modules from their .py files, ahead of the compiled ones."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:  # fmt: skip
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def _source(module: str) -> Path:
    """wallboard.core.fold -> <package>/core/fold.py"""
    return PACKAGE_DIR.joinpath(*module.split(".")[1:]).with_suffix(".py")


def why_not_compiled() -> str | None:
    """None when the compiled modules are usable; otherwise why not, in a few words."""
    if os.environ.get("WALLBOARD_PURE"):
        return "WALLBOARD_PURE is set"
    try:
        digests: dict[str, str] = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return "not compiled at install"
    for module in MODULES:
        source = _source(module)
        digest = digests.get(str(source.relative_to(PACKAGE_DIR.parent)))
        if digest != hashlib.sha256(source.read_bytes()).hexdigest():
            name = source.relative_to(PACKAGE_DIR).as_posix()
            return f"{name} changed since the build (reinstall to compile it)"
    return None


def choose() -> None:
    """Called once by the package's __init__, before any of the modules is imported."""
    if why_not_compiled() is not None:
        sys.meta_path.insert(0, _SourcesFirst({m: _source(m) for m in MODULES}))


def compiled() -> bool:
    """True when the fold running in this process is the compiled one."""
    fold = sys.modules.get("wallboard.core.fold")
    return fold is not None and not (fold.__file__ or "").endswith(".py")


def describe() -> str:
    """What runs the fold here, for benchmark reports and the test header."""
    import wallboard.core.fold  # noqa: F401  (the question is how it loads)

    if compiled():
        return "compiled (mypyc)"
    return f"Python source ({why_not_compiled() or 'no compiled modules found'})"
