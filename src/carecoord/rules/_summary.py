"""Population summaries for quality improvement: counts, loop closure, time to follow-up."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from carecoord.display import HtmlDisplay, JsonValue, clip, to_pandas, to_polars
from carecoord.rules._catalogue import default_rules
from carecoord.rules._html import summary_html
from carecoord.rules._model import Gap, GapReport, GapStatus
from carecoord.rules._records import rule_families

if TYPE_CHECKING:
    from carecoord.rules._base import Rule

__all__ = ["SUMMARY_COLUMNS", "PopulationSummary", "summarize"]

SUMMARY_COLUMNS: tuple[str, ...] = ("rule", "family", "status", "count")
"""The keys of a summary row (:meth:`PopulationSummary.to_records`): one rule and status.

``rule``: the rule id; ``family``: its family; ``status``: the gap status value
(``"open"``); ``count``: how many gaps of that rule were in that status (never 0).
"""


@attrs.frozen(repr=False)
class PopulationSummary:
    """What the gap reports of a population add up to.

    ``by_rule[rule][status]`` and ``by_status[status]`` count gaps (rules and statuses with
    no gap are absent). ``referral_loop_closure_rate`` is the share of applicable
    ``referral.loop-open`` gaps closed on time, and ``median_days_to_follow_up`` the median
    number of days (fractional) from discharge to the closing visit of closed
    ``transition.follow-up-visit`` gaps; both need reports made with
    ``include_closed=True`` and are ``None`` when there is nothing to measure.
    ``older`` adds up the reports' :attr:`GapReport.older`: the gaps their look-back left
    out (for a measure over whole records, detect with ``look_back_months=None``).
    """

    patients: int
    gaps: int
    errors: int
    snoozed: int
    by_rule: Mapping[str, Mapping[GapStatus, int]] = attrs.field(hash=False)
    by_status: Mapping[GapStatus, int] = attrs.field(hash=False)
    referral_loop_closure_rate: float | None
    median_days_to_follow_up: float | None
    older: int = 0

    def __repr__(self) -> str:
        statuses = ", ".join(f"{n} {status.value}" for status, n in self.by_status.items())
        rate = self.referral_loop_closure_rate
        days = self.median_days_to_follow_up
        return clip(
            f"PopulationSummary({self.patients} patients, {self.gaps} gaps"
            f"{': ' + statuses if statuses else ''}, {len(self.by_rule)} rules, "
            f"{self.snoozed} snoozed, {self.errors} errors, "
            f"{f'{self.older} older left out, ' if self.older else ''}"
            f"referral_loop_closure_rate={None if rate is None else round(rate, 3)}, "
            f"median_days_to_follow_up={None if days is None else round(days, 1)})"
        )

    def to_records(self, rules: Iterable[Rule] | None = None) -> list[dict[str, JsonValue]]:
        """One JSON-safe row per rule and status, with the :data:`SUMMARY_COLUMNS` keys.

        The long format a chart or a pivot table wants: ``rule``, ``family`` (of the rule
        in ``rules``, default the catalogue; ``"custom"`` when not there), ``status`` (the
        :class:`GapStatus` value) and ``count``, rules in order, statuses as counted.
        """
        families = rule_families(default_rules() if rules is None else rules)
        return [
            {
                "rule": rule,
                "family": families.get(rule, "custom"),
                "status": status.value,
                "count": count,
            }
            for rule, counts in self.by_rule.items()
            for status, count in counts.items()
        ]

    def to_pandas(self, rules: Iterable[Rule] | None = None) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``).

        ``df.pivot_table(index="rule", columns="status", values="count", fill_value=0)``
        gives the rule-by-status table.
        """
        return to_pandas(self.to_records(rules), SUMMARY_COLUMNS)

    def to_polars(self, rules: Iterable[Rule] | None = None) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        return to_polars(self.to_records(rules), SUMMARY_COLUMNS)

    def display(self) -> HtmlDisplay:
        """The summary as HTML for notebooks: totals, measures, gaps by rule and status."""
        return summary_html(self)

    def _repr_html_(self) -> str:
        return summary_html(self).html

    def count(self, rule: str | None = None, status: GapStatus | None = None) -> int:
        """How many gaps of ``rule`` (any when ``None``) in ``status`` (any when ``None``)."""
        if rule is None:
            if status is None:
                return self.gaps
            return self.by_status.get(status, 0)
        counts = self.by_rule.get(rule, {})
        return sum(counts.values()) if status is None else counts.get(status, 0)

    def by_family(self, rules: Iterable[Rule] | None = None) -> dict[str, dict[GapStatus, int]]:
        """Gap counts by rule family and status: ``{family: {status: count}}``.

        Families are those of ``rules`` (default: the catalogue), in their order, and
        ``"custom"`` after them for rules outside ``rules``; families with no gap are absent.
        """
        families = rule_families(default_rules() if rules is None else rules)
        order = {family: index for index, family in enumerate(dict.fromkeys(families.values()))}
        table: dict[str, dict[GapStatus, int]] = {}
        for rule, counts in self.by_rule.items():
            row = table.setdefault(families.get(rule, "custom"), {})
            for status, count in counts.items():
                row[status] = row.get(status, 0) + count
        ranked = sorted(table, key=lambda family: order.get(family, len(order)))
        return {family: table[family] for family in ranked}


def _days(gap: Gap) -> float | None:
    start, end = gap.opened, gap.closed_at
    if end is None:
        return None
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return (end - start).total_seconds() / 86400
    start_day = start.date() if isinstance(start, dt.datetime) else start
    end_day = end.date() if isinstance(end, dt.datetime) else end
    return float((end_day - start_day).days)


def summarize(
    reports: Iterable[GapReport],
    *,
    loop_rule: str = "referral.loop-open",
    follow_up_rule: str = "transition.follow-up-visit",
) -> PopulationSummary:
    """Add up gap reports (read once, so a stream from detect_gaps_population works)."""
    patients = gaps = errors = snoozed = older = 0
    by_rule: dict[str, dict[GapStatus, int]] = {}
    by_status: dict[GapStatus, int] = {}
    loop_closed = loop_applicable = 0
    follow_up_days: list[float] = []
    for report in reports:
        patients += 1
        errors += len(report.errors)
        older += report.older
        for gap in report:
            gaps += 1
            snoozed += gap.is_snoozed
            counts = by_rule.setdefault(gap.rule, {})
            counts[gap.status] = counts.get(gap.status, 0) + 1
            by_status[gap.status] = by_status.get(gap.status, 0) + 1
            if gap.rule == loop_rule and gap.status is not GapStatus.NOT_APPLICABLE:
                loop_applicable += 1
                loop_closed += gap.status is GapStatus.CLOSED and not gap.late
            if gap.rule == follow_up_rule and gap.status is GapStatus.CLOSED:
                days = _days(gap)
                if days is not None:
                    follow_up_days.append(days)
    return PopulationSummary(
        patients=patients,
        gaps=gaps,
        errors=errors,
        snoozed=snoozed,
        by_rule=MappingProxyType(
            {rule: MappingProxyType(dict(c)) for rule, c in sorted(by_rule.items())}
        ),
        by_status=MappingProxyType(dict(by_status)),
        referral_loop_closure_rate=loop_closed / loop_applicable if loop_applicable else None,
        median_days_to_follow_up=statistics.median(follow_up_days) if follow_up_days else None,
        older=older,
    )
