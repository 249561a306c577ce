"""The FHIR adapter's house rules: short functions, one issue vocabulary documented as it is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from carecoord import errors, fhir
from carecoord.fhir import _issues

ROOT = Path(__file__).resolve().parents[2]
FHIR_SRC = ROOT / "src" / "carecoord" / "fhir"
HL7_SRC = ROOT / "src" / "carecoord" / "hl7v2"
DOCS = ROOT / "docs" / "fhir.md"
ROW = re.compile(r"^\| `([a-z0-9-]+)` \|", re.M)
MAX_FUNCTION_LINES = 80


def _documented_codes() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Issue codes", 1)[1].split("\n## ", 1)[0]
    return ROW.findall(section)


def _used_codes() -> set[str]:
    """Every ``IssueCode.X`` named anywhere in the readers' source (FHIR and HL7 v2)."""
    found: set[str] = set()
    for path in [*FHIR_SRC.glob("*.py"), *HL7_SRC.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "IssueCode"
            ):
                found.add(node.attr)
    return found


class TestIssueVocabulary:
    """One public IssueCode enum, one IssueSeverity, and docs/fhir.md lists exactly them."""

    def test_docs_table_is_the_enum(self) -> None:
        """The issue-code table of docs/fhir.md lists every code of IssueCode, in order."""
        assert _documented_codes() == [code.value for code in errors.IssueCode]

    def test_every_code_the_reader_names_is_a_member(self) -> None:
        """Each IssueCode.X the readers name exists, and each member is used by one."""
        members = {code.name for code in errors.IssueCode}
        assert _used_codes() == members

    def test_one_type_under_every_name(self) -> None:
        """The fhir package re-exports the core enums, not copies of them."""
        assert fhir.IssueCode is errors.IssueCode is _issues.IssueCode
        assert fhir.IssueSeverity is errors.IssueSeverity
        assert not hasattr(fhir, "Severity")  # one Severity name: the gap scale

    def test_issue_codes_are_members(self) -> None:
        """A reported issue carries an IssueCode member, equal to its plain string."""
        result = fhir.read({"resourceType": "Patient", "id": "p1", "gender": 3})
        [issue] = result.issues
        assert issue.code is errors.IssueCode.WRONG_TYPE
        assert issue.code == "wrong-type"
        assert issue.severity is errors.IssueSeverity.ERROR


class TestFunctionLength:
    """No function (or method) in src/carecoord/fhir/ is longer than 80 lines."""

    def test_no_function_over_80_lines(self) -> None:
        """Every def, from its ``def`` line to its last line, spans at most 80 lines."""
        too_long = [
            f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted(FHIR_SRC.glob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        ]
        assert too_long == []
