"""Tests for the transition rules, with both sides of every window edge."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import (
    CareSetting,
    CareTransition,
    ClinicalStatus,
    Code,
    CommunicationKind,
    Complexity,
    Diagnosis,
    Discipline,
    Encounter,
    EncounterClass,
    PartialDate,
    Period,
    Ref,
    Sensitivity,
    System,
    TransitionKind,
)
from carecoord.rules import (
    BusinessCalendar,
    Severity,
    transition_tcm_contact,
    us_federal_holidays,
)
from carecoord.testing import (
    BEHAVIORAL_HEALTH,
    PCP,
    make_appointment,
    make_communication,
    make_condition,
    make_encounter,
    make_enrollment,
    make_organization,
    make_patient,
    make_procedure,
    make_reconciliation,
    make_record,
    make_transition,
)
from carecoord.testing._timetravel import Scenario

NY = ZoneInfo("America/New_York")


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


ADMIT_DAY = dt.date(2026, 2, 2)  # Monday
ADMITTED = at(ADMIT_DAY, 22)
DISCHARGE_DAY = dt.date(2026, 2, 5)  # Thursday
DISCHARGED = at(DISCHARGE_DAY, 11)
DEPRESSION = Code(System.ICD10CM, "F32.9", "Major depressive disorder, single episode")
SELF_HARM = Code(System.ICD10CM, "X78.9XXA", "Intentional self-harm by sharp object")
HEART_FAILURE = Code(System.ICD10CM, "I50.9", "Heart failure, unspecified")
CKD = Code(System.ICD10CM, "N18.3", "Chronic kidney disease, stage 3")
HOSPICE_CARE = Code(System.SNOMED, "385763009", "Hospice care")


def stay(**changes: Any) -> CareTransition:
    """A stay admitted 2 February, discharged home 5 February."""
    fields: dict[str, Any] = {
        "admitted_at": ADMITTED,
        "discharged_at": DISCHARGED,
        "to_setting": CareSetting.HOME,
    }
    fields.update(changes)
    return make_transition(**fields)


def scenario(*stays: CareTransition, now: dt.datetime | None = None, **kwargs: Any) -> Scenario:
    """A scenario holding the given facts (or the default one)."""
    s = Scenario(start=now or DISCHARGED + dt.timedelta(hours=1), **kwargs)
    s.add("transitions", *(stays or (stay(),)))
    return s


def visit(
    day: dt.date,
    *,
    hour: int = 14,
    klass: EncounterClass = EncounterClass.AMBULATORY,
    performer: Ref = PCP,
    id: str = "visit-1",
    **changes: Any,
) -> Encounter:
    """A 30-minute encounter on ``day``."""
    start = at(day, hour)
    return make_encounter(
        id=id,
        klass=klass,
        period=Period(start, start + dt.timedelta(minutes=30)),
        performers=(performer,),
        **changes,
    )


def both_sides(s: Scenario, rule: str, due: dt.date, focus: str | None = None) -> None:
    """Assert prospective at the end of ``due`` and open just after."""
    s.set_now(end_of(due)).assert_prospective(rule, focus)
    s.set_now(start_after(due)).assert_open(rule, focus)


ADMISSION = "transition.admission-notice-missing"


class TestAdmissionNoticeMissing:
    """Tests for admission notice missing."""

    def test_due_the_admission_day_plus_2(self) -> None:
        """Admitted late on Monday 2 February: the notice is due by Wednesday 4 February."""
        s = scenario(stay(discharged_at=None), now=ADMITTED)
        assert s.gap(ADMISSION).due == dt.date(2026, 2, 4)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 4 February, open from 5 February."""
        both_sides(scenario(stay(discharged_at=None), now=ADMITTED), ADMISSION, dt.date(2026, 2, 4))

    def test_closed_by_a_notice_about_the_stay(self) -> None:
        """An admission notice about the stay closes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        notice = make_communication(
            kind=CommunicationKind.ADMISSION_NOTICE, sent=at(dt.date(2026, 2, 3))
        )
        s.add("communications", notice)
        assert s.assert_closed(ADMISSION).closed_at == at(dt.date(2026, 2, 3))

    def test_an_unlinked_notice_on_the_admission_day_counts(self) -> None:
        """A notice with no 'about' link, sent on the admission day, counts."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        notice = make_communication(
            kind=CommunicationKind.ADMISSION_NOTICE, sent=at(ADMIT_DAY, 23), about=()
        )
        s.add("communications", notice)
        s.assert_closed(ADMISSION)

    def test_a_notice_before_the_admission_day_does_not_count(self) -> None:
        """An unlinked notice from the day before is about something else."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        notice = make_communication(
            kind=CommunicationKind.ADMISSION_NOTICE, sent=at(dt.date(2026, 2, 1)), about=()
        )
        s.add("communications", notice)
        s.assert_open(ADMISSION)

    def test_observation_stays_are_not_admissions(self) -> None:
        """By default only inpatient stays need an admission notice."""
        scenario(stay(kind=TransitionKind.OBSERVATION)).assert_no_gap(ADMISSION)


DISCHARGE_INFO = "transition.discharge-info-missing"


class TestDischargeInfoMissing:
    """Tests for discharge info missing."""

    def test_due_the_discharge_day_plus_2(self) -> None:
        """Discharged Thursday 5 February: information due by Saturday 7 February."""
        assert scenario().gap(DISCHARGE_INFO).due == dt.date(2026, 2, 7)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 7 February, open from 8 February."""
        both_sides(scenario(), DISCHARGE_INFO, dt.date(2026, 2, 7))

    def test_no_gap_while_the_stay_is_ongoing(self) -> None:
        """Before the discharge is known, there is nothing to send."""
        scenario(now=at(dt.date(2026, 2, 4))).assert_no_gap(DISCHARGE_INFO)

    def test_closed_by_a_discharge_summary(self) -> None:
        """A discharge summary about the stay closes it."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("communications", make_communication(sent=at(DISCHARGE_DAY, 15)))
        s.assert_closed(DISCHARGE_INFO)

    def test_hospice_is_not_applicable(self) -> None:
        """TRC excludes discharges to hospice."""
        s = scenario(stay(to_setting=CareSetting.HOSPICE))
        assert s.assert_not_applicable(DISCHARGE_INFO).reason == "discharged to hospice"

    def test_direct_transfers_are_not_applicable(self) -> None:
        """Another hospital, skilled nursing, rehab, a psychiatric facility: the last discharge.

        HEDIS TRC counts only the last discharge when a discharge is followed by a direct
        transfer to an acute or non-acute inpatient setting.
        """
        for setting in (
            CareSetting.OTHER_HOSPITAL,
            CareSetting.SKILLED_NURSING,
            CareSetting.REHAB,
            CareSetting.PSYCHIATRIC,
        ):
            s = scenario(stay(to_setting=setting))
            assert (s.assert_not_applicable(DISCHARGE_INFO).reason or "").startswith(
                "transferred to"
            ), setting

    def test_discharges_to_the_community_are_followed(self) -> None:
        """The other side: home, home health, against advice, unknown stay prospective."""
        for setting in (
            CareSetting.HOME,
            CareSetting.HOME_HEALTH,
            CareSetting.LEFT_AGAINST_ADVICE,
            CareSetting.UNKNOWN,
        ):
            scenario(stay(to_setting=setting)).assert_prospective(DISCHARGE_INFO)

    def test_readmission_within_30_days_excludes_the_first_discharge(self) -> None:
        """Readmitted on day 10, with the first summary still missing: not applicable."""
        readmission = stay(
            id="stay-2",
            admitted_at=at(DISCHARGE_DAY + dt.timedelta(days=10)),
            discharged_at=None,
        )
        s = scenario(stay(), readmission, now=at(DISCHARGE_DAY + dt.timedelta(days=11)))
        gap = s.assert_not_applicable(DISCHARGE_INFO, "clinic-ehr/stay-1")
        assert gap.reason == "readmitted within 30 days; the last discharge is followed"
        s.set_now(at(DISCHARGE_DAY + dt.timedelta(days=9)))
        s.assert_open(DISCHARGE_INFO, "clinic-ehr/stay-1")

    def test_an_observation_stay_is_not_a_readmission(self) -> None:
        """TRC follows acute and non-acute inpatient stays; observation is outpatient."""
        observation = stay(
            id="stay-2",
            kind=TransitionKind.OBSERVATION,
            admitted_at=at(DISCHARGE_DAY + dt.timedelta(days=10)),
            discharged_at=None,
        )
        s = scenario(stay(), observation, now=at(DISCHARGE_DAY + dt.timedelta(days=11)))
        s.assert_open(DISCHARGE_INFO, "clinic-ehr/stay-1")


TCM = "transition.tcm-contact"


class TestTcmContact:
    """Tests for tcm contact."""

    def test_due_2_business_days_after_discharge(self) -> None:
        """Discharged Thursday: contact due by Monday (weekend skipped)."""
        assert scenario().gap(TCM).due == dt.date(2026, 2, 9)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of Monday, open from Tuesday."""
        both_sides(scenario(), TCM, dt.date(2026, 2, 9))

    def test_independence_day_2026_with_federal_holidays(self) -> None:
        """Discharged Thursday 2 July 2026: with US holidays the contact is due 7 July."""
        cal = BusinessCalendar(holidays=us_federal_holidays(2026))
        discharged = at(dt.date(2026, 7, 2), 15)
        s = scenario(
            stay(admitted_at=at(dt.date(2026, 6, 29)), discharged_at=discharged),
            now=discharged,
            calendar=cal,
        )
        assert s.gap(TCM).due == dt.date(2026, 7, 7)

    def test_late_evening_discharge_counts_the_local_day(self) -> None:
        """23:30 in New York (03:30 UTC next day): the window counts from the local date."""
        discharged = at(dt.date(2026, 7, 1), 23, 30)
        assert discharged.astimezone(dt.UTC).date() == dt.date(2026, 7, 2)
        s = scenario(
            stay(admitted_at=at(dt.date(2026, 6, 29)), discharged_at=discharged), now=discharged
        )
        assert s.gap(TCM).due == dt.date(2026, 7, 3)

    def test_closed_by_an_interactive_contact(self) -> None:
        """A two-way call with the patient after discharge closes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        call = make_communication(
            kind=CommunicationKind.PATIENT_CONTACT,
            sent=at(dt.date(2026, 2, 6)),
            interactive=True,
            about=(),
        )
        s.add("communications", call)
        assert not s.assert_closed(TCM).late

    def test_one_attempt_is_not_enough(self) -> None:
        """A single unsuccessful attempt does not meet the requirement."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        s.add(
            "communications",
            make_communication(
                kind=CommunicationKind.PATIENT_CONTACT,
                sent=at(dt.date(2026, 2, 6)),
                status="not-done",
            ),
        )
        s.assert_open(TCM)

    def test_two_documented_attempts_close_it(self) -> None:
        """Two documented attempts count; both are named as closing evidence."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        for number, day in enumerate((6, 9), start=1):
            s.add(
                "communications",
                make_communication(
                    id=f"attempt-{number}",
                    kind=CommunicationKind.PATIENT_CONTACT,
                    sent=at(dt.date(2026, 2, day)),
                    status="not-done",
                ),
            )
        gap = s.assert_closed(TCM)
        assert len(gap.closed_by) == 2
        assert gap.closed_at == at(dt.date(2026, 2, 9))

    def test_a_call_logged_ahead_of_time_does_not_close_it_early(self) -> None:
        """A contact recorded now but dated tomorrow does not count until tomorrow."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add(
            "communications",
            make_communication(
                kind=CommunicationKind.PATIENT_CONTACT,
                sent=at(dt.date(2026, 2, 11)),
                interactive=True,
                recorded_at=at(dt.date(2026, 2, 6)),
            ),
        )
        s.assert_open(TCM)

    def test_contact_before_discharge_does_not_count(self) -> None:
        """A call during the stay is not a post-discharge contact."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        s.add(
            "communications",
            make_communication(
                kind=CommunicationKind.PATIENT_CONTACT,
                sent=at(DISCHARGE_DAY, 9),
                interactive=True,
            ),
        )
        s.assert_open(TCM)

    def test_a_telephone_visit_counts_as_contact(self) -> None:
        """A telephone encounter after discharge is an interactive contact."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        s.add("encounters", visit(dt.date(2026, 2, 6), klass=EncounterClass.TELEPHONE))
        s.assert_closed(TCM)

    def test_discharge_to_skilled_nursing_is_not_applicable(self) -> None:
        """TCM applies to discharges to the community only."""
        s = scenario(stay(to_setting=CareSetting.SKILLED_NURSING))
        assert "not the community" in (s.assert_not_applicable(TCM).reason or "")

    def test_transfer_to_another_hospital_is_not_applicable(self) -> None:
        """A transfer to another acute hospital is excluded."""
        scenario(stay(to_setting=CareSetting.OTHER_HOSPITAL)).assert_not_applicable(TCM)

    def test_death_during_the_stay_is_not_applicable(self) -> None:
        """A patient who died in hospital has no follow-up."""
        scenario(stay(to_setting=CareSetting.DECEASED)).assert_not_applicable(TCM)

    def test_unknown_destination_counts_by_default(self) -> None:
        """A discharge with no recorded destination is surfaced, not hidden."""
        scenario(stay(to_setting=CareSetting.UNKNOWN)).assert_prospective(TCM)

    def test_unknown_destination_can_be_excluded(self) -> None:
        """With unknown_destination_is_community=False it is not applicable."""
        rule = transition_tcm_contact(unknown_destination_is_community=False)
        s = scenario(stay(to_setting=CareSetting.UNKNOWN), rules=[rule])
        s.assert_not_applicable(TCM)

    def test_readmission_before_the_window_closes_is_not_applicable(self) -> None:
        """Readmitted on Saturday before any contact: the first discharge is excluded."""
        readmission = make_transition(
            id="stay-2", admitted_at=at(dt.date(2026, 2, 7)), discharged_at=None
        )
        s = scenario(stay(), readmission, now=at(dt.date(2026, 2, 8)))
        assert s.assert_not_applicable(TCM, "clinic-ehr/stay-1").reason == (
            "readmitted before the window closed"
        )

    def test_patient_died_before_due_is_not_applicable(self) -> None:
        """A death at home before the due date excludes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 12)))
        s.update_patient(deceased_at=PartialDate(2026, 2, 7))
        s.assert_not_applicable(TCM)

    def test_high_severity(self) -> None:
        """A missed TCM contact is high severity."""
        assert scenario().gap(TCM).severity is Severity.HIGH


FOLLOW_UP = "transition.follow-up-visit"


class TestFollowUpVisit:
    """Tests for follow up visit."""

    def test_due_14_days_after_discharge(self) -> None:
        """Discharged 5 February: a visit is due by 19 February."""
        assert scenario().gap(FOLLOW_UP).due == dt.date(2026, 2, 19)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 19 February, open from 20 February."""
        both_sides(scenario(), FOLLOW_UP, dt.date(2026, 2, 19))

    def test_high_complexity_due_in_7_days(self) -> None:
        """High complexity: due 12 February, both sides of the edge."""
        s = scenario(stay(complexity=Complexity.HIGH))
        assert s.gap(FOLLOW_UP).due == dt.date(2026, 2, 12)
        both_sides(s, FOLLOW_UP, dt.date(2026, 2, 12))

    def test_a_visit_on_the_discharge_day_does_not_count(self) -> None:
        """A visit later on the discharge day is not a follow-up."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(DISCHARGE_DAY, hour=17))
        s.assert_open(FOLLOW_UP)

    def test_a_visit_the_day_after_closes_it(self) -> None:
        """An office visit the day after discharge closes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(dt.date(2026, 2, 6)))
        assert s.assert_closed(FOLLOW_UP).closed_by[0].ref.type == "Encounter"

    def test_a_video_visit_closes_it(self) -> None:
        """A synchronous telehealth visit counts."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(dt.date(2026, 2, 10), klass=EncounterClass.VIRTUAL))
        s.assert_closed(FOLLOW_UP)

    def test_a_phone_call_does_not(self) -> None:
        """A telephone encounter is not a face-to-face visit."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(dt.date(2026, 2, 10), klass=EncounterClass.TELEPHONE))
        s.assert_open(FOLLOW_UP)

    def test_a_booked_visit_is_context(self) -> None:
        """A visit booked within the window is shown as context; the action changes."""
        s = scenario()
        s.add(
            "appointments",
            make_appointment(start=at(dt.date(2026, 2, 12)), booked_at=DISCHARGED, based_on=()),
        )
        gap = s.assert_prospective(FOLLOW_UP)
        assert [e.role.value for e in gap.evidence] == ["trigger", "context"]
        assert gap.action.startswith("Confirm")

    def test_a_visit_after_as_of_does_not_close_it_earlier(self) -> None:
        """Evaluated before a later visit, the gap is open: time travel."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(dt.date(2026, 2, 21)))
        s.assert_open(FOLLOW_UP)
        s.set_now(at(dt.date(2026, 2, 22)))
        assert s.assert_closed(FOLLOW_UP).late


MED_REC = "transition.med-rec"
MED_REC_DUE = dt.date(2026, 3, 7)


class TestMedRec:
    """Tests for med rec."""

    def test_due_day_30(self) -> None:
        """Discharged 5 February: reconciliation due by 7 March (31 days in all)."""
        assert scenario().gap(MED_REC).due == MED_REC_DUE

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 7 March, open from 8 March."""
        both_sides(scenario(), MED_REC, MED_REC_DUE)

    def test_reconciliation_on_the_discharge_day_counts(self) -> None:
        """The discharge day is day 0 of the window."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("reconciliations", make_reconciliation(at=at(DISCHARGE_DAY, 16)))
        s.assert_closed(MED_REC)

    def test_reconciliation_the_day_before_does_not(self) -> None:
        """A reconciliation before the discharge day does not count."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("reconciliations", make_reconciliation(at=at(dt.date(2026, 2, 4))))
        s.assert_prospective(MED_REC)

    def test_cpt_ii_1111f_counts(self) -> None:
        """A procedure coded CPT II 1111F counts."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        code = Code(System.CPT, "1111F")
        s.add("procedures", make_procedure(code=code, performed=at(dt.date(2026, 2, 9))))
        s.assert_closed(MED_REC)

    def test_snomed_procedure_counts(self) -> None:
        """A procedure coded SNOMED 430193006 counts (a date-only procedure too)."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("procedures", make_procedure(performed=PartialDate(2026, 2, 9)))
        assert s.assert_closed(MED_REC).closed_at == dt.date(2026, 2, 9)

    def test_tcm_visit_code_counts(self) -> None:
        """A visit billed as TCM (99496) documents the reconciliation."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        tcm = Code(System.CPT, "99496")
        s.add("encounters", visit(dt.date(2026, 2, 9), types=(tcm,)))
        s.assert_closed(MED_REC)

    def test_transfer_is_not_applicable(self) -> None:
        """A transfer to another acute hospital is excluded."""
        scenario(stay(to_setting=CareSetting.OTHER_HOSPITAL)).assert_not_applicable(MED_REC)

    def test_skilled_nursing_is_a_direct_transfer(self) -> None:
        """A discharge to skilled nursing is a direct transfer: the SNF's discharge counts.

        Changed (issue 9): this gap was prospective. HEDIS MRP and TRC count only the last
        discharge when a discharge is followed by a direct transfer to an acute or
        non-acute inpatient setting, so the hospital's discharge to the SNF is excluded
        and the SNF's own discharge (a stay of its own) opens the gap.
        """
        gap = scenario(stay(to_setting=CareSetting.SKILLED_NURSING)).assert_not_applicable(MED_REC)
        assert gap.reason == "transferred to skilled nursing; the last discharge is followed"

    def test_a_discharge_home_still_needs_it(self) -> None:
        """The other side: home and home health are not transfers."""
        scenario(stay(to_setting=CareSetting.HOME)).assert_prospective(MED_REC)
        scenario(stay(to_setting=CareSetting.HOME_HEALTH)).assert_prospective(MED_REC)

    def test_a_reconciliation_in_hospital_before_discharge_does_not_count(self) -> None:
        """Reconciled at 09:00 on the discharge day, discharged at 11:00: still prospective.

        HEDIS TRC/MRP: reconciliation in the outpatient record on or after the discharge
        date; the inpatient team's reconciliation before discharge is not it.
        """
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("reconciliations", make_reconciliation(at=at(DISCHARGE_DAY, 9)))
        s.assert_prospective(MED_REC)
        s.add("reconciliations", make_reconciliation(id="rec-2", at=DISCHARGED))
        assert s.assert_closed(MED_REC).closed_at == DISCHARGED

    def test_a_coded_procedure_of_the_stay_does_not_count(self) -> None:
        """A 1111F documented in the inpatient encounter (date only) is not post-discharge."""
        s = scenario(stay(encounter=Ref("Encounter", "enc-stay")), now=at(dt.date(2026, 2, 10)))
        inpatient = make_procedure(
            performed=PartialDate(2026, 2, 5), encounter=Ref("Encounter", "enc-stay")
        )
        s.add("procedures", inpatient)
        s.assert_prospective(MED_REC)
        outpatient = make_procedure(id="procedure-2", performed=PartialDate(2026, 2, 5))
        s.add("procedures", outpatient)
        assert s.assert_closed(MED_REC).closed_by[0].ref.id == "clinic-ehr/procedure-2"

    def test_a_timed_procedure_before_the_discharge_does_not_count(self) -> None:
        """A reconciliation procedure at 08:00 on the discharge day (discharged 11:00)."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.add("procedures", make_procedure(performed=at(DISCHARGE_DAY, 8)))
        s.assert_prospective(MED_REC)

    def test_readmission_within_30_days_follows_the_last_discharge(self) -> None:
        """Readmitted on day 30: the first discharge is excluded, the second one tracked.

        HEDIS MRP/TRC: a discharge followed by readmission or direct transfer on the date
        of discharge through 30 days after counts only the last discharge. Before the
        readmission is known, the first discharge's gap is open.
        """
        day_30 = DISCHARGE_DAY + dt.timedelta(days=30)
        readmission = stay(
            id="stay-2",
            admitted_at=at(day_30, 20),
            discharged_at=at(day_30 + dt.timedelta(days=3)),
        )
        s = scenario(stay(), readmission, now=at(day_30, 19))
        s.assert_prospective(MED_REC, "clinic-ehr/stay-1")
        s.set_now(at(day_30 + dt.timedelta(days=4)))
        gap = s.assert_not_applicable(MED_REC, "clinic-ehr/stay-1")
        assert gap.reason == "readmitted within 30 days; the last discharge is followed"
        s.assert_prospective(MED_REC, "clinic-ehr/stay-2")

    def test_readmission_on_day_31_does_not_exclude(self) -> None:
        """The other side: a readmission 31 days after the discharge day leaves it open."""
        day_31 = DISCHARGE_DAY + dt.timedelta(days=31)
        readmission = stay(id="stay-2", admitted_at=at(day_31, 1), discharged_at=None)
        s = scenario(stay(), readmission, now=at(day_31, 2))
        s.assert_open(MED_REC, "clinic-ehr/stay-1")

    def test_a_transfer_stay_counts_as_a_readmission(self) -> None:
        """A stay of kind transfer admitted the day after counts as the direct transfer."""
        transfer = stay(
            id="stay-2",
            kind=TransitionKind.TRANSFER,
            admitted_at=at(DISCHARGE_DAY + dt.timedelta(days=1)),
            discharged_at=None,
        )
        s = scenario(stay(), transfer, now=at(DISCHARGE_DAY + dt.timedelta(days=2)))
        s.assert_not_applicable(MED_REC, "clinic-ehr/stay-1")

    def test_hospice_in_the_measurement_year_excludes(self) -> None:
        """MRP/TRC: hospice anytime in the measurement year; a hospice year before does not."""
        for day, excluded in ((dt.date(2025, 12, 31), False), (dt.date(2026, 1, 1), True)):
            s = scenario()
            s.add("procedures", make_procedure(code=HOSPICE_CARE, performed=at(day)))
            status = s.gap(MED_REC).status.value
            assert status == ("not-applicable" if excluded else "prospective"), day


FUH = "transition.mental-health-follow-up"
SEVEN = "clinic-ehr/stay-1#7d"
THIRTY = "clinic-ehr/stay-1#30d"


def mental_health_stay(code: Code = DEPRESSION, **changes: Any) -> CareTransition:
    """A stay whose principal diagnosis is ``code``."""
    return stay(diagnoses=(Diagnosis(code, principal=True),), **changes)


class TestMentalHealthFollowUp:
    """Tests for mental health follow up."""

    def test_two_windows_per_discharge(self) -> None:
        """One gap due day 7 (#7d) and one due day 30 (#30d)."""
        s = scenario(mental_health_stay())
        assert s.gap(FUH, SEVEN).due == dt.date(2026, 2, 12)
        assert s.gap(FUH, THIRTY).due == MED_REC_DUE

    def test_seven_day_edge(self) -> None:
        """#7d: prospective at the end of 12 February, open from 13 February."""
        both_sides(scenario(mental_health_stay()), FUH, dt.date(2026, 2, 12), SEVEN)

    def test_thirty_day_edge(self) -> None:
        """#30d: prospective at the end of 7 March, open from 8 March."""
        both_sides(scenario(mental_health_stay()), FUH, MED_REC_DUE, THIRTY)

    def test_a_visit_on_the_discharge_day_does_not_count(self) -> None:
        """FUH: a visit on the discharge day does not count."""
        s = scenario(mental_health_stay(), now=at(dt.date(2026, 2, 13)))
        s.add("encounters", visit(DISCHARGE_DAY, hour=16, performer=BEHAVIORAL_HEALTH))
        s.assert_open(FUH, SEVEN)

    def test_a_visit_the_next_day_closes_both(self) -> None:
        """A visit with the therapist the day after discharge closes both windows."""
        s = scenario(mental_health_stay(), now=at(dt.date(2026, 2, 13)))
        s.add("encounters", visit(dt.date(2026, 2, 6), performer=BEHAVIORAL_HEALTH))
        s.assert_closed(FUH, SEVEN)
        s.assert_closed(FUH, THIRTY)

    def test_a_visit_with_primary_care_does_not_count(self) -> None:
        """The visit must be with a mental-health provider."""
        s = scenario(mental_health_stay(), now=at(dt.date(2026, 2, 13)))
        s.add("encounters", visit(dt.date(2026, 2, 6), performer=PCP))
        s.assert_open(FUH, SEVEN)

    def test_a_behavioural_health_organisation_counts(self) -> None:
        """A visit at a behavioural-health clinic counts whoever the clinician is."""
        clinic = make_organization(id="bh-clinic", discipline=Discipline.BEHAVIORAL_HEALTH)
        record = make_record(organizations=(make_organization(), clinic))
        s = Scenario(record, start=at(dt.date(2026, 2, 13)))
        s.add("transitions", mental_health_stay())
        s.add(
            "encounters",
            visit(
                dt.date(2026, 2, 6),
                performer=Ref("Practitioner", "unknown"),
                organization=clinic.ref,
            ),
        )
        s.assert_closed(FUH, SEVEN)

    def test_a_visit_on_day_10_closes_7d_late_and_30d_on_time(self) -> None:
        """A visit on day 10 meets the 30-day window and the 7-day one late."""
        s = scenario(mental_health_stay(), now=at(dt.date(2026, 2, 20)))
        s.add("encounters", visit(dt.date(2026, 2, 15), performer=BEHAVIORAL_HEALTH))
        assert s.assert_closed(FUH, SEVEN).late
        assert not s.assert_closed(FUH, THIRTY).late

    def test_readmission_within_30_days_is_not_applicable(self) -> None:
        """Readmitted within 30 days: the earlier discharge is excluded."""
        readmission = make_transition(
            id="stay-2", admitted_at=at(dt.date(2026, 2, 20)), discharged_at=None
        )
        s = scenario(mental_health_stay(), readmission, now=at(dt.date(2026, 2, 21)))
        s.assert_not_applicable(FUH, SEVEN)
        s.assert_not_applicable(FUH, THIRTY)

    def test_direct_transfer_is_not_applicable(self) -> None:
        """FUH: a direct transfer to an acute or non-acute inpatient setting is excluded."""
        for setting in (CareSetting.SKILLED_NURSING, CareSetting.PSYCHIATRIC):
            s = scenario(mental_health_stay(to_setting=setting))
            s.assert_not_applicable(FUH, SEVEN)
            s.assert_not_applicable(FUH, THIRTY)

    def test_hospice_in_the_measurement_year_excludes(self) -> None:
        """FUH: hospice anytime during the measurement year excludes the discharge."""
        s = scenario(mental_health_stay())
        enrolment = make_enrollment(
            program="hospice", period=Period(at(dt.date(2026, 1, 2)), at(dt.date(2026, 1, 20)))
        )
        s.add("enrollments", enrolment)
        assert s.assert_not_applicable(FUH, SEVEN).reason == "hospice"

    def test_self_harm_is_critical(self) -> None:
        """Intentional self-harm as principal diagnosis makes the gaps critical."""
        assert scenario(mental_health_stay(SELF_HARM)).gap(FUH, SEVEN).severity is (
            Severity.CRITICAL
        )

    def test_other_diagnoses_have_no_gap(self) -> None:
        """A heart-failure stay is not in the FUH population."""
        scenario(stay()).assert_no_gap(FUH)

    def test_children_under_6_are_not_in_the_measure(self) -> None:
        """FUH covers patients aged 6 and over."""
        record = make_record(patient=make_patient(birth_date=PartialDate(2021, 1, 1)))
        s = Scenario(record, start=DISCHARGED)
        s.add("transitions", mental_health_stay())
        s.assert_no_gap(FUH)

    def test_gaps_carry_the_mental_health_label(self) -> None:
        """FUH gaps are labelled mental health for consent-aware views."""
        gap = scenario(mental_health_stay()).gap(FUH, SEVEN)
        assert gap.sensitivity == frozenset({Sensitivity.MENTAL_HEALTH})

    def test_summary_does_not_name_the_diagnosis(self) -> None:
        """The summary never spells out the diagnosis."""
        gap = scenario(mental_health_stay()).gap(FUH, SEVEN)
        assert "depress" not in gap.summary.lower()


FUM = "transition.ed-mental-health-follow-up"
ED_DAY = dt.date(2026, 2, 2)


def ed_visit(code: Code = DEPRESSION, day: dt.date = ED_DAY, **changes: Any) -> CareTransition:
    """An emergency visit on ``day`` with principal diagnosis ``code``."""
    fields: dict[str, Any] = {
        "kind": TransitionKind.EMERGENCY,
        "admitted_at": at(day, 10),
        "discharged_at": at(day, 15),
        "from_setting": CareSetting.HOME,
        "to_setting": CareSetting.HOME,
        "diagnoses": (Diagnosis(code, principal=True),),
    }
    fields.update(changes)
    return make_transition(**fields)


class TestEdMentalHealthFollowUp:
    """Tests for ed mental health follow up."""

    def test_windows_count_from_the_ed_day(self) -> None:
        """ED visit 2 February: #7d due 9 February, #30d due 4 March."""
        s = scenario(ed_visit(), now=at(ED_DAY, 16))
        assert s.gap(FUM, SEVEN).due == dt.date(2026, 2, 9)
        assert s.gap(FUM, THIRTY).due == dt.date(2026, 3, 4)

    def test_seven_day_edge(self) -> None:
        """#7d: prospective at the end of 9 February, open from 10 February."""
        both_sides(scenario(ed_visit(), now=at(ED_DAY, 16)), FUM, dt.date(2026, 2, 9), SEVEN)

    def test_thirty_day_edge(self) -> None:
        """#30d: prospective at the end of 4 March, open from 5 March."""
        both_sides(scenario(ed_visit(), now=at(ED_DAY, 16)), FUM, dt.date(2026, 3, 4), THIRTY)

    def test_a_visit_on_the_ed_day_counts(self) -> None:
        """FUM: a follow-up on the day of the ED visit counts."""
        s = scenario(ed_visit(), now=at(dt.date(2026, 2, 3)))
        s.add("encounters", visit(ED_DAY, hour=17, performer=BEHAVIORAL_HEALTH))
        s.assert_closed(FUM, SEVEN)

    def test_a_visit_with_a_mental_health_diagnosis_counts(self) -> None:
        """A primary-care visit with a mental-health diagnosis counts for FUM."""
        s = scenario(ed_visit(), now=at(dt.date(2026, 2, 6)))
        s.add("encounters", visit(dt.date(2026, 2, 4), diagnoses=(DEPRESSION,)))
        s.assert_closed(FUM, SEVEN)

    def test_admission_within_30_days_is_not_applicable(self) -> None:
        """An inpatient admission after the ED visit excludes it."""
        admission = make_transition(id="stay-2", admitted_at=at(ED_DAY, 16), discharged_at=None)
        s = scenario(ed_visit(), admission, now=at(ED_DAY, 17))
        s.assert_not_applicable(FUM, SEVEN)

    def test_an_ed_disposition_of_admission_is_not_applicable(self) -> None:
        """Admitted from the ED (disposition inpatient) with no separate stay on record.

        HEDIS FUM excludes "ED visits that result in an inpatient stay"; the visit's own
        disposition says so even when the stay itself is not in the record.
        """
        s = scenario(ed_visit(to_setting=CareSetting.INPATIENT), now=at(ED_DAY, 16))
        gap = s.assert_not_applicable(FUM, SEVEN)
        assert gap.reason == "admitted as an inpatient from the emergency visit"

    def test_the_nubc_admitted_code_without_a_setting_counts(self) -> None:
        """NUBC 09 (admitted as an inpatient) with no setting mapped is an admission too."""
        admitted = Code(System.DISCHARGE_DISPOSITION, "09", "Admitted as an inpatient")
        visit = ed_visit(to_setting=CareSetting.UNKNOWN, discharge_disposition=admitted)
        s = scenario(visit, now=at(ED_DAY, 16))
        s.assert_not_applicable(FUM, SEVEN)
        home = Code(System.DISCHARGE_DISPOSITION, "01", "Home")
        other = ed_visit(to_setting=CareSetting.UNKNOWN, discharge_disposition=home)
        scenario(other, now=at(ED_DAY, 16)).assert_prospective(FUM, SEVEN)

    def test_a_transfer_from_the_ed_to_an_inpatient_setting_is_not_applicable(self) -> None:
        """Sent from the ED to a psychiatric facility (or another hospital): excluded."""
        for setting in (CareSetting.PSYCHIATRIC, CareSetting.OTHER_HOSPITAL):
            s = scenario(ed_visit(to_setting=setting), now=at(ED_DAY, 16))
            assert (s.assert_not_applicable(FUM, SEVEN).reason or "").startswith("transferred")

    def test_discharged_home_from_the_ed_is_followed(self) -> None:
        """The other side: a disposition home (or unknown) keeps the gaps."""
        for setting in (CareSetting.HOME, CareSetting.UNKNOWN):
            scenario(ed_visit(to_setting=setting), now=at(ED_DAY, 16)).assert_prospective(
                FUM, SEVEN
            )

    def test_an_admitted_ed_visit_does_not_hide_the_next_one(self) -> None:
        """Admitted from the first ED visit: a second one 10 days later is the first eligible.

        HEDIS: "include only the first eligible ED visit" in 31 days; a visit excluded for
        its admission is not eligible, so it cannot stand in for the next one.
        """
        first = ed_visit(id="ed-1", to_setting=CareSetting.INPATIENT)
        second = ed_visit(id="ed-2", day=ED_DAY + dt.timedelta(days=10))
        s = scenario(first, second, now=at(ED_DAY + dt.timedelta(days=10), 16))
        s.assert_not_applicable(FUM, "clinic-ehr/ed-1#7d")
        s.assert_prospective(FUM, "clinic-ehr/ed-2#7d")

    def test_a_second_ed_visit_within_31_days_is_not_tracked_twice(self) -> None:
        """Only the first ED visit in 31 days counts; the next one is not applicable."""
        second = ed_visit(id="ed-2", day=dt.date(2026, 3, 4))
        s = scenario(ed_visit(id="ed-1"), second, now=at(dt.date(2026, 3, 4), 16))
        s.assert_not_applicable(FUM, "clinic-ehr/ed-2#7d")

    def test_hospice_in_an_earlier_year_does_not_exclude(self) -> None:
        """Discharged to hospice in 2024 and alive since: the 2026 ED visit is followed.

        A past discharge to hospice used to exclude every later ED visit.
        """
        hospice = stay(
            id="hospice-stay",
            admitted_at=at(dt.date(2024, 3, 1)),
            discharged_at=at(dt.date(2024, 3, 4)),
            to_setting=CareSetting.HOSPICE,
        )
        s = scenario(ed_visit(), hospice, now=at(ED_DAY, 16))
        s.assert_prospective(FUM, SEVEN)

    def test_hospice_anytime_in_the_measurement_year_excludes(self) -> None:
        """HEDIS: hospice anytime during the measurement year. 1 January counts, 31 Dec not."""
        for day, excluded in ((dt.date(2025, 12, 31), False), (dt.date(2026, 1, 1), True)):
            s = scenario(ed_visit(), now=at(ED_DAY, 16))
            s.add("procedures", make_procedure(code=HOSPICE_CARE, performed=at(day)))
            status = s.gap(FUM, SEVEN).status.value
            assert status == ("not-applicable" if excluded else "prospective"), day

    def test_hospice_after_the_visit_in_the_same_year_excludes_once_known(self) -> None:
        """Hospice care in March excludes the February visit, from when it is recorded."""
        s = scenario(ed_visit(), now=at(dt.date(2026, 3, 1)))
        s.add("procedures", make_procedure(code=HOSPICE_CARE, performed=at(dt.date(2026, 3, 2))))
        s.assert_open(FUM, SEVEN)
        s.set_now(at(dt.date(2026, 3, 3)))
        assert s.assert_not_applicable(FUM, SEVEN).reason == "hospice"

    def test_an_ed_visit_31_days_later_is_a_new_index(self) -> None:
        """An ED visit 31 days after the first one is tracked on its own."""
        later = ed_visit(id="ed-2", day=dt.date(2026, 3, 5))
        s = scenario(ed_visit(id="ed-1"), later, now=at(dt.date(2026, 3, 5), 16))
        s.assert_prospective(FUM, "clinic-ehr/ed-2#7d")


FMC = "transition.ed-chronic-follow-up"


def chronic_scenario(
    *codes: Code, now: dt.datetime | None = None, **visit_changes: Any
) -> Scenario:
    """An ED visit for heart failure, with conditions ``codes`` listed."""
    s = scenario(ed_visit(HEART_FAILURE, **visit_changes), now=now or at(ED_DAY, 16))
    for number, code in enumerate(codes, start=1):
        s.add("conditions", make_condition(id=f"condition-{number}", code=code))
    return s


class TestEdChronicFollowUp:
    """Tests for ed chronic follow up."""

    def test_two_condition_groups_due_in_7_days(self) -> None:
        """Heart failure and CKD: a follow-up is due 9 February."""
        assert chronic_scenario(HEART_FAILURE, CKD).gap(FMC).due == dt.date(2026, 2, 9)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 9 February, open from 10 February."""
        both_sides(chronic_scenario(HEART_FAILURE, CKD), FMC, dt.date(2026, 2, 9))

    def test_one_group_is_not_enough(self) -> None:
        """Two codes of the same group (heart failure) count once: no gap."""
        hypertensive_hf = Code(System.ICD10CM, "I11.0")
        chronic_scenario(HEART_FAILURE, hypertensive_hf).assert_no_gap(FMC)

    def test_the_ed_diagnosis_does_not_count_towards_the_groups(self) -> None:
        """The ED visit's own diagnosis (heart failure) plus CKD on the list make only one.

        Changed (issue 9): the visit's diagnosis counted, so a condition first found in the
        ED opened the gap. HEDIS FMC counts members "with two or more different chronic
        conditions prior to the ED visit", identified in the measurement year or the year
        before.
        """
        chronic_scenario(CKD).assert_no_gap(FMC)
        chronic_scenario(HEART_FAILURE, CKD).assert_prospective(FMC)

    def test_a_condition_with_onset_on_the_ed_day_does_not_count(self) -> None:
        """Both sides of the ED day: onset the day before counts, onset that day does not."""
        for onset, counted in ((ED_DAY - dt.timedelta(days=1), True), (ED_DAY, False)):
            s = chronic_scenario(HEART_FAILURE)
            s.add(
                "conditions",
                make_condition(id="ckd", code=CKD, onset=PartialDate.from_date(onset)),
            )
            assert bool(s.find_gaps(FMC)) is counted, onset

    def test_an_undated_condition_counts_from_when_it_was_recorded(self) -> None:
        """Without onset: recorded the day before the ED visit counts, on the ED day not."""
        for recorded, counted in (
            (at(ED_DAY - dt.timedelta(days=1)), True),
            (at(ED_DAY, 12), False),
        ):
            s = chronic_scenario(HEART_FAILURE)
            s.add(
                "conditions", make_condition(id="ckd", code=CKD, onset=None, recorded_at=recorded)
            )
            assert bool(s.find_gaps(FMC)) is counted, recorded

    def test_a_condition_resolved_long_ago_does_not_count(self) -> None:
        """A condition that ended before the prior year is not counted."""
        s = scenario(ed_visit(HEART_FAILURE), now=at(ED_DAY, 16))
        old = make_condition(
            code=CKD, clinical_status=ClinicalStatus.RESOLVED, abatement=PartialDate(2020)
        )
        s.add("conditions", old)
        s.assert_no_gap(FMC)

    def test_under_18_is_not_in_the_measure(self) -> None:
        """FMC covers adults only."""
        record = make_record(patient=make_patient(birth_date=PartialDate(2009, 6, 1)))
        s = Scenario(record, start=at(ED_DAY, 16))
        s.add("transitions", ed_visit(HEART_FAILURE))
        s.add("conditions", make_condition(code=CKD))
        s.assert_no_gap(FMC)

    def test_a_visit_on_the_ed_day_closes_it(self) -> None:
        """The ED day counts for FMC."""
        s = chronic_scenario(HEART_FAILURE, CKD, now=at(dt.date(2026, 2, 3)))
        s.add("encounters", visit(ED_DAY, hour=18, klass=EncounterClass.TELEPHONE))
        s.assert_closed(FMC)

    def test_admission_within_7_days_is_not_applicable(self) -> None:
        """An inpatient admission within 7 days excludes the ED visit."""
        s = chronic_scenario(HEART_FAILURE, CKD, now=at(dt.date(2026, 2, 12)))
        s.add(
            "transitions",
            make_transition(id="stay-2", admitted_at=at(dt.date(2026, 2, 9)), discharged_at=None),
        )
        s.assert_not_applicable(FMC)

    def test_hospice_must_fall_in_the_measurement_year(self) -> None:
        """Hospice enrolment in 2025 (ended) leaves 2026 measured; one into 2026 excludes."""
        for end, excluded in ((dt.date(2025, 12, 31), False), (dt.date(2026, 1, 1), True)):
            s = chronic_scenario(HEART_FAILURE, CKD)
            period = Period(at(dt.date(2025, 6, 1)), at(end, 12))
            s.add("enrollments", make_enrollment(program="hospice", period=period))
            assert s.gap(FMC).status.value == ("not-applicable" if excluded else "prospective")

    def test_an_ed_disposition_of_admission_is_not_applicable(self) -> None:
        """FMC excludes "ED visits that result in an inpatient stay", by disposition too."""
        s = chronic_scenario(HEART_FAILURE, CKD, to_setting=CareSetting.INPATIENT)
        assert s.assert_not_applicable(FMC).reason == (
            "admitted as an inpatient from the emergency visit"
        )
        chronic_scenario(HEART_FAILURE, CKD, to_setting=CareSetting.HOME).assert_prospective(FMC)

    def test_admission_after_8_days_does_not_exclude(self) -> None:
        """An admission after the 8-day period leaves the gap open."""
        s = chronic_scenario(HEART_FAILURE, CKD, now=at(dt.date(2026, 2, 12)))
        s.add(
            "transitions",
            make_transition(id="stay-2", admitted_at=at(dt.date(2026, 2, 10)), discharged_at=None),
        )
        s.assert_open(FMC)
