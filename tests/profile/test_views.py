"""Tests for consent- and role-filtered views and the patient-facing summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from carecoord.domain import (
    ActivityKind,
    Code,
    CommunicationKind,
    ConsentDecision,
    Discipline,
    PatientRecord,
    Period,
    Ref,
    Sensitivity,
    SocialNeedStatus,
    System,
)
from carecoord.errors import ValidationError
from carecoord.profile._merge import merge_records
from carecoord.profile._model import PatientProfile
from carecoord.profile._views import (
    Viewer,
    ViewerRole,
    can_see,
    infer_sensitivity,
    patient_summary,
    sensitivity_of,
    view_for,
)
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    COORDINATOR,
    PCP,
    days_before,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_goal,
    make_medication,
    make_order,
    make_patient,
    make_record,
    make_referral,
    make_result,
    make_social_need,
    make_source,
)

THERAPIST = Viewer(BEHAVIORAL_HEALTH, ViewerRole.CLINICIAN, Discipline.BEHAVIORAL_HEALTH)
DOCTOR = Viewer(PCP, ViewerRole.CLINICIAN, Discipline.PRIMARY_CARE)
SPECIALIST = Viewer(CARDIOLOGIST, ViewerRole.CLINICIAN, Discipline.SPECIALIST)
PATIENT = Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT)

DEPRESSION = Code(System.ICD10CM, "F32.9", "Major depressive disorder, single episode")
ALCOHOL = Code(System.ICD10CM, "F10.20", "Alcohol dependence, uncomplicated")
HIV = Code(System.ICD10CM, "B20", "HIV disease")


def record(source: str, patient_id: str = "patient-1", **facts: Any) -> PatientRecord:
    """A record from ``source`` whose facts all name ``patient_id``."""
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    return make_record(source=make_source(id=source), patient=make_patient(id=patient_id), **facts)


def profile(*consents: Any, **extra: Any) -> PatientProfile:
    """A person with ordinary, mental-health, substance-use and HIV facts and a therapy note.

    The care team holds the PCP, the coordinator and the therapist; the cardiologist is
    not on it. The therapist wrote the depression diagnosis and the psychotherapy note.
    """
    clinic = record(
        "clinic",
        care_teams=(make_care_team(),),
        conditions=(
            make_condition(),
            make_condition(id="dep", code=DEPRESSION, author=BEHAVIORAL_HEALTH),
            make_condition(id="aud", code=ALCOHOL, author=BEHAVIORAL_HEALTH),
            make_condition(id="hiv", code=HIV, author=PCP),
        ),
        communications=(
            make_communication(
                id="note",
                kind=CommunicationKind.OTHER,
                sender=BEHAVIORAL_HEALTH,
                author=BEHAVIORAL_HEALTH,
                note="session notes",
                sensitivity=frozenset({Sensitivity.PSYCHOTHERAPY_NOTE}),
            ),
        ),
        consents=consents,
        **extra,
    )
    return merge_records([clinic])


def visible(view: PatientProfile) -> set[str]:
    """The ids of the conditions and communications a view keeps."""
    return {f.value.id for f in (*view.conditions, *view.communications)}


class TestWithoutConsent:
    """Without a consent, sensitive facts are seen by their authors only."""

    def test_pcp_sees_only_ordinary_and_own_facts(self) -> None:
        """The PCP sees the ordinary problem and the HIV diagnosis they wrote."""
        assert visible(view_for(profile(), DOCTOR, at=AS_OF)) == {"condition-1", "hiv"}

    def test_therapist_sees_own_facts(self) -> None:
        """The therapist sees what they wrote, including their psychotherapy note."""
        seen = visible(view_for(profile(), THERAPIST, at=AS_OF))
        assert seen == {"condition-1", "dep", "aud", "note"}

    def test_specialist_sees_only_ordinary_facts(self) -> None:
        """A specialist sees nothing sensitive."""
        assert visible(view_for(profile(), SPECIALIST, at=AS_OF)) == {"condition-1"}

    def test_coordinator_sees_only_ordinary_facts(self) -> None:
        """A care coordinator without consent sees nothing sensitive."""
        coordinator = Viewer(COORDINATOR, ViewerRole.CARE_COORDINATOR)
        assert visible(view_for(profile(), coordinator, at=AS_OF)) == {"condition-1"}


class TestTeamConsent:
    """A permit without named actors opens sensitive data to the care team."""

    def test_team_member_sees_mental_health_and_hiv(self) -> None:
        """The PCP on the team sees mental-health and HIV facts."""
        seen = visible(view_for(profile(make_consent()), DOCTOR, at=AS_OF))
        assert {"dep", "hiv"} <= seen

    def test_part_2_needs_a_named_consent(self) -> None:
        """A team-wide permit does not open substance-use (42 CFR Part 2) data."""
        assert "aud" not in visible(view_for(profile(make_consent()), DOCTOR, at=AS_OF))

    def test_outside_the_team_sees_nothing_sensitive(self) -> None:
        """The cardiologist, not on the team, is not covered by a team-wide permit."""
        seen = visible(view_for(profile(make_consent()), SPECIALIST, at=AS_OF))
        assert seen == {"condition-1"}

    def test_class_limited_permit(self) -> None:
        """A permit for mental health only leaves HIV closed."""
        consent = make_consent(classes=frozenset({Sensitivity.MENTAL_HEALTH}))
        seen = visible(view_for(profile(consent), THERAPIST, at=AS_OF))
        assert "hiv" not in seen

    def test_consent_outside_its_period(self) -> None:
        """A consent whose period does not cover ``at`` does not apply."""
        consent = make_consent(period=Period(days_before(400), days_before(35)))
        assert "dep" not in visible(view_for(profile(consent), DOCTOR, at=AS_OF))

    def test_consent_recorded_after_at(self) -> None:
        """A consent recorded after ``at`` does not apply yet."""
        consent = make_consent(recorded_at=AS_OF + dt.timedelta(hours=1))
        assert "dep" not in visible(view_for(profile(consent), DOCTOR, at=AS_OF))

    def test_inactive_consent(self) -> None:
        """A consent that is not active does not apply."""
        consent = make_consent(status="inactive")
        assert "dep" not in visible(view_for(profile(consent), DOCTOR, at=AS_OF))


class TestNamedConsent:
    """A permit naming the viewer applies whether or not they are on the team."""

    def test_named_specialist(self) -> None:
        """A permit naming the cardiologist opens mental health to them."""
        consent = make_consent(actors=(CARDIOLOGIST,))
        assert "dep" in visible(view_for(profile(consent), SPECIALIST, at=AS_OF))

    def test_named_permit_opens_part_2(self) -> None:
        """A permit naming the PCP explicitly opens substance-use data to them."""
        consent = make_consent(actors=(PCP,), classes=frozenset({Sensitivity.SUBSTANCE_USE}))
        assert "aud" in visible(view_for(profile(consent), DOCTOR, at=AS_OF))

    def test_named_permit_is_personal(self) -> None:
        """A permit naming the PCP opens nothing to the specialist."""
        consent = make_consent(actors=(PCP,))
        assert visible(view_for(profile(consent), SPECIALIST, at=AS_OF)) == {"condition-1"}


class TestDeny:
    """A deny overrides any permit."""

    def test_deny_overrides_permit(self) -> None:
        """A deny of mental health for the PCP wins over a team-wide permit."""
        deny = make_consent(
            id="deny",
            decision=ConsentDecision.DENY,
            actors=(PCP,),
            classes=frozenset({Sensitivity.MENTAL_HEALTH}),
        )
        seen = visible(view_for(profile(make_consent(), deny), DOCTOR, at=AS_OF))
        assert "dep" not in seen
        assert "hiv" in seen

    def test_deny_for_everyone(self) -> None:
        """A deny without actors applies to every viewer, even a named one."""
        named = make_consent(actors=(CARDIOLOGIST,))
        deny = make_consent(id="deny", decision=ConsentDecision.DENY)
        assert visible(view_for(profile(named, deny), SPECIALIST, at=AS_OF)) == {"condition-1"}

    def test_author_sees_despite_deny(self) -> None:
        """A deny does not hide a fact from the clinician who wrote it."""
        deny = make_consent(id="deny", decision=ConsentDecision.DENY)
        assert "dep" in visible(view_for(profile(deny), THERAPIST, at=AS_OF))


class TestPsychotherapyNotes:
    """Psychotherapy notes are shared with no one but their author."""

    def test_not_opened_by_a_named_consent(self) -> None:
        """Even a permit naming the PCP for every class does not open the note."""
        consent = make_consent(actors=(PCP,), classes=frozenset(Sensitivity))
        assert "note" not in visible(view_for(profile(consent), DOCTOR, at=AS_OF))

    def test_not_shown_to_the_patient(self) -> None:
        """The patient's own view leaves psychotherapy notes out."""
        assert "note" not in visible(view_for(profile(), PATIENT, at=AS_OF))

    def test_author_sees_it(self) -> None:
        """The therapist who wrote the note sees it."""
        assert "note" in visible(view_for(profile(), THERAPIST, at=AS_OF))


class TestPatientView:
    """The patient sees everything about themselves but psychotherapy notes."""

    def test_patient_sees_every_diagnosis(self) -> None:
        """Every condition, sensitive or not, is in the patient's view."""
        seen = visible(view_for(profile(), PATIENT, at=AS_OF))
        assert seen == {"condition-1", "dep", "aud", "hiv"}


class TestSensitivity:
    """Sensitivity comes from labels, codes and the conditions a fact addresses."""

    @pytest.mark.parametrize(
        ("system", "code", "expected"),
        [
            (System.ICD10CM, "F32.9", {Sensitivity.MENTAL_HEALTH}),
            (System.ICD10CM, "F01.50", {Sensitivity.MENTAL_HEALTH}),
            (System.ICD10CM, "F99", {Sensitivity.MENTAL_HEALTH}),
            (System.ICD10CM, "F10.20", {Sensitivity.SUBSTANCE_USE}),
            (System.ICD10CM, "F19.10", {Sensitivity.SUBSTANCE_USE}),
            (System.ICD10, "F11", {Sensitivity.SUBSTANCE_USE}),
            (System.ICD10CM, "B20", {Sensitivity.HIV}),
            (System.ICD10CM, "Z21", {Sensitivity.HIV}),
            (System.ICD10CM, "T74.11XA", {Sensitivity.SEXUAL_DOMESTIC_VIOLENCE}),
            (System.ICD10CM, "I10", set()),
            (System.ICD10CM, "E11.9", set()),
            (System.SNOMED, "35489007", {Sensitivity.MENTAL_HEALTH}),
            (System.SNOMED, "7200002", {Sensitivity.SUBSTANCE_USE}),
            (System.SNOMED, "86406008", {Sensitivity.HIV}),
            (System.SNOMED, "38341003", set()),
            (System.LOINC, "75622-1", {Sensitivity.HIV}),
            (System.LOINC, "4548-4", set()),
        ],
    )
    def test_inferred_from_codes(self, system: str, code: str, expected: set[Sensitivity]) -> None:
        """Well-known code ranges reveal their sensitivity class."""
        assert infer_sensitivity(Code(system, code)) == expected

    def test_explicit_label_is_respected(self) -> None:
        """A medication labelled mental health is hidden from a viewer without consent."""
        sertraline = make_medication(
            id="ssri", sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}), prescriber=None
        )
        person = profile(medications=(sertraline,))
        assert view_for(person, SPECIALIST, at=AS_OF).medications == ()

    def test_medication_reason_reveals_class(self) -> None:
        """A medication given for a mental-health diagnosis is mental-health data."""
        med = make_medication(id="ssri", reasons=(DEPRESSION,), prescriber=None)
        person = profile(medications=(med,))
        assert sensitivity_of(person, person.medications[0]) == {Sensitivity.MENTAL_HEALTH}

    def test_hiv_result_is_inferred(self) -> None:
        """An HIV test result is HIV data even without a label."""
        test = make_result(id="hiv-test", code=Code(System.LOINC, "75622-1"), based_on=())
        person = profile(results=(test,))
        assert view_for(person, SPECIALIST, at=AS_OF).results == ()

    def test_goals_addressing_a_sensitive_condition(self) -> None:
        """A goal and a care plan addressing the depression inherit its class."""
        person = profile(
            goals=(make_goal(addresses=(Ref("Condition", "dep"),), author=BEHAVIORAL_HEALTH),),
            care_plans=(make_care_plan(addresses=(Ref("Condition", "dep"),), author=None),),
        )
        view = view_for(person, SPECIALIST, at=AS_OF)
        assert (view.goals, view.care_plans) == ((), ())

    def test_can_see_single_fact(self) -> None:
        """``can_see`` answers for one fact."""
        person = profile()
        depression = next(f for f in person.conditions if f.value.id == "dep")
        assert can_see(person, depression, THERAPIST, at=AS_OF)
        assert not can_see(person, depression, SPECIALIST, at=AS_OF)


class TestViewShape:
    """A view is a profile without the hidden facts anywhere in it."""

    def test_records_are_filtered_too(self) -> None:
        """Hidden facts are removed from the records kept in the view."""
        view = view_for(profile(), SPECIALIST, at=AS_OF)
        ids = {c.id for r in view.records for c in r.conditions}
        assert ids == {"condition-1"}

    def test_conflicts_about_hidden_facts_are_removed(self) -> None:
        """A medication conflict about a hidden medication is not in the view."""
        ssri = Code(System.RXNORM, "36437", "sertraline")
        label = frozenset({Sensitivity.MENTAL_HEALTH})
        one = make_medication(id="s1", code=ssri, ingredients=(ssri,), sensitivity=label)
        two = attrs.evolve(one, id="s2", frequency="BID")
        person = merge_records([record("a", medications=(one,)), record("b", medications=(two,))])
        assert person.conflicts
        assert view_for(person, SPECIALIST, at=AS_OF).conflicts == ()

    def test_nothing_hidden_returns_the_profile(self) -> None:
        """When every fact is visible, the view is the profile itself."""
        person = profile()
        assert view_for(person, PATIENT, at=AS_OF - dt.timedelta(days=1)) is not person
        plain = merge_records([record("a", conditions=(make_condition(),))])
        assert view_for(plain, SPECIALIST, at=AS_OF) is plain

    def test_naive_at_is_rejected(self) -> None:
        """A naive ``at`` raises a ValidationError."""
        with pytest.raises(ValidationError):
            view_for(profile(), DOCTOR, at=dt.datetime(2026, 3, 2))  # noqa: DTZ001


def summary_profile() -> PatientProfile:
    """A person with something in every section of the summary."""
    return profile(
        medications=(make_medication(),),
        allergies=(make_allergy(),),
        appointments=(make_appointment(),),
        referrals=(make_referral(),),
        orders=(
            make_order(),
            make_order(id="order-2", code=Code(System.LOINC, "2093-3", "Cholesterol")),
        ),
        results=(make_result(),),
        social_needs=(
            make_social_need(),
            make_social_need(id="need-2", status=SocialNeedStatus.RESOLVED),
        ),
        activities=(
            make_activity(),
            make_activity(id="a2", minutes=10),
            make_activity(id="a3", kind=ActivityKind.RECORD_REVIEW, minutes=30),
            make_activity(id="old", at=days_before(90), minutes=60),
        ),
    )


class TestPatientSummary:
    """The patient summary speaks plain words and counts the work done."""

    def summary(self) -> Any:
        """The summary over the last 30 days."""
        return patient_summary(summary_profile(), start=days_before(30), end=AS_OF, at=AS_OF)

    def test_sections(self) -> None:
        """Problems, medicines, allergies, appointments and referrals use display names."""
        summary = self.summary()
        assert "Essential hypertension" in summary.problems
        assert summary.medications == (
            "lisinopril 10 MG Oral Tablet (10 mg, by mouth, once a day)",
        )
        assert summary.allergies == ("Allergy to penicillin",)
        assert len(summary.upcoming_appointments) == 1
        assert summary.open_referrals[0].startswith("Referral to Cardiology")

    def test_tests_ordered_and_results(self) -> None:
        """Results are shown with their meaning; orders without a result say so."""
        tests = self.summary().tests
        assert any(t.startswith("Cholesterol: ordered") for t in tests)
        assert any("8.1 %, outside the normal range" in t for t in tests)
        assert not any(t.startswith("Hemoglobin A1c: ordered") for t in tests)

    def test_care_team_and_social_needs(self) -> None:
        """Active care-team members and open social needs are listed."""
        summary = self.summary()
        assert any("leads your care team" in m for m in summary.care_team)
        assert summary.social_needs == ("Food insecurity: noted",)

    def test_work_by_kind(self) -> None:
        """Minutes and counts per kind cover ``[start, end)`` only, largest first."""
        summary = self.summary()
        assert [(w.kind, w.minutes, w.count) for w in summary.work] == [
            (ActivityKind.RECORD_REVIEW, 30, 1),
            (ActivityKind.REFERRAL_COORDINATION, 25, 2),
        ]
        assert summary.work[0].description == "Reviewed records from your other providers"
        assert summary.total_minutes == 55

    def test_no_psychotherapy_notes(self) -> None:
        """Sensitive diagnoses are the patient's own, but psychotherapy notes are not shown."""
        text = self.summary().render()
        assert "Major depressive disorder" in text
        assert "session notes" not in text

    def test_render_has_no_codes(self) -> None:
        """The rendered text uses display names, never code systems or codes."""
        text = self.summary().render()
        for jargon in ("http", "I10", "4548-4", "29046", "QD", "F32"):
            assert jargon not in text
        assert "Total: 55 minutes" in text

    def test_no_known_allergies(self) -> None:
        """A "no known allergies" statement reads as such."""
        nka = make_allergy(code=None, no_known=True)
        summary = patient_summary(
            profile(allergies=(nka,)), start=days_before(30), end=AS_OF, at=AS_OF
        )
        assert summary.allergies == ("No known allergies",)

    def test_repr_masks_the_lists(self) -> None:
        """The summary's repr shows no clinical text."""
        assert "hypertension" not in repr(self.summary())

    def test_period_must_be_ordered(self) -> None:
        """An end before the start is rejected."""
        with pytest.raises(ValidationError):
            patient_summary(summary_profile(), start=AS_OF, end=days_before(1), at=AS_OF)
