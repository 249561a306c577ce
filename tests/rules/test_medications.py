"""Tests for the medication rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import (
    Code,
    CommunicationKind,
    Discipline,
    ListKind,
    Medication,
    MedicationKind,
    MedicationStatus,
    Period,
    Quantity,
    Ref,
    Sensitivity,
    System,
)
from carecoord.profile._merge import merge_records
from carecoord.rules import (
    ATC_SYSTEM,
    PSYCHOTROPIC_RXNORM,
    medication_change_not_shared,
)
from carecoord.testing import (
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    COORDINATOR,
    HOSPITAL,
    PCP,
    Scenario,
    make_care_team,
    make_communication,
    make_medication,
    make_patient,
    make_practitioner,
    make_reconciliation,
    make_record,
    make_source,
)

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


DISCREPANCY = "medication.discrepancy"
CLINIC_LISTED = at(dt.date(2025, 8, 1))
HOSPITAL_LISTED = at(dt.date(2026, 2, 4))


def two_sources(
    clinic: Medication | None = None,
    hospital: Medication | None = None,
    deceased_at: dt.datetime | None = None,
) -> Scenario:
    """The clinic lists lisinopril 10 mg; the hospital lists it at 20 mg twice a day."""
    clinic = clinic or make_medication(period=Period(CLINIC_LISTED), recorded_at=CLINIC_LISTED)
    hospital = hospital or make_medication(
        id="med-h",
        dose=Quantity(20, "mg"),
        frequency="BID",
        period=Period(CLINIC_LISTED),
        recorded_at=HOSPITAL_LISTED,
    )
    records = [
        make_record(medications=(clinic,), patient=make_patient(deceased_at=deceased_at)),
        make_record(source=make_source(id="hospital-ehr"), medications=(hospital,)),
    ]
    return Scenario(merge_records(records), start=at(dt.date(2026, 2, 10)))


class TestDiscrepancy:
    """Tests for medication.discrepancy."""

    def test_open_from_the_latest_change(self) -> None:
        """Dose and frequency disagree: open from the hospital's version, due that day."""
        gap = two_sources().assert_open(DISCREPANCY)
        assert gap.opened == HOSPITAL_LISTED
        assert gap.due == HOSPITAL_LISTED.date()
        assert gap.summary == "Sources disagree about a medication (dose, frequency)."

    def test_both_sides_of_the_edge(self) -> None:
        """No gap before the second source knew; prospective through that day; open after."""
        s = two_sources()
        s.set_now(HOSPITAL_LISTED - dt.timedelta(microseconds=1)).assert_no_gap(DISCREPANCY)
        s.set_now(HOSPITAL_LISTED).assert_prospective(DISCREPANCY)
        s.set_now(end_of(HOSPITAL_LISTED.date())).assert_prospective(DISCREPANCY)
        s.set_now(start_after(HOSPITAL_LISTED.date())).assert_open(DISCREPANCY)

    def test_no_gap_when_sources_agree(self) -> None:
        """The same medicine, dose and frequency in both sources: no gap."""
        same = make_medication(id="med-h", period=Period(CLINIC_LISTED))
        two_sources(hospital=same).assert_no_gap(DISCREPANCY)

    def test_no_gap_for_a_single_source(self) -> None:
        """One source cannot disagree with itself."""
        s = Scenario(start=at(dt.date(2026, 2, 10)))
        s.add("medications", make_medication())
        s.assert_no_gap(DISCREPANCY)

    def test_no_gap_once_reconciled_after_the_change(self) -> None:
        """A medication reconciliation after the latest change resolves it: no gap."""
        s = two_sources()
        s.add("reconciliations", make_reconciliation(at=at(dt.date(2026, 2, 6))))
        s.assert_no_gap(DISCREPANCY)

    def test_a_reconciliation_before_the_change_does_not_count(self) -> None:
        """A reconciliation older than the latest change is out of date."""
        s = two_sources()
        s.add("reconciliations", make_reconciliation(at=at(dt.date(2026, 1, 6))))
        s.assert_open(DISCREPANCY)

    def test_other_lists_do_not_count(self) -> None:
        """Reconciling the allergy list does not close a medication discrepancy."""
        s = two_sources()
        s.add(
            "reconciliations",
            make_reconciliation(list=ListKind.ALLERGIES, at=at(dt.date(2026, 2, 6))),
        )
        s.assert_open(DISCREPANCY)

    def test_reconciliation_after_as_of_does_not_resolve_earlier(self) -> None:
        """Time travel: before the reconciliation, the gap is open."""
        s = two_sources()
        s.add("reconciliations", make_reconciliation(at=at(dt.date(2026, 2, 6))))
        s.set_now(at(dt.date(2026, 2, 5))).assert_open(DISCREPANCY)

    def test_omission_is_a_discrepancy(self) -> None:
        """A current medicine one reporting source does not list is an omission."""
        other = make_medication(
            id="med-h",
            code=Code(System.RXNORM, "197361", "amlodipine 5 MG Oral Tablet"),
            ingredients=(Code(System.RXNORM, "17767", "amlodipine"),),
            period=Period(CLINIC_LISTED),
            recorded_at=HOSPITAL_LISTED,
        )
        gaps = two_sources(hospital=other).find_gaps(DISCREPANCY)
        assert {g.summary for g in gaps} == {"Sources disagree about a medication (presence)."}
        assert len(gaps) == 2

    def test_an_omission_dates_from_the_omitting_list(self) -> None:
        """The clinic's old entry is missing from a list the hospital recorded later."""
        other = make_medication(
            id="med-h",
            code=Code(System.RXNORM, "197361", "amlodipine 5 MG Oral Tablet"),
            ingredients=(Code(System.RXNORM, "17767", "amlodipine"),),
            period=Period(CLINIC_LISTED),
            recorded_at=HOSPITAL_LISTED,
        )
        gap = two_sources(hospital=other).gap(DISCREPANCY, "clinic-ehr/medication-1")
        assert gap.opened == HOSPITAL_LISTED
        assert gap.due == HOSPITAL_LISTED.date()

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient's list is not reconciled."""
        # Scenario.update_patient cannot rename a merged profile's patient: build it dead.
        two_sources(deceased_at=at(dt.date(2026, 2, 8))).assert_not_applicable(DISCREPANCY)


CHANGE = "medication.change-not-shared"
START_DAY = dt.date(2026, 2, 4)
STARTED = at(START_DAY)
SERTRALINE = Code(System.RXNORM, "36437", "sertraline")


def started(**changes: Any) -> Medication:
    """A prescription the cardiologist wrote on 4 February."""
    fields = {
        "kind": MedicationKind.ORDER,
        "authored_on": STARTED,
        "period": Period(STARTED),
        "prescriber": CARDIOLOGIST,
    }
    return make_medication(**{**fields, **changes})


def change_scenario(
    *meds: Medication, now: dt.datetime | None = None, team: bool = True
) -> Scenario:
    """The care team (PCP, coordinator, therapist) and the medications."""
    s = Scenario(start=now or at(START_DAY, 12))
    if team:
        s.add("care_teams", make_care_team())
    s.add("medications", *(meds or (started(),)))
    return s


def told(recipient: Ref = PCP, day: dt.date = dt.date(2026, 2, 6), **changes: Any) -> Any:
    """A medication-change message to ``recipient`` about ``medication-1``."""
    fields = {
        "id": f"message-{recipient.id}",
        "kind": CommunicationKind.MEDICATION_CHANGE,
        "sent": at(day),
        "sender": CARDIOLOGIST,
        "recipients": (recipient,),
        "about": (Ref("Medication", "medication-1"),),
    }
    return make_communication(**{**fields, **changes})


class TestChangeNotShared:
    """Tests for medication.change-not-shared."""

    def test_due_7_days_after_the_start(self) -> None:
        """Prescribed 4 February by the cardiologist: the PCP must hear by 11 February."""
        gap = change_scenario().gap(CHANGE)
        assert gap.due == dt.date(2026, 2, 11)
        assert gap.focus == "clinic-ehr/medication-1"
        assert gap.summary.startswith("Medication prescribed 2026-02-04")

    def test_a_medication_list_entry_is_not_a_change(self) -> None:
        """A statement that the patient takes a medicine (a list entry) changes nothing."""
        listed = started(kind=MedicationKind.STATEMENT)
        change_scenario(listed).assert_no_gap(CHANGE)

    def test_a_stopped_statement_is_a_change(self) -> None:
        """A stop instruction (stopped statement) is dated by when it was asserted."""
        stop = started(kind=MedicationKind.STATEMENT, status=MedicationStatus.STOPPED)
        gap = change_scenario(stop, now=at(dt.date(2026, 2, 6))).gap(CHANGE)
        assert gap.due == dt.date(2026, 2, 11)
        assert gap.summary.startswith("Medication stopped 2026-02-04")

    def test_the_focus_is_the_version_that_records_the_change(self) -> None:
        """The clinic lists the medicine, the hospital prescribed it: the gap names the order."""
        records = [
            make_record(
                medications=(make_medication(recorded_at=CLINIC_LISTED),),
                care_teams=(make_care_team(),),
            ),
            make_record(
                source=make_source(id="hospital-ehr"),
                medications=(started(id="rx-1", dose=Quantity(20, "mg"), recorded_at=STARTED),),
            ),
        ]
        s = Scenario(merge_records(records), start=at(START_DAY, 12))
        assert [g.focus for g in s.find_gaps(CHANGE)] == ["hospital-ehr/rx-1"]

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 11 February, open from 12 February."""
        s = change_scenario()
        s.set_now(end_of(dt.date(2026, 2, 11))).assert_prospective(CHANGE)
        s.set_now(start_after(dt.date(2026, 2, 11))).assert_open(CHANGE)

    def test_closed_by_a_message_to_the_pcp(self) -> None:
        """A medication-change message to the PCP closes it, with the message as evidence."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told())
        gap = s.assert_closed(CHANGE)
        assert gap.closed_at == at(dt.date(2026, 2, 6))
        assert gap.closed_by[0].ref.type == "Communication"

    def test_an_unlinked_message_counts(self) -> None:
        """A medication-change message about nothing in particular, sent after, counts."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(about=(), sender=COORDINATOR))
        s.assert_closed(CHANGE)

    def test_any_message_about_the_medicine_counts(self) -> None:
        """A discharge summary from someone else, about the prescription, counts."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(kind=CommunicationKind.DISCHARGE_SUMMARY, sender=HOSPITAL))
        s.assert_closed(CHANGE)

    def test_a_discharge_summary_from_the_prescriber_counts(self) -> None:
        """The prescriber's own discharge summary carries the change, whatever it is about."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        summary = told(
            kind=CommunicationKind.DISCHARGE_SUMMARY, about=(Ref("CareTransition", "stay-1"),)
        )
        s.add("communications", summary)
        s.assert_closed(CHANGE)

    def test_the_prescribers_organisation_speaks_for_them(self) -> None:
        """A discharge summary from the prescriber's organisation counts too."""
        cardiologist = make_practitioner(
            id=CARDIOLOGIST.id, discipline=Discipline.SPECIALIST, organization=HOSPITAL.id
        )
        s = Scenario(
            make_record(practitioners=(make_practitioner(), cardiologist)),
            start=at(dt.date(2026, 2, 20)),
        )
        s.add("care_teams", make_care_team())
        s.add("medications", started())
        summary = told(
            kind=CommunicationKind.DISCHARGE_SUMMARY,
            sender=HOSPITAL,
            about=(Ref("CareTransition", "stay-1"),),
        )
        s.add("communications", summary)
        s.assert_closed(CHANGE)

    def test_an_admission_notice_from_the_prescriber_does_not_count(self) -> None:
        """An admission notice carries no medicines, even from the prescriber."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        notice = told(
            kind=CommunicationKind.ADMISSION_NOTICE, about=(Ref("CareTransition", "stay-1"),)
        )
        s.add("communications", notice)
        s.assert_open(CHANGE)

    def test_a_patient_contact_does_not_count(self) -> None:
        """A patient contact about the medicine is not telling the team."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(kind=CommunicationKind.PATIENT_CONTACT))
        s.assert_open(CHANGE)

    def test_a_message_to_someone_else_does_not_count(self) -> None:
        """Telling the coordinator is not telling the PCP."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(COORDINATOR))
        s.assert_open(CHANGE)

    def test_a_message_before_the_change_does_not_count(self) -> None:
        """A message sent the day before the change is about something else."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(day=dt.date(2026, 2, 3), about=()))
        s.assert_open(CHANGE)

    def test_message_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the message was sent, the gap is open."""
        s = change_scenario()
        s.add("communications", told(day=dt.date(2026, 2, 13)))
        s.set_now(at(dt.date(2026, 2, 12))).assert_open(CHANGE)
        assert s.set_now(at(dt.date(2026, 2, 14))).assert_closed(CHANGE).late

    def test_the_pcps_own_prescription_needs_no_message(self) -> None:
        """The PCP prescribing a non-psychotropic tells nobody new."""
        change_scenario(started(prescriber=PCP)).assert_no_gap(CHANGE)

    def test_psychotropics_must_reach_behavioral_health_too(self) -> None:
        """A psychotropic (RxNorm ingredient) started by the PCP: the therapist must hear."""
        med = started(prescriber=PCP, code=SERTRALINE, ingredients=(SERTRALINE,))
        s = change_scenario(med, now=at(dt.date(2026, 2, 20)))
        gap = s.assert_open(CHANGE)
        assert "behavioural-health clinician" in gap.summary
        assert gap.sensitivity == frozenset({Sensitivity.MENTAL_HEALTH})
        s.add("communications", told(BEHAVIORAL_HEALTH))
        s.assert_closed(CHANGE)

    def test_psychotropics_need_both_messages(self) -> None:
        """From another prescriber, both the PCP and the therapist must hear."""
        med = started(code=SERTRALINE, ingredients=(SERTRALINE,))
        s = change_scenario(med, now=at(dt.date(2026, 2, 20)))
        s.add("communications", told(PCP))
        s.assert_open(CHANGE)
        s.add("communications", told(BEHAVIORAL_HEALTH, day=dt.date(2026, 2, 9)))
        gap = s.assert_closed(CHANGE)
        assert gap.closed_at == at(dt.date(2026, 2, 9))
        assert len(gap.closed_by) == 2

    def test_atc_codes_mark_psychotropics(self) -> None:
        """An ATC N06 code is psychotropic."""
        atc = Code(ATC_SYSTEM, "N06AB06", "sertraline")
        med = started(prescriber=PCP, code=atc, ingredients=())
        change_scenario(med).assert_prospective(CHANGE)

    def test_the_rxnorm_list_is_ingredients(self) -> None:
        """The documented list holds RxNorm ingredient codes, sertraline among them."""
        assert SERTRALINE in PSYCHOTROPIC_RXNORM
        assert all(c.system == System.RXNORM for c in PSYCHOTROPIC_RXNORM)

    def test_a_stopped_prescription_is_about_the_stop(self) -> None:
        """A prescription since stopped: its latest change is the stop, due 7 days after."""
        stopped = started(
            status=MedicationStatus.STOPPED,
            period=Period(STARTED, at(dt.date(2026, 2, 16))),
        )
        s = change_scenario(stopped, now=at(dt.date(2026, 2, 17)))
        gap = s.gap(CHANGE, "clinic-ehr/medication-1")
        assert gap.due == dt.date(2026, 2, 23)
        assert gap.summary.startswith("Medication stopped 2026-02-16")

    def test_a_stop_after_as_of_is_not_known(self) -> None:
        """Time travel: before the stop, the gap is about the prescription."""
        stopped = started(
            status=MedicationStatus.STOPPED,
            period=Period(STARTED, at(dt.date(2026, 2, 16))),
        )
        s = change_scenario(stopped, now=at(dt.date(2026, 2, 15)))
        assert s.gap(CHANGE, "clinic-ehr/medication-1").due == dt.date(2026, 2, 11)

    def test_no_gap_when_there_is_nobody_to_tell(self) -> None:
        """Without a PCP on a team or as general practitioner, there is no gap."""
        change_scenario(team=False).assert_no_gap(CHANGE)

    def test_general_practitioner_is_the_pcp_without_a_team(self) -> None:
        """Without a team, the patient's general practitioner must be told."""
        s = change_scenario(team=False)
        s.update_patient(general_practitioner=(PCP,))
        s.assert_prospective(CHANGE)

    def test_no_prescriber_no_gap(self) -> None:
        """A medication with no known prescriber was not changed by a team member."""
        change_scenario(started(prescriber=None)).assert_no_gap(CHANGE)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = change_scenario(now=at(dt.date(2026, 2, 20)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 8)))
        s.assert_not_applicable(CHANGE)

    def test_window_is_configurable(self) -> None:
        """within_days changes the window."""
        s = Scenario(start=at(START_DAY, 12), rules=[medication_change_not_shared(within_days=3)])
        s.add("care_teams", make_care_team())
        s.add("medications", started())
        assert s.gap(CHANGE).due == dt.date(2026, 2, 7)
