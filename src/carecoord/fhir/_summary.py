"""Import issues in one line for logs: counts by severity and code, never paths or values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from carecoord.fhir._issues import ImportIssue
from carecoord.fhir._usage import checked_items

__all__ = ["summarize_issues"]


def summarize_issues(issues: Iterable[ImportIssue]) -> str:
    """Import issues as one line: ``"2 errors and 1 warning (invalid-date 2, not-mapped 1)"``.

    Counts by severity, then by code, most frequent first (ties by code); ``""`` when there
    is no issue. The line names no path, file, source or value, so it is safe to log even
    when file names carry patient names (as Synthea's do).

    >>> from carecoord import fhir
    >>> fhir.summarize_issues(fhir.read("{ not json").issues)
    '1 error (invalid-json 1)'
    """
    found = checked_items(issues, ImportIssue, "issues")
    if not found:
        return ""
    errors = sum(issue.is_error for issue in found)
    counts = [_plural(errors, "error"), _plural(len(found) - errors, "warning")]
    said = " and ".join(c for c in counts if not c.startswith("0 "))
    codes = Counter(issue.code for issue in found)
    ranked = sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    return f"{said} ({', '.join(f'{code} {count:,}' for code, count in ranked)})"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")
