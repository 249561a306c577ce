"""Builders with valid, synthetic defaults for every model.

Each ``make_*`` function returns a valid object; keyword arguments replace any field.
Defaults describe one synthetic person (nobody real) around the fixed instant
:data:`AS_OF`, so tests read as "the same patient, except ...".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
from typing_extensions import Unpack

from carecoord.domain import (
    ActivityKind,
    Address,
    Allergy,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    CarePlan,
    CarePlanActivity,
    CareSetting,
    CareTeam,
    CareTeamMember,
    CareTransition,
    Code,
    Communication,
    CommunicationKind,
    Condition,
    Consent,
    ConsentDecision,
    ContactPoint,
    ContactSystem,
    CoordinationActivity,
    Diagnosis,
    Discipline,
    Document,
    Encounter,
    EncounterClass,
    Enrollment,
    FactId,
    Goal,
    GoalId,
    HumanName,
    Identifier,
    Interpretation,
    ListKind,
    Medication,
    Order,
    Organization,
    OrganizationKind,
    PartialDate,
    Patient,
    PatientRecord,
    Period,
    Practitioner,
    Procedure,
    Quantity,
    Reconciliation,
    Ref,
    Referral,
    ReferralStatus,
    RelatedPerson,
    Result,
    Sex,
    SocialDomain,
    SocialNeed,
    Source,
    System,
    Task,
    TaskStatus,
    TransitionKind,
)
from carecoord.errors import UsageError
from carecoord.testing._builder_fields import (
    AllergyFields,
    AppointmentFields,
    CarePlanFields,
    CareTeamFields,
    CareTransitionFields,
    CommunicationFields,
    ConditionFields,
    ConsentFields,
    CoordinationActivityFields,
    DocumentFields,
    EncounterFields,
    EnrollmentFields,
    GoalFields,
    MedicationFields,
    OrderFields,
    OrganizationFields,
    PatientFields,
    PatientRecordFields,
    PractitionerFields,
    ProcedureFields,
    ReconciliationFields,
    ReferralFields,
    RelatedPersonFields,
    ResultFields,
    SocialNeedFields,
    SourceFields,
    TaskFields,
)

__all__ = [
    "AS_OF",
    "BEHAVIORAL_HEALTH",
    "CARDIOLOGIST",
    "COORDINATOR",
    "GUARDIAN",
    "HOSPITAL",
    "PATIENT_ID",
    "PCP",
    "days_before",
    "make_activity",
    "make_allergy",
    "make_appointment",
    "make_care_plan",
    "make_care_team",
    "make_communication",
    "make_condition",
    "make_consent",
    "make_document",
    "make_encounter",
    "make_enrollment",
    "make_goal",
    "make_medication",
    "make_order",
    "make_organization",
    "make_patient",
    "make_practitioner",
    "make_procedure",
    "make_reconciliation",
    "make_record",
    "make_referral",
    "make_related_person",
    "make_result",
    "make_social_need",
    "make_source",
    "make_task",
    "make_transition",
]

T = TypeVar("T")

AS_OF = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
"""The fixed "now" of carecoord's own tests: Monday 2 March 2026, 14:00 UTC."""

PATIENT_ID = "patient-1"
"""The default patient id every builder uses."""

PCP = Ref("Practitioner", "pcp-1")
"""The default primary-care practitioner."""
CARDIOLOGIST = Ref("Practitioner", "cardio-1")
"""The default specialist."""
BEHAVIORAL_HEALTH = Ref("Practitioner", "therapist-1")
"""The default behavioural-health practitioner."""
COORDINATOR = Ref("Practitioner", "coordinator-1")
"""The default care coordinator (team lead)."""
HOSPITAL = Ref("Organization", "hospital-1")
"""The default hospital."""
GUARDIAN = Ref("RelatedPerson", "guardian-1")
"""The default related person: the patient's court-appointed guardian."""


def days_before(days: float, *, at: dt.datetime = AS_OF) -> dt.datetime:
    """``at`` minus ``days`` days (a convenience for writing scenarios)."""
    return at - dt.timedelta(days=days)


def _build(cls: type[T], defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> T:
    __tracebackhide__ = True
    unknown = sorted(set(overrides) - {a.name for a in attrs.fields(cls)})  # type: ignore[arg-type]
    if unknown:
        msg = f"{cls.__name__} has no field(s) {', '.join(unknown)}"
        raise UsageError(msg)
    return cls(**{**defaults, **overrides})


def make_source(**overrides: Unpack[SourceFields]) -> Source:
    """A source: ``clinic-ehr``, the primary-care practice's EHR."""
    return _build(Source, {"id": "clinic-ehr", "name": "Synthetic Family Clinic"}, overrides)


def make_patient(**overrides: Unpack[PatientFields]) -> Patient:
    """A synthetic adult patient with an MRN, a name, a birth date, phone and address."""
    defaults: dict[str, Any] = {
        "id": PATIENT_ID,
        "identifiers": (Identifier("urn:example:mrn", "MRN-0001"),),
        "names": (HumanName(family="Testperson", given=("Alex",)),),
        "birth_date": PartialDate(1961, 4, 12),
        "sex": Sex.FEMALE,
        "telecom": (ContactPoint(ContactSystem.PHONE, "555-0100"),),
        "addresses": (
            Address(lines=("1 Example Street",), city="Springfield", postal_code="01101"),
        ),
        "timezone": "America/New_York",
    }
    return _build(Patient, defaults, overrides)


def make_practitioner(**overrides: Unpack[PractitionerFields]) -> Practitioner:
    """A synthetic primary-care physician (``pcp-1``)."""
    defaults: dict[str, Any] = {
        "id": PCP.id,
        "names": (HumanName(family="Doctorson", given=("Sam",)),),
        "discipline": Discipline.PRIMARY_CARE,
        "identifiers": (Identifier(System.NPI, "0000000001"),),
    }
    return _build(Practitioner, defaults, overrides)


def make_organization(**overrides: Unpack[OrganizationFields]) -> Organization:
    """A synthetic hospital (``hospital-1``) in New York time."""
    defaults: dict[str, Any] = {
        "id": HOSPITAL.id,
        "name": "Synthetic General Hospital",
        "kind": OrganizationKind.HOSPITAL,
        "discipline": Discipline.HOSPITAL,
        "timezone": "America/New_York",
    }
    return _build(Organization, defaults, overrides)


def make_related_person(**overrides: Unpack[RelatedPersonFields]) -> RelatedPerson:
    """The patient's guardian (``guardian-1``, v3 RoleCode ``GUARD``) since two years ago."""
    defaults: dict[str, Any] = {
        "id": GUARDIAN.id,
        "patient": PATIENT_ID,
        "relationships": (Code(System.V3_ROLE_CODE, "GUARD", "guardian"),),
        "names": (HumanName(family="Guardianson", given=("Robin",)),),
        "telecom": (ContactPoint(ContactSystem.PHONE, "555-0199"),),
        "period": Period(days_before(730)),
    }
    return _build(RelatedPerson, defaults, overrides)


def make_care_team(**overrides: Unpack[CareTeamFields]) -> CareTeam:
    """An active team: PCP, coordinator (lead) and therapist, all since a year ago."""
    since = Period(days_before(365))
    defaults: dict[str, Any] = {
        "id": "team-1",
        "patient": PATIENT_ID,
        "name": "Primary care team",
        "members": (
            CareTeamMember(PCP, Discipline.PRIMARY_CARE, period=since),
            CareTeamMember(COORDINATOR, Discipline.CARE_COORDINATION, period=since, lead=True),
            CareTeamMember(BEHAVIORAL_HEALTH, Discipline.BEHAVIORAL_HEALTH, period=since),
        ),
        "period": since,
    }
    return _build(CareTeam, defaults, overrides)


_R = ReferralStatus
_REFERRAL_PATHS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    _R.DRAFT: (),
    _R.SENT: (_R.SENT,),
    _R.RECEIVED: (_R.SENT, _R.RECEIVED),
    _R.ACCEPTED: (_R.SENT, _R.ACCEPTED),
    _R.DECLINED: (_R.SENT, _R.DECLINED),
    _R.SCHEDULED: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED),
    _R.NO_SHOW: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED, _R.NO_SHOW),
    _R.APPOINTMENT_CANCELLED: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED, _R.APPOINTMENT_CANCELLED),
    _R.SEEN: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED, _R.SEEN),
    _R.REPORT_RECEIVED: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED, _R.SEEN, _R.REPORT_RECEIVED),
    _R.CLOSED: (_R.SENT, _R.ACCEPTED, _R.SCHEDULED, _R.SEEN, _R.REPORT_RECEIVED, _R.CLOSED),
    _R.CANCELLED: (_R.SENT, _R.CANCELLED),
    _R.ENTERED_IN_ERROR: (_R.SENT, _R.ENTERED_IN_ERROR),
}
"""The usual road to each referral status, one step a day from ``authored_on``."""

_BY_REQUESTER = frozenset({_R.SENT, _R.REPORT_RECEIVED, _R.CLOSED, _R.CANCELLED})


def _referral_step(referral: Referral, status: ReferralStatus, at: dt.datetime) -> Referral:
    by = referral.requester if status in _BY_REQUESTER else referral.recipient
    if status is _R.SENT:
        return referral.send(at=at, by=by)
    if status is _R.SCHEDULED:
        return referral.schedule(AppointmentId("appointment-1"), at=at, by=by)
    if status is _R.SEEN:
        return referral.record_seen(at=at, by=by)
    if status is _R.REPORT_RECEIVED:
        return referral.receive_report(at=at, by=by, report=Ref("Document", "consult-note-1"))
    return referral.transition_to(status, at=at, by=by)


def make_referral(**overrides: Unpack[ReferralFields]) -> Referral:
    """A routine cardiology referral from the PCP, sent 5 days before :data:`AS_OF`.

    The dated fields follow ``authored_on`` and ``status``: the referral is walked from
    draft to ``status`` by its own lifecycle methods, one step a day from ``authored_on``
    (``sent_at``, ``seen_at``, ``report_received_at``, the appointment, the report,
    ``history`` and ``last_modified`` agree with that road). Without ``authored_on`` it is
    written early enough for the last step to fall 5 days before :data:`AS_OF`. Any
    field given explicitly wins over its derived value.
    """
    __tracebackhide__ = True
    fields: dict[str, Any] = dict(overrides)
    status = ReferralStatus(fields.pop("status", ReferralStatus.SENT))
    road = _REFERRAL_PATHS[status]
    authored: dt.datetime = fields.pop("authored_on", days_before(5 + max(len(road) - 1, 0)))
    base = _build(
        Referral,
        {
            "id": "referral-1",
            "patient": PATIENT_ID,
            "requester": PCP,
            "recipient": CARDIOLOGIST,
            "specialty": Code(System.SNOMED, "394579002", "Cardiology"),
            "reasons": (Code(System.ICD10CM, "I10", "Essential hypertension"),),
            "last_modified": authored,
        },
        {
            **{k: fields[k] for k in ("id", "patient", "requester", "recipient") if k in fields},
            "authored_on": authored,
            "status": ReferralStatus.DRAFT,
        },
    )
    for day, step in enumerate(road):
        base = _referral_step(base, step, authored + dt.timedelta(days=day))
    return _evolved(base, fields)


def _evolved(value: T, changes: Mapping[str, Any]) -> T:
    """``value`` with ``changes`` (the fields given explicitly), unknown names refused."""
    __tracebackhide__ = True
    cls = type(value)
    current: dict[str, Any] = attrs.asdict(value, recurse=False)  # type: ignore[arg-type]
    return _build(cls, current, changes)


_T = TaskStatus
_TASK_PATHS: dict[TaskStatus, tuple[TaskStatus, ...]] = {
    _T.DRAFT: (),
    _T.REQUESTED: (),
    _T.RECEIVED: (_T.RECEIVED,),
    _T.ACCEPTED: (_T.ACCEPTED,),
    _T.REJECTED: (_T.REJECTED,),
    _T.READY: (_T.ACCEPTED, _T.READY),
    _T.IN_PROGRESS: (_T.ACCEPTED, _T.IN_PROGRESS),
    _T.ON_HOLD: (_T.ACCEPTED, _T.IN_PROGRESS, _T.ON_HOLD),
    _T.COMPLETED: (_T.ACCEPTED, _T.IN_PROGRESS, _T.COMPLETED),
    _T.FAILED: (_T.ACCEPTED, _T.IN_PROGRESS, _T.FAILED),
    _T.CANCELLED: (_T.CANCELLED,),
    _T.ENTERED_IN_ERROR: (_T.ENTERED_IN_ERROR,),
}
"""The usual road from ``requested`` to each task status, one step an hour."""


def _task_step(task: Task, status: TaskStatus, at: dt.datetime) -> Task:
    by = task.owner or task.requester
    if status is _T.ON_HOLD:
        return task.hold(at=at, by=by, reason="waiting on the patient")
    return task.transition_to(status, at=at, by=by)


def make_task(**overrides: Unpack[TaskFields]) -> Task:
    """A requested task owned by the coordinator, due 2 days after :data:`AS_OF`.

    Written 1 day before :data:`AS_OF` (``authored_on``), due 3 days after it was
    written. Given another ``status``, the task is walked there from ``requested`` by its
    own lifecycle methods, one step an hour from ``authored_on``, so ``history`` and
    ``last_modified`` agree with it; any field given explicitly wins.
    """
    __tracebackhide__ = True
    fields: dict[str, Any] = dict(overrides)
    status = TaskStatus(fields.pop("status", TaskStatus.REQUESTED))
    authored: dt.datetime = fields.pop("authored_on", days_before(1))
    base = _build(
        Task,
        {
            "id": "task-1",
            "patient": PATIENT_ID,
            "description": "Call the patient to book the cardiology visit",
            "owner": COORDINATOR,
            "requester": PCP,
            "due": authored + dt.timedelta(days=3),
        },
        {
            **{k: fields[k] for k in ("id", "patient", "owner", "requester") if k in fields},
            "authored_on": authored,
            "status": TaskStatus.DRAFT if status is TaskStatus.DRAFT else TaskStatus.REQUESTED,
        },
    )
    for hour, step in enumerate(_TASK_PATHS[status], start=1):
        base = _task_step(base, step, authored + dt.timedelta(hours=hour))
    return _evolved(base, fields)


def make_transition(**overrides: Unpack[CareTransitionFields]) -> CareTransition:
    """A 3-day inpatient stay at the default hospital, discharged home 1 day ago."""
    defaults: dict[str, Any] = {
        "id": "stay-1",
        "patient": PATIENT_ID,
        "kind": TransitionKind.INPATIENT,
        "admitted_at": days_before(4),
        "discharged_at": days_before(1),
        "from_setting": CareSetting.EMERGENCY,
        "to_setting": CareSetting.HOME,
        "facility": HOSPITAL,
        "diagnoses": (
            Diagnosis(Code(System.ICD10CM, "I50.9", "Heart failure, unspecified"), principal=True),
        ),
    }
    return _build(CareTransition, defaults, overrides)


def make_encounter(**overrides: Unpack[EncounterFields]) -> Encounter:
    """An office visit with the PCP, 10 days before :data:`AS_OF`, lasting 30 minutes."""
    start = days_before(10)
    defaults: dict[str, Any] = {
        "id": "visit-1",
        "patient": PATIENT_ID,
        "klass": EncounterClass.AMBULATORY,
        "period": Period(start, start + dt.timedelta(minutes=30)),
        "performers": (PCP,),
    }
    return _build(Encounter, defaults, overrides)


def make_condition(**overrides: Unpack[ConditionFields]) -> Condition:
    """Active essential hypertension on the problem list since 2019."""
    defaults: dict[str, Any] = {
        "id": "condition-1",
        "patient": PATIENT_ID,
        "code": Code(System.ICD10CM, "I10", "Essential hypertension"),
        "onset": PartialDate(2019),
        "author": PCP,
    }
    return _build(Condition, defaults, overrides)


def make_medication(**overrides: Unpack[MedicationFields]) -> Medication:
    """Lisinopril 10 mg by mouth once daily, stated active."""
    defaults: dict[str, Any] = {
        "id": "medication-1",
        "patient": PATIENT_ID,
        "code": Code(System.RXNORM, "314076", "lisinopril 10 MG Oral Tablet"),
        "ingredients": (Code(System.RXNORM, "29046", "lisinopril"),),
        "dose": Quantity(10, "mg"),
        "route": Code(System.SNOMED, "26643006", "Oral route"),
        "frequency": "QD",
        "prescriber": PCP,
        "period": Period(days_before(200)),
    }
    return _build(Medication, defaults, overrides)


def make_allergy(**overrides: Unpack[AllergyFields]) -> Allergy:
    """An active penicillin allergy."""
    defaults: dict[str, Any] = {
        "id": "allergy-1",
        "patient": PATIENT_ID,
        "code": Code(System.SNOMED, "91936005", "Allergy to penicillin"),
        "criticality": "high",
    }
    return _build(Allergy, defaults, overrides)


def make_order(**overrides: Unpack[OrderFields]) -> Order:
    """An HbA1c lab order by the PCP, 3 days before :data:`AS_OF`."""
    defaults: dict[str, Any] = {
        "id": "order-1",
        "patient": PATIENT_ID,
        "code": Code(System.LOINC, "4548-4", "Hemoglobin A1c"),
        "authored_on": days_before(3),
        "requester": PCP,
    }
    return _build(Order, defaults, overrides)


def make_result(**overrides: Unpack[ResultFields]) -> Result:
    """A final, abnormal HbA1c result answering ``order-1``, issued 1 day ago."""
    defaults: dict[str, Any] = {
        "id": "result-1",
        "patient": PATIENT_ID,
        "code": Code(System.LOINC, "4548-4", "Hemoglobin A1c"),
        "issued": days_before(1),
        "value": Quantity(8.1, "%"),
        "interpretation": Interpretation.ABNORMAL,
        "based_on": ("order-1",),
    }
    return _build(Result, defaults, overrides)


def make_appointment(**overrides: Unpack[AppointmentFields]) -> Appointment:
    """A booked cardiology appointment for ``referral-1``, 7 days after :data:`AS_OF`."""
    start = AS_OF + dt.timedelta(days=7)
    defaults: dict[str, Any] = {
        "id": "appointment-1",
        "patient": PATIENT_ID,
        "start": start,
        "end": start + dt.timedelta(minutes=30),
        "status": AppointmentStatus.BOOKED,
        "participants": (CARDIOLOGIST,),
        "based_on": (Ref("Referral", "referral-1"),),
        "booked_at": days_before(2),
    }
    return _build(Appointment, defaults, overrides)


def make_goal(**overrides: Unpack[GoalFields]) -> Goal:
    """An active blood-pressure goal."""
    defaults: dict[str, Any] = {
        "id": "goal-1",
        "patient": PATIENT_ID,
        "description": "Blood pressure below 130/80",
        "addresses": (Ref("Condition", "condition-1"),),
    }
    return _build(Goal, defaults, overrides)


def make_care_plan(**overrides: Unpack[CarePlanFields]) -> CarePlan:
    """An active care plan with ``goal-1`` and one activity serving it."""
    defaults: dict[str, Any] = {
        "id": "careplan-1",
        "patient": PATIENT_ID,
        "title": "Hypertension plan",
        "created": days_before(100),
        "last_reviewed": days_before(100),
        "addresses": (Ref("Condition", "condition-1"),),
        "goals": ("goal-1",),
        "activities": (
            CarePlanActivity(description="Home blood-pressure log", goals=(GoalId("goal-1"),)),
        ),
        "author": PCP,
    }
    return _build(CarePlan, defaults, overrides)


def make_social_need(**overrides: Unpack[SocialNeedFields]) -> SocialNeed:
    """Food insecurity identified by a screening 10 days before :data:`AS_OF`."""
    defaults: dict[str, Any] = {
        "id": "need-1",
        "patient": PATIENT_ID,
        "domain": SocialDomain.FOOD_INSECURITY,
        "identified_at": days_before(10),
        "code": Code(System.SNOMED, "733423003", "Food insecurity"),
    }
    return _build(SocialNeed, defaults, overrides)


def make_communication(**overrides: Unpack[CommunicationFields]) -> Communication:
    """A discharge summary from the hospital to the PCP, sent 1 day ago."""
    defaults: dict[str, Any] = {
        "id": "communication-1",
        "patient": PATIENT_ID,
        "kind": CommunicationKind.DISCHARGE_SUMMARY,
        "sent": days_before(1),
        "sender": HOSPITAL,
        "recipients": (PCP,),
        "about": (Ref("CareTransition", "stay-1"),),
    }
    return _build(Communication, defaults, overrides)


def make_document(**overrides: Unpack[DocumentFields]) -> Document:
    """A discharge summary of ``stay-1`` by the hospital (LOINC 18842-5), dated 1 day ago."""
    defaults: dict[str, Any] = {
        "id": "document-1",
        "patient": PATIENT_ID,
        "types": (Code(System.LOINC, "18842-5", "Discharge summary"),),
        "date": days_before(1),
        "author": HOSPITAL,
        "custodian": HOSPITAL,
        "context": (Ref("CareTransition", "stay-1"),),
    }
    return _build(Document, defaults, overrides)


def make_consent(**overrides: Unpack[ConsentFields]) -> Consent:
    """A permit, for one year, to share every sensitive class with the care team."""
    defaults: dict[str, Any] = {
        "id": "consent-1",
        "patient": PATIENT_ID,
        "decision": ConsentDecision.PERMIT,
        "period": Period(days_before(30), days_before(30) + dt.timedelta(days=365)),
    }
    return _build(Consent, defaults, overrides)


def make_reconciliation(**overrides: Unpack[ReconciliationFields]) -> Reconciliation:
    """A medication-list reconciliation by the PCP, 1 hour before :data:`AS_OF`."""
    defaults: dict[str, Any] = {
        "id": "reconciliation-1",
        "patient": PATIENT_ID,
        "list": ListKind.MEDICATIONS,
        "performer": PCP,
        "at": AS_OF - dt.timedelta(hours=1),
    }
    return _build(Reconciliation, defaults, overrides)


def make_procedure(**overrides: Unpack[ProcedureFields]) -> Procedure:
    """Medication reconciliation documented as a procedure (SNOMED 430193006)."""
    defaults: dict[str, Any] = {
        "id": FactId("procedure-1"),
        "patient": PATIENT_ID,
        "code": Code(System.SNOMED, "430193006", "Medication reconciliation"),
        "performed": AS_OF - dt.timedelta(hours=2),
        "performer": PCP,
    }
    return _build(Procedure, defaults, overrides)


def make_enrollment(**overrides: Unpack[EnrollmentFields]) -> Enrollment:
    """Enrolment in chronic care management since 1 January 2026."""
    defaults: dict[str, Any] = {
        "id": "enrollment-1",
        "patient": PATIENT_ID,
        "program": "ccm",
        "period": Period(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
        "managing": COORDINATOR,
    }
    return _build(Enrollment, defaults, overrides)


def make_activity(**overrides: Unpack[CoordinationActivityFields]) -> CoordinationActivity:
    """Fifteen minutes of referral coordination by the coordinator, 1 day ago."""
    defaults: dict[str, Any] = {
        "id": "activity-1",
        "patient": PATIENT_ID,
        "kind": ActivityKind.REFERRAL_COORDINATION,
        "performer": COORDINATOR,
        "at": days_before(1),
        "minutes": 15,
        "about": (Ref("Referral", "referral-1"),),
    }
    return _build(CoordinationActivity, defaults, overrides)


def make_record(**overrides: Unpack[PatientRecordFields]) -> PatientRecord:
    """A record from ``clinic-ehr`` with the patient, team, PCP and hospital, and no facts.

    Pass fact tuples to fill it: ``make_record(referrals=(make_referral(),))``.
    """
    defaults: dict[str, Any] = {
        "source": make_source(),
        "patient": make_patient(),
        "practitioners": (
            make_practitioner(),
            make_practitioner(id=CARDIOLOGIST.id, discipline=Discipline.SPECIALIST),
            make_practitioner(id=BEHAVIORAL_HEALTH.id, discipline=Discipline.BEHAVIORAL_HEALTH),
            make_practitioner(id=COORDINATOR.id, discipline=Discipline.CARE_COORDINATION),
        ),
        "organizations": (make_organization(),),
    }
    return _build(PatientRecord, defaults, overrides)
