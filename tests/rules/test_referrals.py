"""Tests for the referral rules, with both sides of every window edge."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import (
    AppointmentId,
    AppointmentStatus,
    AuthorizationOutcome,
    CareSetting,
    Code,
    CommunicationKind,
    PatientId,
    Period,
    Priority,
    Ref,
    Referral,
    ReferralId,
    StatusChange,
    System,
)
from carecoord.rules import GapStatus, Severity, referral_loop_open, referral_unacknowledged
from carecoord.testing import (
    PCP,
    make_appointment,
    make_communication,
    make_enrollment,
    make_referral,
    make_transition,
)
from carecoord.testing._timetravel import Scenario

NY = ZoneInfo("America/New_York")
WED_4_FEB = dt.date(2026, 2, 4)
SENT = dt.datetime(2026, 2, 4, 10, 0, tzinfo=NY)
FOR_REFERRAL = (Ref("Referral", "referral-1"),)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def sent_referral(sent: dt.datetime = SENT, **changes: Any) -> Referral:
    """A cardiology referral sent at ``sent``, with its history."""
    fields: dict[str, Any] = {
        "authored_on": sent,
        "sent_at": sent,
        "history": (StatusChange("draft", "sent", sent, PCP),),
        "last_modified": sent,
    }
    fields.update(changes)
    return make_referral(**fields)


def scenario(*referrals: Referral, now: dt.datetime = SENT) -> Scenario:
    """A scenario holding the given facts (or the default one)."""
    s = Scenario(start=now)
    s.add("referrals", *(referrals or (sent_referral(),)))
    return s


UNACK = "referral.unacknowledged"


class TestUnacknowledged:
    """Tests for unacknowledged."""

    def test_due_three_business_days_after_sending(self) -> None:
        """Sent Wednesday 4 February: due Monday 9 February (weekend skipped)."""
        assert scenario().gap(UNACK).due == dt.date(2026, 2, 9)

    def test_prospective_until_the_end_of_the_due_day(self) -> None:
        """At the last instant of the due day the gap is still prospective."""
        scenario(now=end_of(dt.date(2026, 2, 9))).assert_prospective(UNACK)

    def test_open_from_the_next_day(self) -> None:
        """From the first instant after the due day the gap is open."""
        scenario(now=start_after(dt.date(2026, 2, 9))).assert_open(UNACK)

    def test_sent_on_saturday(self) -> None:
        """Sent on a Saturday: the 3 business days are Monday to Wednesday."""
        saturday = at(dt.date(2026, 2, 7))
        s = scenario(sent_referral(saturday), now=saturday)
        assert s.gap(UNACK).due == dt.date(2026, 2, 11)

    def test_closed_by_receipt(self) -> None:
        """The recipient's receipt closes the gap, with the time it happened."""
        received = at(dt.date(2026, 2, 5))
        s = scenario(sent_referral().receive(at=received), now=at(dt.date(2026, 2, 20)))
        gap = s.assert_closed(UNACK)
        assert gap.closed_at == received
        assert not gap.late
        assert gap.closed_by[0].ref == Ref("Referral", "clinic-ehr/referral-1")

    def test_closed_by_decline(self) -> None:
        """A decline is an acknowledgement too."""
        s = scenario(sent_referral().decline(at=at(dt.date(2026, 2, 5))))
        s.set_now(at(dt.date(2026, 2, 20))).assert_closed(UNACK)

    def test_late_acknowledgement_closes_late(self) -> None:
        """Accepted after the due day: closed, and marked late."""
        s = scenario(sent_referral().accept(at=at(dt.date(2026, 2, 11))))
        gap = s.set_now(at(dt.date(2026, 2, 20))).assert_closed(UNACK)
        assert gap.late

    def test_acknowledgement_after_as_of_does_not_close_earlier(self) -> None:
        """Evaluated before the (later) acceptance, the gap is open: time travel."""
        s = scenario(sent_referral().accept(at=at(dt.date(2026, 2, 11))))
        s.set_now(at(dt.date(2026, 2, 10))).assert_open(UNACK)

    def test_cancelled_before_acknowledgement_is_not_applicable(self) -> None:
        """A referral cancelled before any acknowledgement: not applicable."""
        s = scenario(sent_referral().cancel(at=at(dt.date(2026, 2, 5))))
        assert s.set_now(at(dt.date(2026, 2, 20))).assert_not_applicable(UNACK).reason == (
            "referral cancelled"
        )

    def test_patient_died_before_due_is_not_applicable(self) -> None:
        """The patient's death on or before the due date excludes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 6)))
        s.assert_not_applicable(UNACK)

    def test_patient_died_after_due_is_open_until_the_death(self) -> None:
        """A missed step stays open while the patient lives; after the death it is excluded.

        Changed (issue 9): this gap stayed open after the death, so the work list asked the
        team to chase a referral for a patient who had died. Nothing about a patient dead
        at as_of is actionable; the reason keeps that the step was missed before.
        """
        s = scenario(now=at(dt.date(2026, 2, 11)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 12)))
        s.assert_open(UNACK)
        s.set_now(at(dt.date(2026, 2, 20)))
        assert s.assert_not_applicable(UNACK).reason == "patient died after the due date"

    def test_urgent_referrals_are_high_severity(self) -> None:
        """An urgent referral's gap is high severity."""
        s = scenario(sent_referral(priority=Priority.URGENT))
        assert s.gap(UNACK).severity is Severity.HIGH

    def test_draft_referrals_have_no_gap(self) -> None:
        """A referral that was never sent has no acknowledgement gap."""
        draft = Referral(
            id=ReferralId("referral-1"),
            patient=PatientId("patient-1"),
            authored_on=SENT,
            requester=PCP,
        )
        scenario(draft).assert_no_gap(UNACK)

    def test_entered_in_error_referrals_are_ignored(self) -> None:
        """A referral entered in error has no gaps at all."""
        wrong = sent_referral().mark_entered_in_error(at=at(dt.date(2026, 2, 5)))
        scenario(wrong, now=at(dt.date(2026, 2, 20))).assert_no_gap(UNACK)

    def test_window_is_configurable(self) -> None:
        """within_business_days changes the window."""
        s = Scenario(start=SENT, rules=[referral_unacknowledged(within_business_days=1)])
        s.add("referrals", sent_referral())
        assert s.gap(UNACK).due == dt.date(2026, 2, 5)


UNSCHEDULED = "referral.unscheduled"


class TestUnscheduled:
    """Tests for unscheduled."""

    def test_routine_due_14_days_after_sending(self) -> None:
        """A routine referral sent 4 February is due 18 February."""
        assert scenario().gap(UNSCHEDULED).due == dt.date(2026, 2, 18)

    def test_routine_prospective_on_the_due_day(self) -> None:
        """Still prospective at the end of the due day."""
        scenario(now=end_of(dt.date(2026, 2, 18))).assert_prospective(UNSCHEDULED)

    def test_routine_open_after_the_due_day(self) -> None:
        """Open from the next day."""
        scenario(now=start_after(dt.date(2026, 2, 18))).assert_open(UNSCHEDULED)

    def test_urgent_due_3_days_after_sending(self) -> None:
        """An urgent referral is due 3 days after sending, high severity."""
        gap = scenario(sent_referral(priority=Priority.STAT)).gap(UNSCHEDULED)
        assert (gap.due, gap.severity) == (dt.date(2026, 2, 7), Severity.HIGH)

    def test_urgent_both_sides_of_the_edge(self) -> None:
        """Urgent: prospective at the end of day 3, open just after."""
        s = scenario(sent_referral(priority=Priority.URGENT))
        s.set_now(end_of(dt.date(2026, 2, 7))).assert_prospective(UNSCHEDULED)
        s.set_now(start_after(dt.date(2026, 2, 7))).assert_open(UNSCHEDULED)

    def test_closed_by_a_booked_appointment(self) -> None:
        """An appointment based on the referral closes the gap; evidence names it."""
        s = scenario(now=at(dt.date(2026, 2, 25)))
        booked = at(dt.date(2026, 2, 10))
        s.add("appointments", make_appointment(booked_at=booked, start=at(dt.date(2026, 3, 1))))
        gap = s.assert_closed(UNSCHEDULED)
        assert gap.closed_at == booked
        assert gap.closed_by[0].ref.type == "Appointment"

    def test_booking_after_as_of_does_not_close_earlier(self) -> None:
        """An appointment booked later does not exist at an earlier as_of."""
        s = scenario(now=at(dt.date(2026, 2, 19)))
        s.add("appointments", make_appointment(booked_at=at(dt.date(2026, 2, 20))))
        s.assert_open(UNSCHEDULED)

    def test_closed_by_the_scheduled_status(self) -> None:
        """A referral moved to scheduled closes it even without the appointment record."""
        referral = (
            sent_referral()
            .accept(at=at(dt.date(2026, 2, 5)))
            .schedule(AppointmentId("elsewhere"), at=at(dt.date(2026, 2, 6)))
        )
        scenario(referral, now=at(dt.date(2026, 2, 25))).assert_closed(UNSCHEDULED)

    def test_declined_is_not_applicable(self) -> None:
        """A declined referral cannot be scheduled: not applicable."""
        s = scenario(sent_referral().decline(at=at(dt.date(2026, 2, 5))))
        s.set_now(at(dt.date(2026, 2, 25))).assert_not_applicable(UNSCHEDULED)


MISSED = "referral.missed-appointment"
NO_SHOW_DAY = dt.date(2026, 2, 20)


def missed_scenario(status: AppointmentStatus = AppointmentStatus.NO_SHOW) -> Scenario:
    """A referral whose appointment on 20 February was missed."""
    s = scenario(now=at(NO_SHOW_DAY, 12))
    s.add(
        "appointments",
        make_appointment(
            start=at(NO_SHOW_DAY),
            status=status,
            status_changed_at=at(NO_SHOW_DAY, 11),
            booked_at=at(dt.date(2026, 2, 6)),
        ),
    )
    return s


class TestMissedAppointment:
    """Tests for missed appointment."""

    def test_due_7_days_after_the_no_show(self) -> None:
        """A no-show on 20 February is due to be rebooked by 27 February."""
        assert missed_scenario().gap(MISSED).due == dt.date(2026, 2, 27)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 27 February, open from 28 February."""
        s = missed_scenario()
        s.set_now(end_of(dt.date(2026, 2, 27))).assert_prospective(MISSED)
        s.set_now(start_after(dt.date(2026, 2, 27))).assert_open(MISSED)

    def test_a_cancelled_appointment_opens_it_too(self) -> None:
        """A cancelled appointment also needs rebooking."""
        missed_scenario(AppointmentStatus.CANCELLED).assert_prospective(MISSED)

    def test_closed_by_a_new_appointment(self) -> None:
        """A later appointment for the referral closes it, as the closing evidence."""
        s = missed_scenario()
        s.add(
            "appointments",
            make_appointment(
                id="appointment-2",
                start=at(dt.date(2026, 3, 3)),
                booked_at=at(dt.date(2026, 2, 23)),
            ),
        )
        gap = s.set_now(at(dt.date(2026, 3, 5))).assert_closed(MISSED)
        assert gap.closed_by[0].ref == Ref("Appointment", "clinic-ehr/appointment-2")

    def test_the_focus_is_the_missed_appointment(self) -> None:
        """One gap per missed appointment: the focus is the appointment's key."""
        assert missed_scenario().gap(MISSED).focus == "clinic-ehr/appointment-1"

    def test_no_show_marked_after_as_of_is_not_known(self) -> None:
        """Evaluated before the no-show was recorded, there is no missed-appointment gap."""
        s = missed_scenario().set_now(at(NO_SHOW_DAY, 10, 30))
        s.assert_no_gap(MISSED)

    def test_from_the_referral_history_when_no_appointment_is_known(self) -> None:
        """Without appointment records, the referral's no-show step opens '#miss-1'."""
        referral = (
            sent_referral()
            .accept(at=at(dt.date(2026, 2, 5)))
            .schedule(AppointmentId("elsewhere"), at=at(dt.date(2026, 2, 6)))
            .record_no_show(at=at(NO_SHOW_DAY))
        )
        s = scenario(referral, now=at(NO_SHOW_DAY, 12))
        assert s.assert_prospective(MISSED).focus == "clinic-ehr/referral-1#miss-1"

    def test_history_rescheduling_closes_it(self) -> None:
        """Scheduled again after the no-show: closed."""
        referral = (
            sent_referral()
            .accept(at=at(dt.date(2026, 2, 5)))
            .schedule(AppointmentId("a"), at=at(dt.date(2026, 2, 6)))
            .record_no_show(at=at(NO_SHOW_DAY))
            .schedule(AppointmentId("b"), at=at(dt.date(2026, 2, 23)))
        )
        scenario(referral, now=at(dt.date(2026, 3, 5))).assert_closed(MISSED)

    def test_cancelled_referral_is_not_applicable(self) -> None:
        """If the referral itself is cancelled, rebooking is moot."""
        s = missed_scenario()
        s.update("referrals", "referral-1", lambda r: r.cancel(at=at(NO_SHOW_DAY, 13)))
        s.set_now(at(dt.date(2026, 3, 5))).assert_not_applicable(MISSED)


REPORT = "referral.report-missing"
SEEN_DAY = dt.date(2026, 2, 20)


def seen_referral() -> Referral:
    """A referral whose patient was seen on 20 February."""
    return (
        sent_referral()
        .accept(at=at(dt.date(2026, 2, 5)))
        .schedule(AppointmentId("appointment-1"), at=at(dt.date(2026, 2, 6)))
        .record_seen(at=at(SEEN_DAY))
    )


class TestReportMissing:
    """Tests for report missing."""

    def test_due_30_days_after_the_visit(self) -> None:
        """Seen 20 February: the report is due by 22 March."""
        assert scenario(seen_referral(), now=at(SEEN_DAY, 12)).gap(REPORT).due == dt.date(
            2026, 3, 22
        )

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 22 March, open from 23 March (across the DST change)."""
        s = scenario(seen_referral(), now=end_of(dt.date(2026, 3, 22)))
        s.assert_prospective(REPORT)
        s.set_now(start_after(dt.date(2026, 3, 22))).assert_open(REPORT)

    def test_not_seen_means_no_gap(self) -> None:
        """Before the visit there is no report gap."""
        scenario().assert_no_gap(REPORT)

    def test_closed_by_the_report_on_the_referral(self) -> None:
        """The report recorded on the referral closes the loop."""
        referral = seen_referral().receive_report(at=at(dt.date(2026, 3, 1)))
        scenario(referral, now=at(dt.date(2026, 3, 5))).assert_closed(REPORT)

    def test_closed_by_a_consult_report_communication(self) -> None:
        """A consult-report communication about the referral closes it."""
        s = scenario(seen_referral(), now=at(dt.date(2026, 3, 5)))
        s.add(
            "communications",
            make_communication(
                kind=CommunicationKind.CONSULT_REPORT,
                sent=at(dt.date(2026, 3, 2)),
                about=FOR_REFERRAL,
            ),
        )
        gap = s.assert_closed(REPORT)
        assert gap.closed_by[0].ref.type == "Communication"

    def test_a_fulfilled_appointment_counts_as_seen(self) -> None:
        """A fulfilled appointment for the referral starts the clock."""
        s = scenario(now=at(SEEN_DAY, 12))
        s.add(
            "appointments",
            make_appointment(
                start=at(SEEN_DAY, 9),
                end=at(SEEN_DAY, 10),
                status=AppointmentStatus.FULFILLED,
                status_changed_at=at(SEEN_DAY, 10),
                booked_at=at(dt.date(2026, 2, 6)),
            ),
        )
        assert s.gap(REPORT).opened == at(SEEN_DAY, 10)


LOOP = "referral.loop-open"


def loop_scenario(authored: dt.datetime, now: dt.datetime, **rule: Any) -> Scenario:
    """A scenario running only referral.loop-open, with one referral."""
    s = Scenario(start=now, rules=[referral_loop_open(**rule)])
    s.add("referrals", sent_referral(authored))
    return s


class TestLoopOpen:
    """Tests for loop open."""

    def test_referral_authored_31_october_counts(self) -> None:
        """A referral authored on 31 October is in the measure; due 31 December."""
        s = loop_scenario(at(dt.date(2026, 10, 31)), at(dt.date(2026, 11, 2)))
        assert s.assert_prospective(LOOP).due == dt.date(2026, 12, 31)

    def test_referral_authored_1_november_does_not(self) -> None:
        """A referral authored on 1 November is outside the measure."""
        s = loop_scenario(at(dt.date(2026, 11, 1)), at(dt.date(2026, 11, 2)))
        s.assert_no_gap(LOOP)

    def test_prospective_at_the_end_of_31_december(self) -> None:
        """The last instant of the year is still prospective."""
        loop_scenario(at(dt.date(2026, 3, 1)), end_of(dt.date(2026, 12, 31))).assert_prospective(
            LOOP
        )

    def test_open_after_the_year_for_that_measurement_year(self) -> None:
        """Evaluated for 2026 on 1 January 2027, the loop is open."""
        s = loop_scenario(
            at(dt.date(2026, 3, 1)), start_after(dt.date(2026, 12, 31)), measurement_year=2026
        )
        s.assert_open(LOOP)

    def test_default_year_is_the_year_of_as_of(self) -> None:
        """By default the measurement year follows as_of, so 2026 is not reported in 2027."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), start_after(dt.date(2026, 12, 31)))
        s.assert_no_gap(LOOP)

    def test_only_the_first_referral_counts(self) -> None:
        """Two referrals in the year: the gap is about the first one."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 5, 1)))
        s.add("referrals", sent_referral(at(dt.date(2026, 4, 1)), id="referral-2"))
        assert s.gap(LOOP).focus == "clinic-ehr/referral-1"

    def test_cancelled_referrals_do_not_count(self) -> None:
        """A cancelled first referral leaves the next one as the first."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 5, 1)))
        s.update("referrals", "referral-1", lambda r: r.cancel(at=at(dt.date(2026, 3, 2))))
        s.add("referrals", sent_referral(at(dt.date(2026, 4, 1)), id="referral-2"))
        assert s.gap(LOOP).focus == "clinic-ehr/referral-2"

    def test_closed_by_the_report(self) -> None:
        """The consultant report received in the year closes the loop on time."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 6, 1)))
        s.update(
            "referrals",
            "referral-1",
            lambda r: (
                r.accept(at=at(dt.date(2026, 3, 2)))
                .schedule(AppointmentId("a"), at=at(dt.date(2026, 3, 3)))
                .record_seen(at=at(dt.date(2026, 3, 20)))
                .receive_report(at=at(dt.date(2026, 4, 1)))
            ),
        )
        assert not s.assert_closed(LOOP).late

    def test_hospice_is_not_applicable(self) -> None:
        """Hospice during the measurement year excludes the patient (CMS50)."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 6, 1)))
        s.add("enrollments", make_enrollment(program="hospice"))
        s.assert_not_applicable(LOOP)

    def test_hospice_must_overlap_the_measurement_period(self) -> None:
        """A hospice stay ending 31 December 2025 leaves 2026 measured; one to 1 January not.

        CMS50: "hospice services ... overlaps the measurement period". A past discharge to
        hospice used to exclude the patient from every later year.
        """
        for end, excluded in ((dt.date(2025, 12, 31), False), (dt.date(2026, 1, 1), True)):
            s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 6, 1)))
            period = Period(at(dt.date(2025, 10, 1)), at(end, 12))
            s.add("enrollments", make_enrollment(program="hospice", period=period))
            assert s.gap(LOOP).status.value == ("not-applicable" if excluded else "prospective")

    def test_a_past_discharge_to_hospice_does_not_exclude_a_later_year(self) -> None:
        """Discharged to hospice in 2024 and alive since: the 2026 referral is measured."""
        s = loop_scenario(at(dt.date(2026, 3, 1)), at(dt.date(2026, 6, 1)))
        stay = make_transition(
            admitted_at=at(dt.date(2024, 5, 1)),
            discharged_at=at(dt.date(2024, 5, 4)),
            to_setting=CareSetting.HOSPICE,
        )
        s.add("transitions", stay)
        s.assert_prospective(LOOP)


DECLINED = "referral.declined-no-alternative"
DECLINE_DAY = dt.date(2026, 2, 10)


def declined_scenario() -> Scenario:
    """A referral declined on 10 February."""
    return scenario(sent_referral().decline(at=at(DECLINE_DAY)), now=at(DECLINE_DAY, 12))


class TestDeclinedNoAlternative:
    """Tests for declined no alternative."""

    def test_due_7_days_after_the_decline(self) -> None:
        """Declined 10 February: a replacement is due by 17 February."""
        assert declined_scenario().gap(DECLINED).due == dt.date(2026, 2, 17)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 17 February, open from 18 February."""
        s = declined_scenario()
        s.set_now(end_of(dt.date(2026, 2, 17))).assert_prospective(DECLINED)
        s.set_now(start_after(dt.date(2026, 2, 17))).assert_open(DECLINED)

    def test_closed_by_a_replacing_referral(self) -> None:
        """A referral that replaces the declined one closes the gap."""
        s = declined_scenario()
        s.add(
            "referrals",
            sent_referral(
                at(dt.date(2026, 2, 12)),
                id="referral-2",
                replaces=ReferralId("referral-1"),
                specialty=None,
            ),
        )
        assert s.set_now(at(dt.date(2026, 2, 20))).assert_closed(DECLINED).closed_at == at(
            dt.date(2026, 2, 12)
        )

    def test_closed_by_a_new_referral_for_the_same_specialty(self) -> None:
        """A new referral to the same specialty, authored after the decline, counts."""
        s = declined_scenario()
        s.add("referrals", sent_referral(at(dt.date(2026, 2, 11)), id="referral-2"))
        s.set_now(at(dt.date(2026, 2, 20))).assert_closed(DECLINED)

    def test_another_specialty_does_not_count(self) -> None:
        """A referral to another specialty is not a replacement."""
        s = declined_scenario()
        dermatology = Code(System.SNOMED, "394582007", "Dermatology")
        s.add(
            "referrals",
            sent_referral(at(dt.date(2026, 2, 11)), id="referral-2", specialty=dermatology),
        )
        s.set_now(at(dt.date(2026, 2, 20))).assert_open(DECLINED)


PRIOR_AUTH = "referral.prior-auth-overdue"
SUBMITTED = at(WED_4_FEB, 11)


def auth_scenario(*, expedited: bool) -> Scenario:
    """A referral with prior authorisation submitted on 4 February."""
    referral = sent_referral().submit_prior_authorization(at=SUBMITTED, expedited=expedited)
    return scenario(referral, now=SUBMITTED)


class TestPriorAuthOverdue:
    """Tests for prior auth overdue."""

    def test_expedited_due_72_hours_after_submission(self) -> None:
        """An expedited request is due exactly 72 hours after submission, high severity."""
        gap = auth_scenario(expedited=True).gap(PRIOR_AUTH)
        assert gap.due == SUBMITTED + dt.timedelta(hours=72)
        assert gap.severity is Severity.HIGH

    def test_expedited_prospective_at_72_hours(self) -> None:
        """At exactly 72 hours the decision is not yet overdue."""
        s = auth_scenario(expedited=True)
        s.set_now(SUBMITTED + dt.timedelta(hours=72)).assert_prospective(PRIOR_AUTH)

    def test_expedited_open_just_after_72_hours(self) -> None:
        """One second after 72 hours it is overdue."""
        s = auth_scenario(expedited=True)
        s.set_now(SUBMITTED + dt.timedelta(hours=72, seconds=1)).assert_open(PRIOR_AUTH)

    def test_standard_due_7_calendar_days_after(self) -> None:
        """A standard request submitted 4 February is due by the end of 11 February."""
        s = auth_scenario(expedited=False)
        assert s.gap(PRIOR_AUTH).due == dt.date(2026, 2, 11)
        s.set_now(end_of(dt.date(2026, 2, 11))).assert_prospective(PRIOR_AUTH)
        s.set_now(start_after(dt.date(2026, 2, 11))).assert_open(PRIOR_AUTH)

    def test_closed_by_the_decision(self) -> None:
        """The payer's decision closes it; the evidence names the outcome."""
        s = auth_scenario(expedited=False)
        s.update(
            "referrals",
            "referral-1",
            lambda r: r.decide_prior_authorization(
                AuthorizationOutcome.DENIED, at=at(dt.date(2026, 2, 6))
            ),
        )
        gap = s.set_now(at(dt.date(2026, 2, 20))).assert_closed(PRIOR_AUTH)
        assert "denied" in gap.closed_by[0].description

    def test_decision_after_as_of_does_not_close_earlier(self) -> None:
        """A decision recorded later is unknown at an earlier as_of."""
        s = auth_scenario(expedited=False)
        s.update(
            "referrals",
            "referral-1",
            lambda r: r.decide_prior_authorization(
                AuthorizationOutcome.APPROVED, at=at(dt.date(2026, 2, 13))
            ),
        )
        s.set_now(at(dt.date(2026, 2, 12))).assert_open(PRIOR_AUTH)

    def test_no_submission_no_gap(self) -> None:
        """A referral without a prior-authorisation submission has no such gap."""
        scenario().assert_no_gap(PRIOR_AUTH)


class TestStatusValues:
    """Tests for status values."""

    def test_every_referral_rule_reports_only_known_statuses(self) -> None:
        """A busy referral scenario yields only the four statuses (smoke test)."""
        s = missed_scenario().set_now(at(dt.date(2026, 5, 1)))
        assert {g.status for g in s.gaps(include_closed=True)} <= set(GapStatus)
