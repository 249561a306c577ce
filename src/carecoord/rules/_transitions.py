"""Transition rules: admissions, discharges and emergency visits, and what must follow them.

Day windows count local calendar days in the patient's (else the facility's) time zone.
A stay whose discharge is after ``as_of`` is ongoing for the rules. Common exclusions: the
patient died (during the stay, or on or before the due date), discharge to hospice, and
transfer to another acute hospital (the receiving hospital's discharge starts the clock
instead); rules that follow a measure's readmission logic say so in their metadata.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from carecoord.domain import (
    Appointment,
    AppointmentStatus,
    CareSetting,
    CareTransition,
    Code,
    Communication,
    CommunicationKind,
    Complexity,
    Discipline,
    Document,
    Encounter,
    EncounterClass,
    EncounterStatus,
    ListKind,
    Ref,
    Sensitivity,
    TransitionKind,
    VerificationStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._codes import code_matcher, optional_str_tuple, refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Ranked, Timeline
from carecoord.rules._model import Citation, Evidence, Gap, RuleMetadata, Severity
from carecoord.terminology import CHRONIC_CONDITION_GROUPS, ValueSetName

__all__ = [
    "FAMILY",
    "RULES",
    "chronic_groups",
    "transition_admission_notice_missing",
    "transition_discharge_info_missing",
    "transition_ed_chronic_follow_up",
    "transition_ed_mental_health_follow_up",
    "transition_follow_up_visit",
    "transition_med_rec",
    "transition_mental_health_follow_up",
    "transition_tcm_contact",
]

FAMILY = "transitions"

_TRC = Citation(
    "NCQA HEDIS Transitions of Care (TRC)",
    "https://www.ncqa.org/hedis/measures/transitions-of-care/",
)
_ADT_COP = Citation(
    "CMS Conditions of Participation, ADT event notifications (42 CFR 482.24(d))",
    "https://www.cms.gov/files/document/interoperability-and-patient-access-frequently-asked-questions.pdf",
)
_TCM = Citation(
    "CMS Transitional Care Management services (CPT 99495/99496), MLN908628",
    "https://www.cms.gov/outreach-and-education/medicare-learning-network-mln/mlnproducts/downloads/transitional-care-management-services-fact-sheet-icn908628.pdf",
)
_MRP = Citation(
    "NCQA HEDIS Medication Reconciliation Post-Discharge (MRP); Da Vinci DEQM MRP",
    "https://hl7.org/fhir/us/davinci-deqm/mrp.html",
)
_FUH = Citation(
    "NCQA HEDIS Follow-Up After Hospitalization for Mental Illness (FUH)",
    "https://www.ncqa.org/hedis/measures/follow-up-after-hospitalization-for-mental-illness/",
)
_FUM = Citation(
    "NCQA HEDIS Follow-Up After Emergency Department Visit for Mental Illness (FUM)",
    "https://www.ncqa.org/hedis/measures/follow-up-after-emergency-department-visit-for-mental-illness/",
)
_FMC = Citation(
    "NCQA HEDIS Follow-Up After ED Visit for People With Multiple High-Risk Chronic "
    "Conditions (FMC)",
    "https://www.ncqa.org/hedis/measures/follow-up-after-emergency-department-visit-for-people-with-multiple-high-risk-chronic-conditions/",
)

_INPATIENT = (TransitionKind.INPATIENT,)
_STAYS = (TransitionKind.INPATIENT, TransitionKind.OBSERVATION)
_OFFICE = frozenset({EncounterClass.AMBULATORY, EncounterClass.VIRTUAL, EncounterClass.HOME})
_OUTPATIENT = _OFFICE | {EncounterClass.TELEPHONE}
_VISIT_STATUSES = frozenset({EncounterStatus.FINISHED, EncounterStatus.IN_PROGRESS})
_MENTAL_HEALTH = (ValueSetName.MENTAL_ILLNESS, ValueSetName.SELF_HARM)
_SELF_HARM = (ValueSetName.SELF_HARM,)
_Match = Callable[[Code], bool]


def _kinds(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or not value
        or not all(isinstance(k, TransitionKind) for k in value)
    ):
        raise ValidationError(Problem(attribute.name, "expected a tuple of TransitionKind"))


def _categories(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    ok = isinstance(value, tuple) and all(
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], tuple)
        and all(isinstance(p, str) for p in item[1])
        for item in value
    )
    if not ok:
        raise ValidationError(
            Problem(attribute.name, "expected a tuple of (name, tuple of ICD-10 prefixes)")
        )


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


# --------------------------------------------------------------------------- helpers


# Indexes over the profile, built once per evaluation (``ctx.cached``) and shared by the
# family's rules: without them each stay would scan every visit, message and stay.


def _stays(ctx: RuleContext, kinds: tuple[TransitionKind, ...]) -> Timeline[CareTransition]:
    """The stays of ``kinds`` by admission (then key)."""
    return ctx.cached(
        ("transitions.stays", kinds),
        lambda c: Timeline(
            ((f.value.admitted_at, f) for f in c.profile.transitions if f.value.kind in kinds),
            c.local_date,
        ),
    )


def _visits(ctx: RuleContext, classes: frozenset[EncounterClass]) -> Timeline[Encounter]:
    """Finished or ongoing encounters of ``classes`` by start (then key)."""
    return ctx.cached(
        ("transitions.visits", classes),
        lambda c: Timeline(
            (
                (f.value.start, f)
                for f in c.profile.encounters
                if f.value.klass in classes and f.value.status in _VISIT_STATUSES
            ),
            c.local_date,
        ),
    )


def _day(ctx: RuleContext, when: dt.datetime) -> str:
    return ctx.local_date(when).isoformat()


def _setting(setting: CareSetting) -> str:
    return setting.value.replace("-", " ")


def _destination(
    stay: CareTransition, *, community: bool, unknown_is_community: bool
) -> str | None:
    """Why the discharge destination excludes the stay, if it does."""
    to = stay.to_setting
    if to is CareSetting.DECEASED:
        return "patient died during the stay"
    if to is CareSetting.HOSPICE:
        return "discharged to hospice"
    if to is CareSetting.OTHER_HOSPITAL:
        return "transferred to another acute hospital"
    if (
        community
        and not to.is_community
        and not (unknown_is_community and to is CareSetting.UNKNOWN)
    ):
        return f"discharged to {_setting(to)}, not the community"
    return None


def _readmission(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    after: dt.datetime,
    through: dt.date,
    kinds: tuple[TransitionKind, ...] = _STAYS,
) -> Fact[CareTransition] | None:
    """The first stay of ``kinds`` admitted after ``after`` and on or before ``through``."""
    return next((o for o in _stays(ctx, kinds).between(after, through) if o is not fact), None)


def _mental_health_provider(ctx: RuleContext, visit: Encounter) -> bool:
    parties = [*visit.performers, *([visit.organization] if visit.organization else [])]
    return any(ctx.discipline_of(p) is Discipline.BEHAVIORAL_HEALTH for p in parties)


def _died(ctx: RuleContext, due: dt.date) -> str | None:
    return "patient died" if ctx.died_by(due) else None


def _first(
    ctx: RuleContext, visit: Fact[Encounter] | None, description: str
) -> tuple[tuple[Evidence, ...], dt.datetime | None]:
    if visit is None:
        return (), None
    return (ctx.closing(visit, description),), visit.value.start


# --------------------------------------------------------------------------- notices


_Messages = tuple[dict[Ref, list[Fact[Communication]]], Ranked[dt.date, Communication]]


def _arrived(message: Fact[Communication]) -> tuple[dt.datetime, str]:
    return (message.value.received or message.value.sent, message.key)


def _notices(ctx: RuleContext, kind: CommunicationKind) -> _Messages:
    """Messages of ``kind`` (not "not-done"), by what they are about; and the unlinked ones.

    The unlinked ones are indexed by the local day they were sent, to find the first to
    arrive from a day on.
    """

    def build(ctx: RuleContext) -> _Messages:
        about: dict[Ref, list[Fact[Communication]]] = {}
        unlinked = []
        for message in ctx.profile.communications:
            m = message.value
            if m.kind is not kind or m.status == "not-done":
                continue
            for ref in m.about:
                about.setdefault(ref, []).append(message)
            if not m.about:
                unlinked.append((ctx.local_date(m.sent), message))
        return about, Ranked(unlinked, rank=lambda _day, message: _arrived(message))

    return ctx.cached(("transitions.notices", kind), build)


def _notice(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    kind: CommunicationKind,
    from_day: dt.date,
) -> tuple[tuple[Evidence, ...], dt.datetime | None]:
    """The first notice of ``kind`` about the stay (or, unlinked, sent on or after the day)."""
    refs = refs_to(fact, "CareTransition")
    if fact.value.encounter is not None:
        refs = refs | {fact.value.encounter}
    about, unlinked = _notices(ctx, kind)
    found = [
        message
        for ref in refs
        for message in about.get(ref, ())
        if ctx.local_date(message.value.sent) >= from_day
    ]
    first_unlinked = unlinked.first_from(from_day)
    if first_unlinked is not None:
        found.append(first_unlinked[1])
    if not found:
        return (), None
    message = min(found, key=_arrived)
    when, _ = _arrived(message)
    return (ctx.closing(message, f"{kind.value.replace('-', ' ')} sent"),), when


_STAY_REFS = frozenset({"CareTransition", "Encounter"})
_Documents = tuple[dict[Ref, list[Fact[Document]]], Ranked[dt.date, Document]]


def _made(document: Fact[Document]) -> tuple[dt.datetime, str]:
    when = document.value.when or document.value.recorded_at
    assert when is not None  # only dated documents are indexed
    return (when, document.key)


def _summary_documents(ctx: RuleContext, names: str | tuple[str, ...]) -> _Documents:
    """Discharge and transfer summaries (``names`` value sets; available and dated).

    By the stays and visits their context names; and those naming none, by the local
    day they were made.
    """

    def build(ctx: RuleContext) -> _Documents:
        is_summary = code_matcher(ctx, names)
        about: dict[Ref, list[Fact[Document]]] = {}
        unlinked = []
        for fact in ctx.profile.documents:
            document = fact.value
            when = document.when or document.recorded_at
            if not document.is_available or when is None:
                continue
            if not any(is_summary(code) for code in document.types):
                continue
            stays = [r for r in document.context if r.type in _STAY_REFS]
            for ref in stays:
                about.setdefault(ref, []).append(fact)
            if not stays:
                unlinked.append((ctx.local_date(when), fact))
        return about, Ranked(unlinked, rank=lambda _day, fact: _made(fact))

    return ctx.cached(("transitions.summary-documents", names), build)


def _discharge_information(
    ctx: RuleContext, fact: Fact[CareTransition], from_day: dt.date, names: str | tuple[str, ...]
) -> tuple[tuple[Evidence, ...], dt.datetime | None]:
    """The first discharge information: a discharge-summary message, or a summary document.

    A document of a ``names`` type about the stay (or naming no stay or visit) made on or
    after the discharge day counts as a discharge-summary communication does.
    """
    found = [_notice(ctx, fact, CommunicationKind.DISCHARGE_SUMMARY, from_day)]
    refs = refs_to(fact, "CareTransition")
    if fact.value.encounter is not None:
        refs = refs | {fact.value.encounter}
    about, unlinked = _summary_documents(ctx, names)
    documents = [
        document
        for ref in refs
        for document in about.get(ref, ())
        if ctx.local_date(_made(document)[0]) >= from_day
    ]
    first_unlinked = unlinked.first_from(from_day)
    if first_unlinked is not None:
        documents.append(first_unlinked[1])
    if documents:
        document = min(documents, key=_made)
        found.append(((ctx.closing(document, "discharge summary (document)"),), _made(document)[0]))
    found = [(evidence, when) for evidence, when in found if evidence and when is not None]
    if not found:
        return (), None
    return min(found, key=lambda item: item[1] or dt.datetime.min.replace(tzinfo=dt.UTC))


@define_rule(
    _meta(
        id="transition.admission-notice-missing",
        title="Admission notice not received",
        description=(
            "The primary-care practice has no notice of an inpatient admission within the "
            "HEDIS TRC window, so the outpatient team cannot help plan the discharge."
        ),
        opens="An inpatient admission.",
        due="The admission day plus 2 days (3 days in all).",
        closes="An admission notice about the stay (or, unlinked, sent on or after the "
        "admission day) is recorded.",
        exclusions=("Patient died.",),
        sources=(_TRC, _ADT_COP),
        reads=frozenset({"transitions", "communications", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _AdmissionNoticeMissing(RuleBase):
    within_days: int = param(2, "Days after the admission day for the notice.", unit="days")
    kinds: tuple[TransitionKind, ...] = param(
        _INPATIENT, "Which stays count as admissions.", validator=_kinds
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _stays(ctx, self.kinds):
            stay = fact.value
            admitted_day = ctx.local_date(stay.admitted_at)
            due = ctx.add_days(admitted_day, self.within_days)
            closed_by, closed_at = _notice(
                ctx, fact, CommunicationKind.ADMISSION_NOTICE, admitted_day
            )
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=stay.admitted_at,
                summary=f"Admission on {admitted_day.isoformat()}: no admission notice received.",
                action="Ask the hospital for the admission notification and contact the "
                "inpatient team.",
                evidence=(ctx.trigger(fact, "inpatient admission"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=_died(ctx, due),
            )


def transition_admission_notice_missing(
    *, within_days: int = 2, kinds: tuple[TransitionKind, ...] = _INPATIENT
) -> Rule:
    """``transition.admission-notice-missing``: no admission notice within day + 2."""
    return _AdmissionNoticeMissing(within_days=within_days, kinds=kinds)


@define_rule(
    _meta(
        id="transition.discharge-info-missing",
        title="Discharge information not received",
        description=(
            "The primary-care practice has not received the discharge information "
            "(summary, medications, pending tests, instructions) within the HEDIS TRC window."
        ),
        opens="A discharge from an inpatient stay.",
        due="The discharge day plus 2 days (3 days in all).",
        closes="A discharge summary about the stay (or, unlinked, sent on or after the "
        "discharge day) is recorded: a discharge-summary communication, or a document of a "
        "discharge- or transfer-summary type (the summaries value sets) made on or after "
        "the discharge day.",
        exclusions=("Patient died.", "Discharged to hospice (TRC excludes hospice)."),
        sources=(_TRC,),
        reads=frozenset({"transitions", "communications", "documents", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _DischargeInfoMissing(RuleBase):
    within_days: int = param(2, "Days after the discharge day for the information.", unit="days")
    kinds: tuple[TransitionKind, ...] = param(
        _INPATIENT, "Which stays' discharges count.", validator=_kinds
    )
    summaries: str | tuple[str, ...] = value_set_param(
        (ValueSetName.DISCHARGE_SUMMARY, ValueSetName.TRANSFER_SUMMARY),
        "Value sets of the document types that carry the discharge information.",
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _stays(ctx, self.kinds):
            stay = fact.value
            if stay.discharged_at is None:
                continue
            day = ctx.local_date(stay.discharged_at)
            due = ctx.add_days(day, self.within_days)
            closed_by, closed_at = _discharge_information(ctx, fact, day, self.summaries)
            excluded = _died(ctx, due)
            if stay.to_setting in {CareSetting.DECEASED, CareSetting.HOSPICE}:
                excluded = _destination(stay, community=False, unknown_is_community=True)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=stay.discharged_at,
                summary=f"Discharge on {day.isoformat()}: no discharge information received.",
                action="Request the discharge summary, medication list and pending results "
                "from the hospital.",
                evidence=(ctx.trigger(fact, "discharge"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=excluded,
            )


def transition_discharge_info_missing(
    *,
    within_days: int = 2,
    kinds: tuple[TransitionKind, ...] = _INPATIENT,
    summaries: str | tuple[str, ...] = (
        ValueSetName.DISCHARGE_SUMMARY,
        ValueSetName.TRANSFER_SUMMARY,
    ),
) -> Rule:
    """``transition.discharge-info-missing``: no discharge information within day + 2."""
    return _DischargeInfoMissing(within_days=within_days, kinds=kinds, summaries=summaries)


# --------------------------------------------------------------------------- TCM


def _community_exclusion(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    due: dt.date,
    unknown_is_community: bool,
) -> str | None:
    stay = fact.value
    reason = _destination(stay, community=True, unknown_is_community=unknown_is_community)
    if reason is not None:
        return reason
    if ctx.died_by(due):
        return "patient died"
    assert stay.discharged_at is not None
    if _readmission(ctx, fact, stay.discharged_at, min(due, ctx.today)) is not None:
        return "readmitted before the window closed"
    return None


def _patient_contacts(
    ctx: RuleContext,
) -> tuple[Timeline[Communication], Timeline[Communication]]:
    """Patient contacts by time: the interactive completed ones, and the other attempts."""
    contacts = Timeline(
        (
            (m.value.sent, m)
            for m in ctx.profile.communications
            if m.value.kind is CommunicationKind.PATIENT_CONTACT
        ),
        ctx.local_date,
    )

    def spoke(m: Communication) -> bool:
        return m.interactive and m.status == "completed"

    return contacts.where(spoke), contacts.where(lambda m: not spoke(m))


_UNKNOWN_IS_COMMUNITY = (
    "Whether a discharge with no recorded destination counts as one to the community "
    "(surfacing it rather than hiding it)."
)


@define_rule(
    _meta(
        id="transition.tcm-contact",
        title="No contact within 2 business days of discharge (TCM)",
        description=(
            "Nobody has reached the patient or caregiver after a discharge home: CMS "
            "transitional care management requires an interactive contact within 2 business "
            "days (two or more documented unsuccessful attempts also count)."
        ),
        opens="A discharge from an inpatient or observation stay to a community setting.",
        due="2 business days after the discharge day.",
        closes="An interactive contact (a two-way patient contact, or a visit or call), or "
        "2 documented attempts.",
        exclusions=(
            (
                "Discharged to hospice, another acute hospital, or a non-community setting "
                "(skilled nursing, rehab...)."
            ),
            "Patient died.",
            "Readmitted before the window closed.",
        ),
        sources=(_TCM,),
        reads=frozenset({"transitions", "communications", "encounters", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _TcmContact(RuleBase):
    within_business_days: int = param(
        2, "Business days after the discharge day to reach the patient.", unit="business days"
    )
    attempts_required: int = param(
        2, "Documented unsuccessful attempts that count as meeting the requirement."
    )
    kinds: tuple[TransitionKind, ...] = param(
        _STAYS, "Which stays' discharges count.", validator=_kinds
    )
    unknown_destination_is_community: bool = param(True, _UNKNOWN_IS_COMMUNITY)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _stays(ctx, self.kinds):
            stay = fact.value
            if stay.discharged_at is None:
                continue
            day = ctx.local_date(stay.discharged_at)
            due = ctx.add_business_days(day, self.within_business_days)
            closed_by, closed_at = self._contact(ctx, stay.discharged_at)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=stay.discharged_at,
                summary=f"Discharge on {day.isoformat()}: patient not yet contacted.",
                action="Call the patient or caregiver: review symptoms, medicines and the "
                "follow-up plan, and book the follow-up visit.",
                evidence=(ctx.trigger(fact, "discharge to the community"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=_community_exclusion(
                    ctx, fact, due, self.unknown_destination_is_community
                ),
            )

    def _contact(
        self, ctx: RuleContext, discharged: dt.datetime
    ) -> tuple[tuple[Evidence, ...], dt.datetime | None]:
        """The earliest way the requirement was met since the discharge, if any.

        The first interactive contact, the first visit or call, or the attempt that makes
        ``attempts_required`` (evidence is built for the chosen way only).
        """
        spoke, attempts = ctx.cached("transitions.patient-contacts", _patient_contacts)
        # each way: (when, key, the facts that show it with their evidence descriptions)
        options: list[tuple[dt.datetime, str, list[tuple[Fact[Any], str]]]] = []
        contact = next(spoke.from_instant(discharged), None)
        if contact is not None:
            options.append((contact.value.sent, contact.key, [(contact, "interactive contact")]))
        day = ctx.local_date(discharged)
        visit = next(_visits(ctx, _OUTPATIENT).from_instant(discharged, day), None)
        if visit is not None:
            shown = [(visit, "visit or call with the patient")]
            options.append((visit.value.start, visit.key, shown))
        needed = self.attempts_required
        tried = list(itertools.islice(attempts.from_instant(discharged), needed))
        if needed and len(tried) == needed:
            attempted: list[tuple[Fact[Any], str]] = [
                (m, f"contact attempt {n} of {needed}") for n, m in enumerate(tried, start=1)
            ]
            options.append((tried[-1].value.sent, tried[-1].key, attempted))
        if not options:
            return (), None
        at, _, chosen = min(options, key=lambda o: (o[0], o[1]))
        return tuple(ctx.closing(fact, description) for fact, description in chosen), at


def transition_tcm_contact(
    *,
    within_business_days: int = 2,
    attempts_required: int = 2,
    kinds: tuple[TransitionKind, ...] = _STAYS,
    unknown_destination_is_community: bool = True,
) -> Rule:
    """``transition.tcm-contact``: no interactive contact 2 business days after discharge."""
    return _TcmContact(
        within_business_days=within_business_days,
        attempts_required=attempts_required,
        kinds=kinds,
        unknown_destination_is_community=unknown_destination_is_community,
    )


@define_rule(
    _meta(
        id="transition.follow-up-visit",
        title="No follow-up visit after discharge",
        description=(
            "The patient has not had a face-to-face or synchronous telehealth visit after a "
            "discharge home: by day 14, or day 7 when the discharge was of high complexity "
            "(CMS TCM 99495/99496; HEDIS TRC patient engagement)."
        ),
        opens="A discharge from an inpatient or observation stay to a community setting.",
        due="14 days after the discharge day; 7 days when complexity is high.",
        closes="An office, home or video visit after the discharge day (a booked one is "
        "shown as context).",
        exclusions=(
            "Discharged to hospice, another acute hospital, or a non-community setting.",
            "Patient died.",
            "Readmitted before the window closed.",
        ),
        sources=(_TCM, _TRC),
        reads=frozenset({"transitions", "encounters", "appointments", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _FollowUpVisit(RuleBase):
    within_days: int = param(14, "Days after the discharge day for the visit.", unit="days")
    high_complexity_within_days: int = param(
        7, "Days after the discharge day when complexity is high.", unit="days"
    )
    kinds: tuple[TransitionKind, ...] = param(
        _STAYS, "Which stays' discharges count.", validator=_kinds
    )
    unknown_destination_is_community: bool = param(True, _UNKNOWN_IS_COMMUNITY)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _stays(ctx, self.kinds):
            stay = fact.value
            if stay.discharged_at is None:
                continue
            day = ctx.local_date(stay.discharged_at)
            high = stay.complexity is Complexity.HIGH
            due = ctx.add_days(day, self.high_complexity_within_days if high else self.within_days)
            visit = _visits(ctx, _OFFICE).first_from(day + dt.timedelta(days=1))
            closed_by, closed_at = _first(ctx, visit, "follow-up visit")
            context = [
                ctx.context(a, "follow-up visit booked")
                for a in _booked_between(ctx, stay.discharged_at, due)
            ]
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=stay.discharged_at,
                summary=f"Discharge on {day.isoformat()}: no follow-up visit yet.",
                action="Book a follow-up visit (in person or video) and reconcile medicines at it."
                if not context
                else "Confirm the booked follow-up visit happens.",
                evidence=(ctx.trigger(fact, "discharge to the community"), *context),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=_community_exclusion(
                    ctx, fact, due, self.unknown_destination_is_community
                ),
            )


_Booked = tuple[Timeline[Appointment], dict[int, int]]


def _booked(ctx: RuleContext) -> _Booked:
    """Booked or arrived appointments by start, and each one's place in the profile."""
    booked = [
        (n, a)
        for n, a in enumerate(ctx.profile.appointments)
        if a.value.status in {AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}
    ]
    timeline = Timeline(((a.value.start, a) for _, a in booked), ctx.local_date)
    return timeline, {id(a): n for n, a in booked}


def _booked_between(
    ctx: RuleContext, after: dt.datetime, through: dt.date
) -> list[Fact[Appointment]]:
    """Booked or arrived appointments starting after ``after``, by local ``through``.

    In profile order.
    """
    timeline, place = ctx.cached("transitions.booked", _booked)
    return sorted(timeline.between(after, through), key=lambda a: place[id(a)])


def transition_follow_up_visit(
    *,
    within_days: int = 14,
    high_complexity_within_days: int = 7,
    kinds: tuple[TransitionKind, ...] = _STAYS,
    unknown_destination_is_community: bool = True,
) -> Rule:
    """``transition.follow-up-visit``: no visit 14 days (7 if high complexity) after discharge."""
    return _FollowUpVisit(
        within_days=within_days,
        high_complexity_within_days=high_complexity_within_days,
        kinds=kinds,
        unknown_destination_is_community=unknown_destination_is_community,
    )


def _code_tuple(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, tuple) or not all(isinstance(c, Code) for c in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of Code"))


@define_rule(
    _meta(
        id="transition.med-rec",
        title="Medication reconciliation after discharge",
        description=(
            "The discharge medications have not been reconciled with the current list "
            "between the discharge day and day 30 (HEDIS MRP / TRC, 31 days in all)."
        ),
        opens="A discharge from an inpatient stay.",
        due="30 days after the discharge day.",
        closes="A medication-list reconciliation, or a procedure or visit coded in the "
        "medication-reconciliation value set (by default SNOMED 430193006, CPT II 1111F or "
        "TCM 99495/99496), on or after the discharge day.",
        exclusions=(
            "Discharged to hospice or another acute hospital.",
            "Patient died.",
        ),
        sources=(_MRP, _TRC, _TCM),
        reads=frozenset({"transitions", "reconciliations", "procedures", "encounters", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _MedRec(RuleBase):
    within_days: int = param(
        30, "Days after the discharge day (which is day 0) to reconcile.", unit="days"
    )
    codes: tuple[Code, ...] | None = param(
        None,
        "Procedure or visit codes that document the reconciliation; when given, used "
        "instead of the value set.",
        validator=_code_tuple,
    )
    kinds: tuple[TransitionKind, ...] = param(
        _INPATIENT, "Which stays' discharges count.", validator=_kinds
    )
    reconciliation: str = value_set_param(
        ValueSetName.MEDICATION_RECONCILIATION,
        "Value set of the procedure or visit codes that document the reconciliation.",
    )

    def _documents(self, ctx: RuleContext) -> _Match:
        if self.codes is not None:
            return frozenset(self.codes).__contains__
        return ctx.value_set(self.reconciliation).contains

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _stays(ctx, self.kinds):
            stay = fact.value
            if stay.discharged_at is None:
                continue
            day = ctx.local_date(stay.discharged_at)
            due = ctx.add_days(day, self.within_days)
            closed_by, closed_at = self._reconciled(ctx, day)
            excluded = _destination(stay, community=False, unknown_is_community=True)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=stay.discharged_at,
                summary=f"Discharge on {day.isoformat()}: medicines not yet reconciled.",
                action="Reconcile the discharge medication list with the current list and "
                "tell the care team about changes.",
                evidence=(ctx.trigger(fact, "discharge"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=excluded or _died(ctx, due),
            )

    def _reconciled(
        self, ctx: RuleContext, day: dt.date
    ) -> tuple[tuple[Evidence, ...], dt.date | dt.datetime | None]:
        """The earliest reconciliation, coded procedure or coded visit from ``day`` on."""
        index = ctx.cached(("transitions.med-rec", self.codes, self.reconciliation), self._index)
        reconciled, documented, billed = index
        options: list[tuple[dt.date, str, dt.date | dt.datetime, Fact[Any], str]] = []
        if found := reconciled.first_from(day):
            on, rec = found
            options.append((on, rec.key, rec.value.at, rec, "medication list reconciled"))
        if found := documented.first_from(day):
            on, proc = found
            performed = proc.value.performed
            when = performed if isinstance(performed, dt.datetime) else on
            options.append((on, proc.key, when, proc, "reconciliation documented"))
        if found := billed.first_from(day):
            on, visit = found
            start = visit.value.start
            options.append((on, visit.key, start, visit, "visit billed with reconciliation"))
        if not options:
            return (), None
        _, _, when, fact, description = min(options, key=lambda o: (o[0], o[1]))
        return (ctx.closing(fact, description),), when

    def _index(
        self, ctx: RuleContext
    ) -> tuple[Ranked[dt.date, Any], Ranked[dt.date, Any], Ranked[dt.date, Any]]:
        """Medication-list reconciliations, coded procedures and coded visits by local day."""
        documents = self._documents(ctx)
        reconciled = Ranked(
            (ctx.local_date(r.value.at), r)
            for r in ctx.profile.reconciliations
            if r.value.list is ListKind.MEDICATIONS
        )
        documented = Ranked(
            (ctx.local_date(p.value.performed), p)
            for p in ctx.profile.procedures
            if p.value.status != "not-done" and documents(p.value.code)
        )
        visits = _visits(ctx, _OUTPATIENT)
        billed = Ranked(
            (day, visit)
            for day, visit in zip(visits.days, visits, strict=True)
            if any(documents(t) for t in visit.value.types)
        )
        return reconciled, documented, billed


def transition_med_rec(
    *,
    within_days: int = 30,
    codes: tuple[Code, ...] | None = None,
    kinds: tuple[TransitionKind, ...] = _INPATIENT,
    reconciliation: str = ValueSetName.MEDICATION_RECONCILIATION,
) -> Rule:
    """``transition.med-rec``: medicines not reconciled by day 30 after discharge.

    ``codes``, when given, replaces the ``reconciliation`` value set.
    """
    return _MedRec(within_days=within_days, codes=codes, kinds=kinds, reconciliation=reconciliation)


# --------------------------------------------------------------------------- mental health


def _principal_in(stay: CareTransition, match: _Match) -> Code | None:
    principal = stay.principal_diagnosis
    if principal is not None and match(principal.code):
        return principal.code
    return None


def _windows(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    *,
    windows: tuple[tuple[str, int], ...],
    index_day: dt.date,
    opened: dt.datetime,
    visit: Fact[Encounter] | None,
    exclusion: Callable[[dt.date], str | None],
    summary: str,
    action: str,
    trigger: str,
    severity: Severity | None,
) -> Iterator[Gap]:
    """One gap per window (``#7d``, ``#30d``) for the same index event."""
    closed_by, closed_at = _first(ctx, visit, "follow-up with a mental-health provider")
    for part, days in windows:
        due = ctx.add_days(index_day, days)
        yield ctx.gap(
            focus=f"{fact.key}#{part}",
            due=due,
            opened=opened,
            summary=f"{summary} (within {days} days).",
            action=action,
            evidence=(ctx.trigger(fact, trigger),),
            closed_by=closed_by,
            closed_at=closed_at,
            not_applicable=exclusion(due),
            severity=severity,
            sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}),
        )


@define_rule(
    _meta(
        id="transition.mental-health-follow-up",
        title="Mental-health follow-up after hospitalisation (FUH)",
        description=(
            "After an inpatient stay for mental illness or intentional self-harm, the "
            "patient has not seen a mental-health provider within 7 and within 30 days "
            "(HEDIS FUH; visits on the discharge day do not count). Two gaps per discharge: "
            "focus #7d and #30d. Diagnoses are read from the value sets mental-illness and "
            "self-harm: the defaults approximate the licensed HEDIS value sets with ICD-10-CM "
            "categories and SNOMED CT concepts; pass the licensed ones in the library."
        ),
        opens="An inpatient discharge whose principal diagnosis is a mental illness or "
        "intentional self-harm (patient aged 6 or more).",
        due="7 days and 30 days after the discharge day.",
        closes="An outpatient, video, telephone or home visit with a behavioural-health "
        "provider after the discharge day.",
        exclusions=(
            "Readmitted within 30 days (the later discharge is followed instead).",
            "Discharged to hospice or another acute hospital.",
            "Patient died.",
        ),
        sources=(_FUH,),
        reads=frozenset(
            {"transitions", "encounters", "care_teams", "practitioners", "organizations", "patient"}
        ),
        discipline=Discipline.BEHAVIORAL_HEALTH,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _MentalHealthFollowUp(RuleBase):
    short_window_days: int = param(7, "The first follow-up window.", unit="days")
    long_window_days: int = param(30, "The second follow-up window.", unit="days")
    readmission_days: int = param(
        30, "A readmission within this many days excludes the earlier discharge.", unit="days"
    )
    minimum_age: int = param(6, "Youngest age in the measure.", unit="years")
    diagnosis_prefixes: tuple[str, ...] | None = param(
        None,
        "ICD-10-CM prefixes of the principal diagnoses; when given, used instead of the "
        "diagnoses value sets.",
        validator=optional_str_tuple,
    )
    self_harm_prefixes: tuple[str, ...] | None = param(
        None,
        "ICD-10-CM prefixes of intentional self-harm; when given, used instead of the "
        "self_harm value sets.",
        validator=optional_str_tuple,
    )
    diagnoses: tuple[str, ...] = value_set_param(
        _MENTAL_HEALTH,
        "Value sets of the principal diagnoses that open the gap (mental illness, "
        "intentional self-harm).",
    )
    self_harm: tuple[str, ...] = value_set_param(
        _SELF_HARM, "Value sets of intentional self-harm (these gaps are critical)."
    )

    def _matchers(self, ctx: RuleContext) -> tuple[_Match, _Match]:
        """Whether a code opens the gap, and whether it makes it critical."""
        return (
            code_matcher(ctx, self.diagnoses, self.diagnosis_prefixes),
            code_matcher(ctx, self.self_harm, self.self_harm_prefixes),
        )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        diagnosis, critical = self._matchers(ctx)
        for fact in _stays(ctx, _INPATIENT):
            stay = fact.value
            if stay.discharged_at is None or _principal_in(stay, diagnosis) is None:
                continue
            day = ctx.local_date(stay.discharged_at)
            age = ctx.age_on(day)
            if age is not None and age < self.minimum_age:
                continue
            discharged = stay.discharged_at

            def exclusion(
                due: dt.date,
                fact: Fact[CareTransition] = fact,
                discharged: dt.datetime = discharged,
            ) -> str | None:
                reason = _destination(fact.value, community=False, unknown_is_community=True)
                if reason is not None:
                    return reason
                if ctx.died_by(due):
                    return "patient died"
                through = ctx.add_days(ctx.local_date(discharged), self.readmission_days)
                if _readmission(ctx, fact, discharged, through, _INPATIENT) is not None:
                    return (
                        f"readmitted within {self.readmission_days} days; "
                        "the later discharge is followed"
                    )
                return None

            self_harm = _principal_in(stay, critical) is not None
            visits = ctx.cached("transitions.mental-health-visits", _mental_health_visits)
            yield from _windows(
                ctx,
                fact,
                windows=(("7d", self.short_window_days), ("30d", self.long_window_days)),
                index_day=day,
                opened=discharged,
                visit=visits.first_from(day + dt.timedelta(days=1)),
                exclusion=exclusion,
                summary=f"Discharge on {day.isoformat()}: no mental-health follow-up yet",
                action="Book a visit with the patient's mental-health provider and tell them "
                "about the hospital stay.",
                trigger="discharge after a mental-health stay",
                severity=Severity.CRITICAL if self_harm else None,
            )


def _mental_health_visits(ctx: RuleContext) -> Timeline[Encounter]:
    """Outpatient visits with a mental-health provider."""
    return _visits(ctx, _OUTPATIENT).where(lambda e: _mental_health_provider(ctx, e))


def transition_mental_health_follow_up(
    *,
    short_window_days: int = 7,
    long_window_days: int = 30,
    readmission_days: int = 30,
    minimum_age: int = 6,
    diagnosis_prefixes: tuple[str, ...] | None = None,
    self_harm_prefixes: tuple[str, ...] | None = None,
    diagnoses: tuple[str, ...] = _MENTAL_HEALTH,
    self_harm: tuple[str, ...] = _SELF_HARM,
) -> Rule:
    """``transition.mental-health-follow-up``: HEDIS FUH, 7 and 30 days after discharge.

    ``diagnoses`` and ``self_harm`` name value sets of the library; the legacy
    ``*_prefixes`` (ICD-10-CM prefixes), when given, replace them.
    """
    return _MentalHealthFollowUp(
        short_window_days=short_window_days,
        long_window_days=long_window_days,
        readmission_days=readmission_days,
        minimum_age=minimum_age,
        diagnosis_prefixes=diagnosis_prefixes,
        self_harm_prefixes=self_harm_prefixes,
        diagnoses=diagnoses,
        self_harm=self_harm,
    )


def _emergency_visits(
    ctx: RuleContext, eligible: Callable[[Fact[CareTransition]], bool], spacing_days: int
) -> Iterator[tuple[Fact[CareTransition], bool]]:
    """Eligible ED visits, each flagged ``True`` when an earlier one in the period counts."""
    last: dt.date | None = None
    for fact in _stays(ctx, (TransitionKind.EMERGENCY,)):
        if not eligible(fact):
            continue
        day = ctx.local_date(fact.value.admitted_at)
        duplicate = last is not None and day <= last + dt.timedelta(days=spacing_days)
        if not duplicate:
            last = day
        yield fact, duplicate


def _ed_exclusion(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    due: dt.date,
    *,
    duplicate: bool,
    admission_days: int,
    period_days: int,
) -> str | None:
    if duplicate:
        return f"an earlier emergency visit within {period_days + 1} days is followed instead"
    visit = fact.value
    day = ctx.local_date(visit.admitted_at)
    start = ctx.start_of_day(day)
    admitted = _readmission(ctx, fact, start, ctx.add_days(day, admission_days), _INPATIENT)
    if admitted is not None:
        return f"admitted within {admission_days} days of the emergency visit"
    if visit.to_setting is CareSetting.DECEASED or ctx.died_by(due):
        return "patient died"
    if visit.to_setting is CareSetting.HOSPICE or ctx.in_hospice(min(due, ctx.today)):
        return "hospice"
    return None


@define_rule(
    _meta(
        id="transition.ed-mental-health-follow-up",
        title="Mental-health follow-up after an emergency visit (FUM)",
        description=(
            "After an emergency-department visit for mental illness or intentional "
            "self-harm, the patient has had no mental-health follow-up within 7 and within "
            "30 days (HEDIS FUM; a visit on the ED day counts). Two gaps per visit: focus "
            "#7d and #30d."
        ),
        opens="An emergency visit whose principal diagnosis is a mental illness or "
        "intentional self-harm (patient aged 6 or more).",
        due="7 days and 30 days after the ED day (8 and 31 days in all).",
        closes="An outpatient, video, telephone or home visit on or after the ED day, with a "
        "behavioural-health provider or with a mental-health diagnosis.",
        exclusions=(
            "Admitted as an inpatient within 30 days of the ED visit.",
            "A later ED visit within 31 days of one already followed.",
            "Hospice; patient died.",
        ),
        sources=(_FUM,),
        value_sets=(ValueSetName.HOSPICE,),
        reads=frozenset(
            {
                "transitions",
                "encounters",
                "enrollments",
                "procedures",
                "care_teams",
                "practitioners",
                "organizations",
                "patient",
            }
        ),
        discipline=Discipline.BEHAVIORAL_HEALTH,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _EdMentalHealthFollowUp(RuleBase):
    short_window_days: int = param(7, "The first follow-up window.", unit="days")
    long_window_days: int = param(30, "The second follow-up window.", unit="days")
    admission_days: int = param(
        30, "An inpatient admission within this many days excludes the visit.", unit="days"
    )
    minimum_age: int = param(6, "Youngest age in the measure.", unit="years")
    diagnosis_prefixes: tuple[str, ...] | None = param(
        None,
        "ICD-10-CM prefixes of the principal diagnoses; when given, used instead of the "
        "diagnoses value sets.",
        validator=optional_str_tuple,
    )
    self_harm_prefixes: tuple[str, ...] | None = param(
        None,
        "ICD-10-CM prefixes of intentional self-harm; when given, used instead of the "
        "self_harm value sets.",
        validator=optional_str_tuple,
    )
    diagnoses: tuple[str, ...] = value_set_param(
        _MENTAL_HEALTH,
        "Value sets of the principal diagnoses that open the gap (mental illness, "
        "intentional self-harm).",
    )
    self_harm: tuple[str, ...] = value_set_param(
        _SELF_HARM, "Value sets of intentional self-harm (these gaps are critical)."
    )

    def _matchers(self, ctx: RuleContext) -> tuple[_Match, _Match]:
        """Whether a code opens the gap, and whether it makes it critical."""
        return (
            code_matcher(ctx, self.diagnoses, self.diagnosis_prefixes),
            code_matcher(ctx, self.self_harm, self.self_harm_prefixes),
        )

    def _eligible(self, ctx: RuleContext, fact: Fact[CareTransition], match: _Match) -> bool:
        visit = fact.value
        if _principal_in(visit, match) is None:
            return False
        age = ctx.age_on(ctx.local_date(visit.admitted_at))
        return age is None or age >= self.minimum_age

    @staticmethod
    def _qualifies(ctx: RuleContext, visit: Encounter, match: _Match) -> bool:
        codes = (*visit.diagnoses, *visit.reasons)
        return _mental_health_provider(ctx, visit) or any(match(c) for c in codes)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        diagnosis, critical = self._matchers(ctx)
        for fact, duplicate in _emergency_visits(
            ctx, lambda f: self._eligible(ctx, f, diagnosis), self.long_window_days
        ):
            visit = fact.value
            day = ctx.local_date(visit.admitted_at)
            visits = ctx.cached(
                ("transitions.fum-visits", self.diagnosis_prefixes, self.diagnoses),
                lambda c: _visits(c, _OUTPATIENT).where(lambda e: self._qualifies(c, e, diagnosis)),
            )

            def exclusion(
                due: dt.date, fact: Fact[CareTransition] = fact, duplicate: bool = duplicate
            ) -> str | None:
                return _ed_exclusion(
                    ctx,
                    fact,
                    due,
                    duplicate=duplicate,
                    admission_days=self.admission_days,
                    period_days=self.long_window_days,
                )

            self_harm = _principal_in(visit, critical) is not None
            yield from _windows(
                ctx,
                fact,
                windows=(("7d", self.short_window_days), ("30d", self.long_window_days)),
                index_day=day,
                opened=visit.admitted_at,
                visit=visits.first_from(day),
                exclusion=exclusion,
                summary=f"Emergency visit on {day.isoformat()}: no mental-health follow-up yet",
                action="Arrange a mental-health follow-up visit and share the emergency "
                "visit with the patient's mental-health provider.",
                trigger="emergency visit for mental health",
                severity=Severity.CRITICAL if self_harm else None,
            )


def transition_ed_mental_health_follow_up(
    *,
    short_window_days: int = 7,
    long_window_days: int = 30,
    admission_days: int = 30,
    minimum_age: int = 6,
    diagnosis_prefixes: tuple[str, ...] | None = None,
    self_harm_prefixes: tuple[str, ...] | None = None,
    diagnoses: tuple[str, ...] = _MENTAL_HEALTH,
    self_harm: tuple[str, ...] = _SELF_HARM,
) -> Rule:
    """``transition.ed-mental-health-follow-up``: HEDIS FUM, 7 and 30 days after an ED visit.

    ``diagnoses`` and ``self_harm`` name value sets of the library; the legacy
    ``*_prefixes`` (ICD-10-CM prefixes), when given, replace them.
    """
    return _EdMentalHealthFollowUp(
        short_window_days=short_window_days,
        long_window_days=long_window_days,
        admission_days=admission_days,
        minimum_age=minimum_age,
        diagnosis_prefixes=diagnosis_prefixes,
        self_harm_prefixes=self_harm_prefixes,
        diagnoses=diagnoses,
        self_harm=self_harm,
    )


_Groups = tuple[tuple[str, _Match], ...]
_Spans = dict[str, tuple[list[dt.date], list[dt.date]]]


def _chronic_spans(ctx: RuleContext, groups: _Groups) -> _Spans:
    """When each group's conditions were on the patient's list.

    For each group name: its conditions' onset days, sorted (a condition without onset
    counts from the first day), and for each position the latest abatement day among the
    conditions with that onset or an earlier one (``date.max`` while one is still active).
    Refuted and entered-in-error conditions, and inactive ones without abatement, are left
    out: they are never on the list.
    """
    spans: dict[str, list[tuple[dt.date, dt.date]]] = {name: [] for name, _ in groups}
    for fact in ctx.profile.conditions:
        condition = fact.value
        if condition.verification_status in {
            VerificationStatus.REFUTED,
            VerificationStatus.ENTERED_IN_ERROR,
        }:
            continue
        if condition.abatement is not None:
            until = ctx.local_date(condition.abatement)
        elif condition.is_active:
            until = dt.date.max
        else:
            continue
        onset = dt.date.min if condition.onset is None else ctx.local_date(condition.onset)
        for name, match in groups:
            if match(condition.code):
                spans[name].append((onset, until))
    index: _Spans = {}
    for name, found in spans.items():
        found.sort()
        latest = list(itertools.accumulate((until for _, until in found), max))
        index[name] = ([onset for onset, _ in found], latest)
    return index


def chronic_groups(
    ctx: RuleContext,
    names: tuple[str, ...],
    legacy: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
) -> _Groups:
    """The chronic-condition groups as (name, whether a code is in the group).

    One group per value set of ``names``, named after it; with ``legacy`` ((name,
    ICD-10-CM prefixes) pairs, a rule's ``conditions`` parameter), those groups instead.
    """
    if legacy is not None:
        return tuple((name, code_matcher(ctx, (), prefixes)) for name, prefixes in legacy)
    return tuple((name, ctx.value_set(name).contains) for name in dict.fromkeys(names))


def _on_list(spans: tuple[list[dt.date], list[dt.date]], day: dt.date) -> bool:
    """Whether one of a group's conditions was on the list on ``day`` (or in the prior year).

    Started on or before ``day``, and still active or abated on or after 1 January of the
    year before ``day``'s.
    """
    onsets, latest = spans
    started = bisect_right(onsets, day)
    if not started:
        return False
    until = latest[started - 1]
    return until == dt.date.max or until >= dt.date(day.year - 1, 1, 1)


@define_rule(
    _meta(
        id="transition.ed-chronic-follow-up",
        title="Follow-up after an emergency visit, multiple chronic conditions (FMC)",
        description=(
            "An adult with two or more high-risk chronic conditions went to the emergency "
            "department and has had no follow-up within 7 days (HEDIS FMC; the ED day "
            "counts). Conditions are counted by group: COPD and asthma, dementia, chronic "
            "kidney disease, depression, heart failure, acute myocardial infarction, atrial "
            "fibrillation, stroke and TIA."
        ),
        opens="An emergency visit by a patient aged 18 or more with conditions in 2 or more "
        "of the groups (on the problem list, or diagnosed at the visit).",
        due="7 days after the ED day (8 days in all).",
        closes="Any outpatient, video, telephone or home visit on or after the ED day.",
        exclusions=(
            "Admitted as an inpatient within 7 days of the ED visit.",
            "A later ED visit within 8 days of one already followed.",
            "Hospice; patient died.",
        ),
        sources=(_FMC,),
        reads=frozenset(
            {"transitions", "conditions", "encounters", "enrollments", "procedures", "patient"}
        ),
        value_sets=(ValueSetName.HOSPICE,),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _EdChronicFollowUp(RuleBase):
    within_days: int = param(7, "Days after the ED day for the follow-up.", unit="days")
    minimum_age: int = param(18, "Youngest age in the measure.", unit="years")
    minimum_conditions: int = param(2, "How many chronic-condition groups are needed.")
    conditions: tuple[tuple[str, tuple[str, ...]], ...] | None = param(
        None,
        "Chronic-condition groups as (name, ICD-10-CM prefixes); when given, used instead "
        "of the condition_groups value sets.",
        validator=_categories,
    )
    condition_groups: tuple[str, ...] = value_set_param(
        CHRONIC_CONDITION_GROUPS, "Value sets of the chronic-condition groups, one per group."
    )

    def _groups(self, ctx: RuleContext, visit: CareTransition, day: dt.date) -> set[str]:
        """The groups diagnosed at the visit or on the patient's list on its day."""
        codes = [d.code for d in visit.diagnoses]
        groups = chronic_groups(ctx, self.condition_groups, self.conditions)
        spans = ctx.cached(
            ("transitions.chronic", self.conditions, self.condition_groups),
            lambda c: _chronic_spans(c, groups),
        )
        return {
            name
            for name, match in groups
            if any(match(code) for code in codes) or _on_list(spans[name], day)
        }

    def _eligible(self, ctx: RuleContext, fact: Fact[CareTransition]) -> bool:
        day = ctx.local_date(fact.value.admitted_at)
        age = ctx.age_on(day)
        if age is not None and age < self.minimum_age:
            return False
        return len(self._groups(ctx, fact.value, day)) >= self.minimum_conditions

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact, duplicate in _emergency_visits(
            ctx, lambda f: self._eligible(ctx, f), self.within_days
        ):
            visit = fact.value
            day = ctx.local_date(visit.admitted_at)
            due = ctx.add_days(day, self.within_days)
            visit_after = _visits(ctx, _OUTPATIENT).first_from(day)
            closed_by, closed_at = _first(ctx, visit_after, "follow-up visit")
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=visit.admitted_at,
                summary=f"Emergency visit on {day.isoformat()}: no follow-up visit yet.",
                action="Book a follow-up visit (in person, video or phone) to review the "
                "chronic conditions and what led to the emergency visit.",
                evidence=(ctx.trigger(fact, "emergency visit, multiple chronic conditions"),),
                closed_by=closed_by,
                closed_at=closed_at,
                not_applicable=_ed_exclusion(
                    ctx,
                    fact,
                    due,
                    duplicate=duplicate,
                    admission_days=self.within_days,
                    period_days=self.within_days,
                ),
            )


def transition_ed_chronic_follow_up(
    *,
    within_days: int = 7,
    minimum_age: int = 18,
    minimum_conditions: int = 2,
    conditions: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
    condition_groups: tuple[str, ...] = CHRONIC_CONDITION_GROUPS,
) -> Rule:
    """``transition.ed-chronic-follow-up``: HEDIS FMC, 7 days after an ED visit.

    ``condition_groups`` names one value set per group; the legacy ``conditions`` ((name,
    ICD-10-CM prefixes) pairs), when given, replace them.
    """
    return _EdChronicFollowUp(
        within_days=within_days,
        minimum_age=minimum_age,
        minimum_conditions=minimum_conditions,
        conditions=conditions,
        condition_groups=condition_groups,
    )


RULES: tuple[Rule, ...] = (
    transition_admission_notice_missing(),
    transition_discharge_info_missing(),
    transition_tcm_contact(),
    transition_follow_up_visit(),
    transition_med_rec(),
    transition_mental_health_follow_up(),
    transition_ed_mental_health_follow_up(),
    transition_ed_chronic_follow_up(),
)
"""The transition family with its published defaults, in catalogue order."""
