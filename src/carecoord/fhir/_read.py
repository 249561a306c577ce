"""Reading FHIR R4 input into :class:`~carecoord.domain.PatientRecord` objects.

:func:`read` takes any input :func:`~carecoord.fhir._input.iter_documents` accepts,
flattens every Bundle, indexes every resource to resolve references across the whole
input, and maps each resource to the carecoord model (see ``docs/fhir.md`` for the
element-by-element table). Facts are grouped into one record per (source, patient).

The reading itself is a sequence of named passes over one
:class:`~carecoord.fhir._read_state.ReaderState` (see :func:`_run`): collect, choose
versions, parties, classify, patients, facts (``_read_passes``); then the passes across
resources, finishing referrals, prior authorisations, acknowledgements, provenance and
the count of what is left, and the records (``_read_cross``).

Lenient mode (the default) keeps everything that maps and reports the rest as
:class:`~carecoord.fhir._issues.ImportIssue` entries; strict mode raises one
:class:`FhirImportError` listing every issue when any of them is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from carecoord.errors import InteropError, UsageError
from carecoord.fhir._gc import gc_paused
from carecoord.fhir._input import InputReader, InputSource
from carecoord.fhir._issues import ImportIssue, IssueLog
from carecoord.fhir._limits import DEFAULT_LIMITS, Limits
from carecoord.fhir._map_state import ReadState
from carecoord.fhir._read_cross import (
    apply_acknowledgements,
    apply_provenance,
    count_rest,
    finish_referrals,
    map_prior_authorizations,
    records,
)
from carecoord.fhir._read_passes import (
    FACT_TYPES,
    MAPPERS,
    PARTY_TYPES,
    choose_versions,
    classify,
    collect,
    map_facts,
    map_parties,
    map_patients,
)
from carecoord.fhir._read_sources import derive_source_id
from carecoord.fhir._read_state import ReaderState
from carecoord.fhir._refs import ReferenceIndex
from carecoord.interop import ImportResult, ResourceCounts

__all__ = [
    "FACT_TYPES",
    "PARTY_TYPES",
    "FhirImportError",
    "ImportResult",
    "ResourceCounts",
    "check_options",
    "derive_source_id",
    "read",
]

_MAPPERS = MAPPERS
"""The mappers by resource type (the table the facts pass uses, under its former name)."""


class FhirImportError(InteropError):
    """Strict :func:`read` found errors; ``issues`` lists every issue (errors and warnings).

    The message lists the errors by path and code, never values from the input.
    """

    def __init__(self, issues: Iterable[ImportIssue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.is_error]
        lines = "\n".join(f"  - {i}" for i in errors)
        super().__init__(f"FHIR input has {len(errors)} error(s):\n{lines}")


def read(
    source: InputSource,
    *,
    strict: bool = False,
    source_id: str | None = None,
    default_tz: dt.tzinfo | None = None,
    pause_gc: bool = True,
    limits: Limits | None = None,
    name_files: bool = False,
) -> ImportResult:
    """Read FHIR R4 JSON into patient records.

    ``source`` is a path (a file or a folder; ``.json``, ``.ndjson`` and their gzip), JSON
    text (``bytes``, or a ``str`` starting with ``{`` or ``[``: any other ``str`` is a
    path), one resource as a ``dict``, or an iterable of them; Bundles of every type,
    single resources and bulk NDJSON are accepted.

    ``source_id`` names the :class:`~carecoord.domain.Source` of every record; without it
    the id is derived per document (see ``docs/fhir.md``; one rule takes the name of the
    folder a file is in). ``default_tz`` is the time zone for date-times written without
    an offset (otherwise an error) and for dates read as instants (otherwise UTC).

    ``limits`` bounds what is read (:class:`~carecoord.fhir.Limits`: file and total bytes,
    decompressed gzip, files, nesting, string length; the defaults when ``None``); input
    over a bound is a ``limit-exceeded`` issue. Issues name files by position
    (``<file 3>``), since exports often name files after patients; ``name_files=True``
    names them by path instead, in issues and errors.

    ``pause_gc`` (the default) pauses the cyclic garbage collector, which is
    process-wide, for the read (:func:`~carecoord.fhir.gc_paused`: the parsed JSON holds
    no cycles, and collections would walk all of it again and again; large reads take
    about half the time). Concurrent reads share the pause: the collector is re-enabled
    when the last of them ends, and only if it was enabled when the first began. Pass
    ``pause_gc=False`` to leave the collector alone.

    Raises:
        FhirImportError: in ``strict`` mode, when any issue is an error.
        InteropError: a path given that does not exist or cannot be read, or a blank
            ``source_id``.
        UsageError: an input or an argument of the wrong type.
    """
    checked_limits = check_options(limits, name_files)
    checked_id: object = source_id
    if checked_id is not None and not isinstance(checked_id, str):
        msg = f"source_id must be a str, not {type(checked_id).__name__}"
        raise UsageError(msg)
    if checked_id is not None and not checked_id.strip():
        msg = "source_id must be a non-empty string"
        raise InteropError(msg)
    tz: object = default_tz
    if tz is not None and not isinstance(tz, dt.tzinfo):
        msg = f"default_tz must be a datetime.tzinfo, not {type(tz).__name__}"
        raise UsageError(msg)
    reader = InputReader(IssueLog(), checked_limits, name_files=name_files)
    if pause_gc:
        with gc_paused():
            result = _run(source, source_id, default_tz, reader)
    else:
        result = _run(source, source_id, default_tz, reader)
    if strict and any(i.is_error for i in result.issues):
        raise FhirImportError(result.issues)
    return result


def check_options(limits: object, name_files: object) -> Limits:
    """The limits to read with (the defaults for ``None``), after checking both options.

    Raises:
        UsageError: ``limits`` is not a :class:`~carecoord.fhir.Limits` or ``name_files``
            not a ``bool``.
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        msg = f"limits must be a carecoord.fhir.Limits, not {type(limits).__name__}"
        raise UsageError(msg)
    if not isinstance(name_files, bool):
        msg = f"name_files must be a bool, not {type(name_files).__name__}"
        raise UsageError(msg)
    return limits


def _run(
    source: InputSource,
    source_id: str | None,
    default_tz: dt.tzinfo | None,
    reader: InputReader,
) -> ImportResult:
    """The reader's passes, in order."""
    issues = reader.issues
    table, counts = collect(source, source_id, reader)
    shared = ReadState(issues, ReferenceIndex([e.item for e in table.entries]), default_tz)
    shared.resources = table
    state = ReaderState(issues, shared, counts)
    choose_versions(state)
    map_parties(state)
    classify(state)
    map_patients(state)
    map_facts(state)
    finish_referrals(state)
    map_prior_authorizations(state)
    apply_acknowledgements(state)
    apply_provenance(state)
    count_rest(state)
    found = tuple(records(state))
    totals = {k: ResourceCounts(v[0], v[1], v[2]) for k, v in sorted(state.counts.items())}
    return ImportResult(found, tuple(issues), totals)
