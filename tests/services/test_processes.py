"""Two processes on one SQLite file lose no update; a killed ingest leaves before or after."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from carecoord.demo_data import DEMO_AS_OF
from carecoord.domain import PatientRecord
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore

_READ_DEMO = """
import json
from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.services import Coordinator, retry_on_conflict
from carecoord.stores import SQLiteStore
result = fhir.read([json.loads(f.read_bytes()) for f in demo_files()])
"""

_NOTES = (
    _READ_DEMO
    + """
import sys
path, key, name = sys.argv[1], sys.argv[2], sys.argv[3]
store = SQLiteStore(path)
coordinator = Coordinator(store)
for n in range(10):
    retry_on_conflict(
        lambda: coordinator.add_note(key, f"{name}-{n}", actor=name, at=DEMO_AS_OF),
        attempts=200,
    )
    if name == "a" and n == 5:
        retry_on_conflict(lambda: coordinator.ingest(result, as_of=DEMO_AS_OF), attempts=200)
store.close()
print("done")
"""
)

_INGEST = (
    _READ_DEMO
    + """
import sys
store = SQLiteStore(sys.argv[1])
print("ready", flush=True)
Coordinator(store).ingest(result, as_of=DEMO_AS_OF)
store.close()
print("done", flush=True)
"""
)


def _run(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_working_one_gap_lose_no_note(
    tmp_path: Path, demo_records: tuple[PatientRecord, ...]
) -> None:
    """Two processes adding notes (one also re-ingesting) keep every note and ledger line."""
    path = str(tmp_path / "cc.db")
    store = SQLiteStore(path)
    coordinator = Coordinator(store)
    coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
    key = coordinator.worklist(DEMO_AS_OF)[0].key
    store.close()
    workers = [_run(_NOTES, path, key, name) for name in ("a", "b")]
    for worker in workers:
        _out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
    store = SQLiteStore(path)
    coordinator = Coordinator(store)
    notes = [note.text for note in coordinator.gap(key).notes]
    assert sorted(notes) == sorted(f"{name}-{n}" for name in "ab" for n in range(10))
    person = coordinator.gap(key).person
    assert sum(1 for e in coordinator.ledger(person) if e.action == "gap.noted") == 20
    store.close()


def test_killed_ingest_leaves_the_store_before_or_after(
    tmp_path: Path, demo_records: tuple[PatientRecord, ...]
) -> None:
    """SIGKILL during an ingest leaves nothing or everything; ingesting again completes it."""
    for delay in (0.0, 0.1, 0.25):
        path = str(tmp_path / f"cc-{delay}.db")
        worker = _run(_INGEST, path)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=60)
        store = SQLiteStore(path)
        coordinator = Coordinator(store)
        persons = len(coordinator.persons())
        events = coordinator.events()
        assert (persons, len(events) > 0) in {(0, False), (4, True)}
        again = coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        assert len(coordinator.persons()) == 4
        assert again.changed == (persons == 0)
        assert json.dumps([e.position for e in coordinator.events()])
        store.close()
