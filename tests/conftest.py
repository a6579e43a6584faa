"""Settings shared by the whole suite."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# CI runs derandomised so that a red build is reproducible from its log;
# locally Hypothesis explores.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Streamlit's AppTest installs its script as `__main__` and leaves it there.

    Spawned worker processes (the `quotapool plan` batch) re-import `__main__` from its file,
    so a later test would start workers that run a leftover AppTest script and die.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
