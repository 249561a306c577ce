"""Mapping care organisation: CareTeam, CarePlan, Goal, Communication, Consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

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
    FactId,
    Goal,
    GoalId,
    ListKind,
    PartialDate,
    PatientId,
    Period,
    Reconciliation,
    ReconciliationDecision,
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
    DATA_ABSENT_REASON,
    DISCIPLINE_SYSTEM,
    INTERACTIVE_MEDIA,
    LIST_CODE_SYSTEM,
    ExtensionUrl,
    security_label,
)
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_carecoord import (
    Parts,
    extension_items,
    first_extension,
    status_history,
    typed_value,
)
from carecoord.fhir._map_parties import discipline_of_concepts
from carecoord.fhir._map_requests import ReferralEvent
from carecoord.fhir._map_state import Facts, Key
from carecoord.fhir._map_types import silent_code

__all__ = [
    "CARECOORD_LEAD_ROLES",
    "LEAD_ROLE_CODES",
    "is_reconciliation",
    "map_care_plan",
    "map_care_team",
    "map_communication",
    "map_consent",
    "map_goal",
    "map_list",
]

LEAD_ROLE_CODES = frozenset({"768730001", "768732009", "LA28863-2", "PCP", "PPRF", "ATND"})
"""Participant role codes that mark a care-team lead or coordinator (SNOMED care
coordinator and case manager, LOINC "care coordinator", v3 primary performer); a role
worded "coordinator", "lead", "case manager", "care manager" or "responsible" counts too."""

CARECOORD_LEAD_ROLES = frozenset({"lead", "coordinator", "case-manager"})
"""Codes of carecoord's own ``care-team-role`` system (``CARE_TEAM_ROLE_SYSTEM``) that mark
the lead; such a participant is the lead before any other with a lead-like role."""

_CARECOORD_ROLE_SYSTEMS = frozenset({CARE_TEAM_ROLE_SYSTEM, DISCIPLINE_SYSTEM})
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

    When participants carry roles of carecoord's ``care-team-role`` system, every one
    coded lead (see :data:`CARECOORD_LEAD_ROLES`) is a lead and nothing is inferred.
    Otherwise the lead is the first whose role is a lead or coordinator role (see
    :data:`LEAD_ROLE_CODES`), else the participant that is the managing organisation.
    A member's role is its first role outside carecoord's systems; its discipline comes
    from its role codes, else from the practitioner (or role, or organisation) it refers
    to. The status history is the ``status-history`` extensions.
    """
    res, path = ctx.resource, ctx.path
    managing = ctx.first_ref(res, "managingOrganization", path, expected="Organization")
    members: list[CareTeamMember] = []
    leads: list[bool] = []
    stated_leads = False
    lead_index: int | None = None
    for item_path, item in ctx.objs(res, "participant", path):
        raw = ctx.key_of_ref(item.get("member"))
        party = ctx.ref(item.get("member"), f"{item_path}.member")
        if party is None:
            party = ctx.ref(item.get("onBehalfOf"), f"{item_path}.onBehalfOf")
        if party is None:
            continue
        roles = ctx.each_concept(item, "role", item_path)
        role = _role(ctx, roles)
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
        marked = _carecoord_roles(roles)
        stated_leads = stated_leads or marked is not None
        leads.append(bool(marked))
        members.append(CareTeamMember(party, discipline, role, period or Period()))
    if stated_leads:
        flags = leads
    else:
        if lead_index is None and managing is not None:
            lead_index = next((i for i, m in enumerate(members) if m.party == managing), None)
        flags = [i == lead_index for i in range(len(members))]
    members = [
        attrs.evolve(member, lead=True) if flag else member
        for member, flag in zip(members, flags, strict=True)
    ]
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
                history=(
                    status_history(ctx, res, path) if res.get("extension") is not None else ()
                ),
                recorded_at=ctx.recorded_at(),
            ),
        )
    ]


def _role(ctx: MapContext, roles: list[tuple[str, object]]) -> Code | None:
    """A participant's role: the first role coded outside carecoord's own systems.

    On a carecoord-written CareTeam the writer's own two role concepts (the lead flag and
    the discipline) come last: the model's role is the first concept before them.
    """
    if ctx.origin.literal and len(roles) >= 2 and _writer_roles(roles[-2:]):
        return next(
            (c for p, concept in roles[:-2] if (c := ctx.code(concept, p)) is not None), None
        )
    for item_path, concept in roles:
        code = ctx.code(concept, item_path)
        if code is not None and code.system not in _CARECOORD_ROLE_SYSTEMS:
            return code
    return None


def _writer_roles(roles: list[tuple[str, object]]) -> bool:
    """Whether two role concepts are the writer's ``care-team-role`` and ``discipline`` ones."""
    systems = []
    for _path, concept in roles:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        if not isinstance(codings, list) or len(codings) != 1 or not isinstance(codings[0], dict):
            return False
        systems.append(codings[0].get("system"))
    return systems == [CARE_TEAM_ROLE_SYSTEM, DISCIPLINE_SYSTEM]


def _carecoord_roles(roles: list[tuple[str, object]]) -> bool | None:
    """Whether the roles mark a carecoord lead, ``None`` with no ``care-team-role`` coding.

    Read quietly: the roles are reported when their codes are read.
    """
    found: bool | None = None
    for _path, concept in roles:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and coding.get("system") == CARE_TEAM_ROLE_SYSTEM:
                found = found or coding.get("code") in CARECOORD_LEAD_ROLES
    return found


def _party_discipline(ctx: MapContext, raw: Key | None, party: Ref) -> Discipline:
    known = ctx.state.party_disciplines
    found = known.get(raw) if raw is not None else None
    if found is None:
        found = known.get((party.type, party.id))
    return found if isinstance(found, Discipline) else Discipline.OTHER


# --------------------------------------------------------------------------- care plans, goals


def map_care_plan(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``CarePlan`` with its activities.

    FHIR R4 has no review date: ``last_reviewed`` is carecoord's ``last-reviewed``
    extension, else ``meta.lastUpdated`` (when the source last saved the plan), except on
    a carecoord-written plan (then ``None``).
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
        activities.extend(_performed(ctx, activity, item_path))
    recorded_at = ctx.recorded_at()
    last_reviewed = ctx.origin.inferred(recorded_at)
    if res.get("extension") is not None:
        review = first_extension(res, ExtensionUrl.LAST_REVIEWED, path)
        if review is not None and "valueDateTime" in review[1]:
            value = review[1]["valueDateTime"]
            last_reviewed = typed_value(ctx, value, f"{review[0]}.valueDateTime", "DateTime")
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
                last_reviewed=last_reviewed,
                addresses=_addresses(ctx, res, path),
                goals=tuple(GoalId(r.id) for r in ctx.refs(res, "goal", path, expected="Goal")),
                activities=tuple(activities),
                contributors=ctx.refs(res, "contributor", path),
                sensitivity=ctx.sensitivity(),
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
    key = "reference" if activity.get("reference") is not None else "plannedActivityReference"
    reference = activity.get(key)
    if reference is None:
        return None
    description = None
    if isinstance(reference, dict) and isinstance(reference.get("display"), str):
        description = reference["display"]
    target = (
        ctx.index.resolve_or_report(
            reference, f"{path}.{key}", ctx.source, ctx.issues, ctx.resource
        )
        if description is None or isinstance(reference.get("reference"), str)
        else None
    )
    code = silent_code(target.get("code")) if target is not None else None
    status = target.get("status") if target is not None else None
    if target is None and description is None:
        status = "unknown"  # the activity is planned, but what it is cannot be read
    return CarePlanActivity(
        description=description,
        code=code,
        status=status if isinstance(status, str) and status else "not-started",
    )


def _performed(ctx: MapContext, activity: dict[str, Any], path: str) -> list[CarePlanActivity]:
    """R5 ``activity.performedActivity``: what was done, each a completed activity.

    A CodeableReference: its concept's code, else the code (and the display) of the
    resource it references.
    """
    found: list[CarePlanActivity] = []
    for item_path, item in ctx.objs(activity, "performedActivity", path):
        code = ctx.code(item.get("concept"), f"{item_path}.concept")
        reference = item.get("reference")
        description = None
        if isinstance(reference, dict) and isinstance(reference.get("display"), str):
            description = reference["display"]
        if code is None and reference is not None:
            target = ctx.index.resolve_or_report(
                reference, f"{item_path}.reference", ctx.source, ctx.issues, ctx.resource
            )
            code = silent_code(target.get("code")) if target is not None else None
        found.append(CarePlanActivity(description=description, code=code, status="completed"))
    return found


def _partial(ctx: MapContext, value: object, path: str) -> PartialDate | None:
    found = ctx.clinical(value, path)
    if isinstance(found, dt.datetime):
        return PartialDate.from_date(found.date())
    return found


def map_goal(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A ``Goal`` (its description is the text, or the display, of ``description``).

    A description stated absent (a data-absent-reason extension) is ``""``.
    """
    res, path = ctx.resource, ctx.path
    concept = res.get("description")
    description = None
    if isinstance(concept, dict):
        description = ctx.text(concept, "text", ctx.at("description"))
        if description is None:
            code = ctx.code(concept, ctx.at("description"))
            description = (code.display or code.code) if code is not None else None
        if description is None and first_extension(
            concept, DATA_ABSENT_REASON, ctx.at("description")
        ):
            description = ""
    elif concept is not None:
        ctx.issue(ctx.at("description"), IssueCode.WRONG_TYPE, "expected a CodeableConcept object")
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
                sensitivity=ctx.sensitivity(),
                recorded_at=ctx.recorded_at(),
                author=ctx.ref(res.get("expressedBy"), ctx.at("expressedBy"))
                or ctx.ref(res.get("source"), ctx.at("source")),  # R5
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

    The kind and ``interactive`` are carecoord's ``communication`` extension, else read
    from the codes (:func:`_kind`, the medium). The medium is its first code, lower-cased,
    or its text. The sender is also the author, except on a carecoord-written one (its
    author is in a Provenance). A completed one about a referral (or its fulfilment
    Task) that can be a report moves the referral to report-received.
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
    stated = (
        first_extension(res, ExtensionUrl.COMMUNICATION, path)
        if res.get("extension") is not None
        else None
    )
    parts = Parts(ctx, stated[1], stated[0]) if stated is not None else None
    kind = (parts.enum("kind", CommunicationKind) if parts is not None else None) or _kind(
        ctx, about, involves_patient
    )
    sent = ctx.instant_at(res, "sent", ctx.path)
    received = ctx.instant_at(res, "received", ctx.path)
    sent = ctx.require_at(sent or received, "sent", "sent (or received) time")
    if received is not None and received < sent:
        ctx.issue(
            ctx.at("received"), IssueCode.INVALID_VALUE, "received before it was sent; dropped"
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
        if isinstance(concept, dict) and concept.get("text") is not None:
            label = ctx.text(concept, "text", item_path)
            if label is not None and (medium is None or label.lower() == medium):
                medium = label  # the medium as written (its coding, if any, is the same)
    stated_interactive = parts.flag("interactive") if parts is not None else None
    if stated_interactive is not None:
        interactive = stated_interactive
    note = _payload_note(ctx)
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
        author=ctx.origin.inferred(sender),
    )
    if status == "completed" and kind in _REPORT_KINDS:
        _report_event(ctx, communication)
    return [("communications", communication)]


def _payload_note(ctx: MapContext) -> str | None:
    """The first payload text: ``contentString`` (R4), else an R5 concept's ``text``."""
    for item_path, payload in ctx.objs(ctx.resource, "payload", ctx.path):
        note = ctx.text(payload, "contentString", item_path)
        concept = payload.get("contentCodeableConcept")  # R5: no contentString
        if note is None and isinstance(concept, dict):
            note = ctx.text(concept, "text", f"{item_path}.contentCodeableConcept")
        if note is not None:
            return note
    return None


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
                IssueCode.NOT_MAPPED,
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
                IssueCode.MISSING_ELEMENT,
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
            IssueCode.MISSING_ELEMENT,
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
            found = security_label(system, code) if code is not None else None
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


# --------------------------------------------------------------------------- reconciliations

_LIST_KINDS = {kind.value: kind for kind in ListKind}


def _list_kind(resource: dict[str, Any]) -> ListKind | None:
    """The list a List's ``code`` names in ``list-example-use-codes``, read quietly."""
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and coding.get("system") == LIST_CODE_SYSTEM:
            code = coding.get("code")
            kind = _LIST_KINDS.get(code) if isinstance(code, str) else None
            if kind is not None:
                return kind
    return None


def is_reconciliation(resource: dict[str, Any]) -> bool:
    """Whether a ``List`` records a reconciliation (read quietly).

    Mode ``changes``, coded medications, allergies or problems (``list-example-use-codes``).
    Other Lists (a current medication list, a worklist...) are not read.
    """
    return resource.get("mode") == "changes" and _list_kind(resource) is not None


def map_list(ctx: MapContext, patient: PatientId, fact_id: str) -> Facts:
    """A reconciliation ``List`` (see :func:`is_reconciliation`) as a :class:`Reconciliation`.

    ``source`` is who reconciled (required), ``date`` when (required); each entry is a
    decision about its ``item`` (entries without one are dropped, warning): the action is
    the ``flag`` text (else its code), the note carecoord's ``decision-note`` extension.
    The sources compared are carecoord's ``reconciled-source`` extensions.
    """
    res, path = ctx.resource, ctx.path
    kind = ctx.require_at(_list_kind(res), "code", "list code")
    performer = ctx.require_at(ctx.ref(res.get("source"), ctx.at("source")), "source", "source")
    at = ctx.require_at(ctx.instant_at(res, "date", path), "date", "date")
    decisions: list[ReconciliationDecision] = []
    for entry_path, entry in ctx.objs(res, "entry", path):
        item = ctx.ref(entry.get("item"), f"{entry_path}.item")
        if item is None:
            ctx.issue(
                f"{entry_path}.item",
                IssueCode.MISSING_ELEMENT,
                "list entry without an item; dropped",
                warning=True,
            )
            continue
        flag = ctx.obj(entry, "flag", entry_path)
        action = ctx.text(flag, "text", f"{entry_path}.flag")
        if action is None and flag is not None:
            code = ctx.code(flag, f"{entry_path}.flag")
            action = code.code if code is not None else None
        note = None
        found = first_extension(entry, ExtensionUrl.DECISION_NOTE, entry_path)
        if found is not None and "valueString" in found[1]:
            note = typed_value(ctx, found[1]["valueString"], f"{found[0]}.valueString", "String")
        decisions.append(ReconciliationDecision(item, action or "", note))
    sources: list[str] = []
    for source_path, stated in extension_items(res, ExtensionUrl.RECONCILED_SOURCE, path):
        if "valueString" in stated:
            value = typed_value(ctx, stated["valueString"], f"{source_path}.valueString", "String")
            if value is not None:
                sources.append(value)
    return [
        (
            "reconciliations",
            Reconciliation(
                id=FactId(fact_id),
                patient=patient,
                list=kind,
                performer=performer,
                at=at,
                decisions=tuple(decisions),
                sources=tuple(sources),
                recorded_at=ctx.recorded_at(),
            ),
        )
    ]
