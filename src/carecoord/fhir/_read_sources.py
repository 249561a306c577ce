"""Where each resource of a read comes from: source ids, carecoord's own ids, versions.

Without a ``source_id`` from the caller, :func:`derive_source_id` names the source of
each document. A carecoord-written resource may name its own source (``meta.source``)
and the model's id (``original-id``); :func:`own_source` and :func:`original_id` read
them, for carecoord-written resources only (see :mod:`._origin`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from carecoord.fhir._codes import CareCodes, ExtensionUrl
from carecoord.fhir._input import is_json_text
from carecoord.fhir._origin import Origin

__all__ = ["derive_source_id", "original_id", "own_source", "root_name", "version"]

_FALLBACK_SOURCE = "fhir-input"
_NDJSON_LINE = re.compile(r":\d+$")


def root_name(source: object) -> str | None:
    """The name of the folder a path input is in (or is), for :func:`derive_source_id`.

    Links are resolved (a link loop, an unreadable or invalid path give ``None``, never an
    exception); JSON text (:func:`~carecoord.fhir._input.is_json_text`) has no folder.
    """
    if not isinstance(source, os.PathLike | str) or (
        isinstance(source, str) and is_json_text(source)
    ):
        return None
    try:
        real = os.path.realpath(source)
        folder = real if os.path.isdir(real) else os.path.dirname(real)
    except (OSError, ValueError, TypeError):
        return None
    return os.path.basename(folder) or None


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


def own_source(resource: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """The source a carecoord-written resource names in ``meta.source``, else ``None``.

    Only resources with carecoord's origin tag: elsewhere ``meta.source`` may name a
    request or an intermediary (HAPI writes ``#<request id>``), not the record's source.
    """
    named = meta.get("source")
    if type(named) is not str or not named.strip() or not Origin.of(resource).literal:
        return None
    return named


def original_id(resource: dict[str, Any]) -> str | None:
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
            meta = resource.get("meta")  # no meta.source: _meta_source gives None
            if meta is not None and (type(meta) is not dict or meta.get("source") is not None):
                meta_source = _meta_source(resource)
        if mrn is None:
            mrn = _mrn_system(resource)
    if meta_source or tag_source or mrn:
        return str(meta_source or tag_source or mrn)
    file_label = _NDJSON_LINE.sub("", label)
    folder = Path(file_label).parent.name
    return folder or root or _FALLBACK_SOURCE


def version(resource: dict[str, Any]) -> tuple[str, int]:
    """What orders versions of one resource: ``(meta.lastUpdated, meta.versionId)``."""
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return ("", -1)
    updated = meta.get("lastUpdated")
    version = meta.get("versionId")
    number = (
        int(version) if isinstance(version, str) and version.isdigit() and len(version) < 18 else -1
    )
    return (updated if isinstance(updated, str) else "", number)
