"""The storage ports: what the coordinator needs from a store, as typed Protocols.

A store (:class:`Store`) hands out units of work (:class:`UnitOfWork`). Everything is
read and written through a unit of work, which groups repositories, one per kind of
thing the coordinator keeps:

============================  ==========================================================
``uow.records``               patient records with their versions and blocking keys
``uow.persons``               persons, their record links and aliases after merges
``uow.decisions``             human link decisions ("same person", "not the same person")
``uow.gaps``                  the worklist state of each gap, by gap key
``uow.tasks``                 suggested-task proposals and accepted tasks
``uow.ledger``                the activity ledger: who did what, when and why
``uow.outbox``                events with monotonically increasing positions
``uow.tombstones``            what was erased on request, and what it blocks
``uow.access``                the access log: who viewed which profile or view
============================  ==========================================================

**Units of work.** ``with store.unit_of_work() as uow: ...; uow.commit()``. What one unit
writes is visible to reads through that same unit at once, and to other units only after
:meth:`UnitOfWork.commit`. Leaving the ``with`` block without committing (normally or by
an exception) rolls back every write of the unit. A committed unit is all or nothing: a
failed commit leaves the store as it was before the unit.

**Optimistic versions.** Every stored item (records, persons, gap states, task entries)
carries a ``version``: ``0`` for an item never stored, and the store's version after each
successful write (the first write stores version ``1``, each later write one more). A
``put`` names the version the caller read; if the stored version differs (another unit
committed a write in between, or the item exists when ``0`` was given) the store raises
:class:`carecoord.errors.ConflictError`, either from ``put`` or at the latest from
``commit``, and nothing of the unit is committed. ``put`` returns the item with its new
version, which the next ``put`` of the same unit must name.

Every value crossing these ports is an immutable attrs object or a tuple of them; the
store returns equal objects to the ones it was given (a serializing store round-trips
them through :mod:`carecoord.serialization`). No value here carries personal data outside
the records themselves, the gap and task objects, notes and reasons; outbox events never
carry any.

This module is part of the core: it imports the domain, the profile and rules layers and
the errors, never an adapter. :class:`carecoord.testing.contracts.StoreContract` tests an
implementation against the sentences written here (see ``docs/embedding-stores.md``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import Enum
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

import attrs

from carecoord.display import (
    HtmlDisplay,
    badge,
    bound_reprs,
    esc,
    frame,
    section,
    table,
    to_pandas,
    to_polars,
)
from carecoord.display import (
    JsonValue as _JsonValue,
)
from carecoord.domain import ActivityKind, Patient, PatientRecord, Task
from carecoord.errors import ConflictError, UsageError, checked_classes, checked_exports
from carecoord.rules import Gap

__all__ = [
    "EVENT_COLUMNS",
    "GAP_STATE_COLUMNS",
    "GAP_STATE_PERSONAL_COLUMNS",
    "LEDGER_COLUMNS",
    "LEDGER_PERSONAL_COLUMNS",
    "AccessEntry",
    "AccessLog",
    "DecisionRepository",
    "Event",
    "Events",
    "GapNote",
    "GapQuery",
    "GapRepository",
    "GapState",
    "GapStates",
    "Ledger",
    "LedgerEntries",
    "LedgerEntry",
    "LinkDecision",
    "Outbox",
    "Person",
    "PersonRepository",
    "RecordHead",
    "RecordKey",
    "RecordRepository",
    "Store",
    "StoredRecord",
    "TaskEntry",
    "TaskRepository",
    "TaskState",
    "Tombstone",
    "TombstoneRepository",
    "UnitOfWork",
    "check_version",
    "redacted_entry",
    "redacted_event",
    "sorted_pair",
]

RecordKey = tuple[str, str]
"""A record's key: ``(source id, patient id in that source)``."""


def check_version(what: str, stored: int, expected: int) -> None:
    """Raise :class:`ConflictError` unless ``stored == expected`` (a helper for adapters).

    The message names ``what`` (a kind of item, never an id) and both versions.
    """
    if stored != expected:
        raise ConflictError(
            f"stale write to a {what}: stored version {stored}, the write expected {expected}"
        )


# --------------------------------------------------------------------------- values


@attrs.frozen
class StoredRecord:
    """A patient record as stored: the record, its version and what links it.

    ``updated`` is the record's own last-updated time (its source's ``retrieved_at``), which
    decides whether an arriving copy is newer or older; ``digest`` is a hash of its content
    (the same record twice has the same digest); ``person`` is the id of the person it
    belongs to; ``blocks`` are its blocking keys (opaque strings: records sharing a key are
    compared when linking). ``version`` is the store's optimistic version.
    """

    key: RecordKey
    record: PatientRecord
    digest: str
    person: str
    updated: dt.datetime | None = None
    blocks: tuple[str, ...] = ()
    version: int = 0


@attrs.frozen
class RecordHead:
    """What linking needs of a stored record, without its facts.

    ``patient`` is the record's patient (demographics, identifiers, explicit links);
    ``person``, ``digest``, ``updated`` and ``version`` are the stored record's. A store
    can give heads without reading the facts, which is what keeps an ingest's cost to the
    size of its neighbourhood.
    """

    key: RecordKey
    patient: Patient
    person: str
    digest: str
    updated: dt.datetime | None = None
    version: int = 0


@attrs.frozen
class Person:
    """A person: an id that stays the same as records join it.

    ``merged_into`` is set when this person was merged into another: the id is then an
    alias of the survivor. ``created`` is when the person was first seen (the ``as_of`` of
    the ingest that created it).
    """

    id: str
    created: dt.datetime
    merged_into: str | None = None
    version: int = 0


@attrs.frozen
class LinkDecision:
    """A human decision about two records: the same person or not (``same_person``).

    ``left < right``; the decision is keyed by the pair, and a newer decision about the
    same pair replaces the older one.
    """

    left: RecordKey
    right: RecordKey
    same_person: bool
    actor: str
    at: dt.datetime
    reason: str = attrs.field(default="", repr=False)


@attrs.frozen
class GapNote:
    """A note someone added to a gap."""

    actor: str
    at: dt.datetime
    text: str = attrs.field(repr=False)


@attrs.frozen
class GapState:
    """The worklist state of one gap, by its key (rule, person, focus), across runs.

    ``gap`` is the gap as last evaluated (its ``status`` is the last seen status; a gap that
    disappeared from an evaluation is stored closed). The rest is human state:
    ``assigned_to`` and ``team``, ``snoozed_until`` with ``snooze_reason``, ``dismissed``
    with ``dismiss_reason``, and ``notes``. ``person`` is the gap's person id.
    """

    key: str
    person: str
    gap: Gap
    assigned_to: str | None = None
    team: str | None = None
    snoozed_until: dt.date | None = None
    snooze_reason: str | None = attrs.field(default=None, repr=False)
    dismissed: bool = False
    dismiss_reason: str | None = attrs.field(default=None, repr=False)
    notes: tuple[GapNote, ...] = ()
    version: int = 0

    @property
    def rule(self) -> str:
        """The gap's rule id."""
        return self.gap.rule


@attrs.frozen
class GapQuery:
    """A filter on gap states; every field left ``None`` matches all.

    ``persons``: the gap's person is one of these; ``statuses``: the last seen status value
    (``"open"``...) is one of these; ``owner``: ``assigned_to`` equals it; ``team``: ``team``
    equals it; ``families``: the gap's rule family is one of these; ``severities``: the
    severity value is one of these; ``due_before``: the gap is due before this date (a
    datetime due counts by its date); ``include_dismissed``: dismissed gaps match too.
    """

    persons: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    owner: str | None = None
    team: str | None = None
    families: frozenset[str] | None = None
    severities: frozenset[str] | None = None
    due_before: dt.date | None = None
    include_dismissed: bool = True

    def matches(self, state: GapState) -> bool:
        """Whether ``state`` passes this filter (the reference every store must agree with)."""
        gap = state.gap
        due = gap.due.date() if isinstance(gap.due, dt.datetime) else gap.due
        return (
            (self.persons is None or state.person in self.persons)
            and (self.statuses is None or gap.status.value in self.statuses)
            and (self.owner is None or state.assigned_to == self.owner)
            and (self.team is None or state.team == self.team)
            and (self.families is None or gap.family in self.families)
            and (self.severities is None or gap.severity.value in self.severities)
            and (self.due_before is None or due < self.due_before)
            and (self.include_dismissed or not state.dismissed)
        )


class TaskState(Enum):
    """Where a task stands in the coordinator: suggested, accepted or rejected."""

    PROPOSED = "proposed"
    """Suggested for a gap; not yet a task anyone works."""
    ACCEPTED = "accepted"
    """A real task with the domain lifecycle (``entry.task.status``)."""
    REJECTED = "rejected"
    """A proposal someone declined; it is not suggested again for the same gap."""


@attrs.frozen
class TaskEntry:
    """A suggested or accepted task, by task id, with the gap key it came from."""

    id: str
    person: str
    task: Task
    state: TaskState
    gap: str | None = None
    version: int = 0


@attrs.frozen
class LedgerEntry:
    """One line of the activity ledger: who did what, when, why, to what.

    ``action`` names what was done (``"gap.assign"``, ``"task.accept"``...); ``subject``
    is what it was done to (a gap key, a task id, a person id); ``kind`` and ``minutes``
    make the entry countable as coordination work (:class:`carecoord.CoordinationActivity`).
    ``redacted`` entries were about an erased person: they keep ``id``, ``person``,
    ``action``, ``kind``, ``at`` and ``minutes`` (so counts stay the same); ``subject``,
    ``actor`` and ``reason`` become ``""`` and ``detail`` empty.
    ``id`` is assigned by the store when ``0``: increasing in commit order.
    """

    person: str
    action: str
    subject: str
    actor: str
    at: dt.datetime
    kind: ActivityKind = ActivityKind.OTHER
    minutes: int = 0
    reason: str = attrs.field(default="", repr=False)
    detail: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)
    redacted: bool = False
    id: int = 0


@attrs.frozen
class Event:
    """An outbox event: what changed, with ids, never personal data.

    ``kind`` is ``"gap.opened"``, ``"gap.closed"``, ``"task.created"``, ``"person.merged"``
    and so on; ``person`` the person id it is about; ``subject`` the id of what changed
    (a gap key, a task id, a person id); ``rule``, ``status`` and ``sensitivity`` describe a
    gap or task; ``data`` holds other ids and codes (for a merge, ``{"into": survivor}``).
    ``position`` is assigned by the store at commit (``0`` until then). A ``redacted``
    event was about an erased person: it keeps its position, kind and person id, and its
    other content is removed.
    """

    kind: str
    person: str
    subject: str
    at: dt.datetime
    rule: str | None = None
    status: str | None = None
    sensitivity: tuple[str, ...] = ()
    data: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    redacted: bool = False
    position: int = 0


@attrs.frozen
class Tombstone:
    """What remains of an erased person: ids and event positions, no content.

    ``records`` are the keys of the erased records, and one key per identifier of the
    erased patients (``("erased-identifier", digest)``: a keyed digest, not the
    identifier): an ingest of any of those records, or of a record whose patient has one
    of those identifiers under any source or patient id, is refused while the tombstone
    stands. ``positions`` are the outbox positions that were redacted.
    """

    person: str
    records: tuple[RecordKey, ...]
    at: dt.datetime
    actor: str
    reason: str = attrs.field(default="", repr=False)
    positions: tuple[int, ...] = ()


@attrs.frozen
class AccessEntry:
    """One read through the coordinator: ``viewer`` looked at ``person``'s ``view``.

    ``view`` names what was read (``"profile"``, ``"worklist"``, ``"summary"``...).
    ``id`` is assigned by the store when ``0``: increasing in commit order.
    """

    viewer: str
    person: str
    view: str
    at: dt.datetime
    id: int = 0


# --------------------------------------------------------------------------- repositories


class RecordRepository(Protocol):
    """Patient records by key."""

    def get(self, key: RecordKey) -> StoredRecord | None:
        """The stored record with ``key``, or ``None`` if there is none."""
        ...

    def get_many(self, keys: Iterable[RecordKey]) -> dict[RecordKey, StoredRecord]:
        """The stored records among ``keys`` (absent keys are left out)."""
        ...

    def heads(self, keys: Iterable[RecordKey]) -> dict[RecordKey, RecordHead]:
        """The heads of the stored records among ``keys`` (absent keys are left out).

        Each head equals the stored record's key, ``record.patient``, person, digest,
        updated and version.
        """
        ...

    def put(self, item: StoredRecord) -> StoredRecord:
        """Store ``item`` (insert or replace); return it with its new version.

        Raises:
            ConflictError: if the stored version is not ``item.version``.

        """
        ...

    def delete(self, key: RecordKey) -> None:
        """Remove the record with ``key`` (nothing happens if there is none)."""
        ...

    def of_person(self, person: str) -> tuple[StoredRecord, ...]:
        """The records whose ``person`` is ``person``, sorted by key."""
        ...

    def with_blocks(self, blocks: Iterable[str], *, limit: int) -> tuple[RecordKey, ...]:
        """The sorted keys of records sharing at least one of ``blocks``.

        A block holding more than ``limit`` records is too common to compare within and is
        skipped entirely.
        """
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...


class PersonRepository(Protocol):
    """Persons and their aliases."""

    def get(self, person: str) -> Person | None:
        """The person with id ``person`` (alias or not), or ``None``."""
        ...

    def put(self, item: Person) -> Person:
        """Store ``item``; return it with its new version.

        Raises:
            ConflictError: if the stored version is not ``item.version``.

        """
        ...

    def delete(self, person: str) -> None:
        """Remove the person ``person`` (nothing happens if there is none)."""
        ...

    def resolve(self, person: str) -> str | None:
        """The current id for ``person``: following ``merged_into`` to the survivor.

        ``None`` if no person has that id.
        """
        ...

    def aliases(self, person: str) -> tuple[str, ...]:
        """The sorted ids merged (directly or through other aliases) into ``person``."""
        ...

    def ids(self) -> tuple[str, ...]:
        """The sorted ids of every person that is not an alias."""
        ...


class DecisionRepository(Protocol):
    """Human link decisions, by record pair."""

    def put(self, decision: LinkDecision) -> None:
        """Store ``decision``, replacing any earlier decision on the same pair."""
        ...

    def involving(self, keys: Iterable[RecordKey]) -> tuple[LinkDecision, ...]:
        """The decisions with at least one side among ``keys``, sorted by pair."""
        ...

    def delete_involving(self, keys: Iterable[RecordKey]) -> int:
        """Remove the decisions with a side among ``keys``; return how many were removed."""
        ...


class GapRepository(Protocol):
    """The worklist state, by gap key."""

    def get(self, key: str) -> GapState | None:
        """The state of the gap with ``key``, or ``None``."""
        ...

    def put(self, item: GapState) -> GapState:
        """Store ``item``; return it with its new version.

        Raises:
            ConflictError: if the stored version is not ``item.version``.

        """
        ...

    def of_person(self, person: str) -> tuple[GapState, ...]:
        """The gap states of ``person``, sorted by key."""
        ...

    def query(self, query: GapQuery) -> tuple[GapState, ...]:
        """The gap states ``query.matches``, sorted by key."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the gap state with ``key`` (a retired gap); return whether there was one."""
        ...

    def delete_person(self, person: str) -> int:
        """Remove every gap state of ``person``; return how many were removed."""
        ...


class TaskRepository(Protocol):
    """Task proposals and accepted tasks, by task id."""

    def get(self, task_id: str) -> TaskEntry | None:
        """The entry with ``task_id``, or ``None``."""
        ...

    def put(self, item: TaskEntry) -> TaskEntry:
        """Store ``item``; return it with its new version.

        Raises:
            ConflictError: if the stored version is not ``item.version``.

        """
        ...

    def of_person(self, person: str) -> tuple[TaskEntry, ...]:
        """The entries of ``person``, sorted by id."""
        ...

    def with_state(self, state: TaskState) -> tuple[TaskEntry, ...]:
        """The entries in ``state``, sorted by id."""
        ...

    def delete(self, task_id: str) -> bool:
        """Remove the entry ``task_id`` (a withdrawn proposal); return whether there was one."""
        ...

    def delete_person(self, person: str) -> int:
        """Remove every entry of ``person``; return how many were removed."""
        ...


class Ledger(Protocol):
    """The activity ledger: append-only, except redaction on erasure."""

    def append(self, entry: LedgerEntry) -> None:
        """Add ``entry``; the store gives it the next id at the latest at commit."""
        ...

    def of_person(self, person: str) -> tuple[LedgerEntry, ...]:
        """The committed and pending entries about ``person``, in id order (pending last)."""
        ...

    def count(self) -> int:
        """How many entries there are (redacted ones included)."""
        ...

    def redact_person(self, person: str) -> int:
        """Redact every entry about ``person`` (see :class:`LedgerEntry`); return how many."""
        ...


class Outbox(Protocol):
    """Events in commit order, read after a cursor."""

    def append(self, event: Event) -> None:
        """Add ``event``; it gets its position when the unit commits.

        Positions are positive and strictly increase in commit order (they may skip
        numbers); an event committed after another has a larger position.
        """
        ...

    def read(self, *, after: int = 0, limit: int | None = None) -> tuple[Event, ...]:
        """The committed events with ``position > after``, by position, at most ``limit``."""
        ...

    def last_position(self) -> int:
        """The largest committed position, ``0`` when there is none."""
        ...

    def redact_person(self, person: str) -> tuple[int, ...]:
        """Redact the committed events about ``person``; return their positions, sorted.

        A redacted event keeps ``position``, ``kind``, ``person`` and ``at``; ``subject``
        becomes ``""``, ``rule`` and ``status`` ``None``, ``sensitivity`` and ``data`` empty,
        and ``redacted`` ``True``.
        """
        ...


class TombstoneRepository(Protocol):
    """Tombstones of erased persons."""

    def put(self, tombstone: Tombstone) -> None:
        """Store ``tombstone``, replacing any for the same person."""
        ...

    def get(self, person: str) -> Tombstone | None:
        """The tombstone of ``person``, or ``None``."""
        ...

    def blocking(self, keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
        """For each of ``keys`` that a tombstone holds, the erased person's id."""
        ...

    def delete(self, person: str) -> bool:
        """Lift the tombstone of ``person``; return whether there was one."""
        ...


class AccessLog(Protocol):
    """Who viewed what, through the coordinator: append-only."""

    def append(self, entry: AccessEntry) -> None:
        """Add ``entry``; the store gives it the next id at the latest at commit."""
        ...

    def read(self, *, person: str | None = None) -> tuple[AccessEntry, ...]:
        """The committed entries, about ``person`` when given, in id order."""
        ...


# --------------------------------------------------------------------------- unit of work


@runtime_checkable
class UnitOfWork(Protocol):
    """A transaction over every repository: commit together or roll back.

    Use it as a context manager. Writes are visible through this unit at once and to other
    units after :meth:`commit`; leaving the block without committing rolls back. After a
    commit the unit may be used again: later writes form a new transaction.
    """

    @property
    def records(self) -> RecordRepository:
        """Patient records."""
        ...

    @property
    def persons(self) -> PersonRepository:
        """Persons and aliases."""
        ...

    @property
    def decisions(self) -> DecisionRepository:
        """Human link decisions."""
        ...

    @property
    def gaps(self) -> GapRepository:
        """The worklist state."""
        ...

    @property
    def tasks(self) -> TaskRepository:
        """Task proposals and accepted tasks."""
        ...

    @property
    def ledger(self) -> Ledger:
        """The activity ledger."""
        ...

    @property
    def outbox(self) -> Outbox:
        """The outbox of events."""
        ...

    @property
    def tombstones(self) -> TombstoneRepository:
        """Tombstones of erased persons."""
        ...

    @property
    def access(self) -> AccessLog:
        """The access log."""
        ...

    def __enter__(self) -> Self:
        """Begin the unit."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End the unit, rolling back whatever was not committed."""
        ...

    def commit(self) -> None:
        """Make every write of the unit durable and visible, all or nothing.

        Raises:
            ConflictError: if a write was stale; nothing of the unit is committed then.

        """
        ...

    def rollback(self) -> None:
        """Discard every write since the unit began or last committed."""
        ...


@runtime_checkable
class Store(Protocol):
    """Something that keeps the coordinator's state: hands out units of work."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (enter it with ``with``)."""
        ...

    def close(self) -> None:
        """Release the store's resources; using it afterwards is an error."""
        ...


def redacted_entry(entry: LedgerEntry) -> LedgerEntry:
    """``entry`` as erasure leaves it in the ledger (see :class:`LedgerEntry`)."""
    return attrs.evolve(entry, actor="", reason="", detail={}, subject="", redacted=True)


def redacted_event(event: Event) -> Event:
    """``event`` as erasure leaves it in the outbox (see :meth:`Outbox.redact_person`)."""
    return attrs.evolve(
        event, subject="", rule=None, status=None, sensitivity=(), data={}, redacted=True
    )


def sorted_pair(left: RecordKey, right: RecordKey) -> tuple[RecordKey, RecordKey]:
    """``(left, right)`` in order (the key of a link decision)."""
    return (left, right) if left <= right else (right, left)


# --------------------------------------------------------------------------- results as tables


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


GAP_STATE_COLUMNS: tuple[str, ...] = (
    "key",
    "person",
    "rule",
    "family",
    "status",
    "severity",
    "due",
    "opened",
    "closed_at",
    "summary",
    "action",
    "sensitivity",
    "assigned_to",
    "team",
    "snoozed_until",
    "dismissed",
    "notes",
    "version",
)
"""The keys of a worklist row (:meth:`GapStates.to_records`): one gap state.

``key``, ``person``: the gap key and the person id; ``rule``, ``family``, ``summary``,
``action``: as on the gap; ``status`` and ``severity``: enum values (the last evaluated
status); ``due``, ``opened``, ``closed_at``: ISO dates or date-times (``closed_at`` may be
``None``); ``sensitivity``: the sorted sensitivity codes (a list); ``assigned_to``,
``team``: strings or ``None``; ``snoozed_until``: an ISO date or ``None``; ``dismissed``: a
bool; ``notes``: how many notes; ``version``: the stored version (for
``expected_version=``).
"""

GAP_STATE_PERSONAL_COLUMNS: tuple[str, ...] = ("snooze_reason", "dismiss_reason", "note_texts")
"""The extra keys with ``show_personal_data=True``: free text people wrote, which may name
the patient: ``snooze_reason``, ``dismiss_reason`` (strings or ``None``) and
``note_texts`` (a list of ``{"actor", "at", "text"}``)."""

EVENT_COLUMNS: tuple[str, ...] = (
    "position",
    "kind",
    "person",
    "subject",
    "at",
    "rule",
    "status",
    "sensitivity",
    "data",
    "redacted",
)
"""The keys of an outbox event row (:meth:`Events.to_records`).

``position``: the outbox position; ``kind``: ``"gap.opened"``...; ``person``, ``subject``:
ids; ``at``: an ISO date-time; ``rule``, ``status``: strings or ``None``;
``sensitivity``: codes (a list); ``data``: the event's other ids and codes (a dict of
strings); ``redacted``: a bool (an erased person's event keeps only its position, kind and
person). Events hold no personal data, so there is nothing to mask.
"""

LEDGER_COLUMNS: tuple[str, ...] = (
    "id",
    "person",
    "action",
    "subject",
    "actor",
    "at",
    "kind",
    "minutes",
    "detail",
    "redacted",
)
"""The keys of an activity ledger row (:meth:`LedgerEntries.to_records`).

``id``: the ledger id; ``person``, ``subject``, ``actor``: ids; ``action``:
``"gap.assign"``...; ``at``: an ISO date-time; ``kind``: the
:class:`~carecoord.ActivityKind` value; ``minutes``: an int; ``detail``: a dict of
strings (codes and ids); ``redacted``: a bool.
"""

LEDGER_PERSONAL_COLUMNS: tuple[str, ...] = ("reason",)
"""The extra key with ``show_personal_data=True``: ``reason``, the free text given."""


def _columns(base: tuple[str, ...], extra: tuple[str, ...], personal: bool) -> tuple[str, ...]:
    return base + extra if personal else base


def _checked_items(cls: type, items: object, item: str) -> None:
    """Refuse what is not an iterable of rows (a ``UsageError`` naming the class)."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        given = type(items).__name__
        raise UsageError(f"{cls.__name__}() items: expected an iterable of {item}, got {given}")


class GapStates(tuple[GapState, ...]):
    """What :meth:`Coordinator.worklist <carecoord.services.Coordinator.worklist>` returns.

    A tuple of :class:`GapState` (compare, index and iterate it as one) that also turns
    into rows (:meth:`to_records`, :meth:`to_pandas`, :meth:`to_polars`) and displays in
    notebooks (:meth:`display`, masked by default). Its repr counts, whatever its size.
    """

    __slots__ = ()

    def __new__(cls, items: Iterable[GapState] = ()) -> Self:
        """The GapStates of ``items``, in order."""
        _checked_items(cls, items, "GapState")
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for state in self:
            counts[state.gap.status.value] = counts.get(state.gap.status.value, 0) + 1
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        persons = len({s.person for s in self})
        assigned = sum(1 for s in self if s.assigned_to)
        return (
            f"GapStates({len(self)} gaps of {persons} persons"
            f"{': ' + by_status if by_status else ''}; {assigned} assigned)"
        )

    def to_records(self, *, show_personal_data: bool = False) -> list[dict[str, _JsonValue]]:
        """One JSON-safe row per gap state, with the :data:`GAP_STATE_COLUMNS` keys.

        With ``show_personal_data`` each row also has the :data:`GAP_STATE_PERSONAL_COLUMNS`
        (the reasons and note texts people wrote).
        """
        rows: list[dict[str, _JsonValue]] = []
        for state in self:
            gap = state.gap
            codes: list[_JsonValue] = [s.value for s in sorted(gap.sensitivity, key=str)]
            codes.sort(key=str)
            row: dict[str, _JsonValue] = {
                "key": state.key,
                "person": state.person,
                "rule": gap.rule,
                "family": gap.family,
                "status": gap.status.value,
                "severity": gap.severity.value,
                "due": _iso(gap.due),
                "opened": _iso(gap.opened),
                "closed_at": _iso(gap.closed_at),
                "summary": gap.summary,
                "action": gap.action,
                "sensitivity": codes,
                "assigned_to": state.assigned_to,
                "team": state.team,
                "snoozed_until": _iso(state.snoozed_until),
                "dismissed": state.dismissed,
                "notes": len(state.notes),
                "version": state.version,
            }
            if show_personal_data:
                row["snooze_reason"] = state.snooze_reason
                row["dismiss_reason"] = state.dismiss_reason
                row["note_texts"] = [
                    {"actor": n.actor, "at": n.at.isoformat(), "text": n.text} for n in state.notes
                ]
            rows.append(row)
        return rows

    def to_pandas(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``)."""
        columns = _columns(GAP_STATE_COLUMNS, GAP_STATE_PERSONAL_COLUMNS, show_personal_data)
        return to_pandas(self.to_records(show_personal_data=show_personal_data), columns)

    def to_polars(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        columns = _columns(GAP_STATE_COLUMNS, GAP_STATE_PERSONAL_COLUMNS, show_personal_data)
        return to_polars(self.to_records(show_personal_data=show_personal_data), columns)

    def display(self, *, show_personal_data: bool = False, limit: int = 100) -> HtmlDisplay:
        """The worklist as HTML for notebooks: counts, then the first ``limit`` gaps.

        Each line shows the person id, rule, status, severity, due date, owner and team,
        whether it is snoozed or dismissed, the note count and the summary. The reasons
        and note texts people wrote (which may name the patient) are shown only with
        ``show_personal_data``; everything is HTML-escaped.
        """
        return _gap_states_html(self, show_personal_data=show_personal_data, limit=limit)

    def _repr_html_(self) -> str:
        return _gap_states_html(self, show_personal_data=False, limit=100).html


def _gap_states_html(states: GapStates, *, show_personal_data: bool, limit: int) -> HtmlDisplay:
    counts: dict[str, int] = {}
    for state in states:
        counts[state.gap.status.value] = counts.get(state.gap.status.value, 0) + 1
    badges = " ".join(badge(f"{n} {status}", tone=status) for status, n in counts.items())
    persons = len({s.person for s in states})
    head = f"<p>{len(states)} gaps of {persons} persons {badges}</p>"
    headers = ["person", "rule", "status", "due", "work", "summary"]
    if show_personal_data:
        headers.append("reasons, notes")

    def row(state: GapState) -> list[str]:
        gap = state.gap
        work = [x for x in (state.assigned_to, state.team) if x]
        if state.snoozed_until is not None:
            work.append(f"snoozed to {state.snoozed_until.isoformat()}")
        if state.dismissed:
            work.append("dismissed")
        if state.notes:
            work.append(f"{len(state.notes)} notes")
        due = gap.due.isoformat()[:16].replace("T", " ")
        cells = [
            esc(state.person),
            esc(gap.rule),
            badge(gap.status.value) + " " + badge(gap.severity.value),
            esc(due),
            "<br>".join(esc(w) for w in work),
            esc(gap.summary),
        ]
        if show_personal_data:
            texts = [t for t in (state.snooze_reason, state.dismiss_reason) if t]
            texts += [f"{n.actor}: {n.text}" for n in state.notes]
            cells.append("<br>".join(esc(t) for t in texts))
        return cells

    body = table(
        headers,
        (row(s) for s in states),
        raw=range(len(headers)),  # every cell escaped (or a badge) above
        nowrap=(3,),
        limit=limit,
    )
    note = "" if show_personal_data else "reasons and note texts hidden"
    parts = [section("Summary", head, key="summary"), section("Gaps", body, key="gaps", note=note)]
    return HtmlDisplay(
        frame("Coordinator worklist", *parts, kind="gap-states"),
        "gap-states",
        personal=show_personal_data,
    )


class Events(tuple[Event, ...]):
    """Outbox events (:meth:`Coordinator.events <carecoord.services.Coordinator.events>`).

    A tuple of :class:`Event` that also turns into rows (:data:`EVENT_COLUMNS`); its repr
    counts events by kind.
    """

    __slots__ = ()

    def __new__(cls, items: Iterable[Event] = ()) -> Self:
        """The Events of ``items``, in order."""
        _checked_items(cls, items, "Event")
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for event in self:
            counts[event.kind] = counts.get(event.kind, 0) + 1
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{kind} x{n}" for kind, n in shown[:8])
        more = f", +{len(shown) - 8} kinds" if len(shown) > 8 else ""
        span = f" {self[0].position}..{self[-1].position}" if self else ""
        return f"Events({len(self)} events{span}{': ' + text if text else ''}{more})"

    def to_records(self) -> list[dict[str, _JsonValue]]:
        """One JSON-safe row per event, with the :data:`EVENT_COLUMNS` keys."""
        return [
            {
                "position": e.position,
                "kind": e.kind,
                "person": e.person,
                "subject": e.subject,
                "at": e.at.isoformat(),
                "rule": e.rule,
                "status": e.status,
                "sensitivity": list(e.sensitivity),
                "data": {str(k): str(v) for k, v in e.data.items()},
                "redacted": e.redacted,
            }
            for e in self
        ]

    def to_pandas(self) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``)."""
        return to_pandas(self.to_records(), EVENT_COLUMNS)

    def to_polars(self) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        return to_polars(self.to_records(), EVENT_COLUMNS)


class LedgerEntries(tuple[LedgerEntry, ...]):
    """Activity ledger lines (:meth:`Coordinator.ledger <carecoord.services.Coordinator.ledger>`).

    A tuple of :class:`LedgerEntry` that also turns into rows (:data:`LEDGER_COLUMNS`; the
    free-text ``reason`` only with ``show_personal_data``); its repr counts by action.
    """

    __slots__ = ()

    def __new__(cls, items: Iterable[LedgerEntry] = ()) -> Self:
        """The LedgerEntrys of ``items``, in order."""
        _checked_items(cls, items, "LedgerEntry")
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for entry in self:
            counts[entry.action] = counts.get(entry.action, 0) + 1
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        text = ", ".join(f"{action} x{n}" for action, n in shown[:8])
        more = f", +{len(shown) - 8} actions" if len(shown) > 8 else ""
        minutes = sum(e.minutes for e in self)
        return (
            f"LedgerEntries({len(self)} entries, {minutes} minutes"
            f"{': ' + text if text else ''}{more})"
        )

    def to_records(self, *, show_personal_data: bool = False) -> list[dict[str, _JsonValue]]:
        """One JSON-safe row per entry, with the :data:`LEDGER_COLUMNS` keys.

        With ``show_personal_data`` each row also has ``reason`` (free text).
        """
        rows: list[dict[str, _JsonValue]] = []
        for e in self:
            row: dict[str, _JsonValue] = {
                "id": e.id,
                "person": e.person,
                "action": e.action,
                "subject": e.subject,
                "actor": e.actor,
                "at": e.at.isoformat(),
                "kind": e.kind.value,
                "minutes": e.minutes,
                "detail": {str(k): str(v) for k, v in e.detail.items()},
                "redacted": e.redacted,
            }
            if show_personal_data:
                row["reason"] = e.reason
            rows.append(row)
        return rows

    def to_pandas(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``)."""
        columns = _columns(LEDGER_COLUMNS, LEDGER_PERSONAL_COLUMNS, show_personal_data)
        return to_pandas(self.to_records(show_personal_data=show_personal_data), columns)

    def to_polars(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        columns = _columns(LEDGER_COLUMNS, LEDGER_PERSONAL_COLUMNS, show_personal_data)
        return to_polars(self.to_records(show_personal_data=show_personal_data), columns)


bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
# The rows the stores build for every row they read (records, persons, gaps, tasks, logs)
# are left unchecked: a check would cost every worklist read; the rest are checked.
checked_classes(globals(), ("GapQuery", "LinkDecision", "Tombstone"))
del checked_classes, checked_exports, bound_reprs
