"""Reading FHIR R4 input into :class:`~carecoord.domain.PatientRecord` objects.

:func:`read` takes any input :func:`~carecoord.fhir._input.iter_documents` accepts,
flattens every Bundle, indexes every resource to resolve references across the whole
input, and maps each resource to the carecoord model (see ``docs/fhir.md`` for the
element-by-element table). Facts are grouped into one record per (source, patient).

Lenient mode (the default) keeps everything that maps and reports the rest as
:class:`~carecoord.fhir._issues.ImportIssue` entries; strict mode raises one
:class:`FhirImportError` listing every issue when any of them is an error.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from carecoord.domain import (
    OrderKind,
    Organization,
    OrganizationKind,
    Patient,
    PatientId,
    PatientRecord,
    Practitioner,
    PriorAuthorization,
    Source,
)
from carecoord.errors import InteropError, ValidationError
from carecoord.fhir._codes import CareCodes, ExtensionUrl
from carecoord.fhir._datatypes import parse_instant
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._input import FlatResource, InputSource, iter_documents, iter_resources
from carecoord.fhir._issues import ImportIssue, IssueCode, IssueLog, IssueSeverity
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
from carecoord.fhir._map_encounters import classify_encounter, map_encounter, map_episode_of_care
from carecoord.fhir._map_json import SkipResource
from carecoord.fhir._map_parties import (
    discipline_of_concepts,
    map_organization,
    map_patient,
    map_practitioner,
    practitioner_role_update,
    record_source,
)
from carecoord.fhir._map_requests import (
    build_referral_lifecycle,
    claim_response_target,
    classify_service_request,
    is_prior_authorization,
    map_appointment,
    map_prior_authorization,
    map_service_request,
    map_task,
)
from carecoord.fhir._map_state import Facts, Key, ReadState
from carecoord.fhir._origin import Origin
from carecoord.fhir._refs import ReferenceIndex

__all__ = [
    "FACT_TYPES",
    "PARTY_TYPES",
    "FhirImportError",
    "ImportResult",
    "ResourceCounts",
    "read",
]

PARTY_TYPES = ("Organization", "Practitioner", "PractitionerRole")
"""Resource types read as parties (attached to every record that refers to them)."""

_Mapper = Callable[[MapContext, PatientId, str], Facts]

_MAPPERS: dict[str, _Mapper] = {
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
}

FACT_TYPES: tuple[str, ...] = ("ServiceRequest", *_MAPPERS)
"""Resource types mapped to patient facts, in the order they are mapped (requests before
the Tasks, Appointments and Communications that move them). A ``List`` is mapped too when
it records a reconciliation (other Lists are not read)."""

_SELECTED_MAPPERS: dict[str, _Mapper] = {"List": map_list}
"""Mappers of types only some resources of which are facts (chosen in ``_classify``)."""

_SUBJECT: dict[str, tuple[str, ...]] = {
    "Task": ("for",),
    "AllergyIntolerance": ("patient",),
    "EpisodeOfCare": ("patient",),
    "Consent": ("patient", "subject"),
}
_SUPPORTING = frozenset({"Medication"})
_FALLBACK_SOURCE = "fhir-input"
_NDJSON_LINE = re.compile(r":\d+$")


@attrs.frozen
class ResourceCounts:
    """How many resources of one type were read, mapped to the model, and skipped.

    ``read == mapped + skipped``. A skipped resource is either of a type carecoord does
    not map (one ``unsupported-resource`` warning per type) or one whose mapping failed
    (an issue each).
    """

    read: int = 0
    mapped: int = 0
    skipped: int = 0


def _read_only(value: Mapping[str, ResourceCounts]) -> Mapping[str, ResourceCounts]:
    return types.MappingProxyType(dict(value))


@attrs.frozen
class ImportResult:
    """What :func:`read` produced: records, issues, and counts by resource type.

    ``records`` holds one :class:`~carecoord.domain.PatientRecord` per (source,
    patient), in input order; ``issues`` every problem found, in order; ``counts`` a
    read-only mapping ``resourceType -> ResourceCounts``.
    """

    records: tuple[PatientRecord, ...]
    issues: tuple[ImportIssue, ...]
    counts: Mapping[str, ResourceCounts] = attrs.field(converter=_read_only, eq=False)

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``error``."""
        return tuple(i for i in self.issues if i.is_error)

    @property
    def warnings(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``warning``."""
        return tuple(i for i in self.issues if not i.is_error)

    def issue_codes(self) -> dict[str, int]:
        """How many issues carry each code, most frequent first."""
        found: dict[str, int] = {}
        for issue in self.issues:
            found[issue.code] = found.get(issue.code, 0) + 1
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))

    def record(self, patient_id: str, source_id: str | None = None) -> PatientRecord | None:
        """The record of ``patient_id`` (in ``source_id`` when given), or ``None``."""
        return next(
            (
                r
                for r in self.records
                if r.patient.id == patient_id and (source_id is None or r.source.id == source_id)
            ),
            None,
        )


class FhirImportError(InteropError):
    """Strict :func:`read` found errors; ``issues`` lists every issue (errors and warnings).

    The message lists the errors by path and code, never values from the input.
    """

    def __init__(self, issues: Iterable[ImportIssue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.is_error]
        lines = "\n".join(f"  - {i}" for i in errors)
        super().__init__(f"FHIR input has {len(errors)} error(s):\n{lines}")


def read(
    source: InputSource,
    *,
    strict: bool = False,
    source_id: str | None = None,
    default_tz: dt.tzinfo | None = None,
    pause_gc: bool = True,
) -> ImportResult:
    """Read FHIR R4 JSON into patient records.

    ``source`` is a path (a file or a folder; ``.json``, ``.ndjson`` and their gzip), JSON
    text (``bytes`` or ``str``), one resource as a ``dict``, or an iterable of them;
    Bundles of every type, single resources and bulk NDJSON are accepted.

    ``source_id`` names the :class:`~carecoord.domain.Source` of every record; without it
    the id is derived per document (see ``docs/fhir.md``). ``default_tz`` is the time zone
    for date-times written without an offset (otherwise an error) and for dates read as
    instants (otherwise UTC).

    ``pause_gc`` (the default) pauses the cyclic garbage collector, which is
    process-wide, for the read (:func:`~carecoord.fhir.gc_paused`: the parsed JSON holds
    no cycles, and collections would walk all of it again and again; large reads take
    about half the time). Concurrent reads share the pause: the collector is re-enabled
    when the last of them ends, and only if it was enabled when the first began. Pass
    ``pause_gc=False`` to leave the collector alone.

    Raises:
        FhirImportError: in ``strict`` mode, when any issue is an error.
        InteropError: a path that cannot be read, or input of an unsupported kind.
    """
    checked_id: object = source_id
    if checked_id is not None and (not isinstance(checked_id, str) or not checked_id.strip()):
        msg = "source_id must be a non-empty string"
        raise InteropError(msg)
    raw: object = source
    if isinstance(raw, str | os.PathLike) and "\x00" in os.fspath(raw):
        # Checked here because the input layer lets the OS raise ValueError for it.
        msg = "a path or JSON text cannot contain a NUL character"
        raise InteropError(msg)
    tz: object = default_tz
    if tz is not None and not isinstance(tz, dt.tzinfo):
        msg = "default_tz must be a datetime.tzinfo"
        raise InteropError(msg)
    reader = _Reader(source, source_id, default_tz)
    if pause_gc:
        with gc_paused():
            result = reader.run()
    else:
        result = reader.run()
    if strict and any(i.is_error for i in result.issues):
        raise FhirImportError(result.issues)
    return result


# --------------------------------------------------------------------------- source identity


def _root_name(source: object) -> str | None:
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and source.lstrip()[:1] not in ("{", "[")
    ):
        path = Path(os.fspath(source))
        try:
            return (path.resolve().name if path.is_dir() else path.resolve().parent.name) or None
        except (OSError, ValueError):
            return None
    return None


def _tag_source(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return None, None
    meta_source = meta.get("source")
    tag_source = None
    tags = meta.get("tag")
    for tag in tags if isinstance(tags, list) else []:
        if (
            isinstance(tag, dict)
            and tag.get("system") == CareCodes.SMART_TAGS
            and isinstance(tag.get("code"), str)
            and tag["code"].strip()
        ):
            tag_source = f"{CareCodes.SMART_TAGS}|{tag['code']}"
            break
    return (
        meta_source if isinstance(meta_source, str) and meta_source.strip() else None
    ), tag_source


def _meta_source(resource: dict[str, Any]) -> str | None:
    """``meta.source`` when it is a non-blank string (as :func:`_tag_source` reads it)."""
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return None
    meta_source = meta.get("source")
    return meta_source if isinstance(meta_source, str) and meta_source.strip() else None


def _mrn_system(resource: dict[str, Any]) -> str | None:
    if resource.get("resourceType") != "Patient":
        return None
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict):
            continue
        kind = identifier.get("type")
        codings = kind.get("coding") if isinstance(kind, dict) else None
        is_mrn = any(
            isinstance(c, dict) and c.get("code") == "MR"
            for c in (codings if isinstance(codings, list) else [])
        )
        system = identifier.get("system")
        if is_mrn and isinstance(system, str) and system.strip():
            return system
    return None


def _own_source(resource: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """The source a carecoord-written resource names in ``meta.source``, else ``None``.

    Only resources with carecoord's origin tag: elsewhere ``meta.source`` may name a
    request or an intermediary (HAPI writes ``#<request id>``), not the record's source.
    """
    named = meta.get("source")
    if type(named) is not str or not named.strip() or not Origin.of(resource).literal:
        return None
    return named


def _original_id(resource: dict[str, Any]) -> str | None:
    """The model id in a carecoord-written resource's ``original-id`` extension, else ``None``."""
    extensions = resource.get("extension")
    if type(extensions) is not list:
        return None
    for item in extensions:
        if type(item) is dict and item.get("url") == ExtensionUrl.ORIGINAL_ID:
            value = item.get("valueString")
            if type(value) is str and value.strip() and Origin.of(resource).literal:
                return value
            return None
    return None


def derive_source_id(
    document: dict[str, Any], resources: list[dict[str, Any]], label: str, root: str | None
) -> str:
    """The source id of a document, when :func:`read` is given none.

    The first found of: ``meta.source`` (of the document, else of its first resource
    that has one); a ``https://smarthealthit.org/tags`` tag (``system|code``); the
    ``system`` of the first Patient MRN identifier (type ``MR``); the name of the
    document's folder; ``"fhir-input"``.
    """
    meta_source, tag_source = _tag_source(document)
    mrn = None
    for resource in resources:
        if meta_source is not None:
            break
        if tag_source is None:
            meta_source, tag_source = _tag_source(resource)
        else:  # the first tag found is kept: only meta.source is still looked for
            meta_source = _meta_source(resource)
        if mrn is None:
            mrn = _mrn_system(resource)
    if meta_source or tag_source or mrn:
        return str(meta_source or tag_source or mrn)
    file_label = _NDJSON_LINE.sub("", label)
    folder = Path(file_label).parent.name
    return folder or root or _FALLBACK_SOURCE


# --------------------------------------------------------------------------- the reader


@attrs.define
class _Builder:
    """The facts of one record while they are collected."""

    source: Source
    patient: Patient
    parties: set[Key] = attrs.Factory(set)
    facts: dict[str, dict[str, Any]] = attrs.Factory(dict)


def _version(resource: dict[str, Any]) -> tuple[str, int]:
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return ("", -1)
    updated = meta.get("lastUpdated")
    version = meta.get("versionId")
    number = (
        int(version) if isinstance(version, str) and version.isdigit() and len(version) < 18 else -1
    )
    return (updated if isinstance(updated, str) else "", number)


class _Reader:
    def __init__(
        self, source: InputSource, source_id: str | None, default_tz: dt.tzinfo | None
    ) -> None:
        self.source = source
        self.source_id = source_id
        self.issues = IssueLog()
        self.default_tz = default_tz
        self.items: list[FlatResource] = []
        self.sid: dict[int, str] = {}
        self.own_sources: dict[int, str] = {}
        """``id()`` of carecoord-written resources -> the source their ``meta.source`` names."""
        self.retrieved: dict[int, dt.datetime] = {}
        self.counts: dict[str, list[int]] = {}
        self.builders: dict[tuple[str, str], _Builder] = {}
        self.locations: dict[Key, list[tuple[_Builder, str, str]]] = {}
        self.practitioners: dict[Key, Practitioner] = {}
        self.organizations: dict[Key, Organization] = {}
        self.keys: dict[int, Key] = {}
        """``id()`` of every resource read -> its key (:meth:`_key`), once versions are chosen."""
        self.handled: set[int] = set()
        """``id()`` of resources of otherwise unsupported types that a step mapped."""

    # ----------------------------------------------------------------------- steps

    def run(self) -> ImportResult:
        self._collect()
        index = ReferenceIndex(self.items)
        self.state = ReadState(self.issues, index, self.default_tz)
        self.state.resource_sources = self.sid
        chosen = self._choose_versions(index)
        by_type: dict[str, list[FlatResource]] = {}
        for item in chosen:
            by_type.setdefault(str(item.resource["resourceType"]), []).append(item)
        self._map_parties(by_type)
        self._classify(by_type)
        for item in by_type.get("Patient", []):
            self._map_patient(item)
        for kind in FACT_TYPES:
            for item in by_type.get(kind, []):
                self._map_fact(item)
        for item in self.selected:
            self.handled.add(id(item.resource))
            self._map_fact(item)
        self._finish_referrals()
        self._map_prior_authorizations(by_type)
        self._apply_acknowledgements()
        for item in by_type.get("Provenance", []):
            self._apply_provenance(item)
        self._count_rest(by_type)
        records = self._records()
        counts = {k: ResourceCounts(v[0], v[1], v[2]) for k, v in sorted(self.counts.items())}
        return ImportResult(tuple(records), tuple(self.issues), counts)

    def _count(self, kind: str, *, read: int = 0, mapped: int = 0, skipped: int = 0) -> None:
        entry = self.counts.setdefault(kind, [0, 0, 0])
        entry[0] += read
        entry[1] += mapped
        entry[2] += skipped

    def _collect(self) -> None:
        root = _root_name(self.source)
        for label, raw in iter_documents(self.source, issues=self.issues):
            document = raw
            items = list(iter_resources([(label, document)], issues=self.issues))
            sid = self.source_id or derive_source_id(
                document, [i.resource for i in items], label, root
            )
            retrieved = None
            if document.get("resourceType") == "Bundle" and isinstance(
                document.get("timestamp"), str
            ):
                retrieved = parse_instant(
                    document["timestamp"], "Bundle.timestamp", issues=IssueLog()
                )
            if retrieved is not None and not 2 <= retrieved.year <= 9998:
                retrieved = None
            self.items.extend(items)
            sids, counts, own = self.sid, self.counts, self.own_sources
            derived = self.source_id is None
            for item in items:
                resource = item.resource
                meta = resource.get("meta") if derived else None
                named = (
                    _own_source(resource, meta)
                    if type(meta) is dict and meta.get("source") is not None
                    else None
                )
                if named is None:
                    sids[id(resource)] = sid
                else:
                    own[id(resource)] = sids[id(resource)] = named
                if retrieved is not None:
                    self.retrieved[id(resource)] = retrieved
                kind = str(resource["resourceType"])
                entry = counts.get(kind)
                if entry is None:
                    entry = counts[kind] = [0, 0, 0]
                entry[0] += 1

    def _key(self, index: ReferenceIndex, item: FlatResource) -> Key:
        known = self.keys.get(id(item.resource))
        if known is not None:
            return known
        key = index.key_for(item.resource)
        return (
            key
            if key is not None
            else (str(item.resource["resourceType"]), f"{item.source}#{item.path}")
        )

    def _choose_versions(self, index: ReferenceIndex) -> list[FlatResource]:
        """One item per (source, key): the latest version; the others are reported.

        Also notes the model id of each carecoord-written resource with a stand-in id
        (its ``original-id``), for facts and references to take.
        """
        groups: dict[tuple[str, Key], list[FlatResource]] = {}
        sids, key_for, keys = self.sid, index.key_for, self.keys
        for item in self.items:
            resource = item.resource
            key = key_for(resource)
            if key is None:  # as _key does
                key = (str(resource["resourceType"]), f"{item.source}#{item.path}")
            keys[id(resource)] = key
            if "extension" in resource:
                original = _original_id(resource)
                if original is not None and original != key[1]:
                    self.state.original_ids[key] = original
            group_key = (sids[id(resource)], key)
            group = groups.get(group_key)
            if group is None:
                groups[group_key] = [item]
            else:
                group.append(item)
        chosen: list[FlatResource] = []
        for (_sid, key), group in groups.items():
            if len(group) == 1:
                chosen.append(group[0])
                continue
            ordered = sorted(group, key=lambda i: _version(i.resource))
            latest = ordered[-1]
            chosen.append(latest)
            self.state.versions[key] = [i.resource for i in ordered]
            kind = key[0]
            if kind in PARTY_TYPES or kind == "Task":
                self._count(kind, mapped=len(group) - 1)
                continue
            distinct = len({_version(i.resource) for i in group}) > 1
            for item in ordered[:-1]:
                code = IssueCode.SUPERSEDED_VERSION if distinct else IssueCode.DUPLICATE_RESOURCE
                message = (
                    "an older version of a resource read again; the latest is kept"
                    if distinct
                    else "the same resource read more than once; the last one is kept"
                )
                self.issues.add(
                    item.path, code, message, severity=IssueSeverity.WARNING, source=item.source
                )
                self._count(kind, skipped=1)
        if len(chosen) < len(self.items):  # a later version may come first: input order
            order = {id(item): n for n, item in enumerate(self.items)}
            chosen.sort(key=lambda i: order[id(i)])
        return chosen

    def _ctx(self, item: FlatResource) -> MapContext:
        return MapContext(self.state, item)

    def _skipped(self, item: FlatResource, err: SkipResource | ValidationError, kind: str) -> None:
        if isinstance(err, SkipResource):
            severity = IssueSeverity.WARNING if err.warning else IssueSeverity.ERROR
            message = err.message if err.warning else f"{err.message}; resource skipped"
            self.issues.add(err.path, err.code, message, severity=severity, source=item.source)
        else:
            for problem in err.problems or ():
                self.issues.add(
                    f"{item.path}.{problem.path}" if problem.path else item.path,
                    IssueCode.INVALID_VALUE,
                    f"the model rejects this {kind}: {problem.message}; resource skipped",
                    source=item.source,
                )
        self._count(kind, skipped=1)

    # ----------------------------------------------------------------------- parties

    def _map_parties(self, by_type: dict[str, list[FlatResource]]) -> None:
        index, state = self.state.index, self.state
        for item in by_type.get("Organization", []):
            key = self._key(index, item)
            try:
                org = map_organization(self._ctx(item), key)
            except (SkipResource, ValidationError) as err:
                self._skipped(item, err, "Organization")
                continue
            self.organizations.setdefault(key, org)
            state.party_disciplines.setdefault(key, org.discipline)
            if org.kind is OrganizationKind.COMMUNITY:
                state.community_orgs.add(key)
            self._count("Organization", mapped=1)
        for item in by_type.get("Practitioner", []):
            key = self._key(index, item)
            try:
                practitioner = map_practitioner(self._ctx(item), key)
            except (SkipResource, ValidationError) as err:
                self._skipped(item, err, "Practitioner")
                continue
            self.practitioners.setdefault(key, practitioner)
            self._count("Practitioner", mapped=1)
        for item in by_type.get("PractitionerRole", []):
            self._map_role(item)
        for key, practitioner in self.practitioners.items():
            state.party_disciplines.setdefault(key, practitioner.discipline)

    def _map_role(self, item: FlatResource) -> None:
        index, state = self.state.index, self.state
        key = self._key(index, item)
        ctx = self._ctx(item)
        res = item.resource
        practitioner_key = ctx.key_of_ref(res.get("practitioner"))
        if res.get("practitioner") is not None:
            ctx.ref(res["practitioner"], ctx.at("practitioner"), expected="Practitioner")
        org_key = ctx.key_of_ref(res.get("organization"))
        org_key = org_key if org_key is not None and org_key[0] == "Organization" else None
        roles = ctx.each_concept(res, "specialty", item.path) + ctx.each_concept(
            res, "code", item.path
        )
        discipline = discipline_of_concepts(ctx, roles)
        if discipline is not None:
            state.party_disciplines[key] = discipline
        if org_key is not None:
            state.org_of_party[key] = org_key
        if practitioner_key is None or practitioner_key[0] != "Practitioner":
            if org_key is None:
                self.issues.add(
                    ctx.at("practitioner"),
                    IssueCode.NOT_MAPPED,
                    "role names neither a practitioner nor an organisation",
                    severity=IssueSeverity.WARNING,
                    source=item.source,
                )
                self._count("PractitionerRole", skipped=1)
                return
            state.role_targets[key] = org_key
            self._count("PractitionerRole", mapped=1)
            return
        state.role_targets[key] = practitioner_key
        if org_key is not None:
            state.org_of_party.setdefault(practitioner_key, org_key)
        try:
            updated = practitioner_role_update(
                ctx, self.practitioners.get(practitioner_key), practitioner_key
            )
        except (SkipResource, ValidationError) as err:
            self._skipped(item, err, "PractitionerRole")
            return
        self.practitioners[practitioner_key] = updated
        self._count("PractitionerRole", mapped=1)

    def _classify(self, by_type: dict[str, list[FlatResource]]) -> None:
        index, state = self.state.index, self.state
        self.request_kinds: dict[int, tuple[str, OrderKind]] = {}
        """``id()`` of each ServiceRequest -> what it is (several sources may share its key)."""
        for item in by_type.get("Encounter", []):
            state.domain_types[self._key(index, item)] = classify_encounter(item.resource)
        for item in by_type.get("ServiceRequest", []):
            kind, order_kind = classify_service_request(item.resource, index, state)
            key = self._key(index, item)
            state.domain_types[key] = kind
            self.request_kinds[id(item.resource)] = (kind, order_kind)
        self.selected: list[FlatResource] = []
        for item in by_type.get("List", []):
            if is_reconciliation(item.resource):
                state.domain_types[self._key(index, item)] = "Reconciliation"
                self.selected.append(item)

    # ----------------------------------------------------------------------- patients

    def _map_patient(self, item: FlatResource) -> None:
        key = self._key(self.state.index, item)
        sid = self.sid[id(item.resource)]
        ctx = self._ctx(item)
        try:
            patient = map_patient(ctx, ctx.model_id(key), sid)
        except (SkipResource, ValidationError) as err:
            self._skipped(item, err, "Patient")
            return
        self.state.source_of[key] = sid
        source = record_source(ctx, sid, self.retrieved.get(id(item.resource)))
        builder = _Builder(source, patient, set(ctx.parties))
        self.builders[(sid, key[1])] = builder
        self._count("Patient", mapped=1)

    def _builder_for(self, ctx: MapContext, item: FlatResource) -> _Builder:
        """The record a fact belongs to, from its subject (``MapContext.skip`` if none)."""
        res = item.resource
        kind = str(res["resourceType"])
        found = self._subject_builder(res, kind)
        if found is not None:
            return found
        ref_obj: object = None
        path = ctx.at("subject")
        for name in _SUBJECT.get(kind, ("subject",)):
            if res.get(name) is not None:
                ref_obj, path = res[name], ctx.at(name)
                break
        if ref_obj is None and kind == "Appointment":
            for participant_path, participant in ctx.objs(res, "participant", item.path):
                key = ctx.key_of_ref(participant.get("actor"))
                if key is not None and key[0] == "Patient":
                    ref_obj, path = participant["actor"], f"{participant_path}.actor"
                    break
        if ref_obj is None and kind == "Task":
            focus = ctx.resolve(res.get("focus"))
            if focus is not None:
                subject = focus.get("subject") or focus.get("patient")
                reference = subject.get("reference") if isinstance(subject, dict) else None
                target = (
                    self.state.index.resolve(reference, context=focus)
                    if isinstance(reference, str)
                    else None
                )
                if target is not None and target.get("resourceType") == "Patient":
                    return self._known_patient(ctx, target, path)
        if ref_obj is None:
            ctx.skip(path, IssueCode.MISSING_SUBJECT, "the resource names no patient")
        target = self.state.index.resolve_or_report(ref_obj, path, item.source, self.issues, res)
        if target is not None:
            if target.get("resourceType") != "Patient":
                ctx.skip(
                    path,
                    IssueCode.MISSING_SUBJECT,
                    f"the subject is a {target.get('resourceType')}, not a Patient",
                )
            return self._known_patient(ctx, target, path)
        key = ctx.key_of_ref(ref_obj)
        if key is None or key[0] != "Patient":
            ctx.skip(
                path, IssueCode.MISSING_SUBJECT, "the subject does not name a Patient in the input"
            )
        sid = self.sid[id(res)]
        builder = self.builders.get((sid, key[1]))
        if builder is None:
            source = Source(sid, retrieved_at=self.retrieved.get(id(res)))
            builder = _Builder(source, Patient(id=PatientId(key[1])))
            self.builders[(sid, key[1])] = builder
            self.issues.add(
                path,
                IssueCode.NOT_MAPPED,
                "the patient is not in the input; a record with only its id is made",
                severity=IssueSeverity.WARNING,
                source=item.source,
            )
        return builder

    def _subject_builder(self, res: dict[str, Any], kind: str) -> _Builder | None:
        """The record of a subject that plainly resolves to a Patient read, else ``None``.

        The common case of :meth:`_builder_for`, with nothing to report (so no path to
        build); anything else (``None``) is left to it.
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
            index = self.state.index
            target = index.resolve(reference, context=res)
            if target is None or target.get("resourceType") != "Patient":
                return None
            key = index.key_for(target)
            own = self.own_sources
            sid = own.get(id(target)) if own else None
            if sid is None and key is not None:
                sid = self.state.source_of.get(key)
            if key is None or sid is None:
                return None
            return self.builders.get((sid, key[1]))
        return None

    def _patient_source(self, target: dict[str, Any], key: Key | None) -> str | None:
        """The source of the record a Patient resource is read into.

        A carecoord-written Patient's own ``meta.source`` (several sources' records can
        share a patient id in one input); otherwise the source the Patient with that key
        was read as.
        """
        own = self.own_sources.get(id(target)) if self.own_sources else None
        if own is not None:
            return own
        return self.state.source_of.get(key) if key is not None else None

    def _known_patient(self, ctx: MapContext, target: dict[str, Any], path: str) -> _Builder:
        key = self.state.index.key_for(target)
        sid = self._patient_source(target, key)
        builder = self.builders.get((sid, key[1])) if key is not None and sid is not None else None
        if builder is None:
            ctx.skip(path, IssueCode.MISSING_SUBJECT, "the patient could not be read")
        return builder

    # ----------------------------------------------------------------------- facts

    def _map_fact(self, item: FlatResource) -> None:
        res = item.resource
        kind = str(res["resourceType"])
        key = self._key(self.state.index, item)
        ctx = self._ctx(item)
        try:
            builder = self._builder_for(ctx, item)
            originals = self.state.original_ids
            fact_id = originals.get(key, key[1]) if originals else key[1]
            if kind == "ServiceRequest":
                request, order_kind = self.request_kinds[id(res)]
                facts = map_service_request(
                    ctx,
                    builder.patient.id,
                    fact_id,
                    key,
                    order_kind,
                    referral=request == "Referral",
                )
            else:
                mapper = _MAPPERS.get(kind) or _SELECTED_MAPPERS[kind]
                facts = mapper(ctx, builder.patient.id, fact_id)
        except (SkipResource, ValidationError) as err:
            self._skipped(item, err, kind)
            return
        for field, fact in facts:
            self._place(builder, field, fact, key, item)
        builder.parties |= ctx.parties
        self.counts[kind][1] += 1  # _count(kind, mapped=1): every kind read is counted

    def _place(
        self, builder: _Builder, field: str, fact: Any, key: Key, item: FlatResource
    ) -> None:
        slot = builder.facts.setdefault(field, {})
        if fact.id in slot:
            fact = attrs.evolve(fact, id=f"{key[0]}/{fact.id}")
            self.issues.add(
                item.path,
                IssueCode.DUPLICATE_RESOURCE,
                "another resource gave this record a fact with the same id; "
                "kept with its type as an id prefix",
                severity=IssueSeverity.WARNING,
                source=item.source,
            )
            if fact.id in slot:
                return
        slot[fact.id] = fact
        self.locations.setdefault(key, []).append((builder, field, fact.id))

    def _finish_referrals(self) -> None:
        literal = self.state.literal_referrals
        for key, places in self.locations.items():
            for builder, field, fact_id in places:
                if field != "referrals" or key in literal:
                    continue
                slot = builder.facts[field]
                try:
                    slot[fact_id] = build_referral_lifecycle(slot[fact_id], key, self.state)
                except ValidationError as err:
                    for problem in err.problems:
                        self.issues.add(
                            "",
                            IssueCode.INVALID_VALUE,
                            f"referral lifecycle could not be rebuilt: {problem.message}",
                            severity=IssueSeverity.WARNING,
                            source="",
                        )

    def _map_prior_authorizations(self, by_type: dict[str, list[FlatResource]]) -> None:
        """Prior-authorisation Claims (with their ClaimResponses) onto their referrals.

        Other Claims, and ClaimResponses to no mapped prior authorisation, are left to
        :meth:`_count_rest` (skipped, ``unsupported-resource``). When several Claims
        support one referral, the latest submitted one wins.
        """
        index = self.state.index
        answers: dict[Key, list[tuple[FlatResource, int | None]]] = {}
        for item in by_type.get("ClaimResponse", []):
            ctx = self._ctx(item)
            target = claim_response_target(ctx)
            if target is not None:
                claim = ctx.resolve(item.resource.get("request"))
                answers.setdefault(target, []).append((item, id(claim) if claim else None))
        chosen: dict[tuple[Key, str | None], PriorAuthorization] = {}
        for item in by_type.get("Claim", []):
            if not is_prior_authorization(item.resource):
                continue
            self.handled.add(id(item.resource))
            ctx = self._ctx(item)
            answered = answers.get(self._key(index, item), [])
            owner = None
            if ctx.origin.literal:  # several sources' Claims may share an id: match exactly
                exact = [pair for pair in answered if pair[1] == id(item.resource)]
                answered = exact or answered
                supported = ctx.resolve(item.resource.get("referral"))
                owner = self.sid.get(id(supported)) if supported is not None else None
            responses = [response for response, _claim in answered]
            try:
                referral, auth = map_prior_authorization(ctx, [self._ctx(r) for r in responses])
                places = self.locations.get(referral, [])
                if not any(field == "referrals" for _b, field, _i in places):
                    raise SkipResource(
                        f"{item.path}.referral",
                        IssueCode.NOT_MAPPED,
                        "the referral this prior authorisation supports was not read",
                        warning=True,
                    )
            except (SkipResource, ValidationError) as err:
                self._skipped(item, err, "Claim")
                continue
            self._count("Claim", mapped=1)
            for response in responses:
                self.handled.add(id(response.resource))
                self._count("ClaimResponse", mapped=1)
            previous = chosen.get((referral, owner))
            if previous is None or _submitted_key(auth) >= _submitted_key(previous):
                chosen[(referral, owner)] = auth
        literal = self.state.literal_referrals
        for (referral, owner), auth in chosen.items():
            for builder, field, fact_id in _of_source(self.locations.get(referral, []), owner):
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

    def _apply_acknowledgements(self) -> None:
        """Acknowledgements from result-review activities onto the results they reviewed."""
        for key, pending in self.state.acknowledgements.items():
            every = [p for p in self.locations.get(key, []) if p[1] == "results"]
            for acknowledgement, path, source, owner in pending:
                places = _of_source(every, owner)
                if not places:
                    self.issues.add(
                        f"{path}.focus",
                        IssueCode.NOT_MAPPED,
                        "the reviewed result was not read; no acknowledgement made",
                        severity=IssueSeverity.WARNING,
                        source=source,
                    )
                for builder, field, fact_id in places:
                    result = builder.facts[field][fact_id]
                    if acknowledgement in result.acknowledgements:
                        continue
                    if acknowledgement.at < result.issued:
                        self.issues.add(
                            f"{path}.executionPeriod",
                            IssueCode.INVALID_VALUE,
                            "reviewed before the result was issued; no acknowledgement made",
                            severity=IssueSeverity.WARNING,
                            source=source,
                        )
                        continue
                    builder.facts[field][fact_id] = attrs.evolve(
                        result, acknowledgements=(*result.acknowledgements, acknowledgement)
                    )

    def _apply_provenance(self, item: FlatResource) -> None:
        """A Provenance's author (and time) onto the facts it targets that have none.

        A carecoord-written Provenance gives the author only (the facts' ``recorded_at``
        is their own ``meta.lastUpdated``), to the target's own record when several
        sources' records hold a fact of that id.
        """
        ctx = self._ctx(item)
        res = item.resource
        literal = ctx.origin.literal
        recorded = ctx.instant_at(res, "recorded", ctx.path)
        author = None
        agents = ctx.objs(res, "agent", item.path)
        for agent_path, agent in sorted(agents, key=lambda pa: not _is_author(ctx, pa)):
            author = ctx.ref(agent.get("who"), f"{agent_path}.who")
            if author is not None:
                break
        applied = 0
        for target_path, target in ctx.items(res, "target", item.path):
            key = ctx.key_of_ref(target)
            if key is None:
                ctx.ref(target, target_path)
                continue
            places = self.locations.get(key, [])
            if literal and len(places) > 1:
                resolved = ctx.resolve(target)
                owner = self.sid.get(id(resolved)) if resolved is not None else None
                places = _of_source(places, owner)
            for builder, field, fact_id in places:
                fact = builder.facts[field][fact_id]
                changes: dict[str, Any] = {}
                names = {a.name for a in attrs.fields(type(fact))}
                if "author" in names and fact.author is None and author is not None:
                    changes["author"] = author
                if (
                    "recorded_at" in names
                    and fact.recorded_at is None
                    and recorded is not None
                    and not literal
                ):
                    changes["recorded_at"] = recorded
                if changes:
                    builder.facts[field][fact_id] = attrs.evolve(fact, **changes)
                    builder.parties |= ctx.parties
                applied += 1
        if applied:
            self._count("Provenance", mapped=1)
        else:
            self.issues.add(
                ctx.at("target"),
                IssueCode.NOT_MAPPED,
                "provenance targets none of the facts read",
                severity=IssueSeverity.WARNING,
                source=item.source,
            )
            self._count("Provenance", skipped=1)

    def _count_rest(self, by_type: dict[str, list[FlatResource]]) -> None:
        handled = {"Patient", "Provenance", *PARTY_TYPES, *FACT_TYPES}
        for kind, every in by_type.items():
            if kind in handled:
                continue
            items = [i for i in every if id(i.resource) not in self.handled]
            if not items:
                continue
            if kind in _SUPPORTING:
                used = sum(1 for i in items if self._key(self.state.index, i) in self.state.used)
                self._count(kind, mapped=used, skipped=len(items) - used)
                continue
            self._count(kind, skipped=len(items))
            first = items[0]
            self.issues.add(
                first.path,
                IssueCode.UNSUPPORTED_RESOURCE,
                f"{len(items)} {kind} resource(s) not mapped (carecoord does not read this type)",
                severity=IssueSeverity.WARNING,
                source=first.source,
            )

    # ----------------------------------------------------------------------- records

    def _records(self) -> Iterator[PatientRecord]:
        for builder in self.builders.values():
            parties = self._party_closure(builder)
            facts = {name: tuple(slot.values()) for name, slot in builder.facts.items()}
            try:
                yield PatientRecord(
                    source=builder.source,
                    patient=builder.patient,
                    practitioners=tuple(
                        self.practitioners[k] for k in parties if k in self.practitioners
                    ),
                    organizations=tuple(
                        self.organizations[k] for k in parties if k in self.organizations
                    ),
                    **facts,
                )
            except ValidationError as err:  # defensive: facts are checked as they are placed
                for problem in err.problems:
                    self.issues.add(
                        "", IssueCode.INVALID_VALUE, f"record dropped: {problem}", source=""
                    )

    def _party_closure(self, builder: _Builder) -> list[Key]:
        for ref in builder.patient.general_practitioner:
            builder.parties.add((ref.type, ref.id))
        pending = sorted(builder.parties)
        seen: list[Key] = []
        while pending:
            key = pending.pop(0)
            if key in seen:
                continue
            seen.append(key)
            org = self.state.org_of_party.get(key)
            if org is not None:
                pending.append(org)
            practitioner = self.practitioners.get(key)
            if practitioner is not None and practitioner.organization is not None:
                pending.append(("Organization", practitioner.organization))
            organization = self.organizations.get(key)
            if organization is not None and organization.part_of is not None:
                pending.append(("Organization", organization.part_of))
        return seen


_Place = tuple[_Builder, str, str]


def _of_source(places: list[_Place], source_id: str | None) -> list[_Place]:
    """The places in the record of ``source_id`` (all of them when none is, or no source)."""
    if source_id is None:
        return places
    mine = [place for place in places if place[0].source.id == source_id]
    return mine or places


def _submitted_key(auth: PriorAuthorization) -> tuple[bool, dt.datetime]:
    """Orders prior authorisations by submission (unsubmitted first)."""
    submitted = auth.submitted_at
    return (submitted is not None, submitted or dt.datetime.min.replace(tzinfo=dt.UTC))


def _is_author(ctx: MapContext, pair: tuple[str, dict[str, Any]]) -> bool:
    path, agent = pair
    codes = ctx.code_values(ctx.each_concept(agent, "type", path))
    return bool(codes & {"AUT", "author", "enterer", "ENT"})
