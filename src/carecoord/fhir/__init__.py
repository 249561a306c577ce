"""FHIR R4 adapter: read FHIR into carecoord records, and write records and gaps back.

:func:`read` takes Bundles, single resources and bulk NDJSON, and :func:`read_paths`
several files and folders, each keeping its own source ids, both within :class:`Limits`;
:func:`read_bulk` reads a Bulk Data export folder one patient at a time, in bounded memory;
:func:`summarize_issues` puts the issues found in one line for logs. :func:`write_bundle`,
:func:`write_ndjson` and :func:`to_resources` write records and profiles,
:func:`gap_to_detected_issue` writes a gap as a Da Vinci DEQM ``DetectedIssue`` and
:func:`write_gaps_bundle` the gaps of many patients as one Bundle.
:func:`read_value_sets` reads FHIR ``ValueSet`` resources (VSAC exports) into
:class:`~carecoord.terminology.ValueSet` objects for the rules and consent views.

>>> from carecoord import fhir
>>> result = fhir.read({"resourceType": "Patient", "id": "p1", "gender": "female"})
>>> [record.patient.id for record in result.records]
['p1']

Importing this module loads no other adapter. See ``docs/fhir.md`` for the mapping table.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import IssueCode, IssueSeverity, checked_classes, checked_exports
from carecoord.fhir._bulk import BulkPlan, BulkRead, BulkTotals, join_orphans, read_bulk
from carecoord.fhir._codes import ExtensionUrl
from carecoord.fhir._gap_bundle import write_gaps_bundle
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._issues import ImportIssue
from carecoord.fhir._limits import DEFAULT_LIMITS, Limits
from carecoord.fhir._paths import read_paths
from carecoord.fhir._read import FhirImportError, ImportResult, ResourceCounts, read
from carecoord.fhir._summary import summarize_issues
from carecoord.fhir._valuesets import read_value_sets
from carecoord.fhir._write import (
    FhirExportError,
    gap_to_detected_issue,
    to_resources,
    write_bundle,
    write_ndjson,
)
from carecoord.interop import ISSUE_COLUMNS

__all__ = [
    "DEFAULT_LIMITS",
    "ISSUE_COLUMNS",
    "BulkPlan",
    "BulkRead",
    "BulkTotals",
    "ExtensionUrl",
    "FhirExportError",
    "FhirImportError",
    "ImportIssue",
    "ImportResult",
    "IssueCode",
    "IssueSeverity",
    "Limits",
    "ResourceCounts",
    "gap_to_detected_issue",
    "gc_paused",
    "join_orphans",
    "read",
    "read_bulk",
    "read_paths",
    "read_value_sets",
    "summarize_issues",
    "to_resources",
    "write_bundle",
    "write_gaps_bundle",
    "write_ndjson",
]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
checked_classes(
    globals(),
    (
        "BulkPlan",
        "BulkRead",
        "BulkTotals",
        "ImportIssue",
        "ImportResult",
        "Limits",
        "ResourceCounts",
    ),
)
del checked_classes, checked_exports
