"""The SQLite foundation: connection settings, the versioned schema, crashes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from carecoord.errors import StoreError, StoreVersionError, UsageError
from carecoord.stores._sqlite_db import APPLICATION_ID, Database, Migration
from tests.stores._crash import MARKER, kill_at_marker

V1 = Migration(1, "a table", ("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)",))
V2 = Migration(2, "a column", ("ALTER TABLE t ADD COLUMN note TEXT",))


def _count(db: Database) -> int:
    return int(db.connection.execute("SELECT count(*) FROM t").fetchone()[0])


class TestOpening:
    """A store file is set up for sharing and carries its schema version."""

    def test_wal_foreign_keys_secure_delete_and_synchronous(self, tmp_path: Path) -> None:
        """WAL mode, foreign keys and secure delete on, FULL sync by default."""
        db = Database(tmp_path / "s.db", [V1])
        conn = db.connection

        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000

    def test_synchronous_normal_can_be_chosen(self, tmp_path: Path) -> None:
        """synchronous="NORMAL" is applied; an unsafe setting such as OFF is refused."""
        db = Database(tmp_path / "s.db", [V1], synchronous="NORMAL")

        assert db.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
        with pytest.raises(UsageError):
            Database(tmp_path / "t.db", [V1], synchronous="OFF")  # type: ignore[arg-type]

    def test_schema_version_and_application_id_recorded(self, tmp_path: Path) -> None:
        """The file records how many migrations ran and that it is a carecoord store."""
        db = Database(tmp_path / "s.db", [V1, V2])

        assert db.schema_version == 2
        assert db.connection.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID

    def test_migrations_run_in_order_on_an_older_file(self, tmp_path: Path) -> None:
        """A file at version 1 is brought to version 2, its rows kept."""
        old = Database(tmp_path / "s.db", [V1])
        old.connection.execute("INSERT INTO t VALUES ('a', 1)")  # autocommit
        old.close()

        new = Database(tmp_path / "s.db", [V1, V2])

        assert new.schema_version == 2
        assert new.connection.execute("SELECT k, v, note FROM t").fetchall() == [("a", 1, None)]

    def test_newer_file_is_a_clear_error_and_left_untouched(self, tmp_path: Path) -> None:
        """A file written by a newer schema raises StoreVersionError and is not changed."""
        Database(tmp_path / "s.db", [V1, V2]).close()
        before = (tmp_path / "s.db").read_bytes()

        with pytest.raises(StoreVersionError, match="newer carecoord") as caught:
            Database(tmp_path / "s.db", [V1])

        assert (caught.value.found, caught.value.supported) == (2, 1)
        assert isinstance(caught.value, StoreError)
        assert (tmp_path / "s.db").read_bytes() == before

    def test_foreign_database_is_refused(self, tmp_path: Path) -> None:
        """Another application's SQLite file is not migrated over."""
        conn = sqlite3.connect(tmp_path / "other.db")
        conn.execute("CREATE TABLE customers (id INTEGER)")
        conn.commit()
        conn.close()

        with pytest.raises(StoreError, match="not a carecoord store"):
            Database(tmp_path / "other.db", [V1])

    def test_a_file_that_is_not_a_database_is_refused(self, tmp_path: Path) -> None:
        """Garbage bytes raise StoreError, without echoing the path."""
        path = tmp_path / "patient-smith.db"
        path.write_bytes(b"this is not a database at all, just some text " * 200)

        with pytest.raises(StoreError) as caught:
            Database(path, [V1])

        assert "smith" not in str(caught.value)

    def test_migration_numbers_must_follow_each_other(self, tmp_path: Path) -> None:
        """A gap in the migration list is a programming error."""
        with pytest.raises(UsageError):
            Database(tmp_path / "s.db", [V2])

    def test_wrong_path_type_is_a_usage_error(self) -> None:
        """A path that is neither str nor Path raises UsageError."""
        with pytest.raises(UsageError):
            Database(42, [V1])  # type: ignore[arg-type]


class TestClosing:
    """Closing a database."""

    def test_close_rolls_back_and_is_idempotent(self, tmp_path: Path) -> None:
        """Closing with a transaction open rolls it back; closing twice is harmless."""
        db = Database(tmp_path / "s.db", [V1])
        db.connection.execute("BEGIN IMMEDIATE")
        db.connection.execute("INSERT INTO t VALUES ('a', 1)")
        db.close()
        db.close()

        assert _count(Database(tmp_path / "s.db", [V1])) == 0


class TestCrash:
    """A process killed in the middle of a unit leaves the file as before it."""

    def test_sigkill_mid_unit_leaves_nothing_behind(self, tmp_path: Path) -> None:
        """Killed after 500 inserts but before commit: the store reopens empty."""
        path = tmp_path / "s.db"
        Database(path, [V1]).close()
        script = f"""
            import sys, time
            from carecoord.stores._sqlite_db import Database, Migration
            V1 = Migration(1, "a table", {V1.statements!r})
            conn = Database({str(path)!r}, [V1]).connection
            conn.execute("BEGIN IMMEDIATE")
            for i in range(500):
                conn.execute("INSERT INTO t VALUES (?, ?)", (str(i), i))
            print({MARKER!r}, flush=True)
            time.sleep(60)
        """
        kill_at_marker(script)

        db = Database(path, [V1])
        assert _count(db) == 0
        assert db.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def test_sigkill_after_commit_keeps_the_unit(self, tmp_path: Path) -> None:
        """Killed right after a commit (FULL sync): the whole unit is there."""
        path = tmp_path / "s.db"
        script = f"""
            import time
            from carecoord.stores._sqlite_db import Database, Migration
            V1 = Migration(1, "a table", {V1.statements!r})
            conn = Database({str(path)!r}, [V1]).connection
            conn.execute("BEGIN IMMEDIATE")
            for i in range(500):
                conn.execute("INSERT INTO t VALUES (?, ?)", (str(i), i))
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES ('late', 0)")
            print({MARKER!r}, flush=True)
            time.sleep(60)
        """
        kill_at_marker(script)

        assert _count(Database(path, [V1])) == 500
