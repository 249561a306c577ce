"""Every script in examples/ runs cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


class TestExamples:
    """The examples are documentation, so they are executed."""

    def test_there_are_examples(self) -> None:
        """At least one example exists."""
        assert EXAMPLES

    @pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
    def test_example_runs(self, script: Path) -> None:
        """The script exits 0 and prints something."""
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
        )

        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()


class TestCommandLine:
    """The demo command tells the story and exits 0."""

    def test_demo_runs(self) -> None:
        """Carecoord demo prints the merged profiles, a known gap and the summary."""
        done = subprocess.run(
            [sys.executable, "-m", "carecoord.cli", "demo"],
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        assert "8 records linked into 4 people" in done.stdout
        assert "transition.discharge-info-missing" in done.stdout
        assert "Population summary" in done.stdout
