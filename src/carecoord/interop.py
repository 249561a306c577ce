"""What every exchange-format reader returns: records, located issues, counts, limits.

The FHIR reader (:func:`carecoord.fhir.read`) and the HL7 v2 reader
(:func:`carecoord.hl7v2.read`) return the same :class:`ImportResult`, report the same
:class:`ImportIssue` (with :class:`~carecoord.errors.IssueCode` codes) and keep to the same
:class:`Limits`, so code that reads either format handles both alike. They live here in
the core because adapters never import each other; ``carecoord.fhir`` and
``carecoord.hl7v2`` re-export them.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from carecoord import display as _display
from carecoord.display import HtmlDisplay
from carecoord.display import JsonValue as _JsonValue
from carecoord.domain import PatientRecord, masked
from carecoord.errors import (
    IssueCode,
    IssueSeverity,
    Problem,
    ValidationError,
    checked_classes,
    checked_exports,
)

__all__ = [
    "DEFAULT_LIMITS",
    "ISSUE_COLUMNS",
    "MAX_DEPTH_CEILING",
    "ByteBudget",
    "ImportIssue",
    "ImportResult",
    "IssueCode",
    "IssueLog",
    "IssueSeverity",
    "Limits",
    "ResourceCounts",
    "shown_source",
]

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
    """One problem found while reading FHIR or HL7 v2 input.

    ``path`` is a FHIR path such as ``Bundle.entry[3].resource.subject``, or for HL7 v2 a
    message and a location such as ``message[2].PV1-45[1].1`` (the empty string means the
    whole document); ``code`` an :class:`~carecoord.errors.IssueCode`
    (every issue the reader reports has one; a code given as a plain string is converted
    when it is one); ``severity`` an :class:`~carecoord.errors.IssueSeverity` (a plain
    ``"error"`` or ``"warning"`` is converted, anything else is a ``ValueError``);
    ``source`` the file the document came from, or ``"<input>"`` for in-memory input.
    ``message`` never holds values from the input.
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


MAX_DEPTH_CEILING = 512
"""The deepest nesting a read may be allowed: the standard library's parser recurses once
per level and must stay well inside the interpreter's recursion limit."""

_MIB = 1 << 20


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(Problem(attribute.name, "must be a positive int"), what="Limits")


def _depth(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _positive(instance, attribute, value)
    assert isinstance(value, int)
    if value > MAX_DEPTH_CEILING:
        message = f"must be at most {MAX_DEPTH_CEILING}"
        raise ValidationError(Problem(attribute.name, message), what="Limits")


@attrs.frozen
class Limits:
    """How much one read takes in; beyond a bound the input is skipped with an issue.

    * ``max_file_bytes``: one file, after gzip decompression (which is streamed and
      stopped there), or one ``bytes``/``str`` text given directly. Default 256 MiB.
    * ``max_total_bytes``: every file and text of the read together; once reached, the
      rest of the input is not read. Default 1 GiB.
    * ``max_files``: files read, counted across folders. Default 100,000.
    * ``max_depth``: nesting of JSON arrays and objects in one document (``{}`` is 1),
      checked before the text is parsed; at most :data:`MAX_DEPTH_CEILING`. Default 64.
    * ``max_string_length``: characters of one JSON string (keys too). Default 16 MiB
      (room for an attachment's base64 data).

    Every bound is a positive ``int``; anything else raises
    :class:`~carecoord.errors.ValidationError`. Parsed objects given directly (dicts) are
    the caller's and are not measured.
    """

    max_file_bytes: int = attrs.field(default=256 * _MIB, validator=_positive)
    max_total_bytes: int = attrs.field(default=1024 * _MIB, validator=_positive)
    max_files: int = attrs.field(default=100_000, validator=_positive)
    max_depth: int = attrs.field(default=64, validator=_depth)
    max_string_length: int = attrs.field(default=16 * _MIB, validator=_positive)


DEFAULT_LIMITS = Limits()
"""The limits a read keeps to when given none."""


class ByteBudget:
    """The bytes one read may still take in under its :class:`Limits`, and its breaches.

    Every reader (FHIR, HL7 v2) counts what it read in :attr:`total`, asks :meth:`room`
    before reading a file or text, and reports a breach with :meth:`too_big` or
    :meth:`limit` as a ``limit-exceeded`` issue in ``log``; a breach that ends the read
    sets :attr:`stopped`.
    """

    __slots__ = ("limits", "log", "stopped", "total")

    def __init__(self, limits: Limits, log: IssueLog) -> None:
        self.limits = limits
        self.log = log
        self.total = 0
        """Bytes read so far (after decompression)."""
        self.stopped = False
        """Whether a breach ended the read: nothing after it is read."""

    def __repr__(self) -> str:
        return f"ByteBudget({self.total:,} bytes read, stopped={self.stopped})"

    def room(self) -> int:
        """How many more bytes the next file or text may have."""
        limits = self.limits
        return max(0, min(limits.max_file_bytes, limits.max_total_bytes - self.total))

    def too_big(self, label: str, verb: str = "is larger than") -> None:
        """Report that the input labelled ``label`` exceeds :meth:`room`."""
        limits = self.limits
        if limits.max_total_bytes - self.total < limits.max_file_bytes:
            what = f"{verb} what is left of {limits.max_total_bytes:,} bytes for the input"
            self.limit(label, what, "max_total_bytes", rest=True)
        else:
            self.limit(label, f"{verb} {limits.max_file_bytes:,} bytes", "max_file_bytes")

    def limit(self, label: str, what: str, bound: str, *, rest: bool = False) -> None:
        """Report a breach of ``Limits.<bound>``; with ``rest`` nothing after it is read."""
        after = ", nor anything after it" if rest else ""
        message = f"{what} (Limits.{bound}); not read{after}"
        self.log.add("", IssueCode.LIMIT_EXCEEDED, message, source=label)
        self.stopped = self.stopped or rest


@attrs.frozen
class ResourceCounts:
    """How many resources of one type were read, mapped to the model, and skipped.

    ``read == mapped + skipped``. A skipped resource is either of a type carecoord does
    not map (one ``unsupported-resource`` warning per type) or one whose mapping failed
    (an issue each).
    """

    read: int = 0
    mapped: int = 0
    skipped: int = 0


def _read_only(value: Mapping[str, ResourceCounts]) -> Mapping[str, ResourceCounts]:
    return types.MappingProxyType(dict(value))


ISSUE_COLUMNS: tuple[str, ...] = ("severity", "code", "path", "message", "source")
"""The keys of an issue row (:meth:`ImportResult.to_records`), in order.

``severity``: ``"error"`` or ``"warning"``; ``code``: the issue code
(:class:`~carecoord.errors.IssueCode` value); ``path``: the FHIR path or HL7 v2 location;
``message``: what is wrong (never values from the input); ``source``: the reader's label
(``<file 3>``, ``<input>``), or a file's name (read with ``name_files=True``) only when
asked with ``show_personal_data=True`` (``None`` otherwise).
"""


@attrs.frozen(repr=False)
class ImportResult:
    """What a read produced: records, issues, and counts by resource (or message) type.

    ``records`` holds one :class:`~carecoord.domain.PatientRecord` per (source,
    patient), in input order; ``issues`` every problem found, in order; ``counts`` a
    read-only mapping ``resourceType -> ResourceCounts`` (for HL7 v2, the message type and
    trigger event such as ``ADT^A01``).
    """

    records: tuple[PatientRecord, ...]
    issues: tuple[ImportIssue, ...]
    counts: Mapping[str, ResourceCounts] = attrs.field(converter=_read_only, eq=False)

    def __repr__(self) -> str:
        read = sum(c.read for c in self.counts.values())
        mapped = sum(c.mapped for c in self.counts.values())
        errors = sum(i.is_error for i in self.issues)
        return (
            f"ImportResult({len(self.records)} records, {read} resources read, {mapped} mapped, "
            f"{len(self.issues)} issues: {errors} errors, {len(self.issues) - errors} warnings)"
        )

    def display(self, *, show_personal_data: bool = False, limit: int = 20) -> HtmlDisplay:
        """The result as HTML for notebooks: records, resources by type, issues by code.

        The first ``limit`` issues are listed; their file names are masked unless
        ``show_personal_data`` is true (file names often hold the patient's name).
        """
        return _import_html(self, show_personal_data=show_personal_data, limit=limit)

    def _repr_html_(self) -> str:
        return _import_html(self).html

    def to_records(self, *, show_personal_data: bool = False) -> list[dict[str, _JsonValue]]:
        """One JSON-safe row per issue, with the :data:`ISSUE_COLUMNS` keys, in order.

        ``source`` is the reader's label (``<file 3>``); a file's own name (read with
        ``name_files=True``) is ``None`` unless ``show_personal_data`` is true.
        """
        return [
            {
                "severity": i.severity.value,
                "code": str(i.code),
                "path": i.path,
                "message": i.message,
                "source": shown_source(i.source, show_personal_data),
            }
            for i in self.issues
        ]

    def count_records(self) -> list[dict[str, _JsonValue]]:
        """One JSON-safe row per resource type (sorted): type, read, mapped, skipped.

        Keys: ``resource_type``, ``read``, ``mapped``, ``skipped``.
        """
        return [
            {"resource_type": kind, "read": c.read, "mapped": c.mapped, "skipped": c.skipped}
            for kind, c in sorted(self.counts.items())
        ]

    def to_pandas(self, *, show_personal_data: bool = False) -> Any:
        """The issues (:meth:`to_records`) as a pandas ``DataFrame`` (``carecoord[pandas]``)."""
        return _display.to_pandas(
            self.to_records(show_personal_data=show_personal_data), ISSUE_COLUMNS
        )

    def to_polars(self, *, show_personal_data: bool = False) -> Any:
        """The issues (:meth:`to_records`) as a polars ``DataFrame`` (``carecoord[polars]``)."""
        return _display.to_polars(
            self.to_records(show_personal_data=show_personal_data), ISSUE_COLUMNS
        )

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``error``."""
        return tuple(i for i in self.issues if i.is_error)

    @property
    def warnings(self) -> tuple[ImportIssue, ...]:
        """The issues of severity ``warning``."""
        return tuple(i for i in self.issues if not i.is_error)

    def issue_codes(self) -> dict[str, int]:
        """How many issues carry each code, most frequent first."""
        found: dict[str, int] = {}
        for issue in self.issues:
            found[issue.code] = found.get(issue.code, 0) + 1
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))

    def record(self, patient_id: str, source_id: str | None = None) -> PatientRecord | None:
        """The record of ``patient_id`` (in ``source_id`` when given), or ``None``."""
        return next(
            (
                r
                for r in self.records
                if r.patient.id == patient_id and (source_id is None or r.source.id == source_id)
            ),
            None,
        )


def _import_html(
    result: ImportResult, *, show_personal_data: bool = False, limit: int = 20
) -> HtmlDisplay:
    """An import result: counts, resources by type, issues by code, the first ``limit``."""
    errors = len(result.errors)
    warnings = len(result.issues) - errors
    tone = "error" if errors else ("warning" if warnings else "ok")
    head = (
        f"<p>{len(result.records)} patient records; "
        f"{_display.badge(f'{errors} errors', tone='error' if errors else 'ok')} "
        f"{_display.badge(f'{warnings} warnings', tone='warning' if warnings else 'ok')}</p>"
    )
    by_type = _display.table(
        ("resource type", "read", "mapped", "skipped"),
        [(kind, c.read, c.mapped, c.skipped) for kind, c in sorted(result.counts.items())],
        numeric=(1, 2, 3),
    )
    severity: dict[str, str] = {i.code: i.severity.value for i in result.issues}
    codes = _display.table(
        ("code", "severity", "issues"),
        [(code, _display.badge(severity[code]), n) for code, n in result.issue_codes().items()],
        numeric=(2,),
        raw=(1,),
    )
    issues = _display.table(
        ("source", "path", "severity", "code", "message"),
        (
            (
                shown_source(i.source, show_personal_data) or _display.MASK,
                i.path,
                _display.badge(i.severity.value),
                i.code,
                i.message,
            )
            for i in result.issues
        ),
        raw=(2,),
        limit=limit,
    )
    parts = [
        _display.section("Summary", head, key="summary"),
        _display.section("Resources by type", by_type, key="resources"),
        _display.section(f"Issues by code ({len(result.issues)})", codes, key="issue-codes"),
        _display.section("Issues", issues, key="issues"),
    ]
    html = _display.frame(f"Import: {tone}", *parts, kind="import-result")
    return HtmlDisplay(html, "import-result", show_personal_data)


checked_classes(
    globals(),
    ("ByteBudget", "IssueLog"),
)
checked_exports(globals())
del checked_classes, checked_exports
