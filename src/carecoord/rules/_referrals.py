"""Referral rules: the closed loop, from sending to the consultant's report.

Every rule reads the referral as it stood at ``as_of`` (history replayed), the
appointments booked for it (``Appointment.based_on`` pointing at the referral) and the
communications about it. Referrals entered in error are ignored; a referral cancelled
before a step was met makes that step's gap not applicable, and so does the patient's
death on or before the due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, cast

import attrs

from carecoord.domain import (
    Appointment,
    AppointmentStatus,
    Code,
    Communication,
    CommunicationKind,
    Discipline,
    Document,
    Ref,
    Referral,
    ReferralStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._codes import code_matcher, refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Ranked
from carecoord.rules._model import (
    Citation,
    Evidence,
    Exclusion,
    Gap,
    RuleMetadata,
    Severity,
)
from carecoord.terminology import ValueSetName

__all__ = [
    "FAMILY",
    "RULES",
    "referral_declined_no_alternative",
    "referral_loop_open",
    "referral_missed_appointment",
    "referral_prior_auth_overdue",
    "referral_report_missing",
    "referral_unacknowledged",
    "referral_unscheduled",
]

FAMILY = "referrals"

_S = ReferralStatus
_ACKNOWLEDGED = frozenset(
    {
        _S.RECEIVED,
        _S.ACCEPTED,
        _S.DECLINED,
        _S.SCHEDULED,
        _S.NO_SHOW,
        _S.APPOINTMENT_CANCELLED,
        _S.SEEN,
        _S.REPORT_RECEIVED,
        _S.CLOSED,
    }
)
_SCHEDULED = frozenset(
    {_S.SCHEDULED, _S.NO_SHOW, _S.APPOINTMENT_CANCELLED, _S.SEEN, _S.REPORT_RECEIVED, _S.CLOSED}
)
_REPORTED = frozenset({_S.REPORT_RECEIVED, _S.CLOSED})
_NOT_COUNTED = frozenset({_S.DRAFT, _S.ENTERED_IN_ERROR})

_BSER = Citation(
    "HL7 BSeR referral Task business status (2.0 created ... 7.0 completed)",
    "https://hl7.org/fhir/us/bser/",
)
_360X = Citation(
    "IHE 360X closed-loop referral (PCC-55..61)",
    "https://oncprojectracking.healthit.gov/wiki/display/TechLab360X",
)
_CMS50 = Citation(
    "CMS50v14 Closing the Referral Loop: Receipt of Specialist Report",
    "https://ecqi.healthit.gov/ecqm/ec/2026/cms0050v14",
)
_CMS0057 = Citation(
    "CMS-0057-F Interoperability and Prior Authorization final rule (89 FR 8758)",
    "https://www.federalregister.gov/d/2024-00895",
)

_READS = frozenset({"referrals", "patient"})


# --------------------------------------------------------------------------- helpers


def _referrals(ctx: RuleContext) -> Iterator[Fact[Referral]]:
    for fact in ctx.profile.referrals:
        if fact.value.status is not _S.ENTERED_IN_ERROR:
            yield fact


def _sent_at(ref: Referral) -> dt.datetime | None:
    """When the referral was sent (its authoring time when sent without a record of when)."""
    if ref.status is _S.DRAFT:
        return None
    return ref.sent_at or ref.first_reached(_S.SENT) or ref.authored_on


def _first_change(ref: Referral, statuses: frozenset[ReferralStatus]) -> dt.datetime | None:
    values = {s.value for s in statuses}
    return next((c.at for c in ref.history if c.to_status in values), None)


def _label(ref: Referral) -> str:
    if ref.specialty is not None and ref.specialty.display:
        return f"{ref.specialty.display} referral"
    return "Referral"


def _day(ctx: RuleContext, when: dt.datetime) -> str:
    return ctx.local_date(when).isoformat()


_ByRef = dict[Ref, list[tuple[int, Fact[Any]]]]


def _by_ref(
    facts: Iterator[tuple[int, Fact[Any]]], refs: Callable[[Any], tuple[Ref, ...]]
) -> _ByRef:
    """``(place in the profile, fact)`` pairs grouped under each reference in ``refs(value)``."""
    index: _ByRef = {}
    for place, fact in facts:
        for ref in refs(fact.value):
            index.setdefault(ref, []).append((place, fact))
    return index


def _linked(index: _ByRef, fact: Fact[Referral]) -> list[Fact[Any]]:
    """The facts ``index`` holds under any of the referral's references, in profile order."""
    found = {
        place: linked for ref in refs_to(fact, "Referral") for place, linked in index.get(ref, ())
    }
    return [found[place] for place in sorted(found)]


def _appointments_by_ref(ctx: RuleContext) -> _ByRef:
    """The appointments (not entered in error) under each referral they are based on."""
    return _by_ref(
        (
            (n, a)
            for n, a in enumerate(ctx.profile.appointments)
            if a.value.status is not AppointmentStatus.ENTERED_IN_ERROR
        ),
        lambda appt: appt.based_on,
    )


def _appointments(ctx: RuleContext, fact: Fact[Referral]) -> list[Fact[Appointment]]:
    """The referral's appointments, by start (then key)."""
    found = _linked(ctx.cached("referrals.appointments", _appointments_by_ref), fact)
    return sorted(found, key=lambda a: (a.value.start, a.key))


def _reports_by_ref(ctx: RuleContext) -> _ByRef:
    """Consult reports (not "not-done") under each fact they are about."""
    return _by_ref(
        (
            (n, m)
            for n, m in enumerate(ctx.profile.communications)
            if m.value.kind is CommunicationKind.CONSULT_REPORT and m.value.status != "not-done"
        ),
        lambda message: message.about,
    )


def _booked_at(appt: Appointment) -> dt.datetime | None:
    return appt.booked_at or appt.recorded_at


def _common_exclusion(ctx: RuleContext, ref: Referral, due: dt.date) -> str | None:
    if ref.status is _S.CANCELLED:
        return "referral cancelled"
    if ctx.died_by(due):
        return "patient died"
    return None


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


# --------------------------------------------------------------------------- rules


@define_rule(
    _meta(
        id="referral.unacknowledged",
        title="Referral not acknowledged",
        description=(
            "The recipient has not acknowledged a sent referral (received, accepted or "
            "declined) within a few business days, so nobody knows whether it arrived."
        ),
        opens="The referral is sent.",
        due="3 business days after sending.",
        closes="The recipient received, accepted or declined it (any later step also counts).",
        exclusions=("Referral cancelled before acknowledgement.", "Patient died."),
        sources=(_360X, _BSER),
        reads=_READS,
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Unacknowledged(RuleBase):
    within_business_days: int = param(3, "Business days the recipient has to acknowledge.")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            ref = fact.value
            sent = _sent_at(ref)
            if sent is None:
                continue
            due = ctx.add_business_days(ctx.local_date(sent), self.within_business_days)
            closed_by: tuple[Evidence, ...] = ()
            closed_at = _first_change(ref, _ACKNOWLEDGED)
            if closed_at is not None or ref.status in _ACKNOWLEDGED:
                closed_by = (ctx.closing(fact, "the recipient acknowledged the referral"),)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=sent,
                summary=f"{_label(ref)} sent {_day(ctx, sent)} has not been acknowledged.",
                action="Contact the recipient to confirm they received the referral.",
                evidence=(ctx.trigger(fact, "referral sent"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=_common_exclusion(ctx, ref, due),
                severity=Severity.HIGH if ref.priority.is_expedited else None,
                standing=ref.is_open and not closed_by,  # still waiting, however long
            )


def referral_unacknowledged(*, within_business_days: int = 3) -> Rule:
    """``referral.unacknowledged``: no acknowledgement N business days after sending."""
    return _Unacknowledged(within_business_days=within_business_days)


@define_rule(
    _meta(
        id="referral.unscheduled",
        title="Referral not scheduled",
        description=(
            "No appointment has been booked for a sent referral: the patient may be waiting "
            "for a call that never comes."
        ),
        opens="The referral is sent (the clock runs from sending, whether or not accepted).",
        due="14 days after sending; 3 days when the priority is urgent, asap or stat.",
        closes="An appointment is booked for the referral (or the referral reaches scheduled).",
        exclusions=("Referral declined or cancelled.", "Patient died."),
        sources=(_BSER,),
        reads=frozenset({"referrals", "appointments", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Unscheduled(RuleBase):
    within_days: int = param(14, "Days after sending to book a routine referral.", unit="days")
    urgent_within_days: int = param(
        3, "Days after sending to book an urgent, asap or stat referral.", unit="days"
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            ref = fact.value
            sent = _sent_at(ref)
            if sent is None:
                continue
            urgent = ref.priority.is_expedited
            days = self.urgent_within_days if urgent else self.within_days
            due = ctx.add_days(ctx.local_date(sent), days)
            closed_by: tuple[Evidence, ...] = ()
            closed_at = _first_change(ref, frozenset({_S.SCHEDULED}))
            appointments = _appointments(ctx, fact)
            if appointments:
                first = appointments[0]
                booked = _booked_at(first.value)
                closed_by = (ctx.closing(first, "appointment booked"),)
                if booked is not None and (closed_at is None or booked < closed_at):
                    closed_at = booked
            elif closed_at is not None or ref.status in _SCHEDULED or ref.appointments:
                closed_by = (ctx.closing(fact, "the referral was scheduled"),)
            excluded = _common_exclusion(ctx, ref, due)
            if ref.status is _S.DECLINED:
                excluded = "referral declined"
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=sent,
                summary=f"{_label(ref)} sent {_day(ctx, sent)} has no appointment booked.",
                action="Call the recipient's office or the patient to book the appointment.",
                evidence=(ctx.trigger(fact, "referral sent"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=excluded,
                severity=Severity.HIGH if urgent else None,
                standing=ref.is_open and not closed_by,
            )


def referral_unscheduled(*, within_days: int = 14, urgent_within_days: int = 3) -> Rule:
    """``referral.unscheduled``: no appointment booked N days after sending."""
    return _Unscheduled(within_days=within_days, urgent_within_days=urgent_within_days)


_MISSED = frozenset({AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED})
_MISSED_STATUSES = frozenset({_S.NO_SHOW, _S.APPOINTMENT_CANCELLED})


@define_rule(
    _meta(
        id="referral.missed-appointment",
        title="Missed referral appointment not rebooked",
        description=(
            "The patient did not attend the referral appointment, or it was cancelled, and "
            "no new appointment has been booked."
        ),
        opens="An appointment for the referral is a no-show or is cancelled.",
        due="7 days later.",
        closes="A new appointment is booked for the referral.",
        exclusions=("Referral cancelled or declined.", "Patient died."),
        sources=(_BSER, _360X),
        reads=frozenset({"referrals", "appointments", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _MissedAppointment(RuleBase):
    within_days: int = param(7, "Days after the missed appointment to rebook.", unit="days")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            appointments = _appointments(ctx, fact)
            if appointments:
                yield from self._from_appointments(ctx, fact, appointments)
            else:
                yield from self._from_history(ctx, fact)

    def _from_appointments(
        self, ctx: RuleContext, fact: Fact[Referral], appointments: list[Fact[Appointment]]
    ) -> Iterator[Gap]:
        for missed in appointments:
            appt = missed.value
            if appt.status not in _MISSED:
                continue
            at = appt.status_changed_at or appt.start
            due = ctx.add_days(ctx.local_date(at), self.within_days)
            what = "no-show" if appt.status is AppointmentStatus.NO_SHOW else "cancelled"
            later = [a for a in appointments if a.value.start > appt.start]
            closed_by = (ctx.closing(later[0], "new appointment booked"),) if later else ()
            closed_at = _booked_at(later[0].value) if later else None
            yield self._gap(
                ctx,
                fact,
                focus=missed.key,
                at=at,
                due=due,
                what=what,
                closed=(closed_by, closed_at),
            )

    def _from_history(self, ctx: RuleContext, fact: Fact[Referral]) -> Iterator[Gap]:
        ref = fact.value
        history = ref.history
        missed = {s.value for s in _MISSED_STATUSES}
        misses = [i for i, c in enumerate(history) if c.to_status in missed]
        for number, index in enumerate(misses, start=1):
            change = history[index]
            due = ctx.add_days(ctx.local_date(change.at), self.within_days)
            rebooked = next(
                (c for c in history[index + 1 :] if c.to_status == _S.SCHEDULED.value), None
            )
            closed_by = (ctx.closing(fact, "the referral was scheduled again"),) if rebooked else ()
            what = "no-show" if change.to_status == _S.NO_SHOW.value else "cancelled"
            closed_at = rebooked.at if rebooked else None
            focus = f"{fact.key}#miss-{number}"
            yield self._gap(
                ctx,
                fact,
                focus=focus,
                at=change.at,
                due=due,
                what=what,
                closed=(closed_by, closed_at),
            )

    def _gap(
        self,
        ctx: RuleContext,
        fact: Fact[Referral],
        *,
        focus: str,
        at: dt.datetime,
        due: dt.date,
        what: str,
        closed: tuple[tuple[Evidence, ...], dt.datetime | None],
    ) -> Gap:
        ref = fact.value
        closed_by, closed_at = closed
        excluded = _common_exclusion(ctx, ref, due)
        if ref.status is _S.DECLINED:
            excluded = "referral declined"
        return ctx.gap(
            focus=focus,
            due=due,
            opened=at,
            summary=f"{_label(ref)} appointment {what} on {_day(ctx, at)}; not rebooked.",
            action="Reach the patient to rebook the appointment and remove barriers to attending.",
            evidence=(ctx.trigger(fact, f"appointment {what}"),),
            closed_by=closed_by,
            closed_at=closed_at,
            not_applicable=excluded,
            standing=ref.is_open and not closed_by,
        )


def referral_missed_appointment(*, within_days: int = 7) -> Rule:
    """``referral.missed-appointment``: a no-show or cancellation not rebooked in N days."""
    return _MissedAppointment(within_days=within_days)


def _seen_at(ctx: RuleContext, fact: Fact[Referral]) -> dt.datetime | None:
    ref = fact.value
    times = [t for t in (ref.seen_at, ref.first_reached(_S.SEEN)) if t is not None]
    times.extend(
        a.value.status_changed_at or a.value.end or a.value.start
        for a in _appointments(ctx, fact)
        if a.value.status is AppointmentStatus.FULFILLED
    )
    return min(times, default=None)


_Names = str | tuple[str, ...]


def _document_time(document: Document) -> dt.datetime | None:
    """When a document was made (else recorded); ``None`` when it says neither."""
    return document.when or document.recorded_at


def _report_documents(ctx: RuleContext, reports: _Names) -> tuple[_ByRef, list[Fact[Document]]]:
    """Consultant-report documents (``reports`` value sets; available, dated).

    Those naming a referral in their ``context``, under each reference; and those naming
    no referral at all (the unlinked ones, in profile order).
    """

    def build(ctx: RuleContext) -> tuple[_ByRef, list[Fact[Document]]]:
        is_report = code_matcher(ctx, reports)
        linked: list[tuple[int, Fact[Any]]] = []
        unlinked: list[Fact[Document]] = []
        for n, fact in enumerate(ctx.profile.documents):
            document = fact.value
            if not document.is_available or _document_time(document) is None:
                continue
            if not any(is_report(code) for code in document.types):
                continue
            if any(r.type == "Referral" for r in document.context):
                linked.append((n, fact))
            else:
                unlinked.append(fact)
        return _by_ref(iter(linked), lambda document: document.context), unlinked

    return ctx.cached(("referrals.report-documents", reports), build)


def _from_recipient(ctx: RuleContext, ref: Referral, document: Document) -> bool:
    """Whether the referral's recipient wrote or keeps the document.

    The recipient is the author or the custodian, or the organisation the author works
    for, or the recipient practitioner works for the custodian.
    """
    recipient = ref.recipient
    if recipient is None:
        return False
    if recipient in (document.author, document.custodian):
        return True
    author = document.author
    if recipient.type == "Organization" and author is not None and author.type == "Practitioner":
        practitioner = ctx.profile.practitioner(author)
        return practitioner is not None and practitioner.organization == recipient.id
    if recipient.type == "Practitioner" and document.custodian is not None:
        practitioner = ctx.profile.practitioner(recipient)
        return practitioner is not None and practitioner.organization == document.custodian.id
    return False


def _documented_reports(
    ctx: RuleContext, fact: Fact[Referral], after: dt.datetime, reports: _Names
) -> list[tuple[dt.datetime | None, Evidence]]:
    """Consultant-report documents that close the loop (CMS50: the report is received).

    A document of a ``reports`` type made on or after ``after``, and on or after the
    local day of the visit when one is known, whose context names the referral; or one
    naming no referral, from the referral's recipient (:func:`_from_recipient`), made on
    or after the local day of the visit (never without a visit).
    """
    by_ref, unlinked = _report_documents(ctx, reports)
    linked = _linked(by_ref, fact)
    if not linked and not unlinked:
        return []
    seen = _seen_at(ctx, fact)
    seen_day = None if seen is None else ctx.local_date(seen)

    def in_time(document: Document) -> dt.datetime | None:
        when = _document_time(document)
        if when is None or when < after:
            return None
        if seen_day is not None and ctx.local_date(when) < seen_day:
            return None
        return when

    found: list[tuple[dt.datetime | None, Evidence]] = []
    for document in linked:
        when = in_time(document.value)
        if when is not None:
            found.append((when, ctx.closing(document, "consultant report (document)")))
    if seen_day is None:
        return found
    for document in unlinked:
        when = in_time(document.value)
        if when is not None and _from_recipient(ctx, fact.value, document.value):
            found.append((when, ctx.closing(document, "consultant report from the recipient")))
    return found


def _report(
    ctx: RuleContext, fact: Fact[Referral], after: dt.datetime, reports: _Names
) -> tuple[Evidence, dt.datetime | None] | None:
    """The first consultant report for the referral: evidence and when it arrived.

    On the referral (its status or report time), a consult-report communication about
    it, or a consultant-report document (:func:`_documented_reports`).
    """
    ref = fact.value
    found: list[tuple[dt.datetime | None, Evidence]] = []
    when = ref.report_received_at or _first_change(ref, _REPORTED)
    if when is not None or ref.status in _REPORTED:
        found.append((when, ctx.closing(fact, "consultant report received")))
    reports_sent: list[Fact[Communication]] = _linked(
        ctx.cached("referrals.reports", _reports_by_ref), fact
    )
    for message in reports_sent:
        m = message.value
        if m.sent >= after:
            found.append((m.received or m.sent, ctx.closing(message, "consultant report")))
    found.extend(_documented_reports(ctx, fact, after, reports))
    if not found:
        return None
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    when, evidence = min(found, key=lambda item: item[0] or floor)
    return evidence, when


@define_rule(
    _meta(
        id="referral.report-missing",
        title="Consultant report not received",
        description=(
            "The patient was seen for the referral but the consultant's report has not "
            "reached the referrer, so the loop is still open."
        ),
        opens="The patient is seen for the referral (or its appointment is fulfilled).",
        due="30 days after the visit.",
        closes="The consultant report reaches the referrer: on the referral, a "
        "consult-report communication about it, or a consult-note document (the reports "
        "value set) made on or after the visit day that names the referral, or that names "
        "no referral and comes from its recipient.",
        exclusions=("Referral cancelled.", "Patient died."),
        sources=(_CMS50, _360X),
        reads=frozenset(
            {"referrals", "appointments", "communications", "documents", "patient", "practitioners"}
        ),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _ReportMissing(RuleBase):
    within_days: int = param(30, "Days after the visit for the report to arrive.", unit="days")
    reports: str | tuple[str, ...] = value_set_param(
        ValueSetName.CONSULT_NOTE, "Value set(s) of the document types that are a report."
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            ref = fact.value
            seen = _seen_at(ctx, fact)
            if seen is None:
                continue
            due = ctx.add_days(ctx.local_date(seen), self.within_days)
            report = _report(ctx, fact, ref.authored_on, self.reports)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=seen,
                summary=f"{_label(ref)}: patient seen {_day(ctx, seen)}; no report received.",
                action="Request the consultation report from the specialist's office.",
                evidence=(ctx.trigger(fact, "patient seen for the referral"),),
                closed_by=(report[0],) if report else (),
                closed_at=report[1] if report else None,
                not_applicable=_common_exclusion(ctx, ref, due),
                standing=ref.is_open and not report,
            )


def referral_report_missing(
    *, within_days: int = 30, reports: str | tuple[str, ...] = ValueSetName.CONSULT_NOTE
) -> Rule:
    """``referral.report-missing``: no consultant report N days after the visit."""
    return _ReportMissing(within_days=within_days, reports=reports)


def _optional_year(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999
    ):
        raise ValidationError(Problem(attribute.name, "a year, or None for the year of as_of"))


def _month_day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    try:
        month, day = cast("tuple[int, int]", value)
        dt.date(2024, month, day)  # a leap year accepts every real month-day
    except (TypeError, ValueError):
        raise ValidationError(Problem(attribute.name, "expected (month, day)")) from None


_CLOSED_LOOP_EXCLUDED = frozenset({_S.DRAFT, _S.ENTERED_IN_ERROR, _S.CANCELLED, _S.DECLINED})


@define_rule(
    _meta(
        id="referral.loop-open",
        title="Referral loop open at year end (CMS50)",
        description=(
            "The first referral of the measurement year (authored 1 January to 31 October) "
            "has no consultant report by 31 December: the eCQM's numerator is not met. "
            "Only the first referral counts, as in the measure; referral.report-missing "
            "follows every referral."
        ),
        opens="The first referral authored 1 January to 31 October of the measurement year.",
        due="31 December of the measurement year.",
        closes="The consultant report is received: on the referral (a completed fulfil "
        "Task with a report, or a completed Task coded as a consultant report, read as "
        "report-received), as a consult-report communication, or as a consult-note "
        "document, as for referral.report-missing. A completed fulfil Task alone does not "
        "say a written report came back, so it does not close the loop.",
        exclusion_details=(
            Exclusion(
                "Hospice care overlapping the measurement year (a discharge to hospice, a "
                "procedure or visit in the hospice value set, a hospice enrolment).",
                'CMS50v14 denominator exclusion: "Hospice services" (the Hospice library\'s '
                '"Has Hospice Services") that "overlaps the measurement period".',
                (_CMS50,),
            ),
            Exclusion(
                "Referrals cancelled, declined, draft or entered in error do not count; the "
                "next referral of the year is the first.",
                "CMS50v14 takes the first referral of the period that is active or "
                "completed, with intent order.",
                (_CMS50,),
            ),
            Exclusion(
                "The patient has died (by as_of).",
                "Not a CMS50 exclusion (a measure report may still count the year): for the "
                "care team nothing about a patient who has died is work (every rule).",
                (_CMS50,),
            ),
        ),
        sources=(_CMS50,),
        reads=frozenset(
            {
                "referrals",
                "communications",
                "documents",
                "appointments",
                "transitions",
                "enrollments",
                "procedures",
                "encounters",
                "patient",
                "practitioners",
            }
        ),
        value_sets=(ValueSetName.HOSPICE,),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _LoopOpen(RuleBase):
    measurement_year: int | None = param(
        None,
        "The measurement year; None means the calendar year of as_of (local date).",
        validator=_optional_year,
    )
    authored_through: tuple[int, int] = param(
        (10, 31),
        "Last (month, day) of the year on which the referral may be authored.",
        validator=_month_day,
    )
    reports: str | tuple[str, ...] = value_set_param(
        ValueSetName.CONSULT_NOTE, "Value set(s) of the document types that are a report."
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        year = self.measurement_year or ctx.today.year
        first_day = dt.date(year, 1, 1)
        last_day = dt.date(year, *self.authored_through)
        candidates = [
            f
            for f in ctx.profile.referrals
            if f.value.status not in _CLOSED_LOOP_EXCLUDED
            and first_day <= ctx.local_date(f.value.authored_on) <= last_day
        ]
        if not candidates:
            return
        fact = min(candidates, key=lambda f: (f.value.authored_on, f.key))
        ref = fact.value
        due = dt.date(year, 12, 31)
        report = _report(ctx, fact, ref.authored_on, self.reports)
        excluded = None
        if ctx.hospice_during(first_day, due):  # hospice overlapping the measurement period
            excluded = "hospice"
        elif ctx.died_by(due):
            excluded = "patient died"
        yield ctx.gap(
            focus=fact.key,
            due=due,
            opened=ref.authored_on,
            summary=(
                f"{_label(ref)} authored {_day(ctx, ref.authored_on)} (first of {year}) "
                "has no consultant report yet."
            ),
            action="Obtain the consultant report and document its receipt.",
            evidence=(ctx.trigger(fact, f"first referral of {year}"),),
            closed_by=(report[0],) if report else (),
            closed_at=report[1] if report else None,
            not_applicable=excluded,
        )


def referral_loop_open(
    *,
    measurement_year: int | None = None,
    authored_through: tuple[int, int] = (10, 31),
    reports: str | tuple[str, ...] = ValueSetName.CONSULT_NOTE,
) -> Rule:
    """``referral.loop-open``: CMS50v14, the year's first referral without a report."""
    return _LoopOpen(
        measurement_year=measurement_year, authored_through=authored_through, reports=reports
    )


@define_rule(
    _meta(
        id="referral.declined-no-alternative",
        title="Declined referral without a replacement",
        description=(
            "The recipient declined the referral and no replacement referral has been sent, "
            "so the need it served is unmet."
        ),
        opens="The referral is declined.",
        due="7 days later.",
        closes="A replacement referral is sent (one that replaces it, or a referral for the "
        "same specialty authored after the decline).",
        exclusions=("Patient died.",),
        sources=(_BSER, _360X),
        reads=_READS,
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _DeclinedNoAlternative(RuleBase):
    within_days: int = param(7, "Days after the decline to send a replacement.", unit="days")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            ref = fact.value
            if ref.status is not _S.DECLINED:
                continue
            declined = _first_change(ref, frozenset({_S.DECLINED})) or ref.last_modified
            declined = declined or ref.sent_at or ref.authored_on
            due = ctx.add_days(ctx.local_date(declined), self.within_days)
            replacement = self._replacement(ctx, fact, declined)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=declined,
                summary=f"{_label(ref)} declined {_day(ctx, declined)}; no replacement sent.",
                action="Find another recipient and send a new referral.",
                evidence=(ctx.trigger(fact, "referral declined"),),
                closed_by=(ctx.closing(replacement[0], "replacement referral sent"),)
                if replacement
                else (),
                closed_at=replacement[1] if replacement else None,
                not_applicable="patient died" if ctx.died_by(due) else None,
            )

    @staticmethod
    def _replacement(
        ctx: RuleContext, fact: Fact[Referral], declined: dt.datetime
    ) -> tuple[Fact[Referral], dt.datetime] | None:
        """The first sent referral that replaces it, or is for its specialty and later."""
        found = ctx.cached("referrals.replacements", _Replacements.gather).first(fact, declined)
        return None if found is None else (found[2], found[0])


_Candidate = tuple[dt.datetime, int, Fact[Referral]]
"""A possible replacement: when it was sent, its place among the referrals, the referral."""


@attrs.frozen
class _Replacements:
    """Sent referrals, not cancelled, that may replace a declined one, gathered once.

    By the referral id they say they replace, and by specialty (ordered by authoring, to
    find the first sent of those authored after the decline).
    """

    candidates: dict[int, _Candidate]
    replacing: dict[str, list[_Candidate]]
    by_specialty: dict[Code, Ranked[dt.datetime, Referral]]

    @classmethod
    def gather(cls, ctx: RuleContext) -> _Replacements:
        """Index the profile's referrals."""
        candidates: dict[int, _Candidate] = {}
        replacing: dict[str, list[_Candidate]] = {}
        specialties: dict[Code, list[tuple[dt.datetime, Fact[Referral]]]] = {}
        for place, other in enumerate(_referrals(ctx)):
            o = other.value
            sent = _sent_at(o)
            if sent is None or o.status is _S.CANCELLED:
                continue
            candidate = candidates[id(other)] = (sent, place, other)
            if o.replaces is not None:
                replacing.setdefault(o.replaces, []).append(candidate)
            if o.specialty is not None:
                specialties.setdefault(o.specialty, []).append((o.authored_on, other))
        by_specialty = {
            code: Ranked(entries, rank=lambda _at, f: candidates[id(f)][:2])
            for code, entries in specialties.items()
        }
        return cls(candidates, replacing, by_specialty)

    def first(self, fact: Fact[Referral], declined: dt.datetime) -> _Candidate | None:
        """The first sent (then first listed) replacement for a referral declined then."""
        found = [
            candidate
            for replaced in {v.id for v in fact.variants}
            for candidate in self.replacing.get(replaced, ())
            if candidate[2] is not fact
        ]
        specialty = fact.value.specialty
        same_need = self.by_specialty.get(specialty) if specialty is not None else None
        later = same_need.first_after(declined, skip=fact) if same_need is not None else None
        if later is not None:
            found.append(self.candidates[id(later[1])])
        return min(found, key=lambda c: (c[0], c[1]), default=None)


def referral_declined_no_alternative(*, within_days: int = 7) -> Rule:
    """``referral.declined-no-alternative``: declined and not replaced within N days."""
    return _DeclinedNoAlternative(within_days=within_days)


@define_rule(
    _meta(
        id="referral.prior-auth-overdue",
        title="Prior authorisation decision overdue",
        description=(
            "The payer has not decided a submitted prior authorisation within the "
            "CMS-0057-F timeframe: 72 hours for expedited requests, 7 calendar days for "
            "standard ones."
        ),
        opens="Prior authorisation is submitted for the referral.",
        due="72 hours after submission (expedited); 7 calendar days (standard).",
        closes="The payer's decision is recorded.",
        exclusions=("Referral cancelled before the decision.", "Patient died."),
        sources=(_CMS0057,),
        reads=_READS,
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _PriorAuthOverdue(RuleBase):
    expedited_hours: int = param(72, "Hours the payer has for an expedited request.", unit="hours")
    standard_days: int = param(
        7, "Calendar days the payer has for a standard request.", unit="days"
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _referrals(ctx):
            ref = fact.value
            auth = ref.prior_authorization
            if auth is None or auth.submitted_at is None:
                continue
            submitted = auth.submitted_at
            due: dt.date | dt.datetime
            if auth.expedited:
                due = submitted + dt.timedelta(hours=self.expedited_hours)
                kind = "expedited"
            else:
                due = ctx.add_days(ctx.local_date(submitted), self.standard_days)
                kind = "standard"
            decided = auth.decided_at
            outcome = auth.outcome.value if auth.outcome is not None else "decided"
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=submitted,
                summary=(
                    f"{_label(ref)}: {kind} prior authorisation submitted "
                    f"{_day(ctx, submitted)} has no decision."
                ),
                action="Contact the payer about the pending prior authorisation decision.",
                evidence=(ctx.trigger(fact, f"{kind} prior authorisation submitted"),),
                closed_by=(ctx.closing(fact, f"payer decision: {outcome}"),) if decided else (),
                closed_at=decided,
                not_applicable=_common_exclusion(ctx, ref, ctx.local_date(ctx.deadline(due))),
                severity=Severity.HIGH if auth.expedited else None,
                standing=ref.is_open and not decided,
            )


def referral_prior_auth_overdue(*, expedited_hours: int = 72, standard_days: int = 7) -> Rule:
    """``referral.prior-auth-overdue``: no payer decision in 72 hours / 7 days."""
    return _PriorAuthOverdue(expedited_hours=expedited_hours, standard_days=standard_days)


RULES: tuple[Rule, ...] = (
    referral_unacknowledged(),
    referral_unscheduled(),
    referral_missed_appointment(),
    referral_report_missing(),
    referral_loop_open(),
    referral_declined_no_alternative(),
    referral_prior_auth_overdue(),
)
"""The referral family with its published defaults, in catalogue order."""
