"""Medication rules: sources that disagree, and changes the rest of the team never hears of.

Medications carry no history. A *change* is a source's version of a medication that
records one: a prescription (``kind`` order: new, or changed, since a changed dose is a new
prescription), dated by ``authored_on`` (else the start of ``period``), or a stop (status
``stopped``), dated by the end of ``period`` (else ``authored_on``, the date the stop was
asserted). A statement that the patient takes a medicine (a medication list, a hospital's
"continue" instruction) is not a change. Summaries never name the medicine (a psychotropic
would reveal a mental-health condition).

``medication.discrepancy`` watches a state (an "at once" rule): it reports a disagreement
only while it stands unreconciled at ``as_of``, due on the local date it arose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from carecoord.domain import (
    Code,
    Communication,
    CommunicationKind,
    Discipline,
    ListKind,
    Medication,
    MedicationKind,
    MedicationStatus,
    Ref,
    Sensitivity,
    System,
)
from carecoord.profile import ConflictKind, Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param, value_set_param
from carecoord.rules._care_team import TeamIndex
from carecoord.rules._codes import optional_str_tuple, refs_to
from carecoord.rules._context import RuleContext
from carecoord.rules._index import Timeline
from carecoord.rules._known import known_since
from carecoord.rules._model import Citation, Evidence, Gap, RuleMetadata, Severity
from carecoord.terminology import ATC, DEFAULT_VALUE_SETS, ValueSet, ValueSetName

__all__ = [
    "ATC_SYSTEM",
    "FAMILY",
    "PSYCHOTROPIC_ATC_PREFIXES",
    "PSYCHOTROPIC_RXNORM",
    "RULES",
    "medication_change_not_shared",
    "medication_discrepancy",
]

FAMILY = "medications"

ATC_SYSTEM = ATC
"""The code system URI of the WHO Anatomical Therapeutic Chemical classification."""

_PSYCHOTROPICS = DEFAULT_VALUE_SETS[ValueSetName.PSYCHOTROPIC_MEDICATIONS]

PSYCHOTROPIC_ATC_PREFIXES: tuple[str, ...] = tuple(
    p.pattern for p in _PSYCHOTROPICS.patterns_in(ATC_SYSTEM) if p.is_prefix
)
"""ATC groups of psychotropics: N05 psycholeptics (antipsychotics, anxiolytics, hypnotics,
lithium) and N06 psychoanaleptics (antidepressants, stimulants); the ATC part of the
``psychotropic-medications`` value set."""

PSYCHOTROPIC_RXNORM: tuple[Code, ...] = _PSYCHOTROPICS.codes_in(System.RXNORM)
"""RxNorm ingredient codes of common psychotropics: an approximation, not a value set.

Common antidepressants, antipsychotics, anxiolytics, stimulants and lithium, listed by
ingredient so that any product (``Medication.ingredients``) matches; the RxNorm part of the
``psychotropic-medications`` value set. Checked against public RxNorm listings; check new
codes with RxNav. Medicines coded only by product (no ingredients) or by a system other
than RxNorm and ATC are not recognised: put a complete list (a VSAC value set, for
example) in the library under ``psychotropic-medications``.
"""

_RXNORM_CODES = tuple(c.code for c in PSYCHOTROPIC_RXNORM)

_ONC_B2 = Citation(
    "ONC 45 CFR 170.315(b)(2) Clinical information reconciliation and incorporation",
    "https://www.healthit.gov/test-method/clinical-information-reconciliation-and-incorporation",
)
_NPSG_MEDREC = Citation(
    "The Joint Commission NPSG.03.06.01: maintain and communicate accurate medication information",
    "https://www.jointcommission.org/standards/national-patient-safety-goals/",
)
_INTEGRATION = Citation(
    "AHRQ Academy for Integrating Behavioral Health and Primary Care",
    "https://integrationacademy.ahrq.gov/",
)
_ATC = Citation(
    "WHO ATC/DDD Index: N05 psycholeptics, N06 psychoanaleptics",
    "https://atcddd.fhi.no/atc_ddd_index/?code=N",
)
_RXNORM = Citation("NLM RxNorm", "https://www.nlm.nih.gov/research/umls/rxnorm/index.html")

_MEDICATION_KINDS = frozenset(
    {
        ConflictKind.MEDICATION_OMISSION,
        ConflictKind.MEDICATION_DOSE,
        ConflictKind.MEDICATION_FREQUENCY,
        ConflictKind.MEDICATION_ROUTE,
        ConflictKind.MEDICATION_STATUS,
    }
)
_KIND_WORDS = {
    ConflictKind.MEDICATION_OMISSION: "presence",
    ConflictKind.MEDICATION_DOSE: "dose",
    ConflictKind.MEDICATION_FREQUENCY: "frequency",
    ConflictKind.MEDICATION_ROUTE: "route",
    ConflictKind.MEDICATION_STATUS: "status",
}
_IGNORED = frozenset({MedicationStatus.ENTERED_IN_ERROR, MedicationStatus.DRAFT})
_NOT_A_MESSAGE = frozenset({CommunicationKind.PATIENT_CONTACT})
_CARRIES_MEDICINES = frozenset(
    {
        CommunicationKind.DISCHARGE_SUMMARY,
        CommunicationKind.CONSULT_REPORT,
        CommunicationKind.MEDICATION_CHANGE,
        CommunicationKind.CARE_PLAN_UPDATE,
    }
)
"""Kinds of message that carry the sender's medication changes (a discharge summary...)."""


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def _died(ctx: RuleContext, day: dt.date) -> str | None:
    return "patient died" if ctx.died_by(day) else None


# --------------------------------------------------------------------------- discrepancy


def _keys(fact: Fact[Any]) -> frozenset[str]:
    return frozenset(f"{p.source}/{p.fact_id}" for p in fact.provenance)


def _distinct(values: Iterable[object]) -> bool:
    return len(set(values)) > 1


def _still_disagree(ctx: RuleContext, fact: Fact[Medication], kind: ConflictKind) -> bool:
    """Whether the sources' versions visible at ``as_of`` still show the conflict."""
    meds = fact.variants
    if kind is ConflictKind.MEDICATION_DOSE:
        return _distinct((m.dose.value, m.dose.unit) for m in meds if m.dose is not None)
    if kind is ConflictKind.MEDICATION_FREQUENCY:
        return _distinct("".join(m.frequency.split()).upper() for m in meds if m.frequency)
    if kind is ConflictKind.MEDICATION_ROUTE:
        return _distinct((m.route.system, m.route.code) for m in meds if m.route is not None)
    if kind is ConflictKind.MEDICATION_STATUS:
        return _distinct(m.status for m in meds)
    if not any(m.status.is_current for m in meds):
        return False
    reporting = {(r.source.id, r.patient.id) for r in ctx.profile.records if r.medications}
    present = {(p.source, p.record) for p in fact.provenance}
    return bool(reporting - present)


def _recorded(med: Medication, last_modified: dt.datetime | None) -> dt.datetime | None:
    """When a source recorded its version of a medication.

    ``recorded_at``, else the source's last change, else the latest of its own dates.
    """
    if med.recorded_at is not None:
        return med.recorded_at
    if last_modified is not None:
        return last_modified
    dates = [t for t in (med.authored_on, med.period.start, med.period.end) if t is not None]
    return max(dates, default=None)


def _disagreeing_since(
    ctx: RuleContext, fact: Fact[Medication], kinds: set[ConflictKind]
) -> dt.datetime | None:
    """When the disagreement arose.

    The latest of each version's recorded time and, for an omission, of the first
    medication recorded by each source that omits it (when its list appeared).
    """
    stamps = [
        _recorded(med, p.last_modified)
        for p, med in zip(fact.provenance, fact.variants, strict=True)
    ]
    if ConflictKind.MEDICATION_OMISSION in kinds:
        present = {(p.source, p.record) for p in fact.provenance}
        for record in ctx.profile.records:
            if (record.source.id, record.patient.id) in present:
                continue
            listed = [_recorded(m, None) for m in record.medications]
            stamps.append(min((t for t in listed if t is not None), default=None))
    return max((t for t in stamps if t is not None and t <= ctx.as_of), default=None)


@define_rule(
    _meta(
        id="medication.discrepancy",
        title="Medication lists disagree",
        description=(
            "Two sources disagree about a medication: one omits it, or they differ on its "
            "dose, frequency, route or status (the profile's medication conflicts, re-read "
            "from the versions knowable at as_of). Nobody has reconciled the list since the "
            "latest change, so the team may be working from the wrong list."
        ),
        opens="The profile reports a medication conflict (omission, dose, frequency, route "
        "or status) between sources, and no medication-list reconciliation since it arose.",
        due="At once: the local date the disagreement arose (the latest version recorded, "
        "or, for an omission, the omitting source's first medication recorded).",
        standing=True,
        closes="Reported only while it stands: the gap goes away with a medication-list "
        "reconciliation at or after that time, or when the sources agree.",
        exclusions=("Patient died.",),
        sources=(_ONC_B2, _NPSG_MEDREC),
        reads=frozenset({"medications", "reconciliations", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.HIGH,
    )
)
@attrs.frozen(repr=False)
class _Discrepancy(RuleBase):
    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        conflicts: dict[str, set[ConflictKind]] = {}
        for conflict in ctx.profile.conflicts:
            if conflict.kind in _MEDICATION_KINDS and conflict.subject is not None:
                conflicts.setdefault(conflict.subject, set()).add(conflict.kind)
        if not conflicts:
            return
        for fact in ctx.profile.medications:
            kinds = {k for key in _keys(fact) for k in conflicts.get(key, ())}
            kinds = {k for k in kinds if _still_disagree(ctx, fact, k)}
            if not kinds:
                continue
            changed = _disagreeing_since(ctx, fact, kinds)
            if self._reconciled(ctx, changed):
                continue
            known = known_since(ctx, fact)
            opened = changed or (
                known if known is not None and known <= ctx.as_of else ctx.start_of_day(ctx.today)
            )
            what = ", ".join(_KIND_WORDS[k] for k in sorted(kinds, key=lambda k: k.value))
            yield ctx.gap(
                focus=fact.key,
                due=ctx.local_date(opened),
                opened=opened,
                summary=f"Sources disagree about a medication ({what}).",
                action="Reconcile the medication list with the patient and the prescribers.",
                evidence=(ctx.trigger(fact, f"sources disagree: {what}"),),
                not_applicable=_died(ctx, ctx.today),
                sensitivity=fact.value.sensitivity,
            )

    @staticmethod
    def _reconciled(ctx: RuleContext, changed: dt.datetime | None) -> bool:
        """Whether the medication list was reconciled at or after ``changed``."""
        return any(
            r.value.list is ListKind.MEDICATIONS and (changed is None or r.value.at >= changed)
            for r in ctx.profile.reconciliations
        )


def medication_discrepancy() -> Rule:
    """``medication.discrepancy``: sources disagree and nobody has reconciled since."""
    return _Discrepancy()


# --------------------------------------------------------------------------- change not shared


def _is_psychotropic(med: Medication, prefixes: tuple[str, ...], rxnorm: frozenset[str]) -> bool:
    for code in (med.code, *med.ingredients):
        if code.system == System.RXNORM and code.code in rxnorm:
            return True
        if code.system == ATC_SYSTEM and code.code.upper().startswith(prefixes):
            return True
    return False


@attrs.frozen
class _Change:
    """One source's change to a medication: the version's key, what it did, and when."""

    key: str
    what: str
    at: dt.datetime
    med: Medication


def _change(med: Medication) -> tuple[str, dt.datetime] | None:
    """What a source's version of a medication changed, and when (``None``: no change)."""
    if med.status is MedicationStatus.STOPPED:
        stopped = med.period.end or med.authored_on
        return ("stopped", stopped) if stopped is not None else None
    if med.kind is MedicationKind.ORDER:
        prescribed = med.authored_on or med.period.start
        return ("prescribed", prescribed) if prescribed is not None else None
    return None


def _changes(fact: Fact[Medication]) -> list[_Change]:
    """The changes the sources' versions of a medication record, by version key."""
    found: dict[str, _Change] = {}
    for provenance, med in zip(fact.provenance, fact.variants, strict=True):
        if med.status in _IGNORED or med.prescriber is None:
            continue
        event = _change(med)
        if event is not None:
            key = f"{provenance.source}/{provenance.fact_id}"
            found.setdefault(key, _Change(key, event[0], event[1], med))
    return [found[key] for key in sorted(found)]


@define_rule(
    _meta(
        id="medication.change-not-shared",
        title="Medication change not shared with the team",
        description=(
            "A clinician prescribed (started or changed) or stopped a medication and did not "
            "tell the patient's primary-care clinician within 7 days, nor, for a "
            "psychotropic, the behavioural-health clinician (integrated care). A change is "
            "a prescription (a changed dose is a new prescription) or a stop recorded by a "
            "source; a source merely listing a medicine (a medication list, a discharge "
            "'continue' instruction) changes nothing. One gap per change, focused on the "
            "source version that records it. Psychotropics are recognised by the "
            "psychotropic-medications value set (by default ATC N05/N06 and a documented "
            "list of RxNorm ingredients, an approximation)."
        ),
        opens="A prescription (authored) or a stop, by a known prescriber; clinicians who "
        "are the prescriber need no message.",
        due="7 days after the prescription or stop.",
        closes="A communication sent on or after the day of the change, received by the "
        "primary-care clinician and, for a psychotropic, by the behavioural-health "
        "clinician: any message about the medication (not a patient contact); a discharge "
        "summary, consult report, medication-change or care-plan message from its "
        "prescriber (or the prescriber's organisation); or a medication-change message "
        "about nothing in particular.",
        exclusions=(
            "Patient died.",
            (
                "No gap when nobody needs telling: no primary-care (or behavioural-health) "
                "clinician on the care team or as general practitioner, or the prescriber is "
                "that clinician."
            ),
        ),
        sources=(_INTEGRATION, _NPSG_MEDREC, _ATC, _RXNORM),
        reads=frozenset(
            {
                "medications",
                "communications",
                "care_teams",
                "practitioners",
                "organizations",
                "patient",
            }
        ),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _ChangeNotShared(RuleBase):
    within_days: int = param(7, "Days after the change to tell the team.", unit="days")
    psychotropic_atc_prefixes: tuple[str, ...] | None = param(
        None,
        "ATC prefixes of psychotropic medicines; when given (or psychotropic_rxnorm is), "
        "used instead of the psychotropics value set.",
        validator=optional_str_tuple,
    )
    psychotropic_rxnorm: tuple[str, ...] | None = param(
        None,
        "RxNorm codes (ingredients or products) of psychotropic medicines; when given (or "
        "psychotropic_atc_prefixes is), used instead of the psychotropics value set.",
        validator=optional_str_tuple,
    )
    psychotropics: str = value_set_param(
        ValueSetName.PSYCHOTROPIC_MEDICATIONS,
        "Value set of psychotropic medicines (a medicine's code or any of its ingredients).",
    )

    def _psychotropic(self, ctx: RuleContext) -> Callable[[Medication], bool]:
        if self.psychotropic_atc_prefixes is None and self.psychotropic_rxnorm is None:
            value_set: ValueSet = ctx.value_set(self.psychotropics)
            return lambda med: value_set.contains_any((med.code, *med.ingredients))
        prefixes = tuple(
            p.upper()
            for p in (
                PSYCHOTROPIC_ATC_PREFIXES
                if self.psychotropic_atc_prefixes is None
                else self.psychotropic_atc_prefixes
            )
        )
        codes = frozenset(
            _RXNORM_CODES if self.psychotropic_rxnorm is None else self.psychotropic_rxnorm
        )
        return lambda med: _is_psychotropic(med, prefixes, codes)

    @staticmethod
    def _recipients(
        ctx: RuleContext, index: TeamIndex, at: dt.datetime, discipline: Discipline
    ) -> frozenset[Ref]:
        members = index.members_of(discipline, at)
        if members or discipline is not Discipline.PRIMARY_CARE:
            return members
        return frozenset(ctx.profile.patient.general_practitioner)

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        is_psychotropic = self._psychotropic(ctx)
        index = ctx.cached("care-team.index", TeamIndex)
        messages = _Messages(ctx)
        for fact in sorted(ctx.profile.medications, key=lambda f: f.key):
            refs = refs_to(fact, "Medication") | {Ref("Medication", fact.key)}
            for change in _changes(fact):
                med = change.med
                assert med.prescriber is not None
                psychotropic = is_psychotropic(med)
                groups = [("primary-care clinician", Discipline.PRIMARY_CARE)]
                if psychotropic:
                    groups.append(("behavioural-health clinician", Discipline.BEHAVIORAL_HEALTH))
                needed = []
                for label, discipline in groups:
                    parties = self._recipients(ctx, index, change.at, discipline)
                    if parties and med.prescriber not in parties:
                        needed.append((label, parties))
                if not needed:
                    continue
                yield self._gap(
                    ctx,
                    fact,
                    change,
                    needed,
                    refs=refs,
                    psychotropic=psychotropic,
                    messages=messages,
                )

    def _gap(
        self,
        ctx: RuleContext,
        fact: Fact[Medication],
        change: _Change,
        needed: list[tuple[str, frozenset[Ref]]],
        *,
        refs: frozenset[Ref],
        psychotropic: bool,
        messages: _Messages,
    ) -> Gap:
        day = ctx.local_date(change.at)
        due = ctx.add_days(day, self.within_days)
        senders = _senders(ctx, change.med)
        told: list[tuple[dt.datetime, Evidence]] = []
        for label, parties in needed:
            message = messages.first(ctx, parties, refs, senders, day)
            if message is not None:
                told.append((message.value.sent, ctx.closing(message, f"{label} told")))
        complete = len(told) == len(needed)
        who = " and ".join(label for label, _ in needed)
        sensitivity = change.med.sensitivity | fact.value.sensitivity
        if psychotropic:
            sensitivity = sensitivity | {Sensitivity.MENTAL_HEALTH}
        return ctx.gap(
            focus=change.key,
            due=due,
            opened=change.at,
            summary=f"Medication {change.what} {day.isoformat()}; the {who} not yet told.",
            action=f"Send the medication change to the {who}.",
            evidence=(ctx.trigger(fact, f"medication {change.what}"),),
            closed_by=tuple(e for _, e in told) if complete else (),
            closed_at=max(t for t, _ in told) if complete else None,
            not_applicable=_died(ctx, due),
            sensitivity=frozenset(sensitivity),
        )


def _senders(ctx: RuleContext, med: Medication) -> frozenset[Ref]:
    """Who speaks for the change: its prescriber and the prescriber's organisation."""
    assert med.prescriber is not None
    senders = {med.prescriber}
    if med.prescriber.type == "Practitioner":
        person = ctx.profile.practitioner(med.prescriber)
        if person is not None and person.organization is not None:
            senders.add(Ref("Organization", person.organization))
    return frozenset(senders)


class _Messages:
    """Messages that may share a change, gathered once per evaluation.

    By what they are about; those that carry medicines by sender and recipient; and the
    medication-change messages about nothing in particular by recipient (each list in time
    order).
    """

    __slots__ = ("by_about", "carrying", "changes")

    def __init__(self, ctx: RuleContext) -> None:
        self.by_about: dict[Ref, list[Fact[Communication]]] = {}
        carrying: dict[tuple[Ref, Ref], list[tuple[dt.datetime, Fact[Communication]]]] = {}
        changes: dict[Ref, list[tuple[dt.datetime, Fact[Communication]]]] = {}
        for message in ctx.profile.communications:
            m = message.value
            if m.kind in _NOT_A_MESSAGE or m.status == "not-done":
                continue
            for ref in m.about:
                self.by_about.setdefault(ref, []).append(message)
            for recipient in dict.fromkeys(m.recipients):
                if m.kind in _CARRIES_MEDICINES and m.sender is not None:
                    carrying.setdefault((m.sender, recipient), []).append((m.sent, message))
                if m.kind is CommunicationKind.MEDICATION_CHANGE and not m.about:
                    changes.setdefault(recipient, []).append((m.sent, message))
        self.carrying = {k: Timeline(v, ctx.local_date) for k, v in carrying.items()}
        self.changes = {k: Timeline(v, ctx.local_date) for k, v in changes.items()}

    def first(
        self,
        ctx: RuleContext,
        parties: frozenset[Ref],
        refs: frozenset[Ref],
        senders: frozenset[Ref],
        day: dt.date,
    ) -> Fact[Communication] | None:
        """The first message to one of ``parties`` on or after ``day`` that shares the change.

        About the medication (``refs``); a message that carries medicines from one of
        ``senders``; or a medication-change message about nothing in particular.
        """
        found = [
            m
            for r in refs
            for m in self.by_about.get(r, ())
            if parties.intersection(m.value.recipients) and ctx.local_date(m.value.sent) >= day
        ]
        timelines = [self.carrying.get((sender, party)) for sender in senders for party in parties]
        timelines.extend(self.changes.get(party) for party in parties)
        for timeline in timelines:
            first = timeline.first_from(day) if timeline is not None else None
            if first is not None:
                found.append(first)
        return min(found, key=lambda m: (m.value.sent, m.key), default=None)


def medication_change_not_shared(
    *,
    within_days: int = 7,
    psychotropic_atc_prefixes: tuple[str, ...] | None = None,
    psychotropic_rxnorm: tuple[str, ...] | None = None,
    psychotropics: str = ValueSetName.PSYCHOTROPIC_MEDICATIONS,
) -> Rule:
    """``medication.change-not-shared``: a change not sent to the PCP (and BH) within 7 days.

    ``psychotropics`` names a value set of the library; the legacy ATC prefixes and RxNorm
    codes, when either is given, replace it.
    """
    return _ChangeNotShared(
        within_days=within_days,
        psychotropic_atc_prefixes=psychotropic_atc_prefixes,
        psychotropic_rxnorm=psychotropic_rxnorm,
        psychotropics=psychotropics,
    )


RULES: tuple[Rule, ...] = (medication_discrepancy(), medication_change_not_shared())
"""The medication family with its published defaults, in catalogue order."""
