"""The charts, drawn with matplotlib's Agg backend: their artists and labels, not pixels."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

import carecoord as cc
from carecoord import plot
from carecoord.profile import EventKind, MatchConfig, ProfileSet, source_labels

from .conftest import Synthea, need

matplotlib = need("matplotlib")
matplotlib.use("Agg")
plt = need("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    """Each test starts and ends with no open figure."""
    plt.close("all")


def test_timeline_has_a_row_per_source_and_the_gaps(synthea: Synthea) -> None:
    """Sources and a gaps row label the y axis; gap markers are coloured by status."""
    profile = synthea.demo[0]
    report = max(synthea.demo_reports, key=len)
    ax = plot.timeline(profile, gaps=report)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    points = sum(len(c.get_offsets()) for c in ax.collections if c.get_label().startswith("gap"))

    assert labels == [*sorted(source_labels(profile.sources).values()), "gaps"]
    assert {f"gap {g.status.value}" for g in report} <= legend
    assert points == len(report)
    assert ax.get_title() == f"Timeline: {sum(len(e.sources) for e in profile.timeline())} events"


def test_timeline_since_leaves_out_older_events(synthea: Synthea) -> None:
    """With ``since`` only later events are drawn."""
    profile = synthea.largest()
    since = dt.date(2015, 1, 1)
    later = [e for e in profile.timeline() if e.when.isoformat()[:10] >= since.isoformat()]
    ax = plot.timeline(profile, since=since)
    drawn = sum(len(c.get_offsets()) for c in ax.collections)

    assert 0 < len(later) < len(profile.timeline())
    assert drawn == sum(len(e.sources) for e in later)


def test_gaps_by_rule_stacks_each_status(synthea: Synthea) -> None:
    """One bar per rule and status; the bars add up to every gap of the rules shown."""
    ax = plot.gaps_by_rule(synthea.summary, top=None)
    total = sum(patch.get_width() for patch in ax.patches)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    rules = [t.get_text() for t in ax.get_yticklabels()]

    assert total == synthea.summary.gaps
    assert legend == [s for s in plot.STATUS_COLOURS if s in legend]
    assert sorted(rules) == sorted(synthea.summary.by_rule)


def test_gaps_by_rule_takes_reports_and_a_top(synthea: Synthea) -> None:
    """Reports are summed first; ``top`` keeps the rules with the most gaps, largest on top."""
    ax = plot.gaps_by_rule(synthea.reports, top=3)
    rules = [t.get_text() for t in ax.get_yticklabels()]
    biggest = sorted(synthea.summary.by_rule, key=lambda r: -synthea.summary.count(r))[:3]

    assert rules[::-1] == biggest


def test_match_weights_is_a_waterfall_to_the_score(linked: ProfileSet) -> None:
    """A bar per field from the running total, a total bar, the three thresholds."""
    match = linked.review[0]
    ax = plot.match_weights(match)
    bars = ax.patches
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    config = MatchConfig()

    assert len(bars) == len(match.evidence) + 1
    assert ticks[-1] == "score"
    assert bars[-1].get_height() == pytest.approx(match.score)
    for index, evidence in enumerate(match.evidence):
        below = sum(e.weight for e in match.evidence[:index])
        assert bars[index].get_y() == pytest.approx(below)
        assert bars[index].get_height() == pytest.approx(evidence.weight)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines())
    assert levels == [0, config.possible, config.probable, config.certain]


def test_a_chart_draws_on_the_axes_given(synthea: Synthea) -> None:
    """Given axes, the chart draws there and returns them."""
    figure, axes = plt.subplots(1, 2)
    ax = plot.gaps_by_rule(synthea.summary, ax=axes[1])

    assert ax is axes[1]
    assert len(figure.axes) == 2


def test_without_matplotlib_the_extra_is_named(
    synthea: Synthea, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without matplotlib a MissingExtraError says to install carecoord[plot]."""
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)

    with pytest.raises(cc.MissingExtraError, match=r"carecoord\[plot\]"):
        plot.gaps_by_rule(synthea.summary)


def test_every_event_kind_has_a_group() -> None:
    """Each timeline event kind belongs to exactly one colour group of the timeline chart."""
    grouped = [kind for kinds in plot.EVENT_GROUPS.values() for kind in kinds]

    assert sorted(grouped) == sorted(kind.value for kind in EventKind)
