"""Mapping encounters (care transitions and visits) and episodes of care (enrolments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    CareSetting,
    CareTransition,
    Code,
    Complexity,
    Diagnosis,
    Encounter,
    EncounterClass,
    EncounterId,
    EncounterStatus,
    Enrollment,
    FactId,
    PatientId,
    Period,
    Ref,
    System,
    TransitionId,
    TransitionKind,
)
from carecoord.fhir._codes import (
    ADMIT_SOURCE,
    CARE_MANAGEMENT_PROGRAMS,
    DISCHARGE_HL7,
    ENCOUNTER_CLASS,
    ENCOUNTER_STATUS,
    PROGRAM_SYSTEM,
    TRANSITION_CLASSES,
    ExtensionUrl,
)
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_carecoord import Parts, enum_value, first_extension, typed_value
from carecoord.fhir._map_state import Facts
from carecoord.fhir._map_types import silent_code
from carecoord.terminology import nubc_setting

__all__ = [
    "classify_encounter",
    "discharge_setting",
    "map_encounter",
    "map_episode_of_care",
]


_NOT_A_STAY = frozenset({"planned", "cancelled", "entered-in-error"})
_CARE_MANAGEMENT_WORDS = ("care management", "case management", "care coordination", "chronic care")


def _class_codes(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        codings = item.get("coding")
        if isinstance(codings, list):
            codes.extend(
                c["code"] for c in codings if isinstance(c, dict) and isinstance(c.get("code"), str)
            )
        elif isinstance(item.get("code"), str):
            codes.append(item["code"])
    return codes


def classify_encounter(resource: dict[str, Any]) -> str:
    """``"CareTransition"`` for an inpatient, observation or emergency stay, else ``"Encounter"``.

    Reads ``class`` (an R4 Coding or an R5 list of CodeableConcepts) without reporting; a
    planned, cancelled or entered-in-error stay stays an ``Encounter``, and so does an
    Encounter with carecoord's ``encounter-class`` extension (a visit, whatever its class).
    """
    extensions = resource.get("extension")
    if type(extensions) is list and any(
        type(e) is dict and e.get("url") == ExtensionUrl.ENCOUNTER_CLASS for e in extensions
    ):
        return "Encounter"
    klass = next(
        (ENCOUNTER_CLASS[c] for c in _class_codes(resource.get("class")) if c in ENCOUNTER_CLASS),
        None,
    )
    status = resource.get("status")
    if klass in TRANSITION_CLASSES and not (isinstance(status, str) and status in _NOT_A_STAY):
        return "CareTransition"
    return "Encounter"


def discharge_setting(
    ctx: MapContext, concept: object, path: str
) -> tuple[CareSetting, Code | None]:
    """The setting a discharge disposition names (NUBC or HL7 codes), and the code itself."""
    code = ctx.code(
        concept, path, prefer=(System.DISCHARGE_DISPOSITION, System.HL7_DISCHARGE_DISPOSITION)
    )
    for system, raw, _display in ctx.codings(concept, path):
        if raw is None:
            continue
        value = raw.strip()
        if system in (System.DISCHARGE_DISPOSITION, None):
            setting = _nubc(value)
            if setting is not None:
                return setting, code
        if system in (System.HL7_DISCHARGE_DISPOSITION, None) and value in DISCHARGE_HL7:
            return DISCHARGE_HL7[value], code
    if code is not None:
        ctx.issue(
            path,
            IssueCode.UNKNOWN_CODE,
            "discharge disposition not recognised; setting unknown",
            warning=True,
        )
    return CareSetting.UNKNOWN, code


def _nubc(value: str) -> CareSetting | None:
    return nubc_setting(value)


def _klass(ctx: MapContext) -> EncounterClass:
    res = ctx.resource
    if res.get("extension") is not None:
        found = first_extension(res, ExtensionUrl.ENCOUNTER_CLASS, ctx.path)
        if found is not None and "valueCode" in found[1]:
            path = f"{found[0]}.valueCode"
            code = typed_value(ctx, found[1]["valueCode"], path, "Code")
            stated = enum_value(ctx, EncounterClass, code, path)
            if stated is not None:
                return stated
    value = res.get("class")
    if value is None:
        ctx.issue(
            ctx.at("class"),
            IssueCode.MISSING_ELEMENT,
            "encounter has no class; read as other",
            warning=True,
        )
        return EncounterClass.OTHER
    concepts = (
        ctx.items(res, "class", ctx.path) if isinstance(value, list) else [(ctx.at("class"), value)]
    )
    for path, concept in concepts:
        for _system, code, _display in ctx.codings(concept, path):
            if code is not None and code.strip() in ENCOUNTER_CLASS:
                return ENCOUNTER_CLASS[code.strip()]
    ctx.issue(
        ctx.at("class"),
        IssueCode.UNKNOWN_CODE,
        "encounter class not recognised; read as other",
        warning=True,
    )
    return EncounterClass.OTHER


def _participants(ctx: MapContext) -> tuple[tuple[Ref, ...], Ref | None]:
    performers: list[Ref] = []
    attending: Ref | None = None
    for item_path, item in ctx.objs(ctx.resource, "participant", ctx.path):
        key = "individual" if item.get("individual") is not None else "actor"
        ref = ctx.ref(item.get(key), f"{item_path}.{key}")
        if ref is None or ref.type == "Patient":
            continue
        if ref not in performers:
            performers.append(ref)
        types = ctx.code_values(ctx.items(item, "type", item_path))
        if attending is None and types & {"ATND", "PPRF", "attender"}:
            attending = ref
    practitioners = [r for r in performers if r.type == "Practitioner"]
    if attending is None and practitioners:
        attending = practitioners[0]
    return tuple(performers), attending


def _diagnoses(ctx: MapContext) -> list[tuple[Code, bool]]:
    found: list[tuple[Code, bool]] = []
    for item_path, item in ctx.objs(ctx.resource, "diagnosis", ctx.path):
        rank = ctx.integer(item, "rank", item_path)
        condition = item.get("condition")
        for target in condition if isinstance(condition, list) else [condition]:
            code = _diagnosis_code(ctx, target, f"{item_path}.condition")
            if code is not None:
                found.append((code, rank == 1))
    return found


def _diagnosis_code(ctx: MapContext, target: object, path: str) -> Code | None:
    """The code of a diagnosis: an R5 concept, else the referenced Condition's code."""
    reference = target
    if isinstance(target, dict) and isinstance(target.get("reference"), dict):
        reference = target["reference"]  # R5 CodeableReference
    elif isinstance(target, dict) and "concept" in target:
        code = ctx.code(target.get("concept"), f"{path}.concept")
        if code is not None:
            return code
        reference = target.get("reference")
    resolved = ctx.resolve(reference)
    if resolved is None:
        if reference is not None:
            ctx.ref(reference, path)
        return None
    return silent_code(resolved.get("code"))


def _stay_settings(
    ctx: MapContext, stay: dict[str, Any] | None, stay_path: str, discharged_at: dt.datetime | None
) -> tuple[CareSetting, CareSetting, Code | None]:
    """Where a stay came from and went to, and its disposition code, read from its codes.

    From ``admitSource`` and ``dischargeDisposition``; no destination while the stay is
    not discharged.
    """
    to_setting, disposition = CareSetting.UNKNOWN, None
    if stay is not None and stay.get("dischargeDisposition") is not None:
        to_setting, disposition = discharge_setting(
            ctx, stay["dischargeDisposition"], f"{stay_path}.dischargeDisposition"
        )
    from_setting = CareSetting.UNKNOWN
    if stay is not None:
        for _system, source_code, _display in ctx.codings(
            stay.get("admitSource"), f"{stay_path}.admitSource"
        ):
            if source_code is not None and source_code in ADMIT_SOURCE:
                from_setting = ADMIT_SOURCE[source_code]
                break
    if discharged_at is None:
        to_setting = CareSetting.UNKNOWN
    return from_setting, to_setting, disposition


def map_encounter(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """An ``Encounter``: a :class:`CareTransition` for stays, else an :class:`Encounter`.

    A stay's kind and settings come from its class, ``admitSource`` and
    ``dischargeDisposition`` (no destination while it is not discharged), unless it
    carries carecoord's ``transition`` extension, which states the kind, both settings,
    the complexity and the model's own disposition code. A visit's class is its
    ``encounter-class`` extension when it has one.
    """
    res, path = ctx.resource, ctx.path
    klass = _klass(ctx)
    period_key = "actualPeriod" if res.get("actualPeriod") is not None else "period"
    period = ctx.period(res, period_key, path) or Period()
    start = ctx.require_at(period.start, f"{period_key}.start", "encounter start")
    status = ctx.status(res, "status", ENCOUNTER_STATUS, EncounterStatus.UNKNOWN)
    performers, attending = _participants(ctx)
    facility = ctx.ref(
        res.get("serviceProvider"), ctx.at("serviceProvider"), expected="Organization"
    )
    recorded_at = ctx.recorded_at()
    diagnoses = _diagnoses(ctx)
    reasons = ctx.reason_codes(res, path)
    sensitivity = ctx.sensitivity()
    if classify_encounter(res) == "CareTransition":
        kind = ctx.require_at(TRANSITION_CLASSES.get(klass), "class", "stay class")
        stay_key = "hospitalization" if res.get("hospitalization") is not None else "admission"
        stay = ctx.obj(res, stay_key, path)
        stay_path = ctx.at(stay_key)
        discharged_at = _discharged_at(ctx, period, status, period_key)
        kind, from_setting, to_setting, complexity, disposition = _stay_state(
            ctx, kind, stay, stay_path, discharged_at
        )
        return [
            (
                "transitions",
                CareTransition(
                    id=TransitionId(fact_id),
                    patient=patient,
                    kind=kind,
                    admitted_at=start,
                    discharged_at=discharged_at,
                    from_setting=from_setting,
                    to_setting=to_setting,
                    facility=facility,
                    discharge_disposition=disposition,
                    diagnoses=_transition_diagnoses(diagnoses, reasons),
                    complexity=complexity,
                    attending=attending,
                    encounter=Ref("Encounter", fact_id),
                    sensitivity=sensitivity,
                    recorded_at=recorded_at,
                ),
            )
        ]
    return [
        (
            "encounters",
            Encounter(
                id=EncounterId(fact_id),
                patient=patient,
                klass=klass,
                period=period,
                status=status,
                types=_types(ctx),
                performers=performers,
                organization=facility,
                reasons=reasons,
                diagnoses=tuple(dict.fromkeys(code for code, _principal in diagnoses)),
                based_on=ctx.refs(res, "basedOn", path),
                sensitivity=sensitivity,
                recorded_at=recorded_at,
            ),
        )
    ]


def _discharged_at(
    ctx: MapContext, period: Period, status: EncounterStatus, period_key: str
) -> dt.datetime | None:
    """When a stay ended: none while in progress; a finished stay without an end is a warning."""
    discharged_at = period.end
    if status is EncounterStatus.IN_PROGRESS:
        discharged_at = None
    elif discharged_at is None and status is EncounterStatus.FINISHED:
        ctx.issue(
            ctx.at(period_key),
            IssueCode.MISSING_ELEMENT,
            "finished stay without an end; read as ongoing",
            warning=True,
        )
    return discharged_at


def _stay_state(
    ctx: MapContext,
    kind: TransitionKind,
    stay: dict[str, Any] | None,
    stay_path: str,
    discharged_at: dt.datetime | None,
) -> tuple[TransitionKind, CareSetting, CareSetting, Complexity | None, Code | None]:
    """A stay's kind, settings, complexity and disposition.

    From carecoord's ``transition`` extension when there is one (nothing is then read
    from the codes), else from the codes.
    """
    res, path = ctx.resource, ctx.path
    state = (
        first_extension(res, ExtensionUrl.TRANSITION, path)
        if res.get("extension") is not None
        else None
    )
    if state is None:
        from_setting, to_setting, disposition = _stay_settings(ctx, stay, stay_path, discharged_at)
        return kind, from_setting, to_setting, None, disposition
    parts = Parts(ctx, state[1], state[0])
    return (
        parts.enum("kind", TransitionKind) or kind,
        parts.enum("fromSetting", CareSetting) or CareSetting.UNKNOWN,
        parts.enum("toSetting", CareSetting) or CareSetting.UNKNOWN,
        parts.enum("complexity", Complexity),
        parts.coded("disposition"),
    )


def _transition_diagnoses(
    diagnoses: list[tuple[Code, bool]], reasons: tuple[Code, ...]
) -> tuple[Diagnosis, ...]:
    """A stay's diagnoses (else its reasons), once per code, with one principal at most."""
    found: list[Diagnosis] = []
    seen: set[Code] = set()
    principal_taken = False
    for diagnosis, principal in diagnoses or [(reason, False) for reason in reasons]:
        if diagnosis in seen:
            continue
        seen.add(diagnosis)
        flag = principal and not principal_taken
        principal_taken = principal_taken or flag
        found.append(Diagnosis(diagnosis, flag))
    return tuple(found)


def _types(ctx: MapContext) -> tuple[Code, ...]:
    """The codes of a visit's ``type`` concepts."""
    types: list[Code] = []
    for item_path, concept in ctx.items(ctx.resource, "type", ctx.path):
        type_code = ctx.code(concept, item_path)
        if type_code is not None:
            types.append(type_code)
    return tuple(types)


def _carecoord_program(types: object) -> str | None:
    """The code of the first ``PROGRAM_SYSTEM`` coding of the types, read quietly."""
    for concept in types if isinstance(types, list) else [types]:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, dict) or coding.get("system") != PROGRAM_SYSTEM:
                continue
            code = coding.get("code")
            if isinstance(code, str) and code.strip():
                return code.strip()
    return None


def map_episode_of_care(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """An ``EpisodeOfCare`` whose type is a care-management programme, as an :class:`Enrollment`.

    A type coding from carecoord's ``program`` system (``PROGRAM_SYSTEM``) names the
    programme exactly and wins; otherwise the first type that is a known programme code
    or worded as one. Other episodes are skipped (``not-mapped`` warning, counted).
    """
    res, path = ctx.resource, ctx.path
    program = _carecoord_program(res.get("type"))
    concepts = ctx.items(res, "type", path) if program is None else []
    for item_path, concept in concepts:
        for _system, code, _display in ctx.codings(concept, item_path):
            if code is not None and code.lower() in CARE_MANAGEMENT_PROGRAMS:
                program = CARE_MANAGEMENT_PROGRAMS[code.lower()]
                break
        words = ctx.concept_words(concept, item_path)
        if program is None and any(w in words for w in _CARE_MANAGEMENT_WORDS):
            program = "care-management"
        if program is not None:
            break
    if program is None:
        ctx.skip(
            ctx.at("type"),
            IssueCode.NOT_MAPPED,
            "episode of care is not a care-management programme",
            warning=True,
        )
    managing = ctx.ref(res.get("careManager"), ctx.at("careManager")) or ctx.ref(
        res.get("managingOrganization"), ctx.at("managingOrganization"), expected="Organization"
    )
    return [
        (
            "enrollments",
            Enrollment(
                id=FactId(fact_id),
                patient=patient,
                program=program,
                period=ctx.period(res, "period", path) or Period(),
                managing=managing,
                recorded_at=ctx.recorded_at(),
            ),
        )
    ]
