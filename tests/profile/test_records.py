"""Profiles as JSON-safe records and as text: links, names, lookups, renderings."""

from __future__ import annotations

import json

import pytest

from carecoord import fhir
from carecoord.demo_data import demo_files
from carecoord.domain import ListKind
from carecoord.profile import (
    FieldEvidence,
    MatchGrade,
    PatientProfile,
    PossibleMatch,
    ProfileSet,
    build_profiles,
    describe_match,
    describe_patient,
    find_profiles,
    possible_match_to_record,
    profile_label,
    profile_to_record,
    reconciliation_view,
    record_links,
    render_profile,
    render_reconciliation,
    render_timeline,
    source_labels,
    timeline,
)
from tests._helpers import plain

CLINIC = "https://clinic.example/fhir"
HOSPITAL = "https://hospital.example/fhir"


@pytest.fixture(scope="module")
def demo() -> ProfileSet:
    """The profiles of the shipped synthetic demo data."""
    folder = str(demo_files()[0]).rsplit("/", 1)[0]
    return build_profiles(fhir.read(folder).records)


def first(profiles: ProfileSet) -> PatientProfile:
    """The demo profile with records from three sources (clinic pat-1001)."""
    return profiles[f"{CLINIC}/pat-1001"]


class TestProfileRecords:
    """``profile_to_record`` and ``possible_match_to_record``."""

    def test_every_profile_record_is_plain_json(self, demo: ProfileSet) -> None:
        """No enum, date or tuple: ``json.dumps`` takes each record as it is."""
        for profile in demo:
            record = profile_to_record(profile, match=demo.match, with_timeline=True)

            assert plain(record)
            assert json.loads(json.dumps(record)) == record

    def test_the_keys(self, demo: ProfileSet) -> None:
        """Identity, records, the three lists, team, referrals, results, conflicts."""
        record = profile_to_record(first(demo))

        assert list(record) == [
            "id",
            "patient",
            "records",
            "problems",
            "medications",
            "allergies",
            "care_team",
            "open_referrals",
            "recent_results",
            "conflicts",
        ]
        assert "timeline" in profile_to_record(first(demo), with_timeline=True)

    def test_records_say_how_they_were_linked(self, demo: ProfileSet) -> None:
        """The first record links to nothing; the others name a record and a grade."""
        records = profile_to_record(first(demo), match=demo.match)["records"]

        assert isinstance(records, list)
        assert records[0] == {
            "source": CLINIC,
            "patient": "pat-1001",
            "linked_to": None,
            "grade": None,
            "score": None,
        }
        assert {r["grade"] for r in records if isinstance(r, dict)} == {None, "certain"}

    def test_a_possible_match_record(self) -> None:
        """A pair to review: both keys, grade, rounded score and evidence triples."""
        evidence = (FieldEvidence("birth_date", "exact", 4.5678),)
        match = PossibleMatch(("a", "p1"), ("b", "p2"), MatchGrade.POSSIBLE, 3.14159, evidence)

        assert possible_match_to_record(match) == {
            "left": {"source": "a", "patient": "p1"},
            "right": {"source": "b", "patient": "p2"},
            "grade": "possible",
            "score": 3.14,
            "evidence": [["birth_date", "exact", 4.57]],
        }


class TestLinksAndNames:
    """``record_links``, ``source_labels``, ``profile_label`` and ``find_profiles``."""

    def test_links_in_key_order_with_the_best_earlier_match(self, demo: ProfileSet) -> None:
        """Each record after the first links to an earlier record with its best result."""
        links = record_links(first(demo), demo.match)

        assert [link.record.key for link in links] == sorted(r.key for r in first(demo).records)
        assert (links[0].linked_to, links[0].result) == (None, None)
        for index, link in enumerate(links[1:], start=1):
            assert link.linked_to in {earlier.record.key for earlier in links[:index]}
            assert link.result is not None

    def test_short_source_names(self) -> None:
        """Hosts without ``www.``, tag codes; every id kept when two would clash."""
        assert source_labels([CLINIC, "https://smarthealthit.org/tags|synthea", "local"]) == {
            CLINIC: "clinic.example",
            "https://smarthealthit.org/tags|synthea": "synthea",
            "local": "local",
        }
        clash = ["https://clinic.example/a", "https://clinic.example/b"]
        assert source_labels(clash) == {s: s for s in clash}

    def test_profile_label(self, demo: ProfileSet) -> None:
        """The short source and patient id of the record the profile id names."""
        assert profile_label(first(demo)) == "clinic.example/pat-1001"

    def test_find_by_any_name(self, demo: ProfileSet) -> None:
        """A profile id, source/id, short source/id or a bare record id finds the person."""
        person = first(demo)
        names = [person.id, f"{HOSPITAL}/hp-1", "hospital.example/hp-1", " hp-1 ", "pat-1001"]

        for name in names:
            assert find_profiles(demo, name) == (person,)
        assert find_profiles(demo, "nobody") == ()


class TestText:
    """``describe_*`` and ``render_*``: what ``carecoord profile`` prints."""

    def test_describe_patient_and_match(self, demo: ProfileSet) -> None:
        """Names, sex, birth date; a grade with its score and strongest fields."""
        links = record_links(first(demo), demo.match)
        assert links[1].result is not None

        assert describe_patient(first(demo)).startswith("Alexandra Testperson")
        assert describe_match(links[1].result).startswith("certain match (score ")

    def test_render_profile_sections(self, demo: ProfileSet) -> None:
        """Heading, sources, lists, team, referrals, results, conflicts, timeline."""
        text = render_profile(first(demo), match=demo.match, with_timeline=True)

        assert text.startswith(f"=== clinic.example/pat-1001  (profile id {first(demo).id})\n")
        assert text.endswith("\n\n")
        for title in ("Sources (3 records)", "Medications", "Care team", "Timeline ("):
            assert f"\n{title}" in text
        assert "linked to " in text

    def test_render_reconciliation_names_discrepancies(self, demo: ProfileSet) -> None:
        """One column per source, then each discrepancy in words."""
        view = reconciliation_view(first(demo), ListKind.MEDICATIONS)
        labels = source_labels(first(demo).sources)

        text = render_reconciliation(view, labels=labels, indent="  ")

        assert text.splitlines()[0].split()[0] == "item"
        assert "  ! furosemide: dose differs (clinic.example 20 mg, hospital.example 40 mg)" in text

    def test_render_timeline(self, demo: ProfileSet) -> None:
        """One line per event, indented."""
        events = timeline(first(demo))

        lines = render_timeline(events[:3], indent="    ").splitlines()

        assert len(lines) == 3
        assert all(line.startswith("    ") for line in lines)
