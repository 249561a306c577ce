"""Tests for the result rules, with both sides of every window edge."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecoord.domain import (
    Code,
    CommunicationKind,
    EncounterClass,
    Interpretation,
    Order,
    OrderKind,
    OrderStatus,
    Period,
    Priority,
    Ref,
    Result,
    ResultCategory,
    ResultStatus,
    Sensitivity,
    System,
)
from carecoord.errors import UsageError
from carecoord.rules import (
    Severity,
    result_abnormal_no_follow_up,
    result_missing,
    result_unacknowledged,
)
from carecoord.testing import (
    CARDIOLOGIST,
    COORDINATOR,
    PCP,
    Scenario,
    make_care_team,
    make_communication,
    make_encounter,
    make_order,
    make_result,
    make_task,
)

NY = ZoneInfo("America/New_York")
ORDER_DAY = dt.date(2026, 2, 4)  # Wednesday
ISSUE_DAY = dt.date(2026, 2, 4)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def order(**changes: Any) -> Order:
    """A lab order by the PCP on 4 February."""
    return make_order(**{"authored_on": at(ORDER_DAY), **changes})


def result(**changes: Any) -> Result:
    """A result for ``order-1`` issued on ``ISSUE_DAY`` (abnormal unless changed)."""
    return make_result(**{"issued": at(ISSUE_DAY), **changes})


def both_sides(s: Scenario, rule: str, due: dt.date) -> None:
    """Assert prospective at the end of ``due`` and open just after."""
    s.set_now(end_of(due)).assert_prospective(rule)
    s.set_now(start_after(due)).assert_open(rule)


MISSING = "result.missing"


def missing_scenario(*orders: Order, now: dt.datetime | None = None) -> Scenario:
    """A scenario with orders (by default one lab order)."""
    s = Scenario(start=now or at(ORDER_DAY, 12))
    s.add("orders", *(orders or (order(),)))
    return s


class TestResultMissing:
    """Tests for result.missing."""

    def test_lab_due_14_days_after_the_order(self) -> None:
        """A lab order on 4 February is due a result by 18 February."""
        assert missing_scenario().gap(MISSING).due == dt.date(2026, 2, 18)

    def test_lab_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 18 February, open from 19 February."""
        both_sides(missing_scenario(), MISSING, dt.date(2026, 2, 18))

    def test_imaging_due_30_days_after_the_order(self) -> None:
        """An imaging order on 4 February is due a result by 6 March, both sides."""
        s = missing_scenario(order(kind=OrderKind.IMAGING))
        assert s.gap(MISSING).due == dt.date(2026, 3, 6)
        both_sides(s, MISSING, dt.date(2026, 3, 6))

    def test_closed_by_a_result_based_on_the_order(self) -> None:
        """A result naming the order closes the gap; the result is the evidence."""
        s = missing_scenario(now=at(dt.date(2026, 2, 25)))
        s.add("results", result(issued=at(dt.date(2026, 2, 10))))
        gap = s.assert_closed(MISSING)
        assert gap.closed_at == at(dt.date(2026, 2, 10))
        assert gap.closed_by[0].ref == Ref("Result", "clinic-ehr/result-1")
        assert not gap.late

    def test_a_late_result_closes_late(self) -> None:
        """A result after the due date closes the gap, marked late."""
        s = missing_scenario(now=at(dt.date(2026, 2, 25)))
        s.add("results", result(issued=at(dt.date(2026, 2, 20))))
        assert s.assert_closed(MISSING).late

    def test_result_issued_after_as_of_does_not_close_earlier(self) -> None:
        """Evaluated before the result was issued, the gap is open: time travel."""
        s = missing_scenario(now=at(dt.date(2026, 2, 19)))
        s.add("results", result(issued=at(dt.date(2026, 2, 20))))
        s.assert_open(MISSING)

    def test_result_recorded_after_as_of_does_not_close_earlier(self) -> None:
        """A result issued in time but recorded after as_of is not yet known."""
        s = missing_scenario(now=at(dt.date(2026, 2, 19)))
        s.add(
            "results", result(issued=at(dt.date(2026, 2, 10)), recorded_at=at(dt.date(2026, 2, 21)))
        )
        s.assert_open(MISSING)

    def test_a_result_for_another_order_does_not_close_it(self) -> None:
        """Only a result based on this order counts."""
        s = missing_scenario(now=at(dt.date(2026, 2, 25)))
        s.add("results", result(based_on=("order-9",)))
        s.assert_open(MISSING)

    def test_a_cancelled_result_does_not_close_it(self) -> None:
        """A cancelled result is not a result."""
        s = missing_scenario(now=at(dt.date(2026, 2, 25)))
        s.add("results", result(status=ResultStatus.CANCELLED))
        s.assert_open(MISSING)

    def test_revoked_order_is_not_applicable(self) -> None:
        """An order revoked before any result needs none."""
        s = missing_scenario(order(status=OrderStatus.REVOKED), now=at(dt.date(2026, 2, 25)))
        assert s.assert_not_applicable(MISSING).reason == "order revoked"

    def test_patient_died_is_not_applicable(self) -> None:
        """A death on or before the due date excludes the gap."""
        s = missing_scenario(now=at(dt.date(2026, 2, 25)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 10)))
        assert s.assert_not_applicable(MISSING).reason == "patient died"

    def test_drafts_and_procedures_have_no_gap(self) -> None:
        """Draft orders and procedure orders expect no result."""
        missing_scenario(order(status=OrderStatus.DRAFT)).assert_no_gap(MISSING)
        missing_scenario(order(kind=OrderKind.PROCEDURE)).assert_no_gap(MISSING)

    def test_urgent_orders_are_high_severity(self) -> None:
        """A stat order's missing result is high severity."""
        gap = missing_scenario(order(priority=Priority.STAT)).gap(MISSING)
        assert gap.severity is Severity.HIGH

    def test_windows_are_configurable(self) -> None:
        """lab_within_days changes the lab window."""
        s = Scenario(start=at(ORDER_DAY, 12), rules=[result_missing(lab_within_days=7)])
        s.add("orders", order())
        assert s.gap(MISSING).due == dt.date(2026, 2, 11)

    def test_summary_names_the_kind_not_the_test(self) -> None:
        """The summary says 'Lab order', never the test's name."""
        summary = missing_scenario().gap(MISSING).summary
        assert summary.startswith("Lab order placed 2026-02-04")
        assert "A1c" not in summary


UNACK = "result.unacknowledged"


def unack_scenario(*results: Result, now: dt.datetime | None = None, team: bool = True) -> Scenario:
    """An order by the PCP, its result(s), and (by default) the care team."""
    s = Scenario(start=now or at(ISSUE_DAY, 12))
    s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
    s.add("results", *(results or (result(),)))
    if team:
        s.add("care_teams", make_care_team())
    return s


class TestResultUnacknowledged:
    """Tests for result.unacknowledged."""

    def test_due_3_business_days_after_issue(self) -> None:
        """Issued Wednesday 4 February: due Monday 9 February."""
        assert unack_scenario().gap(UNACK).due == dt.date(2026, 2, 9)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 9 February, open from 10 February."""
        both_sides(unack_scenario(), UNACK, dt.date(2026, 2, 9))

    def test_critical_due_24_hours_after_issue(self) -> None:
        """A critical result is due 24 hours after issue, and critical in severity."""
        gap = unack_scenario(result(interpretation=Interpretation.CRITICAL)).gap(UNACK)
        assert gap.due == at(ISSUE_DAY) + dt.timedelta(hours=24)
        assert gap.severity is Severity.CRITICAL

    def test_critical_both_sides_of_the_edge(self) -> None:
        """Prospective at exactly 24 hours, open a microsecond later."""
        s = unack_scenario(result(interpretation=Interpretation.CRITICAL))
        due = at(ISSUE_DAY) + dt.timedelta(hours=24)
        s.set_now(due).assert_prospective(UNACK)
        s.set_now(due + dt.timedelta(microseconds=1)).assert_open(UNACK)

    def test_closed_by_the_orderers_acknowledgement(self) -> None:
        """The ordering clinician's acknowledgement closes it, with its time."""
        acked = result().acknowledge(PCP, at=at(dt.date(2026, 2, 5)))
        gap = unack_scenario(acked, now=at(dt.date(2026, 2, 20))).assert_closed(UNACK)
        assert gap.closed_at == at(dt.date(2026, 2, 5))
        assert gap.closed_by[0].description == "acknowledged by the ordering clinician"

    def test_closed_by_a_care_team_members_acknowledgement(self) -> None:
        """An active care-team member (the coordinator) may acknowledge it."""
        acked = result().acknowledge(COORDINATOR, at=at(dt.date(2026, 2, 5)))
        unack_scenario(acked, now=at(dt.date(2026, 2, 20))).assert_closed(UNACK)

    def test_acknowledgement_by_an_outsider_does_not_count(self) -> None:
        """Someone neither ordering nor on the team does not close it."""
        acked = result().acknowledge(CARDIOLOGIST, at=at(dt.date(2026, 2, 5)))
        unack_scenario(acked, now=at(dt.date(2026, 2, 20))).assert_open(UNACK)

    def test_without_orderer_or_team_any_acknowledgement_counts(self) -> None:
        """With nobody responsible on record, any acknowledgement closes it."""
        acked = result(based_on=()).acknowledge(CARDIOLOGIST, at=at(dt.date(2026, 2, 5)))
        s = unack_scenario(acked, now=at(dt.date(2026, 2, 20)), team=False)
        s.assert_closed(UNACK)

    def test_acknowledgement_after_as_of_does_not_close_earlier(self) -> None:
        """Evaluated before the acknowledgement, the gap is open: time travel."""
        acked = result().acknowledge(PCP, at=at(dt.date(2026, 2, 11)))
        unack_scenario(acked, now=at(dt.date(2026, 2, 10))).assert_open(UNACK)

    def test_late_acknowledgement_closes_late(self) -> None:
        """An acknowledgement after the due day closes it late."""
        acked = result().acknowledge(PCP, at=at(dt.date(2026, 2, 11)))
        assert unack_scenario(acked, now=at(dt.date(2026, 2, 20))).assert_closed(UNACK).late

    def test_unavailable_results_have_no_gap(self) -> None:
        """Registered or cancelled results are not available to acknowledge."""
        unack_scenario(result(status=ResultStatus.REGISTERED)).assert_no_gap(UNACK)
        unack_scenario(result(status=ResultStatus.CANCELLED)).assert_no_gap(UNACK)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = unack_scenario(now=at(dt.date(2026, 2, 20)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 6)))
        s.assert_not_applicable(UNACK)

    def test_sensitivity_is_carried(self) -> None:
        """A sensitive result's gap carries the same label."""
        gap = unack_scenario(result(sensitivity=frozenset({Sensitivity.HIV}))).gap(UNACK)
        assert gap.sensitivity == frozenset({Sensitivity.HIV})

    @pytest.mark.parametrize(
        "category", [ResultCategory.LABORATORY, ResultCategory.IMAGING, ResultCategory.UNKNOWN]
    )
    def test_tests_are_followed(self, category: ResultCategory) -> None:
        """Laboratory, imaging and uncategorised results need acknowledging."""
        unack_scenario(result(category=category)).assert_prospective(UNACK)

    @pytest.mark.parametrize(
        "category",
        [ResultCategory.SURVEY, ResultCategory.VITAL_SIGNS, ResultCategory.SOCIAL_HISTORY],
    )
    def test_recorded_observations_are_not_followed(self, category: ResultCategory) -> None:
        """A questionnaire score, a vital sign or a social history is not awaiting review."""
        unack_scenario(result(category=category)).assert_no_gap(UNACK)

    def test_categories_are_configurable(self) -> None:
        """categories=(SURVEY,) follows questionnaire scores instead."""
        rule = result_unacknowledged(categories=(ResultCategory.SURVEY,))
        s = Scenario(start=at(ISSUE_DAY, 12), rules=[rule])
        s.add("results", result(category=ResultCategory.SURVEY), result(id="result-2"))
        assert [g.focus for g in s.find_gaps(UNACK)] == ["clinic-ehr/result-1"]

    def test_categories_must_be_result_categories(self) -> None:
        """A category given as text is refused (a wrong kind of argument: UsageError)."""
        with pytest.raises(UsageError, match="holding a str"):
            result_unacknowledged(categories=("laboratory",))  # type: ignore[arg-type]


FOLLOW_UP = "result.abnormal-no-follow-up"
FOR_RESULT = (Ref("Result", "result-1"),)


def follow_scenario(*results: Result, now: dt.datetime | None = None) -> Scenario:
    """An order by the PCP and its abnormal result issued on 4 February."""
    s = Scenario(start=now or at(ISSUE_DAY, 12))
    s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
    s.add("results", *(results or (result(),)))
    return s


def visit(day: dt.date, **changes: Any) -> Any:
    """A 30-minute office visit on ``day`` at 14:00."""
    start = at(day, 14)
    return make_encounter(period=Period(start, start + dt.timedelta(minutes=30)), **changes)


class TestAbnormalNoFollowUp:
    """Tests for result.abnormal-no-follow-up."""

    def test_due_30_days_after_issue(self) -> None:
        """An abnormal result on 4 February needs follow-up by 6 March, both sides."""
        s = follow_scenario()
        assert s.gap(FOLLOW_UP).due == dt.date(2026, 3, 6)
        both_sides(s, FOLLOW_UP, dt.date(2026, 3, 6))

    def test_normal_results_have_no_gap(self) -> None:
        """A normal result needs no follow-up."""
        follow_scenario(result(interpretation=Interpretation.NORMAL)).assert_no_gap(FOLLOW_UP)

    def test_critical_results_are_critical(self) -> None:
        """A critical result's gap is critical."""
        gap = follow_scenario(result(interpretation=Interpretation.CRITICAL)).gap(FOLLOW_UP)
        assert gap.severity is Severity.CRITICAL

    def test_closed_by_a_linked_visit(self) -> None:
        """A visit based on the result closes it, as the closing evidence."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add(
            "encounters",
            visit(dt.date(2026, 2, 12), performers=(CARDIOLOGIST,), based_on=FOR_RESULT),
        )
        gap = s.assert_closed(FOLLOW_UP)
        assert gap.closed_by[0].ref == Ref("Encounter", "clinic-ehr/visit-1")
        assert gap.closed_at == at(dt.date(2026, 2, 12), 14)

    def test_closed_by_an_office_visit_with_the_orderer(self) -> None:
        """An unlinked outpatient visit with the ordering clinician counts."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add("encounters", visit(dt.date(2026, 2, 12), klass=EncounterClass.TELEPHONE))
        s.assert_closed(FOLLOW_UP)

    def test_an_unlinked_visit_with_someone_else_does_not_count(self) -> None:
        """A visit with another clinician, not about the result, does not close it."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add("encounters", visit(dt.date(2026, 2, 12), performers=(CARDIOLOGIST,)))
        s.assert_open(FOLLOW_UP)

    def test_a_visit_before_the_result_does_not_count(self) -> None:
        """A visit before the result was issued cannot follow it up."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add("encounters", visit(dt.date(2026, 2, 3)))
        s.assert_open(FOLLOW_UP)

    def test_closed_by_a_repeat_order(self) -> None:
        """The same test ordered again after the result counts as follow-up."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add("orders", make_order(id="order-2", authored_on=at(dt.date(2026, 2, 20))))
        assert s.assert_closed(FOLLOW_UP).closed_by[0].ref.type == "Order"

    def test_closed_by_a_task_about_it(self) -> None:
        """A task focused on the result counts."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.add("tasks", make_task(authored_on=at(dt.date(2026, 2, 6)), focus=FOR_RESULT[0]))
        assert s.assert_closed(FOLLOW_UP).closed_at == at(dt.date(2026, 2, 6))

    def test_closed_by_telling_the_patient(self) -> None:
        """A result notification about the result counts."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        message = make_communication(
            kind=CommunicationKind.RESULT_NOTIFICATION,
            sent=at(dt.date(2026, 2, 5)),
            about=FOR_RESULT,
        )
        s.add("communications", message)
        s.assert_closed(FOLLOW_UP)

    def test_a_message_after_as_of_does_not_close_earlier(self) -> None:
        """Evaluated before the patient was told, the gap is open: time travel."""
        s = follow_scenario(now=at(dt.date(2026, 3, 7)))
        message = make_communication(
            kind=CommunicationKind.PATIENT_CONTACT, sent=at(dt.date(2026, 3, 8)), about=FOR_RESULT
        )
        s.add("communications", message)
        s.assert_open(FOLLOW_UP)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 6)))
        s.assert_not_applicable(FOLLOW_UP)

    def test_unrelated_repeat_of_another_test_does_not_count(self) -> None:
        """An order for a different test is not a follow-up of this one."""
        s = follow_scenario(now=at(dt.date(2026, 3, 10)))
        other = Code(System.LOINC, "2160-0", "Creatinine")
        s.add("orders", make_order(id="order-2", code=other, authored_on=at(dt.date(2026, 2, 20))))
        s.assert_open(FOLLOW_UP)

    def test_an_abnormal_survey_is_not_followed(self) -> None:
        """A questionnaire score flagged abnormal is the clinician's own finding: no gap."""
        follow_scenario(result(category=ResultCategory.SURVEY)).assert_no_gap(FOLLOW_UP)

    def test_categories_are_configurable(self) -> None:
        """categories=(ResultCategory.SURVEY,) follows abnormal questionnaire scores."""
        rule = result_abnormal_no_follow_up(categories=(ResultCategory.SURVEY,))
        s = Scenario(start=at(ISSUE_DAY, 12), rules=[rule])
        s.add("results", result(category=ResultCategory.SURVEY))
        s.assert_prospective(FOLLOW_UP)
