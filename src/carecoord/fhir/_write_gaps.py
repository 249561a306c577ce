"""Writing gaps in care as Da Vinci DEQM ``DetectedIssue`` resources.

The DEQM gaps-in-care ``DetectedIssue`` (HL7 ``uv/deqm``, as in the IG's own examples) has
code ``CAREGAP`` (v3 ActCode) and the ``deqm-gapStatus`` modifier extension with a code of
``deqm-gaps-status``: ``open-gap``, ``closed-gap``, ``prospective-gap`` or
``not-applicable`` (:attr:`carecoord.rules.Gap.deqm_code`). The status is the measure's:
a gap closed late is an ``open-gap`` (the care came after the window), an excluded
(not-applicable) gap is ``not-applicable``, outside the measure's population.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from carecoord.domain import PatientRecord, Ref, System
from carecoord.errors import Problem, UsageError, ValidationError
from carecoord.fhir._codes import CARECOORD_CODE_SYSTEM_BASE
from carecoord.fhir._usage import checked_one
from carecoord.fhir._write_base import (
    EXTENSION_BASE,
    FHIR_TYPES,
    ORIGIN_TAG,
    Json,
    WriteContext,
    complex_extension,
    instant,
    security,
    text_or_none,
)

if TYPE_CHECKING:
    from carecoord.profile import PatientProfile
    from carecoord.rules import Gap

_PATIENT_REFERENCE = re.compile(
    r"(?:https?://[^\s|]+/)?Patient/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
    r"|urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|urn:oid:[0-2](?:\.(?:0|[1-9][0-9]*))+"
)
"""A FHIR reference to a Patient: ``Patient/<id>`` (a FHIR id), its absolute URL, or a
``urn:uuid`` / ``urn:oid`` (a Bundle entry's ``fullUrl``)."""

__all__ = [
    "DEQM_DETECTED_ISSUE_PROFILE",
    "DEQM_GAP_STATUS_EXTENSION",
    "DEQM_GAP_STATUS_SYSTEM",
    "EVIDENCE_ROLE_SYSTEM",
    "FACT_KEY_SYSTEM",
    "GAP_EXTENSION",
    "GAP_KEY_SYSTEM",
    "GAP_RULE_SYSTEM",
    "detected_issue_id",
    "gap_to_detected_issue",
]

DEQM_GAP_STATUS_EXTENSION = "http://hl7.org/fhir/uv/deqm/StructureDefinition/deqm-gapStatus"
"""The DEQM gap-status modifier extension (``valueCodeableConcept``)."""
DEQM_GAP_STATUS_SYSTEM = "http://hl7.org/fhir/uv/deqm/CodeSystem/deqm-gaps-status"
"""The DEQM gaps-status code system (``open-gap``, ``closed-gap``, ``prospective-gap``,
``not-applicable``)."""
DEQM_DETECTED_ISSUE_PROFILE = (
    "http://hl7.org/fhir/uv/deqm/StructureDefinition/deqm-gapsincaredetectedissue"
)
"""The DEQM gaps-in-care DetectedIssue profile, claimed in ``meta.profile``."""
GAP_RULE_SYSTEM = "urn:carecoord:gap-rule"
"""Code system of the rule id in ``DetectedIssue.code`` (the same as
:data:`carecoord.rules.RULE_CODE_SYSTEM` on suggested tasks)."""
GAP_KEY_SYSTEM = "urn:carecoord:gap-key"
"""Identifier system of the gap key (``rule|patient|focus``), stable across evaluations."""
FACT_KEY_SYSTEM = "urn:carecoord:fact-key"
"""Identifier system of a profile fact key (``source/fact-id``) in a logical reference."""
EVIDENCE_ROLE_SYSTEM = CARECOORD_CODE_SYSTEM_BASE + "evidence-role"
"""Code system of the evidence roles: ``trigger``, ``closing``, ``context``."""
GAP_EXTENSION = EXTENSION_BASE + "care-gap"
"""carecoord's gap details: ``due``, ``opened``, ``closedAt`` (valueDate or
valueDateTime), ``late`` (valueBoolean), ``reason`` (valueString, why not applicable),
``snoozedUntil`` (valueDate)."""

_SEVERITY = {"low": "low", "medium": "moderate", "high": "high", "critical": "high"}


def detected_issue_id(key: str) -> str:
    """The id of the DetectedIssue written for a gap key: ``gap-`` and 24 hex digits.

    The same id as the task suggested for the gap
    (:func:`carecoord.rules.task_id_for`): the two resources are about one gap.
    """
    return "gap-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _when(value: dt.date | dt.datetime) -> tuple[str, str]:
    if isinstance(value, dt.datetime):
        return "DateTime", instant(value)
    return "Date", value.isoformat()


def _part(name: str, value: dt.date | dt.datetime | None) -> tuple[str, str, Any]:
    if value is None:
        return (name, "Date", None)
    kind, text = _when(value)
    return (name, kind, text)


def _reference(
    key: str, fact_type: str, references: Mapping[str, str] | None, display: str | None = None
) -> Json:
    """A reference to a profile fact: resolved through ``references``, else logical."""
    found: Json
    target = references.get(key) if references is not None else None
    if target is not None:
        found = {"reference": target}
    else:
        found = {"identifier": {"system": FACT_KEY_SYSTEM, "value": key}}
        fhir_type = FHIR_TYPES.get(fact_type, fact_type)
        if fhir_type != "Medication":
            found["type"] = fhir_type
    if display is not None:
        found["display"] = display
    return found


def gap_to_detected_issue(
    gap: Gap,
    profile: PatientProfile | PatientRecord | None = None,
    *,
    patient_ref: str | None = None,
    identified: dt.date | dt.datetime | None = None,
    references: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A gap as a DEQM gaps-in-care ``DetectedIssue``.

    The patient is given either as ``profile``, the profile (or record) the gap is about,
    whose Patient is referenced as :func:`write_bundle` writes it (``Patient/<id>`` of the
    record the profile id names, else its first record), or as ``patient_ref``, a FHIR
    reference to the patient: ``Patient/<id>`` with a valid FHIR id, its absolute URL,
    or a ``urn:uuid``/``urn:oid`` (a Bundle ``fullUrl``); anything else is refused (a
    profile id such as ``source/patient`` is not a FHIR reference).
    ``identified`` is when the gap was found (the ``as_of`` of the evaluation); without it
    ``identifiedDateTime`` is when the gap's clock started (``gap.opened``).
    ``references`` maps profile fact keys (``source/fact-id``, as in
    :attr:`carecoord.rules.Evidence.ref`) to FHIR references; evidence it does not
    resolve is written as a logical reference (an identifier of system
    :data:`FACT_KEY_SYSTEM`).

    The gap status is :attr:`Gap.deqm_code <carecoord.rules.Gap.deqm_code>`, as a measure
    counts it: a gap closed late is an ``open-gap``, its closing time still in the
    ``care-gap`` extension (``closedAt``, ``late``) and on the mitigation; a
    not-applicable gap is ``not-applicable``, its reason in ``care-gap``.
    Prospective gaps are ``preliminary`` (not a gap yet), the others ``final``. The rule
    id is a second coding of ``code``; the gap key the identifier; the summary ``detail``;
    the suggested action a ``mitigation`` (dated ``closed_at`` for a closed gap);
    sensitivity labels ``meta.security``. Nothing else in the gap reaches the output,
    whose text comes from the rule (never from patient data).

    Raises:
        UsageError: ``gap`` is not a :class:`~carecoord.rules.Gap`, ``profile`` not a
            profile or record, or neither or both of ``profile`` and ``patient_ref``.
        ValidationError: ``patient_ref`` is not a reference to a Patient, or ``profile``
            is not the patient the gap is about.
    """
    from carecoord.rules import Gap as GapType  # noqa: PLC0415 - the class, at run time

    gap = checked_one(gap, GapType, "gap")
    patient_ref = _patient_reference(gap, profile, patient_ref)
    status_code = gap.deqm_code
    resource: Json = {
        "resourceType": "DetectedIssue",
        "id": detected_issue_id(gap.key),
        "meta": _meta(gap),
        "extension": [_details(gap)],
        "modifierExtension": [
            {
                "url": DEQM_GAP_STATUS_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": DEQM_GAP_STATUS_SYSTEM, "code": status_code}]
                },
            }
        ],
        "identifier": [{"system": GAP_KEY_SYSTEM, "value": gap.key}],
        "status": "preliminary" if status_code == "prospective-gap" else "final",
        "code": {
            "coding": [
                {"system": System.V3_ACT_CODE, "code": "CAREGAP", "display": "Care Gaps"},
                {"system": GAP_RULE_SYSTEM, "code": gap.rule},
            ]
        },
        "severity": _SEVERITY[gap.severity.value],
        "patient": {"reference": patient_ref},
    }
    resource["identifiedDateTime"] = _when(identified if identified is not None else gap.opened)[1]
    _add_evidence(resource, gap, references)
    summary = text_or_none(gap.summary)
    if summary is not None:
        resource["detail"] = summary
    action = text_or_none(gap.action)
    if action is not None:
        mitigation: Json = {"action": {"text": action}}
        if gap.closed_at is not None:
            mitigation["date"] = _when(gap.closed_at)[1]
        resource["mitigation"] = [mitigation]
    return resource


def _patient_reference(gap: Gap, profile: object, patient_ref: object) -> str:
    """The reference to the gap's patient, from ``profile`` or a checked ``patient_ref``."""
    from carecoord.profile import PatientProfile  # noqa: PLC0415 - the class, at run time

    if (profile is None) == (patient_ref is None):
        msg = "gap_to_detected_issue() takes the profile (or record) or patient_ref, not both"
        raise UsageError(msg if profile is not None else msg.replace("not both", "not neither"))
    if patient_ref is not None:
        ref = checked_one(patient_ref, str, "patient_ref")
        if _PATIENT_REFERENCE.fullmatch(ref) is None:
            msg = (
                "expected a FHIR reference to a Patient: Patient/<id> (letters, digits, '-' "
                "and '.', at most 64), its absolute URL, or a urn:uuid; or pass the profile"
            )
            raise ValidationError(Problem("patient_ref", msg))
        return ref
    checked: PatientProfile | PatientRecord = checked_one(
        profile, (PatientProfile, PatientRecord), "profile"
    )
    records = (checked,) if isinstance(checked, PatientRecord) else checked.records
    keys = {f"{r.source.id}/{r.patient.id}": r for r in records}
    names = {*keys, *(r.patient.id for r in records)}
    if isinstance(checked, PatientProfile):
        names.add(checked.id)
    if gap.patient not in names or not records:
        msg = "the gap is about another patient than this profile"
        raise ValidationError(Problem("profile", msg))
    anchor = keys.get(gap.patient, records[0])
    reference = WriteContext(anchor).reference(Ref("Patient", anchor.patient.id))["reference"]
    assert isinstance(reference, str)
    return reference


def _meta(gap: Gap) -> Json:
    """The DetectedIssue's ``meta``: the DEQM profile, security labels, carecoord's tag."""
    meta: Json = {"profile": [DEQM_DETECTED_ISSUE_PROFILE]}
    labels = security(gap.sensitivity)
    if labels:
        meta["security"] = labels
    meta["tag"] = [dict(ORIGIN_TAG)]
    return meta


def _details(gap: Gap) -> Json | None:
    """Carecoord's ``care-gap`` extension: the gap's dates, lateness and reason."""
    return complex_extension(
        GAP_EXTENSION,
        [
            _part("due", gap.due),
            _part("opened", gap.opened),
            _part("closedAt", gap.closed_at),
            ("late", "Boolean", True if gap.late else None),
            ("reason", "String", text_or_none(gap.reason)),
            _part("snoozedUntil", gap.snoozed_until),
        ],
    )


def _add_evidence(resource: Json, gap: Gap, references: Mapping[str, str] | None) -> None:
    """``implicated`` (the gap's focus) and ``evidence`` (one per evidence item)."""
    focus_key = gap.focus.split("#", 1)[0]
    focus_type = next((e.ref.type for e in gap.evidence if e.ref.id == focus_key), None)
    if references is not None and focus_key in references:
        resource["implicated"] = [{"reference": references[focus_key]}]
    elif focus_type is not None:
        resource["implicated"] = [_reference(focus_key, focus_type, None)]
    if gap.evidence:
        resource["evidence"] = [
            {
                "code": [{"coding": [{"system": EVIDENCE_ROLE_SYSTEM, "code": item.role.value}]}],
                "detail": [
                    _reference(
                        item.ref.id, item.ref.type, references, text_or_none(item.description)
                    )
                ],
            }
            for item in gap.evidence
        ]
