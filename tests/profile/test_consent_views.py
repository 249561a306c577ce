"""Consent views against a determined reader (issue 10).

Restricted labels, who the patient is, every coding, implied classes and facts about
hidden facts. The builders' condition is written by the PCP; these tests give it another
author where the PCP must not see it as its author.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from carecoord import fhir
from carecoord.domain import (
    CareSetting,
    Code,
    CommunicationKind,
    ConsentDecision,
    Discipline,
    PatientRecord,
    Period,
    Practitioner,
    PractitionerId,
    Ref,
    RelatedPerson,
    Sensitivity,
    SocialDomain,
    System,
)
from carecoord.errors import ConsentError
from carecoord.profile import (
    PatientProfile,
    Viewer,
    ViewerRole,
    can_see,
    infer_sensitivity,
    merge_records,
    patient_summary,
    sensitivity_of,
    timeline,
    view_for,
)
from carecoord.serialization import dumps
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    GUARDIAN,
    PCP,
    days_before,
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
    make_related_person,
    make_result,
    make_social_need,
    make_source,
    make_task,
    make_transition,
)

DOCTOR = Viewer(PCP, ViewerRole.CLINICIAN, Discipline.PRIMARY_CARE)
THERAPIST = Viewer(BEHAVIORAL_HEALTH, ViewerRole.CLINICIAN, Discipline.BEHAVIORAL_HEALTH)
SPECIALIST = Viewer(CARDIOLOGIST, ViewerRole.CLINICIAN, Discipline.SPECIALIST)
RESTRICTED = frozenset({Sensitivity.RESTRICTED})


def record(
    patient_id: str = "patient-1", related: RelatedPerson | bool = False, **facts: Any
) -> PatientRecord:
    """A clinic record whose facts all name ``patient_id``, with the builders' care team.

    ``related``: a related person of the patient (``True``: the builders' guardian).
    """
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    facts.setdefault("care_teams", (make_care_team(patient=patient_id),))
    persons: tuple[RelatedPerson, ...] = ()
    if related is True:
        persons = (make_related_person(patient=patient_id),)
    elif isinstance(related, RelatedPerson):
        persons = (attrs.evolve(related, patient=patient_id),)
    return make_record(
        source=make_source(id="clinic"),
        patient=make_patient(id=patient_id),
        related_persons=persons,
        **facts,
    )


def profile(related: RelatedPerson | bool = False, **facts: Any) -> PatientProfile:
    """The profile of one clinic record holding ``facts`` (and ``related``)."""
    return merge_records([record(related=related, **facts)])


def ids(view: PatientProfile, kind: str = "conditions") -> set[str]:
    """The ids of the facts of one kind that ``view`` keeps."""
    return {f.value.id for f in getattr(view, kind)}


class TestRestricted:
    """Restricted data (v3 Confidentiality R/V) needs a permit naming the viewer."""

    def test_nobody_but_its_author_sees_it_without_consent(self) -> None:
        """A restricted hypertension diagnosis is hidden from the care team."""
        person = profile(conditions=(make_condition(sensitivity=RESTRICTED, author=CARDIOLOGIST),))

        assert ids(view_for(person, DOCTOR, at=AS_OF)) == set()
        assert ids(view_for(person, SPECIALIST, at=AS_OF)) == {"condition-1"}

    def test_a_team_wide_permit_does_not_open_it(self) -> None:
        """A permit for anyone on the care team leaves restricted data hidden."""
        person = profile(
            conditions=(make_condition(sensitivity=RESTRICTED, author=CARDIOLOGIST),),
            consents=(make_consent(classes=RESTRICTED),),
        )

        assert ids(view_for(person, DOCTOR, at=AS_OF)) == set()

    def test_a_permit_naming_the_viewer_opens_it(self) -> None:
        """A permit naming the PCP opens restricted data to the PCP only."""
        person = profile(
            conditions=(make_condition(sensitivity=RESTRICTED, author=CARDIOLOGIST),),
            consents=(make_consent(classes=RESTRICTED, actors=(PCP,)),),
        )

        assert ids(view_for(person, DOCTOR, at=AS_OF)) == {"condition-1"}
        assert ids(view_for(person, THERAPIST, at=AS_OF)) == set()

    def test_the_patient_sees_it(self) -> None:
        """Restricted is about disclosure to others: the patient sees their own data."""
        person = profile(conditions=(make_condition(sensitivity=RESTRICTED),))
        patient = Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT)

        assert ids(view_for(person, patient, at=AS_OF)) == {"condition-1"}


OTHER_PATIENT = Viewer(Ref("Patient", "patient-2"), ViewerRole.PATIENT)
PATIENT = Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT)
GUARDIAN_VIEWER = Viewer(GUARDIAN, ViewerRole.PATIENT)
NOTE = frozenset({Sensitivity.PSYCHOTHERAPY_NOTE})


def with_note(related: RelatedPerson | bool = False, **facts: Any) -> PatientProfile:
    """A profile with a hypertension diagnosis and the therapist's psychotherapy note."""
    note = make_communication(
        id="note-1",
        kind=CommunicationKind.OTHER,
        sender=BEHAVIORAL_HEALTH,
        author=BEHAVIORAL_HEALTH,
        about=(),
        note="session notes",
        sensitivity=NOTE,
    )
    return profile(related, conditions=(make_condition(),), communications=(note,), **facts)


class TestWhoLooksAsThePatient:
    """The patient role belongs to the patient and their personal representatives."""

    def test_the_patient_by_profile_or_record_id(self) -> None:
        """The profile id and every record's patient id name the patient."""
        person = with_note()
        by_profile = Viewer(Ref("Patient", person.id), ViewerRole.PATIENT)

        assert ids(view_for(person, PATIENT, at=AS_OF)) == {"condition-1"}
        assert ids(view_for(person, by_profile, at=AS_OF)) == {"condition-1"}
        assert ids(view_for(person, PATIENT, at=AS_OF), "communications") == set()

    def test_another_patient_may_not_look_as_the_patient(self) -> None:
        """Someone else's patient reference is refused, with no id in the message."""
        with pytest.raises(ConsentError) as info:
            view_for(with_note(), OTHER_PATIENT, at=AS_OF)

        assert "patient-2" not in str(info.value)

    def test_a_practitioner_may_not_look_as_the_patient(self) -> None:
        """A clinician asking as the patient is refused (it used to see everything)."""
        with pytest.raises(ConsentError):
            view_for(with_note(), Viewer(CARDIOLOGIST, ViewerRole.PATIENT), at=AS_OF)

    def test_a_patient_may_not_look_as_a_clinician(self) -> None:
        """A patient or related person reference in a clinician's role is refused."""
        for ref in (Ref("Patient", "patient-2"), GUARDIAN):
            with pytest.raises(ConsentError):
                view_for(with_note(), Viewer(ref, ViewerRole.CLINICIAN), at=AS_OF)

    def test_every_entry_point_checks(self) -> None:
        """``can_see`` and ``timeline`` refuse the same viewers as ``view_for``."""
        person = with_note()

        with pytest.raises(ConsentError):
            can_see(person, person.conditions[0], OTHER_PATIENT, at=AS_OF)
        with pytest.raises(ConsentError):
            timeline(person, viewer=OTHER_PATIENT, at=AS_OF)

    def test_a_guardian_sees_what_the_patient_sees(self) -> None:
        """An active representative sees all but the psychotherapy note."""
        person = with_note(related=True)

        assert view_for(person, GUARDIAN_VIEWER, at=AS_OF) == view_for(person, PATIENT, at=AS_OF)
        assert ids(view_for(person, GUARDIAN_VIEWER, at=AS_OF), "communications") == set()

    def test_a_guardianship_that_ended_gives_no_access(self) -> None:
        """After the relationship's period, the former guardian is refused."""
        ended = make_related_person(period=Period(days_before(400), days_before(10)))
        person = with_note(related=ended)

        with pytest.raises(ConsentError):
            view_for(person, GUARDIAN_VIEWER, at=AS_OF)
        assert ids(view_for(person, GUARDIAN_VIEWER, at=days_before(20))) == {"condition-1"}

    def test_a_relative_who_is_not_a_representative_is_refused(self) -> None:
        """A spouse without a representative role or statement may not look as the patient."""
        spouse = make_related_person(relationships=(Code(System.V3_ROLE_CODE, "SPS"),))

        with pytest.raises(ConsentError):
            view_for(with_note(related=spouse), GUARDIAN_VIEWER, at=AS_OF)

    def test_the_patient_summary_is_the_patients_own(self) -> None:
        """``patient_summary`` still builds from the patient's own view."""
        summary = patient_summary(with_note(), start=days_before(30), end=AS_OF, at=AS_OF)

        assert summary.problems == ("Essential hypertension",)


def hidden_from_doctor(**facts: Any) -> set[tuple[str, str]]:
    """``(kind, id)`` of every fact the PCP (on the team, no consent) does not see."""
    person = profile(**facts)
    view = view_for(person, DOCTOR, at=AS_OF)
    shown = {(name, f.value.id) for name, f in view.facts()}
    return {(name, f.value.id) for name, f in person.facts()} - shown


class TestEveryCoding:
    """Sensitivity is read from every coding of a concept, whatever their order."""

    def test_icd10_depression_behind_a_snomed_code(self) -> None:
        """F32.0 after SNOMED CT 36923009 hides the diagnosis (it used to depend on order)."""
        depression = Code("urn:example:local", "DEP-1", also=(Code(System.ICD10CM, "F32.0"),))
        condition = make_condition(code=depression, author=CARDIOLOGIST)

        assert hidden_from_doctor(conditions=(condition,)) == {("conditions", "condition-1")}

    def test_b20_behind_a_hypertension_code(self) -> None:
        """B20 as a second coding of 38341003 is HIV information."""
        code = Code(System.SNOMED, "38341003", also=(Code(System.ICD10CM, "B20"),))
        person = profile(conditions=(make_condition(code=code, author=CARDIOLOGIST),))

        assert sensitivity_of(person, person.conditions[0]) == {Sensitivity.HIV}
        assert infer_sensitivity(code) == {Sensitivity.HIV}


class TestImplied:
    """Facts that imply a sensitive condition carry its class."""

    @pytest.mark.parametrize(
        ("medication", "expected"),
        [
            (  # buprenorphine/naloxone coded only by its clinical drug: read by name
                Code(
                    System.RXNORM,
                    "1010600",
                    "buprenorphine 2 MG / naloxone 0.5 MG Sublingual Film",
                ),
                Sensitivity.SUBSTANCE_USE,
            ),
            (Code(System.RXNORM, "406022", "Fluoxetine 25MG"), Sensitivity.MENTAL_HEALTH),
            (
                Code(System.RXNORM, "312940", "sertraline 50 MG Oral Tablet"),
                Sensitivity.MENTAL_HEALTH,
            ),
            (
                Code(System.RXNORM, "1999667", "bictegravir / emtricitabine / tenofovir"),
                Sensitivity.HIV,
            ),
        ],
    )
    def test_medications_by_name(self, medication: Code, expected: Sensitivity) -> None:
        """A product without ingredients is recognised by the ingredient it names."""
        med = make_medication(code=medication, ingredients=(), prescriber=CARDIOLOGIST)
        person = profile(medications=(med,))

        assert sensitivity_of(person, person.medications[0]) == {expected}
        assert ("medications", "medication-1") in hidden_from_doctor(medications=(med,))

    def test_an_antidepressant_for_depression(self) -> None:
        """A medication whose reason is depression is mental-health information."""
        med = make_medication(
            code=Code("urn:example:formulary", "X-1", "a medicine"),
            ingredients=(),
            reasons=(Code(System.ICD10CM, "F32.9"),),
            prescriber=CARDIOLOGIST,
        )

        assert ("medications", "medication-1") in hidden_from_doctor(medications=(med,))

    def test_an_hiv_status_result_even_positive(self) -> None:
        """LOINC 55277-8 HIV status is HIV information, whatever its value."""
        status = make_result(
            code=Code(System.LOINC, "55277-8", "HIV status"),
            value="HIV positive",
            based_on=(),
            performer=CARDIOLOGIST,
        )

        assert hidden_from_doctor(results=(status,)) == {("results", "result-1")}

    def test_a_result_value_reveals_it(self) -> None:
        """A generic test whose coded value is "HIV detected" is HIV information."""
        result = make_result(
            code=Code("urn:example:lab", "PANEL-9"),
            value=Code(System.SNOMED, "165816005", "HIV detected"),
            based_on=(),
            performer=CARDIOLOGIST,
        )

        assert hidden_from_doctor(results=(result,)) == {("results", "result-1")}

    def test_a_referral_to_addiction_medicine(self) -> None:
        """A referral whose specialty is addiction medicine (NUCC) is Part 2 information."""
        referral = make_referral(
            specialty=Code(System.NUCC, "2084A0401X", "Addiction Medicine"),
            reasons=(),
            requester=CARDIOLOGIST,
        )

        assert hidden_from_doctor(referrals=(referral,)) == {("referrals", "referral-1")}

    def test_a_referral_to_a_psychiatrist(self) -> None:
        """A referral to a practitioner whose specialty is psychiatry is mental health."""
        psychiatrist = Practitioner(
            id=PractitionerId("psych-1"),
            specialty=Code(System.NUCC, "2084P0800X", "Psychiatry"),
        )
        referral = make_referral(
            recipient=psychiatrist.ref, specialty=None, reasons=(), requester=CARDIOLOGIST
        )
        person = merge_records(
            [attrs.evolve(record(referrals=(referral,)), practitioners=(psychiatrist,))]
        )

        assert sensitivity_of(person, person.referrals[0]) == {Sensitivity.MENTAL_HEALTH}
        view = view_for(person, DOCTOR, at=AS_OF)
        assert view.referrals == ()
        assert view.practitioners == ()  # nothing visible names the psychiatrist

    @pytest.mark.parametrize(
        "code",
        [
            Code(System.ICD10CM, "Y07.01"),
            Code(System.ICD10CM, "Z69.11"),
            Code(System.SNOMED, "706893006"),
            Code(System.ICD10CM, "T74.11XA"),
        ],
    )
    def test_abuse_and_domestic_violence(self, code: Code) -> None:
        """ICD-10-CM and SNOMED CT abuse codes are sexual and domestic violence information."""
        person = profile(conditions=(make_condition(code=code, author=CARDIOLOGIST),))

        assert sensitivity_of(person, person.conditions[0]) == {
            Sensitivity.SEXUAL_DOMESTIC_VIOLENCE
        }

    def test_a_stay_in_a_psychiatric_setting(self) -> None:
        """A discharge to a psychiatric facility is mental-health information."""
        stay = make_transition(to_setting=CareSetting.PSYCHIATRIC, diagnoses=())

        assert ("transitions", "stay-1") in hidden_from_doctor(transitions=(stay,))

    def test_a_consent_about_hiv_is_hiv_information(self) -> None:
        """A consent naming the HIV class says there is HIV data: the class is its own."""
        deny = make_consent(
            decision=ConsentDecision.DENY,
            actors=(CARDIOLOGIST,),
            classes=frozenset({Sensitivity.HIV}),
        )
        person = profile(consents=(deny,))

        assert view_for(person, SPECIALIST, at=AS_OF).consents == ()
        assert sensitivity_of(person, person.consents[0]) == {Sensitivity.HIV}


HIV_TEST = Code(System.LOINC, "7917-8", "HIV 1 antibody")


def hidden_hiv_result(**facts: Any) -> PatientProfile:
    """An HIV order and result the PCP may not see, and ``facts`` about them."""
    order = make_order(code=HIV_TEST, requester=CARDIOLOGIST)
    result = make_result(code=HIV_TEST, value="reactive", performer=CARDIOLOGIST)
    return profile(orders=(order,), results=(result,), **facts)


class TestFactsAboutHiddenFacts:
    """A fact that names a hidden fact is hidden with it: no id, no text, no count."""

    def test_a_task_about_a_hidden_result(self) -> None:
        """The PCP's own task whose focus is the hidden result is hidden too."""
        task = make_task(focus=Ref("Result", "result-1"), requester=PCP)
        person = hidden_hiv_result(tasks=(task,))

        assert view_for(person, DOCTOR, at=AS_OF).tasks == ()
        assert sensitivity_of(person, person.tasks[0]) == {Sensitivity.HIV}

    def test_a_message_about_a_hidden_result_leaves_no_trace(self) -> None:
        """Neither the id nor the note text reaches the view, its repr or its FHIR output."""
        message = make_communication(
            about=(Ref("Result", "result-1"),),
            note="Zebracode reactive, call the patient",
            sender=PCP,
        )
        person = hidden_hiv_result(communications=(message,))

        view = view_for(person, DOCTOR, at=AS_OF)
        written = json.dumps(fhir.write_bundle([view]))

        assert view.communications == ()
        for output in (repr(view), written, *(dumps(r) for r in view.records)):
            assert "result-1" not in output
            assert "order-1" not in output
            assert "Zebracode" not in output

    def test_an_appointment_for_a_hidden_referral(self) -> None:
        """The booking of a psychiatry referral is hidden with the referral."""
        referral = make_referral(
            specialty=Code(System.SNOMED, "394587001", "Psychiatry"),
            reasons=(),
            requester=CARDIOLOGIST,
        )
        appointment = make_appointment(participants=(), author=PCP)

        assert hidden_from_doctor(referrals=(referral,), appointments=(appointment,)) == {
            ("referrals", "referral-1"),
            ("appointments", "appointment-1"),
        }

    def test_a_result_of_a_hidden_order(self) -> None:
        """A result answering an HIV order carries the order's class."""
        order = make_order(code=HIV_TEST, requester=CARDIOLOGIST)
        result = make_result(code=Code("urn:example:lab", "R-1"), performer=CARDIOLOGIST)
        person = profile(orders=(order,), results=(result,))

        assert sensitivity_of(person, person.results[0]) == {Sensitivity.HIV}

    def test_a_care_plan_through_its_goal(self) -> None:
        """A plan listing a goal that addresses a hidden diagnosis is hidden too."""
        depression = make_condition(
            id="dep", code=Code(System.ICD10CM, "F32.9"), author=CARDIOLOGIST
        )
        goal = make_goal(addresses=(Ref("Condition", "dep"),))
        plan = make_care_plan(addresses=(), goals=("goal-1",), activities=())

        assert hidden_from_doctor(conditions=(depression,), goals=(goal,), care_plans=(plan,)) == {
            ("conditions", "dep"),
            ("goals", "goal-1"),
            ("care_plans", "careplan-1"),
        }

    def test_a_deny_hides_what_names_the_denied_fact(self) -> None:
        """A fact hidden by a deny takes the facts naming it along, authored or not."""
        deny = make_consent(decision=ConsentDecision.DENY, classes=frozenset({Sensitivity.HIV}))
        permit = make_consent(id="consent-2", classes=frozenset({Sensitivity.HIV}))
        task = make_task(focus=Ref("Order", "order-1"))
        person = hidden_hiv_result(tasks=(task,), consents=(permit, deny))

        view = view_for(person, DOCTOR, at=AS_OF)

        assert (view.orders, view.results, view.tasks) == ((), (), ())


class TestLabelsOnEveryKind:
    """Labels on requests, tasks, plans and stays count like those on conditions."""

    def test_a_restricted_referral_and_its_task(self) -> None:
        """A referral labelled restricted is hidden, and the task about it with it."""
        referral = make_referral(sensitivity=RESTRICTED, requester=CARDIOLOGIST)
        task = make_task(focus=Ref("Referral", "referral-1"))

        assert hidden_from_doctor(referrals=(referral,), tasks=(task,)) == {
            ("referrals", "referral-1"),
            ("tasks", "task-1"),
        }

    def test_a_psychiatric_stay_label(self) -> None:
        """A stay labelled mental health (PSY on its Encounter) is mental-health data."""
        stay = make_transition(sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}))

        assert ("transitions", "stay-1") in hidden_from_doctor(transitions=(stay,))

    def test_an_interpersonal_safety_need(self) -> None:
        """A social need for interpersonal safety is sexual or domestic violence data."""
        need = make_social_need(domain=SocialDomain.INTERPERSONAL_SAFETY, code=None)
        person = profile(social_needs=(need,))

        assert sensitivity_of(person, person.social_needs[0]) == {
            Sensitivity.SEXUAL_DOMESTIC_VIOLENCE
        }
