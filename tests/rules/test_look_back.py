"""detect_gaps's look-back: a window missed years ago is history, not today's work.

By default ``detect_gaps`` leaves out the gaps due before ``worklist_since(as_of)`` (12
calendar months back) unless they are prospective or standing (a state that holds now:
an open task past due, the monitoring cycle running now, an active care plan never
reviewed), and counts them in ``GapReport.older``; ``look_back_months=None`` keeps
everything. Tested as a class: for any profile and any ``as_of``, the default report is
exactly the full report filtered by that rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.domain import Code, Interpretation, PartialDate, Quantity, System
from carecoord.errors import UsageError, ValidationError
from carecoord.rules import (
    WORKLIST_MONTHS,
    GapReport,
    GapStatus,
    detect_gaps,
    detect_gaps_population,
    monitoring_overdue,
    worklist,
    worklist_since,
)
from carecoord.testing import Scenario, make_condition, make_result, make_task, make_transition
from carecoord.testing.strategies import aware_datetimes, profiles

NY = ZoneInfo("America/New_York")
AS_OF = dt.datetime(2026, 7, 15, 12, 0, tzinfo=NY)
SINCE = dt.date(2025, 7, 15)
MED_REC = "transition.med-rec"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def discharged(day: dt.date) -> Scenario:
    """An inpatient stay discharged home on ``day`` (admitted 3 days before), at AS_OF."""
    stay = make_transition(admitted_at=at(day - dt.timedelta(days=3)), discharged_at=at(day))
    scenario = Scenario(start=AS_OF)
    scenario.add("transitions", stay)
    return scenario


def keys(report: GapReport) -> set[str]:
    """The keys of a report's gaps."""
    return {g.key for g in report}


class TestEventGaps:
    """A gap whose window closed before the look-back is left out and counted."""

    def test_a_discharge_years_ago_is_not_todays_work(self) -> None:
        """A 2019 discharge never reconciled: open in the full report, absent by default."""
        s = discharged(dt.date(2019, 3, 4))
        everything = [g for g in s.gaps(look_back_months=None) if g.family == "transitions"]
        recent = s.gaps()

        assert MED_REC in {g.rule for g in everything}
        assert all(g.status is GapStatus.OPEN for g in everything)
        assert [g for g in recent if g.family == "transitions"] == []
        assert recent.older == len(everything) >= 3

    def test_a_recent_discharge_is(self) -> None:
        """A discharge last month: every transition gap is reported, nothing left out."""
        s = discharged(dt.date(2026, 6, 10))
        recent = s.gaps()

        assert MED_REC in {g.rule for g in recent}
        assert recent.older == 0
        assert recent.gaps == s.gaps(look_back_months=None).gaps

    def test_the_edge_of_the_window(self) -> None:
        """Med rec due on the window's first day is kept; due the day before, left out.

        It is due 30 days after the discharge.
        """
        first = worklist_since(AS_OF)
        assert first == SINCE
        kept = discharged(SINCE - dt.timedelta(days=30))
        gone = discharged(SINCE - dt.timedelta(days=31))

        assert kept.gaps().by_rule(MED_REC)[0].due == SINCE
        assert gone.gaps().by_rule(MED_REC) == ()
        assert gone.gaps(look_back_months=None).by_rule(MED_REC)[0].due == SINCE - dt.timedelta(
            days=1
        )

    def test_a_gap_ages_out_as_time_passes(self) -> None:
        """The same gap is reported at 11 months and left out at 13 (time travel)."""
        s = discharged(dt.date(2025, 1, 6))
        s.set_now(at(dt.date(2025, 12, 1)))
        assert s.gaps().by_rule(MED_REC)
        s.set_now(at(dt.date(2026, 3, 1)))
        assert s.gaps().by_rule(MED_REC) == ()

    def test_closed_gaps_too(self) -> None:
        """With include_closed, an old closed gap is history as well."""
        written = make_task(authored_on=at(dt.date(2020, 1, 6)), due=at(dt.date(2020, 1, 8)))
        done = written.start(at=at(dt.date(2020, 1, 7))).complete(at=at(dt.date(2020, 1, 9)))
        s = Scenario(start=AS_OF)
        s.add("tasks", done)

        assert s.gaps(include_closed=True).by_rule("task.overdue") == ()
        full = s.gaps(include_closed=True, look_back_months=None).by_rule("task.overdue")
        assert [g.status for g in full] == [GapStatus.CLOSED]

    def test_a_shorter_or_no_look_back(self) -> None:
        """look_back_months=0 keeps only what is due from as_of's date; a longer one more."""
        s = discharged(dt.date(2026, 5, 1))  # med rec due 31 May 2026

        assert s.gaps(look_back_months=0).by_rule(MED_REC) == ()
        assert s.gaps(look_back_months=2).by_rule(MED_REC)
        old = discharged(dt.date(2019, 3, 4))
        assert old.gaps(look_back_months=12 * 8).by_rule(MED_REC)


class TestStandingGaps:
    """A state that holds now is work however old its due date."""

    def test_an_open_task_overdue_for_years(self) -> None:
        """An open task due in 2020: still reported, as standing."""
        s = Scenario(start=AS_OF)
        s.add("tasks", make_task(authored_on=at(dt.date(2020, 1, 6)), due=at(dt.date(2020, 1, 8))))
        overdue = s.gaps().by_rule("task.overdue")
        stalled = s.gaps().by_rule("task.stalled")

        assert [g.status for g in overdue] == [GapStatus.OPEN]
        assert overdue[0].standing
        assert [g.standing for g in stalled] == [True]

    def test_an_unassigned_task_written_years_ago(self) -> None:
        """An open task with no owner since 2020: still reported."""
        s = Scenario(start=AS_OF)
        s.add("tasks", make_task(authored_on=at(dt.date(2020, 1, 6)), owner=None))

        assert [g.standing for g in s.gaps().by_rule("task.unassigned")] == [True]

    def test_the_monitoring_cycle_running_now(self) -> None:
        """Diabetes, last HbA1c in 2021: the cycle due since 2021 is reported.

        The cycle before it, closed late in 2021, is history.
        """
        hba1c = Code(System.LOINC, "4548-4")
        diabetes = make_condition(
            id="dm", code=Code(System.SNOMED, "44054006"), onset=PartialDate(2019, 1, 15)
        )
        result: Any = make_result(
            id="a1c",
            code=hba1c,
            issued=at(dt.date(2021, 2, 1)),
            value=Quantity(7.1, "%"),
            interpretation=Interpretation.UNKNOWN,
            based_on=(),
        )
        s = Scenario(start=AS_OF, rules=[monitoring_overdue()])
        s.add("conditions", diabetes)
        s.add("results", result)
        shown = [g for g in s.gaps(include_closed=True) if "hba1c" in g.focus]
        full = s.gaps(include_closed=True, look_back_months=None)

        assert [(g.focus, g.status, g.standing) for g in shown] == [
            ("clinic-ehr/a1c#diabetes-hba1c", GapStatus.OPEN, True)
        ]
        assert len([g for g in full if "hba1c" in g.focus]) == 2
        assert s.gaps(include_closed=True).older == 1

    def test_an_active_care_plan_never_reviewed(self) -> None:
        """care-plan.review-overdue is a standing rule: shown however long overdue."""
        from carecoord.testing import make_care_plan

        s = Scenario(start=AS_OF)
        old = at(dt.date(2018, 5, 1))
        s.add("care_plans", make_care_plan(created=old, last_reviewed=old))
        gaps = s.gaps().by_rule("care-plan.review-overdue")

        assert gaps
        assert all(g.standing for g in gaps)


class TestTheArgument:
    """look_back_months is checked and passed through."""

    @pytest.mark.parametrize("bad", [-1, 1.5, "12", True])
    def test_bad_values_are_refused(self, bad: object) -> None:
        """A negative, fractional, text or boolean look-back is refused, naming it."""
        s = discharged(dt.date(2026, 6, 10))
        with pytest.raises((ValidationError, UsageError), match="look_back_months"):
            detect_gaps(s.profile, as_of=AS_OF, look_back_months=bad)  # type: ignore[arg-type]
        with pytest.raises((ValidationError, UsageError), match="look_back_months"):
            detect_gaps_population([s.profile], as_of=AS_OF, look_back_months=bad)  # type: ignore[arg-type]

    def test_the_default_is_the_worklist_window(self) -> None:
        """The default look-back is WORKLIST_MONTHS, for one profile and for many."""
        s = discharged(dt.date(2024, 3, 4))
        one = detect_gaps(s.profile, as_of=AS_OF)
        many = list(detect_gaps_population([s.profile], as_of=AS_OF))

        assert one == detect_gaps(s.profile, as_of=AS_OF, look_back_months=WORKLIST_MONTHS)
        assert many == [one]
        assert one.older > 0

    def test_the_worklist_counts_what_the_look_back_left_out(self) -> None:
        """Worklist.hidden adds the reports' older count to what its own window hides."""
        s = discharged(dt.date(2019, 3, 4))
        report = s.gaps()
        shown = worklist([report], as_of=AS_OF)

        assert shown.hidden == report.older > 0
        assert "older left out" in repr(report)


def _expected(full: GapReport, since: dt.date) -> tuple[set[str], int]:
    zone = full.as_of.tzinfo
    kept = set()
    for g in full:
        due = g.due.astimezone(zone).date() if isinstance(g.due, dt.datetime) else g.due
        if g.status is GapStatus.PROSPECTIVE or g.standing or due >= since:
            kept.add(g.key)
    return kept, len(full) - len(kept)


class TestTheClass:
    """For any profile and any as_of, every rule of the catalogue: default = full, filtered."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(profile=profiles(), as_of=aware_datetimes(), months=st.sampled_from([0, 3, 12]))
    def test_the_look_back_is_the_full_report_filtered(
        self, profile: Any, as_of: dt.datetime, months: int
    ) -> None:
        """The full report minus the old gaps neither prospective nor standing.

        ``older`` is how many were left out.
        """
        full = detect_gaps(profile, as_of=as_of, include_closed=True, look_back_months=None)
        recent = detect_gaps(profile, as_of=as_of, include_closed=True, look_back_months=months)
        kept, older = _expected(full, worklist_since(as_of, months))

        assert keys(recent) == kept
        assert recent.older == older
        assert [g for g in full if g.key in kept] == list(recent)
