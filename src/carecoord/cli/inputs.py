"""Reading the commands' PATH arguments: FHIR JSON and HL7 v2 messages, side by side.

A file named ``.hl7``, ``.hl7v2`` or ``.er7`` is read by ``carecoord.hl7v2``, any other
file by ``carecoord.fhir``; a folder by both, each taking its own files (HL7 v2 files
found by those names, recursively, without following linked folders). The two results
are joined into one :class:`~carecoord.interop.ImportResult`, so the commands build
profiles from FHIR and HL7 v2 records of the same people together.
"""

from __future__ import annotations

import os
from pathlib import Path

from carecoord.interop import ImportResult, Limits, ResourceCounts

__all__ = ["HL7_SUFFIXES", "read_inputs"]

HL7_SUFFIXES = (".hl7", ".hl7v2", ".er7")
"""File name endings the commands read as HL7 v2 messages."""


def _hl7_files(folder: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        found.extend(
            os.path.join(root, name)
            for name in sorted(files)
            if name.lower().endswith(HL7_SUFFIXES)
        )
    return found


def read_inputs(paths: list[str], limits: Limits) -> ImportResult:
    """Read every path with the reader its files need; one result for all of them."""
    from carecoord import fhir, hl7v2  # noqa: PLC0415 - the adapters load only when used

    fhir_paths: list[str] = []
    hl7_paths: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            fhir_paths.append(path)
            hl7_paths.extend(_hl7_files(path))
        elif Path(path).name.lower().endswith(HL7_SUFFIXES):
            hl7_paths.append(path)
        else:
            fhir_paths.append(path)
    parts = []
    if fhir_paths:
        parts.append(fhir.read_paths(fhir_paths, limits=limits))
    if hl7_paths:
        parts.append(hl7v2.read([Path(p) for p in hl7_paths], limits=limits))
    counts: dict[str, ResourceCounts] = {}
    for part in parts:
        for kind, count in part.counts.items():
            old = counts.get(kind, ResourceCounts())
            counts[kind] = ResourceCounts(
                old.read + count.read, old.mapped + count.mapped, old.skipped + count.skipped
            )
    return ImportResult(
        tuple(r for part in parts for r in part.records),
        tuple(i for part in parts for i in part.issues),
        counts,
    )
