"""The stored state does not depend on the order or the batches the inputs arrive in.

Ingesting the same records all at once, one source after another, in any order, or split
into any batches leaves an equivalent store: the same persons (by the records they hold),
each alias resolving to one of them, the same gap states (gap keys mapped through the
persons' records), the same task proposals, and so the same worklist. Person ids may
differ (a person's id comes from the record it began with); that is the only difference.
The outbox differs, as it should: it tells each history (``person.merged``,
``gap.closed``, ``gap.retired``, ``task.withdrawn``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.domain import (
    Code,
    HumanName,
    Identifier,
    LinkKind,
    PartialDate,
    PatientId,
    PatientLink,
    PatientRecord,
    System,
)
from carecoord.ports import GapQuery, Store, TaskState
from carecoord.services import Coordinator
from carecoord.stores import MemoryStore, SQLiteStore
from carecoord.testing import (
    PCP,
    ErrorMix,
    generate_population,
    make_patient,
    make_record,
    make_referral,
    make_source,
)

DAY = dt.timedelta(days=1)

Canon = tuple[object, ...]


@pytest.fixture(scope="module")
def by_source() -> dict[str, tuple[PatientRecord, ...]]:
    """The demo records, read file by file (each file one source)."""
    out: dict[str, tuple[PatientRecord, ...]] = {}
    for item in demo_files():
        records = fhir.read(json.loads(item.read_bytes())).records
        if records:
            out[item.stem] = tuple(records)
    return out


@pytest.fixture(scope="module")
def generated() -> tuple[PatientRecord, ...]:
    """A few generated people, each in several sources with recording errors (merges)."""
    return generate_population(6, seed=11, sources=3, error_mix=ErrorMix(), with_facts=True).records


def canonical(store: Store) -> dict[str, Canon]:
    """The store's state with person ids replaced by the record keys each person holds."""
    with store.unit_of_work() as uow:
        ids = uow.persons.ids()
        members = {p: tuple(sorted(s.key for s in uow.records.of_person(p))) for p in ids}
        aliases = {a: uow.persons.resolve(a) for p in ids for a in uow.persons.aliases(p)}
        states = uow.gaps.query(GapQuery())
        entries = [e for p in ids for e in uow.tasks.of_person(p)]
        orphans = [s.key for s in states if s.person not in members] + [
            e.id for e in entries if e.person not in members
        ]

    def gap_key(key: str | None) -> object:
        if key is None:
            return None
        rule, person, focus = key.split("|", 2)
        return (rule, members[person], "<person>" if focus == person else focus)

    gaps = tuple(
        sorted(
            (
                gap_key(s.key),
                attrs.evolve(
                    s.gap, patient="-", focus="<person>" if s.gap.focus == s.person else s.gap.focus
                ),
                s.assigned_to,
                s.dismissed,
                s.notes,
            )
            for s in states
        )
    )
    tasks = tuple(
        sorted(
            (
                gap_key(e.gap),
                e.state.value,
                e.task.code,
                e.task.status.value,
                e.task.owner,
                e.task.due,
                e.task.priority,
            )
            for e in entries
        )
    )
    return {
        "persons": tuple(sorted(members.values())),
        "aliases resolve to persons": (all(t in members for t in aliases.values()),),
        "orphans": tuple(orphans),
        "gaps": gaps,
        "tasks": tasks,
    }


def ingest(store: Store, batches: Sequence[Sequence[PatientRecord]]) -> dict[str, Canon]:
    """Ingest ``batches`` one call each into ``store``; its canonical state."""
    coordinator = Coordinator(store)
    for batch in batches:
        coordinator.ingest(list(batch), as_of=DEMO_AS_OF)
    return canonical(store)


def test_the_reviewers_order_gives_the_all_at_once_state(
    by_source: dict[str, tuple[PatientRecord, ...]], tmp_path: Path
) -> None:
    """Hospital and behavioural health first, then the rest: 53 gap states, as at once."""
    everything = [r for records in by_source.values() for r in records]
    first = [*by_source["hospital"], *by_source["behavioral_health"]]
    rest = [r for r in everything if r not in first]
    reference = ingest(MemoryStore(), [everything])
    for store in (MemoryStore(), SQLiteStore(tmp_path / "cc.db")):
        assert ingest(store, [first, rest]) == reference
        store.close()
    assert len(reference["gaps"]) == 53
    assert len(reference["tasks"]) == 53


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_order_of_the_sources_gives_the_same_state(
    kind: str, by_source: dict[str, tuple[PatientRecord, ...]], tmp_path: Path
) -> None:
    """Each permutation of the demo sources, one call per source, matches all at once."""
    everything = [r for records in by_source.values() for r in records]
    reference = ingest(MemoryStore(), [everything])
    for n, order in enumerate(itertools.permutations(by_source)):
        store: Store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / f"{n}.db")
        got = ingest(store, [by_source[name] for name in order])
        store.close()
        assert got == reference, order


def _bridged() -> tuple[PatientRecord, PatientRecord, PatientRecord]:
    """Two unlike records of one person, each with a referral, and a third naming both."""
    clinic = make_record(
        source=make_source(id="clinic-ehr", retrieved_at=DEMO_AS_OF - DAY),
        patient=make_patient(id="c-1"),
        referrals=(make_referral(id="ref-c", patient="c-1"),),
    )
    hospital = make_record(
        source=make_source(id="hospital-ehr", retrieved_at=DEMO_AS_OF - DAY),
        patient=make_patient(
            id="h-1",
            names=(HumanName(family="Sample", given=("Morgan",)),),
            birth_date=PartialDate(1990, 1, 2),
            identifiers=(Identifier("urn:example:hosp", "H-1"),),
            telecom=(),
            addresses=(),
        ),
        referrals=(
            make_referral(
                id="ref-h", patient="h-1", specialty=Code(System.SNOMED, "394591006", "Neurology")
            ),
        ),
    )
    links = tuple(
        PatientLink(LinkKind.SAME_PERSON, PatientId(r.key[1]), r.key[0]) for r in (clinic, hospital)
    )
    hie = make_record(
        source=make_source(id="hie", retrieved_at=DEMO_AS_OF - DAY),
        patient=make_patient(id="x-1", links=links),
    )
    return clinic, hospital, hie


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_merge_retires_the_aliases_gaps_and_tells_it(kind: str, tmp_path: Path) -> None:
    """Two persons merged by a later record leave no state under the alias's id."""
    clinic, hospital, hie = _bridged()
    store: Store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "cc.db")
    coordinator = Coordinator(store)
    coordinator.ingest([clinic], as_of=DEMO_AS_OF)
    coordinator.ingest([hospital], as_of=DEMO_AS_OF)
    changes = coordinator.ingest([hie], as_of=DEMO_AS_OF)

    ((alias, survivor),) = changes.persons_merged
    assert canonical(store) == ingest(MemoryStore(), [[clinic, hospital, hie]])
    assert all(s.person == survivor for s in coordinator.worklist(DEMO_AS_OF))
    retired = [e for e in coordinator.events() if e.kind == "gap.retired"]
    assert retired
    assert {e.person for e in retired} == {alias}
    assert {e.data["into"] for e in retired} == {survivor}
    assert {e.person for e in coordinator.events() if e.kind == "task.withdrawn"} == {alias}
    store.close()


def test_human_work_on_an_aliases_gap_moves_to_the_survivor() -> None:
    """An assignment made on the alias's gap is on the survivor's gap after the merge."""
    clinic, hospital, hie = _bridged()
    coordinator = Coordinator(MemoryStore())
    coordinator.ingest([clinic], as_of=DEMO_AS_OF)
    (second,) = coordinator.ingest([hospital], as_of=DEMO_AS_OF).gaps_opened[:1]
    coordinator.assign(second, "nurse-7", actor="lead", at=DEMO_AS_OF)
    coordinator.ingest([hie], as_of=DEMO_AS_OF)

    mine = coordinator.worklist(DEMO_AS_OF, owner="nurse-7")
    rule, _, focus = second.split("|", 2)
    assert [(s.rule, s.gap.focus) for s in mine] == [(rule, focus)]
    assert mine[0].person == coordinator.resolve(second.split("|")[1])
    assert not [
        k for k in coordinator.store.unit_of_work().gaps.query(GapQuery()) if k.key == second
    ]


def test_a_closed_gap_with_human_work_is_kept() -> None:
    """A gap that closes after someone assigned it stays in the store (closed); others go."""
    record = _bridged()[0]
    coordinator = Coordinator(MemoryStore())
    changed = coordinator.ingest([record], as_of=DEMO_AS_OF).gaps_opened
    opened = sorted(k for k in changed if k.startswith("referral."))
    coordinator.assign(opened[0], "nurse-7", actor="lead", at=DEMO_AS_OF)
    referral = record.referrals[0].cancel(at=DEMO_AS_OF - DAY / 2, by=PCP, reason="not needed")
    newer = attrs.evolve(
        record,
        source=attrs.evolve(record.source, retrieved_at=DEMO_AS_OF - DAY / 4),
        referrals=(referral,),
    )
    changes = coordinator.ingest([newer], as_of=DEMO_AS_OF)

    assert set(changes.gaps_closed) == set(opened)
    assert set(changes.gaps_retired) == set(opened[1:])
    assert f"{len(opened) - 1} retired;" in changes.summary()
    kept = coordinator.worklist(DEMO_AS_OF, include_closed=True, family="referrals")
    assert [(s.key, s.assigned_to) for s in kept] == [(opened[0], "nurse-7")]
    assert kept[0].gap.status.value not in ("open", "prospective")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_partition_of_demo_and_generated_records_gives_the_same_state(
    data: st.DataObject,
    by_source: dict[str, tuple[PatientRecord, ...]],
    generated: tuple[PatientRecord, ...],
    tmp_path: Path,
) -> None:
    """Records shuffled and cut into random batches, on either store, match all at once."""
    everything = [*(r for records in by_source.values() for r in records), *generated]
    reference = ingest(MemoryStore(), [everything])
    shuffled = data.draw(st.permutations(everything), label="order")
    cuts = data.draw(
        st.lists(st.integers(1, len(shuffled) - 1), max_size=6, unique=True), label="cuts"
    )
    bounds = [0, *sorted(cuts), len(shuffled)]
    batches = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    sqlite = data.draw(st.booleans(), label="sqlite")
    store: Store = (
        SQLiteStore(tmp_path / f"h{len(list(tmp_path.iterdir()))}.db") if sqlite else MemoryStore()
    )
    try:
        assert ingest(store, batches) == reference
    finally:
        store.close()


def test_an_accepted_task_of_the_alias_follows_the_merge() -> None:
    """An accepted task moves to the survivor's gap key; that gap gets no second proposal."""
    clinic, hospital, hie = _bridged()
    coordinator = Coordinator(MemoryStore())
    coordinator.ingest([clinic], as_of=DEMO_AS_OF)
    suggested = coordinator.ingest([hospital], as_of=DEMO_AS_OF).tasks_suggested
    accepted = coordinator.accept_task(suggested[0], actor="lead", at=DEMO_AS_OF)
    ((_, survivor),) = coordinator.ingest([hie], as_of=DEMO_AS_OF).persons_merged

    entries = coordinator.tasks(person=survivor)
    moved = next(e for e in entries if e.id == accepted.id)
    rule, _, focus = (accepted.gap or "").split("|", 2)
    assert moved.gap == f"{rule}|{survivor}|{focus}"
    assert moved.state is TaskState.ACCEPTED
    assert [e.id for e in entries if e.gap == moved.gap] == [moved.id]
