"""Section 7 of ``carecoord demo``: a coordinator store, and a second day of data arriving."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

import attrs

from carecoord.domain import PatientRecord, ReferralStatus
from carecoord.errors import NotFound
from carecoord.ports import GapState
from carecoord.profile import ProfileSet
from carecoord.services import Coordinator
from carecoord.stores import MemoryStore


def _day_two_record(
    records: Sequence[PatientRecord], at: dt.datetime
) -> tuple[PatientRecord, str] | None:
    """A newer copy of the first record with a sent referral, the referral now received."""
    for record in records:
        for n, referral in enumerate(record.referrals):
            if referral.status is ReferralStatus.SENT:
                received = referral.receive(at=at - dt.timedelta(hours=3))
                referrals = (*record.referrals[:n], received, *record.referrals[n + 1 :])
                stamp = max(at, record.source.retrieved_at or at) + dt.timedelta(hours=1)
                source = attrs.evolve(record.source, retrieved_at=stamp)
                return attrs.evolve(record, source=source, referrals=referrals), referral.id
    return None


def day_two(
    records: Sequence[PatientRecord],
    profiles: ProfileSet,
    names: Mapping[str, str],
    when: dt.datetime,
) -> Iterator[str]:
    """Ingest day one into a store, work one gap, then ingest day two and show the change."""
    coordinator = Coordinator(MemoryStore())
    first = coordinator.ingest(records, as_of=when)
    label = {
        person: names[profiles.profile_of(coordinator.records_of(person)[0]).id]
        for person in coordinator.persons()
    }
    before = coordinator.worklist(when)
    cursor = coordinator.events()[-1].position
    yield "\n7. A coordinator store: day two arrives (carecoord.services.Coordinator)\n"
    yield f"  Day one: {first.summary()}\n"
    top = before[0]
    coordinator.assign(top.key, "nurse-1", actor="lead-1", at=when, reason="her panel")
    coordinator.add_note(top.key, "called the hospital", actor="nurse-1", at=when)
    yield f"  nurse-1 takes {label[top.person]}'s {top.rule} and adds a note\n"
    tomorrow = when + dt.timedelta(days=1)
    found = _day_two_record(records, tomorrow)
    if found is None:  # pragma: no cover - the shipped data has a sent referral
        return
    newer, referral = found
    yield f"  Day two: a newer {newer.source.id} extract: referral {referral} was received\n"
    earlier = {
        s.key: s for s in coordinator.worklist(when, include_closed=True, due_since=dt.date.min)
    }
    earlier.update((s.key, s) for s in before)
    second = coordinator.ingest([newer], as_of=tomorrow)
    aged = coordinator.refresh(tomorrow)
    yield f"  Day two: {second.summary()}\n"
    for key in (*second.gaps_closed, *aged.gaps_closed):
        yield f"    closed  {_line(coordinator, key, label, earlier)}\n"
    for key in (*second.gaps_opened, *aged.gaps_opened):
        yield f"    opened  {_line(coordinator, key, label, earlier)}\n"
    changed = len(second.gaps_changed) + len(aged.gaps_changed)
    if changed:
        yield f"    and {changed} gaps changed (a due date or status moved)\n"
    after = coordinator.worklist(tomorrow)
    kept = coordinator.gap(top.key)
    notes = len(kept.notes)
    yield f"  Worklist: {len(before)} gaps on day one, {len(after)} on day two; "
    yield f"{label[top.person]}'s {top.rule} is still nurse-1's ({notes} note)\n"
    kinds = Counter(e.kind for e in coordinator.events(after=cursor))
    listed = ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items()))
    yield f"  Outbox after position {cursor}: {listed}\n"


def _line(
    coordinator: Coordinator, key: str, label: Mapping[str, str], earlier: Mapping[str, GapState]
) -> str:
    """A gap's person, rule and due date (a gap closed and retired: as it was before)."""
    try:
        state = coordinator.gap(key)
    except NotFound:
        state = earlier[key]
    return f"{label.get(state.person, '?')}  {state.rule}  (due {str(state.gap.due)[:10]})"
