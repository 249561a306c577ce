"""Gap.sensitivity: a gap is as sensitive as the facts it rests on (issue 10)."""

from __future__ import annotations

import pytest

from carecoord import detect_gaps
from carecoord.domain import Code, Sensitivity, System
from carecoord.profile import profile_from_record
from carecoord.rules import Gap
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSetName, ValueSets
from carecoord.testing import AS_OF, make_order, make_record, make_referral, make_result

ADDICTION = Code(System.NUCC, "2084A0401X", "Addiction Medicine")
PSYCHIATRY = Code(System.SNOMED, "394587001", "Psychiatry")


def referral_gaps(specialty: Code, **library: ValueSets) -> list[Gap]:
    """The gaps of a referral sent to ``specialty`` (no reasons, no labels)."""
    record = make_record(referrals=(make_referral(specialty=specialty, reasons=()),))
    report = detect_gaps(profile_from_record(record), as_of=AS_OF, **library)
    gaps = [g for g in report if g.focus.startswith("clinic-ehr/referral-1")]
    assert gaps
    return gaps


@pytest.mark.parametrize(
    ("specialty", "expected"),
    [(ADDICTION, Sensitivity.SUBSTANCE_USE), (PSYCHIATRY, Sensitivity.MENTAL_HEALTH)],
)
def test_a_referral_gap_is_as_sensitive_as_the_referral(
    specialty: Code, expected: Sensitivity
) -> None:
    """A gap about an inferred-sensitive referral carries its class (it had none)."""
    assert {g.sensitivity for g in referral_gaps(specialty)} == {frozenset({expected})}


def test_an_ordinary_referral_gap_has_no_class() -> None:
    """A cardiology referral's gaps carry no sensitivity."""
    cardiology = Code(System.SNOMED, "394579002", "Cardiology")

    assert {g.sensitivity for g in referral_gaps(cardiology)} == {frozenset()}


def test_a_result_gap_carries_its_orders_class() -> None:
    """A result answering an HIV test order makes its gaps HIV information."""
    order = make_order(code=Code(System.LOINC, "7917-8", "HIV 1 antibody"))
    result = make_result(code=Code("urn:example:lab", "R-1"))
    record = make_record(orders=(order,), results=(result,))

    gaps = [
        g
        for g in detect_gaps(profile_from_record(record), as_of=AS_OF)
        if g.rule.startswith("result.")
    ]

    assert gaps
    assert all(g.sensitivity == {Sensitivity.HIV} for g in gaps)


def test_a_rule_library_without_sensitivity_sets_uses_the_defaults() -> None:
    """The rules need no sensitivity-* set: the shipped ones label the gaps then."""
    names = {
        ValueSetName.SENSITIVITY_MENTAL_HEALTH,
        ValueSetName.SENSITIVITY_SUBSTANCE_USE,
        ValueSetName.SENSITIVITY_HIV,
        ValueSetName.SENSITIVITY_SEXUAL_DOMESTIC_VIOLENCE,
    }
    library = ValueSets({n: v for n, v in DEFAULT_VALUE_SETS.items() if n not in names})

    gaps = referral_gaps(ADDICTION, value_sets=library)

    assert {g.sensitivity for g in gaps} == {frozenset({Sensitivity.SUBSTANCE_USE})}


def test_a_library_sensitivity_set_is_used() -> None:
    """A sensitivity set in the rules' library replaces the shipped one for gap labels."""
    empty = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_SUBSTANCE_USE]
    library = DEFAULT_VALUE_SETS.replace(
        ValueSetName.SENSITIVITY_SUBSTANCE_USE,
        type(empty)(name=empty.name, codes=()),
    )

    gaps = referral_gaps(ADDICTION, value_sets=library)

    assert {g.sensitivity for g in gaps} == {frozenset()}
