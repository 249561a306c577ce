"""Mapping clinical facts.

Conditions (and social needs), medications, allergies, results and procedures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from carecoord.domain import (
    Acknowledgement,
    Allergy,
    AllergyId,
    ClinicalStatus,
    Code,
    Condition,
    ConditionCategory,
    ConditionId,
    FactId,
    Interpretation,
    Medication,
    MedicationId,
    MedicationKind,
    MedicationStatus,
    OrderId,
    PartialDate,
    PatientId,
    Period,
    Procedure,
    Quantity,
    Ref,
    Result,
    ResultCategory,
    ResultComponent,
    ResultId,
    ResultStatus,
    SocialDomain,
    SocialNeed,
    SocialNeedStatus,
    System,
    VerificationStatus,
)
from carecoord.fhir._codes import (
    ALLERGY_CLINICAL_TO_STATUS,
    CLINICAL_STATUS,
    CONDITION_CATEGORY,
    FREQUENCY_CODES,
    IMAGING_CATEGORY_CODES,
    INTERPRETATION,
    LAB_CATEGORY_CODES,
    MEDICATION_STATUS,
    NO_KNOWN_ALLERGY_CODES,
    RESULT_STATUS,
    SDOH_CATEGORY_DOMAINS,
    SDOH_SNOMED,
    VERIFICATION_STATUS,
    CareCodes,
    ExtensionUrl,
    frequency_text,
    social_domain_for_icd10,
)
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_carecoord import Parts, extension_items, first_extension
from carecoord.fhir._map_state import Facts
from carecoord.fhir._map_types import silent_code
from carecoord.fhir._trusted import trusted_constructor

__all__ = [
    "map_allergy",
    "map_condition",
    "map_diagnostic_report",
    "map_medication",
    "map_observation",
    "map_procedure",
]

_ICD10 = (System.ICD10CM, System.ICD10)
_SEVERITY = {
    Interpretation.UNKNOWN: 0,
    Interpretation.NORMAL: 1,
    Interpretation.ABNORMAL: 2,
    Interpretation.CRITICAL: 3,
}


_AUTHOR_FUNCTIONS = frozenset({"author", "enterer", "AUT", "ENT"})


def _author(ctx: MapContext, *keys: str) -> Ref | None:
    """The first of ``keys`` naming someone; else (R5) a ``participant``'s ``actor``.

    R5 Condition and AllergyIntolerance replace ``recorder`` and ``asserter`` with
    ``participant``: an author or enterer participant, else the first one.
    """
    for key in keys:
        value = ctx.resource.get(key)
        if value is None:
            continue
        ref = ctx.first_ref(ctx.resource, key, ctx.path)
        if ref is not None:
            return ref
    if ctx.resource.get("participant") is None or ctx.resource.get("resourceType") not in (
        "Condition",
        "AllergyIntolerance",
    ):
        return None
    participants = ctx.objs(ctx.resource, "participant", ctx.path)
    authors = [
        pair
        for pair in participants
        if ctx.code_values([(f"{pair[0]}.function", pair[1].get("function"))]) & _AUTHOR_FUNCTIONS
    ]
    for item_path, item in authors or participants:
        ref = ctx.ref(item.get("actor"), f"{item_path}.actor")
        if ref is not None:
            return ref
    return None


def _recorded(ctx: MapContext, fallback_key: str | None = None) -> dt.datetime | None:
    """``meta.lastUpdated``, else the resource's own recorded date (``fallback_key``).

    A carecoord-written resource's ``meta.lastUpdated`` is its ``recorded_at`` as it is.
    """
    recorded = ctx.recorded_at()
    if (
        recorded is None
        and fallback_key is not None
        and ctx.resource.get(fallback_key) is not None
        and ctx.origin.infers
    ):
        recorded = ctx.instant_at(ctx.resource, fallback_key, ctx.path)
    return recorded


def _clinical_choice(
    ctx: MapContext, prefix: str, *, period_end: bool = False
) -> dt.datetime | PartialDate | None:
    """``{prefix}DateTime``, ``{prefix}Instant`` or ``{prefix}Period`` as a clinical time."""
    res = ctx.resource
    for suffix in ("DateTime", "Instant"):
        if res.get(prefix + suffix) is not None:
            return ctx.clinical_at(res, prefix + suffix, ctx.path)
    period = ctx.period(res, prefix + "Period", ctx.path)
    if period is not None:
        return (period.end or period.start) if period_end else (period.start or period.end)
    return None


# --------------------------------------------------------------------------- conditions


def map_condition(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Condition``, plus a :class:`SocialNeed` when it is an SDOH problem.

    With carecoord's ``social-need`` extension the need is the extension's (domain,
    status, identification time, code), and a ``standalone`` one is a need only (its
    code may be absent). A carecoord-written Condition without the extension is no need,
    whatever its category.
    """
    res, path = ctx.resource, ctx.path
    need = (
        first_extension(res, ExtensionUrl.SOCIAL_NEED, path)
        if res.get("extension") is not None
        else None
    )
    if need is not None:
        parts = Parts(ctx, need[1], need[0])
        if parts.flag("standalone") is True:
            return [("social_needs", _stated_need(ctx, patient, fact_id, parts, None))]
    code = ctx.require_at(
        ctx.code_at(res, "code", ctx.path, prefer=(System.SNOMED, *_ICD10)),
        "code",
        "code",
    )
    category, domain, is_sdoh = _condition_category(ctx)
    abatement = _clinical_choice(ctx, "abatement")
    if res.get("abatementBoolean") is True:
        abatement = abatement or None
    default_status = (
        ClinicalStatus.RESOLVED
        if abatement is not None or res.get("abatementBoolean") is True
        else ClinicalStatus.ACTIVE
    )
    clinical = ctx.concept_status(res, "clinicalStatus", CLINICAL_STATUS, default_status)
    verification = ctx.concept_status(
        res, "verificationStatus", VERIFICATION_STATUS, VerificationStatus.CONFIRMED
    )
    recorded_at = _recorded(ctx, "recordedDate")
    author = _author(ctx, "recorder", "asserter")
    condition = Condition(
        id=ConditionId(fact_id),
        patient=patient,
        code=code,
        category=category or ConditionCategory.PROBLEM_LIST,
        clinical_status=clinical,
        verification_status=verification,
        onset=_clinical_choice(ctx, "onset"),
        abatement=abatement,
        sensitivity=ctx.sensitivity(),
        encounter=ctx.ref(res.get("encounter"), ctx.at("encounter")),
        recorded_at=recorded_at,
        author=author,
    )
    facts: Facts = [("conditions", condition)]
    if need is not None:
        facts.append(("social_needs", _stated_need(ctx, patient, fact_id, parts, condition)))
        return facts
    if (
        not is_sdoh
        or verification in (VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR)
        or ctx.origin.literal
    ):
        return facts
    found = _inferred_need(ctx, condition, domain, clinical.is_active, author)
    if found is not None:
        facts.append(("social_needs", found))
    return facts


def _condition_category(
    ctx: MapContext,
) -> tuple[ConditionCategory | None, SocialDomain | None, bool]:
    """A Condition's category, its SDOH domain (from categories, else codes), and SDOH-ness."""
    res, path = ctx.resource, ctx.path
    category: ConditionCategory | None = None
    sdoh_domain: SocialDomain | None = None
    is_sdoh = False
    for codings in ctx.item_codings(res, "category", path):
        for system, value, _display in codings:
            if value is None:
                continue
            if system == CareCodes.SDOHCC and value in SDOH_CATEGORY_DOMAINS:
                is_sdoh = True
                sdoh_domain = sdoh_domain or SDOH_CATEGORY_DOMAINS[value]
            elif value in CONDITION_CATEGORY:
                found = CONDITION_CATEGORY[value]
                is_sdoh = is_sdoh or found is ConditionCategory.SDOH
                if category is None or category is ConditionCategory.SDOH:
                    category = found
    all_codes = ctx.codes(res.get("code"), ctx.at("code"))
    coded_domain = _domain_of_codes(all_codes)
    if coded_domain is not None:
        is_sdoh = True
    if is_sdoh and category is None:
        category = ConditionCategory.SDOH
    return category, sdoh_domain or coded_domain, is_sdoh


def _inferred_need(
    ctx: MapContext,
    condition: Condition,
    domain: SocialDomain | None,
    active: bool,
    author: Ref | None,
) -> SocialNeed | None:
    """The social need an SDOH Condition implies (``None`` with a warning when undated)."""
    recorded_at = condition.recorded_at
    identified = recorded_at
    if identified is None and isinstance(condition.onset, dt.datetime):
        identified = condition.onset
    if identified is None and isinstance(condition.onset, PartialDate):
        identified = ctx.start_of(condition.onset)
    if identified is None:
        ctx.issue(
            ctx.at("recordedDate"),
            IssueCode.MISSING_ELEMENT,
            "SDOH condition without a recorded or onset time; no social need made",
            warning=True,
        )
        return None
    evidence: list[Ref] = []
    for item_path, item in ctx.objs(ctx.resource, "evidence", ctx.path):
        evidence.extend(ctx.refs(item, "detail", item_path))
    return SocialNeed(
        id=FactId(str(condition.id)),
        patient=condition.patient,
        domain=domain or SocialDomain.OTHER,
        identified_at=identified,
        code=condition.code,
        status=SocialNeedStatus.IDENTIFIED if active else SocialNeedStatus.RESOLVED,
        evidence=tuple(dict.fromkeys(evidence)),
        recorded_at=recorded_at,
        author=author,
    )


def _stated_need(
    ctx: MapContext,
    patient: PatientId,
    fact_id: str,
    parts: Parts,
    condition: Condition | None,
) -> SocialNeed:
    """The social need of carecoord's ``social-need`` extension.

    ``condition`` is the Condition read from the same resource (``None`` for a
    standalone need, read from the resource itself): the need's code is the extension's
    ``code``, else the Condition's; its author and ``recorded_at`` are the resource's.
    """
    res, path = ctx.resource, ctx.path
    if condition is None:
        code = ctx.code_at(res, "code", path, prefer=(System.SNOMED, *_ICD10))
        author = _author(ctx, "recorder", "asserter")
        recorded_at = ctx.recorded_at()
    else:
        code, author, recorded_at = condition.code, condition.author, condition.recorded_at
    identified = parts.instant("identified")
    if identified is None:
        ctx.skip(
            ctx.at("extension"),
            IssueCode.MISSING_ELEMENT,
            "social need without an identification time",
        )
    evidence: list[Ref] = []
    for item_path, item in ctx.objs(res, "evidence", path):
        evidence.extend(ctx.refs(item, "detail", item_path))
    return SocialNeed(
        id=FactId(fact_id),
        patient=patient,
        domain=parts.enum("domain", SocialDomain) or SocialDomain.OTHER,
        identified_at=identified,
        code=parts.concept("code") or code,
        status=parts.enum("status", SocialNeedStatus) or SocialNeedStatus.IDENTIFIED,
        evidence=tuple(dict.fromkeys(evidence)),
        recorded_at=recorded_at,
        author=author,
    )


def _domain_of_codes(codes: list[Code]) -> SocialDomain | None:
    for code in codes:
        if code.system in _ICD10:
            found = social_domain_for_icd10(code.code)
            if found is not None:
                return found
        elif code.system == System.SNOMED and code.code in SDOH_SNOMED:
            return SDOH_SNOMED[code.code]
    return None


# --------------------------------------------------------------------------- medications


def _medication_code(ctx: MapContext) -> tuple[Code | None, tuple[Code, ...]]:
    res = ctx.resource
    if res.get("medicationCodeableConcept") is not None:
        path = ctx.at("medicationCodeableConcept")
        return ctx.code(res["medicationCodeableConcept"], path, prefer=(System.RXNORM,)), ()
    reference: object = None
    reference_path = ctx.at("medicationReference")
    if res.get("medicationReference") is not None:
        reference = res["medicationReference"]
    medication = ctx.obj(res, "medication", ctx.path)  # R5 CodeableReference
    if medication is not None:
        if medication.get("concept") is not None:
            path = ctx.at("medication.concept")
            return ctx.code(medication["concept"], path, prefer=(System.RXNORM,)), ()
        reference = medication.get("reference")
        reference_path = ctx.at("medication.reference")
    if reference is None:
        return None, ()
    target = ctx.index.resolve_or_report(
        reference, reference_path, ctx.source, ctx.issues, ctx.resource, expected="Medication"
    )
    if target is None:
        return None, ()
    ctx.mark_used(target)
    ingredients: list[Code] = []
    items = target.get("ingredient")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        concept = item.get("itemCodeableConcept")
        if concept is None and isinstance(item.get("item"), dict):
            concept = item["item"].get("concept")
        found = silent_code(concept)
        if found is not None:
            ingredients.append(found)
    code = silent_code(target.get("code"))
    if code is not None and code.system == CareCodes.TEXT_ONLY and ingredients:
        code = ingredients[0]
    return code or (ingredients[0] if ingredients else None), tuple(ingredients)


def _dosage(
    ctx: MapContext, key: str
) -> tuple[Quantity | None, Code | None, str | None, Period | None]:
    dosages = ctx.objs(ctx.resource, key, ctx.path)
    if not dosages:
        return None, None, None, None
    path, dosage = dosages[0]
    dose = None
    for rate_path, rate in ctx.objs(dosage, "doseAndRate", path):
        dose = ctx.quantity(rate.get("doseQuantity"), f"{rate_path}.doseQuantity")
        if dose is not None:
            break
    if dose is None and dosage.get("doseQuantity") is not None:
        dose = ctx.quantity(dosage["doseQuantity"], f"{path}.doseQuantity")
    route = ctx.code(dosage.get("route"), f"{path}.route")
    as_needed = (
        dosage.get("asNeededBoolean") is True
        or dosage.get("asNeeded") is True
        or (dosage.get("asNeededCodeableConcept") is not None)
    )
    timing = ctx.obj(dosage, "timing", path)
    frequency: str | None = None
    bounds: Period | None = None
    if timing is not None:
        timing_path = f"{path}.timing"
        for _system, value, _display in ctx.codings(timing.get("code"), f"{timing_path}.code"):
            if value is not None and value.upper() in FREQUENCY_CODES:
                frequency = FREQUENCY_CODES[value.upper()]
                break
        repeat = ctx.obj(timing, "repeat", timing_path)
        if repeat is not None:
            repeat_path = f"{timing_path}.repeat"
            bounds = ctx.period(repeat, "boundsPeriod", repeat_path)
            if frequency is None:
                frequency = frequency_text(
                    ctx.integer(repeat, "frequency", repeat_path),
                    ctx.number(repeat, "period", repeat_path),
                    ctx.text(repeat, "periodUnit", repeat_path),
                )
    if as_needed:
        frequency = (
            "PRN" if frequency is None else frequency if "PRN" in frequency else f"{frequency} PRN"
        )
    return dose, route, frequency, bounds


_ADHERENCE: dict[str, MedicationStatus] = {
    "taking": MedicationStatus.ACTIVE,
    "taking-as-directed": MedicationStatus.ACTIVE,
    "taking-not-as-directed": MedicationStatus.ACTIVE,
    "not-taking": MedicationStatus.NOT_TAKEN,
    "on-hold": MedicationStatus.ON_HOLD,
    "on-hold-as-directed": MedicationStatus.ON_HOLD,
    "on-hold-not-as-directed": MedicationStatus.ON_HOLD,
    "stopped": MedicationStatus.STOPPED,
    "stopped-as-directed": MedicationStatus.STOPPED,
    "stopped-not-as-directed": MedicationStatus.STOPPED,
    "unknown": MedicationStatus.UNKNOWN,
}
"""R5 ``MedicationStatement.adherence.code`` -> the status R4 said in ``status``."""


def _statement_status(ctx: MapContext, status: MedicationStatus) -> MedicationStatus:
    """A statement's status: R4's ``status``, or R5's ``adherence`` (taking, not taking...).

    R5 moved "is the patient taking it" from ``status`` (now recorded, draft or
    entered-in-error) to ``adherence``. A ``recorded`` statement without an adherence
    says nothing of it: read as active, with an ``r5-content`` warning.
    """
    res = ctx.resource
    adherence = ctx.obj(res, "adherence", ctx.path) if res.get("adherence") is not None else None
    if adherence is not None and status is not MedicationStatus.ENTERED_IN_ERROR:
        here = f"{ctx.path}.adherence.code"
        for _system, code, _display in ctx.codings(adherence.get("code"), here):
            if code is not None and code.strip() in _ADHERENCE:
                return _ADHERENCE[code.strip()]
        ctx.issue(
            here, IssueCode.UNKNOWN_CODE, "adherence code not read; status kept", warning=True
        )
        return status
    if res.get("status") == "recorded":
        ctx.issue(
            ctx.at("status"),
            IssueCode.R5_CONTENT,
            "R5 statement with no adherence: whether it is taken is not said; read as active",
            warning=True,
        )
    return status


def map_medication(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``MedicationRequest`` (an order) or ``MedicationStatement`` (a statement).

    The author is the order's ``recorder``, else its requester (a statement's information
    source); a carecoord-written one names its author only in ``recorder`` (or in a
    Provenance).
    """
    res, path = ctx.resource, ctx.path
    is_order = res.get("resourceType") == "MedicationRequest"
    code, ingredients = _medication_code(ctx)
    code = ctx.require_at(code, "medication[x]", "medication code")
    dose, route, frequency, bounds = _dosage(ctx, "dosageInstruction" if is_order else "dosage")
    status = ctx.status(res, "status", MEDICATION_STATUS, MedicationStatus.UNKNOWN)
    if is_order:
        prescriber = ctx.ref(res.get("requester"), ctx.at("requester"))
        dispense = ctx.obj(res, "dispenseRequest", path)
        period = ctx.period(dispense, "validityPeriod", ctx.at("dispenseRequest")) or bounds
        authored = ctx.instant_at(res, "authoredOn", ctx.path)
        author = ctx.ref(res.get("recorder"), ctx.at("recorder"))
        if author is None:
            author = ctx.origin.inferred(prescriber)
    else:
        status = _statement_status(ctx, status)
        prescriber = ctx.first_ref(res, "informationSource", path)
        effective = _clinical_choice(ctx, "effective")
        period = ctx.period(res, "effectivePeriod", path)
        if period is None and isinstance(effective, dt.datetime):
            period = Period(effective)
        elif period is None and isinstance(effective, PartialDate):
            period = Period(ctx.start_of(effective))
        authored = ctx.instant_at(res, "dateAsserted", ctx.path)
        author = ctx.origin.inferred(prescriber)
    return [
        (
            "medications",
            Medication(
                id=MedicationId(fact_id),
                patient=patient,
                code=code,
                kind=MedicationKind.ORDER if is_order else MedicationKind.STATEMENT,
                status=status,
                ingredients=ingredients,
                dose=dose,
                route=route,
                frequency=frequency,
                prescriber=prescriber,
                period=period or Period(),
                authored_on=authored,
                reasons=ctx.reason_codes(res, path),
                sensitivity=ctx.sensitivity(),
                recorded_at=ctx.recorded_at(),
                author=author,
            ),
        )
    ]


# --------------------------------------------------------------------------- allergies


def map_allergy(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """An ``AllergyIntolerance``; SNOMED "no known allergy" codes set ``no_known``."""
    res, path = ctx.resource, ctx.path
    code = ctx.require_at(
        ctx.code_at(res, "code", ctx.path, prefer=(System.SNOMED,)), "code", "code"
    )
    no_known = any(
        system == System.SNOMED and value in NO_KNOWN_ALLERGY_CODES
        for system, value, _display in ctx.codings(res.get("code"), ctx.at("code"))
    )
    reactions: list[Code] = []
    for item_path, reaction in ctx.objs(res, "reaction", path):
        for manifestation_path, manifestation in ctx.items(reaction, "manifestation", item_path):
            concept, concept_path = manifestation, manifestation_path
            if isinstance(manifestation, dict) and "concept" in manifestation:
                concept, concept_path = manifestation["concept"], f"{manifestation_path}.concept"
            found = ctx.code(concept, concept_path)
            if found is not None and found not in reactions:
                reactions.append(found)
    return [
        (
            "allergies",
            Allergy(
                id=AllergyId(fact_id),
                patient=patient,
                code=None if no_known else code,
                no_known=no_known,
                clinical_status=ctx.concept_status(
                    res, "clinicalStatus", ALLERGY_CLINICAL_TO_STATUS, ClinicalStatus.ACTIVE
                ),
                verification_status=ctx.concept_status(
                    res, "verificationStatus", VERIFICATION_STATUS, VerificationStatus.CONFIRMED
                ),
                criticality=ctx.text(res, "criticality", path),
                reactions=tuple(reactions),
                onset=_clinical_choice(ctx, "onset"),
                recorded_at=_recorded(ctx, "recordedDate"),
                author=_author(ctx, "recorder", "asserter"),
            ),
        )
    ]


# --------------------------------------------------------------------------- results


_OBSERVATION_CATEGORIES: dict[str, ResultCategory] = {
    c.value: c for c in ResultCategory if c is not ResultCategory.UNKNOWN
}
"""FHIR ``observation-category`` codes, which are :class:`ResultCategory` values."""

_LAB_SECTIONS = frozenset(
    {"CH", "HM", "MB", "SR", "BLB", "IMM", "SP", "CP", "MCB", "MYC", "PAR", "VR", "TX", "URN"}
)
"""HL7 v2-0074 diagnostic service sections that are laboratories (chemistry, haematology,
microbiology, serology, blood bank, immunology, pathology, virology, toxicology, urinalysis)."""


def _result_category(ctx: MapContext) -> ResultCategory:
    """``category``: observation-category codes, or a DiagnosticReport's v2-0074 section.

    LAB and the laboratory sections are laboratory, RAD and the imaging sections imaging;
    the first category that maps wins, and a result with none is of unknown category.
    """
    quick = _quick_category(ctx.resource.get("category"))
    if quick is not None:
        return quick
    for codings in ctx.item_codings(ctx.resource, "category", ctx.path):
        for _system, value, _display in codings:
            found = _category_of(value)
            if found is not None:
                return found
    return ResultCategory.UNKNOWN


def _category_of(value: str | None) -> ResultCategory | None:
    """The category one (cleaned) coding's code names, or ``None``."""
    if value is None:
        return None
    found = _OBSERVATION_CATEGORIES.get(value)
    if found is None and (value in LAB_CATEGORY_CODES or value in _LAB_SECTIONS):
        found = ResultCategory.LABORATORY
    if found is None and value in IMAGING_CATEGORY_CODES:
        found = ResultCategory.IMAGING
    return found


def _quick_category(categories: object) -> ResultCategory | None:
    """:func:`_result_category` of the usual ``category``: one concept, one coding, that maps.

    Only when reading it reports nothing (system, code and display are strings or
    absent) and its code maps to a category; ``None`` leaves it to the full reading.
    """
    if type(categories) is not list or len(categories) != 1:
        return None
    concept = categories[0]
    codings = concept.get("coding") if type(concept) is dict else None
    if type(codings) is not list or len(codings) != 1 or type(codings[0]) is not dict:
        return None
    coding = codings[0]
    system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
    if type(code) is not str or not code.strip():
        return None
    if (system is not None and type(system) is not str) or (
        display is not None and type(display) is not str
    ):
        return None
    return _category_of(code)


def _issued(ctx: MapContext) -> tuple[dt.datetime, dt.datetime | PartialDate | None]:
    res = ctx.resource
    effective = _clinical_choice(ctx, "effective")
    issued = ctx.strict_instant_at(res, "issued", ctx.path)
    if issued is None:
        issued = ctx.start_of(effective) if isinstance(effective, PartialDate) else effective
    issued = ctx.require_at(issued, "issued", "issued or effective time")
    return issued, effective


def _order_ids(ctx: MapContext) -> tuple[OrderId, ...]:
    if ctx.resource.get("basedOn") is None:
        return ()
    refs = ctx.refs(ctx.resource, "basedOn", ctx.path)
    return tuple(OrderId(r.id) for r in refs if r.type in ("Order", "ServiceRequest"))


def _member_ids(ctx: MapContext, key: str) -> tuple[ResultId, ...]:
    """The results a report (``result``) or a panel (``hasMember``) groups, by id."""
    if ctx.resource.get(key) is None:
        return ()
    refs = ctx.refs(ctx.resource, key, ctx.path)
    return tuple(ResultId(r.id) for r in refs if r.type == "Result")


def _interpretation(ctx: MapContext, obj: dict[str, Any], path: str) -> Interpretation:
    """The most severe interpretation of ``obj`` (an Observation or one of its components)."""
    found = Interpretation.UNKNOWN
    if obj.get("interpretation") is None:
        return found
    for codings in ctx.item_codings(obj, "interpretation", path):
        for _system, value, _display in codings:
            mapped = INTERPRETATION.get((value or "").strip().upper())
            if mapped is not None and _SEVERITY[mapped] > _SEVERITY[found]:
                found = mapped
    return found


def _value(ctx: MapContext, obj: dict[str, Any], path: str) -> Quantity | Code | str | None:
    """``value[x]`` of ``obj`` (an Observation or one of its components)."""
    if obj.get("valueQuantity") is not None:
        return ctx.quantity_at(obj, "valueQuantity", path)
    if obj.get("valueCodeableConcept") is not None:
        return ctx.code_at(obj, "valueCodeableConcept", path)
    if obj.get("valueString") is not None:
        return ctx.text(obj, "valueString", path)
    if obj.get("valueBoolean") is not None:
        flag = ctx.flag(obj, "valueBoolean", path)
        return None if flag is None else str(flag).lower()
    if obj.get("valueInteger") is not None:
        number = ctx.number(obj, "valueInteger", path)
        return None if number is None else Quantity(number)
    return None


def _components(ctx: MapContext) -> tuple[ResultComponent, ...]:
    """``Observation.component``: code, value and interpretation of each part.

    A component without a usable code is dropped (``missing-element`` warning); one
    without a value (a ``dataAbsentReason`` instead) is kept with none.
    """
    found: list[ResultComponent] = []
    for item_path, item in ctx.objs(ctx.resource, "component", ctx.path):
        code = ctx.code_at(item, "code", item_path, prefer=(System.LOINC,))
        if code is None:
            ctx.issue(
                f"{item_path}.code",
                IssueCode.MISSING_ELEMENT,
                "observation component without a code; dropped",
                warning=True,
            )
            continue
        found.append(
            ResultComponent(
                code=code,
                value=_value(ctx, item, item_path),
                interpretation=_interpretation(ctx, item, item_path),
            )
        )
    return tuple(found)


_trusted_result = trusted_constructor(Result)


def _result_maker(ctx: MapContext, fact_id: str) -> Callable[..., Result]:
    """How to build a result: without validators when the reader vouches for every value.

    It does when the id is not blank (the patient's id was checked with the Patient) and
    parsed times are aware (:attr:`ReadState.trusted`); the rest are enum members from
    the code tables, tuples and frozensets the mapper made, and aware parsed instants.
    """
    return _trusted_result if ctx.state.trusted and fact_id.strip() else Result


def map_observation(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """An ``Observation`` as a :class:`Result`.

    The performer is also the author, except on a carecoord-written one (its author is in
    a Provenance); acknowledgements are carecoord's ``acknowledgement`` extensions; a
    panel's parts (``component``) are its ``components``.
    """
    res = ctx.resource
    code = ctx.require_at(
        ctx.code_at(res, "code", ctx.path, prefer=(System.LOINC,)), "code", "code"
    )
    issued, effective = _issued(ctx)
    performer = ctx.first_ref(res, "performer", ctx.path)
    return [
        (
            "results",
            _result_maker(ctx, fact_id)(
                id=ResultId(fact_id),
                patient=patient,
                code=code,
                issued=issued,
                value=_value(ctx, res, ctx.path),
                interpretation=_interpretation(ctx, res, ctx.path),
                components=_components(ctx) if res.get("component") is not None else (),
                status=ctx.status(res, "status", RESULT_STATUS, ResultStatus.UNKNOWN),
                category=_result_category(ctx),
                effective=effective,
                based_on=_order_ids(ctx),
                members=_member_ids(ctx, "hasMember"),
                performer=performer,
                acknowledgements=(
                    _acknowledgements(ctx) if res.get("extension") is not None else ()
                ),
                sensitivity=ctx.sensitivity(),
                recorded_at=ctx.recorded_at(),
                author=ctx.origin.inferred(performer),
            ),
        )
    ]


def _acknowledgements(ctx: MapContext) -> tuple[Acknowledgement, ...]:
    """The ``acknowledgement`` extensions, in order (one without who or when: dropped)."""
    found: list[Acknowledgement] = []
    for item_path, item in extension_items(ctx.resource, ExtensionUrl.ACKNOWLEDGEMENT, ctx.path):
        parts = Parts(ctx, item, item_path)
        by, at = parts.ref("by"), parts.instant("at")
        if by is None or at is None:
            ctx.issue(
                item_path,
                IssueCode.MISSING_ELEMENT,
                "acknowledgement without who or when; dropped",
                warning=True,
            )
            continue
        found.append(Acknowledgement(by, at))
    return tuple(found)


def map_diagnostic_report(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``DiagnosticReport`` as a :class:`Result` (its value is the first ``conclusionCode``).

    The Observations in ``result`` are its ``members``.
    """
    res, path = ctx.resource, ctx.path
    code = ctx.require_at(
        ctx.code_at(res, "code", ctx.path, prefer=(System.LOINC,)), "code", "code"
    )
    issued, effective = _issued(ctx)
    value: Any = None
    for item_path, concept in ctx.items(res, "conclusionCode", path):
        value = ctx.code(concept, item_path)
        if value is not None:
            break
    performer = ctx.first_ref(res, "performer", path)
    return [
        (
            "results",
            _result_maker(ctx, fact_id)(
                id=ResultId(fact_id),
                patient=patient,
                code=code,
                issued=issued,
                value=value,
                status=ctx.status(res, "status", RESULT_STATUS, ResultStatus.UNKNOWN),
                category=_result_category(ctx),
                effective=effective,
                based_on=_order_ids(ctx),
                members=_member_ids(ctx, "result"),
                performer=performer,
                sensitivity=ctx.sensitivity(),
                recorded_at=ctx.recorded_at(),
                author=ctx.origin.inferred(performer),
            ),
        )
    ]


# --------------------------------------------------------------------------- procedures


def map_procedure(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Procedure`` (medication-reconciliation and TCM codes are kept as they are)."""
    res, path = ctx.resource, ctx.path
    code = ctx.require_at(
        ctx.code_at(res, "code", ctx.path, prefer=(System.SNOMED, System.CPT)),
        "code",
        "code",
    )
    performed = _clinical_choice(ctx, "performed") or _clinical_choice(ctx, "occurrence")
    performed = ctx.require_at(performed, "performed[x]", "performed time")
    performer = None
    for item_path, item in ctx.objs(res, "performer", path):
        performer = ctx.ref(item.get("actor"), f"{item_path}.actor")
        if performer is not None:
            break
    return [
        (
            "procedures",
            Procedure(
                id=FactId(fact_id),
                patient=patient,
                code=code,
                performed=performed,
                status=ctx.text(res, "status", path) or "completed",
                performer=performer,
                encounter=ctx.ref(res.get("encounter"), ctx.at("encounter")),
                sensitivity=ctx.sensitivity(),
                recorded_at=ctx.recorded_at(),
                author=_author(ctx, "recorder", "asserter") or (ctx.origin.inferred(performer)),
            ),
        )
    ]
