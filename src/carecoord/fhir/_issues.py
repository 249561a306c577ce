"""Issues found while reading FHIR input: where, what, how bad, and in which source.

The reader never stops at the first bad element: each problem becomes an
:class:`ImportIssue` in an :class:`IssueLog` that the caller passes around, and reading
goes on with the next element. Messages name FHIR paths, element names and types only,
never values from the input (no names, identifiers, dates or free text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

import attrs

from carecoord.errors import Problem

__all__ = ["ImportIssue", "IssueCode", "IssueLog", "Severity"]


class Severity:
    """How bad an issue is: ``error`` (the element was dropped) or ``warning``."""

    ERROR: ClassVar[str] = "error"
    WARNING: ClassVar[str] = "warning"


_SEVERITIES = frozenset({Severity.ERROR, Severity.WARNING})


class IssueCode:
    """Short, stable codes for :attr:`ImportIssue.code`."""

    INVALID_JSON: ClassVar[str] = "invalid-json"
    """The text is not JSON (the message gives line and column)."""
    INVALID_GZIP: ClassVar[str] = "invalid-gzip"
    """A ``.gz`` file that cannot be decompressed."""
    NOT_AN_OBJECT: ClassVar[str] = "not-an-object"
    """A document (or NDJSON line) whose top level is not a JSON object."""
    MISSING_RESOURCE_TYPE: ClassVar[str] = "missing-resource-type"
    """A JSON object with no ``resourceType`` string."""
    MISSING_RESOURCE: ClassVar[str] = "missing-resource"
    """A Bundle entry with no ``resource``."""
    WRONG_TYPE: ClassVar[str] = "wrong-type"
    """An element of the wrong JSON type, or a reference to the wrong resource type."""
    DANGLING_REFERENCE: ClassVar[str] = "dangling-reference"
    """A reference that does not resolve to any resource in the input."""
    LOGICAL_REFERENCE: ClassVar[str] = "logical-reference"
    """A reference given by ``identifier`` only, which is not resolved."""
    EMPTY_REFERENCE: ClassVar[str] = "empty-reference"
    """A reference with neither ``reference`` nor ``identifier`` (a display at most)."""
    MISSING_SUBJECT: ClassVar[str] = "missing-subject"
    """A resource whose patient (subject) is absent or cannot be resolved."""
    INVALID_DATE: ClassVar[str] = "invalid-date"
    """A date, dateTime or instant that is malformed or names an impossible day or time."""
    NAIVE_DATETIME: ClassVar[str] = "naive-datetime"
    """A dateTime with a time of day but no time-zone offset."""
    UNSUPPORTED_RESOURCE: ClassVar[str] = "unsupported-resource"
    """A resource type the importer does not map."""


@attrs.frozen
class ImportIssue:
    """One problem found while reading FHIR input.

    ``path`` is a FHIR path such as ``Bundle.entry[3].resource.subject`` (the empty
    string means the whole document), ``code`` one of :class:`IssueCode`, ``severity``
    ``"error"`` or ``"warning"`` and ``source`` the file the document came from, or
    ``"<input>"`` for in-memory input. ``message`` never holds values from the input.
    """

    path: str
    code: str = attrs.field(validator=attrs.validators.min_len(1))
    message: str
    severity: str = attrs.field(
        default=Severity.ERROR,
        validator=attrs.validators.in_(_SEVERITIES),
    )
    source: str = "<input>"

    @property
    def is_error(self) -> bool:
        """Whether this issue is an error rather than a warning."""
        return self.severity == Severity.ERROR

    def to_problem(self) -> Problem:
        """This issue as a :class:`carecoord.errors.Problem` (for a ``ValidationError``)."""
        return Problem(self.path, f"{self.message} [{self.code}]")

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


class IssueLog:
    """An ordered, append-only collection of :class:`ImportIssue` to pass around."""

    __slots__ = ("_issues",)

    def __init__(self, issues: Iterable[ImportIssue] = ()) -> None:
        self._issues: list[ImportIssue] = list(issues)

    def append(self, issue: ImportIssue) -> None:
        """Add one issue."""
        self._issues.append(issue)

    def extend(self, issues: Iterable[ImportIssue]) -> None:
        """Add several issues, keeping their order."""
        self._issues.extend(issues)

    def add(
        self,
        path: str,
        code: str,
        message: str,
        *,
        severity: str = Severity.ERROR,
        source: str = "<input>",
    ) -> ImportIssue:
        """Create an issue, add it and return it."""
        issue = ImportIssue(path, code, message, severity, source)
        self._issues.append(issue)
        return issue

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``error``, in order."""
        return tuple(i for i in self._issues if i.severity == Severity.ERROR)

    @property
    def warnings(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``warning``, in order."""
        return tuple(i for i in self._issues if i.severity == Severity.WARNING)

    @property
    def has_errors(self) -> bool:
        """Whether any issue is an error."""
        return any(i.severity == Severity.ERROR for i in self._issues)

    def with_code(self, code: str) -> tuple[ImportIssue, ...]:
        """The issues carrying ``code``, in order."""
        return tuple(i for i in self._issues if i.code == code)

    def __iter__(self) -> Iterator[ImportIssue]:
        return iter(self._issues)

    def __len__(self) -> int:
        return len(self._issues)

    def __repr__(self) -> str:
        return f"IssueLog({len(self._issues)} issues, {len(self.errors)} errors)"
