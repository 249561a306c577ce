"""The consent views on real Synthea records: an outsider without consent sees nothing sensitive.

A clinician outside every care team, with no consent, looks at each of the 76 shared
Synthea profiles (``synthea-smart-r4``). None of the sensitive facts Synthea writes may
reach them: drug overdoses, HIV tests, depression screenings, antidepressants, the
psychiatric interview, psychiatry and mental-health care plans, depression and ADHD
diagnoses. (This snapshot has no HIV status or abuse status results; their codes are
checked too, should a newer export bring them.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from carecoord import build_profiles
from carecoord.domain import Code, Ref
from carecoord.fhir._read import read
from carecoord.profile import PatientProfile, Viewer, view_for

from ..fhir._shared import shared_data_dir

AT = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
OUTSIDER = Viewer(Ref("Practitioner", "outsider-1"))

SENSITIVE: dict[str, str] = {
    "55680006": "drug overdose",
    "56876005": "drug rehabilitation",
    "31676001": "HIV antigen test",
    "55277-8": "HIV status",
    "28245-9": "abuse status",
    "171207006": "depression screening",
    "44261-6": "PHQ-9",
    "79094001": "psychiatric interview",
    "736254008": "psychiatry care plan",
    "718347000": "mental health care plan",
    "737434004": "depression care plan",
    "370143000": "major depression",
    "36923009": "major depression, single episode",
    "192127007": "attention deficit disorder",
}
"""Codes (SNOMED CT, LOINC) of Synthea's sensitive facts."""

NAMES = ("fluoxetine", "sertraline", "methylphenidate")
"""Medicines Synthea codes by product only, recognised by name."""


def _codes(fact: Any) -> list[Code]:
    """The codes that say what a fact is about."""
    found = [
        getattr(fact, "code", None),
        *getattr(fact, "types", ()),
        *getattr(fact, "reasons", ()),
    ]
    found += [*getattr(fact, "categories", ()), *getattr(fact, "diagnoses", ())]
    return [c if isinstance(c, Code) else getattr(c, "code", None) for c in found if c is not None]


def sensitive(fact: Any) -> str | None:
    """What sensitive thing a fact is, or ``None``."""
    for code in _codes(fact):
        if code is None:
            continue
        if code.code in SENSITIVE:
            return SENSITIVE[code.code]
        display = (code.display or "").lower()
        for name in NAMES:
            if name in display:
                return name
    return None


@pytest.fixture(scope="module")
def profiles() -> tuple[PatientProfile, ...]:
    """The Synthea profiles, read once for this module."""
    result = read(shared_data_dir("synthea-smart-r4"))
    return tuple(build_profiles(result.records))


def test_an_outsider_without_consent_sees_none_of_it(profiles: tuple[PatientProfile, ...]) -> None:
    """Every sensitive fact Synthea wrote is hidden from a clinician off every care team.

    29 facts name one of the sensitive codes or medicines (a fact counts once, by the
    first it names); the drug rehabilitation stays are hidden through their overdose
    diagnoses (a stay keeps no visit type).
    """
    present: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for profile in profiles:
        view = view_for(profile, OUTSIDER, at=AT)
        for _, fact in profile.facts():
            what = sensitive(fact.value)
            if what is not None:
                present[what] += 1
        for _, fact in view.facts():
            what = sensitive(fact.value)
            if what is not None:
                seen[what] += 1

    assert seen == Counter()
    assert present == Counter(
        {
            "drug overdose": 12,  # 3 conditions, and the stays and visits for them
            "depression screening": 3,
            "attention deficit disorder": 2,
            "major depression": 2,
            "fluoxetine": 2,
            "HIV antigen test": 2,
            "methylphenidate": 1,
            "psychiatric interview": 1,
            "major depression, single episode": 1,
            "psychiatry care plan": 1,
            "depression care plan": 1,
            "mental health care plan": 1,
        }
    )


def test_ordinary_care_stays_visible(profiles: tuple[PatientProfile, ...]) -> None:
    """The outsider still sees the ordinary record: nearly every fact (33 of 10,176 hidden)."""
    total = sum(p.fact_count() for p in profiles)
    shown = sum(view_for(p, OUTSIDER, at=AT).fact_count() for p in profiles)

    assert (total, total - shown) == (10_176, 33)
