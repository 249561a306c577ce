"""The SQLite store's schema: an ordered list of migrations (see ``docs/embedding.md``).

Policy: a released migration is never edited; a change is a new migration appended to
:data:`MIGRATIONS`, applied in order when an older file is opened. A file whose
``user_version`` is larger than ``len(MIGRATIONS)`` was written by a newer carecoord and
is refused with :class:`carecoord.errors.StoreVersionError`, untouched.

Tables (``body`` columns hold canonical JSON; the other columns are what queries need):

* ``records`` (``source``, ``patient``): a patient record (``body``: its canonical JSON
  document, zlib-compressed as a BLOB or plain TEXT), its patient alone (``head``, what
  linking reads), person, digest, last-updated time, blocking keys and version;
  ``record_blocks`` indexes the blocking keys.
* ``persons``: persons and aliases (``merged_into``).
* ``decisions``: human link decisions by record pair.
* ``gaps``: worklist state by gap key, with the filter columns of a ``GapQuery``.
* ``tasks``: task proposals and accepted tasks.
* ``ledger``, ``outbox``, ``access_log``: append-only logs whose ids and positions come
  from ``AUTOINCREMENT`` (never reused, increasing in commit order).
* ``tombstones`` and ``tombstone_records``: erased persons and the record keys they block.
"""

from __future__ import annotations

from typing import Final

from carecoord.stores._sqlite_db import Migration

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1 = Migration(
    1,
    "the coordinator's state: records, persons, decisions, gaps, tasks, logs, tombstones",
    (
        """CREATE TABLE records (
            source TEXT NOT NULL,
            patient TEXT NOT NULL,
            person TEXT NOT NULL,
            digest TEXT NOT NULL,
            updated TEXT,
            blocks TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version > 0),
            body NOT NULL,
            head TEXT NOT NULL,
            PRIMARY KEY (source, patient)
        )""",
        "CREATE INDEX records_by_person ON records (person)",
        """CREATE TABLE record_blocks (
            block TEXT NOT NULL,
            source TEXT NOT NULL,
            patient TEXT NOT NULL,
            PRIMARY KEY (block, source, patient),
            FOREIGN KEY (source, patient) REFERENCES records (source, patient)
                ON DELETE CASCADE
        ) WITHOUT ROWID""",
        "CREATE INDEX record_blocks_by_record ON record_blocks (source, patient)",
        """CREATE TABLE persons (
            id TEXT PRIMARY KEY,
            merged_into TEXT,
            version INTEGER NOT NULL CHECK (version > 0),
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX persons_by_survivor ON persons (merged_into)",
        """CREATE TABLE decisions (
            left_source TEXT NOT NULL,
            left_patient TEXT NOT NULL,
            right_source TEXT NOT NULL,
            right_patient TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (left_source, left_patient, right_source, right_patient)
        ) WITHOUT ROWID""",
        "CREATE INDEX decisions_by_right ON decisions (right_source, right_patient)",
        """CREATE TABLE gaps (
            key TEXT PRIMARY KEY,
            person TEXT NOT NULL,
            status TEXT NOT NULL,
            family TEXT NOT NULL,
            severity TEXT NOT NULL,
            assigned_to TEXT,
            team TEXT,
            dismissed INTEGER NOT NULL,
            version INTEGER NOT NULL CHECK (version > 0),
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX gaps_by_person ON gaps (person)",
        "CREATE INDEX gaps_by_owner ON gaps (assigned_to)",
        """CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            person TEXT NOT NULL,
            state TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version > 0),
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX tasks_by_person ON tasks (person)",
        "CREATE INDEX tasks_by_state ON tasks (state)",
        """CREATE TABLE ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX ledger_by_person ON ledger (person)",
        """CREATE TABLE outbox (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            person TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX outbox_by_person ON outbox (person)",
        """CREATE TABLE access_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX access_log_by_person ON access_log (person)",
        """CREATE TABLE tombstones (
            person TEXT PRIMARY KEY,
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE tombstone_records (
            source TEXT NOT NULL,
            patient TEXT NOT NULL,
            person TEXT NOT NULL REFERENCES tombstones (person) ON DELETE CASCADE,
            PRIMARY KEY (source, patient, person)
        ) WITHOUT ROWID""",
        "CREATE INDEX tombstone_records_by_person ON tombstone_records (person)",
    ),
)

MIGRATIONS: Final = (_V1,)
"""Every migration, in order; the store's schema version is their number."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The newest schema this carecoord writes and reads."""
