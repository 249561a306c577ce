"""Type-checked only (mypy strict): embedding the coordinator as a service writes it."""

from __future__ import annotations

from typing import assert_type

from carecoord.display import JsonValue
from carecoord.ports import (
    Event,
    Events,
    GapState,
    GapStates,
    LedgerEntries,
    Store,
    TaskEntry,
    Tombstone,
    UnitOfWork,
)
from carecoord.services import Coordinator, IngestChanges, retry_on_conflict
from carecoord.stores import MemoryStore, SQLiteStore
from carecoord.testing import AS_OF, make_record

store: Store = MemoryStore()
durable: Store = SQLiteStore(":memory:")
coordinator = Coordinator(store)
changes = coordinator.ingest([make_record()], as_of=AS_OF)
assert_type(changes, IngestChanges)
assert_type(changes.gaps_opened, tuple[str, ...])
work = coordinator.worklist(AS_OF, severity="high")
assert_type(work, GapStates)
first: tuple[GapState, ...] = work  # still a tuple of gap states
events = coordinator.events(after=0)
assert_type(events, Events)
assert_type(events[0], Event)
assert_type(coordinator.ledger("person-1"), LedgerEntries)
rows: list[dict[str, JsonValue]] = work.to_records(show_personal_data=False)
with store.unit_of_work() as uow:
    assert_type(uow, UnitOfWork)
    coordinator.ingest([make_record()], as_of=AS_OF, unit_of_work=uow)
    uow.commit()
key = coordinator.worklist(AS_OF)[0].key
state = retry_on_conflict(lambda: coordinator.assign(key, "nurse-1", actor="lead", at=AS_OF))
assert_type(state, GapState)
assert_type(coordinator.tasks(), tuple[TaskEntry, ...])
person = coordinator.persons()[0]
assert_type(coordinator.erase_person(person, actor="a", reason="r", at=AS_OF), Tombstone)
