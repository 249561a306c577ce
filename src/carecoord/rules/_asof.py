"""Time travel: the profile as it was knowable at ``as_of``.

Rules see only this view. A fact recorded after ``as_of`` does not exist in it: each fact is
dated by its ``recorded_at`` when set, else by its natural date (a referral's
``authored_on``, a result's ``issued``, a communication's ``sent``, a stay's
``admitted_at``...). A fact recorded ahead of its natural date (a message dated in the
future) exists only from that date: it cannot have happened before.

Facts that do exist are shown in the state they were in at ``as_of``: a discharge after
``as_of`` is not yet known (the stay is ongoing), referral and task statuses are their
histories replayed up to ``as_of``, acknowledgements, receipts, report receipts,
prior-authorisation decisions and appointment status changes after ``as_of`` are removed.
Facts with no date at all are always visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from carecoord.domain import (
    FACT_FIELDS,
    FACT_KINDS,
    Appointment,
    AppointmentStatus,
    CarePlan,
    CarePlanStatus,
    CareSetting,
    CareTeam,
    CareTeamStatus,
    CareTransition,
    ClinicalStatus,
    Communication,
    Condition,
    Encounter,
    EncounterStatus,
    Enrollment,
    KindTable,
    Medication,
    MedicationStatus,
    PartialDate,
    Patient,
    PatientRecord,
    Period,
    Referral,
    ReferralStatus,
    Result,
    StatusChange,
    Task,
    TaskStatus,
    fact_kind,
    to_local_date,
)
from carecoord.profile import Fact, PatientProfile

__all__ = ["known_at", "natural_date", "profile_as_of", "referral_status_at", "task_status_at"]

T = TypeVar("T")
_R = TypeVar("_R", PatientRecord, PatientProfile)


def natural_date(kind: str, fact: object) -> dt.datetime | PartialDate | None:
    """The date a fact of ``kind`` (a profile field name) happened, by its own fields.

    The natural date is declared with the kind in the registry
    (:attr:`carecoord.domain.FactKind.natural_date`).
    """
    return fact_kind(kind).date_of(fact)


def known_at(kind: str, fact: object) -> dt.datetime | PartialDate | None:
    """When a fact of ``kind`` (a profile field name) became known: ``recorded_at`` or natural.

    ``None`` means undated (always visible). A fact recorded ahead of its natural date is
    not visible before that date either (see :func:`profile_as_of`).
    """
    recorded = getattr(fact, "recorded_at", None)
    if isinstance(recorded, dt.datetime):
        return recorded
    return natural_date(kind, fact)


def _after(value: dt.datetime | None, as_of: dt.datetime) -> bool:
    return value is not None and value > as_of


def _truncate(history: tuple[StatusChange, ...], at: dt.datetime) -> tuple[StatusChange, ...]:
    return tuple(c for c in history if c.at <= at)


def referral_status_at(referral: Referral, at: dt.datetime) -> ReferralStatus:
    """The referral's status at ``at`` (:meth:`~carecoord.Referral.status_at`)."""
    return referral.status_at(at)


def task_status_at(task: Task, at: dt.datetime) -> TaskStatus:
    """The task's status at ``at`` (:meth:`~carecoord.Task.status_at`)."""
    return task.status_at(at)


# --------------------------------------------------------------------------- projections
# Each returns the fact as it stood at ``as_of`` (the same object when nothing changes).


def _referral(ref: Referral, as_of: dt.datetime) -> Referral:
    status = referral_status_at(ref, as_of)
    history = _truncate(ref.history, as_of)
    changes: dict[str, Any] = {}
    if status is not ref.status:
        changes["status"] = status
    if len(history) != len(ref.history):
        changes["history"] = history
    for name in ("sent_at", "seen_at"):
        if _after(getattr(ref, name), as_of):
            changes[name] = None
    if _after(ref.report_received_at, as_of):
        changes["report_received_at"] = None
        changes["report"] = None
    if _after(ref.last_modified, as_of):
        changes["last_modified"] = history[-1].at if history else None
    auth = ref.prior_authorization
    if auth is not None:
        if _after(auth.submitted_at, as_of):
            changes["prior_authorization"] = attrs.evolve(
                auth, submitted_at=None, decided_at=None, outcome=None
            )
        elif _after(auth.decided_at, as_of):
            changes["prior_authorization"] = attrs.evolve(auth, decided_at=None, outcome=None)
    if history:
        scheduled = sum(c.to_status == ReferralStatus.SCHEDULED.value for c in history)
        if len(ref.appointments) > scheduled and any(
            c.to_status == ReferralStatus.SCHEDULED.value for c in ref.history
        ):
            changes["appointments"] = ref.appointments[:scheduled]
    return attrs.evolve(ref, **changes) if changes else ref


def _transition(stay: CareTransition, as_of: dt.datetime) -> CareTransition:
    if not _after(stay.discharged_at, as_of):
        return stay
    return attrs.evolve(
        stay,
        discharged_at=None,
        to_setting=CareSetting.UNKNOWN,
        discharge_disposition=None,
        complexity=None,
    )


def _task(task: Task, as_of: dt.datetime) -> Task:
    history = _truncate(task.history, as_of)
    notes = tuple(n for n in task.notes if not _after(n.at, as_of))
    if len(history) == len(task.history) and len(notes) == len(task.notes):
        return task
    status = task_status_at(task, as_of)
    held_from = None
    if status is TaskStatus.ON_HOLD and history and history[-1].from_status:
        held_from = TaskStatus(history[-1].from_status)
    return attrs.evolve(
        task,
        status=status,
        history=history,
        notes=notes,
        held_from=held_from,
        last_modified=history[-1].at if history else None,
    )


def _care_team(team: CareTeam, as_of: dt.datetime) -> CareTeam:
    history = _truncate(team.history, as_of)
    if len(history) == len(team.history):
        return team
    first = team.history[0]
    status = CareTeamStatus(history[-1].to_status if history else first.from_status or "active")
    return attrs.evolve(team, status=status, history=history)


def _encounter(visit: Encounter, as_of: dt.datetime) -> Encounter:
    if not _after(visit.period.end, as_of):
        return visit
    status = (
        EncounterStatus.IN_PROGRESS if visit.status is EncounterStatus.FINISHED else visit.status
    )
    return attrs.evolve(visit, period=Period(visit.period.start, None), status=status)


def _clinical_after(value: dt.datetime | PartialDate | None, as_of: dt.datetime) -> bool:
    if isinstance(value, PartialDate):
        return value.earliest() > as_of.date()
    return _after(value, as_of)


def _condition(condition: Condition, as_of: dt.datetime) -> Condition:
    if not _clinical_after(condition.abatement, as_of):
        return condition
    status = condition.clinical_status
    if not status.is_active:
        status = ClinicalStatus.ACTIVE
    return attrs.evolve(condition, abatement=None, clinical_status=status)


def _medication(med: Medication, as_of: dt.datetime) -> Medication:
    if not _after(med.period.end, as_of):
        return med
    status = med.status
    if status in {MedicationStatus.STOPPED, MedicationStatus.COMPLETED}:
        status = MedicationStatus.ACTIVE
    return attrs.evolve(med, period=Period(med.period.start, None), status=status)


def _result(result: Result, as_of: dt.datetime) -> Result:
    if not result.acknowledgements:
        return result
    acks = tuple(a for a in result.acknowledgements if a.at <= as_of)
    if len(acks) == len(result.acknowledgements):
        return result
    return attrs.evolve(result, acknowledgements=acks)


_SETTLED = frozenset(
    {AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED, AppointmentStatus.NO_SHOW}
)


def _appointment(appt: Appointment, as_of: dt.datetime) -> Appointment:
    changed_later = _after(appt.status_changed_at, as_of)
    not_started = appt.status_changed_at is None and appt.start > as_of and appt.status in _SETTLED
    if not (changed_later or not_started):
        return appt
    if appt.status in {AppointmentStatus.PROPOSED, AppointmentStatus.BOOKED}:
        return attrs.evolve(appt, status_changed_at=None)
    return attrs.evolve(appt, status=AppointmentStatus.BOOKED, status_changed_at=None)


def _care_plan(plan: CarePlan, as_of: dt.datetime) -> CarePlan:
    changes: dict[str, Any] = {}
    if _after(plan.last_reviewed, as_of):
        changes["last_reviewed"] = None
    if _after(plan.period.end, as_of):
        changes["period"] = Period(plan.period.start, None)
        if plan.status in {CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED}:
            changes["status"] = CarePlanStatus.ACTIVE
    return attrs.evolve(plan, **changes) if changes else plan


def _communication(message: Communication, as_of: dt.datetime) -> Communication:
    if not _after(message.received, as_of):
        return message
    return attrs.evolve(message, received=None)


def _enrollment(enrollment: Enrollment, as_of: dt.datetime) -> Enrollment:
    if not _after(enrollment.period.end, as_of):
        return enrollment
    return attrs.evolve(enrollment, period=Period(enrollment.period.start, None))


def _unchanged(fact: T, _as_of: dt.datetime) -> T:
    return fact


_PROJECT: KindTable[Callable[[Any, dt.datetime], Any]] = KindTable(
    "as-of projection",
    {
        "care_teams": _care_team,
        "referrals": _referral,
        "transitions": _transition,
        "tasks": _task,
        "encounters": _encounter,
        "conditions": _condition,
        "medications": _medication,
        "allergies": _unchanged,
        "orders": _unchanged,
        "results": _result,
        "appointments": _appointment,
        "care_plans": _care_plan,
        "goals": _unchanged,
        "social_needs": _unchanged,
        "communications": _communication,
        "documents": _unchanged,
        "consents": _unchanged,
        "reconciliations": _unchanged,
        "procedures": _unchanged,
        "enrollments": _enrollment,
        "activities": _unchanged,
    },
)
"""For each fact kind, how a fact stands at ``as_of`` (``_unchanged``: it never changes)."""


_NATURAL: dict[str, Callable[[Any], object]] = {k.name: k.natural_date for k in FACT_KINDS}
"""Each kind's natural date, looked up once per fact on the hot path."""


class _Projection:
    """Projects facts to ``as_of``, each object once.

    The profile's facts and its raw records usually hold the very same objects (and a
    fact's ``value`` is usually one of its ``variants``), so each object's projection is
    remembered for the duration of one :func:`profile_as_of` call. Each kind's projection
    is a closure over what it reads (:meth:`_one_for`): a view touches every fact.
    """

    __slots__ = ("_memos", "_ones", "as_of", "today")

    def __init__(self, as_of: dt.datetime, today: dt.date) -> None:
        self.as_of = as_of
        self.today = today
        self._ones: dict[str, Callable[[Any], Any]] = {}
        self._memos: dict[str, dict[int, Any]] = {}

    def visible(self, kind: str, fact: object) -> bool:
        """Whether ``fact`` exists at ``as_of`` (known, and not dated after it)."""
        return _visible(_NATURAL[kind](fact), fact, self.as_of, self.today)

    def _one_for(self, kind: str) -> Callable[[Any], Any]:
        """:meth:`one` for the facts of ``kind``, remembering each object's projection."""
        found = self._ones.get(kind)
        if found is not None:
            return found
        memo: dict[int, Any] = self._memos.setdefault(kind, {})
        natural = _NATURAL[kind]
        project = _PROJECT[kind]
        unchanged = project is _unchanged
        as_of, today = self.as_of, self.today

        def one(fact: Any) -> Any | None:
            key = id(fact)  # every object projected is alive until the call returns
            projected = memo.get(key, _UNSEEN)
            if projected is _UNSEEN:
                # _visible, inlined: this runs for every fact of every evaluation
                when = natural(fact)
                if isinstance(when, dt.datetime):
                    hidden = when > as_of
                else:
                    hidden = isinstance(when, PartialDate) and when.earliest() > today
                if not hidden:
                    recorded = getattr(fact, "recorded_at", None)
                    hidden = isinstance(recorded, dt.datetime) and recorded > as_of
                if hidden:
                    projected = None
                elif unchanged:
                    projected = fact
                else:
                    projected = project(fact, as_of)
                memo[key] = projected
            return projected

        self._ones[kind] = one
        return one

    def one(self, kind: str, fact: Any) -> Any | None:
        """``fact`` as it stood at ``as_of`` (the same object when unchanged), or ``None``."""
        return self._one_for(kind)(fact)

    def fact(self, kind: str, fact: Fact[Any]) -> Fact[Any] | None:
        """A profile fact at ``as_of``: variants not yet known are dropped."""
        return self._fact(self._one_for(kind), fact)

    @staticmethod
    def _fact(one: Callable[[Any], Any], fact: Fact[Any]) -> Fact[Any] | None:
        variants = fact.variants
        if len(variants) == 1:  # the common case, without the bookkeeping below
            first = variants[0]
            only = one(first)
            if only is None:
                return None
            value = only if fact.value is first else one(fact.value)
            if only is first and value is fact.value:
                return fact
            return Fact(only if value is None else value, fact.provenance, (only,))
        kept = []
        same = True
        for provenance, variant in zip(fact.provenance, variants, strict=True):
            projected = one(variant)
            same = same and projected is variant
            if projected is not None:
                kept.append((provenance, projected))
        if not kept:
            return None
        value = one(fact.value)
        if same and value is fact.value:
            return fact
        if value is None:
            value = kept[0][1]
        return Fact(value, tuple(p for p, _ in kept), tuple(v for _, v in kept))

    def facts(self, kind: str, facts: tuple[Any, ...], profile: bool) -> tuple[Any, ...] | None:
        """The facts of ``kind`` at ``as_of``, or ``None`` when every one is unchanged."""
        if not facts:
            return None
        one = self._one_for(kind)
        changed: list[Any] | None = None
        if profile:
            project_fact = self._fact
            for n, fact in enumerate(facts):
                variants = fact.variants
                if len(variants) == 1 and fact.value is variants[0]:
                    # the common case of _fact: one source, its version shown
                    only = one(variants[0])
                    if only is variants[0]:
                        projected = fact
                    elif only is None:
                        projected = None
                    else:
                        projected = Fact(only, fact.provenance, (only,))
                else:
                    projected = project_fact(one, fact)
                if changed is None:
                    if projected is fact:
                        continue
                    changed = list(facts[:n])
                if projected is not None:
                    changed.append(projected)
        else:  # a record's facts: usually the profile's own objects, projected already
            memo = self._memos[kind]
            for n, fact in enumerate(facts):
                projected = memo.get(id(fact), _UNSEEN)
                if projected is _UNSEEN:
                    projected = one(fact)
                if changed is None:
                    if projected is fact:
                        continue
                    changed = list(facts[:n])
                if projected is not None:
                    changed.append(projected)
        return None if changed is None else tuple(changed)


_UNSEEN = object()


def _visible(natural: object, fact: object, as_of: dt.datetime, today: dt.date) -> bool:
    """Whether a fact with this natural date exists at ``as_of`` (local date ``today``)."""
    if isinstance(natural, dt.datetime):
        if natural > as_of:
            return False
    elif isinstance(natural, PartialDate) and natural.earliest() > today:
        return False
    recorded = getattr(fact, "recorded_at", None)
    return not (isinstance(recorded, dt.datetime) and recorded > as_of)


def _patient(patient: Patient, as_of: dt.datetime, today: dt.date) -> Patient:
    """The patient at ``as_of``: alive if the death came later.

    A death known only to the day, month or year is known from that period's first local
    day (``today`` is ``as_of``'s local date).
    """
    died = patient.deceased_at
    later = died.earliest() > today if isinstance(died, PartialDate) else _after(died, as_of)
    if later:
        return attrs.evolve(patient, deceased=False, deceased_at=None)
    return patient


def _record(record: PatientRecord, projection: _Projection) -> PatientRecord:
    changes: dict[str, Any] = {}
    for kind in FACT_FIELDS:
        projected = projection.facts(kind, getattr(record, kind), profile=False)
        if projected is not None:
            changes[kind] = projected
    patient = _patient(record.patient, projection.as_of, projection.today)
    if patient is not record.patient:
        changes["patient"] = patient
    return _replaced(record, changes) if changes else record


_NAMES: dict[type, tuple[str, ...]] = {
    PatientRecord: tuple(f.name for f in attrs.fields(PatientRecord)),
    PatientProfile: tuple(f.name for f in attrs.fields(PatientProfile)),
}
"""The fields :func:`_replaced` copies, for the two classes it copies."""


def _replaced(value: _R, changes: dict[str, Any]) -> _R:
    """``attrs.evolve(value, **changes)`` for a record or profile seen as of a date.

    The changes are the value's own facts (and patient) projected to ``as_of``: the same
    kinds of object, the same patient and ids, fewer of them. So every check the class's
    constructor makes (the types of its arguments, each fact naming the record's patient,
    ids unique in each kind) passes as it did when ``value`` was built, and the copy is
    made without making them again. Other classes (a subclass) go through
    ``attrs.evolve``.
    """
    names = _NAMES.get(type(value))
    if names is None:
        return attrs.evolve(value, **changes)
    copy = object.__new__(type(value))
    for name in names:
        object.__setattr__(copy, name, changes[name] if name in changes else getattr(value, name))
    return copy


def profile_as_of(
    profile: PatientProfile, as_of: dt.datetime, *, tz: dt.tzinfo | None = None
) -> PatientProfile:
    """The profile as it was knowable at ``as_of`` (see the module documentation).

    ``tz`` is the zone whose calendar date compares against facts dated only to a day,
    month or year (``as_of``'s own offset when ``None``). The raw ``records`` are filtered
    the same way, so nothing recorded later leaks through them. Facts with nothing after
    ``as_of`` are kept as the same objects (and an unchanged profile is returned as is).
    """
    projection = _Projection(as_of, to_local_date(as_of, tz))
    changes: dict[str, Any] = {}
    for kind in FACT_FIELDS:
        projected = projection.facts(kind, getattr(profile, kind), profile=True)
        if projected is not None:
            changes[kind] = projected
    patient = _patient(profile.patient, as_of, projection.today)
    if patient is not profile.patient:
        changes["patient"] = patient
    records = tuple(_record(r, projection) for r in profile.records)
    if any(r is not o for r, o in zip(records, profile.records, strict=True)):
        changes["records"] = records
    return _replaced(profile, changes) if changes else profile
