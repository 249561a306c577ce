"""The result rules read results by report: one gap per report, none for its members.

A report (FHIR DiagnosticReport, or a panel Observation) groups results through
``Result.members``. Before this, a report and each result in it got a gap of their own:
on the shared Synthea sample, 2,689 of 3,245 unacknowledged-result gaps were for
Observations a DiagnosticReport already covered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import (
    Code,
    CommunicationKind,
    Interpretation,
    Ref,
    Result,
    ResultCategory,
    ResultId,
    ResultStatus,
    System,
)
from carecoord.profile import build_profiles
from carecoord.rules import EvidenceRole, GapStatus, Severity, default_rules, detect_gaps
from carecoord.testing import (
    CARDIOLOGIST,
    PCP,
    Scenario,
    make_care_team,
    make_communication,
    make_order,
    make_record,
    make_source,
    make_task,
)

from .test_results import (
    FOLLOW_UP,
    ISSUE_DAY,
    UNACK,
    at,
    end_of,
    order,
    result,
    start_after,
)

KEY = "clinic-ehr/"
POTASSIUM = Code(System.LOINC, "2823-3", "Potassium")
SODIUM = Code(System.LOINC, "2951-2", "Sodium")
PANEL = Code(System.LOINC, "51990-0", "Basic metabolic panel")


def member(ident: str, **changes: Any) -> Result:
    """A normal lab result of the panel, issued with it."""
    defaults: dict[str, Any] = {
        "id": ident,
        "code": SODIUM,
        "interpretation": Interpretation.NORMAL,
        "category": ResultCategory.LABORATORY,
    }
    return result(**{**defaults, **changes})


def report(*members: str, **changes: Any) -> Result:
    """A lab report for ``order-1`` grouping ``members`` (no interpretation of its own)."""
    defaults: dict[str, Any] = {
        "id": "report-1",
        "code": PANEL,
        "interpretation": Interpretation.UNKNOWN,
        "category": ResultCategory.LABORATORY,
        "members": tuple(ResultId(m) for m in members),
    }
    return result(**{**defaults, **changes})


def panel(*extra: Result, now: dt.datetime | None = None) -> Scenario:
    """An order by the PCP, a report of three results (m1-m3), any ``extra``, the team."""
    s = Scenario(start=now or at(ISSUE_DAY, 12))
    s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
    s.add("results", report("m1", "m2", "m3"), member("m1"), member("m2"), member("m3"))
    if extra:
        s.add("results", *extra)
    s.add("care_teams", make_care_team())
    return s


class TestUnacknowledgedByReport:
    """``result.unacknowledged``: one gap per report, on the report."""

    def test_one_gap_for_the_report_and_none_for_its_members(self) -> None:
        """A report of three results gives one gap, focused on the report."""
        found = panel().find_gaps(UNACK)

        assert [g.focus for g in found] == [KEY + "report-1"]

    def test_the_evidence_lists_the_members(self) -> None:
        """The report is the trigger; each result in it is context evidence."""
        gap = panel().gap(UNACK)

        assert gap.triggers[0].ref == Ref("Result", KEY + "report-1")
        context = [e.ref.id for e in gap.evidence if e.role is EvidenceRole.CONTEXT]
        assert context == [KEY + "m1", KEY + "m2", KEY + "m3"]

    def test_the_summary_counts_the_results(self) -> None:
        """The summary names a report and how many results it holds, not the test."""
        gap = panel().gap(UNACK)

        assert gap.summary == "Report issued 2026-02-04 (3 results) has not been acknowledged."

    def test_a_result_on_its_own_keeps_its_own_gap(self) -> None:
        """A result no report groups still gets a gap of its own."""
        alone = member("m9", code=POTASSIUM)
        found = panel(alone).find_gaps(UNACK)

        assert sorted(g.focus for g in found) == [KEY + "m9", KEY + "report-1"]

    def test_acknowledging_the_report_acknowledges_its_members(self) -> None:
        """The report acknowledged by the orderer: closed, and still no member gap."""
        s = Scenario(start=at(dt.date(2026, 2, 20)))
        s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
        acked = report("m1", "m2").acknowledge(PCP, at=at(dt.date(2026, 2, 5)))
        s.add("results", acked, member("m1"), member("m2"))

        [gap] = s.find_gaps(UNACK)
        assert gap.status is GapStatus.CLOSED
        assert gap.closed_at == at(dt.date(2026, 2, 5))

    def test_one_member_acknowledged_leaves_the_report_open(self) -> None:
        """Acknowledging one result of three does not acknowledge the report."""
        acked = member("m1").acknowledge(PCP, at=at(dt.date(2026, 2, 5)))
        s = Scenario(start=at(dt.date(2026, 2, 20)))
        s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
        s.add("results", report("m1", "m2"), acked, member("m2"))

        s.assert_open(UNACK)

    def test_every_member_acknowledged_closes_the_report_at_the_last(self) -> None:
        """Each result acknowledged one by one: the report is closed when the last one was."""
        first = member("m1").acknowledge(PCP, at=at(dt.date(2026, 2, 5)))
        last = member("m2").acknowledge(PCP, at=at(dt.date(2026, 2, 6)))
        s = Scenario(start=at(dt.date(2026, 2, 20)))
        s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
        s.add("results", report("m1", "m2"), first, last)

        gap = s.assert_closed(UNACK)
        assert gap.closed_at == at(dt.date(2026, 2, 6))
        assert gap.closed_by[0].description == "every result in the report acknowledged"

    def test_an_outsiders_acknowledgement_of_members_does_not_count(self) -> None:
        """Members acknowledged by someone not responsible leave the report open."""
        acked = [member(m).acknowledge(CARDIOLOGIST, at=at(dt.date(2026, 2, 5))) for m in "ab"]
        s = Scenario(start=at(dt.date(2026, 2, 20)))
        s.add("orders", order(authored_on=at(dt.date(2026, 2, 2))))
        s.add("results", report("a", "b"), *acked)
        s.add("care_teams", make_care_team())

        s.assert_open(UNACK)

    def test_a_critical_member_makes_the_report_critical(self) -> None:
        """One critical result in the report: critical, due 24 hours after issue, both sides."""
        s = panel()
        s.add("results", member("m2", interpretation=Interpretation.CRITICAL))
        due = at(ISSUE_DAY) + dt.timedelta(hours=24)

        gap = s.gap(UNACK)
        assert (gap.severity, gap.due) == (Severity.CRITICAL, due)
        assert gap.summary.startswith("Critical report issued")
        s.set_now(due).assert_prospective(UNACK)
        s.set_now(due + dt.timedelta(microseconds=1)).assert_open(UNACK)

    def test_a_normal_report_is_due_in_3_business_days_both_sides(self) -> None:
        """Issued Wednesday 4 February: due Monday 9 February, as a single result is."""
        s = panel()

        s.set_now(end_of(dt.date(2026, 2, 9))).assert_prospective(UNACK)
        s.set_now(start_after(dt.date(2026, 2, 9))).assert_open(UNACK)

    def test_panels_inside_a_report_are_flattened(self) -> None:
        """A report holding a panel holding results: one gap listing all three."""
        s = Scenario(start=at(ISSUE_DAY, 12))
        s.add("results", report("p1"), member("p1", members=(ResultId("m1"),)), member("m1"))

        [gap] = s.find_gaps(UNACK)
        context = [e.ref.id for e in gap.evidence if e.role is EvidenceRole.CONTEXT]
        assert (gap.focus, context) == (KEY + "report-1", [KEY + "m1", KEY + "p1"])

    def test_results_grouping_each_other_give_one_gap(self) -> None:
        """Two results naming each other (a loop) are read as one, on the earlier."""
        s = Scenario(start=at(ISSUE_DAY, 12))
        early = member("a", members=(ResultId("b"),), issued=at(ISSUE_DAY, 9))
        s.add("results", early, member("b", members=(ResultId("a"),)))

        assert [g.focus for g in s.find_gaps(UNACK)] == [KEY + "a"]

    def test_members_of_an_unavailable_report_stand_alone(self) -> None:
        """A cancelled report groups nothing: its results are read on their own."""
        s = Scenario(start=at(ISSUE_DAY, 12))
        s.add("results", report("m1", status=ResultStatus.CANCELLED), member("m1"))

        assert [g.focus for g in s.find_gaps(UNACK)] == [KEY + "m1"]

    def test_a_member_recorded_later_is_not_yet_in_the_report(self) -> None:
        """Time travel: a result recorded after as_of is neither a member nor evidence."""
        s = Scenario(start=at(ISSUE_DAY, 12))
        late = member("m2", recorded_at=at(ISSUE_DAY, 18))
        s.add("results", report("m1", "m2"), member("m1"), late)

        gap = s.gap(UNACK)
        assert [e.ref.id for e in gap.evidence if e.role is EvidenceRole.CONTEXT] == [KEY + "m1"]
        assert gap.summary.endswith("(1 result) has not been acknowledged.")

    def test_members_are_looked_up_in_the_reports_own_source(self) -> None:
        """A lab's report does not swallow a clinic's result that has the same id."""
        lab = make_record(source=make_source(id="lab"), results=(report("m1"), member("m1")))
        clinic = make_record(results=(member("m1", code=POTASSIUM, issued=at(ISSUE_DAY, 11)),))
        [profile] = build_profiles([lab, clinic])

        rules = default_rules().only(UNACK)
        found = detect_gaps(profile, as_of=at(ISSUE_DAY, 12), rules=rules)
        assert sorted(g.focus for g in found) == ["clinic-ehr/m1", "lab/report-1"]

    def test_a_survey_report_of_lab_results_is_followed(self) -> None:
        """A report is followed when it or one of its results is of a followed category."""
        s = Scenario(start=at(ISSUE_DAY, 12))
        s.add("results", report("m1", category=ResultCategory.SURVEY), member("m1"))

        s.assert_prospective(UNACK)

    def test_a_report_of_vital_signs_is_not_followed(self) -> None:
        """A vital-signs panel of vital signs needs no acknowledgement: no gap at all."""
        vitals = ResultCategory.VITAL_SIGNS
        s = Scenario(start=at(ISSUE_DAY, 12))
        s.add("results", report("m1", category=vitals), member("m1", category=vitals))

        s.assert_no_gap(UNACK)


class TestAbnormalFollowUpByReport:
    """``result.abnormal-no-follow-up``: one gap per report with abnormal results in it."""

    def abnormal_panel(self, now: dt.datetime | None = None) -> Scenario:
        """A report of three results, two of them abnormal (m1 potassium, m3 sodium)."""
        s = panel(now=now)
        s.add(
            "results",
            member("m1", code=POTASSIUM, interpretation=Interpretation.ABNORMAL),
            member("m3", interpretation=Interpretation.ABNORMAL),
        )
        return s

    def test_one_gap_for_the_report(self) -> None:
        """Two abnormal results in one report: one gap, on the report."""
        found = self.abnormal_panel().find_gaps(FOLLOW_UP)

        assert [g.focus for g in found] == [KEY + "report-1"]

    def test_the_evidence_lists_the_abnormal_results(self) -> None:
        """The abnormal results are context evidence; the normal one is not listed."""
        gap = self.abnormal_panel().gap(FOLLOW_UP)

        context = [e.ref.id for e in gap.evidence if e.role is EvidenceRole.CONTEXT]
        assert context == [KEY + "m1", KEY + "m3"]
        assert (
            gap.summary == "2 abnormal results in the report issued 2026-02-04 have no follow-up."
        )

    def test_a_report_of_normal_results_has_no_gap(self) -> None:
        """Nothing abnormal in the report: no follow-up gap."""
        panel().assert_no_gap(FOLLOW_UP)

    def test_due_30_days_after_the_report_both_sides(self) -> None:
        """Issued 4 February: due 6 March, prospective through it and open after."""
        s = self.abnormal_panel()

        assert s.gap(FOLLOW_UP).due == dt.date(2026, 3, 6)
        s.set_now(end_of(dt.date(2026, 3, 6))).assert_prospective(FOLLOW_UP)
        s.set_now(start_after(dt.date(2026, 3, 6))).assert_open(FOLLOW_UP)

    def test_a_task_about_one_abnormal_result_closes_it(self) -> None:
        """A task focused on an abnormal result in the report follows the report up."""
        s = self.abnormal_panel(now=at(dt.date(2026, 3, 10)))
        s.add("tasks", make_task(authored_on=at(dt.date(2026, 2, 6)), focus=Ref("Result", "m3")))

        assert s.assert_closed(FOLLOW_UP).closed_at == at(dt.date(2026, 2, 6))

    def test_a_message_about_the_report_closes_it(self) -> None:
        """Telling the patient about the report follows up every result in it."""
        s = self.abnormal_panel(now=at(dt.date(2026, 3, 10)))
        message = make_communication(
            kind=CommunicationKind.RESULT_NOTIFICATION,
            sent=at(dt.date(2026, 2, 5)),
            about=(Ref("Result", "report-1"),),
        )
        s.add("communications", message)

        s.assert_closed(FOLLOW_UP)

    def test_repeating_one_abnormal_test_closes_it(self) -> None:
        """A repeat order of one abnormal result's test counts as the follow-up."""
        s = self.abnormal_panel(now=at(dt.date(2026, 3, 10)))
        repeat = make_order(id="order-2", code=POTASSIUM, authored_on=at(dt.date(2026, 2, 20)))
        s.add("orders", repeat)

        assert s.assert_closed(FOLLOW_UP).closed_by[0].ref.type == "Order"

    def test_a_task_about_a_normal_result_does_not_close_it(self) -> None:
        """Following up the normal result in the report is not following up the others."""
        s = self.abnormal_panel(now=at(dt.date(2026, 3, 10)))
        s.add("tasks", make_task(authored_on=at(dt.date(2026, 2, 6)), focus=Ref("Result", "m2")))

        s.assert_open(FOLLOW_UP)

    def test_a_critical_result_makes_the_report_critical(self) -> None:
        """One critical result in the report: the gap is critical."""
        s = self.abnormal_panel()
        s.add("results", member("m2", interpretation=Interpretation.CRITICAL))

        gap = s.gap(FOLLOW_UP)
        assert gap.severity is Severity.CRITICAL
        assert gap.summary.startswith("3 critical results in the report")
