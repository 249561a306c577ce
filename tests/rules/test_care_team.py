"""Tests for the care-team rules: state gaps, due at once, that go away when fixed."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from carecoord.domain import (
    CareTeam,
    CareTeamMember,
    CareTeamStatus,
    ClinicalStatus,
    Code,
    Discipline,
    PartialDate,
    Period,
    Ref,
    Sensitivity,
    System,
    TaskStatus,
    VerificationStatus,
)
from carecoord.profile import profile_from_record
from carecoord.rules import care_team_no_lead, detect_gaps
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    CARDIOLOGIST,
    COORDINATOR,
    PCP,
    Scenario,
    days_before,
    make_care_team,
    make_condition,
    make_record,
    make_referral,
    make_task,
)

NY = ZoneInfo("America/New_York")
TEAM_START = dt.datetime(2025, 6, 2, 9, 0, tzinfo=NY)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NY)
SINCE = Period(TEAM_START)
DEPRESSION = Code(System.ICD10CM, "F32.9", "Major depressive disorder, single episode")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def member(party: Ref, discipline: Discipline, **changes: Any) -> CareTeamMember:
    """A member since the team started (unless ``period`` is given)."""
    return CareTeamMember(party, discipline, **{"period": SINCE, **changes})


def team(*members: CareTeamMember, **changes: Any) -> CareTeam:
    """A team started on 2 June 2025 with the given members."""
    return make_care_team(**{"members": members, "period": SINCE, **changes})


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def scenario(*teams: CareTeam, now: dt.datetime = NOW) -> Scenario:
    """A scenario with the given teams."""
    s = Scenario(start=now)
    if teams:
        s.add("care_teams", *teams)
    return s


LEAD = member(COORDINATOR, Discipline.CARE_COORDINATION, lead=True)
PRIMARY = member(PCP, Discipline.PRIMARY_CARE)
THERAPIST = member(BEHAVIORAL_HEALTH, Discipline.BEHAVIORAL_HEALTH)

NO_PCP = "care-team.no-primary-care"


class TestNoPrimaryCare:
    """Tests for care-team.no-primary-care."""

    def test_open_from_the_start_of_the_team(self) -> None:
        """A team without primary care opens a gap from the team's start, due that day."""
        gap = scenario(team(LEAD, THERAPIST)).assert_open(NO_PCP)
        assert gap.opened == TEAM_START
        assert gap.due == TEAM_START.date()

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective to the end of the team's first day, open from the next midnight."""
        s = scenario(team(LEAD, THERAPIST))
        s.set_now(TEAM_START).assert_prospective(NO_PCP)
        s.set_now(end_of(TEAM_START.date())).assert_prospective(NO_PCP)
        s.set_now(start_after(TEAM_START.date())).assert_open(NO_PCP)

    def test_no_gap_with_a_primary_care_member(self) -> None:
        """A team with a primary-care member from the start has no gap."""
        scenario(team(LEAD, PRIMARY)).assert_no_gap(NO_PCP)

    def test_no_gap_without_any_team(self) -> None:
        """With no care team on record there is nothing to judge."""
        scenario().assert_no_gap(NO_PCP)

    def test_no_gap_once_primary_care_joins(self) -> None:
        """A resolved state leaves no gap, not a closed one: a PCP joined later."""
        joined = at(dt.date(2025, 9, 1))
        s = scenario(team(LEAD, member(PCP, Discipline.PRIMARY_CARE, period=Period(joined))))
        s.assert_no_gap(NO_PCP)

    def test_teams_are_taken_together(self) -> None:
        """A PCP on another of the patient's teams meets the need."""
        joined = at(dt.date(2025, 9, 1))
        primary = team(
            member(PCP, Discipline.PRIMARY_CARE, period=Period(joined)), id="team-2", name="PC"
        )
        s = scenario(team(LEAD, THERAPIST), primary)
        s.assert_no_gap(NO_PCP)
        gap = s.set_now(joined - dt.timedelta(hours=1)).assert_open(NO_PCP)
        assert gap.focus == "clinic-ehr/team-1"

    def test_joining_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the PCP joined, the gap is open."""
        joined = at(dt.date(2025, 9, 1))
        s = scenario(team(LEAD, member(PCP, Discipline.PRIMARY_CARE, period=Period(joined))))
        s.set_now(joined - dt.timedelta(hours=1)).assert_open(NO_PCP)

    def test_reopens_when_primary_care_leaves(self) -> None:
        """When the PCP's membership ends, a new gap opens from that moment."""
        left = at(dt.date(2026, 1, 15))
        s = scenario(
            team(LEAD, member(PCP, Discipline.PRIMARY_CARE, period=Period(TEAM_START, left)))
        )
        assert s.assert_open(NO_PCP).opened == left

    def test_member_discipline_from_the_practitioner(self) -> None:
        """A member recorded as 'other' counts by the practitioner's own discipline."""
        scenario(team(LEAD, member(PCP, Discipline.OTHER))).assert_no_gap(NO_PCP)

    def test_inactive_teams_need_nothing(self) -> None:
        """A team that is no longer active has no gap."""
        scenario(team(LEAD, status=CareTeamStatus.INACTIVE)).assert_no_gap(NO_PCP)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient's team is not followed."""
        s = scenario(team(LEAD, THERAPIST))
        s.update_patient(deceased_at=at(dt.date(2026, 1, 5)))
        s.assert_not_applicable(NO_PCP)


NO_LEAD = "care-team.no-lead"


class TestNoLead:
    """Tests for care-team.no-lead."""

    def test_open_for_two_members_without_a_lead(self) -> None:
        """Two active members and no lead: open from the team's start."""
        assert scenario(team(PRIMARY, THERAPIST)).assert_open(NO_LEAD).focus == "clinic-ehr/team-1"

    def test_opens_when_the_second_member_joins(self) -> None:
        """With one member there is no gap; it opens when the second arrives."""
        joined = at(dt.date(2025, 8, 1))
        s = scenario(
            team(
                PRIMARY,
                member(BEHAVIORAL_HEALTH, Discipline.BEHAVIORAL_HEALTH, period=Period(joined)),
            )
        )
        s.set_now(joined - dt.timedelta(microseconds=1)).assert_no_gap(NO_LEAD)
        assert s.set_now(joined).assert_prospective(NO_LEAD).due == joined.date()
        s.set_now(start_after(joined.date())).assert_open(NO_LEAD)

    def test_no_gap_with_a_lead(self) -> None:
        """A team with a lead has no gap."""
        scenario(team(LEAD, PRIMARY)).assert_no_gap(NO_LEAD)

    def test_no_gap_once_a_lead_joins(self) -> None:
        """A lead joining later resolves the state: no gap, not a closed-late one."""
        joined = at(dt.date(2025, 10, 1))
        lead = member(COORDINATOR, Discipline.CARE_COORDINATION, lead=True, period=Period(joined))
        s = scenario(team(PRIMARY, THERAPIST, lead))
        s.assert_no_gap(NO_LEAD)
        s.set_now(joined - dt.timedelta(hours=1)).assert_open(NO_LEAD)

    def test_minimum_members_is_configurable(self) -> None:
        """minimum_members=3 tolerates a two-person team without a lead."""
        s = Scenario(start=NOW, rules=[care_team_no_lead(minimum_members=3)])
        s.add("care_teams", team(PRIMARY, THERAPIST))
        s.assert_no_gap(NO_LEAD)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient's team is not followed."""
        s = scenario(team(PRIMARY, THERAPIST))
        s.update_patient(deceased=True)
        s.assert_not_applicable(NO_LEAD)


BH = "care-team.behavioral-health-missing"
ONSET = dt.date(2025, 9, 10)


def depression(**changes: Any) -> Any:
    """Active depression since 10 September 2025."""
    return make_condition(**{"code": DEPRESSION, "onset": PartialDate(2025, 9, 10), **changes})


def bh_scenario(*teams: CareTeam, condition: Any = None, now: dt.datetime = NOW) -> Scenario:
    """A scenario with a depression condition and the given teams."""
    s = scenario(*teams, now=now)
    s.add("conditions", condition or depression())
    return s


class TestBehavioralHealthMissing:
    """Tests for care-team.behavioral-health-missing."""

    def test_open_from_the_onset(self) -> None:
        """Depression without a behavioural-health member: open from the onset day."""
        gap = bh_scenario(team(LEAD, PRIMARY)).assert_open(BH)
        assert gap.opened == dt.datetime.combine(ONSET, dt.time.min, tzinfo=NY)

    def test_both_sides_of_the_onset(self) -> None:
        """No gap before the onset; prospective at its first instant; open after."""
        s = bh_scenario(team(LEAD, PRIMARY))
        onset = dt.datetime.combine(ONSET, dt.time.min, tzinfo=NY)
        s.set_now(onset - dt.timedelta(microseconds=1)).assert_no_gap(BH)
        assert s.set_now(onset).assert_prospective(BH).due == ONSET
        s.set_now(end_of(ONSET)).assert_prospective(BH)
        s.set_now(start_after(ONSET)).assert_open(BH)

    def test_focus_is_the_care_team(self) -> None:
        """The gap is about the team missing the member, not about the condition."""
        gap = bh_scenario(team(LEAD, PRIMARY)).gap(BH)
        assert gap.focus == "clinic-ehr/team-1"
        assert [e.ref.type for e in gap.triggers] == ["Condition"]

    def test_focus_does_not_follow_the_condition(self) -> None:
        """Another condition recorded later does not change the gap's key."""
        s = bh_scenario(team(LEAD, PRIMARY))
        key = s.gap(BH).key
        s.add("conditions", depression(id="condition-2", onset=PartialDate(2025, 12, 1)))
        assert s.gap(BH).key == key

    def test_focus_without_a_team_is_the_patient(self) -> None:
        """With no care team on record, the gap is about the patient's profile."""
        s = bh_scenario()
        assert s.gap(BH).focus == s.profile.id

    def test_no_gap_with_a_behavioral_health_member(self) -> None:
        """A therapist on the team meets the need."""
        bh_scenario(team(LEAD, PRIMARY, THERAPIST)).assert_no_gap(BH)

    def test_patients_without_a_team_count_as_having_none(self) -> None:
        """No care team at all: the need is unmet."""
        bh_scenario().assert_open(BH)

    def test_no_gap_once_a_therapist_joins(self) -> None:
        """A therapist joining after the onset resolves the state: no gap from then on."""
        joined = at(dt.date(2025, 11, 3))
        therapist = member(BEHAVIORAL_HEALTH, Discipline.BEHAVIORAL_HEALTH, period=Period(joined))
        s = bh_scenario(team(LEAD, PRIMARY, therapist))
        s.assert_no_gap(BH)
        s.set_now(joined - dt.timedelta(hours=1)).assert_open(BH)

    def test_sensitivity_label_marks_a_condition(self) -> None:
        """A SNOMED-coded condition labelled mental health counts too."""
        snomed = depression(
            code=Code(System.SNOMED, "35489007", "Depressive disorder"),
            sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}),
        )
        bh_scenario(team(LEAD, PRIMARY), condition=snomed).assert_open(BH)

    def test_other_conditions_do_not_count(self) -> None:
        """Hypertension is not a behavioural-health condition."""
        s = scenario(team(LEAD, PRIMARY))
        s.add("conditions", make_condition())
        s.assert_no_gap(BH)

    def test_resolved_or_refuted_conditions_do_not_count(self) -> None:
        """A resolved or refuted condition needs no therapist."""
        bh_scenario(
            team(LEAD), condition=depression(clinical_status=ClinicalStatus.RESOLVED)
        ).assert_no_gap(BH)
        bh_scenario(
            team(LEAD), condition=depression(verification_status=VerificationStatus.REFUTED)
        ).assert_no_gap(BH)

    def test_gap_is_labelled_and_discreet(self) -> None:
        """The gap carries the mental-health label and does not name the diagnosis."""
        gap = bh_scenario(team(LEAD, PRIMARY)).gap(BH)
        assert gap.sensitivity == frozenset({Sensitivity.MENTAL_HEALTH})
        assert "depress" not in gap.summary.lower()

    def test_condition_recorded_after_as_of_is_not_known(self) -> None:
        """Time travel: a diagnosis recorded later is invisible before."""
        s = bh_scenario(
            team(LEAD, PRIMARY), condition=depression(recorded_at=at(dt.date(2026, 2, 1)))
        )
        s.set_now(at(dt.date(2026, 1, 31))).assert_no_gap(BH)
        s.set_now(at(dt.date(2026, 2, 2))).assert_open(BH)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient is not followed."""
        s = bh_scenario(team(LEAD, PRIMARY))
        s.update_patient(deceased_at=at(dt.date(2026, 1, 5)))
        s.assert_not_applicable(BH)


OWNER = "care-team.inactive-owner"
AUTHORED = at(dt.date(2026, 2, 4))


def owner_scenario(*teams: CareTeam, task_owner: Ref = CARDIOLOGIST, **task: Any) -> Scenario:
    """A task owned by ``task_owner`` authored on 4 February, and the teams."""
    s = scenario(*(teams or (team(LEAD, PRIMARY),)))
    s.add("tasks", make_task(**{"authored_on": AUTHORED, "owner": task_owner, "due": None, **task}))
    return s


class TestInactiveOwner:
    """Tests for care-team.inactive-owner."""

    def test_open_for_a_task_owned_by_an_outsider(self) -> None:
        """A task owned by someone not on the team: open from when it was written."""
        gap = owner_scenario().assert_open(OWNER)
        assert gap.focus == "clinic-ehr/task-1"
        assert gap.opened == AUTHORED

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the task's first instant, open a microsecond later."""
        s = owner_scenario()
        assert s.set_now(AUTHORED).assert_prospective(OWNER).due == AUTHORED.date()
        s.set_now(end_of(AUTHORED.date())).assert_prospective(OWNER)
        s.set_now(start_after(AUTHORED.date())).assert_open(OWNER)

    def test_no_gap_for_an_active_owner(self) -> None:
        """A task owned by an active member has no gap."""
        owner_scenario(task_owner=COORDINATOR).assert_no_gap(OWNER)

    def test_opens_when_the_owner_leaves(self) -> None:
        """When the owner's membership ends, the gap opens at that moment."""
        left = at(dt.date(2026, 2, 20))
        coordinator = member(
            COORDINATOR, Discipline.CARE_COORDINATION, lead=True, period=Period(TEAM_START, left)
        )
        s = owner_scenario(team(coordinator, PRIMARY), task_owner=COORDINATOR)
        assert s.assert_open(OWNER).opened == left
        s.set_now(left - dt.timedelta(hours=1)).assert_no_gap(OWNER)

    def test_no_gap_once_the_owner_joins_the_team(self) -> None:
        """An owner who joins the team later resolves the state: no gap from then on."""
        joined = at(dt.date(2026, 2, 10))
        cardiologist = member(CARDIOLOGIST, Discipline.SPECIALIST, period=Period(joined))
        s = owner_scenario(team(LEAD, PRIMARY, cardiologist))
        s.assert_no_gap(OWNER)
        s.set_now(joined - dt.timedelta(hours=1)).assert_open(OWNER)

    def test_finished_and_draft_tasks_are_ignored(self) -> None:
        """Completed or draft tasks need no owner."""
        owner_scenario(status=TaskStatus.COMPLETED).assert_no_gap(OWNER)
        owner_scenario(status=TaskStatus.DRAFT).assert_no_gap(OWNER)

    def test_open_referrals_by_an_outsider(self) -> None:
        """An open referral requested by someone not on the team has a gap."""
        s = scenario(team(LEAD, PRIMARY))
        s.add(
            "referrals",
            make_referral(
                requester=CARDIOLOGIST, authored_on=AUTHORED, sent_at=AUTHORED, history=()
            ),
        )
        assert s.assert_open(OWNER).summary.startswith("Open referral")

    def test_no_gap_without_a_team(self) -> None:
        """With no care team on record, membership cannot be judged."""
        s = Scenario(start=NOW)
        s.add("tasks", make_task(authored_on=AUTHORED, owner=CARDIOLOGIST))
        s.assert_no_gap(OWNER)

    def test_patient_owners_are_not_judged(self) -> None:
        """A task the patient owns is not about team membership."""
        owner_scenario(task_owner=Ref("Patient", "patient-1")).assert_no_gap(OWNER)

    def test_patient_died_is_not_applicable(self) -> None:
        """A deceased patient's work is not followed."""
        s = owner_scenario()
        s.update_patient(deceased=True)
        s.assert_not_applicable(OWNER)


class TestUndatedStretches:
    """A state nothing dates starts when its facts became known, not at ``as_of``."""

    def test_undated_condition_is_dated_by_the_records_retrieval(self) -> None:
        """A depression with no onset: the behavioural-health gap opens at the retrieval."""
        retrieved = days_before(200)
        depression = make_condition(
            code=Code(System.ICD10CM, "F32.9", "Major depression"), onset=None
        )
        record = make_record(conditions=(depression,))
        record = attrs.evolve(record, source=attrs.evolve(record.source, retrieved_at=retrieved))
        found = detect_gaps(profile_from_record(record), as_of=AS_OF)
        [gap] = [g for g in found if g.rule == "care-team.behavioral-health-missing"]

        assert gap.opened == retrieved
        assert gap.standing

    def test_undated_and_unretrieved_falls_back_to_the_day(self) -> None:
        """With nothing at all to date it, the stretch starts on the evaluation day."""
        depression = make_condition(
            code=Code(System.ICD10CM, "F32.9", "Major depression"), onset=None
        )
        found = detect_gaps(profile_from_record(make_record(conditions=(depression,))), as_of=AS_OF)
        [gap] = [g for g in found if g.rule == "care-team.behavioral-health-missing"]

        assert gap.due == AS_OF.date()
