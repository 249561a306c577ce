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
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from carecoord.errors import InteropError, UsageError
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._input import (
    Document,
    InputReader,
    InputSource,
    _as_object,
    _loads,
    _OverLimit,
)
from carecoord.fhir._issues import ImportIssue, IssueCode, IssueLog
from carecoord.fhir._limits import Limits
from carecoord.fhir._read import ImportResult, ResourceCounts, _run, check_options
from carecoord.fhir._read_passes import PARTY_TYPES
from carecoord.fhir._resource_types import type_label

__all__ = [
    "SHARED_TYPES",
    "BulkContext",
    "BulkPlan",
    "BulkRead",
    "BulkTotals",
    "classify",
    "export_files",
    "join_orphans",
    "patient_of",
    "read_bulk",
]

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

    def clear(self) -> None:
        """Forget every item (the buffer and the runs on disk)."""
        self._buffer = []
        for path in self._runs:
            path.unlink(missing_ok=True)
        self._runs = []

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


def classify(resource: Mapping[str, Any]) -> tuple[str, str]:
    """Where a resource of a bulk export goes: ``(kind, key)``.

    ``("patient", id)`` for a resource of that patient (:func:`patient_of`);
    ``("shared", "Type/id")`` for a party or supporting resource naming no patient
    (:data:`SHARED_TYPES`); ``("orphan", "Type/id")`` for one naming no patient but
    referring to another resource (it goes to that resource's patient); ``("none", "")``
    for the rest (read together, with no patient).
    """
    kind, ident = resource.get("resourceType"), resource.get("id")
    patient = patient_of(resource)
    if patient is not None:
        return "patient", patient
    if kind in SHARED_TYPES and type(ident) is str:
        return "shared", f"{kind}/{ident}"
    refs = [r for r in _references(resource) if r.split("/")[0] not in SHARED_TYPES]
    return ("orphan", refs[0]) if refs else ("none", "")


class BulkContext:
    """What reading one patient's lines needs: the folder, options, files and shared resources.

    Built by the scan of an export; picklable, so that workers of a cluster can read
    patients too (``carecoord.dask``). Lines are identified by ``seq``, the file's index
    shifted left 32 bits or-ed with the line number.
    """

    def __init__(
        self,
        folder: Path,
        *,
        source_id: str | None,
        default_tz: dt.tzinfo | None,
        limits: Limits,
        pause_gc: bool,
    ) -> None:
        self.folder = folder
        self.source_id = source_id
        self.default_tz = default_tz
        self.limits = limits
        self.pause_gc = pause_gc
        self.labels: list[str] = []
        self.places: dict[str, str] = {}
        self.shared: dict[str, list[tuple[int, bytes]]] = {}
        self.shared_labels: set[str] = set()
        self.roles: dict[str, list[str]] = {}

    def label(self, seq: int) -> str:
        """The issue label of a line (``<file 3>:12``, or its path with ``name_files``)."""
        return f"{self.labels[seq >> 32]}:{seq & 0xFFFFFFFF}"

    def add_shared(self, ref: str, seq: int, line: bytes, resource: Mapping[str, Any]) -> None:
        """Keep a shared resource (and, for a PractitionerRole, whom it describes)."""
        self.shared.setdefault(ref, []).append((seq, line))
        self.shared_labels.add(self.label(seq))
        if resource.get("resourceType") == "PractitionerRole":
            named = _reference(resource.get("practitioner"))
            found = _ANY_REF.search(named) if named is not None else None
            if found is not None:
                self.roles.setdefault(f"{found[1]}/{found[2]}", []).append(ref)

    def read(self, documents: list[Document]) -> ImportResult:
        """Run the reader's passes over parsed documents."""
        reader = _GroupReader(IssueLog(), self.limits, self.places)
        reader.group = documents
        if self.pause_gc:
            with gc_paused():
                return _run(self.folder, self.source_id, self.default_tz, reader)
        return _run(self.folder, self.source_id, self.default_tz, reader)

    def read_group(self, lines: list[tuple[int, bytes]]) -> tuple[ImportResult, set[str]]:
        """One patient's lines, with the shared resources they refer to (transitively).

        Returns the read and the shared resources it used (``Type/id``).
        """
        documents = {seq: _loads(line) for seq, line in lines}
        used: set[str] = set()
        pending = list(documents.values())
        while pending:
            node = pending.pop()
            refs = list(_references(node))
            for ref in refs if node.get("resourceType") != "Practitioner" else ():
                refs.extend(self.roles.get(ref, ()))  # a practitioner's roles describe it
            for ref in refs:
                for seq, line in self.shared.get(ref, ()):
                    if seq not in documents:
                        documents[seq] = shared = _loads(line)
                        pending.append(shared)
                        used.add(ref)
        result = self.read([(self.label(seq), documents[seq]) for seq in sorted(documents)])
        return result, used

    def read_shared(self) -> ImportResult | None:
        """The shared resources read once, alone (for their counts and issues)."""
        every = sorted(item for items in self.shared.values() for item in items)
        if not every:
            return None
        return self.read([(self.label(seq), _loads(line)) for seq, line in every])


class BulkTotals:
    """The issues and counts of a bulk read, added up patient by patient.

    A patient's read also reads the shared resources it refers to: their issues and counts
    are left out there and taken once from the read of the shared resources alone; the
    ``unsupported-resource`` warning (one per type) is summed over patients.
    """

    def __init__(self) -> None:
        self.issues: list[ImportIssue] = []
        self.counts: dict[str, list[int]] = {}
        self.unsupported: dict[str, tuple[ImportIssue, int]] = {}
        self.used_shared: set[str] = set()
        self.patients = 0

    def add_group(
        self, context: BulkContext, result: ImportResult, used: set[str]
    ) -> tuple[ImportIssue, ...]:
        """Add one patient's read; return the issues that belong to that patient."""
        self.patients += 1
        self.used_shared |= used
        kept: list[ImportIssue] = []
        for issue in result.issues:
            if issue.source in context.shared_labels:
                continue  # reported once, by the read of the shared resources
            if issue.code == IssueCode.UNSUPPORTED_RESOURCE:
                self._note_unsupported(issue, result.counts)
                continue
            kept.append(issue)
        self.issues.extend(kept)
        for kind, counts in result.counts.items():
            if kind in SHARED_TYPES:
                continue  # counted once, by the read of the shared resources
            self._count(kind, counts.read, counts.mapped, counts.skipped)
        return tuple(kept)

    def _count(self, kind: str, read: int, mapped: int, skipped: int) -> None:
        entry = self.counts.setdefault(kind, [0, 0, 0])
        entry[0] += read
        entry[1] += mapped
        entry[2] += skipped

    def add_shared(self, result: ImportResult | None) -> None:
        """Add the read of the shared resources (after every patient's)."""
        if result is None:
            return
        for issue in result.issues:
            if issue.code == IssueCode.UNSUPPORTED_RESOURCE:
                self._note_unsupported(issue, result.counts)
            else:
                self.issues.append(issue)
        used: dict[str, int] = {}
        for ref in self.used_shared:
            kind = ref.split("/", 1)[0]
            used[kind] = used.get(kind, 0) + 1
        for kind, counts in result.counts.items():
            mapped = counts.mapped
            if kind == "Medication":  # mapped when a fact used it, as fhir.read counts it
                mapped = min(counts.read, used.get(kind, 0))
            self._count(kind, counts.read, mapped, counts.read - mapped)

    def merge(self, other: BulkTotals) -> None:
        """Add the totals of another part of the same export (read elsewhere)."""
        self.issues.extend(other.issues)
        for kind, (read, mapped, skipped) in other.counts.items():
            self._count(kind, read, mapped, skipped)
        for kind, (first, total) in other.unsupported.items():
            mine = self.unsupported.get(kind)
            if mine is None or _order(first) < _order(mine[0]):
                self.unsupported[kind] = (first, total + (mine[1] if mine else 0))
            else:
                self.unsupported[kind] = (mine[0], mine[1] + total)
        self.used_shared |= other.used_shared
        self.patients += other.patients

    def _note_unsupported(self, issue: ImportIssue, counts: Mapping[str, ResourceCounts]) -> None:
        for kind, count in counts.items():
            if issue.message == f"{count.skipped} {type_label(kind)}{_UNSUPPORTED}":
                first, total = self.unsupported.get(kind, (issue, 0))
                if _order(issue) < _order(first):
                    first = issue
                self.unsupported[kind] = (first, total + count.skipped)
                return
        self.issues.append(issue)  # defensive: a message of another form is kept as is

    def final_issues(self) -> list[ImportIssue]:
        """The summed ``unsupported-resource`` warnings, one per type."""
        return [
            ImportIssue(
                first.path,
                first.code,
                f"{total} {type_label(kind)}{_UNSUPPORTED}",
                first.severity,
                first.source,
            )
            for kind, (first, total) in sorted(self.unsupported.items())
        ]

    def result_counts(self) -> dict[str, ResourceCounts]:
        """The counts by type, as :attr:`ImportResult.counts` holds them."""
        return {k: ResourceCounts(*v) for k, v in sorted(self.counts.items())}


def _order(issue: ImportIssue) -> tuple[str, int]:
    """Input order of an issue's line label (``<file 3>:12`` before ``<file 3>:100``)."""
    head, _, line = issue.source.rpartition(":")
    return (head, int(line)) if line.isdigit() else (issue.source, -1)


class BulkRead:
    """The records of a bulk export, one patient at a time (what :func:`read_bulk` gives).

    Iterate it once: each item is an :class:`~carecoord.fhir.ImportResult` holding one
    patient's records (one per source that has the patient) and the issues of that
    patient's resources. Once iteration ends, :attr:`issues` and :attr:`counts` cover the
    whole export (file problems, shared resources, every patient), and the temporary
    files are gone. Use it as a context manager to remove them early when iteration stops
    before the end.
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
        self._context = BulkContext(
            folder, source_id=source_id, default_tz=default_tz, limits=limits, pause_gc=pause_gc
        )
        self._reader = InputReader(IssueLog(), limits, name_files=name_files)
        self._reader._places = self._context.places
        self._totals = BulkTotals()
        self._temp_dir = temp_dir
        self._tmp = Path()
        self._chunk = chunk_bytes
        self._started = False
        self._done = False
        self.runs = 0
        """How many sorted runs were spilled to disk (0: the export fit in one chunk)."""

    # ------------------------------------------------------------------ public

    @property
    def patients(self) -> int:
        """How many patient groups were read so far."""
        return self._totals.patients

    @property
    def done(self) -> bool:
        """Whether iteration has ended (then :attr:`issues` and :attr:`counts` are final)."""
        return self._done

    @property
    def issues(self) -> tuple[ImportIssue, ...]:
        """Every issue found so far (all of them once :attr:`done`)."""
        return (*self._reader.issues, *self._totals.issues, *self._totals.final_issues())

    @property
    def counts(self) -> Mapping[str, ResourceCounts]:
        """Resources read, mapped and skipped by type, so far (all once :attr:`done`)."""
        return self._totals.result_counts()

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
            for lines in self._groups(self._scan()):
                result, used = self._context.read_group(lines)
                kept = self._totals.add_group(self._context, result, used)
                yield ImportResult(result.records, kept, result.counts)
            self._totals.add_shared(self._context.read_shared())
        finally:
            self.close()

    # ------------------------------------------------------------------ scan

    def _scan(self) -> _SortedRuns:
        groups = _SortedRuns(self._tmp, "patients", self._chunk)
        targets = _SortedRuns(self._tmp, "targets", self._chunk)
        orphans = _SortedRuns(self._tmp, "orphans", self._chunk)
        reader, context = self._reader, self._context
        for index, (relative, path) in enumerate(export_files(reader, context.folder)):
            reader.files += 1
            label = relative if reader.name_files else f"<file {reader.files}>"
            context.places[label] = relative
            context.labels.append(label)
            for number, line in _lines(reader, path, label):
                seq = (index << 32) | number
                resource = _parse(reader, line, f"{label}:{number}", number)
                if resource is None:
                    continue
                where, key = classify(resource)
                if where == "patient":
                    groups.add(key, seq, line)
                    kind, ident = resource.get("resourceType"), resource.get("id")
                    if type(ident) is str and type(kind) is str:
                        targets.add(f"{kind}/{ident}", seq, key.encode())
                elif where == "shared":
                    context.add_shared(key, seq, line, resource)
                elif where == "orphan":
                    orphans.add(key, seq, line)
                else:  # names no patient and nothing of one: read with no patient
                    groups.add("", seq, line)
        _join(targets, orphans, groups)
        self.runs = groups.runs + targets.runs + orphans.runs
        return groups

    @staticmethod
    def _groups(groups: _SortedRuns) -> Iterator[list[tuple[int, bytes]]]:
        key: str | None = None
        lines: list[tuple[int, bytes]] = []
        for patient, seq, line in groups.merged():
            if patient != key and lines:
                yield lines
                lines = []
            key = patient
            lines.append((seq, line))
        if lines:
            yield lines


def export_files(reader: InputReader, folder: Path) -> list[tuple[str, Path]]:
    """The NDJSON files of an export folder (recursively), sorted by relative path."""
    suffixes = (".ndjson", ".ndjson.gz")
    found = reader._walk(folder, "<input>")
    return [(rel, path) for rel, path in found if rel.lower().endswith(suffixes)]


def _lines(reader: InputReader, path: Path, label: str) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of one file, streamed (gzip too), each within the limits."""
    limit = reader.limits.max_file_bytes
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        opener: Any = gzip.open if gzipped else open
        with opener(path, "rb") as handle:
            for number, line in enumerate(_split_lines(handle, limit), start=1):
                if line is None:
                    where = f"{label}:{number}"
                    what = f"a line is larger than {limit:,} bytes"
                    reader.budget.limit(where, what, "max_file_bytes")
                elif line.strip():
                    yield number, line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
    except (OSError, EOFError, zlib.error) as err:
        if isinstance(err, gzip.BadGzipFile | EOFError | zlib.error):
            reader.issues.add(
                "",
                IssueCode.INVALID_GZIP,
                "file is not valid gzip data (corrupt or truncated)",
                source=label,
            )
        else:
            reader._unreadable(label, "a file", err)


def _parse(reader: InputReader, line: bytes, label: str, number: int) -> dict[str, Any] | None:
    """One line parsed within the limits; ``None`` (an issue) when it is not a JSON object."""
    try:
        value = reader._json(line)
    except (ValueError, _OverLimit) as err:
        reader._problem(err, label, line_offset=number - 1)
        return None
    if type(value) is not dict:
        _as_object(value, f"NDJSON line {number}: ", label, reader.issues)
        return None
    return value


def _join(targets: _SortedRuns, orphans: _SortedRuns, groups: _SortedRuns) -> None:
    """Give each orphan the patient of the resource it refers to (a merge join)."""
    if not orphans.count:
        targets.clear()
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


# --------------------------------------------------------------------------- parallel plans


class BulkPlan:
    """A bulk export cut into byte blocks that separate workers can scan and read.

    For running the bulk read on a cluster (``carecoord.dask``): :meth:`count_lines` of
    every block (in any order, anywhere), then :meth:`set_line_counts`, then
    :meth:`scan` of every block gives tagged items: ``("P", patient id, seq, line)`` for a
    patient's line, ``("T", "Type/id", seq, patient id)`` for what orphans may point at,
    ``("S", "Type/id", seq, line)`` for a shared resource, ``("O", "Type/id", seq, line)``
    for an orphan, ``("I", issue)`` for a problem. :meth:`add_shared` takes the shared
    items back; :func:`join_orphans` gives an orphan the patient of its target;
    :meth:`read_patient` reads one patient's ``(seq, line)`` pairs. The plan is
    picklable; line numbers (and issue labels) are those :func:`~carecoord.fhir.read`
    gives.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        source_id: str | None = None,
        default_tz: dt.tzinfo | None = None,
        limits: Limits | None = None,
        name_files: bool = False,
        block_bytes: int = _DEFAULT_CHUNK,
    ) -> None:
        bulk = read_bulk(
            folder, source_id=source_id, default_tz=default_tz, limits=limits, name_files=name_files
        )
        if type(block_bytes) is not int or block_bytes < 1:
            msg = "block_bytes must be a positive int"
            raise UsageError(msg)
        self.context = bulk._context
        self.name_files = name_files
        self.issues: list[ImportIssue] = []
        files = export_files(bulk._reader, self.context.folder)
        self.issues.extend(bulk._reader.issues)
        for number, (relative, _path) in enumerate(files, start=1):
            label = relative if name_files else f"<file {number}>"
            self.context.labels.append(label)
            self.context.places[label] = relative
        self.blocks: list[tuple[int, str, int, int]] = []
        for index, (_relative, path) in enumerate(files):
            size = path.stat().st_size
            if _gzipped(path) or size <= block_bytes:
                self.blocks.append((index, str(path), 0, -1))
                continue
            self.blocks.extend(
                (index, str(path), start, min(start + block_bytes, size))
                for start in range(0, size, block_bytes)
            )
        self.first_lines: list[int] = [1] * len(self.blocks)

    def count_lines(self, block: int) -> int:
        """How many newlines block ``block`` holds (a whole-file block: the file's)."""
        _index, path, start, end = self.blocks[block]
        opener: Any = gzip.open if end < 0 and _gzipped(Path(path)) else open
        with opener(path, "rb") as handle:
            if end < 0:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(2**20), b""))
            handle.seek(start)
            left, count = end - start, 0
            while left > 0:
                chunk = handle.read(min(2**20, left))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                left -= len(chunk)
            return count

    def set_line_counts(self, counts: list[int]) -> None:
        """Give the plan every block's :meth:`count_lines`, in block order."""
        before: dict[int, int] = {}
        self.first_lines = []
        for block, count in zip(self.blocks, counts, strict=True):
            self.first_lines.append(before.get(block[0], 0) + 1)
            before[block[0]] = before.get(block[0], 0) + count

    def _block_lines(self, block: int) -> Iterator[tuple[int, bytes | None]]:
        _index, path, start, end = self.blocks[block]
        limit = self.context.limits.max_file_bytes
        opener: Any = gzip.open if _gzipped(Path(path)) else open
        with opener(path, "rb") as handle:
            number = self.first_lines[block]
            if start > 0:
                handle.seek(start - 1)
                if handle.read(1) != b"\n":  # the line under way belongs to the block before
                    handle.readline()
                    number += 1
            position = handle.tell()
            for line in _split_lines(handle, limit):
                if end >= 0 and position >= end:
                    return
                yield number, line
                number += 1
                position = handle.tell()

    def scan(self, block: int) -> list[tuple[Any, ...]]:
        """The tagged items of block ``block`` (see the class)."""
        limits = self.context.limits
        reader = InputReader(IssueLog(), limits, name_files=self.name_files)
        index = self.blocks[block][0]
        label = self.context.labels[index]
        items: list[tuple[Any, ...]] = []
        for number, line in self._block_lines(block):
            where = f"{label}:{number}"
            if line is None:
                what = f"a line is larger than {limits.max_file_bytes:,} bytes"
                reader.budget.limit(where, what, "max_file_bytes")
                continue
            if not line.strip():
                continue
            text = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
            resource = _parse(reader, text, where, number)
            if resource is None:
                continue
            seq = (index << 32) | number
            kind, key = classify(resource)
            if kind == "patient":
                items.append(("P", key, seq, text))
                rtype, ident = resource.get("resourceType"), resource.get("id")
                if type(ident) is str and type(rtype) is str:
                    items.append(("T", f"{rtype}/{ident}", seq, key))
            elif kind == "shared":
                items.append(("S", key, seq, text))
            elif kind == "orphan":
                items.append(("O", key, seq, text))
            else:
                items.append(("P", "", seq, text))
        items.extend(("I", issue) for issue in reader.issues)
        return items

    def add_shared(self, items: Iterable[tuple[Any, ...]]) -> None:
        """Keep the ``("S", ...)`` items of every block (before :meth:`read_patient`)."""
        for _tag, ref, seq, line in sorted(items, key=lambda item: item[2]):
            self.context.add_shared(ref, seq, line, _loads(line))

    def read_patient(self, lines: Iterable[tuple[int, bytes]], totals: BulkTotals) -> ImportResult:
        """Read one patient's ``(seq, line)`` pairs, adding to ``totals``."""
        result, used = self.context.read_group(sorted(lines))
        kept = totals.add_group(self.context, result, used)
        return ImportResult(result.records, kept, result.counts)

    def finish(self, parts: Iterable[BulkTotals], issues: Iterable[ImportIssue]) -> ImportResult:
        """The export's issues and counts: the scan's ``issues`` and every part's totals."""
        totals = BulkTotals()
        for part in parts:
            totals.merge(part)
        totals.add_shared(self.context.read_shared())
        found = (*self.issues, *issues, *totals.issues, *totals.final_issues())
        return ImportResult((), found, totals.result_counts())


def join_orphans(items: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The ``("O", ...)`` items of one reference as ``("P", ...)`` items of its patient.

    ``items`` are the ``("T", ...)`` and ``("O", ...)`` items of one ``Type/id`` from
    :meth:`BulkPlan.scan`; the patient is that of the first target in input order (none:
    the orphans are read with no patient).
    """
    every = list(items)
    targets = sorted(item for item in every if item[0] == "T")
    patient = targets[0][3] if targets else ""
    return [("P", patient, item[2], item[3]) for item in every if item[0] == "O"]


def _gzipped(path: Path) -> bool:
    with open(path, "rb") as head:
        return head.read(2) == b"\x1f\x8b"
