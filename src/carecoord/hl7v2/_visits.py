"""PV1, PV2, DG1 and EVN: visits and stays, and what each ADT event does to them.

Each ADT trigger event has a *mode* (:data:`ADT_EVENTS`): ``admit`` (A01, A04) starts a
visit, ``planned`` (A05, A14) books one, ``discharge`` (A03) ends it, ``update`` (A02, A06,
A07, A08, ...) changes what the message states, ``undischarge`` (A13) takes the discharge
back, and ``cancel`` (A11, A27, A38) undoes the admission: a stay (inpatient, observation,
emergency) is removed, a visit is kept as cancelled. The person-level events (A28, A31,
merges) do not touch visits, whatever PV1 they carry.

The visit is keyed by its visit number (PV1-19), else the patient account number
(PID-18), else the admission time (PV1-44).
"""

from __future__ import annotations

import datetime as dt

from carecoord.domain import (
    CareSetting,
    Code,
    Diagnosis,
    EncounterClass,
    EncounterStatus,
    Organization,
    OrganizationId,
    Ref,
    System,
)
from carecoord.errors import IssueCode, ValidationError
from carecoord.hl7v2._context import MessageContext, location
from carecoord.hl7v2._datatypes import code, hd
from carecoord.hl7v2._er7 import Segment
from carecoord.hl7v2._patients import practitioner
from carecoord.hl7v2._state import RecordState, Visit
from carecoord.terminology import (
    ADMIT_SOURCE,
    DISCHARGE_HL7,
    TRANSITION_CLASSES,
    V2_ADMIT_SOURCE,
    V2_PATIENT_CLASS,
    nubc_setting,
)

__all__ = ["ADT_EVENTS", "PERSON_EVENTS", "apply_visit", "facility", "visit_id"]

ADT_EVENTS: dict[str, str] = {
    "A01": "admit",
    "A04": "admit",
    "A05": "planned",
    "A14": "planned",
    "A02": "update",
    "A06": "update",
    "A07": "update",
    "A08": "update",
    "A09": "update",
    "A10": "update",
    "A12": "update",
    "A15": "update",
    "A16": "update",
    "A21": "update",
    "A22": "update",
    "A25": "update",
    "A26": "update",
    "A32": "update",
    "A33": "update",
    "A45": "update",
    "A54": "update",
    "A55": "update",
    "A60": "update",
    "A03": "discharge",
    "A13": "undischarge",
    "A11": "cancel",
    "A27": "cancel",
    "A38": "cancel",
}
"""ADT trigger events that describe a visit -> what they do to it."""

PERSON_EVENTS: frozenset[str] = frozenset(
    {"A28", "A29", "A31", "A30", "A34", "A35", "A36", "A39", "A40", "A41", "A42", "A46", "A47"}
    | {"A48", "A49", "A50", "A51"}
)
"""ADT trigger events about the person (demographics, merges, identifier changes)."""

MERGE_EVENTS: frozenset[str] = frozenset(
    {"A30", "A34", "A35", "A36", "A39", "A40", "A41", "A42", "A46", "A47", "A48", "A49", "A50"}
)
"""Person events whose MRG segments name prior identifiers of the same person."""


def visit_id(ctx: MessageContext, pv1: Segment, patient: str) -> str | None:
    """The visit's key: PV1-19, else PID-18, else the patient and PV1-44; None without."""
    number = pv1.get(19).strip()
    if number:
        return number
    pid = ctx.message.segment("PID")
    account = pid.get(18).strip() if pid is not None else ""
    if account:
        return account
    admitted = pv1.get(44).strip()
    if admitted:
        return f"{patient}@{admitted}"
    return None


def facility(ctx: MessageContext, rec: RecordState, pv1: Segment | None) -> Ref | None:
    """The facility of the visit: PV1-3.4 (the assigned location's), PV1-39, else MSH-4."""
    found = ""
    if pv1 is not None:
        found = hd(pv1.field(3), 4) or pv1.get(39).strip()
    if not found:
        found = ctx.message.sending_facility
    if not found:
        return None
    if found not in rec.organizations:
        try:
            rec.organizations[found] = Organization(id=OrganizationId(found), name=found)
        except ValidationError:
            return None
    return Ref("Organization", found)


def _event_time(ctx: MessageContext) -> dt.datetime | None:
    evn = ctx.message.segment("EVN")
    return ctx.instant(evn, 6) or ctx.instant(evn, 2) or ctx.sent_at


def _recorded_at(ctx: MessageContext) -> dt.datetime | None:
    evn = ctx.message.segment("EVN")
    return ctx.instant(evn, 2) or ctx.sent_at


def _klass(ctx: MessageContext, pv1: Segment) -> EncounterClass | None:
    raw = pv1.get(2).strip().upper()
    if not raw:
        return None
    found = V2_PATIENT_CLASS.get(raw)
    if found is None:
        ctx.issue(
            location(pv1, 2),
            IssueCode.UNKNOWN_CODE,
            "patient class not recognised; read as other",
            warning=True,
        )
        return EncounterClass.OTHER
    return found


def _disposition(ctx: MessageContext, pv1: Segment) -> tuple[CareSetting, Code | None]:
    field = pv1.field(36)
    raw = field.get().strip()
    if not raw:
        return CareSetting.UNKNOWN, None
    setting = nubc_setting(raw)
    if setting is not None:
        return setting, Code(System.DISCHARGE_DISPOSITION, raw.zfill(2), field.get(1, 2) or None)
    read = code(field, table="0112")
    if raw.lower() in DISCHARGE_HL7:
        return DISCHARGE_HL7[raw.lower()], read
    ctx.issue(
        location(pv1, 36),
        IssueCode.UNKNOWN_CODE,
        "discharge disposition not recognised; setting unknown",
        warning=True,
    )
    return CareSetting.UNKNOWN, read


def _diagnoses(ctx: MessageContext) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    for dg1 in ctx.message.segments("DG1"):
        try:
            read = code(dg1.field(3), table="0051")
        except ValidationError:
            read = None
        if read is None:
            continue
        principal = dg1.get(15).strip() == "1"
        found.append(Diagnosis(read, principal))
    return found


def apply_visit(ctx: MessageContext, rec: RecordState, pv1: Segment, mode: str) -> None:
    """Apply one message's PV1 (with its PV2, DG1 and EVN) to the patient's visit.

    ``mode`` is what the event does (:data:`ADT_EVENTS`); ``"existing"`` updates a visit
    already read and never starts one (a result or a document names its visit, it does
    not report on it).
    """
    key = visit_id(ctx, pv1, rec.patient.id)
    if mode == "existing":
        if key is None or key not in rec.visits:
            return
        mode = "update"
    if key is None:
        if mode == "update":
            return
        key = f"message-{ctx.message.control_id or ctx.number}"
    visit = rec.visits.get(key)
    klass = _klass(ctx, pv1)
    if mode == "cancel":
        _cancel(ctx, rec, key, visit, klass)
        return
    if visit is None:
        visit = Visit(key, klass or EncounterClass.OTHER)
        rec.visits[key] = visit
        if mode == "update":
            visit.status = EncounterStatus.IN_PROGRESS
    elif klass is not None:
        visit.klass = klass
    visit.where, visit.label = ctx.path(""), ctx.label
    visit.recorded_at = _recorded_at(ctx) or visit.recorded_at
    admitted = ctx.instant(pv1, 44)
    if admitted is not None:
        visit.admitted_at = admitted
    elif visit.admitted_at is None and mode == "planned":
        pv2 = ctx.message.segment("PV2")
        visit.admitted_at = (ctx.instant(pv2, 8) if pv2 is not None else None) or _event_time(ctx)
    elif visit.admitted_at is None:
        visit.admitted_at = _event_time(ctx)
        if mode == "admit":
            ctx.issue(
                location(pv1, 44),
                IssueCode.MISSING_ELEMENT,
                "no admit time; the event time (EVN-6, EVN-2 or MSH-7) is used",
                warning=True,
            )
    _details(ctx, rec, pv1, visit)
    discharged = ctx.instant(pv1, 45) if mode != "undischarge" else None
    if mode == "admit":
        visit.status = EncounterStatus.IN_PROGRESS
    elif mode == "planned":
        visit.status = EncounterStatus.PLANNED
    elif mode == "undischarge":
        visit.status = EncounterStatus.IN_PROGRESS
        visit.discharged_at = None
        visit.to_setting = CareSetting.UNKNOWN
        visit.disposition = None
        return
    if mode == "discharge":
        visit.status = EncounterStatus.FINISHED
        visit.discharged_at = discharged or _event_time(ctx)
    elif discharged is not None and visit.status is not EncounterStatus.PLANNED:
        visit.status = EncounterStatus.FINISHED
        visit.discharged_at = discharged
    if visit.status is EncounterStatus.FINISHED:
        setting, disposition = _disposition(ctx, pv1)
        if disposition is not None:
            visit.to_setting, visit.disposition = setting, disposition


def _cancel(
    ctx: MessageContext,
    rec: RecordState,
    key: str,
    visit: Visit | None,
    klass: EncounterClass | None,
) -> None:
    current = visit.klass if visit is not None else klass
    if current in TRANSITION_CLASSES:
        if visit is None:
            ctx.issue(
                "MSH-9",
                IssueCode.NOT_MAPPED,
                "cancels an admission that is not in the input; nothing to undo",
                warning=True,
            )
        rec.visits.pop(key, None)
        return
    if visit is None:
        visit = Visit(key, klass or EncounterClass.OTHER)
        rec.visits[key] = visit
        pv1 = ctx.message.segment("PV1")
        visit.admitted_at = ctx.instant(pv1, 44) if pv1 is not None else None
    visit.status = EncounterStatus.CANCELLED
    visit.where, visit.label = ctx.path(""), ctx.label


def _details(ctx: MessageContext, rec: RecordState, pv1: Segment, visit: Visit) -> None:
    place = facility(ctx, rec, pv1)
    if place is not None:
        visit.facility = place
    for number in (7, 17, 8, 9):
        for n, rep in enumerate(pv1.repetitions(number), start=1):
            try:
                person = practitioner(rep)
            except ValidationError:
                ctx.issue(
                    location(pv1, number, n),
                    IssueCode.INVALID_VALUE,
                    "practitioner not kept",
                    warning=True,
                )
                continue
            if person is None:
                continue
            rec.practitioners.setdefault(person.id, person)
            ref = Ref("Practitioner", person.id)
            if ref not in visit.performers:
                visit.performers.append(ref)
            if number == 7 and n == 1:
                visit.attending = ref
    source = pv1.get(14).strip()
    if source:
        setting = V2_ADMIT_SOURCE.get(source) or ADMIT_SOURCE.get(source.lower())
        if setting is None:
            ctx.issue(
                location(pv1, 14),
                IssueCode.UNKNOWN_CODE,
                "admit source not recognised; unknown",
                warning=True,
            )
        visit.from_setting = setting or CareSetting.UNKNOWN
    kind = pv1.field(4)
    if kind.get().strip():
        try:
            read = code(kind, table="0007")
        except ValidationError:
            read = None
        if read is not None and read not in visit.types:
            visit.types = [read]
    pv2 = ctx.message.segment("PV2")
    if pv2 is not None:
        try:
            reason = code(pv2.field(3))
        except ValidationError:
            reason = None
        if reason is not None:
            visit.reasons = [reason]
    diagnoses = _diagnoses(ctx)
    if diagnoses:
        visit.diagnoses = diagnoses
