"""The keyword arguments of each builder, as typed dictionaries (PEP 692 ``Unpack``).

One ``<Model>Fields`` per builder, listing every field of the model with its type, so a
type checker and an editor know what ``make_referral(...)`` accepts: a misspelt field is
an error before the test runs. ``tests/testing/test_builders.py`` checks that each one
lists exactly its model's fields. Ids are typed ``str`` (the models' id types are
``NewType`` s of ``str``), so ``make_referral(id="referral-2")`` type-checks.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from carecoord.domain import (
    Acknowledgement,
    ActivityKind,
    Address,
    Allergy,
    Appointment,
    AppointmentStatus,
    CarePlan,
    CarePlanActivity,
    CarePlanStatus,
    CareSetting,
    CareTeam,
    CareTeamMember,
    CareTeamStatus,
    CareTransition,
    ClinicalStatus,
    Code,
    Communication,
    CommunicationKind,
    Complexity,
    CompositionStatus,
    Condition,
    ConditionCategory,
    Consent,
    ConsentDecision,
    ContactPoint,
    CoordinationActivity,
    Diagnosis,
    Discipline,
    Document,
    DocumentStatus,
    Encounter,
    EncounterClass,
    EncounterStatus,
    Enrollment,
    Goal,
    HumanName,
    Identifier,
    Interpretation,
    ListKind,
    Medication,
    MedicationKind,
    MedicationStatus,
    Note,
    Order,
    OrderKind,
    OrderStatus,
    Organization,
    OrganizationKind,
    PartialDate,
    Patient,
    PatientLink,
    Period,
    Practitioner,
    PriorAuthorization,
    Priority,
    Procedure,
    Quantity,
    Reconciliation,
    ReconciliationDecision,
    Ref,
    Referral,
    ReferralStatus,
    RelatedPerson,
    Result,
    ResultCategory,
    ResultComponent,
    ResultStatus,
    Sensitivity,
    Sex,
    SocialDomain,
    SocialNeed,
    SocialNeedStatus,
    Source,
    SourceKind,
    StatusChange,
    Task,
    TaskStatus,
    TransitionKind,
    VerificationStatus,
)

__all__ = [
    "AllergyFields",
    "AppointmentFields",
    "CarePlanFields",
    "CareTeamFields",
    "CareTransitionFields",
    "CommunicationFields",
    "ConditionFields",
    "ConsentFields",
    "CoordinationActivityFields",
    "DocumentFields",
    "EncounterFields",
    "EnrollmentFields",
    "GoalFields",
    "MedicationFields",
    "OrderFields",
    "OrganizationFields",
    "PatientFields",
    "PatientRecordFields",
    "PractitionerFields",
    "ProcedureFields",
    "ReconciliationFields",
    "ReferralFields",
    "RelatedPersonFields",
    "ResultFields",
    "SocialNeedFields",
    "SourceFields",
    "TaskFields",
]


class CoordinationActivityFields(TypedDict, total=False):
    """The keyword arguments of ``make_activity``: the fields of ``CoordinationActivity``."""

    id: str
    patient: str
    kind: ActivityKind
    performer: Ref
    at: dt.datetime
    minutes: int
    about: tuple[Ref, ...]
    note: str | None
    billable: bool
    recorded_at: dt.datetime | None


class AllergyFields(TypedDict, total=False):
    """The keyword arguments of ``make_allergy``: the fields of ``Allergy``."""

    id: str
    patient: str
    code: Code | None
    no_known: bool
    clinical_status: ClinicalStatus
    verification_status: VerificationStatus
    criticality: str | None
    reactions: tuple[Code, ...]
    onset: dt.datetime | PartialDate | None
    recorded_at: dt.datetime | None
    author: Ref | None


class AppointmentFields(TypedDict, total=False):
    """The keyword arguments of ``make_appointment``: the fields of ``Appointment``."""

    id: str
    patient: str
    start: dt.datetime
    end: dt.datetime | None
    status: AppointmentStatus
    participants: tuple[Ref, ...]
    based_on: tuple[Ref, ...]
    service_type: Code | None
    booked_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class CarePlanFields(TypedDict, total=False):
    """The keyword arguments of ``make_care_plan``: the fields of ``CarePlan``."""

    id: str
    patient: str
    status: CarePlanStatus
    title: str | None
    categories: tuple[Code, ...]
    period: Period
    created: dt.datetime | None
    last_reviewed: dt.datetime | None
    addresses: tuple[Ref, ...]
    goals: tuple[str, ...]
    activities: tuple[CarePlanActivity, ...]
    contributors: tuple[Ref, ...]
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class CareTeamFields(TypedDict, total=False):
    """The keyword arguments of ``make_care_team``: the fields of ``CareTeam``."""

    id: str
    patient: str
    status: CareTeamStatus
    name: str | None
    members: tuple[CareTeamMember, ...]
    period: Period
    managing_organization: Ref | None
    history: tuple[StatusChange, ...]
    recorded_at: dt.datetime | None


class CommunicationFields(TypedDict, total=False):
    """The keyword arguments of ``make_communication``: the fields of ``Communication``."""

    id: str
    patient: str
    kind: CommunicationKind
    sent: dt.datetime
    sender: Ref | None
    recipients: tuple[Ref, ...]
    received: dt.datetime | None
    about: tuple[Ref, ...]
    status: str
    interactive: bool
    medium: str | None
    note: str | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class ConditionFields(TypedDict, total=False):
    """The keyword arguments of ``make_condition``: the fields of ``Condition``."""

    id: str
    patient: str
    code: Code
    category: ConditionCategory
    clinical_status: ClinicalStatus
    verification_status: VerificationStatus
    onset: dt.datetime | PartialDate | None
    abatement: dt.datetime | PartialDate | None
    sensitivity: frozenset[Sensitivity]
    encounter: Ref | None
    recorded_at: dt.datetime | None
    author: Ref | None


class ConsentFields(TypedDict, total=False):
    """The keyword arguments of ``make_consent``: the fields of ``Consent``."""

    id: str
    patient: str
    decision: ConsentDecision
    period: Period
    actors: tuple[Ref, ...]
    classes: frozenset[Sensitivity]
    status: str
    recorded_at: dt.datetime | None
    author: Ref | None


class DocumentFields(TypedDict, total=False):
    """The keyword arguments of ``make_document``: the fields of ``Document``."""

    id: str
    patient: str
    types: tuple[Code, ...]
    status: DocumentStatus
    doc_status: CompositionStatus | None
    categories: tuple[Code, ...]
    date: dt.datetime | None
    period: Period
    custodian: Ref | None
    context: tuple[Ref, ...]
    description: str | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class EncounterFields(TypedDict, total=False):
    """The keyword arguments of ``make_encounter``: the fields of ``Encounter``."""

    id: str
    patient: str
    klass: EncounterClass
    period: Period
    status: EncounterStatus
    types: tuple[Code, ...]
    performers: tuple[Ref, ...]
    organization: Ref | None
    reasons: tuple[Code, ...]
    diagnoses: tuple[Code, ...]
    based_on: tuple[Ref, ...]
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class EnrollmentFields(TypedDict, total=False):
    """The keyword arguments of ``make_enrollment``: the fields of ``Enrollment``."""

    id: str
    patient: str
    program: str
    period: Period
    managing: Ref | None
    recorded_at: dt.datetime | None


class GoalFields(TypedDict, total=False):
    """The keyword arguments of ``make_goal``: the fields of ``Goal``."""

    id: str
    patient: str
    description: str
    lifecycle_status: str
    target_date: PartialDate | None
    addresses: tuple[Ref, ...]
    start: PartialDate | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class MedicationFields(TypedDict, total=False):
    """The keyword arguments of ``make_medication``: the fields of ``Medication``."""

    id: str
    patient: str
    code: Code
    kind: MedicationKind
    status: MedicationStatus
    ingredients: tuple[Code, ...]
    dose: Quantity | None
    route: Code | None
    frequency: str | None
    prescriber: Ref | None
    period: Period
    authored_on: dt.datetime | None
    reasons: tuple[Code, ...]
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class OrderFields(TypedDict, total=False):
    """The keyword arguments of ``make_order``: the fields of ``Order``."""

    id: str
    patient: str
    code: Code
    authored_on: dt.datetime
    kind: OrderKind
    status: OrderStatus
    requester: Ref | None
    performer: Ref | None
    priority: Priority
    justification: str | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class OrganizationFields(TypedDict, total=False):
    """The keyword arguments of ``make_organization``: the fields of ``Organization``."""

    id: str
    name: str | None
    kind: OrganizationKind
    discipline: Discipline
    identifiers: tuple[Identifier, ...]
    timezone: str | None
    part_of: str | None


class PatientFields(TypedDict, total=False):
    """The keyword arguments of ``make_patient``: the fields of ``Patient``."""

    id: str
    identifiers: tuple[Identifier, ...]
    names: tuple[HumanName, ...]
    birth_date: PartialDate | None
    sex: Sex
    telecom: tuple[ContactPoint, ...]
    addresses: tuple[Address, ...]
    deceased: bool
    deceased_at: dt.datetime | PartialDate | None
    links: tuple[PatientLink, ...]
    language: str | None
    timezone: str | None
    general_practitioner: tuple[Ref, ...]


class PractitionerFields(TypedDict, total=False):
    """The keyword arguments of ``make_practitioner``: the fields of ``Practitioner``."""

    id: str
    names: tuple[HumanName, ...]
    discipline: Discipline
    specialty: Code | None
    organization: str | None
    identifiers: tuple[Identifier, ...]
    telecom: tuple[ContactPoint, ...]


class ProcedureFields(TypedDict, total=False):
    """The keyword arguments of ``make_procedure``: the fields of ``Procedure``."""

    id: str
    patient: str
    code: Code
    performed: dt.datetime | PartialDate
    status: str
    performer: Ref | None
    encounter: Ref | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class ReconciliationFields(TypedDict, total=False):
    """The keyword arguments of ``make_reconciliation``: the fields of ``Reconciliation``."""

    id: str
    patient: str
    list: ListKind
    performer: Ref
    at: dt.datetime
    decisions: tuple[ReconciliationDecision, ...]
    sources: tuple[str, ...]
    recorded_at: dt.datetime | None


class PatientRecordFields(TypedDict, total=False):
    """The keyword arguments of ``make_record``: the fields of ``PatientRecord``."""

    source: Source
    patient: Patient
    practitioners: tuple[Practitioner, ...]
    organizations: tuple[Organization, ...]
    related_persons: tuple[RelatedPerson, ...]
    care_teams: tuple[CareTeam, ...]
    referrals: tuple[Referral, ...]
    transitions: tuple[CareTransition, ...]
    tasks: tuple[Task, ...]
    encounters: tuple[Encounter, ...]
    conditions: tuple[Condition, ...]
    medications: tuple[Medication, ...]
    allergies: tuple[Allergy, ...]
    orders: tuple[Order, ...]
    results: tuple[Result, ...]
    appointments: tuple[Appointment, ...]
    care_plans: tuple[CarePlan, ...]
    goals: tuple[Goal, ...]
    social_needs: tuple[SocialNeed, ...]
    communications: tuple[Communication, ...]
    documents: tuple[Document, ...]
    consents: tuple[Consent, ...]
    reconciliations: tuple[Reconciliation, ...]
    procedures: tuple[Procedure, ...]
    enrollments: tuple[Enrollment, ...]
    activities: tuple[CoordinationActivity, ...]


class ReferralFields(TypedDict, total=False):
    """The keyword arguments of ``make_referral``: the fields of ``Referral``."""

    id: str
    patient: str
    authored_on: dt.datetime
    requester: Ref
    recipient: Ref | None
    status: ReferralStatus
    specialty: Code | None
    reasons: tuple[Code, ...]
    priority: Priority
    sent_at: dt.datetime | None
    prior_authorization: PriorAuthorization | None
    appointments: tuple[str, ...]
    seen_at: dt.datetime | None
    report_received_at: dt.datetime | None
    report: Ref | None
    replaces: str | None
    community: bool
    note: str | None
    history: tuple[StatusChange, ...]
    sensitivity: frozenset[Sensitivity]
    last_modified: dt.datetime | None


class RelatedPersonFields(TypedDict, total=False):
    """The keyword arguments of ``make_related_person``: the fields of ``RelatedPerson``."""

    id: str
    patient: str
    relationships: tuple[Code, ...]
    names: tuple[HumanName, ...]
    telecom: tuple[ContactPoint, ...]
    period: Period
    active: bool
    representative: bool


class ResultFields(TypedDict, total=False):
    """The keyword arguments of ``make_result``: the fields of ``Result``."""

    id: str
    patient: str
    code: Code
    issued: dt.datetime
    value: Quantity | Code | str | None
    interpretation: Interpretation
    components: tuple[ResultComponent, ...]
    status: ResultStatus
    category: ResultCategory
    effective: dt.datetime | PartialDate | None
    based_on: tuple[str, ...]
    members: tuple[str, ...]
    performer: Ref | None
    acknowledgements: tuple[Acknowledgement, ...]
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
    author: Ref | None


class SocialNeedFields(TypedDict, total=False):
    """The keyword arguments of ``make_social_need``: the fields of ``SocialNeed``."""

    id: str
    patient: str
    domain: SocialDomain
    identified_at: dt.datetime
    code: Code | None
    status: SocialNeedStatus
    evidence: tuple[Ref, ...]
    recorded_at: dt.datetime | None
    author: Ref | None


class SourceFields(TypedDict, total=False):
    """The keyword arguments of ``make_source``: the fields of ``Source``."""

    id: str
    name: str | None
    kind: SourceKind
    retrieved_at: dt.datetime | None


class TaskFields(TypedDict, total=False):
    """The keyword arguments of ``make_task``: the fields of ``Task``."""

    id: str
    patient: str
    authored_on: dt.datetime
    status: TaskStatus
    intent: str
    code: Code | None
    description: str | None
    business_status: str | None
    status_reason: str | None
    priority: Priority
    owner: Ref | None
    requester: Ref | None
    focus: Ref | None
    part_of: tuple[str, ...]
    not_before: dt.datetime | None
    due: dt.datetime | None
    notes: tuple[Note, ...]
    history: tuple[StatusChange, ...]
    sensitivity: frozenset[Sensitivity]
    last_modified: dt.datetime | None
    held_from: TaskStatus | None


class CareTransitionFields(TypedDict, total=False):
    """The keyword arguments of ``make_transition``: the fields of ``CareTransition``."""

    id: str
    patient: str
    kind: TransitionKind
    admitted_at: dt.datetime
    discharged_at: dt.datetime | None
    from_setting: CareSetting
    to_setting: CareSetting
    facility: Ref | None
    discharge_disposition: Code | None
    diagnoses: tuple[Diagnosis, ...]
    complexity: Complexity | None
    attending: Ref | None
    encounter: Ref | None
    sensitivity: frozenset[Sensitivity]
    recorded_at: dt.datetime | None
