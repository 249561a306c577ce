"""Tabular export and the canonical serializer on every public result type.

``to_records()`` gives JSON-safe rows with documented columns; ``to_pandas()`` and
``to_polars()`` give data frames through optional extras, with an error naming the extra
when it is missing; ``serialization.dumps`` writes, and ``loads`` reads back, every
result an analyst gets (gaps, reports, summaries, worklists, profiles, profile sets,
facts, timeline events, import results and issues, possible matches).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import pytest

import carecoord as cc
from carecoord import fhir, serialization
from carecoord.demo_data import demo_files
from carecoord.domain import Encounter, Ref
from carecoord.profile import (
    PERSONAL_COLUMNS,
    PROFILE_COLUMNS,
    TIMELINE_COLUMNS,
    Fact,
    ProfileSet,
    Viewer,
    view_for,
)
from carecoord.rules import GAP_COLUMNS, SUMMARY_COLUMNS, WORKLIST_COLUMNS

from .._helpers import plain
from .conftest import Synthea, need


def exports(
    synthea: Synthea, linked: ProfileSet
) -> dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]]:
    """Every ``to_records()`` of the real objects, with the columns it documents."""
    profile = synthea.largest()
    report = synthea.report_of(profile)
    worklist = cc.rules.worklist(synthea.reports, as_of=report.as_of)
    return {
        "gaps": (report.to_records(), GAP_COLUMNS),
        "profiles": (synthea.profiles.to_records(), PROFILE_COLUMNS),
        "timeline": (profile.timeline().to_records(), TIMELINE_COLUMNS),
        "issues": (synthea.result.to_records(), fhir.ISSUE_COLUMNS),
        "summary": (synthea.summary.to_records(), SUMMARY_COLUMNS),
        "worklist": (worklist.to_records(), WORKLIST_COLUMNS),
        "match": (linked.review[0].to_records(), ("field", "outcome", "weight")),
    }


def test_records_are_json_safe_with_the_documented_columns(
    synthea: Synthea, linked: ProfileSet
) -> None:
    """Every row is plain JSON data whose keys are the documented columns, in order."""
    for name, (rows, columns) in exports(synthea, linked).items():
        assert rows, name
        assert all(plain(row) and tuple(row) == columns for row in rows), name
        json.dumps(rows)


def test_row_counts_match_the_objects(synthea: Synthea) -> None:
    """One row per profile, event, issue, gap; summary rows add up to the gap count."""
    profile = synthea.largest()

    assert len(synthea.profiles.to_records()) == 76
    assert len(profile.timeline().to_records()) == len(profile.timeline())
    assert len(synthea.result.to_records()) == len(synthea.result.issues)
    assert sum(r["count"] for r in synthea.summary.to_records()) == synthea.summary.gaps


def test_profile_rows_mask_personal_data_unless_asked(synthea: Synthea) -> None:
    """Names and birth dates are columns only with ``show_personal_data=True``."""
    masked = synthea.profiles.to_records()
    shown = synthea.profiles.to_records(show_personal_data=True)
    patient = synthea.profiles[0].patient

    assert not set(PERSONAL_COLUMNS) & set(masked[0])
    assert tuple(shown[0]) == PROFILE_COLUMNS + PERSONAL_COLUMNS
    assert shown[0]["birth_date"] == (patient.birth_date and patient.birth_date.isoformat())
    assert patient.names[0].family in str(shown[0]["name"])


def test_issue_rows_hide_file_names_unless_asked() -> None:
    """An issue's file (read with ``name_files``, often a patient's name) is ``None`` by default."""
    result = fhir.read(demo_files(), name_files=True)
    masked = result.to_records()
    shown = result.to_records(show_personal_data=True)

    assert masked
    assert {r["source"] for r in masked} == {None}
    assert all(str(r["source"]).endswith(".json") for r in shown)


def test_data_frames_have_the_rows_and_columns(synthea: Synthea) -> None:
    """``to_pandas`` and ``to_polars`` hold the records, the columns in order."""
    need("pandas")
    need("polars")
    report = synthea.report_of(synthea.largest())
    frame = report.to_pandas()
    pivot = synthea.summary.to_pandas().pivot_table(
        index="rule", columns="status", values="count", fill_value=0
    )

    assert list(frame.columns) == list(GAP_COLUMNS)
    assert len(frame) == len(report)
    assert synthea.profiles.to_polars().shape == (76, len(PROFILE_COLUMNS))
    assert int(pivot.to_numpy().sum()) == synthea.summary.gaps
    assert synthea.largest().timeline().to_pandas().shape[1] == len(TIMELINE_COLUMNS)


@pytest.mark.parametrize(("package", "method"), [("pandas", "to_pandas"), ("polars", "to_polars")])
def test_a_missing_extra_is_named(
    synthea: Synthea, monkeypatch: pytest.MonkeyPatch, package: str, method: str
) -> None:
    """Without pandas (or polars) the error is a MissingExtraError naming the extra."""
    monkeypatch.setitem(sys.modules, package, None)

    with pytest.raises(cc.MissingExtraError, match=rf"carecoord\[{package}\]"):
        getattr(synthea.profiles, method)()


def results(synthea: Synthea, linked: ProfileSet) -> dict[str, Any]:
    """One instance of each public result type."""
    profile = synthea.demo[0]
    report = max(synthea.demo_reports, key=len)
    return {
        "Gap": report[0],
        "Evidence": next(g for g in report if g.evidence).evidence[0],
        "GapReport": report,
        "PopulationSummary": cc.summarize(synthea.demo_reports),
        "Worklist": report.worklist(),
        "PatientProfile": profile,
        "ProfileSet": synthea.demo,
        "Fact": profile.encounters[0],
        "Provenance": profile.encounters[0].provenance[0],
        "FactConflict": next(p for p in synthea.demo if p.conflicts).conflicts[0],
        "TimelineEvent": profile.timeline()[0],
        "ImportResult": synthea.result,
        "ImportIssue": synthea.result.issues[0],
        "PossibleMatch": linked.review[0],
        "MatchResult": cc.profile.compare(*linked.records[:2]),
    }


def test_every_result_type_round_trips(synthea: Synthea, linked: ProfileSet) -> None:
    """``dumps`` writes each result type and ``loads`` reads back an equal object."""
    for name, obj in results(synthea, linked).items():
        text = serialization.dumps(obj)
        cls: Any = Fact[Encounter] if name == "Fact" else type(obj)

        assert json.loads(text)["type"] == name
        assert serialization.loads(text, cls) == obj, name


def test_a_non_model_is_a_usage_error() -> None:
    """Something that is not a carecoord class is a UsageError, not a raw TypeError."""
    with pytest.raises(cc.UsageError, match="not a carecoord model class: dict"):
        serialization.dumps({"a": 1})


def test_issue_rows_keep_the_readers_file_labels(synthea: Synthea) -> None:
    """The reader's own labels (``<file 3>``) are not personal and stay in the rows."""
    sources = {r["source"] for r in synthea.result.to_records()}

    assert sources
    assert all(str(s).startswith("<file ") for s in sources)


def test_a_consent_views_exports_hold_nothing_it_hides(synthea: Synthea) -> None:
    """The timeline rows and profile rows of a view carry no event or count it hides."""
    at = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)
    profile = next(p for p in synthea.demo if any("counseling" in s for s in p.sources))
    view = view_for(profile, Viewer(Ref("Practitioner", "outsider-1")), at=at)
    kept = {fact.key for _, fact in view.facts()}
    hidden = {e.fact for e in profile.timeline() if e.fact not in kept}
    rows = view.timeline().to_records()
    counts = ProfileSet((view,)).to_records()[0]

    assert hidden
    assert {r["fact"] for r in rows} & hidden == set()
    assert counts["facts"] == view.fact_count() < profile.fact_count()
