"""Documents in FHIR: DocumentReference and Composition read as ``Document`` facts, and written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord import fhir
from carecoord.domain import (
    Code,
    CompositionStatus,
    DocumentStatus,
    Period,
    Ref,
    Sensitivity,
    System,
)
from carecoord.fhir import IssueCode
from carecoord.fhir._write import to_resources
from carecoord.testing import make_document, make_record, make_transition

from .test_read_fixtures import (
    SUBJECT,
    bundle,
    only_record,
    patient,
    read_bundle,
    ref,
    when,
)
from .test_read_requests import request

LOINC = System.LOINC
DISCHARGE = {"system": LOINC, "code": "18842-5", "display": "Discharge summary"}
CONSULT = {"system": LOINC, "code": "11488-4", "display": "Consult note"}


def stay_encounter() -> dict[str, Any]:
    """A finished inpatient stay ``e1``."""
    return {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": SUBJECT,
        "period": {"start": when(6), "end": when(3)},
    }


def document_reference(**extra: Any) -> dict[str, Any]:
    """A US Core (R4) discharge summary of stay ``e1`` by the hospital."""
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [DISCHARGE], "text": "Discharge summary"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "code": "clinical-note",
                    }
                ]
            }
        ],
        "subject": SUBJECT,
        "date": when(2.5),
        "author": [ref("Organization", "hospital-1")],
        "custodian": ref("Organization", "hospital-1"),
        "description": "Discharge summary of the stay",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": "U3ludGhldGljIHN1bW1hcnku",
                    "title": "Summary",
                }
            }
        ],
        "context": {
            "encounter": [ref("Encounter", "e1")],
            "period": {"start": when(6), "end": when(3)},
        },
    }
    resource.update(extra)
    return resource


def composition(**extra: Any) -> dict[str, Any]:
    """A consult-note Composition (the first entry of a FHIR document)."""
    resource: dict[str, Any] = {
        "resourceType": "Composition",
        "id": "comp-1",
        "status": "final",
        "type": {"coding": [CONSULT]},
        "subject": SUBJECT,
        "date": when(1),
        "author": [ref("Practitioner", "cardio-1")],
        "title": "Consultation note",
        "encounter": ref("Encounter", "e1"),
        "section": [{"title": "Findings", "text": {"status": "generated", "div": "<div/>"}}],
    }
    resource.update(extra)
    return resource


class TestDocumentReference:
    """A DocumentReference is a document fact: type, status, dates, parties, context."""

    def test_us_core_discharge_summary(self) -> None:
        """Every element the model keeps is read; the stay is the context."""
        record = only_record(stay_encounter(), document_reference())
        [document] = record.documents
        assert document.types == (Code(LOINC, "18842-5"),)
        assert document.types[0].display == "Discharge summary"
        assert document.status is DocumentStatus.CURRENT
        assert document.doc_status is CompositionStatus.FINAL
        assert [c.code for c in document.categories] == ["clinical-note"]
        assert document.date is not None
        assert document.author == Ref("Organization", "hospital-1")
        assert document.custodian == Ref("Organization", "hospital-1")
        assert document.context == (Ref("CareTransition", "e1"),)
        assert document.period.start is not None
        assert document.period.end is not None
        assert document.description == "Discharge summary of the stay"

    def test_no_content_is_kept(self) -> None:
        """The attachment's bytes are never read; the description is masked in repr."""
        [document] = only_record(document_reference()).documents
        assert "U3ludGhl" not in repr(document)
        assert "Discharge summary of" not in repr(document)
        assert "<masked>" in repr(document)

    def test_related_referral_and_entered_in_error(self) -> None:
        """``context.related`` names a referral; ``entered-in-error`` is kept as a status."""
        resource = document_reference(
            status="entered-in-error",
            context={"related": [ref("ServiceRequest", "sr1")]},
        )
        record = only_record(request(), resource)
        [document] = record.documents
        assert document.context == (Ref("Referral", "sr1"),)
        assert document.entered_in_error

    def test_security_labels_are_sensitivity(self) -> None:
        """``securityLabel`` and ``meta.security`` both label the document."""
        label = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSYTHPN"}
        resource = document_reference(
            securityLabel=[{"coding": [label]}],
            meta={"security": [{**label, "code": "PSY"}]},
        )
        [document] = only_record(resource).documents
        assert document.sensitivity == {
            Sensitivity.PSYCHOTHERAPY_NOTE,
            Sensitivity.MENTAL_HEALTH,
        }

    def test_text_only_type_and_fallbacks(self) -> None:
        """A type with only text is a text code; the attachment stands in for the rest.

        Without a date or a description, the attachment's creation and title are used.
        """
        resource = document_reference(
            type={"text": "Letter"},
            date=None,
            description=None,
            content=[{"attachment": {"creation": "2026-02-01", "title": "Letter to GP"}}],
        )
        del resource["date"], resource["description"]
        [document] = only_record(resource).documents
        assert document.types[0].code == "Letter"
        assert document.date == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
        assert document.description == "Letter to GP"

    def test_unknown_status_is_a_warning(self) -> None:
        """An unknown status reads as current, with an ``unknown-code`` warning."""
        result = read_bundle(document_reference(status="archived"))
        [document] = result.records[0].documents
        assert document.status is DocumentStatus.CURRENT
        found = [i.code for i in result.issues if i.code is not IssueCode.DANGLING_REFERENCE]
        assert found == [IssueCode.UNKNOWN_CODE]

    def test_without_a_patient_it_is_skipped(self) -> None:
        """A document about no patient is skipped (``missing-subject``)."""
        resource = document_reference()
        del resource["subject"]
        result = read_bundle(resource)
        assert not result.records[0].documents
        assert result.counts["DocumentReference"].skipped == 1
        assert [i.code for i in result.issues] == [IssueCode.MISSING_SUBJECT]

    def test_r5_shape(self) -> None:
        """R5: ``context`` is a list of references, ``period`` and ``basedOn`` top level."""
        resource = document_reference(
            context=[ref("Encounter", "e1")],
            basedOn=[ref("ServiceRequest", "sr1")],
            period={"start": when(6), "end": when(3)},
        )
        record = only_record(stay_encounter(), request(), resource)
        [document] = record.documents
        assert document.context == (Ref("CareTransition", "e1"), Ref("Referral", "sr1"))
        assert document.period.end is not None


class TestComposition:
    """A Composition (a FHIR document's first entry) is a document too."""

    def test_composition(self) -> None:
        """Type, status (as the document's doc status), date, author, title, encounter."""
        [document] = only_record(stay_encounter(), composition()).documents
        assert document.types == (Code(LOINC, "11488-4"),)
        assert document.status is DocumentStatus.CURRENT
        assert document.doc_status is CompositionStatus.FINAL
        assert document.author == Ref("Practitioner", "cardio-1")
        assert document.description == "Consultation note"
        assert document.context == (Ref("CareTransition", "e1"),)

    def test_entered_in_error_composition(self) -> None:
        """A Composition entered in error is a document entered in error."""
        [document] = only_record(composition(status="entered-in-error")).documents
        assert document.status is DocumentStatus.ENTERED_IN_ERROR

    def test_r5_subject_list_and_status(self) -> None:
        """R5: ``subject`` is a list (the first is the patient); ``partial`` is preliminary."""
        resource = composition(subject=[SUBJECT], status="partial")
        [document] = only_record(resource).documents
        assert document.doc_status is CompositionStatus.PRELIMINARY

    def test_fhir_document_bundle(self) -> None:
        """A Bundle of type ``document``: the Composition is a document, the rest facts."""
        observation = {
            "resourceType": "Observation",
            "id": "o1",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
            "subject": SUBJECT,
            "issued": when(1),
        }
        document = bundle(composition(), patient(), observation, kind="document")
        result = fhir.read(document)
        [record] = result.records
        assert [d.id for d in record.documents] == ["comp-1"]
        assert [r.id for r in record.results] == ["o1"]
        assert result.counts["Composition"].mapped == 1


class TestWriting:
    """A document is written as a DocumentReference and read back the same."""

    def test_written_as_a_document_reference(self) -> None:
        """Status, type, date, author, custodian, context; the content stated absent."""
        record = make_record(
            documents=(
                make_document(context=(Ref("CareTransition", "stay-1"), Ref("Referral", "r1"))),
            )
        )
        [written] = [r for r in to_resources(record) if r["resourceType"] == "DocumentReference"]
        assert written["status"] == "current"
        assert written["type"]["coding"][0]["code"] == "18842-5"
        assert written["author"] == [{"reference": "Organization/hospital-1"}]
        assert written["context"]["encounter"] == [{"reference": "Encounter/stay-1"}]
        assert written["context"]["related"] == [{"reference": "ServiceRequest/r1"}]
        [content] = written["content"]
        assert content["attachment"]["extension"][0]["valueCode"] == "unsupported"

    def test_round_trip(self) -> None:
        """A document written and read back is the same document."""
        document = make_document(
            doc_status=CompositionStatus.AMENDED,
            period=Period(
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 4, tzinfo=dt.UTC)
            ),
            description="Summary",
            sensitivity=frozenset({Sensitivity.HIV}),
        )
        record = make_record(documents=(document,), transitions=(make_transition(),))
        [again] = fhir.read(fhir.write_bundle([record])).records
        assert again.documents == record.documents
