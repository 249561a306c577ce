"""The reader's passes across resources, once every fact is placed, and the records.

Run in this order by :func:`carecoord.fhir._read.read` after the passes of
``_read_passes``: :func:`finish_referrals` (lifecycles rebuilt from the Tasks,
Appointments and Communications that moved them), :func:`map_prior_authorizations`,
:func:`apply_acknowledgements`, :func:`apply_provenance`, :func:`count_rest`; then
:func:`records` builds one :class:`~carecoord.domain.PatientRecord` per record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import PatientRecord, PriorAuthorization
from carecoord.errors import ValidationError
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_json import SkipResource
from carecoord.fhir._map_requests import (
    build_referral_lifecycle,
    claim_response_target,
    is_prior_authorization,
    map_prior_authorization,
)
from carecoord.fhir._map_state import Key
from carecoord.fhir._read_passes import FACT_TYPES, PARTY_TYPES
from carecoord.fhir._read_state import Place, ReaderState, RecordBuilder, of_source
from carecoord.fhir._resource_types import type_label

__all__ = [
    "apply_acknowledgements",
    "apply_provenance",
    "count_rest",
    "finish_referrals",
    "map_prior_authorizations",
    "records",
]

_SUPPORTING = frozenset({"Medication"})
"""Types read only through references from facts (counted mapped when one was)."""

_Answers = dict[Key, list[tuple[FlatResource, dict[str, Any] | None]]]
"""Referral key -> the ClaimResponses answering its prior authorisation, with the Claim
each names (``None`` when it names none that resolves)."""


def finish_referrals(state: ReaderState) -> None:
    """Rebuild each inferred referral's lifecycle from the events other resources gave."""
    literal = state.shared.literal_referrals
    for key, places in state.locations.items():
        for builder, field, fact_id in places:
            if field != "referrals" or key in literal:
                continue
            slot = builder.facts[field]
            try:
                slot[fact_id] = build_referral_lifecycle(slot[fact_id], key, state.shared)
            except ValidationError as err:
                for problem in err.problems:
                    state.warn(
                        "",
                        IssueCode.INVALID_VALUE,
                        f"referral lifecycle could not be rebuilt: {problem.message}",
                        "",
                    )


def map_prior_authorizations(state: ReaderState) -> None:
    """Prior-authorisation Claims (with their ClaimResponses) onto their referrals.

    Other Claims, and ClaimResponses to no mapped prior authorisation, are left to
    :func:`count_rest` (skipped, ``unsupported-resource``). When several Claims support
    one referral, the latest submitted one wins.
    """
    answers = _claim_answers(state)
    chosen: dict[tuple[Key, str | None], PriorAuthorization] = {}
    for item in state.by_type.get("Claim", []):
        if not is_prior_authorization(item.resource):
            continue
        state.entry(item).handled = True
        found = _prior_authorization(state, item, answers)
        if found is None:
            continue
        referral, owner, auth = found
        previous = chosen.get((referral, owner))
        if previous is None or _submitted_key(auth) >= _submitted_key(previous):
            chosen[(referral, owner)] = auth
    literal = state.shared.literal_referrals
    for (referral, owner), auth in chosen.items():
        for builder, field, fact_id in of_source(state.locations.get(referral, []), owner):
            if field != "referrals":
                continue
            fact = builder.facts[field][fact_id]
            if referral in literal:  # its last_modified is stated as it is
                builder.facts[field][fact_id] = attrs.evolve(fact, prior_authorization=auth)
                continue
            stamps = [t for t in (fact.last_modified, auth.submitted_at, auth.decided_at) if t]
            builder.facts[field][fact_id] = attrs.evolve(
                fact, prior_authorization=auth, last_modified=max(stamps, default=None)
            )


def _claim_answers(state: ReaderState) -> _Answers:
    """The ClaimResponses, by the referral whose prior authorisation they answer."""
    answers: _Answers = {}
    for item in state.by_type.get("ClaimResponse", []):
        ctx = state.ctx(item)
        target = claim_response_target(ctx)
        if target is not None:
            claim = ctx.resolve(item.resource.get("request"))
            answers.setdefault(target, []).append((item, claim))
    return answers


def _prior_authorization(
    state: ReaderState, item: FlatResource, answers: _Answers
) -> tuple[Key, str | None, PriorAuthorization] | None:
    """One prior-authorisation Claim: its referral, that referral's source, the authorisation.

    ``None`` (reported) when it cannot be applied.
    """
    ctx = state.ctx(item)
    answered = answers.get(state.key(item), [])
    owner = None
    if ctx.origin.literal:  # several sources' Claims may share an id: match exactly
        exact = [pair for pair in answered if pair[1] is item.resource]
        answered = exact or answered
        supported = ctx.resolve(item.resource.get("referral"))
        owner = state.shared.resources.source_of(supported)
    responses = [response for response, _claim in answered]
    try:
        referral, auth = map_prior_authorization(ctx, [state.ctx(r) for r in responses])
        places = state.locations.get(referral, [])
        if not any(field == "referrals" for _b, field, _i in places):
            raise SkipResource(
                f"{item.path}.referral",
                IssueCode.NOT_MAPPED,
                "the referral this prior authorisation supports was not read",
                warning=True,
            )
    except (SkipResource, ValidationError) as err:
        state.skipped(item, err, "Claim")
        return None
    state.count("Claim", mapped=1)
    for response in responses:
        state.entry(response).handled = True
        state.count("ClaimResponse", mapped=1)
    return referral, owner, auth


def apply_acknowledgements(state: ReaderState) -> None:
    """Acknowledgements from result-review activities onto the results they reviewed."""
    for key, pending in state.shared.acknowledgements.items():
        every = [p for p in state.locations.get(key, []) if p[1] == "results"]
        for acknowledgement, path, source, owner in pending:
            places = of_source(every, owner)
            if not places:
                state.warn(
                    f"{path}.focus",
                    IssueCode.NOT_MAPPED,
                    "the reviewed result was not read; no acknowledgement made",
                    source,
                )
            for builder, field, fact_id in places:
                result = builder.facts[field][fact_id]
                if acknowledgement in result.acknowledgements:
                    continue
                if acknowledgement.at < result.issued:
                    state.warn(
                        f"{path}.executionPeriod",
                        IssueCode.INVALID_VALUE,
                        "reviewed before the result was issued; no acknowledgement made",
                        source,
                    )
                    continue
                builder.facts[field][fact_id] = attrs.evolve(
                    result, acknowledgements=(*result.acknowledgements, acknowledgement)
                )


def apply_provenance(state: ReaderState) -> None:
    """Every Provenance: its author (and time) onto the facts it targets that have none.

    A carecoord-written Provenance gives the author only (the facts' ``recorded_at``
    is their own ``meta.lastUpdated``), to the target's own record when several
    sources' records hold a fact of that id.
    """
    for item in state.by_type.get("Provenance", []):
        ctx = state.ctx(item)
        recorded = ctx.instant_at(item.resource, "recorded", ctx.path)
        author = _provenance_author(ctx, item)
        applied = 0
        for target_path, target in ctx.items(item.resource, "target", item.path):
            key = ctx.key_of_ref(target)
            if key is None:
                ctx.ref(target, target_path)
                continue
            places = state.locations.get(key, [])
            if ctx.origin.literal and len(places) > 1:
                places = of_source(places, state.shared.resources.source_of(ctx.resolve(target)))
            for place in places:
                _attribute(ctx, place, author, recorded)
                applied += 1
        if applied:
            state.count("Provenance", mapped=1)
        else:
            state.warn(
                ctx.at("target"),
                IssueCode.NOT_MAPPED,
                "provenance targets none of the facts read",
                item.source,
            )
            state.count("Provenance", skipped=1)


def _provenance_author(ctx: MapContext, item: FlatResource) -> Any:
    """The first agent's ``who`` that resolves, authors (and enterers) first."""
    agents = ctx.objs(item.resource, "agent", item.path)
    for agent_path, agent in sorted(agents, key=lambda pa: not _is_author(ctx, pa)):
        author = ctx.ref(agent.get("who"), f"{agent_path}.who")
        if author is not None:
            return author
    return None


def _attribute(ctx: MapContext, place: Place, author: Any, recorded: dt.datetime | None) -> None:
    """Give one fact the Provenance's author (and time, unless carecoord wrote it)."""
    builder, field, fact_id = place
    fact = builder.facts[field][fact_id]
    changes: dict[str, Any] = {}
    names = {a.name for a in attrs.fields(type(fact))}
    if "author" in names and fact.author is None and author is not None:
        changes["author"] = author
    if (
        "recorded_at" in names
        and fact.recorded_at is None
        and recorded is not None
        and ctx.origin.infers
    ):
        changes["recorded_at"] = recorded
    if changes:
        builder.facts[field][fact_id] = attrs.evolve(fact, **changes)
        builder.parties |= ctx.parties


def count_rest(state: ReaderState) -> None:
    """Count what no pass mapped: supporting resources, and types carecoord does not read."""
    handled = {"Patient", "Provenance", *PARTY_TYPES, *FACT_TYPES}
    for kind, every in state.by_type.items():
        if kind in handled:
            continue
        items = [i for i in every if not state.entry(i).handled]
        if not items:
            continue
        if kind in _SUPPORTING:
            used = sum(1 for i in items if state.key(i) in state.shared.used)
            state.count(kind, mapped=used, skipped=len(items) - used)
            continue
        state.count(kind, skipped=len(items))
        first = items[0]
        state.warn(
            first.path,
            IssueCode.UNSUPPORTED_RESOURCE,
            f"{len(items)} {type_label(kind)} resource(s) not mapped"
            " (carecoord does not read this type)",
            first.source,
        )


# --------------------------------------------------------------------------- records


def records(state: ReaderState) -> Iterator[PatientRecord]:
    """One record per (source, patient), with the parties its facts name."""
    for builder in state.builders.values():
        parties = _party_closure(state, builder)
        facts = {name: tuple(slot.values()) for name, slot in builder.facts.items()}
        try:
            yield PatientRecord(
                source=builder.source,
                patient=builder.patient,
                practitioners=tuple(
                    state.practitioners[k] for k in parties if k in state.practitioners
                ),
                organizations=tuple(
                    state.organizations[k] for k in parties if k in state.organizations
                ),
                **facts,
            )
        except ValidationError as err:  # defensive: facts are checked as they are placed
            for problem in err.problems:
                state.issues.add(
                    "", IssueCode.INVALID_VALUE, f"record dropped: {problem}", source=""
                )


def _party_closure(state: ReaderState, builder: RecordBuilder) -> list[Key]:
    """The parties a record names, with their employers and parent organisations."""
    for ref in builder.patient.general_practitioner:
        builder.parties.add((ref.type, ref.id))
    pending = sorted(builder.parties)
    seen: list[Key] = []
    while pending:
        key = pending.pop(0)
        if key in seen:
            continue
        seen.append(key)
        org = state.shared.org_of_party.get(key)
        if org is not None:
            pending.append(org)
        practitioner = state.practitioners.get(key)
        if practitioner is not None and practitioner.organization is not None:
            pending.append(("Organization", practitioner.organization))
        organization = state.organizations.get(key)
        if organization is not None and organization.part_of is not None:
            pending.append(("Organization", organization.part_of))
    return seen


def _submitted_key(auth: PriorAuthorization) -> tuple[bool, dt.datetime]:
    """Orders prior authorisations by submission (unsubmitted first)."""
    submitted = auth.submitted_at
    return (submitted is not None, submitted or dt.datetime.min.replace(tzinfo=dt.UTC))


def _is_author(ctx: MapContext, pair: tuple[str, dict[str, Any]]) -> bool:
    path, agent = pair
    codes = ctx.code_values(ctx.each_concept(agent, "type", path))
    return bool(codes & {"AUT", "author", "enterer", "ENT"})
