"""Clinical facts, the activity log and PatientRecord invariants."""

from __future__ import annotations

import datetime as dt

import pytest
from attrs import evolve as attrs_evolve

import carecoord as cc
from carecoord.domain import AppointmentStatus, ClinicalStatus, VerificationStatus, minutes_by_kind
from carecoord.testing import (
    AS_OF,
    COORDINATOR,
    PCP,
    days_before,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_communication,
    make_condition,
    make_consent,
    make_encounter,
    make_patient,
    make_record,
    make_referral,
    make_related_person,
    make_result,
)


class TestFacts:
    """Behaviour of individual clinical facts."""

    def test_result_acknowledgement(self) -> None:
        """A result is acknowledged by someone at a time, not before it was issued."""
        result = make_result().acknowledge(PCP, at=AS_OF)

        first = result.first_acknowledged()
        assert first is not None
        assert first.by == PCP
        assert result.first_acknowledged(days_before(2)) is None
        with pytest.raises(cc.ValidationError):
            make_result().acknowledge(PCP, at=days_before(5))

    def test_allergy_needs_code_or_no_known(self) -> None:
        """An allergy without code must be an explicit no-known-allergies statement."""
        assert make_allergy(code=None, no_known=True).no_known
        with pytest.raises(cc.ValidationError):
            make_allergy(code=None)
        with pytest.raises(cc.ValidationError):
            make_allergy(no_known=True)

    def test_condition_activity(self) -> None:
        """Resolved or refuted conditions are not active."""
        assert make_condition().is_active
        assert not make_condition(clinical_status=ClinicalStatus.RESOLVED).is_active
        assert not make_condition(verification_status=VerificationStatus.REFUTED).is_active

    def test_appointment_lifecycle(self) -> None:
        """A booked appointment can become a no-show, which is final."""
        appt = make_appointment().transition_to(AppointmentStatus.NO_SHOW, at=AS_OF)

        assert appt.status is AppointmentStatus.NO_SHOW
        with pytest.raises(cc.InvalidTransition):
            appt.transition_to(AppointmentStatus.FULFILLED, at=AS_OF)

    def test_consent_applies_to_actor_class_and_time(self) -> None:
        """A consent restricted to an actor and class applies only to them, in its period."""
        consent = make_consent(actors=(PCP,), classes=frozenset({cc.Sensitivity.MENTAL_HEALTH}))

        assert consent.applies(PCP, cc.Sensitivity.MENTAL_HEALTH, AS_OF)
        assert not consent.applies(COORDINATOR, cc.Sensitivity.MENTAL_HEALTH, AS_OF)
        assert not consent.applies(PCP, cc.Sensitivity.HIV, AS_OF)
        assert not consent.applies(PCP, cc.Sensitivity.MENTAL_HEALTH, days_before(60))

    def test_care_plan_review_adds_contributor(self) -> None:
        """Reviewing a plan stamps the time and adds the reviewer once."""
        plan = (
            make_care_plan().reviewed(at=AS_OF, by=COORDINATOR).reviewed(at=AS_OF, by=COORDINATOR)
        )

        assert plan.last_reviewed == AS_OF
        assert plan.contributors.count(COORDINATOR) == 1

    def test_communication_received_before_sent_rejected(self) -> None:
        """A message cannot be received before it was sent."""
        with pytest.raises(cc.ValidationError):
            make_communication(received=days_before(3))

    def test_encounter_needs_a_start(self) -> None:
        """An encounter period must have a start."""
        with pytest.raises(cc.ValidationError):
            make_encounter(period=cc.Period())


class TestActivityLog:
    """Coordination work, counted by kind."""

    def test_minutes_by_kind_in_a_window(self) -> None:
        """Minutes add up per kind inside [start, end), largest first."""
        activities = [
            make_activity(id="a1", minutes=15),
            make_activity(id="a2", minutes=10),
            make_activity(id="a3", kind=cc.ActivityKind.SCHEDULING, minutes=40),
            make_activity(id="a4", minutes=99, at=days_before(40)),
        ]

        totals = minutes_by_kind(activities, start=days_before(30), end=AS_OF)

        assert totals == {
            cc.ActivityKind.SCHEDULING: 40,
            cc.ActivityKind.REFERRAL_COORDINATION: 25,
        }
        assert list(totals) == [cc.ActivityKind.SCHEDULING, cc.ActivityKind.REFERRAL_COORDINATION]

    def test_negative_minutes_rejected(self) -> None:
        """Minutes cannot be negative."""
        with pytest.raises(cc.ValidationError):
            make_activity(minutes=-1)

    def test_plain_words_for_every_kind(self) -> None:
        """Every activity kind has a plain-language description."""
        assert all(kind.plain for kind in cc.ActivityKind)


class TestPatientRecord:
    """One source's facts about one patient."""

    def test_facts_must_name_the_record_patient(self) -> None:
        """A fact about another patient is rejected with its path."""
        with pytest.raises(cc.ValidationError) as info:
            make_record(referrals=(make_referral(patient="someone-else"),))

        assert info.value.problems[0].path == "referrals[0].patient"
        assert "someone-else" not in str(info.value)

    def test_every_problem_is_reported(self) -> None:
        """Duplicate ids and foreign patients are all listed in one error."""
        with pytest.raises(cc.ValidationError) as info:
            make_record(
                conditions=(make_condition(), make_condition()),
                referrals=(make_referral(patient="other"),),
            )

        assert {p.path for p in info.value.problems} == {
            "referrals[0].patient",
            "conditions[1].id",
        }

    def test_with_facts_extends_and_counts(self) -> None:
        """with_facts appends facts; facts() and fact_count() see them."""
        record = make_record().with_facts(conditions=(make_condition(),))

        assert record.fact_count() == 1
        assert [name for name, _ in record.facts()] == ["conditions"]
        assert record.key == ("clinic-ehr", "patient-1")

    def test_with_facts_rejects_unknown_kinds(self) -> None:
        """An unknown fact kind is a validation error."""
        with pytest.raises(cc.ValidationError):
            make_record().with_facts(pets=())

    def test_deceased(self) -> None:
        """A death date makes the patient deceased."""
        assert make_patient(deceased_at=cc.PartialDate(2026, 2)).is_deceased
        assert not make_patient().is_deceased

    def test_source_retrieved_at_must_be_aware(self) -> None:
        """Source timestamps are aware."""
        with pytest.raises(cc.ValidationError):
            cc.Source("x", retrieved_at=dt.datetime(2026, 1, 1))  # noqa: DTZ001


class TestRelatedPerson:
    """Related persons: who represents the patient, and when."""

    def test_a_guardian_represents_the_patient_during_the_relationship(self) -> None:
        """GUARD is a representative role; the period bounds the representation."""
        guardian = make_related_person(period=cc.Period(days_before(30), days_before(1)))

        assert guardian.is_representative
        assert guardian.represents_at(days_before(10))
        assert not guardian.represents_at(AS_OF)

    def test_a_relative_represents_only_when_stated(self) -> None:
        """A mother is a representative when the source says so (``representative``)."""
        mother = make_related_person(relationships=(cc.Code(cc.System.V3_ROLE_CODE, "MTH"),))

        assert not mother.represents_at(AS_OF)
        assert attrs_evolve(mother, representative=True).represents_at(AS_OF)

    def test_an_inactive_record_represents_no_one(self) -> None:
        """``active=False`` ends the representation whatever the period."""
        assert not make_related_person(active=False).represents_at(AS_OF)

    def test_a_representative_role_among_other_codings_counts(self) -> None:
        """The role is read from every coding of a relationship (``Code.also``)."""
        role = cc.Code(
            "urn:example:roles", "legal", also=(cc.Code(cc.System.V3_ROLE_CODE, "HPOWATT"),)
        )

        assert make_related_person(relationships=(role,)).is_representative

    def test_names_and_telecom_are_masked(self) -> None:
        """A related person's names and phone numbers never show in ``repr``."""
        text = repr(make_related_person())

        assert "Guardianson" not in text
        assert "555-0199" not in text

    def test_a_record_checks_its_related_persons(self) -> None:
        """A related person of another patient, or a repeated id, is a validation problem."""
        other = make_related_person(id="other-1", patient="someone-else")

        with pytest.raises(cc.ValidationError) as info:
            make_record(related_persons=(make_related_person(), make_related_person(), other))

        assert {p.path for p in info.value.problems} == {
            "related_persons[1].id",
            "related_persons[2].patient",
        }
