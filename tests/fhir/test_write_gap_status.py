"""The DEQM gap status of a written gap is the measure's: a late closure is an open gap.

Da Vinci DEQM's ``closed-gap`` means no discrepancy between the measure's standard of care
and the care given. A gap carecoord closes late (the follow-up came after the window) is
closed for coordination, but the measure counts the care as not given in time: it was
exported as ``closed-gap``; it is now ``open-gap``, with its closing time kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carecoord.domain import Ref
from carecoord.fhir import gap_to_detected_issue
from carecoord.fhir._write_gaps import GAP_EXTENSION
from carecoord.rules import Evidence, EvidenceRole, GapStatus, default_rules, detect_gaps
from carecoord.testing import Scenario, make_referral

from .test_write_resources import gap

CLOSED_AT = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
CLOSING = Evidence(EvidenceRole.CLOSING, Ref("Appointment", "clinic-ehr/appt-1"), "booked")


def status_of(issue: dict[str, Any]) -> str:
    """The DEQM gap-status code of a written DetectedIssue."""
    code: str = issue["modifierExtension"][0]["valueCodeableConcept"]["coding"][0]["code"]
    return code


def details(issue: dict[str, Any]) -> dict[str, Any]:
    """The ``care-gap`` extension's parts, by name."""
    [found] = [e for e in issue["extension"] if e["url"] == GAP_EXTENSION]
    return {
        part["url"]: next(v for k, v in part.items() if k.startswith("value"))
        for part in found["extension"]
    }


class TestGapStatusAsTheMeasureCountsIt:
    """``Gap.deqm_code`` and the DetectedIssue's gap status."""

    def test_closed_on_time_is_a_closed_gap(self) -> None:
        """Met by the due date: ``closed-gap``."""
        met = gap(GapStatus.CLOSED, closed_at=CLOSED_AT, evidence=(CLOSING,))
        issue = gap_to_detected_issue(met, patient_ref="Patient/patient-1")

        assert (met.deqm_code, status_of(issue), issue["status"]) == (
            "closed-gap",
            "closed-gap",
            "final",
        )

    def test_closed_late_is_an_open_gap(self) -> None:
        """Met after the due date: ``open-gap``, the closing time and lateness kept."""
        late = gap(GapStatus.CLOSED, closed_at=CLOSED_AT, late=True, evidence=(CLOSING,))
        issue = gap_to_detected_issue(late, patient_ref="Patient/patient-1")

        assert (late.deqm_code, status_of(issue), issue["status"]) == (
            "open-gap",
            "open-gap",
            "final",
        )
        assert details(issue)["closedAt"] == "2026-03-04T15:00:00Z"
        assert details(issue)["late"] is True
        assert issue["mitigation"][0]["date"] == "2026-03-04T15:00:00Z"

    def test_not_applicable_is_outside_the_population(self) -> None:
        """An excluded gap is ``not-applicable``, with its reason."""
        excluded = gap(GapStatus.NOT_APPLICABLE, reason="patient died")
        issue = gap_to_detected_issue(excluded, patient_ref="Patient/patient-1")

        assert (excluded.deqm_code, status_of(issue)) == ("not-applicable", "not-applicable")
        assert details(issue)["reason"] == "patient died"

    @pytest.mark.parametrize(
        ("status", "code"),
        [(GapStatus.OPEN, "open-gap"), (GapStatus.PROSPECTIVE, "prospective-gap")],
    )
    def test_open_and_prospective_keep_their_codes(self, status: GapStatus, code: str) -> None:
        """Open and prospective gaps are what their status says."""
        assert gap(status).deqm_code == code
        assert status_of(gap_to_detected_issue(gap(status), patient_ref="Patient/p")) == code

    def test_a_late_closure_found_by_the_rules_is_exported_open(self) -> None:
        """End to end: a referral acknowledged after its window is an open gap in DEQM."""
        sent = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        s = Scenario(start=sent + dt.timedelta(days=20))
        s.add("referrals", make_referral().accept(at=sent + dt.timedelta(days=10)))
        rules = default_rules().only("referral.unacknowledged")
        [found] = detect_gaps(s.profile, as_of=s.now, rules=rules, include_closed=True)

        issue = gap_to_detected_issue(found, patient_ref="Patient/patient-1")
        assert (found.status, found.late) == (GapStatus.CLOSED, True)
        assert status_of(issue) == "open-gap"
