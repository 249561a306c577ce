"""Shared test configuration: Hypothesis profiles.

``CARECOORD_HYPOTHESIS_PROFILE=ci`` runs more examples; ``fast`` runs few (for quick loops).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fast", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CARECOORD_HYPOTHESIS_PROFILE", "default"))
