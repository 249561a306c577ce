"""Input that tries to break the reader: limits, special files, JSON edge cases, privacy.

Every test runs with both JSON parsers (the standard library's and orjson) where parsing
is involved: the limits and the answers must not depend on which one is installed.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from carecoord import fhir
from carecoord.errors import CarecoordError, InteropError, UsageError, ValidationError
from carecoord.fhir import Limits, _input
from carecoord.fhir._input import is_json_text, too_deep
from carecoord.fhir._issues import IssueCode

SECRET = "Zebediah-Quux"  # stands in for patient data that must never reach a message
PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": SECRET}]}
POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs and links are POSIX")


def _backends() -> list[Any]:
    """The stdlib json path, plus orjson when it is installed."""
    params: list[Any] = [pytest.param(_input._json_loads, id="json")]
    if importlib.util.find_spec("orjson") is not None:
        params.append(pytest.param(importlib.import_module("orjson").loads, id="orjson"))
    return params


@pytest.fixture(params=_backends(), autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test once per JSON parser."""
    loads: Callable[[bytes], Any] = request.param
    monkeypatch.setattr(_input, "_loads", loads)


def codes(result: fhir.ImportResult) -> list[str]:
    """The issue codes of a read, in order."""
    return [issue.code for issue in result.issues]


def messages(result: fhir.ImportResult) -> str:
    """Every issue as text (source, path, message), for privacy checks."""
    return "\n".join(str(issue) for issue in result.issues)


class TestJsonTextOrPath:
    """A str is JSON text when it starts with { or [ after ignorable characters."""

    @pytest.mark.parametrize(
        "lead", ["", "  \n", "\ufeff", "\u200b", "\u2060", " \ufeff \u200d\n\u200c\ufeff "]
    )
    def test_ignorable_lead_is_json_text(self, lead: str) -> None:
        """Whitespace, a byte-order mark and zero-width characters may come first."""
        result = fhir.read(lead + json.dumps(PATIENT))

        assert [r.patient.id for r in result.records] == ["p1"]
        assert is_json_text(lead + "[]")

    def test_text_that_is_not_json_is_a_path_and_not_repeated(self) -> None:
        """Other text is a path; the error for a missing one never repeats it."""
        with pytest.raises(InteropError) as raised:
            fhir.read(f"x{SECRET} born 1960-01-01 {{}}")

        assert SECRET not in str(raised.value)
        assert "<input>" in str(raised.value)

    def test_json_text_even_when_a_file_has_that_name(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A str starting with { is never looked up as a file."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "{odd}").write_text(json.dumps(PATIENT), encoding="utf-8")

        assert codes(fhir.read("{odd}")) == [IssueCode.INVALID_JSON]

    def test_nul_in_a_listed_path_is_an_interop_error(self) -> None:
        """A NUL in a path, even one in a list, is a carecoord error, not a ValueError."""
        with pytest.raises(InteropError, match="NUL"):
            fhir.read([PATIENT, "a\x00b"])

    def test_a_lone_surrogate_path_is_an_interop_error(self) -> None:
        """A path the file system cannot encode is a carecoord error."""
        with pytest.raises(InteropError, match="not a valid path"):
            fhir.read("\ud800")


class TestNesting:
    """Nesting is measured before parsing: no RecursionError, one limit issue."""

    @pytest.mark.parametrize(
        "text",
        [
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 5000 + b"1" + b"}" * 5000,
            b'{"resourceType":"Patient","x":' + b'[{"y":' * 3000 + b"1" + b"}]" * 3000 + b"}",
            b"[" * 100_000,
        ],
        ids=["arrays", "objects", "mixed", "unterminated"],
    )
    def test_deep_text_is_a_limit_issue(self, text: bytes) -> None:
        """Deep nesting is one limit-exceeded issue naming max_depth."""
        result = fhir.read(text)

        assert codes(result) == [IssueCode.LIMIT_EXCEEDED]
        assert "max_depth" in result.issues[0].message

    def test_the_bound_is_exact(self) -> None:
        """max_depth levels are read; one more is not."""
        limits = Limits(max_depth=3)
        deep = {"resourceType": "Patient", "id": "p1", "name": [{"given": ["A"]}]}  # 4 levels

        assert codes(fhir.read(json.dumps(deep), limits=Limits(max_depth=4))) == []
        assert codes(fhir.read(json.dumps(deep), limits=limits)) == [IssueCode.LIMIT_EXCEEDED]

    @pytest.mark.parametrize(
        "text",
        [
            b'{"a": "[[[[[[[[[[{{{{{{{{"}',
            b'{"a": "\\"[[[[[[[[", "b": "]]]]\\\\"}',
            b'{"a": ["x", "[[[[[[[[[[[["]}',
        ],
    )
    def test_brackets_in_strings_do_not_count(self, text: bytes) -> None:
        """Brackets inside strings (escaped quotes too) are not nesting."""
        assert not too_deep(text, 2)

    def test_ndjson_lines_are_measured_one_by_one(self) -> None:
        """A deep NDJSON line is reported under its line; the others are read."""
        text = json.dumps(PATIENT) + "\n" + "[" * 200 + "]" * 200 + "\n"

        result = fhir.read(text.encode())

        assert [(i.code, i.source) for i in result.issues] == [
            (IssueCode.LIMIT_EXCEEDED, "<input>:2")
        ]
        assert len(result.records) == 1


class TestSameJsonForBothParsers:
    """The standard-library path refuses what orjson refuses."""

    @pytest.mark.parametrize(
        "text",
        [
            b'{"resourceType":"Patient","id":"p1","x":"\\ud800"}',
            b'{"resourceType":"Patient","id":"p1","x":"\\udc00\\ud800"}',
            b'{"resourceType":"Patient","id":"p1","x":"\xed\xa0\x80"}',
            b'{"resourceType":"Patient","id":"p1","x":NaN}',
            b'{"resourceType":"Patient","id":"p1","x":-Infinity}',
            b'{"resourceType":"Patient","id":"p1","x":1e400}',
            b'{"resourceType":"Patient","id":"p1","x":' + b"9" * 5000 + b"}",
            b'\xff\xfe{"resourceType":"Patient"}',
        ],
        ids=["escape", "swapped", "encoded", "nan", "infinity", "overflow", "digits", "utf16"],
    )
    def test_refused(self, text: bytes) -> None:
        """Lone surrogates, non-finite and overlong numbers, non-UTF-8: invalid-json."""
        result = fhir.read(text)

        assert codes(result) == [IssueCode.INVALID_JSON]
        assert not result.records

    def test_lone_surrogate_in_str_input(self) -> None:
        """A str holding a lone surrogate is invalid JSON text, not an exception."""
        text = '{"resourceType": "Patient", "id": "p1", "x": "\ud800"}'

        assert codes(fhir.read(text)) == [IssueCode.INVALID_JSON]

    @pytest.mark.parametrize(
        "value", ['"\\ud83d\\ude00"', '"\\\\ud800"', '"a\\u0000b"', "1e308", "123456789"]
    )
    def test_accepted(self, value: str) -> None:
        """Surrogate pairs, an escaped backslash, an escaped NUL, big finite numbers read."""
        text = f'{{"resourceType": "Patient", "id": "p1", "x": {value}}}'

        assert fhir.read(text.encode()).records


class TestSizes:
    """Bytes, decompressed bytes, files and string lengths have bounds."""

    def test_text_over_the_file_bound(self) -> None:
        """Text given directly larger than max_file_bytes is not parsed."""
        text = json.dumps(PATIENT).encode()

        result = fhir.read(text, limits=Limits(max_file_bytes=len(text) - 1))

        assert codes(result) == [IssueCode.LIMIT_EXCEEDED]
        assert "max_file_bytes" in result.issues[0].message

    def test_file_over_the_bound_is_not_read(self, tmp_path: Path) -> None:
        """A file larger than the bound is skipped before it is read."""
        (tmp_path / "big.json").write_text(json.dumps(PATIENT) + " " * 1000, encoding="utf-8")
        (tmp_path / "small.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        result = fhir.read(tmp_path, limits=Limits(max_file_bytes=500))

        assert [(i.code, i.source) for i in result.issues] == [
            (IssueCode.LIMIT_EXCEEDED, "<file 1>")
        ]
        assert len(result.records) == 1

    def test_gzip_is_decompressed_no_further_than_the_bound(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A gzip bomb costs at most the bound: the stream is never read past it."""
        bomb = tmp_path / "bomb.json.gz"
        bomb.write_bytes(gzip.compress(b"{" + b" " * (8 << 20) + b"}"))
        asked: list[int] = []
        real_read = gzip.GzipFile.read

        def read(self: gzip.GzipFile, size: int = -1) -> bytes:
            asked.append(size)
            return real_read(self, size)

        monkeypatch.setattr(gzip.GzipFile, "read", read)
        result = fhir.read(bomb, limits=Limits(max_file_bytes=1 << 20))

        assert codes(result) == [IssueCode.LIMIT_EXCEEDED]
        assert "decompresses to more than" in result.issues[0].message
        assert asked == [(1 << 20) + 1]
        assert bomb.stat().st_size < 1 << 20  # the compressed file itself was within it

    def test_total_bound_stops_the_read(self, tmp_path: Path) -> None:
        """Once the input reaches max_total_bytes the rest is not read (one issue)."""
        text = json.dumps(PATIENT)
        for name in ("a", "b", "c", "d"):
            (tmp_path / f"{name}.json").write_text(text.replace("p1", name), encoding="utf-8")

        result = fhir.read(tmp_path, limits=Limits(max_total_bytes=2 * len(text) + 10))

        assert [(i.code, i.source) for i in result.issues] == [
            (IssueCode.LIMIT_EXCEEDED, "<file 3>")
        ]
        assert "max_total_bytes" in result.issues[0].message

    def test_too_many_files(self, tmp_path: Path) -> None:
        """A folder with more files than max_files is not read."""
        for name in ("a", "b", "c"):
            (tmp_path / f"{name}.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        result = fhir.read(tmp_path, limits=Limits(max_files=2))

        assert codes(result) == [IssueCode.LIMIT_EXCEEDED]
        assert "max_files" in result.issues[0].message
        assert not result.records

    def test_long_string(self) -> None:
        """A string longer than max_string_length is a limit issue for its document."""
        text = json.dumps({**PATIENT, "id": "p" * 100})

        result = fhir.read(text, limits=Limits(max_string_length=50))

        assert codes(result) == [IssueCode.LIMIT_EXCEEDED]
        assert "max_string_length" in result.issues[0].message

    def test_strict_mode_raises_a_limit(self) -> None:
        """In strict mode a breach is a FhirImportError."""
        with pytest.raises(fhir.FhirImportError, match="limit-exceeded"):
            fhir.read(b"[" * 100 + b"]" * 100, strict=True)

    @pytest.mark.parametrize(
        "bad",
        [
            {"max_depth": 0},
            {"max_depth": 513},
            {"max_file_bytes": -1},
        ],
    )
    def test_limits_are_checked(self, bad: dict[str, Any]) -> None:
        """Bounds are positive ints (depth at most 512): other numbers are a ValidationError."""
        with pytest.raises(ValidationError, match="Limits"):
            Limits(**bad)

    @pytest.mark.parametrize("bad", [{"max_files": True}, {"max_total_bytes": 1.5}])
    def test_a_limit_that_is_not_an_int_is_a_usage_error(self, bad: dict[str, Any]) -> None:
        """A bool or a float where a bound is expected is misuse: a UsageError naming it."""
        with pytest.raises(UsageError, match=r"^Limits\(\) max_\w+: expected an int, got a "):
            Limits(**bad)


@POSIX
class TestSpecialFiles:
    """FIFOs, devices, links and unreadable files never block, crash or stop the read."""

    def opened(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """Record every path the reader opens."""
        seen: list[str] = []
        real_open = os.open

        def recording(path: Any, flags: int, *args: Any) -> int:
            seen.append(os.fspath(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(_input.os, "open", recording)
        return seen

    def test_fifo_in_a_folder_is_skipped_unopened(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A FIFO named *.json is reported and never opened (opening could block)."""
        os.mkfifo(tmp_path / "a.json")
        (tmp_path / "b.json").write_text(json.dumps(PATIENT), encoding="utf-8")
        seen = self.opened(monkeypatch)

        result = fhir.read(tmp_path)

        assert [(i.code, i.source) for i in result.issues] == [(IssueCode.NOT_A_FILE, "<file 1>")]
        assert len(result.records) == 1
        assert seen == [str(tmp_path / "b.json")]

    def test_fifo_given_directly(self, tmp_path: Path) -> None:
        """A FIFO given as the path is skipped the same way."""
        os.mkfifo(tmp_path / "pipe.json")

        assert codes(fhir.read(tmp_path / "pipe.json")) == [IssueCode.NOT_A_FILE]

    @pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
    def test_link_to_a_device(self, tmp_path: Path) -> None:
        """A link to /dev/zero is a device: skipped, memory untouched."""
        (tmp_path / "zero.json").symlink_to("/dev/zero")

        assert codes(fhir.read(tmp_path)) == [IssueCode.NOT_A_FILE]

    def test_link_loop_and_dangling_link_in_a_folder(self, tmp_path: Path) -> None:
        """Broken links in a folder are unreadable-file issues; reading goes on."""
        (tmp_path / "a.json").symlink_to(tmp_path / "a.json")
        (tmp_path / "b.json").symlink_to(tmp_path / "absent.json")
        (tmp_path / "c.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        result = fhir.read(tmp_path)

        assert codes(result) == [IssueCode.UNREADABLE_FILE] * 2
        assert len(result.records) == 1

    def test_link_loop_given_directly(self, tmp_path: Path) -> None:
        """A looping path given is an InteropError that names it only when asked."""
        loop = tmp_path / f"{SECRET}.json"
        loop.symlink_to(loop)

        with pytest.raises(InteropError, match="symbolic links") as raised:
            fhir.read(loop)
        assert SECRET not in str(raised.value)
        with pytest.raises(InteropError, match=SECRET):
            fhir.read(loop, name_files=True)

    def test_linked_folders_are_not_followed(self, tmp_path: Path) -> None:
        """A link back to a parent folder does not make the walk loop."""
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "up.json").symlink_to(tmp_path)
        (tmp_path / "sub" / "p.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        result = fhir.read(tmp_path)

        assert (codes(result), len(result.records)) == ([], 1)

    def test_deep_folders_do_not_recurse(self, tmp_path: Path) -> None:
        """A folder tree deeper than the recursion limit is walked."""
        here = tmp_path
        for _ in range(sys.getrecursionlimit() // 4):
            here = here / "d"
        here.mkdir(parents=True)
        (here / "p.json").write_text(json.dumps(PATIENT), encoding="utf-8")

        assert len(fhir.read(tmp_path).records) == 1

    def test_unreadable_file_and_folder_inside_a_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file or subfolder that cannot be read is an issue; the rest is read."""
        (tmp_path / "a.json").write_text(json.dumps(PATIENT), encoding="utf-8")
        (tmp_path / "locked").mkdir()
        (tmp_path / "locked" / "c.json").write_text(json.dumps(PATIENT), encoding="utf-8")
        (tmp_path / "b.json").write_text(json.dumps(PATIENT), encoding="utf-8")
        real_open, real_scandir = os.open, os.scandir

        def refuse_open(path: Any, flags: int, *args: Any) -> int:
            if str(path).endswith("a.json"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, flags, *args)

        def refuse_scandir(path: Any) -> Any:
            if str(path).endswith("locked"):
                raise PermissionError(13, "Permission denied")
            return real_scandir(path)

        monkeypatch.setattr(_input.os, "open", refuse_open)
        monkeypatch.setattr(_input.os, "scandir", refuse_scandir)
        result = fhir.read(tmp_path)

        assert sorted(codes(result)) == [IssueCode.UNREADABLE_FILE] * 2
        assert "Permission denied" in messages(result)
        assert "locked" not in messages(result)
        assert len(result.records) == 1

    def test_unreadable_path_given_raises(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file given that cannot be opened is an InteropError, not an OSError."""
        file = tmp_path / "a.json"
        file.write_text(json.dumps(PATIENT), encoding="utf-8")

        def refuse(path: Any, flags: int, *args: Any) -> int:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(_input.os, "open", refuse)
        with pytest.raises(InteropError, match="Permission denied"):
            fhir.read(file)


class TestPrivacy:
    """No file name and no input text in issues or errors, unless asked for."""

    def test_files_are_named_by_position(self, tmp_path: Path) -> None:
        """Exports name files after patients: issues and strict errors give positions."""
        (tmp_path / f"{SECRET}_MRN123.json").write_text("{ broken", encoding="utf-8")

        result = fhir.read(tmp_path)
        with pytest.raises(fhir.FhirImportError) as raised:
            fhir.read(tmp_path, strict=True)

        assert [i.source for i in result.issues] == ["<file 1>"]
        assert SECRET not in str(raised.value)
        assert SECRET not in messages(result)
        named = fhir.read(tmp_path, name_files=True)
        assert [i.source for i in named.issues] == [f"{SECRET}_MRN123.json"]

    def test_missing_path_is_named_by_position(self, tmp_path: Path) -> None:
        """The error for a missing path says which argument, not its name."""
        missing = tmp_path / f"{SECRET}.json"

        with pytest.raises(InteropError, match=r"<input>\[1\]") as raised:
            fhir.read([PATIENT, missing])
        assert SECRET not in str(raised.value)

    @pytest.mark.parametrize("kind", [SECRET, "X" * 100_000, "Patient\n", ""])
    def test_unknown_resource_type_is_not_echoed(self, kind: str) -> None:
        """A resourceType is named only when it is a FHIR type name."""
        result = fhir.read({"resourceType": kind or None, "id": "x"})

        assert SECRET not in messages(result)
        assert all(len(str(issue)) < 300 for issue in result.issues)
        assert all(i.path in ("", "<unknown type>") for i in result.issues)

    def test_reference_types_are_not_echoed(self) -> None:
        """A dangling reference to a made-up type does not repeat the type."""
        condition = {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": f"{SECRET.replace('-', '')}/1"},
            "code": {"text": "x"},
        }

        result = fhir.read([PATIENT, condition])

        assert SECRET.replace("-", "") not in messages(result)
        assert "<unknown type>" in messages(result)


class TestMisuse:
    """A wrong argument type is a UsageError, which is a TypeError and a carecoord error."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda: fhir.read(42),  # type: ignore[arg-type]
            lambda: fhir.read(PATIENT, limits=5),  # type: ignore[arg-type]
            lambda: fhir.read(PATIENT, name_files="yes"),  # type: ignore[arg-type]
            lambda: fhir.read(PATIENT, source_id=5),  # type: ignore[arg-type]
            lambda: fhir.read(PATIENT, default_tz="UTC"),  # type: ignore[arg-type]
            lambda: fhir.read_paths([PATIENT]),  # type: ignore[list-item]
            lambda: fhir.read_paths(42),  # type: ignore[arg-type]
            lambda: fhir.read_value_sets(None),  # type: ignore[arg-type]
        ],
    )
    def test_wrong_types(self, call: Callable[[], object]) -> None:
        """Each is a UsageError, caught as TypeError or as CarecoordError."""
        with pytest.raises(UsageError) as raised:
            call()
        assert isinstance(raised.value, TypeError)
        assert isinstance(raised.value, CarecoordError)

    def test_blank_path_is_not_the_current_folder(self) -> None:
        """read_paths refuses a blank path instead of reading the current folder."""
        with pytest.raises(InteropError, match="empty string"):
            fhir.read_paths(["", "x.json"])

    def test_a_bundle_that_contains_itself(self) -> None:
        """An object that holds itself is read once, with an issue, not forever."""
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": []}
        bundle["entry"].extend([{"resource": PATIENT}, {"resource": bundle}])

        result = fhir.read(bundle)

        assert codes(result) == [IssueCode.DUPLICATE_RESOURCE]
        assert len(result.records) == 1
