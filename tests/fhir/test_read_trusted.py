"""The reader's shortcuts of the speed-up change nothing a read gives.

Facts built without re-running validators (``_trusted``), the per-read memo of one-coding
concepts, the quick result category and the nesting bound counted on the marks: each is
compared here with what it stands in for. (``benchmarks/reader_sameness.py`` compares
whole reads of the shared data with the tree before.)
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    Code,
    Interpretation,
    PartialDate,
    Period,
    Quantity,
    Ref,
    Result,
    ResultCategory,
    ResultId,
)
from carecoord.fhir import ImportIssue, _input, read
from carecoord.fhir._input import (
    _FEW_ESCAPES,
    _NO_VALUE,
    _SMALL_TEXT,
    InputReader,
    _bounded_loads,
    _drop_escapes,
    too_deep,
)
from carecoord.fhir._issues import IssueLog
from carecoord.fhir._limits import Limits
from carecoord.fhir._trusted import aware_zone, trusted_constructor

from .test_read_fixtures import SUBJECT, bundle, patient, practitioner

LOINC = "http://loinc.org"
AT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


def _fields(obj: object) -> list[tuple[str, type, object]]:
    return [
        (f.name, type(getattr(obj, f.name)), getattr(obj, f.name)) for f in attrs.fields(type(obj))
    ]


def test_trusted_result_equals_validated_one() -> None:
    """A trusted Result has every field, defaults included, as the validated one."""
    make = trusted_constructor(Result)
    args: dict[str, Any] = {
        "id": ResultId("r1"),
        "patient": "p1",
        "code": Code(LOINC, "1234-5"),
        "issued": AT,
        "value": Quantity(1.5, "mg"),
        "effective": PartialDate(2024, 3),
    }
    assert _fields(make(**args)) == _fields(Result(**args))
    assert make(**args).interpretation is Interpretation.UNKNOWN
    assert make(**args).category is ResultCategory.UNKNOWN


def test_trusted_result_keeps_post_init_check() -> None:
    """The check across fields (a result is not its own member) still runs."""
    make = trusted_constructor(Result)
    with pytest.raises(Exception, match="own member"):
        make(id="r1", patient="p1", code=Code(LOINC, "1"), issued=AT, members=("r1",))


def test_trusted_period_keeps_order_check() -> None:
    """A trusted Period still refuses an end before its start."""
    make = trusted_constructor(Period)
    assert make(start=AT, end=None) == Period(AT, None)
    with pytest.raises(Exception, match="end before it starts"):
        make(start=AT, end=AT - dt.timedelta(hours=1))


def test_trusted_constructor_refuses_converted_fields() -> None:
    """A class whose __init__ converts values cannot be built around it."""
    with pytest.raises(TypeError, match="converted"):
        trusted_constructor(ImportIssue)


class _NoOffset(dt.tzinfo):
    """A time zone that never knows its offset (so times in it are naive)."""

    def utcoffset(self, _when: dt.datetime | None) -> dt.timedelta | None:
        return None

    def dst(self, _when: dt.datetime | None) -> dt.timedelta | None:
        return None


def test_aware_zone() -> None:
    """Only zones that always give an offset let the reader skip validators."""
    assert aware_zone(None)
    assert aware_zone(dt.UTC)
    assert aware_zone(dt.timezone(dt.timedelta(hours=-5)))
    assert not aware_zone(_NoOffset())


def _observation(**extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "4548-4", "display": "HbA1c"}]},
        "subject": SUBJECT,
        "issued": "2024-03-01T09:30:00",
    }
    resource.update(extra)
    return resource


def test_zone_without_offsets_still_validates_results() -> None:
    """Read in a zone with no offsets, a result's naive time is still rejected by the model."""
    result = read(bundle(patient(), _observation()), default_tz=_NoOffset())
    assert [r.results for r in result.records] == [()]
    assert any("rejects this Observation" in i.message for i in result.issues)


def test_blank_id_still_rejected() -> None:
    """A blank resource id still fails the model's check, as before the shortcut."""
    result = read(bundle(patient(), _observation(id=" ", issued="2024-03-01T09:30:00Z")))
    assert [r.results for r in result.records] == [()]
    assert any(i.code == "invalid-value" for i in result.issues)


def test_repeated_concept_gives_equal_codes() -> None:
    """The same one-coding concept met twice gives the same code; another text another."""
    concept = {"coding": [{"system": LOINC, "code": "4548-4"}], "text": "HbA1c"}
    other = {"coding": [{"system": LOINC, "code": "4548-4"}], "text": "A1c"}
    result = read(
        bundle(
            patient(),
            _observation(id="o1", code=concept, issued="2024-03-01T09:30:00Z"),
            _observation(id="o2", code=dict(concept), issued="2024-03-01T09:31:00Z"),
            _observation(id="o3", code=other, issued="2024-03-01T09:32:00Z"),
        )
    )
    codes = {r.id: r.code for r in result.records[0].results}
    assert codes["o1"] is codes["o2"]
    assert codes["o1"].display == "HbA1c"
    assert codes["o3"].display == "A1c"


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ([{"coding": [{"code": "laboratory"}]}], ResultCategory.LABORATORY),
        ([{"coding": [{"code": "LAB"}]}], ResultCategory.LABORATORY),
        ([{"coding": [{"code": " vital-signs"}]}], ResultCategory.UNKNOWN),
        (
            [{"coding": [{"code": "nothing"}]}, {"coding": [{"code": "imaging"}]}],
            ResultCategory.IMAGING,
        ),
        ([{"coding": [{"system": 3, "code": "laboratory"}]}], ResultCategory.LABORATORY),
    ],
)
def test_result_category_quick_and_full_agree(category: object, expected: ResultCategory) -> None:
    """Categories read by the quick path and by the full one come out as before."""
    result = read(bundle(patient(), _observation(category=category, issued="2024-03-01T09:30:00Z")))
    assert result.records[0].results[0].category is expected


_ESCAPES = re.compile(rb"\\.", re.DOTALL)
_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')
_STRINGS = re.compile(rb'"[^"]*"')


def _too_deep_before(data: bytes, max_depth: int) -> bool:
    """The nesting bound as it was computed before the speed-up (counted on the text)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    if b"\\" in data:
        data = _ESCAPES.sub(b"", data)
    marks = data.translate(None, _NOT_MARKS).replace(b'""', b"")
    if b'"' in marks:
        marks = _STRINGS.sub(b"", marks)
    marks = marks.translate(bytes.maketrans(b"{}", b"[]"))
    for depth in range(max_depth + 1):
        if not marks:
            return False
        fewer = marks.replace(b"[]", b"")
        if len(fewer) == len(marks):
            return depth + marks.count(b"[") > max_depth
        marks = fewer
    return True


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b"a", b":"]), max_size=60),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=0, max_value=70_000),
)
def test_too_deep_as_before(parts: list[bytes], max_depth: int, padding: int) -> None:
    """The bound counted on the marks answers as the bound counted on the text did."""
    data = b"".join(parts)
    assert too_deep(data, max_depth) == _too_deep_before(data, max_depth)
    padded = data + b" " * padding  # large texts take the other branch
    assert too_deep(padded, max_depth) == _too_deep_before(padded, max_depth)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([b"\\", b'"', b"[", b"a", b"\xc3\xa9", b"n"]), max_size=80),
    st.integers(min_value=0, max_value=3),
)
def test_escapes_dropped_as_by_the_regex(parts: list[bytes], runs: int) -> None:
    """Escapes cut out with ``bytes.find`` leave the bytes the regex left, many or few."""
    data = b"".join(parts)
    assert _drop_escapes(data) == _ESCAPES.sub(b"", data)
    many = data + b"\\n" * (_FEW_ESCAPES * runs) + data  # past the bound: the regex
    assert _drop_escapes(many) == _ESCAPES.sub(b"", many)


def _parsed_as_before(data: bytes, max_depth: int) -> object:
    """What the reader made of a text before the parser checked the bound: value or error."""
    if too_deep(data, max_depth):
        return "too deep"
    try:
        return _input._loads(data)  # the parser picked (orjson when installed)
    except ValueError:
        return "not JSON"


def _parsed_now(data: bytes, max_depth: int) -> object:
    """What the reader makes of a text now (through the reader's own parse)."""
    reader = InputReader(IssueLog(), Limits(max_depth=max_depth))
    try:
        return reader._json(data)
    except ValueError:
        return "not JSON"
    except Exception as err:  # the reader's own over-limit error
        assert "max_depth" in err.args
        return "too deep"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b"1", b",", b":", b'"a":', b" "]),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=6),
)
def test_parser_checked_bound_as_before(parts: list[bytes], max_depth: int) -> None:
    """Large texts bounded by the parser give the value or the error they gave before."""
    padding = b" " * (_SMALL_TEXT + 1)  # only large texts are bounded by the parser
    data = padding + b"".join(parts) + padding
    assert _parsed_now(data, max_depth) == _parsed_as_before(data, max_depth)


@pytest.mark.parametrize(
    ("text", "max_depth"),
    [
        (b"[" * 5 + b"]" * 5, 5),
        (b"[" * 6 + b"]" * 6, 5),
        (b'{"a":' * 4 + b"{}" + b"}" * 4, 5),
        (b'{"a":' * 5 + b"{}" + b"}" * 5, 5),
        (b"{},{}", 5),
        (b"1],[2", 5),
        (b"1]],[[2", 5),
        (b"]", 5),
        (b"[1,2] 3", 5),
        (b'{"a": [1, {"b": "[[[[[[[["}]}', 3),
        (b'{"a": "\\"[[[[[[[[\\\\"}', 2),
    ],
)
def test_parser_checked_bound_edges(text: bytes, max_depth: int) -> None:
    """At the bound, one past it, and texts that are not one JSON value: as before."""
    data = text + b" " * _SMALL_TEXT
    assert _parsed_now(data, max_depth) == _parsed_as_before(data, max_depth)
    assert _bounded_loads(data, max_depth) is _NO_VALUE or not too_deep(data, max_depth)


def _urn_bundle(doctor: str, encounters: list[str]) -> dict[str, Any]:
    """A Bundle with urn:uuid fullUrls: the patient, a doctor, encounters led by the doctor."""
    entries: list[dict[str, Any]] = [
        {"fullUrl": "urn:uuid:0000-patient", "resource": patient()},
        {"fullUrl": "urn:uuid:0000-doctor", "resource": practitioner(doctor)},
    ]
    for ident in encounters:
        encounter = {
            "resourceType": "Encounter",
            "id": ident,
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": "urn:uuid:0000-patient"},
            "participant": [{"individual": {"reference": "urn:uuid:0000-doctor"}}],
            "period": {"start": "2024-03-01T09:30:00Z"},
        }
        entries.append({"fullUrl": f"urn:uuid:{ident}", "resource": encounter})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_remembered_targets_stay_in_their_bundle() -> None:
    """A urn:uuid naming a resource in two Bundles resolves within each, remembered or not."""
    result = read([_urn_bundle("doc-a", ["e1", "e2"]), _urn_bundle("doc-b", ["e3", "e4"])])
    (record,) = result.records
    performers = {e.id: e.performers for e in record.encounters}
    assert performers == {
        "e1": (Ref("Practitioner", "doc-a"),),
        "e2": (Ref("Practitioner", "doc-a"),),
        "e3": (Ref("Practitioner", "doc-b"),),
        "e4": (Ref("Practitioner", "doc-b"),),
    }


def test_unique_urn_of_the_wrong_type_is_still_reported() -> None:
    """A urn:uuid naming one resource of another type than declared is reported, as before.

    (The reference still gives its target's key, as a reference that does not resolve
    to a fitting resource does.)
    """
    document = _urn_bundle("doc-a", ["e1"])
    participant = document["entry"][2]["resource"]["participant"][0]
    participant["individual"]["type"] = "Organization"
    result = read(document)
    (record,) = result.records
    assert record.encounters[0].performers == (Ref("Practitioner", "doc-a"),)
    codes = [(i.path, i.code) for i in result.issues]
    assert ("Bundle.entry[2].resource.participant[0].individual", "wrong-type") in codes
