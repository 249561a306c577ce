"""The example notebook runs the analyst's whole path, and its outputs say the right things.

``examples/analyst.ipynb`` is executed with nbclient in a fresh kernel (ipykernel): read
the demo data, build profiles, find gaps, data frames, a profile display and three charts.
Its outputs are checked against the library run here: the counts printed, an HTML display
of each kind, one image per chart, and no name or birth date of the demo patients
anywhere (displays mask them by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import carecoord as cc
from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files

from .conftest import required

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "analyst.ipynb"


@pytest.fixture(scope="module")
def executed() -> Any:
    """The notebook, run once for this module."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        if required():
            pytest.fail("nbclient and nbformat are required in CI (test dependency group)")
        pytest.skip("nbclient and nbformat are not installed")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    return notebook


def outputs(notebook: Any) -> list[dict[str, Any]]:
    """Every output of every code cell, in order."""
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def text_of(notebook: Any) -> str:
    """All the text, HTML and printed output of the notebook, as one string."""
    parts = []
    for output in outputs(notebook):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.extend(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))
    return "\n".join(parts)


def test_the_notebook_runs_without_errors(executed: Any) -> None:
    """Every code cell ran and none produced an error output."""
    assert [o for o in outputs(executed) if o.output_type == "error"] == []
    assert all(cell.execution_count for cell in executed.cells if cell.cell_type == "code")


def test_the_counts_printed_are_the_libraries(executed: Any) -> None:
    """The gap, people and event counts printed match the library's own."""
    profiles = cc.build_profiles(fhir.read(demo_files()).records)
    reports = list(
        cc.detect_gaps_population(
            profiles, as_of=DEMO_AS_OF, include_closed=True, look_back_months=None
        )
    )
    printed = "".join(o.get("text", "") for o in outputs(executed) if o.output_type == "stream")

    assert f"{sum(map(len, reports))} gaps for {len(reports)} patients" in printed
    assert f"{len(profiles)} people" in printed
    assert f"{len(profiles[0].timeline())} events" in printed


def test_each_display_and_chart_is_there(executed: Any) -> None:
    """An HTML display of each kind shown, and one PNG per chart."""
    html = " ".join(str(o.get("data", {}).get("text/html", "")) for o in outputs(executed))
    images = [o for o in outputs(executed) if "image/png" in o.get("data", {})]

    for kind in ("import-result", "profile-set", "summary", "profile", "gap"):
        assert f'data-cc-kind="{kind}"' in html
    assert len(images) == 3


def test_no_personal_data_in_the_outputs(executed: Any) -> None:
    """No demo patient's name or birth date appears in any output."""
    secrets = set()
    for record in fhir.read(demo_files()).records:
        for name in record.patient.names:
            secrets.update(p for p in (*name.given, name.family or "") if len(p) >= 3)
        if record.patient.birth_date is not None:
            secrets.add(record.patient.birth_date.isoformat())
    text = text_of(executed)

    assert secrets
    assert sorted(s for s in secrets if s in text) == []


def test_the_committed_notebook_has_no_outputs() -> None:
    """The notebook is kept without outputs, so the repository holds no rendered data."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]

    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")
