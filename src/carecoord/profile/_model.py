"""The unified profile's data model: facts with provenance, conflicts, the profile itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import attrs

from carecoord.display import HtmlDisplay, clip, counts
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
    Document,
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
    RelatedPerson,
    Result,
    SocialNeed,
    Task,
    check_fact_fields,
)
from carecoord.profile._facts import ConflictKind, Fact, FactConflict, Provenance
from carecoord.profile._html import TIMELINE_ROWS, GapLike, profile_html
from carecoord.profile._timeline import Timeline, timeline
from carecoord.profile._views import Viewer, view_for

__all__ = [
    "ConflictKind",
    "Fact",
    "FactConflict",
    "PatientProfile",
    "Provenance",
    "profile_from_record",
]

T = TypeVar("T")


@attrs.frozen(repr=False)
class PatientProfile:
    """One person, unified from every source's :class:`~carecoord.PatientRecord`.

    Each fact list holds :class:`Fact` objects with full provenance; ``patient`` is the
    merged demographic view (survivorship by source ranking, disagreements kept in
    ``conflicts``). The records themselves are kept, unchanged, in ``records``.
    Practitioners, organisations and the patient's related persons are united by id
    from every record (the survivor's version first).
    """

    id: str
    patient: Patient
    records: tuple[PatientRecord, ...]
    practitioners: tuple[Practitioner, ...] = ()
    organizations: tuple[Organization, ...] = ()
    related_persons: tuple[RelatedPerson, ...] = ()
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
    documents: tuple[Fact[Document], ...] = ()
    consents: tuple[Fact[Consent], ...] = ()
    reconciliations: tuple[Fact[Reconciliation], ...] = ()
    procedures: tuple[Fact[Procedure], ...] = ()
    enrollments: tuple[Fact[Enrollment], ...] = ()
    activities: tuple[Fact[CoordinationActivity], ...] = ()
    conflicts: tuple[FactConflict, ...] = ()

    def __repr__(self) -> str:
        facts = counts(self, FACT_FIELDS) or "no facts"
        sources = len(self.sources)
        more = f", {len(self.conflicts)} conflicts" if self.conflicts else ""
        return clip(
            f"PatientProfile(id={self.id!r}, {len(self.records)} records from {sources} "
            f"sources, {facts}{more})"
        )

    def display(
        self,
        *,
        gaps: Iterable[GapLike] = (),
        show_personal_data: bool = False,
        timeline_rows: int = TIMELINE_ROWS,
    ) -> HtmlDisplay:
        """The profile as HTML for notebooks: person, sources, facts, open gaps, timeline.

        ``gaps`` are the gaps to list (``detect_gaps(profile, as_of=...)``): the actionable
        ones of this profile whose evidence it holds, so gaps found on the whole profile
        and shown on a consent view leave out those resting on facts the view hides. The
        name and birth date are masked unless ``show_personal_data`` is true. Of a consent
        view it shows only what the view holds.
        """
        return profile_html(
            self, gaps=gaps, show_personal_data=show_personal_data, timeline_rows=timeline_rows
        )

    def _repr_html_(self) -> str:
        return profile_html(self).html

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

    def related_person(self, ref: Ref) -> RelatedPerson | None:
        """The related person ``ref`` points to, if the profile knows them."""
        if ref.type != "RelatedPerson":
            return None
        return next((p for p in self.related_persons if p.id == ref.id), None)

    def representatives(self, at: dt.datetime) -> tuple[RelatedPerson, ...]:
        """The patient's personal representatives at ``at`` (see ``RelatedPerson``)."""
        return tuple(p for p in self.related_persons if p.represents_at(at))

    def view_for(self, viewer: Viewer, *, at: dt.datetime) -> PatientProfile:
        """The profile as ``viewer`` may see it at ``at`` (see :func:`carecoord.view_for`)."""
        return view_for(self, viewer, at=at)

    def timeline(self, *, viewer: Viewer | None = None, at: dt.datetime | None = None) -> Timeline:
        """Every dated event, ordered by time (see :func:`carecoord.timeline`)."""
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
        related_persons=record.related_persons,
        **fields,
    )


def _last_modified(fact: object) -> dt.datetime | None:
    stamp = getattr(fact, "last_modified", None) or getattr(fact, "recorded_at", None)
    return stamp if isinstance(stamp, dt.datetime) else None
