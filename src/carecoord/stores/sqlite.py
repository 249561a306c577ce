# ruff: noqa: S608
# (SQL text is built only from this module's constants; every value is a bound parameter.)
"""``SQLiteStore``: the storage ports in one SQLite file (standard-library ``sqlite3``).

Several processes may share one file. Each unit of work runs on its own connection:
its first read starts a transaction (a snapshot of the committed state) and its first
write takes the file's write lock. Versions are checked inside that transaction, and a
unit whose snapshot another process has overtaken cannot write: SQLite refuses, and the
store raises :class:`carecoord.errors.ConflictError`, so the caller redoes the unit
(nothing of it was committed). After such a conflict, the store's next unit takes the write
lock at its start (waiting for the other process), so the redone work cannot lose again;
once it commits, units go back to optimistic. With ``begin="immediate"`` every unit takes
the write lock at its first read: units of several processes then run one after the
other and do not conflict, at the price of readers waiting for writers.

Commits are durable when they return (``synchronous="FULL"``, the default), and a
process killed at any moment leaves the file as it was before or after each unit (WAL
mode). The schema is versioned (:mod:`carecoord.stores._schema` lists the migrations).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import attrs

from carecoord.domain import Patient, PatientRecord
from carecoord.errors import CarecoordError, ConflictError, StoreError, UsageError
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
from carecoord.serialization import dumps, loads
from carecoord.stores import _schema
from carecoord.stores._codec import decode, encode
from carecoord.stores._sqlite_db import Database, Synchronous, translate_error

__all__ = ["SQLiteStore", "SQLiteUnitOfWork"]

Begin = Literal["deferred", "immediate"]

_LEVEL = 3
"""zlib level of record bodies: most of level 6's saving at a third of its time."""


class SQLiteStore:
    """The storage ports in a SQLite file, shared safely by threads and processes.

    ``path`` is the file (created with its schema if missing; ``":memory:"`` keeps one
    private in-memory database). ``synchronous`` is ``"FULL"`` (default: a committed
    unit survives a power cut), ``"NORMAL"`` or ``"EXTRA"``; ``busy_timeout`` is how many
    seconds a write waits for another process's lock; ``begin`` is ``"deferred"``
    (default, optimistic) or ``"immediate"`` (see the module documentation).
    ``compress`` (default ``True``) writes each patient record's canonical JSON
    zlib-compressed (about 7 times smaller for a Synthea record); with ``False`` it is
    plain text. A store reads both, whatever the setting.

    Raises :class:`carecoord.errors.StoreVersionError` for a file written by a newer
    carecoord and :class:`carecoord.errors.StoreError` for a file that is not a carecoord
    store. See :mod:`carecoord.ports` for the contract every store keeps.
    """

    schema_version = _schema.SCHEMA_VERSION
    """The schema version this carecoord writes."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 10.0,
        begin: Begin = "deferred",
        compress: bool = True,
    ) -> None:
        if begin not in ("deferred", "immediate"):
            msg = "begin must be 'deferred' or 'immediate'"
            raise UsageError(msg)
        self._memory = str(path) == ":memory:"
        self._path = path
        self._options: dict[str, Any] = {
            "synchronous": synchronous,
            "busy_timeout": busy_timeout,
        }
        self._begin = "BEGIN IMMEDIATE" if begin == "immediate" else "BEGIN"
        self._contended = False
        self._compress = bool(compress)
        self._lock = threading.Lock()
        self._idle: list[Database] = [Database(path, _schema.MIGRATIONS, **self._options)]
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteStore(schema_version={self.schema_version})"

    def unit_of_work(self) -> SQLiteUnitOfWork:
        """A new unit of work over this store (enter it with ``with``)."""
        if self._closed:
            msg = "the store is closed"
            raise UsageError(msg)
        return SQLiteUnitOfWork(self)

    def close(self) -> None:
        """Close every idle connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()

    def _acquire(self) -> Database:
        with self._lock:
            if self._closed:
                msg = "the store is closed"
                raise UsageError(msg)
            if self._idle:
                return self._idle.pop()
        if self._memory:
            msg = "a ':memory:' SQLite store runs one unit of work at a time"
            raise UsageError(msg)
        return Database(self._path, _schema.MIGRATIONS, **self._options)

    def _release(self, db: Database) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(db)
                return
        db.close()


class SQLiteUnitOfWork:
    """One transaction over a :class:`SQLiteStore` (see :class:`carecoord.ports.UnitOfWork`)."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._db: Database | None = None
        self._first: dict[str, int] = {}
        self._failed: CarecoordError | None = None
        self._escalated = False
        self._erasing = False
        self.records = _Records(self)
        self.persons = _Persons(self)
        self.decisions = _Decisions(self)
        self.gaps = _Gaps(self)
        self.tasks = _Tasks(self)
        self.ledger = _Ledger(self)
        self.outbox = _Outbox(self)
        self.tombstones = _Tombstones(self)
        self.access = _Access(self)

    def __repr__(self) -> str:
        return "SQLiteUnitOfWork()"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._db is not None:
                db, self._db = self._db, None
                self._store._release(db)

    # -------------------------------------------------------------- transaction control

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._store._acquire()
        conn = self._db.connection
        if not conn.in_transaction:
            store = self._store
            # After a unit lost to another process, the next one waits for the write lock
            # at its start: the redone work then cannot lose again (no livelock).
            self._escalated = store._contended
            begin = "BEGIN IMMEDIATE" if self._escalated else store._begin
            try:
                conn.execute(begin)
            except sqlite3.Error as exc:
                raise translate_error(exc, doing="starting a unit of work") from None
        return conn

    def run(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        """Execute one statement inside the unit, translating SQLite's errors."""
        conn = self._conn()
        try:
            return conn.execute(sql, params)
        except sqlite3.Error as exc:
            error = translate_error(exc, doing="using the store", in_unit=True)
            self._failed = error  # a write may be half done: the unit cannot commit
            if isinstance(error, ConflictError):
                self._store._contended = True
            raise error from None

    @property
    def compress(self) -> bool:
        """Whether record bodies are written compressed (see :class:`SQLiteStore`)."""
        return self._store._compress

    def erasing(self) -> None:
        """Note that the unit deletes or redacts personal data (see :meth:`commit`)."""
        self._erasing = True

    def conflicted(self, error: ConflictError) -> ConflictError:
        """Note that the unit met ``error``: it can no longer commit (nothing of it will)."""
        self._failed = error
        return error

    def first_pending(self, log: str) -> int | None:
        """The first id this unit appended to ``log`` (uncommitted), if any."""
        return self._first.get(log)

    def appended(self, log: str, rowid: int | None) -> None:
        """Note an id appended to ``log``: rows from there on are not committed yet."""
        if rowid is not None and log not in self._first:
            self._first[log] = rowid

    def commit(self) -> None:
        """Make every write of the unit durable and visible, all or nothing.

        After a unit that deleted or redacted something (an erasure), the write-ahead log
        is checkpointed and truncated, so the erased content no longer lingers in it
        (deleted content in the database file itself is zeroed: ``secure_delete``).
        """
        db = self._db
        self._first.clear()
        failed = self._failed
        if failed is not None:
            self.rollback()
            if isinstance(failed, ConflictError):
                msg = "a write in this unit of work met a conflict; roll back and redo the unit"
                raise ConflictError(msg)
            msg = "a statement of this unit of work failed; nothing of it was committed"
            raise StoreError(msg)
        if db is None or not db.connection.in_transaction:
            return
        try:
            db.connection.execute("COMMIT")
        except sqlite3.Error as exc:
            error = translate_error(exc, doing="committing a unit of work", in_unit=True)
            self.rollback()
            raise error from None
        if self._escalated:
            self._store._contended = False
            self._escalated = False
        if self._erasing:
            self._erasing = False
            _checkpoint(db.connection)

    def rollback(self) -> None:
        """Discard every write since the unit began or last committed."""
        self._first.clear()
        self._failed = None
        self._erasing = False
        db = self._db
        if db is not None and db.connection.in_transaction:
            try:
                db.connection.execute("ROLLBACK")
            except sqlite3.Error as exc:  # the file vanished or the disk failed
                raise translate_error(exc, doing="rolling back a unit of work") from None


# --------------------------------------------------------------------------- helpers


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the file and truncate it (best effort: a reader may hold it)."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:  # the commit stands; the next checkpoint will get the rest
        return


def _at(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "a stored record's updated time must be an aware datetime"
        raise UsageError(msg)
    return value.isoformat()


def _versioned(
    uow: SQLiteUnitOfWork, table: str, key_sql: str, key: Sequence[object], *, what: str, item: Any
) -> int:
    """Check ``item.version`` against the stored row; return the new version."""
    row = uow.run(f"SELECT version FROM {table} WHERE {key_sql}", key).fetchone()
    stored = 0 if row is None else int(row[0])
    try:
        check_version(what, stored, int(item.version))
    except ConflictError as error:
        raise uow.conflicted(error) from None
    return stored + 1


def _check_type(value: object, cls: type, what: str) -> None:
    if not isinstance(value, cls):
        msg = f"{what} takes a {cls.__name__}, not {type(value).__name__}"
        raise UsageError(msg)


def _keys(keys: Iterable[RecordKey]) -> list[RecordKey]:
    return sorted(set(keys))


# --------------------------------------------------------------------------- records


class _Records:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def _read(self, row: tuple[Any, ...]) -> StoredRecord:
        source, patient, person, digest, updated, blocks, version, body = row
        try:
            record = loads(
                zlib.decompress(body) if isinstance(body, bytes) else body, PatientRecord
            )
        except Exception:
            msg = "a stored PatientRecord cannot be read back (the store is damaged)"
            raise StoreError(msg) from None
        return StoredRecord(
            (source, patient),
            record,
            digest,
            person,
            updated=_at(updated),
            blocks=tuple(json.loads(blocks)),
            version=version,
        )

    _COLUMNS = "source, patient, person, digest, updated, blocks, version, body"
    _WRITTEN = f"{_COLUMNS}, head"

    def get(self, key: RecordKey) -> StoredRecord | None:
        row = self._u.run(
            f"SELECT {self._COLUMNS} FROM records WHERE source = ? AND patient = ?", key
        ).fetchone()
        return None if row is None else self._read(row)

    def get_many(self, keys: Iterable[RecordKey]) -> dict[RecordKey, StoredRecord]:
        found: dict[RecordKey, StoredRecord] = {}
        for key in _keys(keys):
            item = self.get(key)
            if item is not None:
                found[key] = item
        return found

    def heads(self, keys: Iterable[RecordKey]) -> dict[RecordKey, RecordHead]:
        """Read from the ``head`` column (the patient's JSON): the facts are not read."""
        found: dict[RecordKey, RecordHead] = {}
        for key in _keys(keys):
            row = self._u.run(
                "SELECT person, digest, updated, version, head "
                "FROM records WHERE source = ? AND patient = ?",
                key,
            ).fetchone()
            if row is not None:
                person, digest, updated, version, head = row
                found[key] = RecordHead(
                    key, decode(head, Patient), person, digest, _at(updated), version
                )
        return found

    def put(self, item: StoredRecord) -> StoredRecord:
        _check_type(item, StoredRecord, "records.put")
        text = dumps(item.record)  # validates before anything is written
        head = encode(item.record.patient)
        body: str | bytes = (
            zlib.compress(text.encode("utf-8"), _LEVEL) if self._u.compress else text
        )
        updated = _iso(item.updated)
        version = _versioned(
            self._u, "records", "source = ? AND patient = ?", item.key, what="record", item=item
        )
        blocks = list(dict.fromkeys(item.blocks))
        block_list = json.dumps(list(item.blocks), ensure_ascii=False)
        run = self._u.run
        if version == 1:
            run(
                f"INSERT INTO records ({self._WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*item.key, item.person, item.digest, updated, block_list, version, body, head),
            )
        else:
            run(
                "UPDATE records SET person = ?, digest = ?, updated = ?, blocks = ?, version = ?, "
                "body = ?, head = ? WHERE source = ? AND patient = ?",
                (item.person, item.digest, updated, block_list, version, body, head, *item.key),
            )
            run("DELETE FROM record_blocks WHERE source = ? AND patient = ?", item.key)
        for block in blocks:
            run(
                "INSERT INTO record_blocks (block, source, patient) VALUES (?, ?, ?)",
                (block, *item.key),
            )
        return attrs.evolve(item, version=version)

    def delete(self, key: RecordKey) -> None:
        self._u.erasing()
        self._u.run("DELETE FROM records WHERE source = ? AND patient = ?", key)

    def of_person(self, person: str) -> tuple[StoredRecord, ...]:
        rows = self._u.run(
            f"SELECT {self._COLUMNS} FROM records WHERE person = ? ORDER BY source, patient",
            (person,),
        ).fetchall()
        return tuple(sorted((self._read(r) for r in rows), key=lambda r: r.key))

    def with_blocks(self, blocks: Iterable[str], *, limit: int) -> tuple[RecordKey, ...]:
        found: set[RecordKey] = set()
        for block in sorted(set(blocks)):
            rows = self._u.run(
                "SELECT source, patient FROM record_blocks WHERE block = ? LIMIT ?",
                (block, max(limit, 0) + 1),
            ).fetchall()
            if len(rows) <= limit:
                found.update((s, p) for s, p in rows)
        return tuple(sorted(found))

    def count(self) -> int:
        return int(self._u.run("SELECT count(*) FROM records").fetchone()[0])


# --------------------------------------------------------------------------- persons


class _Persons:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def get(self, person: str) -> Person | None:
        row = self._u.run("SELECT version, body FROM persons WHERE id = ?", (person,)).fetchone()
        return None if row is None else attrs.evolve(decode(row[1], Person), version=row[0])

    def put(self, item: Person) -> Person:
        _check_type(item, Person, "persons.put")
        body = encode(attrs.evolve(item, version=0))
        version = _versioned(self._u, "persons", "id = ?", (item.id,), what="person", item=item)
        self._u.run(
            "INSERT INTO persons (id, merged_into, version, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into, "
            "version = excluded.version, body = excluded.body",
            (item.id, item.merged_into, version, body),
        )
        return attrs.evolve(item, version=version)

    def delete(self, person: str) -> None:
        self._u.erasing()
        self._u.run("DELETE FROM persons WHERE id = ?", (person,))

    def resolve(self, person: str) -> str | None:
        seen: set[str] = set()
        current: str | None = person
        while current is not None:
            row = self._u.run("SELECT merged_into FROM persons WHERE id = ?", (current,)).fetchone()
            if row is None:
                return None
            if row[0] is None or current in seen:
                return current
            seen.add(current)
            current = row[0]
        return None  # pragma: no cover - the loop returns

    def aliases(self, person: str) -> tuple[str, ...]:
        found: set[str] = set()
        frontier = [person]
        while frontier:
            rows = self._u.run(
                "SELECT id FROM persons WHERE merged_into = ?", (frontier.pop(),)
            ).fetchall()
            for (alias,) in rows:
                if alias not in found and alias != person:
                    found.add(alias)
                    frontier.append(alias)
        return tuple(sorted(found))

    def ids(self) -> tuple[str, ...]:
        rows = self._u.run("SELECT id FROM persons WHERE merged_into IS NULL").fetchall()
        return tuple(sorted(i for (i,) in rows))


# --------------------------------------------------------------------------- decisions


_DECISIONS = "SELECT left_source, left_patient, right_source, right_patient, body FROM decisions "


class _Decisions:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def put(self, decision: LinkDecision) -> None:
        _check_type(decision, LinkDecision, "decisions.put")
        if decision.left > decision.right:
            msg = "a link decision needs left < right"
            raise UsageError(msg)
        body = encode(decision)
        self._u.run(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?) ON CONFLICT "
            "(left_source, left_patient, right_source, right_patient) "
            "DO UPDATE SET body = excluded.body",
            (*decision.left, *decision.right, body),
        )

    def _pairs(self, keys: Iterable[RecordKey]) -> list[tuple[Any, ...]]:
        found: dict[tuple[Any, ...], str] = {}
        for key in _keys(keys):
            for sql in (
                _DECISIONS + "WHERE left_source = ? AND left_patient = ?",
                _DECISIONS + "WHERE right_source = ? AND right_patient = ?",
            ):
                for row in self._u.run(sql, key).fetchall():
                    found[tuple(row[:4])] = row[4]
        return [(*pair, body) for pair, body in sorted(found.items())]

    def involving(self, keys: Iterable[RecordKey]) -> tuple[LinkDecision, ...]:
        return tuple(decode(row[4], LinkDecision) for row in self._pairs(keys))

    def delete_involving(self, keys: Iterable[RecordKey]) -> int:
        self._u.erasing()
        rows = self._pairs(keys)
        for row in rows:
            self._u.run(
                "DELETE FROM decisions WHERE left_source = ? AND left_patient = ? "
                "AND right_source = ? AND right_patient = ?",
                row[:4],
            )
        return len(rows)


# --------------------------------------------------------------------------- gaps


class _Gaps:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    @staticmethod
    def _read(row: tuple[Any, ...]) -> GapState:
        return attrs.evolve(decode(row[1], GapState), version=row[0])

    def get(self, key: str) -> GapState | None:
        row = self._u.run("SELECT version, body FROM gaps WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._read(row)

    def put(self, item: GapState) -> GapState:
        _check_type(item, GapState, "gaps.put")
        body = encode(attrs.evolve(item, version=0))
        version = _versioned(self._u, "gaps", "key = ?", (item.key,), what="gap state", item=item)
        gap = item.gap
        self._u.run(
            "INSERT INTO gaps (key, person, status, family, severity, assigned_to, team, "
            "dismissed, version, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET person = excluded.person, "
            "status = excluded.status, family = excluded.family, "
            "severity = excluded.severity, assigned_to = excluded.assigned_to, "
            "team = excluded.team, dismissed = excluded.dismissed, "
            "version = excluded.version, body = excluded.body",
            (
                item.key,
                item.person,
                gap.status.value,
                gap.family,
                gap.severity.value,
                item.assigned_to,
                item.team,
                int(item.dismissed),
                version,
                body,
            ),
        )
        return attrs.evolve(item, version=version)

    def of_person(self, person: str) -> tuple[GapState, ...]:
        rows = self._u.run(
            "SELECT version, body FROM gaps WHERE person = ? ORDER BY key", (person,)
        ).fetchall()
        return tuple(sorted((self._read(r) for r in rows), key=lambda s: s.key))

    def query(self, query: GapQuery) -> tuple[GapState, ...]:
        """Narrow with SQL on the indexed columns, then keep what ``query.matches``."""
        _check_type(query, GapQuery, "gaps.query")
        where: list[str] = []
        params: list[object] = []
        for column, values in (
            ("person", query.persons),
            ("status", query.statuses),
            ("family", query.families),
            ("severity", query.severities),
        ):
            if values is not None:
                ordered = sorted(values)
                where.append(f"{column} IN ({', '.join('?' * len(ordered))})" if ordered else "0")
                params.extend(ordered)
        for column, value in (("assigned_to", query.owner), ("team", query.team)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if not query.include_dismissed:
            where.append("dismissed = 0")
        sql = "SELECT version, body FROM gaps"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._u.run(sql, params).fetchall()
        states = (self._read(r) for r in rows)
        return tuple(sorted((s for s in states if query.matches(s)), key=lambda s: s.key))

    def delete(self, key: str) -> bool:
        return self._u.run("DELETE FROM gaps WHERE key = ?", (key,)).rowcount > 0

    def delete_person(self, person: str) -> int:
        self._u.erasing()
        return self._u.run("DELETE FROM gaps WHERE person = ?", (person,)).rowcount


# --------------------------------------------------------------------------- tasks


class _Tasks:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    @staticmethod
    def _read(row: tuple[Any, ...]) -> TaskEntry:
        return attrs.evolve(decode(row[1], TaskEntry), version=row[0])

    def get(self, task_id: str) -> TaskEntry | None:
        row = self._u.run("SELECT version, body FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else self._read(row)

    def put(self, item: TaskEntry) -> TaskEntry:
        _check_type(item, TaskEntry, "tasks.put")
        body = encode(attrs.evolve(item, version=0))
        version = _versioned(self._u, "tasks", "id = ?", (item.id,), what="task entry", item=item)
        self._u.run(
            "INSERT INTO tasks (id, person, state, version, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET person = excluded.person, state = excluded.state, "
            "version = excluded.version, body = excluded.body",
            (item.id, item.person, item.state.value, version, body),
        )
        return attrs.evolve(item, version=version)

    def of_person(self, person: str) -> tuple[TaskEntry, ...]:
        rows = self._u.run(
            "SELECT version, body FROM tasks WHERE person = ? ORDER BY id", (person,)
        ).fetchall()
        return tuple(sorted((self._read(r) for r in rows), key=lambda t: t.id))

    def with_state(self, state: TaskState) -> tuple[TaskEntry, ...]:
        _check_type(state, TaskState, "tasks.with_state")
        rows = self._u.run(
            "SELECT version, body FROM tasks WHERE state = ? ORDER BY id", (state.value,)
        ).fetchall()
        return tuple(sorted((self._read(r) for r in rows), key=lambda t: t.id))

    def delete(self, task_id: str) -> bool:
        return self._u.run("DELETE FROM tasks WHERE id = ?", (task_id,)).rowcount > 0

    def delete_person(self, person: str) -> int:
        self._u.erasing()
        return self._u.run("DELETE FROM tasks WHERE person = ?", (person,)).rowcount


# --------------------------------------------------------------------------- logs


def _committed(uow: SQLiteUnitOfWork, log: str, column: str) -> tuple[str, list[object]]:
    """A SQL condition keeping only the rows of ``log`` committed before this unit wrote."""
    first = uow.first_pending(log)
    return ("", []) if first is None else (f" AND {column} < ?", [first])


class _Ledger:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def append(self, entry: LedgerEntry) -> None:
        _check_type(entry, LedgerEntry, "ledger.append")
        body = encode(attrs.evolve(entry, id=0))
        cursor = self._u.run(
            "INSERT INTO ledger (person, body) VALUES (?, ?)", (entry.person, body)
        )
        self._u.appended("ledger", cursor.lastrowid)

    def of_person(self, person: str) -> tuple[LedgerEntry, ...]:
        rows = self._u.run(
            "SELECT id, body FROM ledger WHERE person = ? ORDER BY id", (person,)
        ).fetchall()
        first = self._u.first_pending("ledger")
        return tuple(
            attrs.evolve(decode(body, LedgerEntry), id=0 if first and i >= first else i)
            for i, body in rows
        )

    def count(self) -> int:
        return int(self._u.run("SELECT count(*) FROM ledger").fetchone()[0])

    def redact_person(self, person: str) -> int:
        self._u.erasing()
        extra, params = _committed(self._u, "ledger", "id")
        rows = self._u.run(
            f"SELECT id, body FROM ledger WHERE person = ?{extra}", [person, *params]
        ).fetchall()
        for entry_id, body in rows:
            entry = decode(body, LedgerEntry)
            if not entry.redacted:
                self._u.run(
                    "UPDATE ledger SET body = ? WHERE id = ?",
                    (encode(redacted_entry(entry)), entry_id),
                )
        return len(rows)


class _Outbox:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def append(self, event: Event) -> None:
        _check_type(event, Event, "outbox.append")
        body = encode(attrs.evolve(event, position=0))
        cursor = self._u.run(
            "INSERT INTO outbox (person, body) VALUES (?, ?)", (event.person, body)
        )
        self._u.appended("outbox", cursor.lastrowid)

    def read(self, *, after: int = 0, limit: int | None = None) -> tuple[Event, ...]:
        extra, params = _committed(self._u, "outbox", "position")
        sql = f"SELECT position, body FROM outbox WHERE position > ?{extra} ORDER BY position"
        args: list[object] = [after, *params]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(max(limit, 0))
        rows = self._u.run(sql, args).fetchall()
        return tuple(attrs.evolve(decode(body, Event), position=p) for p, body in rows)

    def last_position(self) -> int:
        extra, params = _committed(self._u, "outbox", "position")
        row = self._u.run(f"SELECT max(position) FROM outbox WHERE 1{extra}", params).fetchone()
        return 0 if row[0] is None else int(row[0])

    def redact_person(self, person: str) -> tuple[int, ...]:
        self._u.erasing()
        extra, params = _committed(self._u, "outbox", "position")
        rows = self._u.run(
            f"SELECT position, body FROM outbox WHERE person = ?{extra} ORDER BY position",
            [person, *params],
        ).fetchall()
        for position, body in rows:
            event = decode(body, Event)
            if not event.redacted:
                self._u.run(
                    "UPDATE outbox SET body = ? WHERE position = ?",
                    (encode(redacted_event(event)), position),
                )
        return tuple(p for p, _ in rows)


class _Access:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def append(self, entry: AccessEntry) -> None:
        _check_type(entry, AccessEntry, "access.append")
        body = encode(attrs.evolve(entry, id=0))
        cursor = self._u.run(
            "INSERT INTO access_log (person, body) VALUES (?, ?)", (entry.person, body)
        )
        self._u.appended("access", cursor.lastrowid)

    def read(self, *, person: str | None = None) -> tuple[AccessEntry, ...]:
        extra, params = _committed(self._u, "access", "id")
        if person is None:
            sql, args = f"SELECT id, body FROM access_log WHERE 1{extra} ORDER BY id", params
        else:
            sql = f"SELECT id, body FROM access_log WHERE person = ?{extra} ORDER BY id"
            args = [person, *params]
        rows = self._u.run(sql, args).fetchall()
        return tuple(attrs.evolve(decode(body, AccessEntry), id=i) for i, body in rows)


# --------------------------------------------------------------------------- tombstones


class _Tombstones:
    def __init__(self, uow: SQLiteUnitOfWork) -> None:
        self._u = uow

    def put(self, tombstone: Tombstone) -> None:
        _check_type(tombstone, Tombstone, "tombstones.put")
        body = encode(tombstone)
        self._u.run("DELETE FROM tombstones WHERE person = ?", (tombstone.person,))
        self._u.run("INSERT INTO tombstones (person, body) VALUES (?, ?)", (tombstone.person, body))
        for key in sorted(set(tombstone.records)):
            self._u.run(
                "INSERT INTO tombstone_records (source, patient, person) VALUES (?, ?, ?)",
                (*key, tombstone.person),
            )

    def get(self, person: str) -> Tombstone | None:
        row = self._u.run("SELECT body FROM tombstones WHERE person = ?", (person,)).fetchone()
        return None if row is None else decode(row[0], Tombstone)

    def blocking(self, keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
        found: dict[RecordKey, str] = {}
        for key in _keys(keys):
            row = self._u.run(
                "SELECT min(person) FROM tombstone_records WHERE source = ? AND patient = ?", key
            ).fetchone()
            if row[0] is not None:
                found[key] = row[0]
        return found

    def delete(self, person: str) -> bool:
        return self._u.run("DELETE FROM tombstones WHERE person = ?", (person,)).rowcount > 0
