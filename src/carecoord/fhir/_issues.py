"""Issues found while reading FHIR input: where, what, how bad, and in which source.

The reader never stops at the first bad element: each problem becomes an
:class:`ImportIssue` in an :class:`IssueLog` that the caller passes around, and reading
goes on with the next element. Messages name FHIR paths, element names and types only,
never values from the input (no names, identifiers, dates or free text).
"""

from __future__ import annotations

from carecoord.errors import IssueCode, IssueSeverity
from carecoord.interop import ImportIssue, IssueLog

__all__ = ["ImportIssue", "IssueCode", "IssueLog", "IssueSeverity"]
