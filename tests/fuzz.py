"""How hard the fuzz properties push: a few hundred examples per property in the default run,
thousands with `pytest --fuzz-long` (or WALLBOARD_FUZZ_EXAMPLES=N). Every hostile-input
property takes its settings from `fuzz_settings()` so one switch scales them all."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 200
LONG_EXAMPLES = 5_000
_budget = {"examples": int(os.environ.get("WALLBOARD_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))}


def set_long(long: bool) -> None:
    """Called by conftest once the command line is parsed, before the tests are imported."""
    if long and "WALLBOARD_FUZZ_EXAMPLES" not in os.environ:
        _budget["examples"] = LONG_EXAMPLES


def examples(scale: float = 1.0) -> int:
    """The examples a property runs: `scale` of the run's budget (a slow property against a
    real server takes a fraction), at least 10."""
    return max(10, round(_budget["examples"] * scale))


def fuzz_settings(scale: float = 1.0, **overrides: Any) -> settings:
    """Settings for one fuzz property: no deadline (shared, noisy machines), no health check
    on slow data generation or large inputs (hostile inputs are large on purpose)."""
    return settings(max_examples=examples(scale), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture],
                    **overrides)  # fmt: skip
