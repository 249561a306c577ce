"""Consent- and role-filtered views of a profile, and the patient's plain-words summary.

Who looks (checked first): a :class:`Viewer` with :attr:`ViewerRole.PATIENT` must be the
profile's own patient (``Ref("Patient", <profile id, or a record's patient id>)``) or one
of the patient's personal representatives (``Ref("RelatedPerson", <id>)`` of a related
person who :meth:`~carecoord.domain.RelatedPerson.represents_at` ``at``); a patient or a
related person may look only as the patient. Anyone else raises
:class:`~carecoord.errors.ConsentError`.

Who sees a fact (:func:`can_see`), evaluated at an instant ``at``:

1. **Psychotherapy notes** (:attr:`Sensitivity.PSYCHOTHERAPY_NOTE`) are seen by their
   author only: no consent opens them, and the patient's own view leaves them out
   (45 CFR 164.501, 164.508(a)(2)).
2. **The patient**, and a **personal representative** while the relationship is active,
   see everything else about the patient.
3. **The author** of a fact (its ``author``, or the performer, requester, prescriber or
   sender when it has no author) always sees it.
4. A fact with **no sensitivity class** is seen by every clinician and coordinator.
5. Otherwise *every* class of the fact must be permitted by a :class:`Consent` that is
   active at ``at`` (status ``"active"``, period covering ``at``, not recorded after
   ``at``) and covers the class (empty ``classes`` covers every class):

   * a **deny** that applies to the viewer (named, or ``actors`` empty: everyone)
     overrides any permit;
   * a **permit** applies to the viewer when it names them in ``actors``, or when its
     ``actors`` is empty ("anyone on the care team") and the viewer is an active member
     of one of the profile's care teams at ``at``;
   * **substance-use** data (42 CFR Part 2) and data labelled **restricted** (v3
     Confidentiality ``R`` or ``V``) need a permit that names the viewer explicitly: an
     "anyone on the team" permit is not enough.
6. **A fact that names a fact the viewer may not see is hidden with it**, whoever wrote
   it (a task whose focus is a hidden referral, a message about a hidden result): its
   reference would reveal the hidden fact.

A fact's classes are labelled, inferred from every coding of its codes and from what it
implies, and propagated from every fact it names (:mod:`._sensitivity`): see
:func:`sensitivity_of`. A view keeps no trace of a hidden fact: not in any list, in the
conflicts, in the source records, nor among the parties (only the practitioners and
organisations something visible names are kept).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import attrs

from carecoord.domain import (
    FACT_FIELDS,
    ActivityKind,
    Appointment,
    AppointmentStatus,
    Code,
    ConditionCategory,
    ConsentDecision,
    Discipline,
    Interpretation,
    OrderStatus,
    Organization,
    PatientRecord,
    Practitioner,
    Quantity,
    Ref,
    ReferralStatus,
    ResultStatus,
    Sensitivity,
    SocialNeedStatus,
    System,
    VerificationStatus,
    masked,
)
from carecoord.errors import ConsentError, Problem, ValidationError
from carecoord.profile._facts import ConflictKind, Fact, fact_author
from carecoord.profile._sensitivity import (
    Sensitivities,
    infer_sensitivity,
    library,
    refs_in,
    sensitivity_of,
)
from carecoord.terminology import ValueSets

if TYPE_CHECKING:
    from carecoord.profile._model import PatientProfile

__all__ = [
    "ActivitySummary",
    "PatientSummary",
    "Viewer",
    "ViewerRole",
    "Visibility",
    "can_see",
    "infer_sensitivity",
    "patient_summary",
    "sensitivity_of",
    "view_for",
    "visibility",
]


class ViewerRole(Enum):
    """Who is looking: a clinician, a care coordinator, or the patient.

    A personal representative looks as the patient (:attr:`PATIENT`).
    """

    CLINICIAN = "clinician"
    CARE_COORDINATOR = "care-coordinator"
    PATIENT = "patient"


@attrs.frozen
class Viewer:
    """A person looking at a profile: their reference, role and discipline.

    A patient looks as ``Viewer(Ref("Patient", <id>), ViewerRole.PATIENT)``; a personal
    representative as ``Viewer(Ref("RelatedPerson", <id>), ViewerRole.PATIENT)``.
    """

    ref: Ref
    role: ViewerRole = ViewerRole.CLINICIAN
    discipline: Discipline | None = None


# --------------------------------------------------------------------------- who is looking

_PATIENT_SIDE = frozenset({"Patient", "RelatedPerson"})


def _patient_ids(profile: PatientProfile) -> set[str]:
    """Every id the profile's patient goes by: the profile's and each record's."""
    return {profile.id, profile.patient.id, *(r.patient.id for r in profile.records)}


def _as_patient(profile: PatientProfile, viewer: Viewer, at: dt.datetime) -> bool:
    """Whether ``viewer`` sees as the patient; raises when they may not look as they ask.

    Raises:
        ConsentError: a viewer asking as the patient is neither the patient nor a
            representative active at ``at``; or a patient or related person asks in
            another role.
    """
    ref = viewer.ref
    if viewer.role is not ViewerRole.PATIENT:
        if ref.type in _PATIENT_SIDE:
            msg = f"a {ref.type} looks at a profile as the patient (ViewerRole.PATIENT) only"
            raise ConsentError(msg)
        return False
    if ref.type == "Patient" and ref.id in _patient_ids(profile):
        return True
    person = profile.related_person(ref)
    if person is not None and person.represents_at(at):
        return True
    msg = (
        "only the profile's own patient, or a personal representative active at that "
        f"time, may look as the patient (the viewer is a {ref.type})"
    )
    raise ConsentError(msg)


# --------------------------------------------------------------------------- permission


def _authored_by(fact: Fact[Any], viewer: Ref) -> bool:
    return any(p.author == viewer for p in fact.provenance) or any(
        fact_author(v) == viewer for v in fact.variants
    )


def _on_team(profile: PatientProfile, viewer: Ref, at: dt.datetime) -> bool:
    return any(v.is_active_member(viewer, at) for team in profile.care_teams for v in team.variants)


_NAMED_ONLY = frozenset({Sensitivity.SUBSTANCE_USE, Sensitivity.RESTRICTED})
"""Classes a care-team-wide permit does not open: a permit must name the viewer."""


class _Policy:
    """The consent decisions for one viewer at one instant, computed once per view."""

    def __init__(
        self, profile: PatientProfile, viewer: Viewer, at: dt.datetime, value_sets: ValueSets
    ) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValidationError(Problem("at", "naive datetime (a time zone is required)"))
        self.viewer = viewer
        self.at = at
        self.as_patient = _as_patient(profile, viewer, at)
        self.consents = [
            c.value
            for c in profile.consents
            if c.value.recorded_at is None or c.value.recorded_at <= at
        ]
        self.on_team = _on_team(profile, viewer.ref, at)
        self.table = Sensitivities(profile, value_sets)
        self._cache: dict[Sensitivity, bool] = {}

    def permits(self, sensitivity: Sensitivity) -> bool:
        if sensitivity not in self._cache:
            self._cache[sensitivity] = self._decide(sensitivity)
        return self._cache[sensitivity]

    def _decide(self, sensitivity: Sensitivity) -> bool:
        if sensitivity is Sensitivity.PSYCHOTHERAPY_NOTE:
            return False
        ref = self.viewer.ref
        applying = [c for c in self.consents if c.applies(ref, sensitivity, self.at)]
        if any(c.decision is ConsentDecision.DENY for c in applying):
            return False
        for consent in applying:
            named = ref in consent.actors
            if sensitivity in _NAMED_ONLY and not named:
                continue
            if named or self.on_team:
                return True
        return False

    def _sees_itself(self, position: int) -> bool:
        """Rules 1-5: whether the viewer may see the fact, its references aside."""
        fact = self.table.facts[position][1]
        classes = self.table.classes_of(position)
        authored = _authored_by(fact, self.viewer.ref)
        if Sensitivity.PSYCHOTHERAPY_NOTE in classes:
            return authored
        if self.as_patient or authored:
            return True
        return all(self.permits(s) for s in classes)

    def visible(self) -> list[bool]:
        """Whether each fact of the profile (by position) is in the view: rules 1-6."""
        self.table.all()
        count = len(self.table.facts)
        shown = [self._sees_itself(i) for i in range(count)]
        changed = True
        while changed:  # rule 6: hidden with what it names, to a fixed point
            changed = False
            for i in range(count):
                if shown[i] and any(not shown[j] for j in self.table.references(i)):
                    shown[i] = False
                    changed = True
        return shown


def can_see(
    profile: PatientProfile,
    fact: Fact[Any],
    viewer: Viewer,
    *,
    at: dt.datetime,
    value_sets: ValueSets | None = None,
) -> bool:
    """Whether ``viewer`` may see ``fact`` of ``profile`` at ``at`` (see the module rules).

    Sensitivity is inferred with the value sets of ``value_sets`` (the shipped defaults
    when ``None``).

    Raises:
        ConsentError: the viewer may not look in the role they ask for (see the module).
    """
    policy = _Policy(profile, viewer, at, library(value_sets))
    position = policy.table.index_of(fact)
    if position is None:
        raise ValidationError(Problem("fact", "not a fact of this profile"))
    return policy.visible()[position]


_CONFLICT_FIELDS = {
    ConflictKind.MEDICATION_OMISSION: "medications",
    ConflictKind.MEDICATION_DOSE: "medications",
    ConflictKind.MEDICATION_FREQUENCY: "medications",
    ConflictKind.MEDICATION_ROUTE: "medications",
    ConflictKind.MEDICATION_STATUS: "medications",
    ConflictKind.ALLERGY_VS_NKA: "allergies",
    ConflictKind.PROBLEM_STATUS: "conditions",
}


def view_for(
    profile: PatientProfile,
    viewer: Viewer,
    *,
    at: dt.datetime,
    value_sets: ValueSets | None = None,
) -> PatientProfile:
    """The profile as ``viewer`` may see it at ``at``.

    Facts the viewer may not see are left out of every list, of the conflicts about them
    and of the source records kept in ``records``; so are the practitioners and
    organisations only hidden facts name. Everything else is the same object.
    Sensitivity is inferred with the value sets of ``value_sets`` (the shipped defaults
    when ``None``; see :func:`sensitivity_of`).

    Raises:
        ConsentError: the viewer may not look in the role they ask for (see the module).
    """
    policy = _Policy(profile, viewer, at, library(value_sets))
    shown = policy.visible()
    if all(shown):
        return profile
    return _apply(profile, policy, shown)


def _apply(profile: PatientProfile, policy: _Policy, shown: Sequence[bool]) -> PatientProfile:
    """``profile`` without the facts ``shown`` marks hidden (and every trace of them)."""
    changes: dict[str, Any] = {}
    hidden: set[tuple[str, str]] = set()
    visible_ids: dict[str, set[tuple[str, str, str]]] = {name: set() for name in FACT_FIELDS}
    kept: dict[str, list[Fact[Any]]] = {name: [] for name in FACT_FIELDS}
    for (name, fact), show in zip(policy.table.facts, shown, strict=True):
        if show:
            kept[name].append(fact)
            visible_ids[name].update((p.source, p.record, p.fact_id) for p in fact.provenance)
        else:
            hidden.add((name, fact.key))
    for name in FACT_FIELDS:
        if len(kept[name]) != len(getattr(profile, name)):
            changes[name] = tuple(kept[name])
    conflicts = tuple(
        c
        for c in profile.conflicts
        if c.kind not in _CONFLICT_FIELDS or (_CONFLICT_FIELDS[c.kind], c.subject) not in hidden
    )
    named = _named_parties(profile, (f for name in FACT_FIELDS for f in kept[name]))
    records = [_record_view(record, changes, visible_ids, named) for record in profile.records]
    return attrs.evolve(
        profile,
        records=tuple(records),
        conflicts=conflicts,
        practitioners=tuple(p for p in profile.practitioners if p.ref in named),
        organizations=tuple(o for o in profile.organizations if o.ref in named),
        **changes,
    )


class Visibility:
    """What one viewer may see of one profile at one instant, decided once.

    Built by :func:`visibility`. :attr:`view` is :func:`view_for`'s answer;
    :meth:`hides` says whether a reference (gap evidence such as
    ``Ref("Referral", <fact key>)``, or a bare fact key as a gap's ``focus``) names a fact
    left out of the view; :meth:`permits` whether the viewer may see facts of a sensitivity
    class at all. Something derived from the profile (a gap, a count, an export) is safe to
    show the viewer when it names no hidden fact and reveals no class the viewer may not
    see (``carecoord.rules.GapReport.for_viewer`` filters gaps this way).
    """

    __slots__ = ("_hidden", "_policy", "_shown_classes", "view")

    def __init__(self, profile: PatientProfile, policy: _Policy, shown: Sequence[bool]) -> None:
        self._policy = policy
        hidden: set[tuple[str, str]] = set()
        classes: set[Sensitivity] = set()
        facts = policy.table.facts
        for position, ((_name, fact), show) in enumerate(zip(facts, shown, strict=True)):
            if show:
                classes |= policy.table.classes_of(position)
            else:
                hidden.add((type(fact.value).__name__, fact.key))
                hidden.add(("*", fact.key))
        self._hidden = frozenset(hidden)
        self._shown_classes = frozenset(classes)
        self.view: PatientProfile = profile if all(shown) else _apply(profile, policy, shown)
        """The profile as the viewer may see it (see :func:`view_for`)."""

    def __repr__(self) -> str:
        return f"Visibility({self._policy.viewer.role.value})"

    def hides(self, ref: Ref | str) -> bool:
        """Whether ``ref`` names a fact of the profile the viewer may not see.

        A :class:`~carecoord.domain.Ref` is ``Ref(<fact type>, <fact key>)`` as in gap
        evidence (type ``"*"``: any type); a ``str`` is a fact key of any type, with any
        ``#part`` suffix (as in a gap's ``focus``) ignored. When facts of several types
        share a key and one is hidden, a bare key counts as hidden. A reference to nothing
        in the profile hides nothing.
        """
        if isinstance(ref, Ref):
            return (ref.type, ref.id.split("#", 1)[0]) in self._hidden
        return ("*", ref.split("#", 1)[0]) in self._hidden

    def permits(self, sensitivity: Sensitivity) -> bool:
        """Whether the viewer may see something of class ``sensitivity``.

        True when a fact of that class is in the view (the viewer sees it as its author,
        as the patient or by consent), or when a consent active at the view's instant
        permits the class to this viewer (psychotherapy notes: only through a fact shown).
        """
        if sensitivity in self._shown_classes:
            return True
        if self._policy.as_patient:
            return sensitivity is not Sensitivity.PSYCHOTHERAPY_NOTE
        return self._policy.permits(sensitivity)


def visibility(
    profile: PatientProfile,
    viewer: Viewer,
    *,
    at: dt.datetime,
    value_sets: ValueSets | None = None,
) -> Visibility:
    """What ``viewer`` may see of ``profile`` at ``at``: the view and a test for derived data.

    Use it to show the viewer anything computed from the whole profile (gaps, counts,
    exports): keep only what names no hidden fact (:meth:`Visibility.hides`) and reveals
    no class the viewer may not see (:meth:`Visibility.permits`).

    Raises:
        ConsentError: the viewer may not look in the role they ask for (see the module).
    """
    policy = _Policy(profile, viewer, at, library(value_sets))
    return Visibility(profile, policy, policy.visible())


def _named_parties(profile: PatientProfile, facts: Iterable[Fact[Any]]) -> set[Ref]:
    """The parties the patient and the visible facts name, with their organisations."""
    pending: list[Ref] = list(refs_in(profile.patient))
    for fact in facts:
        pending.extend(refs_in(fact.variants))
        pending.extend(p.author for p in fact.provenance if p.author is not None)
    practitioners: dict[str, Practitioner] = {}
    organizations: dict[str, Organization] = {}
    for record in profile.records:
        for practitioner in record.practitioners:
            practitioners.setdefault(practitioner.id, practitioner)
        for organization in record.organizations:
            organizations.setdefault(organization.id, organization)
    found: set[Ref] = set()
    while pending:
        ref = pending.pop()
        if ref in found:
            continue
        found.add(ref)
        employer = practitioners.get(ref.id) if ref.type == "Practitioner" else None
        if employer is not None and employer.organization is not None:
            pending.append(Ref("Organization", employer.organization))
        parent = organizations.get(ref.id) if ref.type == "Organization" else None
        if parent is not None and parent.part_of is not None:
            pending.append(Ref("Organization", parent.part_of))
    return found


def _record_view(
    record: PatientRecord,
    changes: dict[str, Any],
    visible_ids: dict[str, set[tuple[str, str, str]]],
    named: set[Ref],
) -> PatientRecord:
    """One source record with only the visible facts and the parties they name."""
    kept: dict[str, Any] = {
        name: tuple(
            f
            for f in getattr(record, name)
            if (record.source.id, record.patient.id, f.id) in visible_ids[name]
        )
        for name in changes
    }
    return attrs.evolve(
        record,
        practitioners=tuple(p for p in record.practitioners if p.ref in named),
        organizations=tuple(o for o in record.organizations if o.ref in named),
        **kept,
    )


# --------------------------------------------------------------------------- patient summary


@attrs.frozen
class ActivitySummary:
    """Coordination work of one kind in the summary's period: plain words, minutes, count."""

    kind: ActivityKind
    description: str
    minutes: int
    count: int


@attrs.frozen
class PatientSummary:
    """What the patient should know, in plain words, and the work done on their behalf.

    Every list holds display text (no codes); the text fields are masked in ``repr``.
    ``work`` covers activities in ``[start, end)``, largest total first.
    """

    start: dt.datetime
    end: dt.datetime
    problems: tuple[str, ...] = attrs.field(repr=masked)
    medications: tuple[str, ...] = attrs.field(repr=masked)
    allergies: tuple[str, ...] = attrs.field(repr=masked)
    upcoming_appointments: tuple[str, ...] = attrs.field(repr=masked)
    open_referrals: tuple[str, ...] = attrs.field(repr=masked)
    tests: tuple[str, ...] = attrs.field(repr=masked)
    care_team: tuple[str, ...] = attrs.field(repr=masked)
    social_needs: tuple[str, ...] = attrs.field(repr=masked)
    work: tuple[ActivitySummary, ...]
    total_minutes: int
    timezone: dt.tzinfo = attrs.field(default=dt.UTC, repr=False)

    def render(self) -> str:
        """The summary as plain text, one section per heading."""
        lines = ["Your care summary", ""]
        sections: Sequence[tuple[str, Sequence[str], str]] = (
            ("Your health problems", self.problems, "None on record."),
            ("Your medicines", self.medications, "None on record."),
            ("Your allergies", self.allergies, "None on record."),
            ("Your upcoming appointments", self.upcoming_appointments, "None booked."),
            ("Your referrals in progress", self.open_referrals, "None open."),
            ("Your tests and results", self.tests, "None on record."),
            ("Your care team", self.care_team, "No one listed yet."),
            ("Help with everyday needs", self.social_needs, "None on record."),
        )
        for heading, items, empty in sections:
            lines.append(heading)
            lines.extend(f"  - {item}" for item in items) if items else lines.append(f"  {empty}")
            lines.append("")
        start = _day_text(self.start.astimezone(self.timezone).date())
        last = _day_text((self.end.astimezone(self.timezone) - dt.timedelta(microseconds=1)).date())
        lines.append(f"Work your care team did for you from {start} to {last}")
        for item in self.work:
            times = "1 time" if item.count == 1 else f"{item.count} times"
            lines.append(f"  - {item.description}: {times}, {_minutes(item.minutes)}")
        if not self.work:
            lines.append("  No work logged in this period.")
        lines.append(f"  Total: {_minutes(self.total_minutes)}")
        return "\n".join(lines) + "\n"


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"


def _day_text(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _time_text(instant: dt.datetime, tz: dt.tzinfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%A} {_day_text(local.date())} at {local:%H:%M}"


def _zone(name: str | None) -> dt.tzinfo:
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.UTC
    return dt.UTC


def _name(code: Code | None, fallback: str) -> str:
    return code.display if code is not None and code.display else fallback


_FREQUENCIES = {
    "QD": "once a day",
    "DAILY": "once a day",
    "OD": "once a day",
    "BID": "twice a day",
    "TID": "three times a day",
    "QID": "four times a day",
    "QHS": "at bedtime",
    "HS": "at bedtime",
    "QAM": "every morning",
    "QPM": "every evening",
    "QOD": "every other day",
    "QW": "once a week",
    "QWK": "once a week",
    "PRN": "when needed",
}
_EVERY_HOURS = re.compile(r"^Q(\d{1,2})H$")


def _frequency_text(text: str) -> str | None:
    compact = "".join(text.split()).upper()
    if compact in _FREQUENCIES:
        return _FREQUENCIES[compact]
    hours = _EVERY_HOURS.match(compact)
    if hours:
        return f"every {int(hours.group(1))} hours"
    return None


_ROUTES = {
    "26643006": "by mouth",
    "78421000": "injected into a muscle",
    "34206005": "under the skin",
}


def _medication_text(med: Any) -> str:
    parts: list[str] = []
    if isinstance(med.dose, Quantity):
        parts.append(str(med.dose))
    if med.route is not None:
        route = _ROUTES.get(med.route.code) if med.route.system == System.SNOMED else None
        route = route or (med.route.display.lower() if med.route.display else None)
        if route:
            parts.append(route)
    if med.frequency:
        frequency = _frequency_text(med.frequency)
        if frequency:
            parts.append(frequency)
    name = _name(med.code, "a medicine")
    return f"{name} ({', '.join(parts)})" if parts else name


_DISCIPLINES = {
    Discipline.PRIMARY_CARE: "primary care",
    Discipline.SPECIALIST: "specialist",
    Discipline.BEHAVIORAL_HEALTH: "mental health",
    Discipline.NURSING: "nursing",
    Discipline.PHARMACY: "pharmacy",
    Discipline.SOCIAL_WORK: "social work",
    Discipline.COMMUNITY_SERVICE: "community service",
    Discipline.CARE_COORDINATION: "care coordination",
    Discipline.HOSPITAL: "hospital",
    Discipline.OTHER: "other",
}

_REFERRAL_STATUS = {
    ReferralStatus.DRAFT: "being prepared",
    ReferralStatus.SENT: "sent, waiting for the other office to answer",
    ReferralStatus.RECEIVED: "received by the other office",
    ReferralStatus.ACCEPTED: "accepted, waiting for an appointment",
    ReferralStatus.SCHEDULED: "appointment booked",
    ReferralStatus.NO_SHOW: "appointment missed, needs a new one",
    ReferralStatus.APPOINTMENT_CANCELLED: "appointment cancelled, needs a new one",
    ReferralStatus.SEEN: "seen, waiting for the visit report",
    ReferralStatus.REPORT_RECEIVED: "visit report received, being reviewed",
}

_INTERPRETATION = {
    Interpretation.NORMAL: "normal",
    Interpretation.ABNORMAL: "outside the normal range",
    Interpretation.CRITICAL: "needs attention right away",
}

_SOCIAL_STATUS = {
    SocialNeedStatus.IDENTIFIED: "noted",
    SocialNeedStatus.IN_PROGRESS: "we are working on it",
    SocialNeedStatus.ADDRESSED: "help arranged",
}


def _party_name(profile: PatientProfile, ref: Ref) -> str | None:
    party = profile.practitioner(ref) if ref.type == "Practitioner" else None
    if party is not None and party.names:
        return party.names[0].full()
    org = profile.organization(ref) if ref.type == "Organization" else None
    return org.name if org is not None else None


def _party_text(profile: PatientProfile, ref: Ref) -> str:
    name = _party_name(profile, ref)
    practitioner = profile.practitioner(ref) if ref.type == "Practitioner" else None
    discipline = _DISCIPLINES[practitioner.discipline] if practitioner is not None else None
    if name and discipline:
        return f"{name} ({discipline})"
    return name or (f"a {discipline} clinician" if discipline else "a member of your care team")


def _values(facts: Iterable[Fact[Any]]) -> list[Any]:
    return [f.value for f in facts]


def _problems(view: PatientProfile) -> tuple[str, ...]:
    names = [
        _name(c.code, "a health problem")
        for c in _values(view.conditions)
        if c.is_active and c.category is not ConditionCategory.SDOH
    ]
    return tuple(sorted(dict.fromkeys(names), key=str.casefold))


def _medications(view: PatientProfile) -> tuple[str, ...]:
    meds = [_medication_text(m) for m in _values(view.medications) if m.status.is_current]
    return tuple(sorted(dict.fromkeys(meds), key=str.casefold))


def _allergies(view: PatientProfile) -> tuple[str, ...]:
    live = [
        a
        for a in _values(view.allergies)
        if a.clinical_status.is_active
        and a.verification_status
        not in {VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR}
    ]
    names = sorted({_name(a.code, "an allergy") for a in live if not a.no_known}, key=str.casefold)
    if not names and any(a.no_known for a in live):
        return ("No known allergies",)
    return tuple(names)


_UPCOMING = {AppointmentStatus.PROPOSED, AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}


def _appointments(view: PatientProfile, at: dt.datetime, tz: dt.tzinfo) -> tuple[str, ...]:
    upcoming: list[Appointment] = sorted(
        (a for a in _values(view.appointments) if a.status in _UPCOMING and a.start >= at),
        key=lambda a: a.start,
    )
    texts = []
    for appt in upcoming:
        text = _time_text(appt.start, tz)
        if appt.service_type is not None and appt.service_type.display:
            text += f", {appt.service_type.display}"
        people = [
            _party_text(view, p) for p in appt.participants if p.type in {"Practitioner"}
        ] or [_party_text(view, p) for p in appt.participants]
        if people:
            text += " with " + " and ".join(people)
        texts.append(text)
    return tuple(texts)


def _referrals(view: PatientProfile, tz: dt.tzinfo) -> tuple[str, ...]:
    texts = []
    for ref in sorted(_values(view.referrals), key=lambda r: r.authored_on):
        if not ref.is_open or ref.status is ReferralStatus.DRAFT:
            continue
        target = ref.specialty.display if ref.specialty and ref.specialty.display else None
        if target is None and ref.recipient is not None:
            target = _party_name(view, ref.recipient)
        what = f"Referral to {target}" if target else "A referral"
        day = _day_text(ref.authored_on.astimezone(tz).date())
        texts.append(f"{what} (written {day}): {_REFERRAL_STATUS.get(ref.status, 'open')}")
    return tuple(texts)


def _shown(value: object) -> str | None:
    """A result value in words: a quantity with its unit, text, or a code's display."""
    if isinstance(value, Quantity | str):
        return str(value)
    return value.display if isinstance(value, Code) and value.display else None


def _result_text(result: Any, tz: dt.tzinfo) -> str:
    name = _name(result.code, "A test")
    parts = [shown for shown in [_shown(result.value)] if shown]
    for component in result.components:
        shown = _shown(component.value)
        if shown:
            parts.append(f"{_name(component.code, 'part')} {shown}")
    text = f"{name}: {', '.join(parts)}" if parts else f"{name}: result available"
    meaning = _INTERPRETATION.get(result.interpretation)
    if meaning:
        text += f", {meaning}"
    return f"{text} ({_day_text(result.issued.astimezone(tz).date())})"


def _tests(view: PatientProfile, tz: dt.tzinfo) -> tuple[str, ...]:
    results = [
        f
        for f in view.results
        if f.value.status not in {ResultStatus.CANCELLED, ResultStatus.ENTERED_IN_ERROR}
    ]
    answered: set[tuple[str, str]] = set()
    for fact in results:
        for prov, variant in zip(fact.provenance, fact.variants, strict=True):
            answered.update((prov.source, order) for order in variant.based_on)
    lines: list[tuple[dt.datetime, str]] = []
    for order_fact in view.orders:
        order = order_fact.value
        if order.status in {OrderStatus.REVOKED, OrderStatus.ENTERED_IN_ERROR, OrderStatus.DRAFT}:
            continue
        if any((p.source, p.fact_id) in answered for p in order_fact.provenance):
            continue
        day = _day_text(order.authored_on.astimezone(tz).date())
        lines.append(
            (order.authored_on, f"{_name(order.code, 'A test')}: ordered {day}, result not back")
        )
    lines += [(f.value.issued, _result_text(f.value, tz)) for f in results]
    return tuple(text for _, text in sorted(lines, key=lambda pair: (pair[0], pair[1])))


def _care_team(view: PatientProfile, at: dt.datetime) -> tuple[str, ...]:
    texts: dict[str, None] = {}
    for team in _values(view.care_teams):
        for member in team.active_members(at):
            text = _party_name(view, member.party) or "a team member"
            text += f" ({_DISCIPLINES[member.discipline]})"
            if member.lead:
                text += ", who leads your care team"
            texts.setdefault(text, None)
    return tuple(texts)


def _social_needs(view: PatientProfile) -> tuple[str, ...]:
    texts = [
        f"{n.domain.value.replace('-', ' ').capitalize()}: {_SOCIAL_STATUS[n.status]}"
        for n in _values(view.social_needs)
        if n.status in _SOCIAL_STATUS
    ]
    return tuple(sorted(dict.fromkeys(texts)))


def _work(
    view: PatientProfile, start: dt.datetime, end: dt.datetime
) -> tuple[tuple[ActivitySummary, ...], int]:
    minutes: dict[ActivityKind, int] = {}
    counts: dict[ActivityKind, int] = {}
    for activity in _values(view.activities):
        if start <= activity.at < end:
            minutes[activity.kind] = minutes.get(activity.kind, 0) + activity.minutes
            counts[activity.kind] = counts.get(activity.kind, 0) + 1
    work = tuple(
        ActivitySummary(kind, kind.plain[:1].upper() + kind.plain[1:], minutes[kind], counts[kind])
        for kind in sorted(minutes, key=lambda k: (-minutes[k], k.value))
    )
    return work, sum(minutes.values())


def patient_summary(
    profile: PatientProfile,
    *,
    start: dt.datetime,
    end: dt.datetime,
    at: dt.datetime,
    value_sets: ValueSets | None = None,
) -> PatientSummary:
    """The patient-facing summary at ``at``, with the work done for them in ``[start, end)``.

    It is built from the patient's own view (:func:`view_for` with
    :attr:`ViewerRole.PATIENT`), so psychotherapy notes never appear. Dates are shown in
    the patient's time zone (UTC when unknown) and every item uses display names, never
    codes. ``value_sets`` is passed to the view (it decides nothing for the patient's own
    view today, but keeps one library for every consent decision).
    """
    for name, value in (("start", start), ("end", end), ("at", at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(Problem(name, "naive datetime (a time zone is required)"))
    if end < start:
        raise ValidationError(Problem("end", "the period cannot end before it starts"))
    patient = Viewer(Ref("Patient", profile.id), ViewerRole.PATIENT)
    view = view_for(profile, patient, at=at, value_sets=value_sets)
    tz = _zone(view.patient.timezone)
    work, total = _work(view, start, end)
    return PatientSummary(
        start=start,
        end=end,
        problems=_problems(view),
        medications=_medications(view),
        allergies=_allergies(view),
        upcoming_appointments=_appointments(view, at, tz),
        open_referrals=_referrals(view, tz),
        tests=_tests(view, tz),
        care_team=_care_team(view, at),
        social_needs=_social_needs(view),
        work=work,
        total_minutes=total,
        timezone=tz,
    )
