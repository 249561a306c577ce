"""The reader's passes up to the facts: collect, choose versions, parties, patients, facts.

Each pass is a named function over the :class:`~carecoord.fhir._read_state.ReaderState`,
run in this order by :func:`carecoord.fhir._read.read`: :func:`collect` (before the
state exists: it gives the resource table), :func:`choose_versions`,
:func:`map_parties`, :func:`classify`, :func:`map_patients`, :func:`map_facts`. The
passes across resources that follow are in ``_read_cross``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import attrs

from carecoord.domain import OrganizationKind, Patient, PatientId, Source
from carecoord.errors import ValidationError
from carecoord.fhir._datatypes import parse_instant
from carecoord.fhir._input import FlatResource, InputReader, InputSource, iter_resources
from carecoord.fhir._issues import IssueCode, IssueLog
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_care import (
    is_reconciliation,
    map_care_plan,
    map_care_team,
    map_communication,
    map_consent,
    map_goal,
    map_list,
)
from carecoord.fhir._map_clinical import (
    map_allergy,
    map_condition,
    map_diagnostic_report,
    map_medication,
    map_observation,
    map_procedure,
)
from carecoord.fhir._map_documents import map_document
from carecoord.fhir._map_encounters import classify_encounter, map_encounter, map_episode_of_care
from carecoord.fhir._map_json import SkipResource
from carecoord.fhir._map_parties import (
    discipline_of_concepts,
    map_organization,
    map_patient,
    map_practitioner,
    map_related_person,
    practitioner_role_update,
    record_source,
)
from carecoord.fhir._map_requests import (
    classify_service_request,
    map_appointment,
    map_service_request,
    map_task,
)
from carecoord.fhir._map_state import Facts, Key, ResourceTable
from carecoord.fhir._read_sources import derive_source_id, original_id, own_source, root_name
from carecoord.fhir._read_sources import version as resource_version
from carecoord.fhir._read_state import ReaderState, RecordBuilder
from carecoord.fhir._resource_types import type_label

__all__ = [
    "FACT_TYPES",
    "MAPPERS",
    "PARTY_TYPES",
    "choose_versions",
    "classify",
    "collect",
    "map_facts",
    "map_parties",
    "map_patients",
]

PARTY_TYPES = ("Organization", "Practitioner", "PractitionerRole")
"""Resource types read as parties (attached to every record that refers to them)."""

Mapper = Callable[[MapContext, PatientId, str], Facts]

MAPPERS: dict[str, Mapper] = {
    "RelatedPerson": map_related_person,
    "Task": map_task,
    "Appointment": map_appointment,
    "Communication": map_communication,
    "CareTeam": map_care_team,
    "Encounter": map_encounter,
    "EpisodeOfCare": map_episode_of_care,
    "Condition": map_condition,
    "MedicationRequest": map_medication,
    "MedicationStatement": map_medication,
    "AllergyIntolerance": map_allergy,
    "Observation": map_observation,
    "DiagnosticReport": map_diagnostic_report,
    "Procedure": map_procedure,
    "CarePlan": map_care_plan,
    "Goal": map_goal,
    "Consent": map_consent,
    "DocumentReference": map_document,
    "Composition": map_document,
}
"""resourceType -> its mapper, for every type all of whose resources are facts."""

FACT_TYPES: tuple[str, ...] = ("ServiceRequest", *MAPPERS)
"""Resource types mapped to patient facts, in the order they are mapped (requests before
the Tasks, Appointments and Communications that move them). A ``List`` is mapped too when
it records a reconciliation (other Lists are not read)."""

_SELECTED_MAPPERS: dict[str, Mapper] = {"List": map_list}
"""Mappers of types only some resources of which are facts (chosen in :func:`classify`)."""

_SUBJECT: dict[str, tuple[str, ...]] = {
    "Task": ("for",),
    "AllergyIntolerance": ("patient",),
    "EpisodeOfCare": ("patient",),
    "Consent": ("patient", "subject"),
    "RelatedPerson": ("patient",),
}

# --------------------------------------------------------------------------- collect


def collect(
    source: InputSource, source_id: str | None, reader: InputReader
) -> tuple[ResourceTable, dict[str, list[int]]]:
    """Read every document; note each resource with its source and retrieval time.

    ``reader`` reads the input (its issue log, limits and file naming). Returns the table
    of every resource read, in input order, and the read count of each type
    (``[read, mapped, skipped]``).
    """
    table = ResourceTable()
    counts: dict[str, list[int]] = {}
    root = root_name(source)
    derived = source_id is None
    issues = reader.issues
    for label, document in reader.documents(source):
        items = list(iter_resources([(label, document)], issues=issues))
        sid = source_id or derive_source_id(
            document, [i.resource for i in items], reader.place(label), root
        )
        retrieved = _retrieved(document)
        for item in items:
            resource = item.resource
            meta = resource.get("meta") if derived else None
            named = (
                own_source(resource, meta)
                if type(meta) is dict and meta.get("source") is not None
                else None
            )
            table.add(item, sid if named is None else named, named, retrieved)
            kind = str(resource["resourceType"])
            entry = counts.get(kind)
            if entry is None:
                entry = counts[kind] = [0, 0, 0]
            entry[0] += 1
    return table, counts


def _retrieved(document: dict[str, Any]) -> dt.datetime | None:
    """A Bundle's ``timestamp``: when its resources were retrieved (``None`` if unusable)."""
    if document.get("resourceType") != "Bundle" or not isinstance(document.get("timestamp"), str):
        return None
    retrieved = parse_instant(document["timestamp"], "Bundle.timestamp", issues=IssueLog())
    if retrieved is not None and not 2 <= retrieved.year <= 9998:
        return None
    return retrieved


# --------------------------------------------------------------------------- versions


def choose_versions(state: ReaderState) -> None:
    """One resource per (source, key): the latest version; the others are reported.

    Fills ``state.by_type`` with the chosen ones, in input order. Also notes each
    resource's key, and the model id of each carecoord-written resource with a stand-in
    id (its ``original-id``), for facts and references to take.
    """
    shared = state.shared
    groups: dict[tuple[str, Key], list[FlatResource]] = {}
    key_for = shared.index.key_for
    entries = shared.resources.entries
    repeated = False
    for entry in entries:
        item = entry.item
        resource = item.resource
        key = key_for(resource)
        if key is None:  # as ReaderState.key does
            key = (str(resource["resourceType"]), f"{item.source}#{item.path}")
        entry.key = key
        if "extension" in resource:
            original = original_id(resource)
            if original is not None and original != key[1]:
                shared.original_ids[key] = original
        group_key = (entry.source_id, key)
        group = groups.get(group_key)
        if group is None:
            groups[group_key] = [item]
        else:
            group.append(item)
            repeated = True
    by_type = state.by_type
    if not repeated:  # one version of everything: every resource, in input order
        for entry in entries:
            resource = entry.item.resource
            kind = str(resource["resourceType"])
            found = by_type.get(kind)
            if found is None:
                by_type[kind] = [entry.item]
            else:
                found.append(entry.item)
        return
    if shared.resources.distinct_objects():
        # Each resource object read once, so input order is the entries' order: keep
        # the entries whose version is chosen (what sorting the chosen ones would give).
        dropped: set[int] = set()
        for (_sid, key), group in groups.items():
            if len(group) > 1:
                latest = _latest(state, key, group)
                dropped.update(id(item) for item in group if item is not latest)
        for entry in entries:
            item = entry.item
            if id(item) not in dropped:
                by_type.setdefault(str(item.resource["resourceType"]), []).append(item)
        return
    chosen: list[FlatResource] = []
    for (_sid, key), group in groups.items():
        if len(group) == 1:
            chosen.append(group[0])
        else:
            chosen.append(_latest(state, key, group))
    if len(chosen) < len(entries):  # a later version may come first: input order
        chosen.sort(key=lambda i: state.entry(i).order)
    for item in chosen:
        state.by_type.setdefault(str(item.resource["resourceType"]), []).append(item)


def _latest(state: ReaderState, key: Key, group: list[FlatResource]) -> FlatResource:
    """The latest of several versions of one resource; the older ones are reported."""
    ordered = sorted(group, key=lambda i: resource_version(i.resource))
    state.shared.versions[key] = [i.resource for i in ordered]
    kind = key[0]
    if kind in PARTY_TYPES or kind == "Task":
        state.count(kind, mapped=len(group) - 1)
        return ordered[-1]
    distinct = len({resource_version(i.resource) for i in group}) > 1
    for item in ordered[:-1]:
        code = IssueCode.SUPERSEDED_VERSION if distinct else IssueCode.DUPLICATE_RESOURCE
        message = (
            "an older version of a resource read again; the latest is kept"
            if distinct
            else "the same resource read more than once; the last one is kept"
        )
        state.warn(item.path, code, message, item.source)
        state.count(kind, skipped=1)
    return ordered[-1]


# --------------------------------------------------------------------------- parties


def map_parties(state: ReaderState) -> None:
    """Organizations, Practitioners, then PractitionerRoles (onto their practitioners)."""
    shared = state.shared
    for item in state.by_type.get("Organization", []):
        key = state.key(item)
        try:
            org = map_organization(state.ctx(item), key)
        except (SkipResource, ValidationError) as err:
            state.skipped(item, err, "Organization")
            continue
        state.organizations.setdefault(key, org)
        shared.party_disciplines.setdefault(key, org.discipline)
        if org.kind is OrganizationKind.COMMUNITY:
            shared.community_orgs.add(key)
        state.count("Organization", mapped=1)
    for item in state.by_type.get("Practitioner", []):
        key = state.key(item)
        try:
            practitioner = map_practitioner(state.ctx(item), key)
        except (SkipResource, ValidationError) as err:
            state.skipped(item, err, "Practitioner")
            continue
        state.practitioners.setdefault(key, practitioner)
        state.count("Practitioner", mapped=1)
    for item in state.by_type.get("PractitionerRole", []):
        _map_role(state, item)
    for key, practitioner in state.practitioners.items():
        shared.party_disciplines.setdefault(key, practitioner.discipline)


def _map_role(state: ReaderState, item: FlatResource) -> None:
    """A PractitionerRole: who it stands for, its organisation and discipline."""
    shared = state.shared
    key = state.key(item)
    ctx = state.ctx(item)
    res = item.resource
    practitioner_key = ctx.key_of_ref(res.get("practitioner"))
    if res.get("practitioner") is not None:
        ctx.ref(res["practitioner"], ctx.at("practitioner"), expected="Practitioner")
    org_key = ctx.key_of_ref(res.get("organization"))
    org_key = org_key if org_key is not None and org_key[0] == "Organization" else None
    roles = ctx.each_concept(res, "specialty", item.path) + ctx.each_concept(res, "code", item.path)
    discipline = discipline_of_concepts(ctx, roles)
    if discipline is not None:
        shared.party_disciplines[key] = discipline
    if org_key is not None:
        shared.org_of_party[key] = org_key
    if practitioner_key is None or practitioner_key[0] != "Practitioner":
        if org_key is None:
            state.warn(
                ctx.at("practitioner"),
                IssueCode.NOT_MAPPED,
                "role names neither a practitioner nor an organisation",
                item.source,
            )
            state.count("PractitionerRole", skipped=1)
            return
        shared.role_targets[key] = org_key
        state.count("PractitionerRole", mapped=1)
        return
    shared.role_targets[key] = practitioner_key
    if org_key is not None:
        shared.org_of_party.setdefault(practitioner_key, org_key)
    try:
        updated = practitioner_role_update(
            ctx, state.practitioners.get(practitioner_key), practitioner_key
        )
    except (SkipResource, ValidationError) as err:
        state.skipped(item, err, "PractitionerRole")
        return
    state.practitioners[practitioner_key] = updated
    state.count("PractitionerRole", mapped=1)


# --------------------------------------------------------------------------- classify


def classify(state: ReaderState) -> None:
    """What Encounters, ServiceRequests and Lists are, before any fact refers to them."""
    shared = state.shared
    for item in state.by_type.get("Encounter", []):
        shared.domain_types[state.key(item)] = classify_encounter(item.resource)
    for item in state.by_type.get("ServiceRequest", []):
        kind, order_kind = classify_service_request(item.resource, shared.index, shared)
        shared.domain_types[state.key(item)] = kind
        state.entry(item).request = (kind, order_kind)  # several sources may share its key
    for item in state.by_type.get("List", []):
        if is_reconciliation(item.resource):
            shared.domain_types[state.key(item)] = "Reconciliation"
            state.selected.append(item)


# --------------------------------------------------------------------------- patients


def map_patients(state: ReaderState) -> None:
    """Every Patient: one record each, per source."""
    for item in state.by_type.get("Patient", []):
        key = state.key(item)
        entry = state.entry(item)
        sid = entry.source_id
        ctx = state.ctx(item)
        try:
            patient = map_patient(ctx, ctx.model_id(key), sid)
        except (SkipResource, ValidationError) as err:
            state.skipped(item, err, "Patient")
            continue
        state.shared.source_of[key] = sid
        source = record_source(ctx, sid, entry.retrieved)
        state.builders[(sid, key[1])] = RecordBuilder(source, patient, set(ctx.parties))
        state.count("Patient", mapped=1)


# --------------------------------------------------------------------------- facts


def map_facts(state: ReaderState) -> None:
    """Every fact, type by type in :data:`FACT_TYPES` order, then the selected ones."""
    for kind in FACT_TYPES:
        for item in state.by_type.get(kind, []):
            _map_fact(state, item)
    for item in state.selected:
        state.entry(item).handled = True
        _map_fact(state, item)


def _map_fact(state: ReaderState, item: FlatResource) -> None:
    res = item.resource
    kind = str(res["resourceType"])
    shared = state.shared
    entry = shared.resources.of(res)
    key = entry.key
    if key is None:
        key = state.key(item)
    ctx = MapContext(shared, item)
    try:
        builder = _builder_for(state, ctx, item)
        originals = shared.original_ids
        fact_id = originals.get(key, key[1]) if originals else key[1]
        if kind == "ServiceRequest":
            request = entry.request
            assert request is not None  # classified before
            facts = map_service_request(
                ctx,
                builder.patient.id,
                fact_id,
                key,
                request[1],
                referral=request[0] == "Referral",
            )
        else:
            mapper = MAPPERS.get(kind) or _SELECTED_MAPPERS[kind]
            facts = mapper(ctx, builder.patient.id, fact_id)
    except (SkipResource, ValidationError) as err:
        state.skipped(item, err, kind)
        return
    for field, fact in facts:
        _place(state, builder, field, fact, key=key, item=item)
    meta = res.get("meta")
    if meta is not None and (type(meta) is not dict or "profile" in meta) and _declares_r5(res):
        state.warn(
            f"{item.path}.meta.profile",
            IssueCode.R5_CONTENT,
            "the resource declares a FHIR R5 profile; read as R4, with the R5 elements "
            "carecoord knows",
            item.source,
        )
    builder.parties |= ctx.parties
    state.counts[kind][1] += 1  # count(kind, mapped=1): every kind read is counted


_R5_PROFILE = re.compile(r"\|5\.\d|/fhir/(?:R5|5\.0)/", re.IGNORECASE)
"""A profile canonical of FHIR R5: versioned ``|5.x``, or under ``/fhir/R5/``."""


def _declares_r5(resource: dict[str, Any]) -> bool:
    """Whether ``meta.profile`` names a FHIR R5 profile (read quietly)."""
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return isinstance(profiles, list) and any(
        isinstance(p, str) and _R5_PROFILE.search(p) is not None for p in profiles
    )


def _place(
    state: ReaderState,
    builder: RecordBuilder,
    field: str,
    fact: Any,
    *,
    key: Key,
    item: FlatResource,
) -> None:
    """Put a fact in its record (a repeated id gets its type as a prefix)."""
    slot = builder.facts.setdefault(field, {})
    if fact.id in slot:
        fact = attrs.evolve(fact, id=f"{key[0]}/{fact.id}")
        state.warn(
            item.path,
            IssueCode.DUPLICATE_RESOURCE,
            "another resource gave this record a fact with the same id; "
            "kept with its type as an id prefix",
            item.source,
        )
        if fact.id in slot:
            return
    slot[fact.id] = fact
    state.locations.setdefault(key, []).append((builder, field, fact.id))


def _builder_for(state: ReaderState, ctx: MapContext, item: FlatResource) -> RecordBuilder:
    """The record a fact belongs to, from its subject (``MapContext.skip`` if none)."""
    res = item.resource
    kind = str(res["resourceType"])
    found = _subject_builder(state, res, kind)
    if found is not None:
        return found
    ref_obj, path = _subject_reference(ctx, kind)
    if ref_obj is None and kind == "Task":
        target = _focus_patient(state, ctx)
        if target is not None:
            return _known_patient(state, ctx, target, path)
    if ref_obj is None:
        ctx.skip(path, IssueCode.MISSING_SUBJECT, "the resource names no patient")
    index = state.shared.index
    target = index.resolve_or_report(ref_obj, path, item.source, state.issues, res)
    if target is not None:
        if target.get("resourceType") != "Patient":
            ctx.skip(
                path,
                IssueCode.MISSING_SUBJECT,
                f"the subject is a {type_label(target.get('resourceType'))}, not a Patient",
            )
        return _known_patient(state, ctx, target, path)
    key = ctx.key_of_ref(ref_obj)
    if key is None or key[0] != "Patient":
        ctx.skip(
            path, IssueCode.MISSING_SUBJECT, "the subject does not name a Patient in the input"
        )
    return _unread_patient(state, item, key, path)


def _subject_reference(ctx: MapContext, kind: str) -> tuple[object, str]:
    """The element naming a resource's patient, and its path (``None`` if there is none)."""
    res = ctx.resource
    for name in _SUBJECT.get(kind, ("subject",)):
        value = res.get(name)
        if isinstance(value, list):  # R5 Composition.subject: the first one
            if value:
                return value[0], f"{ctx.at(name)}[0]"
            continue
        if value is not None:
            return value, ctx.at(name)
    if kind == "Appointment":
        for participant_path, participant in ctx.objs(res, "participant", ctx.path):
            key = ctx.key_of_ref(participant.get("actor"))
            if key is not None and key[0] == "Patient":
                return participant["actor"], f"{participant_path}.actor"
    return None, ctx.at("subject")


def _focus_patient(state: ReaderState, ctx: MapContext) -> dict[str, Any] | None:
    """The Patient of a Task's focus (its subject or patient), quietly; else ``None``."""
    focus = ctx.resolve(ctx.resource.get("focus"))
    if focus is None:
        return None
    subject = focus.get("subject") or focus.get("patient")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    target = (
        state.shared.index.resolve(reference, context=focus) if isinstance(reference, str) else None
    )
    if target is not None and target.get("resourceType") == "Patient":
        return target
    return None


def _unread_patient(state: ReaderState, item: FlatResource, key: Key, path: str) -> RecordBuilder:
    """The record of a patient known only by reference (made, with a warning, if new)."""
    entry = state.entry(item)
    sid = entry.source_id
    builder = state.builders.get((sid, key[1]))
    if builder is None:
        source = Source(sid, retrieved_at=entry.retrieved)
        builder = RecordBuilder(source, Patient(id=PatientId(key[1])))
        state.builders[(sid, key[1])] = builder
        state.warn(
            path,
            IssueCode.NOT_MAPPED,
            "the patient is not in the input; a record with only its id is made",
            item.source,
        )
    return builder


def _subject_builder(state: ReaderState, res: dict[str, Any], kind: str) -> RecordBuilder | None:
    """The record of a subject that plainly resolves to a Patient read, else ``None``.

    The common case of :func:`_builder_for`, with nothing to report (so no path to
    build); anything else (``None``) is left to it. A ``urn:uuid`` subject naming one
    resource resolves alike from everywhere: its record, once found, is remembered by
    the reference's text.
    """
    for name in _SUBJECT.get(kind, ("subject",)):
        ref_obj = res.get(name)
        if ref_obj is None:
            continue
        if type(ref_obj) is not dict:
            return None
        reference = ref_obj.get("reference")
        declared = ref_obj.get("type")
        if type(reference) is not str or not reference or declared not in (None, "Patient"):
            return None
        found = state.subjects.get(reference)
        if found is not None:
            return found
        found = _resolved_subject(state, res, reference)
        if found is not None and state.shared.index.unique_url(reference):
            state.subjects[reference] = found
        return found
    return None


def _resolved_subject(
    state: ReaderState, res: dict[str, Any], reference: str
) -> RecordBuilder | None:
    """The record of the Patient ``reference`` resolves to from ``res`` (``None``: none)."""
    index = state.shared.index
    target = index.resolve(reference, context=res)
    if target is None or target.get("resourceType") != "Patient":
        return None
    key = index.key_for(target)
    sid = state.shared.resources.own_source(target)
    if sid is None and key is not None:
        sid = state.shared.source_of.get(key)
    if key is None or sid is None:
        return None
    return state.builders.get((sid, key[1]))


def _patient_source(state: ReaderState, target: dict[str, Any], key: Key | None) -> str | None:
    """The source of the record a Patient resource is read into.

    A carecoord-written Patient's own ``meta.source`` (several sources' records can
    share a patient id in one input); otherwise the source the Patient with that key
    was read as.
    """
    own = state.shared.resources.own_source(target)
    if own is not None:
        return own
    return state.shared.source_of.get(key) if key is not None else None


def _known_patient(
    state: ReaderState, ctx: MapContext, target: dict[str, Any], path: str
) -> RecordBuilder:
    """The record of a Patient resource (skipping the fact when it was not read)."""
    key = state.shared.index.key_for(target)
    sid = _patient_source(state, target, key)
    builder = state.builders.get((sid, key[1])) if key is not None and sid is not None else None
    if builder is None:
        ctx.skip(path, IssueCode.MISSING_SUBJECT, "the patient could not be read")
    return builder
