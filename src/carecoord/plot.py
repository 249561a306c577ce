"""Charts for notebooks, drawn with matplotlib (the ``carecoord[plot]`` extra).

* :func:`timeline` -- a patient's events across sources, one row per source, with the
  gaps marked at their due dates (open, prospective, closed, not applicable);
* :func:`gaps_by_rule` -- a population's gaps by rule and status, stacked bars;
* :func:`match_weights` -- why two records might be one person: each field's weight
  added up from 0 to the score, with the grade thresholds (a waterfall chart, after
  Splink's).

Each function draws on the ``ax`` it is given (a new figure when ``None``) and returns
it, so charts can be combined and styled as usual. Nothing personal is drawn: source
labels, event kinds, rule ids, field names and weights. matplotlib is imported when a
chart is drawn; without it a :class:`~carecoord.errors.MissingExtraError` names the
extra (``pip install 'carecoord[plot]'``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from carecoord.domain import PartialDate
from carecoord.errors import MissingExtraError, checked_exports
from carecoord.profile import (
    GapLike,
    MatchConfig,
    MatchResult,
    PatientProfile,
    PossibleMatch,
    source_labels,
)
from carecoord.rules import GapReport, GapStatus, PopulationSummary, summarize

__all__ = ["EVENT_GROUPS", "STATUS_COLOURS", "gaps_by_rule", "match_weights", "timeline"]

STATUS_COLOURS: dict[str, str] = {
    "open": "#d62728",
    "prospective": "#ff7f0e",
    "closed": "#2ca02c",
    "not-applicable": "#7f7f7f",
}
"""The colour of each gap status in every chart (matplotlib's tab10 red, orange, green, grey)."""

_STATUS_ORDER = ("open", "prospective", "closed", "not-applicable")

EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "stays and visits": ("admission", "discharge", "visit", "appointment"),
    "diagnoses and procedures": ("diagnosis", "condition-resolved", "allergy", "procedure"),
    "medications": ("medication-start", "medication-stop", "reconciliation"),
    "orders and results": ("order", "result", "document"),
    "referrals and tasks": ("referral", "referral-status", "task", "task-status"),
    "care plans and goals": ("care-plan-created", "care-plan-reviewed", "goal", "care-team"),
    "other coordination": ("communication", "social-need", "consent", "enrollment", "activity"),
}
"""How :func:`timeline` groups event kinds (one colour and legend entry per group)."""

_GROUP_OF = {kind: group for group, kinds in EVENT_GROUPS.items() for kind in kinds}


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415 - an optional extra, imported when used
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    return plt


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    _, new = _pyplot().subplots(figsize=size)
    return new


def _instant(when: dt.date | dt.datetime | PartialDate) -> dt.datetime:
    if isinstance(when, PartialDate):
        day = when.earliest()
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC)
    return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)


def timeline(
    profile: PatientProfile,
    *,
    gaps: Iterable[GapLike] = (),
    since: dt.date | None = None,
    ax: Any = None,
) -> Any:
    """A patient's timeline: one row of events per source, and a row of gaps by due date.

    Events are dots coloured by group of kinds (:data:`EVENT_GROUPS`, named in the
    legend); an event held by several
    sources appears on each of their rows. ``gaps`` (a gap report, say) are marked on a
    last row, coloured by status (:data:`STATUS_COLOURS`). ``since`` leaves out what
    happened before that day. Returns the axes.
    """
    _pyplot()
    ax = _axes(ax, (10, 3.5))
    labels = source_labels(profile.sources)
    rows = {source: index for index, source in enumerate(sorted(labels, key=lambda s: labels[s]))}
    start = None if since is None else _instant(since)
    by_kind: dict[str, tuple[list[dt.datetime], list[int]]] = {}
    for event in profile.timeline():
        when = _instant(event.when)
        if start is not None and when < start:
            continue
        group = _GROUP_OF.get(event.kind.value, "other coordination")
        xs, ys = by_kind.setdefault(group, ([], []))
        for source in event.sources:
            xs.append(when)
            ys.append(rows[source])
    for group in EVENT_GROUPS:
        if group in by_kind:
            xs, ys = by_kind[group]
            ax.scatter(xs, ys, s=14, alpha=0.7, label=group)
    gap_row = len(rows)
    by_status: dict[str, list[dt.datetime]] = {}
    for gap in gaps:
        when = _instant(gap.due)
        if start is None or when >= start:
            by_status.setdefault(str(gap.status.value), []).append(when)
    for status in _STATUS_ORDER:
        if status in by_status:
            xs = by_status[status]
            ax.scatter(
                xs, [gap_row] * len(xs), marker="|", s=200, color=STATUS_COLOURS[status],
                label=f"gap {status}",
            )  # fmt: skip
    ticks = [*(labels[s] for s in rows), "gaps"]
    ax.set_yticks(range(len(ticks)), ticks)
    ax.set_ylim(-0.6, len(ticks) - 0.4)
    ax.set_title(f"Timeline: {sum(len(x) for x, _ in by_kind.values())} events")
    ax.set_xlabel("date")
    if by_kind or by_status:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def gaps_by_rule(
    gaps: PopulationSummary | Iterable[GapReport],
    *,
    top: int | None = 20,
    ax: Any = None,
) -> Any:
    """A population's gaps by rule, one horizontal bar per rule stacked by status.

    ``gaps`` is a :class:`~carecoord.rules.PopulationSummary` or the gap reports to add
    up. The ``top`` rules with the most gaps are shown (every rule when ``None``), the
    largest at the top. Returns the axes.
    """
    _pyplot()
    summary = gaps if isinstance(gaps, PopulationSummary) else summarize(gaps)
    totals = sorted(summary.by_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    shown = totals if top is None else totals[:top]
    rules = [rule for rule, _ in reversed(shown)]
    ax = _axes(ax, (9, max(2.5, 0.32 * len(rules) + 1)))
    left = [0] * len(rules)
    for status in (GapStatus(value) for value in _STATUS_ORDER):
        counts = [summary.by_rule[rule].get(status, 0) for rule in rules]
        if any(counts):
            ax.barh(
                rules, counts, left=left, color=STATUS_COLOURS[status.value], label=status.value
            )
            left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_xlabel("gaps")
    ax.set_title(f"Gaps by rule and status ({summary.patients} patients, {summary.gaps} gaps)")
    if rules:
        ax.legend(loc="lower right", fontsize="small")
    return ax


def match_weights(
    match: PossibleMatch | MatchResult, *, config: MatchConfig | None = None, ax: Any = None
) -> Any:
    """A waterfall of a match: each field's weight, added up to the score.

    ``match`` is a pair to review (:class:`~carecoord.profile.PossibleMatch`) or any
    comparison (:class:`~carecoord.profile.MatchResult`, from ``compare`` or
    ``record_links``).

    One bar per field compared (green when evidence for the same person, red against,
    from the running total), then the total; dashed lines mark the ``possible``,
    ``probable`` and ``certain`` thresholds of ``config`` (default :class:`MatchConfig`).
    Returns the axes.
    """
    _pyplot()
    config = config or MatchConfig()
    ax = _axes(ax, (8, 3.8))
    names = [e.field.replace("_", " ") for e in match.evidence]
    running = 0.0
    for index, evidence in enumerate(match.evidence):
        colour = "#2ca02c" if evidence.weight >= 0 else "#d62728"
        ax.bar(index, evidence.weight, bottom=running, color=colour)
        ax.annotate(
            f"{evidence.weight:+.1f}",
            (index, running + max(evidence.weight, 0)),
            ha="center",
            va="bottom",
            fontsize="small",
        )
        running += evidence.weight
    total = len(match.evidence)
    ax.bar(total, match.score, color="#1f77b4")
    ax.annotate(f"{match.score:.1f}", (total, max(match.score, 0)), ha="center", va="bottom")
    for name in ("possible", "probable", "certain"):
        value = getattr(config, name)
        ax.axhline(value, linestyle="--", linewidth=0.8, color="#7f7f7f")
        ax.annotate(name, (total + 0.45, value), va="center", fontsize="small", color="#7f7f7f")
    ax.axhline(0, linewidth=0.8, color="#333333")
    ax.set_xticks(range(total + 1), [*names, "score"], rotation=30, ha="right")
    ax.set_ylabel("match weight (log2 Bayes factor)")
    ax.set_title(f"{match.grade.value} match: score {match.score:.1f}")
    return ax


checked_exports(globals())
del checked_exports
