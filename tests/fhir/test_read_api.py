"""The read() entry point: inputs, result shape, counts, strict mode, source identity."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from carecoord.errors import CarecoordError, InteropError
from carecoord.fhir._read import FhirImportError, ImportResult, ResourceCounts, read
from carecoord.testing import PATIENT_ID

from .test_read_fixtures import SUBJECT, bundle, patient, read_bundle


def condition(ident: str = "c1", **extra: object) -> dict[str, object]:
    """A minimal valid Condition for the synthetic patient."""
    resource: dict[str, object] = {
        "resourceType": "Condition",
        "id": ident,
        "subject": SUBJECT,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
    }
    resource.update(extra)
    return resource


class TestInputs:
    """Every kind of input gives the same record."""

    def test_dict_bundle(self) -> None:
        """A Bundle given as a dict gives one record for its patient."""
        result = read(bundle(patient(), condition()))

        assert [r.patient.id for r in result.records] == [PATIENT_ID]
        assert len(result.records[0].conditions) == 1

    def test_bytes_and_text(self) -> None:
        """JSON bytes and JSON text read like the dict."""
        document = bundle(patient(), condition())
        as_bytes = read(json.dumps(document).encode())
        as_text = read(json.dumps(document))

        assert as_bytes.records == as_text.records == read(document).records

    def test_iterable_of_single_resources(self) -> None:
        """A list of single resources resolves references between them."""
        result = read([patient(), condition()])

        assert len(result.records) == 1
        assert result.records[0].conditions[0].id == "c1"

    def test_ndjson_gzip_folder(self, tmp_path: Path) -> None:
        """A folder of gzipped NDJSON files (a bulk export) reads across its files."""
        (tmp_path / "Patient.ndjson.gz").write_bytes(gzip.compress(json.dumps(patient()).encode()))
        lines = "\n".join(json.dumps(condition(f"c{i}")) for i in range(3))
        (tmp_path / "Condition.ndjson").write_text(lines)

        result = read(tmp_path)

        assert len(result.records) == 1
        assert {c.id for c in result.records[0].conditions} == {"c0", "c1", "c2"}

    def test_nul_in_path_is_an_interop_error(self) -> None:
        """A string with a NUL character is neither a path nor JSON: InteropError."""
        with pytest.raises(InteropError):
            read("bundle\x00.json")

    def test_missing_path_is_an_interop_error(self, tmp_path: Path) -> None:
        """A path that does not exist raises InteropError (a carecoord error)."""
        with pytest.raises(InteropError):
            read(tmp_path / "absent.json")


class TestResult:
    """The ImportResult: frozen, with counts by type and issue helpers."""

    def test_returns_import_result(self) -> None:
        """read() returns an ImportResult."""
        assert isinstance(read_bundle(), ImportResult)

    def test_counts_add_up(self) -> None:
        """Counts give read, mapped and skipped per resource type."""
        result = read_bundle(condition(), {"resourceType": "Immunization", "id": "i1"})

        assert result.counts["Condition"] == ResourceCounts(1, 1, 0)
        assert result.counts["Immunization"] == ResourceCounts(1, 0, 1)
        assert result.counts["Patient"] == ResourceCounts(1, 1, 0)

    def test_unsupported_type_is_one_warning(self) -> None:
        """Unsupported resources are counted and reported once per type, as a warning."""
        claims = [{"resourceType": "Claim", "id": f"k{i}"} for i in range(3)]
        result = read_bundle(*claims)

        [issue] = [i for i in result.issues if i.code == "unsupported-resource"]
        assert not issue.is_error
        assert "3 Claim" in issue.message

    def test_result_is_frozen(self) -> None:
        """The result cannot be changed, nor its counts."""
        result = read_bundle()

        with pytest.raises(AttributeError):
            result.records = ()  # type: ignore[misc]
        with pytest.raises(TypeError):
            result.counts["X"] = ResourceCounts()  # type: ignore[index]

    def test_record_lookup(self) -> None:
        """record() finds a record by patient id."""
        result = read_bundle()

        assert result.record(PATIENT_ID) is result.records[0]
        assert result.record("nobody") is None

    def test_issue_codes_and_split(self) -> None:
        """issue_codes() counts issues; errors and warnings split them."""
        result = read_bundle(condition(code="not-a-concept"))

        assert result.issue_codes()["wrong-type"] == 1
        assert len(result.errors) + len(result.warnings) == len(result.issues)

    def test_same_input_same_result(self) -> None:
        """Reading is deterministic."""
        document = bundle(patient(), condition(), condition("c2"))

        assert read(document) == read(document)


class TestStrict:
    """Strict mode raises one error listing every issue."""

    def test_strict_raises_once_with_all_issues(self) -> None:
        """Two bad resources give one FhirImportError carrying both issues."""
        bad = [condition("c1", code=None), condition("c2", code=None)]
        with pytest.raises(FhirImportError) as caught:
            read_bundle(*bad, strict=True)

        assert isinstance(caught.value, InteropError)
        assert [i.code for i in caught.value.issues if i.is_error] == ["missing-element"] * 2

    def test_strict_accepts_warnings(self) -> None:
        """Warnings alone do not make strict mode fail."""
        result = read_bundle({"resourceType": "Claim", "id": "k1"}, strict=True)

        assert result.warnings

    def test_lenient_keeps_the_rest(self) -> None:
        """Lenient mode keeps the valid resources and reports the bad one."""
        result = read_bundle(condition("good"), condition("bad", code=None))

        assert [c.id for c in result.records[0].conditions] == ["good"]
        assert result.counts["Condition"] == ResourceCounts(2, 1, 1)

    def test_message_holds_no_values(self) -> None:
        """The strict error message names paths and codes, never the input's values."""
        secret = "Zebediah-Quux"
        bad = condition("c1", code=None, onsetDateTime=secret)
        with pytest.raises(FhirImportError) as caught:
            read_bundle(bad, strict=True)

        assert secret not in str(caught.value)


class TestSourceIdentity:
    """Source ids: given, or derived deterministically."""

    def test_given_source_id(self) -> None:
        """source_id names every record's source."""
        result = read_bundle(source_id="clinic-ehr")

        assert result.records[0].source.id == "clinic-ehr"

    def test_meta_source_first(self) -> None:
        """Bundle meta.source wins."""
        document = bundle(patient())
        document["meta"] = {"source": "https://ehr.example.org"}

        assert read(document).records[0].source.id == "https://ehr.example.org"

    def test_smart_tag(self) -> None:
        """The smarthealthit.org tag gives system|code."""
        tag = {"system": "https://smarthealthit.org/tags", "code": "synthea-x"}
        result = read(bundle(patient(meta={"tag": [tag]})))

        assert result.records[0].source.id == "https://smarthealthit.org/tags|synthea-x"

    def test_mrn_system(self) -> None:
        """Without meta, the Patient MRN identifier's system is the source."""
        assert read(bundle(patient())).records[0].source.id == "urn:example:clinic-mrn"

    def test_folder_name(self, tmp_path: Path) -> None:
        """Without any of those, the file's folder name is the source."""
        folder = tmp_path / "hospital-a"
        folder.mkdir()
        (folder / "p.json").write_text(json.dumps(patient(identifier=[])))

        assert read(folder).records[0].source.id == "hospital-a"

    def test_in_memory_fallback(self) -> None:
        """In-memory input with nothing to go by is fhir-input."""
        assert read(patient(identifier=[])).records[0].source.id == "fhir-input"

    def test_bad_arguments(self) -> None:
        """An empty source_id or a non-tzinfo default_tz is a carecoord error."""
        with pytest.raises(CarecoordError):
            read(patient(), source_id=" ")
        with pytest.raises(CarecoordError):
            read(patient(), default_tz="UTC")  # type: ignore[arg-type]

    def test_bundle_timestamp_is_retrieved_at(self) -> None:
        """Bundle.timestamp becomes Source.retrieved_at."""
        document = bundle(patient())
        document["timestamp"] = "2026-03-01T10:00:00Z"

        retrieved = read(document).records[0].source.retrieved_at
        assert retrieved == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


class TestTimeZones:
    """Date-times without an offset need default_tz."""

    def test_naive_time_without_default_is_dropped(self) -> None:
        """A naive onset is an error and is dropped; the condition stays."""
        result = read_bundle(condition(onsetDateTime="2026-01-02T10:00:00"))

        assert result.records[0].conditions[0].onset is None
        assert result.issue_codes()["naive-datetime"] == 1

    def test_default_tz_reads_naive_times(self) -> None:
        """With default_tz, the naive onset is read in it."""
        tz = dt.timezone(dt.timedelta(hours=-5))
        result = read_bundle(condition(onsetDateTime="2026-01-02T10:00:00"), default_tz=tz)

        assert result.records[0].conditions[0].onset == dt.datetime(2026, 1, 2, 10, tzinfo=tz)
