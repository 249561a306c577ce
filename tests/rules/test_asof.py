"""Tests for the time-filtered view: what was knowable at ``as_of``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from carecoord.domain import (
    Acknowledgement,
    AppointmentStatus,
    CareSetting,
    ClinicalStatus,
    PartialDate,
    Period,
    ReferralStatus,
    StatusChange,
    TaskStatus,
)
from carecoord.profile._model import Fact, PatientProfile, Provenance, profile_from_record
from carecoord.rules import known_at, profile_as_of, referral_status_at, task_status_at
from carecoord.testing import (
    AS_OF,
    PCP,
    days_before,
    make_appointment,
    make_communication,
    make_condition,
    make_patient,
    make_record,
    make_referral,
    make_result,
    make_task,
    make_transition,
)

LATER = AS_OF + dt.timedelta(days=1)


def view(**facts: Any) -> PatientProfile:
    """The default record's profile with ``facts``, as knowable at AS_OF."""
    return profile_as_of(profile_from_record(make_record(**facts)), AS_OF)


class TestKnownAt:
    """Tests for known at."""

    def test_recorded_at_wins_over_the_natural_date(self) -> None:
        """A fact's recorded_at, when set, is when it became known."""
        condition = make_condition(onset=PartialDate(2019), recorded_at=LATER)
        assert known_at("conditions", condition) == LATER

    def test_natural_date_when_not_recorded(self) -> None:
        """Without recorded_at a fact is known from its natural date (a result's issue)."""
        result = make_result()
        assert known_at("results", result) == result.issued

    def test_undated_facts_have_no_date(self) -> None:
        """A condition with no onset and no recorded_at is undated (always visible)."""
        assert known_at("conditions", make_condition(onset=None)) is None


class TestVisibility:
    """Tests for visibility."""

    def test_a_fact_recorded_after_as_of_does_not_exist(self) -> None:
        """A result recorded after as_of is absent from the view."""
        assert view(results=(make_result(recorded_at=LATER),)).results == ()

    def test_a_fact_recorded_before_as_of_exists(self) -> None:
        """A result recorded before as_of is present."""
        assert len(view(results=(make_result(recorded_at=days_before(1)),)).results) == 1

    def test_a_fact_recorded_exactly_at_as_of_exists(self) -> None:
        """The boundary is inclusive: recorded at as_of is known at as_of."""
        assert len(view(results=(make_result(recorded_at=AS_OF),)).results) == 1

    def test_natural_date_after_as_of_hides_the_fact(self) -> None:
        """A referral authored after as_of does not exist yet."""
        later = make_referral(authored_on=LATER, sent_at=LATER, history=())
        assert view(referrals=(later,)).referrals == ()

    def test_a_fact_recorded_ahead_of_its_date_waits_for_it(self) -> None:
        """A message recorded now but sent tomorrow does not exist until it is sent."""
        message = make_communication(sent=LATER, recorded_at=days_before(1))
        assert view(communications=(message,)).communications == ()

    def test_partial_dates_compare_by_their_first_day(self) -> None:
        """A condition with onset in a later month is not known yet."""
        condition = make_condition(onset=PartialDate(2026, 4))
        assert view(conditions=(condition,)).conditions == ()

    def test_records_are_filtered_too(self) -> None:
        """The raw records in the view hold no fact recorded later."""
        filtered = view(results=(make_result(recorded_at=LATER),))
        assert filtered.records[0].results == ()

    def test_unchanged_profile_is_returned_as_is(self) -> None:
        """Nothing to hide: the same profile object comes back."""
        profile = profile_from_record(make_record(results=(make_result(),)))
        assert profile_as_of(profile, AS_OF) is profile


class TestProjectionSharing:
    """Tests for how the view reuses what did not change."""

    def test_unchanged_facts_are_the_same_objects(self) -> None:
        """Facts with nothing after as_of are kept as they are beside a changed one."""
        kept = make_result(id="kept")
        changed = make_result(id="changed", recorded_at=LATER)
        profile = profile_from_record(make_record(results=(kept, changed)))
        assert profile_as_of(profile, AS_OF).results == (profile.results[0],)
        assert profile_as_of(profile, AS_OF).results[0] is profile.results[0]

    def test_records_hold_the_same_projection_as_the_profile(self) -> None:
        """A fact changed at as_of is one object in the profile and in its record."""
        stay = make_transition(admitted_at=days_before(3), discharged_at=LATER)
        filtered = view(transitions=(stay,))
        assert filtered.transitions[0].value.discharged_at is None
        assert filtered.records[0].transitions[0] is filtered.transitions[0].value

    def test_a_variant_recorded_later_is_dropped(self) -> None:
        """Of a fact stated by two sources, the version recorded after as_of is left out."""
        early = make_result(id="r-1", recorded_at=days_before(2))
        late = attrs.evolve(early, recorded_at=LATER)
        profile = profile_from_record(make_record(results=(early,)))
        fact = profile.results[0]
        other = Provenance("lab-feed", "lab-record", "r-1")
        both = Fact(late, (other, *fact.provenance), (late, early))
        filtered = profile_as_of(attrs.evolve(profile, results=(both,)), AS_OF)
        assert filtered.results[0].variants == (early,)
        assert filtered.results[0].value is early
        assert filtered.results[0].provenance == fact.provenance


class TestStateAtAsOf:
    """Tests for state at as of."""

    def test_a_later_discharge_is_not_known(self) -> None:
        """A stay discharged after as_of is ongoing in the view, destination unknown."""
        stay = make_transition(discharged_at=LATER, to_setting=CareSetting.HOME)
        seen = view(transitions=(stay,)).transitions[0].value
        assert seen.discharged_at is None
        assert seen.to_setting is CareSetting.UNKNOWN

    def test_referral_status_is_replayed(self) -> None:
        """A referral accepted after as_of is still sent in the view, its history cut."""
        referral = make_referral().accept(at=LATER)
        seen = view(referrals=(referral,)).referrals[0].value
        assert seen.status is ReferralStatus.SENT
        assert [c.to_status for c in seen.history] == ["sent"]

    def test_referral_report_after_as_of_is_removed(self) -> None:
        """A report received after as_of is not on the referral yet."""
        referral = make_referral(report_received_at=LATER, report=PCP)
        seen = view(referrals=(referral,)).referrals[0].value
        assert seen.report_received_at is None
        assert seen.report is None

    def test_prior_authorisation_decision_after_as_of_is_removed(self) -> None:
        """A payer decision made after as_of is not known."""
        from carecoord.domain import AuthorizationOutcome

        referral = make_referral().submit_prior_authorization(at=days_before(2))
        referral = referral.decide_prior_authorization(AuthorizationOutcome.APPROVED, at=LATER)
        auth = view(referrals=(referral,)).referrals[0].value.prior_authorization
        assert auth is not None
        assert auth.pending

    def test_acknowledgements_after_as_of_are_removed(self) -> None:
        """A result acknowledged after as_of is unacknowledged in the view."""
        result = make_result(acknowledgements=(Acknowledgement(PCP, LATER),))
        assert view(results=(result,)).results[0].value.acknowledgements == ()

    def test_appointment_status_change_after_as_of_is_undone(self) -> None:
        """An appointment marked no-show after as_of is still booked in the view."""
        appt = make_appointment(status=AppointmentStatus.NO_SHOW, status_changed_at=LATER)
        assert view(appointments=(appt,)).appointments[0].value.status is AppointmentStatus.BOOKED

    def test_communication_receipt_after_as_of_is_removed(self) -> None:
        """A message received after as_of has no receipt time yet."""
        message = make_communication(received=LATER)
        assert view(communications=(message,)).communications[0].value.received is None

    def test_condition_resolved_later_is_active(self) -> None:
        """A condition resolved after as_of was still active at as_of."""
        condition = make_condition(clinical_status=ClinicalStatus.RESOLVED, abatement=LATER)
        seen = view(conditions=(condition,)).conditions[0].value
        assert seen.is_active

    def test_death_recorded_later_is_not_known(self) -> None:
        """A patient who died after as_of is alive in the view."""
        record = make_record(patient=make_patient(deceased_at=LATER))
        assert not profile_as_of(profile_from_record(record), AS_OF).patient.is_deceased

    def test_task_status_is_replayed(self) -> None:
        """A task started after as_of is still requested in the view."""
        task = make_task().start(at=LATER)
        seen = view(tasks=(task,)).tasks[0].value
        assert seen.status is TaskStatus.REQUESTED
        assert seen.history == ()

    def test_encounter_ending_later_is_in_progress(self) -> None:
        """An encounter that ends after as_of is in progress, with an open end."""
        from carecoord.testing import make_encounter

        visit = make_encounter(period=Period(days_before(1), LATER))
        seen = view(encounters=(visit,)).encounters[0].value
        assert seen.period.end is None
        assert seen.status.value == "in-progress"


class TestTaskStatusAt:
    """Tests for task status at."""

    def test_before_any_change_the_task_is_in_its_first_from_status(self) -> None:
        """Before its first change, a task is in that change's from_status."""
        task = make_task().start(at=LATER)
        assert task_status_at(task, AS_OF) is TaskStatus.REQUESTED

    def test_after_a_change_the_task_is_in_its_to_status(self) -> None:
        """At and after a change, the task is in the new status."""
        task = make_task().start(at=LATER)
        assert task_status_at(task, LATER) is TaskStatus.IN_PROGRESS

    def test_creation_entries_without_from_status(self) -> None:
        """A history starting with a creation entry (no from_status) replays to it."""
        created = StatusChange(None, "requested", days_before(1))
        task = make_task(history=(created,))
        assert task_status_at(task, days_before(2)) is TaskStatus.REQUESTED

    def test_without_history_the_current_status(self) -> None:
        """A task without history is in its current status at any time."""
        assert task_status_at(make_task(), days_before(100)) is TaskStatus.REQUESTED


class TestReferralStatusAt:
    """Tests for referral status at."""

    def test_creation_entry_without_from_status(self) -> None:
        """A referral history starting with a creation entry does not crash the replay."""
        referral = make_referral(history=(StatusChange(None, "sent", days_before(5)),))
        assert referral_status_at(referral, days_before(6)) is ReferralStatus.SENT

    def test_without_history_a_later_report_steps_back(self) -> None:
        """Without history, a report received later leaves the referral at the last stage."""
        referral = make_referral(
            history=(),
            status=ReferralStatus.REPORT_RECEIVED,
            seen_at=days_before(2),
            report_received_at=LATER,
        )
        assert referral_status_at(referral, AS_OF) is ReferralStatus.SEEN

    def test_without_history_not_yet_sent_is_draft(self) -> None:
        """Without history, a referral sent after the instant was a draft then."""
        referral = make_referral(history=(), authored_on=days_before(10), sent_at=LATER)
        assert referral_status_at(referral, AS_OF) is ReferralStatus.DRAFT
