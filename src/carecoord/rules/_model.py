"""What the rules produce: gaps with their status, severity, evidence; reports; metadata."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, cast, overload

import attrs

from carecoord.display import HtmlDisplay, clip, to_pandas, to_polars
from carecoord.domain import FACT_FIELDS, Discipline, Ref, Sensitivity, masked
from carecoord.errors import Problem, UsageError, ValidationError
from carecoord.profile import JsonValue, PatientProfile, Viewer, Visibility, visibility
from carecoord.rules._html import gap_html, report_html
from carecoord.rules._records import GAP_COLUMNS, gap_record, rule_families
from carecoord.terminology import ValueSets

if TYPE_CHECKING:
    from carecoord.rules._base import Rule

__all__ = [
    "WORKLIST_COLUMNS",
    "WORKLIST_MONTHS",
    "Citation",
    "Evidence",
    "EvidenceRole",
    "Exclusion",
    "Gap",
    "GapGroup",
    "GapReport",
    "GapStatus",
    "Parameter",
    "RuleError",
    "RuleMetadata",
    "Severity",
    "Worklist",
    "group_gaps",
    "visible_gaps",
    "worklist",
    "worklist_since",
]

WORKLIST_MONTHS = 12
"""How far back a worklist reaches by default: the gaps due in the 12 calendar months up to
``as_of`` (and every prospective gap). Older open gaps are the record's history, not today's
work: on the shared Synthea sample 93% of open gaps were results due 2002-2012."""


READABLE_KINDS = frozenset({*FACT_FIELDS, "patient", "practitioners", "organizations"})
"""What a rule may declare it reads: the profile's fact lists and its parties."""


class GapStatus(Enum):
    """Where a gap stands (Da Vinci DEQM gap status)."""

    PROSPECTIVE = "prospective"
    """Due in the future and not yet met: it will open unless someone acts."""
    OPEN = "open"
    """The due date has passed and it is not met."""
    CLOSED = "closed"
    """Met; kept for the record and for measure reports."""
    NOT_APPLICABLE = "not-applicable"
    """The patient is excluded (died, hospice, transfer...)."""

    @property
    def deqm_code(self) -> str:
        """The Da Vinci DEQM ``gaps-status`` code (``open-gap``, ``prospective-gap``...).

        Of the status alone: :attr:`Gap.deqm_code` also counts a late closure as open.
        """
        return self.value if self is GapStatus.NOT_APPLICABLE else f"{self.value}-gap"

    @property
    def is_actionable(self) -> bool:
        """Prospective and open gaps still call for action."""
        return self is GapStatus.PROSPECTIVE or self is GapStatus.OPEN


class Severity(Enum):
    """How much a gap matters, for sorting work lists and choosing task priority."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class EvidenceRole(Enum):
    """What a piece of evidence did for a gap."""

    TRIGGER = "trigger"
    """The fact that started the clock (the referral sent, the discharge...)."""
    CLOSING = "closing"
    """The fact that met the gap (the visit, the report, the reconciliation...)."""
    CONTEXT = "context"
    """A related fact worth showing (a booked visit that has not happened yet...)."""


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Problem(attribute.name, "must be a non-empty string"))


def _when(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A date, or an aware datetime."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                Problem(attribute.name, "naive datetime (a time zone is required)")
            )
    elif not isinstance(value, dt.date):
        raise ValidationError(Problem(attribute.name, "expected a date or an aware datetime"))


def _optional_when(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _when(instance, attribute, value)


@attrs.frozen
class Evidence:
    """A fact a gap rests on: its role, a reference to it, and a short description.

    ``ref`` is ``Ref(<fact type>, <profile fact key>)``, for example
    ``Ref("Referral", "clinic-ehr/referral-1")``. The description never holds personal
    data (no names, no note text).
    """

    role: EvidenceRole = attrs.field(converter=EvidenceRole)
    ref: Ref
    description: str = ""


@attrs.frozen
class Gap:
    """Something falling through the cracks for one patient, found by one rule.

    ``due`` is a local calendar date (met by the end of that day in the patient's time
    zone) or an aware instant; ``opened`` is when the clock started. ``focus`` is the key of
    the fact the gap is about (with a ``#part`` suffix when one rule runs several clocks on
    the same fact, such as the 7-day and 30-day follow-up windows). ``key`` identifies the
    gap across evaluations: the same gap found twice has the same key.

    Closed gaps name the closing evidence (``closed_by``) and ``closed_at``; ``late`` says
    the gap was met after it was due (it counts for coordination, not for a measure).
    Not-applicable gaps say why in ``reason``. ``snoozed_until`` is set when a
    :class:`~carecoord.rules.Snooze` hides the gap from work lists until that date.
    ``sensitivity`` labels gaps that reveal sensitive care (a mental-health stay), so
    consent-aware views can filter them. ``family`` is the family of the rule that found
    the gap (``"referrals"``...; ``"custom"`` when the rule names none). ``standing`` marks
    a gap its rule reports only while a state holds at ``as_of`` (a care team without a
    behavioural-health clinician, a medication discrepancy not reconciled): it is current
    however old its due date, so worklists always show it.
    """

    rule: str = attrs.field(validator=_text)
    patient: str = attrs.field(validator=_text)
    status: GapStatus
    severity: Severity
    due: dt.date | dt.datetime = attrs.field(validator=_when)
    opened: dt.date | dt.datetime = attrs.field(validator=_when)
    focus: str = attrs.field(validator=_text)
    summary: str
    action: str
    evidence: tuple[Evidence, ...] = ()
    closed_at: dt.date | dt.datetime | None = attrs.field(default=None, validator=_optional_when)
    late: bool = False
    reason: str | None = None
    snoozed_until: dt.date | None = None
    sensitivity: frozenset[Sensitivity] = frozenset()
    family: str = "custom"
    standing: bool = False

    @property
    def key(self) -> str:
        """``"rule|patient|focus"``: stable across evaluations."""
        return f"{self.rule}|{self.patient}|{self.focus}"

    @property
    def closed_by(self) -> tuple[Evidence, ...]:
        """The closing evidence (empty unless the gap is closed)."""
        return tuple(e for e in self.evidence if e.role is EvidenceRole.CLOSING)

    @property
    def triggers(self) -> tuple[Evidence, ...]:
        """The evidence that started the clock."""
        return tuple(e for e in self.evidence if e.role is EvidenceRole.TRIGGER)

    @property
    def is_snoozed(self) -> bool:
        """Whether a snooze currently hides this gap from work lists."""
        return self.snoozed_until is not None

    @property
    def is_actionable(self) -> bool:
        """Prospective or open, and not snoozed: somebody should act on it."""
        return self.status.is_actionable and not self.is_snoozed

    def is_current(self, since: dt.date, zone: dt.tzinfo | None = None) -> bool:
        """Whether a worklist whose window starts on ``since`` shows this gap.

        Prospective, standing (the state holds now, however old), or due on or after
        ``since``: a due instant by its date in ``zone`` (in its own offset when ``None``).
        The one test behind :func:`detect_gaps`'s look-back, :meth:`GapReport.due_since`
        and the coordinator's task proposals.
        """
        if self.status is GapStatus.PROSPECTIVE or self.standing:
            return True
        due = self.due
        if isinstance(due, dt.datetime):
            due = (due if zone is None else due.astimezone(zone)).date()
        return due >= since

    @property
    def deqm_code(self) -> str:
        """The gap's Da Vinci DEQM gap status, as a measure counts it.

        The status's code (:attr:`GapStatus.deqm_code`), except that a gap closed late is
        an ``open-gap``: met after its window, it counts for coordination but the measure
        counts the care as not given in time (the closing fact, its time and ``late``
        stay on the gap). Not-applicable gaps (the patient excluded: died, hospice...)
        are ``not-applicable``, outside the measure's population.
        """
        if self.status is GapStatus.CLOSED and self.late:
            return GapStatus.OPEN.deqm_code
        return self.status.deqm_code

    def to_record(self, rules: Iterable[Rule] | None = None) -> dict[str, JsonValue]:
        """This gap as a JSON-safe dict with the :data:`~carecoord.rules.GAP_COLUMNS` keys.

        Values are str, bool, None and lists (enums become their values, dates ISO
        strings), so ``json.dumps`` takes it as it is. ``family`` is the gap's own
        :attr:`family` or, when ``rules`` is given, the family of the gap's rule in
        ``rules`` (``"custom"`` when not there).
        """
        return gap_record(self, None if rules is None else rule_families(rules))

    def display(self) -> HtmlDisplay:
        """The gap as HTML for notebooks: status, clock, action and its evidence."""
        return gap_html(self)

    def _repr_html_(self) -> str:
        return gap_html(self).html


@attrs.frozen
class RuleError:
    """A rule that raised while evaluating one patient; the other rules still ran.

    ``message`` is the exception's text, masked in ``repr`` in case a user-written rule put
    patient data in it.
    """

    rule: str
    patient: str
    error_type: str
    message: str = attrs.field(repr=masked)

    @classmethod
    def from_exception(cls, rule: str, patient: str, error: BaseException) -> RuleError:
        """Describe ``error`` raised by ``rule`` for ``patient``."""
        return cls(rule, patient, type(error).__name__, str(error))


@attrs.frozen(repr=False)
class GapReport(Sequence[Gap]):
    """The gaps found for one patient at one ``as_of``, in a deterministic order.

    It is a sequence of :class:`Gap` (sorted by due date, then rule id, then focus);
    ``errors`` lists the rules that raised.
    """

    patient: str
    as_of: dt.datetime
    gaps: tuple[Gap, ...] = ()
    errors: tuple[RuleError, ...] = ()
    older: int = 0
    """How many gaps :func:`~carecoord.rules.detect_gaps`'s look-back left out: due before
    it, neither prospective nor standing (the record's history, not today's work). Always 0
    in a report :meth:`for_viewer` filtered (a count could reveal a hidden gap)."""

    def __repr__(self) -> str:
        older = f", {self.older} older left out" if self.older else ""
        return clip(
            f"GapReport(patient={self.patient!r}, as_of={self.as_of.isoformat()!r}, "
            f"{_by_status(self.gaps)}{older}, {len(self.errors)} errors)"
        )

    def __len__(self) -> int:
        return len(self.gaps)

    @overload
    def __getitem__(self, index: int) -> Gap: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Gap]: ...

    def __getitem__(self, index: int | slice) -> Gap | Sequence[Gap]:
        return self.gaps[index]

    def __iter__(self) -> Iterator[Gap]:
        return iter(self.gaps)

    @property
    def ok(self) -> bool:
        """Whether every rule ran without raising."""
        return not self.errors

    def by_rule(self, rule: str) -> tuple[Gap, ...]:
        """The gaps found by the rule with id ``rule``."""
        return tuple(g for g in self.gaps if g.rule == rule)

    def with_status(self, *statuses: GapStatus) -> tuple[Gap, ...]:
        """The gaps in any of ``statuses``."""
        return tuple(g for g in self.gaps if g.status in statuses)

    def actionable(self) -> tuple[Gap, ...]:
        """Prospective and open gaps that are not snoozed: the work list."""
        return tuple(g for g in self.gaps if g.is_actionable)

    def get(self, key: str) -> Gap | None:
        """The gap with this :attr:`Gap.key`, if any."""
        return next((g for g in self.gaps if g.key == key), None)

    def to_records(self, rules: Iterable[Rule] | None = None) -> list[dict[str, JsonValue]]:
        """Every gap as :meth:`Gap.to_record` gives it, in report order (a list of dicts).

        A list of JSON-safe dicts with the :data:`~carecoord.rules.GAP_COLUMNS` keys, ready
        for ``json.dumps``, ``csv.DictWriter`` or a data frame; ``rules`` gives the
        families as in :meth:`Gap.to_record`.
        """
        families = None if rules is None else rule_families(rules)
        return [gap_record(gap, families) for gap in self.gaps]

    def to_pandas(self, rules: Iterable[Rule] | None = None) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` with the ``GAP_COLUMNS``.

        Needs the ``carecoord[pandas]`` extra (:class:`~carecoord.MissingExtraError`
        otherwise).
        """
        return to_pandas(self.to_records(rules), GAP_COLUMNS)

    def to_polars(self, rules: Iterable[Rule] | None = None) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        return to_polars(self.to_records(rules), GAP_COLUMNS)

    def display(self, *, limit: int = 100) -> HtmlDisplay:
        """The report as HTML for notebooks: counts by status, the gaps, the rule errors.

        At most ``limit`` gaps are listed (actionable ones first, then by severity).
        """
        return report_html(self, limit=limit)

    def _repr_html_(self) -> str:
        return report_html(self).html

    def due_since(self, since: dt.date | None) -> GapReport:
        """This report with only the gaps due on or after ``since``, and every prospective one.

        A due instant counts by its date in ``as_of``'s zone. ``None`` keeps every gap.
        The errors are kept.
        """
        if since is None:
            return self
        zone = self.as_of.tzinfo
        kept = tuple(g for g in self.gaps if g.is_current(since, zone))
        return self if len(kept) == len(self.gaps) else attrs.evolve(self, gaps=kept)

    def for_viewer(
        self,
        profile: PatientProfile,
        viewer: Viewer,
        *,
        at: dt.datetime | None = None,
        value_sets: ValueSets | None = None,
    ) -> GapReport:
        """This report as ``viewer`` may see it: the gaps that reveal nothing hidden.

        ``profile`` is the profile the report was computed on (its id must be
        :attr:`patient`); ``at`` defaults to :attr:`as_of`. A gap is kept when its focus
        and every piece of its evidence name facts the viewer sees and each class of its
        :attr:`Gap.sensitivity` is one the viewer may see (see :func:`visible_gaps`).
        Nothing marks what was left out: no count, no id (:attr:`older` is 0: the gaps the
        look-back left out may be ones the viewer may not see). The rule errors are kept
        (they name rules, not facts).

        Raises:
            UsageError: ``profile`` is not a profile.
            ValidationError: ``profile`` is not the report's patient.
            ConsentError: the viewer may not look in the role they ask for.
        """
        if not isinstance(cast("object", profile), PatientProfile):
            kind = type(profile).__name__
            msg = f"for_viewer() expects the PatientProfile the report is about, not {kind}"
            raise UsageError(msg)
        if profile.id != self.patient:
            raise ValidationError(Problem("profile", "not the profile this report is about"))
        seen = visibility(
            profile, viewer, at=self.as_of if at is None else at, value_sets=value_sets
        )
        kept = visible_gaps(self.gaps, seen)
        if len(kept) == len(self.gaps) and not self.older:
            return self
        return attrs.evolve(self, gaps=kept, older=0)  # a count of older gaps could tell

    def worklist(
        self, *, since: dt.date | None = None, months: int | None = WORKLIST_MONTHS
    ) -> Worklist:
        """This report as a worklist: recent gaps only, repeats grouped.

        The gaps due on or after ``since`` (default: :data:`WORKLIST_MONTHS` months before
        ``as_of``'s date; ``months=None`` with no ``since``: every gap), every prospective
        one, grouped by :func:`group_gaps`; :attr:`Worklist.hidden` counts the older ones
        left out. See :func:`worklist` for several reports.
        """
        return worklist((self,), as_of=self.as_of, since=since, months=months)


def _by_status(gaps: Sequence[Gap]) -> str:
    """``"5 gaps: 3 open, 2 closed"``."""
    found: dict[str, int] = {}
    for gap in gaps:
        found[gap.status.value] = found.get(gap.status.value, 0) + 1
    detail = ", ".join(f"{n} {status}" for status, n in found.items())
    return f"{len(gaps)} gaps" + (f": {detail}" if detail else "")


def worklist_since(as_of: dt.datetime, months: int = WORKLIST_MONTHS) -> dt.date:
    """The first due date a worklist shows: ``as_of``'s date ``months`` calendar months back.

    The same day of the month, or the month's last day when it has no such day
    (29 February 2028 minus 12 months is 28 February 2027).
    """
    return months_before(as_of.date(), months)


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` ``months`` calendar months back (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@attrs.frozen
class GapGroup:
    """Gaps a worklist shows as one line: one patient, rule, status, summary and action.

    A record whose history repeats the same gap (the same unacknowledged-result line for
    every result of a day) is read as one line with a count. ``gaps`` are in report
    order (earliest due first) and never empty.
    """

    gaps: tuple[Gap, ...] = attrs.field()

    @gaps.validator
    def _check(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple) or not value:
            raise ValidationError(Problem(attribute.name, "a non-empty tuple of gaps"))

    @property
    def first(self) -> Gap:
        """The first gap (the earliest due)."""
        return self.gaps[0]

    @property
    def count(self) -> int:
        """How many gaps the line stands for."""
        return len(self.gaps)

    @property
    def patient(self) -> str:
        """The profile id the gaps are about."""
        return self.first.patient

    @property
    def rule(self) -> str:
        """The rule that found them."""
        return self.first.rule

    @property
    def status(self) -> GapStatus:
        """Their status."""
        return self.first.status

    @property
    def summary(self) -> str:
        """Their summary (the same for every gap of the group)."""
        return self.first.summary

    @property
    def action(self) -> str:
        """What to do (the same for every gap of the group)."""
        return self.first.action

    @property
    def due(self) -> dt.date | dt.datetime:
        """The earliest due date or instant."""
        return self.first.due

    @property
    def severity(self) -> Severity:
        """The highest severity among the gaps."""
        return max((g.severity for g in self.gaps), key=lambda s: s.rank)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the gaps, in order."""
        return tuple(g.key for g in self.gaps)


def group_gaps(gaps: Iterable[Gap]) -> tuple[GapGroup, ...]:
    """Gaps grouped into worklist lines: same patient, rule, status, summary and action.

    Groups are in the order of their first gap; each keeps its gaps in the order given.
    """
    groups: dict[tuple[str, str, GapStatus, str, str], list[Gap]] = {}
    for gap in gaps:
        key = (gap.patient, gap.rule, gap.status, gap.summary, gap.action)
        groups.setdefault(key, []).append(gap)
    return tuple(GapGroup(tuple(found)) for found in groups.values())


@attrs.frozen(repr=False)
class Worklist(Sequence[GapGroup]):
    """A worklist, not an archive: the recent gaps of some reports, repeats grouped.

    ``reports`` are the given reports with only the gaps due on or after ``since`` (and
    every prospective gap), in the same order; ``since`` is ``None`` when nothing was left
    out by date. ``hidden`` counts the gaps left out, which the reports still hold (ask
    again with an earlier ``since``, or ``months=None``); :attr:`older` those the
    reports' own look-back had already left out (detect again with
    ``look_back_months=None`` to have them). It is a sequence of :class:`GapGroup`, one
    per line to show.
    """

    as_of: dt.datetime
    since: dt.date | None
    reports: tuple[GapReport, ...]
    hidden: int
    groups: tuple[GapGroup, ...]

    def __repr__(self) -> str:
        since = None if self.since is None else self.since.isoformat()
        return (
            f"Worklist(as_of={self.as_of.isoformat()!r}, since={since!r}, "
            f"{len(self.reports)} reports, {len(self.groups)} lines, {len(self.gaps)} gaps, "
            f"{self.hidden} hidden{f', {self.older} older' if self.older else ''})"
        )

    @property
    def older(self) -> int:
        """The gaps the reports' look-back left out (:attr:`GapReport.older`, added up)."""
        return sum(report.older for report in self.reports)

    def __len__(self) -> int:
        return len(self.groups)

    @overload
    def __getitem__(self, index: int) -> GapGroup: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[GapGroup]: ...

    def __getitem__(self, index: int | slice) -> GapGroup | Sequence[GapGroup]:
        return self.groups[index]

    def __iter__(self) -> Iterator[GapGroup]:
        return iter(self.groups)

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """Every gap shown, report by report."""
        return tuple(g for report in self.reports for g in report)

    def to_records(self) -> list[dict[str, JsonValue]]:
        """One JSON-safe row per line, with the :data:`WORKLIST_COLUMNS` keys."""
        return [
            {
                "patient": g.patient,
                "rule": g.rule,
                "status": g.status.value,
                "severity": g.severity.value,
                "due": g.due.isoformat(),
                "count": g.count,
                "summary": g.summary,
                "action": g.action,
                "keys": list(g.keys),
            }
            for g in self.groups
        ]

    def to_pandas(self) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``)."""
        return to_pandas(self.to_records(), WORKLIST_COLUMNS)

    def to_polars(self) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        return to_polars(self.to_records(), WORKLIST_COLUMNS)

    def to_record(self, rules: Iterable[Rule] | None = None) -> dict[str, JsonValue]:
        """The worklist as JSON-safe data: what ``carecoord gaps --format json`` prints.

        ``{"as_of", "since", "hidden", "gaps"}``: ``as_of`` an ISO date-time, ``since`` an
        ISO date or ``None``, ``hidden`` the number of gaps left out, ``gaps`` the records
        of the gaps shown (:meth:`GapReport.to_records`; ``rules`` gives the families).
        """
        gaps: list[JsonValue] = [r for report in self.reports for r in report.to_records(rules)]
        return {
            "as_of": self.as_of.isoformat(),
            "since": None if self.since is None else self.since.isoformat(),
            "hidden": self.hidden,
            "gaps": gaps,
        }


WORKLIST_COLUMNS: tuple[str, ...] = (
    "patient",
    "rule",
    "status",
    "severity",
    "due",
    "count",
    "summary",
    "action",
    "keys",
)
"""The keys of a worklist row (:meth:`Worklist.to_records`): one line of the worklist.

``patient``, ``rule``, ``summary``, ``action``: as on the gaps; ``status`` and
``severity``: enum values (the highest severity of the line's gaps); ``due``: the
earliest due date or instant, ISO; ``count``: how many gaps the line stands for;
``keys``: their :attr:`Gap.key` values (a list).
"""


def check_months(months: object, name: str = "months") -> None:
    """Check a look-back in calendar months: ``None`` or a whole number, 0 or more.

    Raises:
        ValidationError: naming the parameter ``name``.
    """
    if months is None:
        return
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise ValidationError(Problem(name, "a whole number of months, 0 or more"))


def _check_window(as_of: object, months: object) -> None:
    if not isinstance(as_of, dt.datetime) or as_of.utcoffset() is None:
        raise ValidationError(Problem("as_of", "expected an aware datetime"))
    check_months(months)


def worklist(
    reports: Iterable[GapReport],
    *,
    as_of: dt.datetime,
    since: dt.date | None = None,
    months: int | None = WORKLIST_MONTHS,
) -> Worklist:
    """The worklist of ``reports``: the gaps due since a date, and repeats grouped.

    A gap is shown when it is prospective or due on or after ``since`` (a due instant by
    its date in ``as_of``'s zone). ``since`` defaults to :func:`worklist_since` ``(as_of,
    months)``, :data:`WORKLIST_MONTHS` (12) calendar months before ``as_of``'s date; with
    ``months=None`` and no ``since`` nothing is left out. The gaps shown are grouped by
    :func:`group_gaps`; :attr:`Worklist.hidden` counts the others. The reports keep every
    gap: this is a view (``detect_gaps(..., since=...)`` instead bounds when the clocks
    started).

    Raises:
        ValidationError: ``as_of`` is not an aware datetime, or ``months`` is negative.
    """
    _check_window(as_of, months)
    start = since if since is not None or months is None else worklist_since(as_of, months)
    given = tuple(reports)
    shown = tuple(report.due_since(start) for report in given)
    hidden = sum(len(a) - len(b) for a, b in zip(given, shown, strict=True))
    groups = tuple(g for report in shown for g in group_gaps(report))
    return Worklist(as_of=as_of, since=start, reports=shown, hidden=hidden, groups=groups)


@attrs.frozen
class Citation:
    """A public source a rule's window or logic comes from."""

    title: str = attrs.field(validator=_text)
    url: str | None = None


@attrs.frozen
class Exclusion:
    """When a rule's gap is not applicable, and how that follows the measure it cites.

    ``description`` says when, in one plain line ("A readmission within 30 days..."):
    :attr:`RuleMetadata.exclusions` lists these. ``follows`` says how the cited measure
    words it (quoted where it helps), or why the rule departs from the measure; ``sources``
    are the citations. The rule catalogue shows all three.
    """

    description: str = attrs.field(validator=_text)
    follows: str = ""
    sources: tuple[Citation, ...] = ()


@attrs.frozen
class Parameter:
    """One configurable parameter of a rule: name, default, meaning and unit."""

    name: str = attrs.field(validator=_text)
    default: object
    description: str
    unit: str | None = None


def _reads(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset):
        raise ValidationError(Problem(attribute.name, "expected a frozenset"))
    unknown = sorted(str(v) for v in value if v not in READABLE_KINDS)
    if unknown:
        raise ValidationError(
            Problem(attribute.name, f"unknown fact kinds {unknown}; use PatientProfile field names")
        )


def _names(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of value-set names"))


def _rule_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() or c == "|" for c in value):
        raise ValidationError(
            Problem(attribute.name, "a rule id is a non-empty string without spaces or '|'")
        )


@attrs.frozen
class RuleMetadata:
    """What a rule is, for people and tools: the catalogue is generated from it.

    ``family`` groups rules (``"referrals"``, ``"transitions"``...); ``opens``, ``due`` and
    ``closes`` are one-line plain descriptions of the clock; ``exclusions`` lists when the
    gap is not applicable; ``exclusion_details`` says, for each exclusion, how it follows
    the cited measure (:class:`Exclusion`; when given without ``exclusions``, the
    descriptions become the ``exclusions``); ``reads`` names the profile fields the rule reads (for
    incremental re-evaluation); ``discipline`` is who on the care team usually acts (tasks
    are assigned to them, else to the team lead). ``value_sets`` names the value sets the
    rule reads from the library it is given (``detect_gaps(..., value_sets=...)``);
    :func:`~carecoord.rules.define_rule` adds the defaults of the rule's value-set
    parameters to it. ``standing`` says the rule reports a gap only while a state holds at
    ``as_of`` ("at once" rules), so its gaps are current whatever their due date
    (:attr:`Gap.standing`; worklists always show them).
    """

    id: str = attrs.field(validator=_rule_id)
    title: str = attrs.field(validator=_text)
    description: str
    family: str = "custom"
    severity: Severity = Severity.MEDIUM
    opens: str = ""
    due: str = ""
    closes: str = ""
    exclusions: tuple[str, ...] = ()
    sources: tuple[Citation, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    reads: frozenset[str] = attrs.field(default=frozenset(), validator=_reads)
    discipline: Discipline | None = None
    version: str = "1"
    value_sets: tuple[str, ...] = attrs.field(default=(), validator=_names)
    exclusion_details: tuple[Exclusion, ...] = ()
    standing: bool = False

    def __attrs_post_init__(self) -> None:
        if self.exclusion_details and not self.exclusions:
            descriptions = tuple(e.description for e in self.exclusion_details)
            object.__setattr__(self, "exclusions", descriptions)  # frozen: derived once, here

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if the rule has one."""
        return next((p for p in self.parameters if p.name == name), None)


def visible_gaps(gaps: Iterable[Gap], seen: Visibility) -> tuple[Gap, ...]:
    """The gaps of ``gaps`` safe to show the viewer ``seen`` describes, in their order.

    A gap is left out when its focus or any evidence names a fact hidden from the viewer,
    or when its :attr:`Gap.sensitivity` holds a class the viewer may not see (a gap a
    custom rule labels by hand, a behavioural-health gap resting on hidden diagnoses).
    Build ``seen`` with :func:`carecoord.profile.visibility` for the profile the gaps were
    computed on.
    """
    return tuple(
        gap
        for gap in gaps
        if not seen.hides(gap.focus)
        and not any(seen.hides(item.ref) for item in gap.evidence)
        and all(seen.permits(s) for s in gap.sensitivity)
    )
