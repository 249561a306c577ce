"""Code lists the rules match against, and helpers to match codes and references.

The HEDIS value sets are licensed by NCQA; these lists are public approximations at the
ICD-10-CM category level (documented in each rule's metadata) and every rule takes them
as parameters, so a licensed value set can be passed instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import attrs

from carecoord.domain import Code, Ref, System
from carecoord.errors import Problem, ValidationError
from carecoord.profile import Fact

__all__ = [
    "CHRONIC_CONDITIONS",
    "MEDICATION_RECONCILIATION_CODES",
    "MENTAL_ILLNESS_PREFIXES",
    "RULE_CODE_SYSTEM",
    "SELF_HARM_PREFIXES",
    "matches_prefix",
    "refs_to",
    "str_tuple",
]

RULE_CODE_SYSTEM = "urn:carecoord:gap-rule"
"""The code system of :attr:`Task.code` on suggested tasks: the code is the rule id."""

MENTAL_ILLNESS_PREFIXES: tuple[str, ...] = (
    "F20", "F21", "F22", "F23", "F24", "F25", "F28", "F29",
    "F30", "F31", "F32", "F33", "F34", "F39",
    "F40", "F41", "F42", "F43", "F44", "F45", "F48",
    "F50", "F51", "F52", "F53", "F59", "F60", "F63", "F64", "F65", "F66", "F68", "F69",
    "F80", "F81", "F82", "F84", "F88", "F89",
    "F90", "F91", "F93", "F94", "F95", "F98", "F99",
)  # fmt: skip
"""ICD-10-CM categories for mental illness (as HEDIS FUH/FUM; excludes substance use F10-F19,
dementia F01-F03 and intellectual disability F70-F79)."""

SELF_HARM_PREFIXES: tuple[str, ...] = (
    "X71", "X72", "X73", "X74", "X75", "X76", "X77", "X78", "X79",
    "X80", "X81", "X82", "X83", "T14.91",
)  # fmt: skip
"""ICD-10-CM codes for intentional self-harm."""

CHRONIC_CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("copd-asthma", ("J41", "J42", "J43", "J44", "J45")),
    ("dementia", ("F01", "F02", "F03", "G30", "G31.0", "G31.1", "G31.83")),
    ("chronic-kidney-disease", ("N18",)),
    ("depression", ("F32", "F33", "F34.1")),
    ("heart-failure", ("I50", "I11.0", "I13.0", "I13.2")),
    ("acute-myocardial-infarction", ("I21", "I22")),
    ("atrial-fibrillation", ("I48",)),
    ("stroke-tia", ("I63", "G45")),
)
"""HEDIS FMC's eight chronic-condition groups, as ICD-10-CM prefixes."""

MEDICATION_RECONCILIATION_CODES: tuple[Code, ...] = (
    Code(System.SNOMED, "430193006", "Medication reconciliation"),
    Code(System.CPT, "1111F", "Discharge medications reconciled with current medication list"),
    Code(System.CPT, "99495", "Transitional care management, moderate complexity"),
    Code(System.CPT, "99496", "Transitional care management, high complexity"),
)
"""Codes documenting post-discharge medication reconciliation (HEDIS TRC/MRP evidence)."""

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


def refs_to(fact: Fact[Any], type_: str) -> frozenset[Ref]:
    """References other facts may use for ``fact``: ``Ref(type_, id)`` for each source's id."""
    return frozenset(Ref(type_, v.id) for v in fact.variants) | {Ref(type_, fact.value.id)}


def str_tuple(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a tuple of non-empty strings."""
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(Problem(attribute.name, "expected a tuple of non-empty strings"))
