"""The store contract suite: every sentence of :mod:`carecoord.ports`, as a test.

Every store carecoord ships passes it, and so can yours. Subclass :class:`StoreContract`
in a test module, name the subclass ``Test...`` so that pytest collects it, and return a
new, empty store from :meth:`~StoreContract.make_store`::

    from carecoord.testing.contracts import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore(...)

        def reopen(self, store):          # optional: a durable store
            store.close()
            return MyStore(...)           # over the same data

The suite needs nothing beyond carecoord itself: its tests are plain methods with
``assert`` statements (pytest runs them, and so does anything that calls them), and a
check that does not apply to a store (durability, for a store kept in memory) raises
:class:`unittest.SkipTest`, which pytest reports as skipped. Every store a test makes is
closed after it (``teardown_method``).

Two units of work are open at the same time in some tests, in one thread: one writes and
the other reads, or both read and then one writes after the other committed. A store must
allow that; it need not let two open units both write at once (SQLite makes the second
writer wait for the first to end).
"""

from __future__ import annotations

import datetime as dt
import unittest
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from carecoord.domain import (
    ActivityKind,
    Code,
    Note,
    Ref,
    Sensitivity,
    TaskStatus,
)
from carecoord.errors import CarecoordError, ConflictError
from carecoord.ports import (
    AccessEntry,
    Event,
    GapNote,
    GapQuery,
    GapState,
    LedgerEntry,
    LinkDecision,
    Person,
    RecordHead,
    RecordKey,
    Store,
    StoredRecord,
    TaskEntry,
    TaskState,
    Tombstone,
    UnitOfWork,
)
from carecoord.rules import Evidence, EvidenceRole, Gap, GapStatus, Severity
from carecoord.testing._builders import AS_OF as _AS_OF
from carecoord.testing._builders import (
    make_condition,
    make_patient,
    make_record,
    make_referral,
    make_source,
    make_task,
)

__all__ = ["StoreContract", "gap_state", "stored_record", "task_entry"]

_AT = _AS_OF
"""The time every fixture of the suite happens at (the test kit's ``AS_OF``)."""


def stored_record(
    patient: str = "patient-1",
    *,
    source: str = "clinic-ehr",
    person: str = "person-1",
    blocks: tuple[str, ...] = ("name:testperson", "dob:1961-04-12"),
    version: int = 0,
) -> StoredRecord:
    """A stored record for ``patient`` from ``source`` with a referral and a condition."""
    record = make_record(
        source=make_source(id=source),
        patient=make_patient(id=patient),
        referrals=(make_referral(patient=patient),),
        conditions=(make_condition(patient=patient),),
    )
    return StoredRecord(
        record.key,
        record,
        f"digest-{source}-{patient}",
        person,
        updated=_AT - dt.timedelta(hours=3),
        blocks=blocks,
        version=version,
    )


def gap_state(
    key: str = "rule-a|person-1|referral-1",
    *,
    person: str = "person-1",
    status: GapStatus = GapStatus.OPEN,
    severity: Severity = Severity.HIGH,
    family: str = "referrals",
    due: dt.date | dt.datetime = dt.date(2026, 3, 10),
    assigned_to: str | None = None,
    team: str | None = None,
    dismissed: bool = False,
) -> GapState:
    """A gap state whose gap has evidence, a sensitivity label and the given filter fields."""
    rule, _, focus = key.partition("|")
    gap = Gap(
        rule,
        person,
        status,
        severity,
        due,
        _AT - dt.timedelta(days=20),
        focus.rpartition("|")[2] or "focus",
        "A referral with no visit booked",
        "Call the specialist's office",
        (Evidence(EvidenceRole.TRIGGER, Ref("Referral", "clinic-ehr/referral-1"), "sent"),),
        sensitivity=frozenset({Sensitivity.MENTAL_HEALTH}),
        family=family,
    )
    return GapState(
        key,
        person,
        gap,
        assigned_to=assigned_to,
        team=team,
        snoozed_until=dt.date(2026, 4, 1),
        snooze_reason="waiting for the patient to call back",
        dismissed=dismissed,
        dismiss_reason="duplicate" if dismissed else None,
        notes=(GapNote("coordinator-1", _AT, "left a voicemail"),),
    )


def task_entry(
    task_id: str = "task-1",
    *,
    person: str = "person-1",
    state: TaskState = TaskState.PROPOSED,
    gap: str | None = "rule-a|person-1|referral-1",
) -> TaskEntry:
    """A task entry with notes, a code and a sensitivity label."""
    task = make_task(
        id=task_id,
        patient=person,
        code=Code("http://example.org/task-codes", "book-visit"),
        notes=(Note(text="patient prefers mornings", at=_AT),),
        sensitivity=frozenset({Sensitivity.RESTRICTED}),
    )
    return TaskEntry(task_id, person, task, state, gap=gap)


def _event(person: str = "person-1", kind: str = "gap.opened", subject: str = "gap-1") -> Event:
    return Event(
        kind,
        person,
        subject,
        _AT,
        rule="rule-a",
        status="open",
        sensitivity=("PSY",),
        data={"focus": "referral-1"},
    )


def _entry(person: str = "person-1", action: str = "gap.assign") -> LedgerEntry:
    return LedgerEntry(
        person,
        action,
        "gap-1",
        "coordinator-1",
        _AT,
        kind=ActivityKind.CHART_REVIEW,
        minutes=5,
        reason="covering for a colleague",
        detail={"to": "coordinator-2"},
    )


def _key(patient: str, source: str = "clinic-ehr") -> RecordKey:
    return (source, patient)


@contextmanager
def _raises(kind: type[BaseException]) -> Iterator[None]:
    """Like ``pytest.raises``, without pytest."""
    try:
        yield
    except kind:
        return
    raise AssertionError(f"{kind.__name__} was not raised")


class StoreContract:
    """The behaviour every :class:`carecoord.ports.Store` keeps; subclass it to test yours.

    Override :meth:`make_store` (required) and :meth:`reopen` (for a durable store).
    """

    _made: list[Store]

    # ------------------------------------------------------------------ hooks

    def make_store(self) -> Store:
        """A new, empty store (override)."""
        raise NotImplementedError("a StoreContract subclass returns a new store")

    def reopen(self, store: Store) -> Store | None:  # noqa: ARG002 - a hook to override
        """The same data in a new store object, for a durable store; ``None`` otherwise."""
        return None

    def setup_method(self, method: Callable[..., Any] | None = None) -> None:  # noqa: ARG002
        """Start with no store made."""
        self._made = []

    def teardown_method(self, method: Callable[..., Any] | None = None) -> None:  # noqa: ARG002
        """Close every store the test made."""
        for store in getattr(self, "_made", []):
            store.close()
        self._made = []

    def store(self) -> Store:
        """A new store, closed when the test ends."""
        if not hasattr(self, "_made"):
            self._made = []
        made = self.make_store()
        self._made.append(made)
        return made

    def _filled(self, *items: Any) -> Store:
        """A store holding ``items`` (records, persons, gap states, task entries)."""
        store = self.store()
        with store.unit_of_work() as uow:
            for item in items:
                _put(uow, item)
            uow.commit()
        return store

    # ------------------------------------------------------------------ units of work

    def test_store_and_units_are_the_ports(self) -> None:
        """A store is a Store and hands out UnitOfWork objects."""
        store = self.store()

        assert isinstance(store, Store)
        with store.unit_of_work() as uow:
            assert isinstance(uow, UnitOfWork)

    def test_writes_are_visible_through_the_unit_at_once(self) -> None:
        """What a unit writes, it reads back before committing."""
        store = self.store()
        with store.unit_of_work() as uow:
            stored = uow.records.put(stored_record())

            assert uow.records.get(stored.key) == stored
            assert uow.records.count() == 1

    def test_writes_are_invisible_to_other_units_before_commit(self) -> None:
        """Another unit open at the same time does not see uncommitted writes."""
        store = self.store()
        with store.unit_of_work() as reader:
            assert reader.records.get(stored_record().key) is None
            with store.unit_of_work() as writer:
                writer.records.put(stored_record())
                writer.persons.put(Person("person-1", _AT))

                assert reader.records.get(stored_record().key) is None
                assert reader.persons.get("person-1") is None

    def test_commit_makes_writes_visible_to_later_units(self) -> None:
        """After commit, a new unit reads every write of the committed one."""
        store = self.store()
        with store.unit_of_work() as uow:
            record = uow.records.put(stored_record())
            person = uow.persons.put(Person("person-1", _AT))
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.get(record.key) == record
            assert uow.persons.get("person-1") == person

    def test_leaving_without_commit_rolls_back(self) -> None:
        """A unit left without commit discards every write, in every repository."""
        store = self.store()
        with store.unit_of_work() as uow:
            _write_one_of_each(uow)

        with store.unit_of_work() as uow:
            _assert_empty(uow)

    def test_an_exception_rolls_back_and_propagates(self) -> None:
        """An exception leaving the block undoes the unit and is not swallowed."""
        store = self.store()

        def work() -> None:
            with store.unit_of_work() as uow:
                _write_one_of_each(uow)
                raise KeyError("boom")

        with _raises(KeyError):
            work()
        with store.unit_of_work() as uow:
            _assert_empty(uow)

    def test_everything_one_unit_writes_commits_together(self) -> None:
        """One commit makes the writes to every repository visible at once."""
        store = self.store()
        with store.unit_of_work() as uow:
            _write_one_of_each(uow)
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.count() == 1
            assert uow.persons.ids() == ("person-1",)
            assert len(uow.decisions.involving([_key("patient-1")])) == 1
            assert uow.gaps.get(gap_state().key) is not None
            assert uow.tasks.get("task-1") is not None
            assert uow.ledger.count() == 1
            assert len(uow.outbox.read()) == 1
            assert uow.tombstones.get("person-9") is not None
            assert len(uow.access.read()) == 1

    def test_rollback_discards_writes_since_the_last_commit(self) -> None:
        """rollback() drops what came after the last commit and keeps what was committed."""
        store = self.store()
        with store.unit_of_work() as uow:
            kept = uow.records.put(stored_record("patient-1"))
            uow.commit()
            uow.records.put(stored_record("patient-2"))
            uow.outbox.append(_event())
            uow.rollback()

            assert uow.records.get(kept.key) == kept
            assert uow.records.get(_key("patient-2")) is None
            assert uow.records.count() == 1

        with store.unit_of_work() as uow:
            assert uow.outbox.read() == ()

    def test_a_unit_may_be_used_again_after_commit(self) -> None:
        """Writes after a commit form a new transaction: leaving discards only them."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.records.put(stored_record("patient-1"))
            uow.commit()
            uow.records.put(stored_record("patient-2"))

        with store.unit_of_work() as uow:
            assert sorted(uow.records.get_many([_key("patient-1"), _key("patient-2")])) == [
                _key("patient-1")
            ]

    def test_a_batch_of_inputs_shares_one_unit(self) -> None:
        """Many inputs written through one unit commit together (grouped commit)."""
        store = self.store()
        with store.unit_of_work() as uow:
            for n in range(25):
                uow.records.put(stored_record(f"patient-{n}", person=f"person-{n}"))
                uow.persons.put(Person(f"person-{n}", _AT))
                uow.outbox.append(_event(f"person-{n}", "person.created", f"person-{n}"))
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.count() == 25
            events = uow.outbox.read()
        assert len(events) == 25
        assert [e.person for e in events] == [f"person-{n}" for n in range(25)]

    def test_a_failed_batch_commits_nothing(self) -> None:
        """An exception half way through a batch leaves the store as before the unit."""
        store = self._filled(stored_record("patient-0"))

        def batch() -> None:
            with store.unit_of_work() as uow:
                for n in range(1, 10):
                    uow.records.put(stored_record(f"patient-{n}"))
                    uow.outbox.append(_event())
                raise ValueError("the seventh message was bad")

        with _raises(ValueError):
            batch()
        with store.unit_of_work() as uow:
            assert uow.records.count() == 1
            assert uow.outbox.last_position() == 0

    # ------------------------------------------------------------------ versions

    def test_first_write_stores_version_one_and_each_later_one_more(self) -> None:
        """``put`` returns version 1 for a new item, then 2, 3...: records, persons, gaps, tasks."""
        store = self.store()
        for item in (stored_record(), Person("person-1", _AT), gap_state(), task_entry()):
            with store.unit_of_work() as uow:
                first = _put(uow, item)
                uow.commit()
            with store.unit_of_work() as uow:
                second = _put(uow, first)
                third = _put(uow, second)
                uow.commit()

            assert (first.version, second.version, third.version) == (1, 2, 3)
            with store.unit_of_work() as uow:
                assert _get(uow, item) == third

    def test_version_zero_for_an_existing_item_is_a_conflict(self) -> None:
        """Writing version 0 (never stored) over a stored item raises ConflictError."""
        for item in (stored_record(), Person("person-1", _AT), gap_state(), task_entry()):
            store = self._filled(item)
            with store.unit_of_work() as uow, _raises(ConflictError):
                _put(uow, item)

    def test_a_stale_version_is_a_conflict(self) -> None:
        """A write naming a version another unit has since replaced raises ConflictError."""
        for item in (stored_record(), Person("person-1", _AT), gap_state(), task_entry()):
            store = self.store()
            with store.unit_of_work() as uow:
                old = _put(uow, item)
                uow.commit()
            with store.unit_of_work() as uow:
                _put(uow, old)
                uow.commit()
            with store.unit_of_work() as uow, _raises(ConflictError):
                _put(uow, old)

    def test_within_a_unit_the_next_put_names_the_returned_version(self) -> None:
        """Writing the same item twice in a unit with the version read first is a conflict."""
        store = self._filled(stored_record())
        with store.unit_of_work() as uow:
            read = uow.records.get(stored_record().key)
            assert read is not None
            uow.records.put(read)
            with _raises(ConflictError):
                uow.records.put(read)

    def test_concurrent_units_the_second_writer_conflicts(self) -> None:
        """Two units read version 1; after one commits, the other's write or commit conflicts.

        Nothing of the losing unit is committed, not even its writes to other items.
        """
        store = self._filled(gap_state())
        with store.unit_of_work() as late:
            mine = late.gaps.get(gap_state().key)
            assert mine is not None
            with store.unit_of_work() as early:
                theirs = early.gaps.get(gap_state().key)
                assert theirs is not None
                early.gaps.put(attrs.evolve(theirs, assigned_to="coordinator-2"))
                early.commit()

            def lose() -> None:
                late.outbox.append(_event())
                late.gaps.put(attrs.evolve(mine, assigned_to="coordinator-3"))
                late.commit()

            with _raises(ConflictError):
                lose()

        with store.unit_of_work() as uow:
            final = uow.gaps.get(gap_state().key)
            assert final is not None
            assert (final.assigned_to, final.version) == ("coordinator-2", 2)
            assert uow.outbox.read() == ()

    def test_a_unit_that_met_a_conflict_commits_nothing(self) -> None:
        """After a ConflictError from put, commit raises too and nothing of the unit is kept."""
        store = self._filled(gap_state())
        with store.unit_of_work() as uow:
            uow.records.put(stored_record())
            uow.outbox.append(_event())
            with _raises(ConflictError):
                uow.gaps.put(gap_state())  # version 0 over a stored gap
            with _raises(ConflictError):
                uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.count() == 0
            assert uow.outbox.read() == ()

    def test_a_unit_works_again_after_a_conflict_and_rollback(self) -> None:
        """rollback() after a conflict starts over: the redone work commits."""
        store = self._filled(gap_state())
        with store.unit_of_work() as uow:
            with _raises(ConflictError):
                uow.gaps.put(gap_state())
            uow.rollback()
            current = uow.gaps.get(gap_state().key)
            assert current is not None
            uow.gaps.put(attrs.evolve(current, team="team-a"))
            uow.commit()

        with store.unit_of_work() as uow:
            final = uow.gaps.get(gap_state().key)
            assert final is not None
            assert final.team == "team-a"

    def test_stored_values_come_back_equal(self) -> None:
        """Records, persons, gap states and task entries round-trip to equal objects."""
        items = (
            stored_record(),
            Person("person-1", _AT, merged_into=None),
            gap_state(due=_AT + dt.timedelta(days=2)),
            task_entry(state=TaskState.ACCEPTED),
        )
        store = self.store()
        with store.unit_of_work() as uow:
            written = [_put(uow, item) for item in items]
            uow.commit()

        with store.unit_of_work() as uow:
            for item in written:
                assert _get(uow, item) == item

    # ------------------------------------------------------------------ records

    def test_records_get_many_leaves_out_absent_keys(self) -> None:
        """get_many returns the stored records among the keys; get of a missing key is None."""
        store = self._filled(stored_record("patient-1"), stored_record("patient-2"))
        with store.unit_of_work() as uow:
            found = uow.records.get_many([_key("patient-2"), _key("nobody"), _key("patient-1")])

            assert sorted(found) == [_key("patient-1"), _key("patient-2")]
            assert all(found[k].key == k for k in found)
            assert uow.records.get(_key("nobody")) is None

    def test_records_heads_match_the_stored_records(self) -> None:
        """Heads gives key, patient, person, digest, updated and version; absent keys left out."""
        store = self._filled(stored_record("patient-1"), stored_record("patient-2"))
        with store.unit_of_work() as uow:
            full = uow.records.get_many([_key("patient-1"), _key("patient-2")])
            heads = uow.records.heads([_key("patient-2"), _key("nobody"), _key("patient-1")])

            assert sorted(heads) == [_key("patient-1"), _key("patient-2")]
            for key, head in heads.items():
                item = full[key]
                assert head == RecordHead(
                    key, item.record.patient, item.person, item.digest, item.updated, item.version
                )

    def test_records_put_replaces(self) -> None:
        """A newer write of a record replaces it, its person and its blocks."""
        store = self._filled(stored_record(blocks=("b1",)))
        with store.unit_of_work() as uow:
            old = uow.records.get(stored_record().key)
            assert old is not None
            uow.records.put(attrs.evolve(old, person="person-2", blocks=("b2",), digest="new"))
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.of_person("person-1") == ()
            assert [r.digest for r in uow.records.of_person("person-2")] == ["new"]
            assert uow.records.with_blocks(["b1"], limit=10) == ()
            assert uow.records.with_blocks(["b2"], limit=10) == (stored_record().key,)
            assert uow.records.count() == 1

    def test_records_delete(self) -> None:
        """``delete`` removes a record (and its blocks); deleting a missing key does nothing."""
        store = self._filled(stored_record(blocks=("b1",)))
        with store.unit_of_work() as uow:
            uow.records.delete(stored_record().key)
            uow.records.delete(_key("nobody"))
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.records.get(stored_record().key) is None
            assert uow.records.with_blocks(["b1"], limit=10) == ()
            assert uow.records.count() == 0

    def test_records_of_person_sorted_by_key(self) -> None:
        """of_person lists that person's records, sorted by (source, patient)."""
        store = self._filled(
            stored_record("p-b", source="lab"),
            stored_record("p-a", source="lab"),
            stored_record("p-c", source="clinic"),
            stored_record("other", person="person-2"),
        )
        with store.unit_of_work() as uow:
            keys = [r.key for r in uow.records.of_person("person-1")]

        assert keys == [("clinic", "p-c"), ("lab", "p-a"), ("lab", "p-b")]

    def test_records_with_blocks_sorted_union(self) -> None:
        """with_blocks returns the sorted keys sharing at least one block, each once."""
        store = self._filled(
            stored_record("p-3", blocks=("x", "y")),
            stored_record("p-1", blocks=("x",)),
            stored_record("p-2", blocks=("y",)),
            stored_record("p-4", blocks=("z",)),
        )
        with store.unit_of_work() as uow:
            found = uow.records.with_blocks(["y", "x", "missing"], limit=10)

        assert found == (_key("p-1"), _key("p-2"), _key("p-3"))

    def test_records_with_blocks_skips_a_block_over_the_limit(self) -> None:
        """A block holding more than limit records is skipped; exactly limit is kept."""
        store = self._filled(
            *(stored_record(f"p-{n}", blocks=("common",)) for n in range(4)),
            stored_record("p-rare-1", blocks=("rare", "common")),
            stored_record("p-rare-2", blocks=("rare",)),
        )
        with store.unit_of_work() as uow:
            skipped = uow.records.with_blocks(["common", "rare"], limit=2)
            kept = uow.records.with_blocks(["common"], limit=5)

        assert skipped == (_key("p-rare-1"), _key("p-rare-2"))
        assert len(kept) == 5

    def test_records_queries_see_the_units_own_writes(self) -> None:
        """of_person, with_blocks and count include the unit's pending writes and deletes."""
        store = self._filled(stored_record("p-1", blocks=("x",)))
        with store.unit_of_work() as uow:
            uow.records.put(stored_record("p-2", blocks=("x",)))
            uow.records.delete(_key("p-1"))

            assert [r.key for r in uow.records.of_person("person-1")] == [_key("p-2")]
            assert uow.records.with_blocks(["x"], limit=10) == (_key("p-2"),)
            assert uow.records.count() == 1

    # ------------------------------------------------------------------ persons

    def test_persons_resolve_follows_merges_to_the_survivor(self) -> None:
        """``resolve`` follows merged_into through several merges; an unknown id is None."""
        store = self._filled(
            Person("p-c", _AT),
            Person("p-b", _AT, merged_into="p-c"),
            Person("p-a", _AT, merged_into="p-b"),
        )
        with store.unit_of_work() as uow:
            assert uow.persons.resolve("p-a") == "p-c"
            assert uow.persons.resolve("p-c") == "p-c"
            assert uow.persons.resolve("nobody") is None
            alias = uow.persons.get("p-a")
            assert alias is not None
            assert alias.merged_into == "p-b"

    def test_persons_aliases_are_transitive_and_sorted(self) -> None:
        """``aliases`` lists every id merged into a person, directly or not, sorted."""
        store = self._filled(
            Person("p-z", _AT),
            Person("p-y", _AT, merged_into="p-z"),
            Person("p-a", _AT, merged_into="p-y"),
            Person("p-m", _AT, merged_into="p-z"),
            Person("p-other", _AT),
        )
        with store.unit_of_work() as uow:
            assert uow.persons.aliases("p-z") == ("p-a", "p-m", "p-y")
            assert uow.persons.aliases("p-y") == ("p-a",)
            assert uow.persons.aliases("p-other") == ()

    def test_persons_ids_leave_out_aliases(self) -> None:
        """``ids`` lists the persons that are not aliases, sorted."""
        store = self._filled(
            Person("p-2", _AT), Person("p-1", _AT), Person("p-0", _AT, merged_into="p-1")
        )
        with store.unit_of_work() as uow:
            assert uow.persons.ids() == ("p-1", "p-2")

    def test_persons_delete(self) -> None:
        """``delete`` removes a person; deleting an unknown id does nothing."""
        store = self._filled(Person("p-1", _AT))
        with store.unit_of_work() as uow:
            uow.persons.delete("p-1")
            uow.persons.delete("nobody")
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.persons.get("p-1") is None
            assert uow.persons.ids() == ()

    # ------------------------------------------------------------------ decisions

    def test_decisions_newer_replaces_older_on_the_same_pair(self) -> None:
        """A later decision on the same pair replaces the earlier one."""
        store = self.store()
        left, right = _key("p-1"), _key("p-2")
        with store.unit_of_work() as uow:
            uow.decisions.put(LinkDecision(left, right, True, "reviewer-1", _AT))
            uow.commit()
        with store.unit_of_work() as uow:
            later = LinkDecision(left, right, False, "reviewer-2", _AT, reason="twins")
            uow.decisions.put(later)
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.decisions.involving([right]) == (later,)
            assert uow.decisions.involving([right])[0].reason == "twins"

    def test_decisions_involving_either_side_sorted_by_pair(self) -> None:
        """``involving`` finds decisions by left or right key, sorted by pair, each once."""
        store = self.store()
        first = LinkDecision(_key("p-1"), _key("p-2"), False, "r", _AT)
        second = LinkDecision(_key("p-0"), _key("p-1"), True, "r", _AT)
        third = LinkDecision(_key("p-3"), _key("p-4"), True, "r", _AT)
        with store.unit_of_work() as uow:
            for decision in (first, second, third):
                uow.decisions.put(decision)
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.decisions.involving([_key("p-1")]) == (second, first)
            assert uow.decisions.involving([_key("p-1"), _key("p-2")]) == (second, first)
            assert uow.decisions.involving([_key("p-9")]) == ()

    def test_decisions_delete_involving_counts(self) -> None:
        """delete_involving removes the decisions touching the keys and says how many."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.decisions.put(LinkDecision(_key("p-1"), _key("p-2"), False, "r", _AT))
            uow.decisions.put(LinkDecision(_key("p-0"), _key("p-1"), True, "r", _AT))
            uow.decisions.put(LinkDecision(_key("p-3"), _key("p-4"), True, "r", _AT))
            uow.commit()
        with store.unit_of_work() as uow:
            removed = uow.decisions.delete_involving([_key("p-1")])
            uow.commit()

        assert removed == 2
        with store.unit_of_work() as uow:
            assert uow.decisions.involving([_key("p-0"), _key("p-2")]) == ()
            assert len(uow.decisions.involving([_key("p-3")])) == 1

    def test_decisions_need_left_before_right(self) -> None:
        """A decision whose left key sorts after its right key is refused."""
        store = self.store()
        with store.unit_of_work() as uow, _raises(CarecoordError):
            uow.decisions.put(LinkDecision(_key("p-2"), _key("p-1"), True, "r", _AT))

    # ------------------------------------------------------------------ gaps

    def test_gaps_of_person_sorted_by_key(self) -> None:
        """of_person lists a person's gap states sorted by key."""
        store = self._filled(
            gap_state("rule-b|person-1|f"),
            gap_state("rule-a|person-1|f"),
            gap_state("rule-a|person-2|f", person="person-2"),
        )
        with store.unit_of_work() as uow:
            keys = [s.key for s in uow.gaps.of_person("person-1")]

        assert keys == ["rule-a|person-1|f", "rule-b|person-1|f"]

    def test_gaps_query_agrees_with_gapquery_matches(self) -> None:
        """``query`` returns exactly what GapQuery.matches, sorted by key, for every filter."""
        states = [
            gap_state("r1|p1|a", person="p1", assigned_to="ann", team="north"),
            gap_state("r2|p1|b", person="p1", status=GapStatus.CLOSED, severity=Severity.LOW),
            gap_state("r3|p2|c", person="p2", family="transitions", dismissed=True),
            gap_state(
                "r4|p2|d",
                person="p2",
                due=dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC),
                assigned_to="bob",
                team="south",
            ),
            gap_state("r5|p3|e", person="p3", due=dt.date(2026, 3, 5), severity=Severity.CRITICAL),
        ]
        store = self._filled(*states)
        queries = [
            GapQuery(),
            GapQuery(persons=frozenset({"p1", "p3"})),
            GapQuery(persons=frozenset()),
            GapQuery(statuses=frozenset({"closed"})),
            GapQuery(owner="ann"),
            GapQuery(team="south"),
            GapQuery(families=frozenset({"transitions"})),
            GapQuery(severities=frozenset({"critical", "low"})),
            GapQuery(due_before=dt.date(2026, 3, 5)),
            GapQuery(include_dismissed=False),
            GapQuery(persons=frozenset({"p2"}), include_dismissed=False, owner="bob"),
        ]
        with store.unit_of_work() as uow:
            for query in queries:
                stored = sorted((_get(uow, s) for s in states), key=lambda s: s.key)
                expected = [s.key for s in stored if query.matches(s)]

                assert [s.key for s in uow.gaps.query(query)] == expected, query

    def test_gaps_query_sees_the_units_own_writes(self) -> None:
        """A gap assigned in this unit is found by an owner query in the same unit."""
        store = self._filled(gap_state())
        with store.unit_of_work() as uow:
            current = uow.gaps.get(gap_state().key)
            assert current is not None
            uow.gaps.put(attrs.evolve(current, assigned_to="ann"))

            assert [s.key for s in uow.gaps.query(GapQuery(owner="ann"))] == [gap_state().key]

    def test_gaps_delete_person_counts(self) -> None:
        """delete_person removes a person's gap states and says how many."""
        store = self._filled(
            gap_state("r1|p1|a", person="p1"),
            gap_state("r2|p1|b", person="p1"),
            gap_state("r1|p2|a", person="p2"),
        )
        with store.unit_of_work() as uow:
            removed = uow.gaps.delete_person("p1")
            uow.commit()

        assert removed == 2
        with store.unit_of_work() as uow:
            assert uow.gaps.of_person("p1") == ()
            assert len(uow.gaps.of_person("p2")) == 1

    def test_gaps_delete_one_says_whether_it_was_there(self) -> None:
        """Deleting one gap state (a retired gap) shows in the unit and after commit."""
        store = self._filled(gap_state("r1|p1|a", person="p1"), gap_state("r2|p1|b", person="p1"))
        with store.unit_of_work() as uow:
            assert uow.gaps.delete("r1|p1|a") is True
            assert uow.gaps.delete("r1|p1|a") is False
            assert uow.gaps.get("r1|p1|a") is None
            assert [s.key for s in uow.gaps.of_person("p1")] == ["r2|p1|b"]
            uow.commit()

        with store.unit_of_work() as uow:
            assert [s.key for s in uow.gaps.query(GapQuery())] == ["r2|p1|b"]

    # ------------------------------------------------------------------ tasks

    def test_tasks_of_person_and_with_state_sorted_by_id(self) -> None:
        """of_person and with_state list entries sorted by task id."""
        store = self._filled(
            task_entry("t-3"),
            task_entry("t-1", state=TaskState.ACCEPTED),
            task_entry("t-2"),
            task_entry("t-0", person="person-2", state=TaskState.REJECTED),
        )
        with store.unit_of_work() as uow:
            assert [t.id for t in uow.tasks.of_person("person-1")] == ["t-1", "t-2", "t-3"]
            assert [t.id for t in uow.tasks.with_state(TaskState.PROPOSED)] == ["t-2", "t-3"]
            assert [t.id for t in uow.tasks.with_state(TaskState.REJECTED)] == ["t-0"]

    def test_tasks_state_change_moves_between_states(self) -> None:
        """Accepting a proposal (and moving its task on) is seen by with_state."""
        store = self._filled(task_entry())
        with store.unit_of_work() as uow:
            entry = uow.tasks.get("task-1")
            assert entry is not None
            task = entry.task.accept(at=_AT)
            uow.tasks.put(attrs.evolve(entry, state=TaskState.ACCEPTED, task=task))
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.tasks.with_state(TaskState.PROPOSED) == ()
            accepted = uow.tasks.with_state(TaskState.ACCEPTED)
            assert [t.task.status for t in accepted] == [TaskStatus.ACCEPTED]

    def test_tasks_delete_person_counts(self) -> None:
        """delete_person removes a person's entries and says how many."""
        store = self._filled(task_entry("t-1"), task_entry("t-2"), task_entry("t-3", person="x"))
        with store.unit_of_work() as uow:
            removed = uow.tasks.delete_person("person-1")
            uow.commit()

        assert removed == 2
        with store.unit_of_work() as uow:
            assert uow.tasks.get("t-1") is None
            assert [t.id for t in uow.tasks.of_person("x")] == ["t-3"]

    def test_tasks_delete_one_says_whether_it_was_there(self) -> None:
        """Deleting one entry (a withdrawn proposal) shows in the unit and after commit."""
        store = self._filled(task_entry("t-1"), task_entry("t-2"))
        with store.unit_of_work() as uow:
            assert uow.tasks.delete("t-1") is True
            assert uow.tasks.delete("t-1") is False
            assert [t.id for t in uow.tasks.with_state(TaskState.PROPOSED)] == ["t-2"]
            uow.commit()

        with store.unit_of_work() as uow:
            assert [t.id for t in uow.tasks.of_person("person-1")] == ["t-2"]

    # ------------------------------------------------------------------ ledger

    def test_ledger_ids_increase_in_commit_order(self) -> None:
        """Committed entries get positive ids, increasing in commit order."""
        store = self.store()
        for action in ("gap.assign", "gap.snooze", "gap.note"):
            with store.unit_of_work() as uow:
                uow.ledger.append(_entry(action=action))
                uow.commit()

        with store.unit_of_work() as uow:
            entries = uow.ledger.of_person("person-1")
        assert [e.action for e in entries] == ["gap.assign", "gap.snooze", "gap.note"]
        ids = [e.id for e in entries]
        assert ids[0] > 0
        assert ids == sorted(set(ids))

    def test_ledger_keeps_every_field(self) -> None:
        """An entry reads back with its kind, minutes, reason and detail."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.ledger.append(_entry())
            uow.commit()

        with store.unit_of_work() as uow:
            (entry,) = uow.ledger.of_person("person-1")
        assert attrs.evolve(entry, id=0) == _entry()
        assert dict(entry.detail) == {"to": "coordinator-2"}
        assert entry.reason == "covering for a colleague"

    def test_ledger_of_person_lists_pending_entries_last(self) -> None:
        """of_person shows committed entries in id order, then the unit's pending ones."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.ledger.append(_entry(action="first"))
            uow.ledger.append(_entry("person-2", action="elsewhere"))
            uow.commit()
            uow.ledger.append(_entry(action="pending"))

            actions = [e.action for e in uow.ledger.of_person("person-1")]
            assert actions == ["first", "pending"]
            assert uow.ledger.count() == 3

    def test_ledger_redaction_keeps_counts_and_removes_content(self) -> None:
        """redact_person blanks subject, actor, reason and detail; ids, kinds, minutes stay."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.ledger.append(_entry())
            uow.ledger.append(_entry(action="gap.snooze"))
            uow.ledger.append(_entry("person-2"))
            uow.commit()
        with store.unit_of_work() as uow:
            before = uow.ledger.of_person("person-1")
            count = uow.ledger.redact_person("person-1")
            uow.commit()

        assert count == 2
        with store.unit_of_work() as uow:
            after = uow.ledger.of_person("person-1")
            assert uow.ledger.count() == 3
            (untouched,) = uow.ledger.of_person("person-2")
        assert [(e.id, e.action, e.kind, e.minutes, e.at, e.person) for e in after] == [
            (e.id, e.action, e.kind, e.minutes, e.at, e.person) for e in before
        ]
        assert all(e.redacted for e in after)
        assert [(e.subject, e.actor, e.reason, dict(e.detail)) for e in after] == [
            ("", "", "", {}),
            ("", "", "", {}),
        ]
        assert not untouched.redacted
        assert untouched.actor == "coordinator-1"

    # ------------------------------------------------------------------ outbox

    def test_outbox_positions_are_assigned_at_commit_and_increase(self) -> None:
        """Positions are positive and strictly increase in commit order."""
        store = self.store()
        for n in range(3):
            with store.unit_of_work() as uow:
                uow.outbox.append(_event(subject=f"gap-{n}"))
                uow.outbox.append(_event("person-2", subject=f"gap-{n}"))
                uow.commit()

        with store.unit_of_work() as uow:
            events = uow.outbox.read()
        positions = [e.position for e in events]
        assert positions[0] > 0
        assert positions == sorted(set(positions))
        assert [e.subject for e in events] == [f"gap-{n}" for n in range(3) for _ in (1, 2)]

    def test_outbox_read_shows_committed_events_only(self) -> None:
        """Events appended in a unit are not read, even through it, until it commits."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.outbox.append(_event())

            assert uow.outbox.read() == ()
            assert uow.outbox.last_position() == 0
            uow.commit()

            assert len(uow.outbox.read()) == 1

    def test_outbox_events_keep_their_content(self) -> None:
        """An event reads back with its kind, ids, rule, status, sensitivity and data."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.outbox.append(_event())
            uow.commit()

        with store.unit_of_work() as uow:
            (event,) = uow.outbox.read()
        assert attrs.evolve(event, position=0) == _event()
        assert dict(event.data) == {"focus": "referral-1"}
        assert not event.redacted

    def test_outbox_read_after_a_cursor_with_a_limit(self) -> None:
        """read(after=N) starts after position N; limit caps how many; last_position is the end."""
        store = self.store()
        with store.unit_of_work() as uow:
            assert uow.outbox.last_position() == 0
            for n in range(5):
                uow.outbox.append(_event(subject=f"gap-{n}"))
            uow.commit()

        with store.unit_of_work() as uow:
            everything = uow.outbox.read()
            cursor = everything[1].position
            after = uow.outbox.read(after=cursor)
            page = uow.outbox.read(after=cursor, limit=2)
            empty = uow.outbox.read(after=cursor, limit=0)
            last = uow.outbox.last_position()
            beyond = uow.outbox.read(after=last)

        assert [e.subject for e in after] == ["gap-2", "gap-3", "gap-4"]
        assert [e.subject for e in page] == ["gap-2", "gap-3"]
        assert empty == ()
        assert last == everything[-1].position
        assert beyond == ()

    def test_outbox_consumer_reading_in_pages_sees_each_event_once_in_order(self) -> None:
        """A consumer paging with its cursor sees every event once, per-person order kept."""
        store = self.store()
        for n in range(7):
            with store.unit_of_work() as uow:
                uow.outbox.append(_event(f"person-{n % 3}", subject=f"s-{n}"))
                uow.commit()
        seen: list[Event] = []
        cursor = 0
        while True:
            with store.unit_of_work() as uow:
                page = uow.outbox.read(after=cursor, limit=3)
            if not page:
                break
            seen.extend(page)
            cursor = page[-1].position

        assert [e.subject for e in seen] == [f"s-{n}" for n in range(7)]
        for person in ("person-0", "person-1", "person-2"):
            mine = [int(e.subject[2:]) for e in seen if e.person == person]
            assert mine == sorted(mine)

    def test_outbox_redaction_keeps_positions_and_removes_content(self) -> None:
        """redact_person returns the sorted positions; events keep position, kind, person, at."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.outbox.append(_event(subject="gap-a"))
            uow.outbox.append(_event("person-2", subject="gap-b"))
            uow.outbox.append(_event(kind="gap.closed", subject="gap-a"))
            uow.commit()
        with store.unit_of_work() as uow:
            before = uow.outbox.read()
            positions = uow.outbox.redact_person("person-1")
            uow.commit()

        with store.unit_of_work() as uow:
            after = uow.outbox.read()
        assert positions == (before[0].position, before[2].position)
        assert [e.position for e in after] == [e.position for e in before]
        redacted = [e for e in after if e.person == "person-1"]
        assert [(e.kind, e.at, e.redacted) for e in redacted] == [
            ("gap.opened", _AT, True),
            ("gap.closed", _AT, True),
        ]
        assert all(
            (e.subject, e.rule, e.status, e.sensitivity, dict(e.data)) == ("", None, None, (), {})
            for e in redacted
        )
        assert after[1] == before[1]
        assert dict(after[1].data) == {"focus": "referral-1"}

    # ------------------------------------------------------------------ tombstones

    def test_tombstones_block_their_records_until_lifted(self) -> None:
        """``blocking`` maps each tombstoned key to the erased person; delete lifts it."""
        store = self.store()
        stone = Tombstone(
            "person-9",
            (_key("p-1"), _key("p-2", "lab")),
            _AT,
            "privacy-officer",
            reason="erasure request",
            positions=(3, 4),
        )
        with store.unit_of_work() as uow:
            uow.tombstones.put(stone)
            uow.commit()

        with store.unit_of_work() as uow:
            assert uow.tombstones.get("person-9") == stone
            assert uow.tombstones.blocking([_key("p-1"), _key("p-3")]) == {_key("p-1"): "person-9"}
            assert uow.tombstones.delete("person-9") is True
            assert uow.tombstones.delete("person-9") is False
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tombstones.get("person-9") is None
            assert uow.tombstones.blocking([_key("p-1"), _key("p-2", "lab")]) == {}

    def test_tombstones_put_replaces_for_the_same_person(self) -> None:
        """A second tombstone for a person replaces the first, and what it blocks."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.tombstones.put(Tombstone("person-9", (_key("p-1"),), _AT, "a"))
            uow.tombstones.put(Tombstone("person-9", (_key("p-2"),), _AT, "b"))
            uow.commit()

        with store.unit_of_work() as uow:
            stone = uow.tombstones.get("person-9")
            assert stone is not None
            assert stone.actor == "b"
            assert uow.tombstones.blocking([_key("p-1"), _key("p-2")]) == {_key("p-2"): "person-9"}

    # ------------------------------------------------------------------ access log

    def test_access_log_ids_increase_and_filter_by_person(self) -> None:
        """Committed entries get increasing ids; read(person=...) keeps that person's."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.access.append(AccessEntry("dr-1", "person-1", "profile", _AT))
            uow.access.append(AccessEntry("dr-2", "person-2", "summary", _AT))
            uow.commit()
        with store.unit_of_work() as uow:
            uow.access.append(AccessEntry("dr-1", "person-1", "worklist", _AT))
            uow.commit()

        with store.unit_of_work() as uow:
            everything = uow.access.read()
            mine = uow.access.read(person="person-1")
        ids = [e.id for e in everything]
        assert ids[0] > 0
        assert ids == sorted(set(ids))
        assert [(e.viewer, e.view) for e in mine] == [("dr-1", "profile"), ("dr-1", "worklist")]
        assert attrs.evolve(mine[0], id=0) == AccessEntry("dr-1", "person-1", "profile", _AT)

    def test_access_log_reads_committed_entries_only(self) -> None:
        """An entry appended in a unit is read only after the unit commits."""
        store = self.store()
        with store.unit_of_work() as uow:
            uow.access.append(AccessEntry("dr-1", "person-1", "profile", _AT))

            assert uow.access.read() == ()
            uow.commit()

            assert len(uow.access.read()) == 1

    # ------------------------------------------------------------------ durability

    def test_committed_state_survives_reopening(self) -> None:
        """A durable store reopened over the same data has every committed write, no other."""
        store = self.store()
        with store.unit_of_work() as uow:
            _write_one_of_each(uow)
            uow.commit()
        with store.unit_of_work() as uow:
            uow.records.put(stored_record("uncommitted"))
        reopened = self.reopen(store)
        if reopened is None:
            raise unittest.SkipTest("the store is not durable")
        self._made.append(reopened)

        with reopened.unit_of_work() as uow:
            assert uow.records.count() == 1
            assert uow.persons.ids() == ("person-1",)
            assert uow.ledger.count() == 1
            assert len(uow.outbox.read()) == 1
            assert uow.tombstones.blocking([_key("p-8")]) == {_key("p-8"): "person-9"}

    def test_closed_store_is_not_used(self) -> None:
        """After close, asking for a unit of work raises a carecoord error."""
        store = self.store()
        store.close()

        with _raises(CarecoordError):
            store.unit_of_work()


def _put(uow: UnitOfWork, item: Any) -> Any:
    if isinstance(item, StoredRecord):
        return uow.records.put(item)
    if isinstance(item, Person):
        return uow.persons.put(item)
    if isinstance(item, GapState):
        return uow.gaps.put(item)
    if isinstance(item, TaskEntry):
        return uow.tasks.put(item)
    raise TypeError(type(item).__name__)


def _get(uow: UnitOfWork, item: Any) -> Any:
    if isinstance(item, StoredRecord):
        return uow.records.get(item.key)
    if isinstance(item, Person):
        return uow.persons.get(item.id)
    if isinstance(item, GapState):
        return uow.gaps.get(item.key)
    if isinstance(item, TaskEntry):
        return uow.tasks.get(item.id)
    raise TypeError(type(item).__name__)


def _write_one_of_each(uow: UnitOfWork) -> None:
    uow.records.put(stored_record())
    uow.persons.put(Person("person-1", _AT))
    uow.decisions.put(LinkDecision(_key("patient-1"), _key("patient-2"), False, "r", _AT))
    uow.gaps.put(gap_state())
    uow.tasks.put(task_entry())
    uow.ledger.append(_entry())
    uow.outbox.append(_event())
    uow.tombstones.put(Tombstone("person-9", (_key("p-8"),), _AT, "privacy-officer"))
    uow.access.append(AccessEntry("dr-1", "person-1", "profile", _AT))


def _assert_empty(uow: UnitOfWork) -> None:
    assert uow.records.count() == 0
    assert uow.persons.ids() == ()
    assert uow.decisions.involving([_key("patient-1")]) == ()
    assert uow.gaps.get(gap_state().key) is None
    assert uow.tasks.get("task-1") is None
    assert uow.ledger.count() == 0
    assert uow.outbox.last_position() == 0
    assert uow.tombstones.get("person-9") is None
    assert uow.access.read() == ()
