"""Clocks start when a fact became known, never at ``as_of``; early visits do not restart.

Three faults found on real data, each at its cause:

* an undated goal (no start, no recorded time) was dated by ``as_of``: visible at every
  evaluation, due that very day, even before the plan that holds it existed;
* a diabetes condition without an onset made the first HbA1c due the day before every
  evaluation (and ``care-plan.missing`` dated an undated condition by ``as_of`` too);
* a wellness visit fewer than 11 full months after the last one restarted the annual
  cycle, so the visit that was due was never flagged (CMS: G0439 at least 11 full months
  after the last annual wellness visit; an earlier one is not covered as one).

An undated fact is now dated by :func:`known_since`: its recorded time, else the
retrieval time of its record; a fact nothing dates starts no clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import Code, PartialDate, Period, System
from carecoord.rules import BusinessCalendar, RuleContext, monitoring_overdue
from carecoord.rules._care_plans import known_since
from carecoord.testing import (
    Scenario,
    make_care_plan,
    make_condition,
    make_encounter,
    make_goal,
    make_record,
    make_result,
    make_source,
)

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NY)
RETRIEVED = dt.datetime(2025, 11, 20, 8, 0, tzinfo=NY)
DIABETES = Code(System.ICD10CM, "E11.9", "Type 2 diabetes without complications")
HEART_FAILURE = Code(System.ICD10CM, "I50.9", "Heart failure, unspecified")
CKD = Code(System.ICD10CM, "N18.3", "Chronic kidney disease, stage 3")
AWV = Code(System.HCPCS, "G0439", "Annual wellness visit, subsequent")
GOAL = "care-plan.goal-without-activity"
MISSING = "care-plan.missing"
MONITORING = "monitoring.overdue"
DM = "clinic-ehr/dm#diabetes-hba1c"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def scenario(retrieved: dt.datetime | None = None, now: dt.datetime = NOW) -> Scenario:
    """A patient whose record was retrieved at ``retrieved`` (unknown by default)."""
    record = make_record(source=make_source(retrieved_at=retrieved))
    return Scenario(record, start=now)


def undated_goal(**changes: Any) -> Any:
    """An active goal with no start and no recorded time."""
    return make_goal(**{"start": None, "recorded_at": None, **changes})


class TestUndatedGoals:
    """``care-plan.goal-without-activity`` for goals without a date of their own."""

    def test_a_goal_nothing_dates_has_no_gap(self) -> None:
        """No start, no recorded time, no plan, no retrieval time: no gap at any as_of.

        It used to be due on as_of's date at every evaluation: always new, never open.
        """
        s = scenario()
        s.add("goals", undated_goal())

        s.assert_no_gap(GOAL)
        s.set_now(NOW + dt.timedelta(days=400)).assert_no_gap(GOAL)

    def test_a_goal_is_dated_by_its_records_retrieval(self) -> None:
        """Undated, in a record retrieved on 20 November 2025: due that day, open after."""
        s = scenario(RETRIEVED)
        s.add("goals", undated_goal())

        assert s.gap(GOAL).due == dt.date(2025, 11, 20)
        s.set_now(end_of(dt.date(2025, 11, 20))).assert_prospective(GOAL)
        s.set_now(after(dt.date(2025, 11, 20))).assert_open(GOAL)

    def test_before_its_record_was_retrieved_the_goal_is_not_known(self) -> None:
        """Time travel: an instant before the retrieval sees no gap; the retrieval one does."""
        s = scenario(RETRIEVED)
        s.add("goals", undated_goal())

        s.set_now(RETRIEVED - dt.timedelta(microseconds=1)).assert_no_gap(GOAL)
        s.set_now(RETRIEVED).assert_prospective(GOAL)

    def test_a_recorded_time_comes_before_the_retrieval(self) -> None:
        """A goal recorded on 3 October 2025 is due then, whatever the retrieval."""
        s = scenario(RETRIEVED)
        s.add("goals", undated_goal(recorded_at=at(dt.date(2025, 10, 3))))

        assert s.gap(GOAL).due == dt.date(2025, 10, 3)

    def test_an_undated_goal_in_a_plan_exists_from_the_plan(self) -> None:
        """Before its (idle) plan was created the goal is nobody's yet: no gap; then due.

        This is Synthea's case: goals carry no date and belong to plans; the goal used to
        be reported, due on as_of, at every instant before its plan existed.
        """
        created = at(dt.date(2025, 9, 1))
        s = scenario()
        s.add("goals", undated_goal())
        s.add("care_plans", make_care_plan(created=created, last_reviewed=None, activities=()))

        s.set_now(created - dt.timedelta(days=30)).assert_no_gap(GOAL)
        assert s.set_now(NOW).assert_open(GOAL).due == dt.date(2025, 9, 1)


def conditions(**changes: Any) -> tuple[Any, ...]:
    """Heart failure and CKD (two chronic groups), with ``changes`` applied to both."""
    return (
        make_condition(id="hf", code=HEART_FAILURE, **changes),
        make_condition(id="ckd", code=CKD, **changes),
    )


class TestUndatedConditionsNeedingAPlan:
    """``care-plan.missing`` when the conditions have no onset."""

    def test_dated_by_when_the_second_was_recorded(self) -> None:
        """No onsets: the state began when the second condition was recorded."""
        s = scenario()
        s.add(
            "conditions",
            make_condition(
                id="hf", code=HEART_FAILURE, onset=None, recorded_at=at(dt.date(2025, 2, 1))
            ),
            make_condition(id="ckd", code=CKD, onset=None, recorded_at=at(dt.date(2025, 4, 9))),
        )

        assert s.gap(MISSING).due == dt.date(2025, 4, 9)

    def test_dated_by_the_records_retrieval(self) -> None:
        """No onset and no recorded time: dated by the record's retrieval."""
        s = scenario(RETRIEVED)
        s.add("conditions", *conditions(onset=None))

        assert s.gap(MISSING).due == dt.date(2025, 11, 20)

    def test_conditions_nothing_dates_start_no_clock(self) -> None:
        """Nothing dates them: no gap (it used to be due on as_of's date at every run)."""
        s = scenario()
        s.add("conditions", *conditions(onset=None))

        s.assert_no_gap(MISSING)

    def test_one_undated_condition_counts_from_the_dated_one(self) -> None:
        """An undated condition may be the older: the state began with the dated one."""
        s = scenario()
        s.add(
            "conditions",
            make_condition(id="hf", code=HEART_FAILURE, onset=None),
            make_condition(id="ckd", code=CKD, onset=PartialDate(2025, 6, 1)),
        )

        assert s.gap(MISSING).due == dt.date(2025, 6, 1)


class TestUndatedDiabetes:
    """``monitoring.overdue``: the first HbA1c of a diabetes without an onset."""

    def diabetic(self, retrieved: dt.datetime | None = None, **changes: Any) -> Scenario:
        """The monitoring rule and a diabetes with no onset (no HbA1c on record)."""
        s = Scenario(
            make_record(source=make_source(retrieved_at=retrieved)),
            start=NOW,
            rules=[monitoring_overdue()],
        )
        s.add("conditions", make_condition(id="dm", code=DIABETES, onset=None, **changes))
        return s

    def test_due_6_months_after_the_records_retrieval(self) -> None:
        """Retrieved 20 November 2025: the first HbA1c is due 20 May 2026, both sides."""
        s = self.diabetic(RETRIEVED)

        assert s.gap(MONITORING, DM).due == dt.date(2026, 5, 20)
        s.set_now(end_of(dt.date(2026, 5, 20))).assert_prospective(MONITORING, DM)
        s.set_now(after(dt.date(2026, 5, 20))).assert_open(MONITORING, DM)

    def test_the_due_date_does_not_move_with_as_of(self) -> None:
        """Evaluated a month later, the same due date (it used to be the day before as_of)."""
        s = self.diabetic(RETRIEVED)
        first = s.gap(MONITORING, DM).due

        assert s.set_now(NOW + dt.timedelta(days=30)).gap(MONITORING, DM).due == first

    def test_a_dated_diagnosis_gives_the_clock(self) -> None:
        """An undated diabetes next to one with an onset: the dated one starts the clock."""
        s = self.diabetic()
        dated = make_condition(id="dm2", code=DIABETES, onset=PartialDate(2025, 5, 4))
        s.add("conditions", dated)

        assert s.gap(MONITORING, "clinic-ehr/dm2#diabetes-hba1c").due == dt.date(2025, 11, 4)

    def test_a_retrieval_after_as_of_is_not_yet_known(self) -> None:
        """Evaluated before the record was retrieved, the undated diagnosis is not known."""
        s = self.diabetic(RETRIEVED)

        s.set_now(RETRIEVED - dt.timedelta(days=1)).assert_no_gap(MONITORING, DM)


def wellness(ident: str, day: dt.date) -> Any:
    """A 40-minute annual wellness visit (G0439) on ``day``."""
    start = at(day)
    return make_encounter(
        id=ident, period=Period(start, start + dt.timedelta(minutes=40)), types=(AWV,)
    )


def hba1c(ident: str, day: dt.date) -> Any:
    """An HbA1c result issued on ``day``."""
    code = Code(System.LOINC, "4548-4", "Hemoglobin A1c")
    return make_result(id=ident, code=code, issued=at(day), based_on=())


def senior(*visits: Any, now: dt.datetime = NOW) -> Scenario:
    """A patient born 1 June 1955, the monitoring rule and the visits."""
    s = Scenario(start=now, rules=[monitoring_overdue()])
    s.update_patient(birth_date=PartialDate(1955, 6, 1))
    if visits:
        s.add("encounters", *visits)
    return s


def focus(ident: str) -> str:
    """The focus of the cycle a visit started."""
    return f"clinic-ehr/{ident}#annual-wellness-visit"


class TestEarlyWellnessVisits:
    """An annual wellness visit counts only 11 full months after the last one that counted."""

    def test_an_early_visit_leaves_the_cycle_open(self) -> None:
        """Visit 15 January 2025, then 1 September 2025 (early): due 31 January 2026, open."""
        s = senior(wellness("v1", dt.date(2025, 1, 15)), wellness("v2", dt.date(2025, 9, 1)))

        gap = s.assert_open(MONITORING, focus("v1"))
        assert gap.due == dt.date(2026, 1, 31)
        assert gap.evidence[-1].description.startswith("annual wellness visit too early")
        assert s.find_gaps(MONITORING, focus("v2")) == ()

    def test_both_sides_of_the_eleventh_month(self) -> None:
        """31 December 2025 is too early after 15 January 2025; 1 January 2026 counts."""
        early = senior(wellness("v1", dt.date(2025, 1, 15)), wellness("v2", dt.date(2025, 12, 31)))
        timely = senior(wellness("v1", dt.date(2025, 1, 15)), wellness("v2", dt.date(2026, 1, 1)))

        early.assert_open(MONITORING, focus("v1"))
        assert timely.assert_closed(MONITORING, focus("v1")).closed_at == at(dt.date(2026, 1, 1))
        assert timely.gap(MONITORING, focus("v2")).due == dt.date(2027, 1, 31)

    def test_the_next_visit_counts_from_the_last_that_counted(self) -> None:
        """Visits every 7 months: each second one counts, anchored on the one before it.

        January 2024 counts; August 2024 is early; March 2025 counts (14 months after
        January 2024) and closes that cycle late; October 2025 is early again, so the
        visit due by 31 March 2026 is still awaited.
        """
        visits = [
            wellness("v1", dt.date(2024, 1, 10)),
            wellness("v2", dt.date(2024, 8, 10)),
            wellness("v3", dt.date(2025, 3, 10)),
            wellness("v4", dt.date(2025, 10, 10)),
        ]
        s = senior(*visits, now=at(dt.date(2026, 4, 2)))

        closed = s.assert_closed(MONITORING, focus("v1"))
        assert (closed.closed_at, closed.late) == (at(dt.date(2025, 3, 10)), True)
        assert s.assert_open(MONITORING, focus("v3")).due == dt.date(2026, 3, 31)

    def test_an_early_hba1c_still_counts(self) -> None:
        """HbA1c is not a whole-month schedule: a test 2 months after the last restarts it."""
        s = Scenario(start=NOW, rules=[monitoring_overdue()])
        s.add("conditions", make_condition(id="dm", code=DIABETES, onset=PartialDate(2020, 1, 15)))
        s.add("results", hba1c("a1", dt.date(2025, 9, 1)), hba1c("a2", dt.date(2025, 11, 1)))

        assert s.gap(MONITORING, "clinic-ehr/a2#diabetes-hba1c").due == dt.date(2026, 5, 1)
        assert s.find_gaps(MONITORING, "clinic-ehr/a1#diabetes-hba1c")[0].closed_at is not None


class TestKnownSince:
    """:func:`known_since`, the date of a fact without one."""

    def test_recorded_time_first_then_retrieval_then_nothing(self) -> None:
        """The earliest recorded time, else the record's retrieval, else ``None``."""
        s = scenario(RETRIEVED)
        s.add(
            "goals", undated_goal(), undated_goal(id="goal-2", recorded_at=at(dt.date(2025, 1, 2)))
        )
        bare = scenario()
        bare.add("goals", undated_goal())

        goals = {f.value.id: f for f in s.profile.goals}
        ctx = RuleContext(profile=s.profile, as_of=NOW, calendar=BusinessCalendar(), tz=NY)
        bare_ctx = RuleContext(profile=bare.profile, as_of=NOW, calendar=BusinessCalendar(), tz=NY)

        assert known_since(ctx, goals["goal-2"]) == at(dt.date(2025, 1, 2))
        assert known_since(ctx, goals["goal-1"]) == RETRIEVED
        assert known_since(bare_ctx, bare.profile.goals[0]) is None
