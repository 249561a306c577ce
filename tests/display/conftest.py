"""Shared objects for the display tests: the Synthea sample read once per session.

The 76 shared Synthea bundles (``synthea-smart-r4``) give large real objects: an import
result, a profile set, every profile's gap report and a population summary. A generated
population with typos adds possible matches (Synthea has one source, so no pairs to
review). Tests that need the shared data skip without it, or fail under
``CARECOORD_REQUIRE_SHARED_DATA=1``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
import pytest

import carecoord as cc
from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.profile import PatientProfile, ProfileSet
from carecoord.rules import GapReport, PopulationSummary
from carecoord.testing import generate_population

from ..fhir._shared import REQUIRE_ENV, shared_data_dir

AS_OF = dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)
"""Just after the Synthea snapshot was made (2021-06-01)."""


@dataclass(frozen=True)
class Synthea:
    """The shared Synthea sample, read, profiled and checked for gaps; and the demo data.

    The demo data (four people in three sources) brings what Synthea does not export:
    care teams, referrals, tasks, consents, documents, communications.
    """

    folder: Path
    result: fhir.ImportResult
    profiles: ProfileSet
    reports: tuple[GapReport, ...]
    summary: PopulationSummary
    demo: ProfileSet
    demo_reports: tuple[GapReport, ...]

    def largest(self) -> PatientProfile:
        """The profile with the most facts."""
        return max(self.profiles, key=lambda p: p.fact_count())

    def report_of(self, profile: PatientProfile) -> GapReport:
        """The gap report of ``profile``."""
        return next(r for r in self.reports if r.patient == profile.id)


@pytest.fixture(scope="session")
def synthea() -> Synthea:
    """The 76 Synthea bundles, read once for the session."""
    folder = shared_data_dir("synthea-smart-r4")
    result = fhir.read(folder)
    profiles = cc.build_profiles(result.records)
    reports = tuple(cc.detect_gaps_population(profiles, as_of=AS_OF, include_closed=True))
    demo = cc.build_profiles(fhir.read(demo_files()).records)
    demo_reports = tuple(cc.detect_gaps_population(demo, as_of=DEMO_AS_OF, include_closed=True))
    return Synthea(folder, result, profiles, reports, cc.summarize(reports), demo, demo_reports)


@pytest.fixture(scope="session")
def linked() -> ProfileSet:
    """A generated population of 150 people in 3 sources, with possible matches to review."""
    population = generate_population(150, seed=3)
    profiles = cc.build_profiles(population.records)
    assert profiles.review, "the generated population should leave pairs to review"
    return profiles


def required() -> bool:
    """Whether a missing optional tool must fail the tests (CI) rather than skip them."""
    return os.environ.get("CI") == "true" or os.environ.get(REQUIRE_ENV) == "1"


def need(module: str) -> Any:
    """Import ``module`` (an optional extra the tests use); skip without it, fail in CI."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if required():
            pytest.fail(f"{module} is required in CI (the test dependency group)", pytrace=False)
        pytest.skip(f"{module} is not installed (pip install --group test)")


def walk(*roots: object) -> Iterator[Any]:
    """Every object reachable from ``roots`` through attrs fields, sequences and mappings."""
    seen: set[int] = set()
    stack: list[object] = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, str | int | float | bool):
            continue
        seen.add(id(obj))
        yield obj
        if attrs.has(type(obj)):
            stack.extend(getattr(obj, f.name) for f in attrs.fields(type(obj)))
        elif isinstance(obj, tuple | list | frozenset | set):
            stack.extend(obj)
        elif hasattr(obj, "items") and hasattr(obj, "values"):
            stack.extend(obj.values())
