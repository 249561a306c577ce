"""Conformance on the shared real data: every file reads, and Synthea's totals are exact."""

from __future__ import annotations

import collections
import functools
import json
from pathlib import Path

import pytest

from carecoord.domain import CareSetting, TransitionKind
from carecoord.fhir._read import ImportResult, read

from ._shared import shared_data_dir

FOLDERS = ("synthea-smart-r4", "fhir-r4-examples", "fhir-r5-examples", "davinci-deqm")


@functools.cache
def synthea() -> ImportResult:
    """The 76 Synthea bundles (and the two shared directory bundles), read once."""
    return read(shared_data_dir("synthea-smart-r4"))


def files(folder: str) -> list[Path]:
    """The JSON files of a shared data folder."""
    return sorted(shared_data_dir(folder).glob("*.json"))


class TestEveryFile:
    """Every shared file reads in lenient mode without raising."""

    @pytest.mark.parametrize("folder", FOLDERS)
    def test_each_file(self, folder: str) -> None:
        """Each file on its own gives a result (no exception of any kind)."""
        for path in files(folder):
            result = read(path)
            assert isinstance(result, ImportResult), path.name

    @pytest.mark.parametrize("folder", FOLDERS[1:])
    def test_whole_folder(self, folder: str) -> None:
        """Each folder read as a whole gives records and accounts for every resource."""
        result = read(shared_data_dir(folder))

        assert result.records
        assert all(c.read == c.mapped + c.skipped for c in result.counts.values())


class TestSynthea:
    """The exact totals of the 76 Synthea patients (see docs/fhir.md)."""

    def test_one_record_per_patient(self) -> None:
        """76 records, one source (the smarthealthit tag), no error issue."""
        result = synthea()

        assert len(result.records) == 76
        assert {r.source.id for r in result.records} == {
            "https://smarthealthit.org/tags|synthea-5-2019"
        }
        assert not result.errors

    def test_transitions(self) -> None:
        """38 inpatient and 113 emergency transitions; 29 of them with a disposition (home)."""
        transitions = [t for r in synthea().records for t in r.transitions]
        kinds = collections.Counter(t.kind for t in transitions)
        with_disposition = [t for t in transitions if t.discharge_disposition is not None]

        assert kinds == {TransitionKind.INPATIENT: 38, TransitionKind.EMERGENCY: 113}
        assert len(with_disposition) == 29
        assert {t.to_setting for t in with_disposition} == {CareSetting.HOME}
        assert all(t.discharged_at is not None for t in transitions)

    def test_transitions_match_each_bundle(self) -> None:
        """Every record has exactly as many transitions as its bundle has IMP/EMER encounters."""
        by_patient = {r.patient.id: len(r.transitions) for r in synthea().records}
        for path in files("synthea-smart-r4"):
            document = json.loads(path.read_bytes())
            resources = [e["resource"] for e in document["entry"]]
            patients = [r["id"] for r in resources if r["resourceType"] == "Patient"]
            if not patients:
                continue
            stays = sum(
                1
                for r in resources
                if r["resourceType"] == "Encounter" and r["class"]["code"] in ("IMP", "EMER")
            )
            assert by_patient[patients[0]] == stays, path.name

    def test_deceased_patients(self) -> None:
        """The 15 patients with deceasedDateTime are flagged deceased."""
        assert sum(r.patient.is_deceased for r in synthea().records) == 15

    def test_fact_totals(self) -> None:
        """Facts by kind match the resources in the bundles."""
        totals: collections.Counter[str] = collections.Counter()
        for record in synthea().records:
            for name, _fact in record.facts():
                totals[name] += 1

        assert totals == {
            "results": 7111,
            "encounters": 1249,
            "procedures": 605,
            "conditions": 471,
            "medications": 304,
            "care_plans": 171,
            "transitions": 151,
            "goals": 82,
            "allergies": 32,
        }

    def test_skipped_types(self) -> None:
        """Claims, EOBs, immunisations and imaging studies are counted as skipped."""
        counts = synthea().counts

        assert counts["Claim"].skipped == 1704
        assert counts["ExplanationOfBenefit"].skipped == 1400
        assert counts["Immunization"].skipped == 877
        assert counts["ImagingStudy"].skipped == 32
        assert all(
            c.skipped == 0
            for k, c in counts.items()
            if k not in {"Claim", "ExplanationOfBenefit", "Immunization", "ImagingStudy"}
        )

    def test_parties_travel_with_records(self) -> None:
        """Every practitioner and organisation a record refers to travels with it."""
        for record in synthea().records:
            known = {("Practitioner", p.id) for p in record.practitioners} | {
                ("Organization", o.id) for o in record.organizations
            }
            referred = {(t.facility.type, t.facility.id) for t in record.transitions if t.facility}
            assert referred <= known
