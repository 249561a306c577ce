"""Code lists the rules match against, and helpers to match codes and references.

The rules read their code lists as value sets (``carecoord.terminology``) from the library
they are given. The constants here are the ICD-10-CM prefix part of the shipped defaults,
kept for the rules' legacy prefix parameters and for code written against them; the
defaults also carry SNOMED CT codes and ICD-10-CM patterns these tuples cannot hold.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from carecoord.domain import Code, Ref, System
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact
from carecoord.rules._context import RuleContext
from carecoord.terminology import (
    CHRONIC_CONDITION_GROUPS,
    DEFAULT_VALUE_SETS,
    ValueSetName,
)

__all__ = [
    "CHRONIC_CONDITIONS",
    "MEDICATION_RECONCILIATION_CODES",
    "MENTAL_ILLNESS_PREFIXES",
    "RULE_CODE_SYSTEM",
    "SELF_HARM_PREFIXES",
    "code_matcher",
    "matches_prefix",
    "optional_str_tuple",
    "refs_to",
    "str_tuple",
]

RULE_CODE_SYSTEM = "urn:carecoord:gap-rule"
"""The code system of :attr:`Task.code` on suggested tasks: the code is the rule id."""


def _prefixes(name: str) -> tuple[str, ...]:
    return tuple(p.pattern for p in DEFAULT_VALUE_SETS[name].patterns if p.is_prefix)


MENTAL_ILLNESS_PREFIXES: tuple[str, ...] = _prefixes(ValueSetName.MENTAL_ILLNESS)
"""ICD-10-CM categories for mental illness (as HEDIS FUH/FUM; excludes substance use F10-F19,
dementia F01-F03 and intellectual disability F70-F79): the ICD-10-CM part of the
``mental-illness`` value set."""

SELF_HARM_PREFIXES: tuple[str, ...] = _prefixes(ValueSetName.SELF_HARM)
"""ICD-10-CM codes for intentional self-harm (X71-X83, T14.91): the prefixes of the
``self-harm`` value set, which also holds intentional self-poisoning (T36-T65 with intent
character 2) and SNOMED CT codes."""

CHRONIC_CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (name, _prefixes(name)) for name in CHRONIC_CONDITION_GROUPS
)
"""HEDIS FMC's eight chronic-condition groups, as ICD-10-CM prefixes: the ICD-10-CM part of
the value sets named in ``carecoord.terminology.CHRONIC_CONDITION_GROUPS``."""

MEDICATION_RECONCILIATION_CODES: tuple[Code, ...] = DEFAULT_VALUE_SETS[
    ValueSetName.MEDICATION_RECONCILIATION
].codes
"""Codes documenting post-discharge medication reconciliation (HEDIS TRC/MRP evidence): the
``medication-reconciliation`` value set's codes (CPT codes bare, without descriptors)."""

_ICD10 = frozenset({System.ICD10CM, System.ICD10})


def _normal(code: str) -> str:
    return code.replace(".", "").upper()


@functools.lru_cache(maxsize=256)
def _normal_prefixes(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_normal(p) for p in prefixes)


def matches_prefix(code: Code, prefixes: Iterable[str]) -> bool:
    """Whether an ICD-10(-CM) ``code`` starts with one of ``prefixes`` (dots ignored)."""
    if code.system not in _ICD10:
        return False
    wanted = _normal_prefixes(prefixes if isinstance(prefixes, tuple) else tuple(prefixes))
    return _normal(code.code).startswith(wanted)


def code_matcher(
    ctx: RuleContext, names: str | tuple[str, ...], prefixes: tuple[str, ...] | None = None
) -> Callable[[Code], bool]:
    """Whether a code is in any of the value sets ``names`` of the evaluation's library.

    With ``prefixes`` (a rule's legacy ICD-10-CM prefix parameter, when set), whether the
    code is an ICD-10(-CM) code under one of them instead.
    """
    if prefixes is not None:
        wanted = prefixes
        return lambda code: matches_prefix(code, wanted)
    sets = tuple(ctx.value_set(n) for n in ((names,) if isinstance(names, str) else names))
    if len(sets) == 1:
        return sets[0].contains
    return lambda code: any(s.contains(code) for s in sets)


def refs_to(fact: Fact[Any], type_: str) -> frozenset[Ref]:
    """References other facts may use for ``fact``: ``Ref(type_, id)`` for each source's id."""
    return frozenset(Ref(type_, v.id) for v in fact.variants) | {Ref(type_, fact.value.id)}


def str_tuple(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a tuple of non-empty strings."""
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of non-empty strings"))


def optional_str_tuple(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``None``, or a tuple of non-empty strings."""
    if value is not None:
        str_tuple(instance, attribute, value)
