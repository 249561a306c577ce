"""FHIR R5 input: read as R5 means it where carecoord knows the R5 form, else an issue.

R5 moved meanings to new elements: a MedicationStatement's "taking or not" to
``adherence``, a CarePlan's activities to ``plannedActivityReference`` and
``performedActivity``, the author of a Condition or an AllergyIntolerance to
``participant``, a Goal's to ``source``, an Encounter's reasons under ``reason.value``, a
Communication's text to ``payload.contentCodeableConcept``, a request's code into a
CodeableReference. Read as R4 alone, these are lost or misread silently; each is read
here, and what cannot be read as R5 means it is an ``r5-content`` (or the usual) issue.
"""

from __future__ import annotations

from typing import Any

import pytest

from carecoord.domain import Code, MedicationStatus, Ref, System
from carecoord.errors import IssueSeverity
from carecoord.fhir import IssueCode

from .test_read_fixtures import SUBJECT, only_record, read_bundle, ref, when

SNOMED = System.SNOMED
RXNORM = System.RXNORM
ADHERENCE = "http://hl7.org/fhir/CodeSystem/medication-statement-adherence"


def statement(**extra: Any) -> dict[str, Any]:
    """An R5 MedicationStatement (status ``recorded``) for metformin."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "recorded",
        "medication": {"concept": {"coding": [{"system": RXNORM, "code": "860975"}]}},
        "subject": SUBJECT,
        "effectiveDateTime": when(10),
        "dateAsserted": when(9),
    }
    resource.update(extra)
    return resource


def adherence(code: str) -> dict[str, Any]:
    """An R5 ``adherence`` element with ``code``."""
    return {"code": {"coding": [{"system": ADHERENCE, "code": code}]}}


def codes(issues: Any) -> list[IssueCode]:
    """The issue codes, other than dangling references to resources not in the input."""
    return [i.code for i in issues if i.code is not IssueCode.DANGLING_REFERENCE]


class TestMedicationStatementAdherence:
    """R5 says whether the patient takes it in ``adherence``, not in ``status``."""

    @pytest.mark.parametrize(
        ("code", "status"),
        [
            ("taking", MedicationStatus.ACTIVE),
            ("taking-not-as-directed", MedicationStatus.ACTIVE),
            ("not-taking", MedicationStatus.NOT_TAKEN),
            ("on-hold-as-directed", MedicationStatus.ON_HOLD),
            ("stopped", MedicationStatus.STOPPED),
            ("unknown", MedicationStatus.UNKNOWN),
        ],
    )
    def test_adherence_is_the_status(self, code: str, status: MedicationStatus) -> None:
        """``recorded`` + ``not-taking`` is not taken (it read as active)."""
        result = read_bundle(statement(adherence=adherence(code)))
        [medication] = result.records[0].medications
        assert medication.status is status
        assert not result.issues

    def test_recorded_without_adherence_is_reported(self) -> None:
        """Without an adherence, R5 says nothing of taking: active, with an r5-content warning."""
        result = read_bundle(statement())
        [medication] = result.records[0].medications
        assert medication.status is MedicationStatus.ACTIVE
        [issue] = result.issues
        assert issue.code is IssueCode.R5_CONTENT
        assert issue.severity is IssueSeverity.WARNING
        assert issue.path.endswith(".resource.status")

    def test_unknown_adherence_code(self) -> None:
        """An adherence code carecoord does not know keeps the status, with a warning."""
        result = read_bundle(statement(adherence=adherence("sometimes")))
        assert result.records[0].medications[0].status is MedicationStatus.ACTIVE
        assert codes(result.issues) == [IssueCode.UNKNOWN_CODE]

    def test_entered_in_error_wins(self) -> None:
        """A statement entered in error stays so, whatever its adherence."""
        resource = statement(status="entered-in-error", adherence=adherence("taking"))
        [medication] = only_record(resource).medications
        assert medication.status is MedicationStatus.ENTERED_IN_ERROR

    def test_r4_statement_is_unchanged(self) -> None:
        """An R4 statement (``status`` ``not-taken``, no adherence): as before, no issue."""
        resource = statement(status="not-taken")
        result = read_bundle(resource)
        assert result.records[0].medications[0].status is MedicationStatus.NOT_TAKEN
        assert not result.issues


def service_request(ident: str, code: str, **extra: Any) -> dict[str, Any]:
    """An R5 ServiceRequest whose ``code`` is a CodeableReference."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": ident,
        "status": "active",
        "intent": "plan",
        "subject": SUBJECT,
        "authoredOn": when(20),
        "code": {"concept": {"coding": [{"system": SNOMED, "code": code}]}},
    }
    resource.update(extra)
    return resource


def care_plan(*activities: dict[str, Any]) -> dict[str, Any]:
    """An R5 CarePlan with the given activities."""
    return {
        "resourceType": "CarePlan",
        "id": "cp1",
        "status": "active",
        "intent": "plan",
        "subject": SUBJECT,
        "activity": list(activities),
    }


class TestCarePlanActivities:
    """R5 activities are references (planned) and CodeableReferences (performed)."""

    def test_planned_activity_reference(self) -> None:
        """The referenced request's code (an R5 CodeableReference) and status are read."""
        planned = {"plannedActivityReference": ref("ServiceRequest", "walk")}
        record = only_record(service_request("walk", "229065009"), care_plan(planned))
        [activity] = record.care_plans[0].activities
        assert activity.code == Code(SNOMED, "229065009")
        assert activity.status == "active"

    def test_unresolvable_planned_activity_is_kept_and_reported(self) -> None:
        """A planned activity whose request is not in the input: kept, status unknown, reported."""
        planned = {"plannedActivityReference": ref("ServiceRequest", "absent")}
        result = read_bundle(care_plan(planned))
        [activity] = result.records[0].care_plans[0].activities
        assert activity.status == "unknown"
        assert activity.code is None
        [issue] = result.issues
        assert issue.code is IssueCode.DANGLING_REFERENCE
        assert issue.path.endswith("activity[0].plannedActivityReference")

    def test_display_only_planned_activity(self) -> None:
        """A display-only reference gives the description, with no issue."""
        planned = {"plannedActivityReference": {"display": "Prenatal vitamins"}}
        result = read_bundle(care_plan(planned))
        [activity] = result.records[0].care_plans[0].activities
        assert activity.description == "Prenatal vitamins"
        assert not result.issues

    def test_performed_activity(self) -> None:
        """Each ``performedActivity`` is a completed activity: its concept, or its target's code."""
        procedure = {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "73761001"}]},
            "subject": SUBJECT,
            "occurrenceDateTime": when(3),
        }
        done = {
            "performedActivity": [
                {"concept": {"coding": [{"system": SNOMED, "code": "6397004"}]}},
                {"reference": ref("Procedure", "p1")},
            ]
        }
        record = only_record(procedure, care_plan(done))
        activities = record.care_plans[0].activities
        assert [(a.code.code if a.code else None, a.status) for a in activities] == [
            ("6397004", "completed"),
            ("73761001", "completed"),
        ]

    def test_r4_unresolvable_reference_is_kept_too(self) -> None:
        """The same for R4's ``activity.reference``: no more silent loss."""
        result = read_bundle(care_plan({"reference": ref("ServiceRequest", "absent")}))
        assert [a.status for a in result.records[0].care_plans[0].activities] == ["unknown"]
        assert [i.code for i in result.issues] == [IssueCode.DANGLING_REFERENCE]


class TestAuthorsAndTexts:
    """R5 renamed the elements that name a fact's author, and moved reasons and texts."""

    @pytest.mark.parametrize("kind", ["Condition", "AllergyIntolerance"])
    def test_participant_is_the_author(self, kind: str) -> None:
        """R5 ``participant``: an author (or enterer) participant, else the first, writes it."""
        resource: dict[str, Any] = {
            "resourceType": kind,
            "id": "x1",
            "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
            "participant": [
                {"function": {"coding": [{"code": "informant"}]}, "actor": ref("Patient", "p")},
                {"function": {"coding": [{"code": "author"}]}, "actor": ref("Practitioner", "a")},
            ],
        }
        resource["subject" if kind == "Condition" else "patient"] = SUBJECT
        record = only_record(resource)
        [fact] = record.conditions if kind == "Condition" else record.allergies
        assert fact.author == Ref("Practitioner", "a")

    def test_goal_source_is_the_author(self) -> None:
        """R5 Goal ``source`` (R4 ``expressedBy``) is the author."""
        goal = {
            "resourceType": "Goal",
            "id": "g1",
            "lifecycleStatus": "active",
            "description": {"text": "Walk daily"},
            "subject": SUBJECT,
            "source": ref("Practitioner", "pcp-1"),
        }
        [found] = only_record(goal).goals
        assert found.author == Ref("Practitioner", "pcp-1")

    def test_encounter_reason_value(self) -> None:
        """R5 Encounter ``reason[].value[]`` gives the visit's reasons."""
        visit = {
            "resourceType": "Encounter",
            "id": "v1",
            "status": "completed",
            "class": [{"coding": [{"code": "AMB"}]}],
            "subject": SUBJECT,
            "actualPeriod": {"start": when(3), "end": when(2.9)},
            "reason": [
                {
                    "use": [{"coding": [{"code": "RV"}]}],
                    "value": [{"concept": {"coding": [{"system": SNOMED, "code": "38341003"}]}}],
                }
            ],
        }
        [found] = only_record(visit).encounters
        assert found.reasons == (Code(SNOMED, "38341003"),)

    def test_communication_payload_concept_text(self) -> None:
        """R5 has no ``contentString``: a payload concept's text is the note."""
        message = {
            "resourceType": "Communication",
            "id": "c1",
            "status": "completed",
            "subject": SUBJECT,
            "sent": when(2),
            "payload": [{"contentCodeableConcept": {"text": "Please call back"}}],
        }
        [found] = only_record(message).communications
        assert found.note == "Please call back"

    def test_request_code_as_codeable_reference(self) -> None:
        """An R5 ServiceRequest coded "referral" (a CodeableReference) is a referral."""
        request = service_request(
            "sr1",
            "3457005",
            intent="order",
            requester=ref("Practitioner", "pcp-1"),
            performer=[ref("Practitioner", "cardio-1")],
        )
        record = only_record(request)
        assert [r.id for r in record.referrals] == ["sr1"]


class TestDeclaredR5:
    """A resource whose profile is an R5 profile is read, with an ``r5-content`` warning."""

    @pytest.mark.parametrize(
        "profile",
        [
            "http://hl7.org/fhir/StructureDefinition/Goal|5.0.0",
            "http://hl7.org/fhir/R5/StructureDefinition/Goal",
        ],
    )
    def test_r5_profile(self, profile: str) -> None:
        """Versioned ``|5.x`` or under ``/fhir/R5/``: one warning at ``meta.profile``."""
        goal = {
            "resourceType": "Goal",
            "id": "g1",
            "meta": {"profile": [profile]},
            "lifecycleStatus": "active",
            "description": {"text": "Walk daily"},
            "subject": SUBJECT,
        }
        result = read_bundle(goal)
        assert result.records[0].goals
        [issue] = result.issues
        assert issue.code is IssueCode.R5_CONTENT
        assert issue.path.endswith("meta.profile")

    def test_r4_profile_is_silent(self) -> None:
        """A US Core (R4) profile says nothing of R5."""
        goal = {
            "resourceType": "Goal",
            "id": "g1",
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-goal"]},
            "lifecycleStatus": "active",
            "description": {"text": "Walk daily"},
            "subject": SUBJECT,
        }
        assert not read_bundle(goal).issues
