"""Bad input never escapes as anything but a carecoord error; problems become issues."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import Ref
from carecoord.errors import CarecoordError
from carecoord.fhir._read import read

from ._shared import shared_data_dir
from .test_read_fixtures import SUBJECT, bundle, patient, read_bundle, ref, when

SNOMED = "http://snomed.info/sct"


def condition(**extra: object) -> dict[str, object]:
    """A valid Condition, with ``extra`` elements replaced."""
    resource: dict[str, object] = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": SUBJECT,
        "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
    }
    resource.update(extra)
    return resource


class TestWrongTypes:
    """Elements of the wrong JSON type are issues, never exceptions."""

    @pytest.mark.parametrize(
        ("element", "value"),
        [
            ("subject", "Patient/patient-1"),
            ("code", "diabetes"),
            ("code", {"coding": "x"}),
            ("code", {"coding": [{"system": 5, "code": ["x"]}]}),
            ("onsetDateTime", 20200101),
            ("onsetPeriod", []),
            ("clinicalStatus", [1, 2]),
            ("meta", "yesterday"),
            ("encounter", {"reference": {"nested": True}}),
            ("category", {"coding": [{"code": "sdoh"}]}),
        ],
    )
    def test_condition_element(self, element: str, value: object) -> None:
        """A wrongly typed element is reported (lenient) and read() does not raise."""
        result = read_bundle(condition(**{element: value}))

        assert result.issues

    def test_strings_everywhere(self) -> None:
        """A resource whose every element is a string raises nothing."""
        weird = dict.fromkeys(condition(), "x")
        weird["resourceType"] = "Encounter"
        result = read_bundle(weird)

        assert result.counts["Encounter"].skipped == 1

    def test_huge_number(self) -> None:
        """A number too big for a float is an issue."""
        observation = {
            "resourceType": "Observation",
            "id": "o1",
            "status": "final",
            "subject": SUBJECT,
            "code": {"coding": [{"system": "http://loinc.org", "code": "1"}]},
            "issued": when(1),
            "valueQuantity": {"value": 10**400},
        }
        result = read_bundle(observation)

        assert result.records[0].results[0].value is None
        assert result.issue_codes()["invalid-value"] == 1

    @pytest.mark.parametrize(
        "value",
        ["2023-02-30", "2023-13", "0001-01-01T00:00:00+14:00", "soon", "1960-04-01T25:00:00Z"],
    )
    def test_impossible_dates(self, value: str) -> None:
        """Impossible dates are invalid-date issues; the element is dropped."""
        result = read_bundle(condition(onsetDateTime=value))

        assert result.records[0].conditions[0].onset is None
        assert result.issue_codes()["invalid-date"] == 1

    def test_bundle_type_object(self) -> None:
        """A Bundle.type that is an object is reported; entries without resources too."""
        document = bundle(patient())
        document["type"] = {"odd": True}
        document["entry"].append({"request": {"method": "DELETE"}})

        result = read(document)

        assert result.issue_codes()["wrong-type"] == 1
        assert len(result.records) == 1


class TestSubjects:
    """Facts need a patient."""

    def test_missing_subject(self) -> None:
        """A fact without a subject is skipped with a missing-subject error."""
        result = read_bundle(condition(subject=None))

        assert result.records[0].conditions == ()
        assert result.issue_codes()["missing-subject"] == 1

    def test_group_subject(self) -> None:
        """A fact about a Group is skipped."""
        group = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True}
        result = read_bundle(condition(subject=ref("Group", "g1")), group)

        assert result.records[0].conditions == ()
        assert result.issue_codes()["missing-subject"] == 1

    def test_patient_not_in_input(self) -> None:
        """A fact about a patient not in the input makes a record with only the id."""
        result = read([condition(subject=ref("Patient", "elsewhere"))])
        [record] = result.records

        assert record.patient.id == "elsewhere"
        assert len(record.conditions) == 1
        assert result.issue_codes()["dangling-reference"] == 1

    def test_unresolvable_urn_subject(self) -> None:
        """A urn:uuid subject that resolves to nothing is a missing subject."""
        result = read([patient(), condition(subject={"reference": "urn:uuid:nothing"})])

        assert result.issue_codes()["missing-subject"] == 1


class TestReferences:
    """References resolve across the input; dangling ones are warnings."""

    def test_dangling_practitioner_is_kept(self) -> None:
        """A reference to a practitioner not in the input is kept, with a warning."""
        result = read_bundle(condition(recorder=ref("Practitioner", "nobody")))

        assert result.records[0].conditions[0].author == Ref("Practitioner", "nobody")
        assert result.issue_codes()["dangling-reference"] == 1
        assert result.records[0].practitioners == ()

    def test_across_documents(self) -> None:
        """A reference resolves to a resource in another document of the same input."""
        result = read([bundle(patient()), bundle(condition())])

        assert len(result.records[0].conditions) == 1

    def test_duplicate_resource(self) -> None:
        """The same resource twice for a patient is kept once with a warning."""
        result = read_bundle(condition(), condition())

        assert len(result.records[0].conditions) == 1
        assert result.issue_codes()["duplicate-resource"] == 1

    def test_newer_version_wins(self) -> None:
        """Of two versions, the one with the later lastUpdated is kept."""
        old = condition(meta={"versionId": "1", "lastUpdated": when(9)}, onsetDateTime="2001")
        new = condition(meta={"versionId": "2", "lastUpdated": when(8)}, onsetDateTime="2002")
        result = read_bundle(new, old)

        assert str(result.records[0].conditions[0].onset) == "2002"
        assert result.issue_codes()["superseded-version"] == 1


# --------------------------------------------------------------------------- mutation fuzzing

_GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2023-02-30",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-14:00",
            "Patient/",
            "urn:uuid:none",
            "#",
            "http://x/Patient/1/_history/2",
        ]
    ),
    st.lists(st.none() | st.text(max_size=3), max_size=2),
    st.dictionaries(
        st.sampled_from(["reference", "coding", "code", "system"]),
        st.text(max_size=3) | st.none(),
        max_size=2,
    ),
)


@functools.cache
def _corpus() -> tuple[tuple[str, str], ...]:
    """Small real documents (under 120 kB) from every shared data folder."""
    found: list[tuple[str, str]] = []
    for folder in ("synthea-smart-r4", "fhir-r4-examples", "fhir-r5-examples", "davinci-deqm"):
        files = sorted(Path(shared_data_dir(folder)).glob("*.json"))
        small = [f for f in files if f.stat().st_size < 120_000]
        found.extend(
            (f.name, f.read_text(encoding="utf-8")) for f in small[:: max(1, len(small) // 25)]
        )
    return tuple(found)


def _slots(node: Any, found: list[tuple[Any, Any]]) -> None:
    stack = [node]
    while stack:
        here = stack.pop()
        if isinstance(here, dict):
            for key, value in here.items():
                found.append((here, key))
                stack.append(value)
        elif isinstance(here, list):
            for index, value in enumerate(here):
                found.append((here, index))
                stack.append(value)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A shared document with random keys deleted and values replaced by garbage.

    Places are picked uniformly (through a Hypothesis-seeded ``Random``), so every part of
    a document is as likely to break as its first keys.
    """
    rng = draw(st.randoms(use_true_random=False))
    _name, text = rng.choice(_corpus())
    document = json.loads(text)
    for _ in range(rng.randint(1, 12)):
        slots: list[tuple[Any, Any]] = []
        _slots(document, slots)
        if not slots:
            break
        parent, key = rng.choice(slots)
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[key]
        else:
            parent[key] = copy.deepcopy(draw(_GARBAGE))
    return document


class TestMutatedRealData:
    """Randomly broken real documents: nothing escapes (lenient), only carecoord errors (strict)."""

    @pytest.fixture(autouse=True)
    def _shared_data(self) -> None:
        """Skip (or fail, when required) before Hypothesis starts if the data is absent."""
        _corpus()

    @settings(max_examples=60, deadline=None)
    @given(document=mutated())
    def test_lenient_never_raises(self, document: Any) -> None:
        """Lenient read of a mutated document raises nothing."""
        read(document)

    @settings(max_examples=60, deadline=None)
    @given(document=mutated())
    def test_strict_raises_only_carecoord_errors(self, document: Any) -> None:
        """Strict read of a mutated document raises at most a carecoord error."""
        with contextlib.suppress(CarecoordError):
            read(document, strict=True)

    @settings(max_examples=40, deadline=None)
    @given(document=mutated(), cut=st.floats(0, 1))
    def test_truncated_json_text(self, document: Any, cut: float) -> None:
        """Truncated JSON text is an issue in lenient mode and a carecoord error in strict."""
        text = json.dumps(document)
        data = text[: int(len(text) * cut)].encode()
        read(data)
        with contextlib.suppress(CarecoordError):
            read(data, strict=True)


class TestHugeTimings:
    """A dosage timing with an absurd frequency or period is no frequency, never a crash."""

    def test_a_huge_frequency_reads_as_none(self) -> None:
        """10**400 doses every 4 hours overflows float arithmetic: it is not a frequency."""
        from carecoord.fhir._codes import frequency_text

        assert frequency_text(10**400, 4.0, "h") is None
        assert frequency_text(1, 1e300, "h", as_needed=True) == "PRN"
        assert frequency_text(2, 1.0, "d") == "BID"  # the other side: a real frequency
