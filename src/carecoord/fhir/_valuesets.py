"""Reading FHIR ``ValueSet`` resources (VSAC exports) from files, folders, text or objects.

The parsing of one resource is the core's (:meth:`carecoord.terminology.ValueSet.from_fhir`);
this module finds the resources: JSON files, folders of them, Bundles of value sets, JSON
text and parsed objects, as :func:`carecoord.fhir.read` accepts them.
"""

from __future__ import annotations

from typing import Any

from carecoord.errors import ValidationError
from carecoord.fhir._input import InputReader, InputSource
from carecoord.fhir._issues import IssueCode, IssueLog
from carecoord.fhir._limits import Limits
from carecoord.fhir._read import FhirImportError, check_options
from carecoord.fhir._resource_types import type_label
from carecoord.terminology import ValueSet

__all__ = ["INVALID_VALUE_SET", "NOT_A_VALUE_SET", "read_value_sets"]

INVALID_VALUE_SET = "invalid-value-set"
"""Issue code: a ValueSet resource carecoord cannot use (the message says why, at its path)."""
NOT_A_VALUE_SET = "not-a-value-set"
"""Issue code: a resource of another type where a ValueSet was expected."""


def _resources(document: dict[str, Any], issues: IssueLog, label: str) -> list[tuple[str, Any]]:
    """The ValueSet resources of one document, with their paths (a Bundle's entries too)."""
    kind = document.get("resourceType")
    if kind == "ValueSet":
        return [("ValueSet", document)]
    if kind != "Bundle":
        issues.add(
            "resourceType" if kind is not None else "",
            NOT_A_VALUE_SET if kind is not None else IssueCode.MISSING_RESOURCE_TYPE,
            f"expected a ValueSet or a Bundle of them, got a {type_label(kind)}"
            if isinstance(kind, str)
            else "no resourceType",
            source=label,
        )
        return []
    found: list[tuple[str, Any]] = []
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        issues.add("Bundle.entry", IssueCode.WRONG_TYPE, "expected an array", source=label)
        return []
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}].resource"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            issues.add(path, IssueCode.MISSING_RESOURCE, "entry without a resource", source=label)
        elif resource.get("resourceType") != "ValueSet":
            issues.add(
                f"{path}.resourceType",
                NOT_A_VALUE_SET,
                "expected a ValueSet",
                source=label,
            )
        else:
            found.append((path, resource))
    return found


def read_value_sets(
    source: InputSource, *, limits: Limits | None = None, name_files: bool = False
) -> tuple[ValueSet, ...]:
    """Read FHIR ``ValueSet`` resources, as VSAC exports them, into value sets.

    ``source`` is what :func:`carecoord.fhir.read` takes: a path to a JSON file or a folder
    (read recursively in sorted order, ``.json`` and ``.ndjson`` files, gzip too), JSON
    text (``bytes``, or a ``str`` starting with ``{``), a parsed resource, or an iterable
    of these; ``limits`` and ``name_files`` are as in :func:`~carecoord.fhir.read`. A
    Bundle contributes each of its ValueSet entries. Value sets come back in input order;
    put them in a library with ``DEFAULT_VALUE_SETS.replace(name, value_set)``.

    Reading is strict: value sets are reference data, and a half-read one would silently
    miss codes.

    Raises:
        FhirImportError: every problem found, each with its source (the file, by position
            unless ``name_files``) and FHIR path: invalid JSON, input over the limits, a
            resource that is not a ValueSet, a ValueSet carecoord cannot use (codes
            without a system, a paged expansion, a ``compose`` that needs a terminology
            server).
        InteropError: a path that does not exist or cannot be read.
        UsageError: an input or an argument of the wrong type.
    """
    issues = IssueLog()
    reader = InputReader(issues, check_options(limits, name_files), name_files=name_files)
    found: list[ValueSet] = []
    for label, document in reader.documents(source):
        for path, resource in _resources(document, issues, label):
            try:
                found.append(ValueSet.from_fhir(resource))
            except ValidationError as error:
                for problem in error.problems:
                    where = f"{path}.{problem.path}" if problem.path else path
                    issues.add(where, INVALID_VALUE_SET, problem.message, source=label)
    if issues.has_errors:
        raise FhirImportError(issues)
    return tuple(found)
