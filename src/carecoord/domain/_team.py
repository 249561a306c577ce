"""Care teams: who is on the team, in which discipline, when, and who leads."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._lifecycle import StatusChange, check_transition
from carecoord.domain._parties import Discipline
from carecoord.domain._values import (
    CareTeamId,
    Code,
    PatientId,
    Period,
    Ref,
    choice,
    is_tuple,
    non_empty,
    optional_aware,
)
from carecoord.errors import Problem, ValidationError

__all__ = ["CareTeam", "CareTeamMember", "CareTeamStatus"]


class CareTeamStatus(Enum):
    """FHIR ``CareTeam.status``."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"
    ENTERED_IN_ERROR = "entered-in-error"


_TEAM_TRANSITIONS: dict[CareTeamStatus, frozenset[CareTeamStatus]] = {
    CareTeamStatus.PROPOSED: frozenset(
        {CareTeamStatus.ACTIVE, CareTeamStatus.INACTIVE, CareTeamStatus.ENTERED_IN_ERROR}
    ),
    CareTeamStatus.ACTIVE: frozenset(
        {CareTeamStatus.SUSPENDED, CareTeamStatus.INACTIVE, CareTeamStatus.ENTERED_IN_ERROR}
    ),
    CareTeamStatus.SUSPENDED: frozenset(
        {CareTeamStatus.ACTIVE, CareTeamStatus.INACTIVE, CareTeamStatus.ENTERED_IN_ERROR}
    ),
    CareTeamStatus.INACTIVE: frozenset({CareTeamStatus.ENTERED_IN_ERROR}),
    CareTeamStatus.ENTERED_IN_ERROR: frozenset(),
}


@attrs.frozen
class CareTeamMember:
    """One participant: a practitioner, organisation or related person, for a period.

    ``role`` is the coded role on the team (for example SNOMED "care coordinator");
    ``lead`` marks the lead or coordinator.
    """

    party: Ref
    discipline: Discipline = attrs.field(default=Discipline.OTHER, validator=choice(Discipline))
    role: Code | None = None
    period: Period = attrs.Factory(Period)
    lead: bool = False

    def is_active(self, at: dt.datetime) -> bool:
        """Whether the membership period covers ``at``."""
        return self.period.contains(at)


@attrs.frozen
class CareTeam:
    """The people and organisations caring for one patient.

    Membership is time-bound: every question takes the instant it is asked about, so the
    answers for the past stay reproducible.
    """

    id: CareTeamId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    status: CareTeamStatus = attrs.field(
        default=CareTeamStatus.ACTIVE, validator=choice(CareTeamStatus)
    )
    name: str | None = None
    members: tuple[CareTeamMember, ...] = attrs.field(default=(), validator=is_tuple)
    period: Period = attrs.Factory(Period)
    managing_organization: Ref | None = None
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=is_tuple)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)

    def is_active(self, at: dt.datetime) -> bool:
        """Whether the team itself is active at ``at``."""
        return self.status is CareTeamStatus.ACTIVE and self.period.contains(at)

    def active_members(self, at: dt.datetime) -> tuple[CareTeamMember, ...]:
        """Members whose period covers ``at`` (none when the team is not active)."""
        if not self.is_active(at):
            return ()
        return tuple(m for m in self.members if m.is_active(at))

    def is_active_member(self, party: Ref, at: dt.datetime) -> bool:
        """Whether ``party`` is an active member at ``at``."""
        return any(m.party == party for m in self.active_members(at))

    def lead(self, at: dt.datetime) -> CareTeamMember | None:
        """The active lead at ``at`` (the first one, if several are flagged)."""
        return next((m for m in self.active_members(at) if m.lead), None)

    def members_of(self, discipline: Discipline, at: dt.datetime) -> tuple[CareTeamMember, ...]:
        """Active members of ``discipline`` at ``at``."""
        return tuple(m for m in self.active_members(at) if m.discipline is discipline)

    def add_member(self, member: CareTeamMember) -> CareTeam:
        """Return a copy with ``member`` added; a party cannot hold two overlapping periods."""
        for existing in self.members:
            if existing.party == member.party and existing.period.overlaps(member.period):
                raise ValidationError(
                    Problem("members", "this party already has an overlapping membership"),
                )
        return attrs.evolve(self, members=(*self.members, member))

    def end_membership(self, party: Ref, at: dt.datetime) -> CareTeam:
        """Return a copy in which ``party``'s open membership ends at ``at``."""
        changed = False
        members: list[CareTeamMember] = []
        for member in self.members:
            if member.party == party and member.period.contains(at):
                members.append(attrs.evolve(member, period=Period(member.period.start, at)))
                changed = True
            else:
                members.append(member)
        if not changed:
            raise ValidationError(Problem("members", "no active membership for that party"))
        return attrs.evolve(self, members=tuple(members))

    def set_lead(self, party: Ref, at: dt.datetime) -> CareTeam:
        """Return a copy where ``party`` (an active member at ``at``) is the only lead."""
        if not self.is_active_member(party, at):
            raise ValidationError(Problem("members", "the lead must be an active member"))
        return attrs.evolve(
            self,
            members=tuple(attrs.evolve(m, lead=m.party == party) for m in self.members),
        )

    def transition_to(
        self,
        status: CareTeamStatus,
        *,
        at: dt.datetime,
        by: Ref | None = None,
        reason: str | None = None,
    ) -> CareTeam:
        """Return a copy in ``status``, with a history entry; illegal changes raise."""
        check_transition("CareTeam", _TEAM_TRANSITIONS, self.status, status)
        change = StatusChange(self.status.value, status.value, at, by, reason)
        return attrs.evolve(self, status=status, history=(*self.history, change))

    @staticmethod
    def allowed_transitions(status: CareTeamStatus) -> frozenset[CareTeamStatus]:
        """The statuses reachable from ``status``."""
        return _TEAM_TRANSITIONS[status]
