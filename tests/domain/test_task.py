"""The FHIR Task lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest

import carecoord as cc
from carecoord.testing import AS_OF, COORDINATOR, PCP, make_task

T1 = AS_OF + dt.timedelta(hours=1)
T2 = AS_OF + dt.timedelta(hours=2)
T3 = AS_OF + dt.timedelta(hours=3)


class TestTaskHappyPath:
    """The typical path: requested -> accepted -> in-progress -> completed."""

    def test_each_change_records_who_when_and_why(self) -> None:
        """Every change appends a history entry with the actor, the time and the reason."""
        task = make_task().accept(at=T1, by=COORDINATOR).start(at=T2, by=COORDINATOR)
        task = task.complete(at=T3, by=COORDINATOR)

        assert task.status is cc.TaskStatus.COMPLETED
        assert [(c.from_status, c.to_status) for c in task.history] == [
            ("requested", "accepted"),
            ("accepted", "in-progress"),
            ("in-progress", "completed"),
        ]
        assert task.history[-1].at == T3
        assert task.history[-1].by == COORDINATOR
        assert task.last_change() == T3

    def test_changes_return_copies(self) -> None:
        """The original task is unchanged by a status change."""
        task = make_task()

        task.accept(at=T1)

        assert task.status is cc.TaskStatus.REQUESTED
        assert task.history == ()

    def test_reason_is_recorded(self) -> None:
        """A rejection keeps its reason in the history and as status reason."""
        task = make_task().reject(at=T1, by=PCP, reason="Patient declined")

        assert task.history[-1].reason == "Patient declined"
        assert task.status_reason == "Patient declined"


class TestTaskIllegalChanges:
    """Illegal changes raise InvalidTransition naming current, requested and allowed states."""

    def test_completed_cannot_restart(self) -> None:
        """A completed task cannot go back to in-progress."""
        task = make_task(status=cc.TaskStatus.IN_PROGRESS).complete(at=T1)

        with pytest.raises(cc.InvalidTransition) as info:
            task.start(at=T2)

        assert info.value.current == "completed"
        assert info.value.requested == "in-progress"
        assert info.value.allowed == ("entered-in-error",)
        assert "'completed'" in str(info.value)

    def test_cannot_complete_before_starting(self) -> None:
        """A requested task cannot be completed directly."""
        with pytest.raises(cc.InvalidTransition) as info:
            make_task().complete(at=T1)

        assert "in-progress" in info.value.allowed

    def test_entered_in_error_is_final(self) -> None:
        """Nothing follows entered-in-error."""
        task = make_task().mark_entered_in_error(at=T1)

        with pytest.raises(cc.InvalidTransition) as info:
            task.cancel(at=T2)

        assert info.value.allowed == ()
        assert "terminal" in str(info.value)


class TestOnHold:
    """On-hold resumes to where the task was."""

    def test_resume_returns_to_the_held_status(self) -> None:
        """A task held while in progress resumes to in-progress."""
        task = make_task(status=cc.TaskStatus.IN_PROGRESS).hold(at=T1, reason="Awaiting records")

        resumed = task.resume(at=T2)

        assert resumed.status is cc.TaskStatus.IN_PROGRESS
        assert resumed.held_from is None

    def test_on_hold_cannot_jump_elsewhere(self) -> None:
        """A task held from requested cannot resume straight to completed."""
        task = make_task().hold(at=T1)

        with pytest.raises(cc.InvalidTransition) as info:
            task.transition_to(cc.TaskStatus.COMPLETED, at=T2)

        assert set(info.value.allowed) == {"requested", "cancelled", "entered-in-error"}

    def test_resume_when_not_on_hold_raises(self) -> None:
        """Resuming a task that is not on hold is an invalid transition."""
        with pytest.raises(cc.InvalidTransition):
            make_task().resume(at=T1)


class TestReassignment:
    """In-progress may return to ready for reassignment; owners change with a note."""

    def test_in_progress_back_to_ready_then_reassigned(self) -> None:
        """A task handed back goes to ready and can get a new owner."""
        task = make_task(status=cc.TaskStatus.IN_PROGRESS).make_ready(at=T1)

        task = task.assign(PCP, at=T2, by=COORDINATOR)

        assert task.status is cc.TaskStatus.READY
        assert task.owner == PCP
        assert task.last_modified == T2

    def test_terminal_task_cannot_be_reassigned(self) -> None:
        """A cancelled task cannot change owner."""
        task = make_task().cancel(at=T1)

        with pytest.raises(cc.InvalidTransition):
            task.assign(PCP, at=T2)


class TestTaskValidation:
    """Construction-time invariants."""

    def test_due_before_not_before_rejected(self) -> None:
        """A task cannot be due before it may start."""
        with pytest.raises(cc.ValidationError) as info:
            make_task(not_before=T2, due=T1)

        assert info.value.problems[0].path == "due"

    def test_naive_authored_on_rejected(self) -> None:
        """authored_on must be timezone-aware."""
        with pytest.raises(cc.ValidationError):
            make_task(authored_on=dt.datetime(2026, 1, 1))  # noqa: DTZ001

    def test_builder_rejects_unknown_fields(self) -> None:
        """Builders refuse misspelt field names instead of ignoring them."""
        with pytest.raises(TypeError, match="ownr"):
            make_task(ownr=PCP)


class TestStatusReason:
    """The status reason belongs to the latest change."""

    def test_reason_cleared_by_a_change_without_reason(self) -> None:
        """Resuming after a hold clears the hold's reason."""
        task = make_task().hold(at=T1, reason="Awaiting records").resume(at=T2)

        assert task.status_reason is None
        assert task.history[0].reason == "Awaiting records"

    def test_resume_error_lists_the_real_moves(self) -> None:
        """Resuming a requested task names what a requested task may do."""
        with pytest.raises(cc.InvalidTransition) as info:
            make_task().resume(at=T1)

        assert "accepted" in info.value.allowed
        assert "terminal" not in str(info.value)
