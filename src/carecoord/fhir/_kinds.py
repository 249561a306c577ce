"""The FHIR adapter's part of every fact kind: the resources it is read from and written as.

One :class:`FhirKind` per kind of the core registry (:data:`carecoord.domain.FACT_KINDS`),
in a :class:`~carecoord.domain.KindTable` that refuses to be built with a kind missing.
Each entry says which FHIR resource types the reader maps to facts of the kind, how the
writer turns a record's facts of the kind into resources, and (for kinds whose resource
has no author element) the times a Provenance for the author is dated by.

Every writer here is independent of the others and of their order: where two kinds share
resources (a social need stated on the Condition of the same id; a referral's fulfilment
Task next to coordination Tasks and activities), each writer looks at the record itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from carecoord.domain import (
    KindTable,
    Medication,
    MedicationKind,
    PatientRecord,
    Ref,
    SocialNeed,
    fact_kind,
)
from carecoord.fhir._write_base import Json, WriteContext, generated_id
from carecoord.fhir._write_care import (
    write_activity,
    write_care_plan,
    write_care_team,
    write_communication,
    write_consent,
    write_enrollment,
    write_goal,
    write_reconciliation,
)
from carecoord.fhir._write_clinical import (
    merge_social_need,
    write_allergy,
    write_condition,
    write_encounter,
    write_medication,
    write_procedure,
    write_provenance,
    write_result,
    write_social_need,
    write_transition,
)
from carecoord.fhir._write_documents import write_document
from carecoord.fhir._write_requests import (
    write_appointment,
    write_order,
    write_referral,
    write_task,
)

__all__ = ["FHIR_KINDS", "FhirKind", "fact_reference_type", "kind_provenances", "kind_resources"]

_Times = Callable[[Any], tuple[dt.datetime | None, ...]]


@attrs.frozen
class FhirKind:
    """How one fact kind travels in FHIR R4.

    ``read_from`` lists the resource types the reader maps to facts of this kind;
    ``write`` returns every resource for a record's facts of the kind; ``provenance``,
    for kinds whose resource has no author element, returns the times (first known
    first) a Provenance for the fact's author is dated by, or ``None`` when the fact's
    own resource carries its author.
    """

    read_from: tuple[str, ...]
    write: Callable[[WriteContext, PatientRecord], list[Json]]
    provenance: _Times | None = None


def _each(
    field: str, writer: Callable[[WriteContext, Any], Json]
) -> Callable[[WriteContext, PatientRecord], list[Json]]:
    """A kind writer that writes each fact of ``field`` as one resource."""

    def write(ctx: WriteContext, record: PatientRecord) -> list[Json]:
        return [writer(ctx, fact) for fact in getattr(record, field)]

    return write


def _referrals(ctx: WriteContext, record: PatientRecord) -> list[Json]:
    """Each referral's ServiceRequest and fulfilment Task.

    A fulfilment Task whose id a coordination task, an activity or an earlier fulfilment
    Task has gets a stand-in id.
    """
    taken = {t.id for t in record.tasks} | {a.id for a in record.activities}
    found: list[Json] = []
    for referral in record.referrals:
        resources = write_referral(ctx, referral)
        for resource in resources:
            if resource["resourceType"] != "Task":
                continue
            if resource["id"] in taken:
                resource["id"] = generated_id("fulfilment", referral.id)
            taken.add(resource["id"])
        found.extend(resources)
    return found


def _conditions(ctx: WriteContext, record: PatientRecord) -> list[Json]:
    """Each condition; a social need with the condition's id is stated on it."""
    needs: dict[str, SocialNeed] = {n.id: n for n in record.social_needs}
    found: list[Json] = []
    for condition in record.conditions:
        resource = write_condition(ctx, condition)
        need = needs.get(condition.id)
        if need is not None:
            merge_social_need(ctx, resource, need, condition)
        found.append(resource)
    return found


def _social_needs(ctx: WriteContext, record: PatientRecord) -> list[Json]:
    """Social needs with no condition of the same id (those are written with it)."""
    conditions: set[str] = {c.id for c in record.conditions}
    return [write_social_need(ctx, n) for n in record.social_needs if n.id not in conditions]


def _statement_times(medication: Medication) -> tuple[dt.datetime | None, ...]:
    if medication.kind is not MedicationKind.STATEMENT:
        return ()  # a request carries its author (requester) itself
    return (medication.authored_on, medication.period.start, medication.period.end)


FHIR_KINDS: KindTable[FhirKind] = KindTable(
    "fhir",
    {
        "care_teams": FhirKind(("CareTeam",), _each("care_teams", write_care_team)),
        "referrals": FhirKind(("ServiceRequest", "Task"), _referrals),
        "transitions": FhirKind(("Encounter",), _each("transitions", write_transition)),
        "tasks": FhirKind(("Task",), _each("tasks", write_task)),
        "encounters": FhirKind(
            ("Encounter",),
            _each("encounters", write_encounter),
            lambda f: (f.period.start,),
        ),
        "conditions": FhirKind(("Condition",), _conditions),
        "medications": FhirKind(
            ("MedicationRequest", "MedicationStatement"),
            _each("medications", write_medication),
            _statement_times,
        ),
        "allergies": FhirKind(("AllergyIntolerance",), _each("allergies", write_allergy)),
        "orders": FhirKind(
            ("ServiceRequest",), _each("orders", write_order), lambda f: (f.authored_on,)
        ),
        "results": FhirKind(
            ("Observation", "DiagnosticReport"),
            _each("results", write_result),
            lambda f: (f.issued,),
        ),
        "appointments": FhirKind(
            ("Appointment",),
            _each("appointments", write_appointment),
            lambda f: (f.booked_at, f.start),
        ),
        "care_plans": FhirKind(("CarePlan",), _each("care_plans", write_care_plan)),
        "goals": FhirKind(("Goal",), _each("goals", write_goal)),
        "social_needs": FhirKind(("Condition",), _social_needs),
        "communications": FhirKind(
            ("Communication",),
            _each("communications", write_communication),
            lambda f: (f.sent,),
        ),
        "documents": FhirKind(
            ("DocumentReference", "Composition"), _each("documents", write_document)
        ),
        "consents": FhirKind(("Consent",), _each("consents", write_consent)),
        "reconciliations": FhirKind(("List",), _each("reconciliations", write_reconciliation)),
        "procedures": FhirKind(("Procedure",), _each("procedures", write_procedure)),
        "enrollments": FhirKind(("EpisodeOfCare",), _each("enrollments", write_enrollment)),
        "activities": FhirKind(("Task",), _each("activities", write_activity)),
    },
)
"""For each fact kind, the FHIR resource types it is read from and how it is written."""


def kind_resources(ctx: WriteContext, record: PatientRecord) -> list[Json]:
    """Every fact resource of ``record``, kind by kind in registry order."""
    found: list[Json] = []
    for name, part in FHIR_KINDS.items():
        if getattr(record, name):
            found.extend(part.write(ctx, record))
    return found


def kind_provenances(ctx: WriteContext, record: PatientRecord) -> list[Json]:
    """A Provenance for each authored fact whose own resource has no author element.

    ``recorded`` is when the source recorded the fact, else its first known time; a fact
    with no time at all has its ``recorded`` stated absent (data-absent-reason).
    """
    found: list[Json] = []
    for name, part in FHIR_KINDS.items():
        if part.provenance is None:
            continue
        model = fact_reference_type(name)
        for fact in getattr(record, name):
            author = getattr(fact, "author", None)
            if author is None:
                continue
            times = part.provenance(fact)
            if not times:
                continue
            recorded = next((t for t in (fact.recorded_at, *times) if t is not None), None)
            found.append(write_provenance(ctx, Ref(model, fact.id), author, recorded))
    return found


def fact_reference_type(name: str) -> str:
    """The model type a :class:`~carecoord.domain.Ref` to a fact of kind ``name`` names."""
    return fact_kind(name).model.__name__
