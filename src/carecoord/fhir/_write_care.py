"""Writing care organisation and coordination work.

CareTeam, CarePlan, Goal, Communication, Consent, EpisodeOfCare (enrolments), List
(reconciliations) and Task (coordination activities).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    CarePlan,
    CarePlanActivity,
    CareTeam,
    Communication,
    CommunicationKind,
    Consent,
    ConsentDecision,
    CoordinationActivity,
    Enrollment,
    Goal,
    Reconciliation,
    Ref,
    System,
)
from carecoord.fhir._codes import (
    ACTIVITY_KIND_SYSTEM,
    CARE_TEAM_ROLE_SYSTEM,
    DATA_ABSENT_REASON,
    DISCIPLINE_SYSTEM,
    LIST_CODE_SYSTEM,
    PROGRAM_SYSTEM,
    CareCodes,
)
from carecoord.fhir._write_base import (
    ExtensionUrl,
    Json,
    WriteContext,
    complex_extension,
    concept,
    extension,
    instant,
    period,
    security,
    status_history,
    text_or_none,
)

__all__ = [
    "COMMUNICATION_KIND_CATEGORY",
    "LIST_CODE_SYSTEM",
    "PARTICIPATION_MODES",
    "write_activity",
    "write_care_plan",
    "write_care_team",
    "write_communication",
    "write_consent",
    "write_enrollment",
    "write_goal",
    "write_reconciliation",
]

COMMUNICATION_KIND_CATEGORY: dict[CommunicationKind, tuple[str, str, str]] = {
    CommunicationKind.DISCHARGE_SUMMARY: (System.LOINC, "18842-5", "Discharge summary"),
    CommunicationKind.CONSULT_REPORT: (System.LOINC, "11488-4", "Consult note"),
    CommunicationKind.REFERRAL: (System.LOINC, "57133-1", "Referral note"),
    CommunicationKind.CARE_PLAN_UPDATE: (System.LOINC, "18776-5", "Plan of care note"),
    CommunicationKind.MEDICATION_CHANGE: (
        System.LOINC,
        "10160-0",
        "History of Medication use Narrative",
    ),
    CommunicationKind.RESULT_NOTIFICATION: (CareCodes.COMMUNICATION_CATEGORY, "alert", "Alert"),
    CommunicationKind.ADMISSION_NOTICE: (
        CareCodes.COMMUNICATION_CATEGORY,
        "notification",
        "Notification",
    ),
    CommunicationKind.OTHER: (System.LOINC, "34109-9", "Note"),
}
""":class:`CommunicationKind` -> ``Communication.category`` (LOINC document types, else HL7
``communication-category``); a patient contact has no category of its own."""

PARTICIPATION_MODES = frozenset(
    {
        "ELECTRONIC",
        "PHYSICAL",
        "REMOTE",
        "VERBAL",
        "DICTATE",
        "FACE",
        "PHONE",
        "VIDEOCONF",
        "WRITTEN",
        "FAXWRIT",
        "HANDWRIT",
        "MAILWRIT",
        "ONLINEWRIT",
        "EMAILWRIT",
        "TYPEWRIT",
    }
)
"""v3 ``ParticipationMode`` codes: a medium that is one of them (``phone``) is written coded."""

_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_POLICY = {ConsentDecision.PERMIT: "OPTIN", ConsentDecision.DENY: "OPTOUT"}


# --------------------------------------------------------------------------- care teams


def write_care_team(ctx: WriteContext, team: CareTeam) -> Json:
    """A ``CareTeam``: members with their role, period, and carecoord role codings.

    After the model's own role, each participant has a ``care-team-role`` coding (``lead``
    or ``member``) and a ``discipline`` coding, as separate ``role`` concepts.
    """
    resource: Json = {"resourceType": "CareTeam", "id": team.id, "meta": ctx.meta(team.recorded_at)}
    history = status_history(ctx, team.history)
    if history:
        resource["extension"] = history
    resource["status"] = team.status.value
    name = text_or_none(team.name)
    if name is not None:
        resource["name"] = name
    resource["subject"] = ctx.patient()
    window = period(team.period)
    if window is not None:
        resource["period"] = window
    participants: list[Json] = []
    for member in team.members:
        roles = [concept(member.role)] if member.role is not None else []
        roles.append(
            {
                "coding": [
                    {
                        "system": CARE_TEAM_ROLE_SYSTEM,
                        "code": "lead" if member.lead else "member",
                        "display": "Care team lead" if member.lead else "Care team member",
                    }
                ]
            }
        )
        roles.append({"coding": [{"system": DISCIPLINE_SYSTEM, "code": member.discipline.value}]})
        item: Json = {"role": roles, "member": ctx.reference(member.party)}
        member_period = period(member.period)
        if member_period is not None:
            item["period"] = member_period
        participants.append(item)
    if participants:
        resource["participant"] = participants
    if team.managing_organization is not None:
        resource["managingOrganization"] = [ctx.reference(team.managing_organization)]
    return resource


# --------------------------------------------------------------------------- care plans, goals


def _activity(ctx: WriteContext, activity: CarePlanActivity) -> Json:
    detail: Json = {}
    if activity.code is not None:
        detail["code"] = concept(activity.code)
    if activity.goals:
        detail["goal"] = [ctx.reference(Ref("Goal", g)) for g in activity.goals]
    detail["status"] = activity.status
    scheduled = period(activity.scheduled)
    if scheduled is not None:
        detail["scheduledPeriod"] = scheduled
    if activity.performer is not None:
        detail["performer"] = [ctx.reference(activity.performer)]
    description = text_or_none(activity.description)
    if description is not None:
        detail["description"] = description
    return {"detail": detail}


def write_care_plan(ctx: WriteContext, plan: CarePlan) -> Json:
    """A ``CarePlan``: goals, activities, author, contributors; last review in an extension."""
    resource: Json = {
        "resourceType": "CarePlan",
        "id": plan.id,
        "meta": ctx.meta(plan.recorded_at, plan.sensitivity),
    }
    if plan.last_reviewed is not None:
        resource["extension"] = [
            extension(ExtensionUrl.LAST_REVIEWED, valueDateTime=instant(plan.last_reviewed))
        ]
    resource["status"] = plan.status.value
    resource["intent"] = "plan"
    if plan.categories:
        resource["category"] = [concept(c) for c in plan.categories]
    title = text_or_none(plan.title)
    if title is not None:
        resource["title"] = title
    resource["subject"] = ctx.patient()
    window = period(plan.period)
    if window is not None:
        resource["period"] = window
    if plan.created is not None:
        resource["created"] = instant(plan.created)
    if plan.author is not None:
        resource["author"] = ctx.reference(plan.author)
    if plan.contributors:
        resource["contributor"] = [ctx.reference(r) for r in plan.contributors]
    if plan.addresses:
        resource["addresses"] = [ctx.reference(r) for r in plan.addresses]
    if plan.goals:
        resource["goal"] = [ctx.reference(Ref("Goal", g)) for g in plan.goals]
    if plan.activities:
        resource["activity"] = [_activity(ctx, a) for a in plan.activities]
    return resource


def write_goal(ctx: WriteContext, goal: Goal) -> Json:
    """A ``Goal`` (a blank description is written absent, with a data-absent reason)."""
    description = text_or_none(goal.description)
    resource: Json = {
        "resourceType": "Goal",
        "id": goal.id,
        "meta": ctx.meta(goal.recorded_at, goal.sensitivity),
        "lifecycleStatus": goal.lifecycle_status,
        "description": (
            {"text": description}
            if description is not None
            else {"extension": [extension(DATA_ABSENT_REASON, valueCode="unknown")]}
        ),
        "subject": ctx.patient(),
    }
    if goal.start is not None:
        resource["startDate"] = goal.start.isoformat()
    if goal.target_date is not None:
        resource["target"] = [{"dueDate": goal.target_date.isoformat()}]
    if goal.author is not None:
        resource["expressedBy"] = ctx.reference(goal.author)
    if goal.addresses:
        resource["addresses"] = [ctx.reference(r) for r in goal.addresses]
    return resource


# --------------------------------------------------------------------------- communications


def write_communication(ctx: WriteContext, communication: Communication) -> Json:
    """A ``Communication``: kind as a category, medium, who to whom, what about, the note."""
    resource: Json = {
        "resourceType": "Communication",
        "id": communication.id,
        "meta": ctx.meta(communication.recorded_at, communication.sensitivity),
        "extension": [
            complex_extension(
                ExtensionUrl.COMMUNICATION,
                [
                    ("kind", "Code", communication.kind.value),
                    ("interactive", "Boolean", communication.interactive),
                ],
            )
        ],
        "status": communication.status,
    }
    category = COMMUNICATION_KIND_CATEGORY.get(communication.kind)
    if category is not None:
        system, code, display = category
        resource["category"] = [{"coding": [{"system": system, "code": code, "display": display}]}]
    medium = text_or_none(communication.medium)
    if medium is not None:
        coded: Json = (
            {"coding": [{"system": CareCodes.PARTICIPATION_MODE, "code": medium.upper()}]}
            if medium.upper() in PARTICIPATION_MODES
            else {}
        )
        if not coded or medium != medium.lower():
            coded["text"] = medium  # the medium as written, when the code does not say it
        resource["medium"] = [coded]
    resource["subject"] = ctx.patient()
    if communication.about:
        resource["about"] = [ctx.reference(r) for r in communication.about]
    resource["sent"] = instant(communication.sent)
    if communication.received is not None:
        resource["received"] = instant(communication.received)
    if communication.recipients:
        resource["recipient"] = [ctx.reference(r) for r in communication.recipients]
    if communication.sender is not None:
        resource["sender"] = ctx.reference(communication.sender)
    note = text_or_none(communication.note)
    if note is not None:
        resource["payload"] = [{"contentString": note}]
    return resource


# --------------------------------------------------------------------------- consents


def write_consent(ctx: WriteContext, consent: Consent) -> Json:
    """A privacy ``Consent``: one provision (permit or deny) with its period, actors, classes."""
    provision: Json = {"type": consent.decision.value}
    window = period(consent.period)
    if window is not None:
        provision["period"] = window
    if consent.actors:
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": CareCodes.CARE_TEAM_ROLE_V3,
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "reference": ctx.reference(actor),
            }
            for actor in consent.actors
        ]
    if consent.classes:
        provision["securityLabel"] = security(consent.classes)
    resource: Json = {
        "resourceType": "Consent",
        "id": consent.id,
        "meta": ctx.meta(consent.recorded_at),
        "status": consent.status,
        "scope": {"coding": [{"system": _CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [
            {"coding": [{"system": System.LOINC, "code": "59284-0", "display": "Consent"}]}
        ],
        "patient": ctx.patient(),
    }
    if consent.author is not None:
        resource["performer"] = [ctx.reference(consent.author)]
    resource["policyRule"] = {
        "coding": [{"system": System.V3_ACT_CODE, "code": _POLICY[consent.decision]}]
    }
    resource["provision"] = provision
    return resource


# --------------------------------------------------------------------------- enrolments


def write_enrollment(ctx: WriteContext, enrollment: Enrollment) -> Json:
    """A programme enrolment as an ``EpisodeOfCare`` whose type is the programme.

    The status is ``finished`` when the period has an end, else ``active``.
    """
    program = enrollment.program
    resource: Json = {
        "resourceType": "EpisodeOfCare",
        "id": enrollment.id,
        "meta": ctx.meta(enrollment.recorded_at),
    }
    resource["status"] = "finished" if enrollment.period.end is not None else "active"
    resource["type"] = [{"coding": [{"system": PROGRAM_SYSTEM, "code": program}]}]
    resource["patient"] = ctx.patient()
    managing = enrollment.managing
    if managing is not None and managing.type == "Organization":
        resource["managingOrganization"] = ctx.reference(managing)
    window = period(enrollment.period)
    if window is not None:
        resource["period"] = window
    if managing is not None and managing.type != "Organization":
        resource["careManager"] = ctx.reference(managing)
    return resource


# --------------------------------------------------------------------------- reconciliations


def write_reconciliation(ctx: WriteContext, reconciliation: Reconciliation) -> Json:
    """A reconciliation as a ``List`` in ``changes`` mode: one entry per decision.

    The list's code is the list reconciled; each entry's ``flag`` text is the action
    (keep, stop, change, add, remove...); ``source`` is who reconciled, ``date`` when.
    """
    extensions = [
        extension(ExtensionUrl.RECONCILED_SOURCE, valueString=s) for s in reconciliation.sources
    ]
    resource: Json = {
        "resourceType": "List",
        "id": reconciliation.id,
        "meta": ctx.meta(reconciliation.recorded_at),
    }
    if extensions:
        resource["extension"] = extensions
    resource.update(
        {
            "status": "current",
            "mode": "changes",
            "code": {"coding": [{"system": LIST_CODE_SYSTEM, "code": reconciliation.list.value}]},
            "subject": ctx.patient(),
            "date": instant(reconciliation.at),
            "source": ctx.reference(reconciliation.performer),
        }
    )
    entries: list[Json] = []
    for decision in reconciliation.decisions:
        entry: Json = {}
        note = text_or_none(decision.note)
        if note is not None:
            entry["extension"] = [extension(ExtensionUrl.DECISION_NOTE, valueString=note)]
        entry["flag"] = {"text": decision.action}
        entry["item"] = ctx.reference(decision.item)
        entries.append(entry)
    if entries:
        resource["entry"] = entries
    return resource


# --------------------------------------------------------------------------- activities


def write_activity(ctx: WriteContext, activity: CoordinationActivity) -> Json:
    """A coordination activity as a completed ``Task`` coded with its kind.

    The performer owns it; ``executionPeriod`` is the ``minutes`` of work ending at
    ``at``; the first fact it was about is its ``focus`` and the others ``input``
    references typed ``about``.
    """
    end = activity.at
    start = (end.astimezone(dt.UTC) - dt.timedelta(minutes=activity.minutes)).astimezone(end.tzinfo)
    resource: Json = {
        "resourceType": "Task",
        "id": activity.id,
        "meta": ctx.meta(activity.recorded_at),
        "extension": [extension(ExtensionUrl.BILLABLE, valueBoolean=activity.billable)],
        "status": "completed",
        "intent": "order",
        "code": {
            "coding": [{"system": ACTIVITY_KIND_SYSTEM, "code": activity.kind.value}],
            "text": activity.kind.plain,
        },
    }
    if activity.about:
        resource["focus"] = ctx.reference(activity.about[0])
    resource["for"] = ctx.patient()
    resource["executionPeriod"] = {"start": instant(start), "end": instant(end)}
    resource["authoredOn"] = instant(end)
    resource["owner"] = ctx.reference(activity.performer)
    note = text_or_none(activity.note)
    if note is not None:
        resource["note"] = [{"text": note}]
    inputs: list[Any] = [
        {"type": {"text": "about"}, "valueReference": ctx.reference(r)} for r in activity.about[1:]
    ]
    if inputs:
        resource["input"] = inputs
    return resource
