"""Tests for the time-travel harness, and that past evaluations reproduce what was knowable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    AppointmentId,
    AppointmentStatus,
    CareSetting,
    CommunicationKind,
    Period,
    ReferralStatus,
)
from carecoord.errors import ValidationError
from carecoord.profile._model import PatientProfile, profile_from_record
from carecoord.rules import (
    BusinessCalendar,
    GapStatus,
    RuleContext,
    RuleMetadata,
    detect_gaps,
    profile_as_of,
    us_federal_holidays,
)
from carecoord.testing import (
    AS_OF,
    make_appointment,
    make_communication,
    make_encounter,
    make_reconciliation,
    make_record,
    make_referral,
    make_result,
    make_transition,
)
from carecoord.testing._timetravel import Scenario

NY = ZoneInfo("America/New_York")
UNACK = "referral.unacknowledged"


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


class TestClock:
    """Tests for clock."""

    def test_starts_at_as_of_by_default(self) -> None:
        """A new scenario's now is AS_OF, with the default synthetic record."""
        s = Scenario()
        assert s.now == AS_OF
        assert s.profile.patient.id == "patient-1"

    def test_advance_by_days_and_hours(self) -> None:
        """Scenario.advance moves now forward by calendar time."""
        assert Scenario().advance(2, hours=3).now == AS_OF + dt.timedelta(days=2, hours=3)

    def test_advance_by_business_days_keeps_the_local_time(self) -> None:
        """Friday 10:00 plus 1 business day is Monday 10:00 local time."""
        s = Scenario(start=at(dt.date(2026, 7, 2)))
        s.advance(business_days=1)
        assert s.now == at(dt.date(2026, 7, 3))
        s.advance(business_days=1)
        assert s.now == at(dt.date(2026, 7, 6))

    def test_advance_uses_the_scenario_calendar(self) -> None:
        """With US holidays, Thursday 2 July 2026 plus 1 business day is Monday 6 July."""
        cal = BusinessCalendar(holidays=us_federal_holidays(2026))
        s = Scenario(start=at(dt.date(2026, 7, 2)), calendar=cal)
        assert s.advance(business_days=1).now == at(dt.date(2026, 7, 6))

    def test_set_now_goes_anywhere(self) -> None:
        """set_now moves the clock backwards or forwards."""
        earlier = AS_OF - dt.timedelta(days=30)
        assert Scenario().set_now(earlier).now == earlier

    def test_naive_times_are_refused(self) -> None:
        """The clock only takes aware datetimes."""
        with pytest.raises(ValidationError, match="aware"):
            Scenario().set_now(dt.datetime(2026, 3, 2))  # noqa: DTZ001

    def test_today_is_the_patients_local_date(self) -> None:
        """Scenario.today is the patient's local date (New York), not the UTC date."""
        s = Scenario(start=dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC))
        assert s.today == dt.date(2026, 3, 2)


class TestFacts:
    """Tests for facts."""

    def test_add_inserts_into_profile_and_record(self) -> None:
        """Added facts appear in the profile and in its first record."""
        s = Scenario().add("referrals", make_referral())
        assert [f.value.id for f in s.profile.referrals] == ["referral-1"]
        assert [r.id for r in s.primary_record.referrals] == ["referral-1"]

    def test_add_replaces_a_fact_with_the_same_id(self) -> None:
        """Adding a fact with an existing id replaces it (the next lifecycle step)."""
        s = Scenario().add("referrals", make_referral())
        s.add("referrals", s.fact("referrals", "referral-1").accept(at=AS_OF))
        assert len(s.profile.referrals) == 1
        assert s.profile.referrals[0].value.status is ReferralStatus.ACCEPTED
        assert s.primary_record.referrals[0].status is ReferralStatus.ACCEPTED

    def test_update_applies_a_change(self) -> None:
        """Scenario.update replaces a fact by a function of it."""
        s = Scenario().add("referrals", make_referral())
        s.update("referrals", "referral-1", lambda r: r.receive(at=AS_OF))
        assert s.fact("referrals", "referral-1").status is ReferralStatus.RECEIVED

    def test_record_stamps_recorded_at(self) -> None:
        """Scenario.record sets recorded_at to now where the fact has it unset."""
        s = Scenario().record("results", make_result())
        assert s.fact("results", "result-1").recorded_at == AS_OF

    def test_unknown_kind_is_refused(self) -> None:
        """Fact kinds are profile field names."""
        with pytest.raises(ValidationError, match="unknown fact kind"):
            Scenario().add("referral", make_referral())

    def test_unknown_fact_id(self) -> None:
        """Asking for a fact that is not there raises."""
        with pytest.raises(ValidationError):
            Scenario().fact("referrals", "nope")

    def test_update_patient(self) -> None:
        """update_patient changes the patient in profile and record."""
        s = Scenario().update_patient(deceased_at=AS_OF)
        assert s.profile.patient.is_deceased
        assert s.primary_record.patient.is_deceased

    def test_from_a_profile(self) -> None:
        """A scenario can start from an existing profile."""
        profile = profile_from_record(make_record(referrals=(make_referral(),)))
        assert Scenario(profile).profile is profile

    def test_from_one_record_in_a_list(self) -> None:
        """A list holding one record is accepted."""
        assert Scenario([make_record()]).profile.id == "clinic-ehr/patient-1"


class TestQuestions:
    """Tests for questions."""

    def test_gap_finds_the_one_gap(self) -> None:
        """Scenario.gap returns the single gap of the rule, in any status."""
        s = Scenario().add("referrals", make_referral())
        assert s.gap(UNACK).rule == UNACK

    def test_gap_raises_when_there_is_none(self) -> None:
        """Scenario.gap raises AssertionError naming the rule when nothing is found."""
        with pytest.raises(AssertionError, match=UNACK):
            Scenario().gap(UNACK)

    def test_gap_raises_when_there_are_several(self) -> None:
        """Scenario.gap needs a focus when the rule found several gaps."""
        s = Scenario().add("referrals", make_referral(), make_referral(id="referral-2"))
        with pytest.raises(AssertionError, match="referral-2"):
            s.gap(UNACK)
        assert s.gap(UNACK, "clinic-ehr/referral-2").focus == "clinic-ehr/referral-2"

    def test_status_is_none_without_a_gap(self) -> None:
        """Scenario.status returns None when the rule found nothing."""
        assert Scenario().status(UNACK) is None

    def test_assertion_failure_says_what_was_found(self) -> None:
        """A wrong status assertion reports the actual status and due date."""
        s = Scenario().add("referrals", make_referral())
        with pytest.raises(AssertionError, match="got prospective"):
            s.assert_open(UNACK)

    def test_assert_no_gap_fails_when_there_is_one(self) -> None:
        """assert_no_gap lists the gaps it did not expect."""
        s = Scenario().add("referrals", make_referral())
        with pytest.raises(AssertionError, match="prospective"):
            s.assert_no_gap(UNACK)

    def test_a_raising_rule_fails_the_question(self) -> None:
        """Asking about a rule that raised is an AssertionError with the error type."""

        class Broken:
            id = "test.broken"
            metadata = RuleMetadata(id="test.broken", title="B", description="")

            def evaluate(self, ctx: RuleContext) -> list[object]:
                """Return the rule's gaps."""
                raise RuntimeError("no")

        s = Scenario(rules=[Broken()])  # type: ignore[list-item]
        with pytest.raises(AssertionError, match="RuntimeError"):
            s.gap("test.broken")

    def test_tasks_are_suggested_for_actionable_gaps(self) -> None:
        """Scenario.tasks suggests one task per actionable gap at now."""
        s = Scenario().add("referrals", make_referral())
        assert len(s.tasks()) == len(s.gaps().actionable())

    def test_the_story_of_a_discharge(self) -> None:
        """CHT-style: the contact gap appears, goes overdue, then closes with the call."""
        discharged = at(dt.date(2026, 2, 5), 11)
        s = Scenario(start=discharged)
        admitted = discharged - dt.timedelta(days=3)
        s.record("transitions", make_transition(admitted_at=admitted, discharged_at=discharged))
        s.advance(business_days=2)
        s.assert_prospective("transition.tcm-contact")
        s.advance(days=1)
        s.assert_open("transition.tcm-contact")
        call = make_communication(
            kind=CommunicationKind.PATIENT_CONTACT, interactive=True, sent=s.now
        )
        s.record("communications", call)
        assert s.assert_closed("transition.tcm-contact").late


def story() -> tuple[PatientProfile, list[tuple[dt.datetime, dt.datetime, PatientProfile]]]:
    """A patient's month, built step by step; returns the final profile and snapshots.

    Each snapshot is what the system held from its start time until the next step.
    """
    steps: list[tuple[dt.datetime, PatientProfile]] = []
    t0 = at(dt.date(2026, 2, 2), 9)
    s = Scenario(start=t0)
    referral = make_referral(authored_on=t0, sent_at=t0, history=(), status=ReferralStatus.DRAFT)
    referral = referral.send(at=t0)
    s.add("referrals", referral)
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 3)))
    admitted = make_transition(
        admitted_at=s.now, discharged_at=None, to_setting=CareSetting.UNKNOWN
    )
    s.add("transitions", admitted)
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 5), 11))
    s.update("transitions", "stay-1", lambda t: t.discharge(at=s.now, to_setting=CareSetting.HOME))
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 6), 15))
    s.update("referrals", "referral-1", lambda r: r.accept(at=s.now))
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 10)))
    call = make_communication(
        kind=CommunicationKind.PATIENT_CONTACT, interactive=True, sent=s.now, about=()
    )
    s.record("communications", call)
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 11)))
    appt = make_appointment(start=at(dt.date(2026, 2, 20)), booked_at=s.now)
    s.add("appointments", appt)
    s.update(
        "referrals",
        "referral-1",
        lambda r: r.schedule(AppointmentId("appointment-1"), at=s.now),
    )
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 12), 11))
    start = at(dt.date(2026, 2, 12), 10)
    visit = make_encounter(period=Period(start, start + dt.timedelta(minutes=30)))
    s.record("encounters", visit)
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 2, 20), 12))
    s.update(
        "appointments",
        "appointment-1",
        lambda a: a.transition_to(AppointmentStatus.NO_SHOW, at=s.now),
    )
    s.update("referrals", "referral-1", lambda r: r.record_no_show(at=s.now))
    steps.append((s.now, s.profile))

    s.set_now(at(dt.date(2026, 3, 1)))
    s.record("reconciliations", make_reconciliation(at=s.now))
    steps.append((s.now, s.profile))

    end = at(dt.date(2026, 4, 1))
    spans = [
        (start_, steps[i + 1][0] if i + 1 < len(steps) else end, snapshot)
        for i, (start_, snapshot) in enumerate(steps)
    ]
    return s.profile, spans


class TestReproducingThePast:
    """Tests for reproducing the past."""

    def test_past_evaluations_equal_what_was_known_then(self) -> None:
        """At every instant of the story, the final profile yields the gaps of that time.

        Later facts (acceptance, contact, visit, no-show, reconciliation) do not close or
        change gaps when the final profile is evaluated at an earlier date.
        """
        final, spans = story()
        for start, end, snapshot in spans:
            for instant in (start, start + (end - start) / 2, end - dt.timedelta(seconds=1)):
                past = detect_gaps(final, as_of=instant, include_closed=True)
                then = detect_gaps(snapshot, as_of=instant, include_closed=True)
                assert past == then, instant

    def test_later_facts_do_not_close_earlier_gaps(self) -> None:
        """Evaluated an hour before the call of 10 February, the TCM contact is still open."""
        final, _ = story()
        before = detect_gaps(final, as_of=at(dt.date(2026, 2, 10), 9))
        after = detect_gaps(final, as_of=at(dt.date(2026, 2, 10), 12), include_closed=True)
        assert {g.status for g in before.by_rule("transition.tcm-contact")} == {GapStatus.OPEN}
        assert {g.status for g in after.by_rule("transition.tcm-contact")} == {GapStatus.CLOSED}

    def test_the_story_ends_with_the_expected_gaps(self) -> None:
        """On 1 April the missed appointment is open and the discharge gaps are closed."""
        final, _ = story()
        report = detect_gaps(final, as_of=at(dt.date(2026, 4, 1)), include_closed=True)
        status = {g.rule: g.status for g in report}
        assert status["referral.missed-appointment"] is GapStatus.OPEN
        assert status["transition.follow-up-visit"] is GapStatus.CLOSED
        assert status["transition.med-rec"] is GapStatus.CLOSED


FINAL, SPANS = story()
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 30),  # noqa: DTZ001 (zone given by timezones=)
    max_value=dt.datetime(2026, 4, 2),  # noqa: DTZ001
    timezones=st.just(NY),
)


class TestProjectionProperties:
    """Tests for projection properties."""

    @settings(max_examples=40, deadline=None)
    @given(first=instants, second=instants)
    def test_looking_back_from_a_later_view_equals_looking_back_directly(
        self, first: dt.datetime, second: dt.datetime
    ) -> None:
        """The view at t1 of the view at t2 (t1 <= t2) is the view at t1."""
        early, late = sorted((first, second))
        assert profile_as_of(profile_as_of(FINAL, late), early) == profile_as_of(FINAL, early)

    @settings(max_examples=40, deadline=None)
    @given(instant=instants)
    def test_gaps_of_the_view_equal_the_gaps_of_the_profile(self, instant: dt.datetime) -> None:
        """Evaluating the time-filtered view gives the same report as the full profile."""
        view = profile_as_of(FINAL, instant)
        full = detect_gaps(FINAL, as_of=instant, include_closed=True)
        assert detect_gaps(view, as_of=instant, include_closed=True) == full
