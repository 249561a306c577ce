"""carecoord's pytest plugin: its fixtures, its cost, and a downstream project that uses it.

The fixtures are used here directly (the plugin is registered by carecoord's ``pytest11``
entry point, so this suite has it too). The other tests run pytest in a subprocess: the
downstream example project, a run that uses no fixture (which must not import carecoord),
a run with Hypothesis hidden, and a failing run whose traceback must show the test line
and not carecoord's own frames.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from carecoord import fhir
from carecoord.services import Coordinator
from carecoord.testing import AS_OF, FhirBundles, Population, Scenario

ROOT = Path(__file__).resolve().parents[2]
DOWNSTREAM = ROOT / "examples" / "downstream_project"


def _pytest(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``folder`` (its own rootdir and config) and return what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


class TestFixtures:
    """What each fixture gives a test."""

    def test_as_of_is_the_kits_instant(self, carecoord_as_of: dt.datetime) -> None:
        """Without ini option or marker, ``carecoord_as_of`` is ``carecoord.testing.AS_OF``."""
        assert carecoord_as_of == AS_OF

    @pytest.mark.carecoord_as_of("2026-07-15T12:00:00-04:00")
    def test_a_marker_sets_the_instant(self, carecoord_as_of: dt.datetime) -> None:
        """The marker's ISO instant, with its offset, is the test's ``as_of``."""
        assert carecoord_as_of == dt.datetime(2026, 7, 15, 16, tzinfo=dt.UTC)
        assert carecoord_as_of.utcoffset() == dt.timedelta(hours=-4)

    def test_the_scenario_starts_at_as_of(self, carecoord_scenario: Scenario) -> None:
        """The scenario is the builders' patient with its clock at ``carecoord_as_of``."""
        assert isinstance(carecoord_scenario, Scenario)
        assert carecoord_scenario.now == AS_OF
        assert carecoord_scenario.profile.patient.id == "patient-1"

    def test_the_bundle_factory_writes_readable_files(
        self, carecoord_fhir_bundle: FhirBundles, tmp_path: Path
    ) -> None:
        """``.file()`` writes into the test's tmp_path a Bundle read back with no error."""
        path = carecoord_fhir_bundle.file(name="clinic.json")

        result = fhir.read(path)

        assert path.parent == tmp_path
        assert len(result.records) == 1
        assert len(result.records[0].referrals) == 1
        assert len(result.records[0].results) == 1
        assert not [i for i in result.issues if i.is_error]

    def test_the_population_is_seeded(self, carecoord_population: Population) -> None:
        """Twenty synthetic people, the same in every test of the session."""
        assert carecoord_population.people == 20
        assert carecoord_population.records

    def test_the_coordinator_has_an_empty_memory_store(
        self, carecoord_coordinator: Coordinator
    ) -> None:
        """A fresh coordinator: no person, nothing on the worklist."""
        assert carecoord_coordinator.persons() == ()
        assert carecoord_coordinator.worklist(AS_OF) == ()


class TestInSubprocesses:
    """The plugin as a downstream project meets it."""

    def test_the_downstream_project_passes(self) -> None:
        """examples/downstream_project's tests pass with the plugin autoloaded."""
        done = _pytest(DOWNSTREAM, "-q")

        assert done.returncode == 0, done.stdout + done.stderr
        assert "8 passed" in done.stdout

    def test_the_plugin_loads_by_its_entry_point_name(self) -> None:
        """With autoload off, ``-p carecoord`` loads it from the installed entry point."""
        done = _pytest(
            DOWNSTREAM, "-q", "-p", "carecoord", env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        )

        assert done.returncode == 0, done.stdout + done.stderr
        assert "8 passed" in done.stdout

    def test_a_run_that_uses_no_fixture_imports_nothing_of_carecoord(self, tmp_path: Path) -> None:
        """The plugin is loaded, yet carecoord is not imported: it costs nothing unused."""
        (tmp_path / "test_plain.py").write_text(
            textwrap.dedent(
                """
                import sys

                def test_plain(pytestconfig):
                    assert pytestconfig.pluginmanager.hasplugin("carecoord")
                    assert "pytest_carecoord" in sys.modules
                    loaded = [m for m in sys.modules if m.split(".")[0] == "carecoord"]
                    assert loaded == []
                """
            ),
            encoding="utf-8",
        )

        done = _pytest(tmp_path, "-q")

        assert done.returncode == 0, done.stdout + done.stderr

    def test_the_fixtures_work_without_hypothesis(self, tmp_path: Path) -> None:
        """With Hypothesis hidden, every fixture works; only the strategies need it."""
        (tmp_path / "test_kit.py").write_text(
            textwrap.dedent(
                """
                import pytest
                from carecoord.errors import MissingExtraError

                def test_fixtures(carecoord_scenario, carecoord_fhir_bundle,
                                  carecoord_coordinator, carecoord_population):
                    assert carecoord_fhir_bundle()["resourceType"] == "Bundle"
                    carecoord_scenario.assert_no_gap("referral.unacknowledged")

                def test_strategies_name_the_extra():
                    with pytest.raises(MissingExtraError, match="carecoord.testing."):
                        import carecoord.testing.strategies  # noqa: F401
                """
            ),
            encoding="utf-8",
        )
        (tmp_path / "hide.py").write_text(
            textwrap.dedent(
                """
                import importlib.abc, sys

                class Hide(importlib.abc.MetaPathFinder):
                    def find_spec(self, name, path=None, target=None):
                        if name.split(".")[0] in {"hypothesis", "_hypothesis_pytestplugin"}:
                            raise ImportError(f"{name} is hidden for this test")
                        return None

                sys.meta_path.insert(0, Hide())
                import pytest
                sys.exit(pytest.main(["-q", "-p", "no:cacheprovider",
                                      "-p", "no:hypothesispytest", "test_kit.py"]))
                """
            ),
            encoding="utf-8",
        )

        done = subprocess.run(
            [sys.executable, "hide.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

        assert done.returncode == 0, done.stdout + done.stderr
        assert "2 passed" in done.stdout

    def test_failures_point_at_the_test_not_at_carecoord(self, tmp_path: Path) -> None:
        """An unknown rule id says so with the close ids; tracebacks hide carecoord frames."""
        (tmp_path / "test_fail.py").write_text(
            textwrap.dedent(
                """
                def test_typo(carecoord_scenario):
                    carecoord_scenario.assert_open("referral.unacknowledgd")

                def test_wrong_status(carecoord_scenario):
                    from carecoord.testing import make_referral
                    carecoord_scenario.add("referrals", make_referral())
                    carecoord_scenario.assert_closed("referral.unacknowledged")
                """
            ),
            encoding="utf-8",
        )

        done = _pytest(tmp_path, "-q", "--tb=long")

        out = done.stdout
        assert done.returncode == 1, out + done.stderr
        assert "unknown rule 'referral.unacknowledgd'; did you mean referral.unacknowledged" in out
        assert "found: none" not in out
        assert "expected closed, got prospective" in out
        assert "_timetravel.py" not in out
        assert "_assertions.py" not in out
