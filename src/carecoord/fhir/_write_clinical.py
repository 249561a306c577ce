"""Writing encounters, care transitions and clinical facts (and Provenance for authors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    Allergy,
    CareSetting,
    CareTransition,
    ClinicalStatus,
    Code,
    Condition,
    ConditionCategory,
    Encounter,
    Interpretation,
    Medication,
    MedicationKind,
    Procedure,
    Quantity,
    Ref,
    Result,
    ResultCategory,
    ResultComponent,
    SocialDomain,
    SocialNeed,
    SocialNeedStatus,
    System,
    VerificationStatus,
)
from carecoord.fhir._codes import (
    CONDITION_CATEGORY_TO_CODE,
    DATA_ABSENT_REASON,
    ENCOUNTER_CLASS_TO_CODE,
    FREQUENCY_CODES,
    SETTING_TO_ADMIT_SOURCE,
    SETTING_TO_HL7,
    SETTING_TO_NUBC,
    TRANSITION_KIND_TO_CODE,
    CareCodes,
)
from carecoord.fhir._write_base import (
    ExtensionUrl,
    Json,
    WriteContext,
    clinical_time,
    coding,
    complex_extension,
    concept,
    extension,
    generated_id,
    instant,
    period,
    quantity,
    text_or_none,
)

__all__ = [
    "ALLERGY_CLINICAL_STATUS",
    "ALLERGY_VERIFICATION_STATUS",
    "INTERPRETATION_TO_CODE",
    "NO_KNOWN_ALLERGY",
    "merge_social_need",
    "write_allergy",
    "write_condition",
    "write_encounter",
    "write_medication",
    "write_procedure",
    "write_provenance",
    "write_result",
    "write_social_need",
    "write_transition",
]

_ADMIT_SOURCE_SYSTEM = "http://terminology.hl7.org/CodeSystem/admit-source"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_PROVENANCE_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

ALLERGY_CLINICAL_STATUS: dict[ClinicalStatus, str] = {
    ClinicalStatus.ACTIVE: "active",
    ClinicalStatus.RECURRENCE: "active",
    ClinicalStatus.RELAPSE: "active",
    ClinicalStatus.INACTIVE: "inactive",
    ClinicalStatus.REMISSION: "inactive",
    ClinicalStatus.RESOLVED: "resolved",
}
"""Clinical status -> ``AllergyIntolerance.clinicalStatus`` (which has only three codes)."""

ALLERGY_VERIFICATION_STATUS: dict[VerificationStatus, str] = {
    VerificationStatus.UNCONFIRMED: "unconfirmed",
    VerificationStatus.PROVISIONAL: "unconfirmed",
    VerificationStatus.DIFFERENTIAL: "unconfirmed",
    VerificationStatus.CONFIRMED: "confirmed",
    VerificationStatus.REFUTED: "refuted",
    VerificationStatus.ENTERED_IN_ERROR: "entered-in-error",
}
"""Verification status -> ``AllergyIntolerance.verificationStatus`` (four codes in R4)."""

INTERPRETATION_TO_CODE: dict[Interpretation, tuple[str, str]] = {
    Interpretation.NORMAL: ("N", "Normal"),
    Interpretation.ABNORMAL: ("A", "Abnormal"),
    Interpretation.CRITICAL: ("AA", "Critical abnormal"),
}
""":class:`Interpretation` -> v3 ObservationInterpretation (unknown is left out)."""

NO_KNOWN_ALLERGY = Code(System.SNOMED, "716186003", "No known allergy")
"""The code of an ``Allergy`` with ``no_known=True``."""

_GTS_CODES: dict[str, str] = {
    "QD": "QD",
    "BID": "BID",
    "TID": "TID",
    "QID": "QID",
    "QAM": "AM",
    "QPM": "PM",
    "QHS": "QHS",
    "QOD": "QOD",
    "QW": "WK",
    "QM": "MO",
    **{f"Q{n}H": f"Q{n}H" for n in (1, 2, 3, 4, 6, 8)},
}
assert all(FREQUENCY_CODES[code] == text for text, code in _GTS_CODES.items())


def _status_concept(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _contained_condition(ctx: WriteContext, local_id: str, code: Code) -> Json:
    return {
        "resourceType": "Condition",
        "id": local_id,
        "code": concept(code),
        "subject": ctx.patient(),
    }


# --------------------------------------------------------------------------- encounters


def write_encounter(ctx: WriteContext, encounter: Encounter) -> Json:
    """A visit ``Encounter``; its diagnoses are contained Conditions (R4 references them)."""
    resource: Json = {
        "resourceType": "Encounter",
        "id": encounter.id,
        "meta": ctx.meta(encounter.recorded_at, encounter.sensitivity),
    }
    if encounter.diagnoses:
        resource["contained"] = [
            _contained_condition(ctx, f"dx{i}", code) for i, code in enumerate(encounter.diagnoses)
        ]
    resource["extension"] = [
        extension(ExtensionUrl.ENCOUNTER_CLASS, valueCode=encounter.klass.value)
    ]
    resource["status"] = encounter.status.value
    resource["class"] = {
        "system": CareCodes.V3_ACT_CODE,
        "code": ENCOUNTER_CLASS_TO_CODE[encounter.klass],
    }
    if encounter.types:
        resource["type"] = [concept(c) for c in encounter.types]
    resource["subject"] = ctx.patient()
    if encounter.based_on:
        resource["basedOn"] = [ctx.reference(r) for r in encounter.based_on]
    if encounter.performers:
        resource["participant"] = [{"individual": ctx.reference(p)} for p in encounter.performers]
    resource["period"] = period(encounter.period)
    if encounter.reasons:
        resource["reasonCode"] = [concept(c) for c in encounter.reasons]
    if encounter.diagnoses:
        resource["diagnosis"] = [
            {"condition": {"reference": f"#dx{i}"}} for i in range(len(encounter.diagnoses))
        ]
    if encounter.organization is not None:
        resource["serviceProvider"] = ctx.reference(encounter.organization)
    return resource


def _disposition(transition: CareTransition) -> Json | None:
    if transition.discharge_disposition is not None:
        return concept(transition.discharge_disposition)
    setting = transition.to_setting
    if setting in SETTING_TO_NUBC:
        return {
            "coding": [{"system": System.DISCHARGE_DISPOSITION, "code": SETTING_TO_NUBC[setting]}]
        }
    if setting in SETTING_TO_HL7 and setting is not CareSetting.UNKNOWN:
        return {
            "coding": [
                {"system": System.HL7_DISCHARGE_DISPOSITION, "code": SETTING_TO_HL7[setting]}
            ]
        }
    return None


def _disposition_part(code: Code | None) -> tuple[str, str, Any]:
    """The ``disposition`` part of the transition extension.

    A Coding, or a CodeableConcept when the code has other codings (``Code.also``).
    """
    if code is None:
        return ("disposition", "Coding", None)
    if code.also:
        return ("disposition", "CodeableConcept", concept(code))
    return ("disposition", "Coding", coding(code))


def write_transition(ctx: WriteContext, transition: CareTransition) -> Json:
    """A care transition as a stay ``Encounter`` (inpatient, observation or emergency).

    Admission and discharge are the period; where from and where to are
    ``hospitalization.admitSource`` and ``dischargeDisposition`` (NUBC when the model has no
    code of its own); the principal diagnosis has rank 1.
    """
    resource: Json = {
        "resourceType": "Encounter",
        "id": transition.id,
        "meta": ctx.meta(transition.recorded_at, transition.sensitivity),
    }
    if transition.diagnoses:
        resource["contained"] = [
            _contained_condition(ctx, f"dx{i}", d.code) for i, d in enumerate(transition.diagnoses)
        ]
    disposition = transition.discharge_disposition
    state = complex_extension(
        ExtensionUrl.TRANSITION,
        [
            ("kind", "Code", transition.kind.value),
            ("fromSetting", "Code", transition.from_setting.value),
            ("toSetting", "Code", transition.to_setting.value),
            (
                "complexity",
                "Code",
                transition.complexity.value if transition.complexity is not None else None,
            ),
            _disposition_part(disposition),
        ],
    )
    resource["extension"] = [state]
    resource["status"] = "finished" if transition.discharged_at is not None else "in-progress"
    resource["class"] = {
        "system": CareCodes.V3_ACT_CODE,
        "code": TRANSITION_KIND_TO_CODE[transition.kind],
    }
    resource["subject"] = ctx.patient()
    if transition.attending is not None:
        resource["participant"] = [
            {
                "type": [_status_concept(_PARTICIPATION_TYPE, "ATND")],
                "individual": ctx.reference(transition.attending),
            }
        ]
    stay = {"start": instant(transition.admitted_at)}
    if transition.discharged_at is not None:
        stay["end"] = instant(transition.discharged_at)
    resource["period"] = stay
    if transition.diagnoses:
        resource["diagnosis"] = [
            {"condition": {"reference": f"#dx{i}"}, **({"rank": 1} if d.principal else {})}
            for i, d in enumerate(transition.diagnoses)
        ]
    hospitalization: Json = {}
    admit = SETTING_TO_ADMIT_SOURCE.get(transition.from_setting)
    if admit is not None:
        hospitalization["admitSource"] = _status_concept(_ADMIT_SOURCE_SYSTEM, admit)
    discharge = _disposition(transition)
    if discharge is not None:
        hospitalization["dischargeDisposition"] = discharge
    if hospitalization:
        resource["hospitalization"] = hospitalization
    if transition.facility is not None:
        resource["serviceProvider"] = ctx.reference(transition.facility)
    return resource


# --------------------------------------------------------------------------- conditions


def write_condition(ctx: WriteContext, condition: Condition) -> Json:
    """A ``Condition`` with its category, statuses, onset and abatement."""
    system, category = CONDITION_CATEGORY_TO_CODE[condition.category]
    resource: Json = {
        "resourceType": "Condition",
        "id": condition.id,
        "meta": ctx.meta(condition.recorded_at, condition.sensitivity),
        "clinicalStatus": _status_concept(_CONDITION_CLINICAL, condition.clinical_status.value),
        "verificationStatus": _status_concept(
            _CONDITION_VERIFICATION, condition.verification_status.value
        ),
        "category": [_status_concept(system, category)],
        "code": concept(condition.code),
        "subject": ctx.patient(),
    }
    if condition.encounter is not None:
        resource["encounter"] = ctx.reference(condition.encounter)
    if condition.onset is not None:
        resource["onsetDateTime"] = clinical_time(condition.onset)
    if condition.abatement is not None:
        resource["abatementDateTime"] = clinical_time(condition.abatement)
    if condition.recorded_at is not None:
        resource["recordedDate"] = instant(condition.recorded_at)
    if condition.author is not None:
        resource["recorder"] = ctx.reference(condition.author)
    return resource


def _need_extension(need: SocialNeed, *, standalone: bool, code: Json | None) -> Json:
    found = complex_extension(
        ExtensionUrl.SOCIAL_NEED,
        [
            ("domain", "Code", need.domain.value),
            ("status", "Code", need.status.value),
            ("identified", "DateTime", instant(need.identified_at)),
            ("code", "CodeableConcept", code),
            ("standalone", "Boolean", True if standalone else None),
        ],
    )
    assert found is not None  # domain, status and identified are always there
    return found


def _need_categories(need: SocialNeed) -> list[Json]:
    domain = "sdoh-category-unspecified" if need.domain is SocialDomain.OTHER else need.domain.value
    system, code = CONDITION_CATEGORY_TO_CODE[ConditionCategory.SDOH]
    return [_status_concept(system, code), _status_concept(CareCodes.SDOHCC, domain)]


def write_social_need(ctx: WriteContext, need: SocialNeed) -> Json:
    """A social need as a Gravity-style SDOH ``Condition`` (US Core ``sdoh`` + SDOHCC domain).

    ``identified_at`` is the ``recordedDate``; resolved needs are clinically resolved,
    every other status active. The ``social-need`` extension holds the exact domain,
    status and identification time, and marks the resource as a need only
    (``standalone``: no Condition of the model).
    """
    resource: Json = {
        "resourceType": "Condition",
        "id": need.id,
        "meta": ctx.meta(need.recorded_at),
        "extension": [_need_extension(need, standalone=True, code=None)],
        "clinicalStatus": _status_concept(
            _CONDITION_CLINICAL,
            "resolved" if need.status is SocialNeedStatus.RESOLVED else "active",
        ),
        "category": _need_categories(need),
    }
    if need.code is not None:
        resource["code"] = concept(need.code)
    resource["subject"] = ctx.patient()
    resource["recordedDate"] = instant(need.identified_at)
    if need.author is not None:
        resource["recorder"] = ctx.reference(need.author)
    if need.evidence:
        resource["evidence"] = [{"detail": [ctx.reference(r) for r in need.evidence]}]
    return resource


def merge_social_need(
    ctx: WriteContext, resource: Json, need: SocialNeed, condition: Condition
) -> None:
    """Make the Condition ``resource`` also the social need that shares its id.

    The reader makes a social need of an SDOH Condition (with the Condition's id), so a
    record read from FHIR can hold both: they go back into one resource. The need's code
    is in the extension when it differs from the condition's.
    """
    code = concept(need.code) if need.code is not None and need.code != condition.code else None
    resource.setdefault("extension", []).append(_need_extension(need, standalone=False, code=code))
    known = resource["category"]
    resource["category"] = known + [c for c in _need_categories(need) if c not in known]
    if need.evidence:
        resource["evidence"] = [{"detail": [ctx.reference(r) for r in need.evidence]}]


# --------------------------------------------------------------------------- medications


def _frequency(text: str | None) -> tuple[Json | None, bool]:
    """``(Timing, as needed)`` for a normalised frequency text (``"BID"``, ``"QD PRN"``...)."""
    if text is None or not text.strip():
        return None, False
    base: str | None = text
    as_needed = False
    if text == "PRN":
        base, as_needed = None, True
    elif text.endswith(" PRN"):
        base, as_needed = text[: -len(" PRN")], True
    if base is None:
        return None, as_needed
    code = _GTS_CODES.get(base)
    if code is not None:
        return {"code": {"coding": [{"system": CareCodes.GTS_ABBREVIATION, "code": code}]}}, (
            as_needed
        )
    return {"code": {"text": base}}, as_needed


def _dosage(medication: Medication) -> Json | None:
    dosage: Json = {}
    timing, as_needed = _frequency(medication.frequency)
    if timing is not None:
        dosage["timing"] = timing
    if as_needed:
        dosage["asNeededBoolean"] = True
    if medication.route is not None:
        dosage["route"] = concept(medication.route)
    if medication.dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": quantity(medication.dose)}]
    return dosage or None


def write_medication(ctx: WriteContext, medication: Medication) -> Json:
    """A ``MedicationRequest`` (an order) or ``MedicationStatement`` (a statement).

    With ingredients, the medication is a contained ``Medication`` holding the code and
    the ingredient codes; otherwise ``medicationCodeableConcept``.
    """
    is_order = medication.kind is MedicationKind.ORDER
    resource: Json = {
        "resourceType": "MedicationRequest" if is_order else "MedicationStatement",
        "id": medication.id,
        "meta": ctx.meta(medication.recorded_at, medication.sensitivity),
    }
    if medication.ingredients:
        resource["contained"] = [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": concept(medication.code),
                "ingredient": [{"itemCodeableConcept": concept(c)} for c in medication.ingredients],
            }
        ]
    resource["status"] = medication.status.value
    if is_order:
        resource["intent"] = "order"
    if medication.ingredients:
        resource["medicationReference"] = {"reference": "#med"}
    else:
        resource["medicationCodeableConcept"] = concept(medication.code)
    resource["subject"] = ctx.patient()
    dosage = _dosage(medication)
    window = period(medication.period)
    if is_order:
        if medication.authored_on is not None:
            resource["authoredOn"] = instant(medication.authored_on)
        if medication.prescriber is not None:
            resource["requester"] = ctx.reference(medication.prescriber)
        if medication.author is not None:
            resource["recorder"] = ctx.reference(medication.author)
        if medication.reasons:
            resource["reasonCode"] = [concept(c) for c in medication.reasons]
        if dosage is not None:
            resource["dosageInstruction"] = [dosage]
        if window is not None:
            resource["dispenseRequest"] = {"validityPeriod": window}
        return resource
    if window is not None:
        resource["effectivePeriod"] = window
    if medication.authored_on is not None:
        resource["dateAsserted"] = instant(medication.authored_on)
    if medication.prescriber is not None:
        resource["informationSource"] = ctx.reference(medication.prescriber)
    if medication.reasons:
        resource["reasonCode"] = [concept(c) for c in medication.reasons]
    if dosage is not None:
        resource["dosage"] = [dosage]
    return resource


# --------------------------------------------------------------------------- allergies


def write_allergy(ctx: WriteContext, allergy: Allergy) -> Json:
    """An ``AllergyIntolerance``; "no known allergies" is SNOMED CT 716186003."""
    resource: Json = {
        "resourceType": "AllergyIntolerance",
        "id": allergy.id,
        "meta": ctx.meta(allergy.recorded_at),
        "clinicalStatus": _status_concept(
            _ALLERGY_CLINICAL, ALLERGY_CLINICAL_STATUS[allergy.clinical_status]
        ),
        "verificationStatus": _status_concept(
            _ALLERGY_VERIFICATION, ALLERGY_VERIFICATION_STATUS[allergy.verification_status]
        ),
    }
    if allergy.criticality is not None:
        resource["criticality"] = allergy.criticality
    resource["code"] = concept(allergy.code if allergy.code is not None else NO_KNOWN_ALLERGY)
    resource["patient"] = ctx.patient()
    if allergy.onset is not None:
        resource["onsetDateTime"] = clinical_time(allergy.onset)
    if allergy.recorded_at is not None:
        resource["recordedDate"] = instant(allergy.recorded_at)
    if allergy.author is not None:
        resource["recorder"] = ctx.reference(allergy.author)
    if allergy.reactions:
        resource["reaction"] = [{"manifestation": [concept(c) for c in allergy.reactions]}]
    return resource


# --------------------------------------------------------------------------- results


def _value(value: Quantity | Code | str | None) -> tuple[str, Any] | None:
    if isinstance(value, Quantity):
        return "valueQuantity", quantity(value)
    if isinstance(value, Code):
        return "valueCodeableConcept", concept(value)
    text = text_or_none(value)
    return ("valueString", text) if text is not None else None


def write_result(ctx: WriteContext, result: Result) -> Json:
    """A result as an ``Observation`` (category: ``observation-category``, unless unknown).

    Acknowledgements are in a carecoord extension; the results a report groups
    (``members``) are ``hasMember``.
    """
    resource: Json = {
        "resourceType": "Observation",
        "id": result.id,
        "meta": ctx.meta(result.recorded_at, result.sensitivity),
    }
    acknowledgements = [
        complex_extension(
            ExtensionUrl.ACKNOWLEDGEMENT,
            [("by", "Reference", ctx.reference(a.by)), ("at", "DateTime", instant(a.at))],
        )
        for a in result.acknowledgements
    ]
    if acknowledgements:
        resource["extension"] = acknowledgements
    if result.based_on:
        resource["basedOn"] = [ctx.reference(Ref("Order", o)) for o in result.based_on]
    if result.members:  # a report or panel: the Observations it groups
        resource["hasMember"] = [ctx.reference(Ref("Result", m)) for m in result.members]
    resource["status"] = result.status.value
    if result.category is not ResultCategory.UNKNOWN:  # its values are the codes
        resource["category"] = [_status_concept(_OBSERVATION_CATEGORY, result.category.value)]
    resource["code"] = concept(result.code)
    resource["subject"] = ctx.patient()
    if result.effective is not None:
        resource["effectiveDateTime"] = clinical_time(result.effective)
    resource["issued"] = instant(result.issued)
    if result.performer is not None:
        resource["performer"] = [ctx.reference(result.performer)]
    _put_value(resource, result.value, result.interpretation)
    if result.components:
        resource["component"] = [_component(c) for c in result.components]
    return resource


def _put_value(target: Json, value: Quantity | Code | str | None, meaning: Interpretation) -> None:
    """``value[x]`` and ``interpretation`` of an Observation or one of its components."""
    found = _value(value)
    if found is not None:
        target[found[0]] = found[1]
    if meaning in INTERPRETATION_TO_CODE:
        code, display = INTERPRETATION_TO_CODE[meaning]
        target["interpretation"] = [
            {
                "coding": [
                    {
                        "system": CareCodes.OBSERVATION_INTERPRETATION,
                        "code": code,
                        "display": display,
                    }
                ]
            }
        ]


def _component(component: ResultComponent) -> Json:
    """One ``Observation.component``: its code, value and interpretation."""
    item: Json = {"code": concept(component.code)}
    _put_value(item, component.value, component.interpretation)
    return item


# --------------------------------------------------------------------------- procedures


def write_procedure(ctx: WriteContext, procedure: Procedure) -> Json:
    """A ``Procedure`` (the author is its ``recorder``)."""
    resource: Json = {
        "resourceType": "Procedure",
        "id": procedure.id,
        "meta": ctx.meta(procedure.recorded_at, procedure.sensitivity),
        "status": procedure.status,
        "code": concept(procedure.code),
        "subject": ctx.patient(),
    }
    if procedure.encounter is not None:
        resource["encounter"] = ctx.reference(procedure.encounter)
    resource["performedDateTime"] = clinical_time(procedure.performed)
    if procedure.author is not None:
        resource["recorder"] = ctx.reference(procedure.author)
    if procedure.performer is not None:
        resource["performer"] = [{"actor": ctx.reference(procedure.performer)}]
    return resource


# --------------------------------------------------------------------------- provenance


def write_provenance(
    ctx: WriteContext, target: Ref, author: Ref, recorded: dt.datetime | None
) -> Json:
    """A ``Provenance`` naming the author of a fact whose resource has no author element.

    ``recorded`` is required in FHIR: without a time it is written absent, with a
    data-absent-reason extension (``unknown``).
    """
    fhir_type = ctx.fhir_type(target)
    when: Json = (
        {"recorded": instant(recorded)}
        if recorded is not None
        else {"_recorded": {"extension": [extension(DATA_ABSENT_REASON, valueCode="unknown")]}}
    )
    return {
        "resourceType": "Provenance",
        "id": generated_id("provenance", ctx.source, fhir_type, target.id),
        "meta": ctx.meta(),
        "target": [ctx.reference(target)],
        **when,
        "agent": [
            {
                "type": _status_concept(_PROVENANCE_TYPE, "author"),
                "who": ctx.reference(author),
            }
        ],
    }
