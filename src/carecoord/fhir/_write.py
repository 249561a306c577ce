"""Writing carecoord records as FHIR R4: resources, Bundles, bulk NDJSON, DetectedIssues.

:func:`to_resources` turns one :class:`~carecoord.domain.PatientRecord` into plain
resources (references written ``Type/id``); :func:`write_bundle` puts records (or the
records of :class:`~carecoord.profile.PatientProfile` objects) in one Bundle whose
entries have ``urn:uuid`` fullUrls and refer to each other by them, with gaps as DEQM
``DetectedIssue`` entries; :func:`write_ndjson` writes the same resources as bulk-data
NDJSON. What is written reads back with :func:`carecoord.fhir.read`; ``docs/fhir.md``
("Writing") has the mapping and what does not survive the round trip.

Nothing here reads the clock: every time written is a time of the model.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from carecoord.domain import (
    PatientRecord,
    Ref,
)
from carecoord.fhir._kinds import fact_reference_type, kind_provenances, kind_resources
from carecoord.fhir._usage import checked_items, checked_one
from carecoord.fhir._write_base import (
    ExtensionUrl,
    FhirExportError,
    Json,
    WriteContext,
    full_url,
    generated_id,
    instant,
    safe_id,
)
from carecoord.fhir._write_gaps import gap_to_detected_issue
from carecoord.fhir._write_parties import (
    write_organization,
    write_patient,
    write_practitioner,
    write_related_person,
)

if TYPE_CHECKING:
    from carecoord.profile import PatientProfile
    from carecoord.rules import Gap

__all__ = [
    "BUNDLE_TYPES",
    "ExtensionUrl",
    "FhirExportError",
    "gap_to_detected_issue",
    "to_resources",
    "write_bundle",
    "write_ndjson",
]

BUNDLE_TYPES = ("collection", "transaction")
"""The Bundle types :func:`write_bundle` makes (a transaction ``PUT`` s every resource)."""

_RELATIVE = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")


# --------------------------------------------------------------------------- one record


def _record_resources(record: PatientRecord, parties: set[tuple[str, str]]) -> list[Json]:
    """Every resource of one record; parties already in ``parties`` are not repeated."""
    ctx = WriteContext(record)
    found = [write_patient(ctx, record.patient)]
    for organization in record.organizations:
        if ("Organization", organization.id) not in parties:
            parties.add(("Organization", organization.id))
            found.append(write_organization(ctx, organization))
    for practitioner in record.practitioners:
        if ("Practitioner", practitioner.id) not in parties:
            parties.add(("Practitioner", practitioner.id))
            found.extend(write_practitioner(ctx, practitioner))
    found.extend(write_related_person(ctx, person) for person in record.related_persons)
    found.extend(kind_resources(ctx, record))
    found.extend(kind_provenances(ctx, record))
    for resource in found:
        ident = resource["id"]
        if safe_id(ident) != ident:
            resource["id"] = safe_id(ident)
            resource.setdefault("extension", []).append(
                {"url": ExtensionUrl.ORIGINAL_ID, "valueString": ident}
            )
    _check_unique(found)
    return found


def _check_unique(resources: Iterable[Json]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for resource in resources:
        key = (resource["meta"]["source"], resource["resourceType"], resource["id"])
        if key in seen:
            msg = (
                f"two facts of one record become the same {resource['resourceType']} "
                "(the same id): give them distinct ids"
            )
            raise FhirExportError(msg)
        seen.add(key)


def to_resources(record: PatientRecord) -> list[dict[str, Any]]:
    """Every FHIR R4 resource for one record, references written ``Type/id``.

    The Patient first, then the organisations and practitioners (with a
    PractitionerRole for discipline, specialty and employer), the patient's related
    persons, then the facts in
    :data:`~carecoord.domain.FACT_KINDS` order (a referral adds its fulfilment Task, a
    social need sharing its id with a condition is the same Condition), then a
    Provenance for each author that has no element of its own. Every resource has
    ``meta.source`` (the record's source id) and the carecoord origin tag.

    Raises:
        FhirExportError: two facts would be the same resource (an encounter and a care
            transition, an order and a referral, a task and an activity with one id).
        UsageError: ``record`` is not a :class:`~carecoord.domain.PatientRecord`.
    """
    return _record_resources(checked_one(record, PatientRecord, "record"), set())


# --------------------------------------------------------------------------- many records


def _inputs(value: object) -> list[PatientRecord | PatientProfile]:
    """The records and profiles to write, checked (a wrong type is a ``UsageError``)."""
    from carecoord.profile import PatientProfile  # noqa: PLC0415 - only when writing

    kinds = (PatientRecord, PatientProfile)
    return checked_items(value, kinds, "records_or_profiles")


def _records(inputs: Iterable[PatientRecord | PatientProfile]) -> list[PatientRecord]:
    found: dict[tuple[str, str], PatientRecord] = {}
    for item in inputs:
        records = (item,) if isinstance(item, PatientRecord) else item.records
        for record in records:
            known = found.get(record.key)
            if known is None:
                found[record.key] = record
            elif known != record:
                msg = "two different records have the same source and patient id"
                raise FhirExportError(msg)
    return list(found.values())


def _profile_ids(inputs: list[PatientRecord | PatientProfile]) -> dict[str, PatientRecord]:
    """Every name a gap may give a patient by (profile id, ``source/patient``, patient id)."""
    names: dict[str, PatientRecord] = {}
    for item in inputs:
        if isinstance(item, PatientRecord):
            names.setdefault(f"{item.source.id}/{item.patient.id}", item)
            names.setdefault(item.patient.id, item)
        elif item.records:
            names.setdefault(item.id, item.records[0])
            for record in item.records:
                names.setdefault(f"{record.source.id}/{record.patient.id}", record)
    return names


class _Written:
    """The resources of several records, with where each one is.

    FHIR ids are unique per type within a source, but fact ids only within a record: when
    a later record of a source repeats a (type, id) an earlier one wrote, its resource
    gets a stable stand-in id (``id-<hash>`` of the patient and the id, the model id in
    the ``original-id`` extension) and the record's references follow it.
    """

    def __init__(self, records: list[PatientRecord]) -> None:
        parties: set[tuple[str, str]] = set()
        taken: set[tuple[str, str, str]] = set()
        self.resources: list[Json] = []
        self.by_record: list[tuple[PatientRecord, list[Json]]] = []
        for record in records:
            written = _record_resources(record, parties)
            renames = {
                (r["resourceType"], r["id"]): generated_id("id", record.patient.id, r["id"])
                for r in written
                if (r["meta"]["source"], r["resourceType"], r["id"]) in taken
            }
            if renames:
                written = [_renamed(r, renames) for r in written]
            taken.update((r["meta"]["source"], r["resourceType"], r["id"]) for r in written)
            self.by_record.append((record, written))
            self.resources.extend(written)
        self.urls: dict[tuple[str, str, str], str] = {}
        self.anywhere: dict[tuple[str, str], str] = {}
        for resource in self.resources:
            source, kind = resource["meta"]["source"], resource["resourceType"]
            ident = resource["id"]
            self.urls[(source, kind, ident)] = full_url(source, kind, ident)
            self.anywhere.setdefault((kind, ident), self.urls[(source, kind, ident)])

    def url_of(self, resource: Json) -> str:
        """The fullUrl of one of the written resources."""
        meta = resource["meta"]
        return self.urls[(meta["source"], resource["resourceType"], resource["id"])]

    def resolve(self, source: str, reference: str) -> str | None:
        """The fullUrl a ``Type/id`` reference from ``source`` points to, if written."""
        match = _RELATIVE.match(reference)
        if match is None:
            return None
        key = (match["type"], match["id"])
        return self.urls.get((source, *key)) or self.anywhere.get(key)

    def fact_references(self, relative: bool) -> dict[str, str]:
        """Profile fact key (``source/fact-id``) -> reference to the fact's resource."""
        found: dict[str, str] = {}
        for record, resources in self.by_record:
            ids = {
                (r["resourceType"], _original_id(r)): f"{r['resourceType']}/{r['id']}"
                for r in resources
            }
            ctx = WriteContext(record)
            for name, fact in record.facts():
                fhir_type = ctx.fhir_type(Ref(fact_reference_type(name), fact.id))
                target = ids.get((fhir_type, fact.id))
                if target is None:
                    continue
                if not relative:
                    target = self.resolve(record.source.id, target) or target
                found.setdefault(f"{record.source.id}/{fact.id}", target)
        return found

    def patient_reference(self, record: PatientRecord, relative: bool) -> str:
        """A reference to the record's Patient."""
        reference = WriteContext(record).patient()["reference"]
        assert isinstance(reference, str)
        if relative:
            return reference
        return self.resolve(record.source.id, reference) or reference


def _renamed(resource: Json, renames: dict[tuple[str, str], str]) -> Json:
    """A copy of ``resource`` with the ids in ``renames`` replaced, in references too."""

    def change(reference: str) -> str | None:
        match = _RELATIVE.match(reference)
        new = renames.get((match["type"], match["id"])) if match is not None else None
        return f"{match['type']}/{new}" if match is not None and new is not None else None

    copied: Json = _rewrite(resource, change)
    new_id = renames.get((copied["resourceType"], copied["id"]))
    if new_id is not None:
        copied.setdefault("extension", []).append(
            {"url": ExtensionUrl.ORIGINAL_ID, "valueString": copied["id"]}
        )
        copied["id"] = new_id
    return copied


def _original_id(resource: Json) -> str:
    """The model id of a written resource (before any stand-in id)."""
    for item in resource.get("extension", ()):
        if item.get("url") == ExtensionUrl.ORIGINAL_ID:
            value = item["valueString"]
            assert isinstance(value, str)
            return value
    ident = resource["id"]
    assert isinstance(ident, str)
    return ident


def _rewrite(value: Any, change: Callable[[str], str | None]) -> Any:
    """A copy of ``value`` with every ``Reference.reference`` that ``change`` maps rewritten."""
    if isinstance(value, dict):
        copied = {k: _rewrite(v, change) for k, v in value.items()}
        reference = copied.get("reference")
        if isinstance(reference, str):
            replaced = change(reference)
            if replaced is not None:
                copied["reference"] = replaced
        return copied
    if isinstance(value, list):
        return [_rewrite(v, change) for v in value]
    return value


def _detected_issues(
    inputs: list[PatientRecord | PatientProfile],
    gaps: Iterable[Gap],
    written: _Written,
    *,
    relative: bool,
) -> list[Json]:
    from carecoord.rules import Gap  # noqa: PLC0415 - only when writing gaps

    identified = getattr(gaps, "as_of", None)
    names = _profile_ids(inputs)
    references = written.fact_references(relative)
    found: list[Json] = []
    for gap in checked_items(gaps, Gap, "gaps"):
        record = names.get(gap.patient)
        if record is None:
            msg = "a gap names a patient that is not among the records written"
            raise FhirExportError(msg)
        found.append(
            gap_to_detected_issue(
                gap,
                patient_ref=written.patient_reference(record, relative),
                identified=identified,
                references=references,
            )
        )
    return found


def write_bundle(
    records_or_profiles: Iterable[PatientRecord | PatientProfile],
    *,
    bundle_type: str = "collection",
    gaps: Iterable[Gap] = (),
) -> dict[str, Any]:
    """A FHIR R4 Bundle of records (a profile gives its source records, unchanged).

    Every entry has a deterministic ``urn:uuid`` fullUrl (from its source, type and id),
    and references to resources in the Bundle use it; references to anything else stay
    ``Type/id``. Practitioners and organisations shared by several records are written
    once. ``gaps`` (a :class:`~carecoord.rules.GapReport` or any gaps about the patients
    written) become DEQM ``DetectedIssue`` entries whose evidence points at the facts'
    entries; a report's ``as_of`` is their ``identifiedDateTime``.

    ``bundle_type`` is ``"collection"`` or ``"transaction"`` (each entry then ``PUT`` s
    ``Type/id``). The Bundle's ``meta.source`` is the source id when every record has the
    same source, and its ``timestamp`` the records' ``retrieved_at`` when they all agree.

    Raises:
        FhirExportError: an unknown ``bundle_type``, two facts that would be the same
            resource, or a gap about a patient not written.
        UsageError: an input that is not a record or profile, or a gap that is not a
            :class:`~carecoord.rules.Gap`.
    """
    if bundle_type not in BUNDLE_TYPES:
        msg = f"bundle_type must be one of {', '.join(BUNDLE_TYPES)}"
        raise FhirExportError(msg)
    inputs = _inputs(records_or_profiles)
    records = _records(inputs)
    written = _Written(records)
    entries: list[Json] = []
    for resource in written.resources:
        rewritten = _rewrite(
            resource, functools.partial(written.resolve, resource["meta"]["source"])
        )
        entries.append(_entry(written.url_of(resource), rewritten, bundle_type))
    for issue in _detected_issues(inputs, gaps, written, relative=False):
        url = full_url("", "DetectedIssue", issue["id"])
        entries.append(_entry(url, issue, bundle_type))
    bundle: Json = {"resourceType": "Bundle"}
    sources = {r.source.id for r in records}
    if len(sources) == 1:
        bundle["meta"] = {"source": next(iter(sources))}
    bundle["type"] = bundle_type
    stamps = {r.source.retrieved_at for r in records}
    stamp = next(iter(stamps)) if len(stamps) == 1 else None
    if stamp is not None:
        bundle["timestamp"] = instant(stamp)
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(url: str, resource: Json, bundle_type: str) -> Json:
    entry: Json = {"fullUrl": url, "resource": resource}
    if bundle_type == "transaction":
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    return entry


def write_ndjson(
    records_or_profiles: Iterable[PatientRecord | PatientProfile],
    *,
    gaps: Iterable[Gap] = (),
) -> str:
    """The resources of :func:`write_bundle`, one JSON object per line (bulk-data NDJSON).

    References are ``Type/id`` (NDJSON has no fullUrl), so an id repeated across sources
    is ambiguous: use :func:`write_bundle` for records of several sources that share ids.
    Ends with a newline; empty input gives ``""``. The text always encodes as UTF-8: a
    line holding a lone surrogate (which UTF-8 cannot) is written with ASCII escapes.
    """
    inputs = _inputs(records_or_profiles)
    written = _Written(_records(inputs))
    resources = [*written.resources, *_detected_issues(inputs, gaps, written, relative=True)]
    text = "".join(_json_line(r, ascii_only=False) for r in resources)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped (\ud800) in the lines holding one
        text = "".join(_json_line(r, ascii_only=not _encodable(r)) for r in resources)
    return text


def _json_line(resource: Json, *, ascii_only: bool) -> str:
    return json.dumps(resource, ensure_ascii=ascii_only, separators=(",", ":")) + "\n"


def _encodable(resource: Json) -> bool:
    try:
        _json_line(resource, ascii_only=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
