"""Reading FHIR JSON input and flattening Bundles (carecoord.fhir._input)."""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from carecoord.errors import InteropError, Problem, UsageError
from carecoord.errors import IssueSeverity as Severity
from carecoord.fhir import _input
from carecoord.fhir._input import FlatResource, iter_documents, iter_resources
from carecoord.fhir._issues import ImportIssue, IssueCode, IssueLog

from . import _shared
from ._shared import shared_data_dir


def _backends() -> list[Any]:
    """The stdlib json parser, plus orjson when it is installed (it is optional)."""
    params: list[Any] = [pytest.param(_input._json_loads, id="json")]
    if importlib.util.find_spec("orjson") is not None:
        params.append(pytest.param(importlib.import_module("orjson").loads, id="orjson"))
    return params


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the test once with the stdlib json parser and once with orjson (if installed)."""
    loads: Callable[[bytes], Any] = request.param
    monkeypatch.setattr(_input, "_loads", loads)


def docs(source: Any, issues: IssueLog | None = None) -> list[tuple[str, dict[str, Any]]]:
    """All documents of ``source`` as a list, files labelled by their names."""
    log = issues if issues is not None else IssueLog()
    return list(iter_documents(source, issues=log, name_files=True))


def flat(*documents: dict[str, Any], issues: IssueLog | None = None) -> list[FlatResource]:
    """Flatten in-memory documents labelled ``doc0``, ``doc1``..."""
    log = issues if issues is not None else IssueLog()
    return list(iter_resources([(f"doc{i}", d) for i, d in enumerate(documents)], issues=log))


PATIENT = {"resourceType": "Patient", "id": "p1"}
SECRET = "Zebediah-Quux"  # stands in for patient data that must never reach a message


class TestImportIssue:
    """The issue record and the log that collects issues."""

    def test_defaults_and_str(self) -> None:
        """An issue defaults to an error from <input> and prints source, path and code."""
        issue = ImportIssue("Patient.birthDate", IssueCode.INVALID_DATE, "bad date")
        assert issue.severity == Severity.ERROR
        assert issue.source == "<input>"
        assert issue.is_error
        assert str(issue) == "<input>: Patient.birthDate: error: bad date [invalid-date]"

    def test_rejects_unknown_severity(self) -> None:
        """Severity is either error or warning."""
        with pytest.raises(ValueError, match="severity"):
            ImportIssue("", "x", "m", "fatal")

    def test_to_problem(self) -> None:
        """An issue converts to an errors.Problem with the code in the message."""
        issue = ImportIssue("Bundle.entry[0]", "wrong-type", "not an object")
        assert issue.to_problem() == Problem("Bundle.entry[0]", "not an object [wrong-type]")

    def test_log_collects_in_order(self) -> None:
        """The log keeps issues in order and splits errors from warnings."""
        log = IssueLog()
        first = log.add("a", "c1", "m1")
        log.append(ImportIssue("b", "c2", "m2", Severity.WARNING))
        log.extend([ImportIssue("c", "c1", "m3")])
        assert [i.path for i in log] == ["a", "b", "c"]
        assert len(log) == 3
        assert log.errors == (first, ImportIssue("c", "c1", "m3"))
        assert [i.path for i in log.warnings] == ["b"]
        assert log.has_errors
        assert [i.path for i in log.with_code("c1")] == ["a", "c"]
        assert not IssueLog().has_errors


@pytest.mark.usefixtures("backend")
class TestInMemoryInput:
    """Dicts, iterables, bytes and str JSON text, NDJSON text."""

    def test_dict_is_one_document(self) -> None:
        """A dict is one resource, labelled <input>, passed through as the same object."""
        resource = dict(PATIENT)
        [(label, document)] = docs(resource)
        assert label == "<input>"
        assert document is resource

    def test_other_mapping_becomes_dict(self) -> None:
        """Any mapping is accepted and converted to a plain dict."""
        [(_, document)] = docs(MappingProxyType(PATIENT))
        assert type(document) is dict
        assert document == PATIENT

    def test_iterable_of_dicts(self) -> None:
        """An iterable of dicts gives one document each, labelled <input>[i]."""
        result = docs(iter([PATIENT, {"resourceType": "Group"}]))
        assert [label for label, _ in result] == ["<input>[0]", "<input>[1]"]

    def test_iterable_item_not_object(self) -> None:
        """A non-dict item in an iterable is a not-an-object issue; the rest are read."""
        issues = IssueLog()
        result = docs([PATIENT, 42, [PATIENT]], issues)
        assert len(result) == 1
        assert [(i.code, i.source) for i in issues] == [
            (IssueCode.NOT_AN_OBJECT, "<input>[1]"),
            (IssueCode.NOT_AN_OBJECT, "<input>[2]"),
        ]

    @pytest.mark.parametrize(
        "text",
        [
            b'{"resourceType": "Patient", "id": "p1"}',
            bytearray(b'{"resourceType": "Patient", "id": "p1"}'),
            '  \n {"resourceType": "Patient", "id": "p1"}',
            b'\xef\xbb\xbf{"resourceType": "Patient", "id": "p1"}',
        ],
        ids=["bytes", "bytearray", "str-leading-space", "utf8-bom"],
    )
    def test_json_text(self, text: bytes | str) -> None:
        """Bytes, and a str starting with { after whitespace, are JSON text (BOM allowed)."""
        assert docs(text) == [("<input>", PATIENT)]

    def test_unicode_text(self) -> None:
        """Non-ASCII text is decoded as UTF-8."""
        [(_, document)] = docs('{"resourceType": "Patient", "name": [{"text": "Zoë Ñandú"}]}')
        assert document["name"][0]["text"] == "Zoë Ñandú"

    def test_ndjson_text(self) -> None:
        """Several lines each holding an object are NDJSON; labels carry line numbers."""
        text = '{"resourceType": "Patient", "id": "a"}\n\n{"resourceType": "Patient", "id": "b"}\n'
        result = docs(text)
        assert [(label, d["id"]) for label, d in result] == [("<input>:1", "a"), ("<input>:3", "b")]

    def test_ndjson_bad_line_is_reported_and_skipped(self) -> None:
        """A malformed NDJSON line is an invalid-json issue naming its line; others are read."""
        text = (
            b'{"resourceType": "Patient", "id": "a"}\r\n'
            b'{"resourceType": "Patient", "name": "' + SECRET.encode() + b'"\n'
            b"[1, 2]\n"
            b'{"resourceType": "Patient", "id": "c"}\n'
        )
        issues = IssueLog()
        result = docs(text, issues)
        assert [d["id"] for _, d in result] == ["a", "c"]
        assert [(i.code, i.source) for i in issues] == [
            (IssueCode.INVALID_JSON, "<input>:2"),
            (IssueCode.NOT_AN_OBJECT, "<input>:3"),
        ]
        assert "line 2" in issues.errors[0].message
        assert all(SECRET not in i.message for i in issues)

    def test_malformed_json(self) -> None:
        """Malformed JSON is one invalid-json issue with line and column, and no document."""
        issues = IssueLog()
        text = '{\n  "resourceType": "Patient",\n  "name": "' + SECRET + '" "x"\n}'
        assert docs(text, issues) == []
        [issue] = issues
        assert issue.code == IssueCode.INVALID_JSON
        assert issue.severity == Severity.ERROR
        assert issue.path == ""
        assert "line 3" in issue.message
        assert SECRET not in issue.message

    def test_pretty_printed_broken_json_is_not_taken_for_ndjson(self) -> None:
        """A broken multi-line document gives one issue, not one per line."""
        issues = IssueLog()
        assert docs(b'{\n"resourceType": "Patient",\n"id": \n}\n', issues) == []
        assert len(issues) == 1

    def test_invalid_utf8(self) -> None:
        """Bytes that are not UTF-8 are an invalid-json issue."""
        issues = IssueLog()
        assert docs(b'{"resourceType": "Patient", "id": "\xff\xfe"}', issues) == []
        assert [i.code for i in issues] == [IssueCode.INVALID_JSON]

    @pytest.mark.parametrize(
        ("text", "kind"),
        [("[1, 2]", "an array"), (b"42", "a number"), (b'"x"', "a string"), (b"null", "null")],
    )
    def test_top_level_not_object(self, text: str | bytes, kind: str) -> None:
        """A top level that is not an object is a not-an-object issue naming its JSON type."""
        issues = IssueLog()
        assert docs(text, issues) == []
        [issue] = issues
        assert issue.code == IssueCode.NOT_AN_OBJECT
        assert kind in issue.message

    def test_empty_bytes(self) -> None:
        """Empty JSON text is an invalid-json issue."""
        issues = IssueLog()
        assert docs(b"  \n", issues) == []
        assert [i.code for i in issues] == [IssueCode.INVALID_JSON]

    @pytest.mark.parametrize("source", [42, 1.5, None, object()])
    def test_unsupported_type_raises(self, source: object) -> None:
        """An input of an unsupported type is misuse: UsageError, also a TypeError."""
        with pytest.raises(UsageError, match="cannot read FHIR input"):
            docs(source)

    @pytest.mark.parametrize("source", ["", "   "])
    def test_empty_string_raises(self, source: str) -> None:
        """An empty string is neither a path nor JSON text."""
        with pytest.raises(InteropError, match="empty string"):
            docs(source)

    def test_text_that_is_not_json_is_a_path(self) -> None:
        """A str not starting with { or [ is a path; a missing one raises InteropError."""
        with pytest.raises(InteropError, match="no such file or directory"):
            docs("resourceType: Patient")


@pytest.mark.usefixtures("backend")
class TestFileInput:
    """Files and folders: .json, .ndjson, gzip, recursion, order and errors."""

    @staticmethod
    def write(path: Path, *resources: dict[str, Any], ndjson: bool = False) -> Path:
        """Write resources as JSON (one) or NDJSON (several), gzip when the name ends .gz."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if ndjson:
            data = "".join(json.dumps(r) + "\n" for r in resources).encode()
        else:
            [resource] = resources
            data = json.dumps(resource, indent=2).encode()
        path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
        return path

    def test_single_file_path_and_str(self, tmp_path: Path) -> None:
        """A file given as Path or str is read; its label is the path as given."""
        file = self.write(tmp_path / "p.json", PATIENT)
        assert docs(file) == [(str(file), PATIENT)]
        assert docs(str(file)) == [(str(file), PATIENT)]

    def test_explicit_file_with_other_suffix(self, tmp_path: Path) -> None:
        """A file named explicitly is read whatever its suffix."""
        file = tmp_path / "export.txt"
        file.write_text(json.dumps(PATIENT))
        assert docs(file) == [(str(file), PATIENT)]

    def test_folder_recursive_sorted_filtered(self, tmp_path: Path) -> None:
        """A folder is walked recursively in sorted order, only JSON/NDJSON (gz) files."""
        self.write(tmp_path / "b.json", {"resourceType": "Patient", "id": "b"})
        self.write(tmp_path / "a" / "z.ndjson", {"resourceType": "Patient", "id": "z"}, ndjson=True)
        self.write(tmp_path / "a" / "y.json.gz", {"resourceType": "Patient", "id": "y"})
        self.write(
            tmp_path / "c.ndjson.gz",
            {"resourceType": "Patient", "id": "c1"},
            {"resourceType": "Patient", "id": "c2"},
            ndjson=True,
        )
        (tmp_path / "notes.txt").write_text("not FHIR")
        (tmp_path / "MANIFEST.tsv").write_text("a\tb\n")
        issues = IssueLog()
        result = docs(tmp_path, issues)
        assert [(label, d["id"]) for label, d in result] == [
            ("a/y.json.gz", "y"),
            ("a/z.ndjson:1", "z"),
            ("b.json", "b"),
            ("c.ndjson.gz:1", "c1"),
            ("c.ndjson.gz:2", "c2"),
        ]
        assert len(issues) == 0

    def test_ndjson_file_bad_line(self, tmp_path: Path) -> None:
        """In an .ndjson file a bad line is reported with its line number and file name."""
        file = tmp_path / "bulk.ndjson"
        file.write_text('{"resourceType": "Patient", "id": "a"}\n{"resourceType": \n')
        issues = IssueLog()
        result = docs(tmp_path, issues)
        assert [label for label, _ in result] == ["bulk.ndjson:1"]
        [issue] = issues
        assert issue.code == IssueCode.INVALID_JSON
        assert issue.source == "bulk.ndjson:2"
        assert "line 2" in issue.message

    def test_ndjson_in_json_file_is_detected(self, tmp_path: Path) -> None:
        """NDJSON saved with a .json suffix is still read line by line."""
        file = self.write(tmp_path / "x.json", PATIENT, PATIENT, ndjson=True)
        assert [label for label, _ in docs(file)] == [f"{file}:1", f"{file}:2"]

    def test_single_line_ndjson_file(self, tmp_path: Path) -> None:
        """An .ndjson file with one object (and no newline at the end) gives it."""
        file = tmp_path / "one.ndjson"
        file.write_text(json.dumps(PATIENT))
        assert docs(file) == [(f"{file}:1", PATIENT)]

    def test_empty_files(self, tmp_path: Path) -> None:
        """An empty .ndjson file is simply empty; an empty .json file is an issue."""
        (tmp_path / "a.ndjson").write_bytes(b"")
        (tmp_path / "b.json").write_bytes(b"")
        issues = IssueLog()
        assert docs(tmp_path, issues) == []
        assert [(i.code, i.source) for i in issues] == [(IssueCode.INVALID_JSON, "b.json")]

    def test_corrupt_gzip_is_an_issue(self, tmp_path: Path) -> None:
        """A corrupt or truncated .gz file is an invalid-gzip issue; other files are read."""
        (tmp_path / "a.json.gz").write_bytes(b"this is not gzip")
        whole = gzip.compress(json.dumps(PATIENT).encode())
        (tmp_path / "b.json.gz").write_bytes(whole[: len(whole) // 2])
        self.write(tmp_path / "c.json", PATIENT)
        issues = IssueLog()
        assert [label for label, _ in docs(tmp_path, issues)] == ["c.json"]
        assert [(i.code, i.source) for i in issues] == [
            (IssueCode.INVALID_GZIP, "a.json.gz"),
            (IssueCode.INVALID_GZIP, "b.json.gz"),
        ]

    def test_gzip_by_magic_bytes(self, tmp_path: Path) -> None:
        """A gzip file is recognised by its magic bytes even without a .gz suffix."""
        file = tmp_path / "p.json"
        file.write_bytes(gzip.compress(json.dumps(PATIENT).encode()))
        assert docs(file) == [(str(file), PATIENT)]

    def test_bad_json_file_among_good_ones(self, tmp_path: Path) -> None:
        """A malformed file is reported under its name and reading goes on."""
        (tmp_path / "a.json").write_text('{"resourceType": ')
        self.write(tmp_path / "b.json", PATIENT)
        issues = IssueLog()
        assert [label for label, _ in docs(tmp_path, issues)] == ["b.json"]
        assert [(i.code, i.source) for i in issues] == [(IssueCode.INVALID_JSON, "a.json")]

    def test_missing_path_raises(self, tmp_path: Path) -> None:
        """A path that does not exist raises InteropError naming it."""
        missing = tmp_path / "nowhere" / "x.json"
        with pytest.raises(InteropError, match=r"no such file or directory: .*nowhere"):
            docs(missing)
        with pytest.raises(InteropError, match="no such file"):
            docs(str(missing))

    def test_empty_folder(self, tmp_path: Path) -> None:
        """An empty folder gives nothing and no issue."""
        issues = IssueLog()
        assert docs(tmp_path, issues) == []
        assert len(issues) == 0

    def test_a_path_holding_braces_is_a_path(self, tmp_path: Path) -> None:
        """A str path with braces in it (not at its start) is read as that file."""
        file = tmp_path / "{odd}.json"
        file.write_text(json.dumps(PATIENT))
        assert docs(str(file)) == [(str(file), PATIENT)]


def bundle(bundle_type: str | None, *entries: object, **extra: Any) -> dict[str, Any]:
    """A Bundle of ``bundle_type`` with the given entries."""
    result: dict[str, Any] = {"resourceType": "Bundle", "entry": list(entries), **extra}
    if bundle_type is not None:
        result["type"] = bundle_type
    return result


def entry(resource: object = None, full_url: object = None, **extra: Any) -> dict[str, Any]:
    """A Bundle entry."""
    result: dict[str, Any] = dict(extra)
    if full_url is not None:
        result["fullUrl"] = full_url
    if resource is not None:
        result["resource"] = resource
    return result


class TestIterResources:
    """Flattening documents into (path, resource, fullUrl, source)."""

    def test_single_resource(self) -> None:
        """A plain resource is yielded as is, with its type as path and no fullUrl."""
        assert flat(PATIENT) == [FlatResource("Patient", PATIENT, None, "doc0")]

    def test_flat_resource_fields(self) -> None:
        """Items unpack as (path, resource, full_url, source)."""
        [(path, resource, full_url, source)] = flat(bundle("collection", entry(PATIENT, "u:1")))
        assert (path, resource, full_url, source) == (
            "Bundle.entry[0].resource",
            PATIENT,
            "u:1",
            "doc0",
        )

    @pytest.mark.parametrize(
        "bundle_type",
        [
            "transaction",
            "collection",
            "searchset",
            "document",
            "message",
            "batch",
            "history",
            "subscription-notification",
            "transaction-response",
            None,
        ],
    )
    def test_every_bundle_type_is_flattened(self, bundle_type: str | None) -> None:
        """Bundles of any type give their entries' resources with paths and fullUrls."""
        other = {"resourceType": "Observation", "id": "o1"}
        issues = IssueLog()
        result = flat(
            bundle(
                bundle_type, entry(PATIENT, "urn:uuid:a"), entry(other, "http://x/Observation/o1")
            ),
            issues=issues,
        )
        assert [(r.path, r.resource["resourceType"], r.full_url) for r in result] == [
            ("Bundle.entry[0].resource", "Patient", "urn:uuid:a"),
            ("Bundle.entry[1].resource", "Observation", "http://x/Observation/o1"),
        ]
        assert len(issues) == 0

    def test_nested_bundles_are_flattened(self) -> None:
        """A Bundle inside an entry is flattened recursively, in document order."""
        inner = bundle("searchset", entry({"resourceType": "Patient", "id": "in"}, "u:in"))
        outer = bundle(
            "transaction-response",
            entry({"resourceType": "Patient", "id": "a"}, "u:a"),
            entry(inner, "u:bundle"),
            entry({"resourceType": "Patient", "id": "z"}, "u:z"),
        )
        assert [(r.path, r.resource["id"], r.full_url) for r in flat(outer)] == [
            ("Bundle.entry[0].resource", "a", "u:a"),
            ("Bundle.entry[1].resource.entry[0].resource", "in", "u:in"),
            ("Bundle.entry[2].resource", "z", "u:z"),
        ]

    def test_very_deep_nesting_does_not_recurse(self) -> None:
        """Thousands of nested Bundles do not exhaust the recursion limit."""
        document: dict[str, Any] = PATIENT
        for _ in range(5000):
            document = bundle("collection", entry(document))
        [result] = flat(document)
        assert result.resource is PATIENT
        assert result.path.count(".entry[0].resource") == 5000

    @pytest.mark.parametrize(
        ("bundle_type", "extra"),
        [
            ("transaction", {"request": {"method": "DELETE", "url": "Patient/1"}}),
            ("batch", {"request": {"method": "GET", "url": "Patient/1"}}),
            ("transaction-response", {"response": {"status": "204"}}),
            ("history", {"request": {"method": "DELETE"}, "response": {"status": "200"}}),
            ("history", {}),
            ("subscription-notification", {}),
            ("collection", {"response": {"status": "200"}}),
        ],
    )
    def test_entry_without_resource_allowed(self, bundle_type: str, extra: dict[str, Any]) -> None:
        """Where an entry may lack a resource it is skipped with a warning."""
        issues = IssueLog()
        assert flat(bundle(bundle_type, entry(**extra), entry(PATIENT)), issues=issues)[0].path == (
            "Bundle.entry[1].resource"
        )
        [issue] = issues
        assert (issue.code, issue.severity, issue.path, issue.source) == (
            IssueCode.MISSING_RESOURCE,
            Severity.WARNING,
            "Bundle.entry[0]",
            "doc0",
        )

    @pytest.mark.parametrize("bundle_type", ["collection", "document", "message", "searchset"])
    def test_entry_without_resource_is_an_error(self, bundle_type: str) -> None:
        """Where every entry needs a resource, a missing one is an error."""
        issues = IssueLog()
        assert flat(bundle(bundle_type, entry(full_url="urn:uuid:x")), issues=issues) == []
        [issue] = issues
        assert (issue.code, issue.severity) == (IssueCode.MISSING_RESOURCE, Severity.ERROR)

    def test_malformed_entries(self) -> None:
        """Bad entries are skipped with issues; the good ones are kept."""
        issues = IssueLog()
        result = flat(
            bundle(
                "collection",
                "not an entry",
                entry(["not", "a", "resource"]),
                entry({"id": "no-type"}),
                entry(PATIENT, full_url=17),
            ),
            issues=issues,
        )
        assert [(r.path, r.full_url) for r in result] == [("Bundle.entry[3].resource", None)]
        assert [(i.path, i.code, i.severity) for i in issues] == [
            ("Bundle.entry[0]", IssueCode.WRONG_TYPE, Severity.ERROR),
            ("Bundle.entry[1].resource", IssueCode.WRONG_TYPE, Severity.ERROR),
            ("Bundle.entry[2].resource", IssueCode.MISSING_RESOURCE_TYPE, Severity.ERROR),
            ("Bundle.entry[3].fullUrl", IssueCode.WRONG_TYPE, Severity.WARNING),
        ]

    def test_entry_not_a_list(self) -> None:
        """Bundle.entry that is not an array is a wrong-type issue."""
        issues = IssueLog()
        assert (
            flat({"resourceType": "Bundle", "type": "collection", "entry": {}}, issues=issues) == []
        )
        assert [(i.path, i.code) for i in issues] == [("Bundle.entry", IssueCode.WRONG_TYPE)]

    def test_empty_bundle(self) -> None:
        """A Bundle without entries gives nothing, silently."""
        issues = IssueLog()
        assert (
            flat({"resourceType": "Bundle", "type": "searchset", "total": 0}, issues=issues) == []
        )
        assert len(issues) == 0

    def test_document_without_resource_type(self) -> None:
        """A top-level object without resourceType is reported under its source."""
        issues = IssueLog()
        assert flat({"id": "x"}, PATIENT, issues=issues) == [
            FlatResource("Patient", PATIENT, None, "doc1"),
        ]
        assert [(i.code, i.source, i.path) for i in issues] == [
            (IssueCode.MISSING_RESOURCE_TYPE, "doc0", ""),
        ]

    def test_parameters_with_resources_are_unwrapped(self) -> None:
        """A Parameters holding resources (as $care-gaps returns) gives those resources."""
        parameters = {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "return", "resource": bundle("document", entry(PATIENT, "urn:uuid:p"))},
                {"name": "count", "valueInteger": 1},
                {"name": "nested", "part": [{"name": "x", "resource": {"resourceType": "Group"}}]},
            ],
        }
        result = flat(parameters)
        assert [(r.path, r.resource["resourceType"], r.full_url) for r in result] == [
            ("Parameters.parameter[0].resource.entry[0].resource", "Patient", "urn:uuid:p"),
            ("Parameters.parameter[2].part[0].resource", "Group", None),
        ]

    def test_parameters_kept_when_not_unwrapping_or_without_resources(self) -> None:
        """A Parameters without resources, or with unwrap_parameters=False, is yielded whole."""
        plain = {"resourceType": "Parameters", "parameter": [{"name": "a", "valueString": "b"}]}
        assert flat(plain)[0].resource is plain
        holding = {"resourceType": "Parameters", "parameter": [{"name": "r", "resource": PATIENT}]}
        kept = list(iter_resources([("x", holding)], issues=IssueLog(), unwrap_parameters=False))
        assert [r.resource for r in kept] == [holding]

    def test_lazy(self) -> None:
        """Flattening is lazy: documents are pulled one at a time."""
        pulled: list[int] = []

        def documents() -> Iterator[tuple[str, dict[str, Any]]]:
            for i in range(3):
                pulled.append(i)
                yield f"d{i}", PATIENT

        first = next(iter_resources(documents(), issues=IssueLog()))
        assert first.source == "d0"
        assert pulled == [0]


class TestBackend:
    """Choosing the JSON parser."""

    def test_falls_back_to_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without orjson the standard json module is used."""

        def no_orjson(name: str) -> Any:
            raise ImportError(name)

        monkeypatch.setattr(importlib, "import_module", no_orjson)
        assert _input._pick_loads() == ("json", _input._json_loads)

    def test_backend_name(self) -> None:
        """JSON_BACKEND names the parser picked at import time."""
        expected = "orjson" if importlib.util.find_spec("orjson") else "json"
        assert expected == _input.JSON_BACKEND


class TestSharedDataHelper:
    """tests/fhir/_shared.py skips, or fails when required, without the shared data."""

    def test_skips_when_absent(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A missing folder skips the test, with a message naming the folder."""
        monkeypatch.setattr(_shared, "SHARED_DATA", tmp_path / "absent")
        monkeypatch.delenv(_shared.REQUIRE_ENV, raising=False)
        with pytest.raises(pytest.skip.Exception, match="absent"):
            shared_data_dir()

    def test_fails_when_required(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """With CARECOORD_REQUIRE_SHARED_DATA=1 a missing folder fails the test."""
        monkeypatch.setattr(_shared, "SHARED_DATA", tmp_path / "absent")
        monkeypatch.setenv(_shared.REQUIRE_ENV, "1")
        with pytest.raises(pytest.fail.Exception, match="CARECOORD_REQUIRE_SHARED_DATA"):
            shared_data_dir("synthea-smart-r4")

    def test_present(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A present folder (or subfolder) is returned."""
        (tmp_path / "sub").mkdir()
        monkeypatch.setattr(_shared, "SHARED_DATA", tmp_path)
        assert shared_data_dir() == tmp_path
        assert shared_data_dir("sub") == tmp_path / "sub"

    def test_location(self) -> None:
        """The folder is shared/data beside the repository."""
        repository = Path(__file__).resolve().parents[2]
        assert repository.parent / "shared" / "data" == _shared.SHARED_DATA


class TestSharedDataInput:
    """Reading the project's shared real-world data folders."""

    def test_synthea_folder(self) -> None:
        """All Synthea bundles are read without issues, one document per file."""
        folder = shared_data_dir("synthea-smart-r4")
        issues = IssueLog()
        documents = list(iter_documents(folder, issues=issues))
        assert len(documents) == len(list(folder.glob("*.json")))
        assert len(documents) == 78  # 76 patients + the hospital and practitioner bundles
        assert len(issues) == 0
        assert all(d["resourceType"] == "Bundle" for _, d in documents)

    @pytest.mark.parametrize(
        "folder_name", ["synthea-smart-r4", "fhir-r4-examples", "davinci-deqm"]
    )
    def test_every_entry_is_flattened(self, folder_name: str) -> None:
        """Every Bundle entry that has a resource comes out; nothing is an error."""
        folder = shared_data_dir(folder_name)
        issues = IssueLog()
        documents = list(iter_documents(folder, issues=issues))
        expected = sum(_count_leaves(d) for _, d in documents)
        result = list(iter_resources(documents, issues=issues))
        assert len(result) == expected
        assert not issues.errors, [str(i) for i in issues.errors]


def _count_leaves(resource: dict[str, Any]) -> int:
    """Count the resources flattening should give, independently of the code under test."""
    if resource.get("resourceType") == "Bundle":
        return sum(
            _count_leaves(e["resource"]) for e in resource.get("entry", []) if "resource" in e
        )
    if resource.get("resourceType") == "Parameters":
        found = [
            p["resource"] for p in _all_parameters(resource.get("parameter", [])) if "resource" in p
        ]
        if found:
            return sum(_count_leaves(r) for r in found)
    return 1


def _all_parameters(parameters: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for parameter in parameters:
        yield parameter
        yield from _all_parameters(parameter.get("part", []))


class TestSeveralSources:
    """An iterable of paths, bytes or text reads as one input."""

    def test_list_of_paths_and_bytes(self, tmp_path: Path) -> None:
        """Documents from every item are yielded in order, files keeping their labels."""
        first = tmp_path / "a.json"
        first.write_text('{"resourceType": "Patient", "id": "p1"}', encoding="utf-8")
        issues = IssueLog()

        docs = list(
            iter_documents(
                [first, b'{"resourceType": "Patient", "id": "p2"}'],
                issues=issues,
                name_files=True,
            )
        )

        assert [d["id"] for _, d in docs] == ["p1", "p2"]
        assert docs[0][0].endswith("a.json")
        assert docs[1][0] == "<input>[1]"
        assert len(issues) == 0
