"""Issues found while reading FHIR input: where, what, how bad, and in which source.

The reader never stops at the first bad element: each problem becomes an
:class:`ImportIssue` in an :class:`IssueLog` that the caller passes around, and reading
goes on with the next element. Messages name FHIR paths, element names and types only,
never values from the input (no names, identifiers, dates or free text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import attrs

from carecoord.domain import masked
from carecoord.errors import IssueCode, IssueSeverity, Problem

__all__ = ["ImportIssue", "IssueCode", "IssueLog", "IssueSeverity", "shown_source"]

_LABEL = re.compile(r"<(?:file [0-9]+|input)>(?::[0-9]+)?")


def shown_source(source: str, show_personal_data: bool) -> str | None:
    """An issue's source as exports show it: a reader's label (``<file 3>``) as it is.

    A file's own name (read with ``name_files=True``; exports often name files after
    patients) is ``None`` unless ``show_personal_data``.
    """
    return source if show_personal_data or _LABEL.fullmatch(source) else None


_CODES: dict[str, IssueCode] = {code.value: code for code in IssueCode}


def _code(value: str) -> str:
    """``value`` as its :class:`IssueCode` member when it is one, else as given."""
    return _CODES.get(value, value) if type(value) is str else value


def _severity(value: str) -> IssueSeverity:
    try:
        return IssueSeverity(value)
    except ValueError:
        msg = f"severity must be one of {', '.join(IssueSeverity)}, got {value!r}"
        raise ValueError(msg) from None


@attrs.frozen
class ImportIssue:
    """One problem found while reading FHIR input.

    ``path`` is a FHIR path such as ``Bundle.entry[3].resource.subject`` (the empty
    string means the whole document); ``code`` an :class:`~carecoord.errors.IssueCode`
    (every issue the reader reports has one; a code given as a plain string is converted
    when it is one); ``severity`` an :class:`~carecoord.errors.IssueSeverity` (a plain
    ``"error"`` or ``"warning"`` is converted, anything else is a ``ValueError``);
    ``source`` the file the document came from, or ``"<input>"`` for in-memory input.
    ``message`` never holds values from the input. ``source`` is masked in ``repr``
    (file names often hold the patient's name).
    """

    path: str
    code: str = attrs.field(converter=_code, validator=attrs.validators.min_len(1))
    message: str
    severity: IssueSeverity = attrs.field(default=IssueSeverity.ERROR, converter=_severity)
    source: str = attrs.field(default="<input>", repr=masked)

    @property
    def is_error(self) -> bool:
        """Whether this issue is an error rather than a warning."""
        return self.severity is IssueSeverity.ERROR

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
        severity: IssueSeverity = IssueSeverity.ERROR,
        source: str = "<input>",
    ) -> ImportIssue:
        """Create an issue, add it and return it."""
        issue = ImportIssue(path, code, message, severity, source)
        self._issues.append(issue)
        return issue

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``error``, in order."""
        return tuple(i for i in self._issues if i.severity is IssueSeverity.ERROR)

    @property
    def warnings(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``warning``, in order."""
        return tuple(i for i in self._issues if i.severity is IssueSeverity.WARNING)

    @property
    def has_errors(self) -> bool:
        """Whether any issue is an error."""
        return any(i.severity is IssueSeverity.ERROR for i in self._issues)

    def with_code(self, code: str) -> tuple[ImportIssue, ...]:
        """The issues carrying ``code``, in order."""
        return tuple(i for i in self._issues if i.code == code)

    def __iter__(self) -> Iterator[ImportIssue]:
        return iter(self._issues)

    def __len__(self) -> int:
        return len(self._issues)

    def __repr__(self) -> str:
        return f"IssueLog({len(self._issues)} issues, {len(self.errors)} errors)"
