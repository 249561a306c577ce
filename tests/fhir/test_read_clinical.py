"""Mapping clinical facts.

Conditions, social needs, medications, allergies, results and procedures, with the
recorded-at and sensitivity every fact carries.
"""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.domain import (
    ClinicalStatus,
    Code,
    ConditionCategory,
    Interpretation,
    MedicationKind,
    MedicationStatus,
    PartialDate,
    Quantity,
    Ref,
    ResultCategory,
    ResultStatus,
    Sensitivity,
    SocialDomain,
    SocialNeedStatus,
    VerificationStatus,
)
from carecoord.fhir._codes import frequency_text
from carecoord.testing import days_before

from .test_read_fixtures import SUBJECT, only_record, read_bundle, ref, when

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


def condition(**extra: object) -> dict[str, object]:
    """A diabetes Condition."""
    resource: dict[str, object] = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": SUBJECT,
        "code": {"coding": [{"system": SNOMED, "code": "44054006", "display": "Diabetes"}]},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "onsetDateTime": "2019-05",
        "meta": {"lastUpdated": when(40)},
    }
    resource.update(extra)
    return resource


def medication(**extra: object) -> dict[str, object]:
    """A MedicationRequest for metformin, twice a day."""
    resource: dict[str, object] = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "860975"}]},
        "authoredOn": when(30),
        "requester": ref("Practitioner", "pcp-1"),
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [{"system": SNOMED, "code": "26643006"}]},
                "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "code": "mg"}}],
            }
        ],
    }
    resource.update(extra)
    return resource


def observation(**extra: object) -> dict[str, object]:
    """A potassium Observation."""
    resource: dict[str, object] = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
        "effectiveDateTime": when(3),
        "issued": when(2),
        "valueQuantity": {"value": 7.2, "unit": "mmol/L", "code": "mmol/L"},
    }
    resource.update(extra)
    return resource


class TestConditions:
    """Conditions with their statuses, times and labels."""

    def test_condition_fields(self) -> None:
        """Code, statuses, partial onset and recorded-at are read."""
        [item] = only_record(condition()).conditions

        assert item.code == Code(SNOMED, "44054006")
        assert item.clinical_status is ClinicalStatus.ACTIVE
        assert item.verification_status is VerificationStatus.CONFIRMED
        assert item.onset == PartialDate(2019, 5)
        assert item.recorded_at == days_before(40)

    def test_recorded_date_is_the_fallback(self) -> None:
        """Without meta.lastUpdated, recordedDate gives recorded_at."""
        [item] = only_record(condition(meta=None, recordedDate=when(41))).conditions

        assert item.recorded_at == days_before(41)

    def test_resolved_by_abatement(self) -> None:
        """Without a clinical status, an abatement means resolved."""
        [item] = only_record(
            condition(clinicalStatus=None, abatementDateTime="2020-01-02")
        ).conditions

        assert item.clinical_status is ClinicalStatus.RESOLVED
        assert item.abatement == PartialDate(2020, 1, 2)

    def test_category(self) -> None:
        """The encounter-diagnosis category is read."""
        category = [{"coding": [{"code": "encounter-diagnosis"}]}]

        assert only_record(condition(category=category)).conditions[0].category is (
            ConditionCategory.ENCOUNTER_DIAGNOSIS
        )

    @pytest.mark.parametrize(
        ("code", "label"),
        [
            ("PSY", Sensitivity.MENTAL_HEALTH),
            ("ETH", Sensitivity.SUBSTANCE_USE),
            ("OPIOIDUD", Sensitivity.SUBSTANCE_USE),
            ("HIV", Sensitivity.HIV),
            ("SDV", Sensitivity.SEXUAL_DOMESTIC_VIOLENCE),
            ("PSYTHPN", Sensitivity.PSYCHOTHERAPY_NOTE),
        ],
    )
    def test_security_labels(self, code: str, label: Sensitivity) -> None:
        """meta.security v3-ActCode labels become sensitivity classes."""
        meta = {
            "security": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}
            ]
        }
        assert only_record(condition(meta=meta)).conditions[0].sensitivity == {label}

    def test_author(self) -> None:
        """The recorder is the author."""
        [item] = only_record(condition(recorder=ref("Practitioner", "pcp-1"))).conditions

        assert item.author == Ref("Practitioner", "pcp-1")


class TestSocialNeeds:
    """SDOH conditions are also social needs."""

    def test_sdoh_category_and_z_code(self) -> None:
        """An SDOH-category Z59.41 condition is a food-insecurity social need."""
        sdoh = condition(
            category=[
                {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
                            "code": "sdoh",
                        }
                    ]
                }
            ],
            code={"coding": [{"system": ICD10, "code": "Z59.41"}]},
        )
        record = only_record(sdoh)
        [need] = record.social_needs

        assert record.conditions[0].category is ConditionCategory.SDOH
        assert need.domain is SocialDomain.FOOD_INSECURITY
        assert need.identified_at == days_before(40)
        assert need.status is SocialNeedStatus.IDENTIFIED

    def test_gravity_category_names_the_domain(self) -> None:
        """The Gravity SDOHCC category code picks the domain."""
        category = [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
                        "code": "transportation-insecurity",
                    }
                ]
            }
        ]
        [need] = only_record(condition(category=category)).social_needs

        assert need.domain is SocialDomain.TRANSPORTATION_INSECURITY

    @pytest.mark.parametrize(
        ("code", "domain"),
        [
            ("Z59.0", SocialDomain.HOMELESSNESS),
            ("Z59.1", SocialDomain.INADEQUATE_HOUSING),
            ("Z59.82", SocialDomain.TRANSPORTATION_INSECURITY),
            ("Z56.0", SocialDomain.EMPLOYMENT),
            ("Z55.0", SocialDomain.EDUCATION),
            ("Z60.2", SocialDomain.SOCIAL_CONNECTION),
        ],
    )
    def test_z_codes_without_category(self, code: str, domain: SocialDomain) -> None:
        """A Z55-Z65 code alone makes a social need of its domain."""
        [need] = only_record(
            condition(code={"coding": [{"system": ICD10, "code": code}]})
        ).social_needs

        assert need.domain is domain

    def test_medical_condition_is_no_social_need(self) -> None:
        """A medical condition makes no social need."""
        assert only_record(condition()).social_needs == ()

    def test_resolved_need(self) -> None:
        """A resolved SDOH condition is a resolved need."""
        resolved = condition(
            code={"coding": [{"system": ICD10, "code": "Z59.0"}]},
            clinicalStatus={"coding": [{"code": "resolved"}]},
        )
        assert only_record(resolved).social_needs[0].status is SocialNeedStatus.RESOLVED


class TestMedications:
    """MedicationRequest and MedicationStatement."""

    def test_request(self) -> None:
        """An order with code, dose, route, normalised frequency and prescriber."""
        [item] = only_record(medication()).medications

        assert item.kind is MedicationKind.ORDER
        assert item.status is MedicationStatus.ACTIVE
        assert item.code == Code(RXNORM, "860975")
        assert item.dose == Quantity(500, "mg")
        assert item.route == Code(SNOMED, "26643006")
        assert item.frequency == "BID"
        assert item.prescriber == Ref("Practitioner", "pcp-1")
        assert item.authored_on == days_before(30)

    def test_contained_medication(self) -> None:
        """MedicationReference to a contained Medication gives its code and ingredients."""
        contained = {
            "resourceType": "Medication",
            "id": "med",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0000-1"}]},
            "ingredient": [
                {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "6809"}]}}
            ],
        }
        resource = medication(contained=[contained], medicationReference={"reference": "#med"})
        del resource["medicationCodeableConcept"]
        [item] = only_record(resource).medications

        assert item.code.code == "0000-1"
        assert item.ingredients == (Code(RXNORM, "6809"),)

    def test_statement(self) -> None:
        """A statement with its effective period and information source."""
        statement = {
            "resourceType": "MedicationStatement",
            "id": "s1",
            "status": "active",
            "subject": SUBJECT,
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "860975"}]},
            "effectivePeriod": {"start": when(60)},
            "informationSource": ref("Patient", "patient-1"),
            "dosage": [
                {"timing": {"code": {"coding": [{"code": "TID"}]}}, "asNeededBoolean": True}
            ],
        }
        [item] = only_record(statement).medications

        assert item.kind is MedicationKind.STATEMENT
        assert item.period.start == days_before(60)
        assert item.frequency == "TID PRN"

    @pytest.mark.parametrize(
        ("frequency", "period", "unit", "expected"),
        [
            (1, 1, "d", "QD"),
            (2, 1, "d", "BID"),
            (3, 1, "d", "TID"),
            (4, 1, "d", "QID"),
            (1, 8, "h", "TID"),
            (1, 6, "h", "QID"),
            (1, 4, "h", "Q4H"),
            (1, 1, "wk", "QW"),
            (1, 2, "d", "QOD"),
            (3, 1, "wk", "3x/1wk"),
            (None, None, None, None),
        ],
    )
    def test_frequency_text(
        self, frequency: int | None, period: float | None, unit: str | None, expected: str | None
    ) -> None:
        """Timing.repeat normalises to QD/BID/TID/QID/QnH/QW/QOD."""
        assert frequency_text(frequency, period, unit) == expected

    def test_prn_alone(self) -> None:
        """As needed alone is PRN."""
        assert frequency_text(None, None, None, as_needed=True) == "PRN"


class TestAllergies:
    """AllergyIntolerance, including no-known-allergy statements."""

    @pytest.mark.parametrize("code", ["716186003", "409137002", "429625007"])
    def test_no_known_allergy(self, code: str) -> None:
        """SNOMED no-known-allergy codes set no_known and no code."""
        resource = {
            "resourceType": "AllergyIntolerance",
            "id": "a1",
            "patient": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": code}]},
        }
        [item] = only_record(resource).allergies

        assert item.no_known
        assert item.code is None

    def test_allergy(self) -> None:
        """A coded allergy with reactions and criticality."""
        resource = {
            "resourceType": "AllergyIntolerance",
            "id": "a1",
            "patient": SUBJECT,
            "code": {"coding": [{"system": RXNORM, "code": "7980"}]},
            "criticality": "high",
            "reaction": [{"manifestation": [{"coding": [{"system": SNOMED, "code": "39579001"}]}]}],
        }
        [item] = only_record(resource).allergies

        assert item.code == Code(RXNORM, "7980")
        assert item.criticality == "high"
        assert item.reactions == (Code(SNOMED, "39579001"),)


class TestResults:
    """Observations and diagnostic reports become results."""

    def test_observation(self) -> None:
        """Value, issued, effective and status are read."""
        [item] = only_record(observation()).results

        assert item.value == Quantity(7.2, "mmol/L")
        assert item.issued == days_before(2)
        assert item.effective == days_before(3)
        assert item.status is ResultStatus.FINAL

    @pytest.mark.parametrize(
        ("codes", "expected"),
        [
            (["N"], Interpretation.NORMAL),
            (["H"], Interpretation.ABNORMAL),
            (["L"], Interpretation.ABNORMAL),
            (["A"], Interpretation.ABNORMAL),
            (["HH"], Interpretation.CRITICAL),
            (["LL"], Interpretation.CRITICAL),
            (["AA"], Interpretation.CRITICAL),
            (["H", "HH"], Interpretation.CRITICAL),
            (["critical"], Interpretation.CRITICAL),
        ],
    )
    def test_interpretation(self, codes: list[str], expected: Interpretation) -> None:
        """Interpretation codes give the most severe interpretation."""
        interpretation = [{"coding": [{"code": c}]} for c in codes]

        assert (
            only_record(observation(interpretation=interpretation)).results[0].interpretation
            is expected
        )

    def test_issued_falls_back_to_effective(self) -> None:
        """Without issued, the effective time is when the result was issued."""
        [item] = only_record(observation(issued=None)).results

        assert item.issued == days_before(3)

    def test_coded_and_text_values(self) -> None:
        """CodeableConcept and string values are read."""
        coded = observation(
            valueQuantity=None,
            valueCodeableConcept={"coding": [{"system": SNOMED, "code": "10828004"}]},
        )
        text = observation(id="o2", valueQuantity=None, valueString="trace")
        values = {r.id: r.value for r in only_record(coded, text).results}

        assert values == {"o1": Code(SNOMED, "10828004"), "o2": "trace"}

    def test_based_on_order(self) -> None:
        """BasedOn an order links the result to it."""
        order = {
            "resourceType": "ServiceRequest",
            "id": "lab-1",
            "status": "active",
            "intent": "order",
            "subject": SUBJECT,
            "authoredOn": when(4),
            "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
        }
        record = only_record(order, observation(basedOn=[ref("ServiceRequest", "lab-1")]))

        assert record.results[0].based_on == ("lab-1",)

    def test_diagnostic_report(self) -> None:
        """A DiagnosticReport is a result; its conclusion code is the value."""
        report = {
            "resourceType": "DiagnosticReport",
            "id": "dr1",
            "status": "final",
            "subject": SUBJECT,
            "code": {"coding": [{"system": LOINC, "code": "57698-3"}]},
            "issued": when(1),
            "conclusionCode": [{"coding": [{"system": SNOMED, "code": "55822004"}]}],
        }
        [item] = only_record(report).results

        assert item.value == Code(SNOMED, "55822004")
        assert item.issued == days_before(1)

    def test_result_without_time_is_skipped(self) -> None:
        """A result with neither issued nor effective is skipped with an issue."""
        result = read_bundle(observation(issued=None, effectiveDateTime=None))

        assert result.records[0].results == ()
        assert result.counts["Observation"].skipped == 1


OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"


def categorised(system: str, *codes: str, kind: str = "Observation") -> dict[str, object]:
    """An Observation (or DiagnosticReport) with one category per code of ``system``."""
    resource = observation(category=[{"coding": [{"system": system, "code": c}]} for c in codes])
    resource["resourceType"] = kind
    return resource


class TestResultCategory:
    """Observation.category (and a DiagnosticReport's section) becomes Result.category."""

    @pytest.mark.parametrize("category", [c for c in ResultCategory if c.value != "unknown"])
    def test_observation_category_codes(self, category: ResultCategory) -> None:
        """Each observation-category code maps to the result category of the same name."""
        [item] = only_record(categorised(OBSERVATION_CATEGORY, category.value)).results

        assert item.category is category

    def test_no_category_is_unknown(self) -> None:
        """A result without a category is of unknown category."""
        assert only_record(observation()).results[0].category is ResultCategory.UNKNOWN

    def test_unmapped_category_is_unknown(self) -> None:
        """A category code carecoord does not know leaves the category unknown, silently."""
        result = read_bundle(categorised("urn:example:local", "panel-7"))

        assert result.records[0].results[0].category is ResultCategory.UNKNOWN
        assert result.issues == ()

    def test_first_mapped_category_wins(self) -> None:
        """Of two categories, the first one carecoord knows is the result's."""
        resource = categorised(OBSERVATION_CATEGORY, "survey", "laboratory")

        assert only_record(resource).results[0].category is ResultCategory.SURVEY

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("LAB", ResultCategory.LABORATORY),
            ("CH", ResultCategory.LABORATORY),
            ("MB", ResultCategory.LABORATORY),
            ("RAD", ResultCategory.IMAGING),
            ("CT", ResultCategory.IMAGING),
            ("EC", ResultCategory.UNKNOWN),
        ],
    )
    def test_diagnostic_report_section(self, code: str, expected: ResultCategory) -> None:
        """A DiagnosticReport's v2-0074 section: LAB and lab sections, RAD and imaging."""
        report = categorised(V2_0074, code, kind="DiagnosticReport")

        assert only_record(report).results[0].category is expected

    def test_diagnostic_report_observation_category(self) -> None:
        """A DiagnosticReport categorised with observation-category codes reads them too."""
        report = categorised(OBSERVATION_CATEGORY, "imaging", kind="DiagnosticReport")

        assert only_record(report).results[0].category is ResultCategory.IMAGING


class TestProcedures:
    """Procedures."""

    @pytest.mark.parametrize(
        ("system", "code"),
        [
            (SNOMED, "430193006"),
            ("http://www.ama-assn.org/go/cpt", "99495"),
            ("http://www.ama-assn.org/go/cpt", "1111F"),
        ],
    )
    def test_reconciliation_codes_kept(self, system: str, code: str) -> None:
        """Medication-reconciliation and TCM codes are kept as they are."""
        resource = {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "subject": SUBJECT,
            "code": {"coding": [{"system": system, "code": code}]},
            "performedPeriod": {"start": when(3), "end": when(2.9)},
        }
        [item] = only_record(resource).procedures

        assert item.code == Code(system, code)
        assert item.performed == days_before(3)

    def test_performed_date(self) -> None:
        """A performed date keeps its precision."""
        resource = {
            "resourceType": "Procedure",
            "id": "p1",
            "status": "completed",
            "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": "73761001"}]},
            "performedDateTime": "2024-06-01",
            "performer": [{"actor": ref("Practitioner", "pcp-1")}],
        }
        [item] = only_record(resource).procedures

        assert item.performed == PartialDate(2024, 6, 1)
        assert item.performer == Ref("Practitioner", "pcp-1")
        assert item.author == Ref("Practitioner", "pcp-1")

    def test_date_only_instants_are_utc_midnight(self) -> None:
        """A date where an instant is needed is read as the start of that day in UTC."""
        [item] = only_record(observation(issued=None, effectiveDateTime="2024-06-01")).results

        assert item.issued == dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
