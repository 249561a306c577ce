"""A worklist, not an archive: recent gaps only, with repeats grouped.

Records that hold a whole life (Synthea's) report gaps due decades ago next to last week's,
and the same line thousands of times. ``GapReport.worklist`` and ``worklist`` show the gaps
due in the 12 months before ``as_of`` (every prospective one), say how many they hid, and
group repeats into one line with a count.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord.domain import Code, Ref, System
from carecoord.errors import UsageError, ValidationError
from carecoord.profile import profile_from_record
from carecoord.rules import (
    WORKLIST_MONTHS,
    Evidence,
    EvidenceRole,
    Gap,
    GapGroup,
    GapReport,
    GapStatus,
    RuleError,
    Severity,
    default_rules,
    detect_gaps,
    group_gaps,
    render_gap_groups,
    worklist,
    worklist_since,
)
from carecoord.testing import AS_OF as TK
from carecoord.testing import days_before, make_condition, make_record

NY = ZoneInfo("America/New_York")
AS_OF = dt.datetime(2026, 7, 15, 12, 0, tzinfo=NY)
SINCE = dt.date(2025, 7, 15)


def gap(
    focus: str = "r1",
    *,
    due: dt.date | dt.datetime = dt.date(2026, 7, 1),
    status: GapStatus = GapStatus.OPEN,
    rule: str = "result.unacknowledged",
    patient: str = "clinic/p1",
    summary: str = "Result issued 2026-06-28 has not been acknowledged.",
    severity: Severity = Severity.MEDIUM,
) -> Gap:
    """A gap of ``rule`` about result ``focus`` (open, due 1 July 2026 unless changed)."""
    return Gap(
        rule=rule,
        patient=patient,
        status=status,
        severity=severity,
        due=due,
        opened=dt.date(2026, 6, 28),
        focus=f"clinic/{focus}",
        summary=summary,
        action="Acknowledge it.",
        evidence=(Evidence(EvidenceRole.TRIGGER, Ref("Result", f"clinic/{focus}")),),
    )


def report(*gaps: Gap, patient: str = "clinic/p1") -> GapReport:
    """A report at :data:`AS_OF` holding ``gaps``."""
    return GapReport(patient=patient, as_of=AS_OF, gaps=gaps)


class TestTheWindow:
    """Which gaps a default worklist shows."""

    def test_the_default_window_is_12_months(self) -> None:
        """The named constant is 12, and the window starts on as_of's date a year back."""
        assert WORKLIST_MONTHS == 12
        assert worklist_since(AS_OF) == SINCE

    def test_a_month_without_the_day_ends_on_its_last_day(self) -> None:
        """29 February minus 12 months is 28 February; 0 months is the day itself."""
        leap = dt.datetime(2028, 2, 29, 9, 0, tzinfo=NY)

        assert worklist_since(leap) == dt.date(2027, 2, 28)
        assert worklist_since(leap, 0) == dt.date(2028, 2, 29)
        assert worklist_since(leap, 25) == dt.date(2026, 1, 29)

    def test_due_on_the_first_day_is_shown_and_the_day_before_hidden(self) -> None:
        """Both sides of the edge: due on ``since`` is shown, the day before is not."""
        on = gap("on", due=SINCE)
        before = gap("before", due=SINCE - dt.timedelta(days=1))

        shown = report(before, on).worklist()

        assert shown.gaps == (on,)
        assert (shown.since, shown.hidden) == (SINCE, 1)

    def test_prospective_gaps_are_always_shown(self) -> None:
        """A prospective gap is shown whatever its due date says."""
        odd = gap(due=dt.date(2001, 1, 1), status=GapStatus.PROSPECTIVE)

        assert report(odd).worklist().gaps == (odd,)

    def test_standing_gaps_are_always_shown(self) -> None:
        """A gap reported while a state holds is current, however old its due date."""
        standing = attrs.evolve(gap("team", due=dt.date(1993, 1, 9)), standing=True)
        archived = gap("old", due=dt.date(1993, 1, 9))

        shown = report(standing, archived).worklist()

        assert shown.gaps == (standing,)
        assert shown.hidden == 1

    def test_standing_comes_from_the_rules_metadata(self) -> None:
        """The catalogue's "at once" rules mark their gaps standing; clock rules do not."""
        rules = {r.id: r.metadata.standing for r in default_rules()}

        assert rules["care-team.behavioral-health-missing"] is True
        assert rules["medication.discrepancy"] is True
        assert rules["care-plan.goal-without-activity"] is True
        assert rules["result.unacknowledged"] is False
        assert rules["transition.med-rec"] is False

    def test_the_engine_marks_standing_gaps(self) -> None:
        """A behavioural-health need without a clinician on the team: a standing gap."""
        depression = make_condition(
            code=Code(System.ICD10CM, "F32.9", "Major depression"), onset=days_before(4000)
        )
        found = detect_gaps(profile_from_record(make_record(conditions=(depression,))), as_of=TK)
        [bh] = [g for g in found if g.rule == "care-team.behavioral-health-missing"]

        assert bh.standing
        assert report(attrs.evolve(bh, patient="clinic/p1")).worklist().gaps

    def test_a_due_instant_counts_by_its_date_in_as_ofs_zone(self) -> None:
        """02:00 UTC on 15 July 2025 is 14 July in New York: hidden; 04:00 UTC is shown."""
        early = gap("early", due=dt.datetime(2025, 7, 15, 2, 0, tzinfo=dt.UTC))
        late = gap("late", due=dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC))

        assert report(early, late).worklist().gaps == (late,)

    def test_since_widens_or_narrows_the_window(self) -> None:
        """An explicit ``since`` replaces the default window."""
        old = gap("old", due=dt.date(2012, 3, 1))
        recent = gap("recent")

        assert report(old, recent).worklist(since=dt.date(2010, 1, 1)).gaps == (old, recent)
        narrow = report(old, recent).worklist(since=dt.date(2026, 7, 2))
        assert (narrow.gaps, narrow.hidden) == ((), 2)

    def test_months_none_shows_everything(self) -> None:
        """``months=None`` (``--since all``) hides nothing and has no start."""
        old = gap("old", due=dt.date(2002, 5, 1))

        everything = report(old).worklist(months=None)

        assert (everything.gaps, everything.since, everything.hidden) == ((old,), None, 0)

    def test_closed_gaps_are_windowed_too(self) -> None:
        """A closed gap due long ago is history: hidden by default."""
        closed = gap("c", due=dt.date(2010, 1, 1), status=GapStatus.CLOSED)

        assert report(closed).worklist().hidden == 1

    def test_the_report_keeps_every_gap(self) -> None:
        """A worklist is a view: the report still holds the hidden gaps (and its errors)."""
        old = gap("old", due=dt.date(2002, 5, 1))
        error = RuleError("task.overdue", "clinic/p1", "ValueError", "x")
        full = attrs.evolve(report(old, gap()), errors=(error,))

        shown = full.worklist()

        assert len(full) == 2
        assert shown.reports[0].errors == (error,)
        assert full.due_since(None) is full


class TestGrouping:
    """Repeats become one line with a count."""

    def test_same_rule_summary_and_action_are_one_line(self) -> None:
        """Fourteen results of one day left unacknowledged: one group of 14."""
        many = [gap(f"r{n}") for n in range(14)]

        [group] = group_gaps(many)

        assert group.count == 14
        assert group.keys == tuple(g.key for g in many)
        assert (group.rule, group.patient, group.status) == (
            "result.unacknowledged",
            "clinic/p1",
            GapStatus.OPEN,
        )

    @pytest.mark.parametrize(
        "other",
        [
            {"summary": "Result issued 2026-06-29 has not been acknowledged."},
            {"patient": "clinic/p2"},
            {"rule": "result.abnormal-no-follow-up"},
            {"status": GapStatus.PROSPECTIVE},
        ],
    )
    def test_anything_else_different_is_another_line(self, other: dict[str, object]) -> None:
        """Another summary, patient, rule or status is a line of its own."""
        assert len(group_gaps([gap("a"), gap("b", **other)])) == 2  # type: ignore[arg-type]

    def test_a_line_shows_the_earliest_due_and_the_highest_severity(self) -> None:
        """The group's due is its first gap's; its severity the highest of its gaps."""
        first = gap("a", due=dt.date(2026, 6, 1))
        worse = gap("b", due=dt.date(2026, 6, 5), severity=Severity.CRITICAL)

        [group] = group_gaps([first, worse])

        assert (group.due, group.severity) == (dt.date(2026, 6, 1), Severity.CRITICAL)

    def test_groups_keep_the_order_of_their_first_gap(self) -> None:
        """Lines come in report order."""
        a, b, c = gap("a"), gap("b", rule="task.overdue"), gap("c")

        assert [g.gaps for g in group_gaps([a, b, c])] == [(a, c), (b,)]

    def test_a_group_is_never_empty(self) -> None:
        """A group without gaps is refused."""
        with pytest.raises(ValidationError):
            GapGroup(())

    def test_the_worklist_is_a_sequence_of_groups(self) -> None:
        """Iterating a worklist gives its lines."""
        shown = report(gap("a"), gap("b")).worklist()

        assert len(shown) == 1
        assert shown[0].count == 2
        assert list(shown) == list(shown.groups)

    def test_the_table_shows_the_count_before_the_summary(self) -> None:
        """A line of several gaps reads ``×3 <summary>``; a single gap its summary."""
        text = render_gap_groups(group_gaps([gap("a"), gap("b"), gap("c"), gap("d", rule="x")]))

        lines = text.splitlines()
        assert lines[0].split() == ["due", "status", "severity", "rule", "summary"]
        assert lines[1].endswith("×3 Result issued 2026-06-28 has not been acknowledged.")
        assert lines[2].endswith("  Result issued 2026-06-28 has not been acknowledged.")


class TestSeveralReports:
    """``worklist(reports, as_of=...)``: one view over a population."""

    def test_hidden_gaps_are_counted_over_every_report(self) -> None:
        """The count adds up; each report keeps its place."""
        old = dt.date(2003, 1, 1)
        first = report(gap("a", due=old), gap("b"))
        second = report(gap("c", due=old, patient="clinic/p2"), patient="clinic/p2")

        shown = worklist([first, second], as_of=AS_OF)

        assert shown.hidden == 2
        assert [len(r) for r in shown.reports] == [1, 0]
        assert [r.patient for r in shown.reports] == ["clinic/p1", "clinic/p2"]

    def test_as_a_record_it_is_plain_json(self) -> None:
        """``to_record`` gives as_of, since, the hidden count and the gap records."""
        shown = worklist([report(gap("a", due=dt.date(2003, 1, 1)), gap("b"))], as_of=AS_OF)

        data = shown.to_record()

        assert json.loads(json.dumps(data)) == data
        assert (data["since"], data["hidden"]) == ("2025-07-15", 1)
        assert data["as_of"] == AS_OF.isoformat()
        gaps = data["gaps"]
        assert isinstance(gaps, list)
        assert [g["focus"] for g in gaps if isinstance(g, dict)] == ["clinic/b"]

    @pytest.mark.parametrize("months", [-1, True, 1.5])
    def test_months_must_be_a_whole_number(self, months: object) -> None:
        """A negative, boolean or fractional window is refused (a wrong type: UsageError)."""
        with pytest.raises((ValidationError, UsageError), match="months"):
            worklist([], as_of=AS_OF, months=months)  # type: ignore[arg-type]

    def test_as_of_must_be_aware(self) -> None:
        """Time is an input, with a zone."""
        with pytest.raises(ValidationError, match="as_of"):
            worklist([], as_of=dt.datetime(2026, 7, 15))  # noqa: DTZ001
