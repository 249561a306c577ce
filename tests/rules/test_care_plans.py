"""Tests for the care-plan rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecoord.domain import (
    CarePlan,
    CarePlanActivity,
    CarePlanStatus,
    ClinicalStatus,
    Code,
    GoalId,
    PartialDate,
    Ref,
    System,
)
from carecoord.rules import care_plan_missing
from carecoord.rules._care_plans import add_months
from carecoord.testing import Scenario, make_care_plan, make_condition, make_goal, make_task

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NY)
HEART_FAILURE = Code(System.ICD10CM, "I50.9", "Heart failure, unspecified")
CKD = Code(System.ICD10CM, "N18.3", "Chronic kidney disease, stage 3")
ATRIAL_FIBRILLATION = Code(System.ICD10CM, "I48.91", "Atrial fibrillation")
DIABETES = Code(System.ICD10CM, "E11.9", "Type 2 diabetes without complications")
SECOND_ONSET = dt.date(2025, 6, 1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def midnight(day: dt.date) -> dt.datetime:
    """The first instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def conditions() -> tuple[Any, ...]:
    """Heart failure since January 2025 and CKD since 1 June 2025."""
    return (
        make_condition(id="hf", code=HEART_FAILURE, onset=PartialDate(2025, 1, 10)),
        make_condition(id="ckd", code=CKD, onset=PartialDate(2025, 6, 1)),
    )


def plan(**changes: Any) -> CarePlan:
    """An active plan created on ``changes['created']`` (default 1 September 2025)."""
    created = at(dt.date(2025, 9, 1))
    return make_care_plan(**{"created": created, "last_reviewed": None, **changes})


MISSING = "care-plan.missing"


def missing_scenario(*facts: Any, now: dt.datetime = NOW) -> Scenario:
    """Two chronic conditions and the given care plans."""
    s = Scenario(start=now)
    s.add("conditions", *conditions())
    if facts:
        s.add("care_plans", *facts)
    return s


class TestCarePlanMissing:
    """Tests for care-plan.missing."""

    def test_open_from_the_second_conditions_onset(self) -> None:
        """Two chronic groups and no plan: open since the second onset, due that day."""
        gap = missing_scenario().assert_open(MISSING)
        assert gap.opened == midnight(SECOND_ONSET)
        assert gap.due == SECOND_ONSET
        assert len(gap.triggers) == 2

    def test_focus_is_the_patient(self) -> None:
        """The gap is about the patient: its focus is the profile id, not a condition."""
        s = missing_scenario()
        assert s.gap(MISSING).focus == s.profile.id

    def test_focus_does_not_follow_the_conditions(self) -> None:
        """A third chronic condition recorded later does not change the gap's key."""
        s = missing_scenario()
        key = s.gap(MISSING).key
        s.add("conditions", make_condition(id="af", code=ATRIAL_FIBRILLATION))
        assert s.gap(MISSING).key == key

    def test_both_sides_of_the_second_onset(self) -> None:
        """No gap before the second onset, prospective through that day, open after."""
        s = missing_scenario()
        s.set_now(midnight(SECOND_ONSET) - dt.timedelta(microseconds=1)).assert_no_gap(MISSING)
        s.set_now(midnight(SECOND_ONSET)).assert_prospective(MISSING)
        s.set_now(end_of(SECOND_ONSET)).assert_prospective(MISSING)
        s.set_now(midnight(SECOND_ONSET + dt.timedelta(days=1))).assert_open(MISSING)

    def test_one_chronic_condition_needs_no_plan(self) -> None:
        """A single chronic condition has no gap."""
        s = Scenario(start=NOW)
        s.add("conditions", conditions()[0])
        s.assert_no_gap(MISSING)

    def test_two_conditions_of_one_group_count_once(self) -> None:
        """Two heart-failure codes are one group."""
        s = Scenario(start=NOW)
        s.add(
            "conditions",
            conditions()[0],
            make_condition(id="hf2", code=Code(System.ICD10CM, "I11.0")),
        )
        s.assert_no_gap(MISSING)

    def test_no_gap_once_a_plan_is_created(self) -> None:
        """A plan created after the second onset resolves the state: no gap, not a closed one."""
        missing_scenario(plan()).assert_no_gap(MISSING)

    def test_a_plan_created_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the plan, the gap is open."""
        missing_scenario(plan(), now=at(dt.date(2025, 8, 1))).assert_open(MISSING)

    def test_an_earlier_plan_means_no_gap(self) -> None:
        """A plan that already existed: the patient never lacked one."""
        missing_scenario(plan(created=at(dt.date(2025, 2, 1)))).assert_no_gap(MISSING)

    def test_inactive_plans_do_not_count(self) -> None:
        """A completed plan is not an active plan."""
        missing_scenario(plan(status=CarePlanStatus.COMPLETED)).assert_open(MISSING)

    def test_resolved_conditions_do_not_count(self) -> None:
        """A resolved condition leaves one group: no gap."""
        s = Scenario(start=NOW)
        s.add("conditions", conditions()[0])
        s.add(
            "conditions",
            make_condition(id="ckd", code=CKD, clinical_status=ClinicalStatus.RESOLVED),
        )
        s.assert_no_gap(MISSING)

    def test_condition_groups_are_configurable(self) -> None:
        """Pass a broader list to follow CCM eligibility (diabetes and heart failure)."""
        groups = (("diabetes", ("E10", "E11")), ("heart-failure", ("I50",)))
        s = Scenario(start=NOW, rules=[care_plan_missing(conditions=groups)])
        s.add(
            "conditions",
            conditions()[0],
            make_condition(id="dm", code=DIABETES, onset=PartialDate(2024)),
        )
        s.assert_open(MISSING)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient needs no plan."""
        s = missing_scenario()
        s.update_patient(deceased_at=at(dt.date(2026, 1, 1)))
        s.assert_not_applicable(MISSING)


REVIEW = "care-plan.review-overdue"
REVIEWED = at(dt.date(2025, 3, 10))


def review_scenario(*plans: CarePlan, now: dt.datetime = NOW) -> Scenario:
    """A scenario with the plans (by default one reviewed 10 March 2025)."""
    s = Scenario(start=now)
    s.add(
        "care_plans", *(plans or (plan(last_reviewed=REVIEWED, created=at(dt.date(2024, 5, 1))),))
    )
    return s


class TestReviewOverdue:
    """Tests for care-plan.review-overdue."""

    def test_due_12_months_after_the_last_review(self) -> None:
        """Reviewed 10 March 2025: the next review is due 10 March 2026."""
        assert review_scenario().gap(REVIEW).due == dt.date(2026, 3, 10)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 10 March 2026, open from 11 March."""
        s = review_scenario()
        s.set_now(end_of(dt.date(2026, 3, 10))).assert_prospective(REVIEW)
        s.set_now(midnight(dt.date(2026, 3, 11))).assert_open(REVIEW)

    def test_never_reviewed_counts_from_creation(self) -> None:
        """A plan never reviewed is due 12 months after it was created."""
        gap = review_scenario(plan()).gap(REVIEW)
        assert gap.due == dt.date(2026, 9, 1)
        assert "created" in gap.summary

    def test_a_review_moves_the_due_date(self) -> None:
        """Reviewed again on 20 March 2026: prospective, due March 2027."""
        reviewed = plan(last_reviewed=REVIEWED).reviewed(at=at(dt.date(2026, 3, 20)))
        gap = review_scenario(reviewed, now=at(dt.date(2026, 3, 25))).assert_prospective(REVIEW)
        assert gap.due == dt.date(2027, 3, 20)

    def test_a_review_after_as_of_is_not_known(self) -> None:
        """Time travel: before the review, the plan counts from its creation."""
        reviewed = plan().reviewed(at=at(dt.date(2026, 3, 20)))
        gap = review_scenario(reviewed, now=at(dt.date(2026, 3, 19))).gap(REVIEW)
        assert gap.due == dt.date(2026, 9, 1)

    def test_inactive_plans_have_no_gap(self) -> None:
        """A revoked plan is not reviewed."""
        review_scenario(plan(status=CarePlanStatus.REVOKED)).assert_no_gap(REVIEW)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = review_scenario(now=at(dt.date(2026, 3, 20)))
        s.update_patient(deceased_at=at(dt.date(2026, 3, 1)))
        s.assert_not_applicable(REVIEW)


class TestAddMonths:
    """Tests for the month arithmetic."""

    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (dt.date(2025, 3, 10), 12, dt.date(2026, 3, 10)),
            (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
            (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
            (dt.date(2026, 11, 15), 3, dt.date(2027, 2, 15)),
            (dt.date(2026, 3, 1), -3, dt.date(2025, 12, 1)),
        ],
    )
    def test_add_months(self, day: dt.date, months: int, expected: dt.date) -> None:
        """Whole months, clamped to the end of shorter months."""
        assert add_months(day, months) == expected


GOAL = "care-plan.goal-without-activity"
GOAL_START = dt.date(2026, 2, 4)


def goal_scenario(*plans: CarePlan, now: dt.datetime = NOW, **goal: Any) -> Scenario:
    """A goal started 4 February 2026 and the given plans."""
    s = Scenario(start=now)
    s.add("goals", make_goal(**{"start": PartialDate(2026, 2, 4), **goal}))
    if plans:
        s.add("care_plans", *plans)
    return s


def idle_plan(**changes: Any) -> CarePlan:
    """An active plan holding goal-1 with no activity."""
    return plan(**{"activities": (), **changes})


class TestGoalWithoutActivity:
    """Tests for care-plan.goal-without-activity."""

    def test_open_for_a_goal_without_activity(self) -> None:
        """A goal in an active plan with no activity: open from the goal's start."""
        gap = goal_scenario(idle_plan()).assert_open(GOAL)
        assert gap.due == GOAL_START
        assert gap.evidence[1].ref.type == "CarePlan"

    def test_both_sides_of_the_start_day(self) -> None:
        """Prospective through the start day, open from the next day."""
        s = goal_scenario(idle_plan())
        s.set_now(end_of(GOAL_START)).assert_prospective(GOAL)
        s.set_now(midnight(GOAL_START + dt.timedelta(days=1))).assert_open(GOAL)

    def test_no_gap_with_a_plan_activity(self) -> None:
        """An activity serving the goal: nothing is missing, so no gap (not a closed one)."""
        goal_scenario(plan()).assert_no_gap(GOAL)

    def test_cancelled_activities_do_not_count(self) -> None:
        """A cancelled activity serves nothing."""
        cancelled = CarePlanActivity(
            description="Walk", status="cancelled", goals=(GoalId("goal-1"),)
        )
        goal_scenario(idle_plan(activities=(cancelled,))).assert_open(GOAL)

    def test_activities_naming_no_goal_serve_the_plans_goals(self) -> None:
        """A plan whose activities name no goal (FHIR leaves it optional) serves its goals."""
        walk = CarePlanActivity(description="Walk")
        goal_scenario(idle_plan(activities=(walk,))).assert_no_gap(GOAL)

    def test_activities_naming_other_goals_do_not_serve_this_one(self) -> None:
        """Once a plan's activities name goals, a goal none of them names is unserved."""
        walk = CarePlanActivity(description="Walk", goals=(GoalId("goal-2"),))
        goal_scenario(idle_plan(activities=(walk,), goals=("goal-1", "goal-2"))).assert_open(GOAL)

    def test_cancelled_activities_naming_no_goal_serve_nothing(self) -> None:
        """A plan whose only activity is cancelled serves none of its goals."""
        walk = CarePlanActivity(description="Walk", status="cancelled")
        goal_scenario(idle_plan(activities=(walk,))).assert_open(GOAL)

    def test_no_gap_once_a_task_is_focused_on_the_goal(self) -> None:
        """A task focused on the goal resolves the state: no gap from its creation."""
        s = goal_scenario(idle_plan())
        s.add("tasks", make_task(authored_on=at(dt.date(2026, 2, 10)), focus=Ref("Goal", "goal-1")))
        s.assert_no_gap(GOAL)

    def test_a_task_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the task, the gap is open."""
        s = goal_scenario(idle_plan(), now=at(dt.date(2026, 2, 9)))
        s.add("tasks", make_task(authored_on=at(dt.date(2026, 2, 10)), focus=Ref("Goal", "goal-1")))
        s.assert_open(GOAL)

    def test_standalone_goals_count(self) -> None:
        """A goal in no plan at all has nothing working towards it."""
        goal_scenario().assert_open(GOAL)

    def test_goals_of_ended_plans_are_left_alone(self) -> None:
        """A goal that belongs only to a completed plan has no gap."""
        goal_scenario(idle_plan(status=CarePlanStatus.COMPLETED)).assert_no_gap(GOAL)

    def test_inactive_goals_have_no_gap(self) -> None:
        """An achieved goal needs nothing more."""
        goal_scenario(idle_plan(), lifecycle_status="completed").assert_no_gap(GOAL)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient's goals are not followed."""
        s = goal_scenario(idle_plan())
        s.update_patient(deceased=True)
        s.assert_not_applicable(GOAL)
