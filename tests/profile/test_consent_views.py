"""Consent views against a determined reader (issue 10).

Restricted labels, who the patient is, every coding, implied classes and facts about
hidden facts. The builders' condition is written by the PCP; these tests give it another
author where the PCP must not see it as its author.
"""

from __future__ import annotations

from typing import Any

import attrs

from carecoord.domain import (
    Discipline,
    PatientRecord,
    Ref,
    Sensitivity,
)
from carecoord.profile import PatientProfile, Viewer, ViewerRole, merge_records, view_for
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    PCP,
    make_care_team,
    make_condition,
    make_consent,
    make_patient,
    make_record,
    make_source,
)

DOCTOR = Viewer(PCP, ViewerRole.CLINICIAN, Discipline.PRIMARY_CARE)
THERAPIST = Viewer(BEHAVIORAL_HEALTH, ViewerRole.CLINICIAN, Discipline.BEHAVIORAL_HEALTH)
SPECIALIST = Viewer(CARDIOLOGIST, ViewerRole.CLINICIAN, Discipline.SPECIALIST)
RESTRICTED = frozenset({Sensitivity.RESTRICTED})


def record(patient_id: str = "patient-1", **facts: Any) -> PatientRecord:
    """A clinic record whose facts all name ``patient_id``, with the builders' care team."""
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    facts.setdefault("care_teams", (make_care_team(patient=patient_id),))
    return make_record(
        source=make_source(id="clinic"), patient=make_patient(id=patient_id), **facts
    )


def profile(**facts: Any) -> PatientProfile:
    """The profile of one clinic record holding ``facts``."""
    return merge_records([record(**facts)])


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
