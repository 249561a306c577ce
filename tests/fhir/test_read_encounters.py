"""Mapping encounters to care transitions and visits, and episodes of care to enrolments."""

from __future__ import annotations

import pytest

from carecoord.domain import (
    CareSetting,
    EncounterClass,
    EncounterStatus,
    Ref,
    TransitionKind,
)
from carecoord.fhir._codes import DISCHARGE_NUBC
from carecoord.testing import days_before

from .test_read_fixtures import SUBJECT, only_record, organization, ref, when

NUBC = "http://www.nubc.org/patient-discharge"
HL7_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def encounter(klass: str = "IMP", ident: str = "e1", **extra: object) -> dict[str, object]:
    """An R4 encounter of ``klass`` from 10 to 6 days before AS_OF."""
    resource: dict[str, object] = {
        "resourceType": "Encounter",
        "id": ident,
        "status": "finished",
        "class": {"system": ACT, "code": klass},
        "subject": SUBJECT,
        "period": {"start": when(10), "end": when(6)},
    }
    resource.update(extra)
    return resource


def disposition(system: str, code: str) -> dict[str, object]:
    """A hospitalization element with a discharge disposition."""
    return {"dischargeDisposition": {"coding": [{"system": system, "code": code}]}}


class TestTransitions:
    """Inpatient, observation and emergency encounters become care transitions."""

    @pytest.mark.parametrize(
        ("klass", "kind"),
        [
            ("IMP", TransitionKind.INPATIENT),
            ("ACUTE", TransitionKind.INPATIENT),
            ("NONAC", TransitionKind.INPATIENT),
            ("OBSENC", TransitionKind.OBSERVATION),
            ("EMER", TransitionKind.EMERGENCY),
        ],
    )
    def test_class_gives_kind(self, klass: str, kind: TransitionKind) -> None:
        """The encounter class decides the transition kind; no visit is made."""
        record = only_record(encounter(klass))

        assert [t.kind for t in record.transitions] == [kind]
        assert record.encounters == ()

    def test_times_and_links(self) -> None:
        """Admission and discharge come from the period; the facility from serviceProvider."""
        record = only_record(
            encounter(serviceProvider=ref("Organization", "h1")), organization("h1")
        )
        [stay] = record.transitions

        assert stay.admitted_at == days_before(10)
        assert stay.discharged_at == days_before(6)
        assert stay.facility == Ref("Organization", "h1")
        assert stay.encounter == Ref("Encounter", "e1")
        assert [o.id for o in record.organizations] == ["h1"]

    @pytest.mark.parametrize(
        ("code", "setting"),
        [
            ("01", CareSetting.HOME),
            ("02", CareSetting.OTHER_HOSPITAL),
            ("03", CareSetting.SKILLED_NURSING),
            ("06", CareSetting.HOME_HEALTH),
            ("07", CareSetting.LEFT_AGAINST_ADVICE),
            ("20", CareSetting.DECEASED),
            ("50", CareSetting.HOSPICE),
            ("51", CareSetting.HOSPICE),
            ("62", CareSetting.REHAB),
            ("65", CareSetting.PSYCHIATRIC),
            ("81", CareSetting.HOME),
        ],
    )
    def test_nubc_disposition(self, code: str, setting: CareSetting) -> None:
        """NUBC discharge status codes give the setting the patient went to."""
        record = only_record(encounter(hospitalization=disposition(NUBC, code)))
        [stay] = record.transitions

        assert stay.to_setting is setting
        assert stay.discharge_disposition is not None
        assert stay.discharge_disposition.code == code

    @pytest.mark.parametrize(
        ("code", "setting"),
        [
            ("home", CareSetting.HOME),
            ("alt-home", CareSetting.HOME),
            ("other-hcf", CareSetting.OTHER_HOSPITAL),
            ("hosp", CareSetting.HOSPICE),
            ("long", CareSetting.SKILLED_NURSING),
            ("aadvice", CareSetting.LEFT_AGAINST_ADVICE),
            ("exp", CareSetting.DECEASED),
            ("psy", CareSetting.PSYCHIATRIC),
            ("rehab", CareSetting.REHAB),
            ("snf", CareSetting.SKILLED_NURSING),
            ("oth", CareSetting.UNKNOWN),
        ],
    )
    def test_hl7_disposition(self, code: str, setting: CareSetting) -> None:
        """HL7 discharge-disposition codes give the setting."""
        record = only_record(encounter(hospitalization=disposition(HL7_DISPOSITION, code)))

        assert record.transitions[0].to_setting is setting

    def test_unknown_disposition_is_kept_with_a_warning(self) -> None:
        """An unrecognised disposition keeps its code, the setting is unknown."""
        record = only_record(encounter(hospitalization=disposition("urn:local", "zz")))
        [stay] = record.transitions

        assert stay.to_setting is CareSetting.UNKNOWN
        assert stay.discharge_disposition is not None

    def test_in_progress_is_an_ongoing_stay(self) -> None:
        """An in-progress encounter is a stay not yet discharged."""
        record = only_record(encounter(status="in-progress", period={"start": when(2)}))

        assert record.transitions[0].discharged_at is None

    def test_admit_source(self) -> None:
        """AdmitSource emd means the patient came from the emergency department."""
        stay = {"admitSource": {"coding": [{"code": "emd"}]}}
        record = only_record(encounter(hospitalization=stay))

        assert record.transitions[0].from_setting is CareSetting.EMERGENCY

    def test_diagnoses_from_reason_codes(self) -> None:
        """Without a diagnosis element, reasonCode codes are the stay's diagnoses."""
        reason = [{"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}]}]
        record = only_record(encounter(reasonCode=reason))

        assert [d.code.code for d in record.transitions[0].diagnoses] == ["35489007"]

    def test_diagnosis_rank_one_is_principal(self) -> None:
        """A diagnosis of rank 1 referring to a Condition is the principal one."""
        condition = {
            "resourceType": "Condition",
            "id": "dx",
            "subject": SUBJECT,
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.9"}]},
        }
        record = only_record(
            encounter(diagnosis=[{"condition": ref("Condition", "dx"), "rank": 1}]), condition
        )
        principal = record.transitions[0].principal_diagnosis

        assert principal is not None
        assert principal.principal
        assert principal.code.code == "F32.9"

    def test_r5_encounter(self) -> None:
        """R5 class (a list), actualPeriod and admission are read too."""
        r5 = {
            "resourceType": "Encounter",
            "id": "r5",
            "status": "completed",
            "class": [{"coding": [{"system": ACT, "code": "EMER"}]}],
            "subject": SUBJECT,
            "actualPeriod": {"start": when(3), "end": when(2)},
            "admission": disposition(NUBC, "01"),
        }
        [stay] = only_record(r5).transitions

        assert stay.kind is TransitionKind.EMERGENCY
        assert stay.to_setting is CareSetting.HOME

    def test_cancelled_stay_is_a_visit(self) -> None:
        """A cancelled inpatient encounter is not a transition."""
        record = only_record(encounter(status="cancelled"))

        assert record.transitions == ()
        assert record.encounters[0].status is EncounterStatus.CANCELLED

    def test_nubc_table_codes_are_two_digits(self) -> None:
        """Every NUBC code in the table is two digits."""
        assert all(len(code) == 2 and code.isdigit() for code in DISCHARGE_NUBC)


class TestVisits:
    """Other encounters become visits."""

    @pytest.mark.parametrize(
        ("klass", "expected"),
        [
            ("AMB", EncounterClass.AMBULATORY),
            ("VR", EncounterClass.VIRTUAL),
            ("HH", EncounterClass.HOME),
        ],
    )
    def test_visit_class(self, klass: str, expected: EncounterClass) -> None:
        """AMB, VR and HH encounters are visits of that class."""
        record = only_record(encounter(klass))

        assert [e.klass for e in record.encounters] == [expected]

    def test_visit_elements(self) -> None:
        """Types, performers, organisation and reasons are read."""
        record = only_record(
            encounter(
                "AMB",
                type=[{"coding": [{"system": "http://snomed.info/sct", "code": "185349003"}]}],
                participant=[{"individual": ref("Practitioner", "pcp-1")}],
                serviceProvider=ref("Organization", "clinic-1"),
            )
        )
        [visit] = record.encounters

        assert visit.types[0].code == "185349003"
        assert visit.performers == (Ref("Practitioner", "pcp-1"),)
        assert visit.organization == Ref("Organization", "clinic-1")

    def test_missing_start_skips(self) -> None:
        """An encounter without a start is skipped with an issue."""
        from .test_read_fixtures import read_bundle

        result = read_bundle(encounter("AMB", period={"end": when(1)}))

        assert result.records[0].encounters == ()
        assert result.issue_codes()["missing-element"] == 1

    def test_missing_class_is_other(self) -> None:
        """An encounter without a class is a visit of class other, with a warning."""
        resource = encounter("AMB")
        del resource["class"]

        assert only_record(resource).encounters[0].klass is EncounterClass.OTHER


class TestEpisodes:
    """EpisodeOfCare becomes an enrolment for care-management programmes only."""

    def episode(self, code: str, text: str = "") -> dict[str, object]:
        """An episode of care of type ``code``."""
        return {
            "resourceType": "EpisodeOfCare",
            "id": "ep1",
            "status": "active",
            "patient": SUBJECT,
            "type": [{"coding": [{"code": code}], "text": text}],
            "period": {"start": when(30)},
            "careManager": ref("Practitioner", "coordinator-1"),
        }

    def test_ccm_episode(self) -> None:
        """A ccm episode is a chronic care management enrolment."""
        [enrollment] = only_record(self.episode("ccm")).enrollments

        assert enrollment.program == "ccm"
        assert enrollment.managing == Ref("Practitioner", "coordinator-1")
        assert enrollment.period.start == days_before(30)

    def test_worded_episode(self) -> None:
        """A type worded care management is the care-management programme."""
        [enrollment] = only_record(self.episode("x1", "Complex care management")).enrollments

        assert enrollment.program == "care-management"

    def test_other_episode_is_skipped(self) -> None:
        """Another episode type is counted as skipped."""
        from .test_read_fixtures import read_bundle

        result = read_bundle(self.episode("hacc"))

        assert result.counts["EpisodeOfCare"].skipped == 1
        assert result.records[0].enrollments == ()
