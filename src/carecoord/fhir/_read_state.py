"""What the reader's passes share while one :func:`~carecoord.fhir.read` runs.

The reader is a sequence of named passes (``_read_passes``, ``_read_cross``) over one
:class:`ReaderState`: the issue log, the :class:`~carecoord.fhir._map_state.ResourceTable`
of every resource read, the mappers' shared
:class:`~carecoord.fhir._map_state.ReadState`, counts per type, the records being built
and where each resource's facts were placed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from carecoord.domain import Organization, Patient, Practitioner, Source
from carecoord.errors import ValidationError
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity
from carecoord.fhir._map_base import MapContext
from carecoord.fhir._map_json import SkipResource
from carecoord.fhir._map_state import Key, ReadEntry, ReadState

__all__ = ["Place", "ReaderState", "RecordBuilder", "of_source"]


@attrs.define
class RecordBuilder:
    """The facts of one record while they are collected."""

    source: Source
    patient: Patient
    parties: set[Key] = attrs.Factory(set)
    facts: dict[str, dict[str, Any]] = attrs.Factory(dict)


Place = tuple[RecordBuilder, str, str]
"""Where a fact was placed: ``(record, PatientRecord field, fact id)``."""


def of_source(places: list[Place], source_id: str | None) -> list[Place]:
    """The places in the record of ``source_id`` (all of them when none is, or no source)."""
    if source_id is None:
        return places
    mine = [place for place in places if place[0].source.id == source_id]
    return mine or places


@attrs.define
class ReaderState:
    """Everything the passes of one read share."""

    issues: IssueLog
    shared: ReadState
    """What the mappers share (the reference index, the resource table, memos...)."""
    counts: dict[str, list[int]]
    """resourceType -> ``[read, mapped, skipped]``."""
    by_type: dict[str, list[FlatResource]] = attrs.Factory(dict)
    """The chosen version of each resource, by type, in input order."""
    builders: dict[tuple[str, str], RecordBuilder] = attrs.Factory(dict)
    """``(source id, patient id)`` -> the record being built."""
    locations: dict[Key, list[Place]] = attrs.Factory(dict)
    """Resource key -> where its facts were placed."""
    practitioners: dict[Key, Practitioner] = attrs.Factory(dict)
    organizations: dict[Key, Organization] = attrs.Factory(dict)
    selected: list[FlatResource] = attrs.Factory(list)
    """Resources of types only some of which are facts (reconciliation Lists)."""
    subjects: dict[str, RecordBuilder | None] = attrs.Factory(dict)
    """A unique ``urn:uuid`` subject reference -> its record (see ``_subject_builder``)."""

    def entry(self, item: FlatResource) -> ReadEntry:
        """The table entry of a resource read."""
        return self.shared.resources.of(item.resource)

    def key(self, item: FlatResource) -> Key:
        """The key of a resource read: ``(type, id)``, or a stand-in for one with no id."""
        known = self.shared.resources.of(item.resource).key
        if known is not None:
            return known
        key = self.shared.index.key_for(item.resource)
        return (
            key
            if key is not None
            else (str(item.resource["resourceType"]), f"{item.source}#{item.path}")
        )

    def source_id(self, resource: dict[str, Any]) -> str:
        """The id of the source a resource read is read as."""
        return self.shared.resources.of(resource).source_id

    def retrieved(self, resource: dict[str, Any]) -> dt.datetime | None:
        """When the Bundle holding a resource read was made (its ``timestamp``)."""
        return self.shared.resources.of(resource).retrieved

    def ctx(self, item: FlatResource) -> MapContext:
        """A mapping context for ``item``."""
        return MapContext(self.shared, item)

    def count(self, kind: str, *, read: int = 0, mapped: int = 0, skipped: int = 0) -> None:
        """Add to the counts of ``kind``."""
        entry = self.counts.setdefault(kind, [0, 0, 0])
        entry[0] += read
        entry[1] += mapped
        entry[2] += skipped

    def warn(self, path: str, code: IssueCode, message: str, source: str) -> None:
        """Record a warning."""
        self.issues.add(path, code, message, severity=IssueSeverity.WARNING, source=source)

    def skipped(self, item: FlatResource, err: SkipResource | ValidationError, kind: str) -> None:
        """Report why ``item`` was not mapped, and count it skipped."""
        if isinstance(err, SkipResource):
            severity = IssueSeverity.WARNING if err.warning else IssueSeverity.ERROR
            message = err.message if err.warning else f"{err.message}; resource skipped"
            self.issues.add(err.path, err.code, message, severity=severity, source=item.source)
        else:
            for problem in err.problems or ():
                self.issues.add(
                    f"{item.path}.{problem.path}" if problem.path else item.path,
                    IssueCode.INVALID_VALUE,
                    f"the model rejects this {kind}: {problem.message}; resource skipped",
                    source=item.source,
                )
        self.count(kind, skipped=1)
