"""SQLiteStore with real processes: concurrent writers lose no update; SIGKILL loses no unit.

Children are separate Python interpreters on one SQLite file. They start together (each
waits for a "go" file), so their units of work really interleave.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.ports import GapState
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore
from carecoord.testing import AS_OF
from carecoord.testing.contracts import gap_state
from tests.stores._crash import MARKER, kill_at_marker, run_child

CHILD_TIMEOUT = 120.0


def _run_together(scripts: list[str], go: Path) -> list[dict[str, int]]:
    """Start every script, release them at once, and return each one's JSON report."""
    children = [run_child(script) for script in scripts]
    time.sleep(0.2)
    go.touch()
    reports = []
    for child in children:
        out, err = child.communicate(timeout=CHILD_TIMEOUT)
        assert child.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


_WAIT_FOR_GO = """
import json, os, time
while not os.path.exists({go!r}):
    time.sleep(0.005)
"""


def _note_writer(path: Path, go: Path, name: str, count: int, begin: str) -> str:
    """A child adding ``count`` notes to one gap, each in its own unit, with retries."""
    return (
        _WAIT_FOR_GO.format(go=str(go))
        + f"""
import attrs, datetime as dt
from carecoord.ports import Event, GapNote, LedgerEntry
from carecoord.services import retry_on_conflict
from carecoord.stores import SQLiteStore
store = SQLiteStore({str(path)!r}, begin={begin!r})
conflicts = 0
at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

def add(n):
    global conflicts
    try:
        with store.unit_of_work() as uow:
            state = uow.gaps.get("rule-a|person-1|referral-1")
            time.sleep(0.003)  # work between the read and the write: the units overlap
            note = GapNote({name!r}, at, f"{name}-{{n}}")
            uow.gaps.put(attrs.evolve(state, notes=(*state.notes, note)))
            uow.outbox.append(Event("gap.noted", "person-1", f"{name}-{{n}}", at))
            uow.ledger.append(LedgerEntry("person-1", "gap.note", f"{name}-{{n}}", {name!r}, at))
            uow.commit()
    except Exception:
        conflicts += 1
        raise

for n in range({count}):
    retry_on_conflict(lambda: add(n))
print(json.dumps({{"conflicts": conflicts}}))
"""
    )


@pytest.mark.parametrize("begin", ["deferred", "immediate"])
def test_two_processes_adding_notes_lose_no_update(tmp_path: Path, begin: str) -> None:
    """Two processes read-modify-write one gap 25 times each: all 50 notes, events, entries."""
    path, go = tmp_path / "s.db", tmp_path / "go"
    store = SQLiteStore(path)
    with store.unit_of_work() as uow:
        uow.gaps.put(attrs_free(gap_state()))
        uow.commit()

    reports = _run_together(
        [_note_writer(path, go, name, 25, begin) for name in ("alpha", "bravo")], go
    )

    with store.unit_of_work() as uow:
        state = uow.gaps.get(gap_state().key)
        events = uow.outbox.read()
        entries = uow.ledger.count()
    assert state is not None
    texts = [note.text for note in state.notes]
    assert sorted(texts) == sorted(f"{w}-{n}" for w in ("alpha", "bravo") for n in range(25))
    assert state.version == 51
    assert len(events) == 50
    assert entries == 50
    for writer in ("alpha", "bravo"):  # each writer's events keep its order
        mine = [int(e.subject.split("-")[1]) for e in events if e.subject.startswith(writer)]
        assert mine == list(range(25))
        assert [t for t in texts if t.startswith(writer)] == [f"{writer}-{n}" for n in range(25)]
    if begin == "immediate":  # units run one after the other: nothing to retry
        assert [r["conflicts"] for r in reports] == [0, 0]
    else:  # a unit that lost takes the write lock first when redone: it cannot lose again
        assert sum(r["conflicts"] for r in reports) <= 50


def attrs_free(state: GapState) -> GapState:
    """The fixture gap state without notes (the children add them)."""
    return GapState(state.key, state.person, state.gap)


_COORDINATOR_CHILD = """
import datetime as dt
from carecoord.domain import HumanName, Identifier, PartialDate
from carecoord.services import Coordinator, retry_on_conflict
from carecoord.stores import SQLiteStore
from carecoord.testing import AS_OF, make_patient, make_record, make_referral, make_source

def record(n):
    patient = f"pt-{n}"
    return make_record(
        source=make_source(id="clinic-ehr", retrieved_at=AS_OF - dt.timedelta(days=1)),
        patient=make_patient(
            id=patient,
            names=(HumanName(family=f"Family{n:03d}x", given=(f"Given{n:03d}",)),),
            birth_date=PartialDate(1940 + n, 1 + n % 12, 1 + n % 28),
            identifiers=(Identifier("urn:example:mrn", f"MRN-{n:05d}"),),
            telecom=(),
            addresses=(),
        ),
        referrals=(make_referral(id=f"ref-{n}", patient=patient),),
    )

coordinator = Coordinator(SQLiteStore(__PATH__))
"""


def _ingester(path: Path, go: Path, numbers: list[int]) -> str:
    return (
        _WAIT_FOR_GO.format(go=str(go))
        + _COORDINATOR_CHILD.replace("__PATH__", repr(str(path)))
        + f"""
created = 0
for n in {numbers!r}:
    changes = retry_on_conflict(lambda: coordinator.ingest([record(n)], as_of=AS_OF))
    created += len(changes.persons_created)
print(json.dumps({{"created": created}}))
"""
    )


def _worker(path: Path, go: Path, owner: str) -> str:
    """A child assigning every open gap of the first persons to ``owner``, with a note."""
    return (
        _WAIT_FOR_GO.format(go=str(go))
        + _COORDINATOR_CHILD.replace("__PATH__", repr(str(path)))
        + f"""
done = 0
for state in coordinator.worklist(AS_OF):
    retry_on_conflict(
        lambda: coordinator.assign(state.key, {owner!r}, actor={owner!r}, at=AS_OF),
    )
    retry_on_conflict(
        lambda: coordinator.add_note(state.key, "called", actor={owner!r}, at=AS_OF),
    )
    done += 1
print(json.dumps({{"done": done}}))
"""
    )


def _prepare(path: Path, numbers: list[int]) -> None:
    """Ingest the first persons in this process (the worklist the worker will work)."""
    namespace: dict[str, object] = {}
    exec(_COORDINATOR_CHILD.replace("__PATH__", repr(str(path))), namespace)
    coordinator: Coordinator = namespace["coordinator"]  # type: ignore[assignment]
    record = namespace["record"]
    coordinator.ingest([record(n) for n in numbers], as_of=AS_OF)  # type: ignore[operator]
    coordinator.store.close()


def test_ingesting_and_working_the_worklist_at_once_lose_nothing(tmp_path: Path) -> None:
    """One process ingests new persons while another assigns and annotates every gap."""
    path, go = tmp_path / "s.db", tmp_path / "go"
    _prepare(path, [0, 1, 2])

    ingested, worked = _run_together(
        [_ingester(path, go, list(range(3, 11))), _worker(path, go, "coordinator-2")], go
    )

    coordinator = Coordinator(SQLiteStore(path))
    assert ingested["created"] == 8
    assert len(coordinator.persons()) == 11
    first = {coordinator.resolve(p) for p in coordinator.persons()}
    assert len(first) == 11
    assigned = [s for s in coordinator.worklist(AS_OF) if s.assigned_to == "coordinator-2"]
    assert len(assigned) == worked["done"] > 0
    assert all(len(s.notes) == 1 for s in assigned)
    kinds = [e.kind for e in coordinator.events()]
    assert kinds.count("gap.assigned") == worked["done"]
    assert kinds.count("person.created") == 11


def test_two_processes_ingesting_the_same_records_create_each_person_once(
    tmp_path: Path,
) -> None:
    """The same ten records ingested by two processes at once: ten persons, not twenty."""
    path, go = tmp_path / "s.db", tmp_path / "go"
    SQLiteStore(path).close()

    first, second = _run_together(
        [_ingester(path, go, list(range(10))), _ingester(path, go, list(range(10)))], go
    )

    coordinator = Coordinator(SQLiteStore(path))
    assert first["created"] + second["created"] == 10
    assert len(coordinator.persons()) == 10
    assert [e.kind for e in coordinator.events()].count("person.created") == 10


# --------------------------------------------------------------------------- crashes


def _batch_child(path: Path, numbers: list[int], *, commit_first: list[int]) -> str:
    """Ingest ``commit_first`` and commit; then ingest ``numbers`` in one unit and stop."""
    return (
        _COORDINATOR_CHILD.replace("__PATH__", repr(str(path)))
        + f"""
import time
if {commit_first!r}:
    coordinator.ingest([record(n) for n in {commit_first!r}], as_of=AS_OF)
with coordinator.store.unit_of_work() as uow:
    coordinator.ingest([record(n) for n in {numbers!r}], as_of=AS_OF, unit_of_work=uow)
    print({MARKER!r}, flush=True)
    time.sleep(60)
    uow.commit()
"""
    )


def _state(path: Path) -> tuple[int, int, int, int]:
    """Records, persons, gap states and events in the store at ``path``."""
    store = SQLiteStore(path)
    try:
        with store.unit_of_work() as uow:
            records = uow.records.count()
            persons = len(uow.persons.ids())
            events = len(uow.outbox.read())
            gaps = sum(len(uow.gaps.of_person(p)) for p in uow.persons.ids())
        return records, persons, gaps, events
    finally:
        store.close()


def test_killed_mid_ingest_leaves_the_store_as_before_and_reingest_completes(
    tmp_path: Path,
) -> None:
    """SIGKILL with a batch ingested but not committed: the store is as before; redo completes."""
    crashed, reference = tmp_path / "crashed.db", tmp_path / "reference.db"
    _prepare(reference, list(range(8)))
    _prepare(crashed, [0, 1])
    before = _state(crashed)

    kill_at_marker(_batch_child(crashed, list(range(2, 8)), commit_first=[]))

    assert _state(crashed) == before
    _prepare(crashed, list(range(8)))  # re-ingesting the whole input completes the work
    assert _state(crashed) == _state(reference)


def test_killed_after_a_commit_keeps_that_commit_only(tmp_path: Path) -> None:
    """A first batch committed, the second killed before commit: exactly the first is kept."""
    crashed, reference = tmp_path / "crashed.db", tmp_path / "reference.db"
    _prepare(reference, [0, 1, 2])
    SQLiteStore(crashed).close()

    kill_at_marker(_batch_child(crashed, [3, 4, 5], commit_first=[0, 1, 2]))

    assert _state(crashed) == _state(reference)


_LOOPING_WRITER = """
import attrs, datetime as dt
from carecoord.ports import Event, LedgerEntry, StoredRecord
from carecoord.stores import SQLiteStore
from carecoord.testing.contracts import stored_record
store = SQLiteStore({path!r})
at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
unit = 0
while True:
    with store.unit_of_work() as uow:
        for k in range(5):
            n = unit * 5 + k
            uow.records.put(stored_record(f"p-{{n}}", person=f"person-{{n}}"))
            uow.outbox.append(Event("record.stored", f"person-{{n}}", f"p-{{n}}", at))
            uow.ledger.append(LedgerEntry(f"person-{{n}}", "store", f"p-{{n}}", "bot", at))
        uow.commit()
    unit += 1
    if unit == 1:
        print({marker!r}, flush=True)
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_at_a_random_moment_every_unit_is_whole(tmp_path: Path, seed: int) -> None:
    """A writer committing 5-record units is killed at a random moment: whole units only."""
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    delay = random.Random(seed).uniform(0.05, 0.4)
    script = _LOOPING_WRITER.format(path=str(path), marker=MARKER)

    kill_at_marker(script, after=delay)

    store = SQLiteStore(path)
    with store.unit_of_work() as uow:
        records = uow.records.count()
        events = uow.outbox.read()
        entries = uow.ledger.count()
    assert records >= 5
    assert records % 5 == 0
    assert len(events) == entries == records
    assert {e.subject for e in events} == {f"p-{n}" for n in range(records)}
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_processes_opening_a_new_file_at_once_create_one_schema(tmp_path: Path) -> None:
    """Three processes opening a missing file together all succeed; it is migrated once."""
    path, go = tmp_path / "new.db", tmp_path / "go"
    script = (
        _WAIT_FOR_GO.format(go=str(go))
        + f"""
from carecoord.stores import SQLiteStore
store = SQLiteStore({str(path)!r})
with store.unit_of_work() as uow:
    count = uow.records.count()
print(json.dumps({{"version": store.schema_version, "records": count}}))
"""
    )

    reports = _run_together([script, script, script], go)

    assert {r["version"] for r in reports} == {SQLiteStore.schema_version}
    conn = sqlite3.connect(path)
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'records'")
    assert tables.fetchone()[0] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_cli_ingests_at_once_both_complete(tmp_path: Path) -> None:
    """`carecoord ingest` run twice at once on one file: both succeed, as one ingest would."""
    files = [str(p) for p in demo_files()]
    shared, reference = tmp_path / "shared.db", tmp_path / "reference.db"
    command = "import sys\nfrom carecoord.cli import main\nsys.exit(main(sys.argv[1:]))\n"

    def cli(db: Path, paths: list[str]) -> list[str]:
        as_of = ["--as-of", DEMO_AS_OF.isoformat()]
        return [sys.executable, "-c", command, "ingest", "--quiet", *as_of, "--db", str(db), *paths]

    children = [
        subprocess.Popen(cli(shared, half), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for half in (files[::2], files[1::2])
    ]
    for child in children:
        _, err = child.communicate(timeout=CHILD_TIMEOUT)
        assert child.returncode == 0, err
    subprocess.run(cli(reference, files), check=True, capture_output=True)

    assert _state(shared)[:2] == _state(reference)[:2]  # records, persons
    worklists = []  # person ids (and foci naming them) depend on arrival order
    for db in (shared, reference):
        coordinator = Coordinator(SQLiteStore(db))
        worklists.append(
            sorted(
                (s.rule, coordinator.records_of(s.person), s.gap.status.value)
                for s in coordinator.worklist(DEMO_AS_OF)
            )
        )
        coordinator.store.close()
    assert worklists[0] == worklists[1]
