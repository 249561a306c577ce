"""MemoryStore: units of work, optimistic versions and the outbox, as carecoord.ports says."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from carecoord.errors import ConflictError
from carecoord.ports import Event, LedgerEntry, Person, Store, StoredRecord, UnitOfWork
from carecoord.stores import MemoryStore
from carecoord.testing import make_record

AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _stored(person: str = "p1") -> StoredRecord:
    record = make_record()
    return StoredRecord(record.key, record, "digest", person, blocks=("b1", "b2"))


def test_unit_of_work_is_a_port() -> None:
    """A MemoryStore unit of work satisfies the UnitOfWork protocol."""
    store: Store = MemoryStore()
    assert isinstance(store.unit_of_work(), UnitOfWork)


def test_writes_are_invisible_until_commit_and_rolled_back_without_it() -> None:
    """Another unit sees nothing before commit; leaving without commit discards the writes."""
    store = MemoryStore()
    item = _stored()
    with store.unit_of_work() as uow:
        uow.records.put(item)
        assert uow.records.get(item.key) is not None
        with store.unit_of_work() as other:
            assert other.records.get(item.key) is None
    with store.unit_of_work() as uow:
        assert uow.records.get(item.key) is None


def test_commit_makes_writes_visible_with_versions() -> None:
    """The first write stores version 1, the next version 2; indexes follow."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        first = uow.records.put(_stored())
        uow.commit()
    assert first.version == 1
    with store.unit_of_work() as uow:
        second = uow.records.put(first)
        uow.commit()
        assert second.version == 2
        assert uow.records.of_person("p1") == (second,)
        assert uow.records.with_blocks(["b2"], limit=10) == (second.key,)


def test_stale_write_raises_conflict_and_commits_nothing() -> None:
    """Two units read version 1; the second to commit raises ConflictError and writes nothing."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        person = uow.persons.put(Person("p1", AT))
        uow.commit()
    a = store.unit_of_work()
    b = store.unit_of_work()
    with a, b:
        a.persons.put(person)
        b.persons.put(person)
        b.outbox.append(Event("person.created", "p1", "p1", AT))
        a.commit()
        with pytest.raises(ConflictError):
            b.commit()
    with store.unit_of_work() as uow:
        assert uow.persons.get("p1") == Person("p1", AT, version=2)
        assert uow.outbox.read() == ()


def test_put_with_wrong_version_raises_at_once() -> None:
    """A put naming version 0 for an existing item raises ConflictError."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.persons.put(Person("p1", AT))
        with pytest.raises(ConflictError):
            uow.persons.put(Person("p1", AT))


def test_outbox_positions_increase_in_commit_order_and_read_after_cursor() -> None:
    """Positions start at 1 and increase; read(after=) returns only later events."""
    store = MemoryStore()
    for n in range(3):
        with store.unit_of_work() as uow:
            uow.outbox.append(Event("gap.opened", f"p{n}", f"k{n}", AT))
            uow.commit()
    with store.unit_of_work() as uow:
        assert [e.position for e in uow.outbox.read()] == [1, 2, 3]
        assert [e.person for e in uow.outbox.read(after=1, limit=1)] == ["p1"]
        assert uow.outbox.last_position() == 3


def test_redaction_keeps_positions_and_counts() -> None:
    """Redacting a person's events and ledger keeps positions, ids and counts."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.outbox.append(Event("gap.opened", "p1", "rule|p1|f", AT, rule="r", status="open"))
        uow.ledger.append(LedgerEntry("p1", "gap.assign", "rule|p1|f", "nurse", AT, reason="x"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.outbox.redact_person("p1") == (1,)
        uow.ledger.redact_person("p1")
        uow.commit()
    with store.unit_of_work() as uow:
        (event,) = uow.outbox.read()
        assert (event.position, event.redacted, event.rule, event.subject) == (1, True, None, "")
        assert uow.ledger.count() == 1
        assert uow.ledger.of_person("p1")[0].reason == ""


def test_concurrent_threads_lose_no_update() -> None:
    """Threads incrementing one person's version with retries end at exactly the sum."""
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.persons.put(Person("p1", AT))
        uow.commit()

    def bump() -> None:
        for _ in range(50):
            while True:
                with store.unit_of_work() as uow:
                    person = uow.persons.get("p1")
                    assert person is not None
                    uow.persons.put(person)
                    try:
                        uow.commit()
                        break
                    except ConflictError:
                        continue

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.unit_of_work() as uow:
        person = uow.persons.get("p1")
        assert person is not None
        assert person.version == 201
