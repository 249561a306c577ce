"""Care teams over time, and care transitions."""

from __future__ import annotations

import datetime as dt

import pytest

import carecoord as cc
from carecoord.domain import CareSetting, CareTeamStatus, Diagnosis
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    COORDINATOR,
    PCP,
    days_before,
    make_care_team,
    make_transition,
)


class TestCareTeam:
    """Who is an active member, lead, or of a discipline, at a given time."""

    def test_active_members_at_a_time(self) -> None:
        """Members whose period covers the instant are active."""
        team = make_care_team()

        assert {m.party for m in team.active_members(AS_OF)} == {
            PCP,
            COORDINATOR,
            BEHAVIORAL_HEALTH,
        }
        assert team.active_members(days_before(400)) == ()

    def test_lead_and_discipline(self) -> None:
        """The lead and the members of a discipline are found."""
        team = make_care_team()

        lead = team.lead(AS_OF)
        assert lead is not None
        assert lead.party == COORDINATOR
        assert [m.party for m in team.members_of(cc.Discipline.PRIMARY_CARE, AS_OF)] == [PCP]

    def test_ended_membership_is_inactive_afterwards(self) -> None:
        """After end_membership the party is not active, but was before."""
        team = make_care_team().end_membership(BEHAVIORAL_HEALTH, days_before(10))

        assert not team.is_active_member(BEHAVIORAL_HEALTH, AS_OF)
        assert team.is_active_member(BEHAVIORAL_HEALTH, days_before(20))

    def test_overlapping_membership_rejected(self) -> None:
        """A party cannot be added twice for overlapping periods."""
        team = make_care_team()

        with pytest.raises(cc.ValidationError):
            team.add_member(cc.CareTeamMember(PCP, cc.Discipline.PRIMARY_CARE))

    def test_set_lead_moves_the_flag(self) -> None:
        """Naming a new lead clears the old one."""
        team = make_care_team().set_lead(PCP, AS_OF)

        lead = team.lead(AS_OF)
        assert lead is not None
        assert lead.party == PCP
        assert sum(m.lead for m in team.members) == 1

    def test_suspended_team_has_no_active_members(self) -> None:
        """A suspended team answers no active members, and its change is in history."""
        team = make_care_team().transition_to(
            CareTeamStatus.SUSPENDED, at=AS_OF - dt.timedelta(hours=1)
        )

        assert team.active_members(AS_OF) == ()
        assert team.history[-1].to_status == "suspended"

    def test_inactive_team_cannot_be_reactivated(self) -> None:
        """Inactive only leads to entered-in-error."""
        team = make_care_team().transition_to(CareTeamStatus.INACTIVE, at=AS_OF)

        with pytest.raises(cc.InvalidTransition):
            team.transition_to(CareTeamStatus.ACTIVE, at=AS_OF)


class TestCareTransition:
    """Stays and visits: admission, discharge, settings."""

    def test_discharge_cannot_precede_admission(self) -> None:
        """A discharge before the admission is rejected."""
        with pytest.raises(cc.ValidationError) as info:
            make_transition(admitted_at=AS_OF, discharged_at=days_before(1))

        assert info.value.problems[0].path == "discharged_at"

    def test_discharge_method_sets_setting_and_time(self) -> None:
        """Discharging an ongoing stay records when and where to."""
        stay = make_transition(discharged_at=None, to_setting=CareSetting.UNKNOWN)

        done = stay.discharge(at=AS_OF, to_setting=CareSetting.SKILLED_NURSING)

        assert done.is_discharged
        assert done.to_setting is CareSetting.SKILLED_NURSING

    def test_second_discharge_rejected(self) -> None:
        """A stay is discharged once."""
        with pytest.raises(cc.InvalidTransition):
            make_transition().discharge(at=AS_OF, to_setting=CareSetting.HOME)

    def test_principal_diagnosis(self) -> None:
        """The flagged diagnosis is principal; two principals are rejected."""
        dx = Diagnosis(cc.Code(cc.System.ICD10CM, "F32.9"), principal=True)

        assert make_transition(diagnoses=(dx,)).principal_diagnosis == dx
        with pytest.raises(cc.ValidationError):
            make_transition(diagnoses=(dx, dx))

    def test_community_settings(self) -> None:
        """Home counts as the community; hospice and another hospital do not."""
        assert CareSetting.HOME.is_community
        assert not CareSetting.HOSPICE.is_community
        assert not CareSetting.OTHER_HOSPITAL.is_community
