"""FHIR R4 adapter: read FHIR into carecoord records, and write records and gaps back.

:func:`read` takes Bundles, single resources and bulk NDJSON; :func:`write_bundle`,
:func:`write_ndjson` and :func:`to_resources` write records and profiles, and
:func:`gap_to_detected_issue` writes a gap as a Da Vinci DEQM ``DetectedIssue``.

>>> from carecoord import fhir
>>> result = fhir.read({"resourceType": "Patient", "id": "p1", "gender": "female"})
>>> [record.patient.id for record in result.records]
['p1']

Importing this module loads no other adapter. See ``docs/fhir.md`` for the mapping table.
"""

from __future__ import annotations

from carecoord.errors import IssueCode, IssueSeverity
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._issues import ImportIssue
from carecoord.fhir._read import FhirImportError, ImportResult, ResourceCounts, read
from carecoord.fhir._write import (
    FhirExportError,
    gap_to_detected_issue,
    to_resources,
    write_bundle,
    write_ndjson,
)

Severity = IssueSeverity
"""The former name of :class:`~carecoord.errors.IssueSeverity` here (the same enum, kept so
that ``fhir.Severity.ERROR`` still works); not the gap :class:`carecoord.rules.Severity`."""

__all__ = [
    "FhirExportError",
    "FhirImportError",
    "ImportIssue",
    "ImportResult",
    "IssueCode",
    "IssueSeverity",
    "ResourceCounts",
    "Severity",
    "gap_to_detected_issue",
    "gc_paused",
    "read",
    "to_resources",
    "write_bundle",
    "write_ndjson",
]
