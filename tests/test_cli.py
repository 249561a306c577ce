"""The ``carecoord`` command line: gaps, profile, rules and demo, their formats and exit codes.

Most tests call :func:`carecoord.cli.main` in-process on the shipped synthetic demo data
(``carecoord.demo_data``: invented people only) and read stdout and stderr with ``capsys``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecoord import cli
from carecoord.cli import EXIT_FAILED_ON, EXIT_OK, EXIT_USAGE, GAP_COLUMNS, main, run_demo
from carecoord.demo_data import DEMO_AS_OF, DEMO_FILES, demo_files
from carecoord.rules import default_rules

from .fhir._shared import shared_data_dir

DEMO_DIR = Path(str(demo_files()[0])).parent
AS_OF = ["--as-of", DEMO_AS_OF.isoformat()]
REQUIRED_KEYS = {"patient", "rule", "status", "due", "severity", "evidence", "summary", "action"}
PATIENT_NAMES = ("Testperson", "Morgan", "Exampleby", "Placeholder")
"""Words of the synthetic patients' names: they must never reach error or warning lines."""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line; return its exit status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def gaps_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    """The gaps of the demo data: the ``gaps`` of the parsed ``--format json`` output.

    The output is an object (``as_of``, ``since``, ``hidden``, ``gaps``) since ``gaps``
    became a worklist that says how many old gaps it hid; it was the list of gaps.
    """
    status, out, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--format", "json", *argv)
    assert status == EXIT_OK
    found: list[dict[str, Any]] = json.loads(out)["gaps"]
    return found


class TestGapsFormats:
    """Each output format of ``carecoord gaps``."""

    def test_table_groups_gaps_under_each_patient(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The table has a heading per patient, aligned columns and a total line."""
        status, out, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF)

        assert status == EXIT_OK
        assert "clinic.example/pat-1001:" in out
        assert "clinic.example/pat-1004:" in out
        header = next(line for line in out.splitlines() if line.strip().startswith("due "))
        assert header.split() == ["due", "status", "severity", "rule", "summary"]
        assert "transition.discharge-info-missing" in out
        assert out.rstrip().splitlines()[-1].endswith("prospective)")

    def test_json_is_a_list_of_gaps_with_the_required_keys(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every JSON gap has the GAP_COLUMNS keys, the required ones among them."""
        gaps = gaps_json(capsys)

        assert gaps
        for gap in gaps:
            assert set(GAP_COLUMNS) == set(gap)
            assert set(gap) >= REQUIRED_KEYS
            assert gap["key"] == f"{gap['rule']}|{gap['patient']}|{gap['focus']}"
            assert gap["status"] in {"open", "prospective"}

    def test_json_evidence_names_the_facts(self, capsys: pytest.CaptureFixture[str]) -> None:
        """JSON evidence items carry role, fact type, fact key and description."""
        gaps = gaps_json(capsys, "--rules", "transition.discharge-info-missing")

        [gap] = gaps
        assert gap["evidence"][0] == {
            "role": "trigger",
            "type": "CareTransition",
            "id": "https://hospital.example/fhir/enc-hf-stay",
            "description": "discharge",
        }
        assert gap["due"] == "2026-07-04"

    def test_csv_parses_with_the_same_columns_and_rows(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The CSV header is GAP_COLUMNS and it has one row per JSON gap."""
        expected = gaps_json(capsys)
        status, out, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--format", "csv")

        rows = list(csv.DictReader(io.StringIO(out)))
        assert status == EXIT_OK
        assert tuple(rows[0]) == GAP_COLUMNS
        assert [r["key"] for r in rows] == [g["key"] for g in expected]
        assert rows[0]["evidence"].startswith("trigger:")

    def test_fhir_is_a_bundle_of_deqm_detected_issues(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``--format fhir`` gives a Bundle: one DetectedIssue per gap plus each patient."""
        expected = gaps_json(capsys, "--patient", "pat-1004")
        status, out, _ = run(
            capsys, "gaps", str(DEMO_DIR), *AS_OF, "--format", "fhir", "--patient", "pat-1004"
        )

        bundle = json.loads(out)
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert status == EXIT_OK
        assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
        assert kinds.count("DetectedIssue") == len(expected)
        assert kinds.count("Patient") == 1

    def test_fhir_issues_carry_the_deqm_gap_status(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each DetectedIssue has the DEQM gap-status modifier extension and CAREGAP code."""
        status, out, _ = run(
            capsys, "gaps", str(DEMO_DIR), *AS_OF, "--format", "fhir", "--patient", "pat-1004"
        )

        issues = [
            e["resource"]
            for e in json.loads(out)["entry"]
            if e["resource"]["resourceType"] == "DetectedIssue"
        ]
        assert status == EXIT_OK
        for issue in issues:
            codes = {c["code"] for c in issue["code"]["coding"]}
            status_url = issue["modifierExtension"][0]["url"]
            assert "CAREGAP" in codes
            assert status_url.endswith("deqm-gapStatus")


class TestGapsOptions:
    """Rule selection, calendars, closed gaps and patients."""

    def test_include_closed_adds_closed_and_not_applicable_gaps(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With --include-closed, closed and not-applicable gaps are reported too."""
        statuses = {g["status"] for g in gaps_json(capsys, "--include-closed")}

        assert {"closed", "not-applicable"} <= statuses

    def test_rules_keeps_only_the_named_rules(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--rules with two ids reports gaps of those rules only."""
        gaps = gaps_json(capsys, "--rules", "task.overdue,referral.missed-appointment")

        assert {g["rule"] for g in gaps} == {"task.overdue", "referral.missed-appointment"}

    def test_rules_accepts_a_family_name(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--rules transitions keeps the whole transitions family."""
        gaps = gaps_json(capsys, "--rules", "transitions")

        assert gaps
        assert {g["family"] for g in gaps} == {"transitions"}

    def test_skip_leaves_the_named_rule_out(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--skip drops one rule and keeps the others."""
        gaps = gaps_json(capsys, "--skip", "activity.ccm-time")

        assert gaps
        assert "activity.ccm-time" not in {g["rule"] for g in gaps}

    def test_holidays_us_skips_federal_holidays(self, capsys: pytest.CaptureFixture[str]) -> None:
        """With --holidays us, a task written before 3 July 2026 is due after the holiday."""
        select = ("--rules", "task.unassigned", "--patient", "pat-1004")
        weekends = gaps_json(capsys, *select)
        holidays = gaps_json(capsys, *select, "--holidays", "us")

        assert [g["due"] for g in weekends] == ["2026-07-03"]
        assert [g["due"] for g in holidays] == ["2026-07-06"]

    def test_holidays_without_the_extra_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--holidays us without the holidays package exits 2 naming the extra."""
        monkeypatch.setitem(sys.modules, "holidays", None)  # `import holidays` now fails
        status, out, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--holidays", "us")

        assert status == EXIT_USAGE
        assert not out
        assert "carecoord[holidays]" in err

    def test_patient_selects_one_profile_by_record_id(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--patient hp-2 (the hospital's id) selects the merged profile of that person."""
        gaps = gaps_json(capsys, "--patient", "hp-2")

        assert {g["patient"] for g in gaps} == {"https://clinic.example/fhir/pat-1002"}

    def test_patient_accepts_the_profile_id_and_short_source_form(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A profile id and ``<short source>/<id>`` select the same patient."""
        by_id = gaps_json(capsys, "--patient", "https://clinic.example/fhir/pat-1004")
        by_label = gaps_json(capsys, "--patient", "hospital.example/hp-1", "--patient", "pat-1004")

        assert {g["patient"] for g in by_id} == {"https://clinic.example/fhir/pat-1004"}
        assert {g["patient"] for g in by_label} == {
            "https://clinic.example/fhir/pat-1001",
            "https://clinic.example/fhir/pat-1004",
        }

    def test_several_paths_read_like_their_folder(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The four demo files given one by one give the same gaps as their folder."""
        folder = gaps_json(capsys)
        files = [str(DEMO_DIR / name) for name in DEMO_FILES]
        status, out, _ = run(capsys, "gaps", *files, *AS_OF, "--format", "json")

        assert status == EXIT_OK
        assert json.loads(out)["gaps"] == folder


class TestFailOn:
    """``--fail-on`` turns gaps into exit status 1."""

    def test_open_gaps_exit_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--fail-on open exits 1 when an open gap is reported (after printing it)."""
        status, out, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--fail-on", "open")

        assert status == EXIT_FAILED_ON
        assert "open" in out

    def test_prospective_gaps_do_not_fail_open(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Only prospective gaps (referral.loop-open in July): --fail-on open exits 0."""
        select = ("--rules", "referral.loop-open")
        status, _, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, *select, "--fail-on", "open")

        assert status == EXIT_OK

    def test_prospective_threshold_counts_prospective_gaps(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--fail-on prospective exits 1 on a prospective gap."""
        select = ("--rules", "referral.loop-open", "--fail-on", "prospective")
        status, _, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, *select)

        assert status == EXIT_FAILED_ON

    def test_any_with_no_gap_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--fail-on any exits 0 when nothing is reported."""
        select = ("--rules", "referral.loop-open", "--patient", "pat-1004", "--fail-on", "any")
        status, _, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, *select)

        assert status == EXIT_OK

    def test_any_counts_closed_gaps_when_included(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--fail-on any with --include-closed exits 1 on a closed gap."""
        select = ("--rules", "referral.loop-open", "--patient", "pat-1003", "--include-closed")
        status, _, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, *select, "--fail-on", "any")

        assert status == EXIT_FAILED_ON


class TestBadInput:
    """Bad arguments and unusable input: exit 2, one line on stderr, no traceback."""

    def test_missing_path_names_the_path(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A path that does not exist exits 2 with a message naming it."""
        missing = tmp_path / "nowhere.json"
        status, out, err = run(capsys, "gaps", str(missing), *AS_OF)

        assert status == EXIT_USAGE
        assert not out
        assert err.strip().splitlines() == [
            f"carecoord: error: cannot read {missing}: no such file or directory"
        ]

    def test_bad_date_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An --as-of that is not an ISO date exits 2 with one line."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR), "--as-of", "15/07/2026")

        assert status == EXIT_USAGE
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("carecoord: error: --as-of:")

    def test_unknown_rule_is_named(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown rule id exits 2 naming it and how to list the rules."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--rules", "no.such-rule")

        assert status == EXIT_USAGE
        assert "'no.such-rule'" in err
        assert "carecoord rules" in err

    def test_unknown_time_zone(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown --tz exits 2."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--tz", "Mars/Olympus")

        assert status == EXIT_USAGE
        assert err.startswith("carecoord: error: --tz:")

    def test_unknown_patient_is_not_echoed(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A --patient that matches nobody exits 2 without repeating the value."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--patient", "MRN-424242")

        assert status == EXIT_USAGE
        assert "MRN-424242" not in err
        assert "--patient" in err

    def test_missing_as_of_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Gaps without --as-of exits 2 (time is always an input)."""
        status, _, err = run(capsys, "gaps", str(DEMO_DIR))

        assert status == EXIT_USAGE
        assert "--as-of" in err

    def test_rules_and_skip_together_are_refused(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--rules and --skip are mutually exclusive."""
        select = ("--rules", "task.overdue", "--skip", "task.stalled")
        status, _, _ = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, *select)

        assert status == EXIT_USAGE

    def test_unreadable_json_is_an_error_not_a_silent_pass(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Input with no record in it exits 2 with one line (issue counts by code), not 0."""
        broken = tmp_path / "broken.json"
        broken.write_text("{ not json", encoding="utf-8")
        status, out, err = run(capsys, "gaps", str(broken), *AS_OF, "--fail-on", "open")

        assert status == EXIT_USAGE
        assert out == ""
        expected = (
            "carecoord: error: no patient records found in the input"
            " (import: 1 error (invalid-json 1))"
        )
        assert err.splitlines() == [expected]

    def test_a_folder_without_fhir_is_an_error(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A folder with no FHIR in it fails ``--fail-on`` checks instead of passing them."""
        (tmp_path / "notes.txt").write_text("not FHIR", encoding="utf-8")
        for command in (["gaps", *AS_OF, "--fail-on", "any"], ["profile"]):
            status, _, err = run(capsys, command[0], str(tmp_path), *command[1:])

            assert status == EXIT_USAGE
            assert len(err.splitlines()) == 1
            assert "no patient records found" in err


class TestAsOf:
    """How ``--as-of`` and ``--tz`` are read."""

    def test_a_date_means_the_end_of_that_day_in_tz(self) -> None:
        """2026-07-15 with --tz America/New_York is 23:59:59 that day in New York."""
        zone = ZoneInfo("America/New_York")

        assert cli._parse_as_of("2026-07-15", zone) == dt.datetime(
            2026, 7, 15, 23, 59, 59, tzinfo=zone
        )

    def test_a_naive_datetime_is_read_in_tz(self) -> None:
        """A date-time without offset takes the --tz zone."""
        zone = ZoneInfo("America/New_York")

        assert cli._parse_as_of("2026-07-15T09:00", zone) == dt.datetime(
            2026, 7, 15, 9, tzinfo=zone
        )

    def test_an_offset_is_kept(self) -> None:
        """A date-time with an offset keeps it, whatever --tz says."""
        assert cli._parse_as_of("2026-07-15T12:00:00-04:00", dt.UTC) == DEMO_AS_OF

    def test_the_instant_decides_the_status(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A critical result due 09:30 is prospective at 09:00 and open at 10:00 (New York)."""
        select = ("--rules", "result.unacknowledged", "--patient", "pat-1004", "--tz")
        zone = "America/New_York"
        before = run(capsys, "gaps", str(DEMO_DIR), "--as-of", "2026-07-15T09:00", *select, zone)
        after = run(capsys, "gaps", str(DEMO_DIR), "--as-of", "2026-07-15T10:00", *select, zone)

        assert "prospective" in before[1]
        assert " open " in after[1]


class TestProgressAndWarnings:
    """Standard error: progress on request, import issues by code, never patient data."""

    def test_progress_is_reported_on_request(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--progress reports reading, profiles and gaps on stderr."""
        _, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--progress")

        assert "carecoord: read 1 path, 120 resources, 8 records" in err
        assert "4 profiles" in err
        assert "gaps in 4 profiles" in err

    def test_no_progress_when_stderr_is_not_a_terminal(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --progress and without a TTY, stderr has no progress lines."""
        _, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF)

        assert "resources" not in err

    def test_import_issues_are_counted_by_code(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Import issues are summarised by code, with no patient name in the message.

        (Two unsupported types until the demo's DocumentReference was read as a document.)
        """
        _, _, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF)

        assert "warning: import: 1 warning (unsupported-resource 1)" in err
        assert not any(name in err for name in PATIENT_NAMES)

    def test_quiet_silences_stderr(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--quiet leaves stderr empty even with --progress."""
        _, out, err = run(capsys, "gaps", str(DEMO_DIR), *AS_OF, "--quiet", "--progress")

        assert out
        assert err == ""


class TestProfile:
    """``carecoord profile``: the merged profiles, as text or JSON."""

    def test_text_shows_linked_sources_with_match_grade(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The hospital and counselling records are shown linked, with their grade."""
        status, out, _ = run(capsys, "profile", str(DEMO_DIR), "--patient", "pat-1001")

        assert status == EXIT_OK
        assert "hospital.example    hp-1" in out
        assert "certain match" in out
        assert "Alexandra Testperson" in out

    def test_text_shows_medications_side_by_side(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The medication table has one column per source and lists the discrepancies."""
        _, out, _ = run(capsys, "profile", str(DEMO_DIR), "--patient", "pat-1001")

        header = next(line for line in out.splitlines() if line.strip().startswith("item  "))
        assert "! furosemide: dose differs (clinic.example 20 mg, hospital.example 40 mg)" in out
        assert "counseling.example" in header

    def test_timeline_is_printed_on_request(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--timeline adds the timeline; without it there is none."""
        _, plain, _ = run(capsys, "profile", str(DEMO_DIR), "--patient", "pat-1004")
        _, full, _ = run(capsys, "profile", str(DEMO_DIR), "--patient", "pat-1004", "--timeline")

        assert "Timeline (" not in plain
        assert "Timeline (" in full
        assert "Result issued: Potassium" in full

    def test_as_of_hides_facts_recorded_later(self, capsys: pytest.CaptureFixture[str]) -> None:
        """At the demo instant the follow-up visit recorded on 16 July is not yet known."""
        select = ("--patient", "pat-1001", "--timeline")
        _, later, _ = run(capsys, "profile", str(DEMO_DIR), *select)
        _, then, _ = run(capsys, "profile", str(DEMO_DIR), *select, *AS_OF)

        assert "2026-07-16 10:00  Visit: ambulatory" in later
        assert "2026-07-16 10:00  Visit: ambulatory" not in then
        assert "2026-07-16 10:00  Appointment: booked" in then

    def test_json_lists_profiles_records_and_review(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """JSON output has every profile with its linked records, lists, and the review list."""
        status, out, _ = run(capsys, "profile", str(DEMO_DIR), "--format", "json")

        data = json.loads(out)
        first = data["profiles"][0]
        assert status == EXIT_OK
        assert len(data["profiles"]) == 4
        assert data["review"] == []
        assert {r["grade"] for r in first["records"]} == {None, "certain"}
        assert {"medications", "problems", "allergies", "conflicts"} <= set(first)

    def test_patient_restricts_the_profiles(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--patient keeps only the named person."""
        _, out, _ = run(capsys, "profile", str(DEMO_DIR), "--patient", "pat-1004")

        assert out.count("=== ") == 1
        assert out.rstrip().endswith("1 profile from 1 record")


class TestRulesCommand:
    """``carecoord rules`` lists the catalogue."""

    def test_lists_every_rule_with_its_family(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Every catalogue rule appears once, with its family."""
        status, out, _ = run(capsys, "rules")

        lines = out.splitlines()
        assert status == EXIT_OK
        assert lines[0].split()[:3] == ["id", "family", "severity"]
        assert any(line.split()[:2] == ["transition.tcm-contact", "transitions"] for line in lines)

    def test_json_format_lists_the_same_rules(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--format json`` is an array of {id, family, severity, title}, in catalogue order."""
        status, out, _ = run(capsys, "rules", "--format", "json")

        rows = json.loads(out)
        assert status == EXIT_OK
        assert [r["id"] for r in rows] == [r.id for r in default_rules()]
        assert set(rows[0]) == {"id", "family", "severity", "title"}
        tcm = next(r for r in rows if r["id"] == "transition.tcm-contact")
        assert tcm["family"] == "transitions"

    def test_an_unknown_format_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--format yaml`` is refused by the parser (exit 2)."""
        status, _, err = run(capsys, "rules", "--format", "yaml")

        assert status == EXIT_USAGE
        assert "invalid choice" in err


class TestVersion:
    """``carecoord --version``."""

    def test_prints_the_installed_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """It prints ``carecoord X.Y.Z`` (the distribution's version) and exits 0."""
        import carecoord

        status, out, _ = run(capsys, "--version")

        assert status == EXIT_OK
        assert out.strip() == f"carecoord {carecoord.__version__}"


class TestDemo:
    """``carecoord demo`` reads the shipped data and tells its story."""

    def test_demo_mentions_gaps_from_the_readme(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The demo lists P1's missing discharge summary and missed cardiology appointment."""
        status, out, _ = run(capsys, "demo")

        assert status == EXIT_OK
        assert "transition.discharge-info-missing" in out
        assert "referral.missed-appointment" in out
        assert "2026-07-04" in out

    def test_demo_shows_merge_medications_and_summary(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The demo shows the linked records, the medication discrepancies and the summary."""
        _, out, _ = run(capsys, "demo")

        assert "8 records linked into 4 people" in out
        assert "! lisinopril:" in out
        assert "referral loops closed on time" in out
        assert "median time from discharge to the follow-up visit" in out

    def test_demo_is_short(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The report stays under about 200 lines."""
        _, out, _ = run(capsys, "demo")

        assert len(out.splitlines()) <= 200

    def test_demo_without_holidays_says_weekends_only(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without the holidays package the demo still runs and says it skips weekends only."""
        monkeypatch.setitem(sys.modules, "holidays", None)  # `import holidays` now fails
        out = io.StringIO()
        run_demo(out)

        assert "Monday to Friday only" in out.getvalue()

    def test_demo_accepts_another_instant(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Demo --as-of evaluates at another date (New York time by default)."""
        status, out, _ = run(capsys, "demo", "--as-of", "2026-07-16")

        assert status == EXIT_OK
        assert "Evaluated at 2026-07-16T23:59:59-04:00" in out

    def test_module_runs_as_a_script_without_network(self) -> None:
        """``python -m carecoord.cli demo`` exits 0 with no socket opened."""
        code = (
            "import sys, runpy\n"
            "def hook(event, args):\n"
            "    if event.startswith(('socket.connect', 'socket.getaddrinfo')):\n"
            "        raise RuntimeError('network used: ' + event)\n"
            "sys.addaudithook(hook)\n"
            "sys.argv = ['carecoord', 'demo']\n"
            "runpy.run_module('carecoord.cli', run_name='__main__')\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
        )

        assert done.returncode == 0, done.stderr
        assert "transition.discharge-info-missing" in done.stdout

    def test_package_runs_with_python_m(self) -> None:
        """``python -m carecoord rules`` runs the same command line."""
        done = subprocess.run(
            [sys.executable, "-m", "carecoord", "rules"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

        assert done.returncode == 0, done.stderr
        assert "referral.loop-open" in done.stdout


class TestSharedData:
    """A run over the shared Synthea sample (skipped without the data)."""

    def test_synthea_gives_transition_gaps(self, capsys: pytest.CaptureFixture[str]) -> None:
        """76 Synthea patients at 2020-01-01 have transition gaps, every key present."""
        folder = shared_data_dir("synthea-smart-r4")
        select = ("--rules", "transitions", "--format", "json", "--quiet")
        status, out, err = run(capsys, "gaps", str(folder), "--as-of", "2020-01-01", *select)

        gaps = json.loads(out)["gaps"]
        assert status == EXIT_OK
        assert err == ""
        assert gaps
        assert {g["family"] for g in gaps} == {"transitions"}
        assert all(set(g) >= REQUIRED_KEYS for g in gaps)


class TestSince:
    """A worklist, not an archive: by default only the gaps due in the last 12 months.

    ``--since`` used to keep the gaps whose clock started on or after a date; it now moves
    the start of the worklist's window (by due date), and ``--since all`` removes it. The
    examples are two unacknowledged results: one issued Saturday 2025-06-07 (due Wednesday
    2025-06-11, three business days on), one issued 2026-07-01.
    """

    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        """A folder with one patient's old and new unacknowledged results."""
        bundle = lab_results(2)
        bundle["entry"][1]["resource"]["issued"] = "2025-06-07T09:00:00Z"
        (tmp_path / "labs.json").write_text(json.dumps(bundle), encoding="utf-8")
        return tmp_path

    def gaps(
        self,
        capsys: pytest.CaptureFixture[str],
        folder: Path,
        *argv: str,
        as_of: str = "2026-07-15",
    ) -> tuple[dict[str, Any], str]:
        """The parsed JSON output and stderr of ``gaps`` on ``folder``."""
        status, out, err = run(
            capsys, "gaps", str(folder), "--as-of", as_of, "--format", "json", *argv
        )
        assert status == EXIT_OK
        found: dict[str, Any] = json.loads(out)
        return found, err

    def test_json_says_what_it_hid(self, capsys: pytest.CaptureFixture[str], folder: Path) -> None:
        """The JSON output is an object: as_of, the window's start, the hidden count, gaps."""
        data, _ = self.gaps(capsys, folder)

        assert set(data) == {"as_of", "since", "hidden", "gaps"}
        assert data["since"] == "2025-07-15"
        assert data["hidden"] == 1  # the result due 2025-06-11

    def test_gaps_due_before_the_window_are_hidden(
        self, capsys: pytest.CaptureFixture[str], folder: Path
    ) -> None:
        """Due 2025-06-11: hidden at 2026-07-15, shown when the window reaches back to it."""
        rule = ("--rules", "result.unacknowledged")
        hidden, _ = self.gaps(capsys, folder, *rule)
        edge, _ = self.gaps(capsys, folder, *rule, "--since", "2025-06-11")
        after, _ = self.gaps(capsys, folder, *rule, "--since", "2025-06-12")

        assert hidden["hidden"] == 1
        assert "2025-06-11" not in [g["due"] for g in hidden["gaps"]]
        assert "2025-06-11" in [g["due"] for g in edge["gaps"]]
        assert "2025-06-11" not in [g["due"] for g in after["gaps"]]

    def test_the_window_follows_as_of(
        self, capsys: pytest.CaptureFixture[str], folder: Path
    ) -> None:
        """12 months before --as-of: at 2026-06-11 the old result's gap is on the edge, shown."""
        data, _ = self.gaps(capsys, folder, "--rules", "result.unacknowledged", as_of="2026-06-11")

        assert (data["since"], data["hidden"]) == ("2025-06-11", 0)
        assert [g["due"] for g in data["gaps"]] == ["2025-06-11"]

    def test_since_all_shows_everything(
        self, capsys: pytest.CaptureFixture[str], folder: Path
    ) -> None:
        """--since all hides nothing and says nothing on stderr."""
        data, err = self.gaps(capsys, folder, "--since", "all")
        default, _ = self.gaps(capsys, folder)

        assert (data["since"], data["hidden"]) == (None, 0)
        assert len(data["gaps"]) == len(default["gaps"]) + default["hidden"]
        assert "not shown" not in err

    def test_one_line_on_stderr_says_how_many_were_hidden(
        self, capsys: pytest.CaptureFixture[str], folder: Path
    ) -> None:
        """The count, the window's start and how to widen it, on one line."""
        status, _, err = run(capsys, "gaps", str(folder), "--as-of", "2026-07-15")

        assert status == EXIT_OK
        notes = [line for line in err.splitlines() if "not shown" in line]
        expected = (
            "carecoord: 1 gap due before 2025-07-15 not shown "
            "(show them with --since DATE or --since all)"
        )
        assert notes == [expected]

    def test_quiet_silences_the_hidden_line(
        self, capsys: pytest.CaptureFixture[str], folder: Path
    ) -> None:
        """--quiet: nothing on stderr, the JSON still counts them."""
        data, err = self.gaps(capsys, folder, "--quiet")

        assert err == ""
        assert data["hidden"] == 1

    def test_standing_gaps_are_shown_whatever_their_due_date(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The demo's goal with no activity since 2025-06-10 still holds: it is shown."""
        status, out, _ = run(
            capsys, "gaps", str(DEMO_DIR), "--as-of", "2026-07-15", "--format", "json"
        )

        assert status == EXIT_OK
        data = json.loads(out)
        goal = [g for g in data["gaps"] if g["rule"] == "care-plan.goal-without-activity"]
        assert [g["due"] for g in goal] == ["2025-06-10"]
        assert data["hidden"] == 0

    def test_prospective_gaps_are_always_shown(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A window starting after every due date still shows the prospective gaps."""
        status, out, _ = run(
            capsys,
            "gaps",
            str(DEMO_DIR),
            "--as-of",
            "2026-07-15",
            "--format",
            "json",
            "--since",
            "2030-01-01",
        )

        assert status == EXIT_OK
        data = json.loads(out)
        assert data["gaps"]
        assert {g["status"] for g in data["gaps"]} <= {"prospective", "open"}
        assert all(g["status"] == "prospective" or g["standing"] for g in data["gaps"])

    def test_bad_since_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unreadable --since exits 2 before anything is read."""
        assert main(["gaps", "/nonexistent", "--as-of", "2026-07-15", "--since", "July"]) == 2
        assert "--since: 'July' is not an ISO date" in capsys.readouterr().err


def lab_results(count: int) -> dict[str, Any]:
    """A Bundle: one patient and ``count`` lab results issued the same day, unacknowledged."""
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    lab = {"coding": [{"code": "laboratory"}]}
    entries = [{"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001", "resource": patient}]
    for n in range(count):
        result = {
            "resourceType": "Observation",
            "id": f"o{n}",
            "status": "final",
            "category": [lab],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
            "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"},
            "issued": "2026-07-01T09:00:00Z",
        }
        entries.append(
            {"fullUrl": f"urn:uuid:00000000-0000-0000-0000-1000000000{n:02d}", "resource": result}
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


class TestGroupedTable:
    """The table shows repeats once, with a count."""

    def test_repeats_are_one_line_with_a_count(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Three results of one day left unacknowledged: one line, ``×3``; the total counts 3."""
        path = tmp_path / "labs.json"
        path.write_text(json.dumps(lab_results(3)), encoding="utf-8")
        status, out, _ = run(capsys, "gaps", str(path), "--as-of", "2026-07-15", "--quiet")

        lines = [line for line in out.splitlines() if "result.unacknowledged" in line]
        assert status == EXIT_OK
        assert len(lines) == 1
        assert lines[0].endswith("×3 Result issued 2026-07-01 has not been acknowledged.")
        assert out.rstrip().splitlines()[-1].startswith("3 gaps for 1 of 1 patients")

    def test_json_keeps_one_record_per_gap(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Grouping is for people: the JSON output still lists every gap."""
        path = tmp_path / "labs.json"
        path.write_text(json.dumps(lab_results(3)), encoding="utf-8")
        status, out, _ = run(capsys, "gaps", str(path), "--as-of", "2026-07-15", "--format", "json")

        assert status == EXIT_OK
        assert len(json.loads(out)["gaps"]) == 3
