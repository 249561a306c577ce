"""The engine: run a rule set over a profile at ``as_of`` and report the gaps."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any, Literal, cast

import attrs

from carecoord.errors import Problem, ValidationError
from carecoord.profile import PatientProfile
from carecoord.rules._asof import profile_as_of
from carecoord.rules._base import Rule, rule_value_sets
from carecoord.rules._calendar import BusinessCalendar
from carecoord.rules._catalogue import default_rules
from carecoord.rules._context import RuleContext, rule_zone
from carecoord.rules._model import (
    WORKLIST_MONTHS,
    Gap,
    GapReport,
    GapStatus,
    RuleError,
    check_months,
    months_before,
)
from carecoord.rules._ruleset import Overrides, RuleSet
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSets

__all__ = ["check_value_sets", "detect_gaps", "detect_gaps_population", "resolve_rules"]

_REPORTED_BY_DEFAULT = frozenset({GapStatus.PROSPECTIVE, GapStatus.OPEN})


def _check_as_of(as_of: object) -> dt.datetime:
    if not isinstance(as_of, dt.datetime):
        raise ValidationError(Problem("as_of", "expected an aware datetime"))
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValidationError(Problem("as_of", "naive datetime (a time zone is required)"))
    return as_of


def check_value_sets(
    rules: RuleSet | Sequence[Rule], value_sets: ValueSets | None = None
) -> ValueSets:
    """The library to evaluate ``rules`` with: ``value_sets``, else the shipped defaults.

    Raises:
        ValidationError: ``value_sets`` is not a :class:`~carecoord.terminology.ValueSets`.
        NotFound: a rule reads a value set the library lacks (naming the rule and the sets),
            before any patient is evaluated.
    """
    library: object = DEFAULT_VALUE_SETS if value_sets is None else value_sets
    if not isinstance(library, ValueSets):
        raise ValidationError(
            Problem("value_sets", f"expected a ValueSets library, got {type(library).__name__}")
        )
    try:
        _check_once(library, rules)
    except TypeError:  # rules given as a list, or a user's unhashable rule
        _check(library, rules)
    return library


def _check(library: ValueSets, rules: Iterable[Rule]) -> None:
    for rule in rules:
        library.require(_value_sets_read(rule), reader=f"rule {rule.id}")


@functools.lru_cache(maxsize=256)
def _check_once(library: ValueSets, rules: Any) -> None:  # Any: hashed, if it can be
    """:func:`_check`, done once per library and rule set (both immutable values)."""
    _check(library, rules)


@functools.lru_cache(maxsize=1024)
def _cached_value_sets_read(rule: Any) -> tuple[str, ...]:  # Any: hashed, if it can be
    return rule_value_sets(rule)


def _value_sets_read(rule: Rule) -> tuple[str, ...]:
    """:func:`rule_value_sets`, remembered for rules that are values (frozen and hashable).

    Every ``detect_gaps`` call checks its rules against the library; the catalogue's rules
    are the same objects call after call, so their names are worked out once.
    """
    key: Hashable = cast("Hashable", rule)
    try:
        return _cached_value_sets_read(key)
    except TypeError:  # an unhashable rule of the user's: work it out each time
        return rule_value_sets(rule)


def resolve_rules(
    rules: RuleSet | Sequence[Rule] | None, overrides: Overrides | None = None
) -> RuleSet:
    """The rule set to run: ``rules`` (the default catalogue when ``None``) after overrides."""
    if rules is None:
        ruleset = default_rules()
    elif isinstance(rules, RuleSet):
        ruleset = rules
    else:
        ruleset = RuleSet(tuple(rules))
    return overrides.apply(ruleset) if overrides is not None else ruleset


def _due_key(gap: Gap, ctx: RuleContext) -> tuple[dt.datetime, str, str]:
    return (ctx.deadline(gap.due).astimezone(dt.UTC), gap.rule, gap.focus)


def _after_death(gaps: tuple[Gap, ...], ctx: RuleContext) -> tuple[Gap, ...]:
    """The gaps with nothing actionable left when the patient has died by ``as_of``.

    Every rule built on :meth:`RuleContext.gap` does this itself; this catches the rules
    that build their gaps another way. Closed gaps stay closed (met is met).
    """
    if not ctx.deceased:
        return gaps
    return tuple(
        attrs.evolve(gap, status=GapStatus.NOT_APPLICABLE, reason=ctx.death_reason(gap.due))
        if gap.status.is_actionable
        else gap
        for gap in gaps
    )


def _run(rule: Rule, ctx: RuleContext) -> tuple[Gap, ...] | RuleError:
    try:
        found: tuple[object, ...] = tuple(rule.evaluate(ctx))
        for gap in found:
            if not isinstance(gap, Gap):
                msg = f"evaluate produced {type(gap).__name__}, not Gap"
                raise TypeError(msg)
            if gap.rule != rule.id or gap.patient != ctx.patient_id:
                msg = "evaluate produced a gap for another rule or patient"
                raise ValueError(msg)
    except Exception as error:  # one failing rule must not stop the others
        return RuleError.from_exception(rule.id, ctx.patient_id, error)
    if not found:  # most rules find nothing in most profiles: nothing to check for a death
        return ()
    return _after_death(cast("tuple[Gap, ...]", found), ctx)


def _evaluate(
    profile: PatientProfile,
    as_of: dt.datetime,
    ruleset: RuleSet,
    *,
    calendar: BusinessCalendar,
    overrides: Overrides | None,
    include_closed: bool,
    value_sets: ValueSets,
    since: dt.date | None = None,
    look_back: int | None = None,
) -> GapReport:
    tz, zone_known = rule_zone(profile, as_of)
    view = profile_as_of(profile, as_of, tz=tz if zone_known else None)
    base = RuleContext(
        profile=view,
        as_of=as_of,
        calendar=calendar,
        tz=tz,
        value_sets=value_sets,
        zone_known=zone_known,
    )
    gaps: list[Gap] = []
    errors: list[RuleError] = []
    for rule in ruleset:
        meta = rule.metadata
        outcome = _run(rule, base.for_rule(rule.id, meta.severity, meta.family, meta.standing))
        if isinstance(outcome, RuleError):
            errors.append(outcome)
        else:
            gaps.extend(outcome)
    today = base.today
    start = None if look_back is None else months_before(today, look_back)
    zone = base.tz if base.zone_known else None  # the dates base.local_date gives
    kept: dict[str, Gap] = {}
    older = 0
    for gap in sorted(gaps, key=lambda g: _due_key(g, base)):
        if not include_closed and gap.status not in _REPORTED_BY_DEFAULT:
            continue
        if since is not None and base.local_date(gap.opened) < since:
            continue
        if start is not None and not gap.is_current(start, zone):
            older += 1
            continue
        if overrides is not None and overrides.snoozes:
            until = overrides.snooze_for(gap, today)
            if until is not None:
                gap = attrs.evolve(gap, snoozed_until=until)  # noqa: PLW2901
        kept.setdefault(gap.key, gap)
    return GapReport(
        patient=profile.id,
        as_of=as_of,
        gaps=tuple(kept.values()),
        errors=tuple(errors),
        older=older,
    )


def _look_back(months: object, since: dt.date | None) -> int | None:
    """The look-back in months: ``"auto"`` is :data:`WORKLIST_MONTHS`, or none with ``since``."""
    if isinstance(months, str) and months == "auto":
        return None if since is not None else WORKLIST_MONTHS
    check_months(months, "look_back_months")
    return cast("int | None", months)


def detect_gaps(
    profile: PatientProfile,
    *,
    as_of: dt.datetime,
    rules: RuleSet | Sequence[Rule] | None = None,
    calendar: BusinessCalendar | None = None,
    overrides: Overrides | None = None,
    include_closed: bool = False,
    since: dt.date | None = None,
    value_sets: ValueSets | None = None,
    look_back_months: int | Literal["auto"] | None = "auto",
) -> GapReport:
    """The gaps in ``profile``'s care as knowable at ``as_of``.

    ``rules`` defaults to :func:`default_rules`; ``calendar`` to weekends only;
    ``overrides`` disables rules, changes windows and snoozes gaps; ``value_sets`` is the
    library of code lists the rules read (the shipped defaults,
    ``carecoord.terminology.DEFAULT_VALUE_SETS``, when ``None``: pass one with your
    licensed value sets, see ``docs/valuesets.md``). Prospective and open
    gaps are reported; closed and not-applicable ones too with ``include_closed=True``.
    ``since`` (a date, the start of a measurement or work period) keeps only the gaps whose
    clock started on or after it, in the patient's local date: a decade-old result left
    unacknowledged in an old record is then not today's work.
    ``look_back_months`` leaves out the gaps that are history rather than work: those due
    before the patient's local date that many calendar months back, unless they are
    prospective or standing (a state that holds now, however old: an active care plan never
    reviewed, a referral still open). A discharge in 1953 with no medication reconciliation
    is not on today's worklist; :attr:`GapReport.older` counts what was left out. The
    default, ``"auto"``, is :data:`~carecoord.rules.WORKLIST_MONTHS` (12) without
    ``since`` and no look-back with it (the period is then the caller's); ``None`` keeps
    every gap the record holds (an audit, a measure over a past period).
    Facts recorded after ``as_of`` are ignored, so evaluating at a past date reproduces
    what was knowable then. A rule that raises is reported in ``errors``; the others run.
    A rule that reads a value set the library lacks raises
    :class:`~carecoord.errors.NotFound` before anything runs.
    """
    as_of = _check_as_of(as_of)
    look_back = _look_back(look_back_months, since)
    ruleset = resolve_rules(rules, overrides)
    library = check_value_sets(ruleset, value_sets)
    return _evaluate(
        profile,
        as_of,
        ruleset,
        calendar=calendar or BusinessCalendar(),
        overrides=overrides,
        include_closed=include_closed,
        value_sets=library,
        since=since,
        look_back=look_back,
    )


def detect_gaps_population(
    profiles: Iterable[PatientProfile],
    *,
    as_of: dt.datetime,
    rules: RuleSet | Sequence[Rule] | None = None,
    calendar: BusinessCalendar | None = None,
    overrides: Overrides | None = None,
    include_closed: bool = False,
    since: dt.date | None = None,
    value_sets: ValueSets | None = None,
    look_back_months: int | Literal["auto"] | None = "auto",
) -> Iterator[GapReport]:
    """One :class:`GapReport` per profile, streamed (profiles are read one at a time).

    The rule set is resolved, and the value-set library checked, once, before the first
    profile is read (arguments as :func:`detect_gaps`).
    """
    as_of = _check_as_of(as_of)
    look_back = _look_back(look_back_months, since)
    ruleset = resolve_rules(rules, overrides)
    library = check_value_sets(ruleset, value_sets)
    cal = calendar or BusinessCalendar()
    return (
        _evaluate(
            profile,
            as_of,
            ruleset,
            calendar=cal,
            overrides=overrides,
            include_closed=include_closed,
            value_sets=library,
            since=since,
            look_back=look_back,
        )
        for profile in profiles
    )
