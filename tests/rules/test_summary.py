"""Tests for population summaries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import Ref
from carecoord.profile._model import profile_from_record
from carecoord.rules import (
    Evidence,
    Gap,
    GapReport,
    GapStatus,
    RuleError,
    Severity,
    detect_gaps_population,
    summarize,
)
from carecoord.testing import AS_OF, make_record, make_referral

DISCHARGED = dt.datetime(2026, 2, 5, 16, tzinfo=dt.UTC)


def gap(rule: str, status: GapStatus, focus: str = "f", **changes: Any) -> Gap:
    """A gap of ``rule`` in ``status``, with ``changes`` applied."""
    made = Gap(
        rule=rule,
        patient="p",
        status=status,
        severity=Severity.MEDIUM,
        due=dt.date(2026, 2, 19),
        opened=DISCHARGED,
        focus=focus,
        summary="s",
        action="a",
        evidence=(Evidence("trigger", Ref("X", "y")),),
    )
    return attrs.evolve(made, **changes)


def report(*gaps: Gap, errors: tuple[RuleError, ...] = ()) -> GapReport:
    """A report for patient p holding ``gaps``."""
    return GapReport("p", AS_OF, gaps, errors)


class TestSummarize:
    """Tests for summarize."""

    def test_counts_by_rule_and_status(self) -> None:
        """Gaps are counted per rule and status, and overall."""
        summary = summarize(
            [
                report(gap("a", GapStatus.OPEN), gap("a", GapStatus.CLOSED, "g")),
                report(gap("b", GapStatus.OPEN)),
            ]
        )
        assert summary.patients == 2
        assert summary.gaps == 3
        assert summary.count("a", GapStatus.OPEN) == 1
        assert summary.count("a") == 2
        assert summary.count(status=GapStatus.OPEN) == 2
        assert summary.count() == 3

    def test_absent_counts_are_zero(self) -> None:
        """A rule or status with no gap counts 0."""
        assert summarize([]).count("nope", GapStatus.OPEN) == 0

    def test_errors_and_snoozes_are_counted(self) -> None:
        """Rule errors and snoozed gaps are totalled."""
        snoozed = gap("a", GapStatus.OPEN, snoozed_until=dt.date(2026, 3, 9))
        summary = summarize([report(snoozed, errors=(RuleError("x", "p", "KeyError", ""),))])
        assert (summary.errors, summary.snoozed) == (1, 1)

    def test_referral_loop_closure_rate(self) -> None:
        """Closed on time over applicable loop gaps: late and not-applicable do not count."""
        loop = "referral.loop-open"
        summary = summarize(
            [
                report(gap(loop, GapStatus.CLOSED, "1")),
                report(gap(loop, GapStatus.CLOSED, "2", late=True)),
                report(gap(loop, GapStatus.OPEN, "3")),
                report(gap(loop, GapStatus.PROSPECTIVE, "4")),
                report(gap(loop, GapStatus.NOT_APPLICABLE, "5")),
            ]
        )
        assert summary.referral_loop_closure_rate == 0.25

    def test_rates_are_none_without_data(self) -> None:
        """With no loop or follow-up gaps, the measures are None."""
        summary = summarize([report(gap("a", GapStatus.OPEN))])
        assert summary.referral_loop_closure_rate is None
        assert summary.median_days_to_follow_up is None

    def test_median_days_to_follow_up(self) -> None:
        """The median time from discharge to the closing visit, in days."""
        rule = "transition.follow-up-visit"
        summary = summarize(
            [
                report(gap(rule, GapStatus.CLOSED, closed_at=DISCHARGED + dt.timedelta(days=2))),
                report(gap(rule, GapStatus.CLOSED, closed_at=DISCHARGED + dt.timedelta(days=5))),
                report(gap(rule, GapStatus.OPEN)),
            ]
        )
        assert summary.median_days_to_follow_up == 3.5

    def test_date_only_closures_count_whole_days(self) -> None:
        """A closure known only by its date counts whole days from the discharge date."""
        rule = "transition.follow-up-visit"
        closed = gap(rule, GapStatus.CLOSED, closed_at=dt.date(2026, 2, 9))
        assert summarize([report(closed)]).median_days_to_follow_up == 4.0

    def test_reads_a_stream_once(self) -> None:
        """The summary consumes a generator such as detect_gaps_population's output."""
        profiles = (
            profile_from_record(make_record(referrals=(make_referral(),))) for _ in range(3)
        )
        stream: Iterator[GapReport] = detect_gaps_population(profiles, as_of=AS_OF)
        summary = summarize(stream)
        assert summary.patients == 3
        assert summary.count("referral.unacknowledged") == 3
