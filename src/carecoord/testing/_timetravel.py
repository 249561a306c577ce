"""Time travel for testing gap rules: set the clock, add facts as they happen, ask for gaps.

In the style of the Community Health Toolkit's test harness (``setNow``, ``flush``,
``getTasks``), in plain Python and with no clock of its own::

    s = Scenario(make_record(), start=AS_OF)
    s.add("transitions", make_transition(discharged_at=s.now))
    s.advance(business_days=2)
    s.assert_prospective("transition.tcm-contact")
    s.advance(days=1)
    s.assert_open("transition.tcm-contact")
    s.record("communications", make_communication(kind=CommunicationKind.PATIENT_CONTACT,
                                                  interactive=True, sent=s.now))
    s.assert_closed("transition.tcm-contact")

A scenario holds one patient's profile; :meth:`Scenario.add` inserts or replaces facts
(by id), :meth:`Scenario.record` does the same and stamps ``recorded_at`` with the
scenario's ``now`` so the fact is known from that moment on.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from carecoord.domain import FACT_FIELDS, Patient, PatientRecord, Task
from carecoord.errors import Problem, UsageError, ValidationError
from carecoord.profile import Fact, PatientProfile, Provenance, profile_from_record
from carecoord.rules import (
    WORKLIST_MONTHS,
    BusinessCalendar,
    Gap,
    GapReport,
    GapStatus,
    Overrides,
    Rule,
    RuleSet,
    detect_gaps,
    resolve_rules,
    resolve_timezone,
    suggest_tasks,
)
from carecoord.terminology import ValueSets
from carecoord.testing._assertions import known_rule
from carecoord.testing._builders import AS_OF, make_record

__all__ = ["Scenario"]

T = TypeVar("T")


def _single_profile(subject: Iterable[PatientRecord]) -> PatientProfile:
    records = list(subject)
    if len(records) == 1:
        return profile_from_record(records[0])
    build = getattr(importlib.import_module("carecoord.profile"), "build_profiles", None)
    if build is None:
        msg = "several records need carecoord.profile.build_profiles, which is not available"
        raise ValidationError(Problem("records", msg))
    profiles = list(build(records))
    if len(profiles) != 1:
        raise ValidationError(Problem("records", "the records must describe one person"))
    return profiles[0]  # type: ignore[no-any-return]


def _last_modified(fact: object) -> dt.datetime | None:
    stamp = getattr(fact, "last_modified", None) or getattr(fact, "recorded_at", None)
    return stamp if isinstance(stamp, dt.datetime) else None


def _check_aware(at: object, name: str) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(Problem(name, "expected an aware datetime"))
    return at


class Scenario:
    """One patient, a movable clock, and the gap rules, for writing time-travel tests.

    ``subject`` is a :class:`~carecoord.PatientRecord` (by default ``make_record()``), a
    :class:`~carecoord.profile.PatientProfile`, or records of one person. ``start`` is the
    initial ``now`` (:data:`AS_OF` by default); ``calendar``, ``rules``, ``overrides`` and
    ``value_sets`` are passed to :func:`carecoord.rules.detect_gaps` on every question.

    The assertion helpers raise :class:`AssertionError` with the gaps found, so they read
    well in pytest output.
    """

    def __init__(
        self,
        subject: PatientProfile | PatientRecord | Iterable[PatientRecord] | None = None,
        *,
        start: dt.datetime = AS_OF,
        calendar: BusinessCalendar | None = None,
        rules: RuleSet | Sequence[Rule] | None = None,
        overrides: Overrides | None = None,
        value_sets: ValueSets | None = None,
    ) -> None:
        if subject is None:
            subject = make_record()
        given: object = subject
        if isinstance(given, str | bytes) or not isinstance(
            given, PatientProfile | PatientRecord | Iterable
        ):
            msg = (
                "Scenario() subject: expected a PatientProfile, a PatientRecord or records of "
                f"one person, got {type(given).__name__}"
            )
            raise UsageError(msg)
        if isinstance(subject, PatientProfile):
            profile = subject
        elif isinstance(subject, PatientRecord):
            profile = profile_from_record(subject)
        else:
            profile = _single_profile(subject)
        if not profile.records:
            raise ValidationError(Problem("subject", "the profile needs at least one record"))
        self._profile = profile
        self._now = _check_aware(start, "start")
        self.calendar = calendar or BusinessCalendar()
        self.rules = resolve_rules(rules)
        self.overrides = overrides
        self.value_sets = value_sets

    def __repr__(self) -> str:
        return f"Scenario(now={self._now.isoformat()}, facts={self._profile.fact_count()})"

    # ------------------------------------------------------------------ the clock

    @property
    def now(self) -> dt.datetime:
        """The scenario's current instant (the ``as_of`` of every question)."""
        return self._now

    @property
    def today(self) -> dt.date:
        """The patient's local date of :attr:`now`."""
        return self._now.astimezone(resolve_timezone(self._profile)).date()

    def set_now(self, at: dt.datetime) -> Scenario:
        """Move the clock to ``at`` (forwards or backwards)."""
        self._now = _check_aware(at, "at")
        return self

    def advance(self, days: float = 0, *, hours: float = 0, business_days: int = 0) -> Scenario:
        """Move the clock forward: ``business_days`` first (same local time), then the rest.

        Business days follow the scenario's calendar in the patient's local time zone.
        """
        now = self._now
        if business_days:
            tz = resolve_timezone(self._profile)
            local = now.astimezone(tz)
            day = self.calendar.add_business_days(local.date(), business_days)
            now = dt.datetime.combine(day, local.timetz()).astimezone(now.tzinfo)
        self._now = now + dt.timedelta(days=days, hours=hours)
        return self

    # ------------------------------------------------------------------ facts

    @property
    def profile(self) -> PatientProfile:
        """The profile as it stands with every fact added so far (not time-filtered)."""
        return self._profile

    @property
    def primary_record(self) -> PatientRecord:
        """The record facts are added to (the profile's first record)."""
        return self._profile.records[0]

    def add(self, kind: str, *facts: Any) -> Scenario:
        """Insert facts of ``kind`` (a profile field name such as ``"referrals"``).

        A fact with the id of an existing fact of that kind replaces it, so a referral's
        next step is ``s.add("referrals", referral.accept(at=s.now))``.
        """
        if kind not in FACT_FIELDS:
            raise ValidationError(
                Problem("kind", f"unknown fact kind {kind!r}; one of {', '.join(FACT_FIELDS)}")
            )
        for fact in facts:
            self._upsert(kind, fact)
        return self

    def record(self, kind: str, *facts: Any) -> Scenario:
        """Like :meth:`add`, stamping ``recorded_at`` with :attr:`now` where it is unset."""
        stamped = []
        for fact in facts:
            names = {a.name for a in attrs.fields(type(fact))}
            if "recorded_at" in names and fact.recorded_at is None:
                fact = attrs.evolve(fact, recorded_at=self._now)  # noqa: PLW2901
            stamped.append(fact)
        return self.add(kind, *stamped)

    def update(self, kind: str, fact_id: str, change: Callable[[Any], Any]) -> Scenario:
        """Replace fact ``fact_id`` of ``kind`` by ``change(fact)``.

        For example ``s.update("referrals", "referral-1", lambda r: r.accept(at=s.now))``.
        """
        current = self.fact(kind, fact_id)
        return self.add(kind, change(current))

    def fact(self, kind: str, fact_id: str) -> Any:
        """The current value of fact ``fact_id`` of ``kind``."""
        for fact in getattr(self._profile, kind, ()):
            if fact.value.id == fact_id:
                return fact.value
        msg = f"no {kind} fact with that id"
        raise ValidationError(Problem("fact_id", msg))

    def update_patient(self, **changes: Any) -> Scenario:
        """Change the patient (for example ``deceased_at=s.now``) in the profile and record."""
        patient: Patient = attrs.evolve(self._profile.patient, **changes)
        records = (attrs.evolve(self.primary_record, patient=patient), *self._profile.records[1:])
        self._profile = attrs.evolve(self._profile, patient=patient, records=records)
        return self

    def _upsert(self, kind: str, fact: Any) -> None:
        record = self.primary_record
        source = record.source.id
        existing: tuple[Fact[Any], ...] = getattr(self._profile, kind)
        replaced = False
        facts: list[Fact[Any]] = []
        for item in existing:
            mine = [p.source == source and p.fact_id == fact.id for p in item.provenance]
            if any(mine) and not replaced:
                variants = tuple(
                    fact if is_mine else v for is_mine, v in zip(mine, item.variants, strict=True)
                )
                provenance = tuple(
                    attrs.evolve(p, last_modified=_last_modified(fact)) if is_mine else p
                    for is_mine, p in zip(mine, item.provenance, strict=True)
                )
                facts.append(Fact(fact, provenance, variants))
                replaced = True
            else:
                facts.append(item)
        if not replaced:
            origin = Provenance(
                source=source,
                record=record.patient.id,
                fact_id=fact.id,
                author=getattr(fact, "author", None),
                last_modified=_last_modified(fact),
            )
            facts.append(Fact(fact, (origin,), (fact,)))
        own = [f for f in getattr(record, kind) if f.id != fact.id]
        position = next((i for i, f in enumerate(getattr(record, kind)) if f.id == fact.id), None)
        if position is None:
            own.append(fact)
        else:
            own.insert(position, fact)
        record_changes: dict[str, Any] = {kind: tuple(own)}
        new_record = attrs.evolve(record, **record_changes)
        profile_changes: dict[str, Any] = {
            kind: tuple(facts),
            "records": (new_record, *self._profile.records[1:]),
        }
        self._profile = attrs.evolve(self._profile, **profile_changes)

    # ------------------------------------------------------------------ questions

    def gaps(
        self,
        rules: RuleSet | Sequence[Rule] | None = None,
        *,
        include_closed: bool = False,
        look_back_months: int | None = WORKLIST_MONTHS,
    ) -> GapReport:
        """The gap report at :attr:`now` (the scenario's rules unless ``rules`` is given).

        ``include_closed`` and ``look_back_months`` are :func:`~carecoord.rules.detect_gaps`'s.
        """
        return detect_gaps(
            self._profile,
            as_of=self._now,
            rules=rules if rules is not None else self.rules,
            calendar=self.calendar,
            overrides=self.overrides,
            include_closed=include_closed,
            value_sets=self.value_sets,
            look_back_months=look_back_months,
        )

    def find_gaps(self, rule_id: str, focus: str | None = None) -> tuple[Gap, ...]:
        """Every gap of ``rule_id`` at :attr:`now`, in any status (optionally one focus).

        However old: the rule's own answer, without detect_gaps's look-back (a test of a
        rule asserts what it finds, whichever gaps a worklist would show).

        Raises :class:`AssertionError` when the rule raised, and
        :class:`~carecoord.errors.NotFound` for a rule id the scenario's rules do not have
        (with the closest ids), so a typo is not read as "no gap".
        """
        __tracebackhide__ = True
        rules = self.rules.only(self._known(rule_id))
        report = self.gaps(rules, include_closed=True, look_back_months=None)
        failed = [e for e in report.errors if e.rule == rule_id]
        if failed:
            error = failed[0]
            msg = f"{rule_id} raised {error.error_type}: {error.message}"
            raise AssertionError(msg)
        return tuple(
            g
            for g in report.by_rule(rule_id)
            if focus is None or focus in {g.focus, g.focus.split("#", 1)[0]}
        )

    def _known(self, rule_id: str) -> str:
        """``rule_id`` when the scenario's rules have it; else NotFound with suggestions."""
        __tracebackhide__ = True
        return known_rule(rule_id, self.rules)

    def gap(self, rule_id: str, focus: str | None = None) -> Gap:
        """The one gap of ``rule_id`` (and ``focus``) at :attr:`now`, in any status.

        Raises :class:`AssertionError` when there is none or more than one.
        """
        __tracebackhide__ = True
        found = self.find_gaps(rule_id, focus)
        if len(found) != 1:
            keys = ", ".join(g.focus for g in found) or "none"
            msg = f"expected one {rule_id} gap at {self._now.isoformat()}, found: {keys}"
            raise AssertionError(msg)
        return found[0]

    def status(self, rule_id: str, focus: str | None = None) -> GapStatus | None:
        """The status of the one gap of ``rule_id``, or ``None`` when there is no gap."""
        __tracebackhide__ = True
        found = self.find_gaps(rule_id, focus)
        return self.gap(rule_id, focus).status if found else None

    def tasks(self) -> tuple[Task, ...]:
        """The tasks :func:`carecoord.rules.suggest_tasks` suggests at :attr:`now`."""
        return suggest_tasks(
            self.gaps(),
            self._profile,
            as_of=self._now,
            rules=self.rules,
            calendar=self.calendar,
            value_sets=self.value_sets,
        )

    # ------------------------------------------------------------------ assertions

    def assert_status(self, rule_id: str, status: GapStatus, focus: str | None = None) -> Gap:
        """Assert the one gap of ``rule_id`` has ``status``; return it."""
        __tracebackhide__ = True
        gap = self.gap(rule_id, focus)
        if gap.status is not status:
            msg = (
                f"{rule_id} at {self._now.isoformat()}: expected {status.value}, "
                f"got {gap.status.value} (due {gap.due}, reason {gap.reason})"
            )
            raise AssertionError(msg)
        return gap

    def assert_prospective(self, rule_id: str, focus: str | None = None) -> Gap:
        """Assert the gap is prospective (due in the future, not met)."""
        __tracebackhide__ = True
        return self.assert_status(rule_id, GapStatus.PROSPECTIVE, focus)

    def assert_open(self, rule_id: str, focus: str | None = None) -> Gap:
        """Assert the gap is open (due passed, not met)."""
        __tracebackhide__ = True
        return self.assert_status(rule_id, GapStatus.OPEN, focus)

    def assert_closed(self, rule_id: str, focus: str | None = None) -> Gap:
        """Assert the gap is closed (met)."""
        __tracebackhide__ = True
        return self.assert_status(rule_id, GapStatus.CLOSED, focus)

    def assert_not_applicable(self, rule_id: str, focus: str | None = None) -> Gap:
        """Assert the gap is not applicable (excluded)."""
        __tracebackhide__ = True
        return self.assert_status(rule_id, GapStatus.NOT_APPLICABLE, focus)

    def assert_no_gap(self, rule_id: str, focus: str | None = None) -> None:
        """Assert the rule finds no gap at all (in any status) at :attr:`now`."""
        __tracebackhide__ = True
        found = self.find_gaps(rule_id, focus)
        if found:
            states = ", ".join(f"{g.focus}={g.status.value}" for g in found)
            msg = f"expected no {rule_id} gap at {self._now.isoformat()}, found: {states}"
            raise AssertionError(msg)
