"""``fhir.read_paths``, ``fhir.summarize_issues`` and ``fhir.write_gaps_bundle``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.errors import InteropError, UsageError
from carecoord.fhir import FhirExportError, FhirImportError, ImportIssue
from carecoord.profile import build_profiles
from carecoord.rules import detect_gaps_population

DEMO_PATHS = [Path(str(item)) for item in demo_files()]


def patient(patient_id: str, **extra: Any) -> dict[str, Any]:
    """A minimal Patient resource."""
    return {"resourceType": "Patient", "id": patient_id, "gender": "female", **extra}


def write(path: Path, document: object) -> Path:
    """Write ``document`` as JSON to ``path`` (creating its folder); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def sources(result: fhir.ImportResult) -> list[tuple[str, str]]:
    """``(source id, patient id)`` of every record, sorted."""
    return sorted(r.key for r in result.records)


class TestReadPaths:
    """Several paths read as one input, each document keeping its own source id."""

    def test_each_folder_gives_its_own_source(self, tmp_path: Path) -> None:
        """Two folders become two sources, where ``read([a, b])`` would merge them."""
        write(tmp_path / "clinic" / "a.json", patient("p1"))
        write(tmp_path / "hospital" / "b.json", patient("p1"))
        folders = [tmp_path / "clinic", tmp_path / "hospital"]

        assert sources(fhir.read_paths(folders)) == [("clinic", "p1"), ("hospital", "p1")]
        assert sources(fhir.read(folders)) == [("fhir-input", "p1")]

    def test_each_path_gets_the_source_id_it_gets_alone(self, tmp_path: Path) -> None:
        """Per-file source ids equal those of reading each path on its own."""
        write(tmp_path / "clinic" / "a.json", patient("p1"))
        write(tmp_path / "b.json", patient("p2", meta={"source": "https://lab.example"}))
        paths = [tmp_path / "clinic", tmp_path / "b.json"]

        alone = sorted(key for path in paths for key in sources(fhir.read(path)))
        assert sources(fhir.read_paths(paths)) == alone

    def test_references_resolve_across_paths(self, tmp_path: Path) -> None:
        """A fact in one file joins the Patient written in another file."""
        condition = {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
        }
        meta = {"source": "https://clinic.example"}
        write(tmp_path / "patient.json", patient("p1", meta=meta))
        write(tmp_path / "condition.json", {**condition, "meta": meta})
        result = fhir.read_paths([tmp_path / "patient.json", tmp_path / "condition.json"])

        [record] = result.records
        assert len(record.conditions) == 1
        assert not result.issues

    def test_the_demo_files_one_by_one_read_like_their_folder(self) -> None:
        """The four demo files give the records of their folder, with the same sources."""
        folder = fhir.read(DEMO_PATHS[0].parent)
        files = fhir.read_paths(DEMO_PATHS)

        assert sources(files) == sources(folder)
        assert files.issue_codes() == folder.issue_codes()

    def test_one_path_reads_like_read(self) -> None:
        """A single path, alone or in a list, gives what ``read`` gives."""
        expected = fhir.read(DEMO_PATHS[1])

        assert fhir.read_paths(DEMO_PATHS[1]) == expected
        assert fhir.read_paths([str(DEMO_PATHS[1])]) == expected

    def test_issues_name_the_file(self, tmp_path: Path) -> None:
        """Issues name the file their document came from, not ``<input>[n]``."""
        write(tmp_path / "good.json", patient("p1"))
        bad = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/x"}}
        write(tmp_path / "bad.json", bad)
        (tmp_path / "broken.json").write_text("{ not json", encoding="utf-8")
        paths = [tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "broken.json"]
        result = fhir.read_paths(paths, name_files=True)

        labels = {issue.source for issue in result.issues}
        assert labels == {str(tmp_path / "bad.json"), str(tmp_path / "broken.json")}

    def test_issues_number_the_files_by_default(self, tmp_path: Path) -> None:
        """Without ``name_files`` issues give each file's position across all the paths."""
        write(tmp_path / "a" / "Jane_Doe_1.json", patient("p1"))
        (tmp_path / "a" / "Jane_Doe_2.json").write_text("{ not json", encoding="utf-8")
        (tmp_path / "b" / "John_Roe.json").parent.mkdir()
        (tmp_path / "b" / "John_Roe.json").write_text("[]", encoding="utf-8")
        result = fhir.read_paths([tmp_path / "a", tmp_path / "b"])

        assert [(i.source, i.code) for i in result.issues] == [
            ("<file 2>", "invalid-json"),
            ("<file 3>", "not-an-object"),
        ]
        assert sources(result) == [("a", "p1")]

    def test_strict_mode_lists_the_issues_of_every_path(self, tmp_path: Path) -> None:
        """Strict mode raises once, with the errors of all paths."""
        (tmp_path / "broken.json").write_text("{ not json", encoding="utf-8")
        bad = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/x"}}
        paths = [tmp_path / "broken.json", write(tmp_path / "bad.json", bad)]

        with pytest.raises(FhirImportError) as raised:
            fhir.read_paths(paths, strict=True)

        codes = {i.code for i in raised.value.issues if i.is_error}
        assert {"invalid-json", "missing-element"} <= codes

    def test_no_paths_read_nothing(self) -> None:
        """An empty list reads no record."""
        result = fhir.read_paths([])

        assert (result.records, result.issues) == ((), ())

    def test_a_missing_path_is_an_interop_error(self, tmp_path: Path) -> None:
        """A path that does not exist raises ``InteropError``."""
        with pytest.raises(InteropError, match="no such file"):
            fhir.read_paths([DEMO_PATHS[0], tmp_path / "nowhere.json"])

    def test_an_object_is_not_a_path(self) -> None:
        """A dict among the paths is misuse: ``UsageError`` pointing at ``read``."""
        with pytest.raises(UsageError, match=r"paths\[1\].*use fhir.read"):
            fhir.read_paths([DEMO_PATHS[0], patient("p1")])  # type: ignore[list-item]


class TestSummarizeIssues:
    """One privacy-safe line for the issues of a read."""

    def test_no_issue_is_an_empty_string(self) -> None:
        """Without issues the summary is empty."""
        assert fhir.summarize_issues(()) == ""

    def test_counts_by_severity_and_code(self) -> None:
        """Errors and warnings are counted, codes most frequent first, then by name."""
        issues = [
            ImportIssue("", "b-code", "m", "warning"),
            ImportIssue("", "a-code", "m", "error"),
            ImportIssue("", "b-code", "m", "error", source="/secret/Jane_Doe.json"),
        ]

        summary = fhir.summarize_issues(issues)

        assert summary == "2 errors and 1 warning (b-code 2, a-code 1)"
        assert "Jane" not in summary

    def test_warnings_only(self) -> None:
        """Zero counts are left out.

        (Two unsupported types until the demo's DocumentReference was read as a document:
        Coverage is the one left.)
        """
        result = fhir.read(DEMO_PATHS[0].parent)

        assert fhir.summarize_issues(result.issues) == "1 warning (unsupported-resource 1)"


@pytest.fixture(scope="module")
def population() -> tuple[Any, list[Any]]:
    """The demo profiles and their gap reports at the demo instant."""
    profiles = build_profiles(fhir.read(DEMO_PATHS[0].parent).records)
    return profiles, list(detect_gaps_population(profiles, as_of=DEMO_AS_OF))


class TestWriteGapsBundle:
    """The gaps of many patients as one collection Bundle."""

    def test_one_patient_and_a_detected_issue_per_gap(
        self, population: tuple[Any, list[Any]]
    ) -> None:
        """Each patient with gaps gives its Patient, then one DetectedIssue per gap."""
        profiles, reports = population
        bundle = fhir.write_gaps_bundle(profiles, reports, timestamp=DEMO_AS_OF)

        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert (bundle["type"], bundle["timestamp"]) == ("collection", DEMO_AS_OF.isoformat())
        assert kinds.count("DetectedIssue") == sum(len(r) for r in reports)
        assert kinds.count("Patient") == sum(1 for r in reports if r)
        assert json.loads(json.dumps(bundle)) == bundle

    def test_no_gap_gives_a_bundle_without_entries(self, population: tuple[Any, list[Any]]) -> None:
        """Without gaps the Bundle has no ``entry``."""
        profiles, _ = population

        assert "entry" not in fhir.write_gaps_bundle(profiles, [], timestamp=DEMO_AS_OF)

    def test_a_report_without_its_profile_is_refused(
        self, population: tuple[Any, list[Any]]
    ) -> None:
        """A report whose profile is not given raises ``FhirExportError``."""
        _, reports = population

        with pytest.raises(FhirExportError, match="profile"):
            fhir.write_gaps_bundle([], reports, timestamp=DEMO_AS_OF)

    def test_a_naive_timestamp_is_refused(self, population: tuple[Any, list[Any]]) -> None:
        """The timestamp must carry a time zone."""
        profiles, reports = population

        with pytest.raises(FhirExportError, match="aware"):
            fhir.write_gaps_bundle(profiles, reports, timestamp=dt.datetime(2026, 7, 15))  # noqa: DTZ001
