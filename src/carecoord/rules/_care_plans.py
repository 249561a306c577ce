"""Care-plan rules: patients who need a plan, plans nobody reviews, goals nobody works on.

A care plan counts while its status is active. Plans keep only their latest review
(``last_reviewed``) and their current activities, so evaluating at a past date cannot see
earlier reviews or activities added later; tasks focused on a goal carry their own dates.

``care-plan.missing`` and ``care-plan.goal-without-activity`` watch a state ("at once"
rules): they report a gap only while the state holds at ``as_of``, due on the local date it
began, and a resolved state (a plan drawn up, an activity planned) leaves no gap.

A fact without a date of its own (a goal without a start, a condition without an onset) is
dated by when it became known (:func:`known_since`): its recorded time, else the retrieval
time of the record it came from; never by ``as_of``, which would make it new at every
evaluation. A fact nothing dates starts no clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import (
    CarePlan,
    CarePlanStatus,
    Condition,
    Discipline,
    Goal,
    PartialDate,
    Ref,
    Task,
    TaskStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._codes import code_matcher, refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._known import known_since
from carecoord.rules._model import Citation, Gap, RuleMetadata, Severity
from carecoord.terminology import CHRONIC_CONDITION_GROUPS

__all__ = [
    "FAMILY",
    "RULES",
    "add_months",
    "care_plan_goal_without_activity",
    "care_plan_missing",
    "care_plan_review_overdue",
    "known_since",
]

FAMILY = "care-plans"

_CCM = Citation(
    "CMS Chronic Care Management services (CPT 99490), MLN909188: a comprehensive care "
    "plan for patients with 2 or more chronic conditions, reviewed and revised",
    "https://www.cms.gov/outreach-and-education/medicare-learning-network-mln/mlnproducts/downloads/chroniccaremanagement.pdf",
)
_FHIR_CAREPLAN = Citation(
    "HL7 FHIR R4 CarePlan: goal, activity (and the goals each activity serves)",
    "https://hl7.org/fhir/R4/careplan.html",
)
_FMC = Citation(
    "NCQA HEDIS FMC chronic-condition groups (the default list of chronic conditions)",
    "https://www.ncqa.org/hedis/measures/follow-up-after-emergency-department-visit-for-people-with-multiple-high-risk-chronic-conditions/",
)

_DEAD_ACTIVITIES = frozenset({"cancelled", "stopped", "entered-in-error"})
_DEAD_TASKS = frozenset({TaskStatus.CANCELLED, TaskStatus.REJECTED, TaskStatus.ENTERED_IN_ERROR})


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, on the same day of the month when it exists.

    Otherwise the last day of the month: 31 January plus one month is 28 (or 29) February.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def _categories(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    ok = isinstance(value, tuple) and all(
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], tuple)
        and all(isinstance(p, str) for p in item[1])
        for item in value
    )
    if not ok:
        raise ValidationError(
            Problem(attribute.name, "expected a tuple of (name, tuple of ICD-10 prefixes)")
        )


def _instant(ctx: RuleContext, when: dt.datetime | PartialDate | None) -> dt.datetime | None:
    if isinstance(when, PartialDate):
        return ctx.start_of_day(when.earliest())
    return when


def _plan_start(plan: CarePlan) -> dt.datetime | None:
    return plan.created or plan.period.start or plan.recorded_at


def _active_plans(ctx: RuleContext) -> list[Fact[CarePlan]]:
    found = [f for f in ctx.profile.care_plans if f.value.status is CarePlanStatus.ACTIVE]
    return sorted(found, key=lambda f: f.key)


def _died(ctx: RuleContext, day: dt.date) -> str | None:
    return "patient died" if ctx.died_by(day) else None


# --------------------------------------------------------------------------- missing


@define_rule(
    _meta(
        id="care-plan.missing",
        title="No care plan for multiple chronic conditions",
        description=(
            "The patient has two or more chronic conditions and no active care plan; CMS "
            "chronic care management requires a comprehensive care plan. Conditions are "
            "counted by group, one value set per group, with the HEDIS FMC groups by default; "
            "CMS counts any two chronic conditions expected to last 12 months, so pass a "
            "broader list (adding the diabetes and hypertension value sets...) to follow CCM "
            "eligibility. The gap is about the "
            "patient (its focus is the profile id), so its key stays the same whichever "
            "conditions qualify."
        ),
        opens="Active conditions in 2 or more of the chronic-condition groups and no active "
        "care plan.",
        due="At once: the local date of the onset of the second group's condition (without "
        "an onset, of when it became known: recorded, else its record retrieved).",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when an active care "
        "plan exists.",
        exclusions=("Patient died.",),
        sources=(_CCM, _FMC),
        reads=frozenset({"conditions", "care_plans", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Missing(RuleBase):
    minimum_conditions: int = param(2, "How many chronic-condition groups need a plan.")
    conditions: tuple[tuple[str, tuple[str, ...]], ...] | None = param(
        None,
        "Chronic-condition groups as (name, ICD-10-CM prefixes); when given, used instead "
        "of the condition_groups value sets.",
        validator=_categories,
    )
    condition_groups: tuple[str, ...] = value_set_param(
        CHRONIC_CONDITION_GROUPS, "Value sets of the chronic-condition groups, one per group."
    )

    def _groups(self, ctx: RuleContext) -> list[tuple[dt.datetime | None, Fact[Condition]]]:
        """The earliest active condition of each matching group, earliest first.

        A condition is dated by its onset, else by when it became known
        (:func:`known_since`); one that nothing dates comes first (it may be the oldest).
        """
        first: dict[str, tuple[dt.datetime | None, Fact[Condition]]] = {}
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        if self.conditions is not None:
            groups = [(n, code_matcher(ctx, (), prefixes)) for n, prefixes in self.conditions]
        else:
            groups = [(n, ctx.value_set(n).contains) for n in dict.fromkeys(self.condition_groups)]
        for fact in sorted(ctx.profile.conditions, key=lambda f: f.key):
            condition = fact.value
            if not condition.is_active:
                continue
            onset = _instant(ctx, condition.onset) or known_since(ctx, fact)
            for name, match in groups:
                if not match(condition.code):
                    continue
                known = first.get(name)
                if known is None or (onset or floor) < (known[0] or floor):
                    first[name] = (onset, fact)
        return sorted(first.values(), key=lambda item: (item[0] or floor, item[1].key))

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        groups = self._groups(ctx)
        if len(groups) < max(self.minimum_conditions, 1):
            return
        if _active_plans(ctx):
            return
        opened, _ = groups[self.minimum_conditions - 1 if self.minimum_conditions else 0]
        if opened is None or opened > ctx.as_of:  # nothing dates the state, or not yet known
            return
        yield ctx.gap(
            focus=ctx.patient_id,
            due=ctx.local_date(opened),
            opened=opened,
            summary=f"{len(groups)} chronic conditions and no active care plan.",
            action="Draw up a care plan with the patient (problems, goals, who does what) "
            "and share it with the care team.",
            evidence=tuple(ctx.trigger(f, "chronic condition") for _, f in groups),
            not_applicable=_died(ctx, ctx.today),
        )


def care_plan_missing(
    *,
    minimum_conditions: int = 2,
    conditions: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
    condition_groups: tuple[str, ...] = CHRONIC_CONDITION_GROUPS,
) -> Rule:
    """``care-plan.missing``: 2 or more chronic conditions and no active care plan.

    ``condition_groups`` names one value set per group; the legacy ``conditions`` ((name,
    ICD-10-CM prefixes) pairs), when given, replace them.
    """
    return _Missing(
        minimum_conditions=minimum_conditions,
        conditions=conditions,
        condition_groups=condition_groups,
    )


# --------------------------------------------------------------------------- review overdue


@define_rule(
    _meta(
        id="care-plan.review-overdue",
        title="Care plan not reviewed for a year",
        description=(
            "An active care plan has not been reviewed for 12 months (CMS CCM: the plan is "
            "reviewed and revised at least yearly). A review starts the next 12 months, so "
            "the gap moves on rather than closing: plans keep only their latest review."
        ),
        opens="A care plan is active.",
        due="12 months after its last review (else its creation).",
        closes="The plan is reviewed (the due date moves 12 months on).",
        exclusions=("Patient died.",),
        sources=(_CCM, _FHIR_CAREPLAN),
        reads=frozenset({"care_plans", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
        standing=True,
    )
)
@attrs.frozen(repr=False)
class _ReviewOverdue(RuleBase):
    within_months: int = param(12, "Months between reviews.", unit="months")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _active_plans(ctx):
            plan = fact.value
            reviewed = plan.last_reviewed
            anchor = reviewed or _plan_start(plan)
            if anchor is None:
                continue
            day = ctx.local_date(anchor)
            due = add_months(day, self.within_months)
            what = "reviewed" if reviewed is not None else "created"
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=anchor,
                summary=f"Care plan last {what} {day.isoformat()}; a review is due.",
                action="Review the care plan with the patient and the care team, and record "
                "the review.",
                evidence=(ctx.trigger(fact, f"care plan {what}"),),
                not_applicable=_died(ctx, due),
            )


def care_plan_review_overdue(*, within_months: int = 12) -> Rule:
    """``care-plan.review-overdue``: an active plan not reviewed for 12 months."""
    return _ReviewOverdue(within_months=within_months)


# --------------------------------------------------------------------------- goal without activity


@define_rule(
    _meta(
        id="care-plan.goal-without-activity",
        title="Goal with nothing planned to reach it",
        description=(
            "An active goal, in an active care plan or standing on its own, has no plan "
            "activity serving it and no task focused on it: nobody is working towards it. "
            "Goals that belong only to ended plans are left alone."
        ),
        opens="An active goal (in an active plan, or in no plan) with no activity or task "
        "working towards it.",
        due="At once: the local date of the goal's start, else of when it was recorded, its "
        "plan created or its record retrieved (a goal nothing dates is left alone).",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when an activity of "
        "an active plan serves the goal (not cancelled or stopped), or a task is focused on "
        "the goal. An activity serves the goals it names; when no activity of a plan names "
        "a goal (FHIR leaves activity.detail.goal optional), the plan's live activities "
        "serve all of its goals.",
        exclusions=("Patient died.",),
        sources=(_FHIR_CAREPLAN, _CCM),
        reads=frozenset({"goals", "care_plans", "tasks", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.LOW,
    )
)
@attrs.frozen(repr=False)
class _GoalWithoutActivity(RuleBase):
    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        active = _active_plans(ctx)
        plans_by_goal: dict[str, list[Fact[CarePlan]]] = {}
        for plan in active:
            for goal_id in dict.fromkeys(plan.value.goals):
                plans_by_goal.setdefault(goal_id, []).append(plan)
        tasks: dict[Ref, list[Fact[Task]]] = {}
        for task in ctx.profile.tasks:
            if task.value.focus is not None and task.value.status not in _DEAD_TASKS:
                tasks.setdefault(task.value.focus, []).append(task)
        ended = {
            g
            for p in ctx.profile.care_plans
            if p.value.status is not CarePlanStatus.ACTIVE
            for g in p.value.goals
        }
        for fact in sorted(ctx.profile.goals, key=lambda f: f.key):
            goal = fact.value
            if not goal.is_active:
                continue
            ids: set[str] = {v.id for v in fact.variants} | {goal.id}
            plans = list({p.key: p for i in sorted(ids) for p in plans_by_goal.get(i, ())}.values())
            if not plans and ids & ended:
                continue
            if self._served(fact, ids, plans, tasks):
                continue
            opened = self._opened(ctx, fact, plans)
            if opened is None:  # nothing shows the goal existed at as_of
                continue
            yield ctx.gap(
                focus=fact.key,
                due=ctx.local_date(opened),
                opened=opened,
                summary="A goal of care has no activity or task working towards it.",
                action="Plan at least one activity (or task) for the goal, with an owner.",
                evidence=(
                    ctx.trigger(fact, "active goal"),
                    *(ctx.context(p, "care plan with the goal") for p in plans),
                ),
                not_applicable=_died(ctx, ctx.today),
            )

    @staticmethod
    def _opened(
        ctx: RuleContext, fact: Fact[Goal], plans: list[Fact[CarePlan]]
    ) -> dt.date | dt.datetime | None:
        """When the goal began: its start, recorded time, plan's creation or record's retrieval.

        ``None`` when nothing dates it or it became known after ``as_of``: an undated goal
        is visible at every ``as_of``, so dating it by ``as_of`` would report it at every
        evaluation, due that day (even before the plan that holds it existed).
        """
        goal = fact.value
        if goal.start is not None:
            return goal.start.earliest()
        if goal.recorded_at is not None:
            return goal.recorded_at
        starts = [s for p in plans if (s := _plan_start(p.value)) is not None]
        if starts:
            return min(starts)
        known = known_since(ctx, fact)
        return known if known is not None and known <= ctx.as_of else None

    @staticmethod
    def _served(
        fact: Fact[Goal],
        ids: set[str],
        plans: list[Fact[CarePlan]],
        tasks: dict[Ref, list[Fact[Task]]],
    ) -> bool:
        """Whether a live task is focused on the goal or a plan activity serves it.

        An activity serves the goals it names (FHIR ``CarePlan.activity.detail.goal``). A
        plan none of whose activities names a goal (the element is optional, and many
        exports, Synthea's among them, leave it out) states its goals and activities for
        the plan as a whole (``CarePlan.goal``: "the intended objective(s) of carrying out
        the care plan"): each of its live activities serves each of its goals.
        """
        if any(tasks.get(r) for r in refs_to(fact, "Goal")):
            return True
        for plan in plans:
            live = [a for a in plan.value.activities if a.status not in _DEAD_ACTIVITIES]
            if any(ids.intersection(a.goals) for a in live):
                return True
            if live and not any(a.goals for a in plan.value.activities):
                return True
        return False


def care_plan_goal_without_activity() -> Rule:
    """``care-plan.goal-without-activity``: an active goal nobody works towards."""
    return _GoalWithoutActivity()


RULES: tuple[Rule, ...] = (
    care_plan_missing(),
    care_plan_review_overdue(),
    care_plan_goal_without_activity(),
)
"""The care-plan family with its published defaults, in catalogue order."""
