"""Transition rules: admissions, discharges and emergency visits, and what must follow them.

Day windows count local calendar days in the patient's (else the facility's) time zone.
A stay whose discharge is after ``as_of`` is ongoing for the rules. Common exclusions: the
patient died (during the stay, or by ``as_of``), discharge to hospice, and a direct
transfer to another acute or a non-acute inpatient setting (another hospital, skilled
nursing, rehabilitation, a psychiatric facility: the receiving facility's discharge starts
the clock instead). Each rule follows its measure's wording for readmissions and hospice,
and says how in its metadata's exclusions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left
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
    System,
    TransitionKind,
    VerificationStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._codes import code_matcher, optional_str_tuple, refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Ranked, Timeline
from carecoord.rules._model import Citation, Evidence, Exclusion, Gap, RuleMetadata, Severity
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

# --------------------------------------------------------------------------- exclusions
# How each exclusion follows the measure the rule cites (shown in the rule catalogue).

_DIED_HEDIS = (
    'HEDIS excludes "members who die any time during the measurement year"; for the care '
    "team nothing about a patient who has died is work (every rule: a gap not met is "
    "not applicable once the patient has died by as_of)."
)


def _died_exclusion(*sources: Citation, follows: str = _DIED_HEDIS) -> Exclusion:
    return Exclusion("The patient has died (by as_of).", follows, sources)


def _discharge_exclusions(measure: str, source: Citation, chain: str) -> tuple[Exclusion, ...]:
    """The exclusions of a discharge in HEDIS TRC, MRP and FUH."""
    return (
        Exclusion(
            "Died during the stay, or discharged to hospice.",
            f"{measure}: the denominator is discharges of living members, and members in "
            "hospice are excluded.",
            (source,),
        ),
        Exclusion(
            "A direct transfer to another acute hospital or a non-acute inpatient setting "
            "(skilled nursing, rehabilitation, a psychiatric facility).",
            f"{measure}: {chain} The receiving setting's own discharge opens the gaps.",
            (source,),
        ),
        Exclusion(
            "A readmission (an inpatient or transfer stay) admitted after the discharge and "
            "on or before the discharge day plus 30 days (`readmission_days`).",
            f"{measure}: {chain}",
            (source,),
        ),
        Exclusion(
            "Hospice care anytime in the discharge's calendar year.",
            f'{measure}: "members in hospice or using hospice services anytime during the '
            'measurement year".',
            (source,),
        ),
        _died_exclusion(source),
    )


_TRC_CHAIN = (
    '"If the discharge is followed by readmission or direct transfer to an acute or '
    "nonacute inpatient care setting on the date of discharge through 30 days after "
    'discharge (31 total days), count only the last discharge."'
)
_FUH_CHAIN = (
    "discharges followed by readmission or direct transfer to an acute or non-acute "
    "inpatient care setting within the 30-day follow-up period are excluded (to acute care "
    "for a mental-health diagnosis, the last discharge is counted instead)."
)


def _tcm_exclusions(*sources: Citation) -> tuple[Exclusion, ...]:
    """The exclusions of the CMS TCM rules (contact and face-to-face visit)."""
    return (
        Exclusion(
            "Discharged to hospice, another acute hospital, or any setting outside the "
            "community (skilled nursing, rehabilitation...; an unknown destination counts "
            "as the community unless `unknown_destination_is_community` is false).",
            "CMS TCM follows a discharge from an inpatient or observation stay to the "
            "patient's community setting (home, domiciliary, rest home or assisted living).",
            (_TCM,),
        ),
        Exclusion(
            "Readmitted (inpatient or observation) before the window closed.",
            "CMS TCM covers the 30 days from one discharge and is paid once in them: the "
            "readmission's own discharge starts the work again.",
            (_TCM,),
        ),
        Exclusion(
            "Hospice care earlier in the year: not excluded.",
            "CMS TCM has no such exclusion, so a discharge home is followed even though "
            "HEDIS TRC (patient engagement) would leave the year out.",
            sources,
        ),
        _died_exclusion(
            _TCM,
            follows="CMS TCM is not billable when the patient dies within the 30 days; "
            "nothing about a patient who has died is work.",
        ),
    )


def _ed_exclusions(
    measure: str, source: Citation, admission_days: int, period_days: int
) -> tuple[Exclusion, ...]:
    """The exclusions of HEDIS FUM and FMC."""
    return (
        Exclusion(
            f"Admitted to an acute or non-acute inpatient setting from the ED visit (its "
            f"disposition says admitted, or transferred to an inpatient setting) or within "
            f"{admission_days} days after it (a recorded inpatient or transfer stay).",
            f'{measure}: "ED visits that result in an inpatient stay and ED visits followed '
            "by admission to an acute or nonacute inpatient care setting on the date of the "
            f'ED visit or within the {admission_days} days after the ED visit" are excluded, '
            "regardless of the admission's diagnosis.",
            (source,),
        ),
        Exclusion(
            f"A later ED visit within {period_days + 1} days of one already followed.",
            f"{measure}: for several ED visits in a {period_days + 1}-day period, only the "
            "first eligible one counts (a visit excluded for an admission is not eligible).",
            (source,),
        ),
        Exclusion(
            "Discharged from the ED to hospice, or hospice care anytime in the ED visit's "
            "calendar year.",
            f'{measure}: "members in hospice or using hospice services anytime during the '
            'measurement year".',
            (source,),
        ),
        _died_exclusion(source),
    )


_INPATIENT = (TransitionKind.INPATIENT,)
_STAYS = (TransitionKind.INPATIENT, TransitionKind.OBSERVATION)
_ADMISSIONS = (TransitionKind.INPATIENT, TransitionKind.TRANSFER)
"""Stays that are an admission to an inpatient setting: a readmission or direct transfer."""
_TRANSFER_SETTINGS = {
    CareSetting.OTHER_HOSPITAL: "another acute hospital",
    CareSetting.INPATIENT: "inpatient care",
    CareSetting.SKILLED_NURSING: "skilled nursing",
    CareSetting.REHAB: "rehabilitation",
    CareSetting.PSYCHIATRIC: "a psychiatric facility",
}
"""Destinations that are acute or non-acute inpatient settings: a discharge to one is a
direct transfer, and the measures follow the receiving setting's discharge instead."""
_OFFICE = frozenset({EncounterClass.AMBULATORY, EncounterClass.VIRTUAL, EncounterClass.HOME})
_OUTPATIENT = _OFFICE | {EncounterClass.TELEPHONE}
_VISIT_STATUSES = frozenset({EncounterStatus.FINISHED, EncounterStatus.IN_PROGRESS})
_MENTAL_HEALTH = (ValueSetName.MENTAL_ILLNESS, ValueSetName.SELF_HARM)
_SELF_HARM = (ValueSetName.SELF_HARM,)
_Match = Callable[[Code], bool]
_Reconciled = tuple[dt.date, dt.date | dt.datetime, str, Fact[Any], str, Ref | None]
"""A reconciliation found: local day, when, fact key, the fact, description, encounter."""


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
    """Why the discharge destination excludes the stay, if it does.

    Death during the stay, hospice, and a direct transfer to an acute or non-acute
    inpatient setting exclude it for every discharge rule; with ``community``, so does
    any destination outside the community.
    """
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
    if to in _TRANSFER_SETTINGS:
        return f"transferred to {_TRANSFER_SETTINGS[to]}; the last discharge is followed"
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


def _later_discharge(
    ctx: RuleContext, fact: Fact[CareTransition], readmission_days: int
) -> str | None:
    """Why the discharge is not the one a measure follows: a readmission came within days.

    A stay admitted (as an inpatient, or by transfer) after this discharge and on or
    before the discharge day plus ``readmission_days``: HEDIS TRC, MRP and FUH count only
    the last discharge of such a chain.
    """
    discharged = fact.value.discharged_at
    assert discharged is not None
    through = ctx.add_days(ctx.local_date(discharged), readmission_days)
    if _readmission(ctx, fact, discharged, through, _ADMISSIONS) is None:
        return None
    return f"readmitted within {readmission_days} days; the last discharge is followed"


def _hospice_in_year(ctx: RuleContext, day: dt.date) -> str | None:
    """Hospice care in the calendar year of the index event (``day``), if any.

    HEDIS: "members in hospice or using hospice services anytime during the measurement
    year".
    """
    return "hospice" if ctx.hospice_during(*ctx.measurement_year(day)) else None


def _measure_exclusion(
    ctx: RuleContext, fact: Fact[CareTransition], day: dt.date, due: dt.date, days: int
) -> str | None:
    """The exclusions of a discharge in HEDIS TRC, MRP and FUH, in the order they apply.

    The destination (death in the stay, hospice, a direct transfer), a readmission within
    ``days`` (the last discharge is followed), hospice in the measurement year, death.
    """
    return (
        _destination(fact.value, community=False, unknown_is_community=True)
        or _later_discharge(ctx, fact, days)
        or _hospice_in_year(ctx, day)
        or _died(ctx, due)
    )


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


def _stay_refs(fact: Fact[CareTransition]) -> frozenset[Ref]:
    """The references a message or document may name the stay by: itself, its encounter."""
    refs = frozenset(refs_to(fact, "CareTransition"))
    encounter = fact.value.encounter
    return refs | {encounter} if encounter is not None else refs


def _notice(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    kind: CommunicationKind,
    from_day: dt.date,
) -> tuple[tuple[Evidence, ...], dt.datetime | None]:
    """The first notice of ``kind`` about the stay (or, unlinked, sent on or after the day)."""
    refs = _stay_refs(fact)
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
    refs = _stay_refs(fact)
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
        exclusion_details=(
            Exclusion(
                "Readmissions, transfers and hospice: not excluded.",
                "The CMS ADT Condition of Participation asks for a notice at every "
                "inpatient admission, transfer included, whatever the patient's hospice "
                "status; HEDIS TRC, which follows only the last discharge of a chain, "
                "counts that discharge's admission too.",
                (_ADT_COP, _TRC),
            ),
            _died_exclusion(_TRC),
        ),
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
        exclusion_details=_discharge_exclusions("HEDIS TRC", _TRC, _TRC_CHAIN),
        sources=(_TRC,),
        reads=frozenset(
            {
                "transitions",
                "communications",
                "documents",
                "procedures",
                "encounters",
                "enrollments",
                "patient",
            }
        ),
        value_sets=(ValueSetName.HOSPICE,),
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
    readmission_days: int = param(
        30,
        "A readmission or direct transfer within this many days after the discharge day "
        "excludes the discharge (the last one is followed).",
        unit="days",
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
                not_applicable=_measure_exclusion(ctx, fact, day, due, self.readmission_days),
            )


def transition_discharge_info_missing(
    *,
    within_days: int = 2,
    kinds: tuple[TransitionKind, ...] = _INPATIENT,
    readmission_days: int = 30,
    summaries: str | tuple[str, ...] = (
        ValueSetName.DISCHARGE_SUMMARY,
        ValueSetName.TRANSFER_SUMMARY,
    ),
) -> Rule:
    """``transition.discharge-info-missing``: no discharge information within day + 2."""
    return _DischargeInfoMissing(
        within_days=within_days,
        kinds=kinds,
        readmission_days=readmission_days,
        summaries=summaries,
    )


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
        exclusion_details=_tcm_exclusions(_TCM),
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
        exclusion_details=_tcm_exclusions(_TCM, _TRC),
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
        "TCM 99495/99496), in the outpatient record after the discharge (from the discharge "
        "instant; a date-only one from the discharge day; not one documented in the stay).",
        exclusion_details=_discharge_exclusions("HEDIS MRP and TRC", _MRP, _TRC_CHAIN),
        sources=(_MRP, _TRC, _TCM),
        reads=frozenset(
            {
                "transitions",
                "reconciliations",
                "procedures",
                "encounters",
                "enrollments",
                "patient",
            }
        ),
        value_sets=(ValueSetName.HOSPICE,),
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
    readmission_days: int = param(
        30,
        "A readmission or direct transfer within this many days after the discharge day "
        "excludes the discharge (the last one is followed).",
        unit="days",
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
            closed_by, closed_at = self._reconciled(ctx, fact)
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
                not_applicable=_measure_exclusion(ctx, fact, day, due, self.readmission_days),
            )

    def _reconciled(
        self, ctx: RuleContext, fact: Fact[CareTransition]
    ) -> tuple[tuple[Evidence, ...], dt.date | dt.datetime | None]:
        """The earliest reconciliation after the discharge, in the outpatient record.

        HEDIS TRC/MRP count a reconciliation "on the date of discharge through 30 days
        after discharge", in the outpatient record: one made at or after the discharge
        instant (a date-only one on or after the discharge day), and not one documented
        during the stay itself (the inpatient team reconciling before discharge).
        """
        stay = fact.value
        discharged = stay.discharged_at
        assert discharged is not None
        day = ctx.local_date(discharged)
        during_stay = refs_to(fact, "CareTransition")
        if stay.encounter is not None:
            during_stay = during_stay | {stay.encounter}
        entries = ctx.cached(("transitions.med-rec", self.codes, self.reconciliation), self._index)
        for entry in entries[bisect_left(entries, (day,)) :]:
            _day, when, _key, found, description, encounter = entry
            if isinstance(when, dt.datetime) and when < discharged:
                continue
            if encounter is not None and encounter in during_stay:
                continue
            return (ctx.closing(found, description),), when
        return (), None

    def _index(self, ctx: RuleContext) -> list[_Reconciled]:
        """Reconciliations, coded procedures and coded visits, by local day then key.

        Each with when it happened (an instant, or the day for a date-only procedure) and
        the encounter it was documented in, if any.
        """
        documents = self._documents(ctx)
        entries: list[_Reconciled] = []
        for r in ctx.profile.reconciliations:
            if r.value.list is ListKind.MEDICATIONS:
                at = r.value.at
                day = ctx.local_date(at)
                entries.append((day, at, r.key, r, "medication list reconciled", None))
        for p in ctx.profile.procedures:
            procedure = p.value
            if procedure.status != "not-done" and documents(procedure.code):
                day = ctx.local_date(procedure.performed)
                performed = procedure.performed
                when = performed if isinstance(performed, dt.datetime) else day
                entries.append(
                    (day, when, p.key, p, "reconciliation documented", procedure.encounter)
                )
        visits = _visits(ctx, _OUTPATIENT)
        for day, visit in zip(visits.days, visits, strict=True):
            if any(documents(t) for t in visit.value.types):
                entries.append(
                    (
                        day,
                        visit.value.start,
                        visit.key,
                        visit,
                        "visit billed with reconciliation",
                        None,
                    )
                )
        entries.sort(key=lambda e: (e[0], e[2]))
        return entries


def transition_med_rec(
    *,
    within_days: int = 30,
    codes: tuple[Code, ...] | None = None,
    kinds: tuple[TransitionKind, ...] = _INPATIENT,
    reconciliation: str = ValueSetName.MEDICATION_RECONCILIATION,
    readmission_days: int = 30,
) -> Rule:
    """``transition.med-rec``: medicines not reconciled by day 30 after discharge.

    ``codes``, when given, replaces the ``reconciliation`` value set.
    """
    return _MedRec(
        within_days=within_days,
        codes=codes,
        kinds=kinds,
        reconciliation=reconciliation,
        readmission_days=readmission_days,
    )


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


@attrs.frozen(repr=False)
class _MentalHealthWindows(RuleBase):
    """What FUH and FUM share: the two windows, the minimum age and the diagnoses."""

    short_window_days: int = param(7, "The first follow-up window.", unit="days")
    long_window_days: int = param(30, "The second follow-up window.", unit="days")
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
        exclusion_details=_discharge_exclusions("HEDIS FUH", _FUH, _FUH_CHAIN),
        sources=(_FUH,),
        reads=frozenset(
            {
                "transitions",
                "encounters",
                "procedures",
                "enrollments",
                "care_teams",
                "practitioners",
                "organizations",
                "patient",
            }
        ),
        value_sets=(ValueSetName.HOSPICE,),
        discipline=Discipline.BEHAVIORAL_HEALTH,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _MentalHealthFollowUp(_MentalHealthWindows):
    readmission_days: int = param(
        30, "A readmission within this many days excludes the earlier discharge.", unit="days"
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

            def exclusion(
                due: dt.date, fact: Fact[CareTransition] = fact, day: dt.date = day
            ) -> str | None:
                return _measure_exclusion(ctx, fact, day, due, self.readmission_days)

            self_harm = _principal_in(stay, critical) is not None
            visits = ctx.cached("transitions.mental-health-visits", _mental_health_visits)
            yield from _windows(
                ctx,
                fact,
                windows=(("7d", self.short_window_days), ("30d", self.long_window_days)),
                index_day=day,
                opened=stay.discharged_at,
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


_ADMITTED_AS_INPATIENT = (System.DISCHARGE_DISPOSITION, "09")
"""NUBC patient discharge status 09: admitted as an inpatient to this hospital."""


def _ed_admission(ctx: RuleContext, fact: Fact[CareTransition], admission_days: int) -> str | None:
    """Why an ED visit is excluded for an inpatient admission, if it is.

    HEDIS FUM and FMC exclude "ED visits that result in an inpatient stay" and those
    "followed by admission to an acute or nonacute inpatient care setting on the date of
    the ED visit or within" 30 (FUM) or 7 (FMC) days after it: a disposition of admission
    (``to_setting`` inpatient, or with no setting the NUBC code 09) or of transfer to an
    inpatient setting, or a recorded inpatient or transfer stay admitted from the ED day
    through ``admission_days`` after.
    """
    visit = fact.value
    to = visit.to_setting
    code = visit.discharge_disposition
    disposition = None if code is None else (code.system, code.code)
    if to is CareSetting.INPATIENT or (
        to is CareSetting.UNKNOWN and disposition == _ADMITTED_AS_INPATIENT
    ):
        return "admitted as an inpatient from the emergency visit"
    if to in _TRANSFER_SETTINGS:
        return f"transferred to {_TRANSFER_SETTINGS[to]} from the emergency visit"
    day = ctx.local_date(visit.admitted_at)
    start = ctx.start_of_day(day)
    if _readmission(ctx, fact, start, ctx.add_days(day, admission_days), _ADMISSIONS):
        return f"admitted within {admission_days} days of the emergency visit"
    return None


def _emergency_visits(
    ctx: RuleContext,
    eligible: Callable[[Fact[CareTransition]], bool],
    spacing_days: int,
    admission_days: int,
) -> Iterator[tuple[Fact[CareTransition], bool, str | None]]:
    """Eligible ED visits, with whether an earlier one counts and any admission exclusion.

    A visit is a duplicate when an earlier counted one is within ``spacing_days`` before it
    (HEDIS: "include only the first eligible ED visit" in the period); a visit excluded for
    an admission is not eligible, so it counts for no period.
    """
    last: dt.date | None = None
    for fact in _stays(ctx, (TransitionKind.EMERGENCY,)):
        if not eligible(fact):
            continue
        admitted = _ed_admission(ctx, fact, admission_days)
        day = ctx.local_date(fact.value.admitted_at)
        duplicate = (
            admitted is None and last is not None and day <= last + dt.timedelta(days=spacing_days)
        )
        if admitted is None and not duplicate:
            last = day
        yield fact, duplicate, admitted


def _ed_exclusion(
    ctx: RuleContext,
    fact: Fact[CareTransition],
    due: dt.date,
    *,
    duplicate: bool,
    admitted: str | None,
    period_days: int,
) -> str | None:
    if admitted is not None:
        return admitted
    if duplicate:
        return f"an earlier emergency visit within {period_days + 1} days is followed instead"
    visit = fact.value
    day = ctx.local_date(visit.admitted_at)
    if visit.to_setting is CareSetting.DECEASED or ctx.died_by(due):
        return "patient died"
    if visit.to_setting is CareSetting.HOSPICE or ctx.hospice_during(*ctx.measurement_year(day)):
        return "hospice"  # HEDIS: hospice anytime during the measurement year
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
        exclusion_details=_ed_exclusions("HEDIS FUM", _FUM, 30, 30),
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
class _EdMentalHealthFollowUp(_MentalHealthWindows):
    admission_days: int = param(
        30, "An inpatient admission within this many days excludes the visit.", unit="days"
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
        for fact, duplicate, admitted in _emergency_visits(
            ctx,
            lambda f: self._eligible(ctx, f, diagnosis),
            self.long_window_days,
            self.admission_days,
        ):
            visit = fact.value
            day = ctx.local_date(visit.admitted_at)
            visits = ctx.cached(
                ("transitions.fum-visits", self.diagnosis_prefixes, self.diagnoses),
                lambda c: _visits(c, _OUTPATIENT).where(lambda e: self._qualifies(c, e, diagnosis)),
            )

            def exclusion(
                due: dt.date,
                fact: Fact[CareTransition] = fact,
                duplicate: bool = duplicate,
                admitted: str | None = admitted,
            ) -> str | None:
                return _ed_exclusion(
                    ctx,
                    fact,
                    due,
                    duplicate=duplicate,
                    admitted=admitted,
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
    counts from the day it was recorded, else from the first day), and for each position
    the latest abatement day among the conditions with that onset or an earlier one
    (``date.max`` while one is still active).
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
        known = condition.onset or condition.recorded_at
        onset = dt.date.min if known is None else ctx.local_date(known)
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
    """Whether one of a group's conditions was diagnosed before ``day`` and still current.

    Started before ``day`` (a condition first known on the ED day was diagnosed there),
    and still active or abated on or after 1 January of the year before ``day``'s (the
    measurement year or the year prior).
    """
    onsets, latest = spans
    started = bisect_left(onsets, day)
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
        "of the groups, diagnosed before the ED day and current in the measurement year or "
        "the year before (a diagnosis made at the visit does not count).",
        due="7 days after the ED day (8 days in all).",
        closes="Any outpatient, video, telephone or home visit on or after the ED day.",
        exclusion_details=_ed_exclusions("HEDIS FMC", _FMC, 7, 7),
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

    def _groups(self, ctx: RuleContext, day: dt.date) -> set[str]:
        """The groups of conditions diagnosed before the ED day (HEDIS FMC).

        FMC counts members "with two or more different chronic conditions prior to the ED
        visit", identified during the measurement year or the year prior: a diagnosis made
        at the ED visit itself does not count.
        """
        groups = chronic_groups(ctx, self.condition_groups, self.conditions)
        spans = ctx.cached(
            ("transitions.chronic", self.conditions, self.condition_groups),
            lambda c: _chronic_spans(c, groups),
        )
        return {name for name, _ in groups if _on_list(spans[name], day)}

    def _eligible(self, ctx: RuleContext, fact: Fact[CareTransition]) -> bool:
        day = ctx.local_date(fact.value.admitted_at)
        age = ctx.age_on(day)
        if age is not None and age < self.minimum_age:
            return False
        return len(self._groups(ctx, day)) >= self.minimum_conditions

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact, duplicate, admitted in _emergency_visits(
            ctx, lambda f: self._eligible(ctx, f), self.within_days, self.within_days
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
                    admitted=admitted,
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
