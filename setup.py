"""Build hook: compile the fold's hot modules with mypyc; pure Python when that cannot be done.

The metadata lives in pyproject.toml; this file only adds the optional extension modules.
`WALLBOARD_PURE=1` at install time skips compiling. A failed compile (no C compiler, say)
warns and installs the pure-Python package, which gives the same numbers, slower.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent
# Keep in step with wallboard/core/native.py, which reads the manifest this writes.
COMPILED = ["wallboard/core/metrics.py", "wallboard/core/alerts.py", "wallboard/core/fold.py",
            "wallboard/core/linedecode.py", "wallboard/replay/engine.py",
            "wallboard/core/event_record.py", "wallboard/core/state.py"]
MANIFEST = ROOT / "wallboard" / "_native_manifest.json"


def _write_manifest(build_lib: Path) -> None:
    """The sources compiled, by hash: an edit after the build makes wallboard fall back to
    the sources instead of running stale machine code. Written beside the sources (an
    editable install) and into the build (a wheel)."""
    digests = {path: hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
               for path in COMPILED}  # fmt: skip
    text = json.dumps(digests, indent=1, sort_keys=True) + "\n"
    for package_dir in (MANIFEST.parent, build_lib / "wallboard"):
        if package_dir.is_dir():
            (package_dir / MANIFEST.name).write_text(text)


class OptionalBuildExt(build_ext):  # type: ignore[misc]
    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any compile failure: install pure Python
            self._give_up(error)
            return
        _write_manifest(Path(self.build_lib))

    def _give_up(self, error: BaseException) -> None:
        MANIFEST.unlink(missing_ok=True)
        print(f"wallboard: compiling the fold failed ({error}); installing pure Python",
              file=sys.stderr)  # fmt: skip


def _extensions() -> list[Any]:
    if os.environ.get("WALLBOARD_PURE"):
        MANIFEST.unlink(missing_ok=True)
        return []
    try:
        from mypyc.build import mypycify

        # Not pyproject's mypy section: it names the whole tree, and mypyc takes its note on
        # unused sections for a failure. Third-party stubs may be missing in the build
        # environment (only msgspec's types matter). One shared library inside the package,
        # so that an editable install finds it too.
        flags = ["--config-file=", "--strict", "--ignore-missing-imports",
                 "--no-warn-unused-ignores"]
        return list(mypycify([*flags, *COMPILED], opt_level="3",
                             group_name="wallboard._native"))  # fmt: skip
    except (Exception, SystemExit) as error:  # mypyc missing (ImportError), or a type error
        print(f"wallboard: not compiling the fold ({error!r}); installing pure Python",
              file=sys.stderr)  # fmt: skip
        MANIFEST.unlink(missing_ok=True)
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
