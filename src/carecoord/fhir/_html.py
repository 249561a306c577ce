"""HTML display of the FHIR adapter, for notebooks: what a read produced.

:func:`import_html` shows an :class:`~carecoord.fhir.ImportResult`: records, resources read,
mapped and skipped by type, and issues counted by severity and code, with the first ones
listed. File names often hold a patient's name, so an issue's ``source`` that is a file's
name (read with ``name_files=True``) is shown as :data:`~carecoord.display.MASK` unless
``show_personal_data`` is true; the reader's labels (``<file 3>``) are shown as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from carecoord.display import MASK, HtmlDisplay, badge, frame, section, table
from carecoord.fhir._issues import shown_source

if TYPE_CHECKING:
    from carecoord.fhir._read import ImportResult

__all__ = ["import_html"]


def import_html(
    result: ImportResult, *, show_personal_data: bool = False, limit: int = 20
) -> HtmlDisplay:
    """An import result: counts, resources by type, issues by code, the first ``limit``."""
    errors = len(result.errors)
    warnings = len(result.issues) - errors
    tone = "error" if errors else ("warning" if warnings else "ok")
    head = (
        f"<p>{len(result.records)} patient records; "
        f"{badge(f'{errors} errors', tone='error' if errors else 'ok')} "
        f"{badge(f'{warnings} warnings', tone='warning' if warnings else 'ok')}</p>"
    )
    by_type = table(
        ("resource type", "read", "mapped", "skipped"),
        [(kind, c.read, c.mapped, c.skipped) for kind, c in sorted(result.counts.items())],
        numeric=(1, 2, 3),
    )
    severity: dict[str, str] = {i.code: i.severity.value for i in result.issues}
    codes = table(
        ("code", "severity", "issues"),
        [(code, badge(severity[code]), n) for code, n in result.issue_codes().items()],
        numeric=(2,),
        raw=(1,),
    )
    issues = table(
        ("source", "path", "severity", "code", "message"),
        (
            (
                shown_source(i.source, show_personal_data) or MASK,
                i.path,
                badge(i.severity.value),
                i.code,
                i.message,
            )
            for i in result.issues
        ),
        raw=(2,),
        limit=limit,
    )
    parts = [
        section("Summary", head, key="summary"),
        section("Resources by type", by_type, key="resources"),
        section(f"Issues by code ({len(result.issues)})", codes, key="issue-codes"),
        section("Issues", issues, key="issues"),
    ]
    html = frame(f"FHIR import: {tone}", *parts, kind="import-result")
    return HtmlDisplay(html, "import-result", show_personal_data)
