"""The coordinator: idempotent, incremental ingest with stable persons and a living worklist."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest

from carecoord import build_profiles, detect_gaps
from carecoord.demo_data import DEMO_AS_OF
from carecoord.domain import (
    ActivityKind,
    HumanName,
    Identifier,
    PartialDate,
    PatientRecord,
    Ref,
    minutes_by_kind,
)
from carecoord.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from carecoord.ports import Store, TaskState
from carecoord.profile import Viewer
from carecoord.services import Coordinator, retry_on_conflict
from carecoord.testing import (
    AS_OF,
    PCP,
    make_patient,
    make_record,
    make_referral,
    make_source,
    make_transition,
)

DAY = dt.timedelta(days=1)


def _record(
    *, source: str = "clinic-ehr", patient: str = "patient-1", at: dt.datetime = AS_OF - DAY
) -> PatientRecord:
    """The clinic's record of the default synthetic patient, with one sent referral."""
    return make_record(
        source=make_source(id=source, retrieved_at=at),
        patient=make_patient(id=patient),
        referrals=(make_referral(patient=patient),),
    )


def _other_person(source: str = "hospital-ehr", patient: str = "h-9") -> PatientRecord:
    """A record about someone else entirely (different name, birth date, contact, MRN)."""
    return make_record(
        source=make_source(id=source, retrieved_at=AS_OF - DAY),
        patient=make_patient(
            id=patient,
            names=(HumanName(family="Sample", given=("Morgan",)),),
            birth_date=PartialDate(1990, 1, 2),
            identifiers=(Identifier("urn:example:hosp", "H-9"),),
            telecom=(),
            addresses=(),
        ),
    )


class TestIngest:
    """What ingest stores and reports."""

    def test_demo_gaps_match_batch_detection(
        self, store: Store, demo_records: tuple[PatientRecord, ...]
    ) -> None:
        """The stored active gaps are the ones detect_gaps finds over build_profiles."""
        coordinator = Coordinator(store)
        coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        stored = Counter(
            (s.gap.rule, "self" if s.gap.focus == s.person else s.gap.focus, s.gap.status)
            for s in coordinator.worklist(DEMO_AS_OF, due_since=dt.date(1900, 1, 1))
        )
        expected = Counter(
            (g.rule, "self" if g.focus == p.id else g.focus, g.status)
            for p in build_profiles(demo_records)
            for g in detect_gaps(p, as_of=DEMO_AS_OF)
        )
        assert stored == expected
        assert len(coordinator.persons()) == len(build_profiles(demo_records))

    def test_same_input_twice_changes_nothing(
        self, store: Store, demo_records: tuple[PatientRecord, ...]
    ) -> None:
        """A second ingest of the same records stores nothing and emits no event."""
        coordinator = Coordinator(store)
        coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        before = len(coordinator.events())
        again = coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        assert not again.changed
        assert len(again.records_unchanged) == len(demo_records)
        assert len(coordinator.events()) == before

    def test_newer_version_replaces_and_closes_its_gaps(self, store: Store) -> None:
        """A newer copy with the referral cancelled replaces the record; its gaps close."""
        coordinator = Coordinator(store)
        first = coordinator.ingest([_record()], as_of=AS_OF)
        referral = make_referral().cancel(at=AS_OF - DAY / 2, by=PCP, reason="not needed")
        newer = attrs.evolve(_record(at=AS_OF - DAY / 4), referrals=(referral,))
        changes = coordinator.ingest([newer], as_of=AS_OF)
        assert changes.records_replaced == (newer.key,)
        assert set(changes.gaps_closed) == set(first.gaps_opened)
        assert coordinator.worklist(AS_OF) == ()

    def test_older_version_arriving_late_does_not_win(self, store: Store) -> None:
        """An older copy is skipped with a reason and changes nothing."""
        coordinator = Coordinator(store)
        coordinator.ingest([_record(at=AS_OF - DAY)], as_of=AS_OF)
        older = attrs.evolve(_record(at=AS_OF - 3 * DAY), referrals=())
        changes = coordinator.ingest([older], as_of=AS_OF)
        assert not changes.changed
        assert [s.reason for s in changes.skipped] == ["older than the stored version"]
        assert len(coordinator.worklist(AS_OF)) == 3

    def test_record_joining_keeps_the_person_id(self, store: Store) -> None:
        """A second source's record of the same patient joins the existing person."""
        coordinator = Coordinator(store)
        (person,) = coordinator.ingest([_record()], as_of=AS_OF).persons_created
        joined = coordinator.ingest([_record(source="hospital-ehr", patient="h-1")], as_of=AS_OF)
        assert joined.persons_created == ()
        assert coordinator.persons() == (person,)
        assert len(coordinator.records_of(person)) == 2

    def test_only_touched_persons_are_reevaluated(self, store: Store) -> None:
        """Ingesting one person's record re-evaluates that person only."""
        coordinator = Coordinator(store)
        coordinator.ingest([_record(), _other_person()], as_of=AS_OF)
        changes = coordinator.ingest([_record(at=AS_OF - DAY / 2)], as_of=AS_OF)
        assert len(changes.persons_changed) == 1
        assert changes.persons_changed == (coordinator.resolve(changes.persons_changed[0]),)

    def test_invalid_input_is_skipped_and_the_rest_proceeds(self, store: Store) -> None:
        """A non-record is reported with its position; the valid record is stored."""
        coordinator = Coordinator(store)
        changes = coordinator.ingest([object(), _record()], as_of=AS_OF)
        assert [(s.index, s.reason) for s in changes.skipped] == [
            (0, "invalid: not a PatientRecord")
        ]
        assert len(changes.records_added) == 1

    def test_refuse_stores_nothing(self, store: Store) -> None:
        """With on_invalid='refuse' one bad input refuses the whole batch."""
        coordinator = Coordinator(store)
        with pytest.raises(ValidationError):
            coordinator.ingest([_record(), "junk"], as_of=AS_OF, on_invalid="refuse")
        assert coordinator.persons() == ()
        assert coordinator.events() == ()

    def test_batch_in_one_unit_of_work_rolls_back_together(self, store: Store) -> None:
        """Two ingests sharing a unit of work that is never committed leave nothing."""
        coordinator = Coordinator(store)
        with store.unit_of_work() as uow:
            coordinator.ingest([_record()], as_of=AS_OF, unit_of_work=uow)
            coordinator.ingest([_other_person()], as_of=AS_OF, unit_of_work=uow)
            assert len(uow.persons.ids()) == 2
        assert coordinator.persons() == ()

    def test_batch_in_one_unit_of_work_commits_together(self, store: Store) -> None:
        """Two ingests sharing a unit of work become visible at its commit, in order."""
        coordinator = Coordinator(store)
        with store.unit_of_work() as uow:
            coordinator.ingest([_record()], as_of=AS_OF, unit_of_work=uow)
            coordinator.ingest([_other_person()], as_of=AS_OF, unit_of_work=uow)
            uow.commit()
        assert len(coordinator.persons()) == 2
        positions = [e.position for e in coordinator.events()]
        assert positions == sorted(positions) == list(range(1, len(positions) + 1))


class TestIdentity:
    """Stable ids, merges and human link decisions."""

    def test_same_person_decision_merges_keeping_the_older_id(self, store: Store) -> None:
        """A same-person decision merges: the first-created id survives, the other is an alias."""
        coordinator = Coordinator(store)
        (first,) = coordinator.ingest([_record()], as_of=AS_OF).persons_created
        later = AS_OF + DAY
        (second,) = coordinator.ingest([_other_person()], as_of=later).persons_created
        changes = coordinator.decide_link(
            _record().key, _other_person().key, same_person=True, actor="nurse-1", as_of=later
        )
        assert changes.persons_merged == ((second, first),)
        assert coordinator.persons() == (first,)
        assert coordinator.resolve(second) == first
        assert [e.kind for e in coordinator.events() if e.kind.startswith("person.")][-1] == (
            "person.merged"
        )

    def test_not_same_person_decision_splits_and_persists(self, store: Store) -> None:
        """A "not the same person" decision splits a person and survives later ingests."""
        coordinator = Coordinator(store)
        clinic, hospital = _record(), _record(source="hospital-ehr", patient="h-1")
        (person,) = coordinator.ingest([clinic, hospital], as_of=AS_OF).persons_created
        split = coordinator.decide_link(
            clinic.key, hospital.key, same_person=False, actor="nurse-1", as_of=AS_OF
        )
        assert len(split.persons_created) == 1
        assert person in coordinator.persons()
        assert len(coordinator.persons()) == 2
        newer = _record(source="hospital-ehr", patient="h-1", at=AS_OF)
        again = coordinator.ingest([newer], as_of=AS_OF + DAY)
        assert again.persons_merged == ()
        assert len(coordinator.persons()) == 2

    def test_unknown_record_in_a_decision_is_not_found(self, store: Store) -> None:
        """Deciding about a record never stored raises NotFound."""
        coordinator = Coordinator(store)
        coordinator.ingest([_record()], as_of=AS_OF)
        with pytest.raises(NotFound):
            coordinator.decide_link(
                _record().key, ("x", "y"), same_person=True, actor="a", as_of=AS_OF
            )


class TestWorklist:
    """Human state on gaps, across runs, in the ledger."""

    def _setup(self, store: Store) -> tuple[Coordinator, str]:
        coordinator = Coordinator(store)
        coordinator.ingest([_record()], as_of=AS_OF)
        key = coordinator.worklist(AS_OF)[0].key
        return coordinator, key

    def test_human_state_survives_reingest(self, store: Store) -> None:
        """Assignment, notes and dismissals stay on the gap when newer data arrives."""
        coordinator, key = self._setup(store)
        coordinator.assign(key, "nurse-1", actor="lead", at=AS_OF, team="north")
        coordinator.add_note(key, "called, no answer", actor="nurse-1", at=AS_OF)
        coordinator.ingest([_record(at=AS_OF - DAY / 2)], as_of=AS_OF + DAY)
        state = coordinator.gap(key)
        assert (state.assigned_to, state.team) == ("nurse-1", "north")
        assert [n.text for n in state.notes] == ["called, no answer"]

    def test_filters_by_owner_and_team(self, store: Store) -> None:
        """owner= and team= keep only the gaps assigned so."""
        coordinator, key = self._setup(store)
        coordinator.assign(key, "nurse-1", actor="lead", at=AS_OF, team="north")
        assert [s.key for s in coordinator.worklist(AS_OF, owner="nurse-1")] == [key]
        assert [s.key for s in coordinator.worklist(AS_OF, team="north")] == [key]
        assert coordinator.worklist(AS_OF, owner="someone-else") == ()

    def test_snoozed_gap_hidden_until_its_date(self, store: Store) -> None:
        """A snoozed gap leaves the worklist until the snooze ends."""
        coordinator, key = self._setup(store)
        until = (AS_OF + 3 * DAY).date()
        coordinator.snooze(key, until, actor="nurse-1", at=AS_OF, reason="patient travelling")
        assert key not in {s.key for s in coordinator.worklist(AS_OF)}
        assert key in {s.key for s in coordinator.worklist(AS_OF, include_snoozed=True)}
        assert key in {s.key for s in coordinator.worklist(AS_OF + 3 * DAY)}

    def test_dismiss_and_reopen(self, store: Store) -> None:
        """A dismissed gap leaves the worklist; reopening brings it back."""
        coordinator, key = self._setup(store)
        coordinator.dismiss(key, actor="nurse-1", at=AS_OF, reason="handled by phone")
        assert key not in {s.key for s in coordinator.worklist(AS_OF)}
        coordinator.reopen(key, actor="nurse-1", at=AS_OF)
        assert key in {s.key for s in coordinator.worklist(AS_OF)}

    def test_every_change_is_in_the_ledger_and_countable(self, store: Store) -> None:
        """Ledger entries say who, when, why; their minutes count by kind."""
        coordinator, key = self._setup(store)
        person = coordinator.gap(key).person
        coordinator.assign(
            key,
            "nurse-1",
            actor="lead",
            at=AS_OF,
            reason="her panel",
            kind=ActivityKind.CHART_REVIEW,
            minutes=5,
        )
        coordinator.add_note(
            key,
            "left a message",
            actor="nurse-1",
            at=AS_OF,
            kind=ActivityKind.PATIENT_OUTREACH,
            minutes=10,
        )
        entries = coordinator.ledger(person)
        assert [(e.action, e.actor, e.reason) for e in entries] == [
            ("gap.assigned", "lead", "her panel"),
            ("gap.noted", "nurse-1", ""),
        ]
        minutes = minutes_by_kind(coordinator.activities(person))
        assert minutes[ActivityKind.CHART_REVIEW] == 5
        assert minutes[ActivityKind.PATIENT_OUTREACH] == 10

    def test_stale_expected_version_conflicts_and_retry_succeeds(self, store: Store) -> None:
        """A write naming a stale version raises ConflictError; retry_on_conflict rereads."""
        coordinator, key = self._setup(store)
        seen = coordinator.gap(key).version
        coordinator.assign(key, "nurse-1", actor="lead", at=AS_OF)
        with pytest.raises(ConflictError):
            coordinator.assign(key, "nurse-2", actor="lead", at=AS_OF, expected_version=seen)

        def work() -> str | None:
            version = coordinator.gap(key).version
            return coordinator.assign(
                key, "nurse-2", actor="lead", at=AS_OF, expected_version=version
            ).assigned_to

        assert retry_on_conflict(work) == "nurse-2"


class TestTasks:
    """Proposals become tasks with the real lifecycle."""

    def test_accept_then_work_the_task(self, store: Store) -> None:
        """An accepted proposal is a task; start and complete move its status."""
        coordinator = Coordinator(store)
        changes = coordinator.ingest([_record()], as_of=AS_OF)
        task_id = changes.tasks_suggested[0]
        entry = coordinator.accept_task(task_id, actor="nurse-1", at=AS_OF, owner=PCP)
        assert entry.state is TaskState.ACCEPTED
        assert entry.task.owner == PCP
        coordinator.update_task(task_id, "start", actor="nurse-1", at=AS_OF)
        done = coordinator.update_task(task_id, "complete", actor="nurse-1", at=AS_OF + DAY)
        assert done.task.status.value == "completed"
        with pytest.raises(InvalidTransition):
            coordinator.update_task(task_id, "start", actor="nurse-1", at=AS_OF + DAY)

    def test_rejected_proposal_is_not_suggested_again(self, store: Store) -> None:
        """A rejected proposal stays rejected on a later ingest."""
        coordinator = Coordinator(store)
        task_id = coordinator.ingest([_record()], as_of=AS_OF).tasks_suggested[0]
        coordinator.reject_task(task_id, actor="nurse-1", at=AS_OF, reason="duplicate")
        again = coordinator.ingest([_record(at=AS_OF - DAY / 2)], as_of=AS_OF)
        assert task_id not in again.tasks_suggested
        assert coordinator.tasks(state=TaskState.REJECTED)[0].id == task_id

    def test_auto_accept_creates_tasks_at_once(self, store: Store) -> None:
        """With auto_accept_tasks suggested tasks are created as tasks."""
        coordinator = Coordinator(store, auto_accept_tasks=True)
        changes = coordinator.ingest([_record()], as_of=AS_OF)
        assert changes.tasks_suggested == ()
        assert changes.tasks_created
        assert {e.kind for e in coordinator.events()} >= {"task.created"}


class TestOldHistory:
    """A record's old history stays in the store but asks nobody to act."""

    def test_no_proposal_for_a_discharge_years_ago(self, store: Store) -> None:
        """A 2019 stay's gaps are stored (open) without proposals; the recent referral's get one."""
        old = make_transition(admitted_at=AS_OF - 2000 * DAY, discharged_at=AS_OF - 1997 * DAY)
        record = attrs.evolve(_record(), transitions=(old,))
        coordinator = Coordinator(store)
        changes = coordinator.ingest([record], as_of=AS_OF)
        everything = coordinator.worklist(AS_OF, due_since=dt.date(1900, 1, 1))
        transition_gaps = {s.key for s in everything if s.gap.family == "transitions"}
        proposed = {e.gap for e in coordinator.tasks(state=TaskState.PROPOSED)}

        assert transition_gaps
        assert {s.gap.status.value for s in everything if s.key in transition_gaps} == {"open"}
        assert not transition_gaps & proposed
        assert changes.tasks_suggested
        assert {k.split(".")[0] for k in proposed} == {"referral"}
        assert not {s.key for s in coordinator.worklist(AS_OF)} & transition_gaps

    def test_a_proposal_is_withdrawn_when_its_gap_ages_out(self, store: Store) -> None:
        """Fourteen months on, a still-open discharge gap's proposal goes as no longer current.

        The referral's gaps stay proposed: the referral is still open (standing).
        """
        stay = make_transition(admitted_at=AS_OF - 4 * DAY, discharged_at=AS_OF - DAY)
        record = attrs.evolve(_record(), transitions=(stay,))
        coordinator = Coordinator(store)
        suggested = coordinator.ingest([record], as_of=AS_OF).tasks_suggested
        proposed = {e.id: e.gap or "" for e in coordinator.tasks(state=TaskState.PROPOSED)}
        later = AS_OF + 426 * DAY
        changes = coordinator.refresh(later)
        reasons = {
            e.subject: e.data.get("reason")
            for e in coordinator.events()
            if e.kind == "task.withdrawn"
        }
        left = {e.id for e in coordinator.tasks(state=TaskState.PROPOSED)}
        transitions = {t for t, gap in proposed.items() if gap.startswith("transition.")}
        open_now = {
            s.key
            for s in coordinator.worklist(later, due_since=dt.date(1900, 1, 1))
            if s.gap.status.value == "open"
        }

        assert transitions
        assert set(suggested) == set(proposed)
        assert {t for t in transitions if proposed[t] in open_now} <= {
            t for t, why in reasons.items() if why == "gap no longer current"
        }
        assert set(changes.tasks_withdrawn) == set(reasons)
        assert not transitions & left
        assert any(proposed.get(t, "").startswith("referral.") for t in left)


class TestOutboxAndPrivacy:
    """Events carry no personal data; erasure leaves tombstones."""

    def test_events_carry_no_personal_data(self, store: Store) -> None:
        """No name, MRN or phone of the patient appears in any event."""
        coordinator = Coordinator(store)
        coordinator.ingest([_record()], as_of=AS_OF)
        text = repr(coordinator.events())
        for secret in ("Testperson", "MRN-0001", "555-0100", "1961"):
            assert secret not in text

    def test_events_after_a_cursor(self, store: Store) -> None:
        """events(after=n) returns the events with larger positions only."""
        coordinator = Coordinator(store)
        coordinator.ingest([_record()], as_of=AS_OF)
        cursor = coordinator.events()[-1].position
        coordinator.ingest([_other_person()], as_of=AS_OF)
        later = coordinator.events(after=cursor)
        assert later
        assert all(e.position > cursor for e in later)
        assert later[0].kind == "person.created"

    def test_erase_leaves_tombstones_and_refuses_reingest(self, store: Store) -> None:
        """Erasure removes data, keeps positions and counts, and blocks a re-ingest until lifted."""
        coordinator = Coordinator(store)
        (person,) = coordinator.ingest([_record()], as_of=AS_OF).persons_created
        key = coordinator.worklist(AS_OF)[0].key
        coordinator.assign(key, "nurse-1", actor="lead", at=AS_OF, reason="x")
        positions = [e.position for e in coordinator.events()]
        coordinator.erase_person(person, actor="dpo", reason="patient request", at=AS_OF)
        events = coordinator.events()
        assert [e.position for e in events][: len(positions)] == positions
        assert all(e.redacted for e in events[: len(positions)])
        assert events[-1].kind == "person.erased"
        assert coordinator.persons() == ()
        assert coordinator.worklist(AS_OF) == ()
        assert len(coordinator.ledger(person)) == 2
        again = coordinator.ingest([_record()], as_of=AS_OF)
        assert [s.reason for s in again.skipped] == ["erased on request"]
        coordinator.lift_tombstone(person, actor="dpo", reason="consent given", at=AS_OF)
        assert coordinator.ingest([_record()], as_of=AS_OF).records_added == (_record().key,)

    def test_viewer_reads_are_filtered_and_logged(
        self, store: Store, demo_records: tuple[PatientRecord, ...]
    ) -> None:
        """A clinician outside the consents sees fewer gaps; each person read is logged."""
        coordinator = Coordinator(store)
        coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        viewer = Viewer(Ref("Practitioner", "someone-outside"))
        everything = coordinator.worklist(DEMO_AS_OF)
        seen = coordinator.worklist(DEMO_AS_OF, viewer=viewer)
        assert set(seen) < set(everything)
        hidden = set(everything) - set(seen)
        assert all(s.gap.sensitivity or s.gap.evidence for s in hidden)
        assert not any(s.gap.sensitivity for s in seen)  # no consent: no sensitive gap
        log = coordinator.access_log()
        assert {e.person for e in log} == {s.person for s in seen}
        assert {e.viewer for e in log} == {"Practitioner/someone-outside"}


class TestConsentOnEveryRead:
    """Single gaps and tasks are filtered for a viewer too."""

    def test_hidden_gap_is_not_found_for_the_viewer(
        self, store: Store, demo_records: tuple[PatientRecord, ...]
    ) -> None:
        """A gap the viewer may not see reads as not found; its tasks are left out."""
        coordinator = Coordinator(store)
        coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
        viewer = Viewer(Ref("Practitioner", "someone-outside"))
        seen = set(coordinator.worklist(DEMO_AS_OF, viewer=viewer))
        hidden = next(s for s in coordinator.worklist(DEMO_AS_OF) if s not in seen)
        assert coordinator.gap(hidden.key) == hidden
        with pytest.raises(NotFound):
            coordinator.gap(hidden.key, viewer=viewer, as_of=DEMO_AS_OF)
        tasks = coordinator.tasks(person=hidden.person, viewer=viewer, as_of=DEMO_AS_OF)
        assert hidden.key not in {t.gap for t in tasks}
        assert hidden.key in {t.gap for t in coordinator.tasks(person=hidden.person)}
