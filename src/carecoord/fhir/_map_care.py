"""Mapping care organisation: CareTeam, CarePlan, Goal, Communication, Consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    CarePlan,
    CarePlanActivity,
    CarePlanId,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamMember,
    CareTeamStatus,
    Code,
    Communication,
    CommunicationId,
    CommunicationKind,
    Consent,
    ConsentDecision,
    ConsentId,
    Discipline,
    Goal,
    GoalId,
    PartialDate,
    PatientId,
    Period,
    Ref,
    ReferralStatus,
    Sensitivity,
    System,
)
from carecoord.fhir._codes import (
    CARE_PLAN_STATUS,
    CARE_TEAM_ROLE_SYSTEM,
    CARE_TEAM_STATUS,
    COMMUNICATION_CATEGORY,
    COMMUNICATION_LOINC,
    INTERACTIVE_MEDIA,
    SECURITY_LABELS,
)
from carecoord.fhir._map_base import Facts, Key, MapContext, MapIssue, silent_code
from carecoord.fhir._map_parties import discipline_of_concepts
from carecoord.fhir._map_requests import ReferralEvent

__all__ = [
    "CARECOORD_LEAD_ROLES",
    "LEAD_ROLE_CODES",
    "map_care_plan",
    "map_care_team",
    "map_communication",
    "map_consent",
    "map_goal",
]

LEAD_ROLE_CODES = frozenset({"768730001", "768732009", "LA28863-2", "PCP", "PPRF", "ATND"})
"""Participant role codes that mark a care-team lead or coordinator (SNOMED care
coordinator and case manager, LOINC "care coordinator", v3 primary performer); a role
worded "coordinator", "lead", "case manager", "care manager" or "responsible" counts too."""

CARECOORD_LEAD_ROLES = frozenset({"lead", "coordinator", "case-manager"})
"""Codes of carecoord's own ``care-team-role`` system (``CARE_TEAM_ROLE_SYSTEM``) that mark
the lead; such a participant is the lead before any other with a lead-like role."""

_LEAD_WORDS = ("coordinator", "lead", "case manager", "care manager", "care-manager")
_REPORT_KINDS = frozenset(
    {CommunicationKind.CONSULT_REPORT, CommunicationKind.DISCHARGE_SUMMARY, CommunicationKind.OTHER}
)
_STAY_TYPES = frozenset({"CareTransition"})
_POLICY_DECISIONS = {
    "OPTIN": ConsentDecision.PERMIT,
    "OPTINR": ConsentDecision.PERMIT,
    "OPTOUT": ConsentDecision.DENY,
    "OPTOUTE": ConsentDecision.DENY,
}
_DECISIONS = {"permit": ConsentDecision.PERMIT, "deny": ConsentDecision.DENY}
_OPPOSITE = {
    ConsentDecision.PERMIT: ConsentDecision.DENY,
    ConsentDecision.DENY: ConsentDecision.PERMIT,
}


# --------------------------------------------------------------------------- care teams


def map_care_team(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``CareTeam``: members with role, discipline, period and the lead flag.

    The lead is the first participant with a carecoord lead role (see
    :data:`CARECOORD_LEAD_ROLES`), else the first whose role is a lead or coordinator role
    (see :data:`LEAD_ROLE_CODES`), else the participant that is the managing organisation.
    A member's discipline comes from its role codes, else from the practitioner (or
    role, or organisation) it refers to.
    """
    res, path = ctx.resource, ctx.path
    managing = ctx.first_ref(res, "managingOrganization", path, expected="Organization")
    members: list[CareTeamMember] = []
    lead_index: int | None = None
    marked_lead: int | None = None
    for item_path, item in ctx.objs(res, "participant", path):
        raw = ctx.key_of_ref(item.get("member"))
        party = ctx.ref(item.get("member"), f"{item_path}.member")
        if party is None:
            party = ctx.ref(item.get("onBehalfOf"), f"{item_path}.onBehalfOf")
        if party is None:
            continue
        roles = ctx.each_concept(item, "role", item_path)
        role = next((c for p, concept in roles if (c := ctx.code(concept, p)) is not None), None)
        discipline = discipline_of_concepts(ctx, roles)
        if discipline is None:
            discipline = _party_discipline(ctx, raw, party)
        period = ctx.period(item, "period", item_path) or ctx.period(
            item, "coveragePeriod", item_path
        )
        is_lead = any(code in LEAD_ROLE_CODES for code in ctx.code_values(roles)) or any(
            word in ctx.concept_words(concept, p) for p, concept in roles for word in _LEAD_WORDS
        )
        if is_lead and lead_index is None:
            lead_index = len(members)
        if _marked_lead(roles) and marked_lead is None:
            marked_lead = len(members)
        members.append(CareTeamMember(party, discipline, role, period or Period()))
    if marked_lead is not None:
        lead_index = marked_lead
    if lead_index is None and managing is not None:
        lead_index = next((i for i, m in enumerate(members) if m.party == managing), None)
    if lead_index is not None:
        lead = members[lead_index]
        members[lead_index] = CareTeamMember(
            lead.party, lead.discipline, lead.role, lead.period, lead=True
        )
    return [
        (
            "care_teams",
            CareTeam(
                id=CareTeamId(fact_id),
                patient=patient,
                status=ctx.status(res, "status", CARE_TEAM_STATUS, CareTeamStatus.ACTIVE),
                name=ctx.text(res, "name", path),
                members=tuple(members),
                period=ctx.period(res, "period", path) or Period(),
                managing_organization=managing,
                recorded_at=ctx.recorded_at(),
            ),
        )
    ]


def _marked_lead(roles: list[tuple[str, object]]) -> bool:
    """Whether a role coding is a carecoord lead role.

    Read quietly: the roles are reported when their codes are read.
    """
    for _path, concept in roles:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if (
                isinstance(coding, dict)
                and coding.get("system") == CARE_TEAM_ROLE_SYSTEM
                and coding.get("code") in CARECOORD_LEAD_ROLES
            ):
                return True
    return False


def _party_discipline(ctx: MapContext, raw: Key | None, party: Ref) -> Discipline:
    known = ctx.state.party_disciplines
    found = known.get(raw) if raw is not None else None
    if found is None:
        found = known.get((party.type, party.id))
    return found if isinstance(found, Discipline) else Discipline.OTHER


# --------------------------------------------------------------------------- care plans, goals


def map_care_plan(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``CarePlan`` with its activities.

    FHIR R4 has no review date: ``last_reviewed`` is ``meta.lastUpdated`` (when the source
    last saved the plan), ``None`` without it.
    """
    res, path = ctx.resource, ctx.path
    categories: list[Code] = []
    for item_path, concept in ctx.items(res, "category", path):
        code = ctx.code(concept, item_path)
        if code is not None:
            categories.append(code)
    activities: list[CarePlanActivity] = []
    for item_path, activity in ctx.objs(res, "activity", path):
        found = _activity(ctx, activity, item_path)
        if found is not None:
            activities.append(found)
    recorded_at = ctx.recorded_at()
    author = ctx.ref(res.get("author"), ctx.at("author")) or ctx.ref(
        res.get("custodian"), ctx.at("custodian")
    )
    return [
        (
            "care_plans",
            CarePlan(
                id=CarePlanId(fact_id),
                patient=patient,
                status=ctx.status(res, "status", CARE_PLAN_STATUS, CarePlanStatus.UNKNOWN),
                title=ctx.text(res, "title", path),
                categories=tuple(categories),
                period=ctx.period(res, "period", path) or Period(),
                created=ctx.instant_at(res, "created", ctx.path),
                last_reviewed=recorded_at,
                addresses=_addresses(ctx, res, path),
                goals=tuple(GoalId(r.id) for r in ctx.refs(res, "goal", path, expected="Goal")),
                activities=tuple(activities),
                contributors=ctx.refs(res, "contributor", path),
                recorded_at=recorded_at,
                author=author,
            ),
        )
    ]


def _addresses(ctx: MapContext, res: dict[str, Any], path: str) -> tuple[Ref, ...]:
    found: list[Ref] = []
    for item_path, item in ctx.items(res, "addresses", path):
        if isinstance(item, dict) and "reference" not in item and "concept" in item:
            continue  # an R5 CodeableReference with a concept only
        value = (
            item.get("reference")
            if isinstance(item, dict) and isinstance(item.get("reference"), dict)
            else item
        )
        ref = ctx.ref(value, item_path)
        if ref is not None and ref not in found:
            found.append(ref)
    return tuple(found)


def _activity(ctx: MapContext, activity: dict[str, Any], path: str) -> CarePlanActivity | None:
    detail = ctx.obj(activity, "detail", path)
    if detail is not None:
        detail_path = f"{path}.detail"
        performer = ctx.first_ref(detail, "performer", detail_path)
        return CarePlanActivity(
            description=ctx.text(detail, "description", detail_path),
            code=ctx.code(detail.get("code"), f"{detail_path}.code"),
            status=ctx.text(detail, "status", detail_path) or "not-started",
            goals=tuple(
                GoalId(r.id) for r in ctx.refs(detail, "goal", detail_path, expected="Goal")
            ),
            performer=performer,
            scheduled=ctx.period(detail, "scheduledPeriod", detail_path),
        )
    reference = activity.get("reference") or activity.get("plannedActivityReference")
    if reference is None:
        return None
    target = ctx.resolve(reference)
    code = silent_code(target.get("code")) if target is not None else None
    status = target.get("status") if target is not None else None
    description = None
    if isinstance(reference, dict) and isinstance(reference.get("display"), str):
        description = reference["display"]
    if code is None and description is None:
        return None
    return CarePlanActivity(
        description=description,
        code=code,
        status=status if isinstance(status, str) and status else "not-started",
    )


def _partial(ctx: MapContext, value: object, path: str) -> PartialDate | None:
    found = ctx.clinical(value, path)
    if isinstance(found, dt.datetime):
        return PartialDate.from_date(found.date())
    return found


def map_goal(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Goal`` (its description is the text, or the display, of ``description``)."""
    res, path = ctx.resource, ctx.path
    concept = res.get("description")
    description = None
    if isinstance(concept, dict):
        description = ctx.text(concept, "text", ctx.at("description"))
        if description is None:
            code = ctx.code(concept, ctx.at("description"))
            description = (code.display or code.code) if code is not None else None
    elif concept is not None:
        ctx.issue(ctx.at("description"), "wrong-type", "expected a CodeableConcept object")
    description = ctx.require_at(description, "description", "description")
    target_date = None
    for item_path, target in ctx.objs(res, "target", path):
        target_date = _partial(ctx, target.get("dueDate"), f"{item_path}.dueDate")
        if target_date is not None:
            break
    return [
        (
            "goals",
            Goal(
                id=GoalId(fact_id),
                patient=patient,
                description=description,
                lifecycle_status=ctx.text(res, "lifecycleStatus", path) or "active",
                target_date=target_date,
                addresses=_addresses(ctx, res, path),
                start=_partial(ctx, res.get("startDate"), ctx.at("startDate")),
                recorded_at=ctx.recorded_at(),
                author=ctx.ref(res.get("expressedBy"), ctx.at("expressedBy")),
            ),
        )
    ]


# --------------------------------------------------------------------------- communications


def _kind(ctx: MapContext, about: list[Ref], involves_patient: bool) -> CommunicationKind:
    res, path = ctx.resource, ctx.path
    concepts = (
        ctx.each_concept(res, "category", path)
        + ctx.each_concept(res, "topic", path)
        + ctx.each_concept(res, "reasonCode", path)
    )
    category_kind: CommunicationKind | None = None
    for item_path, concept in concepts:
        for system, code, _display in ctx.codings(concept, item_path):
            if code is None:
                continue
            if system in (System.LOINC, None) and code in COMMUNICATION_LOINC:
                return COMMUNICATION_LOINC[code]
            if category_kind is None and code.lower() in COMMUNICATION_CATEGORY:
                category_kind = COMMUNICATION_CATEGORY[code.lower()]
        words = ctx.concept_words(concept, item_path)
        if category_kind is None and any(k in words for k in COMMUNICATION_CATEGORY):
            category_kind = next(
                COMMUNICATION_CATEGORY[k] for k in COMMUNICATION_CATEGORY if k in words
            )
    if category_kind is CommunicationKind.ADMISSION_NOTICE:
        encounter = ctx.ref(res.get("encounter"), ctx.at("encounter"))
        stays = [r for r in [*about, *([encounter] if encounter else [])] if r.type in _STAY_TYPES]
        category_kind = CommunicationKind.ADMISSION_NOTICE if stays else None
    if category_kind is not None:
        return category_kind
    return CommunicationKind.PATIENT_CONTACT if involves_patient else CommunicationKind.OTHER


def map_communication(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Communication``.

    A completed one about a referral (or its fulfilment Task) that can be a report moves
    the referral to report-received.
    """
    res, path = ctx.resource, ctx.path
    sender = ctx.ref(res.get("sender"), ctx.at("sender"))
    recipients = ctx.refs(res, "recipient", path)
    about: list[Ref] = []
    for key in ("about", "basedOn", "partOf", "inResponseTo"):
        for ref in ctx.refs(res, key, path):
            if ref not in about:
                about.append(ref)
    involves_patient = any(
        r.type == "Patient" for r in [*recipients, *([sender] if sender else [])]
    )
    kind = _kind(ctx, about, involves_patient)
    sent = ctx.instant_at(res, "sent", ctx.path)
    received = ctx.instant_at(res, "received", ctx.path)
    sent = ctx.require_at(sent or received, "sent", "sent (or received) time")
    if received is not None and received < sent:
        ctx.issue(
            ctx.at("received"), MapIssue.INVALID_VALUE, "received before it was sent; dropped"
        )
        received = None
    medium = None
    interactive = False
    for item_path, concept in ctx.items(res, "medium", path):
        for _system, code, _display in ctx.codings(concept, item_path):
            if code is None:
                continue
            medium = medium or code.lower()
            interactive = interactive or code.upper() in INTERACTIVE_MEDIA
    note = None
    for item_path, payload in ctx.objs(res, "payload", path):
        note = ctx.text(payload, "contentString", item_path)
        if note is not None:
            break
    status = ctx.text(res, "status", path) or "completed"
    communication = Communication(
        id=CommunicationId(fact_id),
        patient=patient,
        kind=kind,
        sent=sent,
        sender=sender,
        recipients=recipients,
        received=received,
        about=tuple(about),
        status=status,
        interactive=interactive,
        medium=medium,
        note=note,
        sensitivity=ctx.sensitivity(),
        recorded_at=ctx.recorded_at(),
        author=sender,
    )
    if status == "completed" and kind in _REPORT_KINDS:
        _report_event(ctx, communication)
    return [("communications", communication)]


def _report_event(ctx: MapContext, communication: Communication) -> None:
    referrals: set[Key] = set()
    for key in ("about", "basedOn", "partOf", "inResponseTo"):
        for _item_path, item in ctx.items(ctx.resource, key, ctx.path):
            target = ctx.key_of_ref(item)
            if target is None:
                continue
            if ctx.state.domain_types.get(target) == "Referral":
                referrals.add(target)
            elif target in ctx.state.fulfilment_tasks:
                referrals.add(ctx.state.fulfilment_tasks[target])
    at = communication.received or communication.sent
    report = Ref("Communication", communication.id)
    for referral in sorted(referrals):
        event = ReferralEvent(
            at, ReferralStatus.REPORT_RECEIVED, by=communication.sender, report=report
        )
        ctx.state.referral_events.setdefault(referral, []).append(event)


# --------------------------------------------------------------------------- consents


def map_consent(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Consent``: its base provision, and one more consent per nested provision.

    R4: the base decision is ``provision.type`` (else ``policyRule`` OPTIN/OPTOUT) and each
    nested ``provision.provision`` carries its own type. R5: the base is ``decision`` and
    each ``provision`` is an exception with the opposite decision. Consents whose R4
    ``scope`` is not ``patient-privacy`` (treatment, research, advance directives) are
    skipped (counted, ``not-mapped``).
    """
    res, path = ctx.resource, ctx.path
    scope = res.get("scope")
    if scope is not None:
        scopes = {code for _s, code, _d in ctx.codings(scope, ctx.at("scope")) if code}
        if scopes and "patient-privacy" not in scopes:
            ctx.skip(
                ctx.at("scope"),
                MapIssue.NOT_MAPPED,
                "consent scope is not patient privacy",
                warning=True,
            )
    common: dict[str, Any] = {
        "patient": patient,
        "status": ctx.text(res, "status", path) or "active",
        "recorded_at": ctx.recorded_at(),
        "author": ctx.first_ref(res, "performer", path) or ctx.first_ref(res, "grantor", path),
    }
    facts: Facts = []
    if res.get("decision") is not None or isinstance(res.get("provision"), list):
        base = _DECISIONS.get(ctx.text(res, "decision", path) or "")
        if base is None:
            ctx.issue(
                ctx.at("decision"),
                MapIssue.MISSING_ELEMENT,
                "no decision; read as permit",
                warning=True,
            )
            base = ConsentDecision.PERMIT
        period = ctx.period(res, "period", path) or Period()
        facts.append(
            ("consents", Consent(id=ConsentId(fact_id), decision=base, period=period, **common))
        )
        for item_path, provision in ctx.objs(res, "provision", path):
            fact = _provision(
                ctx, provision, item_path, _OPPOSITE[base], _sub_id(fact_id, item_path), common
            )
            facts.append(("consents", fact))
        return facts
    provision = ctx.obj(res, "provision", path) or {}
    provision_path = ctx.at("provision")
    decision = _DECISIONS.get(ctx.text(provision, "type", provision_path) or "")
    if decision is None:
        for _system, code, _display in ctx.codings(res.get("policyRule"), ctx.at("policyRule")):
            decision = decision or _POLICY_DECISIONS.get((code or "").upper())
    if decision is None:
        ctx.issue(
            provision_path,
            MapIssue.MISSING_ELEMENT,
            "no provision type or policy rule; read as permit",
            warning=True,
        )
        decision = ConsentDecision.PERMIT
    base_fact = _provision(ctx, provision, provision_path, decision, fact_id, common)
    facts.append(("consents", base_fact))
    for item_path, nested in ctx.objs(provision, "provision", provision_path):
        nested_decision = _DECISIONS.get(
            ctx.text(nested, "type", item_path) or "", _OPPOSITE[decision]
        )
        fact = _provision(
            ctx, nested, item_path, nested_decision, _sub_id(fact_id, item_path), common, base_fact
        )
        facts.append(("consents", fact))
    return facts


def _sub_id(fact_id: str, path: str) -> str:
    """``consent-id#provision[1]``: the id of the consent made from a nested provision."""
    return f"{fact_id}#{path.rsplit('.', 1)[-1]}"


def _provision(  # noqa: PLR0917  (an internal helper called three times)
    ctx: MapContext,
    provision: dict[str, Any],
    path: str,
    decision: ConsentDecision,
    fact_id: str,
    common: dict[str, Any],
    inherit: Consent | None = None,
) -> Consent:
    actors: list[Ref] = []
    for item_path, actor in ctx.objs(provision, "actor", path):
        ref = ctx.ref(actor.get("reference"), f"{item_path}.reference")
        if ref is not None and ref not in actors:
            actors.append(ref)
    classes: set[Sensitivity] = set()
    for item_path, label in ctx.items(provision, "securityLabel", path):
        for system, code, _display in ctx.codings(label, item_path):
            if code is not None and system in (None, System.V3_ACT_CODE):
                found = SECURITY_LABELS.get(code.upper())
                if found is not None:
                    classes.add(found)
    period = ctx.period(provision, "period", path)
    if inherit is not None:
        period = period or inherit.period
        actors = actors or list(inherit.actors)
        classes = classes or set(inherit.classes)
    return Consent(
        id=ConsentId(fact_id),
        decision=decision,
        period=period or Period(),
        actors=tuple(actors),
        classes=frozenset(classes),
        **common,
    )
