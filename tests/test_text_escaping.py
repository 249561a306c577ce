r"""Text output never passes control characters from the input to a terminal.

A name, id or code display can hold an escape sequence (``\x1b[2J`` clears the screen),
a carriage return (overwrites the line) or a line break (forges a line). The text
renderers of ``carecoord.profile`` and ``carecoord.rules``, and the command line's table
and text output, show them as visible escapes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from carecoord.cli import EXIT_OK, main
from carecoord.domain import Code, HumanName, PatientId, System
from carecoord.profile import (
    build_profiles,
    describe_patient,
    printable,
    profile_label,
    render_profile,
    render_timeline,
    timeline,
)
from carecoord.rules import GapStatus, Severity, render_gaps, render_work_list
from carecoord.rules._model import Gap
from carecoord.testing import make_condition, make_patient, make_record, make_source

HOSTILE = "A\x1b[2J\x1b]0;pwned\x07\rB\nC\u202eD\x85E\t"
CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")
"""Controls but the line feed that ends each line."""


def clean(text: str) -> bool:
    """Whether ``text`` holds no control character but its line ends."""
    return CONTROLS.search(text) is None


class TestPrintable:
    """The escaping function itself."""

    def test_controls_become_visible_escapes(self) -> None:
        """Each control character becomes a backslash escape; nothing else changes."""
        assert printable(HOSTILE) == ("A\\x1b[2J\\x1b]0;pwned\\x07\\x0dB\\x0aC\\u202eD\\x85E\\x09")

    @pytest.mark.parametrize("text", ["Zoë Ñandú", "李小龍", "O'Brien-Smith", "a\u00a0b", ""])
    def test_ordinary_text_is_kept(self, text: str) -> None:
        """Accents, other scripts, punctuation and non-breaking spaces are kept."""
        assert printable(text) == text

    def test_twice_is_once(self) -> None:
        """Escaping an escaped text changes nothing."""
        assert printable(printable(HOSTILE)) == printable(HOSTILE)


class TestRenderers:
    """The library's text renderers escape what comes from the input."""

    @pytest.fixture
    def profile(self) -> object:
        """A profile whose source, ids, name and condition display hold control characters."""
        patient = make_patient(
            id=PatientId(f"p-{HOSTILE}"), names=(HumanName(family=HOSTILE, given=(HOSTILE,)),)
        )
        condition = make_condition(
            patient=patient.id, code=Code(System.SNOMED, "44054006", display=HOSTILE)
        )
        record = make_record(
            source=make_source(id=f"src{HOSTILE}"), patient=patient, conditions=(condition,)
        )
        [profile] = build_profiles([record])
        return profile

    def test_profile_text(self, profile: object) -> None:
        """render_profile, profile_label and describe_patient hold no control character."""
        text = render_profile(profile, with_timeline=True)  # type: ignore[arg-type]

        assert clean(text)
        assert "\\x1b[2J" in text
        assert clean(profile_label(profile))  # type: ignore[arg-type]
        assert clean(describe_patient(profile))  # type: ignore[arg-type]
        assert clean(render_timeline(timeline(profile)))  # type: ignore[arg-type]

    def test_gap_texts(self) -> None:
        """render_gaps and render_work_list escape rule ids and texts."""
        gap = Gap(
            rule=f"custom.{HOSTILE}",
            patient="p1",
            status=GapStatus.OPEN,
            severity=Severity.HIGH,
            due=dt.date(2026, 3, 2),
            opened=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            focus="p1/c1",
            summary=HOSTILE,
            action=HOSTILE,
        )

        for text in (render_gaps([gap]), render_work_list([gap])):
            assert clean(text)
            assert "\\x0d" in text


class TestCommandLine:
    """``carecoord gaps`` and ``carecoord profile`` print input text escaped."""

    def test_table_and_text_output(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Ids and names with escape sequences, CR and LF are shown escaped."""
        patient = {
            "resourceType": "Patient",
            "id": "p1",
            "meta": {"source": f"urn:example:tags|{HOSTILE}"},
            "name": [{"family": HOSTILE, "given": [HOSTILE]}],
            "birthDate": "1960-01-01",
        }
        task = {
            "resourceType": "Task",
            "id": "t1",
            "status": "requested",
            "intent": "order",
            "for": {"reference": "Patient/p1"},
            "authoredOn": "2026-01-02T09:00:00Z",
            "description": HOSTILE,
            "meta": {"source": f"urn:example:tags|{HOSTILE}"},
        }
        (tmp_path / "patient.json").write_text(json.dumps(patient), encoding="utf-8")
        (tmp_path / "task.json").write_text(json.dumps(task), encoding="utf-8")

        status = main(["gaps", str(tmp_path), "--as-of", "2026-07-15", "--quiet"])
        gaps_out = capsys.readouterr().out
        assert status == EXIT_OK
        assert clean(gaps_out)
        assert "\\x1b" in gaps_out

        status = main(["profile", str(tmp_path), "--quiet"])
        profile_out = capsys.readouterr().out
        assert status == EXIT_OK
        assert clean(profile_out)
        assert "\\x1b[2J" in profile_out
