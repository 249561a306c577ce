"""Every exception carecoord raises, under one root.

::

    CarecoordError
    ├── ValidationError          (also a ValueError) bad input; ``problems`` lists each with a path
    │   └── UnsupportedSchemaVersion   a document from an unknown, newer schema version
    ├── InvalidTransition        a lifecycle change the state machine does not allow
    ├── NotFound                 (also a LookupError) no object with that id
    ├── ConflictError            a write that disagrees with what is stored
    ├── ConsentError             a viewer who may not look in the role they ask for
    ├── MissingExtraError        (also an ImportError) an optional extra is not installed
    ├── UsageError               (also a TypeError) an argument of the wrong type
    ├── StoreError               a store that cannot be opened or used as it is
    │   └── StoreVersionError    a store file written by a newer carecoord
    └── InteropError             a problem reading or writing an exchange format
        ├── FhirImportError      (carecoord.fhir) strict reading found problems
        ├── FhirExportError      (carecoord.fhir) records that cannot be written as FHIR
        ├── MalformedMessage     (carecoord.hl7v2) text that is not an HL7 v2 message
        └── Hl7ImportError       (carecoord.hl7v2) strict reading found problems

No message in this module interpolates patient data: problems name paths, field names,
types and codes, never names, dates of birth, identifiers or note text.

The vocabulary of issues that the exchange-format readers report (:class:`IssueCode`,
:class:`IssueSeverity`) lives here too, in the core, so that every adapter (the FHIR
reader, the HL7 v2 reader to come) shares it without importing another adapter; and so
does :func:`json_kind`, which names a JSON value's type in those messages.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from collections import abc
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

import attrs

__all__ = [
    "CarecoordError",
    "ConflictError",
    "ConsentError",
    "InteropError",
    "InvalidTransition",
    "IssueCode",
    "IssueSeverity",
    "MalformedMessage",
    "MissingExtraError",
    "NotFound",
    "Problem",
    "StoreError",
    "StoreVersionError",
    "UnsupportedSchemaVersion",
    "UsageError",
    "ValidationError",
    "checked",
    "checked_classes",
    "checked_exports",
    "checked_methods",
    "json_kind",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


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

    def __repr__(self) -> str:
        return f"Problem(path={_cut(self.path, 200)!r}, message={_cut(self.message, 600)!r})"


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``...`` when cut (bounded reprs)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


class ConsentError(CarecoordError):
    """A viewer who may not look at a profile in the role they ask for.

    Raised by the consent views when someone asks to see a profile as its patient who is
    neither that patient nor a personal representative active at that time, or when a
    patient or a related person asks in a clinician's role. The message names the
    viewer's reference type, never an id or a name.
    """


class MissingExtraError(CarecoordError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the {package!r} package: pip install 'carecoord[{extra}]'",
        )


class UsageError(CarecoordError, TypeError):
    """A carecoord function was called with an argument of the wrong type.

    A programming error rather than bad data: ``fhir.read(42)``, ``loads(text, cls=int)``,
    ``build_profiles([object()])``. It is a :class:`TypeError` too, so code that catches
    ``TypeError`` for misuse keeps working; the message names the argument and the type
    given, never its value.
    """


class StoreError(CarecoordError):
    """A store that cannot be opened or used as it is.

    Raised when a file is not a carecoord store (another application's database, or
    not a database at all), when it cannot be read or written (a read-only file, a full
    disk, a lock held for longer than the busy timeout), or when it is damaged. The
    message names the store's kind and what went wrong, never a path or stored data.
    """


class StoreVersionError(StoreError):
    """A store written by a newer carecoord, whose schema this version does not know.

    Carries ``found`` (the store's schema version) and ``supported`` (the newest this
    carecoord reads). Nothing in the store is changed: upgrade carecoord to open it.
    """

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"the store was written by a newer carecoord (schema version {found}); "
            f"this version reads up to schema version {supported}: upgrade carecoord",
        )


class InteropError(CarecoordError):
    """A problem reading or writing an exchange format (FHIR, HL7 v2, ...)."""


class MalformedMessage(InteropError):
    """Text or bytes that cannot be parsed as an HL7 v2 message.

    ``location`` says where parsing stopped (``"MSH-2"``, ``"segment 4"``); the message
    names what was expected there and never quotes the input, which may hold PHI.
    """

    location: str

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}" if location else reason)

    def __reduce__(self) -> tuple[type[MalformedMessage], tuple[str, str]]:
        return (type(self), (self.location, self.reason))


class IssueSeverity(StrEnum):
    """How bad an issue found while reading an exchange format is.

    Not the :class:`carecoord.rules.Severity` of a care gap (how much a gap matters for a
    work list): an issue's severity says what happened to the input element.
    """

    ERROR = "error"
    """The element (or the whole resource) was dropped."""
    WARNING = "warning"
    """The element was kept, read with a default or as it could be; nothing was lost
    that carecoord reads."""


class IssueCode(StrEnum):
    """Short, stable codes of the issues the exchange-format readers report.

    Members are strings (``IssueCode.WRONG_TYPE == "wrong-type"``), so they compare and
    serialise as their codes.
    """

    INVALID_JSON = "invalid-json"
    """The text is not JSON (the message gives line and column)."""
    INVALID_GZIP = "invalid-gzip"
    """A ``.gz`` file that cannot be decompressed."""
    LIMIT_EXCEEDED = "limit-exceeded"
    """Input over one of the read's limits (size, decompressed size, depth, string length,
    files): that document, or the rest of the input, is not read."""
    UNREADABLE_FILE = "unreadable-file"
    """A file or folder found inside a folder that cannot be read (permission denied, a
    broken or looping link, an I/O error); it is skipped."""
    NOT_A_FILE = "not-a-file"
    """A FIFO, socket or device where a file was expected; skipped without being opened."""
    NOT_AN_OBJECT = "not-an-object"
    """A document (or NDJSON line) whose top level is not a JSON object."""
    MISSING_RESOURCE_TYPE = "missing-resource-type"
    """A JSON object with no ``resourceType`` string."""
    MISSING_RESOURCE = "missing-resource"
    """A Bundle entry with no ``resource``."""
    WRONG_TYPE = "wrong-type"
    """An element of the wrong JSON type, or a reference to the wrong resource type."""
    DANGLING_REFERENCE = "dangling-reference"
    """A reference that does not resolve to any resource in the input."""
    LOGICAL_REFERENCE = "logical-reference"
    """A reference given by ``identifier`` only, which is not resolved."""
    EMPTY_REFERENCE = "empty-reference"
    """A reference with neither ``reference`` nor ``identifier`` (a display at most)."""
    MISSING_SUBJECT = "missing-subject"
    """A resource whose patient (subject) is absent or cannot be resolved."""
    INVALID_DATE = "invalid-date"
    """A date, dateTime or instant that is malformed or names an impossible day or time."""
    NAIVE_DATETIME = "naive-datetime"
    """A dateTime with a time of day but no time-zone offset."""
    UNSUPPORTED_RESOURCE = "unsupported-resource"
    """A resource type the reader does not map."""
    MISSING_ELEMENT = "missing-element"
    """A required element is absent: the resource (or the optional element) is skipped."""
    INVALID_VALUE = "invalid-value"
    """A value the model rejects (an end before its start, an empty code...)."""
    UNKNOWN_CODE = "unknown-code"
    """A code outside the value set carecoord reads; a default is used or it is dropped."""
    DUPLICATE_RESOURCE = "duplicate-resource"
    """The same resource (type and id) for the same patient more than once."""
    SUPERSEDED_VERSION = "superseded-version"
    """An older version of a resource read alongside a newer one (the newest is kept)."""
    NOT_MAPPED = "not-mapped"
    """A supported resource that does not describe anything carecoord keeps."""
    R5_CONTENT = "r5-content"
    """FHIR R5 content the R4 reader cannot read as R5 means it: read with a stated default."""
    MALFORMED_MESSAGE = "malformed-message"
    """Text that is not an HL7 v2 message (no MSH, bad encoding characters, a bad segment):
    that message is skipped, the message says where parsing stopped."""
    UNSUPPORTED_MESSAGE = "unsupported-message"
    """An HL7 v2 message type or trigger event the reader does not map; counted, skipped."""
    CHARACTER_SET = "character-set"
    """Bytes not valid in the message's declared character set (MSH-18): replaced by U+FFFD."""


_JSON_NAMES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def json_kind(value: object, *, article: bool = True) -> str:
    """The JSON name of a value's type, for messages (never the value itself).

    ``"an object"``, ``"an array"``, ``"a string"``, ``"a number"``, ``"a boolean"`` or
    ``"null"`` (without the article when ``article`` is false); any mapping is an object
    and a tuple an array. Anything else is named by its Python type.

    >>> json_kind(True), json_kind([]), json_kind(None), json_kind(2.5, article=False)
    ('a boolean', 'an array', 'null', 'number')
    """
    name = _JSON_NAMES.get(type(value))
    if name is None:
        if isinstance(value, bool):
            name = "boolean"
        elif isinstance(value, int | float):
            name = "number"
        elif isinstance(value, str):
            name = "string"
        elif isinstance(value, list | tuple):
            name = "array"
        elif isinstance(value, Mapping):
            name = "object"
        else:
            name = type(value).__name__
    if not article or name == "null":
        return name
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


# --------------------------------------------------------------------------- misuse checks

_Check = Callable[[object], bool]
_TEXT = (str, bytes, bytearray)
_CONTAINERS: dict[Any, type] = {
    abc.Container: abc.Container,
    abc.Iterable: abc.Iterable,
    abc.Iterator: abc.Iterator,
    abc.Collection: abc.Collection,
    abc.Sequence: abc.Sequence,
    abc.Set: abc.Set,
    abc.Mapping: abc.Mapping,
    tuple: tuple,
    list: list,
    set: set,
    frozenset: frozenset,
    dict: dict,
}

_COMMON_ADVICE: dict[str, str] = {
    "ImportResult": "pass result.records (the records the read found)",
    "ProfileSet": "a ProfileSet holds many profiles: loop over it, or take one with "
    "profiles.get(profile_id)",
    "str": "read files first with carecoord.fhir.read(path) (or read_paths) and pass "
    "result.records",
    "PosixPath": "read files first with carecoord.fhir.read(path) (or read_paths) and pass "
    "result.records",
    "WindowsPath": "read files first with carecoord.fhir.read(path) (or read_paths) and pass "
    "result.records",
}
# Advice for a wrong argument of a given type, by the type's name, where a function expects
# patient records or profiles (``instead`` in checked() overrides it per argument).

_PATH_ADVICE = frozenset({"str", "PosixPath", "WindowsPath"})


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _kind_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if kind is None or kind is type(None):
        return "None"
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_kind_name(k) for k in typing.get_args(kind))
    if origin is type:
        return "a class"
    if origin is not None:
        inner = [k for k in typing.get_args(kind) if k is not Ellipsis]
        base = getattr(origin, "__name__", str(origin)).lower()
        if base in {"mapping", "dict"}:
            return "a mapping"
        if len(inner) == 1:
            return f"{_a(base)} of {_kind_name(inner[0]).removeprefix('a ').removeprefix('an ')}"
        return _a(base)
    return _a(getattr(kind, "__name__", str(kind)))


def _check_for(kind: Any) -> _Check | None:
    """A predicate for ``kind`` (an evaluated annotation), or ``None`` when not checkable."""
    if kind is Any or isinstance(kind, TypeVar | ParamSpec) or kind is object:
        return None
    if kind is None or kind is type(None):
        return lambda value: value is None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        plain = [_plain(k) for k in typing.get_args(kind)]
        if all(p is not None for p in plain):  # ``str | None``, ``date | None``: one isinstance
            classes = tuple(p for p in plain if p is not None)
            return lambda value: isinstance(value, classes)
        parts = [_check_for(k) for k in typing.get_args(kind)]
        if any(p is None for p in parts):
            return None
        checks = [p for p in parts if p is not None]
        return lambda value: any(check(value) for check in checks)
    if origin is type:  # a class, or a parametrised generic class (``Fact[Encounter]``)
        return lambda value: isinstance(value, type) or isinstance(typing.get_origin(value), type)
    if origin is abc.Callable or kind is abc.Callable:
        return callable
    if origin is not None:
        container = _CONTAINERS.get(origin)
        if container is None:
            if isinstance(origin, type) and origin.__module__ != "typing":
                # a generic class such as os.PathLike[str]: its class is checked
                return lambda value: isinstance(value, origin)
            return None  # Literal, Annotated...: not checked here
        args = [a for a in typing.get_args(kind) if a is not Ellipsis]
        item = args[0] if len(args) == 1 and isinstance(args[0], type) else None
        if container is abc.Mapping or container is dict:
            return lambda value: isinstance(value, abc.Mapping)
        return _container_check(container, item)
    if kind is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if isinstance(kind, type):
        if getattr(kind, "_is_protocol", False) and not getattr(
            kind, "_is_runtime_protocol", False
        ):
            return None  # a static protocol: isinstance() cannot check it
        if kind.__module__ == "typing" or kind in _CONTAINERS:
            container = _CONTAINERS.get(kind)
            return None if container is None else _container_check(container, None)
        return lambda value: isinstance(value, kind)
    return None


def _plain(kind: Any) -> type | None:
    """``kind`` when ``isinstance(value, kind)`` alone checks it (``None`` for NoneType)."""
    if kind is None or kind is type(None):
        return type(None)
    if (
        not isinstance(kind, type)
        or typing.get_origin(kind) is not None
        or kind in (int, float, object)
        or kind in _CONTAINERS
        or kind.__module__ == "typing"
        or getattr(kind, "_is_protocol", False)
    ):
        return None
    return kind


def _container_check(container: type, item: type | None) -> _Check:
    text_ok = item is not None and issubclass(item, _TEXT) and container is abc.Iterable

    def check(value: object) -> bool:
        if isinstance(value, _TEXT) and not text_ok:
            return False
        if isinstance(value, abc.Mapping) and container not in (abc.Iterable, abc.Container):
            return False
        if not isinstance(value, container):
            return False
        if item is not None and isinstance(value, list | tuple):
            return all(isinstance(v, item) for v in value)
        return True

    return check


def _plan(
    fn: Callable[..., Any], extra: Mapping[str, Any]
) -> list[tuple[int | None, str, _Check, str]]:
    """Each checkable parameter: its position (``None`` when keyword-only), name, check.

    Annotations are evaluated in the function's module, then in ``extra`` (the exporting
    package, which has the names a module imports only for type checking).
    """
    plan = []
    namespace = {**extra, **getattr(fn, "__globals__", {})}
    for index, parameter in enumerate(inspect.signature(fn).parameters.values()):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = parameter.annotation
        if annotation is parameter.empty:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - the function's own annotation
            except Exception:  # noqa: S112 - a TYPE_CHECKING-only name: not checked
                continue
        check = _check_for(annotation)
        if check is None:
            continue
        position = None if parameter.kind is parameter.KEYWORD_ONLY else index
        plan.append((position, parameter.name, check, _kind_name(annotation)))
    return plan


def checked(
    fn: Callable[_P, _R],
    *,
    instead: Mapping[str, Mapping[str, str]] | None = None,
    namespace: Mapping[str, Any] | None = None,
    label: str | None = None,
) -> Callable[_P, _R]:
    """``fn`` with its arguments checked against its annotations before it runs.

    An argument of the wrong kind raises :class:`UsageError` (a ``TypeError`` too) naming
    the function, the parameter, what was expected and the type given (never the value),
    with advice on what to call instead: ``instead[parameter][type name]``, else the
    common advice (an ImportResult: pass ``result.records``; a ProfileSet: take one
    profile; a path where records are expected: read it first with
    ``carecoord.fhir.read``). Annotations checked: classes, ``X | None`` unions, and
    containers (``Iterable[X]``, ``Sequence[X]``, ``Mapping``...: never a string, and the
    items of a list or tuple against ``X``; an iterator is not consumed). Anything else
    (``Any``, literals, type variables) is not checked; a callable is checked to be one.
    The annotations are read on the first call, so importing stays cheap; names the
    function's module imports only for type checking are looked up in ``namespace``.
    ``label`` names the function in messages (a class's name for its ``__init__``).
    """
    if not callable(fn):
        raise UsageError(f"checked() fn: expected a function, got {_a(type(fn).__name__)}")
    plan: list[tuple[int | None, str, _Check, str]] | None = None
    advice = {k: dict(v) for k, v in (instead or {}).items()}

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        __tracebackhide__ = True  # pytest shows the caller's line, not this check
        nonlocal plan
        if plan is None:
            plan = _plan(fn, namespace or {})
        for position, name, check, expected in plan:
            if position is not None and position < len(args):
                value: object = args[position]
            elif name in kwargs:
                value = kwargs[name]
            else:
                continue
            if not check(value):
                raise _usage(label or fn.__name__, name, expected, value, advice.get(name, {}))
        return fn(*args, **kwargs)

    return wrapper


def _usage(
    function: str, name: str, expected: str, value: object, advice: Mapping[str, str]
) -> UsageError:
    given = "None" if value is None else type(value).__name__
    hint = advice.get(given)
    if hint is None and (given not in _PATH_ADVICE or "Record" in expected):
        hint = _COMMON_ADVICE.get(given) if "Profile" in expected or "Record" in expected else None
    got = given if value is None else _a(given)
    if isinstance(value, list | tuple) and value:
        kinds = sorted({type(item).__name__ for item in value})
        got += f" holding {', '.join(_a(k) for k in kinds)}"
    message = f"{function}() {name}: expected {expected}, got {got}"
    return UsageError(f"{message}; {hint}" if hint else message)


def checked_exports(
    namespace: MutableMapping[str, Any],
    *,
    skip: Iterable[str] = (),
    instead: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> None:
    """Replace each function of ``namespace["__all__"]`` by its :func:`checked` version.

    Used by the public packages on their exports (``checked_exports(globals())``, last in
    the package), so a user's call is checked while the library's own calls between its
    private modules are not slowed down. ``skip`` names functions left as they are (those
    that take any object); ``instead`` gives per function the advice of :func:`checked`.
    """
    given_namespace: object = namespace
    if not isinstance(given_namespace, MutableMapping) or "__all__" not in given_namespace:
        given = _a(type(namespace).__name__)
        raise UsageError(f"checked_exports() namespace: expected a module's globals(), got {given}")
    skipped = set(skip)
    for name in namespace["__all__"]:
        fn = namespace[name]
        if name in skipped or not inspect.isfunction(fn):
            continue
        if getattr(fn, "__carecoord_checked__", False):
            continue
        wrapped = checked(fn, instead=(instead or {}).get(name), namespace=namespace)
        wrapped.__carecoord_checked__ = True  # type: ignore[attr-defined]
        namespace[name] = wrapped


def checked_methods(cls: type, namespace: Mapping[str, Any] | None = None) -> None:
    """Replace each public method of ``cls`` (its own, not inherited) by its checked version.

    For the service classes whose methods are entry points (``Coordinator.ingest``...);
    ``namespace`` resolves names their module imports only for type checking.
    """
    given_class: object = cls
    if not isinstance(given_class, type):
        given = _a(type(given_class).__name__)
        raise UsageError(f"checked_methods() cls: expected a class, got {given}")
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        if getattr(method, "__carecoord_checked__", False):
            continue
        wrapped = checked(method, namespace=namespace)
        wrapped.__carecoord_checked__ = True  # type: ignore[attr-defined]
        setattr(cls, name, wrapped)


def checked_classes(namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Check the constructor arguments of the classes ``names`` of ``namespace``.

    Each class's ``__init__`` is replaced by its :func:`checked` version, so that
    ``MatchConfig(weights)`` or ``Coordinator("file.db")`` raises :class:`UsageError`
    naming the class, the parameter, what was expected and the type given, rather than
    failing deep inside or accepting it. Annotations are resolved in the class's module,
    then in ``namespace`` (the exporting package). Used by the public packages on their
    configuration, service and result classes; the value models that readers build once
    per element (facts, HL7 v2 fields, a comparison's field evidence) are not listed, so
    reading and merging pay nothing for it: their attrs validators check their values.
    """
    given_names: object = names
    given_namespace: object = namespace
    if not isinstance(given_namespace, Mapping):
        given = _a(type(given_namespace).__name__)
        raise UsageError(f"checked_classes() namespace: expected a module's globals(), got {given}")
    if isinstance(given_names, str) or not isinstance(given_names, Iterable):
        given = _a(type(given_names).__name__)
        raise UsageError(f"checked_classes() names: expected an iterable of str, got {given}")
    for name in names:
        cls = namespace[name]
        if not isinstance(cls, type):
            given = _a(type(cls).__name__)
            raise UsageError(f"checked_classes() names: {name} is {given}, not a class")
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "__carecoord_checked__", False):
            continue
        module = sys.modules.get(cls.__module__)
        resolve = {**namespace, **(vars(module) if module is not None else {})}
        wrapped = checked(init, namespace=resolve, label=cls.__name__)
        wrapped.__carecoord_checked__ = True  # type: ignore[attr-defined]
        type.__setattr__(cls, "__init__", wrapped)


checked_classes(globals(), ("Problem",))
