"""Reading FHIR JSON: files, folders, NDJSON, gzip, text and objects; flattening Bundles.

:func:`iter_documents` turns any supported input into ``(source label, JSON object)``
pairs and :func:`iter_resources` flattens Bundles (and resource-valued ``Parameters``,
such as ``$care-gaps`` output) into :class:`FlatResource` items. Neither maps anything:
problems become :class:`~carecoord.fhir._issues.ImportIssue` entries and reading goes
on. Only a path that cannot be read at all raises :class:`~carecoord.errors.InteropError`.

JSON is parsed with ``orjson`` when it is installed (``pip install 'carecoord[speed]'``)
and with the standard ``json`` module otherwise; each file is read as bytes and parsed in
one call.
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

from carecoord.errors import InteropError, json_kind
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity

__all__ = [
    "JSON_BACKEND",
    "Document",
    "FlatResource",
    "InputSource",
    "iter_documents",
    "iter_resources",
]


def _pick_loads() -> tuple[str, Callable[[bytes], Any]]:
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return "json", json.loads
    loads: Callable[[bytes], Any] = orjson.loads
    return "orjson", loads


JSON_BACKEND, _loads = _pick_loads()
"""Name of the JSON parser in use: ``"orjson"`` when importable, else ``"json"``."""

Document: TypeAlias = tuple[str, dict[str, Any]]
"""A source label (file name, ``name:line`` for NDJSON, or ``<input>``) and a JSON object."""

InputSource: TypeAlias = (
    "str | bytes | bytearray | os.PathLike[str] | Mapping[str, Any]"
    " | Iterable[Mapping[str, Any] | bytes | str | os.PathLike[str]]"
)
"""What :func:`iter_documents` accepts."""

_Entries: TypeAlias = list[tuple[str, dict[str, Any], str | None]]
# The valid children of a container: (path, resource, fullUrl).

_INPUT = "<input>"
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_SUFFIXES = (".json", ".ndjson", ".json.gz", ".ndjson.gz")

# Bundle types whose entries may legitimately carry no resource (a DELETE or GET in a
# transaction or batch, a deleted version in a history, a bare response, an id-only
# subscription notification).
_RESOURCE_OPTIONAL = frozenset(
    {
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "subscription-notification",
    },
)


class FlatResource(NamedTuple):
    """One resource out of the input, with where it was found.

    ``path`` is a FHIR path inside its document (``Bundle.entry[3].resource``, or the
    resource type for a document that is a single resource), ``full_url`` the entry's
    ``fullUrl`` (``None`` outside a Bundle) and ``source`` the document's source label,
    as used in :attr:`ImportIssue.source <carecoord.fhir._issues.ImportIssue.source>`.
    """

    path: str
    resource: dict[str, Any]
    full_url: str | None
    source: str


# --------------------------------------------------------------------------- documents


def iter_documents(source: InputSource, *, issues: IssueLog) -> Iterator[Document]:
    """Yield ``(source label, JSON object)`` for every document in ``source``.

    ``source`` may be:

    * a path (``pathlib.Path``, any ``os.PathLike`` or ``str``) to a file, or to a folder
      read recursively in sorted order, taking ``.json``, ``.ndjson``, ``.json.gz`` and
      ``.ndjson.gz`` files (labels are paths relative to the folder);
    * JSON text as ``bytes``, or as a ``str`` that is not an existing path and starts
      with ``{`` or ``[`` (NDJSON, one object per line, is recognised too);
    * one resource as a ``dict`` (any mapping);
    * an iterable of any of these (dicts, JSON ``bytes``, paths or JSON text), read in
      order as one input, so references resolve across all of them.

    Malformed JSON, a top level that is not an object and a corrupt gzip file are
    recorded in ``issues`` and skipped. NDJSON lines are labelled ``name:line``.

    Raises:
        InteropError: a path that does not exist or cannot be read, or an input of an
            unsupported type.
    """
    value: object = source  # checked at run time: callers are not always typed
    if isinstance(value, bytes | bytearray):
        yield from _parse(bytes(value), _INPUT, issues, ndjson=False)
    elif isinstance(value, str):
        if not value.strip():
            msg = "an empty string is neither a path nor JSON text"
            raise InteropError(msg)
        if value.lstrip()[:1] in ("{", "[") and not os.path.exists(value):
            yield from _parse(value.encode("utf-8", "surrogatepass"), _INPUT, issues, ndjson=False)
        else:
            yield from _iter_path(Path(value), issues)
    elif isinstance(value, os.PathLike):
        yield from _iter_path(Path(value), issues)
    elif isinstance(value, Mapping):
        yield _INPUT, value if isinstance(value, dict) else dict(value)
    elif isinstance(value, Iterable):
        for index, item in enumerate(value):
            label = f"{_INPUT}[{index}]"
            if isinstance(item, Mapping):
                yield label, item if isinstance(item, dict) else dict(item)
            elif isinstance(item, bytes | bytearray):
                yield from _parse(bytes(item), label, issues, ndjson=False)
            elif isinstance(item, str | os.PathLike):
                yield from iter_documents(item, issues=issues)
            else:
                issues.add(
                    "",
                    IssueCode.NOT_AN_OBJECT,
                    f"item is {json_kind(item)}, expected a JSON object (dict)",
                    source=label,
                )
    else:
        msg = f"cannot read FHIR input from a {type(value).__name__}"
        raise InteropError(msg)


def _iter_path(path: Path, issues: IssueLog) -> Iterator[Document]:
    try:
        is_dir = path.is_dir()
        if not is_dir:
            path.stat()
    except FileNotFoundError:
        msg = f"no such file or directory: {path}"
        raise InteropError(msg) from None
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise InteropError(msg) from None
    if not is_dir:
        yield from _read_file(path, str(path), issues)
        return
    for label, file in _walk(path):
        yield from _read_file(file, label, issues)


def _walk(folder: Path) -> list[tuple[str, Path]]:
    def fail(err: OSError) -> None:
        msg = f"cannot read folder {err.filename}: {err.strerror or err}"
        raise InteropError(msg)

    found: list[tuple[str, Path]] = []
    for dirpath, _dirnames, filenames in os.walk(folder, onerror=fail):
        here = Path(dirpath)
        for name in filenames:
            if name.lower().endswith(_SUFFIXES):
                file = here / name
                found.append((file.relative_to(folder).as_posix(), file))
    found.sort()
    return found


def _read_file(path: Path, label: str, issues: IssueLog) -> Iterator[Document]:
    try:
        data = path.read_bytes()
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror or err}"
        raise InteropError(msg) from None
    name = path.name.lower()
    if name.endswith(".gz") or data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            issues.add(
                "",
                IssueCode.INVALID_GZIP,
                "file is not valid gzip data (corrupt or truncated)",
                source=label,
            )
            return
        name = name.removesuffix(".gz")
    yield from _parse(data, label, issues, ndjson=name.endswith(".ndjson"))


def _parse(data: bytes, label: str, issues: IssueLog, *, ndjson: bool) -> Iterator[Document]:
    data = data.removeprefix(_BOM)
    if ndjson:
        yield from _parse_lines(data, label, issues)
        return
    if not data.strip():
        issues.add("", IssueCode.INVALID_JSON, "empty document (no JSON text)", source=label)
        return
    try:
        value = _parse_json(data)
    except ValueError as err:
        if _looks_like_ndjson(data):
            yield from _parse_lines(data, label, issues)
        else:
            issues.add("", IssueCode.INVALID_JSON, _json_error(err), source=label)
        return
    document = _as_object(value, "", label, issues)
    if document is not None:
        yield label, document


def _parse_json(data: bytes) -> Any:
    """Parse with the JSON backend.

    The garbage collector is left alone here: :func:`carecoord.fhir.read` pauses it
    around the whole read when asked (see :func:`~carecoord.fhir.gc_paused`).
    """
    return _loads(data)


def _looks_like_ndjson(data: bytes) -> bool:
    """Whether text that failed to parse as one document is NDJSON.

    It is when it has two or more non-blank lines and the first is a JSON object.
    """
    lines = [line for line in data.split(b"\n") if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(_parse_json(lines[0]), dict)
    except ValueError:
        return False


def _parse_lines(data: bytes, label: str, issues: IssueLog) -> Iterator[Document]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        line_label = f"{label}:{number}"
        try:
            value = _parse_json(line)
        except ValueError as err:
            issues.add(
                "",
                IssueCode.INVALID_JSON,
                _json_error(err, line_offset=number - 1),
                source=line_label,
            )
            continue
        document = _as_object(value, f"NDJSON line {number}: ", line_label, issues)
        if document is not None:
            yield line_label, document


def _json_error(err: ValueError, *, line_offset: int = 0) -> str:
    if isinstance(err, json.JSONDecodeError):
        # JSONDecodeError messages are fixed templates that never quote the input.
        return f"not valid JSON at line {err.lineno + line_offset}, column {err.colno}: {err.msg}"
    if isinstance(err, UnicodeDecodeError):
        return f"not valid UTF-8 text (at byte {err.start})"
    return "not valid JSON"


def _as_object(value: Any, prefix: str, label: str, issues: IssueLog) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    kind = json_kind(value)
    issues.add(
        "",
        IssueCode.NOT_AN_OBJECT,
        f"{prefix}top level is {kind}, expected a JSON object (a FHIR resource)",
        source=label,
    )
    return None


# --------------------------------------------------------------------------- resources


def iter_resources(
    documents: Iterable[Document],
    *,
    issues: IssueLog,
    unwrap_parameters: bool = True,
) -> Iterator[FlatResource]:
    """Flatten ``documents`` into one :class:`FlatResource` per resource.

    A Bundle of any type is replaced by its entries' resources (``Bundle.entry[3].resource``),
    recursively for Bundles inside entries; the Bundle itself is not yielded. With
    ``unwrap_parameters`` a ``Parameters`` resource that carries resources (such as the
    output of ``$care-gaps``) is replaced the same way by the resources in its
    ``parameter[].resource`` and ``part[].resource`` (``Parameters.parameter[0].resource``);
    a ``Parameters`` without resources is yielded as it is. Contained resources stay
    inside their container.

    Entries that are not objects, lack a resource or a ``resourceType`` are skipped with
    an issue: an entry without a resource is only a warning in transaction, batch,
    history, response and subscription-notification Bundles, or when it carries a
    ``request`` or ``response``, and an error otherwise.
    """
    for label, document in documents:
        yield from _flatten(document, label, issues, unwrap_parameters=unwrap_parameters)


def _flatten(
    document: dict[str, Any],
    label: str,
    issues: IssueLog,
    *,
    unwrap_parameters: bool,
) -> Iterator[FlatResource]:
    resource_type = document.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        issues.add(
            "",
            IssueCode.MISSING_RESOURCE_TYPE,
            "JSON object has no resourceType string; not a FHIR resource",
            source=label,
        )
        return
    # Depth-first with an explicit stack, so deeply nested Bundles cannot exhaust the
    # interpreter's recursion limit.
    root: _Entries = [(resource_type, document, None)]
    stack: list[Iterator[tuple[str, dict[str, Any], str | None]]] = [iter(root)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        path, resource, full_url = item
        kind = resource.get("resourceType")
        children: _Entries | None = None
        if kind == "Bundle":
            children = _bundle_entries(resource, path, label, issues)
        elif kind == "Parameters" and unwrap_parameters:
            children = _parameter_resources(resource, path, label, issues)
        if children is None:
            yield FlatResource(path, resource, full_url, label)
        else:
            stack.append(iter(children))


def _bundle_entries(
    bundle: dict[str, Any],
    path: str,
    label: str,
    issues: IssueLog,
) -> _Entries:
    bundle_type = bundle.get("type")
    if bundle_type is not None and not isinstance(bundle_type, str):
        issues.add(
            f"{path}.type",
            IssueCode.WRONG_TYPE,
            f"Bundle.type should be a string, not {type(bundle_type).__name__}; read as untyped",
            source=label,
        )
        bundle_type = None
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        issues.add(
            f"{path}.entry",
            IssueCode.WRONG_TYPE,
            f"Bundle.entry is {json_kind(entries)}, expected an array",
            source=label,
        )
        return []
    found: _Entries = []
    for index, entry in enumerate(entries):
        if type(entry) is dict:  # the well-formed entry, which reports nothing: fast path
            full_url = entry.get("fullUrl")
            resource = entry.get("resource")
            if (full_url is None or type(full_url) is str) and type(resource) is dict:
                resource_type = resource.get("resourceType")
                if type(resource_type) is str and resource_type:
                    found.append((f"{path}.entry[{index}].resource", resource, full_url or None))
                    continue
        entry_path = f"{path}.entry[{index}]"
        if not isinstance(entry, dict):
            issues.add(
                entry_path,
                IssueCode.WRONG_TYPE,
                f"Bundle entry is {json_kind(entry)}, expected an object",
                source=label,
            )
            continue
        full_url = entry.get("fullUrl")
        if full_url is not None and not isinstance(full_url, str):
            issues.add(
                f"{entry_path}.fullUrl",
                IssueCode.WRONG_TYPE,
                "fullUrl is not a string; ignored",
                severity=IssueSeverity.WARNING,
                source=label,
            )
            full_url = None
        resource = entry.get("resource")
        if resource is None:
            _missing_resource(entry, entry_path, bundle_type, label, issues)
            continue
        checked = _checked_resource(resource, f"{entry_path}.resource", label, issues)
        if checked is not None:
            found.append((f"{entry_path}.resource", checked, full_url or None))
    return found


def _missing_resource(
    entry: dict[str, Any],
    entry_path: str,
    bundle_type: object,
    label: str,
    issues: IssueLog,
) -> None:
    optional = isinstance(bundle_type, str) and bundle_type in _RESOURCE_OPTIONAL
    if optional or "request" in entry or "response" in entry:
        kind = bundle_type if isinstance(bundle_type, str) else "untyped"
        issues.add(
            entry_path,
            IssueCode.MISSING_RESOURCE,
            f"entry has no resource (allowed in a {kind} Bundle); skipped",
            severity=IssueSeverity.WARNING,
            source=label,
        )
    else:
        issues.add(
            entry_path,
            IssueCode.MISSING_RESOURCE,
            "entry has no resource; skipped",
            source=label,
        )


def _checked_resource(
    resource: object,
    path: str,
    label: str,
    issues: IssueLog,
) -> dict[str, Any] | None:
    if not isinstance(resource, dict):
        issues.add(
            path,
            IssueCode.WRONG_TYPE,
            f"resource is {json_kind(resource)}, expected an object",
            source=label,
        )
        return None
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        issues.add(
            path,
            IssueCode.MISSING_RESOURCE_TYPE,
            "resource has no resourceType string; skipped",
            source=label,
        )
        return None
    return resource


def _parameter_resources(
    parameters: dict[str, Any],
    path: str,
    label: str,
    issues: IssueLog,
) -> _Entries | None:
    """The resources inside a Parameters resource, or ``None`` when it holds none."""
    found: _Entries = []
    holds_resources = False
    pending: list[tuple[str, object]] = [(f"{path}.parameter", parameters.get("parameter"))]
    while pending:
        list_path, values = pending.pop(0)
        if not isinstance(values, list):
            continue
        for index, parameter in enumerate(values):
            if not isinstance(parameter, dict):
                continue
            item_path = f"{list_path}[{index}]"
            if "resource" in parameter:
                holds_resources = True
                checked = _checked_resource(
                    parameter["resource"],
                    f"{item_path}.resource",
                    label,
                    issues,
                )
                if checked is not None:
                    found.append((f"{item_path}.resource", checked, None))
            if "part" in parameter:
                pending.append((f"{item_path}.part", parameter["part"]))
    return found if holds_resources else None
