"""SQLiteStore beyond the shared contract: its file, its schema, bad input, threads."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from pathlib import Path

import attrs
import pytest

from carecoord.domain import HumanName
from carecoord.errors import (
    CarecoordError,
    ConflictError,
    StoreError,
    StoreVersionError,
    UsageError,
    ValidationError,
)
from carecoord.ports import AccessEntry, Event, LedgerEntry, Person
from carecoord.stores import SQLiteStore
from carecoord.stores._schema import MIGRATIONS, SCHEMA_VERSION
from carecoord.testing.contracts import gap_state, stored_record

AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)

RELEASED = {1: "1db0a38a"}
"""The first 8 hex digits of each released migration's SQL: a released migration is never
edited (a schema change is a new migration). Update only when adding a new entry."""


def _digest(statements: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:8]


class TestSchema:
    """The schema is versioned; released migrations never change."""

    def test_released_migrations_are_unchanged(self) -> None:
        """Each released migration's SQL still has the digest it was released with."""
        found = {m.version: _digest(m.statements) for m in MIGRATIONS if m.version in RELEASED}

        assert found == RELEASED
        assert len(MIGRATIONS) == SCHEMA_VERSION

    def test_new_file_has_the_current_schema_version(self, tmp_path: Path) -> None:
        """A new store file records the schema version this carecoord writes."""
        SQLiteStore(tmp_path / "s.db").close()
        conn = sqlite3.connect(tmp_path / "s.db")

        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_a_file_from_a_newer_carecoord_is_refused_untouched(self, tmp_path: Path) -> None:
        """A store whose schema is newer raises StoreVersionError and is not changed."""
        SQLiteStore(tmp_path / "s.db").close()
        conn = sqlite3.connect(tmp_path / "s.db")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
        conn.close()
        before = (tmp_path / "s.db").read_bytes()

        with pytest.raises(StoreVersionError, match="newer carecoord"):
            SQLiteStore(tmp_path / "s.db")

        assert (tmp_path / "s.db").read_bytes() == before

    def test_another_applications_database_is_refused(self, tmp_path: Path) -> None:
        """A SQLite file with other tables is not a carecoord store."""
        conn = sqlite3.connect(tmp_path / "app.db")
        conn.execute("CREATE TABLE accounts (id INTEGER)")
        conn.commit()
        conn.close()

        with pytest.raises(StoreError, match="not a carecoord store"):
            SQLiteStore(tmp_path / "app.db")

    def test_reopening_keeps_the_data(self, tmp_path: Path) -> None:
        """Committed data is there after closing and opening the file again."""
        store = SQLiteStore(tmp_path / "s.db")
        with store.unit_of_work() as uow:
            uow.records.put(stored_record())
            uow.commit()
        store.close()

        with SQLiteStore(tmp_path / "s.db").unit_of_work() as uow:
            assert uow.records.get(stored_record().key) is not None


class TestOptions:
    """The constructor's options are checked."""

    def test_synchronous_full_by_default_and_normal_on_request(self, tmp_path: Path) -> None:
        """FULL is the default; NORMAL can be chosen; anything else is a UsageError."""
        SQLiteStore(tmp_path / "a.db", synchronous="NORMAL").close()

        with pytest.raises(UsageError):
            SQLiteStore(tmp_path / "b.db", synchronous="OFF")  # type: ignore[arg-type]

    def test_begin_must_be_deferred_or_immediate(self, tmp_path: Path) -> None:
        """An unknown begin mode is a UsageError."""
        with pytest.raises(UsageError):
            SQLiteStore(tmp_path / "s.db", begin="exclusive")  # type: ignore[arg-type]

    def test_memory_database_runs_one_unit_at_a_time(self) -> None:
        """':memory:' keeps one private database; a second open unit is a UsageError."""
        store = SQLiteStore(":memory:")
        with store.unit_of_work() as uow:
            uow.persons.put(Person("p-1", AT))
            uow.commit()
            with pytest.raises(UsageError), store.unit_of_work() as other:
                other.persons.ids()

        with store.unit_of_work() as uow:
            assert uow.persons.ids() == ("p-1",)

    def test_repr_names_no_path(self, tmp_path: Path) -> None:
        """The repr gives the schema version, not the file name."""
        store = SQLiteStore(tmp_path / "patient-smith.db")

        assert "smith" not in repr(store)
        assert "smith" not in repr(store.unit_of_work())


class TestCompression:
    """Record bodies are compressed by default; both forms read back."""

    def test_compressed_and_plain_bodies_read_back_equal(self, tmp_path: Path) -> None:
        """A file written with and without compression serves equal records and heads."""
        item = stored_record()
        for compress in (True, False):
            store = SQLiteStore(tmp_path / "s.db", compress=compress)
            with store.unit_of_work() as uow:
                current = uow.records.get(item.key)
                uow.records.put(attrs.evolve(item, version=current.version if current else 0))
                uow.commit()
            conn = sqlite3.connect(tmp_path / "s.db")
            kind = conn.execute("SELECT typeof(body) FROM records").fetchone()[0]
            conn.close()

            assert kind == ("blob" if compress else "text")
            for reader in (SQLiteStore(tmp_path / "s.db"), store):
                with reader.unit_of_work() as uow:
                    stored = uow.records.get(item.key)
                    heads = uow.records.heads([item.key])
                assert stored is not None
                assert stored.record == item.record
                assert heads[item.key].patient == item.record.patient


class TestBadInput:
    """Bad input is refused before it reaches the file; the store stays usable."""

    def test_a_value_the_format_cannot_write_is_refused_whole(self, tmp_path: Path) -> None:
        """A naive datetime in a ledger entry raises ValidationError; nothing is written."""
        store = SQLiteStore(tmp_path / "s.db")
        naive = LedgerEntry("person-1", "gap.assign", "gap-1", "c", dt.datetime(2026, 3, 2))  # noqa: DTZ001
        with store.unit_of_work() as uow:
            uow.records.put(stored_record())
            with pytest.raises(ValidationError):
                uow.ledger.append(naive)
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.ledger.count() == 0
            assert uow.records.count() == 1

    def test_a_naive_updated_time_is_refused(self, tmp_path: Path) -> None:
        """A stored record whose updated time is naive raises a carecoord error."""
        store = SQLiteStore(tmp_path / "s.db")
        item = attrs.evolve(stored_record(), updated=dt.datetime(2026, 3, 2))  # noqa: DTZ001
        with store.unit_of_work() as uow, pytest.raises(CarecoordError):
            uow.records.put(item)

    def test_a_wrong_type_is_a_usage_error(self, tmp_path: Path) -> None:
        """Passing something that is not the port's value raises UsageError."""
        store = SQLiteStore(tmp_path / "s.db")
        with store.unit_of_work() as uow, pytest.raises(UsageError):
            uow.gaps.put(stored_record())  # type: ignore[arg-type]

    def test_a_damaged_row_is_a_store_error_without_data(self, tmp_path: Path) -> None:
        """A row altered behind the store's back raises StoreError naming no content."""
        store = SQLiteStore(tmp_path / "s.db")
        with store.unit_of_work() as uow:
            uow.gaps.put(gap_state())
            uow.commit()
        conn = sqlite3.connect(tmp_path / "s.db")
        conn.execute('UPDATE gaps SET body = \'{"secret": "Alex Testperson"}\'')
        conn.commit()
        conn.close()

        with store.unit_of_work() as uow, pytest.raises(StoreError) as caught:
            uow.gaps.get(gap_state().key)

        assert "Testperson" not in str(caught.value)

    def test_a_failed_statement_poisons_the_unit(self, tmp_path: Path) -> None:
        """After a SQLite failure inside a unit, commit raises and nothing of it is kept."""
        store = SQLiteStore(tmp_path / "s.db")
        conn = sqlite3.connect(tmp_path / "s.db")
        conn.execute("DROP TABLE access_log")  # damage behind the store's back
        conn.commit()
        conn.close()
        with store.unit_of_work() as uow:
            uow.persons.put(Person("p-1", AT))
            with pytest.raises(StoreError):
                uow.access.append(AccessEntry("dr-1", "p-1", "profile", AT))
            with pytest.raises(StoreError, match="nothing of it was committed"):
                uow.commit()

        with store.unit_of_work() as uow:
            assert uow.persons.ids() == ()


class TestErasureOnDisk:
    """What an erasure removes is gone from the file and its write-ahead log."""

    MARK = "Qzyxerasedfamily"

    def _files(self, folder: Path) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())

    def test_erased_record_and_ledger_text_leave_no_bytes_behind(self, tmp_path: Path) -> None:
        """A record and a ledger reason with a marker: present before, absent after erasure."""
        folder = tmp_path / "store"
        folder.mkdir()
        store = SQLiteStore(folder / "s.db")
        item = stored_record("erased-1", person="person-9")
        patient = attrs.evolve(
            item.record.patient, names=(HumanName(family=self.MARK, given=("Pat",)),)
        )
        item = attrs.evolve(item, record=attrs.evolve(item.record, patient=patient))
        with store.unit_of_work() as uow:
            uow.records.put(item)
            uow.records.put(stored_record("kept-1"))
            uow.ledger.append(
                LedgerEntry("person-9", "gap.note", "gap-1", "c", AT, reason=f"{self.MARK} rang")
            )
            uow.commit()
        assert self.MARK.encode() in self._files(folder)

        with store.unit_of_work() as uow:
            uow.records.delete(item.key)
            uow.ledger.redact_person("person-9")
            uow.commit()

        assert self.MARK.encode() not in self._files(folder)
        with store.unit_of_work() as uow:
            assert uow.records.count() == 1


class TestConcurrencyInOneProcess:
    """Threads and connections of one process."""

    def test_a_stale_snapshot_cannot_write(self, tmp_path: Path) -> None:
        """A unit that read before another committed cannot write, even to another item."""
        store = SQLiteStore(tmp_path / "s.db")
        with store.unit_of_work() as late:
            late.persons.ids()  # the unit's snapshot starts here
            with store.unit_of_work() as early:
                early.persons.put(Person("p-1", AT))
                early.commit()
            with pytest.raises(ConflictError):
                late.persons.put(Person("p-2", AT))
            with pytest.raises(ConflictError):
                late.commit()

        with store.unit_of_work() as uow:
            assert uow.persons.ids() == ("p-1",)

    def test_immediate_units_take_the_write_lock_at_their_first_read(self, tmp_path: Path) -> None:
        """With begin="immediate", a second store's unit waits, then reports a busy store."""
        first = SQLiteStore(tmp_path / "s.db", begin="immediate")
        second = SQLiteStore(tmp_path / "s.db", begin="immediate", busy_timeout=0.05)
        with first.unit_of_work() as holder:
            holder.persons.ids()
            with second.unit_of_work() as waiter, pytest.raises(StoreError, match="busy"):
                waiter.persons.ids()

    def test_threads_appending_events_lose_none(self, tmp_path: Path) -> None:
        """Four threads commit 20 events each through one store: 80 events, whole."""
        store = SQLiteStore(tmp_path / "s.db", begin="immediate")
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                for n in range(20):
                    with store.unit_of_work() as uow:
                        uow.outbox.append(Event("gap.noted", name, f"{name}-{n}", AT))
                        uow.commit()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        with store.unit_of_work() as uow:
            events = uow.outbox.read()
        assert len(events) == 80
        for name in ("t0", "t1", "t2", "t3"):
            mine = [int(e.subject.split("-")[1]) for e in events if e.person == name]
            assert mine == list(range(20))
