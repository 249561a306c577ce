"""``MemoryStore``: the storage ports kept in memory, transactional and thread-safe.

A product, not a test double: it has the semantics the SQLite store has (units of work
that commit all or nothing, optimistic versions, outbox positions in commit order), and it
is what an app uses when nothing has to outlive the process.

Each unit of work writes into its own overlay (copy-on-write): reads through the unit see
the overlay first, then the committed state. :meth:`commit` takes the store's lock, checks
that every versioned item the unit wrote still has the version the unit read, and only
then applies the whole overlay, so a commit either applies everything or raises
:class:`~carecoord.errors.ConflictError` and applies nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs

from carecoord.errors import ConflictError, UsageError
from carecoord.ports import (
    AccessEntry,
    Event,
    GapQuery,
    GapState,
    LedgerEntry,
    LinkDecision,
    Person,
    RecordHead,
    RecordKey,
    StoredRecord,
    TaskEntry,
    TaskState,
    Tombstone,
    check_version,
    redacted_entry,
    redacted_event,
)

__all__ = ["MemoryStore"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_DELETED = object()


class _Table(Generic[_K, _V]):
    """Committed rows of one table, with secondary indexes by a derived value."""

    def __init__(self, indexes: dict[str, Callable[[_V], Iterable[Hashable]]] | None = None):
        self.rows: dict[_K, _V] = {}
        self.index_of = indexes or {}
        self.indexes: dict[str, dict[Hashable, set[_K]]] = {name: {} for name in self.index_of}

    def lookup(self, index: str, value: Hashable) -> set[_K]:
        return self.indexes[index].get(value, set())

    def apply(self, key: _K, value: object) -> None:
        old = self.rows.pop(key, None)
        if old is not None:
            for name, derive in self.index_of.items():
                for part in derive(old):
                    bucket = self.indexes[name].get(part)
                    if bucket is not None:
                        bucket.discard(key)
                        if not bucket:
                            del self.indexes[name][part]
        if value is _DELETED:
            return
        row: _V = value  # type: ignore[assignment]
        self.rows[key] = row
        for name, derive in self.index_of.items():
            for part in derive(row):
                self.indexes[name].setdefault(part, set()).add(key)


class _Overlay(Generic[_K, _V]):
    """One unit's pending writes to one table, read through to the committed rows."""

    def __init__(self, table: _Table[_K, _V], lock: threading.RLock, what: str) -> None:
        self.table = table
        self.lock = lock
        self.what = what
        self.pending: dict[_K, object] = {}
        self.base: dict[_K, int] = {}
        self.conflicted = False

    def get(self, key: _K) -> _V | None:
        if key in self.pending:
            value = self.pending[key]
            return None if value is _DELETED else value  # type: ignore[return-value]
        with self.lock:
            return self.table.rows.get(key)

    def keys_where(self, index: str, values: Iterable[Hashable]) -> set[_K]:
        derive = self.table.index_of[index]
        wanted = set(values)
        with self.lock:
            found: set[_K] = set()
            for value in wanted:
                found |= self.table.lookup(index, value)
        found = {k for k in found if k not in self.pending}
        for key, value in self.pending.items():
            if value is not _DELETED and wanted.intersection(derive(value)):  # type: ignore[arg-type]
                found.add(key)
        return found

    def all_rows(self) -> Iterator[tuple[_K, _V]]:
        with self.lock:
            committed = list(self.table.rows.items())
        for key, value in committed:
            if key not in self.pending:
                yield key, value
        for key, pending in self.pending.items():
            if pending is not _DELETED:
                yield key, pending  # type: ignore[misc]

    def put_versioned(self, key: _K, item: _V) -> _V:
        current = self.get(key)
        stored = 0 if current is None else _version(current)
        try:
            check_version(self.what, stored, _version(item))
        except ConflictError:
            self.conflicted = True  # the unit can no longer commit (ports: nothing of it)
            raise
        if key not in self.base:
            # The version this unit read (``stored``), not the table's version now: reading
            # the table again here let another thread's commit in between go unnoticed (a
            # lost update, seen under load by test_concurrent_threads_lose_no_update).
            self.base[key] = stored
        new: _V = attrs.evolve(item, version=stored + 1)  # type: ignore[misc]
        self.pending[key] = new
        return new

    def put(self, key: _K, item: _V) -> None:
        self.pending[key] = item

    def delete(self, key: _K) -> None:
        if key not in self.base:
            with self.lock:
                committed = self.table.rows.get(key)
            if committed is not None and hasattr(committed, "version"):
                self.base[key] = _version(committed)
        self.pending[key] = _DELETED

    def check(self) -> None:
        if self.conflicted:
            raise ConflictError(
                f"a write to a {self.what} in this unit of work met a conflict; "
                "roll back and redo the unit"
            )
        for key, base in self.base.items():
            committed = self.table.rows.get(key)
            check_version(self.what, 0 if committed is None else _version(committed), base)

    def apply(self) -> None:
        for key, value in self.pending.items():
            self.table.apply(key, value)

    def reset(self) -> None:
        self.pending.clear()
        self.base.clear()
        self.conflicted = False


def _version(item: object) -> int:
    return int(item.version)  # type: ignore[attr-defined]


@attrs.define
class _Logs:
    """Append-only logs: the ledger, the outbox and the access log."""

    ledger: list[LedgerEntry] = attrs.Factory(list)
    outbox: list[Event] = attrs.Factory(list)
    access: list[AccessEntry] = attrs.Factory(list)


class _State:
    def __init__(self) -> None:
        self.records: _Table[RecordKey, StoredRecord] = _Table(
            {"person": lambda r: (r.person,), "block": lambda r: r.blocks}
        )
        self.persons: _Table[str, Person] = _Table(
            {"merged_into": lambda p: () if p.merged_into is None else (p.merged_into,)}
        )
        self.decisions: _Table[tuple[RecordKey, RecordKey], LinkDecision] = _Table(
            {"key": lambda d: (d.left, d.right)}
        )
        self.gaps: _Table[str, GapState] = _Table({"person": lambda g: (g.person,)})
        self.tasks: _Table[str, TaskEntry] = _Table(
            {"person": lambda t: (t.person,), "state": lambda t: (t.state,)}
        )
        self.tombstones: _Table[str, Tombstone] = _Table({"record": lambda t: t.records})
        self.logs = _Logs()


class MemoryStore:
    """The storage ports in memory: transactional, thread-safe, lost when the process ends.

    ``with store.unit_of_work() as uow: ...; uow.commit()``. See :mod:`carecoord.ports`
    for the contract every store keeps.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = _State()
        self._closed = False

    def __repr__(self) -> str:
        return "MemoryStore()"

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        if self._closed:
            raise UsageError("the store is closed")
        return MemoryUnitOfWork(self._state, self._lock)

    def close(self) -> None:
        """Drop everything kept; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            self._state = _State()


class MemoryUnitOfWork:
    """One transaction over a :class:`MemoryStore` (see :class:`carecoord.ports.UnitOfWork`)."""

    def __init__(self, state: _State, lock: threading.RLock) -> None:
        self._state = state
        self._lock = lock
        self._records = _Overlay(state.records, lock, "record")
        self._persons = _Overlay(state.persons, lock, "person")
        self._decisions = _Overlay(state.decisions, lock, "link decision")
        self._gaps = _Overlay(state.gaps, lock, "gap state")
        self._tasks = _Overlay(state.tasks, lock, "task entry")
        self._tombstones = _Overlay(state.tombstones, lock, "tombstone")
        self._overlays: tuple[_Overlay[Any, Any], ...] = (
            self._records,
            self._persons,
            self._decisions,
            self._gaps,
            self._tasks,
            self._tombstones,
        )
        self._ledger_new: list[LedgerEntry] = []
        self._ledger_redact: set[str] = set()
        self._events_new: list[Event] = []
        self._events_redact: set[str] = set()
        self._access_new: list[AccessEntry] = []
        self.records = _Records(self._records)
        self.persons = _Persons(self._persons)
        self.decisions = _Decisions(self._decisions)
        self.gaps = _Gaps(self._gaps)
        self.tasks = _Tasks(self._tasks)
        self.tombstones = _Tombstones(self._tombstones)
        self.ledger = _Ledger(self)
        self.outbox = _Outbox(self)
        self.access = _Access(self)

    def __repr__(self) -> str:
        return "MemoryUnitOfWork()"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Apply every write of the unit at once, or raise ``ConflictError`` and apply none."""
        try:
            with self._lock:
                for overlay in self._overlays:
                    overlay.check()
                for overlay in self._overlays:
                    overlay.apply()
                logs = self._state.logs
                for person in sorted(self._ledger_redact):
                    _redact_ledger(logs.ledger, person)
                for person in sorted(self._events_redact):
                    _redact_events(logs.outbox, person)
                next_id = logs.ledger[-1].id + 1 if logs.ledger else 1
                for n, entry in enumerate(self._ledger_new):
                    logs.ledger.append(attrs.evolve(entry, id=next_id + n))
                position = logs.outbox[-1].position + 1 if logs.outbox else 1
                for n, event in enumerate(self._events_new):
                    logs.outbox.append(attrs.evolve(event, position=position + n))
                next_access = logs.access[-1].id + 1 if logs.access else 1
                for n, seen in enumerate(self._access_new):
                    logs.access.append(attrs.evolve(seen, id=next_access + n))
        finally:
            self.rollback()

    def rollback(self) -> None:
        """Discard every write since the unit began or last committed."""
        for overlay in self._overlays:
            overlay.reset()
        self._ledger_new.clear()
        self._ledger_redact.clear()
        self._events_new.clear()
        self._events_redact.clear()
        self._access_new.clear()


def _redact_ledger(entries: list[LedgerEntry], person: str) -> int:
    count = 0
    for n, entry in enumerate(entries):
        if entry.person == person and not entry.redacted:
            entries[n] = redacted_entry(entry)
            count += 1
    return count


def _redact_events(events: list[Event], person: str) -> list[int]:
    positions = []
    for n, event in enumerate(events):
        if event.person == person and not event.redacted:
            events[n] = redacted_event(event)
            positions.append(event.position)
    return positions


class _Records:
    def __init__(self, overlay: _Overlay[RecordKey, StoredRecord]) -> None:
        self._o = overlay

    def get(self, key: RecordKey) -> StoredRecord | None:
        return self._o.get(key)

    def get_many(self, keys: Iterable[RecordKey]) -> dict[RecordKey, StoredRecord]:
        found = {}
        for key in keys:
            item = self._o.get(key)
            if item is not None:
                found[key] = item
        return found

    def heads(self, keys: Iterable[RecordKey]) -> dict[RecordKey, RecordHead]:
        return {
            key: RecordHead(key, s.record.patient, s.person, s.digest, s.updated, s.version)
            for key, s in self.get_many(keys).items()
        }

    def put(self, item: StoredRecord) -> StoredRecord:
        return self._o.put_versioned(item.key, item)

    def delete(self, key: RecordKey) -> None:
        self._o.delete(key)

    def of_person(self, person: str) -> tuple[StoredRecord, ...]:
        keys = self._o.keys_where("person", (person,))
        return tuple(self._o.get(k) for k in sorted(keys))  # type: ignore[misc]

    def with_blocks(self, blocks: Iterable[str], *, limit: int) -> tuple[RecordKey, ...]:
        found: set[RecordKey] = set()
        for block in set(blocks):
            members = self._o.keys_where("block", (block,))
            if len(members) <= limit:
                found |= members
        return tuple(sorted(found))

    def count(self) -> int:
        return sum(1 for _ in self._o.all_rows())


class _Persons:
    def __init__(self, overlay: _Overlay[str, Person]) -> None:
        self._o = overlay

    def get(self, person: str) -> Person | None:
        return self._o.get(person)

    def put(self, item: Person) -> Person:
        return self._o.put_versioned(item.id, item)

    def delete(self, person: str) -> None:
        self._o.delete(person)

    def resolve(self, person: str) -> str | None:
        seen = set()
        current = self._o.get(person)
        while current is not None and current.merged_into is not None:
            if current.id in seen:  # pragma: no cover - a cycle would be a store bug
                break
            seen.add(current.id)
            current = self._o.get(current.merged_into)
        return None if current is None else current.id

    def aliases(self, person: str) -> tuple[str, ...]:
        found: set[str] = set()
        frontier = [person]
        while frontier:
            for alias in self._o.keys_where("merged_into", (frontier.pop(),)):
                if alias not in found and alias != person:
                    found.add(alias)
                    frontier.append(alias)
        return tuple(sorted(found))

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, p in self._o.all_rows() if p.merged_into is None))


class _Decisions:
    def __init__(self, overlay: _Overlay[tuple[RecordKey, RecordKey], LinkDecision]) -> None:
        self._o = overlay

    def put(self, decision: LinkDecision) -> None:
        if decision.left > decision.right:
            raise UsageError("a link decision needs left < right")
        self._o.put((decision.left, decision.right), decision)

    def involving(self, keys: Iterable[RecordKey]) -> tuple[LinkDecision, ...]:
        pairs = self._o.keys_where("key", keys)
        return tuple(self._o.get(p) for p in sorted(pairs))  # type: ignore[misc]

    def delete_involving(self, keys: Iterable[RecordKey]) -> int:
        pairs = self._o.keys_where("key", keys)
        for pair in pairs:
            self._o.delete(pair)
        return len(pairs)


class _PersonRows(Generic[_V]):
    """Rows keyed by a string id and indexed by ``person``: what gap states and tasks share."""

    def __init__(self, overlay: _Overlay[str, _V]) -> None:
        self._o = overlay

    def get(self, key: str) -> _V | None:
        return self._o.get(key)

    def of_person(self, person: str) -> tuple[_V, ...]:
        keys = self._o.keys_where("person", (person,))
        return tuple(self._o.get(k) for k in sorted(keys))  # type: ignore[misc]

    def delete(self, key: str) -> bool:
        if self._o.get(key) is None:
            return False
        self._o.delete(key)
        return True

    def delete_person(self, person: str) -> int:
        keys = self._o.keys_where("person", (person,))
        for key in keys:
            self._o.delete(key)
        return len(keys)


class _Gaps(_PersonRows[GapState]):
    def put(self, item: GapState) -> GapState:
        return self._o.put_versioned(item.key, item)

    def query(self, query: GapQuery) -> tuple[GapState, ...]:
        if query.persons is not None:
            keys = self._o.keys_where("person", query.persons)
            rows: Iterable[GapState] = (self._o.get(k) for k in keys)  # type: ignore[misc]
        else:
            rows = (state for _, state in self._o.all_rows())
        return tuple(sorted((s for s in rows if query.matches(s)), key=lambda s: s.key))


class _Tasks(_PersonRows[TaskEntry]):
    def put(self, item: TaskEntry) -> TaskEntry:
        return self._o.put_versioned(item.id, item)

    def with_state(self, state: TaskState) -> tuple[TaskEntry, ...]:
        keys = self._o.keys_where("state", (state,))
        return tuple(self._o.get(k) for k in sorted(keys))  # type: ignore[misc]


class _Tombstones:
    def __init__(self, overlay: _Overlay[str, Tombstone]) -> None:
        self._o = overlay

    def put(self, tombstone: Tombstone) -> None:
        self._o.put(tombstone.person, tombstone)

    def get(self, person: str) -> Tombstone | None:
        return self._o.get(person)

    def blocking(self, keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
        wanted = set(keys)
        found: dict[RecordKey, str] = {}
        for person in self._o.keys_where("record", wanted):
            tombstone = self._o.get(person)
            if tombstone is not None:
                for key in wanted.intersection(tombstone.records):
                    found[key] = person
        return found

    def delete(self, person: str) -> bool:
        existed = self._o.get(person) is not None
        if existed:
            self._o.delete(person)
        return existed


class _Ledger:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._u = uow

    def append(self, entry: LedgerEntry) -> None:
        self._u._ledger_new.append(entry)

    def of_person(self, person: str) -> tuple[LedgerEntry, ...]:
        with self._u._lock:
            committed = [e for e in self._u._state.logs.ledger if e.person == person]
        if person in self._u._ledger_redact:
            committed = [redacted_entry(e) if not e.redacted else e for e in committed]
        return (*committed, *(e for e in self._u._ledger_new if e.person == person))

    def count(self) -> int:
        with self._u._lock:
            return len(self._u._state.logs.ledger) + len(self._u._ledger_new)

    def redact_person(self, person: str) -> int:
        self._u._ledger_redact.add(person)
        return sum(1 for e in self.of_person(person) if e.id)


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._u = uow

    def append(self, event: Event) -> None:
        self._u._events_new.append(event)

    def read(self, *, after: int = 0, limit: int | None = None) -> tuple[Event, ...]:
        with self._u._lock:
            events = self._u._state.logs.outbox
            lo, hi = 0, len(events)
            while lo < hi:
                mid = (lo + hi) // 2
                if events[mid].position <= after:
                    lo = mid + 1
                else:
                    hi = mid
            end = len(events) if limit is None else min(len(events), lo + max(limit, 0))
            found = events[lo:end]
        redact = self._u._events_redact
        return tuple(redacted_event(e) if e.person in redact else e for e in found)

    def last_position(self) -> int:
        with self._u._lock:
            events = self._u._state.logs.outbox
            return events[-1].position if events else 0

    def redact_person(self, person: str) -> tuple[int, ...]:
        self._u._events_redact.add(person)
        with self._u._lock:
            return tuple(e.position for e in self._u._state.logs.outbox if e.person == person)


class _Access:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._u = uow

    def append(self, entry: AccessEntry) -> None:
        self._u._access_new.append(entry)

    def read(self, *, person: str | None = None) -> tuple[AccessEntry, ...]:
        with self._u._lock:
            entries = list(self._u._state.logs.access)
        return tuple(e for e in entries if person is None or e.person == person)
