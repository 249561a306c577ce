"""Observation components: a panel's parts (a blood pressure) read, written and shown.

A blood-pressure Observation (LOINC 55284-4 or 85354-9) has no value of its own: its
systolic and diastolic readings are ``component`` entries. They are
``Result.components`` (code, value with its unit, interpretation), written back as
components, and shown wherever a result's value is shown.
"""

from __future__ import annotations

from typing import Any

from carecoord import fhir
from carecoord.domain import Code, Interpretation, Quantity, ResultComponent, System
from carecoord.errors import IssueSeverity
from carecoord.fhir import IssueCode
from carecoord.fhir._write import to_resources
from carecoord.profile import (
    patient_summary,
    profile_from_record,
    profile_to_record,
    render_profile,
)
from carecoord.testing import AS_OF, days_before, make_record, make_result

from .test_read_fixtures import SUBJECT, only_record, read_bundle, when

LOINC = System.LOINC
UCUM = "http://unitsofmeasure.org"
SYSTOLIC = Code(LOINC, "8480-6", "Systolic blood pressure")
DIASTOLIC = Code(LOINC, "8462-4", "Diastolic blood pressure")
PANEL = Code(LOINC, "85354-9", "Blood pressure panel")
SHOWN = (
    "Blood pressure panel: Systolic blood pressure 150 mm[Hg], Diastolic blood pressure 85 mm[Hg]"
)
"""How the built panel is shown where result values are."""


def part(code: Code, value: float | None, **extra: Any) -> dict[str, Any]:
    """One component: the code, a value in mm[Hg] (none when ``value`` is None)."""
    item: dict[str, Any] = {
        "code": {"coding": [{"system": code.system, "code": code.code, "display": code.display}]}
    }
    if value is not None:
        item["valueQuantity"] = {"value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}
    item.update(extra)
    return item


def panel(*components: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A blood-pressure panel Observation with the given components and no value."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "bp-1",
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": PANEL.code, "display": PANEL.display}]},
        "subject": SUBJECT,
        "effectiveDateTime": when(2),
        "issued": when(2),
        "component": list(components),
    }
    resource.update(extra)
    return resource


def bp_result(**overrides: Any) -> Any:
    """A built blood-pressure result: systolic 150 (high), diastolic 85 (normal)."""
    components = (
        ResultComponent(SYSTOLIC, Quantity(150, "mm[Hg]"), Interpretation.ABNORMAL),
        ResultComponent(DIASTOLIC, Quantity(85, "mm[Hg]"), Interpretation.NORMAL),
    )
    fields: dict[str, Any] = {
        "id": "bp-1",
        "code": PANEL,
        "value": None,
        "interpretation": Interpretation.UNKNOWN,
        "based_on": (),
        "components": components,
    }
    fields.update(overrides)
    return make_result(**fields)


class TestReading:
    """``Observation.component`` becomes ``Result.components``."""

    def test_blood_pressure_panel(self) -> None:
        """Both readings are kept, with their units, in order; the panel has no value."""
        [result] = only_record(panel(part(SYSTOLIC, 150), part(DIASTOLIC, 85))).results
        assert result.value is None
        assert result.components == (
            ResultComponent(SYSTOLIC, Quantity(150, "mm[Hg]")),
            ResultComponent(DIASTOLIC, Quantity(85, "mm[Hg]")),
        )

    def test_component_interpretation(self) -> None:
        """Each component has its own interpretation (the most severe of its codes)."""
        high = part(SYSTOLIC, 182, interpretation=[{"coding": [{"code": "H"}, {"code": "HH"}]}])
        normal = part(DIASTOLIC, 80, interpretation=[{"coding": [{"code": "N"}]}])
        [result] = only_record(panel(high, normal)).results
        assert [c.interpretation for c in result.components] == [
            Interpretation.CRITICAL,
            Interpretation.NORMAL,
        ]
        assert result.interpretation is Interpretation.UNKNOWN  # the panel states none

    def test_coded_text_and_absent_values(self) -> None:
        """A coded or text component value is read; a data-absent one is kept valueless."""
        coded = part(
            SYSTOLIC, None, valueCodeableConcept={"coding": [{"code": "x", "system": "urn:c"}]}
        )
        text = part(DIASTOLIC, None, valueString="not measured")
        absent = part(SYSTOLIC, None, dataAbsentReason={"coding": [{"code": "not-performed"}]})
        [result] = only_record(panel(coded, text, absent)).results
        assert [c.value for c in result.components] == [Code("urn:c", "x"), "not measured", None]

    def test_component_without_a_code_is_dropped_with_a_warning(self) -> None:
        """A component needs a code: one without is dropped, the others kept, and reported."""
        nameless = {"valueQuantity": {"value": 80, "unit": "mm[Hg]"}}
        result = read_bundle(panel(part(SYSTOLIC, 150), nameless))
        [record] = result.records
        assert record.results[0].components == (ResultComponent(SYSTOLIC, Quantity(150, "mm[Hg]")),)
        [issue] = result.issues
        assert issue.code is IssueCode.MISSING_ELEMENT
        assert issue.severity is IssueSeverity.WARNING
        assert issue.path.endswith(".component[1].code")

    def test_observation_without_components(self) -> None:
        """A plain observation has no components."""
        resource = panel(valueQuantity={"value": 7.2, "unit": "mmol/L"})
        del resource["component"]
        [result] = only_record(resource).results
        assert result.components == ()
        assert result.value == Quantity(7.2, "mmol/L")

    def test_value_and_components_together(self) -> None:
        """An observation with a value and components keeps both."""
        resource = panel(part(SYSTOLIC, 150), valueString="see components")
        [result] = only_record(resource).results
        assert result.value == "see components"
        assert len(result.components) == 1


class TestWriting:
    """Components are written as ``Observation.component`` and read back exactly."""

    def test_written_as_components(self) -> None:
        """Each component: its code, valueQuantity, and interpretation when known."""
        [observation] = [
            r
            for r in to_resources(make_record(results=(bp_result(),)))
            if r["resourceType"] == "Observation"
        ]
        assert "valueQuantity" not in observation
        systolic, diastolic = observation["component"]
        assert systolic["code"]["coding"][0]["code"] == "8480-6"
        assert systolic["valueQuantity"]["value"] == 150
        assert systolic["interpretation"][0]["coding"][0]["code"] == "A"
        assert diastolic["interpretation"][0]["coding"][0]["code"] == "N"

    def test_round_trip(self) -> None:
        """A panel written and read back is the same result."""
        record = make_record(results=(bp_result(),))
        [again] = fhir.read(fhir.write_bundle([record])).records
        assert again.results == record.results

    def test_no_components_no_element(self) -> None:
        """A result without components writes no ``component``."""
        [observation] = [
            r
            for r in to_resources(make_record(results=(make_result(),)))
            if r["resourceType"] == "Observation"
        ]
        assert "component" not in observation


class TestShown:
    """Where a result's value is shown, a panel's parts are shown."""

    def test_profile_text(self) -> None:
        """``carecoord profile``'s recent results list both readings."""
        text = render_profile(profile_from_record(make_record(results=(bp_result(),))))
        assert SHOWN in text

    def test_profile_record(self) -> None:
        """The JSON profile record lists the components of each recent result."""
        record = profile_to_record(profile_from_record(make_record(results=(bp_result(),))))
        [shown] = record["recent_results"]
        assert shown["value"] is None
        assert shown["components"] == [
            {
                "code": "Systolic blood pressure",
                "value": "150 mm[Hg]",
                "interpretation": "abnormal",
            },
            {"code": "Diastolic blood pressure", "value": "85 mm[Hg]", "interpretation": "normal"},
        ]

    def test_patient_summary(self) -> None:
        """The patient's summary names each reading instead of "result available"."""
        profile = profile_from_record(make_record(results=(bp_result(),)))
        summary = patient_summary(profile, start=days_before(30), end=AS_OF, at=AS_OF)
        [line] = summary.tests
        assert line.startswith(SHOWN)
        assert "result available" not in line

    def test_component_values_are_masked_in_repr(self) -> None:
        """A component's value is personal data: its repr shows only that it is set."""
        component = ResultComponent(SYSTOLIC, Quantity(150, "mm[Hg]"))
        assert "150" not in repr(component)
        assert "<masked>" in repr(component)
