"""Result rules: ordered tests whose result never came, was never seen, or was never acted on.

An order is linked to its results through ``Result.based_on`` (order ids of any source
that states the order). Orders that are drafts or entered in error are ignored, and so
are results that are registered only, cancelled or entered in error. Summaries name the
kind of test only (lab, imaging), never the test itself, which may reveal a sensitive
condition. The patient's death on or before the due date makes a gap not applicable.

The rules that follow results (unacknowledged, abnormal without follow-up) look at
laboratory and imaging results, and at results of unknown category, by default
(``categories``): a questionnaire score (survey), a blood pressure (vital signs) or a
smoking status (social history) is an observation the clinician records, not a test result
waiting for someone to read it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import (
    Code,
    Communication,
    CommunicationKind,
    Discipline,
    Encounter,
    EncounterClass,
    EncounterStatus,
    Interpretation,
    Order,
    OrderKind,
    OrderStatus,
    Ref,
    Result,
    ResultCategory,
    ResultStatus,
    Task,
    TaskStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._care_team import TeamIndex
from carecoord.rules._codes import refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Timeline
from carecoord.rules._model import Citation, Evidence, Gap, RuleMetadata, Severity

__all__ = [
    "FAMILY",
    "RULES",
    "result_abnormal_no_follow_up",
    "result_missing",
    "result_unacknowledged",
]

FAMILY = "results"

_NPSG = Citation(
    "The Joint Commission NPSG.02.03.01: report critical results of tests on a timely basis",
    "https://www.jointcommission.org/standards/national-patient-safety-goals/",
)
_CALLEN = Citation(
    "Callen et al. 2012, Failure to follow-up test results for ambulatory patients: a "
    "systematic review (J Gen Intern Med 27:1334)",
    "https://doi.org/10.1007/s11606-011-1949-5",
)
_FHIR_BASED_ON = Citation(
    "HL7 FHIR R4 DiagnosticReport.basedOn: the order a result fulfils",
    "https://hl7.org/fhir/R4/diagnosticreport-definitions.html#DiagnosticReport.basedOn",
)

_IGNORED_ORDERS = frozenset({OrderStatus.DRAFT, OrderStatus.ENTERED_IN_ERROR})
_UNAVAILABLE = frozenset(
    {ResultStatus.REGISTERED, ResultStatus.CANCELLED, ResultStatus.ENTERED_IN_ERROR}
)
_OUTPATIENT = frozenset(
    {
        EncounterClass.AMBULATORY,
        EncounterClass.VIRTUAL,
        EncounterClass.TELEPHONE,
        EncounterClass.HOME,
    }
)
_VISIT_STATUSES = frozenset({EncounterStatus.FINISHED, EncounterStatus.IN_PROGRESS})
_FOLLOW_UP_MESSAGES = frozenset(
    {CommunicationKind.PATIENT_CONTACT, CommunicationKind.RESULT_NOTIFICATION}
)
_DEAD_TASKS = frozenset({TaskStatus.CANCELLED, TaskStatus.REJECTED, TaskStatus.ENTERED_IN_ERROR})
_KIND_LABEL = {
    OrderKind.LAB: "Lab",
    OrderKind.IMAGING: "Imaging",
    OrderKind.OTHER_DIAGNOSTIC: "Diagnostic",
    OrderKind.PROCEDURE: "Procedure",
}


_RESULT_CATEGORIES: tuple[ResultCategory, ...] = (
    ResultCategory.LABORATORY,
    ResultCategory.IMAGING,
    ResultCategory.UNKNOWN,
)
"""The result categories the rules follow by default: tests, and results of unknown kind."""

_CATEGORIES_HELP = (
    "Result categories followed (FHIR observation-category); surveys, vital signs, social "
    "history, exams and other clinician-recorded observations are left out by default."
)


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def _result_categories(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, ResultCategory) for v in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of ResultCategory"))


# --------------------------------------------------------------------------- helpers


def _ids(fact: Fact[Any]) -> frozenset[str]:
    """Every id the sources use for a fact."""
    return frozenset(v.id for v in fact.variants) | {fact.value.id}


def _based_on(fact: Fact[Result]) -> frozenset[str]:
    """The order ids any source says the result answers."""
    return frozenset(o for v in fact.variants for o in v.based_on)


def _orders(ctx: RuleContext) -> Iterator[Fact[Order]]:
    for fact in sorted(ctx.profile.orders, key=lambda f: (f.value.authored_on, f.key)):
        if fact.value.status not in _IGNORED_ORDERS:
            yield fact


def _available(
    ctx: RuleContext, categories: tuple[ResultCategory, ...] | None = None
) -> list[Fact[Result]]:
    """Available results (of ``categories`` when given), earliest first."""
    found = [
        f
        for f in ctx.profile.results
        if f.value.status not in _UNAVAILABLE
        and (categories is None or f.value.category in categories)
    ]
    return sorted(found, key=lambda f: (f.value.issued, f.key))


def _results_by_order(results: list[Fact[Result]]) -> dict[str, list[Fact[Result]]]:
    """Available results by the order ids they answer, earliest first."""
    index: dict[str, list[Fact[Result]]] = {}
    for fact in results:
        for order_id in sorted(_based_on(fact)):
            index.setdefault(order_id, []).append(fact)
    return index


def _results_for(index: dict[str, list[Fact[Result]]], order: Fact[Order]) -> list[Fact[Result]]:
    found = {r.key: r for order_id in _ids(order) for r in index.get(order_id, ())}
    return sorted(found.values(), key=lambda f: (f.value.issued, f.key))


def _orders_by_id(ctx: RuleContext) -> dict[str, Fact[Order]]:
    index: dict[str, Fact[Order]] = {}
    for fact in sorted(ctx.profile.orders, key=lambda f: f.key):
        for order_id in sorted(_ids(fact)):
            index.setdefault(order_id, fact)
    return index


def _order_of(index: dict[str, Fact[Order]], result: Fact[Result]) -> Fact[Order] | None:
    return next((index[o] for o in sorted(_based_on(result)) if o in index), None)


def _day(ctx: RuleContext, when: dt.datetime) -> str:
    return ctx.local_date(when).isoformat()


def _died(ctx: RuleContext, due: dt.date | dt.datetime) -> str | None:
    day = due if not isinstance(due, dt.datetime) else ctx.local_date(due)
    return "patient died" if ctx.died_by(day) else None


def _label(order: Fact[Order] | None) -> str:
    if order is not None:
        return f"{_KIND_LABEL[order.value.kind]} result"
    return "Result"


# --------------------------------------------------------------------------- result.missing


@define_rule(
    _meta(
        id="result.missing",
        title="Ordered test has no result",
        description=(
            "A lab or imaging order has no result based on it: the test may never have "
            "been done, or its result never reached the record. The result follow-up "
            "literature (Callen et al. 2012) finds many ambulatory results lost this way; "
            "the FHIR signal is an order that no report references in basedOn."
        ),
        opens="A lab, imaging or other diagnostic order is placed (not a draft).",
        due="14 days after the order (lab); 30 days (imaging and other diagnostics).",
        closes="A result based on the order (Result.based_on names it) is available.",
        exclusions=("Order revoked before a result came back.", "Patient died."),
        sources=(_CALLEN, _FHIR_BASED_ON),
        reads=frozenset({"orders", "results", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Missing(RuleBase):
    lab_within_days: int = param(14, "Days after a lab order for its result.", unit="days")
    imaging_within_days: int = param(30, "Days after an imaging order for its result.", unit="days")
    other_within_days: int = param(
        30, "Days after an other-diagnostic order (ECG, spirometry...).", unit="days"
    )

    def _window(self, kind: OrderKind) -> int | None:
        return {
            OrderKind.LAB: self.lab_within_days,
            OrderKind.IMAGING: self.imaging_within_days,
            OrderKind.OTHER_DIAGNOSTIC: self.other_within_days,
        }.get(kind)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        by_order = _results_by_order(_available(ctx))
        for fact in _orders(ctx):
            order = fact.value
            days = self._window(order.kind)
            if days is None:
                continue
            day = ctx.local_date(order.authored_on)
            due = ctx.add_days(day, days)
            results = _results_for(by_order, fact)
            closed_by = (ctx.closing(results[0], "result received"),) if results else ()
            excluded = _died(ctx, due)
            if order.status is OrderStatus.REVOKED:
                excluded = "order revoked"
            label = _KIND_LABEL[order.kind]
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=order.authored_on,
                summary=f"{label} order placed {day.isoformat()} has no result.",
                action="Check with the performing lab or imaging centre whether the test was "
                "done, and get the result or reschedule the test.",
                evidence=(ctx.trigger(fact, f"{label.lower()} order placed"),),
                closed_by=closed_by,
                closed_at=results[0].value.issued if results else None,
                not_applicable=excluded,
                severity=Severity.HIGH if order.priority.is_expedited else None,
            )


def result_missing(
    *, lab_within_days: int = 14, imaging_within_days: int = 30, other_within_days: int = 30
) -> Rule:
    """``result.missing``: no result 14 days (lab) or 30 days (imaging) after the order."""
    return _Missing(
        lab_within_days=lab_within_days,
        imaging_within_days=imaging_within_days,
        other_within_days=other_within_days,
    )


# --------------------------------------------------------------------------- result.unacknowledged


def _acknowledgement(
    fact: Fact[Result], orderer: Ref | None, index: TeamIndex, as_of: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """The first acknowledgement by someone responsible: when, and by whom (a label)."""
    acks = sorted({a for v in fact.variants for a in v.acknowledgements}, key=lambda a: a.at)
    for ack in acks:
        if ack.at > as_of:
            continue
        if orderer is not None and ack.by == orderer:
            return ack.at, "acknowledged by the ordering clinician"
        if index.is_member(ack.by, ack.at):
            return ack.at, "acknowledged by a care-team member"
        if orderer is None and not index.active.covers(ack.at):
            return ack.at, "acknowledged (no orderer or care team on record)"
    return None


@define_rule(
    _meta(
        id="result.unacknowledged",
        title="Result not acknowledged",
        description=(
            "Nobody responsible has acknowledged an available result: not the ordering "
            "clinician and no active care-team member. Critical results must be seen "
            "within 24 hours. NPSG.02.03.01 lets each organisation set its own timeframe "
            "for critical results and covers no other results; carecoord follows its "
            "domain table (3 business days; 24 hours if critical) for every laboratory and "
            "imaging result, and every result of unknown category (surveys such as a PHQ-9, "
            "vital signs and social history are not followed by default: categories)."
        ),
        opens="A result of a followed category is available (preliminary, final or amended).",
        due="3 business days after the result is issued; 24 hours when it is critical.",
        closes="An acknowledgement by the ordering clinician or by a member of the "
        "patient's care team active at the time (any acknowledgement when neither is "
        "on record).",
        exclusions=("Patient died.",),
        sources=(_NPSG, _CALLEN),
        reads=frozenset({"results", "orders", "care_teams", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Unacknowledged(RuleBase):
    within_business_days: int = param(
        3, "Business days after issue to acknowledge a result.", unit="business days"
    )
    critical_within_hours: int = param(
        24, "Hours after issue to acknowledge a critical result.", unit="hours"
    )
    categories: tuple[ResultCategory, ...] = param(
        _RESULT_CATEGORIES, _CATEGORIES_HELP, validator=_result_categories
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        orders = _orders_by_id(ctx)
        index = ctx.cached("care-team.index", TeamIndex)
        for fact in _available(ctx, self.categories):
            result = fact.value
            critical = result.interpretation is Interpretation.CRITICAL
            due: dt.date | dt.datetime
            if critical:
                due = result.issued + dt.timedelta(hours=self.critical_within_hours)
            else:
                due = ctx.add_business_days(
                    ctx.local_date(result.issued), self.within_business_days
                )
            order = _order_of(orders, fact)
            orderer = order.value.requester if order is not None else None
            found = _acknowledgement(fact, orderer, index, ctx.as_of)
            label = _label(order)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=result.issued,
                summary=f"{'Critical r' if critical else 'R'}esult issued "
                f"{_day(ctx, result.issued)} has not been acknowledged.",
                action="Make sure the ordering clinician (or the covering clinician) has "
                "seen the result and acknowledge it.",
                evidence=(ctx.trigger(fact, f"{label.lower()} available"),),
                closed_by=(ctx.closing(fact, found[1]),) if found else (),
                closed_at=found[0] if found else None,
                not_applicable=_died(ctx, due),
                severity=Severity.CRITICAL if critical else None,
                sensitivity=result.sensitivity,
            )


def result_unacknowledged(
    *,
    within_business_days: int = 3,
    critical_within_hours: int = 24,
    categories: tuple[ResultCategory, ...] = _RESULT_CATEGORIES,
) -> Rule:
    """``result.unacknowledged``: not acknowledged in 3 business days (24 hours if critical)."""
    return _Unacknowledged(
        within_business_days=within_business_days,
        critical_within_hours=critical_within_hours,
        categories=categories,
    )


# --------------------------------------------------------------------------- abnormal follow-up


@attrs.frozen
class _Candidates:
    """What may follow a result up, gathered once per evaluation.

    Finished or ongoing visits by what they are based on, and the outpatient ones by
    performer (in time order); orders by code (in time order); tasks and patient messages
    by what they are about.
    """

    visits_by_based_on: dict[Ref, list[Fact[Encounter]]]
    visits_by_performer: dict[Ref, Timeline[Encounter]]
    orders_by_code: dict[Code, Timeline[Order]]
    tasks_by_focus: dict[Ref, list[Fact[Task]]]
    messages_by_about: dict[Ref, list[Fact[Communication]]]

    @classmethod
    def gather(cls, ctx: RuleContext) -> _Candidates:
        """Index the profile's visits, orders, tasks and patient messages."""
        based_on: dict[Ref, list[Fact[Encounter]]] = {}
        performers: dict[Ref, list[tuple[dt.datetime, Fact[Encounter]]]] = {}
        for visit in ctx.profile.encounters:
            v = visit.value
            if v.status not in _VISIT_STATUSES:
                continue
            for ref in v.based_on:
                based_on.setdefault(ref, []).append(visit)
            if v.klass in _OUTPATIENT:
                for performer in dict.fromkeys(v.performers):
                    performers.setdefault(performer, []).append((v.start, visit))
        orders: dict[Code, list[tuple[dt.datetime, Fact[Order]]]] = {}
        for order in ctx.profile.orders:
            if order.value.status not in _IGNORED_ORDERS:
                orders.setdefault(order.value.code, []).append((order.value.authored_on, order))
        tasks: dict[Ref, list[Fact[Task]]] = {}
        for task in ctx.profile.tasks:
            t = task.value
            if t.focus is not None and t.status not in _DEAD_TASKS:
                tasks.setdefault(t.focus, []).append(task)
        messages: dict[Ref, list[Fact[Communication]]] = {}
        for message in ctx.profile.communications:
            m = message.value
            if m.kind in _FOLLOW_UP_MESSAGES and m.status != "not-done":
                for ref in m.about:
                    messages.setdefault(ref, []).append(message)
        return cls(
            based_on,
            {performer: Timeline(v, ctx.local_date) for performer, v in performers.items()},
            {code: Timeline(o, ctx.local_date) for code, o in orders.items()},
            tasks,
            messages,
        )


def _follow_up(
    ctx: RuleContext, fact: Fact[Result], order: Fact[Order] | None, candidates: _Candidates
) -> tuple[Evidence, dt.datetime] | None:
    """The first follow-up of a result: a visit, repeat order, task or patient message."""
    result = fact.value
    issued = result.issued
    refs = refs_to(fact, "Result")
    orderer = None
    if order is not None:
        refs = refs | refs_to(order, "Order")
        orderer = order.value.requester
    found: list[tuple[dt.datetime, str, Fact[Any], str]] = []
    # the first visit since it was issued, based on it or (outpatient) with the orderer
    visits = [
        visit
        for ref in refs
        for visit in candidates.visits_by_based_on.get(ref, ())
        if visit.value.start >= issued
    ]
    with_orderer = candidates.visits_by_performer.get(orderer) if orderer is not None else None
    if with_orderer is not None:
        visits.extend(itertools.islice(with_orderer.from_instant(issued), 1))
    if visits:
        visit = min(visits, key=lambda f: (f.value.start, f.key))
        found.append((visit.value.start, visit.key, visit, "follow-up visit"))
    same_test = candidates.orders_by_code.get(result.code)
    repeat = (
        next((o for o in same_test.from_instant(issued) if o is not order), None)
        if same_test is not None
        else None
    )
    if repeat is not None:
        found.append((repeat.value.authored_on, repeat.key, repeat, "repeat test ordered"))
    for ref in refs:
        found.extend(
            (t.value.authored_on, t.key, t, "follow-up task created")
            for t in candidates.tasks_by_focus.get(ref, ())
            if t.value.authored_on >= issued
        )
        found.extend(
            (m.value.sent, m.key, m, "patient told")
            for m in candidates.messages_by_about.get(ref, ())
            if m.value.sent >= issued
        )
    if not found:
        return None
    when, _, winner, description = min(found, key=lambda item: (item[0], item[1]))
    return ctx.closing(winner, description), when


@define_rule(
    _meta(
        id="result.abnormal-no-follow-up",
        title="Abnormal result without follow-up",
        description=(
            "An abnormal or critical result has had no follow-up: no visit, no repeat "
            "test, no task and no message to the patient about it. Orders cannot point "
            "at a result, so a repeat order of the same test counts as its follow-up. "
            "Laboratory, imaging and uncategorised results are followed by default "
            "(categories)."
        ),
        opens="An abnormal or critical result of a followed category is available.",
        due="30 days after the result is issued.",
        closes="After the result: a visit linked to it (or an outpatient visit with the "
        "ordering clinician), a repeat order of the same test, a task focused on it or "
        "its order, or a patient contact or result notification about it.",
        exclusions=("Patient died.",),
        sources=(_CALLEN, _NPSG),
        reads=frozenset({"results", "orders", "encounters", "tasks", "communications", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _AbnormalNoFollowUp(RuleBase):
    within_days: int = param(30, "Days after the result for a follow-up.", unit="days")
    categories: tuple[ResultCategory, ...] = param(
        _RESULT_CATEGORIES, _CATEGORIES_HELP, validator=_result_categories
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        orders = _orders_by_id(ctx)
        candidates = _Candidates.gather(ctx)
        for fact in _available(ctx, self.categories):
            result = fact.value
            if not result.interpretation.needs_follow_up:
                continue
            critical = result.interpretation is Interpretation.CRITICAL
            day = ctx.local_date(result.issued)
            due = ctx.add_days(day, self.within_days)
            order = _order_of(orders, fact)
            found = _follow_up(ctx, fact, order, candidates)
            what = "Critical" if critical else "Abnormal"
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=result.issued,
                summary=f"{what} result issued {day.isoformat()} has no follow-up.",
                action="Contact the patient about the result and arrange the follow-up "
                "(visit, repeat test or referral).",
                evidence=(ctx.trigger(fact, f"{what.lower()} result"),),
                closed_by=(found[0],) if found else (),
                closed_at=found[1] if found else None,
                not_applicable=_died(ctx, due),
                severity=Severity.CRITICAL if critical else None,
                sensitivity=result.sensitivity,
            )


def result_abnormal_no_follow_up(
    *, within_days: int = 30, categories: tuple[ResultCategory, ...] = _RESULT_CATEGORIES
) -> Rule:
    """``result.abnormal-no-follow-up``: an abnormal result with no follow-up in 30 days."""
    return _AbnormalNoFollowUp(within_days=within_days, categories=categories)


RULES: tuple[Rule, ...] = (
    result_missing(),
    result_unacknowledged(),
    result_abnormal_no_follow_up(),
)
"""The result family with its published defaults, in catalogue order."""
