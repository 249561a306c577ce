"""The unified profile's data model: facts with provenance, conflicts, the profile itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from carecoord.domain import (
    FACT_FIELDS,
    Allergy,
    Appointment,
    CarePlan,
    CareTeam,
    CareTransition,
    Communication,
    Condition,
    Consent,
    CoordinationActivity,
    Encounter,
    Enrollment,
    Goal,
    Medication,
    Order,
    Organization,
    Patient,
    PatientRecord,
    Practitioner,
    Procedure,
    Reconciliation,
    Ref,
    Referral,
    Result,
    SocialNeed,
    Task,
)
from carecoord.domain._kinds import check_fact_fields
from carecoord.domain._values import masked, optional_aware

if TYPE_CHECKING:
    from carecoord.profile._timeline import TimelineEvent
    from carecoord.profile._views import Viewer

__all__ = [
    "ConflictKind",
    "Fact",
    "FactConflict",
    "PatientProfile",
    "Provenance",
    "profile_from_record",
]

T = TypeVar("T")


@attrs.frozen(order=True)
class Provenance:
    """Where one version of a fact came from: source, the source's ids, author, last change."""

    source: str
    record: str
    fact_id: str
    author: Ref | None = attrs.field(default=None, order=False)
    last_modified: dt.datetime | None = attrs.field(
        default=None, validator=optional_aware, order=False
    )


@attrs.frozen
class Fact(Generic[T]):
    """A fact in the unified profile, folded from one or more sources.

    ``value`` is the representative version (from the highest-ranked source);
    ``variants`` holds every source's version, in the same order as ``provenance``.
    """

    value: T
    provenance: tuple[Provenance, ...]
    variants: tuple[T, ...]

    @property
    def key(self) -> str:
        """A stable id within the profile: ``"<source>/<fact id>"`` of the first source."""
        first = self.provenance[0]
        return f"{first.source}/{first.fact_id}"

    @property
    def sources(self) -> tuple[str, ...]:
        """The ids of the sources that state this fact."""
        return tuple(dict.fromkeys(p.source for p in self.provenance))

    @property
    def last_modified(self) -> dt.datetime | None:
        """The most recent change across sources, when any source says."""
        stamps = [p.last_modified for p in self.provenance if p.last_modified is not None]
        return max(stamps, default=None)


class ConflictKind(Enum):
    """What disagrees between sources."""

    DEMOGRAPHIC = "demographic"
    MEDICATION_OMISSION = "medication-omission"
    MEDICATION_DOSE = "medication-dose"
    MEDICATION_FREQUENCY = "medication-frequency"
    MEDICATION_ROUTE = "medication-route"
    MEDICATION_STATUS = "medication-status"
    ALLERGY_VS_NKA = "allergy-vs-no-known-allergies"
    PROBLEM_STATUS = "problem-status"


@attrs.frozen
class FactConflict:
    """A disagreement between sources, reported and never silently resolved.

    ``field`` names what disagrees (``"birth_date"``, ``"dose"``...); ``values`` maps each
    source id to its (masked in ``repr``) value; ``chosen`` is the source whose value the
    profile shows (survivorship), or ``None`` when none was chosen.
    """

    kind: ConflictKind
    field: str
    values: tuple[tuple[str, str], ...] = attrs.field(repr=masked)
    chosen: str | None = None
    subject: str | None = None


@attrs.frozen
class PatientProfile:
    """One person, unified from every source's :class:`~carecoord.PatientRecord`.

    Each fact list holds :class:`Fact` objects with full provenance; ``patient`` is the
    merged demographic view (survivorship by source ranking, disagreements kept in
    ``conflicts``). The records themselves are kept, unchanged, in ``records``.
    """

    id: str
    patient: Patient
    records: tuple[PatientRecord, ...]
    practitioners: tuple[Practitioner, ...] = ()
    organizations: tuple[Organization, ...] = ()
    care_teams: tuple[Fact[CareTeam], ...] = ()
    referrals: tuple[Fact[Referral], ...] = ()
    transitions: tuple[Fact[CareTransition], ...] = ()
    tasks: tuple[Fact[Task], ...] = ()
    encounters: tuple[Fact[Encounter], ...] = ()
    conditions: tuple[Fact[Condition], ...] = ()
    medications: tuple[Fact[Medication], ...] = ()
    allergies: tuple[Fact[Allergy], ...] = ()
    orders: tuple[Fact[Order], ...] = ()
    results: tuple[Fact[Result], ...] = ()
    appointments: tuple[Fact[Appointment], ...] = ()
    care_plans: tuple[Fact[CarePlan], ...] = ()
    goals: tuple[Fact[Goal], ...] = ()
    social_needs: tuple[Fact[SocialNeed], ...] = ()
    communications: tuple[Fact[Communication], ...] = ()
    consents: tuple[Fact[Consent], ...] = ()
    reconciliations: tuple[Fact[Reconciliation], ...] = ()
    procedures: tuple[Fact[Procedure], ...] = ()
    enrollments: tuple[Fact[Enrollment], ...] = ()
    activities: tuple[Fact[CoordinationActivity], ...] = ()
    conflicts: tuple[FactConflict, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """The ids of every source that contributed a record."""
        return tuple(dict.fromkeys(r.source.id for r in self.records))

    def facts(self) -> Iterator[tuple[str, Fact[Any]]]:
        """Every fact as ``(field name, fact)``."""
        for name in FACT_FIELDS:
            for fact in getattr(self, name):
                yield name, fact

    def fact_count(self) -> int:
        """How many (folded) facts the profile holds."""
        return sum(len(getattr(self, name)) for name in FACT_FIELDS)

    def practitioner(self, ref: Ref) -> Practitioner | None:
        """The practitioner ``ref`` points to, if the profile knows them."""
        return next((p for p in self.practitioners if p.id == ref.id), None)

    def organization(self, ref: Ref) -> Organization | None:
        """The organisation ``ref`` points to, if the profile knows it."""
        return next((o for o in self.organizations if o.id == ref.id), None)

    def view_for(self, viewer: Viewer, *, at: dt.datetime) -> PatientProfile:
        """The profile as ``viewer`` may see it at ``at`` (see :func:`carecoord.view_for`)."""
        from carecoord.profile._views import view_for  # noqa: PLC0415 - avoids a cycle

        return view_for(self, viewer, at=at)

    def timeline(
        self, *, viewer: Viewer | None = None, at: dt.datetime | None = None
    ) -> tuple[TimelineEvent, ...]:
        """Every dated event, ordered by time (see :func:`carecoord.timeline`)."""
        from carecoord.profile._timeline import timeline  # noqa: PLC0415 - avoids a cycle

        return timeline(self, viewer=viewer, at=at)


check_fact_fields(PatientProfile)


def profile_from_record(record: PatientRecord, *, profile_id: str | None = None) -> PatientProfile:
    """A profile holding one record's facts, each with that single source as provenance.

    A lightweight wrapper for tests of rules and for records already known to be one
    person: no merging, and the patient keeps the source's id. :func:`carecoord.build_profiles`
    uses the full merge instead, whose patient id is the profile id.
    """
    source = record.source.id
    fields: dict[str, Any] = {}
    for name in FACT_FIELDS:
        fields[name] = tuple(
            Fact(
                value=f,
                provenance=(
                    Provenance(
                        source=source,
                        record=record.patient.id,
                        fact_id=f.id,
                        author=getattr(f, "author", None),
                        last_modified=_last_modified(f),
                    ),
                ),
                variants=(f,),
            )
            for f in getattr(record, name)
        )
    return PatientProfile(
        id=profile_id or f"{source}/{record.patient.id}",
        patient=record.patient,
        records=(record,),
        practitioners=record.practitioners,
        organizations=record.organizations,
        **fields,
    )


def _last_modified(fact: object) -> dt.datetime | None:
    stamp = getattr(fact, "last_modified", None) or getattr(fact, "recorded_at", None)
    return stamp if isinstance(stamp, dt.datetime) else None
