"""Settings shared by the whole suite."""

from __future__ import annotations

import os

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
