"""Results grouped by their report: ``DiagnosticReport.result`` and ``Observation.hasMember``.

A report (or a panel) lists the results it groups; carecoord keeps the link as
``Result.members`` (ids of results of the same record), reads it from both elements and
writes it as ``hasMember``, so it survives a round trip.
"""

from __future__ import annotations

import pytest

from carecoord import fhir
from carecoord.domain import ResultId
from carecoord.errors import ValidationError
from carecoord.fhir._write import write_bundle
from carecoord.testing import make_record, make_result

from .test_read_clinical import LOINC, observation
from .test_read_fixtures import SUBJECT, only_record, read_bundle, ref, when


def report(*members: str, **extra: object) -> dict[str, object]:
    """A final lab DiagnosticReport grouping the Observations ``members``."""
    resource: dict[str, object] = {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "subject": SUBJECT,
        "category": [{"coding": [{"code": "LAB"}]}],
        "code": {"coding": [{"system": LOINC, "code": "51990-0"}]},
        "issued": when(2),
        "result": [ref("Observation", m) for m in members],
    }
    resource.update(extra)
    return resource


class TestReadingMembers:
    """What a report or panel groups becomes its ``members``."""

    def test_a_report_lists_its_observations(self) -> None:
        """``DiagnosticReport.result`` gives the members, in order."""
        record = only_record(report("o1", "o2"), observation(), observation(id="o2"))

        by_id = {r.id: r for r in record.results}
        assert by_id[ResultId("dr1")].members == ("o1", "o2")
        assert by_id[ResultId("o1")].members == ()

    def test_a_panel_lists_its_members(self) -> None:
        """``Observation.hasMember`` gives the members of a panel Observation."""
        panel = observation(id="panel", hasMember=[ref("Observation", "o1")])
        record = only_record(panel, observation())

        by_id = {r.id: r for r in record.results}
        assert by_id[ResultId("panel")].members == ("o1",)

    def test_a_report_without_results_has_no_members(self) -> None:
        """A report that groups nothing (a narrative report) has no members."""
        [item] = only_record(report()).results

        assert item.members == ()

    def test_only_observations_are_members(self) -> None:
        """A ``result`` reference to something that is not a result is not a member."""
        order = {
            "resourceType": "ServiceRequest",
            "id": "lab-1",
            "status": "active",
            "intent": "order",
            "subject": SUBJECT,
            "authoredOn": when(4),
            "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
        }
        mixed = report("o1", result=[ref("Observation", "o1"), ref("ServiceRequest", "lab-1")])
        record = read_bundle(mixed, observation(), order).records[0]

        by_id = {r.id: r for r in record.results}
        assert by_id[ResultId("dr1")].members == ("o1",)


class TestWritingMembers:
    """Members are written as ``hasMember`` and read back the same."""

    def test_members_are_written_as_has_member(self) -> None:
        """A result with members is an Observation whose ``hasMember`` names them."""
        grouped = make_result(id="panel", members=(ResultId("result-1"),))
        record = make_record(results=(make_result(), grouped))

        entries = write_bundle([record])["entry"]
        urls = {e["resource"].get("id"): e["fullUrl"] for e in entries}
        [panel] = [e["resource"] for e in entries if e["resource"].get("id") == "panel"]
        assert [m["reference"] for m in panel["hasMember"]] == [urls["result-1"]]

    def test_members_round_trip(self) -> None:
        """Written and read back, the report still groups the same results."""
        grouped = make_result(id="panel", members=(ResultId("result-1"),))
        record = make_record(results=(make_result(), grouped))

        [back] = fhir.read(write_bundle([record])).records
        assert {r.id: r.members for r in back.results} == {"result-1": (), "panel": ("result-1",)}

    def test_no_members_writes_no_has_member(self) -> None:
        """A plain result has no ``hasMember`` element."""
        [resource] = [
            e["resource"]
            for e in write_bundle([make_record(results=(make_result(),))])["entry"]
            if e["resource"]["resourceType"] == "Observation"
        ]
        assert "hasMember" not in resource


class TestTheModel:
    """``Result.members`` in the domain model."""

    def test_a_result_cannot_be_its_own_member(self) -> None:
        """A report that names itself is refused, with the field in the problem path."""
        with pytest.raises(ValidationError, match="members"):
            make_result(members=(ResultId("result-1"),))

    def test_members_must_be_a_tuple(self) -> None:
        """A list of members is refused, as for every collection field."""
        with pytest.raises(ValidationError, match="members"):
            make_result(id="panel", members=["result-1"])
