"""Where the project's shared real-world data lives, for tests that read it.

The data sits in ``shared/data`` beside the repository (``/work/shared/data`` next to
``/work/main``) and is not part of it. Tests that need it call :func:`shared_data_dir`,
which skips the test when the folder is absent, or fails it when the environment variable
``CARECOORD_REQUIRE_SHARED_DATA`` is ``1`` (so CI cannot pass by skipping silently).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["REQUIRE_ENV", "SHARED_DATA", "shared_data_dir"]

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
"""The shared data folder: ``<repository>/../shared/data``."""

REQUIRE_ENV = "CARECOORD_REQUIRE_SHARED_DATA"
"""Set to ``1`` to turn a missing shared data folder into a test failure."""


def shared_data_dir(subdir: str | None = None) -> Path:
    """The shared data folder (or its ``subdir``); skip, or fail when required, if absent."""
    path = SHARED_DATA if subdir is None else SHARED_DATA / subdir
    if path.is_dir():
        return path
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"shared data folder {path} is absent and {REQUIRE_ENV}=1", pytrace=False)
    pytest.skip(f"shared data folder {path} is absent (set {REQUIRE_ENV}=1 to fail instead)")
