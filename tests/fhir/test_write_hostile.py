"""The writer takes whatever the reader (or a caller) put in a record: only carecoord errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from carecoord import fhir
from carecoord.domain import HumanName, LinkKind, PatientId, PatientLink
from carecoord.errors import UsageError
from carecoord.fhir import FhirExportError
from carecoord.fhir._write_base import full_url
from carecoord.fhir._write_gaps import detected_issue_id
from carecoord.rules import task_id_for
from carecoord.testing import AS_OF, make_condition, make_patient, make_record

LONE = "\ud800"


class TestLoneSurrogates:
    """Strings UTF-8 cannot hold (a lone surrogate) never raise UnicodeEncodeError."""

    def record(self) -> object:
        """A record whose patient id, name and fact id hold a lone surrogate."""
        patient = make_patient(
            id=PatientId(f"p{LONE}"), names=(HumanName(family=f"Sm{LONE}th", given=("A",)),)
        )
        return make_record(
            patient=patient, conditions=(make_condition(id=f"c{LONE}", patient=patient.id),)
        )

    def test_bundle_and_ndjson_are_written(self) -> None:
        """Both forms are written; the NDJSON text encodes as UTF-8 (escapes in its lines)."""
        record = self.record()

        bundle = fhir.write_bundle([record])  # type: ignore[list-item]
        text = fhir.write_ndjson([record])  # type: ignore[list-item]

        assert bundle["entry"]
        text.encode("utf-8")
        assert "\\ud800" in text
        lines = [json.loads(line) for line in text.splitlines()]
        assert any(line.get("resourceType") == "Condition" for line in lines)

    def test_full_urls_are_uuid5_for_ordinary_text(self) -> None:
        """The fullUrl is still uuid5 of carecoord's namespace for text UTF-8 can hold."""
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://carecoord.example/fhir")

        assert full_url("s", "Patient", "ü1") == f"urn:uuid:{uuid.uuid5(namespace, 's|Patient|ü1')}"
        assert full_url("s", "Patient", LONE).startswith("urn:uuid:")

    def test_gap_ids_agree_with_task_ids(self) -> None:
        """A DetectedIssue and its suggested task share an id, for any key."""
        for key in ("rule|p1|focus", f"rule|p{LONE}|focus"):
            assert detected_issue_id(key) == task_id_for(key)


class TestLinks:
    """A patient link that names no patient cannot be written, and is never read."""

    def test_blank_link_is_an_export_error(self) -> None:
        """A hand-built link with a blank id is a FhirExportError, not a ValidationError."""
        patient = make_patient(links=(PatientLink(LinkKind.SAME_PERSON, PatientId(" ")),))

        with pytest.raises(FhirExportError, match="link"):
            fhir.write_bundle([make_record(patient=patient)])

    @pytest.mark.parametrize("rejected", [" ", "\u2003"])
    def test_link_to_a_rejected_patient_is_dropped(self, rejected: str) -> None:
        """The reader drops a link to a Patient it rejected, so what it read can be written."""
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "fullUrl": "urn:uuid:1",
                    "resource": {
                        "resourceType": "Patient",
                        "id": "p1",
                        "link": [{"other": {"reference": "urn:uuid:2"}, "type": "seealso"}],
                    },
                },
                {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Patient", "id": rejected}},
            ],
        }

        result = fhir.read(bundle)

        [record] = result.records
        assert record.patient.links == ()
        assert "invalid-value" in result.issue_codes()
        assert fhir.write_bundle(result.records)["entry"]


class TestMisuse:
    """Writer arguments of the wrong type are a UsageError, never an AttributeError."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda: fhir.write_bundle(None),  # type: ignore[arg-type]
            lambda: fhir.write_bundle([42]),  # type: ignore[list-item]
            lambda: fhir.write_bundle("records"),  # type: ignore[arg-type]
            lambda: fhir.write_bundle([make_record()], gaps=[42]),  # type: ignore[list-item]
            lambda: fhir.write_ndjson([{"resourceType": "Patient"}]),  # type: ignore[list-item]
            lambda: fhir.to_resources(None),  # type: ignore[arg-type]
            lambda: fhir.gap_to_detected_issue(None, patient_ref="Patient/p1"),  # type: ignore[arg-type]
            lambda: fhir.write_gaps_bundle([42], [], timestamp=AS_OF),  # type: ignore[list-item]
            lambda: fhir.write_gaps_bundle([], [42], timestamp=AS_OF),  # type: ignore[list-item]
            lambda: fhir.write_gaps_bundle([], [], timestamp="2026-01-01"),  # type: ignore[arg-type]
            lambda: fhir.summarize_issues([42]),  # type: ignore[list-item]
        ],
    )
    def test_wrong_types(self, call: Any) -> None:
        """Each raises UsageError (a TypeError), naming the argument and the type given."""
        pattern = r"^(\w+\(\) )?\w+(\[\d+\])?:? (must be|is|expected) (an?|None) "
        with pytest.raises(UsageError, match=pattern) as raised:
            call()
        assert isinstance(raised.value, TypeError)
