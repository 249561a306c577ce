"""An adversarial privacy review of the coordinator: each finding, and what must keep holding.

Records with a marker planted in every free-text field (names, identifiers, notes,
reasons, actors) go through the coordinator; the outbox, the ledger, the access log and
the error messages must not carry it, an erasure must remove it from everything, and an
erased person's data must stay out until the tombstone is lifted, whatever source brings
it back.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from carecoord.domain import HumanName, Identifier, PatientRecord, Ref
from carecoord.errors import CarecoordError, UsageError
from carecoord.ports import Store
from carecoord.profile import Viewer
from carecoord.services import Coordinator
from carecoord.testing import AS_OF, make_patient, make_record, make_referral, make_source

DAY = dt.timedelta(days=1)
MARK = "Qzvplanted"


def _record(*, source: str = "clinic-ehr", patient: str = "patient-1") -> PatientRecord:
    """A record whose name and identifier carry the marker, with one sent referral."""
    return make_record(
        source=make_source(id=source, retrieved_at=AS_OF - DAY),
        patient=make_patient(
            id=patient,
            names=(HumanName(family=f"{MARK}fam", given=(f"{MARK}giv",)),),
            identifiers=(Identifier("urn:oid:2.16.840.1.113883.4.1", f"{MARK}-123"),),
        ),
        referrals=(attrs.evolve(make_referral(), patient=patient),),
    )


def _worked(coordinator: Coordinator) -> str:
    """Ingest the record and work its gap with the marker in every free-text argument."""
    (person,) = coordinator.ingest([_record()], as_of=AS_OF).persons_created
    key = coordinator.worklist(AS_OF)[0].key
    coordinator.assign(key, f"{MARK}-owner", actor=f"{MARK}-actor", at=AS_OF, reason=MARK)
    coordinator.snooze(key, AS_OF.date() + DAY, actor="c", at=AS_OF, reason=f"{MARK} rang")
    coordinator.add_note(key, f"{MARK} note", actor="c", at=AS_OF)
    return person


def test_events_carry_no_free_text(store: Store) -> None:
    """No outbox event holds a name, an identifier, a reason, a note or an actor."""
    coordinator = Coordinator(store)
    _worked(coordinator)

    events = coordinator.events()

    assert events
    assert not [e for e in events if MARK in str(attrs.asdict(e))]


def test_an_erasure_leaves_no_free_text_in_the_ledger_or_events(store: Store) -> None:
    """After erasure the ledger and the events keep ids and positions, no text."""
    coordinator = Coordinator(store)
    person = _worked(coordinator)

    coordinator.erase_person(person, actor="dpo", reason="request", at=AS_OF)

    kept = [*coordinator.events(), *coordinator.ledger(person), *coordinator.access_log()]
    assert not [e for e in kept if MARK in str(attrs.asdict(e))]


def test_an_erased_person_arriving_from_another_source_is_refused(store: Store) -> None:
    """The same patient (same identifier) under another source id is still erased."""
    coordinator = Coordinator(store)
    person = _worked(coordinator)
    coordinator.erase_person(person, actor="dpo", reason="request", at=AS_OF)

    again = coordinator.ingest([_record(source="other-ehr", patient="x-7")], as_of=AS_OF)

    assert [s.reason for s in again.skipped] == ["erased on request"]
    assert coordinator.persons() == ()


def test_a_lifted_tombstone_lets_the_other_source_in(store: Store) -> None:
    """Lifting the tombstone lifts the identifier block too."""
    coordinator = Coordinator(store)
    person = _worked(coordinator)
    coordinator.erase_person(person, actor="dpo", reason="request", at=AS_OF)
    coordinator.lift_tombstone(person, actor="dpo", reason="consent", at=AS_OF)

    again = coordinator.ingest([_record(source="other-ehr", patient="x-7")], as_of=AS_OF)

    assert again.records_added == (("other-ehr", "x-7"),)


def test_the_tombstone_keeps_no_identifier_in_clear(store: Store) -> None:
    """What blocks the identifier is a digest: the tombstone holds no identifier value."""
    coordinator = Coordinator(store)
    person = _worked(coordinator)

    tombstone = coordinator.erase_person(person, actor="dpo", reason="request", at=AS_OF)

    assert MARK not in str(attrs.asdict(tombstone))


def test_erasing_through_an_alias_erases_the_merged_person(store: Store) -> None:
    """Two sources merged into one person: erasing by the alias removes both records."""
    coordinator = Coordinator(store)
    first = coordinator.ingest([_record()], as_of=AS_OF).persons_created[0]
    coordinator.ingest([_record(source="hospital-ehr", patient="h-1")], as_of=AS_OF)
    assert coordinator.persons() == (first,)

    coordinator.erase_person(first, actor="dpo", reason="request", at=AS_OF)
    again = coordinator.ingest([_record(source="hospital-ehr", patient="h-1")], as_of=AS_OF)

    assert coordinator.persons() == ()
    assert [s.reason for s in again.skipped] == ["erased on request"]


def test_an_unknown_task_action_is_not_echoed(store: Store) -> None:
    """A wrong action names the allowed ones, never the text given (it may be anything)."""
    coordinator = Coordinator(store)
    _worked(coordinator)

    with pytest.raises(UsageError) as raised:
        coordinator.update_task("t-1", f"{MARK} action", actor="c", at=AS_OF)

    assert MARK not in str(raised.value)
    assert "complete" in str(raised.value)


def test_no_coordinator_error_echoes_a_key_or_id(store: Store) -> None:
    """Unknown ids, keys and persons are reported without quoting them."""
    coordinator = Coordinator(store)
    calls = [
        lambda: coordinator.gap(f"{MARK}|key"),
        lambda: coordinator.resolve(f"{MARK}-person"),
        lambda: coordinator.profile(f"{MARK}-person", as_of=AS_OF),
        lambda: coordinator.accept_task(f"{MARK}-task", actor="c", at=AS_OF),
        lambda: coordinator.lift_tombstone(f"{MARK}-person", actor="c", reason="r", at=AS_OF),
        lambda: coordinator.decide_link(
            ("s", f"{MARK}1"), ("s", f"{MARK}2"), same_person=False, actor="c", as_of=AS_OF
        ),
    ]
    for call in calls:
        with pytest.raises(CarecoordError) as raised:
            call()
        assert MARK not in str(raised.value)


def test_a_viewer_s_task_read_is_logged(store: Store) -> None:
    """Reading tasks as a viewer is written to the access log, as every other view is."""
    coordinator = Coordinator(store)
    person = _worked(coordinator)
    viewer = Viewer(Ref("Practitioner", "pcp-1"))

    shown = coordinator.tasks(person=person, viewer=viewer, as_of=AS_OF)

    assert shown
    log = coordinator.access_log(person=person)
    assert [(e.viewer, e.view) for e in log] == [("Practitioner/pcp-1", "tasks")]


def test_a_link_decision_reason_about_an_erased_person_is_redacted(store: Store) -> None:
    """A "not the same person" reason written about the erased person goes with them."""
    coordinator = Coordinator(store)
    kept = coordinator.ingest([_other()], as_of=AS_OF).persons_created[0]
    erased = coordinator.ingest([_record()], as_of=AS_OF).persons_created[0]
    left, right = coordinator.records_of(kept)[0], coordinator.records_of(erased)[0]
    coordinator.decide_link(
        left, right, same_person=False, actor="c", as_of=AS_OF, reason=f"{MARK} is not them"
    )

    coordinator.erase_person(erased, actor="dpo", reason="request", at=AS_OF)

    assert not [e for e in coordinator.ledger(kept) if MARK in repr(attrs.asdict(e))]


def _other() -> PatientRecord:
    """Someone else entirely, from a source whose records sort before the clinic's."""
    return make_record(
        source=make_source(id="a-hospital-ehr", retrieved_at=AS_OF - DAY),
        patient=make_patient(
            id="h-9",
            names=(HumanName(family="Sample", given=("Morgan",)),),
            identifiers=(Identifier("urn:oid:2.16.840.1.113883.4.1", "999-00-1111"),),
        ),
    )


def test_a_viewer_without_as_of_learns_nothing_from_the_error(store: Store) -> None:
    """A viewer's read with no ``as_of`` fails the same way for a gap that exists or not.

    The check of ``as_of`` came after the lookup: an existing (maybe hidden) gap or person
    said "as_of must be a datetime", an unknown one "not found", an existence oracle.
    """
    coordinator = Coordinator(store)
    person = _worked(coordinator)
    key = coordinator.worklist(AS_OF, include_snoozed=True)[0].key
    viewer = Viewer(Ref("Practitioner", "someone-outside"))

    errors = []
    for call in (
        lambda: coordinator.gap(key, viewer=viewer),
        lambda: coordinator.gap("no|such|gap", viewer=viewer),
        lambda: coordinator.tasks(person=person, viewer=viewer),
        lambda: coordinator.tasks(person="person-unknown", viewer=viewer),
    ):
        with pytest.raises(CarecoordError) as raised:
            call()
        errors.append((type(raised.value), str(raised.value)))

    assert errors[0] == errors[1]
    assert errors[2] == errors[3]
    assert errors[0][0] is UsageError
