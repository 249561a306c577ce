"""The command line reads HL7 v2 files and folders beside FHIR JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from carecoord.cli import main
from tests.hl7v2._messages import FIXTURES


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestHl7Paths:
    """``gaps`` and ``profile`` take .hl7 files and folders."""

    def test_gaps_on_a_folder_of_messages(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The fixture feed is one patient whose referral appointment was missed."""
        status, out, _ = _run(
            capsys, "gaps", str(FIXTURES), "--as-of", "2026-03-20", "--format", "json"
        )
        rules = {g["rule"] for g in json.loads(out)["gaps"]}

        assert status == 0
        assert {"transition.follow-up-visit", "referral.missed-appointment"} <= rules
        assert "transition.discharge-info-missing" not in rules

    def test_gaps_on_an_hl7_file_beside_fhir(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An .hl7 file and a FHIR file given together build one profile."""
        shutil.copy(FIXTURES / "ADT-stay.hl7", tmp_path / "stay.hl7")
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "p1",
                        "name": [{"family": "Testperson", "given": ["Alma"]}],
                        "birthDate": "1956-04-12",
                        "gender": "female",
                    }
                },
                {
                    "resource": {
                        "resourceType": "Encounter",
                        "id": "e1",
                        "status": "finished",
                        "class": {"code": "AMB"},
                        "subject": {"reference": "Patient/p1"},
                        "period": {"start": "2026-03-09T10:00:00-05:00"},
                    }
                },
            ],
        }
        (tmp_path / "clinic.json").write_text(json.dumps(bundle))

        status, out, _ = _run(
            capsys,
            "gaps",
            str(tmp_path / "stay.hl7"),
            str(tmp_path / "clinic.json"),
            "--as-of",
            "2026-03-20",
            "--format",
            "json",
        )
        gaps = json.loads(out)["gaps"]

        assert status == 0
        assert len({g["patient"] for g in gaps}) == 1
        assert "transition.follow-up-visit" not in {g["rule"] for g in gaps}

    def test_profile_of_a_message_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``profile --timeline`` shows the stay read from an ADT file."""
        status, out, _ = _run(capsys, "profile", str(FIXTURES / "ADT-stay.hl7"), "--timeline")

        assert status == 0
        assert "Inpatient discharge to home" in out
