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
from collections.abc import Iterator
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    Code,
    Interpretation,
    PartialDate,
    Quantity,
    Ref,
    ReferralStatus,
    System,
)
from carecoord.errors import UsageError, ValidationError
from carecoord.profile import Viewer
from carecoord.rules import (
    WORKLIST_MONTHS,
    Citation,
    Gap,
    GapReport,
    GapStatus,
    RuleContext,
    RuleMetadata,
    detect_gaps,
    detect_gaps_population,
    monitoring_overdue,
    summarize,
    worklist,
    worklist_since,
)
from carecoord.rules._context import rule_zone
from carecoord.rules._model import months_before
from carecoord.testing import (
    Scenario,
    make_condition,
    make_referral,
    make_result,
    make_social_need,
    make_task,
    make_transition,
)
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


class TestIsCurrent:
    """Gap.is_current, the one test behind the look-back, due_since and the coordinator."""

    def test_a_due_instant_counts_by_its_date_in_the_zone_given(self) -> None:
        """Due 03:00 UTC on 15 July 2025: that day in UTC, 14 July in New York."""
        s = discharged(dt.date(2019, 3, 4))
        [gap] = s.gaps(look_back_months=None).by_rule(MED_REC)
        instant = attrs.evolve(gap, due=dt.datetime(2025, 7, 15, 3, tzinfo=dt.UTC))

        assert instant.is_current(SINCE)
        assert instant.is_current(SINCE, dt.UTC)
        assert not instant.is_current(SINCE, NY)
        assert attrs.evolve(instant, standing=True).is_current(SINCE, NY)
        assert attrs.evolve(instant, status=GapStatus.PROSPECTIVE).is_current(SINCE, NY)


class TestOpenLoops:
    """A referral, community referral or social need still open is work, however old."""

    def test_a_referral_still_waiting_since_2024(self) -> None:
        """Sent in 2024, never acknowledged nor booked, still open: its gaps are standing."""
        sent = at(dt.date(2024, 3, 4))
        s = Scenario(start=AS_OF)
        s.add("referrals", make_referral(authored_on=sent - dt.timedelta(days=1)))
        shown = {g.rule: g for g in s.gaps()}

        assert {"referral.unacknowledged", "referral.unscheduled"} <= set(shown)
        assert shown["referral.unscheduled"].standing
        assert shown["referral.unscheduled"].status is GapStatus.OPEN

    def test_a_referral_cancelled_long_ago_is_history(self) -> None:
        """The same referral cancelled in 2024: nothing is standing, its old gaps go."""
        written = at(dt.date(2024, 3, 3))
        s = Scenario(start=AS_OF)
        s.add("referrals", make_referral(authored_on=written, status=ReferralStatus.CANCELLED))
        report = s.gaps(include_closed=True)

        assert [g for g in report if g.family == "referrals"] == []
        assert report.older >= 1

    def test_a_social_need_still_identified(self) -> None:
        """A food need screened in 2024 and never addressed is still work."""
        s = Scenario(start=AS_OF)
        s.add("social_needs", make_social_need(identified_at=at(dt.date(2024, 3, 4))))
        [gap] = s.gaps().by_rule("social.need-unaddressed")

        assert gap.standing
        assert gap.status is GapStatus.OPEN


class TestViewers:
    """The older count is no side channel."""

    def test_a_viewers_report_counts_no_older_gaps(self) -> None:
        """for_viewer sets older to 0: the gaps left out may be ones the viewer may not see."""
        s = discharged(dt.date(2019, 3, 4))
        report = s.gaps()
        outsider = Viewer(Ref("Practitioner", "locum-1"))
        seen = report.for_viewer(s.profile, outsider)

        assert report.older > 0
        assert seen.older == 0
        assert "older" not in repr(seen)


@attrs.frozen
class _TwoClocks:
    """A custom rule that gives two gaps the same key: one due in 2019, one in July 2026."""

    id: ClassVar[str] = "practice.two-clocks"
    metadata: ClassVar[RuleMetadata] = RuleMetadata(
        id="practice.two-clocks",
        title="Two clocks on one focus",
        description="A test rule.",
        family="practice",
        opens="Always.",
        due="2019 and July 2026.",
        closes="Never.",
        sources=(Citation("Test"),),
        reads=frozenset({"patient"}),
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        """One old and one recent open gap with the same focus."""
        for due in (dt.date(2019, 1, 1), dt.date(2026, 7, 1)):
            yield ctx.gap(
                focus="patient#x",
                due=due,
                opened=due - dt.timedelta(days=7),
                summary="A test gap.",
                action="None.",
            )


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

    def test_only_auto_as_text(self) -> None:
        """The one text accepted is "auto"; "AUTO" or "all" are refused, naming the argument."""
        s = discharged(dt.date(2026, 6, 10))
        assert detect_gaps(s.profile, as_of=AS_OF, look_back_months="auto") == detect_gaps(
            s.profile, as_of=AS_OF
        )
        for bad in ("AUTO", "all"):
            with pytest.raises((ValidationError, UsageError), match="look_back_months"):
                detect_gaps(s.profile, as_of=AS_OF, look_back_months=bad)  # type: ignore[arg-type]

    def test_the_default_is_the_worklist_window(self) -> None:
        """The default look-back is WORKLIST_MONTHS, for one profile and for many."""
        s = discharged(dt.date(2024, 3, 4))
        one = detect_gaps(s.profile, as_of=AS_OF)
        many = list(detect_gaps_population([s.profile], as_of=AS_OF))

        assert one == detect_gaps(s.profile, as_of=AS_OF, look_back_months=WORKLIST_MONTHS)
        assert many == [one]
        assert one.older > 0

    def test_the_worklist_counts_what_the_look_back_left_out(self) -> None:
        """Worklist.older adds up the reports' older counts; hidden is its own window's."""
        s = discharged(dt.date(2019, 3, 4))
        report = s.gaps()
        shown = worklist([report], as_of=AS_OF)
        everything = worklist([report], as_of=AS_OF, months=None)

        assert shown.older == everything.older == report.older > 0
        assert shown.hidden == everything.hidden == 0
        assert "older left out" in repr(report)
        assert f"{report.older} older" in repr(shown)

    def test_a_summary_counts_what_the_look_back_left_out(self) -> None:
        """Summarize adds the reports' older counts up, and shows them."""
        old = discharged(dt.date(2019, 3, 4))
        recent = discharged(dt.date(2026, 6, 10))
        summary = summarize(detect_gaps_population([old.profile, recent.profile], as_of=AS_OF))

        assert summary.older == old.gaps().older > 0
        assert "older left out" in repr(summary)
        assert "older, left out by the look-back" in summary.display().html

    def test_since_turns_the_default_look_back_off(self) -> None:
        """With since (a measurement period), "auto" applies no look-back; months still do."""
        s = discharged(dt.date(2024, 6, 3))
        period = dt.date(2024, 1, 1)
        with_since = detect_gaps(s.profile, as_of=AS_OF, since=period)
        both = detect_gaps(s.profile, as_of=AS_OF, since=period, look_back_months=12)

        assert with_since.by_rule(MED_REC)
        assert with_since.older == 0
        assert with_since == detect_gaps(
            s.profile, as_of=AS_OF, since=period, look_back_months=None
        )
        assert both.by_rule(MED_REC) == ()
        assert both.older > 0

    def test_the_patients_local_dates(self) -> None:
        """The window starts 12 months before the patient's local date, however as_of is written.

        At 02:00 UTC on 15 July it is still 14 July in New York: a med rec due 14 July 2025
        is in the window, whether as_of is given in UTC or in New York time.
        """
        utc = dt.datetime(2026, 7, 15, 2, tzinfo=dt.UTC)
        s = discharged(dt.date(2025, 6, 14))
        s.set_now(utc)
        [due] = [g.due for g in s.gaps(look_back_months=None).by_rule(MED_REC)]

        assert due == dt.date(2025, 7, 14)
        assert s.gaps().by_rule(MED_REC)
        s.set_now(utc.astimezone(NY))
        assert s.gaps().by_rule(MED_REC)

    def test_a_recent_gap_is_not_lost_behind_an_old_one_with_its_key(self) -> None:
        """Two gaps of one key (a custom rule's): the old one goes, the recent one stays."""
        rule = _TwoClocks()
        s = discharged(dt.date(2026, 6, 10))
        report = detect_gaps(s.profile, as_of=AS_OF, rules=[rule])

        assert [g.due for g in report] == [dt.date(2026, 7, 1)]
        assert report.older == 1


def _expected(full: GapReport, profile: Any, months: int) -> tuple[set[str], int]:
    """The keys the look-back keeps, by the patient's local dates, and how many it drops."""
    zone, _known = rule_zone(profile, full.as_of)
    start = months_before(full.as_of.astimezone(zone).date(), months)
    kept = set()
    for g in full:
        due = g.due.astimezone(zone).date() if isinstance(g.due, dt.datetime) else g.due
        if g.status is GapStatus.PROSPECTIVE or g.standing or due >= start:
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
        kept, older = _expected(full, profile, months)

        assert keys(recent) == kept
        assert recent.older == older
        assert [g for g in full if g.key in kept] == list(recent)
