"""The consent views infer sensitivity through the value-set port."""

from __future__ import annotations

import pytest

from carecoord.domain import Code, Discipline, Ref, Sensitivity, System
from carecoord.errors import NotFound, UsageError
from carecoord.profile import (
    Viewer,
    ViewerRole,
    can_see,
    infer_sensitivity,
    merge_records,
    patient_summary,
    sensitivity_of,
    timeline,
    view_for,
)
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSet, ValueSetName, ValueSets
from carecoord.testing import (
    AS_OF,
    CARDIOLOGIST,
    PCP,
    make_condition,
    make_medication,
    make_record,
    make_result,
)

SPECIALIST = Viewer(CARDIOLOGIST, ViewerRole.CLINICIAN, Discipline.SPECIALIST)
PATIENT = Viewer(Ref("Patient", "patient-1"), ViewerRole.PATIENT)
HIV_SNOMED = Code(System.SNOMED, "86406008", "HIV infection")


class TestInference:
    """SNOMED CT, LOINC, RxNorm and ICD-10-CM patterns reveal their classes."""

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            (Code(System.SNOMED, "36923009"), {Sensitivity.MENTAL_HEALTH}),
            (Code(System.SNOMED, "82313006"), {Sensitivity.MENTAL_HEALTH}),
            (Code(System.ICD10CM, "T43.222A"), {Sensitivity.MENTAL_HEALTH}),
            (Code(System.SNOMED, "75544000"), {Sensitivity.SUBSTANCE_USE}),
            (Code(System.RXNORM, "1819"), {Sensitivity.SUBSTANCE_USE}),
            (Code(System.ICD10CM, "Z71.41"), {Sensitivity.SUBSTANCE_USE}),
            (Code(System.LOINC, "56888-1"), {Sensitivity.HIV}),
            (Code(System.ICD10CM, "O98.711"), {Sensitivity.HIV}),
            (Code(System.RXNORM, "276237"), {Sensitivity.HIV}),
            (Code(System.ICD10CM, "T76.21XA"), {Sensitivity.SEXUAL_DOMESTIC_VIOLENCE}),
            (Code(System.ICD10CM, "T43.221A"), set()),
            (Code(System.SNOMED, "44054006"), set()),
        ],
    )
    def test_defaults(self, code: Code, expected: set[Sensitivity]) -> None:
        """The shipped sensitivity value sets, beyond the ICD-10-CM ranges."""
        assert infer_sensitivity(code) == expected

    def test_a_replaced_set_changes_the_inference(self) -> None:
        """With an empty HIV set, an HIV code reveals nothing."""
        library = DEFAULT_VALUE_SETS.replace(ValueSetName.SENSITIVITY_HIV, ValueSet("none"))
        assert infer_sensitivity(HIV_SNOMED, library) == frozenset()
        assert infer_sensitivity(HIV_SNOMED) == {Sensitivity.HIV}

    def test_a_code_in_two_sets_has_both_classes(self) -> None:
        """Membership decides: a set may add a class to any code."""
        both = DEFAULT_VALUE_SETS[ValueSetName.SENSITIVITY_HIV].union(
            ValueSet("x", codes=(Code(System.SNOMED, "36923009"),)), name="hiv-and-more"
        )
        library = DEFAULT_VALUE_SETS.replace(ValueSetName.SENSITIVITY_HIV, both)
        assert infer_sensitivity(Code(System.SNOMED, "36923009"), library) == {
            Sensitivity.MENTAL_HEALTH,
            Sensitivity.HIV,
        }


class TestViewsTakeTheLibrary:
    """view_for, can_see, sensitivity_of, timeline and patient_summary read the library."""

    def test_snomed_hiv_condition_is_hidden_then_shown(self) -> None:
        """Hidden from a specialist with the defaults; seen when the HIV set is emptied."""
        p = merge_records([make_record(conditions=(make_condition(id="hiv", code=HIV_SNOMED),))])
        library = DEFAULT_VALUE_SETS.replace(ValueSetName.SENSITIVITY_HIV, ValueSet("none"))
        fact = p.conditions[0]
        assert view_for(p, SPECIALIST, at=AS_OF).conditions == ()
        assert view_for(p, SPECIALIST, at=AS_OF, value_sets=library).conditions == p.conditions
        assert not can_see(p, fact, SPECIALIST, at=AS_OF)
        assert can_see(p, fact, SPECIALIST, at=AS_OF, value_sets=library)
        assert sensitivity_of(p, fact) == {Sensitivity.HIV}
        assert sensitivity_of(p, fact, value_sets=library) == frozenset()
        assert timeline(p, viewer=SPECIALIST, at=AS_OF) == ()
        assert timeline(p, viewer=SPECIALIST, at=AS_OF, value_sets=library)

    def test_medication_ingredient_reveals_substance_use(self) -> None:
        """A buprenorphine/naloxone product listing its ingredients is Part 2 data."""
        product = Code(System.RXNORM, "1010600", "buprenorphine / naloxone sublingual film")
        med = make_medication(
            id="moud",
            code=product,
            ingredients=(Code(System.RXNORM, "1819"), Code(System.RXNORM, "7242")),
            prescriber=PCP,
        )
        p = merge_records([make_record(medications=(med,))])
        assert sensitivity_of(p, p.medications[0]) == {Sensitivity.SUBSTANCE_USE}
        assert view_for(p, SPECIALIST, at=AS_OF).medications == ()

    def test_hiv_test_by_loinc(self) -> None:
        """An HIV antibody/antigen test (LOINC 56888-1) is hidden without consent."""
        result = make_result(id="hiv-test", code=Code(System.LOINC, "56888-1"), based_on=())
        p = merge_records([make_record(results=(result,))])
        assert view_for(p, SPECIALIST, at=AS_OF).results == ()

    def test_patient_summary_takes_the_library(self) -> None:
        """The patient's own summary accepts the library (and shows their own facts)."""
        p = merge_records([make_record(conditions=(make_condition(code=HIV_SNOMED),))])
        summary = patient_summary(
            p, start=AS_OF, end=AS_OF, at=AS_OF, value_sets=DEFAULT_VALUE_SETS
        )
        assert summary.problems == ("HIV infection",)

    def test_bad_libraries(self) -> None:
        """Not a library: UsageError; a library without the sensitivity sets: NotFound."""
        p = merge_records([make_record()])
        with pytest.raises(UsageError, match="value_sets"):
            view_for(p, SPECIALIST, at=AS_OF, value_sets={})  # type: ignore[arg-type]
        with pytest.raises(NotFound, match=r"consent views.*sensitivity-mental-health"):
            view_for(p, SPECIALIST, at=AS_OF, value_sets=ValueSets())
