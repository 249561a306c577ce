"""Clinical facts around the coordination work.

Every fact names its patient, and carries ``recorded_at`` (when the source recorded it;
rules evaluated at an earlier ``as_of`` do not see it) and ``author`` where known.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._task import Priority
from carecoord.domain._values import (
    AllergyId,
    AppointmentId,
    CarePlanId,
    Code,
    CommunicationId,
    ConditionId,
    ConsentId,
    EncounterId,
    FactId,
    GoalId,
    MedicationId,
    OrderId,
    PartialDate,
    PatientId,
    Period,
    Quantity,
    Ref,
    ResultId,
    Sensitivity,
    aware,
    before,
    choice,
    clinical_time,
    is_frozenset,
    is_tuple,
    masked,
    non_empty,
    optional_aware,
)
from carecoord.errors import InvalidTransition, Problem, ValidationError

__all__ = [
    "Acknowledgement",
    "Allergy",
    "Appointment",
    "AppointmentStatus",
    "CarePlan",
    "CarePlanActivity",
    "CarePlanStatus",
    "ClinicalStatus",
    "Communication",
    "CommunicationKind",
    "Condition",
    "ConditionCategory",
    "Consent",
    "ConsentDecision",
    "Encounter",
    "EncounterClass",
    "EncounterStatus",
    "Enrollment",
    "Goal",
    "Interpretation",
    "ListKind",
    "Medication",
    "MedicationKind",
    "MedicationStatus",
    "Order",
    "OrderKind",
    "OrderStatus",
    "Procedure",
    "Reconciliation",
    "ReconciliationDecision",
    "Result",
    "ResultCategory",
    "ResultComponent",
    "ResultStatus",
    "Sensitivity",
    "SocialDomain",
    "SocialNeed",
    "SocialNeedStatus",
    "VerificationStatus",
]


# --------------------------------------------------------------------------- encounters


class EncounterClass(Enum):
    """Encounter class (v3 ActCode, extended with telephone)."""

    AMBULATORY = "ambulatory"
    VIRTUAL = "virtual"
    TELEPHONE = "telephone"
    HOME = "home"
    EMERGENCY = "emergency"
    INPATIENT = "inpatient"
    OBSERVATION = "observation"
    OTHER = "other"

    @property
    def is_face_to_face_or_synchronous(self) -> bool:
        """Counts as a TCM/TRC follow-up visit (in person, home, or synchronous video)."""
        return (
            self is EncounterClass.AMBULATORY
            or self is EncounterClass.VIRTUAL
            or self is EncounterClass.HOME
        )


class EncounterStatus(Enum):
    """FHIR ``Encounter.status`` (simplified)."""

    PLANNED = "planned"
    IN_PROGRESS = "in-progress"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


@attrs.frozen
class Encounter:
    """A visit or contact: office, video, telephone, home, emergency, inpatient."""

    id: EncounterId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    klass: EncounterClass = attrs.field(validator=choice(EncounterClass))
    period: Period
    status: EncounterStatus = attrs.field(
        default=EncounterStatus.FINISHED, validator=choice(EncounterStatus)
    )
    types: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    performers: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    organization: Ref | None = None
    reasons: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    diagnoses: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    based_on: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def __attrs_post_init__(self) -> None:
        if self.period.start is None:
            raise ValidationError(Problem("period.start", "an encounter needs a start"))

    @property
    def start(self) -> dt.datetime:
        """When the encounter started."""
        assert self.period.start is not None  # checked at construction
        return self.period.start


# --------------------------------------------------------------------------- conditions


class ConditionCategory(Enum):
    """FHIR condition category, plus SDOH (US Core)."""

    PROBLEM_LIST = "problem-list-item"
    ENCOUNTER_DIAGNOSIS = "encounter-diagnosis"
    HEALTH_CONCERN = "health-concern"
    SDOH = "sdoh"


class ClinicalStatus(Enum):
    """FHIR condition/allergy clinical status."""

    ACTIVE = "active"
    RECURRENCE = "recurrence"
    RELAPSE = "relapse"
    INACTIVE = "inactive"
    REMISSION = "remission"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        """Active, recurrence and relapse."""
        # members compared by identity: no set built, no member hashed, on a hot path
        return (
            self is ClinicalStatus.ACTIVE
            or self is ClinicalStatus.RECURRENCE
            or (self is ClinicalStatus.RELAPSE)
        )


class VerificationStatus(Enum):
    """FHIR verification status."""

    UNCONFIRMED = "unconfirmed"
    PROVISIONAL = "provisional"
    DIFFERENTIAL = "differential"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    ENTERED_IN_ERROR = "entered-in-error"


@attrs.frozen
class Condition:
    """A problem or diagnosis, medical or psychological, with its sensitivity labels."""

    id: ConditionId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code
    category: ConditionCategory = attrs.field(
        default=ConditionCategory.PROBLEM_LIST, validator=choice(ConditionCategory)
    )
    clinical_status: ClinicalStatus = attrs.field(
        default=ClinicalStatus.ACTIVE, validator=choice(ClinicalStatus)
    )
    verification_status: VerificationStatus = attrs.field(
        default=VerificationStatus.CONFIRMED, validator=choice(VerificationStatus)
    )
    onset: dt.datetime | PartialDate | None = attrs.field(default=None, validator=clinical_time)
    abatement: dt.datetime | PartialDate | None = attrs.field(default=None, validator=clinical_time)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    encounter: Ref | None = None
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    @property
    def is_active(self) -> bool:
        """Clinically active and not refuted or entered in error."""
        verification = self.verification_status
        return self.clinical_status.is_active and not (
            verification is VerificationStatus.REFUTED
            or verification is VerificationStatus.ENTERED_IN_ERROR
        )


# --------------------------------------------------------------------------- medications


class MedicationKind(Enum):
    """Whether the source states the patient takes it, or orders it."""

    STATEMENT = "statement"
    ORDER = "order"


class MedicationStatus(Enum):
    """Medication status (union of FHIR MedicationStatement and MedicationRequest)."""

    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    INTENDED = "intended"
    NOT_TAKEN = "not-taken"
    DRAFT = "draft"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"

    @property
    def is_current(self) -> bool:
        """Active, on-hold or intended: on the list of things the patient takes."""
        return (
            self is MedicationStatus.ACTIVE
            or self is MedicationStatus.ON_HOLD
            or self is MedicationStatus.INTENDED
        )


@attrs.frozen
class Medication:
    """A medication the patient takes or was prescribed.

    ``ingredients`` (RxNorm ingredient codes) let sources that name different products of
    the same drug fold together; ``frequency`` is a normalised text such as ``"BID"``.
    """

    id: MedicationId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code
    kind: MedicationKind = attrs.field(
        default=MedicationKind.STATEMENT, validator=choice(MedicationKind)
    )
    status: MedicationStatus = attrs.field(
        default=MedicationStatus.ACTIVE, validator=choice(MedicationStatus)
    )
    ingredients: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    dose: Quantity | None = None
    route: Code | None = None
    frequency: str | None = None
    prescriber: Ref | None = None
    period: Period = attrs.Factory(Period)
    authored_on: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    reasons: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None


# --------------------------------------------------------------------------- allergies


@attrs.frozen
class Allergy:
    """An allergy or intolerance, or an explicit "no known allergies" (``no_known``)."""

    id: AllergyId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code | None = None
    no_known: bool = False
    clinical_status: ClinicalStatus = attrs.field(
        default=ClinicalStatus.ACTIVE, validator=choice(ClinicalStatus)
    )
    verification_status: VerificationStatus = attrs.field(
        default=VerificationStatus.CONFIRMED, validator=choice(VerificationStatus)
    )
    criticality: str | None = None
    reactions: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    onset: dt.datetime | PartialDate | None = attrs.field(default=None, validator=clinical_time)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def __attrs_post_init__(self) -> None:
        if self.code is None and not self.no_known:
            raise ValidationError(Problem("code", "an allergy needs a code or no_known=True"))
        if self.code is not None and self.no_known:
            raise ValidationError(Problem("no_known", "a coded allergy cannot be no-known"))


# --------------------------------------------------------------------------- orders & results


class OrderKind(Enum):
    """What kind of order."""

    LAB = "lab"
    IMAGING = "imaging"
    OTHER_DIAGNOSTIC = "other-diagnostic"
    PROCEDURE = "procedure"


class OrderStatus(Enum):
    """FHIR ``ServiceRequest.status``."""

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


@attrs.frozen
class Order:
    """A diagnostic order (lab, imaging...). ``justification`` explains a deliberate repeat."""

    id: OrderId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code
    authored_on: dt.datetime = attrs.field(validator=aware)
    kind: OrderKind = attrs.field(default=OrderKind.LAB, validator=choice(OrderKind))
    status: OrderStatus = attrs.field(default=OrderStatus.ACTIVE, validator=choice(OrderStatus))
    requester: Ref | None = None
    performer: Ref | None = None
    priority: Priority = attrs.field(default=Priority.ROUTINE, validator=choice(Priority))
    justification: str | None = attrs.field(default=None, repr=masked)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None


class Interpretation(Enum):
    """Simplified result interpretation."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def needs_follow_up(self) -> bool:
        """Abnormal and critical results need follow-up."""
        return self is Interpretation.ABNORMAL or self is Interpretation.CRITICAL


class ResultCategory(Enum):
    """FHIR ``observation-category``: what kind of result (lab, imaging, survey...)."""

    LABORATORY = "laboratory"
    IMAGING = "imaging"
    SURVEY = "survey"
    VITAL_SIGNS = "vital-signs"
    EXAM = "exam"
    SOCIAL_HISTORY = "social-history"
    PROCEDURE = "procedure"
    THERAPY = "therapy"
    ACTIVITY = "activity"
    UNKNOWN = "unknown"


class ResultStatus(Enum):
    """FHIR ``Observation.status`` (simplified)."""

    REGISTERED = "registered"
    PRELIMINARY = "preliminary"
    FINAL = "final"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


@attrs.frozen
class Acknowledgement:
    """Who acknowledged a result, and when."""

    by: Ref
    at: dt.datetime = attrs.field(validator=aware)


@attrs.frozen
class ResultComponent:
    """One part of a panel result: a blood pressure's systolic or diastolic reading.

    ``value`` is a quantity (with its unit), a code or text, and is masked in ``repr``;
    ``interpretation`` is the component's own (a panel's normal diastolic next to a high
    systolic).
    """

    code: Code
    value: Quantity | Code | str | None = attrs.field(default=None, repr=masked)
    interpretation: Interpretation = attrs.field(
        default=Interpretation.UNKNOWN, validator=choice(Interpretation)
    )


@attrs.frozen
class Result:
    """A test result, linked to the order(s) it answers, with acknowledgements.

    A result may group others: a report (FHIR ``DiagnosticReport.result``) or a panel
    (``Observation.hasMember``) lists the ids of its ``members``, results of the same
    record. Rules treat a report and its members as one result: acknowledging the report
    acknowledges them.

    A panel measured in parts (a blood pressure) has its values in ``components`` and
    usually no ``value`` of its own.
    """

    id: ResultId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code
    issued: dt.datetime = attrs.field(validator=aware)
    value: Quantity | Code | str | None = attrs.field(default=None, repr=masked)
    interpretation: Interpretation = attrs.field(
        default=Interpretation.UNKNOWN, validator=choice(Interpretation)
    )
    components: tuple[ResultComponent, ...] = attrs.field(default=(), validator=is_tuple)
    status: ResultStatus = attrs.field(default=ResultStatus.FINAL, validator=choice(ResultStatus))
    category: ResultCategory = attrs.field(
        default=ResultCategory.UNKNOWN, validator=choice(ResultCategory)
    )
    effective: dt.datetime | PartialDate | None = attrs.field(default=None, validator=clinical_time)
    based_on: tuple[OrderId, ...] = attrs.field(default=(), validator=is_tuple)
    members: tuple[ResultId, ...] = attrs.field(default=(), validator=is_tuple)
    performer: Ref | None = None
    acknowledgements: tuple[Acknowledgement, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def __attrs_post_init__(self) -> None:
        if self.id in self.members:
            raise ValidationError(Problem("members", "a result cannot be its own member"))

    def acknowledge(self, by: Ref, *, at: dt.datetime) -> Result:
        """Return a copy acknowledged by ``by`` at ``at``; not before it was issued."""
        if before(at, self.issued):
            raise ValidationError(Problem("acknowledgements", "acknowledged before issued"))
        return attrs.evolve(
            self, acknowledgements=(*self.acknowledgements, Acknowledgement(by, at))
        )

    def first_acknowledged(self, as_of: dt.datetime | None = None) -> Acknowledgement | None:
        """The earliest acknowledgement (at or before ``as_of`` when given)."""
        acks = [a for a in self.acknowledgements if as_of is None or a.at <= as_of]
        return min(acks, key=lambda a: a.at, default=None)


# --------------------------------------------------------------------------- appointments


class AppointmentStatus(Enum):
    """FHIR ``Appointment.status`` (simplified)."""

    PROPOSED = "proposed"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    NO_SHOW = "noshow"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"


_APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.PROPOSED: frozenset(
        {AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED, AppointmentStatus.ENTERED_IN_ERROR}
    ),
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.ARRIVED,
            AppointmentStatus.FULFILLED,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.ENTERED_IN_ERROR,
        }
    ),
    AppointmentStatus.ARRIVED: frozenset(
        {AppointmentStatus.FULFILLED, AppointmentStatus.ENTERED_IN_ERROR}
    ),
    AppointmentStatus.FULFILLED: frozenset({AppointmentStatus.ENTERED_IN_ERROR}),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.ENTERED_IN_ERROR}),
    AppointmentStatus.CANCELLED: frozenset({AppointmentStatus.ENTERED_IN_ERROR}),
    AppointmentStatus.ENTERED_IN_ERROR: frozenset(),
}


@attrs.frozen
class Appointment:
    """A booked slot, linked to the referral(s) it serves through ``based_on``."""

    id: AppointmentId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    start: dt.datetime = attrs.field(validator=aware)
    end: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    status: AppointmentStatus = attrs.field(
        default=AppointmentStatus.BOOKED, validator=choice(AppointmentStatus)
    )
    participants: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    based_on: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    service_type: Code | None = None
    booked_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    status_changed_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def __attrs_post_init__(self) -> None:
        if self.end is not None and before(self.end, self.start):
            raise ValidationError(Problem("end", "an appointment cannot end before it starts"))

    def transition_to(self, status: AppointmentStatus, *, at: dt.datetime) -> Appointment:
        """Return a copy in ``status``; illegal changes raise InvalidTransition."""
        allowed = _APPOINTMENT_TRANSITIONS[self.status]
        if status not in allowed:
            raise InvalidTransition(
                "Appointment", self.status.value, status.value, sorted(s.value for s in allowed)
            )
        return attrs.evolve(self, status=status, status_changed_at=at)


# --------------------------------------------------------------------------- care plans


class CarePlanStatus(Enum):
    """FHIR ``CarePlan.status``."""

    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


@attrs.frozen
class Goal:
    """A goal of care (``lifecycle_status`` as FHIR ``Goal.lifecycleStatus``)."""

    id: GoalId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    description: str = attrs.field(repr=masked)
    lifecycle_status: str = "active"
    target_date: PartialDate | None = None
    addresses: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    start: PartialDate | None = None
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    @property
    def is_active(self) -> bool:
        """Proposed, planned, accepted, active or on-hold goals are live."""
        return self.lifecycle_status in {"proposed", "planned", "accepted", "active", "on-hold"}


@attrs.frozen
class CarePlanActivity:
    """Something the plan says will be done; ``goals`` lists the goals it serves."""

    description: str | None = attrs.field(default=None, repr=masked)
    code: Code | None = None
    status: str = "not-started"
    goals: tuple[GoalId, ...] = attrs.field(default=(), validator=is_tuple)
    performer: Ref | None = None
    scheduled: Period | None = None


@attrs.frozen
class CarePlan:
    """A care plan with its goals, activities, authors and last review."""

    id: CarePlanId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    status: CarePlanStatus = attrs.field(
        default=CarePlanStatus.ACTIVE, validator=choice(CarePlanStatus)
    )
    title: str | None = attrs.field(default=None, repr=masked)
    categories: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    period: Period = attrs.Factory(Period)
    created: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    last_reviewed: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    addresses: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    goals: tuple[GoalId, ...] = attrs.field(default=(), validator=is_tuple)
    activities: tuple[CarePlanActivity, ...] = attrs.field(default=(), validator=is_tuple)
    contributors: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def reviewed(self, *, at: dt.datetime, by: Ref | None = None) -> CarePlan:
        """Return a copy reviewed at ``at`` (``by`` joins the contributors)."""
        contributors = self.contributors
        if by is not None and by not in contributors:
            contributors = (*contributors, by)
        return attrs.evolve(self, last_reviewed=at, contributors=contributors)


# --------------------------------------------------------------------------- social needs


class SocialDomain(Enum):
    """Gravity Project SDOH domains."""

    FOOD_INSECURITY = "food-insecurity"
    HOUSING_INSTABILITY = "housing-instability"
    HOMELESSNESS = "homelessness"
    INADEQUATE_HOUSING = "inadequate-housing"
    TRANSPORTATION_INSECURITY = "transportation-insecurity"
    FINANCIAL_INSECURITY = "financial-insecurity"
    UTILITY_INSECURITY = "utility-insecurity"
    INTERPERSONAL_SAFETY = "interpersonal-safety"
    SOCIAL_CONNECTION = "social-connection"
    EDUCATION = "educational-attainment"
    EMPLOYMENT = "employment-status"
    HEALTH_INSURANCE = "health-insurance-coverage-status"
    ELDER_ABUSE = "elder-abuse"
    MATERIAL_HARDSHIP = "material-hardship"
    STRESS = "stress"
    VETERAN_STATUS = "veteran-status"
    OTHER = "other"


class SocialNeedStatus(Enum):
    """Where a social need stands."""

    IDENTIFIED = "identified"
    IN_PROGRESS = "in-progress"
    ADDRESSED = "addressed"
    RESOLVED = "resolved"
    DECLINED = "declined"


@attrs.frozen
class SocialNeed:
    """A social need found by a screening or assessment (a positive screen)."""

    id: FactId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    domain: SocialDomain = attrs.field(validator=choice(SocialDomain))
    identified_at: dt.datetime = attrs.field(validator=aware)
    code: Code | None = None
    status: SocialNeedStatus = attrs.field(
        default=SocialNeedStatus.IDENTIFIED, validator=choice(SocialNeedStatus)
    )
    evidence: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None


# --------------------------------------------------------------------------- communications


class CommunicationKind(Enum):
    """What a communication is about, for the rules that look for it."""

    ADMISSION_NOTICE = "admission-notice"
    DISCHARGE_SUMMARY = "discharge-summary"
    CONSULT_REPORT = "consult-report"
    MEDICATION_CHANGE = "medication-change"
    CARE_PLAN_UPDATE = "care-plan-update"
    PATIENT_CONTACT = "patient-contact"
    RESULT_NOTIFICATION = "result-notification"
    REFERRAL = "referral"
    OTHER = "other"


@attrs.frozen
class Communication:
    """A message between parties, or a contact with the patient.

    For patient contacts, ``interactive`` tells a two-way conversation from a voicemail or
    letter, and ``status`` ``"not-done"`` records an unsuccessful attempt (TCM counts two
    documented attempts). The ``note`` text is masked in ``repr``.
    """

    id: CommunicationId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    kind: CommunicationKind = attrs.field(validator=choice(CommunicationKind))
    sent: dt.datetime = attrs.field(validator=aware)
    sender: Ref | None = None
    recipients: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    received: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    about: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    status: str = "completed"
    interactive: bool = False
    medium: str | None = None
    note: str | None = attrs.field(default=None, repr=masked)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def __attrs_post_init__(self) -> None:
        if self.received is not None and before(self.received, self.sent):
            raise ValidationError(Problem("received", "received before it was sent"))


# --------------------------------------------------------------------------- consent


class ConsentDecision(Enum):
    """Permit or deny."""

    PERMIT = "permit"
    DENY = "deny"


@attrs.frozen
class Consent:
    """A patient's consent to share (or not) classes of sensitive information with actors.

    An empty ``actors`` means anyone on the care team; an empty ``classes`` means every
    class (except psychotherapy notes, which are never shared).
    """

    id: ConsentId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    decision: ConsentDecision = attrs.field(validator=choice(ConsentDecision))
    period: Period = attrs.Factory(Period)
    actors: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    classes: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    status: str = "active"
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None

    def applies(self, actor: Ref, sensitivity: Sensitivity, at: dt.datetime) -> bool:
        """Whether this consent speaks about ``actor`` seeing ``sensitivity`` at ``at``."""
        return (
            self.status == "active"
            and self.period.contains(at)
            and (not self.actors or actor in self.actors)
            and (not self.classes or sensitivity in self.classes)
        )


# --------------------------------------------------------------------------- reconciliation


class ListKind(Enum):
    """Which list was reconciled."""

    MEDICATIONS = "medications"
    ALLERGIES = "allergies"
    PROBLEMS = "problems"


@attrs.frozen
class ReconciliationDecision:
    """What the reconciler decided about one item: keep, stop, change, add, or remove."""

    item: Ref
    action: str
    note: str | None = attrs.field(default=None, repr=masked)


@attrs.frozen
class Reconciliation:
    """A reconciliation of one list: who, when, which list, which decisions."""

    id: FactId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    list: ListKind = attrs.field(validator=choice(ListKind))
    performer: Ref
    at: dt.datetime = attrs.field(validator=aware)
    decisions: tuple[ReconciliationDecision, ...] = attrs.field(default=(), validator=is_tuple)
    sources: tuple[str, ...] = attrs.field(default=(), validator=is_tuple)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)


# --------------------------------------------------------------------------- procedures, programmes


@attrs.frozen
class Procedure:
    """A procedure performed (including medication reconciliation or TCM codes as evidence)."""

    id: FactId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    code: Code
    performed: dt.datetime | PartialDate = attrs.field(validator=clinical_time)
    status: str = "completed"
    performer: Ref | None = None
    encounter: Ref | None = None
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None


@attrs.frozen
class Enrollment:
    """Enrolment in a programme, such as chronic care management (``program="ccm"``)."""

    id: FactId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    program: str = attrs.field(validator=non_empty)
    period: Period
    managing: Ref | None = None
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
