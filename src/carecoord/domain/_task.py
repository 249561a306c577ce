"""Tasks, following the FHIR R4 ``Task.status`` lifecycle."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._lifecycle import StatusChange, check_transition, replay_status
from carecoord.domain._values import (
    Code,
    PatientId,
    Ref,
    Sensitivity,
    TaskId,
    aware,
    before,
    choice,
    is_frozenset,
    is_tuple,
    masked,
    non_empty,
    optional_aware,
)
from carecoord.errors import InvalidTransition, Problem, ValidationError

__all__ = ["TASK_TRANSITIONS", "Note", "Priority", "Task", "TaskStatus"]


class Priority(Enum):
    """Request priority (FHIR ``request-priority``)."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"

    @property
    def is_expedited(self) -> bool:
        """Urgent, asap and stat are expedited."""
        return self is not Priority.ROUTINE


class TaskStatus(Enum):
    """FHIR R4 ``Task.status``."""

    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    READY = "ready"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    FAILED = "failed"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"

    @property
    def is_terminal(self) -> bool:
        """Completed, failed, cancelled, rejected and entered-in-error end the task."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.REJECTED,
        TaskStatus.ENTERED_IN_ERROR,
    }
)
_EIE = TaskStatus.ENTERED_IN_ERROR
_ESCAPES = frozenset({TaskStatus.CANCELLED, TaskStatus.ON_HOLD, _EIE})

TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.DRAFT: frozenset({TaskStatus.REQUESTED, TaskStatus.READY}) | _ESCAPES,
    TaskStatus.REQUESTED: frozenset(
        {
            TaskStatus.RECEIVED,
            TaskStatus.ACCEPTED,
            TaskStatus.REJECTED,
            TaskStatus.READY,
            TaskStatus.IN_PROGRESS,
        }
    )
    | _ESCAPES,
    TaskStatus.RECEIVED: frozenset({TaskStatus.ACCEPTED, TaskStatus.REJECTED}) | _ESCAPES,
    TaskStatus.ACCEPTED: frozenset({TaskStatus.READY, TaskStatus.IN_PROGRESS}) | _ESCAPES,
    TaskStatus.READY: frozenset({TaskStatus.IN_PROGRESS}) | _ESCAPES,
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.READY})
    | _ESCAPES,
    # on-hold resumes to the status it was held from (checked in Task.resume).
    TaskStatus.ON_HOLD: frozenset(
        {
            TaskStatus.DRAFT,
            TaskStatus.REQUESTED,
            TaskStatus.RECEIVED,
            TaskStatus.ACCEPTED,
            TaskStatus.READY,
            TaskStatus.IN_PROGRESS,
            TaskStatus.CANCELLED,
            _EIE,
        }
    ),
    TaskStatus.COMPLETED: frozenset({_EIE}),
    TaskStatus.FAILED: frozenset({_EIE}),
    TaskStatus.CANCELLED: frozenset({_EIE}),
    TaskStatus.REJECTED: frozenset({_EIE}),
    _EIE: frozenset(),
}
"""The allowed ``Task.status`` changes: status -> statuses reachable from it."""


@attrs.frozen
class Note:
    """A free-text annotation. The text is masked in ``repr``."""

    text: str = attrs.field(repr=masked)
    at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    author: Ref | None = None


@attrs.frozen
class Task:
    """A unit of coordination work: call the patient, book the follow-up, send the report.

    Every status change is a method returning an evolved copy with a :class:`StatusChange`
    in ``history``; an illegal change raises :class:`carecoord.InvalidTransition`.
    ``focus`` is what the task acts on (a referral, transition, order, gap...).
    """

    id: TaskId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    authored_on: dt.datetime = attrs.field(validator=aware)
    status: TaskStatus = attrs.field(default=TaskStatus.REQUESTED, validator=choice(TaskStatus))
    intent: str = "order"
    code: Code | None = None
    description: str | None = attrs.field(default=None, repr=masked)
    business_status: str | None = None
    status_reason: str | None = attrs.field(default=None, repr=masked)
    priority: Priority = attrs.field(default=Priority.ROUTINE, validator=choice(Priority))
    owner: Ref | None = None
    requester: Ref | None = None
    focus: Ref | None = None
    part_of: tuple[TaskId, ...] = attrs.field(default=(), validator=is_tuple)
    not_before: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    due: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    notes: tuple[Note, ...] = attrs.field(default=(), validator=is_tuple)
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    last_modified: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    held_from: TaskStatus | None = None

    def __attrs_post_init__(self) -> None:
        if (
            self.due is not None
            and self.not_before is not None
            and before(self.due, self.not_before)
        ):
            raise ValidationError(Problem("due", "a task cannot be due before its not-before"))

    @property
    def is_open(self) -> bool:
        """Whether the task is not in a terminal status."""
        return not self.status.is_terminal

    @staticmethod
    def allowed_transitions(status: TaskStatus) -> frozenset[TaskStatus]:
        """The statuses reachable from ``status`` (from on-hold: see :meth:`resume`)."""
        return TASK_TRANSITIONS[status]

    def status_at(self, at: dt.datetime) -> TaskStatus:
        """The task's status at ``at``: its history replayed up to ``at``.

        Before the first change the task is in that change's ``from_status`` (or its
        ``to_status`` for a creation entry); without a history it is in its current status
        (:func:`~carecoord.domain.replay_status`, shared with the rules' as-of view).
        """
        replayed = replay_status(self.history, at)
        return self.status if replayed is None else TaskStatus(replayed)

    def last_change(self) -> dt.datetime:
        """When the status last changed (``authored_on`` when it never did)."""
        return self.history[-1].at if self.history else self.authored_on

    def transition_to(
        self,
        status: TaskStatus,
        *,
        at: dt.datetime,
        by: Ref | None = None,
        reason: str | None = None,
    ) -> Task:
        """Return a copy in ``status`` with a history entry (who, when, why)."""
        allowed = self._allowed_now()
        if status not in allowed:
            check_transition("Task", {self.status: allowed}, self.status, status)
        change = StatusChange(self.status.value, status.value, at, by, reason)
        held_from = self.status if status is TaskStatus.ON_HOLD else None
        return attrs.evolve(
            self,
            status=status,
            history=(*self.history, change),
            last_modified=at,
            held_from=held_from,
            status_reason=reason,
        )

    def _allowed_now(self) -> frozenset[TaskStatus]:
        if self.status is TaskStatus.ON_HOLD:
            back = {self.held_from} if self.held_from is not None else set()
            return frozenset({TaskStatus.CANCELLED, _EIE} | back)
        return TASK_TRANSITIONS[self.status]

    def request(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """Draft -> requested."""
        return self.transition_to(TaskStatus.REQUESTED, at=at, by=by)

    def receive(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """Requested -> received (the performer has it but has not decided)."""
        return self.transition_to(TaskStatus.RECEIVED, at=at, by=by)

    def accept(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """Requested or received -> accepted."""
        return self.transition_to(TaskStatus.ACCEPTED, at=at, by=by)

    def reject(self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None) -> Task:
        """Requested or received -> rejected."""
        return self.transition_to(TaskStatus.REJECTED, at=at, by=by, reason=reason)

    def make_ready(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """-> ready: can be started (also used to hand an in-progress task back)."""
        return self.transition_to(TaskStatus.READY, at=at, by=by)

    def start(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """-> in-progress."""
        return self.transition_to(TaskStatus.IN_PROGRESS, at=at, by=by)

    def complete(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """In-progress -> completed."""
        return self.transition_to(TaskStatus.COMPLETED, at=at, by=by)

    def fail(self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None) -> Task:
        """In-progress -> failed."""
        return self.transition_to(TaskStatus.FAILED, at=at, by=by, reason=reason)

    def cancel(self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None) -> Task:
        """Any non-terminal status -> cancelled."""
        return self.transition_to(TaskStatus.CANCELLED, at=at, by=by, reason=reason)

    def hold(self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None) -> Task:
        """Any non-terminal status -> on-hold, remembering where it was."""
        return self.transition_to(TaskStatus.ON_HOLD, at=at, by=by, reason=reason)

    def resume(self, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """On-hold -> the status it was held from."""
        target = self.held_from if self.status is TaskStatus.ON_HOLD else None
        if target is None:
            raise InvalidTransition(
                "Task", self.status.value, "resume", sorted(s.value for s in self._allowed_now())
            )
        return self.transition_to(target, at=at, by=by)

    def mark_entered_in_error(
        self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None
    ) -> Task:
        """Any status (but entered-in-error itself) -> entered-in-error."""
        return self.transition_to(_EIE, at=at, by=by, reason=reason)

    def assign(self, owner: Ref | None, *, at: dt.datetime, by: Ref | None = None) -> Task:
        """Return a copy owned by ``owner`` (``None`` unassigns); terminal tasks cannot move."""
        if self.status.is_terminal:
            raise InvalidTransition(
                "Task", self.status.value, "reassign", sorted(s.value for s in self._allowed_now())
            )
        note = Note("reassigned", at=at, author=by)
        return attrs.evolve(self, owner=owner, last_modified=at, notes=(*self.notes, note))
