"""Writing requests: referrals (ServiceRequest + fulfilment Task), orders, tasks, appointments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    Appointment,
    AuthorizationOutcome,
    Note,
    Order,
    OrderKind,
    Period,
    Ref,
    Referral,
    ReferralStatus,
    System,
    Task,
)
from carecoord.fhir._codes import REFERRAL_STATUS_SYSTEM
from carecoord.fhir._write_base import (
    ExtensionUrl,
    Json,
    WriteContext,
    complex_extension,
    concept,
    extension,
    generated_id,
    instant,
    is_fhir_id,
    period,
    status_history,
    text_or_none,
)

__all__ = [
    "ORDER_KIND_CATEGORY",
    "REFERRAL_CATEGORY",
    "REFERRAL_TO_REQUEST_STATUS",
    "REFERRAL_TO_TASK_STATUS",
    "TASK_CODE_SYSTEM",
    "annotation",
    "fulfilment_task_id",
    "prior_authorization_ids",
    "write_appointment",
    "write_order",
    "write_referral",
    "write_task",
]

TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
"""HL7 ``task-code``: the fulfilment Task of a referral has code ``fulfill``."""

REFERRAL_CATEGORY: Json = {
    "coding": [{"system": System.SNOMED, "code": "3457005", "display": "Patient referral"}]
}
"""``ServiceRequest.category`` of every referral (SNOMED CT 3457005, patient referral)."""

ORDER_KIND_CATEGORY: dict[OrderKind, tuple[str, str]] = {
    OrderKind.LAB: ("108252007", "Laboratory procedure"),
    OrderKind.IMAGING: ("363679005", "Imaging"),
    OrderKind.OTHER_DIAGNOSTIC: ("103693007", "Diagnostic procedure"),
    OrderKind.PROCEDURE: ("71388002", "Procedure"),
}
""":class:`OrderKind` -> SNOMED CT ``ServiceRequest.category`` (US Core category codes)."""

_S = ReferralStatus
REFERRAL_TO_REQUEST_STATUS: dict[ReferralStatus, str] = {
    _S.DRAFT: "draft",
    _S.SENT: "active",
    _S.RECEIVED: "active",
    _S.ACCEPTED: "active",
    _S.SCHEDULED: "active",
    _S.NO_SHOW: "active",
    _S.APPOINTMENT_CANCELLED: "active",
    _S.SEEN: "active",
    _S.REPORT_RECEIVED: "active",
    _S.CLOSED: "completed",
    _S.DECLINED: "revoked",
    _S.CANCELLED: "revoked",
    _S.ENTERED_IN_ERROR: "entered-in-error",
}
""":class:`ReferralStatus` -> ``ServiceRequest.status`` (the loop is active until closed)."""

REFERRAL_TO_TASK_STATUS: dict[ReferralStatus, str] = {
    _S.SENT: "requested",
    _S.RECEIVED: "received",
    _S.ACCEPTED: "accepted",
    _S.SCHEDULED: "in-progress",
    _S.NO_SHOW: "in-progress",
    _S.APPOINTMENT_CANCELLED: "in-progress",
    _S.SEEN: "completed",
    _S.REPORT_RECEIVED: "completed",
    _S.CLOSED: "completed",
    _S.DECLINED: "rejected",
    _S.CANCELLED: "cancelled",
    _S.ENTERED_IN_ERROR: "entered-in-error",
}
""":class:`ReferralStatus` -> the fulfilment ``Task.status`` (BSeR style)."""

_SENT_OR_LATER = frozenset(REFERRAL_TO_TASK_STATUS) - {_S.CANCELLED, _S.ENTERED_IN_ERROR}


def annotation(ctx: WriteContext, note: Note) -> Json | None:
    """A note as an ``Annotation`` (``None`` when its text is blank)."""
    text = text_or_none(note.text)
    if text is None:
        return None
    found: Json = {"text": text}
    if note.author is not None:
        found["authorReference"] = ctx.reference(note.author)
    if note.at is not None:
        found["time"] = instant(note.at)
    return found


def _time(value: dt.datetime | None) -> str | None:
    return instant(value) if value is not None else None


def _reference(ctx: WriteContext, ref: Ref | None) -> Json | None:
    return ctx.reference(ref) if ref is not None else None


# --------------------------------------------------------------------------- referrals


def fulfilment_task_id(referral: Referral) -> str:
    """The id of the fulfilment Task written for ``referral``."""
    readable = f"{referral.id}-fulfilment"
    return readable if is_fhir_id(readable) else generated_id("fulfilment", referral.id)


def _was_sent(referral: Referral) -> bool:
    return (
        referral.status in _SENT_OR_LATER
        or referral.sent_at is not None
        or any(c.to_status == _S.SENT.value for c in referral.history)
    )


def write_referral(ctx: WriteContext, referral: Referral) -> list[Json]:
    """A referral: its ``ServiceRequest`` and, once sent, the fulfilment ``Task``.

    The request carries what was asked (requester, recipient, specialty, reasons,
    priority, note); the Task how the loop went (status as the recipient sees it, owner,
    report and appointments as outputs). The exact closed-loop state and its history
    travel in carecoord extensions on the request. A prior authorisation is a
    ``Claim`` (and, once decided, a ``ClaimResponse``): see :func:`_prior_authorization`.
    """
    ref = Ref("Referral", referral.id)
    state: list[tuple[str, str, Any]] = [
        ("status", "Code", referral.status.value),
        ("sentAt", "DateTime", _time(referral.sent_at)),
        ("seenAt", "DateTime", _time(referral.seen_at)),
        ("reportReceivedAt", "DateTime", _time(referral.report_received_at)),
        ("report", "Reference", _reference(ctx, referral.report)),
        *(
            ("appointment", "Reference", ctx.reference(Ref("Appointment", a)))
            for a in referral.appointments
        ),
        ("community", "Boolean", referral.community),
    ]
    extensions = [complex_extension(ExtensionUrl.REFERRAL, state)]
    extensions.extend(status_history(ctx, referral.history))
    request: Json = {
        "resourceType": "ServiceRequest",
        "id": referral.id,
        "meta": ctx.meta(referral.last_modified, referral.sensitivity),
        "extension": [e for e in extensions if e is not None],
    }
    if referral.replaces is not None:
        request["replaces"] = [ctx.reference(Ref("Referral", referral.replaces))]
    request.update(
        {
            "status": REFERRAL_TO_REQUEST_STATUS[referral.status],
            "intent": "order",
            "category": [REFERRAL_CATEGORY],
            "priority": referral.priority.value,
            "subject": ctx.patient(),
            "authoredOn": instant(referral.authored_on),
            "requester": ctx.reference(referral.requester),
        }
    )
    if referral.specialty is not None:
        request["performerType"] = concept(referral.specialty)
    if referral.recipient is not None:
        request["performer"] = [ctx.reference(referral.recipient)]
    if referral.reasons:
        request["reasonCode"] = [concept(c) for c in referral.reasons]
    note = text_or_none(referral.note)
    if note is not None:
        request["note"] = [{"text": note}]
    found = [request]
    if _was_sent(referral) and referral.status is not _S.DRAFT:
        found.append(_fulfilment_task(ctx, referral, ref))
    found.extend(_prior_authorization(ctx, referral, ref))
    return found


def _fulfilment_task(ctx: WriteContext, referral: Referral, ref: Ref) -> Json:
    """The recipient's side of the loop: a ``fulfill`` Task (BSeR style).

    Status as in :data:`REFERRAL_TO_TASK_STATUS`, ``businessStatus`` the exact referral
    status; ``executionPeriod`` from acceptance to the visit; the owner is the recipient;
    the report and the appointments are outputs.
    """
    task: Json = {
        "resourceType": "Task",
        "id": fulfilment_task_id(referral),
        "meta": ctx.meta(referral.last_modified, referral.sensitivity),
        "basedOn": [ctx.reference(ref)],
        "status": REFERRAL_TO_TASK_STATUS[referral.status],
    }
    last = referral.history[-1] if referral.history else None
    reason = text_or_none(last.reason) if last is not None else None
    if reason is not None:
        task["statusReason"] = {"text": reason}
    task.update(
        {
            "businessStatus": {
                "coding": [{"system": REFERRAL_STATUS_SYSTEM, "code": referral.status.value}],
                "text": referral.status.value,
            },
            "intent": "order",
            "priority": referral.priority.value,
            "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
            "focus": ctx.reference(ref),
            "for": ctx.patient(),
        }
    )
    accepted = referral.first_reached(_S.ACCEPTED)
    seen = (
        referral.seen_at
        if accepted is None or (referral.seen_at is not None and referral.seen_at >= accepted)
        else None
    )
    execution = period(Period(accepted, seen))
    if execution is not None:
        task["executionPeriod"] = execution
    if referral.sent_at is not None:
        task["authoredOn"] = instant(referral.sent_at)
    if referral.last_modified is not None:
        task["lastModified"] = instant(referral.last_modified)
    task["requester"] = ctx.reference(referral.requester)
    if referral.recipient is not None:
        task["owner"] = ctx.reference(referral.recipient)
    outputs: list[Json] = []
    if referral.report is not None:
        outputs.append(
            {"type": {"text": "report"}, "valueReference": ctx.reference(referral.report)}
        )
    outputs.extend(
        {"type": {"text": "appointment"}, "valueReference": ctx.reference(Ref("Appointment", a))}
        for a in referral.appointments
    )
    if outputs:
        task["output"] = outputs
    return task


_PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
_CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
_DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
_UNKNOWN_PARTY: Json = {"extension": [{"url": _DATA_ABSENT, "valueCode": "unknown"}]}
_CLAIM_OUTCOME: dict[AuthorizationOutcome, tuple[str, str]] = {
    AuthorizationOutcome.APPROVED: ("complete", "Approved"),
    AuthorizationOutcome.DENIED: ("complete", "Denied"),
    AuthorizationOutcome.PARTIAL: ("partial", "Partially approved"),
}


def prior_authorization_ids(referral: Referral) -> tuple[str, str]:
    """The ids of the ``Claim`` and ``ClaimResponse`` written for a referral's authorisation."""
    return generated_id("pa", referral.id), generated_id("pa-response", referral.id)


def _prior_authorization(ctx: WriteContext, referral: Referral, ref: Ref) -> list[Json]:
    """A prior authorisation as a Da Vinci PAS style ``Claim`` (``use`` ``preauthorization``).

    The Claim supports the referral (``referral``); it is a ``draft`` until submitted,
    then ``active`` and ``created`` at the submission; an expedited request has priority
    ``stat`` (else ``normal``). A decision is a ``ClaimResponse`` to it, ``created`` at the
    decision: approved and denied are ``complete`` (with the ``disposition`` saying which),
    partial ``partial``. The payer and coverage are not in the model: they are written
    with a data-absent reason. An authorisation neither required nor submitted is not
    written.
    """
    auth = referral.prior_authorization
    if auth is None or (not auth.required and auth.submitted_at is None):
        return []
    claim_id, response_id = prior_authorization_ids(referral)
    claim: Json = {
        "resourceType": "Claim",
        "id": claim_id,
        "meta": ctx.meta(),
        "status": "active" if auth.submitted_at is not None else "draft",
        "type": {"coding": [{"system": _CLAIM_TYPE, "code": "professional"}]},
        "use": "preauthorization",
        "patient": ctx.patient(),
        "created": instant(auth.submitted_at or referral.authored_on),
        "provider": ctx.reference(referral.requester),
        "priority": {
            "coding": [
                {"system": _PROCESS_PRIORITY, "code": "stat" if auth.expedited else "normal"}
            ]
        },
        "referral": ctx.reference(ref),
        "insurance": [{"sequence": 1, "focal": True, "coverage": dict(_UNKNOWN_PARTY)}],
    }
    found = [claim]
    if auth.decided_at is not None and auth.outcome is not None:
        outcome, disposition = _CLAIM_OUTCOME[auth.outcome]
        found.append(
            {
                "resourceType": "ClaimResponse",
                "id": response_id,
                "meta": ctx.meta(),
                "status": "active",
                "type": {"coding": [{"system": _CLAIM_TYPE, "code": "professional"}]},
                "use": "preauthorization",
                "patient": ctx.patient(),
                "created": instant(auth.decided_at),
                "insurer": dict(_UNKNOWN_PARTY),
                "request": ctx.reference(Ref("Claim", claim_id)),
                "outcome": outcome,
                "disposition": disposition,
            }
        )
    return found


# --------------------------------------------------------------------------- orders


def write_order(ctx: WriteContext, order: Order) -> Json:
    """An order as a ``ServiceRequest``: kind as a US Core category, justification as reason.

    The kind is the category alone (SNOMED CT laboratory procedure, imaging, diagnostic
    procedure or procedure), never a referral code.
    """
    code, display = ORDER_KIND_CATEGORY[order.kind]
    request: Json = {
        "resourceType": "ServiceRequest",
        "id": order.id,
        "meta": ctx.meta(order.recorded_at, order.sensitivity),
        "status": order.status.value,
        "intent": "order",
        "category": [{"coding": [{"system": System.SNOMED, "code": code, "display": display}]}],
        "priority": order.priority.value,
        "code": concept(order.code),
        "subject": ctx.patient(),
        "authoredOn": instant(order.authored_on),
    }
    if order.requester is not None:
        request["requester"] = ctx.reference(order.requester)
    if order.performer is not None:
        request["performer"] = [ctx.reference(order.performer)]
    justification = text_or_none(order.justification)
    if justification is not None:
        request["reasonCode"] = [{"text": justification}]
    return request


# --------------------------------------------------------------------------- tasks


def write_task(ctx: WriteContext, task: Task) -> Json:
    """A coordination ``Task``: status, owner, focus, window, notes, and its history."""
    extensions = status_history(ctx, task.history)
    if task.held_from is not None:
        extensions.append(extension(ExtensionUrl.HELD_FROM, valueCode=task.held_from.value))
    resource: Json = {
        "resourceType": "Task",
        "id": task.id,
        "meta": ctx.meta(sensitivity=task.sensitivity),
    }
    if extensions:
        resource["extension"] = extensions
    if task.part_of:
        resource["partOf"] = [ctx.reference(Ref("Task", t)) for t in task.part_of]
    resource["status"] = task.status.value
    reason = text_or_none(task.status_reason)
    if reason is not None:
        resource["statusReason"] = {"text": reason}
    business = text_or_none(task.business_status)
    if business is not None:
        resource["businessStatus"] = {"text": business}
    resource["intent"] = task.intent
    resource["priority"] = task.priority.value
    if task.code is not None:
        resource["code"] = concept(task.code)
    description = text_or_none(task.description)
    if description is not None:
        resource["description"] = description
    if task.focus is not None:
        resource["focus"] = ctx.reference(task.focus)
    resource["for"] = ctx.patient()
    resource["authoredOn"] = instant(task.authored_on)
    if task.last_modified is not None:
        resource["lastModified"] = instant(task.last_modified)
    if task.requester is not None:
        resource["requester"] = ctx.reference(task.requester)
    if task.owner is not None:
        resource["owner"] = ctx.reference(task.owner)
    notes = [a for n in task.notes if (a := annotation(ctx, n)) is not None]
    if notes:
        resource["note"] = notes
    window = period(_window(task))
    if window is not None:
        resource["restriction"] = {"period": window}
    return resource


def _window(task: Task) -> Period:
    return Period(task.not_before, task.due)


# --------------------------------------------------------------------------- appointments


def write_appointment(ctx: WriteContext, appointment: Appointment) -> Json:
    """An ``Appointment``: the patient and the other participants, what it is based on."""
    resource: Json = {
        "resourceType": "Appointment",
        "id": appointment.id,
        "meta": ctx.meta(appointment.recorded_at, appointment.sensitivity),
    }
    if appointment.status_changed_at is not None:
        resource["extension"] = [
            extension(
                ExtensionUrl.STATUS_CHANGED, valueDateTime=instant(appointment.status_changed_at)
            )
        ]
    resource["status"] = appointment.status.value
    if appointment.service_type is not None:
        resource["serviceType"] = [concept(appointment.service_type)]
    resource["start"] = instant(appointment.start)
    if appointment.end is not None:
        resource["end"] = instant(appointment.end)
    if appointment.booked_at is not None:
        resource["created"] = instant(appointment.booked_at)
    if appointment.based_on:
        resource["basedOn"] = [ctx.reference(r) for r in appointment.based_on]
    resource["participant"] = [
        {"actor": ctx.patient(), "status": "accepted"},
        *({"actor": ctx.reference(p), "status": "accepted"} for p in appointment.participants),
    ]
    return resource
