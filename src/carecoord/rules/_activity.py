"""Activity rules: the care-management time a programme needs each month.

Months are calendar months in the patient's local time zone: an activity logged at 23:30
on 31 March in New York counts for March even though it is April in UTC.

By default only the month of ``as_of`` is reported: it is the only month in which the
minutes can still be met, so it is the coordinator's work; a past month is a billing
record (raise ``look_back_months`` to audit the last year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import CoordinationActivity, Discipline, Enrollment
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._care_plans import add_months
from carecoord.rules._context import RuleContext
from carecoord.rules._model import Citation, Gap, RuleMetadata, Severity

__all__ = ["FAMILY", "RULES", "activity_ccm_time"]

FAMILY = "activity"

_CCM = Citation(
    "CMS Chronic Care Management services (MLN909188): CPT 99490, at least 20 minutes of "
    "clinical staff time per calendar month",
    "https://www.cms.gov/outreach-and-education/medicare-learning-network-mln/mlnproducts/downloads/chroniccaremanagement.pdf",
)
_CPT = Citation(
    "AMA CPT 99490: chronic care management services, first 20 minutes per calendar month",
    "https://www.ama-assn.org/practice-management/cpt/chronic-care-management-services",
)


def _program(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Problem(attribute.name, "a programme name"))


def _months(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """The first day of each month from ``first``'s month to ``last``'s, in order."""
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = add_months(month, 1)


@define_rule(
    RuleMetadata(
        id="activity.ccm-time",
        title="Chronic care management time short this month",
        description=(
            "A patient enrolled in chronic care management has less than 20 minutes of "
            "care-management time logged in a calendar month (CPT 99490). One gap per "
            "month of enrolment (focus #YYYY-MM): prospective until the month ends, open "
            "after. Only the month of as_of is reported by default, the only one whose "
            "minutes can still be logged; look_back_months=12 also reports the 11 months "
            "before it (closed or open), for a billing audit."
        ),
        family=FAMILY,
        opens="A month in which the patient is enrolled in the ccm programme.",
        due="The last day of the calendar month (patient-local).",
        closes="At least 20 minutes of billable coordination activity logged in that month.",
        exclusions=("Patient died before the month ended.",),
        sources=(_CCM, _CPT),
        reads=frozenset({"enrollments", "activities", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.LOW,
    )
)
@attrs.frozen(repr=False)
class _CcmTime(RuleBase):
    minimum_minutes: int = param(20, "Minutes needed in the month.", unit="minutes")
    program: str = param("ccm", "The enrolment programme (case-insensitive).", validator=_program)
    look_back_months: int = param(
        1,
        "How many months, the current one included, are reported (1: the month of as_of "
        "only; 12 for a year's billing audit; beyond 12, also pass "
        "detect_gaps(look_back_months=None), whose own look-back is 12 months).",
        unit="months",
    )
    billable_only: bool = param(True, "Count only activities marked billable.")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        if not self.look_back_months:
            return
        today = ctx.today
        earliest = add_months(today.replace(day=1), 1 - self.look_back_months)
        activities: dict[dt.date, list[Fact[CoordinationActivity]]] = {}
        for logged in sorted(ctx.profile.activities, key=lambda a: (a.value.at, a.key)):
            if logged.value.billable or not self.billable_only:
                month = ctx.local_date(logged.value.at).replace(day=1)
                activities.setdefault(month, []).append(logged)
        for fact in sorted(ctx.profile.enrollments, key=lambda f: f.key):
            enrollment = fact.value
            if enrollment.program.strip().lower() != self.program.strip().lower():
                continue
            start = enrollment.period.start
            first = max(ctx.local_date(start), earliest) if start is not None else earliest
            last = today
            if enrollment.period.end is not None:
                last = min(
                    last, ctx.local_date(enrollment.period.end - dt.timedelta(microseconds=1))
                )
            for month in _months(first, last):
                yield self._month(ctx, fact, month, activities.get(month, []))

    def _month(
        self,
        ctx: RuleContext,
        fact: Fact[Enrollment],
        month: dt.date,
        activities: list[Fact[CoordinationActivity]],
    ) -> Gap:
        """The gap for one month, given that month's activities in time order."""
        begins = ctx.start_of_day(month)
        following = add_months(month, 1)
        due = following - dt.timedelta(days=1)
        start = fact.value.period.start
        opened = max(begins, start) if start is not None else begins
        total = 0
        counted = []
        closed_at = None
        for activity in activities:
            a = activity.value
            total += a.minutes
            counted.append(activity)
            if total >= self.minimum_minutes:
                closed_at = a.at
                break
        label = month.strftime("%Y-%m")
        return ctx.gap(
            focus=f"{fact.key}#{label}",
            due=due,
            opened=opened,
            summary=f"Care management in {label}: {total} of {self.minimum_minutes} minutes "
            "logged.",
            action="Plan and log this month's care-management work with the patient (calls, "
            "care-plan review, coordination with other providers).",
            evidence=(ctx.trigger(fact, "enrolled in chronic care management"),),
            closed_by=tuple(ctx.closing(a, f"{a.value.minutes} minutes logged") for a in counted)
            if closed_at is not None
            else (),
            closed_at=closed_at,
            not_applicable="patient died" if ctx.died_by(due) else None,
        )


def activity_ccm_time(
    *,
    minimum_minutes: int = 20,
    program: str = "ccm",
    look_back_months: int = 1,
    billable_only: bool = True,
) -> Rule:
    """``activity.ccm-time``: less than 20 minutes of CCM time in a calendar month."""
    return _CcmTime(
        minimum_minutes=minimum_minutes,
        program=program,
        look_back_months=look_back_months,
        billable_only=billable_only,
    )


RULES: tuple[Rule, ...] = (activity_ccm_time(),)
"""The activity family with its published defaults, in catalogue order."""
