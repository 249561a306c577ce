"""Gaps as plain text for people: counts by status, tables, a work list with actions.

What ``carecoord gaps`` and ``carecoord demo`` print. Tables are left-aligned columns
separated by two spaces; due dates are local dates, or date-times to the minute. Gap
texts hold no personal data (see :class:`~carecoord.rules.Gap`); every line is shown
through :func:`carecoord.profile.printable` all the same (rule ids and texts may come from
rules written elsewhere), so no control character reaches a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from carecoord.profile import day_text, printable, table_lines
from carecoord.rules._model import Gap, GapGroup, GapStatus

__all__ = [
    "GAP_STATUS_ORDER",
    "describe_gaps",
    "render_gap_groups",
    "render_gaps",
    "render_work_list",
]

GAP_STATUS_ORDER = (
    GapStatus.OPEN,
    GapStatus.PROSPECTIVE,
    GapStatus.CLOSED,
    GapStatus.NOT_APPLICABLE,
)
"""Gap statuses in the order counts and tables show them: open first."""


def describe_gaps(gaps: Iterable[Gap]) -> str:
    """How many gaps of each status: ``"3 open, 1 prospective"`` (``"none"`` when empty)."""
    counts: dict[GapStatus, int] = {}
    for gap in gaps:
        counts[gap.status] = counts.get(gap.status, 0) + 1
    return ", ".join(f"{counts[s]:,} {s.value}" for s in GAP_STATUS_ORDER if s in counts) or "none"


def render_gaps(gaps: Iterable[Gap], *, indent: str = "  ") -> str:
    """A table of ``gaps`` in their order: due, status, severity, rule and summary.

    A header line comes first; every line starts with ``indent`` and ends with a newline.
    Control characters in the cells are escaped (:func:`~carecoord.profile.printable`).
    """
    rows = [["due", "status", "severity", "rule", "summary"]]
    rows.extend(
        [day_text(g.due), g.status.value, g.severity.value, g.rule, g.summary] for g in gaps
    )
    return "".join(f"{line}\n" for line in table_lines(rows, indent))


def render_gap_groups(groups: Iterable[GapGroup], *, indent: str = "  ") -> str:
    """A table of worklist lines: due, status, severity, rule and summary, one per group.

    A group of several gaps shows the earliest due date and its count before the summary
    (``×14 Result issued 2011-12-23 has not been acknowledged.``) and the highest severity.
    A header line comes first; every line starts with ``indent`` and ends with a newline.
    """
    rows = [["due", "status", "severity", "rule", "summary"]]
    rows.extend(
        [
            day_text(g.due),
            g.status.value,
            g.severity.value,
            g.rule,
            f"×{g.count} {g.summary}" if g.count > 1 else g.summary,
        ]
        for g in groups
    )
    return "".join(f"{line}\n" for line in table_lines(rows, indent))


def render_work_list(gaps: Iterable[Gap], *, indent: str = "    ") -> str:
    """The open, then the prospective gaps, each with its due date, rule, summary and action.

    Several gaps of one rule and status are shown once, with the first due date, the
    number of others (``2026-07-04 +2``) and their count (``(3 gaps) ...``); closed and
    not-applicable gaps are left out. Every line starts with ``indent``.
    """
    chosen = list(gaps)
    lines: list[str] = []
    for status in (GapStatus.OPEN, GapStatus.PROSPECTIVE):
        groups: dict[str, list[Gap]] = {}
        for gap in chosen:
            if gap.status is status:
                groups.setdefault(gap.rule, []).append(gap)
        if not groups:
            continue
        lines.append(f"{indent}{status.value}:")
        rows: list[list[str]] = []
        for rule, members in groups.items():
            due, summary = day_text(members[0].due), members[0].summary
            if len(members) > 1:
                due = f"{due[:10]} +{len(members) - 1}"
                summary = f"({len(members)} gaps) {summary}"
            rows.append([due, rule, summary])
        width = max(len(r[0]) for r in rows) + 2
        for line, members in zip(table_lines(rows), groups.values(), strict=True):
            lines.append(f"{indent}  {line}")
            lines.append(f"{indent}  {' ' * width}-> {members[0].action}")
    return "".join(f"{printable(line)}\n" for line in lines)
