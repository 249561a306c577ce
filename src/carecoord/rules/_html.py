"""HTML displays of the rules layer, for notebooks: gap reports, gaps, population summaries.

Each function returns a :class:`~carecoord.display.HtmlDisplay`; the classes'
``_repr_html_`` and ``display(...)`` methods call them. Gaps carry no personal data
(profile ids, rule ids, dates, summaries written by the rules, evidence descriptions
without names or note text), so there is nothing to mask; a report made from a consent
view holds only the gaps that view allows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from carecoord.display import HtmlDisplay, badge, esc, frame, section, table

if TYPE_CHECKING:
    from carecoord.rules._model import Gap, GapReport
    from carecoord.rules._summary import PopulationSummary

__all__ = ["gap_html", "report_html", "summary_html"]


def _when(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()[:16].replace("T", " ")
    return value.isoformat()


def _gap_row(gap: Gap) -> tuple[str, ...]:
    snoozed = f" (snoozed to {gap.snoozed_until})" if gap.snoozed_until else ""
    return (
        gap.rule,
        badge(gap.status.value) + esc(snoozed),
        badge(gap.severity.value),
        _when(gap.due),
        gap.summary,
    )


def report_html(report: GapReport, *, limit: int = 100) -> HtmlDisplay:
    """A gap report: counts by status, the gaps (actionable first), and rule errors."""
    counts: dict[str, int] = {}
    for gap in report:
        counts[gap.status.value] = counts.get(gap.status.value, 0) + 1
    badges = " ".join(badge(f"{n} {status}", tone=status) for status, n in counts.items())
    head = (
        f"<p>Patient {esc(report.patient)} as of {esc(_when(report.as_of))}: "
        f"{len(report)} gaps {badges}</p>"
    )
    ordered = sorted(report, key=lambda g: (not g.is_actionable, -g.severity.rank))
    gaps = table(
        ("rule", "status", "severity", "due", "summary"),
        (_gap_row(g) for g in ordered),
        raw=(1, 2),
        nowrap=(2, 3),
        limit=limit,
    )
    parts = [section("Summary", head, key="summary"), section("Gaps", gaps, key="gaps")]
    if report.errors:
        errors = table(("rule", "error"), [(e.rule, e.error_type) for e in report.errors])
        parts.append(section(f"Rule errors ({len(report.errors)})", errors, key="errors"))
    return HtmlDisplay(frame("Gap report", *parts, kind="gap-report"), "gap-report")


def gap_html(gap: Gap) -> HtmlDisplay:
    """One gap: what, where it stands, the clock, the action, and its evidence."""
    facts = table(
        ("", ""),
        [
            ("rule", esc(gap.rule)),
            ("family", esc(gap.family)),
            ("patient", esc(gap.patient)),
            ("status", badge(gap.status.value) + (" (late)" if gap.late else "")),
            ("severity", badge(gap.severity.value)),
            ("opened", esc(_when(gap.opened))),
            ("due", esc(_when(gap.due))),
            ("closed", esc(_when(gap.closed_at))),
            ("reason", esc(gap.reason or "")),
            ("action", esc(gap.action)),
            ("sensitivity", esc(", ".join(sorted(s.value for s in gap.sensitivity)))),
        ],
        raw=(1,),  # badges; every other value is escaped above
    )
    evidence = table(
        ("role", "fact", "description"),
        [(e.role.value, f"{e.ref.type}/{e.ref.id}", e.description) for e in gap.evidence],
    )
    parts = [
        f"<p>{esc(gap.summary)}</p>",
        section("Gap", facts, key="gap"),
        section(f"Evidence ({len(gap.evidence)})", evidence, key="evidence"),
    ]
    return HtmlDisplay(frame(f"Gap {gap.rule}", *parts, kind="gap"), "gap")


def summary_html(summary: PopulationSummary) -> HtmlDisplay:
    """A population summary: totals, measures, and a rule-by-status table of counts."""
    statuses = sorted({s for counts in summary.by_rule.values() for s in counts}, key=_order)
    rows = [
        (rule, *(counts.get(s, 0) for s in statuses), sum(counts.values()))
        for rule, counts in summary.by_rule.items()
    ]
    headers = ("rule", *(s.value for s in statuses), "total")
    numeric = range(1, len(headers))
    rate = summary.referral_loop_closure_rate
    days = summary.median_days_to_follow_up
    totals = table(
        ("", ""),
        [
            ("patients", summary.patients),
            ("gaps", summary.gaps),
            ("snoozed", summary.snoozed),
            ("older, left out by the look-back", summary.older),
            ("rule errors", summary.errors),
            ("referral loops closed on time", "n/a" if rate is None else f"{rate:.0%}"),
            ("median days to follow-up", "n/a" if days is None else f"{days:.1f}"),
        ],
    )
    parts = [
        section("Totals", totals, key="totals"),
        section("Gaps by rule and status", table(headers, rows, numeric=numeric), key="by-rule"),
    ]
    return HtmlDisplay(frame("Population summary", *parts, kind="summary"), "summary")


def _order(status: object) -> int:
    order = ("open", "prospective", "closed", "not-applicable")
    value = getattr(status, "value", "")
    return order.index(value) if value in order else len(order)
