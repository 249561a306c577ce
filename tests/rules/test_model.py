"""Tests for the gap model: statuses, evidence, keys, reports and metadata."""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.domain import Ref
from carecoord.errors import ValidationError
from carecoord.rules import (
    Evidence,
    EvidenceRole,
    Gap,
    GapReport,
    GapStatus,
    RuleError,
    RuleMetadata,
    Severity,
)

WHEN = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
REF = Ref("Referral", "clinic-ehr/referral-1")


def make_gap(**changes: object) -> Gap:
    """A valid open gap, with ``changes`` applied."""
    fields: dict[str, object] = {
        "rule": "referral.unacknowledged",
        "patient": "clinic-ehr/patient-1",
        "status": GapStatus.OPEN,
        "severity": Severity.MEDIUM,
        "due": dt.date(2026, 3, 2),
        "opened": WHEN,
        "focus": "clinic-ehr/referral-1",
        "summary": "Referral not acknowledged.",
        "action": "Call the recipient.",
        "evidence": (Evidence("trigger", REF, "referral sent"),),
    }
    fields.update(changes)
    return Gap(**fields)  # type: ignore[arg-type]


class TestGapStatus:
    """Tests for gap status."""

    def test_deqm_codes(self) -> None:
        """Statuses map to the Da Vinci DEQM gaps-status codes."""
        assert [s.deqm_code for s in GapStatus] == [
            "prospective-gap",
            "open-gap",
            "closed-gap",
            "not-applicable",
        ]

    def test_only_prospective_and_open_are_actionable(self) -> None:
        """Prospective and open gaps call for action; closed and not-applicable do not."""
        assert {s for s in GapStatus if s.is_actionable} == {GapStatus.PROSPECTIVE, GapStatus.OPEN}


class TestSeverity:
    """Tests for severity."""

    def test_ranks_increase(self) -> None:
        """Severity ranks run from low (0) to critical (3)."""
        assert [s.rank for s in Severity] == [0, 1, 2, 3]


class TestEvidence:
    """Tests for evidence."""

    def test_role_accepts_its_text(self) -> None:
        """The role may be given as text and becomes an EvidenceRole."""
        assert Evidence("closing", REF).role is EvidenceRole.CLOSING

    def test_unknown_role_is_refused(self) -> None:
        """An unknown role text is refused."""
        with pytest.raises(ValueError, match="nope"):
            Evidence("nope", REF)


class TestGap:
    """Tests for gap."""

    def test_key_is_rule_patient_and_focus(self) -> None:
        """The key is "rule|patient|focus"."""
        assert (
            make_gap().key == "referral.unacknowledged|clinic-ehr/patient-1|clinic-ehr/referral-1"
        )

    def test_the_same_gap_found_twice_has_the_same_key(self) -> None:
        """Two evaluations finding the same gap in different states share the key."""
        assert make_gap().key == make_gap(status=GapStatus.CLOSED, due=WHEN).key

    def test_closed_by_lists_the_closing_evidence(self) -> None:
        """closed_by holds the closing evidence only."""
        closing = Evidence(EvidenceRole.CLOSING, REF, "acknowledged")
        gap = make_gap(evidence=(Evidence("trigger", REF), closing), status=GapStatus.CLOSED)
        assert gap.closed_by == (closing,)

    def test_triggers_lists_the_trigger_evidence(self) -> None:
        """Gap.triggers holds the trigger evidence only."""
        assert [e.description for e in make_gap().triggers] == ["referral sent"]

    def test_naive_due_is_refused(self) -> None:
        """A naive due datetime is refused."""
        with pytest.raises(ValidationError, match="naive"):
            make_gap(due=dt.datetime(2026, 3, 2))  # noqa: DTZ001

    def test_due_must_be_a_date_or_datetime(self) -> None:
        """A due given as text is refused."""
        with pytest.raises(ValidationError, match="due"):
            make_gap(due="2026-03-02")

    def test_snoozed_gaps_are_not_actionable(self) -> None:
        """An open gap that is snoozed is not on the work list."""
        gap = make_gap(snoozed_until=dt.date(2026, 3, 9))
        assert gap.is_snoozed
        assert not gap.is_actionable

    def test_empty_focus_is_refused(self) -> None:
        """A gap needs a focus."""
        with pytest.raises(ValidationError, match="focus"):
            make_gap(focus="")


class TestGapReport:
    """Tests for gap report."""

    def test_is_a_sequence_of_gaps(self) -> None:
        """A report indexes, iterates and measures like a tuple of gaps."""
        gaps = (make_gap(), make_gap(focus="other"))
        report = GapReport("clinic-ehr/patient-1", WHEN, gaps)
        assert len(report) == 2
        assert report[1] is gaps[1]
        assert list(report) == list(gaps)

    def test_filters(self) -> None:
        """by_rule, with_status, actionable and get select gaps."""
        closed = make_gap(focus="done", status=GapStatus.CLOSED)
        report = GapReport("p", WHEN, (make_gap(), closed))
        assert report.with_status(GapStatus.CLOSED) == (closed,)
        assert report.actionable() == (report[0],)
        assert report.by_rule("referral.unacknowledged") == tuple(report)
        assert report.get(closed.key) is closed

    def test_ok_is_false_when_a_rule_raised(self) -> None:
        """GapReport.ok tells whether every rule ran."""
        error = RuleError("x", "p", "KeyError", "boom")
        assert not GapReport("p", WHEN, errors=(error,)).ok


class TestRuleError:
    """Tests for rule error."""

    def test_repr_masks_the_message(self) -> None:
        """A rule's exception text may hold patient data, so the repr masks it."""
        error = RuleError.from_exception("x", "p", ValueError("Alex Testperson"))
        assert "Alex" not in repr(error)
        assert error.message == "Alex Testperson"
        assert error.error_type == "ValueError"


class TestRuleMetadata:
    """Tests for rule metadata."""

    def test_reads_must_name_profile_fields(self) -> None:
        """A rule may only declare it reads profile fields or parties."""
        with pytest.raises(ValidationError, match="unknown fact kinds"):
            RuleMetadata(id="x.y", title="X", description="", reads=frozenset({"referals"}))

    def test_ids_have_no_spaces_or_pipes(self) -> None:
        """A rule id may not contain spaces or the key separator."""
        with pytest.raises(ValidationError, match="rule id"):
            RuleMetadata(id="a|b", title="X", description="")


class TestExclusion:
    """Exclusion metadata: a description, how it follows the measure, the citations."""

    def test_a_description_is_required(self) -> None:
        """An empty description is refused."""
        from carecoord.errors import ValidationError
        from carecoord.rules import Exclusion

        with pytest.raises(ValidationError, match="description"):
            Exclusion(" ")

    def test_details_give_the_exclusions_when_none_are_given(self) -> None:
        """exclusion_details alone: exclusions are their descriptions, in order."""
        from carecoord.rules import Exclusion, RuleMetadata

        meta = RuleMetadata(
            id="practice.x",
            title="X",
            description="",
            exclusion_details=(Exclusion("First."), Exclusion("Second.", "As the measure says.")),
        )
        assert meta.exclusions == ("First.", "Second.")

    def test_given_exclusions_are_kept(self) -> None:
        """Both given: the exclusions are kept as written; no details, no change either."""
        from carecoord.rules import Exclusion, RuleMetadata

        both = RuleMetadata(
            id="practice.x",
            title="X",
            description="",
            exclusions=("Written.",),
            exclusion_details=(Exclusion("Detailed."),),
        )
        assert both.exclusions == ("Written.",)
        plain = RuleMetadata(id="practice.x", title="X", description="", exclusions=("A.",))
        assert plain.exclusions == ("A.",)
        assert plain.exclusion_details == ()
