"""Hypothesis strategies for every carecoord domain model, valid by construction.

Each strategy draws small, synthetic objects (fake names such as ``"Testperson"``, short
tokens, a handful of code systems) in several time zones: UTC, fixed offsets and, when
the time-zone database is available, ``America/New_York``. Lifecycle models (tasks,
referrals, care teams) are reached by random legal walks, so their histories are real.
Strategies compose: fact strategies take ``patient_id`` to name one patient, and
:func:`patient_records` puts a few of every fact kind in one valid record.

Generated datetimes are never ambiguous or imaginary local times (the hour repeated or
skipped at a daylight-saving change): Python does not consider such an instant equal to
the same instant written with a fixed offset, which would make round trips unequal.

>>> from hypothesis import given
>>> from carecoord.testing.strategies import tasks
>>> @given(tasks(patient_id="patient-1"))
... def test_task_history(task):
...     assert task.history

This module needs Hypothesis: ``pip install 'carecoord[testing]'``.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import string
import zoneinfo
from collections.abc import Callable, Sequence
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from carecoord.domain import (
    Acknowledgement,
    ActivityKind,
    Address,
    Allergy,
    AllergyId,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    AuthorizationOutcome,
    CarePlan,
    CarePlanActivity,
    CarePlanId,
    CarePlanStatus,
    CareSetting,
    CareTeam,
    CareTeamId,
    CareTeamMember,
    CareTeamStatus,
    CareTransition,
    ClinicalStatus,
    Code,
    Communication,
    CommunicationId,
    CommunicationKind,
    Complexity,
    CompositionStatus,
    Condition,
    ConditionCategory,
    ConditionId,
    Consent,
    ConsentDecision,
    ConsentId,
    ContactPoint,
    ContactSystem,
    CoordinationActivity,
    Diagnosis,
    Discipline,
    Document,
    DocumentId,
    DocumentStatus,
    Encounter,
    EncounterClass,
    EncounterId,
    EncounterStatus,
    Enrollment,
    FactId,
    Goal,
    GoalId,
    HumanName,
    Identifier,
    Interpretation,
    KindTable,
    LinkKind,
    ListKind,
    Medication,
    MedicationId,
    MedicationKind,
    MedicationStatus,
    Note,
    Order,
    OrderId,
    OrderKind,
    OrderStatus,
    Organization,
    OrganizationId,
    OrganizationKind,
    PartialDate,
    Patient,
    PatientId,
    PatientLink,
    PatientRecord,
    Period,
    Practitioner,
    PractitionerId,
    PriorAuthorization,
    Priority,
    Procedure,
    Quantity,
    Reconciliation,
    ReconciliationDecision,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    RelatedPerson,
    RelatedPersonId,
    Result,
    ResultCategory,
    ResultComponent,
    ResultId,
    ResultStatus,
    Sensitivity,
    Sex,
    SocialDomain,
    SocialNeed,
    SocialNeedStatus,
    Source,
    SourceKind,
    StatusChange,
    System,
    Task,
    TaskId,
    TaskStatus,
    TransitionId,
    TransitionKind,
    VerificationStatus,
)
from carecoord.errors import MissingExtraError
from carecoord.profile import PatientProfile, merge_records
from carecoord.rules import (
    Evidence,
    EvidenceRole,
    Gap,
    GapReport,
    GapStatus,
    default_rules,
    detect_gaps,
)

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise MissingExtraError("hypothesis", "testing") from exc

__all__ = [
    "FAMILY_NAMES",
    "GIVEN_NAMES",
    "TIMEZONES",
    "acknowledgements",
    "addresses",
    "allergies",
    "appointments",
    "aware_datetimes",
    "care_plan_activities",
    "care_plans",
    "care_team_members",
    "care_teams",
    "clinical_times",
    "codes",
    "communications",
    "conditions",
    "consents",
    "contact_points",
    "coordination_activities",
    "diagnoses",
    "documents",
    "encounters",
    "enrollments",
    "gap_reports",
    "gaps",
    "goals",
    "human_names",
    "identifiers",
    "medications",
    "notes",
    "orders",
    "organizations",
    "partial_dates",
    "patient_links",
    "patient_records",
    "patients",
    "periods",
    "practitioners",
    "prior_authorizations",
    "procedures",
    "profiles",
    "quantities",
    "reconciliation_decisions",
    "reconciliations",
    "referrals",
    "refs",
    "related_persons",
    "result_components",
    "results",
    "social_needs",
    "sources",
    "status_changes",
    "tasks",
    "transitions",
]

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

FAMILY_NAMES: tuple[str, ...] = (
    "Testperson",
    "Sampleton",
    "Exampleby",
    "Fakename",
    "Mockwell",
    "Placeholder",
)
"""Synthetic family names: nobody real."""

GIVEN_NAMES: tuple[str, ...] = ("Alex", "Sam", "Robin", "Kim", "Jo", "Noor", "Zoë")
"""Synthetic given names."""


def _timezones() -> tuple[dt.tzinfo, ...]:
    zones: list[dt.tzinfo] = [
        dt.UTC,
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(dt.timedelta(hours=5, minutes=45)),
        dt.timezone(dt.timedelta(hours=-3)),
        dt.timezone(dt.timedelta(hours=-9, minutes=-30)),
        dt.timezone(dt.timedelta(hours=14)),
    ]
    with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):  # no tz database
        zones.append(zoneinfo.ZoneInfo("America/New_York"))
    return tuple(zones)


TIMEZONES: tuple[dt.tzinfo, ...] = _timezones()
"""The time zones generated datetimes use: UTC, fixed offsets, and America/New_York."""

_EARLIEST = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - Hypothesis bounds are naive
_LATEST = dt.datetime(2035, 12, 31)  # noqa: DTZ001

_TOKEN = st.text(alphabet=string.ascii_lowercase + string.digits + "-.", min_size=1, max_size=8)
_TEXT = st.text(alphabet="abcdefghij klmnop-éü漢.", max_size=16)
_CODE_SYSTEMS = st.sampled_from(
    [System.SNOMED, System.LOINC, System.ICD10CM, System.RXNORM, System.CPT, "urn:example:codes"]
)
_PARTY_TYPES = ("Practitioner", "Organization", "RelatedPerson")
_FACT_TYPES = ("Condition", "Encounter", "Referral", "Task", "Order", "Result", "CareTransition")


@cache
def _ids(prefix: str) -> st.SearchStrategy[str]:
    return st.integers(1, 999).map(lambda n: f"{prefix}-{n}")


@cache
def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


@cache
def _tuples(strategy: st.SearchStrategy[T], max_size: int = 2) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, max_size=max_size).map(tuple)


@cache
def _members(enum: type[E]) -> st.SearchStrategy[E]:
    return st.sampled_from(list(enum))


@cache
def _patient_ids(patient_id: str | None) -> st.SearchStrategy[PatientId]:
    if patient_id is not None:
        return st.just(PatientId(patient_id))
    return _ids("patient").map(PatientId)


def _value(member: Enum) -> Any:
    return member.value


def _unambiguous(value: dt.datetime) -> bool:
    """Whether the local time means one instant only (not in a DST fold or gap)."""
    return value.replace(fold=1 - value.fold).utcoffset() == value.utcoffset()


# --------------------------------------------------------------------------- values


_ZONES = st.sampled_from(TIMEZONES)


@cache
def _seconds(most: int) -> st.SearchStrategy[int]:
    return st.integers(0, most)


def _draw_after(
    draw: st.DrawFn, after: dt.datetime, within: dt.timedelta = dt.timedelta(days=60)
) -> dt.datetime:
    """An instant from ``after`` to ``after + within``, in a random zone, never ambiguous."""
    seconds = draw(_seconds(int(within.total_seconds())))
    value = (after.astimezone(dt.UTC) + dt.timedelta(seconds=seconds)).astimezone(draw(_ZONES))
    return value if _unambiguous(value) else value.astimezone(dt.UTC)


def _draw_optional_after(
    draw: st.DrawFn, after: dt.datetime, within: dt.timedelta = dt.timedelta(days=60)
) -> dt.datetime | None:
    return _draw_after(draw, after, within) if draw(st.booleans()) else None


@st.composite
def _later(draw: st.DrawFn, after: dt.datetime, within: dt.timedelta) -> dt.datetime:
    return _draw_after(draw, after, within)


_AWARE = st.datetimes(
    min_value=_EARLIEST,
    max_value=_LATEST,
    timezones=_ZONES,
    allow_imaginary=False,
).filter(_unambiguous)


def aware_datetimes(
    *, after: dt.datetime | None = None, within: dt.timedelta = dt.timedelta(days=60)
) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes in :data:`TIMEZONES`, from 2000 to 2035.

    With ``after``, instants from ``after`` to ``after + within`` (whole seconds later),
    so that "end after start" fields can be drawn in order.
    """
    if after is not None:
        return _later(after, within)
    return _AWARE


_MONTHS = st.none() | st.integers(1, 12)
_DAYS = st.none() | st.integers(1, 31)


@st.composite
def _partial_dates(draw: st.DrawFn) -> PartialDate:
    year = draw(st.integers(1900, 2035))
    month = draw(_MONTHS)
    if month is None:
        return PartialDate(year)
    day = draw(_DAYS)
    return PartialDate(year, month, min(day, calendar.monthrange(year, month)[1]) if day else None)


_PARTIAL_DATES = _partial_dates()


def partial_dates() -> st.SearchStrategy[PartialDate]:
    """Partial dates known to the year, the month or the day, from 1900 to 2035."""
    return _PARTIAL_DATES


_CLINICAL_TIMES = _AWARE | _PARTIAL_DATES


def clinical_times() -> st.SearchStrategy[dt.datetime | PartialDate]:
    """Clinical times: an aware datetime or a partial date."""
    return _CLINICAL_TIMES


def codes(systems: Sequence[str] | None = None) -> st.SearchStrategy[Code]:
    """Codes from a few well-known systems (or ``systems``), with or without a display.

    Some carry other codings of the same concept (``also``: up to two codes of any of the
    well-known systems, which have no other codings themselves).
    """
    return _codes(tuple(systems) if systems else None)


_PLAIN_CODES = st.builds(Code, system=_CODE_SYSTEMS, code=_TOKEN, display=_optional(_TEXT))


@cache
def _codes(systems: tuple[str, ...] | None) -> st.SearchStrategy[Code]:
    system = st.sampled_from(systems) if systems else _CODE_SYSTEMS
    return st.builds(
        Code,
        system=system,
        code=_TOKEN,
        display=_optional(_TEXT),
        also=_tuples(_PLAIN_CODES),
    )


@cache
def identifiers() -> st.SearchStrategy[Identifier]:
    """Business identifiers with synthetic values (``ID-123``)."""
    return st.builds(
        Identifier,
        system=st.sampled_from(["urn:example:mrn", System.NPI, "urn:example:member-id"]),
        value=_ids("ID"),
    )


def refs(types: Sequence[str] | str | None = None) -> st.SearchStrategy[Ref]:
    """References to objects of the given type(s) (parties and facts by default)."""
    if isinstance(types, str):
        return _refs((types,))
    return _refs(tuple(types) if types else (*_PARTY_TYPES, *_FACT_TYPES))


def _ref(kind: str, number: int) -> Ref:
    return Ref(kind, f"{kind.lower()}-{number}")


@cache
def _refs(kinds: tuple[str, ...]) -> st.SearchStrategy[Ref]:
    return st.builds(_ref, st.sampled_from(kinds), st.integers(1, 999))


@st.composite
def _periods(draw: st.DrawFn, open_start: bool) -> Period:
    start = draw(_optional(_AWARE)) if open_start else draw(_AWARE)
    if start is None:
        return Period(None, draw(_optional(_AWARE)))
    return Period(start, _draw_optional_after(draw, start))


_PERIODS = {True: _periods(open_start=True), False: _periods(open_start=False)}


def periods(*, open_start: bool = True) -> st.SearchStrategy[Period]:
    """Periods with an optional start and an optional end (never before the start).

    With ``open_start=False`` the start is always set.
    """
    return _PERIODS[open_start]


@cache
def quantities() -> st.SearchStrategy[Quantity]:
    """Finite quantities with an optional UCUM unit."""
    return st.builds(
        Quantity,
        value=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        unit=_optional(st.sampled_from(["mg", "%", "mmol/L", "kg", "mm[Hg]"])),
    )


@cache
def notes() -> st.SearchStrategy[Note]:
    """Free-text annotations."""
    return st.builds(
        Note,
        text=_TEXT,
        at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def status_changes() -> st.SearchStrategy[StatusChange]:
    """Standalone status-history entries (task status names)."""
    statuses = st.sampled_from([s.value for s in TaskStatus])
    return st.builds(
        StatusChange,
        from_status=_optional(statuses),
        to_status=statuses,
        at=aware_datetimes(),
        by=_optional(refs("Practitioner")),
        reason=_optional(_TEXT),
    )


# --------------------------------------------------------------------------- parties


@cache
def human_names() -> st.SearchStrategy[HumanName]:
    """Synthetic names (:data:`FAMILY_NAMES`, :data:`GIVEN_NAMES`)."""
    return st.builds(
        HumanName,
        family=_optional(st.sampled_from(FAMILY_NAMES)),
        given=_tuples(st.sampled_from(GIVEN_NAMES)),
        prefix=_tuples(st.sampled_from(["Dr", "Ms", "Mx"]), max_size=1),
        suffix=_tuples(st.sampled_from(["Jr", "III"]), max_size=1),
        use=_optional(st.sampled_from(["official", "usual", "nickname"])),
    )


@cache
def contact_points() -> st.SearchStrategy[ContactPoint]:
    """Synthetic phone numbers and e-mail addresses."""
    return st.builds(
        ContactPoint,
        system=_members(ContactSystem),
        value=st.integers(100, 199).map(lambda n: f"555-0{n}"),
        use=_optional(st.sampled_from(["home", "work", "mobile"])),
    )


@cache
def addresses() -> st.SearchStrategy[Address]:
    """Synthetic postal addresses."""
    return st.builds(
        Address,
        lines=_tuples(st.integers(1, 99).map(lambda n: f"{n} Example Street")),
        city=_optional(st.sampled_from(["Springfield", "Shelbyville", "Exampletown"])),
        state=_optional(st.sampled_from(["MA", "NY", "ZZ"])),
        postal_code=_optional(st.sampled_from(["01101", "00000", "99999"])),
        country=_optional(st.sampled_from(["US", "CA"])),
        use=_optional(st.sampled_from(["home", "work"])),
    )


@cache
def patient_links() -> st.SearchStrategy[PatientLink]:
    """Links to other patient records."""
    return st.builds(
        PatientLink,
        kind=_members(LinkKind),
        other_id=_patient_ids(None),
        other_source=_optional(_TOKEN),
    )


@cache
def sources() -> st.SearchStrategy[Source]:
    """Record sources."""
    return st.builds(
        Source,
        id=st.sampled_from(["clinic-ehr", "county-hie", "payer-claims", "lab-feed"]),
        name=_optional(st.sampled_from(["Synthetic Family Clinic", "Example HIE"])),
        kind=_members(SourceKind),
        retrieved_at=_optional(aware_datetimes()),
    )


@cache
def patients(patient_id: str | None = None) -> st.SearchStrategy[Patient]:
    """Synthetic patients (id ``patient_id`` when given)."""
    return st.builds(
        Patient,
        id=_patient_ids(patient_id),
        identifiers=_tuples(identifiers()),
        names=_tuples(human_names()),
        birth_date=_optional(partial_dates()),
        sex=_members(Sex),
        telecom=_tuples(contact_points()),
        addresses=_tuples(addresses(), max_size=1),
        deceased=st.booleans(),
        deceased_at=_optional(clinical_times()),
        links=_tuples(patient_links(), max_size=1),
        language=_optional(st.sampled_from(["en", "es", "fr"])),
        timezone=_optional(st.sampled_from(["America/New_York", "Europe/Paris", "UTC"])),
        general_practitioner=_tuples(refs("Practitioner"), max_size=1),
    )


@cache
def practitioners(practitioner_id: str | None = None) -> st.SearchStrategy[Practitioner]:
    """Synthetic practitioners."""
    ids = st.just(practitioner_id) if practitioner_id else _ids("practitioner")
    return st.builds(
        Practitioner,
        id=ids.map(PractitionerId),
        names=_tuples(human_names(), max_size=1),
        discipline=_members(Discipline),
        specialty=_optional(codes([System.NUCC])),
        organization=_optional(_ids("organization").map(OrganizationId)),
        identifiers=_tuples(identifiers(), max_size=1),
        telecom=_tuples(contact_points(), max_size=1),
    )


_RELATIONSHIPS = st.builds(
    Code,
    system=st.just(System.V3_ROLE_CODE),
    code=st.sampled_from(["GUARD", "HPOWATT", "DPOWATT", "MTH", "FTH", "SPS", "FRND", "NBOR"]),
    display=_optional(_TEXT),
)


@cache
def related_persons(patient_id: str | None = None) -> st.SearchStrategy[RelatedPerson]:
    """Relatives, guardians and agents of one patient, some of them representatives."""
    return st.builds(
        RelatedPerson,
        id=_ids("related").map(RelatedPersonId),
        patient=_patient_ids(patient_id),
        relationships=_tuples(_RELATIONSHIPS),
        names=_tuples(human_names(), max_size=1),
        telecom=_tuples(contact_points(), max_size=1),
        period=periods(),
        active=st.booleans(),
        representative=st.booleans(),
    )


@cache
def organizations(organization_id: str | None = None) -> st.SearchStrategy[Organization]:
    """Synthetic organisations."""
    ids = st.just(organization_id) if organization_id else _ids("organization")
    return st.builds(
        Organization,
        id=ids.map(OrganizationId),
        name=_optional(
            st.sampled_from(["Synthetic General Hospital", "Example Family Practice", "Food Bank"])
        ),
        kind=_members(OrganizationKind),
        discipline=_members(Discipline),
        identifiers=_tuples(identifiers(), max_size=1),
        timezone=_optional(st.sampled_from(["America/New_York", "America/Chicago"])),
        part_of=_optional(_ids("organization").map(OrganizationId)),
    )


# --------------------------------------------------------------------------- care teams


@cache
def care_team_members() -> st.SearchStrategy[CareTeamMember]:
    """Care-team memberships."""
    return st.builds(
        CareTeamMember,
        party=refs(_PARTY_TYPES),
        discipline=_members(Discipline),
        role=_optional(codes([System.SNOMED])),
        period=periods(),
        lead=st.booleans(),
    )


@st.composite
def care_teams(draw: st.DrawFn, patient_id: str | None = None, *, max_steps: int = 3) -> CareTeam:
    """Care teams with distinct member parties, after a random legal walk of statuses."""
    members = draw(st.lists(care_team_members(), max_size=3, unique_by=lambda m: m.party))
    at = draw(aware_datetimes())
    team = CareTeam(
        id=CareTeamId(draw(_ids("team"))),
        patient=draw(_patient_ids(patient_id)),
        status=draw(st.sampled_from([CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE])),
        name=draw(_optional(st.sampled_from(["Primary care team", "Transitions team"]))),
        members=tuple(members),
        period=draw(periods()),
        managing_organization=draw(_optional(refs("Organization"))),
        recorded_at=draw(_optional(aware_datetimes())),
    )
    for _ in range(draw(st.integers(0, max_steps))):
        allowed = sorted(CareTeam.allowed_transitions(team.status), key=_value)
        if not allowed:
            break
        at = _draw_after(draw, at, dt.timedelta(days=30))
        team = team.transition_to(
            draw(st.sampled_from(allowed)),
            at=at,
            by=draw(_optional(refs("Practitioner"))),
            reason=draw(_optional(_TEXT)),
        )
    return team


# --------------------------------------------------------------------------- tasks


def _task_moves(task: Task) -> list[TaskStatus | None]:
    """Legal next statuses; ``None`` stands for resuming an on-hold task."""
    if task.status is TaskStatus.ON_HOLD:
        return [None, TaskStatus.CANCELLED, TaskStatus.ENTERED_IN_ERROR]
    allowed = sorted(Task.allowed_transitions(task.status), key=_value)
    return [*allowed]


@st.composite
def tasks(
    draw: st.DrawFn,
    patient_id: str | None = None,
    *,
    min_steps: int = 1,
    max_steps: int = 4,
) -> Task:
    """Tasks reached by a random legal walk of ``min_steps`` to ``max_steps`` changes.

    With the default ``min_steps=1`` every task has a non-empty history; pass
    ``min_steps=0`` to also get freshly created tasks.
    """
    authored = draw(aware_datetimes())
    not_before = _draw_optional_after(draw, authored)
    due = _draw_optional_after(draw, not_before or authored)
    task = Task(
        id=TaskId(draw(_ids("task"))),
        patient=draw(_patient_ids(patient_id)),
        authored_on=authored,
        status=draw(st.sampled_from([TaskStatus.DRAFT, TaskStatus.REQUESTED])),
        intent=draw(st.sampled_from(["order", "plan", "proposal"])),
        code=draw(_optional(codes())),
        description=draw(_optional(_TEXT)),
        business_status=draw(_optional(st.sampled_from(["waiting-on-patient", "escalated"]))),
        priority=draw(_members(Priority)),
        owner=draw(_optional(refs("Practitioner"))),
        requester=draw(_optional(refs("Practitioner"))),
        focus=draw(_optional(refs(_FACT_TYPES))),
        part_of=draw(_tuples(_ids("task").map(TaskId), max_size=1)),
        not_before=not_before,
        due=due,
        notes=draw(_tuples(notes(), max_size=1)),
        sensitivity=draw(_SENSITIVITY),
    )
    at = authored
    for _ in range(draw(st.integers(min_steps, max_steps))):
        moves = _task_moves(task)
        if not moves:
            break
        move = draw(st.sampled_from(moves))
        at = _draw_after(draw, at, dt.timedelta(days=10))
        by = draw(_optional(refs("Practitioner")))
        if move is None:
            task = task.resume(at=at, by=by)
        else:
            task = task.transition_to(move, at=at, by=by, reason=draw(_optional(_TEXT)))
    return task


# --------------------------------------------------------------------------- referrals


@st.composite
def prior_authorizations(draw: st.DrawFn) -> PriorAuthorization:
    """Prior authorisations: not submitted, pending, or decided after submission."""
    submitted = draw(_optional(aware_datetimes()))
    decided = None if submitted is None else _draw_optional_after(draw, submitted)
    return PriorAuthorization(
        required=draw(st.booleans()),
        expedited=draw(st.booleans()),
        submitted_at=submitted,
        decided_at=decided,
        outcome=None if decided is None else draw(_members(AuthorizationOutcome)),
    )


def _referral_step(
    draw: st.DrawFn, referral: Referral, status: ReferralStatus, at: dt.datetime
) -> Referral:
    by = draw(_optional(refs("Practitioner")))
    if status is ReferralStatus.SENT:
        return referral.send(at=at, by=by)
    if status is ReferralStatus.SCHEDULED:
        appointment = AppointmentId(draw(_ids("appointment")))
        return referral.schedule(appointment, at=at, by=by)
    if status is ReferralStatus.SEEN:
        return referral.record_seen(at=at, by=by)
    if status is ReferralStatus.REPORT_RECEIVED:
        report = draw(_optional(refs("DocumentReference")))
        return referral.receive_report(at=at, by=by, report=report)
    return referral.transition_to(status, at=at, by=by, reason=draw(_optional(_TEXT)))


@st.composite
def referrals(
    draw: st.DrawFn,
    patient_id: str | None = None,
    *,
    min_steps: int = 1,
    max_steps: int = 6,
) -> Referral:
    """Referrals reached by a random legal walk through the closed loop.

    Some also carry a prior authorisation submitted (and perhaps decided) on the way.
    """
    authored = draw(aware_datetimes())
    referral = Referral(
        id=ReferralId(draw(_ids("referral"))),
        patient=draw(_patient_ids(patient_id)),
        authored_on=authored,
        requester=draw(refs("Practitioner")),
        recipient=draw(_optional(refs(("Practitioner", "Organization")))),
        specialty=draw(_optional(codes([System.SNOMED, System.NUCC]))),
        reasons=draw(_tuples(codes([System.ICD10CM, System.SNOMED]))),
        priority=draw(_members(Priority)),
        replaces=draw(_optional(_ids("referral").map(ReferralId))),
        community=draw(st.booleans()),
        note=draw(_optional(_TEXT)),
        sensitivity=draw(_SENSITIVITY),
    )
    at = authored
    for _ in range(draw(st.integers(min_steps, max_steps))):
        allowed = sorted(Referral.allowed_transitions(referral.status), key=_value)
        if not allowed:
            break
        at = _draw_after(draw, at, dt.timedelta(days=20))
        referral = _referral_step(draw, referral, draw(st.sampled_from(allowed)), at)
    if referral.is_open and draw(st.booleans()):
        at = _draw_after(draw, at, dt.timedelta(days=5))
        referral = referral.submit_prior_authorization(at=at, expedited=draw(st.booleans()))
        if draw(st.booleans()):
            at = _draw_after(draw, at, dt.timedelta(days=5))
            outcome = draw(_members(AuthorizationOutcome))
            referral = referral.decide_prior_authorization(outcome, at=at)
    return referral


# --------------------------------------------------------------------------- transitions


def diagnoses(*, principal: bool | None = None) -> st.SearchStrategy[Diagnosis]:
    """Diagnoses (``principal`` fixed when given)."""
    flag = st.booleans() if principal is None else st.just(principal)
    return st.builds(Diagnosis, code=codes([System.ICD10CM]), principal=flag)


@st.composite
def transitions(draw: st.DrawFn, patient_id: str | None = None) -> CareTransition:
    """Care transitions, still there or discharged, with at most one principal diagnosis."""
    admitted = draw(aware_datetimes())
    found = draw(st.lists(diagnoses(principal=False), max_size=3))
    with_principal = draw(st.booleans())
    if found and with_principal:
        index = draw(st.integers(0, len(found) - 1))
        found[index] = Diagnosis(found[index].code, principal=True)
    return CareTransition(
        id=TransitionId(draw(_ids("stay"))),
        patient=draw(_patient_ids(patient_id)),
        kind=draw(_members(TransitionKind)),
        admitted_at=admitted,
        discharged_at=_draw_optional_after(draw, admitted),
        from_setting=draw(_members(CareSetting)),
        to_setting=draw(_members(CareSetting)),
        facility=draw(_optional(refs("Organization"))),
        discharge_disposition=draw(_optional(codes([System.DISCHARGE_DISPOSITION]))),
        diagnoses=tuple(found),
        complexity=draw(_optional(_members(Complexity))),
        attending=draw(_optional(refs("Practitioner"))),
        encounter=draw(_optional(refs("Encounter"))),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
    )


# --------------------------------------------------------------------------- clinical facts

_SENSITIVITY = st.frozensets(_members(Sensitivity), max_size=3)


@st.composite
def encounters(draw: st.DrawFn, patient_id: str | None = None) -> Encounter:
    """Encounters (always with a start)."""
    return Encounter(
        id=EncounterId(draw(_ids("encounter"))),
        patient=draw(_patient_ids(patient_id)),
        klass=draw(_members(EncounterClass)),
        period=draw(periods(open_start=False)),
        status=draw(_members(EncounterStatus)),
        types=draw(_tuples(codes([System.CPT]), max_size=1)),
        performers=draw(_tuples(refs("Practitioner"))),
        organization=draw(_optional(refs("Organization"))),
        reasons=draw(_tuples(codes(), max_size=1)),
        diagnoses=draw(_tuples(codes([System.ICD10CM]))),
        based_on=draw(_tuples(refs("Referral"), max_size=1)),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs("Practitioner"))),
    )


@cache
def conditions(patient_id: str | None = None) -> st.SearchStrategy[Condition]:
    """Conditions with partial or exact onset and abatement times."""
    return st.builds(
        Condition,
        id=_ids("condition").map(ConditionId),
        patient=_patient_ids(patient_id),
        code=codes([System.ICD10CM, System.SNOMED]),
        category=_members(ConditionCategory),
        clinical_status=_members(ClinicalStatus),
        verification_status=_members(VerificationStatus),
        onset=_optional(clinical_times()),
        abatement=_optional(clinical_times()),
        sensitivity=_SENSITIVITY,
        encounter=_optional(refs("Encounter")),
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def medications(patient_id: str | None = None) -> st.SearchStrategy[Medication]:
    """Medication statements and orders."""
    return st.builds(
        Medication,
        id=_ids("medication").map(MedicationId),
        patient=_patient_ids(patient_id),
        code=codes([System.RXNORM]),
        kind=_members(MedicationKind),
        status=_members(MedicationStatus),
        ingredients=_tuples(codes([System.RXNORM])),
        dose=_optional(quantities()),
        route=_optional(codes([System.SNOMED])),
        frequency=_optional(st.sampled_from(["QD", "BID", "TID", "PRN"])),
        prescriber=_optional(refs("Practitioner")),
        period=periods(),
        authored_on=_optional(aware_datetimes()),
        reasons=_tuples(codes([System.ICD10CM]), max_size=1),
        sensitivity=_SENSITIVITY,
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@st.composite
def allergies(draw: st.DrawFn, patient_id: str | None = None) -> Allergy:
    """Coded allergies, or an explicit "no known allergies" (which has no code)."""
    no_known = draw(st.booleans())
    code = None if no_known else draw(codes([System.SNOMED]))
    return Allergy(
        id=AllergyId(draw(_ids("allergy"))),
        patient=draw(_patient_ids(patient_id)),
        code=code,
        no_known=no_known,
        clinical_status=draw(_members(ClinicalStatus)),
        verification_status=draw(_members(VerificationStatus)),
        criticality=draw(_optional(st.sampled_from(["low", "high", "unable-to-assess"]))),
        reactions=draw(_tuples(codes([System.SNOMED]))),
        onset=draw(_optional(clinical_times())),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs("Practitioner"))),
    )


@cache
def orders(patient_id: str | None = None) -> st.SearchStrategy[Order]:
    """Diagnostic orders."""
    return st.builds(
        Order,
        id=_ids("order").map(OrderId),
        patient=_patient_ids(patient_id),
        code=codes([System.LOINC, System.CPT]),
        authored_on=aware_datetimes(),
        kind=_members(OrderKind),
        status=_members(OrderStatus),
        requester=_optional(refs("Practitioner")),
        performer=_optional(refs(("Practitioner", "Organization"))),
        priority=_members(Priority),
        justification=_optional(_TEXT),
        sensitivity=_SENSITIVITY,
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


def acknowledgements(*, after: dt.datetime | None = None) -> st.SearchStrategy[Acknowledgement]:
    """Acknowledgements of a result (no earlier than ``after`` when given)."""
    return st.builds(Acknowledgement, by=refs("Practitioner"), at=aware_datetimes(after=after))


_ACK_COUNT = st.integers(0, 2)

_VALUES: st.SearchStrategy[Quantity | Code | str | None] = st.one_of(
    st.none(), quantities(), codes([System.SNOMED]), _TEXT
)


@cache
def result_components() -> st.SearchStrategy[ResultComponent]:
    """Parts of a panel result (code, value, interpretation)."""
    return st.builds(
        ResultComponent,
        code=codes([System.LOINC]),
        value=_VALUES,
        interpretation=_members(Interpretation),
    )


@st.composite
def results(draw: st.DrawFn, patient_id: str | None = None) -> Result:
    """Results valued by a quantity, a code, text or nothing, perhaps with components.

    Some group other results (``members``: ids of other results, never their own);
    acknowledgements come after the result was issued.
    """
    issued = draw(aware_datetimes())
    value = draw(_VALUES)
    result_id = ResultId(draw(_ids("result")))
    members = draw(_tuples(_ids("result").map(ResultId)))
    return Result(
        id=result_id,
        patient=draw(_patient_ids(patient_id)),
        code=draw(codes([System.LOINC])),
        issued=issued,
        value=value,
        interpretation=draw(_members(Interpretation)),
        components=draw(_tuples(result_components())),
        status=draw(_members(ResultStatus)),
        category=draw(_members(ResultCategory)),
        effective=draw(_optional(clinical_times())),
        based_on=draw(_tuples(_ids("order").map(OrderId))),
        members=tuple(m for m in members if m != result_id),
        performer=draw(_optional(refs("Organization"))),
        acknowledgements=tuple(
            Acknowledgement(draw(refs("Practitioner")), _draw_after(draw, issued))
            for _ in range(draw(_ACK_COUNT))
        ),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs("Practitioner"))),
    )


@st.composite
def appointments(draw: st.DrawFn, patient_id: str | None = None) -> Appointment:
    """Appointments that never end before they start."""
    start = draw(aware_datetimes())
    return Appointment(
        id=AppointmentId(draw(_ids("appointment"))),
        patient=draw(_patient_ids(patient_id)),
        start=start,
        end=_draw_optional_after(draw, start, dt.timedelta(hours=3)),
        status=draw(_members(AppointmentStatus)),
        participants=draw(_tuples(refs("Practitioner"))),
        based_on=draw(_tuples(refs("Referral"), max_size=1)),
        service_type=draw(_optional(codes([System.SNOMED]))),
        booked_at=draw(_optional(aware_datetimes())),
        status_changed_at=draw(_optional(aware_datetimes())),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs("Practitioner"))),
    )


@cache
def goals(patient_id: str | None = None) -> st.SearchStrategy[Goal]:
    """Goals of care."""
    return st.builds(
        Goal,
        id=_ids("goal").map(GoalId),
        patient=_patient_ids(patient_id),
        description=_TEXT,
        lifecycle_status=st.sampled_from(["proposed", "active", "on-hold", "completed"]),
        target_date=_optional(partial_dates()),
        addresses=_tuples(refs("Condition"), max_size=1),
        start=_optional(partial_dates()),
        sensitivity=_SENSITIVITY,
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def care_plan_activities() -> st.SearchStrategy[CarePlanActivity]:
    """Care-plan activities."""
    return st.builds(
        CarePlanActivity,
        description=_optional(_TEXT),
        code=_optional(codes([System.SNOMED])),
        status=st.sampled_from(["not-started", "scheduled", "in-progress", "completed"]),
        goals=_tuples(_ids("goal").map(GoalId)),
        performer=_optional(refs(_PARTY_TYPES)),
        scheduled=_optional(periods()),
    )


@cache
def care_plans(patient_id: str | None = None) -> st.SearchStrategy[CarePlan]:
    """Care plans with goals and activities."""
    return st.builds(
        CarePlan,
        id=_ids("careplan").map(CarePlanId),
        patient=_patient_ids(patient_id),
        status=_members(CarePlanStatus),
        title=_optional(_TEXT),
        categories=_tuples(codes([System.SNOMED]), max_size=1),
        period=periods(),
        created=_optional(aware_datetimes()),
        last_reviewed=_optional(aware_datetimes()),
        addresses=_tuples(refs("Condition"), max_size=1),
        goals=_tuples(_ids("goal").map(GoalId)),
        activities=_tuples(care_plan_activities()),
        contributors=_tuples(refs("Practitioner")),
        sensitivity=_SENSITIVITY,
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def social_needs(patient_id: str | None = None) -> st.SearchStrategy[SocialNeed]:
    """Social needs found by screening."""
    return st.builds(
        SocialNeed,
        id=_ids("need").map(FactId),
        patient=_patient_ids(patient_id),
        domain=_members(SocialDomain),
        identified_at=aware_datetimes(),
        code=_optional(codes([System.SNOMED])),
        status=_members(SocialNeedStatus),
        evidence=_tuples(refs("Observation"), max_size=1),
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@st.composite
def communications(draw: st.DrawFn, patient_id: str | None = None) -> Communication:
    """Communications, never received before they were sent."""
    sent = draw(aware_datetimes())
    return Communication(
        id=CommunicationId(draw(_ids("communication"))),
        patient=draw(_patient_ids(patient_id)),
        kind=draw(_members(CommunicationKind)),
        sent=sent,
        sender=draw(_optional(refs(_PARTY_TYPES))),
        recipients=draw(_tuples(refs(_PARTY_TYPES))),
        received=_draw_optional_after(draw, sent, dt.timedelta(days=3)),
        about=draw(_tuples(refs(_FACT_TYPES), max_size=1)),
        status=draw(st.sampled_from(["completed", "not-done", "in-progress"])),
        interactive=draw(st.booleans()),
        medium=draw(_optional(st.sampled_from(["phone", "fax", "portal", "letter"]))),
        note=draw(_optional(_TEXT)),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs("Practitioner"))),
    )


_LOINC_PLAIN = st.builds(Code, system=st.just(System.LOINC), code=_TOKEN, display=_optional(_TEXT))

_DOCUMENT_TYPES = st.sampled_from(
    [
        Code(System.LOINC, "18842-5", "Discharge summary"),
        Code(System.LOINC, "11488-4", "Consult note"),
        Code(System.LOINC, "57133-1", "Referral note"),
        Code(System.LOINC, "18761-7", "Transfer summary"),
    ]
)


@st.composite
def documents(draw: st.DrawFn, patient_id: str | None = None) -> Document:
    """Clinical documents (summaries, consult and referral notes) about visits and referrals."""
    return Document(
        id=DocumentId(draw(_ids("document"))),
        patient=draw(_patient_ids(patient_id)),
        # A document's types are the codings of its one type concept, each its own Code:
        # no ``also`` (the reader reads every coding as a type).
        types=draw(_tuples(_DOCUMENT_TYPES | _LOINC_PLAIN)),
        status=draw(_members(DocumentStatus)),
        doc_status=draw(_optional(_members(CompositionStatus))),
        categories=draw(_tuples(codes([System.LOINC]), max_size=1)),
        date=draw(_optional(aware_datetimes())),
        period=draw(periods()),
        custodian=draw(_optional(refs("Organization"))),
        context=draw(_tuples(refs(_FACT_TYPES))),
        description=draw(_optional(_TEXT)),
        sensitivity=draw(_SENSITIVITY),
        recorded_at=draw(_optional(aware_datetimes())),
        author=draw(_optional(refs(("Practitioner", "Organization")))),
    )


@cache
def consents(patient_id: str | None = None) -> st.SearchStrategy[Consent]:
    """Consents to share (or not) sensitive classes."""
    return st.builds(
        Consent,
        id=_ids("consent").map(ConsentId),
        patient=_patient_ids(patient_id),
        decision=_members(ConsentDecision),
        period=periods(),
        actors=_tuples(refs(_PARTY_TYPES)),
        classes=_SENSITIVITY,
        status=st.sampled_from(["active", "inactive", "rejected"]),
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def reconciliation_decisions() -> st.SearchStrategy[ReconciliationDecision]:
    """Decisions about one reconciled item."""
    return st.builds(
        ReconciliationDecision,
        item=refs(("Medication", "Allergy", "Condition")),
        action=st.sampled_from(["keep", "stop", "change", "add", "remove"]),
        note=_optional(_TEXT),
    )


@cache
def reconciliations(patient_id: str | None = None) -> st.SearchStrategy[Reconciliation]:
    """List reconciliations."""
    return st.builds(
        Reconciliation,
        id=_ids("reconciliation").map(FactId),
        patient=_patient_ids(patient_id),
        list=_members(ListKind),
        performer=refs("Practitioner"),
        at=aware_datetimes(),
        decisions=_tuples(reconciliation_decisions()),
        sources=_tuples(st.sampled_from(["clinic-ehr", "county-hie", "pharmacy"])),
        recorded_at=_optional(aware_datetimes()),
    )


@cache
def procedures(patient_id: str | None = None) -> st.SearchStrategy[Procedure]:
    """Procedures performed at an exact or partial time."""
    return st.builds(
        Procedure,
        id=_ids("procedure").map(FactId),
        patient=_patient_ids(patient_id),
        code=codes([System.SNOMED, System.CPT]),
        performed=clinical_times(),
        status=st.sampled_from(["completed", "in-progress", "not-done"]),
        performer=_optional(refs("Practitioner")),
        encounter=_optional(refs("Encounter")),
        sensitivity=_SENSITIVITY,
        recorded_at=_optional(aware_datetimes()),
        author=_optional(refs("Practitioner")),
    )


@cache
def enrollments(patient_id: str | None = None) -> st.SearchStrategy[Enrollment]:
    """Programme enrolments (CCM, PCM, BHI...)."""
    return st.builds(
        Enrollment,
        id=_ids("enrollment").map(FactId),
        patient=_patient_ids(patient_id),
        program=st.sampled_from(["ccm", "pcm", "bhi", "tcm"]),
        period=periods(),
        managing=_optional(refs("Practitioner")),
        recorded_at=_optional(aware_datetimes()),
    )


@cache
def coordination_activities(
    patient_id: str | None = None,
) -> st.SearchStrategy[CoordinationActivity]:
    """Coordination work with a non-negative number of minutes."""
    return st.builds(
        CoordinationActivity,
        id=_ids("activity").map(FactId),
        patient=_patient_ids(patient_id),
        kind=_members(ActivityKind),
        performer=refs("Practitioner"),
        at=aware_datetimes(),
        minutes=st.integers(0, 240),
        about=_tuples(refs(_FACT_TYPES), max_size=1),
        note=_optional(_TEXT),
        billable=st.booleans(),
        recorded_at=_optional(aware_datetimes()),
    )


# --------------------------------------------------------------------------- records

_FACT_STRATEGIES: KindTable[Callable[..., st.SearchStrategy[Any]]] = KindTable(
    "hypothesis strategies",
    {
        "care_teams": care_teams,
        "referrals": referrals,
        "transitions": transitions,
        "tasks": tasks,
        "encounters": encounters,
        "conditions": conditions,
        "medications": medications,
        "allergies": allergies,
        "orders": orders,
        "results": results,
        "appointments": appointments,
        "care_plans": care_plans,
        "goals": goals,
        "social_needs": social_needs,
        "communications": communications,
        "documents": documents,
        "consents": consents,
        "reconciliations": reconciliations,
        "procedures": procedures,
        "enrollments": enrollments,
        "activities": coordination_activities,
    },
)
"""For each fact kind, the strategy that generates its facts."""


def _fact_id(fact: Any) -> str:
    return str(fact.id)


@st.composite
def patient_records(
    draw: st.DrawFn,
    patient_id: str | None = None,
    *,
    min_facts: int = 1,
    max_facts: int = 2,
) -> PatientRecord:
    """Records holding ``min_facts`` to ``max_facts`` facts of every kind.

    Every fact names the record's patient, and ids are unique within each kind, so the
    record is valid; practitioners, organisations and related persons travel with it.
    """
    patient = draw(patients(patient_id))
    facts = {
        name: tuple(
            draw(
                st.lists(
                    strategy(patient_id=patient.id),
                    min_size=min_facts,
                    max_size=max_facts,
                    unique_by=_fact_id,
                )
            )
        )
        for name, strategy in _FACT_STRATEGIES.items()
    }
    return PatientRecord(
        source=draw(sources()),
        patient=patient,
        practitioners=tuple(draw(st.lists(practitioners(), max_size=2, unique_by=lambda p: p.id))),
        organizations=tuple(draw(st.lists(organizations(), max_size=2, unique_by=lambda o: o.id))),
        related_persons=tuple(
            draw(st.lists(related_persons(patient.id), max_size=2, unique_by=_fact_id))
        ),
        **facts,
    )


# --------------------------------------------------------------------------- profiles, gaps


@st.composite
def profiles(draw: st.DrawFn, *, max_records: int = 2, max_facts: int = 1) -> PatientProfile:
    """Unified profiles: 1 to ``max_records`` records of one person, merged.

    Each record comes from its own source; :func:`carecoord.profile.merge_records` merges
    them (facts and provenance as :func:`~carecoord.profile.build_profiles` gives them).
    """
    patient_id = draw(_ids("patient"))
    records = draw(
        st.lists(
            patient_records(patient_id, min_facts=0, max_facts=max_facts),
            min_size=1,
            max_size=max(1, max_records),
            unique_by=lambda r: r.source.id,
        )
    )
    return merge_records(records)


@st.composite
def gaps(draw: st.DrawFn, patient: str | None = None) -> Gap:
    """Gaps as the catalogue's rules report them, with fields that agree with each other.

    The rule, its family and default severity come from the catalogue; the clock opens
    before it is due; only a closed gap has ``closed_at`` and closing evidence (``late``
    when it closed after its due date); only a not-applicable gap has a ``reason``; the
    focus is a fact key of the patient's source and the trigger evidence names it.
    """
    rule = draw(st.sampled_from(default_rules().rules))
    status = draw(st.sampled_from(list(GapStatus)))
    source = draw(st.sampled_from(("clinic-ehr", "hospital-ehr", "bh-ehr")))
    fact = f"{source}/{draw(_ids('fact'))}"
    opened = draw(aware_datetimes())
    due = (opened + dt.timedelta(days=draw(st.integers(min_value=0, max_value=120)))).date()
    evidence = [Evidence(EvidenceRole.TRIGGER, Ref("Referral", fact), "the clock's start")]
    closed_at = None
    late = False
    if status is GapStatus.CLOSED:
        closed_at = opened + dt.timedelta(days=draw(st.integers(min_value=0, max_value=180)))
        late = closed_at.date() > due
        closing = Ref("Encounter", f"{source}/{draw(_ids('visit'))}")
        evidence.append(Evidence(EvidenceRole.CLOSING, closing, "the care that closed it"))
    metadata = rule.metadata
    return Gap(
        rule=metadata.id,
        patient=patient or f"{source}/{draw(_ids('patient'))}",
        status=status,
        severity=metadata.severity,
        due=due,
        opened=opened,
        focus=fact,
        summary=metadata.title,
        action=metadata.closes or metadata.title,
        evidence=tuple(evidence),
        closed_at=closed_at,
        late=late,
        reason="excluded" if status is GapStatus.NOT_APPLICABLE else None,
        family=metadata.family,
        standing=metadata.standing,
    )


@st.composite
def gap_reports(
    draw: st.DrawFn, *, as_of: dt.datetime | None = None, include_closed: bool = True
) -> GapReport:
    """Real gap reports: :func:`carecoord.rules.detect_gaps` over a drawn profile.

    ``as_of`` (default: drawn) is the evaluation instant. Many reports are empty, as most
    drawn profiles miss nothing; use :func:`gaps` to draw gaps themselves.
    """
    profile = draw(profiles())
    when = as_of if as_of is not None else draw(aware_datetimes())
    return detect_gaps(profile, as_of=when, include_closed=include_closed)
