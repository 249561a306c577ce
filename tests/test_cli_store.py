"""``carecoord ingest``, ``worklist`` and ``events`` on a SQLite store file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carecoord.cli import main
from carecoord.demo_data import demo_files

AS_OF = "2026-07-15T12:00:00-04:00"


@pytest.fixture
def demo_dir() -> str:
    """The folder holding the shipped demo bundles."""
    return str(Path(str(demo_files()[0])).parent)


def test_ingest_twice_then_worklist_and_events(
    demo_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ingest stores, a second ingest changes nothing, worklist and events read the file."""
    db = str(tmp_path / "cc.db")
    assert main(["ingest", demo_dir, "--db", db, "--as-of", AS_OF, "--quiet"]) == 0
    assert "4 persons created" in capsys.readouterr().out
    assert main(["ingest", demo_dir, "--db", db, "--as-of", AS_OF, "--quiet"]) == 0
    assert "0 records added, 0 replaced, 8 unchanged" in capsys.readouterr().out
    assert main(["worklist", "--db", db, "--as-of", "2026-07-15", "--format", "json"]) == 0
    lines = json.loads(capsys.readouterr().out)
    assert lines
    assert {"key", "person", "rule", "status", "severity", "due"} <= set(lines[0])
    args = ["worklist", "--db", db, "--as-of", "2026-07-15", "--severity", "critical"]
    assert main([*args, "--format", "json"]) == 0
    assert {line["severity"] for line in json.loads(capsys.readouterr().out)} == {"critical"}
    assert main(["events", "--db", db, "--after", "100"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["position"] for e in events] == list(range(101, 101 + len(events)))


def test_worklist_table_counts_gaps(
    demo_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table ends with the number of gaps shown."""
    db = str(tmp_path / "cc.db")
    main(["ingest", demo_dir, "--db", db, "--as-of", AS_OF, "--quiet"])
    capsys.readouterr()
    assert main(["worklist", "--db", db, "--as-of", "2026-07-15", "--owner", "nobody"]) == 0
    assert capsys.readouterr().out.strip().endswith("0 gaps")


def test_bad_cursor_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A negative --after exits 2 with one line on stderr."""
    assert main(["events", "--db", str(tmp_path / "cc.db"), "--after", "-1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
