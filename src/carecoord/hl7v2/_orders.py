"""REF, SIU and MDM: referrals, appointments and documents.

* REF I12 (new referral), I13 (modify), I14 (cancel): RF1 is the referral (RF1-6 or RF1-11
  its id, RF1-1 its status, RF1-2 its priority, RF1-7 when it took effect, RF1-10 the
  reason); the PRD segments name who refers (``RP``) and who is referred to (``RT``,
  ``CP``), else the sending and receiving facilities do.
* SIU S12-S26: SCH is the appointment (SCH-2 or SCH-1 its id); the start is the first
  resource's start (AIS-4, AIG-8, AIL-6, AIP-6), else TQ1-7, else SCH-11.4; the end TQ1-8,
  else start plus the resource's duration. The trigger event sets the status (S15/S16
  cancelled, S17 deleted, S26 no-show), else SCH-25 does. SCH-26/SCH-27 (placer and
  filler order numbers) naming a referral read in the same input tie the appointment to it.
* MDM T01-T11: TXA is the document: TXA-12 its id, TXA-2 its type (table 0270, read as the
  LOINC document code: ``DS`` discharge summary 18842-5, ``CN`` consult note 11488-4...),
  TXA-17 its completion status, TXA-19 its availability; T11 cancels it. The text itself
  (OBX) is not kept, as the FHIR reader keeps no attachment content.
"""

from __future__ import annotations

import datetime as dt

import attrs

from carecoord.domain import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Code,
    CompositionStatus,
    Document,
    DocumentId,
    DocumentStatus,
    Organization,
    OrganizationId,
    Practitioner,
    PractitionerId,
    Priority,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    System,
)
from carecoord.errors import InvalidTransition, IssueCode, ValidationError
from carecoord.hl7v2._context import MessageContext, location
from carecoord.hl7v2._datatypes import V2_TABLE_BASE, code, name
from carecoord.hl7v2._er7 import Segment
from carecoord.hl7v2._patients import practitioner
from carecoord.hl7v2._state import RecordState
from carecoord.terminology import (
    V2_DOCUMENT_TYPE,
    V2_FILLER_STATUS,
    V2_REFERRAL_PRIORITY,
    V2_REFERRAL_STATUS,
)

__all__ = ["SIU_EVENTS", "map_appointment", "map_document", "map_referral", "tie_appointments"]

SIU_EVENTS: dict[str, AppointmentStatus | None] = {
    "S12": AppointmentStatus.BOOKED,
    "S13": AppointmentStatus.BOOKED,
    "S14": None,
    "S15": AppointmentStatus.CANCELLED,
    "S16": AppointmentStatus.CANCELLED,
    "S17": AppointmentStatus.ENTERED_IN_ERROR,
    "S18": None,
    "S19": None,
    "S20": None,
    "S21": None,
    "S22": None,
    "S23": None,
    "S24": None,
    "S25": None,
    "S26": AppointmentStatus.NO_SHOW,
}
"""SIU trigger events -> the status they give the appointment (None: SCH-25 says)."""


def _organization(rec: RecordState, key: str) -> Ref | None:
    if not key:
        return None
    if key not in rec.organizations:
        try:
            rec.organizations[key] = Organization(id=OrganizationId(key), name=key)
        except ValidationError:
            return None
    return Ref("Organization", key)


def _prd(rec: RecordState, prd: Segment) -> Ref | None:
    """The provider a PRD names: PRD-7 provider id, else the PRD-2 name's family name."""
    key = prd.get(7).strip()
    person = name(prd.field(2))
    if not key:
        if person is None or person.family is None:
            return _organization(rec, prd.get(3, 1, 1).strip())
        key = f"{person.family}-{'-'.join(person.given)}".strip("-")
    if key not in rec.practitioners:
        try:
            rec.practitioners[key] = Practitioner(
                id=PractitionerId(key), names=(person,) if person is not None else ()
            )
        except ValidationError:
            return None
    return Ref("Practitioner", key)


def _referral_id(ctx: MessageContext, rf1: Segment) -> str:
    return (
        rf1.get(6).strip()
        or rf1.get(11).strip()
        or ctx.message.control_id
        or f"message-{ctx.number}"
    )


def map_referral(ctx: MessageContext, rec: RecordState) -> bool:
    """A REF message's referral; False (reported) when there is no RF1 or no time."""
    rf1 = ctx.message.segment("RF1")
    if rf1 is None:
        ctx.issue("RF1", IssueCode.MISSING_ELEMENT, "referral message without RF1; skipped")
        return False
    event = ctx.message.trigger_event
    authored = ctx.instant(rf1, 7) or ctx.instant(rf1, 9) or ctx.sent_at
    if authored is None:
        ctx.issue(location(rf1, 7), IssueCode.MISSING_ELEMENT, "referral without a date; skipped")
        return False
    requester = recipient = None
    for prd in ctx.message.segments("PRD"):
        role = prd.get(1).strip().upper()
        if role == "RP" and requester is None:
            requester = _prd(rec, prd)
        elif role in ("RT", "CP", "RP?") and recipient is None:
            recipient = _prd(rec, prd)
    requester = requester or _organization(rec, ctx.message.sending_facility)
    recipient = recipient or _organization(rec, ctx.message.receiving_facility)
    if requester is None:
        ctx.issue("PRD", IssueCode.MISSING_ELEMENT, "referral without a referring party; skipped")
        return False
    referral_id = ReferralId(_referral_id(ctx, rf1))
    status_code = rf1.get(1).strip().upper()
    target = V2_REFERRAL_STATUS.get(status_code, ReferralStatus.SENT)
    if status_code and status_code not in V2_REFERRAL_STATUS:
        ctx.issue(
            location(rf1, 1),
            IssueCode.UNKNOWN_CODE,
            "referral status not recognised; sent",
            warning=True,
        )
    if event == "I14":
        target = ReferralStatus.CANCELLED
    priority = V2_REFERRAL_PRIORITY.get(rf1.get(2).strip().upper(), Priority.ROUTINE)
    reasons = tuple(c for rep in rf1.repetitions(10) if (c := _quiet_code(rep)) is not None)
    previous = rec.get("referrals", referral_id)
    try:
        if previous is None:
            referral = Referral(
                id=referral_id,
                patient=rec.patient.id,
                authored_on=authored,
                requester=requester,
                recipient=recipient,
                priority=priority,
                reasons=reasons,
            ).send(at=authored, by=requester)
        else:
            referral = attrs.evolve(
                previous,
                recipient=recipient or previous.recipient,
                priority=priority,
                reasons=reasons or previous.reasons,
            )
        changed_at = ctx.sent_at or authored
        if target is not referral.status:
            referral = _move(referral, target, max(changed_at, authored))
    except (ValidationError, InvalidTransition) as err:
        ctx.issue(
            location(rf1), IssueCode.INVALID_VALUE, f"referral not kept: {type(err).__name__}"
        )
        return False
    rec.put("referrals", referral)
    return True


_STEPS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.ACCEPTED: (ReferralStatus.ACCEPTED,),
    ReferralStatus.DECLINED: (ReferralStatus.DECLINED,),
    ReferralStatus.CLOSED: (ReferralStatus.CLOSED,),
    ReferralStatus.CANCELLED: (ReferralStatus.CANCELLED,),
}


def _move(referral: Referral, target: ReferralStatus, at: dt.datetime) -> Referral:
    """The referral moved to ``target`` if its lifecycle allows; else as it is."""
    if target is ReferralStatus.SENT:
        return referral
    try:
        return referral.transition_to(target, at=at)
    except InvalidTransition:
        if target is ReferralStatus.CLOSED:
            return referral.transition_to(ReferralStatus.CANCELLED, at=at)
        raise


def _quiet_code(field: object) -> Code | None:
    try:
        return code(field)  # type: ignore[arg-type]
    except ValidationError:
        return None


_START_FIELDS = (("AIS", 4), ("AIG", 8), ("AIL", 6), ("AIP", 6))
_DURATION_FIELDS = {"AIS": (7, 8), "AIG": (11, 12), "AIL": (9, 10), "AIP": (9, 10)}
_UNITS = {"S": 1 / 60, "SEC": 1 / 60, "M": 1, "MIN": 1, "H": 60, "HR": 60, "HOUR": 60, "D": 1440}


def _start_end(ctx: MessageContext) -> tuple[dt.datetime | None, dt.datetime | None]:
    msg = ctx.message
    for name_, number in _START_FIELDS:
        for seg in msg.segments(name_):
            start = ctx.instant(seg, number)
            if start is not None:
                return start, _end_from_duration(seg, start)
    tq1 = msg.segment("TQ1")
    start = ctx.instant(tq1, 7) if tq1 is not None else None
    if start is not None:
        return start, ctx.instant(tq1, 8)
    sch = msg.segment("SCH")
    start = ctx.instant(sch, 11, 4) if sch is not None else None
    end = ctx.instant(sch, 11, 5) if sch is not None else None
    return start, end if start is not None and end is not None and end >= start else None


def _end_from_duration(seg: Segment, start: dt.datetime) -> dt.datetime | None:
    duration_field, unit_field = _DURATION_FIELDS[seg.name]
    raw = seg.get(duration_field).strip()
    try:
        amount = float(raw)
    except ValueError:
        return None
    unit = seg.get(unit_field).strip().upper() or "MIN"
    minutes = _UNITS.get(unit)
    if minutes is None or not 0 <= amount * minutes <= 60 * 24 * 366:
        return None
    return start + dt.timedelta(minutes=amount * minutes)


def map_appointment(ctx: MessageContext, rec: RecordState) -> bool:
    """An SIU message's appointment; False (reported) when there is no SCH or no start."""
    sch = ctx.message.segment("SCH")
    if sch is None:
        ctx.issue("SCH", IssueCode.MISSING_ELEMENT, "scheduling message without SCH; skipped")
        return False
    appointment_id = AppointmentId(
        sch.get(2).strip()
        or sch.get(1).strip()
        or ctx.message.control_id
        or f"message-{ctx.number}"
    )
    previous = rec.get("appointments", appointment_id)
    start, end = _start_end(ctx)
    if start is None and previous is not None:
        start, end = previous.start, previous.end
    if start is None:
        ctx.issue(
            location(sch, 11),
            IssueCode.MISSING_ELEMENT,
            "appointment without a start time; skipped",
        )
        return False
    status = SIU_EVENTS.get(ctx.message.trigger_event)
    if status is None:
        filler = sch.get(25).strip().upper()
        status = V2_FILLER_STATUS.get(filler)
        if status is None and previous is not None:
            status = previous.status
        if status is None:
            status = AppointmentStatus.BOOKED
    participants: list[Ref] = []
    for aip in ctx.message.segments("AIP"):
        person = practitioner(aip.field(3))
        if person is not None:
            rec.practitioners.setdefault(person.id, person)
            participants.append(Ref("Practitioner", person.id))
    for ail in ctx.message.segments("AIL"):
        place = ail.get(3, 1, 1).strip() or ail.get(3, 1, 4).strip()
        if place:
            participants.append(Ref("Location", place))
    participants = _resource_changes(ctx.message.trigger_event, previous, participants)
    service = None
    ais = ctx.message.segment("AIS")
    if ais is not None:
        service = _quiet_code(ais.field(3))
    if service is None and previous is not None:
        service = previous.service_type
    try:
        appointment = Appointment(
            id=appointment_id,
            patient=rec.patient.id,
            start=start,
            end=end if end is not None and end >= start else None,
            status=status,
            participants=tuple(dict.fromkeys(participants)),
            service_type=service,
            booked_at=previous.booked_at if previous is not None else ctx.sent_at,
            status_changed_at=ctx.sent_at,
            recorded_at=ctx.sent_at,
        )
    except ValidationError as err:
        ctx.issue(
            location(sch), IssueCode.INVALID_VALUE, f"appointment not kept: {err.problems[0]}"
        )
        return False
    orders = tuple(v for n in (26, 27) if (v := sch.get(n).strip()))
    if orders:
        rec.appointment_orders[appointment_id] = orders
    rec.put("appointments", appointment)
    return True


_REMOVING = frozenset({"S20", "S21", "S22"})


def _resource_changes(event: str, previous: Appointment | None, listed: list[Ref]) -> list[Ref]:
    """The appointment's participants after a message listing ``listed`` resources.

    S18 adds them, S20-S22 (cancel, discontinue, delete a service or resource) remove
    them; other events state the resources, or keep the earlier ones when they list none.
    """
    before = list(previous.participants) if previous is not None else []
    if event == "S18":
        return before + [r for r in listed if r not in before]
    if event in _REMOVING:
        return [r for r in before if r not in listed]
    return listed or before


def tie_appointments(states: list[RecordState]) -> None:
    """Tie each appointment to the referral its SCH-26/SCH-27 names, both ways.

    The referral may come from another source (the referring clinic's REF, the
    specialist's SIU) but must be about a patient with the same id. The appointment is
    ``based_on`` ``Ref("Referral", id)``; a referral in the appointment's own record also
    lists the appointment.
    """
    referrals: dict[tuple[str, str], list[RecordState]] = {}
    for state in states:
        for referral_id in state.facts.get("referrals", {}):
            referrals.setdefault((state.patient.id, referral_id), []).append(state)
    for rec in states:
        for appointment_id, orders in rec.appointment_orders.items():
            for order in orders:
                for owner in referrals.get((rec.patient.id, order), []):
                    _tie(rec, appointment_id, owner, order)


def _tie(rec: RecordState, appointment_id: str, owner: RecordState, referral_id: str) -> None:
    appointment = rec.get("appointments", appointment_id)
    if appointment is None:
        return
    ref = Ref("Referral", referral_id)
    if ref not in appointment.based_on:
        rec.put("appointments", attrs.evolve(appointment, based_on=(*appointment.based_on, ref)))
    referral = owner.get("referrals", referral_id)
    if owner is rec and appointment_id not in referral.appointments:
        owner.put(
            "referrals",
            attrs.evolve(
                referral, appointments=(*referral.appointments, AppointmentId(appointment_id))
            ),
        )


_COMPLETION: dict[str, CompositionStatus] = {
    "AU": CompositionStatus.FINAL,
    "LA": CompositionStatus.FINAL,
    "DO": CompositionStatus.PRELIMINARY,
    "IP": CompositionStatus.PRELIMINARY,
    "IN": CompositionStatus.PRELIMINARY,
    "PA": CompositionStatus.PRELIMINARY,
    "DI": CompositionStatus.PRELIMINARY,
}
"""TXA-17 document completion status (HL7 table 0271) -> composition status."""

_AVAILABILITY: dict[str, DocumentStatus] = {
    "AV": DocumentStatus.CURRENT,
    "UN": DocumentStatus.CURRENT,
    "OB": DocumentStatus.SUPERSEDED,
    "CA": DocumentStatus.ENTERED_IN_ERROR,
}
"""TXA-19 document availability status (HL7 table 0273) -> document status."""


def map_document(ctx: MessageContext, rec: RecordState, visit: str | None) -> bool:
    """An MDM message's document; False (reported) when there is no TXA."""
    txa = ctx.message.segment("TXA")
    if txa is None:
        ctx.issue("TXA", IssueCode.MISSING_ELEMENT, "document message without TXA; skipped")
        return False
    document_id = DocumentId(
        txa.get(12).strip() or ctx.message.control_id or f"message-{ctx.number}"
    )
    kind = txa.get(2).strip().upper()
    types: tuple[Code, ...] = ()
    if kind:
        local = Code(V2_TABLE_BASE + "0270", kind, txa.get(2, 1, 2).strip() or None)
        loinc = V2_DOCUMENT_TYPE.get(kind)
        if loinc is not None:
            types = (Code(System.LOINC, loinc[0], loinc[1], also=(local,)),)
        else:
            types = (local,)
            ctx.issue(
                location(txa, 2),
                IssueCode.UNKNOWN_CODE,
                "document type not in table 0270; kept as sent",
                warning=True,
            )
    date = ctx.instant(txa, 4) or ctx.instant(txa, 6) or ctx.instant(txa, 7) or ctx.sent_at
    status = _AVAILABILITY.get(txa.get(19).strip().upper(), DocumentStatus.CURRENT)
    if ctx.message.trigger_event == "T11":
        status = DocumentStatus.ENTERED_IN_ERROR
    author = None
    for number in (9, 5, 22):
        try:
            person = practitioner(txa.field(number))
        except ValidationError:
            person = None
        if person is not None:
            rec.practitioners.setdefault(person.id, person)
            author = Ref("Practitioner", person.id)
            break
    context = (Ref("Encounter", visit),) if visit else ()
    previous = rec.get("documents", document_id)
    try:
        document = Document(
            id=document_id,
            patient=rec.patient.id,
            types=types or (previous.types if previous is not None else ()),
            status=status,
            doc_status=_COMPLETION.get(txa.get(17).strip().upper()),
            date=date,
            custodian=_organization(rec, ctx.message.sending_facility),
            context=context or (previous.context if previous is not None else ()),
            recorded_at=ctx.sent_at,
            author=author or (previous.author if previous is not None else None),
        )
    except ValidationError as err:
        ctx.issue(location(txa), IssueCode.INVALID_VALUE, f"document not kept: {err.problems[0]}")
        return False
    rec.put("documents", document)
    parent = txa.get(13).strip()
    if parent and parent != document_id:
        replaced = rec.get("documents", parent)
        if replaced is not None and replaced.status is DocumentStatus.CURRENT:
            rec.put("documents", attrs.evolve(replaced, status=DocumentStatus.SUPERSEDED))
    return True
