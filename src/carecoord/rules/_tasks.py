"""Task rules: coordination work that is late, unowned, or stuck.

A task is its own reminder until it goes wrong, so ``task.overdue`` and ``task.stalled``
report no prospective gap: only open (past due, or stuck) and, for the record, closed
ones. Drafts are not work yet and tasks entered in error are ignored; so are the tasks
:func:`carecoord.rules.suggest_tasks` created for this family's own gaps (a task about an
overdue task must not itself become a gap, or each evaluation would add a layer). Task
statuses are replayed to ``as_of``; owners are not (tasks keep no history of owners).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import Discipline, Task, TaskStatus
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._codes import RULE_CODE_SYSTEM
from carecoord.rules._context import RuleContext
from carecoord.rules._model import Citation, Gap, RuleMetadata, Severity

__all__ = ["FAMILY", "RULES", "task_overdue", "task_stalled", "task_unassigned"]

FAMILY = "tasks"

_FHIR_TASK = Citation(
    "HL7 FHIR R4 Task: status, owner, restriction.period (due), history",
    "https://hl7.org/fhir/R4/task.html",
)
_MEDPLUM = Citation(
    "Medplum: tasks for care coordination (assigning owners, work queues)",
    "https://www.medplum.com/docs/careplans/tasks",
)

_DONE = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED})
_ABANDONED = frozenset({TaskStatus.FAILED, TaskStatus.REJECTED})


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def _tasks(ctx: RuleContext) -> Iterator[Fact[Task]]:
    """Tasks the family follows, in key order."""
    for fact in sorted(ctx.profile.tasks, key=lambda f: f.key):
        task = fact.value
        if task.status in {TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR}:
            continue
        code = task.code
        if code is not None and code.system == RULE_CODE_SYSTEM and code.code.startswith("task."):
            continue
        yield fact


def _reached(task: Task, statuses: frozenset[TaskStatus]) -> dt.datetime | None:
    """When the task first entered one of ``statuses`` (its last change when unrecorded)."""
    values = {s.value for s in statuses}
    found = next((c.at for c in task.history if c.to_status in values), None)
    return found or task.last_modified


def _died(ctx: RuleContext, day: dt.date) -> str | None:
    return "patient died" if ctx.died_by(day) else None


@define_rule(
    _meta(
        id="task.overdue",
        title="Task overdue",
        description=(
            "An open task has passed its due time. Tasks not yet due have no gap (the task "
            "is its own reminder); completed and cancelled ones are kept as closed gaps, "
            "late when they were finished after the due time. The gap of a task still open "
            "is standing: shown however long overdue."
        ),
        opens="A task (not a draft) with a due time.",
        due="The task's due time.",
        closes="The task is completed or cancelled.",
        exclusions=(
            "Task failed or rejected (it ended without being done; follow it up as such).",
            "Patient died.",
        ),
        sources=(_FHIR_TASK,),
        reads=frozenset({"tasks", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Overdue(RuleBase):
    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _tasks(ctx):
            task = fact.value
            if task.due is None:
                continue
            done = task.status in _DONE
            if not task.status.is_terminal and not ctx.is_past(task.due):
                continue
            excluded = _died(ctx, ctx.local_date(task.due))
            if task.status in _ABANDONED:
                excluded = f"task {task.status.value}"
            yield ctx.gap(
                focus=fact.key,
                due=task.due,
                opened=task.authored_on,
                summary=f"Task due {ctx.local_date(task.due).isoformat()} is not done.",
                action="Complete the task, or agree a new due date with its owner.",
                evidence=(ctx.trigger(fact, "task with a due time"),),
                closed_by=(ctx.closing(fact, f"task {task.status.value}"),) if done else (),
                closed_at=_reached(task, _DONE) if done else None,
                not_applicable=excluded,
                severity=Severity.HIGH if task.priority.is_expedited else None,
                standing=not task.status.is_terminal,  # open now, however long overdue
            )


def task_overdue() -> Rule:
    """``task.overdue``: an open task past its due time."""
    return _Overdue()


@define_rule(
    _meta(
        id="task.unassigned",
        title="Task without an owner",
        description=(
            "An open task has nobody assigned to it a business day after it was written, "
            "so it sits in no one's work list. Tasks keep no history of their owners, so an "
            "assigned task simply has no gap."
        ),
        opens="An open task (not a draft) without an owner.",
        due="1 business day after it was authored.",
        closes="An owner is set (the gap disappears).",
        exclusions=("Patient died.",),
        sources=(_MEDPLUM, _FHIR_TASK),
        reads=frozenset({"tasks", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.MEDIUM,
        standing=True,
    )
)
@attrs.frozen(repr=False)
class _Unassigned(RuleBase):
    within_business_days: int = param(
        1, "Business days after authoring to assign an owner.", unit="business days"
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _tasks(ctx):
            task = fact.value
            if task.status.is_terminal or task.owner is not None:
                continue
            day = ctx.local_date(task.authored_on)
            due = ctx.add_business_days(day, self.within_business_days)
            yield ctx.gap(
                focus=fact.key,
                due=due,
                opened=task.authored_on,
                summary=f"Task written {day.isoformat()} has no owner.",
                action="Assign the task to a care-team member.",
                evidence=(ctx.trigger(fact, "task without an owner"),),
                not_applicable=_died(ctx, due),
                severity=Severity.HIGH if task.priority.is_expedited else None,
            )


def task_unassigned(*, within_business_days: int = 1) -> Rule:
    """``task.unassigned``: no owner 1 business day after the task was written."""
    return _Unassigned(within_business_days=within_business_days)


@define_rule(
    _meta(
        id="task.stalled",
        title="Task stalled",
        description=(
            "An open task's status has not changed for 14 days (on-hold tasks included): it "
            "may be stuck. Only status changes count; notes and reassignments do not. Any "
            "change restarts the clock, and a change that ends a stall is kept as a closed "
            "gap; tasks not yet stalled have no gap. The stall of a task still open is "
            "standing: shown however long it has lasted."
        ),
        opens="A task (not a draft) is created or changes status.",
        due="14 days after the last status change (or creation).",
        closes="Any status change.",
        exclusions=("Patient died.",),
        sources=(_FHIR_TASK,),
        reads=frozenset({"tasks", "patient"}),
        discipline=Discipline.CARE_COORDINATION,
        severity=Severity.LOW,
    )
)
@attrs.frozen(repr=False)
class _Stalled(RuleBase):
    within_days: int = param(
        14, "Days without a status change before a task is stalled.", unit="days"
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        for fact in _tasks(ctx):
            task = fact.value
            changes = [task.authored_on, *(c.at for c in task.history)]
            last = changes[-1]
            due = ctx.add_days(ctx.local_date(last), self.within_days)
            if not task.status.is_terminal and ctx.is_past(due):
                yield self._gap(ctx, fact, last, due, None, standing=True)  # stuck now
                continue
            if len(changes) < 2:
                continue
            before = changes[-2]
            due = ctx.add_days(ctx.local_date(before), self.within_days)
            if ctx.is_late(last, due):
                yield self._gap(ctx, fact, before, due, last)

    @staticmethod
    def _gap(
        ctx: RuleContext,
        fact: Fact[Task],
        since: dt.datetime,
        due: dt.date,
        changed: dt.datetime | None,
        *,
        standing: bool = False,
    ) -> Gap:
        day = ctx.local_date(since)
        return ctx.gap(
            focus=fact.key,
            due=due,
            opened=since,
            summary=f"Task unchanged since {day.isoformat()}.",
            action="Ask the owner where the task stands; move it on, reassign or close it.",
            evidence=(ctx.trigger(fact, "no status change"),),
            closed_by=(ctx.closing(fact, "status changed"),) if changed else (),
            closed_at=changed,
            not_applicable=_died(ctx, due),
            standing=standing,
        )


def task_stalled(*, within_days: int = 14) -> Rule:
    """``task.stalled``: an open task without a status change for 14 days."""
    return _Stalled(within_days=within_days)


RULES: tuple[Rule, ...] = (task_overdue(), task_unassigned(), task_stalled())
"""The task family with its published defaults, in catalogue order."""
