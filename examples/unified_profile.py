"""One synthetic person known to three systems, unified into one profile.

A primary-care clinic, a hospital and a pharmacy each hold a record of the same (made-up)
patient. This script builds the unified profile, then prints the medication list side by
side with its sources, the conflicts between the sources, the timeline, what the
therapist, the primary-care physician and the patient each see, and the patient's
plain-words summary.

Run it with ``python examples/unified_profile.py``.
"""

from __future__ import annotations

import datetime as dt

import attrs

import carecoord as cc
from carecoord.domain import (
    CommunicationKind,
    ContactPoint,
    ContactSystem,
    EncounterClass,
    HumanName,
    ListKind,
    Quantity,
)
from carecoord.profile import (
    Viewer,
    ViewerRole,
    build_profiles,
    patient_summary,
    reconciliation_view,
    timeline,
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
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_encounter,
    make_medication,
    make_order,
    make_patient,
    make_practitioner,
    make_record,
    make_referral,
    make_result,
    make_source,
    make_transition,
)

ATORVASTATIN = cc.Code(cc.System.RXNORM, "83367", "atorvastatin")


def staff() -> tuple[cc.Practitioner, ...]:
    """The synthetic clinicians the records refer to."""

    def person(ref: cc.Ref, family: str, given: str, discipline: cc.Discipline) -> cc.Practitioner:
        name = HumanName(family=family, given=(given,))
        return make_practitioner(id=ref.id, names=(name,), discipline=discipline)

    return (
        person(PCP, "Doctorson", "Sam", cc.Discipline.PRIMARY_CARE),
        person(CARDIOLOGIST, "Heartley", "Jo", cc.Discipline.SPECIALIST),
        person(BEHAVIORAL_HEALTH, "Listener", "Kim", cc.Discipline.BEHAVIORAL_HEALTH),
        person(COORDINATOR, "Organa", "Lee", cc.Discipline.CARE_COORDINATION),
    )


def record(source: cc.Source, patient: cc.Patient, **facts: tuple[object, ...]) -> cc.PatientRecord:
    """A record from ``source`` about ``patient``, its facts re-pointed at that patient."""
    pointed = {
        name: tuple(attrs.evolve(fact, patient=patient.id) for fact in values)
        for name, values in facts.items()
    }
    return make_record(source=source, patient=patient, practitioners=staff(), **pointed)


def three_sources() -> list[cc.PatientRecord]:
    """The clinic's, the hospital's and the pharmacy's records of one synthetic person."""
    clinic = record(
        make_source(id="clinic-ehr", name="Synthetic Family Clinic", retrieved_at=days_before(1)),
        make_patient(),
        care_teams=(make_care_team(),),
        conditions=(
            make_condition(recorded_at=days_before(400)),
            make_condition(
                id="condition-2",
                code=cc.Code(cc.System.ICD10CM, "F32.9", "Major depressive disorder"),
                author=BEHAVIORAL_HEALTH,
                recorded_at=days_before(90),
            ),
        ),
        medications=(make_medication(recorded_at=days_before(200)),),
        allergies=(make_allergy(recorded_at=days_before(300)),),
        referrals=(make_referral(),),
        appointments=(make_appointment(),),
        orders=(make_order(),),
        results=(make_result(),),
        communications=(
            make_communication(
                id="therapy-note-1",
                kind=CommunicationKind.OTHER,
                sent=days_before(14),
                sender=BEHAVIORAL_HEALTH,
                recipients=(),
                about=(),
                author=BEHAVIORAL_HEALTH,
                note="(synthetic session notes)",
                sensitivity=frozenset({cc.Sensitivity.PSYCHOTHERAPY_NOTE}),
            ),
        ),
        consents=(
            make_consent(
                classes=frozenset({cc.Sensitivity.MENTAL_HEALTH}), recorded_at=days_before(30)
            ),
        ),
        activities=(
            make_activity(),
            make_activity(id="activity-2", kind=cc.ActivityKind.RECORD_REVIEW, minutes=20),
            make_activity(id="activity-3", kind=cc.ActivityKind.SCHEDULING, minutes=10),
        ),
    )
    hospital = record(
        make_source(
            id="general-hospital", name="Synthetic General Hospital", retrieved_at=days_before(1)
        ),
        make_patient(
            id="H-3321",
            telecom=(ContactPoint(ContactSystem.PHONE, "555-0199"),),
        ),
        transitions=(make_transition(recorded_at=days_before(1)),),
        encounters=(
            make_encounter(
                id="ed-visit-1",
                klass=EncounterClass.EMERGENCY,
                period=cc.Period(days_before(4.2), days_before(4)),
                performers=(),
            ),
        ),
        medications=(
            make_medication(
                id="H-med-7",
                code=cc.Code(cc.System.RXNORM, "314077", "lisinopril 20 MG Oral Tablet"),
                dose=Quantity(20, "mg"),
                recorded_at=days_before(1),
            ),
        ),
        allergies=(make_allergy(id="H-nka", code=None, no_known=True, recorded_at=days_before(4)),),
    )
    pharmacy = record(
        make_source(id="corner-pharmacy", name="Synthetic Pharmacy", kind=cc.SourceKind.PHARMACY),
        make_patient(id="RX-88", identifiers=()),
        medications=(
            make_medication(id="rx-1", frequency="BID", recorded_at=days_before(20)),
            make_medication(
                id="rx-2",
                code=cc.Code(cc.System.RXNORM, "617312", "atorvastatin 20 MG Oral Tablet"),
                ingredients=(ATORVASTATIN,),
                dose=Quantity(20, "mg"),
                frequency="QHS",
                recorded_at=days_before(20),
            ),
        ),
    )
    return [clinic, hospital, pharmacy]


def main() -> None:
    """Build the profile and print each view of it."""
    profiles = build_profiles(three_sources(), source_ranking=["clinic-ehr", "general-hospital"])
    (profile,) = profiles
    print(f"Profile {profile.id}: {len(profile.records)} records from {', '.join(profile.sources)}")
    print(f"Pairs to review: {len(profiles.review)}\n")

    print("== Medication list, side by side ==")
    print(reconciliation_view(profile, ListKind.MEDICATIONS).render())

    print("== Conflicts between sources ==")
    for conflict in profile.conflicts:
        values = "; ".join(f"{source}: {value}" for source, value in conflict.values)
        chosen = f" (showing {conflict.chosen})" if conflict.chosen else ""
        print(f"- {conflict.kind.value} on {conflict.field}{chosen}: {values}")
    print()

    print("== Timeline ==")
    for event in timeline(profile):
        when = (
            event.when.isoformat()
            if isinstance(event.when, cc.PartialDate)
            else (event.when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
        )
        print(f"{when:22} {event.description}  [{', '.join(event.sources)}]")
    print()

    viewers = {
        "Therapist": Viewer(
            BEHAVIORAL_HEALTH, ViewerRole.CLINICIAN, cc.Discipline.BEHAVIORAL_HEALTH
        ),
        "Primary-care physician": Viewer(PCP, ViewerRole.CLINICIAN, cc.Discipline.PRIMARY_CARE),
        "Cardiologist (not on the team)": Viewer(CARDIOLOGIST, discipline=cc.Discipline.SPECIALIST),
        "Patient": Viewer(cc.Ref("Patient", profile.id), ViewerRole.PATIENT),
    }
    for label, viewer in viewers.items():
        seen = view_for(profile, viewer, at=AS_OF)
        problems = ", ".join(str(f.value.code) for f in seen.conditions)
        notes = len(seen.communications)
        print(f"== {label} sees ==")
        print(f"  problems: {problems}")
        print(f"  medications: {len(seen.medications)}, communications: {notes}")
    print()

    print("== The patient's summary ==")
    summary = patient_summary(profile, start=days_before(30), end=AS_OF, at=AS_OF)
    print(summary.render())


if __name__ == "__main__":
    main()
