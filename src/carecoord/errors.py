"""Every exception carecoord raises, under one root.

::

    CarecoordError
    ├── ValidationError          (also a ValueError) bad input; ``problems`` lists each with a path
    │   └── UnsupportedSchemaVersion   a document from an unknown, newer schema version
    ├── InvalidTransition        a lifecycle change the state machine does not allow
    ├── NotFound                 (also a LookupError) no object with that id
    ├── ConflictError            a write that disagrees with what is stored
    ├── MissingExtraError        (also an ImportError) an optional extra is not installed
    └── InteropError             a problem reading or writing an exchange format
        ├── FhirImportError      (carecoord.fhir) strict reading found problems
        └── FhirExportError      (carecoord.fhir) records that cannot be written as FHIR

No message in this module interpolates patient data: problems name paths, field names,
types and codes, never names, dates of birth, identifiers or note text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "CarecoordError",
    "ConflictError",
    "InteropError",
    "InvalidTransition",
    "MissingExtraError",
    "NotFound",
    "Problem",
    "UnsupportedSchemaVersion",
    "ValidationError",
]


class CarecoordError(Exception):
    """Root of every error raised by carecoord."""


@attrs.frozen
class Problem:
    """One problem found in input: where (``path``) and what (``message``).

    ``path`` uses dots and brackets, for example ``history[2].at``; the empty string means
    the whole object.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(CarecoordError, ValueError):
    """Input that breaks the model's rules; ``problems`` lists every one found."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: Problem | str | Iterable[Problem], *, what: str = "") -> None:
        if isinstance(problems, str):
            problems = (Problem("", problems),)
        elif isinstance(problems, Problem):
            problems = (problems,)
        self.problems = tuple(problems)
        head = f"invalid {what}" if what else "invalid input"
        count = len(self.problems)
        if count == 1:
            text = f"{head}: {self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{head}: {count} problems\n{lines}"
        super().__init__(text)

    def prefixed(self, prefix: str) -> ValidationError:
        """Return a copy whose problem paths are placed under ``prefix``."""
        return ValidationError(
            [Problem(_join(prefix, p.path), p.message) for p in self.problems],
        )


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    if path.startswith("["):
        return prefix + path
    return f"{prefix}.{path}"


class UnsupportedSchemaVersion(ValidationError):
    """A serialized document written by a newer, unknown schema version."""


class InvalidTransition(CarecoordError):
    """A lifecycle change that is not allowed from the current state.

    Carries ``kind`` (what changed, e.g. ``"Task"``), ``current``, ``requested`` and
    ``allowed`` (the states reachable from ``current``).
    """

    def __init__(self, kind: str, current: str, requested: str, allowed: Sequence[str]) -> None:
        self.kind = kind
        self.current = current
        self.requested = requested
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (terminal state)"
        super().__init__(
            f"{kind} cannot go from {current!r} to {requested!r}; allowed from {current!r}: "
            f"{allowed_text}",
        )


class NotFound(CarecoordError, LookupError):
    """No object with the requested id."""


class ConflictError(CarecoordError):
    """A write that conflicts with what is already stored."""


class MissingExtraError(CarecoordError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the {package!r} package: pip install 'carecoord[{extra}]'",
        )


class InteropError(CarecoordError):
    """A problem reading or writing an exchange format (FHIR, HL7 v2, ...)."""
