"""Care-team rules: who is accountable, and whether the right disciplines are on the team.

These rules watch a state rather than a deadline ("at once" rules): a gap is reported only
while the unwanted state holds at ``as_of`` (a team without a primary-care member, a task
whose owner left the team), due on the local date the state began. Membership is
time-bound, so the rules replay it to find when the current stretch of the unwanted state
began. A state that has been resolved, whether the missing member (or lead) arrived or the
need went away, leaves no gap: there is no deadline to have met, so a closed gap would only
ever say "late". Teams that are entered in error are ignored; a team's earlier statuses are
not replayed (its period is), and the lead flag has no date, so a lead is counted from the
start of their membership.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from carecoord.domain import (
    CareTeam,
    CareTeamMember,
    CareTeamStatus,
    Condition,
    Discipline,
    PartialDate,
    Ref,
    ReferralStatus,
    Sensitivity,
    TaskStatus,
    VerificationStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._codes import code_matcher, optional_str_tuple
from carecoord.rules._context import RuleContext
from carecoord.rules._known import known_since
from carecoord.rules._model import Citation, Gap, RuleMetadata, Severity
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSetName

__all__ = [
    "BEHAVIORAL_HEALTH_PREFIXES",
    "FAMILY",
    "RULES",
    "Intervals",
    "TeamIndex",
    "care_team_behavioral_health_missing",
    "care_team_inactive_owner",
    "care_team_no_lead",
    "care_team_no_primary_care",
]

FAMILY = "care-teams"

BEHAVIORAL_HEALTH_PREFIXES: tuple[str, ...] = tuple(
    p.pattern for p in DEFAULT_VALUE_SETS[ValueSetName.BEHAVIORAL_HEALTH].patterns if p.is_prefix
)
"""ICD-10-CM chapter F, F01 to F99: mental, behavioural and neurodevelopmental disorders
(substance use, dementia and intellectual disabilities included); the ICD-10-CM part of the
``behavioral-health`` value set, which also holds SNOMED CT concepts."""

_ATLAS = Citation(
    "AHRQ Care Coordination Measures Atlas: establish accountability and agree on responsibility",
    "https://www.ahrq.gov/ncepcr/care/coordination/atlas.html",
)
_US_CORE_TEAM = Citation(
    "HL7 US Core CareTeam profile (participant role, period)",
    "https://hl7.org/fhir/us/core/StructureDefinition-us-core-careteam.html",
)
_INTEGRATION = Citation(
    "AHRQ Academy for Integrating Behavioral Health and Primary Care",
    "https://integrationacademy.ahrq.gov/",
)
_FHIR_TASK = Citation(
    "HL7 FHIR R4 Task (owner, status; finding stuck tasks)",
    "https://hl7.org/fhir/R4/task.html",
)

_BEHAVIORAL_SENSITIVITY = (Sensitivity.MENTAL_HEALTH, Sensitivity.SUBSTANCE_USE)
_OWNER_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization"})
_OPEN_REFERRAL_EXCLUDED = frozenset({ReferralStatus.DRAFT})
_NO_VERIFY = frozenset({VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR})


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


# --------------------------------------------------------------------------- stretches


@attrs.frozen
class _Stretch:
    """The last stretch of time in which something needed was missing.

    ``start`` is ``None`` when it began before anything dated; ``end`` is ``None`` while it
    lasts at ``as_of``, else the instant the missing thing arrived.
    """

    start: dt.datetime | None
    end: dt.datetime | None


def _last_stretch(
    points: Iterable[dt.datetime | None],
    as_of: dt.datetime,
    needed: Callable[[dt.datetime], bool],
    met: Callable[[dt.datetime], bool],
) -> _Stretch | None:
    """The last stretch, up to ``as_of``, in which ``needed`` held and ``met`` did not.

    ``points`` are the instants at which either may change (period starts and ends); the
    state is read at each of them. Nothing is reported when nothing is needed at
    ``as_of``, nor when the last stretch ended because the need went away.
    """
    times = sorted({p for p in points if p is not None and p <= as_of})
    dated = bool(times)
    if not times:
        times = [as_of]
    states = [(t, needed(t), met(t)) for t in times]
    bad = [need and not ok for _, need, ok in states]
    if not states[-1][1]:
        return None
    last = len(states) - 1
    end: dt.datetime | None = None
    if not bad[last]:
        previous = [i for i in range(last) if bad[i]]
        if not previous:
            return None
        last = previous[-1]
        after = states[last + 1]
        if not (after[1] and after[2]):
            return None  # the need went away first
        end = after[0]
    first = last
    while first > 0 and bad[first - 1]:
        first -= 1
    return _Stretch(states[first][0] if dated else None, end)


def _current(stretch: _Stretch | None) -> _Stretch | None:
    """The stretch if the unwanted state still holds at ``as_of`` (a resolved one: None)."""
    return stretch if stretch is not None and stretch.end is None else None


_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)
_MAX = dt.datetime.max.replace(tzinfo=dt.UTC)


class Intervals:
    """A union of half-open time spans ``[start, end)``; ``None`` ends are unbounded."""

    __slots__ = ("_spans", "_starts")

    def __init__(self, spans: Iterable[tuple[dt.datetime | None, dt.datetime | None]]) -> None:
        items = sorted((s or _MIN, e or _MAX) for s, e in spans if (s or _MIN) < (e or _MAX))
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for start, end in items:
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        self._spans = merged
        self._starts = [start for start, _ in merged]

    def __bool__(self) -> bool:
        return bool(self._spans)

    def covers(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls in one of the spans."""
        index = bisect.bisect_right(self._starts, at) - 1
        return index >= 0 and at < self._spans[index][1]

    @property
    def spans(self) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The merged spans, earliest first (unbounded ends as ``datetime.min``/``max``)."""
        return tuple(self._spans)

    @property
    def points(self) -> list[dt.datetime]:
        """The bounded ends of the spans (where coverage changes)."""
        return [p for span in self._spans for p in span if p not in {_MIN, _MAX}]


def _clip(
    outer: tuple[dt.datetime | None, dt.datetime | None],
    inner: tuple[dt.datetime | None, dt.datetime | None],
) -> tuple[dt.datetime | None, dt.datetime | None]:
    starts = [t for t in (outer[0], inner[0]) if t is not None]
    ends = [t for t in (outer[1], inner[1]) if t is not None]
    return max(starts, default=None), min(ends, default=None)


class TeamIndex:
    """When each party, and each discipline, is on one of the patient's active teams.

    Built once per evaluation: membership spans are clipped to their team's period, only
    teams whose status is active (as replayed to ``as_of``) count, and a member recorded
    with discipline ``other`` takes the practitioner's or organisation's own discipline.
    """

    __slots__ = ("active", "by_discipline", "by_party", "teams")

    def __init__(self, ctx: RuleContext) -> None:
        self.teams = _teams(ctx)
        active = [f.value for f in self.teams if f.value.status is CareTeamStatus.ACTIVE]
        self.active = Intervals((t.period.start, t.period.end) for t in active)
        spans: dict[Ref, list[tuple[dt.datetime | None, dt.datetime | None]]] = {}
        disciplines: dict[Discipline, dict[Ref, list[Any]]] = {}
        known: dict[Ref, Discipline | None] = {}
        for team in active:
            outer = (team.period.start, team.period.end)
            for member in team.members:
                span = _clip(outer, (member.period.start, member.period.end))
                spans.setdefault(member.party, []).append(span)
                discipline: Discipline | None = member.discipline
                if discipline is Discipline.OTHER:
                    if member.party not in known:
                        known[member.party] = ctx.discipline_of(member.party)
                    discipline = known[member.party]
                if discipline is not None:
                    disciplines.setdefault(discipline, {}).setdefault(member.party, []).append(span)
        self.by_party = {party: Intervals(s) for party, s in spans.items()}
        self.by_discipline = {
            d: {party: Intervals(s) for party, s in parties.items()}
            for d, parties in disciplines.items()
        }

    def is_member(self, party: Ref, at: dt.datetime) -> bool:
        """Whether ``party`` is an active member of an active team at ``at``."""
        spans = self.by_party.get(party)
        return spans is not None and spans.covers(at)

    def members_of(self, discipline: Discipline, at: dt.datetime) -> frozenset[Ref]:
        """The parties of ``discipline`` active on a team at ``at``."""
        parties = self.by_discipline.get(discipline, {})
        return frozenset(p for p, spans in parties.items() if spans.covers(at))

    def discipline_spans(self, discipline: Discipline) -> Intervals:
        """When any member of ``discipline`` is active."""
        return Intervals(
            (start, end)
            for spans in self.by_discipline.get(discipline, {}).values()
            for start, end in spans.spans
        )


def _since(start: dt.datetime) -> Callable[[dt.datetime], bool]:
    return lambda at: at >= start


def _has_members(team: CareTeam, minimum: int) -> Callable[[dt.datetime], bool]:
    return lambda at: len(team.active_members(at)) >= minimum


def _has_lead(team: CareTeam) -> Callable[[dt.datetime], bool]:
    return lambda at: team.lead(at) is not None


def _member_discipline(ctx: RuleContext, member: CareTeamMember) -> Discipline | None:
    if member.discipline is not Discipline.OTHER:
        return member.discipline
    return ctx.discipline_of(member.party)


def _teams(ctx: RuleContext) -> list[Fact[CareTeam]]:
    found = [
        f for f in ctx.profile.care_teams if f.value.status is not CareTeamStatus.ENTERED_IN_ERROR
    ]
    return sorted(
        found,
        key=lambda f: (f.value.period.start or dt.datetime.min.replace(tzinfo=dt.UTC), f.key),
    )


def _team_points(teams: Iterable[Fact[CareTeam]]) -> list[dt.datetime | None]:
    points: list[dt.datetime | None] = []
    for fact in teams:
        team = fact.value
        points += [team.period.start, team.period.end]
        for member in team.members:
            points += [member.period.start, member.period.end]
    return points


def _fallback_opened(ctx: RuleContext, *facts: Fact[Any]) -> dt.datetime:
    """The start of a stretch that began before anything dated.

    When the facts became known (:func:`known_since`: the earliest ``recorded_at``, else
    the retrieval of the records they came from), else the start of the evaluation day: a
    standing gap is shown whatever its due date, so this only dates a state nothing else
    dates.
    """
    stamps = [k for f in facts if (k := known_since(ctx, f)) is not None and k <= ctx.as_of]
    return min(stamps, default=ctx.start_of_day(ctx.today))


def _exclusion(ctx: RuleContext) -> str | None:
    return "patient died" if ctx.died_by(ctx.today) else None


# --------------------------------------------------------------------------- no primary care


@define_rule(
    _meta(
        id="care-team.no-primary-care",
        title="No primary-care clinician on the care team",
        description=(
            "The patient has an active care team but nobody on it is in primary care, so "
            "nobody holds the whole picture (AHRQ Atlas: accountability)."
        ),
        opens="An active care team has no active primary-care member (the patient's teams "
        "are taken together).",
        due="At once: the local date the team was left without primary care.",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when a primary-care "
        "member joins an active team.",
        exclusions=("Patient died.", "Patients with no care team on record have no gap."),
        sources=(_ATLAS, _US_CORE_TEAM),
        reads=frozenset({"care_teams", "practitioners", "organizations", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _NoPrimaryCare(RuleBase):
    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        index = ctx.cached("care-team.index", TeamIndex)
        teams = index.teams
        if not teams:
            return
        covered = index.discipline_spans(Discipline.PRIMARY_CARE)
        stretch = _current(
            _last_stretch(
                [*index.active.points, *covered.points],
                ctx.as_of,
                index.active.covers,
                covered.covers,
            )
        )
        if stretch is None:
            return
        opened = stretch.start or _fallback_opened(ctx, *teams)
        yield ctx.gap(
            focus=teams[0].key,
            due=ctx.local_date(opened),
            opened=opened,
            summary="The care team has no primary-care clinician.",
            action="Name the patient's primary-care clinician and add them to the care team.",
            evidence=tuple(ctx.trigger(f, "care team without primary care") for f in teams),
            not_applicable=_exclusion(ctx),
        )


def care_team_no_primary_care() -> Rule:
    """``care-team.no-primary-care``: no active primary-care member on the care team."""
    return _NoPrimaryCare()


# --------------------------------------------------------------------------- no lead


@define_rule(
    _meta(
        id="care-team.no-lead",
        title="Care team without a lead",
        description=(
            "A care team with two or more active members has nobody flagged as its lead "
            "or coordinator, so nobody is accountable for the plan as a whole."
        ),
        opens="An active team has at least 2 active members and no active lead.",
        due="At once: the local date the team reached 2 members without a lead.",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when a member is named "
        "lead (counted from the start of their membership, as the lead flag carries no date) "
        "or the team shrinks.",
        exclusions=("Patient died.",),
        sources=(_ATLAS, _US_CORE_TEAM),
        reads=frozenset({"care_teams", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _NoLead(RuleBase):
    minimum_members: int = param(2, "Active members from which a team needs a lead.")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _teams(ctx):
            team = fact.value
            stretch = _current(
                _last_stretch(
                    _team_points([fact]),
                    ctx.as_of,
                    _has_members(team, self.minimum_members),
                    _has_lead(team),
                )
            )
            if stretch is None:
                continue
            opened = stretch.start or _fallback_opened(ctx, fact)
            yield ctx.gap(
                focus=fact.key,
                due=ctx.local_date(opened),
                opened=opened,
                summary="The care team has no lead or coordinator.",
                action="Agree who leads the care team and flag them as its lead.",
                evidence=(ctx.trigger(fact, "care team without a lead"),),
                not_applicable=_exclusion(ctx),
            )


def care_team_no_lead(*, minimum_members: int = 2) -> Rule:
    """``care-team.no-lead``: a team of 2 or more active members without a lead."""
    return _NoLead(minimum_members=minimum_members)


# --------------------------------------------------------------------------- behavioural health


def _instant(ctx: RuleContext, when: dt.datetime | PartialDate | None) -> dt.datetime | None:
    if when is None:
        return None
    if isinstance(when, PartialDate):
        return ctx.start_of_day(when.earliest())
    return when


def _condition_active_at(ctx: RuleContext, condition: Condition, at: dt.datetime) -> bool:
    onset = _instant(ctx, condition.onset)
    abatement = _instant(ctx, condition.abatement)
    if onset is not None and onset > at:
        return False
    if abatement is not None:
        return abatement > at
    return True


def _sensitivity_values(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, Sensitivity) for v in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of Sensitivity"))


@define_rule(
    _meta(
        id="care-team.behavioral-health-missing",
        title="Behavioural-health condition, no behavioural-health clinician",
        description=(
            "The patient has an active mental-health or substance-use condition (in the "
            "behavioral-health value set: ICD-10-CM F01-F99 and SNOMED CT counterparts by "
            "default; or a condition labelled mental health or substance use) and nobody "
            "on the care team is a behavioural-health clinician (integrated care). "
            "Patients without any care team on record count as having none. The gap is "
            "about the patient's care team (the earliest, when there are several; the "
            "patient's profile when there is none), so its key does not change when "
            "another source records the same condition."
        ),
        opens="An active behavioural-health condition with no active behavioural-health "
        "member on any active care team.",
        due="At once: the local date of the condition's onset, or of the day the last such "
        "member left.",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when a "
        "behavioural-health member joins an active team or the condition resolves.",
        exclusions=("Patient died.", "Refuted or entered-in-error conditions do not count."),
        sources=(_INTEGRATION, _ATLAS),
        reads=frozenset({"conditions", "care_teams", "practitioners", "organizations", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _BehavioralHealthMissing(RuleBase):
    diagnosis_prefixes: tuple[str, ...] | None = param(
        None,
        "ICD-10-CM prefixes of behavioural-health conditions; when given, used instead of "
        "the diagnoses value set.",
        validator=optional_str_tuple,
    )
    sensitivities: tuple[Sensitivity, ...] = param(
        _BEHAVIORAL_SENSITIVITY,
        "Condition sensitivity labels that mark a behavioural-health condition.",
        validator=_sensitivity_values,
    )
    diagnoses: str = value_set_param(
        ValueSetName.BEHAVIORAL_HEALTH, "Value set of behavioural-health conditions."
    )

    def _conditions(self, ctx: RuleContext) -> list[Fact[Condition]]:
        match = code_matcher(ctx, self.diagnoses, self.diagnosis_prefixes)
        found = [
            f
            for f in ctx.profile.conditions
            if f.value.is_active
            and f.value.verification_status not in _NO_VERIFY
            and (match(f.value.code) or bool(f.value.sensitivity.intersection(self.sensitivities)))
        ]
        return sorted(found, key=lambda f: f.key)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        conditions = self._conditions(ctx)
        if not conditions:
            return
        index = ctx.cached("care-team.index", TeamIndex)
        teams = index.teams
        covered = index.discipline_spans(Discipline.BEHAVIORAL_HEALTH)
        points: list[dt.datetime | None] = list(covered.points)
        for fact in conditions:
            points += [_instant(ctx, fact.value.onset), _instant(ctx, fact.value.abatement)]
        stretch = _current(
            _last_stretch(
                points,
                ctx.as_of,
                lambda at: any(_condition_active_at(ctx, f.value, at) for f in conditions),
                covered.covers,
            )
        )
        if stretch is None:
            return
        opened = stretch.start or _fallback_opened(ctx, *conditions)
        labels = frozenset(s for f in conditions for s in f.value.sensitivity)
        yield ctx.gap(
            focus=teams[0].key if teams else ctx.patient_id,
            due=ctx.local_date(opened),
            opened=opened,
            summary="No behavioural-health clinician on the care team for an active "
            "behavioural-health need.",
            action="Refer the patient to a behavioural-health clinician and add them to "
            "the care team.",
            evidence=(
                *(ctx.trigger(f, "active behavioural-health condition") for f in conditions),
                *(ctx.context(f, "care team without a behavioural-health member") for f in teams),
            ),
            not_applicable=_exclusion(ctx),
            sensitivity=labels.intersection(_BEHAVIORAL_SENSITIVITY)
            or frozenset({Sensitivity.MENTAL_HEALTH}),
        )


def care_team_behavioral_health_missing(
    *,
    diagnosis_prefixes: tuple[str, ...] | None = None,
    sensitivities: tuple[Sensitivity, ...] = _BEHAVIORAL_SENSITIVITY,
    diagnoses: str = ValueSetName.BEHAVIORAL_HEALTH,
) -> Rule:
    """``care-team.behavioral-health-missing``: a behavioural-health need, nobody to meet it.

    ``diagnoses`` names a value set of the library; the legacy ``diagnosis_prefixes``
    (ICD-10-CM prefixes), when given, replace it.
    """
    return _BehavioralHealthMissing(
        diagnosis_prefixes=diagnosis_prefixes, sensitivities=sensitivities, diagnoses=diagnoses
    )


# --------------------------------------------------------------------------- inactive owner


@define_rule(
    _meta(
        id="care-team.inactive-owner",
        title="Open work owned by someone not on the care team",
        description=(
            "An open task is owned, or an open referral was requested, by a practitioner "
            "or organisation who is not an active member of any of the patient's care "
            "teams: they may have left, and nobody will pick the work up. Tasks keep no "
            "history of their owners, so the rule judges the current owner only."
        ),
        opens="An open task (not a draft) or an open referral whose owner (task) or "
        "requester (referral) is not an active care-team member.",
        due="At once: the local date the task or referral was written, or the owner left, "
        "whichever is later.",
        standing=True,
        closes="Reported only while the state holds: the gap goes away when the owner is an "
        "active team member again, or the task is reassigned to one.",
        exclusions=("Patient died.", "Patients with no care team on record have no gap."),
        sources=(_FHIR_TASK, _ATLAS),
        reads=frozenset({"tasks", "referrals", "care_teams", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _InactiveOwner(RuleBase):
    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        index = ctx.cached("care-team.index", TeamIndex)
        if not index.teams:
            return
        work: list[tuple[Fact[Any], Any, dt.datetime, str]] = []
        for task in ctx.profile.tasks:
            t = task.value
            if t.status.is_terminal or t.status is TaskStatus.DRAFT or t.owner is None:
                continue
            work.append((task, t.owner, t.authored_on, "task"))
        for referral in ctx.profile.referrals:
            r = referral.value
            if r.status.is_terminal or r.status in _OPEN_REFERRAL_EXCLUDED:
                continue
            work.append((referral, r.requester, r.authored_on, "referral"))
        empty = Intervals(())
        for fact, owner, since, what in sorted(work, key=lambda w: w[0].key):
            if owner.type not in _OWNER_TYPES:
                continue
            covered = index.by_party.get(owner, empty)
            stretch = _current(
                _last_stretch([since, *covered.points], ctx.as_of, _since(since), covered.covers)
            )
            if stretch is None:
                continue
            opened = max(stretch.start or since, since)
            role = "owner" if what == "task" else "requester"
            yield ctx.gap(
                focus=fact.key,
                due=ctx.local_date(opened),
                opened=opened,
                summary=f"Open {what}: its {role} is not an active member of the care team.",
                action=f"Reassign the {what} to an active care-team member, or add its "
                f"{role} to the team.",
                evidence=(ctx.trigger(fact, f"open {what}, {role} not on the team"),),
                not_applicable=_exclusion(ctx),
            )


def care_team_inactive_owner() -> Rule:
    """``care-team.inactive-owner``: open work owned by someone not on the care team."""
    return _InactiveOwner()


RULES: tuple[Rule, ...] = (
    care_team_no_primary_care(),
    care_team_no_lead(),
    care_team_behavioral_health_missing(),
    care_team_inactive_owner(),
)
"""The care-team family with its published defaults, in catalogue order."""
