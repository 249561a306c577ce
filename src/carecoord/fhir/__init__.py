"""FHIR R4 adapter: read bundles, resources and bulk NDJSON into carecoord records.

>>> from carecoord import fhir
>>> result = fhir.read({"resourceType": "Patient", "id": "p1", "gender": "female"})
>>> [record.patient.id for record in result.records]
['p1']

Importing this module loads no other adapter. See ``docs/fhir.md`` for the mapping table.
"""

from __future__ import annotations

from carecoord.fhir._issues import ImportIssue, IssueCode, Severity
from carecoord.fhir._read import FhirImportError, ImportResult, ResourceCounts, read

__all__ = [
    "FhirImportError",
    "ImportIssue",
    "ImportResult",
    "IssueCode",
    "ResourceCounts",
    "Severity",
    "read",
]
