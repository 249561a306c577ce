"""Mapping requests: ServiceRequest (referral or order), Task, Appointment and Claim.

The referral lifecycle is rebuilt from fulfilment Tasks, Appointments and Communications;
a prior-authorisation ``Claim`` (with its ``ClaimResponse``) becomes the referral's
:class:`~carecoord.domain.PriorAuthorization`. A completed Task coded with a carecoord
activity kind is a :class:`~carecoord.domain.CoordinationActivity`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from typing import Any

import attrs

from carecoord.domain import (
    REFERRAL_TRANSITIONS,
    Acknowledgement,
    ActivityKind,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    AuthorizationOutcome,
    Code,
    CoordinationActivity,
    FactId,
    Note,
    Order,
    OrderId,
    OrderKind,
    OrderStatus,
    PartialDate,
    PatientId,
    PriorAuthorization,
    Priority,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    StatusChange,
    System,
    Task,
    TaskId,
    TaskStatus,
)
from carecoord.fhir._codes import (
    ACTIVITY_KIND_SYSTEM,
    APPOINTMENT_STATUS,
    IMAGING_CATEGORY_CODES,
    LAB_CATEGORY_CODES,
    ORDER_STATUS,
    PRIORITY,
    REFERRAL_CATEGORY_CODES,
    TASK_STATUS,
    ExtensionUrl,
)
from carecoord.fhir._datatypes import parse_datetime
from carecoord.fhir._issues import IssueCode, IssueLog
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_carecoord import (
    Parts,
    enum_value,
    first_extension,
    status_history,
    typed_value,
)
from carecoord.fhir._map_state import Facts, Key, ReadState
from carecoord.fhir._origin import Origin
from carecoord.fhir._refs import ReferenceIndex
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSetName

__all__ = [
    "CLAIM_RESPONSE_OUTCOME",
    "EXPEDITED_LEVELS_OF_SERVICE",
    "EXPEDITED_PRIORITIES",
    "FULFIL_TASK_CODE",
    "ORDER_KIND_CODES",
    "PROCEDURE_CATEGORY",
    "REPORT_TYPES",
    "TASK_TO_REFERRAL",
    "ReferralEvent",
    "build_referral_lifecycle",
    "claim_response_target",
    "classify_service_request",
    "is_consultant_report_task",
    "is_prior_authorization",
    "map_appointment",
    "map_prior_authorization",
    "map_service_request",
    "map_task",
]

FULFIL_TASK_CODE = ("http://hl7.org/fhir/CodeSystem/task-code", "fulfill")
"""``(system, code)`` of the HL7 ``task-code`` that marks a referral's fulfilment Task."""

TASK_TO_REFERRAL: dict[str, ReferralStatus] = {
    "requested": ReferralStatus.SENT,
    "received": ReferralStatus.RECEIVED,
    "accepted": ReferralStatus.ACCEPTED,
    "ready": ReferralStatus.ACCEPTED,
    "in-progress": ReferralStatus.ACCEPTED,
    "rejected": ReferralStatus.DECLINED,
    "completed": ReferralStatus.SEEN,
    "failed": ReferralStatus.CANCELLED,
    "cancelled": ReferralStatus.CANCELLED,
}
"""A fulfilment ``Task.status`` -> the referral status it shows (``draft``, ``on-hold`` and
``entered-in-error`` say nothing about the referral). A completed Task with a report in
``output`` also moves the referral to ``report-received``."""

REPORT_TYPES = frozenset(
    {
        "DiagnosticReport",
        "DocumentReference",
        "Communication",
        "Composition",
        "Observation",
        "QuestionnaireResponse",
        "Binary",
    }
)
"""Resource types that count as the consultant's report in a fulfilment Task's output."""

_ORDER = {status: number for number, status in enumerate(ReferralStatus)}

PROCEDURE_CATEGORY = "71388002"
"""SNOMED CT "procedure": a ServiceRequest category that makes an order of a procedure."""

ORDER_KIND_CODES: dict[str, OrderKind] = {
    "108252007": OrderKind.LAB,
    "363679005": OrderKind.IMAGING,
    "103693007": OrderKind.OTHER_DIAGNOSTIC,
    PROCEDURE_CATEGORY: OrderKind.PROCEDURE,
}
"""SNOMED CT ``ServiceRequest.category`` codes (US Core) -> the kind of order they state."""


@attrs.frozen
class ReferralEvent:
    """Something another resource says happened to a referral."""

    at: dt.datetime
    status: ReferralStatus
    by: Ref | None = None
    reason: str | None = None
    report: Ref | None = None
    appointment: AppointmentId | None = None
    owner: Ref | None = None


def _silent_codes(value: object) -> list[tuple[str | None, str, str]]:
    """``(system, code, words)`` of a CodeableConcept or a list of them, reporting nothing.

    An R5 CodeableReference counts as its ``concept``.
    """
    concepts = value if isinstance(value, list) else [value]
    found: list[tuple[str | None, str, str]] = []
    for item in concepts:
        concept = item
        if isinstance(item, dict) and "concept" in item and "coding" not in item:
            concept = item["concept"]  # an R5 CodeableReference
        if not isinstance(concept, dict):
            continue
        text = concept.get("text") if isinstance(concept.get("text"), str) else ""
        codings = concept.get("coding")
        if not isinstance(codings, list) or not codings:
            found.append((None, "", str(text).lower()))
            continue
        for coding in codings:
            if not isinstance(coding, dict):
                continue
            system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
            found.append(
                (
                    system if isinstance(system, str) else None,
                    code if isinstance(code, str) else "",
                    f"{display if isinstance(display, str) else ''} {text}".lower(),
                )
            )
    return found


def _org_of(
    value: object, resource: dict[str, Any], index: ReferenceIndex, state: ReadState
) -> Key | None:
    refs = value if isinstance(value, list) else [value]
    for ref in refs:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            continue
        key = index.key_of(ref["reference"], context=resource)
        if key is None:
            continue
        if key[0] == "Organization":
            return key
        if key in state.org_of_party:
            return state.org_of_party[key]
    return None


def classify_service_request(
    resource: dict[str, Any], index: ReferenceIndex, state: ReadState
) -> tuple[str, OrderKind]:
    """``("Referral", ...)`` or ``("Order", kind)`` for a ServiceRequest, reading silently.

    A carecoord-written request with an order-kind category (:data:`ORDER_KIND_CODES`) is
    an order of that kind. Otherwise a referral: a category or code among
    :data:`REFERRAL_CATEGORY_CODES` or worded as a referral ("referral to ..."). Then an
    order for a lab or imaging category, SNOMED 103693007 (diagnostic procedure: other
    diagnostic) or 71388002 (procedure); then a referral when the performer works outside
    the requester's organisation (both organisations known); otherwise an order: lab for
    a LOINC code, else procedure.
    """
    categories = _silent_codes(resource.get("category"))
    if Origin.of(resource).literal:
        kind = _stated_order_kind(categories)
        if kind is not None:
            return "Order", kind
    codes = _silent_codes(resource.get("code"))
    values = {code for _s, code, _w in categories + codes}
    words = " ".join(w for _s, _c, w in categories + codes)
    if values & REFERRAL_CATEGORY_CODES or "referral" in words or " refer to" in f" {words}":
        return "Referral", OrderKind.PROCEDURE
    category_values = {code for _s, code, _w in categories}
    if category_values & LAB_CATEGORY_CODES:
        return "Order", OrderKind.LAB
    if category_values & IMAGING_CATEGORY_CODES:
        return "Order", OrderKind.IMAGING
    if "103693007" in category_values:
        return "Order", OrderKind.OTHER_DIAGNOSTIC
    if PROCEDURE_CATEGORY in category_values:
        return "Order", OrderKind.PROCEDURE
    requester = _org_of(resource.get("requester"), resource, index, state)
    performer = _org_of(resource.get("performer"), resource, index, state)
    if requester is not None and performer is not None and requester != performer:
        return "Referral", OrderKind.PROCEDURE
    if any(system == System.LOINC for system, _c, _w in codes):
        return "Order", OrderKind.LAB
    return "Order", OrderKind.PROCEDURE


def _stated_order_kind(categories: list[tuple[str | None, str, str]]) -> OrderKind | None:
    """The order kind a carecoord-written request states in its SNOMED CT category."""
    for system, code, _words in categories:
        if system == System.SNOMED and code in ORDER_KIND_CODES:
            return ORDER_KIND_CODES[code]
    return None


def _authored(ctx: MapContext) -> dt.datetime:
    res = ctx.resource
    authored = ctx.instant_at(res, "authoredOn", ctx.path)
    if authored is None and res.get("occurrenceDateTime") is not None:
        authored = ctx.instant_at(res, "occurrenceDateTime", ctx.path)
    if authored is None:
        authored = ctx.recorded_at()
    found: dt.datetime = ctx.require_at(
        authored, "authoredOn", "authoredOn (or occurrence or meta.lastUpdated)"
    )
    return found


def map_service_request(
    ctx: MapContext,
    patient: PatientId,
    fact_id: str,
    key: Key,
    kind: OrderKind,
    *,
    referral: bool | None = None,
) -> Facts:
    """A ``ServiceRequest``: a :class:`Referral` when classified so, else an :class:`Order`.

    ``referral`` and ``kind`` are what :func:`classify_service_request` found for this
    very resource (``referral`` ``None``: as classified for its key).
    """
    res, path = ctx.resource, ctx.path
    priority = ctx.status(res, "priority", PRIORITY, Priority.ROUTINE)
    requester = ctx.ref(res.get("requester"), ctx.at("requester"))
    performer = ctx.first_ref(res, "performer", path)
    authored = _authored(ctx)
    recorded_at = ctx.recorded_at()
    if referral is None:
        referral = ctx.state.domain_types.get(key) == "Referral"
    if not referral:
        order = _order(
            ctx,
            patient,
            fact_id,
            kind=kind,
            authored=authored,
            requester=requester,
            performer=performer,
            priority=priority,
            recorded_at=recorded_at,
        )
        return [("orders", order)]
    requester = ctx.require_at(requester, "requester", "referral requester")
    state = (
        first_extension(res, ExtensionUrl.REFERRAL, path)
        if res.get("extension") is not None
        else None
    )
    if state is not None:
        known = {
            "id": ReferralId(fact_id),
            "patient": patient,
            "authored_on": authored,
            "priority": priority,
            "last_modified": recorded_at,
        }
        return [("referrals", _stated_referral(ctx, key, state, known, requester, performer))]
    status_code = ctx.text(res, "status", path)
    if status_code is not None and status_code not in ORDER_STATUS:
        ctx.issue(
            ctx.at("status"),
            IssueCode.UNKNOWN_CODE,
            "status code not recognised; read as active",
            warning=True,
        )
        status_code = "active"
    ctx.state.referral_status[key] = (status_code, recorded_at)
    common = _referral_common(ctx, requester, performer)
    draft = status_code == "draft"
    history = () if draft else (StatusChange("draft", "sent", authored, requester),)
    return [
        (
            "referrals",
            Referral(
                id=ReferralId(fact_id),
                patient=patient,
                authored_on=authored,
                status=ReferralStatus.DRAFT if draft else ReferralStatus.SENT,
                priority=priority,
                sent_at=None if draft else authored,
                community=any(_is_community(ctx, r) for r in ([performer] if performer else [])),
                history=history,
                last_modified=recorded_at,
                **common,
            ),
        )
    ]


def _order(
    ctx: MapContext,
    patient: PatientId,
    fact_id: str,
    *,
    kind: OrderKind,
    authored: dt.datetime,
    requester: Ref | None,
    performer: Ref | None,
    priority: Priority,
    recorded_at: dt.datetime | None,
) -> Order:
    """A ServiceRequest that is not a referral, as an :class:`Order`."""
    res = ctx.resource
    code = ctx.require_at(ctx.code_at(res, "code", ctx.path), "code", "code")
    literal = ctx.origin.literal
    return Order(
        id=OrderId(fact_id),
        patient=patient,
        code=code,
        authored_on=authored,
        kind=kind,
        status=ctx.status(res, "status", ORDER_STATUS, OrderStatus.UNKNOWN),
        requester=requester,
        performer=performer,
        priority=priority,
        justification=_justification(ctx) if literal else None,
        sensitivity=ctx.sensitivity(),
        recorded_at=recorded_at,
        author=None if literal else requester,
    )


def _justification(ctx: MapContext) -> str | None:
    """A carecoord order's justification: the text of its first text-only ``reasonCode``."""
    for item_path, concept in ctx.objs(ctx.resource, "reasonCode", ctx.path):
        if concept.get("coding") is None:
            text = ctx.text(concept, "text", item_path)
            if text is not None:
                return text
    return None


def _referral_common(ctx: MapContext, requester: Ref, performer: Ref | None) -> dict[str, Any]:
    """What a referral request states whatever its lifecycle: the request itself."""
    res, path = ctx.resource, ctx.path
    specialty = None
    for item_path, concept in ctx.each_concept(res, "performerType", path):
        specialty = ctx.code(concept, item_path)
        if specialty is not None:
            break
    if specialty is None:
        specialty = ctx.code_at(res, "code", ctx.path)
    replaces = ctx.refs(res, "replaces", path, expected="ServiceRequest")
    notes = ctx.annotation_texts(res, "note", path)
    return {
        "requester": requester,
        "recipient": performer,
        "specialty": specialty,
        "reasons": ctx.reason_codes(res, path),
        "replaces": ReferralId(replaces[0].id) if replaces else None,
        "note": notes[0] if notes else None,
        "sensitivity": ctx.sensitivity(),
    }


def _stated_referral(  # noqa: PLR0917  (one call, from map_service_request)
    ctx: MapContext,
    key: Key,
    state: tuple[str, dict[str, Any]],
    known: dict[str, Any],
    requester: Ref,
    performer: Ref | None,
) -> Referral:
    """A referral whose closed-loop state is in carecoord's ``referral`` extension.

    ``known`` holds what :func:`map_service_request` read already (id, patient, authored,
    priority, ``meta.lastUpdated`` as ``last_modified``). Status, the sent, seen and
    report-received times, the report, the appointments and the community flag are the
    extension's; the history is the ``status-history`` extensions. Nothing is rebuilt
    from the Tasks, Appointments and Communications about it.
    """
    parts = Parts(ctx, state[1], state[0])
    ctx.state.literal_referrals.add(key)
    return Referral(
        status=parts.enum("status", ReferralStatus) or ReferralStatus.SENT,
        sent_at=parts.instant("sentAt"),
        appointments=tuple(AppointmentId(r.id) for r in parts.refs("appointment")),
        seen_at=parts.instant("seenAt"),
        report_received_at=parts.instant("reportReceivedAt"),
        report=parts.ref("report"),
        community=parts.flag("community") is True,
        history=status_history(ctx, ctx.resource, ctx.path),
        **known,
        **_referral_common(ctx, requester, performer),
    )


def _is_community(ctx: MapContext, ref: Ref) -> bool:
    key = (ref.type, ref.id)
    org = key if ref.type == "Organization" else ctx.state.org_of_party.get(key)
    return org is not None and org in ctx.state.community_orgs


# --------------------------------------------------------------------------- tasks


def _referral_of(ctx: MapContext) -> tuple[Key, dict[str, Any] | None] | None:
    """The referral a Task's ``focus`` (else ``basedOn``) names, with its resource if read."""
    res = ctx.resource
    candidates: list[object] = [res.get("focus")]
    based_on = res.get("basedOn")
    candidates.extend(based_on if isinstance(based_on, list) else [based_on])
    for candidate in candidates:
        key = ctx.key_of_ref(candidate)
        if key is not None and ctx.state.domain_types.get(key) == "Referral":
            return key, ctx.resolve(candidate)
    return None


def _is_fulfilment(ctx: MapContext, request: dict[str, Any] | None) -> bool:
    """Whether a Task that points at a referral is that referral's fulfilment Task.

    A coded Task is one when a coding is ``task-code#fulfill`` (a coding ``fulfill`` with
    no system counts too). A Task with no coding (absent, or text only) is one when its
    ``intent`` is ``order`` and its owner (else the request's performer) works for
    another organisation than its requester (else the request's requester), both known.
    """
    res = ctx.resource
    coded = [(system, code.strip()) for system, code, _w in _silent_codes(res.get("code")) if code]
    if coded:
        system, value = FULFIL_TASK_CODE
        return any(code == value and found in (None, system) for found, code in coded)
    if res.get("intent") != "order":
        return False
    index, state = ctx.index, ctx.state
    owner = _org_of(res.get("owner"), res, index, state)
    requester = _org_of(res.get("requester"), res, index, state)
    if request is not None:
        owner = owner or _org_of(request.get("performer"), request, index, state)
        requester = requester or _org_of(request.get("requester"), request, index, state)
    return owner is not None and requester is not None and owner != requester


def _task_time(ctx: MapContext, version: dict[str, Any]) -> dt.datetime | None:
    """When a Task version was last changed.

    ``lastModified``, ``meta.lastUpdated``, else ``authoredOn``; read quietly (the current
    version's elements are reported when it is mapped).
    """
    meta = version.get("meta")
    candidates = (
        version.get("lastModified"),
        meta.get("lastUpdated") if isinstance(meta, dict) else None,
        version.get("authoredOn"),
    )
    for value in candidates:
        found = _quiet_instant(ctx, value)
        if found is not None:
            return found
    return None


def _quiet_instant(ctx: MapContext, value: object, *, end: bool = False) -> dt.datetime | None:
    """A ``dateTime`` read quietly; a date alone is its first instant (its last for an ``end``)."""
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value, "", issues=IssueLog(), default_tz=ctx.tz)
    if isinstance(parsed, PartialDate):
        return ctx.end_of(parsed) if end else ctx.start_of(parsed)
    if parsed is None or not 2 <= parsed.year <= 9998:
        return None
    return parsed


def _execution_start(ctx: MapContext, version: dict[str, Any]) -> dt.datetime | None:
    """A Task version's ``executionPeriod.start``, read quietly."""
    period = version.get("executionPeriod")
    return _quiet_instant(ctx, period.get("start")) if isinstance(period, dict) else None


def _fulfilment_events(ctx: MapContext, referral: Key) -> list[ReferralEvent]:
    """The referral events of a fulfilment Task (every version read, oldest first).

    Acceptance is dated by ``executionPeriod.start`` when the Task has one (the recipient
    started on the request), else by the version's time (:func:`_task_time`); a completed
    Task with an ``executionPeriod.start`` also says when the referral was accepted.
    """
    key = ctx.index.key_for(ctx.resource)
    versions = ctx.state.versions.get(key, [ctx.resource]) if key is not None else [ctx.resource]
    events: list[ReferralEvent] = []
    for version in versions:
        status = version.get("status")
        target = TASK_TO_REFERRAL.get(status) if isinstance(status, str) else None
        started = _execution_start(ctx, version)
        at = _task_time(ctx, version)
        if target is ReferralStatus.ACCEPTED and started is not None:
            at = started
        if target is None or at is None:
            continue
        is_current = version is ctx.resource
        owner = ctx.ref(version.get("owner"), ctx.at("owner")) if is_current else None
        reason = None
        status_reason = version.get("statusReason")
        if isinstance(status_reason, dict) and isinstance(status_reason.get("text"), str):
            reason = status_reason["text"]
        if target is ReferralStatus.SEEN and started is not None:
            events.append(ReferralEvent(started, ReferralStatus.ACCEPTED, by=owner, owner=owner))
        events.append(ReferralEvent(at, target, by=owner, reason=reason, owner=owner))
        if target is ReferralStatus.SEEN and is_current:
            report = _task_report(ctx)
            if report is not None:
                events.append(
                    ReferralEvent(at, ReferralStatus.REPORT_RECEIVED, by=owner, report=report)
                )
            elif is_consultant_report_task(ctx.resource):
                reported = _report_time(ctx, at)
                events.append(ReferralEvent(reported, ReferralStatus.REPORT_RECEIVED, by=owner))
    ctx.state.referral_events.setdefault(referral, []).extend(events)
    return events


_CONSULTANT_REPORT = DEFAULT_VALUE_SETS[ValueSetName.CONSULT_NOTE]
"""The document types that are a consultant's report (the shipped ``consult-note`` set)."""


def is_consultant_report_task(resource: dict[str, Any]) -> bool:
    """Whether a Task's ``code`` or reason is a consultant report (CMS50's numerator).

    CMS50 (closing the referral loop) counts a completed Task coded as a "Consultant
    Report" (LOINC 11488-4 and the codes of the shipped ``consult-note`` value set), or a
    fulfilment Task whose ``reasonCode`` (R5 ``reason.concept``) is one. Read quietly.
    """
    concepts: list[object] = [resource.get("code"), resource.get("reasonCode")]
    reasons = resource.get("reason")
    concepts.extend(
        reason.get("concept")
        for reason in (reasons if isinstance(reasons, list) else [reasons])
        if isinstance(reason, dict)
    )
    return any(
        system and system.strip() and code.strip() and Code(system, code) in _CONSULTANT_REPORT
        for concept in concepts
        for system, code, _words in _silent_codes(concept)
    )


def _report_time(ctx: MapContext, fallback: dt.datetime) -> dt.datetime:
    """When a consultant-report Task says the report came: ``executionPeriod.end``, quietly."""
    period = ctx.resource.get("executionPeriod")
    end = _quiet_instant(ctx, period.get("end"), end=True) if isinstance(period, dict) else None
    return end or fallback


def _task_report(ctx: MapContext) -> Ref | None:
    for item_path, item in ctx.objs(ctx.resource, "output", ctx.path):
        value = item.get("valueReference")
        key = ctx.key_of_ref(value)
        if key is not None and key[0] in REPORT_TYPES:
            return ctx.ref(value, f"{item_path}.valueReference")
    return None


def map_task(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Task``: a fulfilment Task moves its referral, an activity Task is an activity.

    A fulfilment Task (see :func:`_is_fulfilment`) gives no fact of its own. A completed
    Task coded from :data:`~carecoord.fhir._codes.ACTIVITY_KIND_SYSTEM` is a
    :class:`CoordinationActivity` (:func:`_map_activity`). Any other Task is a
    :class:`Task`; one whose ``basedOn`` names a referral and that has no ``focus`` is
    focused on that referral. Its history is the ``status-history`` extensions (with
    ``held-from``); without them it is inferred (:func:`_task_history`), except for a
    carecoord-written Task, whose history and ``lastModified`` are taken as they are.
    """
    res, path = ctx.resource, ctx.path
    activity_code = _activity_code(ctx)
    if activity_code is not None and res.get("status") == "completed":
        return _map_activity(ctx, patient, fact_id, activity_code)
    found = _referral_of(ctx)
    if found is not None and _is_fulfilment(ctx, found[1]):
        referral = found[0]
        key = ctx.index.key_for(res)
        if key is not None:
            ctx.state.fulfilment_tasks[key] = referral
        _fulfilment_events(ctx, referral)
        return []
    status_code = ctx.require_at(ctx.text(res, "status", path), "status", "status")
    status = TASK_STATUS.get(status_code)
    if status is None:
        ctx.skip(ctx.at("status"), IssueCode.UNKNOWN_CODE, "task status not recognised")
    authored = ctx.instant_at(res, "authoredOn", ctx.path)
    last_modified = ctx.instant_at(res, "lastModified", ctx.path)
    authored = authored or last_modified or ctx.recorded_at()
    authored = ctx.require_at(authored, "authoredOn", "authoredOn (or lastModified)")
    restriction = ctx.obj(res, "restriction", path)
    window = ctx.period(restriction, "period", ctx.at("restriction")) if restriction else None
    not_before = window.start if window is not None else None
    due = window.end if window is not None else None
    business = _concept_text(ctx, res.get("businessStatus"), "businessStatus")
    concept = res.get("statusReason")
    if isinstance(concept, dict) and isinstance(concept.get("concept"), dict):
        concept = concept["concept"]  # R5 CodeableReference
    reason = _concept_text(ctx, concept, "statusReason")
    notes = _notes(ctx)
    history, held_from, last_modified = _history(ctx, status, authored, last_modified)
    part_of = tuple(TaskId(r.id) for r in ctx.refs(res, "partOf", path, expected="Task"))
    focus = ctx.ref(res.get("focus"), ctx.at("focus"))
    if focus is None and found is not None:
        focus = ctx.ref_for_key(found[0])
    code_value = ctx.code_at(res, "code", ctx.path)
    if found is not None and status is TaskStatus.COMPLETED and ctx.origin.infers:
        _consultant_report_event(ctx, found[0], TaskId(fact_id), last_modified or authored)
    return [
        (
            "tasks",
            Task(
                id=TaskId(fact_id),
                patient=patient,
                authored_on=authored,
                status=status,
                intent=ctx.text(res, "intent", path) or "order",
                code=code_value,
                description=ctx.text(res, "description", path),
                business_status=business,
                status_reason=reason,
                priority=ctx.status(res, "priority", PRIORITY, Priority.ROUTINE),
                owner=ctx.ref(res.get("owner"), ctx.at("owner")),
                requester=ctx.ref(res.get("requester"), ctx.at("requester")),
                focus=focus,
                part_of=part_of,
                not_before=not_before,
                due=due if due is None or not_before is None or due >= not_before else None,
                notes=notes,
                history=history,
                sensitivity=ctx.sensitivity(),
                last_modified=last_modified,
                held_from=held_from,
            ),
        )
    ]


def _consultant_report_event(
    ctx: MapContext, referral: Key, task: TaskId, fallback: dt.datetime
) -> None:
    """A completed Task coded as a consultant report moves its referral to report-received.

    CMS50's own pattern: the report is received when the Task completes
    (``executionPeriod.end``, else ``lastModified``, else ``authoredOn``); the Task
    itself is the report's reference. The Task stays a Task fact too.
    """
    if not is_consultant_report_task(ctx.resource):
        return
    owner = ctx.ref(ctx.resource.get("owner"), ctx.at("owner"))
    event = ReferralEvent(
        _report_time(ctx, fallback),
        ReferralStatus.REPORT_RECEIVED,
        by=owner,
        report=Ref("Task", task),
    )
    ctx.state.referral_events.setdefault(referral, []).append(event)


def _concept_text(ctx: MapContext, concept: object, key: str) -> str | None:
    """A concept's text, else its first code's display (else the code itself)."""
    if concept is None:
        return None
    text = ctx.text(concept, "text", ctx.at(key)) if isinstance(concept, dict) else None
    if text is None:
        code = ctx.code(concept, ctx.at(key))
        text = (code.display or code.code) if code is not None else None
    return text


def _notes(ctx: MapContext) -> tuple[Note, ...]:
    """A Task's notes that have a text."""
    return tuple(
        Note(
            text,
            at=ctx.instant(note.get("time"), f"{note_path}.time"),
            author=ctx.ref(note.get("authorReference"), f"{note_path}.authorReference"),
        )
        for note_path, note in ctx.objs(ctx.resource, "note", ctx.path)
        if (text := ctx.text(note, "text", note_path)) is not None
    )


def _history(
    ctx: MapContext,
    status: TaskStatus,
    authored: dt.datetime,
    last_modified: dt.datetime | None,
) -> tuple[tuple[StatusChange, ...], TaskStatus | None, dt.datetime | None]:
    """A Task's history, ``held_from`` and ``last_modified``.

    Stated in carecoord's extensions (taken as they are on a carecoord-written Task),
    else inferred by :func:`_task_history`, ``last_modified`` defaulting to the last change.
    """
    held_from: TaskStatus | None = None
    if ctx.origin.literal or ctx.resource.get("extension") is not None:
        history, held_from = _stated_history(ctx)
        if ctx.origin.infers and not history:
            history = _task_history(ctx, status, authored, last_modified)
    else:
        history = _task_history(ctx, status, authored, last_modified)
    if ctx.origin.infers:
        last_modified = last_modified or (history[-1].at if history else None)
    return history, held_from, last_modified


def _stated_history(ctx: MapContext) -> tuple[tuple[StatusChange, ...], TaskStatus | None]:
    """A Task's ``status-history`` extensions and its ``held-from`` status."""
    res, path = ctx.resource, ctx.path
    held = first_extension(res, ExtensionUrl.HELD_FROM, path)
    held_from = None
    if held is not None and "valueCode" in held[1]:
        code = typed_value(ctx, held[1]["valueCode"], f"{held[0]}.valueCode", "Code")
        held_from = enum_value(ctx, TaskStatus, code, f"{held[0]}.valueCode")
    return status_history(ctx, res, path), held_from


def _task_history(
    ctx: MapContext, status: TaskStatus, authored: dt.datetime, last_modified: dt.datetime | None
) -> tuple[StatusChange, ...]:
    """Status changes from the versions read (oldest first).

    With one version, one change at ``lastModified`` (or ``executionPeriod``) when the
    task has moved on from requested or draft.
    """
    key = ctx.index.key_for(ctx.resource)
    versions = ctx.state.versions.get(key, []) if key is not None else []
    changes: list[StatusChange] = []
    previous: str | None = None
    last_at = authored
    for version in versions:
        code = version.get("status")
        at = _task_time(ctx, version)
        if not isinstance(code, str) or code not in TASK_STATUS or at is None or code == previous:
            continue
        at = max(at, last_at)
        if previous is not None or code not in ("draft", "requested"):
            changes.append(StatusChange(previous, code, at))
        previous, last_at = code, at
    if changes or status in (TaskStatus.DRAFT, TaskStatus.REQUESTED):
        return tuple(changes)
    execution = ctx.period(ctx.resource, "executionPeriod", ctx.path)
    at = last_modified
    if status.is_terminal and execution is not None and execution.end is not None:
        at = execution.end
    elif status is TaskStatus.IN_PROGRESS and execution is not None and execution.start is not None:
        at = execution.start
    if at is None or at < authored:
        return ()
    return (StatusChange(None, status.value, at),)


# --------------------------------------------------------------------------- activities

_ACTIVITY_KINDS: dict[str, ActivityKind] = {kind.value: kind for kind in ActivityKind}
_RESULT_TYPES = frozenset({"Observation", "DiagnosticReport"})


def _activity_code(ctx: MapContext) -> str | None:
    """The Task's code from :data:`ACTIVITY_KIND_SYSTEM` (read quietly), else ``None``."""
    for system, code, _words in _silent_codes(ctx.resource.get("code")):
        if system == ACTIVITY_KIND_SYSTEM and code.strip():
            return code.strip()
    return None


def _activity_about(ctx: MapContext) -> tuple[Ref, ...]:
    """``focus``, ``reasonReference`` and each ``input.valueReference`` typed "about"."""
    res, path = ctx.resource, ctx.path
    found = [
        ctx.ref(res.get("focus"), ctx.at("focus")),
        ctx.first_ref(res, "reasonReference", path),
    ]
    for item_path, item in ctx.objs(res, "input", path):
        kind = item.get("type")
        if isinstance(kind, dict) and kind.get("text") == "about":
            found.append(ctx.ref(item.get("valueReference"), f"{item_path}.valueReference"))
    return tuple(dict.fromkeys(ref for ref in found if ref is not None))


def _review(ctx: MapContext, acknowledgement: Acknowledgement) -> None:
    """Note the acknowledgement a result review makes of the result it is focused on.

    Applied by the reader once the results are mapped. A carecoord-written review of a
    carecoord-written result makes none: that result states its acknowledgements itself.
    """
    res = ctx.resource
    target = ctx.key_of_ref(res.get("focus"))
    if target is None or target[0] not in _RESULT_TYPES:
        return
    owner = None
    if ctx.origin.literal:
        reviewed = ctx.resolve(res.get("focus"))
        if reviewed is not None and Origin.of(reviewed).literal:
            return
        owner = ctx.state.resources.source_of(reviewed)
    pending = ctx.state.acknowledgements.setdefault(target, [])
    pending.append((acknowledgement, ctx.path, ctx.source, owner))


def _map_activity(ctx: MapContext, patient: PatientId, fact_id: str, code: str) -> Facts:
    """A completed activity Task as a :class:`CoordinationActivity`.

    ``kind`` is the code (an unknown one reads as ``other``, warning); ``performer`` the
    ``owner`` (required); ``at`` the ``executionPeriod.end``, else ``lastModified``, else
    ``authoredOn`` (one required); ``minutes`` the length of ``executionPeriod`` rounded to
    the nearest minute (0 without both ends); ``about`` :func:`_activity_about`; ``note``
    the first note; ``billable`` the ``billable`` extension (absent: billable). A
    ``result-review`` whose ``focus`` is an Observation or DiagnosticReport also
    acknowledges that result, by the performer at ``at`` (see :func:`_review`).
    """
    res, path = ctx.resource, ctx.path
    kind = _ACTIVITY_KINDS.get(code)
    if kind is None:
        ctx.issue(
            ctx.at("code"),
            IssueCode.UNKNOWN_CODE,
            "activity kind not recognised; read as other",
            warning=True,
        )
        kind = ActivityKind.OTHER
    performer: Ref = ctx.require_at(
        ctx.ref(res.get("owner"), ctx.at("owner")), "owner", "activity performer (owner)"
    )
    execution = ctx.period(res, "executionPeriod", path)
    at = execution.end if execution is not None else None
    if at is None:
        at = ctx.instant_at(res, "lastModified", ctx.path)
    if at is None:
        at = ctx.instant_at(res, "authoredOn", ctx.path)
    done: dt.datetime = ctx.require_at(
        at,
        "executionPeriod",
        "activity time (executionPeriod.end, lastModified or authoredOn)",
    )
    minutes = 0
    if execution is not None and execution.start is not None and execution.end is not None:
        minutes = math.floor((execution.end - execution.start).total_seconds() / 60 + 0.5)
    notes = ctx.annotation_texts(res, "note", path)
    if kind is ActivityKind.RESULT_REVIEW:
        _review(ctx, Acknowledgement(performer, done))
    billable = True
    if res.get("extension") is not None:
        found = first_extension(res, ExtensionUrl.BILLABLE, path)
        if found is not None and "valueBoolean" in found[1]:
            value = found[1]["valueBoolean"]
            billable = typed_value(ctx, value, f"{found[0]}.valueBoolean", "Boolean") is not False
    return [
        (
            "activities",
            CoordinationActivity(
                id=FactId(fact_id),
                patient=patient,
                kind=kind,
                performer=performer,
                at=done,
                minutes=minutes,
                about=_activity_about(ctx),
                note=notes[0] if notes else None,
                billable=billable,
                recorded_at=ctx.recorded_at(),
            ),
        )
    ]


# --------------------------------------------------------------------------- appointments


def map_appointment(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """An ``Appointment``; one based on a referral also moves that referral.

    Booked is scheduled; fulfilled seen; noshow no-show; cancelled appointment-cancelled.
    ``status_changed_at`` is carecoord's ``status-changed`` extension, else the R5
    ``cancellationDate``.
    """
    res, path = ctx.resource, ctx.path
    start = ctx.require_at(ctx.instant_at(res, "start", ctx.path), "start", "start")
    end = ctx.end_instant_at(res, "end", ctx.path)
    if end is not None and end < start:
        ctx.issue(
            ctx.at("end"), IssueCode.INVALID_VALUE, "appointment ends before it starts; end dropped"
        )
        end = None
    status = ctx.status(res, "status", APPOINTMENT_STATUS, AppointmentStatus.BOOKED)
    participants: list[Ref] = []
    for item_path, item in ctx.objs(res, "participant", path):
        ref = ctx.ref(item.get("actor"), f"{item_path}.actor")
        if ref is not None and ref.type != "Patient" and ref not in participants:
            participants.append(ref)
    service_type: Code | None = None
    for type_path, type_concept in ctx.each_concept(res, "serviceType", path):
        concept, item_path = type_concept, type_path
        if isinstance(type_concept, dict) and "concept" in type_concept:
            concept, item_path = type_concept["concept"], f"{type_path}.concept"
        service_type = ctx.code(concept, item_path)
        if service_type is not None:
            break
    booked = ctx.instant_at(res, "created", ctx.path)
    recorded_at = ctx.recorded_at()
    changed = None
    if res.get("extension") is not None:
        found = first_extension(res, ExtensionUrl.STATUS_CHANGED, path)
        if found is not None and "valueDateTime" in found[1]:
            value = found[1]["valueDateTime"]
            changed = typed_value(ctx, value, f"{found[0]}.valueDateTime", "DateTime")
    changed = changed or ctx.instant_at(res, "cancellationDate", ctx.path)
    based_on = ctx.refs(res, "basedOn", path)
    appointment = Appointment(
        id=AppointmentId(fact_id),
        patient=patient,
        start=start,
        end=end,
        status=status,
        participants=tuple(participants),
        based_on=based_on,
        service_type=service_type,
        booked_at=booked,
        status_changed_at=changed,
        sensitivity=ctx.sensitivity(),
        recorded_at=recorded_at,
    )
    for _item_path, item in ctx.items(res, "basedOn", path):
        key = ctx.key_of_ref(item)
        if key is None or ctx.state.domain_types.get(key) != "Referral":
            continue
        events = _appointment_events(appointment, recorded_at)
        ctx.state.referral_events.setdefault(key, []).extend(events)
    return [("appointments", appointment)]


def _appointment_events(
    appointment: Appointment, recorded_at: dt.datetime | None
) -> list[ReferralEvent]:
    status = appointment.status
    if status in (AppointmentStatus.PROPOSED, AppointmentStatus.ENTERED_IN_ERROR):
        return []
    booked = appointment.booked_at or min(filter(None, (recorded_at, appointment.start)))
    events = [ReferralEvent(booked, ReferralStatus.SCHEDULED, appointment=appointment.id)]
    if status is AppointmentStatus.FULFILLED:
        events.append(ReferralEvent(appointment.end or appointment.start, ReferralStatus.SEEN))
    elif status is AppointmentStatus.NO_SHOW:
        events.append(ReferralEvent(appointment.start, ReferralStatus.NO_SHOW))
    elif status is AppointmentStatus.CANCELLED:
        at = appointment.status_changed_at or recorded_at or appointment.start
        events.append(ReferralEvent(at, ReferralStatus.APPOINTMENT_CANCELLED))
    return events


# --------------------------------------------------------------------------- lifecycle


def _path(start: ReferralStatus, goal: ReferralStatus) -> list[ReferralStatus] | None:
    """The shortest legal status path from ``start`` to ``goal`` (excluding ``start``)."""
    if start is goal:
        return []
    queue: deque[ReferralStatus] = deque([start])
    came: dict[ReferralStatus, ReferralStatus] = {}
    while queue:
        here = queue.popleft()
        for step in sorted(REFERRAL_TRANSITIONS[here], key=_ORDER.__getitem__):
            if step in came or step is start:
                continue
            came[step] = here
            if step is goal:
                path = [step]
                while came[path[-1]] is not start:
                    path.append(came[path[-1]])
                return path[::-1]
            queue.append(step)
    return None


def build_referral_lifecycle(referral: Referral, key: Key, state: ReadState) -> Referral:
    """The referral with its status and history rebuilt from every event found for it.

    Events are applied in time order from ``sent`` (at ``authoredOn``): each moves the
    referral along the shortest legal path (the steps in between are inferred, at the
    same time); an event the lifecycle cannot reach from where it is (an older state) is
    ignored. The ServiceRequest's own ``revoked``, ``entered-in-error`` and
    ``completed`` (read as closed) are applied last.
    """
    events = sorted(state.referral_events.get(key, []), key=lambda e: e.at)
    status_code, updated = state.referral_status.get(key, (None, None))
    if referral.status is ReferralStatus.DRAFT and not events:
        return referral
    current = ReferralStatus.SENT
    history = list(referral.history)
    last_at = referral.authored_on
    fields: dict[str, Any] = {}
    appointments = list(referral.appointments)

    def move(target: ReferralStatus, at: dt.datetime, by: Ref | None, reason: str | None) -> bool:
        nonlocal current, last_at
        steps = _path(current, target)
        if steps is None or not steps:
            return False
        at = max(at, last_at)
        for step in steps:
            final = step is target
            history.append(
                StatusChange(
                    current.value, step.value, at, by if final else None, reason if final else None
                )
            )
            current = step
            if step is ReferralStatus.SEEN:
                fields.setdefault("seen_at", at)
            if step is ReferralStatus.REPORT_RECEIVED:
                fields.setdefault("report_received_at", at)
        last_at = at
        return True

    for event in events:
        if event.appointment is not None and event.appointment not in appointments:
            appointments.append(event.appointment)
        if event.owner is not None and referral.recipient is None:
            fields.setdefault("recipient", event.owner)
        if move(event.status, event.at, event.by, event.reason) and event.report is not None:
            fields["report"] = event.report
    final_at = max(filter(None, (updated, last_at)))
    terminal = {
        "revoked": ReferralStatus.CANCELLED,
        "entered-in-error": ReferralStatus.ENTERED_IN_ERROR,
        "completed": ReferralStatus.CLOSED,
    }.get(status_code or "")
    if terminal is not None:
        move(terminal, final_at, None, None)
    return attrs.evolve(
        referral,
        status=current,
        history=tuple(history),
        appointments=tuple(appointments),
        last_modified=max(filter(None, (referral.last_modified, last_at))),
        **fields,
    )


# --------------------------------------------------------------------------- prior authorisation

EXPEDITED_PRIORITIES = frozenset({"stat", "urgent", "asap"})
"""``Claim.priority`` codes (``processpriority`` ``stat``; the ``request-priority`` spellings
too) that make a prior authorisation expedited; ``normal`` and ``deferred`` are standard."""

EXPEDITED_LEVELS_OF_SERVICE = frozenset({"U", "03"})
"""X12 1338 level-of-service codes (Da Vinci PAS ``extension-levelOfServiceCode``, on the
Claim or an item) that flag an expedited request: ``U`` urgent, ``03`` emergency."""

_LEVEL_OF_SERVICE_URL = "/extension-levelOfServiceCode"

_A = AuthorizationOutcome
CLAIM_RESPONSE_OUTCOME: dict[str, AuthorizationOutcome | None] = {
    "complete": _A.APPROVED,
    "approved": _A.APPROVED,
    "error": _A.DENIED,
    "denied": _A.DENIED,
    "partial": _A.PARTIAL,
    "queued": None,
    "pending": None,
}
"""``ClaimResponse.outcome`` (R4) and ``decision`` (R5 ``claim-decision``) -> the payer's
decision; ``queued`` and ``pending`` are no decision yet. A ``decision`` wins over the
``outcome``; a ``complete`` outcome whose ``disposition`` says denied (or not approved,
not certified) is a denial."""

_DENIAL_WORDS = ("denied", "not approved", "not certified", "rejected")


def is_prior_authorization(resource: dict[str, Any]) -> bool:
    """Whether a Claim is a prior-authorisation request (``use`` ``preauthorization``)."""
    return resource.get("use") == "preauthorization"


def claim_response_target(ctx: MapContext) -> Key | None:
    """The key of the Claim a ClaimResponse answers (its ``request``), read silently."""
    return ctx.key_of_ref(ctx.resource.get("request"))


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _claim_referral(ctx: MapContext) -> Key | None:
    """The referral a Claim supports, read silently.

    The first referral among ``referral``, an item's ``request`` (R5), a
    ``supportingInfo.valueReference`` and a ``basedOn``.
    """
    res = ctx.resource
    candidates: list[object] = [res.get("referral")]
    for item in _listed(res.get("item")):
        if isinstance(item, dict):
            candidates.extend(_listed(item.get("request")))
    candidates.extend(
        info.get("valueReference")
        for info in _listed(res.get("supportingInfo"))
        if isinstance(info, dict)
    )
    candidates.extend(_listed(res.get("basedOn")))
    for candidate in candidates:
        key = ctx.key_of_ref(candidate)
        if key is not None and ctx.state.domain_types.get(key) == "Referral":
            return key
    return None


def _expedited(ctx: MapContext) -> bool:
    res, path = ctx.resource, ctx.path
    for _system, code, _display in ctx.codings(res.get("priority"), ctx.at("priority")):
        if code is not None and code.strip().lower() in EXPEDITED_PRIORITIES:
            return True
    holders = [(path, res), *ctx.objs(res, "item", path)]
    for holder_path, holder in holders:
        for item_path, item in ctx.objs(holder, "extension", holder_path):
            url = item.get("url")
            if not isinstance(url, str) or not url.endswith(_LEVEL_OF_SERVICE_URL):
                continue
            value = item.get("valueCodeableConcept")
            for _system, code, _display in ctx.codings(value, f"{item_path}.valueCodeableConcept"):
                if code is not None and code.strip().upper() in EXPEDITED_LEVELS_OF_SERVICE:
                    return True
    return False


def _decision(ctx: MapContext) -> tuple[dt.datetime, AuthorizationOutcome] | None:
    """The payer's decision in a ClaimResponse, or ``None`` when it holds none yet.

    Dated by ``created`` (else ``meta.lastUpdated``).
    """
    res, path = ctx.resource, ctx.path
    decision = next(
        (
            code
            for _system, code, _display in ctx.codings(res.get("decision"), ctx.at("decision"))
            if code is not None and code in CLAIM_RESPONSE_OUTCOME
        ),
        None,
    )
    outcome_code = ctx.text(res, "outcome", path)
    key = decision or outcome_code
    if key is None or key not in CLAIM_RESPONSE_OUTCOME:
        if key is not None:
            ctx.issue(
                ctx.at("outcome"),
                IssueCode.UNKNOWN_CODE,
                "claim response outcome not recognised; no decision read",
                warning=True,
            )
        if ctx.text(res, "preAuthRef", path) is None:
            return None
        key = "approved"  # an authorisation number was issued
    outcome = CLAIM_RESPONSE_OUTCOME[key]
    if outcome is None:
        return None
    disposition = (ctx.text(res, "disposition", path) or "").lower()
    if (
        decision is None
        and outcome is AuthorizationOutcome.APPROVED
        and any(word in disposition for word in _DENIAL_WORDS)
    ):
        outcome = AuthorizationOutcome.DENIED
    at = ctx.instant_at(res, "created", ctx.path) or ctx.recorded_at()
    if at is None:
        ctx.issue(
            ctx.at("created"),
            IssueCode.MISSING_ELEMENT,
            "claim response without a created time; its decision is ignored",
            warning=True,
        )
        return None
    return at, outcome


def map_prior_authorization(
    ctx: MapContext, responses: list[MapContext]
) -> tuple[Key, PriorAuthorization]:
    """A prior-authorisation ``Claim`` and the ``ClaimResponse`` contexts answering it.

    Returns the referral it supports (:func:`_claim_referral`; without one the Claim is
    skipped, ``not-mapped``) and its :class:`PriorAuthorization`: required; expedited for a
    ``stat`` (or urgent) priority or an urgent PAS level of service; submitted at
    ``created`` (else ``meta.lastUpdated``; a ``draft`` Claim is not submitted yet);
    decided by the latest response with a decision (:data:`CLAIM_RESPONSE_OUTCOME`),
    at its ``created``. A ``cancelled`` or ``entered-in-error`` Claim is skipped.
    """
    res = ctx.resource
    referral = _claim_referral(ctx)
    if referral is None:
        ctx.skip(
            ctx.at("referral"),
            IssueCode.NOT_MAPPED,
            "prior authorisation names no referral that was read",
            warning=True,
        )
    status = ctx.text(res, "status", ctx.path)
    if status in ("cancelled", "entered-in-error"):
        ctx.skip(
            ctx.at("status"),
            IssueCode.NOT_MAPPED,
            "prior authorisation cancelled or entered in error",
            warning=True,
        )
    expedited = _expedited(ctx)
    if status == "draft":
        return referral, PriorAuthorization(required=True, expedited=expedited)
    submitted = ctx.instant_at(res, "created", ctx.path) or ctx.recorded_at()
    submitted = ctx.require_at(submitted, "created", "created (or meta.lastUpdated)")
    decided_at: dt.datetime | None = None
    outcome: AuthorizationOutcome | None = None
    for response in responses:
        found = _decision(response)
        if found is None:
            continue
        at, result = found
        if at < submitted:
            response.issue(
                response.at("created"),
                IssueCode.INVALID_VALUE,
                "decided before the request was submitted; decision dropped",
                warning=True,
            )
            continue
        if decided_at is None or at > decided_at:
            decided_at, outcome = at, result
    return referral, PriorAuthorization(
        required=True,
        expedited=expedited,
        submitted_at=submitted,
        decided_at=decided_at,
        outcome=outcome,
    )
