"""Reading a FHIR Bulk Data export one patient at a time, in bounded memory.

A Bulk Data ``$export`` writes one NDJSON file per resource type (``Patient.ndjson``,
``Encounter.ndjson``, ...), so one patient's resources are spread over every file.
:func:`read_bulk` regroups them without holding the export:

1. **Scan.** Every line of every file is parsed once and filed by the patient it belongs
   to (``subject``, ``patient``, ``beneficiary``, ``for``, an Appointment participant or
   a Provenance target naming a ``Patient``). Parties and supporting resources
   (Organization, Practitioner, PractitionerRole, Location, Medication, ...) that name no
   patient are kept in memory: they are shared by many patients, and their number is
   bounded by the organisations and people of the export, not by its resources. The other
   lines go, as raw bytes with their patient id, into an external sort: sorted runs of at
   most ``chunk_bytes`` spilled to temporary files.
2. **Join.** A resource that names no patient but points at a patient's resource (a
   Provenance whose target is a Condition) is joined to that patient by a second external
   sort (resource reference -> patient id), on disk too.
3. **Assemble.** The runs are merged (one line per run in memory); the lines of one
   patient, with the shared resources they refer to (transitively), are read by the same
   passes as :func:`~carecoord.fhir.read`, and that patient's records are yielded.

So memory holds one patient's resources, the shared resources, and one buffered line
per sorted run, whatever the size of the export. The records are those
:func:`~carecoord.fhir.read` gives for the whole folder (same source ids, same labels
in issues); see ``docs/fhir.md`` ("Bulk export, one patient at a time") for where the two
can differ.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import heapq
import os
import re
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from carecoord.errors import InteropError, UsageError
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._input import Document, InputReader, InputSource, _loads, _OverLimit
from carecoord.fhir._issues import ImportIssue, IssueCode, IssueLog
from carecoord.fhir._limits import Limits
from carecoord.fhir._read import ImportResult, ResourceCounts, _run, check_options
from carecoord.fhir._read_passes import PARTY_TYPES
from carecoord.fhir._resource_types import type_label

__all__ = ["SHARED_TYPES", "BulkRead", "patient_of", "read_bulk"]

SHARED_TYPES = frozenset(
    {
        *PARTY_TYPES,
        "Location",
        "Medication",
        "HealthcareService",
        "Endpoint",
        "Substance",
        "Device",
    }
)
"""Types kept in memory and shared by every patient that refers to them, when a resource
of the type names no patient (a Device that names one is that patient's)."""

_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?$")
_ANY_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?$")
_SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "for")
_HEADER = struct.Struct("<IQI")
_DEFAULT_CHUNK = 64 * 2**20
_FAN_IN = 16
"""At most this many sorted runs are merged at once (more are merged in stages first)."""
_UNSUPPORTED = " resource(s) not mapped (carecoord does not read this type)"


def _reference(value: object) -> str | None:
    if type(value) is dict:
        ref = value.get("reference")
        if type(ref) is str:
            return ref
    return None


def patient_of(resource: Mapping[str, Any]) -> str | None:
    """The id of the patient a resource belongs to, from its own elements; else ``None``.

    A Patient is its own; otherwise the first ``Patient`` named by ``subject``,
    ``patient``, ``beneficiary`` or ``for``, an Appointment's ``participant.actor`` or a
    Provenance's ``target`` (references ``Patient/<id>``, relative or absolute).
    """
    kind = resource.get("resourceType")
    if kind == "Patient":
        ident = resource.get("id")
        return ident if type(ident) is str and ident else None
    candidates: list[object] = []
    for name in _SUBJECT_FIELDS:
        value = resource.get(name)
        if type(value) is list:
            candidates.extend(value)
        elif value is not None:
            candidates.append(value)
    if kind == "Appointment":
        participants = resource.get("participant")
        items = participants if type(participants) is list else ()
        candidates.extend(item.get("actor") for item in items if type(item) is dict)
    elif kind == "Provenance":
        targets = resource.get("target")
        candidates.extend(targets if type(targets) is list else ())
    for candidate in candidates:
        ref = _reference(candidate)
        if ref is not None:
            found = _PATIENT_REF.search(ref)
            if found is not None:
                return found[1]
    return None


def _references(value: Any) -> Iterator[str]:
    """Every ``Type/id`` a JSON value refers to (``reference`` strings, normalised)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            ref = node.get("reference")
            if type(ref) is str:
                found = _ANY_REF.search(ref)
                if found is not None:
                    yield f"{found[1]}/{found[2]}"
            stack.extend(v for v in node.values() if type(v) is dict or type(v) is list)
        elif type(node) is list:
            stack.extend(v for v in node if type(v) is dict or type(v) is list)


# --------------------------------------------------------------------------- external sort


class _SortedRuns:
    """An external sort of ``(key, seq, payload)``: sorted runs spilled past a size."""

    def __init__(self, folder: Path, name: str, chunk_bytes: int) -> None:
        self._folder = folder
        self._name = name
        self._chunk = chunk_bytes
        self._buffer: list[tuple[str, int, bytes]] = []
        self._size = 0
        self._runs: list[Path] = []
        self._made = 0
        self.count = 0

    def _new_path(self) -> Path:
        self._made += 1
        return self._folder / f"{self._name}-{self._made}.run"

    def add(self, key: str, seq: int, payload: bytes) -> None:
        self._buffer.append((key, seq, payload))
        self._size += len(payload) + len(key) + 64
        self.count += 1
        if self._size >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort()
        path = self._new_path()
        with open(path, "wb") as out:
            for key, seq, payload in self._buffer:
                encoded = key.encode("utf-8", "surrogatepass")
                out.write(_HEADER.pack(len(encoded), seq, len(payload)))
                out.write(encoded)
                out.write(payload)
        self._runs.append(path)
        self._buffer = []
        self._size = 0

    @staticmethod
    def _read(path: Path, buffer: int) -> Iterator[tuple[str, int, bytes]]:
        with open(path, "rb", buffering=buffer) as handle:
            while header := handle.read(_HEADER.size):
                key_len, seq, size = _HEADER.unpack(header)
                key = handle.read(key_len).decode("utf-8", "surrogatepass")
                yield key, seq, handle.read(size)

    def merged(self) -> Iterator[tuple[str, int, bytes]]:
        """Every item, sorted by ``(key, seq)``; the buffer is released as it is read."""
        if not self._runs:
            items, self._buffer = sorted(self._buffer), []
            yield from items
            return
        if self._buffer:
            self._spill()
        buffer = max(8192, min(2**20, self._chunk // _FAN_IN))
        while len(self._runs) > _FAN_IN:  # merge the oldest runs: at most _FAN_IN are read
            first, self._runs = self._runs[:_FAN_IN], self._runs[_FAN_IN:]
            path = self._new_path()
            with open(path, "wb") as out:
                for key, seq, payload in heapq.merge(*(self._read(p, buffer) for p in first)):
                    encoded = key.encode("utf-8", "surrogatepass")
                    out.write(_HEADER.pack(len(encoded), seq, len(payload)))
                    out.write(encoded)
                    out.write(payload)
            for done in first:
                done.unlink()
            self._runs.append(path)
        yield from heapq.merge(*(self._read(p, buffer) for p in self._runs))

    @property
    def runs(self) -> int:
        """How many runs were spilled to disk."""
        return self._made


# --------------------------------------------------------------------------- the read


class _GroupReader(InputReader):
    """An input reader that hands the passes one patient's documents, already parsed."""

    def __init__(self, issues: IssueLog, limits: Limits, places: dict[str, str]) -> None:
        super().__init__(issues, limits)
        self._places = places
        self.group: list[Document] = []

    def documents(self, source: InputSource, *, name: str = "<input>") -> Iterator[Document]:
        """The group's documents (``source`` only names the folder, for source ids)."""
        del source, name
        yield from self.group


class BulkRead:
    """The records of a bulk export, one patient at a time (what :func:`read_bulk` gives).

    Iterate it once: each item is an :class:`~carecoord.fhir.ImportResult` holding one
    patient's records (one per source that has the patient) and the issues of that
    patient's resources, in patient-id order. Once iteration ends, :attr:`issues` and
    :attr:`counts` cover the whole export (file problems, shared resources, every
    patient), and the temporary files are gone. Use it as a context manager to remove
    them early when iteration stops before the end.
    """

    def __init__(
        self,
        folder: Path,
        *,
        source_id: str | None,
        default_tz: dt.tzinfo | None,
        limits: Limits,
        name_files: bool,
        chunk_bytes: int,
        temp_dir: str | os.PathLike[str] | None,
        pause_gc: bool,
    ) -> None:
        self._folder = folder
        self._source_id = source_id
        self._tz = default_tz
        self._limits = limits
        self._pause_gc = pause_gc
        self._reader = InputReader(IssueLog(), limits, name_files=name_files)
        self._temp_dir = temp_dir
        self._tmp = Path()
        self._chunk = chunk_bytes
        self._labels: list[str] = []
        self._shared: dict[str, list[tuple[int, bytes]]] = {}
        self._shared_labels: set[str] = set()
        self._roles: dict[str, list[str]] = {}
        self._used_shared: set[str] = set()
        self._issues: list[ImportIssue] = []
        self._counts: dict[str, list[int]] = {}
        self._unsupported: dict[str, tuple[ImportIssue, int]] = {}
        self._started = False
        self._done = False
        self.patients = 0
        """How many patient groups were yielded so far."""
        self.runs = 0
        """How many sorted runs were spilled to disk (0: the export fit in one chunk)."""

    # ------------------------------------------------------------------ public

    @property
    def done(self) -> bool:
        """Whether iteration has ended (then :attr:`issues` and :attr:`counts` are final)."""
        return self._done

    @property
    def issues(self) -> tuple[ImportIssue, ...]:
        """Every issue found so far (all of them once :attr:`done`)."""
        return (*self._reader.issues, *self._issues, *self._final_unsupported())

    @property
    def counts(self) -> Mapping[str, ResourceCounts]:
        """Resources read, mapped and skipped by type, so far (all once :attr:`done`)."""
        return {k: ResourceCounts(*v) for k, v in sorted(self._counts.items())}

    def result(self) -> ImportResult:
        """The export's issues and counts as an :class:`ImportResult` without records.

        Raises:
            UsageError: iteration has not ended yet.
        """
        if not self._done:
            msg = "the bulk read is not finished: iterate it to the end first"
            raise UsageError(msg)
        return ImportResult((), self.issues, self.counts)

    def close(self) -> None:
        """Remove the temporary files (iteration cannot resume afterwards)."""
        self._done = True
        if self._started:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> BulkRead:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[ImportResult]:
        if self._started:
            msg = "a bulk read can be iterated only once"
            raise UsageError(msg)
        self._started = True
        self._tmp = Path(tempfile.mkdtemp(prefix="carecoord-bulk-", dir=self._temp_dir))
        try:
            yield from self._assemble(self._scan())
            self._read_shared()
        finally:
            self.close()

    # ------------------------------------------------------------------ scan

    def _files(self) -> list[tuple[str, Path]]:
        found = self._reader._walk(self._folder, "<input>")
        return [
            (rel, path) for rel, path in found if rel.lower().endswith((".ndjson", ".ndjson.gz"))
        ]

    def _scan(self) -> _SortedRuns:
        groups = _SortedRuns(self._tmp, "patients", self._chunk)
        targets = _SortedRuns(self._tmp, "targets", self._chunk)
        orphans = _SortedRuns(self._tmp, "orphans", self._chunk)
        reader = self._reader
        for index, (relative, path) in enumerate(self._files()):
            reader.files += 1
            label = relative if reader.name_files else f"<file {reader.files}>"
            reader._places[label] = relative
            self._labels.append(label)
            for number, line in self._lines(path, label):
                seq = (index << 32) | number
                resource = self._parse(line, f"{label}:{number}", number)
                if resource is None:
                    continue
                kind = resource.get("resourceType")
                patient = patient_of(resource)
                ident = resource.get("id")
                if patient is not None:
                    groups.add(patient, seq, line)
                    if type(ident) is str and type(kind) is str:
                        targets.add(f"{kind}/{ident}", seq, patient.encode())
                elif kind in SHARED_TYPES and type(ident) is str:
                    self._shared.setdefault(f"{kind}/{ident}", []).append((seq, line))
                    if kind == "PractitionerRole":  # it describes its practitioner
                        ref = _reference(resource.get("practitioner"))
                        found = _ANY_REF.search(ref) if ref is not None else None
                        if found is not None:
                            role = self._roles.setdefault(f"{found[1]}/{found[2]}", [])
                            role.append(f"{kind}/{ident}")
                    self._shared_labels.add(f"{label}:{number}")
                else:
                    refs = [r for r in _references(resource) if r.split("/")[0] not in SHARED_TYPES]
                    if refs:
                        orphans.add(refs[0], seq, line)
                    else:  # names no patient and nothing of one: read with no patient
                        groups.add("", seq, line)
        self._join(targets, orphans, groups)
        self.runs = groups.runs + targets.runs + orphans.runs
        return groups

    def _lines(self, path: Path, label: str) -> Iterator[tuple[int, bytes]]:
        """The non-blank lines of one file, streamed (gzip too), each within the limits."""
        limit = self._limits.max_file_bytes
        try:
            with open(path, "rb") as raw:
                gzipped = raw.read(2) == b"\x1f\x8b"
            opener: Any = gzip.open if gzipped else open
            with opener(path, "rb") as handle:
                for number, line in enumerate(_split_lines(handle, limit), start=1):
                    if line is None:
                        self._reader._limit(
                            f"{label}:{number}",
                            f"a line is larger than {limit:,} bytes",
                            "max_file_bytes",
                        )
                    elif line.strip():
                        yield number, line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
        except (OSError, EOFError, zlib.error) as err:
            if isinstance(err, gzip.BadGzipFile | EOFError | zlib.error):
                self._reader.issues.add(
                    "",
                    IssueCode.INVALID_GZIP,
                    "file is not valid gzip data (corrupt or truncated)",
                    source=label,
                )
            else:
                self._reader._unreadable(label, "a file", err)

    def _parse(self, line: bytes, label: str, number: int) -> dict[str, Any] | None:
        reader = self._reader
        try:
            value = reader._json(line)
        except (ValueError, _OverLimit) as err:
            reader._problem(err, label, line_offset=number - 1)
            return None
        if type(value) is not dict:
            from carecoord.fhir._input import _as_object  # noqa: PLC0415 - rare path

            _as_object(value, f"NDJSON line {number}: ", label, reader.issues)
            return None
        return value

    def _join(self, targets: _SortedRuns, orphans: _SortedRuns, groups: _SortedRuns) -> None:
        """Give each orphan the patient of the resource it refers to (a merge join)."""
        if not orphans.count:
            for _ in targets.merged():  # releases the buffer; nothing to join
                break
            return
        pending = orphans.merged()
        current = next(pending, None)
        for ref, _seq, patient in targets.merged():
            while current is not None and current[0] < ref:
                groups.add("", current[1], current[2])  # refers to no patient's resource
                current = next(pending, None)
            while current is not None and current[0] == ref:
                groups.add(patient.decode(), current[1], current[2])
                current = next(pending, None)
            if current is None:
                break
        while current is not None:
            groups.add("", current[1], current[2])
            current = next(pending, None)

    # ------------------------------------------------------------------ assemble

    def _label(self, seq: int) -> str:
        return f"{self._labels[seq >> 32]}:{seq & 0xFFFFFFFF}"

    def _assemble(self, groups: _SortedRuns) -> Iterator[ImportResult]:
        key: str | None = None
        lines: list[tuple[int, bytes]] = []
        for patient, seq, line in groups.merged():
            if patient != key and lines:
                yield self._read_group(lines)
                lines = []
            key = patient
            lines.append((seq, line))
        if lines:
            yield self._read_group(lines)

    def _read_group(self, lines: list[tuple[int, bytes]]) -> ImportResult:
        documents = {seq: _loads(line) for seq, line in lines}
        pending = list(documents.values())
        while pending:  # the shared resources they refer to, transitively
            node = pending.pop()
            refs = list(_references(node))
            for ref in refs if node.get("resourceType") != "Practitioner" else ():
                refs.extend(self._roles.get(ref, ()))  # a practitioner's roles describe it
            for ref in refs:
                for seq, line in self._shared.get(ref, ()):
                    if seq not in documents:
                        documents[seq] = shared = _loads(line)
                        pending.append(shared)
                        self._used_shared.add(ref)
        result = self._read([(self._label(seq), documents[seq]) for seq in sorted(documents)])
        self.patients += 1
        kept: list[ImportIssue] = []
        for issue in result.issues:
            if issue.source in self._shared_labels:
                continue  # reported once, by the read of the shared resources
            if issue.code == IssueCode.UNSUPPORTED_RESOURCE:
                self._note_unsupported(issue, result.counts)
                continue
            kept.append(issue)
        self._issues.extend(kept)
        for kind, counts in result.counts.items():
            if kind in SHARED_TYPES:
                continue  # counted once, by the read of the shared resources
            entry = self._counts.setdefault(kind, [0, 0, 0])
            entry[0] += counts.read
            entry[1] += counts.mapped
            entry[2] += counts.skipped
        return ImportResult(result.records, tuple(kept), result.counts)

    def _read(self, documents: list[Document]) -> ImportResult:
        reader = _GroupReader(IssueLog(), self._limits, self._reader._places)
        reader.group = documents
        if self._pause_gc:
            with gc_paused():
                return _run(self._folder, self._source_id, self._tz, reader)
        return _run(self._folder, self._source_id, self._tz, reader)

    def _note_unsupported(self, issue: ImportIssue, counts: Mapping[str, ResourceCounts]) -> None:
        for kind, count in counts.items():
            if issue.message == f"{count.skipped} {type_label(kind)}{_UNSUPPORTED}":
                first, total = self._unsupported.get(kind, (issue, 0))
                self._unsupported[kind] = (first, total + count.skipped)
                return
        self._issues.append(issue)  # defensive: a message of another form is kept as is

    def _final_unsupported(self) -> list[ImportIssue]:
        return [
            ImportIssue(
                first.path,
                first.code,
                f"{total} {type_label(kind)}{_UNSUPPORTED}",
                first.severity,
                first.source,
            )
            for kind, (first, total) in self._unsupported.items()
        ]

    def _read_shared(self) -> None:
        """Read the shared resources once, alone: their counts and issues."""
        every = sorted(item for items in self._shared.values() for item in items)
        if not every:
            return
        result = self._read([(self._label(seq), _loads(line)) for seq, line in every])
        for issue in result.issues:
            if issue.code == IssueCode.UNSUPPORTED_RESOURCE:
                self._note_unsupported(issue, result.counts)
            else:
                self._issues.append(issue)
        used: dict[str, int] = {}
        for ref in self._used_shared:
            kind = ref.split("/", 1)[0]
            used[kind] = used.get(kind, 0) + 1
        for kind, counts in result.counts.items():
            entry = self._counts.setdefault(kind, [0, 0, 0])
            mapped = counts.mapped
            if kind == "Medication":  # mapped when a fact used it, as fhir.read counts it
                mapped = min(counts.read, used.get(kind, 0))
            entry[0] += counts.read
            entry[1] += mapped
            entry[2] += counts.read - mapped
        self._shared.clear()


def _split_lines(handle: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of a binary stream (``None`` for one over ``limit`` bytes, skipped)."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := handle.readline(2**20)) and not rest.endswith(b"\n"):
                pass
            yield None
            continue
        yield line.rstrip(b"\r\n")


def read_bulk(
    folder: str | os.PathLike[str],
    *,
    source_id: str | None = None,
    default_tz: dt.tzinfo | None = None,
    limits: Limits | None = None,
    name_files: bool = False,
    chunk_bytes: int = _DEFAULT_CHUNK,
    temp_dir: str | os.PathLike[str] | None = None,
    pause_gc: bool = True,
) -> BulkRead:
    """Read a FHIR Bulk Data export folder one patient at a time, in bounded memory.

    ``folder`` holds the export's NDJSON files (``*.ndjson``, gzip too; other files are
    not read), one per resource type as ``$export`` writes them, or any split of them.
    Returns a :class:`BulkRead`: iterate it for one
    :class:`~carecoord.fhir.ImportResult` per patient (that patient's records and
    issues); its :attr:`~BulkRead.issues` and :attr:`~BulkRead.counts` cover the whole
    export once iteration ends.

    Memory holds one patient's resources, the shared parties and supporting resources,
    and one buffered line per sorted run; the rest waits in temporary files under
    ``temp_dir`` (the system's by default), in sorted runs of about ``chunk_bytes``
    (64 MiB by default). ``source_id``, ``default_tz``, ``name_files`` and ``pause_gc``
    are as for :func:`~carecoord.fhir.read`; of ``limits``, ``max_file_bytes`` bounds one
    line (one resource) and ``max_files``, ``max_depth`` and ``max_string_length`` apply
    as they do to ``read``; ``max_total_bytes`` does not (streaming is the point).

    Raises:
        InteropError: ``folder`` is not a readable folder, or ``source_id`` is blank.
        UsageError: an argument of the wrong type.
    """
    checked = check_options(limits, name_files)
    path: object = folder
    if not isinstance(path, str | os.PathLike):
        msg = f"folder must be a path, not {type(path).__name__}"
        raise UsageError(msg)
    given: object = source_id
    if given is not None and (not isinstance(given, str) or not given.strip()):
        if not isinstance(given, str):
            msg = f"source_id must be a str, not {type(given).__name__}"
            raise UsageError(msg)
        msg = "source_id must be a non-empty string"
        raise InteropError(msg)
    tz: object = default_tz
    if tz is not None and not isinstance(tz, dt.tzinfo):
        msg = f"default_tz must be a datetime.tzinfo, not {type(tz).__name__}"
        raise UsageError(msg)
    size: object = chunk_bytes
    if type(size) is not int or size < 1:
        msg = "chunk_bytes must be a positive int"
        raise UsageError(msg)
    base = Path(folder)
    if not base.is_dir():
        msg = "read_bulk needs a folder of NDJSON files (an export's output)"
        raise InteropError(msg)
    with contextlib.suppress(OSError):
        base = base.resolve()
    return BulkRead(
        base,
        source_id=source_id,
        default_tz=default_tz,
        limits=checked,
        name_files=name_files,
        chunk_bytes=chunk_bytes,
        temp_dir=temp_dir,
        pause_gc=pause_gc,
    )
