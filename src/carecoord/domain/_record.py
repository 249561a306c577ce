"""PatientRecord: everything one source says about one patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import Enum
from typing import Any

import attrs

from carecoord.display import clip, counts
from carecoord.domain._activity import CoordinationActivity
from carecoord.domain._clinical import (
    Allergy,
    Appointment,
    CarePlan,
    Communication,
    Condition,
    Consent,
    Encounter,
    Enrollment,
    Goal,
    Medication,
    Order,
    Procedure,
    Reconciliation,
    Result,
    SocialNeed,
)
from carecoord.domain._document import Document
from carecoord.domain._kinds import FACT_FIELDS, check_fact_fields
from carecoord.domain._parties import Organization, Patient, Practitioner, RelatedPerson
from carecoord.domain._referral import Referral
from carecoord.domain._task import Task
from carecoord.domain._team import CareTeam
from carecoord.domain._transition import CareTransition
from carecoord.domain._values import (
    choice,
    is_tuple,
    non_empty,
    optional_aware,
)
from carecoord.errors import Problem, ValidationError

__all__ = ["PatientRecord", "Source", "SourceKind"]


class SourceKind(Enum):
    """What kind of system a record comes from."""

    EHR = "ehr"
    HIE = "hie"
    CLAIMS = "claims"
    PHARMACY = "pharmacy"
    LAB = "lab"
    COMMUNITY = "community"
    PATIENT = "patient"
    CARE_MANAGEMENT = "care-management"
    OTHER = "other"


@attrs.frozen
class Source:
    """Where a record came from: a stable id, a display name, a kind, a retrieval time.

    ``id`` is stable across imports (for example the sending system's URL or facility code).
    """

    id: str = attrs.field(validator=non_empty)
    name: str | None = None
    kind: SourceKind = attrs.field(default=SourceKind.EHR, validator=choice(SourceKind))
    retrieved_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)


@attrs.frozen(repr=False)
class PatientRecord:
    """One source's facts about one patient: the unit importers produce and stores keep.

    Every fact must name this record's patient; ids must be unique within each kind.
    Practitioners and organisations the facts refer to travel with the record, and so do
    the patient's related persons (``related_persons``: relatives, guardians, agents;
    each names this record's patient, ids unique).
    """

    source: Source
    patient: Patient
    practitioners: tuple[Practitioner, ...] = attrs.field(default=(), validator=is_tuple)
    organizations: tuple[Organization, ...] = attrs.field(default=(), validator=is_tuple)
    related_persons: tuple[RelatedPerson, ...] = attrs.field(default=(), validator=is_tuple)
    care_teams: tuple[CareTeam, ...] = attrs.field(default=(), validator=is_tuple)
    referrals: tuple[Referral, ...] = attrs.field(default=(), validator=is_tuple)
    transitions: tuple[CareTransition, ...] = attrs.field(default=(), validator=is_tuple)
    tasks: tuple[Task, ...] = attrs.field(default=(), validator=is_tuple)
    encounters: tuple[Encounter, ...] = attrs.field(default=(), validator=is_tuple)
    conditions: tuple[Condition, ...] = attrs.field(default=(), validator=is_tuple)
    medications: tuple[Medication, ...] = attrs.field(default=(), validator=is_tuple)
    allergies: tuple[Allergy, ...] = attrs.field(default=(), validator=is_tuple)
    orders: tuple[Order, ...] = attrs.field(default=(), validator=is_tuple)
    results: tuple[Result, ...] = attrs.field(default=(), validator=is_tuple)
    appointments: tuple[Appointment, ...] = attrs.field(default=(), validator=is_tuple)
    care_plans: tuple[CarePlan, ...] = attrs.field(default=(), validator=is_tuple)
    goals: tuple[Goal, ...] = attrs.field(default=(), validator=is_tuple)
    social_needs: tuple[SocialNeed, ...] = attrs.field(default=(), validator=is_tuple)
    communications: tuple[Communication, ...] = attrs.field(default=(), validator=is_tuple)
    documents: tuple[Document, ...] = attrs.field(default=(), validator=is_tuple)
    consents: tuple[Consent, ...] = attrs.field(default=(), validator=is_tuple)
    reconciliations: tuple[Reconciliation, ...] = attrs.field(default=(), validator=is_tuple)
    procedures: tuple[Procedure, ...] = attrs.field(default=(), validator=is_tuple)
    enrollments: tuple[Enrollment, ...] = attrs.field(default=(), validator=is_tuple)
    activities: tuple[CoordinationActivity, ...] = attrs.field(default=(), validator=is_tuple)

    def __repr__(self) -> str:
        facts = counts(self, FACT_FIELDS) or "no facts"
        return clip(
            f"PatientRecord(source={self.source.id!r}, patient={self.patient.id!r}, {facts})"
        )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("related_persons", *FACT_FIELDS):
            seen: set[str] = set()
            for index, fact in enumerate(getattr(self, name)):
                if fact.patient != self.patient.id:
                    problems.append(
                        Problem(f"{name}[{index}].patient", "names another patient than the record")
                    )
                if fact.id in seen:
                    problems.append(Problem(f"{name}[{index}].id", "duplicate id in this record"))
                seen.add(fact.id)
        if problems:
            raise ValidationError(problems, what="PatientRecord")

    @property
    def key(self) -> tuple[str, str]:
        """``(source id, patient id)``: unique per record."""
        return (self.source.id, self.patient.id)

    def facts(self) -> Iterator[tuple[str, Any]]:
        """Every fact as ``(kind name, fact)``, in :data:`FACT_KINDS` order."""
        for name in FACT_FIELDS:
            for fact in getattr(self, name):
                yield name, fact

    def fact_count(self) -> int:
        """How many facts the record holds."""
        return sum(len(getattr(self, name)) for name in FACT_FIELDS)

    def with_facts(self, **facts: Any) -> PatientRecord:
        """Return a copy with the named fact tuples extended by the given facts."""
        unknown = sorted(set(facts) - set(FACT_FIELDS))
        if unknown:
            raise ValidationError([Problem(name, "not a fact field") for name in unknown])
        changes: dict[str, Any] = {
            name: (*getattr(self, name), *extra) for name, extra in facts.items()
        }
        return attrs.evolve(self, **changes)


check_fact_fields(PatientRecord)
