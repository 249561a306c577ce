"""Reading FHIR JSON: files, folders, NDJSON, gzip, text and objects; flattening Bundles.

:class:`InputReader` (and :func:`iter_documents`, its one-call form) turns any supported
input into ``(source label, JSON object)`` pairs, and :func:`iter_resources` flattens
Bundles (and resource-valued ``Parameters``, such as ``$care-gaps`` output) into
:class:`FlatResource` items. Neither maps anything: problems become
:class:`~carecoord.fhir._issues.ImportIssue` entries and reading goes on. Only a path the
caller gave that cannot be read at all raises :class:`~carecoord.errors.InteropError`.

Reading keeps to a :class:`~carecoord.fhir._limits.Limits`: a file is checked with
``stat`` before it is opened (a FIFO, socket or device is skipped, never opened), read no
further than its bound, gzip is decompressed as a stream stopped at the bound, and every
text's nesting is measured before it is parsed. Files are named in issues by their
position (``<file 3>``) unless the caller asks for their names (``name_files``): real
exports name files after their patients.

JSON is parsed with ``orjson`` when it is installed (``pip install 'carecoord[speed]'``)
and with the standard ``json`` module otherwise, made as strict as orjson: UTF-8 only, no
``NaN``, no number too large for a float, no lone surrogate.
"""

from __future__ import annotations

import gzip
import importlib
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

from carecoord.errors import InteropError, UsageError, json_kind
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity
from carecoord.fhir._limits import DEFAULT_LIMITS, Limits
from carecoord.fhir._resource_types import type_label
from carecoord.interop import ByteBudget

__all__ = [
    "JSON_BACKEND",
    "Document",
    "FlatResource",
    "InputReader",
    "InputSource",
    "is_json_text",
    "iter_documents",
    "iter_resources",
]


class _OverLimit(Exception):
    """A text over one of the limits: ``args`` are what it does and the bound's name."""


class _JsonTextError(ValueError):
    """JSON text the standard parser accepts but carecoord does not (as orjson does not)."""


def _reject_constant(_name: str) -> float:
    msg = "NaN and Infinity are not JSON numbers"
    raise _JsonTextError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        msg = "a number is too large for a float"
        raise _JsonTextError(msg)
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _json_loads(data: bytes) -> Any:
    r"""Parse with the standard ``json`` module as strictly as orjson parses.

    The text must be UTF-8 (a ``UnicodeDecodeError`` otherwise, encoded surrogates too);
    ``NaN``, ``Infinity`` and numbers beyond a float's range are refused, and so is a
    ``\\ud800``-style escape that leaves a lone surrogate in a string.
    """
    value = json.loads(
        data.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float
    )
    if _SURROGATE_ESCAPE.search(data) and not _encodable(value):
        msg = "a string holds a lone surrogate escape"
        raise _JsonTextError(msg)
    return value


def _encodable(value: Any) -> bool:
    """Whether every string in ``value`` (keys too) can be written as UTF-8."""
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, item in items:
            for text in (key, item):
                if type(text) is str and not text.isascii():
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:
                        return False
            if type(item) is dict or type(item) is list:
                stack.append(item)
    return True


def _pick_loads() -> tuple[str, Callable[[bytes], Any]]:
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return "json", _json_loads
    loads: Callable[[bytes], Any] = orjson.loads
    return "orjson", loads


JSON_BACKEND, _loads = _pick_loads()
"""Name of the JSON parser in use: ``"orjson"`` when importable, else ``"json"``."""


def _parser_depth(loads: Callable[[bytes], Any]) -> int | None:
    """The nesting ``loads`` refuses beyond, when it is orjson's (1,024 levels), else ``None``.

    Probed, not assumed: ``None`` unless 1,024 nested arrays parse and 1,025 do not, and
    alike for objects (``{}`` counts as a level, as for :func:`too_deep`).
    """
    if JSON_BACKEND != "orjson":
        return None
    limit = 1024
    for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
        for depth, fits in ((limit, True), (limit + 1, False)):
            try:
                loads(opening * (depth - 1) + b"{}" + closing * (depth - 1))
            except ValueError:
                parsed = False
            else:
                parsed = True
            if parsed is not fits:
                return None
    return limit


_ORJSON_LOADS = _loads if JSON_BACKEND == "orjson" else None
"""orjson's ``loads`` when it is the parser picked (tests may swap ``_loads``)."""
_PARSER_DEPTH = _parser_depth(_loads)
"""The nesting the parser itself refuses beyond (``None``: not known, not relied on)."""
_NO_VALUE = object()
"""What :func:`_bounded_loads` gives when it cannot vouch for a text (a sentinel)."""


def _bounded_loads(data: bytes, max_depth: int) -> Any:
    """The value of ``data`` parsed with the nesting bound checked by the parser itself.

    The text is parsed inside ``1,024 - max_depth`` arrays, so that the parser, which
    refuses more than 1,024 levels, refuses it exactly when it nests deeper than
    ``max_depth`` (what :func:`too_deep` measures, exactly for JSON text). The value is
    given only when the parse succeeds and each added array holds exactly one value
    (so the text was one JSON value); otherwise :data:`_NO_VALUE`, and the caller
    measures and parses the text as ever (so every error is found and worded the same).
    """
    if _PARSER_DEPTH is None or _loads is not _ORJSON_LOADS or max_depth >= _PARSER_DEPTH:
        return _NO_VALUE
    wrappers = _PARSER_DEPTH - max_depth
    try:
        value = _loads(b"".join((b"[" * wrappers, data, b"]" * wrappers)))
    except (ValueError, RecursionError):
        return _NO_VALUE
    for _ in range(wrappers):
        if type(value) is not list or len(value) != 1:
            return _NO_VALUE
        value = value[0]
    return value


Document: TypeAlias = tuple[str, dict[str, Any]]
"""A source label (``<file 3>``, ``<file 3>:12`` for an NDJSON line, ``<input>``,
``<input>[2]``; file names instead with ``name_files``) and a JSON object."""

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
_LEAD = re.compile("[\\s\ufeff\u200b\u200c\u200d\u2060]*")
# What may come before JSON text and says nothing: whitespace, byte-order marks and
# zero-width characters.
_NDJSON_LINE = re.compile(r":\d+$")

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


_new_flat = tuple.__new__
"""``FlatResource(...)`` without its Python-level ``__new__`` (the same tuple)."""


def is_json_text(text: str) -> bool:
    """Whether a ``str`` input is JSON text rather than a path.

    It is when, after whitespace, byte-order marks and zero-width characters, it starts
    with ``{`` or ``[``. Whether a file of that name exists does not matter.
    """
    return text[_lead(text) : _lead(text) + 1] in ("{", "[")


def _lead(text: str) -> int:
    """Where a text starts after whitespace, byte-order marks and zero-width characters."""
    found = _LEAD.match(text)
    return found.end() if found is not None else 0


# --------------------------------------------------------------------------- nesting

_ESCAPES = re.compile(rb"\\.", re.DOTALL)
_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')
_STRINGS = re.compile(rb'"[^"]*"')
_BRACES = bytes.maketrans(b"{}", b"[]")


_SMALL_TEXT = 1 << 16
"""Below this many bytes, :func:`too_deep` counts brackets on the text itself first."""


def too_deep(data: bytes, max_depth: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``max_depth``.

    Measured on the text, before parsing (the standard parser recurses once per level),
    in linear passes: escapes and strings are dropped, braces become brackets, and
    innermost ``[]`` pairs are removed once per level. Text that is not JSON may be
    judged deeper than it is, never shallower than a parser would go.
    """
    if len(data) < _SMALL_TEXT and data.count(b"[") + data.count(b"{") <= max_depth:
        return False  # a small text with fewer opening brackets than the bound
    if b"\\" in data:
        data = _drop_escapes(data)
    marks = data.translate(_BRACES, _NOT_MARKS)  # braces become brackets in the same pass
    # No more opening brackets than the bound (counted once escapes are gone, on the
    # marks: a twentieth of a FHIR text): no nesting can exceed it.
    if marks.count(b"[") <= max_depth:
        return False
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _STRINGS.sub(b"", marks)
    for depth in range(max_depth + 1):
        if not marks:
            return False
        fewer = marks.replace(b"[]", b"")
        if len(fewer) == len(marks):  # unbalanced: what is left is "]]...[[..."
            return depth + marks.count(b"[") > max_depth
        marks = fewer
    return True


_FEW_ESCAPES = 4096
"""Up to this many escapes, :func:`_drop_escapes` cuts them out itself (else a regex)."""


def _drop_escapes(data: bytes) -> bytes:
    """``data`` without its escapes: each backslash and the byte after it.

    The same bytes as ``_ESCAPES.sub(b"", data)`` (left to right, a backslash that is
    escaped escapes nothing, a final backslash stays), found by ``bytes.find`` rather
    than by the regex scanning every byte: JSON text has few escapes. Text with many
    goes to the regex.
    """
    chunks: list[bytes] = []
    start = 0
    last = len(data) - 1
    pos = data.find(b"\\")
    while pos >= 0:
        if len(chunks) == _FEW_ESCAPES:
            return _ESCAPES.sub(b"", data)
        if pos == last:  # nothing follows it: it stays
            break
        chunks.append(data[start:pos])
        start = pos + 2
        pos = data.find(b"\\", start)
    chunks.append(data[start:])
    return b"".join(chunks)


def _long_string(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value holds a string (or key) longer than ``limit``."""
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, item in items:
            if (type(key) is str and len(key) > limit) or (type(item) is str and len(item) > limit):
                return True
            if type(item) is dict or type(item) is list:
                stack.append(item)
    return False


# --------------------------------------------------------------------------- documents


class InputReader:
    """Reads the documents of one input, within its limits, naming files privately.

    One reader serves one read (``read_paths`` passes all its paths through one, so
    files are numbered and bytes counted across them). ``name_files`` makes issue sources
    the files' paths (relative to the folder read) instead of their positions;
    :meth:`place` gives the path-like label either way, for the source-id rules that use
    folder names.
    """

    def __init__(
        self, issues: IssueLog, limits: Limits = DEFAULT_LIMITS, *, name_files: bool = False
    ) -> None:
        self.issues = issues
        self.limits = limits
        self.name_files = name_files
        self.files = 0
        self.budget = ByteBudget(limits, issues)
        self._places: dict[str, str] = {}

    def place(self, label: str) -> str:
        """The label ``label`` would have with ``name_files`` (paths relative to a folder)."""
        found = self._places.get(label)
        if found is not None:
            return found
        line = _NDJSON_LINE.search(label)
        if line is not None:
            found = self._places.get(label[: line.start()])
            if found is not None:
                return found + line[0]
        return label

    def documents(self, source: InputSource, *, name: str = _INPUT) -> Iterator[Document]:
        """Yield ``(source label, JSON object)`` for every document in ``source``.

        ``source`` is what :func:`iter_documents` takes; ``name`` is how a path given
        here is named in errors when files are not named (``<input>``, ``<input>[2]``).

        Raises:
            InteropError: a path given that does not exist or cannot be read.
            UsageError: an input of an unsupported type.
        """
        value: object = source  # checked at run time: callers are not always typed
        if isinstance(value, bytes | bytearray):
            yield from self._text(bytes(value), name)
        elif isinstance(value, str):
            if not value.strip():
                msg = "an empty string is neither a path nor JSON text"
                raise InteropError(msg)
            if is_json_text(value):
                yield from self._text(value, name)
            else:
                yield from self._path(value, name)
        elif isinstance(value, os.PathLike):
            yield from self._path(value, name)
        elif isinstance(value, Mapping):
            yield name, value if isinstance(value, dict) else dict(value)
        elif isinstance(value, Iterable):
            yield from self._items(value)
        else:
            msg = (
                f"cannot read FHIR input from a {type(value).__name__}: expected a path, JSON "
                "text or bytes, a parsed resource (dict), a file object, or an iterable of them"
            )
            raise UsageError(msg)

    def _items(self, items: Iterable[object]) -> Iterator[Document]:
        for index, item in enumerate(items):
            label = f"{_INPUT}[{index}]"
            if self.budget.stopped:
                return
            if isinstance(item, Mapping):
                yield label, item if isinstance(item, dict) else dict(item)
            elif isinstance(item, bytes | bytearray | str | os.PathLike):
                yield from self.documents(item, name=label)
            else:
                self.issues.add(
                    "",
                    IssueCode.NOT_AN_OBJECT,
                    f"item is {json_kind(item)}, expected a JSON object (dict)",
                    source=label,
                )

    # ----------------------------------------------------------------------- paths

    def _path(self, value: str | os.PathLike[str], name: str) -> Iterator[Document]:
        try:
            path = Path(value)
            text = os.fspath(path)
        except TypeError:
            msg = "a path must be a str or os.PathLike of str"
            raise UsageError(msg) from None
        shown = text if self.name_files else name
        if "\x00" in text:
            msg = "a path cannot contain a NUL character"
            raise InteropError(msg)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            msg = f"no such file or directory: {shown}"
            raise InteropError(msg) from None
        except OSError as err:
            msg = f"cannot read {shown}: {err.strerror or type(err).__name__}"
            raise InteropError(msg) from None
        except ValueError:  # a path the file system cannot encode (a lone surrogate)
            msg = f"cannot read {shown}: not a valid path"
            raise InteropError(msg) from None
        if stat.S_ISDIR(mode):
            yield from self._folder(path, shown)
        else:
            yield from self._file(path, text, top=shown)

    def _folder(self, folder: Path, shown: str) -> Iterator[Document]:
        found = self._walk(folder, shown)
        for relative, file in found:
            if self.budget.stopped:
                return
            yield from self._file(file, relative, top=None)

    def _walk(self, folder: Path, shown: str) -> list[tuple[str, Path]]:
        """The files to read in ``folder``, recursively, sorted by their relative paths.

        Linked folders are not followed. A subfolder that cannot be listed is an issue;
        the folder itself raises. More files than the limit allows reads none of them.
        """
        room = self.limits.max_files - self.files
        found: list[tuple[str, Path]] = []
        pending: list[tuple[Path, str]] = [(folder, "")]
        while pending:
            here, prefix = pending.pop()
            try:
                with os.scandir(here) as entries:
                    for entry in entries:
                        relative = prefix + entry.name
                        if _is_folder(entry):
                            pending.append((Path(entry.path), relative + "/"))
                        elif entry.name.lower().endswith(_SUFFIXES) and not _linked_folder(entry):
                            found.append((relative, Path(entry.path)))
                            if len(found) > room:
                                what = f"folder holds more than {self.limits.max_files:,} files"
                                self.budget.limit(shown, what, "max_files")
                                return []
            except OSError as err:
                if not prefix:
                    msg = f"cannot read folder {shown}: {err.strerror or type(err).__name__}"
                    raise InteropError(msg) from None
                where = prefix.rstrip("/") if self.name_files else shown
                self._unreadable(where, "a folder inside it", err)
        found.sort()
        return found

    def _file(self, path: Path, relative: str, *, top: str | None) -> Iterator[Document]:
        """The documents of one file; ``top`` is how a path the caller gave is named."""
        self.files += 1
        label = relative if self.name_files else f"<file {self.files}>"
        self._places[label] = relative
        if self.files > self.limits.max_files:
            self.budget.limit(
                label, f"more than {self.limits.max_files:,} files", "max_files", rest=True
            )
            return
        data = self._file_bytes(path, label, top)
        if data is None:
            return
        name = path.name.lower()
        if name.endswith(".gz") or data.startswith(_GZIP_MAGIC):
            data = self._gunzip(data, label)
            if data is None:
                return
            name = name.removesuffix(".gz")
        self.budget.total += len(data)
        yield from self._parse(data, label, ndjson=name.endswith(".ndjson"))

    def _file_bytes(self, path: Path, label: str, top: str | None) -> bytes | None:
        """The bytes of a regular file, within the limits; ``None`` (an issue) otherwise."""
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                self._not_a_file(label)
                return None
            room = self.budget.room()
            if info.st_size > room:
                self.budget.too_big(label)
                return None
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with open(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the stat
                    self._not_a_file(label)
                    return None
                data = handle.read(info.st_size + 1)
                if len(data) > info.st_size:  # grew since the stat
                    data += handle.read(room + 1 - len(data))
        except (OSError, ValueError) as err:
            if top is not None:
                reason = err.strerror if isinstance(err, OSError) else None
                msg = f"cannot read {top}: {reason or 'not a readable file'}"
                raise InteropError(msg) from None
            self._unreadable(label, "a file", err)
            return None
        if len(data) > room:
            self.budget.too_big(label)
            return None
        return data

    def _gunzip(self, data: bytes, label: str) -> bytes | None:
        """Decompressed gzip data, streamed and stopped at the limits; ``None`` on an issue."""
        room = self.budget.room()
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                out = stream.read(room + 1)
        except (OSError, EOFError, zlib.error):
            self.issues.add(
                "",
                IssueCode.INVALID_GZIP,
                "file is not valid gzip data (corrupt or truncated)",
                source=label,
            )
            return None
        if len(out) > room:
            self.budget.too_big(label, "decompresses to more than")
            return None
        return out

    # ----------------------------------------------------------------------- text

    def _text(self, value: bytes | str, label: str) -> Iterator[Document]:
        room = self.budget.room()
        data = value
        if isinstance(data, str):
            if len(data) > room:
                self.budget.too_big(label)
                return
            data = data[_lead(data) :].encode("utf-8", "surrogatepass")
        if len(data) > room:
            self.budget.too_big(label)
            return
        self.budget.total += len(data)
        yield from self._parse(data, label, ndjson=False)

    def _parse(self, data: bytes, label: str, *, ndjson: bool) -> Iterator[Document]:
        data = data.removeprefix(_BOM)
        if ndjson:
            yield from self._lines(data, label)
            return
        if not data.strip():
            self.issues.add(
                "", IssueCode.INVALID_JSON, "empty document (no JSON text)", source=label
            )
            return
        try:
            value = self._json(data)
        except (ValueError, _OverLimit) as err:
            if _looks_like_ndjson(data, self.limits.max_depth):
                yield from self._lines(data, label)
            else:
                self._problem(err, label)
            return
        document = _as_object(value, "", label, self.issues)
        if document is not None:
            yield label, document

    def _lines(self, data: bytes, label: str) -> Iterator[Document]:
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            line_label = f"{label}:{number}"
            try:
                value = self._json(line)
            except (ValueError, _OverLimit) as err:
                self._problem(err, line_label, line_offset=number - 1)
                continue
            document = _as_object(value, f"NDJSON line {number}: ", line_label, self.issues)
            if document is not None:
                yield line_label, document

    def _json(self, data: bytes) -> Any:
        """The parsed text; ``ValueError`` when it is not JSON, ``_OverLimit`` over a limit."""
        limits = self.limits
        value = _NO_VALUE
        if len(data) >= _SMALL_TEXT:  # large: the parser checks the bound as it parses
            value = _bounded_loads(data, limits.max_depth)
        if value is _NO_VALUE:
            if too_deep(data, limits.max_depth):
                raise _OverLimit(f"nested deeper than {limits.max_depth:,} levels", "max_depth")
            try:
                value = _loads(data)
            except RecursionError:  # a caller already deep in its stack: still not a crash
                raise _OverLimit("nested too deeply for the parser", "max_depth") from None
        limit = limits.max_string_length
        if len(data) > limit and _long_string(value, limit):
            raise _OverLimit(
                f"holds a string longer than {limit:,} characters", "max_string_length"
            )
        return value

    def _problem(self, err: Exception, label: str, *, line_offset: int = 0) -> None:
        if isinstance(err, _OverLimit):
            self.budget.limit(label, *err.args)
        else:
            assert isinstance(err, ValueError)
            message = _json_error(err, line_offset=line_offset)
            self.issues.add("", IssueCode.INVALID_JSON, message, source=label)

    # ----------------------------------------------------------------------- issues

    def _not_a_file(self, label: str) -> None:
        self.issues.add(
            "",
            IssueCode.NOT_A_FILE,
            "not a regular file (a FIFO, socket or device); skipped without opening it",
            source=label,
        )

    def _unreadable(self, label: str, what: str, err: Exception) -> None:
        reason = err.strerror if isinstance(err, OSError) else None
        self.issues.add(
            "",
            IssueCode.UNREADABLE_FILE,
            f"{what} cannot be read ({reason or 'not a valid path'}); skipped",
            source=label,
        )


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _linked_folder(entry: os.DirEntry[str]) -> bool:
    """A link to a folder, which is not followed (as ``os.walk`` does not)."""
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def iter_documents(
    source: InputSource,
    *,
    issues: IssueLog,
    limits: Limits = DEFAULT_LIMITS,
    name_files: bool = False,
) -> Iterator[Document]:
    """Yield ``(source label, JSON object)`` for every document in ``source``.

    ``source`` may be:

    * a path (``pathlib.Path``, any ``os.PathLike`` or ``str``) to a file, or to a folder
      read recursively in sorted order, taking ``.json``, ``.ndjson``, ``.json.gz`` and
      ``.ndjson.gz`` files (linked folders are not followed);
    * JSON text as ``bytes``, or as a ``str`` that starts with ``{`` or ``[`` after
      whitespace, byte-order marks and zero-width characters (:func:`is_json_text`; any
      other ``str`` is a path); NDJSON, one object per line, is recognised too;
    * one resource as a ``dict`` (any mapping);
    * an iterable of any of these (dicts, JSON ``bytes``, paths or JSON text), read in
      order as one input, so references resolve across all of them.

    Files are labelled ``<file N>`` (numbered from 1 in reading order), or by their path
    (relative to the folder read) with ``name_files``; NDJSON lines ``<label>:<line>``.
    Malformed JSON, a top level that is not an object, a corrupt gzip file, a file that
    is not a regular file or cannot be read inside a folder, and anything over
    ``limits`` are recorded in ``issues`` and skipped.

    Raises:
        InteropError: a path given that does not exist or cannot be read.
        UsageError: an input of an unsupported type.
    """
    yield from InputReader(issues, limits, name_files=name_files).documents(source)


def _looks_like_ndjson(data: bytes, max_depth: int) -> bool:
    """Whether text that failed to parse as one document is NDJSON.

    It is when it has two or more non-blank lines and the first is a JSON object.
    """
    lines = (line for line in data.split(b"\n") if line.strip())
    first = next(lines, None)
    if first is None or next(lines, None) is None or too_deep(first, max_depth):
        return False
    try:
        return isinstance(_loads(first), dict)
    except (ValueError, RecursionError):
        return False


def _json_error(err: ValueError, *, line_offset: int = 0) -> str:
    if isinstance(err, json.JSONDecodeError):
        # JSONDecodeError messages (orjson's too) are fixed templates that never quote
        # the input.
        return f"not valid JSON at line {err.lineno + line_offset}, column {err.colno}: {err.msg}"
    if isinstance(err, UnicodeDecodeError):
        return f"not valid UTF-8 text (at byte {err.start})"
    if isinstance(err, _JsonTextError):
        return f"not valid JSON: {err}"
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
    # interpreter's recursion limit. The root is named by its type only when it is a FHIR
    # type name: the text could be anything. A container object met twice (objects given
    # directly can hold themselves) is opened once.
    root: _Entries = [(type_label(resource_type), document, None)]
    stack: list[Iterator[tuple[str, dict[str, Any], str | None]]] = [iter(root)]
    opened: set[int] = set()
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        path, resource, full_url = item
        kind = resource.get("resourceType")
        children: _Entries | None = None
        if kind in ("Bundle", "Parameters") and id(resource) in opened:
            issues.add(
                path,
                IssueCode.DUPLICATE_RESOURCE,
                f"this {kind} object is already being read (it contains itself); skipped",
                source=label,
            )
            continue
        if kind == "Bundle":
            children = _bundle_entries(resource, path, label, issues)
        elif kind == "Parameters" and unwrap_parameters:
            children = _parameter_resources(resource, path, label, issues)
        if children is None:
            yield _new_flat(FlatResource, (path, resource, full_url, label))
        else:
            opened.add(id(resource))
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
    seen: set[int] = set()
    for list_path, values in pending:  # grows while read: breadth first
        if not isinstance(values, list) or id(values) in seen:
            continue
        seen.add(id(values))
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
