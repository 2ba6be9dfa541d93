"""Hypothesis profiles for the property tests.

``dev`` (the default) explores new random examples on every run; ``ci``
(loaded when the environment variable ``CI`` is ``true``) is derandomized, so
a CI run is reproducible, and keeps no example database. Example counts are
small, so that all of tests/properties runs in seconds; search harder
locally with ``HYPOTHESIS_PROFILE=thorough`` (25 times as many examples).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Profiles keep hypothesis' default max_examples (100), which other test directories rely on;
# the tests here ask for a fraction of it (see EXAMPLES in each file), so one profile scales all.
_COMMON = {"suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("dev", **_COMMON)
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("thorough", max_examples=2500, **_COMMON)

_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))
