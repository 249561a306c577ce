"""Tests for activity.ccm-time: 20 minutes of care management per calendar month."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import CoordinationActivity, Period
from carecoord.rules import GapStatus, activity_ccm_time
from carecoord.testing import Scenario, make_activity, make_enrollment

NY = ZoneInfo("America/New_York")
RULE = "activity.ccm-time"
ENROLLED = dt.datetime(2026, 1, 1, 0, 0, tzinfo=NY)
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=NY)
MARCH = "clinic-ehr/enrollment-1#2026-03"
FEBRUARY = "clinic-ehr/enrollment-1#2026-02"


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def activity(id: str, when: dt.datetime, minutes: int, **changes: Any) -> CoordinationActivity:
    """``minutes`` of coordination logged at ``when``."""
    return make_activity(**{"id": id, "at": when, "minutes": minutes, **changes})


def scenario(
    *activities: CoordinationActivity,
    now: dt.datetime = NOW,
    look_back_months: int = 12,
    **enrollment: Any,
) -> Scenario:
    """A patient enrolled in CCM since 1 January 2026 (New York), with activities.

    The rule looks back 12 months, so past months can be checked; the default (the month
    of as_of only) has its own tests.
    """
    s = Scenario(start=now, rules=[activity_ccm_time(look_back_months=look_back_months)])
    s.add("enrollments", make_enrollment(**{"period": Period(ENROLLED), **enrollment}))
    if activities:
        s.add("activities", *activities)
    return s


class TestCcmTime:
    """Tests for activity.ccm-time."""

    def test_only_the_month_of_as_of_by_default(self) -> None:
        """By default only the current month is reported: past months cannot be met now."""
        s = Scenario(start=NOW)
        s.add("enrollments", make_enrollment(period=Period(ENROLLED)))
        gaps = s.gaps(include_closed=True).by_rule(RULE)
        assert [(g.focus, g.status) for g in gaps] == [(MARCH, GapStatus.PROSPECTIVE)]

    def test_default_look_back_is_one_month(self) -> None:
        """The published default of look_back_months is 1."""
        parameter = activity_ccm_time().metadata.parameter("look_back_months")
        assert parameter is not None
        assert parameter.default == 1

    def test_a_past_month_is_not_reported_by_default(self) -> None:
        """On 1 April, February's missed minutes are billing history, not work."""
        s = Scenario(start=dt.datetime(2026, 4, 1, 9, tzinfo=NY))
        s.add("enrollments", make_enrollment(period=Period(ENROLLED)))
        s.assert_no_gap(RULE, FEBRUARY)
        s.assert_no_gap(RULE, MARCH)

    def test_one_gap_per_month_of_enrolment(self) -> None:
        """Looking back a year, enrolled since January: January, February and March."""
        gaps = scenario().find_gaps(RULE)
        assert [g.focus for g in gaps] == [
            "clinic-ehr/enrollment-1#2026-01",
            FEBRUARY,
            MARCH,
        ]

    def test_due_the_last_day_of_the_month(self) -> None:
        """March is due on 31 March."""
        assert scenario().gap(RULE, MARCH).due == dt.date(2026, 3, 31)

    def test_both_sides_of_the_month_end(self) -> None:
        """Prospective at the last instant of March, open from 1 April."""
        s = scenario()
        s.set_now(dt.datetime.combine(dt.date(2026, 3, 31), dt.time.max, tzinfo=NY))
        s.assert_prospective(RULE, MARCH)
        s.set_now(dt.datetime(2026, 4, 1, tzinfo=NY)).assert_open(RULE, MARCH)

    def test_closed_at_20_minutes(self) -> None:
        """15 then 10 minutes: closed when the second activity brings it to 20 or more."""
        s = scenario(
            activity("a1", at(dt.date(2026, 2, 3)), 15),
            activity("a2", at(dt.date(2026, 2, 17)), 10),
        )
        gap = s.assert_closed(RULE, FEBRUARY)
        assert gap.closed_at == at(dt.date(2026, 2, 17))
        assert len(gap.closed_by) == 2

    def test_19_minutes_is_not_enough(self) -> None:
        """A month with 19 minutes is open once it ends."""
        s = scenario(activity("a1", at(dt.date(2026, 2, 3)), 19))
        gap = s.assert_open(RULE, FEBRUARY)
        assert "19 of 20 minutes" in gap.summary

    def test_the_month_is_the_patients_local_month(self) -> None:
        """23:30 on 28 February in New York is March in UTC but counts for February."""
        late = activity("a1", at(dt.date(2026, 2, 28), 23, 30), 20)
        s = scenario(late)
        s.assert_closed(RULE, FEBRUARY)
        s.assert_prospective(RULE, MARCH)

    def test_non_billable_time_does_not_count(self) -> None:
        """Activities marked not billable are left out by default."""
        s = scenario(activity("a1", at(dt.date(2026, 2, 3)), 30, billable=False))
        s.assert_open(RULE, FEBRUARY)

    def test_time_logged_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: an activity recorded after as_of is not counted."""
        late_entry = activity(
            "a1", at(dt.date(2026, 2, 27)), 30, recorded_at=at(dt.date(2026, 3, 3))
        )
        s = scenario(late_entry)
        s.set_now(at(dt.date(2026, 3, 2))).assert_open(RULE, FEBRUARY)
        s.set_now(at(dt.date(2026, 3, 4))).assert_closed(RULE, FEBRUARY)

    def test_other_programmes_are_ignored(self) -> None:
        """An enrolment in another programme has no CCM clock."""
        scenario(program="rpm").assert_no_gap(RULE)

    def test_no_months_after_the_enrolment_ends(self) -> None:
        """Enrolment ended on 1 February: only January is followed."""
        s = scenario(period=Period(ENROLLED, dt.datetime(2026, 2, 1, tzinfo=NY)))
        assert [g.focus for g in s.find_gaps(RULE)] == ["clinic-ehr/enrollment-1#2026-01"]

    def test_look_back_is_bounded(self) -> None:
        """With a 2-month look-back only February and March are reported."""
        s = scenario()
        gaps = s.gaps([activity_ccm_time(look_back_months=2)], include_closed=True)
        assert [g.focus for g in gaps] == [FEBRUARY, MARCH]

    def test_minutes_are_configurable(self) -> None:
        """minimum_minutes=40 counts the 99490 + 99439 threshold instead."""
        s = scenario(activity("a1", at(dt.date(2026, 2, 3)), 25))
        rule = activity_ccm_time(minimum_minutes=40, look_back_months=12)
        report = s.gaps([rule], include_closed=True)
        gap = report.get(f"{RULE}|{s.profile.id}|{FEBRUARY}")
        assert gap is not None
        assert gap.status is GapStatus.OPEN

    def test_patient_died_is_not_applicable(self) -> None:
        """A patient who died during the month is not billed for it."""
        s = scenario()
        s.update_patient(deceased_at=at(dt.date(2026, 3, 5)))
        assert s.assert_not_applicable(RULE, MARCH).reason == "patient died"
