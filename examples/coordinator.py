"""Embed the coordinator: a SQLite store, two days of data, a worked gap, the outbox.

Run it with ``python examples/coordinator.py``. Everything here is synthetic (the demo data
shipped with carecoord), and the store is a temporary file.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import attrs

from carecoord import fhir
from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.domain import ActivityKind, ReferralStatus, minutes_by_kind
from carecoord.ports import TaskState
from carecoord.services import Coordinator, retry_on_conflict
from carecoord.stores import SQLiteStore


def main() -> None:
    """Ingest day one, work a gap, ingest day two in a new process-like session, read events."""
    result = fhir.read([json.loads(item.read_bytes()) for item in demo_files()])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "carecoord.db"

        # Day one: read everything into the store.
        store = SQLiteStore(path)
        coordinator = Coordinator(store)
        print("day one:", coordinator.ingest(result, as_of=DEMO_AS_OF).summary())
        top = coordinator.worklist(DEMO_AS_OF, severity=("high", "critical"))[0]
        print(f"top of the worklist: {top.rule} ({top.gap.severity.value}), due {top.gap.due}")

        def take() -> str | None:
            seen = coordinator.gap(top.key)  # read the version, then write over it
            return coordinator.assign(
                top.key,
                "nurse-1",
                actor="lead-1",
                at=DEMO_AS_OF,
                reason="on her panel",
                kind=ActivityKind.CHART_REVIEW,
                minutes=4,
                expected_version=seen.version,
            ).assigned_to

        print("assigned to", retry_on_conflict(take))
        proposal = next(e for e in coordinator.tasks(person=top.person) if e.gap == top.key)
        task = coordinator.accept_task(proposal.id, actor="nurse-1", at=DEMO_AS_OF)
        task = coordinator.update_task(task.id, "start", actor="nurse-1", at=DEMO_AS_OF)
        print(f"task {task.id}: {task.state.value}, status {task.task.status.value}")
        cursor = coordinator.events()[-1].position
        store.close()

        # Day two, in a new session on the same file: the clinic's newer extract arrives.
        store = SQLiteStore(path)
        coordinator = Coordinator(store)
        tomorrow = DEMO_AS_OF + dt.timedelta(days=1)
        newer = []
        for record in result.records:
            sent = [r for r in record.referrals if r.status is ReferralStatus.SENT]
            if sent:
                received = sent[0].receive(at=tomorrow - dt.timedelta(hours=2))
                stamp = max(tomorrow, record.source.retrieved_at or tomorrow)
                newer.append(
                    attrs.evolve(
                        record,
                        source=attrs.evolve(record.source, retrieved_at=stamp),
                        referrals=tuple(received if r is sent[0] else r for r in record.referrals),
                    )
                )
        changes = coordinator.ingest(newer, as_of=tomorrow)
        print("day two:", changes.summary())
        kept = coordinator.gap(top.key)
        print(f"still assigned to {kept.assigned_to}; {len(kept.notes)} notes")
        for event in coordinator.events(after=cursor):
            print(f"  event {event.position}: {event.kind} {event.rule or ''} {event.status or ''}")
        minutes = minutes_by_kind(coordinator.activities(top.person))
        print("coordination minutes:", {k.value: v for k, v in minutes.items()})
        proposals = coordinator.tasks(state=TaskState.PROPOSED)
        print(f"{len(proposals)} task proposals wait for a coordinator")
        store.close()


if __name__ == "__main__":
    main()
