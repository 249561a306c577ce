"""Writing records as a FHIR Bulk Data export folder (one NDJSON file per resource type).

For tests and benchmarks of :func:`carecoord.fhir.read_bulk` and the Dask pipeline: a
real ``$export`` comes from one server, so each source gets its own subfolder, holding
``Patient.ndjson``, ``Condition.ndjson``, ... Resource ids must be unique per type in an
export, while carecoord's records reuse fact ids across patients (``condition-1`` in
every record), and patient ids across sources: every resource but the parties is given
the id ``<source hash>.<patient id>[.<n>]`` and keeps its model id in carecoord's
``original-id`` extension, so reading the export gives back the records' own ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from carecoord.domain import PatientRecord
from carecoord.fhir import ExtensionUrl, to_resources

__all__ = ["write_bulk_export"]

_PARTIES = frozenset({"Organization", "Practitioner", "PractitionerRole"})
_UNSAFE = re.compile(r"[^A-Za-z0-9\-.]")


def _folder_name(source_id: str) -> str:
    """A file-system-safe folder name for a source id (readable, and unique by a hash)."""
    digest = hashlib.sha256(source_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', source_id)[:40]}-{digest}"


def _rewrite(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _rewrite(v, renames) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in renames:
            out["reference"] = renames[ref]
        return out
    if isinstance(value, list):
        return [_rewrite(v, renames) for v in value]
    return value


def _renamed(record: PatientRecord) -> list[dict[str, Any]]:
    """The record's resources with export-unique ids (model ids kept as ``original-id``)."""
    resources = to_resources(record)
    source = hashlib.sha256(record.source.id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    patient_id = resources[0]["id"]
    if len(patient_id) > 40:
        patient_id = hashlib.sha256(patient_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    renames: dict[str, str] = {}
    for n, resource in enumerate(resources):
        kind = resource["resourceType"]
        if kind in _PARTIES:
            continue
        old = resource["id"]
        new = f"{source}.{patient_id}" if n == 0 else f"{source}.{patient_id}.{n}"
        renames[f"{kind}/{old}"] = f"{kind}/{new}"
        extensions = resource.setdefault("extension", [])
        if not any(e.get("url") == ExtensionUrl.ORIGINAL_ID for e in extensions):
            extensions.append({"url": ExtensionUrl.ORIGINAL_ID, "valueString": old})
        resource["id"] = new
    return [_rewrite(r, renames) for r in resources]


def write_bulk_export(
    records: Iterable[PatientRecord], folder: str | os.PathLike[str]
) -> dict[str, int]:
    """Write ``records`` under ``folder`` as Bulk Data exports, one subfolder per source.

    Each subfolder holds one ``<ResourceType>.ndjson`` per type (lines appended in record
    order); organisations and practitioners are written once per source. Records are
    consumed one at a time, so a large population can be written from a generator.
    Returns how many lines each type got, across sources.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    parties: set[tuple[str, str, str]] = set()
    with ExitStack() as stack:
        files: dict[tuple[str, str], IO[str]] = {}
        for record in records:
            source = record.source.id
            for resource in _renamed(record):
                kind = resource["resourceType"]
                if kind in _PARTIES:
                    key = (source, kind, resource["id"])
                    if key in parties:
                        continue
                    parties.add(key)
                handle = files.get((source, kind))
                if handle is None:
                    sub = root / _folder_name(source)
                    sub.mkdir(exist_ok=True)
                    handle = stack.enter_context(
                        open(sub / f"{kind}.ndjson", "a", encoding="utf-8", newline="\n")
                    )
                    files[(source, kind)] = handle
                handle.write(json.dumps(resource, separators=(",", ":")) + "\n")
                written[kind] = written.get(kind, 0) + 1
    return written
