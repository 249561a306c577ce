"""Rule sets and user control: switch rules off, change windows, snooze gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, overload

import attrs

from carecoord.domain import masked
from carecoord.errors import NotFound, Problem, ValidationError
from carecoord.rules._base import Rule, configure_rule
from carecoord.rules._model import Gap

__all__ = ["Overrides", "RuleSet", "Snooze"]


def _is_rule(value: object) -> bool:
    return isinstance(value, Rule)


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    rules = tuple(value)
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if not _is_rule(rule):
            problems.append(Problem(f"[{index}]", "not a rule (needs id, metadata, evaluate)"))
            continue
        if rule.metadata.id != rule.id:
            problems.append(Problem(f"[{index}]", f"metadata id differs from rule id {rule.id}"))
        if rule.id in seen:
            problems.append(Problem(f"[{index}]", f"duplicate rule id {rule.id}"))
        seen.add(rule.id)
    if problems:
        raise ValidationError(problems, what="RuleSet")
    return rules


@attrs.frozen(repr=False, cache_hash=True)
class RuleSet(Sequence[Rule]):
    """An ordered, immutable collection of rules with unique ids.

    Changing it returns a new set: :meth:`without` drops rules, :meth:`replace` swaps one
    in by id, :meth:`configure` changes a rule's parameters, :meth:`add` appends rules.
    ``rule_id in ruleset.ids`` tests membership by id (``rule_id in ruleset`` works too).
    """

    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules)

    def __len__(self) -> int:
        return len(self.rules)

    @overload
    def __getitem__(self, index: int) -> Rule: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Rule]: ...

    def __getitem__(self, index: int | slice) -> Rule | Sequence[Rule]:
        return self.rules[index]

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self.ids
        return item in self.rules

    def __repr__(self) -> str:
        return f"RuleSet({len(self.rules)} rules: {', '.join(self.ids)})"

    @property
    def ids(self) -> tuple[str, ...]:
        """The rule ids, in order."""
        return tuple(r.id for r in self.rules)

    def get(self, rule_id: str) -> Rule:
        """The rule with this id; :class:`~carecoord.errors.NotFound` when absent."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        msg = f"no rule {rule_id!r} in this set"
        raise NotFound(msg)

    def without(self, *rule_ids: str) -> RuleSet:
        """A copy without the named rules (each must be in the set)."""
        for rule_id in rule_ids:
            self.get(rule_id)
        drop = set(rule_ids)
        return RuleSet(tuple(r for r in self.rules if r.id not in drop))

    def only(self, *rule_ids: str) -> RuleSet:
        """A copy keeping only the named rules, in this set's order."""
        for rule_id in rule_ids:
            self.get(rule_id)
        keep = set(rule_ids)
        return RuleSet(tuple(r for r in self.rules if r.id in keep))

    def family(self, name: str) -> RuleSet:
        """A copy keeping only the rules of one family (``"referrals"``...)."""
        return RuleSet(tuple(r for r in self.rules if r.metadata.family == name))

    def select(self, *names: str) -> RuleSet:
        """A copy keeping the rules ``names`` name, in this set's order.

        Each name is a rule id, else a family name (``"transitions"`` keeps the whole
        family), as ``carecoord gaps --rules`` takes them; ``without(*select(...).ids)``
        is the complement.

        Raises:
            NotFound: a name that is neither a rule id nor a family of this set.
        """
        ids = set(self.ids)
        families = {r.metadata.family for r in self.rules}
        keep: set[str] = set()
        for name in names:
            if name in ids:
                keep.add(name)
            elif name in families:
                keep.update(r.id for r in self.rules if r.metadata.family == name)
            else:
                msg = f"unknown rule or family {name!r}"
                raise NotFound(msg)
        return RuleSet(tuple(r for r in self.rules if r.id in keep))

    def replace(self, rule: Rule) -> RuleSet:
        """A copy where ``rule`` takes the place of the rule with the same id."""
        self.get(rule.id)
        return RuleSet(tuple(rule if r.id == rule.id else r for r in self.rules))

    def add(self, *rules: Rule) -> RuleSet:
        """A copy with ``rules`` appended (ids must be new)."""
        return RuleSet((*self.rules, *rules))

    def configure(self, rule_id: str, **params: Any) -> RuleSet:
        """A copy where rule ``rule_id`` has ``params`` changed (to change windows)."""
        return self.replace(configure_rule(self.get(rule_id), **params))


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Problem(attribute.name, "must be a non-empty string"))


def _date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(Problem(attribute.name, "expected a date"))


@attrs.frozen
class Snooze:
    """Hide a patient's gaps of one rule from work lists until a date, with a reason.

    ``patient`` is the profile id (:attr:`Gap.patient`). ``focus`` narrows it to one gap
    (the gap's focus, or the fact key before its ``#part``); ``None`` snoozes every gap of
    the rule for the patient. The gap is hidden while the patient's local date is before
    ``until``: it comes back on ``until``. The reason is masked in ``repr``.
    """

    rule: str = attrs.field(validator=_text)
    patient: str = attrs.field(validator=_text)
    until: dt.date = attrs.field(validator=_date)
    reason: str = attrs.field(validator=_text, repr=masked)
    focus: str | None = None

    def covers(self, gap: Gap, today: dt.date) -> bool:
        """Whether this snooze hides ``gap`` on local date ``today``."""
        if gap.rule != self.rule or gap.patient != self.patient or today >= self.until:
            return False
        return self.focus is None or self.focus in {gap.focus, gap.focus.split("#", 1)[0]}


def _ids(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ValidationError(Problem("disabled", "a collection of rule ids, not one string"))
    return frozenset(value)


def _snoozes(value: Iterable[Snooze]) -> tuple[Snooze, ...]:
    snoozes = tuple(value)
    if not all(isinstance(s, Snooze) for s in snoozes):
        raise ValidationError(Problem("snoozes", "expected Snooze objects"))
    return snoozes


def _parameters(value: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    items: object = value
    if not isinstance(items, Mapping) or not all(isinstance(v, Mapping) for v in items.values()):
        raise ValidationError(
            Problem("parameters", "a mapping of rule id to a mapping of parameter values")
        )
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in value.items()})


@attrs.frozen
class Overrides:
    """A user's control over the rules: disabled ids, parameter changes, snoozes.

    ``parameters`` maps a rule id to the parameters to change, for example
    ``{"transition.follow-up-visit": {"within_days": 10}}``. Overrides that name a rule not
    in the evaluated set are ignored, so one ``Overrides`` can serve several rule sets;
    an unknown parameter name for a rule that is present raises ValidationError.

    Snoozed gaps are still reported, with their status unchanged and
    :attr:`Gap.snoozed_until` set, so reports and measures stay honest;
    :meth:`GapReport.actionable` and :func:`suggest_tasks` leave them out.
    """

    disabled: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    parameters: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=dict, converter=_parameters, hash=False
    )
    snoozes: tuple[Snooze, ...] = attrs.field(default=(), converter=_snoozes)

    def apply(self, rules: RuleSet) -> RuleSet:
        """``rules`` without the disabled rules and with the parameter changes."""
        out = RuleSet(tuple(r for r in rules if r.id not in self.disabled))
        for rule_id, params in self.parameters.items():
            if rule_id in out.ids and params:
                out = out.configure(rule_id, **params)
        return out

    def snooze_for(self, gap: Gap, today: dt.date) -> dt.date | None:
        """The latest ``until`` of the snoozes hiding ``gap`` on ``today``, if any."""
        dates = [s.until for s in self.snoozes if s.covers(gap, today)]
        return max(dates, default=None)
