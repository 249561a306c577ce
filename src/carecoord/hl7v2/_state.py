"""The reader's state across messages: one record per (source, patient), visits, links.

Messages about the same patient and visit change the same facts: an A01 admits, an A08
updates, an A03 discharges, an A13 undoes the discharge and an A11 undoes the admission.
So the reader keeps each visit as a mutable :class:`Visit` while it reads, and turns the
visits into :class:`~carecoord.domain.CareTransition` or :class:`~carecoord.domain.Encounter`
facts only at the end (:meth:`RecordState.build`). Facts of the other kinds are kept by id,
a later message replacing an earlier one with the same id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from carecoord.domain import (
    CareSetting,
    CareTransition,
    Code,
    Diagnosis,
    Encounter,
    EncounterClass,
    EncounterId,
    EncounterStatus,
    Organization,
    Patient,
    PatientId,
    PatientLink,
    PatientRecord,
    Period,
    Practitioner,
    Ref,
    Source,
    TransitionId,
)
from carecoord.errors import IssueCode, ValidationError
from carecoord.interop import IssueLog
from carecoord.terminology import TRANSITION_CLASSES

__all__ = ["RecordState", "Visit"]


@attrs.define
class Visit:
    """A visit or stay as the messages read so far describe it."""

    id: str
    klass: EncounterClass = EncounterClass.OTHER
    status: EncounterStatus = EncounterStatus.IN_PROGRESS
    admitted_at: dt.datetime | None = None
    discharged_at: dt.datetime | None = None
    from_setting: CareSetting = CareSetting.UNKNOWN
    to_setting: CareSetting = CareSetting.UNKNOWN
    disposition: Code | None = None
    facility: Ref | None = None
    attending: Ref | None = None
    performers: list[Ref] = attrs.Factory(list)
    diagnoses: list[Diagnosis] = attrs.Factory(list)
    reasons: list[Code] = attrs.Factory(list)
    types: list[Code] = attrs.Factory(list)
    recorded_at: dt.datetime | None = None
    where: str = ""
    """The issue path of the message that last changed it (for issues at the end)."""
    label: str = "<input>"


@attrs.define
class RecordState:
    """Everything read so far about one patient from one source."""

    source: Source
    patient: Patient
    facts: dict[str, dict[str, Any]] = attrs.Factory(dict)
    visits: dict[str, Visit] = attrs.Factory(dict)
    practitioners: dict[str, Practitioner] = attrs.Factory(dict)
    organizations: dict[str, Organization] = attrs.Factory(dict)
    appointment_orders: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    """Appointment id -> the order or referral ids its SCH names (tied at the end)."""

    def put(self, kind: str, fact: Any) -> None:
        """Keep ``fact`` under its id (replacing an earlier one with the same id)."""
        self.facts.setdefault(kind, {})[fact.id] = fact

    def get(self, kind: str, fact_id: str) -> Any:
        """The fact of ``kind`` with ``fact_id``, or None."""
        return self.facts.get(kind, {}).get(fact_id)

    def add_link(self, link: PatientLink) -> None:
        """Add a link to the patient unless it is there already."""
        if link not in self.patient.links and link.other_id != self.patient.id:
            self.patient = attrs.evolve(self.patient, links=(*self.patient.links, link))

    def build(self, log: IssueLog) -> PatientRecord:
        """The record: visits become transitions or encounters, the other facts as kept."""
        fields: dict[str, list[Any]] = {k: list(v.values()) for k, v in self.facts.items()}
        for visit in self.visits.values():
            made = _visit_fact(visit, self.patient.id, log)
            if made is not None:
                fields.setdefault(made[0], []).append(made[1])
        return PatientRecord(
            source=self.source,
            patient=self.patient,
            practitioners=tuple(self.practitioners.values()),
            organizations=tuple(self.organizations.values()),
            **{k: tuple(v) for k, v in fields.items()},
        )


_NOT_A_STAY = (EncounterStatus.PLANNED, EncounterStatus.CANCELLED, EncounterStatus.ENTERED_IN_ERROR)


def _visit_fact(visit: Visit, patient: PatientId, log: IssueLog) -> tuple[str, Any] | None:
    start = visit.admitted_at
    end = visit.discharged_at if visit.status is EncounterStatus.FINISHED else None
    if start is not None and end is not None and end < start:
        log.add(
            f"{visit.where}.PV1-45",
            IssueCode.INVALID_VALUE,
            "discharge before admission; the discharge time is dropped",
            source=visit.label,
        )
        end = None
    kind = TRANSITION_CLASSES.get(visit.klass)
    try:
        if kind is not None and visit.status not in _NOT_A_STAY:
            if start is None:
                log.add(
                    f"{visit.where}.PV1-44",
                    IssueCode.MISSING_ELEMENT,
                    "stay without an admission time; skipped",
                    source=visit.label,
                )
                return None
            return "transitions", CareTransition(
                id=TransitionId(visit.id),
                patient=patient,
                kind=kind,
                admitted_at=start,
                discharged_at=end,
                from_setting=visit.from_setting,
                to_setting=visit.to_setting if end is not None else CareSetting.UNKNOWN,
                facility=visit.facility,
                discharge_disposition=visit.disposition if end is not None else None,
                diagnoses=_one_principal(visit.diagnoses),
                attending=visit.attending,
                encounter=Ref("Encounter", visit.id),
                recorded_at=visit.recorded_at,
            )
        return "encounters", Encounter(
            id=EncounterId(visit.id),
            patient=patient,
            klass=visit.klass,
            period=Period(start, end),
            status=visit.status,
            types=tuple(visit.types),
            performers=tuple(dict.fromkeys(visit.performers)),
            organization=visit.facility,
            reasons=tuple(dict.fromkeys(visit.reasons)),
            diagnoses=tuple(dict.fromkeys(d.code for d in visit.diagnoses)),
            recorded_at=visit.recorded_at,
        )
    except ValidationError as err:
        for problem in err.problems:
            log.add(
                f"{visit.where}.PV1",
                IssueCode.INVALID_VALUE,
                f"visit not kept: {problem}",
                source=visit.label,
            )
        return None


def _one_principal(diagnoses: list[Diagnosis]) -> tuple[Diagnosis, ...]:
    found: list[Diagnosis] = []
    seen: set[Code] = set()
    taken = False
    for d in diagnoses:
        if d.code in seen:
            continue
        seen.add(d.code)
        principal = d.principal and not taken
        taken = taken or principal
        found.append(Diagnosis(d.code, principal))
    return tuple(found)
