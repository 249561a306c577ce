"""assert_gap / assert_no_gap and Scenario assertions: unknown rule ids are refused by name."""

from __future__ import annotations

import pytest

from carecoord import GapStatus, detect_gaps
from carecoord.errors import NotFound
from carecoord.profile import profile_from_record
from carecoord.rules import GapReport, default_rules
from carecoord.testing import (
    AS_OF,
    Scenario,
    assert_gap,
    assert_no_gap,
    days_before,
    known_rule,
    make_record,
    make_referral,
)

ACK = "referral.unacknowledged"


def _report() -> GapReport:
    profile = profile_from_record(make_record(referrals=(make_referral(),)))
    return detect_gaps(profile, as_of=AS_OF)


def test_a_typo_is_an_unknown_rule_with_suggestions() -> None:
    """A misspelt id says "unknown rule" and suggests the close ids, not "found: none"."""
    with pytest.raises(NotFound, match=r"unknown rule 'referral\.unacknowledgd'.*did you mean"):
        assert_gap(_report(), "referral.unacknowledgd")


def test_a_scenario_typo_is_an_unknown_rule() -> None:
    """``Scenario.assert_open`` refuses an unknown id the same way."""
    with pytest.raises(NotFound, match=r"did you mean referral\.unacknowledged"):
        Scenario().assert_open("referral.unacknowledgd")


def test_a_scenario_knows_only_its_rules() -> None:
    """A rule left out of the scenario's rule set is unknown there."""
    s = Scenario(rules=default_rules().only(ACK))

    with pytest.raises(NotFound, match="unknown rule"):
        s.assert_no_gap("referral.unscheduled")


def test_an_id_with_nothing_close_points_at_the_catalogue() -> None:
    """Nothing similar: the message says where the ids are listed."""
    with pytest.raises(NotFound, match="see carecoord rules"):
        known_rule("zzz")


def test_assert_gap_returns_the_one_gap() -> None:
    """The one gap of the rule, in the status asked."""
    gap = assert_gap(_report(), ACK, GapStatus.PROSPECTIVE)

    assert gap.rule == ACK
    assert gap.focus == "clinic-ehr/referral-1"


def test_assert_gap_reports_the_status_found() -> None:
    """A wrong status fails with what was found."""
    with pytest.raises(AssertionError, match="expected open, got prospective"):
        assert_gap(_report(), ACK, GapStatus.OPEN)


def test_assert_no_gap_lists_what_it_found() -> None:
    """assert_no_gap fails with the gaps found by focus and status."""
    with pytest.raises(AssertionError, match=r"clinic-ehr/referral-1=prospective"):
        assert_no_gap(_report(), ACK)


def test_custom_rules_are_known_when_given() -> None:
    """A rule set passed as ``rules`` is where ids are looked up."""
    only = default_rules().only(ACK)

    assert known_rule(ACK, only) == ACK
    with pytest.raises(NotFound):
        known_rule("referral.unscheduled", only)


def test_a_scenario_written_at_now_follows_the_clock() -> None:
    """``make_referral(authored_on=s.now)`` works in a scenario (its sent_at follows)."""
    s = Scenario(start=days_before(10))
    s.add("referrals", make_referral(authored_on=s.now))
    s.assert_prospective(ACK)

    s.advance(business_days=4)

    s.assert_open(ACK)


def test_a_scenario_of_the_wrong_kind_of_subject_is_a_usage_error() -> None:
    """``Scenario(42)`` says what a scenario's subject may be."""
    from carecoord.errors import UsageError

    with pytest.raises(UsageError, match="expected a PatientProfile, a PatientRecord"):
        Scenario(42)  # type: ignore[arg-type]
