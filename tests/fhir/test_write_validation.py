"""Third-party validation: what the writer writes parses with ``fhir.resources`` (R4B models).

``fhir.resources`` (pydantic models of every FHIR resource) checks structure: element
names and types, cardinalities and required elements, choice types, id and string
patterns. It does not check value sets or invariants. It is a test-only tool; these
tests are skipped, with the reason, when it is not installed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings

from carecoord.domain import Ref
from carecoord.fhir._write import gap_to_detected_issue, write_bundle, write_ndjson
from carecoord.fhir._write_gaps import (
    DEQM_DETECTED_ISSUE_PROFILE,
    DEQM_GAP_STATUS_EXTENSION,
    DEQM_GAP_STATUS_SYSTEM,
)
from carecoord.profile import profile_from_record
from carecoord.rules import Evidence, EvidenceRole, Gap, GapStatus, Severity, detect_gaps
from carecoord.testing import AS_OF, days_before
from carecoord.testing.strategies import patient_records

from ._shared import shared_data_dir
from .test_write_roundtrip import full_record

bundle_models = pytest.importorskip(
    "fhir.resources.R4B.bundle",
    reason="fhir.resources is not importable (pip install fhir.resources: a test-only tool)",
    exc_type=ImportError,
)
r4b = pytest.importorskip("fhir.resources.R4B")
DetectedIssue = pytest.importorskip("fhir.resources.R4B.detectedissue").DetectedIssue
Bundle = bundle_models.Bundle


def validate(resource: dict[str, Any]) -> None:
    """Parse ``resource`` with its ``fhir.resources`` R4B model (raises when invalid)."""
    r4b.get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def gap(status: GapStatus) -> Gap:
    """A referral gap of ``status`` (closed ones with a closing time)."""
    return Gap(
        rule="referral.unscheduled",
        patient="clinic-ehr/patient-1",
        status=status,
        severity=Severity.MEDIUM,
        due=dt.date(2026, 3, 1),
        opened=days_before(5),
        focus="clinic-ehr/referral-1",
        summary="Referral sent 5 days ago: no appointment booked.",
        action="Book the visit.",
        evidence=(Evidence(EvidenceRole.TRIGGER, Ref("Referral", "clinic-ehr/referral-1")),),
        closed_at=days_before(1) if status is GapStatus.CLOSED else None,
        reason="hospice" if status is GapStatus.NOT_APPLICABLE else None,
    )


class TestBundlesValidate:
    """Bundles of builder and generated records are valid R4B Bundles."""

    def test_builder_collection_validates(self) -> None:
        """The full builder record's collection Bundle parses."""
        Bundle.model_validate(write_bundle([full_record()]))

    def test_builder_transaction_validates(self) -> None:
        """The same record as a transaction Bundle parses."""
        Bundle.model_validate(write_bundle([full_record()], bundle_type="transaction"))

    def test_bundle_with_gaps_validates(self) -> None:
        """A Bundle with the record's DetectedIssues parses."""
        record = full_record()
        report = detect_gaps(profile_from_record(record), as_of=AS_OF, include_closed=True)

        Bundle.model_validate(write_bundle([record], gaps=report))

    @settings(max_examples=10)
    @given(patient_records())
    def test_generated_bundles_validate(self, record: Any) -> None:
        """Bundles of generated records parse."""
        Bundle.model_validate(write_bundle([record]))

    def test_ndjson_lines_validate(self) -> None:
        """Every NDJSON line parses as its resource type."""
        for line in write_ndjson([full_record()]).splitlines():
            validate(json.loads(line))


class TestDetectedIssuesValidate:
    """Each gap status gives a valid DetectedIssue, shaped like the DEQM examples."""

    @pytest.mark.parametrize("status", list(GapStatus))
    def test_detected_issue_validates(self, status: GapStatus) -> None:
        """The DetectedIssue of a gap of ``status`` parses."""
        DetectedIssue.model_validate(gap_to_detected_issue(gap(status), patient_ref="Patient/p1"))

    def test_urls_are_those_of_the_deqm_examples(self) -> None:
        """Profile, gap-status extension and code system match the DEQM IG's own examples."""
        folder = shared_data_dir("davinci-deqm")
        example = json.loads((folder / "DetectedIssue-gaps-detectedissue01.json").read_text())

        status = example["modifierExtension"][0]

        assert (
            example["meta"]["profile"][0],
            status["url"],
            status["valueCodeableConcept"]["coding"][0]["system"],
        ) == (DEQM_DETECTED_ISSUE_PROFILE, DEQM_GAP_STATUS_EXTENSION, DEQM_GAP_STATUS_SYSTEM)
