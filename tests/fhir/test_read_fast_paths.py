"""The reader's fast paths give exactly what its reporting paths give, only sooner.

``read`` pauses the cyclic garbage collector, remembers parsed times, codes and references
per read, and reads well-formed elements without building FHIR paths. None of that may
change a record or an issue: these tests compare the fast paths with the reporting paths
they stand in for, and check the garbage collector is left as it was found.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import Code, Quantity, System
from carecoord.errors import InteropError
from carecoord.fhir import _map_state, _map_types, _read
from carecoord.fhir._datatypes import parse_datetime
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueCode, IssueLog
from carecoord.fhir._map_base import MapContext, ReadState
from carecoord.fhir._read import read
from carecoord.fhir._refs import ReferenceIndex
from tests._helpers import collector

from .test_read_fixtures import SUBJECT, bundle, patient, read_bundle, when

LOINC = "http://loinc.org"


def observation(ident: str, **extra: Any) -> dict[str, Any]:
    """A valid Observation of the synthetic patient (``extra`` replaces elements)."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": LOINC, "code": "4548-4"}]},
        "effectiveDateTime": when(2),
    }
    resource.update(extra)
    return resource


def condition(ident: str, **extra: Any) -> dict[str, Any]:
    """A valid Condition of the synthetic patient (``extra`` replaces elements)."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ident,
        "subject": SUBJECT,
        "code": {"coding": [{"system": System.SNOMED, "code": "44054006"}]},
    }
    resource.update(extra)
    return resource


def issue_rows(issues: Any) -> list[tuple[str, str, str, str]]:
    """Issues as comparable rows (path, code, severity, message)."""
    return [(i.path, i.code, i.severity, i.message) for i in issues]


def new_context() -> MapContext:
    """A context for one Observation, with a fresh issue log and per-read memos."""
    state = ReadState(IssueLog(), ReferenceIndex(), None)
    item = FlatResource("Observation", {"resourceType": "Observation"}, None, "<input>")
    return MapContext(state, item)


@contextmanager
def reporting_paths_only() -> Iterator[None]:
    """Turn the quiet fast paths off, so every element goes through the reporting path."""
    with (
        mock.patch.object(_map_types, "_clean_codings", return_value=None),
        mock.patch.object(_map_types, "_clean_concept", return_value=None),
        mock.patch.object(_map_types, "_clean_quantity", return_value=None),
        mock.patch.object(MapContext, "_quiet_code", return_value=_map_types._UNREAD),
    ):
        yield


def both_ways(call: Callable[[MapContext], Any]) -> tuple[Any, Any]:
    """``(result, issues)`` of ``call`` with the fast paths, then with reporting paths only."""
    fast = new_context()
    fast_out = call(fast)
    with reporting_paths_only():
        slow = new_context()
        slow_out = call(slow)
    return (fast_out, issue_rows(fast.issues)), (slow_out, issue_rows(slow.issues))


# Element values: well-formed ones and every kind of malformed one the reporting path
# reports (wrong JSON types, blanks), well-formed ones more often.
_texts = st.sampled_from([None, "", "  ", "x", " x ", "sys", LOINC])
_odd = st.sampled_from([5, 1.5, True, ["a"], {}])
_scalars = st.one_of(_texts, _texts, _texts, _odd)
_codings = st.fixed_dictionaries(
    {},
    optional={"system": _scalars, "code": _scalars, "display": _scalars, "userSelected": _odd},
)
_coding_lists = st.one_of(st.lists(st.one_of(_codings, _codings, _odd), max_size=3), _odd)
_concepts = st.one_of(
    st.none(),
    _scalars,
    st.fixed_dictionaries({"coding": _coding_lists}, optional={"text": _scalars}),
    st.fixed_dictionaries({"coding": _coding_lists}, optional={"text": _scalars}),
    st.fixed_dictionaries(
        {},
        optional={
            "coding": _coding_lists,
            "text": _scalars,
            "system": _scalars,
            "code": _scalars,
            "concept": st.just({"text": "x"}),
        },
    ),
)
_numbers = st.one_of(
    st.sampled_from([None, True, "1", 0, -3, 2**1100, 1e308, float("nan"), float("inf")]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
)
_quantities = st.one_of(
    _scalars,
    st.fixed_dictionaries({}, optional={"value": _numbers, "code": _scalars, "unit": _scalars}),
)


class TestQuietPathsMatchReportingPaths:
    """For any JSON, a fast path gives the reporting path's value and issues."""

    @settings(max_examples=300, deadline=None)
    @given(_concepts)
    def test_codings(self, concept: object) -> None:
        """``codings`` of a concept: same codings, same issues."""
        fast, slow = both_ways(lambda ctx: ctx.codings(concept, "Observation.code"))
        assert fast == slow

    @settings(max_examples=300, deadline=None)
    @given(_concepts, st.sampled_from([(), (LOINC,), ("sys", LOINC)]))
    def test_code(self, concept: object, prefer: tuple[str, ...]) -> None:
        """``code`` and ``code_at``: same code (display included), same issues."""

        def call(ctx: MapContext) -> tuple[Any, Any]:
            one = ctx.code(concept, "Observation.code", prefer=prefer)
            two = ctx.code_at({"code": concept}, "code", "Observation", prefer=prefer)
            return one, None if one is None else (one.display, two, two and two.display)

        fast, slow = both_ways(call)
        assert fast == slow

    @settings(max_examples=200, deadline=None)
    @given(st.lists(_concepts, max_size=3) | _concepts)
    def test_item_codings(self, categories: object) -> None:
        """``item_codings`` equals ``codings`` of each of ``items``, issues included."""

        def by_items(ctx: MapContext) -> list[Any]:
            return [
                ctx.codings(c, p) for p, c in ctx.items({"category": categories}, "category", "R")
            ]

        fast = new_context()
        fast_out = list(fast.item_codings({"category": categories}, "category", "R"))
        with reporting_paths_only():
            slow = new_context()
            slow_out = by_items(slow)
        assert (fast_out, issue_rows(fast.issues)) == (slow_out, issue_rows(slow.issues))

    @settings(max_examples=300, deadline=None)
    @given(_quantities)
    def test_quantity(self, value: object) -> None:
        """``quantity`` and ``quantity_at``: same quantity, same issues."""

        def call(ctx: MapContext) -> tuple[Any, Any]:
            return (
                ctx.quantity(value, "Observation.valueQuantity"),
                ctx.quantity_at({"valueQuantity": value}, "valueQuantity", "Observation"),
            )

        fast, slow = both_ways(call)
        assert fast == slow

    def test_quiet_code_reports_nothing(self) -> None:
        """A well-formed concept is read without an issue and with its display."""
        ctx = new_context()
        concept = {"coding": [{"system": LOINC, "code": " 4548-4 ", "display": "HbA1c"}]}
        code = ctx.code(concept, "Observation.code")
        assert code == Code(LOINC, "4548-4")
        assert code is not None
        assert code.display == "HbA1c"
        assert len(ctx.issues) == 0

    def test_quantity_prefers_the_code(self) -> None:
        """A well-formed Quantity takes its UCUM code as the unit, else its unit text."""
        ctx = new_context()
        assert ctx.quantity({"value": 2, "code": "mg", "unit": "milligram"}, "Q") == Quantity(
            2.0, "mg"
        )
        assert ctx.quantity({"value": 2, "code": " ", "unit": "pills"}, "Q") == Quantity(
            2.0, "pills"
        )


class TestMemos:
    """Per-read memos give the values parsing gives, and never swallow an issue."""

    def test_repeated_time_parsed_once(self) -> None:
        """A time written the same in many resources is parsed once and read the same."""
        resources = [observation(f"o{n}") for n in range(3)]
        with mock.patch("carecoord.fhir._map_types.parse_datetime", wraps=parse_datetime) as parse:
            result = read_bundle(*resources)
        results = result.records[0].results
        assert len({r.effective for r in results}) == 1
        assert [c.args[0] for c in parse.call_args_list].count(when(2)) == 1

    def test_invalid_time_reported_for_each_resource(self) -> None:
        """The same invalid time in two resources is an issue at each one's path."""
        result = read_bundle(
            condition("c1", onsetDateTime="2020-13-01"),
            condition("c2", onsetDateTime="2020-13-01"),
        )
        dates = [i for i in result.issues if i.code == IssueCode.INVALID_DATE]
        assert [i.path for i in dates] == [
            "Bundle.entry[1].resource.onsetDateTime",
            "Bundle.entry[2].resource.onsetDateTime",
        ]

    def test_naive_time_warned_for_each_resource(self) -> None:
        """A time without an offset is read in the default zone with a warning each time."""
        naive = "2024-03-01T09:00:00"
        result = read_bundle(
            observation("o1", effectiveDateTime=naive),
            observation("o2", effectiveDateTime=naive),
            default_tz=dt.UTC,
        )
        warnings = [i for i in result.issues if i.code == IssueCode.NAIVE_DATETIME]
        assert len(warnings) == 2
        assert {r.effective for r in result.records[0].results} == {
            dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC)
        }

    def test_full_memo_starts_over(self) -> None:
        """A memo at its bound is emptied and refilled: the result does not change."""
        resources = [observation(f"o{n}", effectiveDateTime=when(n)) for n in range(5)]
        expected = read_bundle(*resources)
        with mock.patch.object(_map_state, "_MEMO_LIMIT", 2):
            assert read_bundle(*resources) == expected


class TestGarbageCollector:
    """``read`` pauses the cyclic garbage collector and leaves it as it found it."""

    def test_paused_while_mapping(self) -> None:
        """The collector is off while resources are mapped."""
        seen: list[bool] = []
        original = _read._MAPPERS["Condition"]

        def spy(*args: Any) -> Any:
            seen.append(gc.isenabled())
            return original(*args)

        with collector(True), mock.patch.dict(_read._MAPPERS, {"Condition": spy}):
            read_bundle(condition("c1"))
        assert seen == [False]

    def test_enabled_again_after_read(self) -> None:
        """A collector that was on is on again once ``read`` returns."""
        with collector(True):
            read_bundle(condition("c1"))
            assert gc.isenabled()

    def test_left_off_when_it_was_off(self) -> None:
        """A collector the caller turned off stays off."""
        with collector(False):
            read_bundle(condition("c1"))
            assert not gc.isenabled()

    def test_enabled_again_after_an_error(self, tmp_path: Path) -> None:
        """The collector is on again when ``read`` raises."""
        with collector(True):
            with pytest.raises(InteropError):
                read(tmp_path / "missing.json")
            assert gc.isenabled()


class TestSourceId:
    """The derived source id: meta.source anywhere first, else the first tag found."""

    @staticmethod
    def tagged(code: str) -> dict[str, Any]:
        """``meta`` with a SMART tag ``code``."""
        return {"tag": [{"system": "https://smarthealthit.org/tags", "code": code}]}

    def test_later_meta_source_beats_an_earlier_tag(self) -> None:
        """A ``meta.source`` on a later resource wins over a tag on an earlier one."""
        result = read(
            bundle(
                patient(meta=self.tagged("first")),
                condition("c1", meta={"source": "urn:example:ehr"}),
            )
        )
        assert result.records[0].source.id == "urn:example:ehr"

    def test_first_tag_is_kept(self) -> None:
        """Of several tags (and no meta.source), the first resource's tag names the source."""
        result = read(
            bundle(patient(meta=self.tagged("first")), condition("c1", meta=self.tagged("x")))
        )
        assert result.records[0].source.id == "https://smarthealthit.org/tags|first"
