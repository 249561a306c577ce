"""Gap records, rule selection by name, summaries by family, and gaps as text."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import ClassVar

import attrs
import pytest

from carecoord.domain import Ref, Sensitivity
from carecoord.errors import NotFound
from carecoord.profile import profile_from_record
from carecoord.rules import (
    GAP_COLUMNS,
    GAP_STATUS_ORDER,
    Evidence,
    Gap,
    GapReport,
    GapStatus,
    RuleContext,
    RuleMetadata,
    Severity,
    default_rules,
    describe_gaps,
    detect_gaps,
    render_gaps,
    render_work_list,
    summarize,
)
from carecoord.testing import AS_OF, days_before, make_record, make_task
from tests._helpers import plain

WHEN = dt.datetime(2026, 7, 15, 16, tzinfo=dt.UTC)
PATIENT = "https://clinic.example/fhir/pat-1"


def make_gap(**changes: object) -> Gap:
    """A valid open ``task.overdue`` gap, with ``changes`` applied."""
    fields: dict[str, object] = {
        "rule": "task.overdue",
        "family": "tasks",
        "patient": PATIENT,
        "status": GapStatus.OPEN,
        "severity": Severity.HIGH,
        "due": dt.date(2026, 7, 3),
        "opened": WHEN - dt.timedelta(days=20),
        "focus": "clinic/task-1",
        "summary": "Task is overdue.",
        "action": "Chase the owner.",
        "evidence": (Evidence("trigger", Ref("Task", "clinic/task-1"), "task written"),),
    }
    fields.update(changes)
    return Gap(**fields)  # type: ignore[arg-type]


class TestGapRecords:
    """``Gap.to_record`` and ``GapReport.to_records``: JSON-safe dicts with GAP_COLUMNS."""

    def test_the_keys_are_the_gap_columns_in_order(self) -> None:
        """A record has exactly the GAP_COLUMNS keys, in that order."""
        assert tuple(make_gap().to_record()) == GAP_COLUMNS

    def test_values_are_plain_json(self) -> None:
        """No enum, date or tuple survives: ``json.dumps`` takes the record as it is."""
        gap = make_gap(
            status=GapStatus.CLOSED,
            closed_at=WHEN,
            late=True,
            snoozed_until=dt.date(2026, 8, 1),
            sensitivity=frozenset({Sensitivity.MENTAL_HEALTH, Sensitivity.HIV}),
        )

        record = gap.to_record()

        assert plain(record)
        assert json.loads(json.dumps(record)) == record

    def test_values_are_those_of_the_gap(self) -> None:
        """Statuses, dates, evidence and labels are spelled as in the JSON output."""
        gap = make_gap(sensitivity=frozenset({Sensitivity.MENTAL_HEALTH, Sensitivity.HIV}))

        record = gap.to_record()

        assert record["key"] == gap.key
        assert (record["status"], record["severity"]) == ("open", "high")
        assert (record["due"], record["opened"]) == ("2026-07-03", "2026-06-25T16:00:00+00:00")
        assert record["evidence"] == [
            {
                "role": "trigger",
                "type": "Task",
                "id": "clinic/task-1",
                "description": "task written",
            }
        ]
        assert record["sensitivity"] == ["HIV", "PSY"]
        assert (record["closed_at"], record["late"], record["reason"]) == (None, False, None)

    def test_family_is_the_gaps_own(self) -> None:
        """A gap's record carries the gap's family; a gap built without one is ``custom``."""
        assert make_gap().to_record()["family"] == "tasks"
        fields = {f.name: getattr(make_gap(), f.name) for f in attrs.fields(Gap)}
        no_family = Gap(**{k: v for k, v in fields.items() if k != "family"})
        assert no_family.to_record()["family"] == "custom"

    def test_the_engine_gives_each_gap_its_rules_family(self) -> None:
        """Gaps found by detect_gaps carry the family of the rule that found them."""
        families = {r.id: r.metadata.family for r in default_rules()}
        profile = profile_from_record(make_record(tasks=(make_task(due=days_before(3)),)))
        report = detect_gaps(profile, as_of=AS_OF)
        assert report.gaps
        assert all(g.family == families[g.rule] for g in report)

    def test_family_comes_from_the_rules_given(self) -> None:
        """With ``rules``, the family is looked up there."""

        @attrs.frozen
        class Mine:
            """A rule of the clinic's own family that finds nothing."""

            id: ClassVar[str] = "clinic.my-rule"
            metadata: ClassVar[RuleMetadata] = RuleMetadata(
                id="clinic.my-rule", title="Mine", description="Mine.", family="clinic"
            )

            def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
                """No gap."""
                yield from ()

        rules = default_rules().add(Mine())

        assert make_gap(rule="clinic.my-rule").to_record(rules)["family"] == "clinic"
        assert make_gap().to_record([Mine()])["family"] == "custom"

    def test_a_report_gives_one_record_per_gap_in_order(self) -> None:
        """``to_records`` lists the gaps' records in report order; an empty report gives []."""
        gaps = (make_gap(), make_gap(focus="clinic/task-2"))
        report = GapReport(PATIENT, WHEN, gaps)

        assert report.to_records() == [g.to_record() for g in gaps]
        assert GapReport(PATIENT, WHEN).to_records() == []
        assert plain(report.to_records())


class TestSelect:
    """``RuleSet.select``: rules by id or family name."""

    def test_ids_and_families_in_catalogue_order(self) -> None:
        """A family name keeps the whole family; order is the catalogue's."""
        catalogue = default_rules()

        chosen = catalogue.select("task.overdue", "transitions")

        expected = [r.id for r in catalogue if r.metadata.family == "transitions"]
        assert set(chosen.ids) == {"task.overdue", *expected}
        assert list(chosen.ids) == [i for i in catalogue.ids if i in set(chosen.ids)]

    def test_the_complement_with_without(self) -> None:
        """``without(*select(...).ids)`` drops the named rules."""
        catalogue = default_rules()

        rest = catalogue.without(*catalogue.select("referrals").ids)

        assert len(rest) == len(catalogue) - len(catalogue.family("referrals"))

    def test_an_unknown_name_is_not_found(self) -> None:
        """An unknown id or family raises NotFound naming it."""
        with pytest.raises(NotFound, match=r"unknown rule or family 'no\.such-rule'"):
            default_rules().select("task.overdue", "no.such-rule")


class TestSummaryByFamily:
    """``PopulationSummary.by_family``."""

    def test_counts_by_family_in_catalogue_order(self) -> None:
        """Gaps are counted per family and status; custom rules come last."""
        gaps = (
            make_gap(rule="clinic.mine", focus="x"),
            make_gap(),
            make_gap(focus="y", status=GapStatus.CLOSED, closed_at=WHEN),
            make_gap(rule="referral.loop-open", focus="z", status=GapStatus.PROSPECTIVE),
        )

        table = summarize([GapReport(PATIENT, WHEN, gaps)]).by_family()

        assert list(table) == ["referrals", "tasks", "custom"]
        assert table["tasks"] == {GapStatus.OPEN: 1, GapStatus.CLOSED: 1}
        assert table["custom"] == {GapStatus.OPEN: 1}


class TestGapText:
    """``describe_gaps``, ``render_gaps`` and ``render_work_list``."""

    def test_counts_open_first(self) -> None:
        """Counts follow GAP_STATUS_ORDER; no gap is ``none``."""
        gaps = [make_gap(status=GapStatus.PROSPECTIVE), make_gap(), make_gap()]

        assert describe_gaps(gaps) == "2 open, 1 prospective"
        assert describe_gaps([]) == "none"
        assert GAP_STATUS_ORDER[0] is GapStatus.OPEN

    def test_the_table_has_a_header_and_a_line_per_gap(self) -> None:
        """Due, status, severity, rule, summary; date-times to the minute."""
        gaps = [make_gap(), make_gap(due=WHEN)]

        lines = render_gaps(gaps).splitlines()

        assert lines[0].split() == ["due", "status", "severity", "rule", "summary"]
        assert lines[1].startswith("  2026-07-03  ")
        assert lines[2].startswith("  2026-07-15 16:00  ")

    def test_the_work_list_groups_a_rule_and_gives_the_action(self) -> None:
        """Gaps of one rule and status are shown once, with their count and the action."""
        gaps = [make_gap(), make_gap(focus="b", due=dt.date(2026, 7, 9)), make_gap(rule="x.y")]
        closed = make_gap(rule="z.z", status=GapStatus.CLOSED, closed_at=WHEN)

        lines = render_work_list([*gaps, closed], indent="").splitlines()

        assert lines[0] == "open:"
        assert lines[1].startswith("  2026-07-03 +1  task.overdue  (2 gaps) Task is overdue.")
        assert lines[2].endswith("-> Chase the owner.")
        assert not any("z.z" in line for line in lines)
