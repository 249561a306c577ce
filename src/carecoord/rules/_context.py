"""What a rule is given: the as-of profile, ``as_of``, the calendar, the zone, the value sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from carecoord.domain import (
    CareSetting,
    CareTeamMember,
    Discipline,
    EncounterStatus,
    PartialDate,
    Ref,
    Sensitivity,
)
from carecoord.profile import Fact, PatientProfile, Sensitivities, with_sensitivity_sets
from carecoord.rules._calendar import BusinessCalendar
from carecoord.rules._model import Evidence, EvidenceRole, Gap, GapStatus, Severity
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSet, ValueSetName, ValueSets

__all__ = ["RuleContext", "known_timezone", "resolve_timezone"]


def _zone(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def known_timezone(profile: PatientProfile) -> dt.tzinfo | None:
    """The patient's local zone for day windows, when the profile names one.

    The patient's ``timezone``; else the zone of the facility of their most recent stay or
    visit; else of the first organisation in the profile that has one; else ``None``: no
    zone is known, and the rules read each instant's local day in its own UTC offset (an
    evening discharge written ``-05:00`` is on its own date, not on the next UTC date).
    Unknown zone names are skipped.
    """
    zone = _zone(profile.patient.timezone)
    if zone is not None:
        return zone
    stays = sorted(
        (f.value for f in profile.transitions if f.value.facility is not None),
        key=lambda s: s.admitted_at,
        reverse=True,
    )
    for stay in stays:
        assert stay.facility is not None
        org = profile.organization(stay.facility)
        zone = _zone(org.timezone if org is not None else None)
        if zone is not None:
            return zone
    for org in profile.organizations:
        zone = _zone(org.timezone)
        if zone is not None:
            return zone
    return None


def resolve_timezone(profile: PatientProfile) -> dt.tzinfo:
    """The patient's local zone (:func:`known_timezone`), else UTC.

    For callers that need one zone to convert instants with. The rules themselves do not
    fall back to UTC: with no zone known they read each instant in its own UTC offset
    (``RuleContext(..., zone_known=False)``, what :func:`~carecoord.rules.detect_gaps`
    does).
    """
    return known_timezone(profile) or dt.UTC


def rule_zone(profile: PatientProfile, as_of: dt.datetime) -> tuple[dt.tzinfo, bool]:
    """The zone a rule context builds instants in, and whether it is the patient's own.

    The patient's zone (:func:`known_timezone`) when known; else ``as_of``'s own zone, with
    ``False``: local days are then read from each instant's own UTC offset.
    """
    zone = known_timezone(profile)
    if zone is not None:
        return zone, True
    return as_of.tzinfo or dt.UTC, False


_When = dt.date | dt.datetime
V = TypeVar("V")


class _Shared:
    """What one evaluation works out once for all its rules: local dates, indexes."""

    __slots__ = ("dates", "disciplines", "values")

    def __init__(self) -> None:
        self.dates: dict[dt.datetime, dt.date] = {}
        self.disciplines: dict[Ref, Discipline | None] = {}
        self.values: dict[Hashable, Any] = {}


_HOSPICE_VISITS = frozenset({EncounterStatus.FINISHED, EncounterStatus.IN_PROGRESS})

_Span = tuple[dt.date, dt.date]


def _hospice(ctx: RuleContext) -> tuple[_Span, ...]:
    """The local days of hospice care on record, as (first, last) spans, sorted.

    A discharge to hospice is hospice care on its day (the day it began: nothing on record
    says how long it lasted); a procedure or visit coded in the ``hospice`` value set
    (hospice care, admission or referral) covers its day, or its month or year when dated
    only to that, or the visit's period (open while it goes on); a ``"hospice"``
    enrolment covers its period (open while it has no end).
    """
    spans: list[_Span] = []
    for stay in ctx.profile.transitions:
        if stay.value.to_setting is CareSetting.HOSPICE and stay.value.discharged_at is not None:
            day = ctx.local_date(stay.value.discharged_at)
            spans.append((day, day))
    hospice = ctx.value_set(ValueSetName.HOSPICE)
    for procedure in ctx.profile.procedures:
        p = procedure.value
        if p.status != "not-done" and p.code in hospice:
            performed = p.performed
            last = performed.latest() if isinstance(performed, PartialDate) else None
            first = ctx.local_date(performed)
            spans.append((first, last or first))
    for encounter in ctx.profile.encounters:
        e = encounter.value
        if e.status in _HOSPICE_VISITS and hospice.contains_any(e.types):
            end = e.period.end
            first = ctx.local_date(e.start)
            spans.append((first, dt.date.max if end is None else max(first, ctx.local_date(end))))
    for enrollment in ctx.profile.enrollments:
        program = enrollment.value
        if program.program.lower() == "hospice":
            start, end = program.period.start, program.period.end
            first = dt.date.min if start is None else ctx.local_date(start)
            last = dt.date.max if end is None else ctx.local_date(end)
            spans.append((first, max(first, last)))
    return tuple(sorted(spans))


_new = object.__new__
_set = object.__setattr__
_UNBUILT = object()


@attrs.frozen
class RuleContext:
    """Everything a rule may look at, for one patient, one rule and one ``as_of``.

    ``profile`` is the patient's profile as knowable at ``as_of`` (facts recorded later are
    absent; statuses are replayed to ``as_of``). ``tz`` is the patient's local zone (the
    patient's ``timezone``, else the facility's; :func:`known_timezone`): day windows count
    local calendar days. When no zone is known, ``zone_known`` is ``False`` and ``tz`` is
    ``as_of``'s own zone: an instant's local day is then its date in its own UTC offset
    (the only evidence of where it happened), and ``tz`` only builds instants (the end of
    a day). ``rule``, ``severity``, ``family`` and ``standing`` are the evaluating rule's
    id, default severity, family and whether it reports a standing state, which
    :meth:`gap` fills in.

    The contexts of one evaluation (:meth:`for_rule` copies) share what is worked out once
    for all rules: local dates (:meth:`local_date`), disciplines, and the indexes rules
    build with :meth:`cached`. A copy made with ``attrs.evolve`` starts afresh.
    """

    profile: PatientProfile
    as_of: dt.datetime
    calendar: BusinessCalendar
    tz: dt.tzinfo
    rule: str = "custom"
    severity: Severity = Severity.MEDIUM
    family: str = "custom"
    standing: bool = False
    value_sets: ValueSets = DEFAULT_VALUE_SETS
    zone_known: bool = True
    _shared: _Shared = attrs.field(init=False, factory=_Shared, eq=False, repr=False)

    def for_rule(
        self, rule: str, severity: Severity, family: str = "custom", standing: bool = False
    ) -> RuleContext:
        """A copy for evaluating another rule (sharing this evaluation's caches)."""
        if (
            type(self) is RuleContext
            and type(rule) is str
            and type(severity) is Severity
            and type(family) is str
            and type(standing) is bool
        ):
            # What attrs.evolve gives, without running __init__ and its argument checks
            # again: every other field is this context's own, checked when it was built,
            # and these four are of the exact types the checks ask for.
            copy: RuleContext = _new(RuleContext)
            for name in _KEPT_NAMES:
                _set(copy, name, getattr(self, name))
            _set(copy, "rule", rule)
            _set(copy, "severity", severity)
            _set(copy, "family", family)
            _set(copy, "standing", standing)
            return copy
        copy = attrs.evolve(self, rule=rule, severity=severity, family=family, standing=standing)
        object.__setattr__(copy, "_shared", self._shared)  # frozen: set once, right here
        return copy

    def cached(self, key: Hashable, build: Callable[[RuleContext], V]) -> V:
        """``build(self)``, worked out once per evaluation and shared by every rule.

        For indexes over the profile (facts sorted by time, grouped by reference...), which
        depend only on what every rule of one evaluation sees alike: the profile, ``as_of``,
        the calendar and the zone. ``key`` names what is built; it must include every
        parameter the result depends on (``("transitions.visits", classes)``).
        """
        values = self._shared.values
        found = values.get(key, _UNBUILT)
        if found is _UNBUILT:
            found = values[key] = build(self)
        return cast("V", found)

    def value_set(self, name: str) -> ValueSet:
        """The value set called ``name`` in this evaluation's library.

        Raises:
            NotFound: the library has no such value set.
        """
        return self.value_sets[name]

    # ------------------------------------------------------------------ who and when

    @property
    def patient_id(self) -> str:
        """The profile id gaps are reported under."""
        return self.profile.id

    @property
    def today(self) -> dt.date:
        """The local calendar date of ``as_of``."""
        return self.local_date(self.as_of)

    def local_date(self, when: dt.datetime | dt.date | PartialDate) -> dt.date:
        """The local calendar date of an instant (a partial date's first possible day).

        In the patient's zone; with no zone known (``zone_known`` false), in the instant's
        own UTC offset.
        """
        if isinstance(when, dt.datetime):
            # to_local_date, inlined (its argument checks hold: an instant, the context's zone)
            if not self.zone_known:
                # equal instants in other offsets hash alike: no cache, the date is at hand
                return when.date()
            if when.fold:  # equal (and hashed alike) to the other instant with its wall time
                return when.astimezone(self.tz).date()
            dates = self._shared.dates
            day = dates.get(when)
            if day is None:
                day = dates[when] = when.astimezone(self.tz).date()
            return day
        if isinstance(when, PartialDate):
            return when.earliest()
        return when

    def add_days(self, day: dt.date, n: int) -> dt.date:
        """``day`` plus ``n`` calendar days."""
        return day + dt.timedelta(days=n)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """``day`` plus ``n`` business days of the calendar (``day`` itself not counted)."""
        return self.calendar.add_business_days(day, n)

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The last instant of local ``day``."""
        return dt.datetime.combine(day, dt.time.max, tzinfo=self.tz)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        """The first instant of local ``day``."""
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)

    def deadline(self, due: _When) -> dt.datetime:
        """The instant a due date or instant expires (a date: the end of that local day)."""
        return due if isinstance(due, dt.datetime) else self.end_of_day(due)

    def is_past(self, due: _When) -> bool:
        """Whether ``due`` has expired at ``as_of``."""
        return self.as_of > self.deadline(due)

    def is_late(self, at: _When, due: _When) -> bool:
        """Whether something done at ``at`` came after ``due``."""
        if isinstance(at, dt.datetime):
            return at > self.deadline(due)
        due_day = due if not isinstance(due, dt.datetime) else self.local_date(due)
        return at > due_day

    # ------------------------------------------------------------------ parties

    def care_team_members(self, at: dt.datetime | None = None) -> tuple[CareTeamMember, ...]:
        """The members of every active care team at ``at`` (``as_of`` by default)."""
        when = at or self.as_of
        return tuple(m for team in self.profile.care_teams for m in team.value.active_members(when))

    def team_lead(self, at: dt.datetime | None = None) -> CareTeamMember | None:
        """The first active lead of the patient's care teams."""
        when = at or self.as_of
        for team in self.profile.care_teams:
            lead = team.value.lead(when)
            if lead is not None:
                return lead
        return None

    def discipline_of(self, party: Ref) -> Discipline | None:
        """The discipline of a practitioner or organisation (profile, then care teams)."""
        known = self._shared.disciplines
        if party not in known:
            known[party] = self._discipline_of(party)
        return known[party]

    def _discipline_of(self, party: Ref) -> Discipline | None:
        if party.type == "Practitioner":
            person = self.profile.practitioner(party)
            if person is not None and person.discipline is not Discipline.OTHER:
                return person.discipline
        elif party.type == "Organization":
            org = self.profile.organization(party)
            if org is not None and org.discipline is not Discipline.OTHER:
                return org.discipline
        for team in self.profile.care_teams:
            for member in team.value.members:
                if member.party == party and member.discipline is not Discipline.OTHER:
                    return member.discipline
        return None

    def age_on(self, day: dt.date) -> int | None:
        """The patient's age in whole years on ``day`` (youngest possible for partial dates)."""
        born = self.profile.patient.birth_date
        if born is None:
            return None
        birth = born.latest()
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))

    # ------------------------------------------------------------------ exclusions

    @property
    def deceased(self) -> bool:
        """Whether the patient is known to have died by ``as_of``.

        A death at an instant counts from that instant; a death known only to the day,
        month or year counts from that period's first day (it may have happened already,
        so no work is suggested); a death recorded without a date counts at any time. A
        death after ``as_of`` does not count: the patient was alive then (the as-of view
        has already removed it, but a context may be built on any profile).
        """
        patient = self.profile.patient
        if not patient.is_deceased:
            return False
        died = patient.deceased_at
        if died is None:
            return True
        if isinstance(died, dt.datetime):
            return died <= self.as_of
        return self.local_date(died) <= self.today

    def died_by(self, day: dt.date) -> bool:
        """Whether the patient is known to have died on or before local ``day``.

        A death recorded without a date counts as before any day; one known only to the
        month or year, from that period's first day. Only deaths by ``as_of`` count.
        """
        if not self.deceased:
            return False
        died = self.profile.patient.deceased_at
        if died is None:
            return True
        return self.local_date(died) <= day

    def death_reason(self, due: _When) -> str | None:
        """Why a gap due ``due`` is not applicable because the patient died; else ``None``.

        ``"patient died"`` when the death came on or before the due day (the measures'
        exclusion of members who die during the measurement period), ``"patient died after
        the due date"`` when the gap was already due (and unmet) when the patient died:
        nothing about a dead patient is actionable either way, and the reason keeps the
        difference for audits. ``None`` while the patient is alive at ``as_of``.
        """
        if not self.deceased:
            return None
        day = self.local_date(due) if isinstance(due, dt.datetime) else due
        return "patient died" if self.died_by(day) else "patient died after the due date"

    def hospice_during(self, first: dt.date, last: dt.date) -> bool:
        """Whether hospice care on record falls on any local day from ``first`` to ``last``.

        The measures' hospice exclusion: HEDIS excludes "members in hospice or using
        hospice services anytime during the measurement year", CMS eCQMs patients whose
        "hospice services ... overlap the measurement period". A rule passes its own
        period (the measurement year of the index event, or the window of the gap). The
        care read: a discharge to hospice (its day), a procedure or visit coded in the
        ``hospice`` value set (its day, or period), a ``"hospice"`` enrolment (its
        period). Care recorded after ``as_of`` is not yet known.
        """
        spans = self.cached("context.hospice", _hospice)
        return any(start <= last and first <= end for start, end in spans)

    def in_hospice(self, day: dt.date) -> bool:
        """Whether hospice care on record covers local ``day`` (:meth:`hospice_during`).

        A discharge to hospice counts on its own day only, a hospice enrolment or visit for
        its period: ask :meth:`hospice_during` with the rule's measurement period, not
        "ever in hospice before", so that a patient who left hospice alive is followed
        again.
        """
        return self.hospice_during(day, day)

    @staticmethod
    def measurement_year(day: dt.date) -> tuple[dt.date, dt.date]:
        """The first and last day of ``day``'s calendar year (a HEDIS measurement year)."""
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)

    # ------------------------------------------------------------------ evidence and gaps

    def evidence(
        self, role: EvidenceRole | str, fact: Fact[Any], description: str = ""
    ) -> Evidence:
        """Evidence pointing at a profile fact: ``Ref(<fact type>, <fact key>)``."""
        if type(role) is EvidenceRole and type(description) is str and type(fact) is Fact:
            # The values the checked constructors would accept as they are: a class name
            # and a key ("source/id") are never blank, the role needs no conversion.
            ref: Ref = _new(Ref)
            _set(ref, "type", type(fact.value).__name__)
            _set(ref, "id", fact.key)
            found: Evidence = _new(Evidence)
            _set(found, "role", role)
            _set(found, "ref", ref)
            _set(found, "description", description)
            return found
        return Evidence(role, Ref(type(fact.value).__name__, fact.key), description)

    def trigger(self, fact: Fact[Any], description: str = "") -> Evidence:
        """Evidence that ``fact`` started the clock."""
        return self.evidence(EvidenceRole.TRIGGER, fact, description)

    def closing(self, fact: Fact[Any], description: str = "") -> Evidence:
        """Evidence that ``fact`` met the gap."""
        return self.evidence(EvidenceRole.CLOSING, fact, description)

    def context(self, fact: Fact[Any], description: str = "") -> Evidence:
        """Evidence that ``fact`` is related."""
        return self.evidence(EvidenceRole.CONTEXT, fact, description)

    def gap(
        self,
        *,
        focus: str,
        due: _When,
        opened: _When,
        summary: str,
        action: str,
        evidence: Iterable[Evidence] = (),
        closed_by: Iterable[Evidence] = (),
        closed_at: _When | None = None,
        not_applicable: str | None = None,
        severity: Severity | None = None,
        sensitivity: frozenset[Sensitivity] = frozenset(),
        standing: bool | None = None,
    ) -> Gap:
        """Build a gap for this rule and patient, with its status worked out.

        ``standing`` (default: the rule's, :attr:`RuleMetadata.standing`) marks a gap whose
        state holds at ``as_of`` however old its due date (an open task past due, the
        monitoring cycle running now), which worklists and the look-back always keep.

        Closed when ``closed_by`` is given (closing evidence wins over an exclusion: met is
        met), ``late`` when ``closed_at`` came after ``due``; not-applicable when
        ``not_applicable`` gives the reason, or when the patient has died by ``as_of``
        (:meth:`death_reason`: nothing about a dead patient is actionable); else
        prospective until ``due`` expires at ``as_of`` and open after.
        """
        closing = tuple(
            e if e.role is EvidenceRole.CLOSING else attrs.evolve(e, role=EvidenceRole.CLOSING)
            for e in closed_by
        )
        late = False
        reason: str | None = None
        if closing:
            status = GapStatus.CLOSED
            late = closed_at is not None and self.is_late(closed_at, due)
        elif (reason := not_applicable or self.death_reason(due)) is not None:
            status = GapStatus.NOT_APPLICABLE
        elif self.is_past(due):
            status = GapStatus.OPEN
        else:
            status = GapStatus.PROSPECTIVE
        return Gap(
            rule=self.rule,
            patient=self.patient_id,
            status=status,
            severity=severity or self.severity,
            due=due,
            opened=opened,
            focus=focus,
            summary=summary,
            action=action,
            evidence=(*evidence, *closing),
            closed_at=closed_at if closing else None,
            late=late,
            reason=reason,
            sensitivity=sensitivity | self._rests_on(focus, (*evidence, *closing)),
            family=self.family,
            standing=self.standing if standing is None else standing,
        )

    def _rests_on(self, focus: str, evidence: Iterable[Evidence]) -> frozenset[Sensitivity]:
        """The classes of the facts a gap rests on: its focus (a fact key) and evidence.

        :meth:`gap` unites them with the rule's own ``sensitivity``, so a gap about a
        psychiatry referral is mental-health information like the referral (the classes
        as :class:`~carecoord.profile.Sensitivities` works them out: labelled, inferred,
        propagated).
        """
        table = self.cached("context.sensitivity", _fact_sensitivities)
        key = focus.split("#", 1)[0]
        if not key.strip():  # not a reference: Ref says why
            Ref("*", key)
        found = table.of_named("*", key)
        for item in evidence:
            ref = item.ref
            more = table.of_named(ref.type, ref.id)
            if more:  # usually nothing: no new set
                found = found | more
        return found


_KEPT_NAMES: tuple[str, ...] = tuple(
    f.name
    for f in attrs.fields(RuleContext)
    if f.name not in {"rule", "severity", "family", "standing"}
)
"""The fields :meth:`RuleContext.for_rule` copies as they are (``_shared`` included)."""


def _fact_sensitivities(ctx: RuleContext) -> Sensitivities:
    """What each fact of the evaluated profile reveals, worked out as gaps ask.

    Read with the evaluation's ``sensitivity-*`` value sets, the shipped defaults for any
    the library lacks (a rule library need not carry them).
    """
    return Sensitivities(ctx.profile, with_sensitivity_sets(ctx.value_sets))
