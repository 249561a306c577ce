"""Reading several files and folders as one input, each keeping its own source ids.

:func:`read` derives a document's source id from the document, then from the folder it was
read from (see ``docs/fhir.md``, "Records and sources"). Given several folders in one
call it cannot tell which folder a document came from. :func:`read_paths` reads each path
first, stamps each document with the source id it would get if its path were read alone,
then reads all the documents in one call, so references still resolve across the paths.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from carecoord.errors import InteropError, UsageError
from carecoord.fhir._input import InputReader, iter_resources
from carecoord.fhir._issues import ImportIssue, IssueLog
from carecoord.fhir._limits import Limits
from carecoord.fhir._read import (
    FhirImportError,
    ImportResult,
    check_options,
    derive_source_id,
    read,
)
from carecoord.fhir._read_sources import root_name

__all__ = ["read_paths"]

PathLike = str | os.PathLike[str]

_ITEM_LABEL = re.compile(r"<input>\[(\d+)\]")
"""The label :func:`read` gives the n-th object of an iterable input."""


def read_paths(
    paths: PathLike | Iterable[PathLike],
    *,
    strict: bool = False,
    default_tz: dt.tzinfo | None = None,
    limits: Limits | None = None,
    name_files: bool = False,
) -> ImportResult:
    """Read FHIR files and folders as one input; each document keeps its own source id.

    Every path is a file (``.json``, ``.ndjson`` or their gzip) or a folder (read
    recursively, as by :func:`read`). All the documents are read in one call, so
    references resolve across paths (a directory bundle of practitioners beside the
    patient bundles), but each document gets the source id it would get if its path were
    read alone with ``read(path)``: two folders named ``clinic`` and ``hospital`` give two
    sources, where ``read([clinic, hospital])`` would name both ``fhir-input``. A document
    that states ``meta.source`` keeps it.

    Issues name files as ``read(path)`` does: by position (``<file 3>``, numbered across
    all the paths), or with ``name_files`` by path (relative to its folder for a folder,
    ``name:line`` for NDJSON). One path gives exactly what ``read(path)`` gives.
    ``strict``, ``default_tz`` and ``limits`` are as in :func:`read` (the limits bound all
    the paths together); strict mode raises one :class:`FhirImportError` listing the
    issues of every path.

    Raises:
        FhirImportError: in ``strict`` mode, when any issue is an error.
        InteropError: a path that does not exist or cannot be read, or a blank one.
        UsageError: an item that is not a path (use :func:`read` for JSON text and
            objects), or an argument of the wrong type.
    """
    checked = _checked(paths)
    checked_limits = check_options(limits, name_files)
    if len(checked) == 1:
        return read(
            checked[0], strict=strict, default_tz=default_tz, limits=limits, name_files=name_files
        )
    log = IssueLog()
    reader = InputReader(log, checked_limits, name_files=name_files)
    labels: list[str] = []
    documents: list[dict[str, Any]] = []
    for label, document in _labelled_documents(checked, reader):
        labels.append(label)
        documents.append(document)
    result = read(documents, default_tz=default_tz)
    issues = (*log, *(_relabelled(i, labels) for i in result.issues))
    if strict and any(i.is_error for i in issues):
        raise FhirImportError(issues)
    return ImportResult(result.records, issues, result.counts)


def _checked(paths: object) -> list[Path]:
    items = [paths] if isinstance(paths, str | os.PathLike) else paths
    if isinstance(items, bytes | bytearray) or not isinstance(items, Iterable):
        given = type(paths).__name__
        msg = f"read_paths() paths: expected a path or an iterable of paths, got {given}"
        raise UsageError(msg)
    checked: list[Path] = []
    for index, item in enumerate(items):
        if not isinstance(item, str | os.PathLike):
            msg = f"paths[{index}] is a {type(item).__name__}, not a path (use fhir.read)"
            raise UsageError(msg)
        if isinstance(item, str) and not item.strip():
            msg = f"paths[{index}] is an empty string, not a path"
            raise InteropError(msg)
        try:
            checked.append(Path(item))
        except TypeError:
            msg = f"paths[{index}] is not a path of str"
            raise UsageError(msg) from None
    return checked


def _labelled_documents(
    paths: list[Path], reader: InputReader
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every document of every path, with its label and the source id it would get alone.

    The source id is written into a copy of the document's ``meta.source``, which
    :func:`read` takes first; a document that states one is yielded unchanged.
    """
    for index, path in enumerate(paths):
        root = root_name(path)
        for label, document in reader.documents(path, name=f"<input>[{index}]"):
            meta = document.get("meta")
            known = meta.get("source") if isinstance(meta, dict) else None
            if isinstance(known, str) and known.strip():
                yield label, document
                continue
            found = iter_resources([(label, document)], issues=IssueLog())
            resources = [i.resource for i in found]
            source = derive_source_id(document, resources, reader.place(label), root)
            stamped = {**(meta if isinstance(meta, dict) else {}), "source": source}
            yield label, {**document, "meta": stamped}


def _relabelled(issue: ImportIssue, labels: list[str]) -> ImportIssue:
    """``issue`` naming the file its document came from instead of ``<input>[n]``."""
    match = _ITEM_LABEL.fullmatch(issue.source)
    if match is None or int(match[1]) >= len(labels):
        return issue
    return attrs.evolve(issue, source=labels[int(match[1])])
