"""Tests for suggest_tasks: one idempotent task per actionable gap, owned by the right person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord.domain import (
    CareSetting,
    CareTeamMember,
    Code,
    Diagnosis,
    Discipline,
    Period,
    Priority,
    Ref,
    System,
    TaskStatus,
)
from carecoord.errors import ValidationError
from carecoord.profile._model import PatientProfile, profile_from_record
from carecoord.rules import (
    RULE_CODE_SYSTEM,
    Gap,
    GapStatus,
    Overrides,
    Snooze,
    detect_gaps,
    suggest_tasks,
    task_id_for,
)
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    COORDINATOR,
    PCP,
    days_before,
    make_care_team,
    make_record,
    make_referral,
    make_task,
    make_transition,
)

NY = ZoneInfo("America/New_York")
DEPRESSION = Code(System.ICD10CM, "F32.9")


def profile(**facts: object) -> PatientProfile:
    """A profile from the default record holding ``facts``."""
    defaults: dict[str, object] = {"care_teams": (make_care_team(),)}
    defaults.update(facts)
    return profile_from_record(make_record(**defaults))


def gaps_of(p: PatientProfile, **kwargs: object) -> tuple[Gap, ...]:
    """Every gap of the profile at AS_OF, closed ones included."""
    return tuple(detect_gaps(p, as_of=AS_OF, include_closed=True, **kwargs))  # type: ignore[arg-type]


def one_task(p: PatientProfile, rule: str) -> object:
    """The single task suggested for ``rule``'s gap."""
    gaps = [g for g in gaps_of(p) if g.rule == rule]
    (task,) = suggest_tasks(gaps, p, as_of=AS_OF)
    return task


class TestSuggestTasks:
    """Tests for suggest tasks."""

    def test_one_requested_task_per_actionable_gap(self) -> None:
        """Each prospective or open gap gets one requested task."""
        p = profile(referrals=(make_referral(),), transitions=(make_transition(),))
        gaps = gaps_of(p)
        tasks = suggest_tasks(gaps, p, as_of=AS_OF)
        assert len(tasks) == sum(g.status.is_actionable for g in gaps)
        assert {t.status for t in tasks} == {TaskStatus.REQUESTED}

    def test_task_fields_come_from_the_gap(self) -> None:
        """Focus, code, description and due come from the gap."""
        p = profile(referrals=(make_referral(),))
        gap = next(g for g in gaps_of(p) if g.rule == "referral.unacknowledged")
        (task,) = suggest_tasks([gap], p, as_of=AS_OF)
        assert task.focus == Ref("Gap", gap.key)
        assert task.code == Code(RULE_CODE_SYSTEM, "referral.unacknowledged")
        assert task.description == gap.action
        assert task.authored_on == AS_OF
        assert task.patient == p.patient.id

    def test_a_due_date_becomes_the_end_of_that_local_day(self) -> None:
        """A gap due on a date gives a task due at the end of that day, patient's time."""
        p = profile(referrals=(make_referral(),))
        gap = next(g for g in gaps_of(p) if g.rule == "referral.unacknowledged")
        (task,) = suggest_tasks([gap], p, as_of=AS_OF)
        assert task.due == dt.datetime.combine(gap.due, dt.time.max, tzinfo=NY)

    def test_a_due_instant_is_kept(self) -> None:
        """A gap due at an instant (72 hours) gives a task due at that instant."""
        referral = make_referral().submit_prior_authorization(at=days_before(1), expedited=True)
        p = profile(referrals=(referral,))
        gap = next(g for g in gaps_of(p) if g.rule == "referral.prior-auth-overdue")
        (task,) = suggest_tasks([gap], p, as_of=AS_OF)
        assert task.due == gap.due

    def test_closed_not_applicable_and_snoozed_gaps_get_no_task(self) -> None:
        """Only actionable gaps become tasks."""
        accepted = make_referral().accept(at=days_before(4))
        p = profile(
            referrals=(accepted,), transitions=(make_transition(to_setting=CareSetting.HOSPICE),)
        )
        closed_or_na = [g for g in gaps_of(p) if not g.status.is_actionable]
        assert closed_or_na
        assert suggest_tasks(closed_or_na, p, as_of=AS_OF) == ()
        snooze = Snooze("referral.unscheduled", p.id, dt.date(2026, 4, 1), "waiting")
        snoozed = [g for g in gaps_of(p, overrides=Overrides(snoozes=(snooze,))) if g.is_snoozed]
        assert snoozed
        assert suggest_tasks(snoozed, p, as_of=AS_OF) == ()

    def test_severity_sets_priority(self) -> None:
        """High severity gaps give urgent tasks; medium give routine ones."""
        p = profile(transitions=(make_transition(),))
        by_rule = {t.code.code: t for t in suggest_tasks(gaps_of(p), p, as_of=AS_OF) if t.code}
        assert by_rule["transition.tcm-contact"].priority is Priority.URGENT
        assert by_rule["transition.discharge-info-missing"].priority is Priority.ROUTINE


class TestOwner:
    """Tests for owner."""

    def test_member_of_the_rules_discipline(self) -> None:
        """A follow-up visit gap (primary care) goes to the PCP."""
        p = profile(transitions=(make_transition(),))
        assert one_task(p, "transition.follow-up-visit").owner == PCP  # type: ignore[attr-defined]

    def test_behavioural_health_rules_go_to_the_therapist(self) -> None:
        """A mental-health follow-up gap goes to the behavioural-health member."""
        stay = make_transition(diagnoses=(Diagnosis(DEPRESSION, principal=True),))
        p = profile(transitions=(stay,))
        gaps = [g for g in gaps_of(p) if g.rule == "transition.mental-health-follow-up"]
        tasks = suggest_tasks(gaps, p, as_of=AS_OF)
        assert {t.owner for t in tasks} == {BEHAVIORAL_HEALTH}

    def test_team_lead_when_nobody_has_the_discipline(self) -> None:
        """Without a member of the discipline, the team lead owns the task."""
        team = make_care_team()
        team = attrs.evolve(team, members=tuple(m for m in team.members if m.party != PCP))
        p = profile(care_teams=(team,), transitions=(make_transition(),))
        assert one_task(p, "transition.follow-up-visit").owner == COORDINATOR  # type: ignore[attr-defined]

    def test_unassigned_without_a_team(self) -> None:
        """No care team: the task is left unassigned."""
        p = profile(care_teams=(), transitions=(make_transition(),))
        assert one_task(p, "transition.follow-up-visit").owner is None  # type: ignore[attr-defined]

    def test_a_lead_of_the_discipline_is_preferred(self) -> None:
        """Among several members of the discipline, the lead is chosen."""
        second_pcp = Ref("Practitioner", "pcp-2")
        team = make_care_team()
        team = attrs.evolve(
            team,
            members=(
                *team.members,
                CareTeamMember(
                    second_pcp, Discipline.PRIMARY_CARE, period=Period(days_before(10)), lead=True
                ),
            ),
        )
        p = profile(care_teams=(team,), transitions=(make_transition(),))
        assert one_task(p, "transition.follow-up-visit").owner == second_pcp  # type: ignore[attr-defined]


class TestIdempotence:
    """Tests for idempotence."""

    def test_task_ids_are_derived_from_gap_keys(self) -> None:
        """The same gap gives the same task id on every run."""
        p = profile(referrals=(make_referral(),))
        first = suggest_tasks(gaps_of(p), p, as_of=AS_OF)
        second = suggest_tasks(gaps_of(p), p, as_of=AS_OF)
        assert first == second
        assert all(t.id.startswith("gap-") and len(t.id) == 28 for t in first)

    def test_task_id_for_accepts_a_key(self) -> None:
        """task_id_for works from a gap or its key."""
        gap = gaps_of(profile(referrals=(make_referral(),)))[0]
        assert task_id_for(gap) == task_id_for(gap.key)

    def test_gaps_that_already_have_their_task_are_skipped(self) -> None:
        """After the tasks are stored, suggesting again yields nothing new."""
        p = profile(referrals=(make_referral(),))
        tasks = suggest_tasks(gaps_of(p), p, as_of=AS_OF)
        stored = profile(referrals=(make_referral(),), tasks=tasks)
        assert suggest_tasks(gaps_of(stored), stored, as_of=AS_OF) == ()

    def test_a_task_focused_on_the_gap_counts_whatever_its_id(self) -> None:
        """A user's own task focused on the gap suppresses the suggestion."""
        p = profile(referrals=(make_referral(),))
        gap = next(g for g in gaps_of(p) if g.rule == "referral.unacknowledged")
        mine = make_task(id="my-task", focus=Ref("Gap", gap.key), authored_on=days_before(1))
        stored = profile(referrals=(make_referral(),), tasks=(mine,))
        assert suggest_tasks([gap], stored, as_of=AS_OF) == ()

    def test_duplicate_gaps_give_one_task(self) -> None:
        """The same gap passed twice gives one task."""
        p = profile(referrals=(make_referral(),))
        gap = gaps_of(p)[0]
        assert len(suggest_tasks([gap, gap], p, as_of=AS_OF)) == 1

    def test_gaps_of_another_profile_are_refused(self) -> None:
        """Gaps must belong to the profile the tasks are for."""
        p = profile(referrals=(make_referral(),))
        stranger = attrs.evolve(gaps_of(p)[0], patient="other/patient")
        with pytest.raises(ValidationError, match="another profile"):
            suggest_tasks([stranger], p, as_of=AS_OF)

    def test_open_gaps_give_overdue_tasks(self) -> None:
        """An open gap's task is due in the past (already overdue)."""
        p = profile(transitions=(make_transition(),))
        gap = next(g for g in gaps_of(p) if g.status is GapStatus.OPEN)
        (task,) = suggest_tasks([gap], p, as_of=AS_OF)
        assert task.due is not None
        assert task.due < AS_OF
