"""carecoord's pytest plugin: fixtures for testing code built on carecoord.

Installed with carecoord and registered through the ``pytest11`` entry point named
``carecoord`` (``pytest -p no:carecoord`` turns it off). It is its own small top-level
module, not part of the ``carecoord`` package, so that loading it imports nothing of
carecoord: a test run that uses none of its fixtures pays nothing. Each fixture imports
what it needs when it is first requested; none needs Hypothesis.

Fixtures (see ``docs/testing.md``):

``carecoord_as_of``
    The instant tests evaluate at: :data:`carecoord.testing.AS_OF` (Monday 2 March 2026,
    14:00 UTC), or the ``carecoord_as_of`` ini option, or a test's
    ``@pytest.mark.carecoord_as_of("2026-07-15T12:00:00-04:00")`` marker.
``carecoord_scenario``
    A :class:`carecoord.testing.Scenario` (the builders' patient) starting at
    ``carecoord_as_of``.
``carecoord_population``
    A seeded synthetic population (:func:`carecoord.testing.generate_population`, 20
    people in up to 3 sources, with facts), the same in every test of a session.
``carecoord_fhir_bundle``
    A :class:`carecoord.testing.FhirBundles` factory writing into the test's ``tmp_path``.
``carecoord_coordinator``
    A :class:`carecoord.services.Coordinator` over a fresh in-memory store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from carecoord.services import Coordinator
    from carecoord.testing import FhirBundles, Population, Scenario

__all__ = [
    "carecoord_as_of",
    "carecoord_coordinator",
    "carecoord_fhir_bundle",
    "carecoord_population",
    "carecoord_scenario",
    "pytest_addoption",
    "pytest_configure",
]

_MARKER = "carecoord_as_of(instant): evaluate this test's carecoord fixtures at this ISO instant"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``carecoord_as_of`` ini option (an ISO date-time with its offset)."""
    parser.addini(
        "carecoord_as_of",
        "the instant carecoord fixtures evaluate at (ISO date-time with offset)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``carecoord_as_of`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line("markers", _MARKER)


def _instant(value: object, where: str) -> dt.datetime:
    __tracebackhide__ = True
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            pytest.fail(f"{where}: not an ISO date-time: {value!r}", pytrace=False)
    if stamp.utcoffset() is None:
        pytest.fail(f"{where}: give the offset, e.g. 2026-03-02T14:00:00+00:00", pytrace=False)
    return stamp


@pytest.fixture
def carecoord_as_of(request: pytest.FixtureRequest) -> dt.datetime:
    """The instant the carecoord fixtures evaluate at (an aware datetime)."""
    marker = request.node.get_closest_marker("carecoord_as_of")
    if marker is not None and marker.args:
        return _instant(marker.args[0], "@pytest.mark.carecoord_as_of")
    configured = str(request.config.getini("carecoord_as_of") or "")
    if configured.strip():
        return _instant(configured, "the carecoord_as_of ini option")
    from carecoord.testing import AS_OF  # noqa: PLC0415 - loaded only when a test asks

    return AS_OF


@pytest.fixture
def carecoord_scenario(carecoord_as_of: dt.datetime) -> Scenario:
    """A time-travel scenario for the builders' patient, starting at ``carecoord_as_of``."""
    from carecoord.testing import Scenario  # noqa: PLC0415

    return Scenario(start=carecoord_as_of)


@pytest.fixture(scope="session")
def carecoord_population() -> Population:
    """A seeded synthetic population (20 people, up to 3 sources each, with facts)."""
    from carecoord.testing import generate_population  # noqa: PLC0415

    return generate_population(20, seed=0, sources=3, with_facts=True)


@pytest.fixture
def carecoord_fhir_bundle(tmp_path: Path) -> FhirBundles:
    """A factory of FHIR R4 Bundles (dicts, or files in ``tmp_path`` with ``.file()``)."""
    from carecoord.testing import FhirBundles  # noqa: PLC0415

    return FhirBundles(folder=tmp_path)


@pytest.fixture
def carecoord_coordinator() -> Coordinator:
    """A coordinator over a fresh in-memory store (the default rules and calendar)."""
    from carecoord.services import Coordinator  # noqa: PLC0415
    from carecoord.stores import MemoryStore  # noqa: PLC0415

    return Coordinator(MemoryStore())
