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

They read results **by report**: a report (or panel) and the results it groups
(``Result.members``, directly or through a panel inside it) are one result to read and act
on. The report gets the gap, its members none of their own, and the evidence lists them;
acknowledging the report acknowledges its members. A result that no available report
groups stands on its own.
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
    Sensitivity,
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

# Tuples of enum members, not frozensets: ``in`` then compares by identity in C, where a
# set would call each member's Python-level __hash__ (these are read once per fact).
_IGNORED_ORDERS = (
    OrderStatus.DRAFT,
    OrderStatus.ENTERED_IN_ERROR,
)
_UNAVAILABLE = (
    ResultStatus.REGISTERED,
    ResultStatus.CANCELLED,
    ResultStatus.ENTERED_IN_ERROR,
)
_OUTPATIENT = (
    EncounterClass.AMBULATORY,
    EncounterClass.VIRTUAL,
    EncounterClass.TELEPHONE,
    EncounterClass.HOME,
)
_VISIT_STATUSES = (
    EncounterStatus.FINISHED,
    EncounterStatus.IN_PROGRESS,
)
_FOLLOW_UP_MESSAGES = (
    CommunicationKind.PATIENT_CONTACT,
    CommunicationKind.RESULT_NOTIFICATION,
)
_DEAD_TASKS = (
    TaskStatus.CANCELLED,
    TaskStatus.REJECTED,
    TaskStatus.ENTERED_IN_ERROR,
)
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


def _available(ctx: RuleContext) -> list[Fact[Result]]:
    """Available results, earliest first."""
    found = [
        (f.value.issued, f.key, n, f)
        for n, f in enumerate(ctx.profile.results)
        if f.value.status not in _UNAVAILABLE
    ]
    found.sort()  # by (issued, key); equal ones in profile order, as a stable sort keeps them
    return [f for _issued, _key, _n, f in found]


@attrs.frozen
class _Report:
    """An available result with the available results it groups (none when on its own).

    ``members`` are in time order, nested panels flattened; the report itself is not one.
    """

    fact: Fact[Result]
    members: tuple[Fact[Result], ...] = ()

    @property
    def parts(self) -> tuple[Fact[Result], ...]:
        """The report, then its members."""
        return (self.fact, *self.members)

    def followed(self, categories: tuple[ResultCategory, ...]) -> bool:
        """Whether the report or one of its members is of a followed category."""
        return self.fact.value.category in categories or any(
            p.value.category in categories for p in self.members
        )

    @property
    def critical(self) -> bool:
        """Whether the report or one of its members is critical."""
        return any(p.value.interpretation is Interpretation.CRITICAL for p in self.parts)

    @property
    def sensitivity(self) -> frozenset[Sensitivity]:
        """Every label of the report and its members."""
        return frozenset().union(*(p.value.sensitivity for p in self.parts))


def _member_index(
    results: list[Fact[Result]], keys: dict[int, str]
) -> dict[str, list[Fact[Result]]]:
    """Result key -> the results it groups directly (same source, available), in order.

    ``keys`` is each result's :attr:`Fact.key`, by ``id`` (worked out once).
    """
    by_id: dict[tuple[str, str], Fact[Result]] = {}
    grouping: list[Fact[Result]] = []  # the results that group others
    for fact in results:
        groups = False
        for provenance, variant in zip(fact.provenance, fact.variants, strict=True):
            by_id.setdefault((provenance.source, variant.id), fact)
            groups = groups or bool(variant.members)
        if groups:
            grouping.append(fact)
    index: dict[str, list[Fact[Result]]] = {}
    for fact in grouping:
        found: dict[str, Fact[Result]] | None = None
        key = keys[id(fact)]
        for provenance, variant in zip(fact.provenance, fact.variants, strict=True):
            if not variant.members:
                continue
            source = provenance.source
            for member_id in variant.members:
                member = by_id.get((source, member_id))
                if member is not None:
                    member_key = keys[id(member)]
                    if member_key != key:
                        if found is None:
                            found = {}
                        found.setdefault(member_key, member)
        if found:
            index[key] = list(found.values())
    return index


def _reports(ctx: RuleContext) -> tuple[_Report, ...]:
    """Available results grouped by report, earliest first (shared by the result rules).

    A result grouped by an available report (directly or through a panel in it) is one of
    that report's members and not a report of its own. Members are looked up by id in the
    report's own source. Results that group each other in a loop are read as one report,
    on the earliest of them.
    """
    results = ctx.cached("results.available", _available)
    keys = {id(fact): fact.key for fact in results}
    index = _member_index(results, keys)
    grouped = {keys[id(m)] for members in index.values() for m in members}
    claimed: set[str] = set()
    found: list[_Report] = []
    tops = [f for f in results if keys[id(f)] not in grouped]
    loops = [f for f in results if keys[id(f)] in grouped]
    ordered = True  # reports made from tops alone come in the results' order already
    for n, fact in enumerate((*tops, *loops)):
        key = keys[id(fact)]
        if key in claimed:
            continue
        claimed.add(key)
        ordered = ordered and n < len(tops)
        own = index.get(key)
        if not own:
            found.append(_report(fact, ()))
            continue
        members: list[Fact[Result]] = []
        stack = list(reversed(own))
        while stack:
            member = stack.pop()
            member_key = keys[id(member)]
            if member_key in claimed:
                continue
            claimed.add(member_key)
            members.append(member)
            stack.extend(reversed(index.get(member_key, ())))
        members.sort(key=lambda f: (f.value.issued, keys[id(f)]))
        found.append(_report(fact, tuple(members)))
    if not ordered:  # a loop's report joins: sort (a stable sort keeps equal ones in place)
        found.sort(key=lambda r: (r.fact.value.issued, keys[id(r.fact)]))
    return tuple(found)


def _report(fact: Fact[Result], members: tuple[Fact[Result], ...]) -> _Report:
    """``_Report(fact, members)``, set field by field (one per available result)."""
    report: _Report = _new(_Report)
    _set(report, "fact", fact)
    _set(report, "members", members)
    return report


_new = object.__new__
_set = object.__setattr__


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
    variants = result.variants
    if len(variants) == 1 and not variants[0].based_on:  # the usual result: no order named
        return None
    return next((index[o] for o in sorted(_based_on(result)) if o in index), None)


def _report_order(index: dict[str, Fact[Order]], report: _Report) -> Fact[Order] | None:
    """The order the report answers, else the first order one of its members answers."""
    if not index:  # no orders on record: none to find
        return None
    return next((o for p in report.parts if (o := _order_of(index, p)) is not None), None)


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
        if not ctx.profile.orders:  # no order, no result to miss
            return
        by_order = _results_by_order(ctx.cached("results.available", _available))
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


def _report_acknowledgement(
    report: _Report, orderer: Ref | None, index: TeamIndex, as_of: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """When a report was acknowledged: its own acknowledgement, else the last of its members'.

    Acknowledging the report acknowledges every result in it; a report whose members were
    all acknowledged one by one is acknowledged when the last of them was.
    """
    own = _acknowledgement(report.fact, orderer, index, as_of)
    if own is not None or not report.members:
        return own
    each = []
    for member in report.members:
        found = _acknowledgement(member, orderer, index, as_of)
        if found is None:  # one member unacknowledged: the report is not
            return None
        each.append(found)
    last = max(each, key=lambda a: a[0])
    return last[0], "every result in the report acknowledged"


def _acknowledgement(
    fact: Fact[Result], orderer: Ref | None, index: TeamIndex, as_of: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """The first acknowledgement by someone responsible: when, and by whom (a label)."""
    variants = fact.variants
    if len(variants) == 1 and not variants[0].acknowledgements:  # the usual result
        return None
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
            "clinician and no active care-team member. Results are read by report: a "
            "report (or panel) and the results it groups get one gap, on the report, "
            "listing its members; acknowledging the report acknowledges them, and a "
            "critical member makes the report critical. Critical results must be seen "
            "within 24 hours. NPSG.02.03.01 lets each organisation set its own timeframe "
            "for critical results and covers no other results; carecoord follows its "
            "domain table (3 business days; 24 hours if critical) for every laboratory and "
            "imaging result, and every result of unknown category (surveys such as a PHQ-9, "
            "vital signs and social history are not followed by default: categories)."
        ),
        opens="A result of a followed category is available (preliminary, final or "
        "amended); a report with its results is one result.",
        due="3 business days after the result (or report) is issued; 24 hours when it, or "
        "a result in the report, is critical.",
        closes="An acknowledgement by the ordering clinician or by a member of the "
        "patient's care team active at the time (any acknowledgement when neither is "
        "on record), of the report, or of every result in it.",
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
        orders = ctx.cached("results.orders-by-id", _orders_by_id)
        index = ctx.cached("care-team.index", TeamIndex)
        for report in ctx.cached("results.reports", _reports):
            if report.followed(self.categories):
                yield self._gap(ctx, report, orders, index)

    def _gap(
        self,
        ctx: RuleContext,
        report: _Report,
        orders: dict[str, Fact[Order]],
        index: TeamIndex,
    ) -> Gap:
        fact, result, critical = report.fact, report.fact.value, report.critical
        due: dt.date | dt.datetime
        if critical:
            due = result.issued + dt.timedelta(hours=self.critical_within_hours)
        else:
            due = ctx.add_business_days(ctx.local_date(result.issued), self.within_business_days)
        order = _report_order(orders, report)
        orderer = order.value.requester if order is not None else None
        found = _report_acknowledgement(report, orderer, index, ctx.as_of)
        label = _label(order)
        what = "Critical r" if critical else "R"
        if report.members:
            count = len(report.members)
            summary = (
                f"{what}eport issued {_day(ctx, result.issued)} ({count} "
                f"result{'s' if count > 1 else ''}) has not been acknowledged."
            )
            trigger = ctx.trigger(fact, f"{label.lower().replace('result', 'report')} available")
        else:
            summary = f"{what}esult issued {_day(ctx, result.issued)} has not been acknowledged."
            trigger = ctx.trigger(fact, f"{label.lower()} available")
        return ctx.gap(
            focus=fact.key,
            due=due,
            opened=result.issued,
            summary=summary,
            action="Make sure the ordering clinician (or the covering clinician) has "
            "seen the result and acknowledge it.",
            evidence=(trigger, *(ctx.context(m, "result in the report") for m in report.members)),
            closed_by=(ctx.closing(fact, found[1]),) if found else (),
            closed_at=found[0] if found else None,
            not_applicable=_died(ctx, due),
            severity=Severity.CRITICAL if critical else None,
            sensitivity=report.sensitivity,
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
    ctx: RuleContext,
    facts: tuple[Fact[Result], ...],
    order: Fact[Order] | None,
    candidates: _Candidates,
) -> tuple[Evidence, dt.datetime] | None:
    """The first follow-up of a result (or of a report and its abnormal results).

    ``facts`` are the report first, then the results in it that need follow-up: a visit, a
    repeat order of any of their tests, a task or a patient message about any of them.
    """
    issued = facts[0].value.issued
    refs = frozenset().union(*(refs_to(f, "Result") for f in facts))
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
    for code in dict.fromkeys(f.value.code for f in facts):
        same_test = candidates.orders_by_code.get(code)
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
            "Results are read by report: a report whose results include abnormal ones gets "
            "one gap, on the report, listing them; following up the report or any of them "
            "closes it. "
            "Laboratory, imaging and uncategorised results are followed by default "
            "(categories)."
        ),
        opens="An abnormal or critical result of a followed category is available (a report "
        "with abnormal results in it is one).",
        due="30 days after the result (or report) is issued.",
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
        orders = ctx.cached("results.orders-by-id", _orders_by_id)
        candidates: _Candidates | None = None  # gathered for the first abnormal report
        for report in ctx.cached("results.reports", _reports):
            abnormal = tuple(
                p
                for p in report.parts
                if p.value.interpretation.needs_follow_up and p.value.category in self.categories
            )
            if abnormal:
                if candidates is None:
                    candidates = _Candidates.gather(ctx)
                yield self._gap(ctx, report, abnormal, _report_order(orders, report), candidates)

    def _gap(
        self,
        ctx: RuleContext,
        report: _Report,
        abnormal: tuple[Fact[Result], ...],
        order: Fact[Order] | None,
        candidates: _Candidates,
    ) -> Gap:
        fact, result = report.fact, report.fact.value
        critical = any(p.value.interpretation is Interpretation.CRITICAL for p in abnormal)
        day = ctx.local_date(result.issued)
        due = ctx.add_days(day, self.within_days)
        found = _follow_up(ctx, (fact, *(p for p in abnormal if p is not fact)), order, candidates)
        what = "Critical" if critical else "Abnormal"
        members = [p for p in abnormal if p is not fact]
        if members:
            count = len(members)
            summary = (
                f"{count} {what.lower()} result{'s' if count > 1 else ''} in the report "
                f"issued {day.isoformat()} {'have' if count > 1 else 'has'} no follow-up."
            )
            evidence = (
                ctx.trigger(fact, f"report with {what.lower()} results"),
                *(ctx.context(m, f"{m.value.interpretation.value} result") for m in members),
            )
        else:
            summary = f"{what} result issued {day.isoformat()} has no follow-up."
            evidence = (ctx.trigger(fact, f"{what.lower()} result"),)
        return ctx.gap(
            focus=fact.key,
            due=due,
            opened=result.issued,
            summary=summary,
            action="Contact the patient about the result and arrange the follow-up "
            "(visit, repeat test or referral).",
            evidence=evidence,
            closed_by=(found[0],) if found else (),
            closed_at=found[1] if found else None,
            not_applicable=_died(ctx, due),
            severity=Severity.CRITICAL if critical else None,
            sensitivity=report.sensitivity,
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
