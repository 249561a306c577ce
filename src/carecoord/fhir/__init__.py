"""FHIR R4 adapter: read FHIR into carecoord records, and write records and gaps back.

:func:`read` takes Bundles, single resources and bulk NDJSON; :func:`write_bundle`,
:func:`write_ndjson` and :func:`to_resources` write records and profiles, and
:func:`gap_to_detected_issue` writes a gap as a Da Vinci DEQM ``DetectedIssue``.
:func:`read_value_sets` reads FHIR ``ValueSet`` resources (VSAC exports) into
:class:`~carecoord.terminology.ValueSet` objects for the rules and consent views.

>>> from carecoord import fhir
>>> result = fhir.read({"resourceType": "Patient", "id": "p1", "gender": "female"})
>>> [record.patient.id for record in result.records]
['p1']

Importing this module loads no other adapter. See ``docs/fhir.md`` for the mapping table.
"""

from __future__ import annotations

from carecoord.fhir._issues import ImportIssue, IssueCode, Severity
from carecoord.fhir._read import FhirImportError, ImportResult, ResourceCounts, read
from carecoord.fhir._valuesets import read_value_sets
from carecoord.fhir._write import (
    FhirExportError,
    gap_to_detected_issue,
    to_resources,
    write_bundle,
    write_ndjson,
)

__all__ = [
    "FhirExportError",
    "FhirImportError",
    "ImportIssue",
    "ImportResult",
    "IssueCode",
    "ResourceCounts",
    "Severity",
    "gap_to_detected_issue",
    "read",
    "read_value_sets",
    "to_resources",
    "write_bundle",
    "write_ndjson",
]
