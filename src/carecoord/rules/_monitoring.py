"""Monitoring rules: tests and visits a condition (or an age) calls for on a schedule.

Schedules are data (:class:`MonitoringSchedule`), so a practice can pass its own. Two
shapes are supported:

* **repeating**: the next test is due a number of months after the last one (HbA1c every
  6 months), or, with ``full_months``, in the calendar month after a number of whole
  months have passed (an annual wellness visit, 11 full months after the last one). With
  ``full_months`` a test done before its cycle opens (a wellness visit fewer than 11 full
  months after the last one counted) is not the next one: Medicare does not cover it as an
  annual wellness visit, so it neither meets nor restarts the cycle;
* **anniversary**: an index result above a threshold (a PHQ-9 over 9) calls for a repeat
  test within a window around an anniversary (12 months +/- 60 days, CMS159).

Each schedule yields at most two gaps of a repeating kind (the cycle the latest test
closed, and the cycle it opened) and one per index of an anniversary kind. Tests are
results (LOINC), procedures, or visits whose type carries the code (HCPCS, CPT, SNOMED CT).
The shipped schedules name value sets (diabetes, HbA1c tests...), read from the library the
rules are given, so replacing a set there changes what the schedule follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from carecoord.domain import (
    Code,
    Condition,
    Discipline,
    EncounterStatus,
    PartialDate,
    Quantity,
    ResultStatus,
    Sensitivity,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._care_plans import add_months
from carecoord.rules._codes import matches_prefix
from carecoord.rules._context import RuleContext
from carecoord.rules._known import known_since
from carecoord.rules._model import (
    Citation,
    Evidence,
    Exclusion,
    Gap,
    RuleMetadata,
    Severity,
)
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSetName, ValueSets

__all__ = [
    "ANNUAL_WELLNESS_VISIT",
    "DEFAULT_MONITORING_SCHEDULES",
    "DEPRESSION_PHQ9",
    "DIABETES_HBA1C",
    "FAMILY",
    "RULES",
    "MonitoringSchedule",
    "monitoring_overdue",
]

FAMILY = "monitoring"


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or "#" in value:
        raise ValidationError(Problem(attribute.name, "a non-empty string without '#'"))


def _codes(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, Code) for c in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of Code"))


def _strings(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, str) and c for c in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of non-empty strings"))


def _count(minimum: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and attribute.name != "every_months":
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValidationError(Problem(attribute.name, f"a whole number, {minimum} or more"))

    return check


def _number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValidationError(Problem(attribute.name, "a number or None"))


def _sensitivity(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not all(isinstance(v, Sensitivity) for v in value):
        raise ValidationError(Problem(attribute.name, "expected a frozenset of Sensitivity"))


def _citation(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Citation):
        raise ValidationError(Problem(attribute.name, "expected a Citation"))


@attrs.frozen(repr=False)
class MonitoringSchedule:
    """One monitoring schedule: who it applies to, which tests meet it, and how often.

    ``name`` is a stable identifier (it ends every gap's focus); ``label`` is the plain
    name of the test for summaries. The schedule applies when the patient has an active
    condition matching ``conditions`` (ICD-10 prefixes), ``condition_codes`` (exact
    codes, such as SNOMED) or a value set named in ``condition_value_sets``, when any is
    given, and is at least ``minimum_age`` years old, when given. ``tests`` (codes) and
    ``test_value_sets`` (names) are what meets it; ``anchors`` and ``anchor_value_sets``
    start the clock without meeting it (an initial preventive visit before the first
    annual wellness visit). Value sets are looked up in the library the rule is given.

    ``every_months`` is the interval from the last test; with ``full_months`` the next
    test may be done from the first day of the month ``every_months`` after the last
    one's month, and is due by the end of that month. With ``window_days`` set, the
    schedule is an anniversary: each index result (above ``index_above`` when given)
    calls for a test ``every_months`` later, plus or minus ``window_days``. ``source``
    cites where the schedule comes from; ``sensitivity`` labels its gaps.
    """

    name: str = attrs.field(validator=_text)
    label: str = attrs.field(validator=_text)
    tests: tuple[Code, ...] = attrs.field(validator=_codes)
    every_months: int = attrs.field(validator=_count(1))
    source: Citation = attrs.field(validator=_citation)
    conditions: tuple[str, ...] = attrs.field(default=(), validator=_strings)
    condition_codes: tuple[Code, ...] = attrs.field(default=(), validator=_codes)
    minimum_age: int | None = attrs.field(default=None, validator=_count(0))
    anchors: tuple[Code, ...] = attrs.field(default=(), validator=_codes)
    full_months: bool = False
    window_days: int | None = attrs.field(default=None, validator=_count(0))
    index_above: float | None = attrs.field(default=None, validator=_number)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=_sensitivity)
    condition_value_sets: tuple[str, ...] = attrs.field(default=(), validator=_strings)
    test_value_sets: tuple[str, ...] = attrs.field(default=(), validator=_strings)
    anchor_value_sets: tuple[str, ...] = attrs.field(default=(), validator=_strings)

    def __attrs_post_init__(self) -> None:
        if not self.tests and not self.test_value_sets:
            raise ValidationError(
                Problem("tests", "a schedule needs at least one test code or test value set")
            )

    def __repr__(self) -> str:
        return f"MonitoringSchedule({self.name!r})"

    @property
    def is_anniversary(self) -> bool:
        """Whether the schedule follows index results (a window around an anniversary)."""
        return self.window_days is not None

    @property
    def value_sets(self) -> tuple[str, ...]:
        """Every value-set name the schedule reads."""
        names = (*self.condition_value_sets, *self.test_value_sets, *self.anchor_value_sets)
        return tuple(dict.fromkeys(names))

    @property
    def follows_conditions(self) -> bool:
        """Whether the schedule applies only to patients with one of its conditions."""
        return bool(self.conditions or self.condition_codes or self.condition_value_sets)

    def applies_to(self, condition: Condition, value_sets: ValueSets = DEFAULT_VALUE_SETS) -> bool:
        """Whether ``condition`` is one this schedule follows (value sets from ``value_sets``)."""
        code = condition.code
        return (
            code in self.condition_codes
            or (bool(self.conditions) and matches_prefix(code, self.conditions))
            or any(code in value_sets[name] for name in self.condition_value_sets)
        )

    def is_test(self, code: Code, value_sets: ValueSets = DEFAULT_VALUE_SETS) -> bool:
        """Whether ``code`` is a test that meets the schedule."""
        return _matcher(self.tests, self.test_value_sets, value_sets)(code)

    def is_anchor(self, code: Code, value_sets: ValueSets = DEFAULT_VALUE_SETS) -> bool:
        """Whether ``code`` starts the clock without meeting the schedule."""
        return _matcher(self.anchors, self.anchor_value_sets, value_sets)(code)


def _matcher(
    codes: tuple[Code, ...], names: tuple[str, ...], value_sets: ValueSets
) -> Callable[[Code], bool]:
    """Whether a code is one of ``codes`` or in one of the value sets ``names``."""
    exact = frozenset(codes)
    sets = tuple(value_sets[n] for n in names)
    return lambda code: code in exact or any(s.contains(code) for s in sets)


_ADA = Citation(
    "ADA Standards of Care in Diabetes, 6. Glycemic goals: assess A1C at least twice a "
    "year in people meeting treatment goals",
    "https://diabetesjournals.org/care/article/48/Supplement_1/S128/157561/",
)
_CMS159 = Citation(
    "CMS159 Depression Remission at Twelve Months (PHQ-9 at 12 months +/- 60 days after an "
    "index PHQ-9 above 9)",
    "https://ecqi.healthit.gov/ecqm/ec/2026/cms0159v14",
)
_AWV = Citation(
    "CMS Medicare Wellness Visits (MLN6775421): G0438 initial, G0439 subsequent annual "
    "wellness visit, at least 11 full months apart",
    "https://www.cms.gov/medicare/prevention/prevntiongeninfo/medicare-preventive-services/mps-quickreferencechart-1.html",
)

DIABETES_HBA1C = MonitoringSchedule(
    name="diabetes-hba1c",
    label="HbA1c",
    tests=(),
    test_value_sets=(ValueSetName.HBA1C_TESTS,),
    every_months=6,
    source=_ADA,
    condition_value_sets=(ValueSetName.DIABETES,),
)
"""Diabetes (the ``diabetes`` value set: ICD-10 E10, E11, E13 and SNOMED CT diabetes by
default): an HbA1c (``hba1c-tests``) every 6 months (ADA)."""

DEPRESSION_PHQ9 = MonitoringSchedule(
    name="depression-phq9",
    label="PHQ-9",
    tests=(),
    test_value_sets=(ValueSetName.PHQ9_TESTS,),
    every_months=12,
    source=_CMS159,
    condition_value_sets=(ValueSetName.MAJOR_DEPRESSION,),
    window_days=60,
    index_above=9,
    sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}),
)
"""Depression (the ``major-depression`` value set: ICD-10 F32, F33 and SNOMED CT depressive
disorders by default): after a PHQ-9 above 9, a PHQ-9 at 12 months +/- 60 days.

CMS159's numerator is remission (that PHQ-9 below 5); this schedule only asks that the
reassessment be done, as carecoord's domain table does."""

ANNUAL_WELLNESS_VISIT = MonitoringSchedule(
    name="annual-wellness-visit",
    label="annual wellness visit",
    tests=(),
    test_value_sets=(ValueSetName.ANNUAL_WELLNESS_VISIT, ValueSetName.PREVENTIVE_VISIT),
    every_months=12,
    source=_AWV,
    minimum_age=65,
    anchor_value_sets=(ValueSetName.INITIAL_PREVENTIVE_VISIT,),
    full_months=True,
)
"""Patients 65 and over: an annual wellness visit (G0438/G0439) or preventive check-up
(CPT 99381-99397, SNOMED CT check-up encounters) 11 full months after the last (or after the
initial preventive examination, G0402; with neither on record, in the month 12 months after
the 65th birthday)."""

DEFAULT_MONITORING_SCHEDULES: tuple[MonitoringSchedule, ...] = (
    DIABETES_HBA1C,
    DEPRESSION_PHQ9,
    ANNUAL_WELLNESS_VISIT,
)
"""The schedules ``monitoring.overdue`` follows by default."""

# Tuples of enum members: ``in`` compares by identity, no Python-level __hash__ per fact.
_UNAVAILABLE = (
    ResultStatus.REGISTERED,
    ResultStatus.CANCELLED,
    ResultStatus.ENTERED_IN_ERROR,
)
_VISITS = (
    EncounterStatus.FINISHED,
    EncounterStatus.IN_PROGRESS,
)


@attrs.frozen
class _Event:
    """A dated test (or anchor) found in the profile."""

    day: dt.date
    when: dt.datetime | dt.date
    fact: Fact[Any]
    closes: bool
    value: float | None = None


def _date_of(
    ctx: RuleContext, when: dt.datetime | PartialDate
) -> tuple[dt.date, dt.datetime | dt.date]:
    if isinstance(when, PartialDate):
        day = when.earliest()
        return day, day
    return ctx.local_date(when), when


def _numeric(value: object) -> float | None:
    if isinstance(value, Quantity):
        return float(value.value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _events(ctx: RuleContext, schedule: MonitoringSchedule) -> list[_Event]:
    library = ctx.value_sets
    test = _matcher(schedule.tests, schedule.test_value_sets, library)
    anchor = _matcher(schedule.anchors, schedule.anchor_value_sets, library)
    seen: dict[tuple[str, str], tuple[bool, bool]] = {}

    def judge(code: Code) -> tuple[bool, bool]:
        """(counts as an event, closes the cycle), once per distinct code."""
        key = (code.system, code.code)
        known = seen.get(key)
        if known is None:
            closes = test(code)
            known = seen[key] = (closes or anchor(code), closes)
        return known

    found: list[_Event] = []
    for result in ctx.profile.results:
        r = result.value
        if r.status in _UNAVAILABLE:
            continue
        counts, closes = judge(r.code)
        if counts:
            day, when = _date_of(ctx, r.effective or r.issued)
            found.append(_Event(day, when, result, closes, _numeric(r.value)))
    for procedure in ctx.profile.procedures:
        p = procedure.value
        if p.status != "not-done":
            counts, closes = judge(p.code)
            if counts:
                day, when = _date_of(ctx, p.performed)
                found.append(_Event(day, when, procedure, closes))
    for visit in ctx.profile.encounters:
        e = visit.value
        if e.status in _VISITS:
            judged = [judge(t) for t in e.types]
            if any(counts for counts, _ in judged):
                closes = any(closes for _, closes in judged)
                found.append(_Event(ctx.local_date(e.start), e.start, visit, closes))
    return sorted(found, key=lambda e: (e.day, e.fact.key))


def _active_on(ctx: RuleContext, condition: Condition, day: dt.date) -> bool:
    if condition.onset is not None and ctx.local_date(condition.onset) > day:
        return False
    return condition.abatement is None or ctx.local_date(condition.abatement) > day


@attrs.frozen
class _Anchor:
    """Where a schedule's clock starts before any test: a condition's onset, or an age."""

    day: dt.date | None
    focus: str
    fact: Fact[Any] | None


def _condition_start(ctx: RuleContext, fact: Fact[Condition]) -> dt.date | None:
    """A condition's onset (local date), else when it became known; ``None``: nothing dates it.

    Never ``as_of``: a condition without an onset dated by the evaluation would be due
    the day before every evaluation.
    """
    if fact.value.onset is not None:
        return ctx.local_date(fact.value.onset)
    known = known_since(ctx, fact)
    return ctx.local_date(known) if known is not None else None


def _eligibility(ctx: RuleContext, schedule: MonitoringSchedule) -> _Anchor | None:
    """Whether the schedule applies, and from when (``None``: it does not apply)."""
    starts: list[dt.date | None] = []
    focus = f"patient#{schedule.name}"
    fact: Fact[Any] | None = None
    if schedule.follows_conditions:
        dated = sorted(
            (
                (_condition_start(ctx, f), f)
                for f in ctx.profile.conditions
                if f.value.is_active and schedule.applies_to(f.value, ctx.value_sets)
            ),
            key=lambda item: (item[0] is None, item[0] or dt.date.min, item[1].key),
        )
        matching = [(day, f) for day, f in dated if day is None or day <= ctx.today]
        if not matching:
            return None
        start, fact = matching[0]
        focus = f"{fact.key}#{schedule.name}"
        starts.append(start)
    if schedule.minimum_age is not None:
        age = ctx.age_on(ctx.today)
        born = ctx.profile.patient.birth_date
        if age is None or born is None or age < schedule.minimum_age:
            return None
        starts.append(add_months(born.latest(), 12 * schedule.minimum_age))
    return _Anchor(max((s for s in starts if s is not None), default=None), focus, fact)


def _next_due(schedule: MonitoringSchedule, day: dt.date) -> dt.date:
    if schedule.full_months:
        eligible = add_months(day.replace(day=1), schedule.every_months)
        return add_months(eligible, 1) - dt.timedelta(days=1)
    return add_months(day, schedule.every_months)


def _counts_after(schedule: MonitoringSchedule, base: dt.date, day: dt.date) -> bool:
    """Whether a test on ``day`` meets the cycle that started on ``base``."""
    if schedule.full_months:
        return day >= add_months(base.replace(day=1), schedule.every_months)
    return day > base


def _cycle_events(
    schedule: MonitoringSchedule, events: list[_Event]
) -> tuple[list[_Event], list[_Event]]:
    """The events that start a cycle, and the ones too early to count (``full_months``).

    With ``full_months`` (the annual wellness visit: G0439 at least 11 full months after
    the last one, CMS MLN6775421) a visit before its cycle opens is not the next visit: it
    neither meets the cycle nor restarts it, so the cycle stays anchored on the last visit
    that counted. Other schedules count every test (a repeat HbA1c is the latest result).
    """
    if not schedule.full_months:
        return events, []
    kept: list[_Event] = []
    early: list[_Event] = []
    for event in events:
        if kept and not _counts_after(schedule, kept[-1].day, event.day):
            early.append(event)
        else:
            kept.append(event)
    return kept, early


def _schedules(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(s, MonitoringSchedule) for s in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of MonitoringSchedule"))
    names = [s.name for s in value]
    if len(set(names)) != len(names):
        raise ValidationError(Problem(attribute.name, "schedule names must be unique"))


@define_rule(
    RuleMetadata(
        id="monitoring.overdue",
        title="Monitoring test overdue",
        description=(
            "A test or visit that a condition (or the patient's age) calls for on a "
            "schedule has not been done: HbA1c every 6 months in diabetes (ADA); a PHQ-9 "
            "12 months +/- 60 days after a PHQ-9 above 9 in depression (CMS159; the "
            "measure also asks for remission, below 5, which is not checked here); an "
            "annual wellness visit (or preventive check-up) for patients 65 and over, at "
            "least 11 full months after the last (G0438/G0439; a visit sooner is not "
            "covered as one, so it neither meets nor restarts the cycle). A condition "
            "without an onset starts the clock when it became known (recorded, else its "
            "record retrieved). For repeating schedules the cycle running now (from the "
            "last test, else from the onset) is standing: a test overdue for years is "
            "still work; earlier cycles and missed anniversary windows are history. "
            "Conditions and tests are "
            "read from value sets (diabetes, hba1c-tests, major-depression, phq9-tests, "
            "annual-wellness-visit, preventive-visit...). Schedules are data "
            "(MonitoringSchedule): pass your own."
        ),
        family=FAMILY,
        opens="The patient has a condition (or age) with a schedule, from the onset or the "
        "last qualifying test.",
        due="Per schedule: 6 months after the last HbA1c; 12 months + 60 days after an "
        "index PHQ-9; the end of the month 11 full months after the last wellness visit.",
        closes="A qualifying result (LOINC), procedure or visit type (HCPCS/CPT/SNOMED CT) in "
        "the schedule's window.",
        exclusion_details=(
            Exclusion(
                "Hospice care during the cycle (from the day its clock started to its due "
                "day), or this calendar year while the gap is overdue.",
                'CMS159 excludes patients in hospice ("hospice services" overlapping the '
                "measurement period), and HEDIS the diabetes measures' members in hospice "
                "anytime during the measurement year; ADA's and the wellness visit's "
                "schedules have no period, so each cycle is the period. Hospice care before "
                "the cycle does not exclude: a patient who left hospice alive is monitored "
                "again.",
                (_CMS159,),
            ),
            Exclusion(
                "The patient has died (by as_of).",
                "CMS159 excludes patients who died before the end of its assessment "
                "period; for the care team nothing about a patient who has died is work "
                "(every rule).",
                (_CMS159,),
            ),
        ),
        sources=(_ADA, _CMS159, _AWV),
        value_sets=(
            ValueSetName.HOSPICE,
            *dict.fromkeys(n for s in DEFAULT_MONITORING_SCHEDULES for n in s.value_sets),
        ),
        reads=frozenset(
            {
                "conditions",
                "results",
                "procedures",
                "encounters",
                "enrollments",
                "transitions",
                "patient",
            }
        ),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Overdue(RuleBase):
    schedules: tuple[MonitoringSchedule, ...] = param(
        DEFAULT_MONITORING_SCHEDULES,
        "The monitoring schedules followed (MonitoringSchedule data).",
        validator=_schedules,
    )

    def reads_value_sets(self) -> tuple[str, ...]:
        """The value sets the schedules name (checked against the library before a run)."""
        return tuple(dict.fromkeys(n for s in self.schedules for n in s.value_sets))

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for schedule in self.schedules:
            anchor = _eligibility(ctx, schedule)
            if anchor is None:
                continue
            events = _events(ctx, schedule)
            if schedule.is_anniversary:
                yield from self._anniversaries(ctx, schedule, events)
            else:
                yield from self._repeating(ctx, schedule, anchor, events)

    # ------------------------------------------------------------------ repeating

    def _repeating(
        self,
        ctx: RuleContext,
        schedule: MonitoringSchedule,
        anchor: _Anchor,
        events: list[_Event],
    ) -> Iterator[Gap]:
        events, early = _cycle_events(schedule, events)
        if not events:
            first = self._first_cycle(ctx, schedule, anchor)
            if first is not None:
                yield first
            return
        last = events[-1]
        current = _gap(
            ctx,
            schedule,
            focus=f"{last.fact.key}#{schedule.name}",
            due=_next_due(schedule, last.day),
            opened=last.when,
            trigger=ctx.trigger(last.fact, f"last {schedule.label}"),
            standing=True,
        )
        too_early = tuple(
            ctx.context(e.fact, f"{schedule.label} too early to count (cycle not open yet)")
            for e in early
            if e.day > last.day
        )
        yield attrs.evolve(current, evidence=current.evidence + too_early) if too_early else current
        if not last.closes:
            return
        base: tuple[dt.date, str, dt.date | dt.datetime, Evidence | None]
        if len(events) >= 2:
            prev = events[-2]
            base = (
                prev.day,
                f"{prev.fact.key}#{schedule.name}",
                prev.when,
                ctx.trigger(prev.fact, f"previous {schedule.label}"),
            )
        elif anchor.day is not None and anchor.day <= last.day:
            base = (
                anchor.day,
                anchor.focus,
                anchor.day,
                self._anchor_evidence(ctx, schedule, anchor),
            )
        else:
            return
        day, focus, opened, trigger = base
        if _counts_after(schedule, day, last.day):
            yield _gap(
                ctx,
                schedule,
                focus=focus,
                due=_next_due(schedule, day),
                opened=opened,
                trigger=trigger,
                closing=(ctx.closing(last.fact, f"{schedule.label} done"), last.when),
            )

    def _first_cycle(
        self, ctx: RuleContext, schedule: MonitoringSchedule, anchor: _Anchor
    ) -> Gap | None:
        """No test yet: due from the anchor; none when nothing dates the anchor.

        A condition with no onset is dated by when it became known (its recorded time,
        else its record's retrieval); with neither, the clock has no start, and dating it
        by ``as_of`` would report it due the day before every evaluation.
        """
        if anchor.day is None:
            return None
        return _gap(
            ctx,
            schedule,
            focus=anchor.focus,
            due=_next_due(schedule, anchor.day),
            opened=anchor.day,
            trigger=self._anchor_evidence(ctx, schedule, anchor),
            standing=True,
        )

    @staticmethod
    def _anchor_evidence(
        ctx: RuleContext, schedule: MonitoringSchedule, anchor: _Anchor
    ) -> Evidence | None:
        if anchor.fact is not None:
            return ctx.trigger(anchor.fact, f"condition monitored by {schedule.label}")
        return None

    # ------------------------------------------------------------------ anniversary

    def _anniversaries(
        self, ctx: RuleContext, schedule: MonitoringSchedule, events: list[_Event]
    ) -> Iterator[Gap]:
        assert schedule.window_days is not None
        window = dt.timedelta(days=schedule.window_days)
        conditions = [
            f.value
            for f in ctx.profile.conditions
            if f.value.is_active and schedule.applies_to(f.value, ctx.value_sets)
        ]
        tests = [e for e in events if e.closes]
        after: dt.date | None = None
        for index in tests:
            if after is not None and index.day <= after:
                continue
            if schedule.index_above is not None and (
                index.value is None or index.value <= schedule.index_above
            ):
                continue
            if conditions and not any(_active_on(ctx, c, index.day) for c in conditions):
                continue
            target = add_months(index.day, schedule.every_months)
            start, end = target - window, target + window
            after = end
            closer = next(
                (
                    e
                    for e in tests
                    if e is not index and start <= e.day <= end and e.day > index.day
                ),
                None,
            )
            yield _gap(
                ctx,
                schedule,
                focus=f"{index.fact.key}#{schedule.name}",
                due=end,
                opened=index.when,
                trigger=ctx.trigger(index.fact, f"index {schedule.label}"),
                closing=(ctx.closing(closer.fact, f"{schedule.label} repeated"), closer.when)
                if closer is not None
                else None,
                window=(start, end),
            )


def _hospice_in_cycle(ctx: RuleContext, opened: dt.date, due: dt.date) -> bool:
    """Whether hospice care falls in the cycle, or in this year while the gap is overdue.

    The cycle runs from the day its clock started to its due day (CMS159: hospice
    services that overlap the measurement period; HEDIS: hospice anytime during the
    measurement year). An overdue gap is still work now, so hospice care this calendar
    year up to today excludes it too. Hospice long before the cycle does not: a patient
    who left hospice alive is monitored again.
    """
    if ctx.hospice_during(opened, due):
        return True
    today = ctx.today
    return due < today and ctx.hospice_during(dt.date(today.year, 1, 1), today)


def _gap(
    ctx: RuleContext,
    schedule: MonitoringSchedule,
    *,
    focus: str,
    due: dt.date,
    opened: dt.date | dt.datetime,
    trigger: Evidence | None,
    closing: tuple[Evidence, dt.date | dt.datetime] | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    standing: bool = False,
) -> Gap:
    """The gap of one cycle; ``standing`` for the cycle running now (never closed by design)."""
    excluded = None
    if _hospice_in_cycle(ctx, ctx.local_date(opened), due):
        excluded = "hospice"
    elif ctx.died_by(due):
        excluded = "patient died"
    when = (
        f"between {window[0].isoformat()} and {window[1].isoformat()}"
        if window
        else f"by {due.isoformat()}"
    )
    return ctx.gap(
        focus=focus,
        due=due,
        opened=opened,
        summary=f"{schedule.label[0].upper()}{schedule.label[1:]} due {when}.",
        action=f"Arrange the {schedule.label} (order it, or book the visit).",
        evidence=(trigger,) if trigger is not None else (),
        closed_by=(closing[0],) if closing else (),
        closed_at=closing[1] if closing else None,
        not_applicable=excluded,
        sensitivity=schedule.sensitivity,
        standing=standing,
    )


def monitoring_overdue(
    *, schedules: tuple[MonitoringSchedule, ...] = DEFAULT_MONITORING_SCHEDULES
) -> Rule:
    """``monitoring.overdue``: a scheduled test or visit not done (HbA1c, PHQ-9, AWV...)."""
    return _Overdue(schedules=schedules)


RULES: tuple[Rule, ...] = (monitoring_overdue(),)
"""The monitoring family with its published defaults, in catalogue order."""
