"""From gaps to work: suggest one task per actionable gap, idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

from carecoord.domain import (
    CareTeamMember,
    Code,
    Discipline,
    Priority,
    Ref,
    Task,
    TaskId,
    TaskStatus,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile import PatientProfile
from carecoord.rules._asof import profile_as_of
from carecoord.rules._base import Rule
from carecoord.rules._calendar import BusinessCalendar
from carecoord.rules._codes import RULE_CODE_SYSTEM
from carecoord.rules._context import RuleContext, rule_zone
from carecoord.rules._engine import check_value_sets, resolve_rules
from carecoord.rules._model import Gap, Severity
from carecoord.rules._ruleset import RuleSet
from carecoord.terminology import ValueSets

__all__ = ["suggest_tasks", "task_id_for"]

_PRIORITY = {
    Severity.LOW: Priority.ROUTINE,
    Severity.MEDIUM: Priority.ROUTINE,
    Severity.HIGH: Priority.URGENT,
    Severity.CRITICAL: Priority.ASAP,
}


def task_id_for(gap: Gap | str) -> TaskId:
    """The deterministic id of the task suggested for a gap (or a gap key).

    ``"gap-"`` and 24 hex digits of the key's SHA-256: stable across runs, and a valid
    FHIR id.
    """
    key = gap if isinstance(gap, str) else gap.key
    return TaskId("gap-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24])


def _owner(ctx: RuleContext, discipline: Discipline | None) -> Ref | None:
    members = ctx.care_team_members()
    if discipline is not None:
        matching = [m for m in members if m.discipline is discipline]
        chosen: CareTeamMember | None = next((m for m in matching if m.lead), None)
        chosen = chosen or (matching[0] if matching else None)
        if chosen is not None:
            return chosen.party
    lead = ctx.team_lead()
    return lead.party if lead is not None else None


def suggest_tasks(
    gaps: Iterable[Gap],
    profile: PatientProfile,
    *,
    as_of: dt.datetime,
    rules: RuleSet | Sequence[Rule] | None = None,
    calendar: BusinessCalendar | None = None,
    value_sets: ValueSets | None = None,
) -> tuple[Task, ...]:
    """One requested task per actionable gap that has no task yet.

    Each task is owned by the active care-team member of the rule's discipline
    (:attr:`RuleMetadata.discipline`; the lead among them first), else by the team lead,
    else left unassigned; it is due when the gap is (a due date becomes the end of that
    local day), focuses ``Ref("Gap", gap.key)``, describes the gap's action, carries the
    rule id as its code, and takes its priority from the severity (high: urgent, critical:
    asap). The task names the profile's patient (``profile.patient.id``), so it can be
    stored in that patient's record. Closed, not-applicable and snoozed gaps get no task,
    and a patient who has died by ``as_of`` gets none at all, whatever the gaps say (gaps
    detected before the death, say).

    The task id is derived from the gap key (:func:`task_id_for`), and gaps that already
    have a task in the profile (same id, or focused on the gap, whatever its status) are
    skipped, so calling this again with the same gaps suggests nothing new. ``rules`` (the
    default catalogue when ``None``) supplies each rule's discipline; ``value_sets`` is the
    library the gaps were detected with (the shipped defaults when ``None``).
    """
    ruleset = resolve_rules(rules)
    library = check_value_sets(ruleset, value_sets)
    tz, zone_known = rule_zone(profile, as_of)
    view = profile_as_of(profile, as_of, tz=tz if zone_known else None)
    ctx = RuleContext(
        profile=view,
        as_of=as_of,
        calendar=calendar or BusinessCalendar(),
        tz=tz,
        value_sets=library,
        zone_known=zone_known,
    )
    dead = ctx.deceased  # nothing about a patient who has died is work
    disciplines = {rule.id: rule.metadata.discipline for rule in ruleset}
    existing_ids = {fact.value.id for fact in view.tasks}
    existing_focus = {fact.value.focus for fact in view.tasks if fact.value.focus is not None}
    tasks: dict[TaskId, Task] = {}
    for gap in gaps:
        if gap.patient != profile.id:
            raise ValidationError(
                Problem("gaps", f"a {gap.rule} gap belongs to another profile"),
                what="suggest_tasks input",
            )
        focus = Ref("Gap", gap.key)
        task_id = task_id_for(gap)
        if (
            dead
            or not gap.is_actionable
            or task_id in existing_ids
            or focus in existing_focus
            or task_id in tasks
        ):
            continue
        tasks[task_id] = Task(
            id=task_id,
            patient=profile.patient.id,
            authored_on=as_of,
            status=TaskStatus.REQUESTED,
            code=Code(RULE_CODE_SYSTEM, gap.rule),
            description=gap.action,
            business_status=gap.status.value,
            priority=_PRIORITY[gap.severity],
            owner=_owner(ctx, disciplines.get(gap.rule)),
            focus=focus,
            due=ctx.deadline(gap.due),
        )
    return tuple(tasks.values())
