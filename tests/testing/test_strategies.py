"""The strategies: FHIR input Bundles that read without errors, profiles and gaps that hold."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings

from carecoord import fhir
from carecoord.rules import EvidenceRole, GapReport, GapStatus, default_rules
from carecoord.testing.fhir_strategies import FhirBundleShape, fhir_bundles
from carecoord.testing.strategies import gap_reports, gaps, profiles


def _resources(bundle: dict[str, object]) -> Counter[str]:
    entries = bundle["entry"]
    assert isinstance(entries, list)
    return Counter(e["resource"]["resourceType"] for e in entries)


@settings(max_examples=60)
@given(fhir_bundles())
def test_fhir_bundles_read_with_no_error_issue(bundle: dict[str, object]) -> None:
    """Every drawn Bundle reads with no error issue, one record per Patient."""
    result = fhir.read(bundle)

    assert [i.code for i in result.issues if i.is_error] == []
    assert len(result.records) == _resources(bundle)["Patient"]


@settings(max_examples=40)
@given(fhir_bundles())
def test_everything_drawn_is_read_as_what_it_is(bundle: dict[str, object]) -> None:
    """Encounters, referrals, orders and results all arrive, as their carecoord kinds."""
    result = fhir.read(bundle)
    read = Counter()
    for record in result.records:
        read["Encounter"] += len(record.encounters)
        read["referrals"] += len(record.referrals)
        read["orders"] += len(record.orders)
        read["Observation"] += len(record.results)
    drawn = _resources(bundle)
    entries = bundle["entry"]
    assert isinstance(entries, list)
    referrals = sum(
        1
        for e in entries
        if e["resource"]["resourceType"] == "ServiceRequest" and e["resource"]["id"][:3] == "ref"
    )

    assert read["Encounter"] == drawn["Encounter"]
    assert read["referrals"] == referrals
    assert read["orders"] == drawn["ServiceRequest"] - referrals
    assert read["Observation"] >= drawn["Observation"]


@settings(max_examples=30)
@given(fhir_bundles(FhirBundleShape(patients=1, encounters=0, referrals=0, orders=1)))
def test_results_cite_their_order(bundle: dict[str, object]) -> None:
    """Each result read from a drawn Observation is based on the drawn order."""
    (record,) = fhir.read(bundle).records

    orders = {o.id for o in record.orders}
    assert all(set(r.based_on) <= orders for r in record.results)


@settings(max_examples=10)
@given(profiles())
def test_profiles_hold_their_records_facts(profile: object) -> None:
    """A drawn profile merges one person's records from distinct sources."""
    from carecoord.profile import PatientProfile

    assert isinstance(profile, PatientProfile)
    assert len({r.source.id for r in profile.records}) == len(profile.records)
    assert profile.fact_count() >= 0


@given(gaps())
def test_gaps_have_fields_that_agree(gap: object) -> None:
    """Closed gaps carry closing evidence and closed_at; only they do; late means late."""
    from carecoord.rules import Gap

    assert isinstance(gap, Gap)
    assert gap.rule in default_rules().ids
    assert gap.opened.date() <= gap.due  # type: ignore[union-attr, operator]
    closed = gap.status is GapStatus.CLOSED
    assert (gap.closed_at is not None) == closed
    assert bool(gap.closed_by) == closed
    assert (gap.reason is not None) == (gap.status is GapStatus.NOT_APPLICABLE)
    if closed:
        assert gap.late == (gap.closed_at.date() > gap.due)  # type: ignore[union-attr, operator]
    assert gap.triggers[0].role is EvidenceRole.TRIGGER


@settings(max_examples=8)
@given(gap_reports())
def test_gap_reports_are_real_reports(report: GapReport) -> None:
    """A drawn report comes from the rules: every rule ran, every gap is the patient's."""
    assert report.ok
    assert all(g.patient == report.patient for g in report)
