"""Social-needs rules: positive screens nobody acts on, community referrals with no outcome.

A community referral is a referral flagged ``community``, or one sent to an organisation
of kind ``community``. Social needs keep no history of their status, so a need marked
addressed closes its gap without a date (and evaluating at a past date sees today's
status); referrals, tasks and communications carry their own dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import (
    Communication,
    Discipline,
    OrganizationKind,
    Ref,
    Referral,
    ReferralStatus,
    SocialNeed,
    SocialNeedStatus,
    Task,
    TaskStatus,
)
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._codes import refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Timeline
from carecoord.rules._model import Citation, Evidence, Gap, RuleMetadata, Severity

__all__ = [
    "FAMILY",
    "RULES",
    "is_community_referral",
    "social_need_unaddressed",
    "social_referral_outcome_missing",
]

FAMILY = "social"

_STILL_NEEDED = frozenset({SocialNeedStatus.IDENTIFIED, SocialNeedStatus.IN_PROGRESS})
"""Need statuses under which an unaddressed need is still work, however old."""

_MIPS_498 = Citation(
    "CMS MIPS Quality 498: Connection to Community Service Provider (contact within 60 "
    "days of a positive screen)",
    "https://qpp.cms.gov/",
)
_SNS_E = Citation(
    "NCQA HEDIS Social Need Screening and Intervention (SNS-E)",
    "https://www.ncqa.org/hedis/measures/social-need-screening-and-intervention/",
)
_GRAVITY = Citation(
    "HL7 SDOH Clinical Care IG (Gravity Project): closed-loop referral to community services",
    "https://hl7.org/fhir/us/sdoh-clinicalcare/",
)

_S = ReferralStatus
_UNSENT = frozenset({_S.DRAFT, _S.ENTERED_IN_ERROR})
_OUTCOMES = frozenset(
    {
        _S.DECLINED,
        _S.SCHEDULED,
        _S.NO_SHOW,
        _S.APPOINTMENT_CANCELLED,
        _S.SEEN,
        _S.REPORT_RECEIVED,
        _S.CLOSED,
    }
)
_DEAD_TASKS = frozenset({TaskStatus.CANCELLED, TaskStatus.REJECTED, TaskStatus.ENTERED_IN_ERROR})


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def is_community_referral(ctx: RuleContext, referral: Referral) -> bool:
    """Whether a referral goes to a community service (flagged, or to a community org)."""
    if referral.community:
        return True
    recipient = referral.recipient
    if recipient is None or recipient.type != "Organization":
        return False
    org = ctx.profile.organization(recipient)
    return org is not None and org.kind is OrganizationKind.COMMUNITY


def _sent_at(ref: Referral) -> dt.datetime | None:
    if ref.status in _UNSENT:
        return None
    return ref.sent_at or ref.first_reached(_S.SENT) or ref.authored_on


def _died(ctx: RuleContext, day: dt.date) -> str | None:
    return "patient died" if ctx.died_by(day) else None


# --------------------------------------------------------------------------- need unaddressed


@attrs.frozen
class _Interventions:
    """Community referrals, and tasks and messages by what they are about, gathered once."""

    referrals: Timeline[Referral]
    messages: dict[Ref, list[Fact[Communication]]]
    tasks: dict[Ref, list[Fact[Task]]]

    @classmethod
    def gather(cls, ctx: RuleContext) -> _Interventions:
        """Index the profile once for every need."""
        referrals = []
        for referral in ctx.profile.referrals:
            r = referral.value
            sent = _sent_at(r)
            if sent is not None and r.status is not _S.CANCELLED and is_community_referral(ctx, r):
                referrals.append((sent, referral))
        messages: dict[Ref, list[Fact[Communication]]] = {}
        for message in ctx.profile.communications:
            if message.value.status != "not-done":
                for ref in message.value.about:
                    messages.setdefault(ref, []).append(message)
        tasks: dict[Ref, list[Fact[Task]]] = {}
        for task in ctx.profile.tasks:
            t = task.value
            if t.focus is not None and t.status not in _DEAD_TASKS:
                tasks.setdefault(t.focus, []).append(task)
        return cls(Timeline(referrals, ctx.local_date), messages, tasks)

    def first(
        self, ctx: RuleContext, fact: Fact[SocialNeed]
    ) -> tuple[dt.datetime, Evidence] | None:
        """The first intervention on or after the day the need was identified."""
        since = ctx.start_of_day(ctx.local_date(fact.value.identified_at))
        found: list[tuple[dt.datetime, str, Fact[Any], str]] = []
        referral = next(self.referrals.from_instant(since), None)  # the first sent since
        if referral is not None:
            sent = _sent_at(referral.value)
            assert sent is not None  # only sent referrals are gathered
            found.append((sent, referral.key, referral, "community referral sent"))
        for ref in refs_to(fact, "SocialNeed"):
            found.extend(
                (m.value.sent, m.key, m, "communication about it")
                for m in self.messages.get(ref, ())
                if m.value.sent >= since
            )
            found.extend(
                (t.value.authored_on, t.key, t, "task about it")
                for t in self.tasks.get(ref, ())
                if t.value.authored_on >= since
            )
        if not found:
            return None
        when, _, winner, description = min(found, key=lambda item: (item[0], item[1]))
        return when, ctx.closing(winner, description)


@define_rule(
    _meta(
        id="social.need-unaddressed",
        title="Social need not addressed",
        description=(
            "A social need found by screening (food, housing, transport...) has had no "
            "community referral and no intervention within 60 days (MIPS 498; HEDIS SNS-E "
            "asks for an intervention within 1 month). Procedures cannot point at a need, "
            "so they do not count unless recorded as a task or communication about it."
        ),
        opens="A social need is identified (a positive screen).",
        due="60 days after it was identified.",
        closes="A community referral sent on or after the identification day, a task or "
        "communication about the need, or the need marked addressed or resolved.",
        exclusions=("The patient declined help.", "Patient died."),
        sources=(_MIPS_498, _SNS_E, _GRAVITY),
        reads=frozenset(
            {"social_needs", "referrals", "communications", "tasks", "organizations", "patient"}
        ),
        discipline=Discipline.SOCIAL_WORK,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _NeedUnaddressed(RuleBase):
    within_days: int = param(60, "Days after identification to act.", unit="days")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        interventions = _Interventions.gather(ctx)
        for fact in sorted(ctx.profile.social_needs, key=lambda f: f.key):
            need = fact.value
            day = ctx.local_date(need.identified_at)
            due = ctx.add_days(day, self.within_days)
            found = interventions.first(ctx, fact)
            closed_by: tuple[Evidence, ...] = ()
            closed_at: dt.datetime | None = None
            if found:
                closed_at, evidence = found
                closed_by = (evidence,)
            elif need.status in {SocialNeedStatus.ADDRESSED, SocialNeedStatus.RESOLVED}:
                closed_by = (ctx.closing(fact, f"need {need.status.value}"),)
            excluded = _died(ctx, due)
            if need.status is SocialNeedStatus.DECLINED:
                excluded = "patient declined help"
            domain = need.domain.value.replace("-", " ")
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=need.identified_at,
                summary=f"Social need ({domain}) identified {day.isoformat()} not yet addressed.",
                action="Offer the patient a referral to a community service for this need.",
                evidence=(ctx.trigger(fact, "positive social-needs screen"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=excluded,
                standing=not closed_by and need.status in _STILL_NEEDED,
            )


def social_need_unaddressed(*, within_days: int = 60) -> Rule:
    """``social.need-unaddressed``: no referral or intervention 60 days after identification."""
    return _NeedUnaddressed(within_days=within_days)


# --------------------------------------------------------------------------- referral outcome


def _first_change(ref: Referral, statuses: frozenset[ReferralStatus]) -> dt.datetime | None:
    values = {s.value for s in statuses}
    return next((c.at for c in ref.history if c.to_status in values), None)


@define_rule(
    _meta(
        id="social.referral-outcome-missing",
        title="Community referral without an outcome",
        description=(
            "A referral to a community service has no recorded outcome 30 days after "
            "sending: the loop is open, and nobody knows whether the patient got help "
            "(Gravity closed-loop referral)."
        ),
        opens="A community referral is sent.",
        due="30 days after sending.",
        closes="An outcome: the referral declined, scheduled, seen, reported or closed "
        "(any status beyond accepted), or a completed task focused on it.",
        exclusions=("Referral cancelled.", "Patient died."),
        sources=(_GRAVITY, _MIPS_498),
        reads=frozenset({"referrals", "tasks", "organizations", "patient"}),
        discipline=Discipline.SOCIAL_WORK,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _ReferralOutcomeMissing(RuleBase):
    within_days: int = param(30, "Days after sending for an outcome.", unit="days")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        completed: dict[Ref, list[Fact[Task]]] = {}
        for task in ctx.profile.tasks:
            t = task.value
            if t.focus is not None and t.status is TaskStatus.COMPLETED:
                completed.setdefault(t.focus, []).append(task)
        for fact in sorted(ctx.profile.referrals, key=lambda f: f.key):
            ref = fact.value
            sent = _sent_at(ref)
            if sent is None or not is_community_referral(ctx, ref):
                continue
            day = ctx.local_date(sent)
            due = ctx.add_days(day, self.within_days)
            options: list[tuple[dt.datetime | None, str, Evidence]] = []
            reached = _first_change(ref, _OUTCOMES)
            if reached is not None or ref.status in _OUTCOMES:
                options.append((reached, fact.key, ctx.closing(fact, "outcome recorded")))
            for task in (t for r in refs_to(fact, "Referral") for t in completed.get(r, ())):
                t = task.value
                done = next(
                    (c.at for c in t.history if c.to_status == TaskStatus.COMPLETED.value),
                    t.last_modified,
                )
                options.append((done, task.key, ctx.closing(task, "referral task completed")))
            floor = dt.datetime.max.replace(tzinfo=dt.UTC)
            options.sort(key=lambda o: (o[0] or floor, o[1]))
            excluded = _died(ctx, due)
            if ref.status is _S.CANCELLED:
                excluded = "referral cancelled"
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=sent,
                summary=f"Community referral sent {day.isoformat()} has no outcome.",
                action="Ask the community organisation and the patient whether the patient "
                "was helped, and record the outcome.",
                evidence=(ctx.trigger(fact, "community referral sent"),),
                closed_by=(options[0][2],) if options else (),
                closed_at=options[0][0] if options else None,
                not_applicable=excluded,
                standing=ref.is_open and not options,
            )


def social_referral_outcome_missing(*, within_days: int = 30) -> Rule:
    """``social.referral-outcome-missing``: a community referral with no outcome in 30 days."""
    return _ReferralOutcomeMissing(within_days=within_days)


RULES: tuple[Rule, ...] = (social_need_unaddressed(), social_referral_outcome_missing())
"""The social-needs family with its published defaults, in catalogue order."""
