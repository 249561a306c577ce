"""The SQLite foundation under :class:`carecoord.stores.SQLiteStore`.

A :class:`Database` owns one ``sqlite3`` connection (standard library only) set up for a
store that several processes share:

* ``journal_mode=WAL``: readers never block the one writer, and a crash mid-write leaves
  the last committed state (the write-ahead log is rolled back on the next open);
* ``secure_delete=ON``: deleted content is overwritten with zeros;
* ``foreign_keys=ON``, and a ``busy_timeout`` so that a second process waits for the
  writer instead of failing at once;
* ``synchronous`` configurable: ``FULL`` (the default: a commit survives a power cut,
  what an HL7 v2 listener needs before it acknowledges a message) or ``NORMAL`` (faster;
  a power cut may lose the last commits, never corrupt the file).

The connection runs in autocommit mode (``isolation_level=None``): the store's units of
work issue ``BEGIN`` / ``BEGIN IMMEDIATE``, ``COMMIT`` and ``ROLLBACK`` themselves (see
:class:`carecoord.stores.SQLiteUnitOfWork`).

The schema is versioned: ``PRAGMA user_version`` holds the number of migrations applied
and ``PRAGMA application_id`` marks the file as a carecoord store. Opening runs the
migrations not yet applied, in order, in one transaction; a file from a newer carecoord
raises :class:`carecoord.errors.StoreVersionError` and is left untouched, and a file that
is some other application's database raises :class:`carecoord.errors.StoreError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Literal

import attrs

from carecoord.errors import (
    CarecoordError,
    ConflictError,
    StoreError,
    StoreVersionError,
    UsageError,
)

__all__ = ["APPLICATION_ID", "Database", "Migration", "Synchronous", "translate_error"]

APPLICATION_ID: Final = 0x63617265
"""``PRAGMA application_id`` of a carecoord store: the ASCII bytes ``care``."""

Synchronous = Literal["FULL", "NORMAL", "EXTRA"]
"""The ``PRAGMA synchronous`` settings a store accepts (``OFF`` could corrupt it)."""

_SYNCHRONOUS: Final = frozenset({"FULL", "NORMAL", "EXTRA"})


@attrs.frozen
class Migration:
    """One step of the schema: its number (1, 2, ...), what it does, its SQL statements.

    Migrations are applied in order, each once; a released migration is never edited
    (a change to the schema is a new migration at the end of the list).
    """

    version: int
    description: str
    statements: tuple[str, ...]


_BUSY_CODES: Final = frozenset({5, 6, 517})
"""SQLITE_BUSY, SQLITE_LOCKED and SQLITE_BUSY_SNAPSHOT."""


def translate_error(exc: sqlite3.Error, *, doing: str, in_unit: bool = False) -> CarecoordError:
    """The carecoord error for an ``sqlite3`` error met while ``doing`` something.

    A constraint broken by a concurrent write is a :class:`ConflictError`, and so is a
    busy store met inside a unit of work that has already read (``in_unit``): another
    process committed since the unit's snapshot, or held the write lock for longer than
    the busy timeout, and redoing the unit is the cure. A busy store elsewhere, a
    read-only or full disk, a damaged file or one that is not a database are
    :class:`StoreError`. The message names the SQLite error class and what was being
    done, never a path or stored data.
    """
    if isinstance(exc, sqlite3.IntegrityError):
        return ConflictError(f"{doing}: the store changed underneath (a constraint failed)")
    reason = str(exc).split(":", 1)[0].strip() or type(exc).__name__
    code = getattr(exc, "sqlite_errorcode", None)
    busy = code in _BUSY_CODES or "locked" in reason or "busy" in reason
    if busy and in_unit:
        return ConflictError(
            f"{doing}: another process wrote to the store during this unit of work; redo the unit"
        )
    if busy:
        return StoreError(f"{doing}: the store is busy (another process holds the write lock)")
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in reason or "malformed" in reason or "encrypted" in reason
    ):
        return StoreError(f"{doing}: the file is not a usable SQLite database")
    return StoreError(f"{doing}: SQLite {type(exc).__name__} ({_safe(reason)})")


def _safe(reason: str) -> str:
    """SQLite's own short reason, kept only if it is one of its fixed phrases."""
    fixed = (
        "attempt to write a readonly database",
        "database or disk is full",
        "disk I/O error",
        "unable to open database file",
        "database is locked",
        "cannot commit - no transaction is active",
    )
    return reason if reason in fixed else "see the SQLite error code"


class Database:
    """One connection to a store file, its schema brought up to date.

    ``path`` is a file path (created if missing) or ``":memory:"``. ``migrations`` is the
    ordered schema. ``synchronous`` is ``"FULL"`` (default), ``"NORMAL"`` or ``"EXTRA"``;
    ``busy_timeout`` (seconds) is how long a write waits for another process's lock.
    """

    def __init__(
        self,
        path: str | Path,
        migrations: Sequence[Migration],
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 10.0,
    ) -> None:
        given: object = path  # checked at run time: callers are not always typed
        if not isinstance(given, str | Path):
            msg = f"a store path is a str or a Path, not {type(given).__name__}"
            raise UsageError(msg)
        if synchronous not in _SYNCHRONOUS:
            msg = "synchronous must be 'FULL', 'NORMAL' or 'EXTRA'"
            raise UsageError(msg)
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            msg = f"busy_timeout is a number of seconds, not {type(busy_timeout).__name__}"
            raise UsageError(msg)
        _check_migrations(migrations)
        self._closed = False
        try:
            self.connection = sqlite3.connect(
                str(path),
                timeout=max(0.0, float(busy_timeout)),
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise translate_error(exc, doing="opening the store") from None
        try:
            self._configure(synchronous, busy_timeout)
            self.schema_version = self._migrate(migrations)
        except BaseException:
            self.connection.close()
            raise

    def _configure(self, synchronous: str, busy_timeout: float) -> None:
        conn = self.connection
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(max(0.0, busy_timeout) * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA foreign_keys = ON")
            # Deleted and overwritten content is zeroed, not left in free pages: what an
            # erasure removes is gone from the file (see SQLiteUnitOfWork.commit for the WAL).
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        except sqlite3.Error as exc:
            raise translate_error(exc, doing="opening the store") from None
        # An in-memory database reports "memory"; a file must be in WAL mode.
        self.journal_mode = str(mode).lower()

    def _migrate(self, migrations: Sequence[Migration]) -> int:
        conn = self.connection
        supported = len(migrations)
        try:
            found = self._version()
            if found > supported:
                raise StoreVersionError(found, supported)
            if found == supported:
                return found
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = self._version()  # another process may have migrated meanwhile
                if found > supported:
                    raise StoreVersionError(found, supported)
                for migration in migrations[found:]:
                    for statement in migration.statements:
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {supported}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise translate_error(exc, doing="opening the store") from None
        return supported

    def _version(self) -> int:
        """The schema version of the file; a foreign database is refused."""
        conn = self.connection
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if app == APPLICATION_ID:
            return version
        tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
        if app != 0 or version != 0 or tables:
            msg = "the file is not a carecoord store (another application's database)"
            raise StoreError(msg)
        return 0

    def close(self) -> None:
        """Close the connection (idempotent); a transaction still open is rolled back."""
        if self._closed:
            return
        self._closed = True
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()


def _check_migrations(migrations: Sequence[Migration]) -> None:
    for index, migration in enumerate(migrations, start=1):
        if migration.version != index:
            msg = f"migration number {migration.version} found where {index} was expected"
            raise UsageError(msg)
