"""The clinic's referral follow-up list, tested with carecoord's pytest fixtures."""

from __future__ import annotations

import datetime as dt

import pytest
from clinic_app import referral_follow_ups

from carecoord import detect_gaps, fhir
from carecoord.profile import profile_from_record
from carecoord.services import Coordinator
from carecoord.testing import (
    FhirBundles,
    Population,
    Scenario,
    assert_gap,
    make_record,
    make_referral,
)


@pytest.mark.carecoord_as_of("2026-03-06T12:00:00+00:00")
def test_a_referral_nobody_acknowledged_is_on_the_list(
    carecoord_fhir_bundle: FhirBundles, carecoord_as_of: dt.datetime
) -> None:
    """A referral sent on 25 February and never acknowledged is listed on 6 March."""
    record = make_record(referrals=(make_referral(),))

    rows = referral_follow_ups([carecoord_fhir_bundle(record)], as_of=carecoord_as_of)

    assert [rule for _, rule, _ in rows] == ["referral.unacknowledged"]


def test_an_empty_clinic_has_an_empty_list(
    carecoord_fhir_bundle: FhirBundles, carecoord_as_of: dt.datetime
) -> None:
    """A patient with no referral is not on the list."""
    assert referral_follow_ups([carecoord_fhir_bundle(make_record())], as_of=carecoord_as_of) == []


def test_the_bundle_factory_writes_files(carecoord_fhir_bundle: FhirBundles) -> None:
    """``.file()`` writes a Bundle the FHIR reader reads back without errors."""
    path = carecoord_fhir_bundle.file()

    result = fhir.read(path)

    assert len(result.records) == 1
    assert not [issue for issue in result.issues if issue.is_error]


def test_the_acknowledgement_clock_in_a_scenario(carecoord_scenario: Scenario) -> None:
    """Three business days after sending, the unacknowledged referral is an open gap."""
    s = carecoord_scenario
    s.add("referrals", make_referral(authored_on=s.now))
    s.assert_prospective("referral.unacknowledged")

    s.advance(business_days=4)

    s.assert_open("referral.unacknowledged")


@pytest.mark.carecoord_as_of("2026-07-15T12:00:00-04:00")
def test_a_marker_moves_the_clock(carecoord_as_of: dt.datetime) -> None:
    """``@pytest.mark.carecoord_as_of`` sets the instant for one test."""
    assert carecoord_as_of == dt.datetime(2026, 7, 15, 16, tzinfo=dt.UTC)


@pytest.mark.carecoord_as_of("2026-03-06T12:00:00+00:00")
def test_the_coordinator_keeps_a_worklist(
    carecoord_coordinator: Coordinator,
    carecoord_fhir_bundle: FhirBundles,
    carecoord_as_of: dt.datetime,
) -> None:
    """The in-memory coordinator ingests a bundle and lists the referral's gap."""
    bundle = carecoord_fhir_bundle(make_record(referrals=(make_referral(),)))

    carecoord_coordinator.ingest(fhir.read(bundle), as_of=carecoord_as_of)

    rules = [state.gap.rule for state in carecoord_coordinator.worklist(as_of=carecoord_as_of)]
    assert "referral.unacknowledged" in rules


def test_report_assertions_name_the_rule(carecoord_as_of: dt.datetime) -> None:
    """``assert_gap`` finds the one gap of a rule in a report."""
    profile = profile_from_record(make_record(referrals=(make_referral(),)))
    report = detect_gaps(profile, as_of=carecoord_as_of)

    gap = assert_gap(report, "referral.unacknowledged")

    assert gap.focus.endswith("referral-1")


def test_a_population_has_people_in_several_sources(carecoord_population: Population) -> None:
    """The session's synthetic population holds records of 20 people."""
    assert carecoord_population.people == 20
    assert len({r.source.id for r in carecoord_population.records}) > 1
