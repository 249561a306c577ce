"""``fhir.read_bulk``: a Bulk Data export read one patient at a time, as ``fhir.read`` reads it."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from carecoord import fhir
from carecoord.domain import PatientRecord
from carecoord.errors import InteropError, UsageError
from carecoord.fhir._bulk import patient_of
from carecoord.testing import (
    generate_population,
    make_condition,
    make_encounter,
    make_medication,
    make_patient,
    make_record,
    write_bulk_export,
)


def _key(record: PatientRecord) -> tuple[str, str]:
    return (record.source.id, record.patient.id)


def _records(folder: Path, **options: object) -> tuple[list[PatientRecord], fhir.BulkRead]:
    bulk = fhir.read_bulk(folder, **options)  # type: ignore[arg-type]
    return [r for part in bulk for r in part.records], bulk


def _same_as_read(folder: Path, **options: object) -> fhir.BulkRead:
    found, bulk = _records(folder, **options)
    full = fhir.read(folder)
    assert sorted(found, key=_key) == sorted(full.records, key=_key)
    assert dict(bulk.counts) == dict(full.counts)
    assert sorted(map(str, bulk.issues)) == sorted(map(str, full.issues))
    return bulk


def _population_export(folder: Path, people: int, seed: int = 3) -> list[PatientRecord]:
    population = generate_population(people, seed=seed, with_facts=True)
    rich = [
        make_record(
            patient=make_patient(id=f"rich-{n}"),
            conditions=(make_condition(patient=f"rich-{n}"),),
            medications=(make_medication(patient=f"rich-{n}"),),
            encounters=(make_encounter(patient=f"rich-{n}"),),
        )
        for n in range(3)
    ]
    records = [*population.records, *rich]
    write_bulk_export(records, folder)
    return records


def test_records_equal_read_of_the_same_export(tmp_path: Path) -> None:
    """Spilled to many sorted runs, a few hundred patients read as ``fhir.read`` reads them.

    The same records, counts and issues, and the generated records as they were written.
    """
    written = _population_export(tmp_path, 200)
    bulk = _same_as_read(tmp_path, chunk_bytes=20_000)
    assert bulk.runs > 5
    assert bulk.done
    found = {_key(r): r for r in _records(tmp_path)[0]}
    generated = [r for r in written if not r.patient.id.startswith("rich-")]
    assert all(found[_key(r)] == r for r in generated)


def test_one_item_per_patient(tmp_path: Path) -> None:
    """Each item holds one patient's records (of one source here), each patient once."""
    written = _population_export(tmp_path, 30)
    parts = list(fhir.read_bulk(tmp_path))
    assert all(len(part.records) == 1 for part in parts)
    assert len(parts) == len({_key(p.records[0]) for p in parts}) == len(written)


def test_shared_parties_reach_every_patient(tmp_path: Path) -> None:
    """Practitioners written once per export reach each record naming them."""
    records = [
        make_record(patient=make_patient(id=f"p{n}"), conditions=(make_condition(patient=f"p{n}"),))
        for n in range(4)
    ]
    write_bulk_export(records, tmp_path)
    found, _ = _records(tmp_path)
    assert len(found) == 4
    assert all(r.practitioners for r in found)
    _same_as_read(tmp_path)


def _line(resource: dict[str, object]) -> str:
    return json.dumps(resource) + "\n"


def test_resource_naming_no_patient_joins_the_patient_of_its_target(tmp_path: Path) -> None:
    """A Provenance naming only a Condition reaches that Condition's patient.

    The external join finds it; one pointing at nothing is still read, with its issues.
    """
    (tmp_path / "Patient.ndjson").write_text(
        _line({"resourceType": "Patient", "id": "a"})
        + _line({"resourceType": "Patient", "id": "b"})
    )
    (tmp_path / "Condition.ndjson").write_text(
        _line(
            {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/b"},
                "code": {"text": "x"},
            }
        )
    )
    (tmp_path / "Practitioner.ndjson").write_text(
        _line({"resourceType": "Practitioner", "id": "d"})
    )
    (tmp_path / "Provenance.ndjson").write_text(
        _line(
            {
                "resourceType": "Provenance",
                "id": "v1",
                "target": [{"reference": "Condition/c1"}],
                "recorded": "2020-01-01T00:00:00Z",
                "agent": [{"who": {"reference": "Practitioner/d"}}],
            }
        )
        + _line(
            {
                "resourceType": "Provenance",
                "id": "v2",
                "target": [{"reference": "Condition/missing"}],
                "recorded": "2020-01-01T00:00:00Z",
                "agent": [{"who": {"reference": "Practitioner/d"}}],
            }
        )
    )
    _same_as_read(tmp_path, chunk_bytes=100)
    found, _ = _records(tmp_path)
    b = next(r for r in found if r.patient.id == "b")
    assert b.conditions[0].author is not None


def test_bad_lines_are_issues_and_the_rest_is_read(tmp_path: Path) -> None:
    """Invalid JSON and non-object lines are issues with their line; other lines are read."""
    (tmp_path / "Patient.ndjson").write_text(
        _line({"resourceType": "Patient", "id": "a"}) + "{not json\n\n[1, 2]\n"
    )
    bulk = _same_as_read(tmp_path)
    codes = bulk.result().issue_codes()
    assert codes[fhir.IssueCode.INVALID_JSON] == 1
    assert codes[fhir.IssueCode.NOT_AN_OBJECT] == 1


def test_gzip_files_are_streamed(tmp_path: Path) -> None:
    """``.ndjson.gz`` files are read like the plain ones."""
    import gzip

    plain = tmp_path / "plain"
    _population_export(plain, 20)
    zipped = tmp_path / "zipped"
    for file in plain.rglob("*.ndjson"):
        target = zipped / file.relative_to(plain).with_suffix(".ndjson.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(file.read_bytes()))
    a, _ = _records(plain)
    b, _ = _records(zipped)
    assert sorted(a, key=_key) == sorted(b, key=_key)


def test_a_line_over_the_limit_is_an_issue(tmp_path: Path) -> None:
    """``Limits.max_file_bytes`` bounds one line: a longer one is skipped with an issue."""
    (tmp_path / "Patient.ndjson").write_text(
        _line({"resourceType": "Patient", "id": "a", "x": "y" * 500})
        + _line({"resourceType": "Patient", "id": "b"})
    )
    found, bulk = _records(tmp_path, limits=fhir.Limits(max_file_bytes=200))
    assert [r.patient.id for r in found] == ["b"]
    assert bulk.result().issue_codes() == {fhir.IssueCode.LIMIT_EXCEEDED: 1}


def _peak(folder: Path) -> int:
    tracemalloc.start()
    try:
        for _part in fhir.read_bulk(folder, chunk_bytes=50_000):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_export(tmp_path: Path) -> None:
    """Four times the patients: the export is four times larger, the peak is not."""
    small, large = tmp_path / "small", tmp_path / "large"
    _population_export(small, 100, seed=5)
    _population_export(large, 400, seed=6)
    size_small = sum(f.stat().st_size for f in small.rglob("*.ndjson"))
    size_large = sum(f.stat().st_size for f in large.rglob("*.ndjson"))
    assert size_large > 3.5 * size_small
    peak_small, peak_large = _peak(small), _peak(large)
    assert peak_large < 1.5 * peak_small
    assert peak_large < size_large / 5


def test_result_before_the_end_is_a_usage_error(tmp_path: Path) -> None:
    """``result()`` needs a finished iteration; a second iteration is refused."""
    _population_export(tmp_path, 3)
    bulk = fhir.read_bulk(tmp_path)
    with pytest.raises(UsageError):
        bulk.result()
    list(bulk)
    assert bulk.result().records == ()
    with pytest.raises(UsageError):
        list(bulk)


def test_closing_early_removes_temporary_files(tmp_path: Path) -> None:
    """Leaving the ``with`` block mid-iteration removes the temporary runs."""
    data, temp = tmp_path / "data", tmp_path / "temp"
    temp.mkdir()
    _population_export(data, 40)
    with fhir.read_bulk(data, chunk_bytes=5_000, temp_dir=temp) as bulk:
        parts = iter(bulk)
        next(parts)
        assert any(temp.iterdir())
    assert not any(temp.iterdir())


def test_bad_arguments(tmp_path: Path) -> None:
    """A missing folder, a file, a wrong-typed or blank option: clear errors."""
    with pytest.raises(InteropError):
        fhir.read_bulk(tmp_path / "missing")
    with pytest.raises(UsageError):
        fhir.read_bulk(42)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        fhir.read_bulk(tmp_path, chunk_bytes=0)
    with pytest.raises(InteropError):
        fhir.read_bulk(tmp_path, source_id=" ")


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"resourceType": "Patient", "id": "p"}, "p"),
        ({"resourceType": "Condition", "subject": {"reference": "Patient/p"}}, "p"),
        ({"resourceType": "Claim", "patient": {"reference": "https://x.org/fhir/Patient/p"}}, "p"),
        ({"resourceType": "Task", "for": {"reference": "Patient/p/_history/2"}}, "p"),
        ({"resourceType": "Coverage", "beneficiary": {"reference": "Patient/p"}}, "p"),
        (
            {
                "resourceType": "Appointment",
                "participant": [
                    {"actor": {"reference": "Practitioner/d"}},
                    {"actor": {"reference": "Patient/p"}},
                ],
            },
            "p",
        ),
        ({"resourceType": "Provenance", "target": [{"reference": "Patient/p"}]}, "p"),
        ({"resourceType": "Provenance", "target": [{"reference": "Condition/c"}]}, None),
        ({"resourceType": "Condition", "subject": {"reference": "Group/g"}}, None),
        ({"resourceType": "Organization", "id": "o"}, None),
    ],
)
def test_patient_of(resource: dict[str, object], expected: str | None) -> None:
    """The patient a resource belongs to, from its own references."""
    assert patient_of(resource) == expected
