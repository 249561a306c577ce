"""Tests for the task rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import Code, Priority, Task, TaskStatus
from carecoord.rules import RULE_CODE_SYSTEM, Severity, suggest_tasks, task_stalled
from carecoord.testing import PCP, Scenario, make_task

NY = ZoneInfo("America/New_York")
AUTHORED = dt.datetime(2026, 2, 4, 10, 0, tzinfo=NY)  # Wednesday
DUE = dt.datetime(2026, 2, 10, 17, 0, tzinfo=NY)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def task(**changes: Any) -> Task:
    """A requested task written 4 February, due 10 February at 17:00."""
    return make_task(**{"authored_on": AUTHORED, "due": DUE, **changes})


def scenario(*tasks: Task, now: dt.datetime = AUTHORED) -> Scenario:
    """A scenario with the given tasks (by default one)."""
    s = Scenario(start=now)
    s.add("tasks", *(tasks or (task(),)))
    return s


OVERDUE = "task.overdue"


class TestOverdue:
    """Tests for task.overdue."""

    def test_no_gap_until_due(self) -> None:
        """At the due instant the task is its own reminder: no gap."""
        scenario(now=DUE).assert_no_gap(OVERDUE)

    def test_open_just_after_due(self) -> None:
        """A microsecond after the due time the gap is open, due at the task's due time."""
        gap = scenario(now=DUE + dt.timedelta(microseconds=1)).assert_open(OVERDUE)
        assert gap.due == DUE
        assert gap.focus == "clinic-ehr/task-1"

    def test_completed_late_is_closed_late(self) -> None:
        """Completed after the due time: closed, late, with the completion time."""
        done = task().start(at=at(dt.date(2026, 2, 9))).complete(at=at(dt.date(2026, 2, 12)))
        gap = scenario(done, now=at(dt.date(2026, 2, 20))).assert_closed(OVERDUE)
        assert gap.late
        assert gap.closed_at == at(dt.date(2026, 2, 12))

    def test_completed_on_time_is_closed_on_time(self) -> None:
        """Completed before the due time: closed, not late."""
        done = task().start(at=at(dt.date(2026, 2, 5))).complete(at=at(dt.date(2026, 2, 6)))
        assert not scenario(done, now=at(dt.date(2026, 2, 20))).assert_closed(OVERDUE).late

    def test_cancelled_closes_it(self) -> None:
        """A cancelled task is no longer overdue."""
        cancelled = task().cancel(at=at(dt.date(2026, 2, 12)))
        scenario(cancelled, now=at(dt.date(2026, 2, 20))).assert_closed(OVERDUE)

    def test_completion_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the completion the task is open and overdue."""
        done = task().start(at=at(dt.date(2026, 2, 9))).complete(at=at(dt.date(2026, 2, 12)))
        scenario(done, now=at(dt.date(2026, 2, 11))).assert_open(OVERDUE)

    def test_failed_tasks_are_not_applicable(self) -> None:
        """A failed task ended without being done: not applicable here."""
        failed = task().start(at=at(dt.date(2026, 2, 9))).fail(at=at(dt.date(2026, 2, 12)))
        gap = scenario(failed, now=at(dt.date(2026, 2, 20))).assert_not_applicable(OVERDUE)
        assert gap.reason == "task failed"

    def test_drafts_and_undated_tasks_have_no_gap(self) -> None:
        """Drafts are not work yet; tasks without a due time cannot be late."""
        later = at(dt.date(2026, 2, 20))
        scenario(task(status=TaskStatus.DRAFT), now=later).assert_no_gap(OVERDUE)
        scenario(task(due=None), now=later).assert_no_gap(OVERDUE)

    def test_urgent_tasks_are_high_severity(self) -> None:
        """An urgent task's gap is high severity."""
        s = scenario(task(priority=Priority.URGENT), now=at(dt.date(2026, 2, 20)))
        assert s.gap(OVERDUE).severity is Severity.HIGH

    def test_tasks_for_this_familys_gaps_are_ignored(self) -> None:
        """A task suggested for a task gap is not itself followed (no endless layers)."""
        own = task(code=Code(RULE_CODE_SYSTEM, "task.overdue"))
        scenario(own, now=at(dt.date(2026, 2, 20))).assert_no_gap(OVERDUE)

    def test_tasks_for_other_gaps_are_followed(self) -> None:
        """A task suggested for a referral gap is ordinary work."""
        other = task(code=Code(RULE_CODE_SYSTEM, "referral.unscheduled"))
        scenario(other, now=at(dt.date(2026, 2, 20))).assert_open(OVERDUE)

    def test_suggesting_tasks_twice_adds_no_layer(self) -> None:
        """Tasks suggested for task gaps produce no new task gaps on the next round."""
        s = scenario(task(owner=None), now=at(dt.date(2026, 2, 20)))
        first = suggest_tasks(s.gaps(), s.profile, as_of=s.now)
        s.add("tasks", *first)
        second = suggest_tasks(s.gaps(), s.profile, as_of=s.now)
        assert {t.code.code for t in first if t.code} >= {"task.overdue", "task.unassigned"}
        assert second == ()

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due day excludes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 20)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 8)))
        s.assert_not_applicable(OVERDUE)


UNASSIGNED = "task.unassigned"


class TestUnassigned:
    """Tests for task.unassigned."""

    def test_due_one_business_day_after_authored(self) -> None:
        """Written Wednesday 4 February: an owner is due by Thursday."""
        assert scenario(task(owner=None)).gap(UNASSIGNED).due == dt.date(2026, 2, 5)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of Thursday, open from Friday."""
        s = scenario(task(owner=None))
        s.set_now(end_of(dt.date(2026, 2, 5))).assert_prospective(UNASSIGNED)
        s.set_now(start_after(dt.date(2026, 2, 5))).assert_open(UNASSIGNED)

    def test_written_on_friday_is_due_monday(self) -> None:
        """The weekend does not count."""
        friday = task(owner=None, authored_on=at(dt.date(2026, 2, 6)))
        assert scenario(friday, now=at(dt.date(2026, 2, 6), 12)).gap(UNASSIGNED).due == dt.date(
            2026, 2, 9
        )

    def test_an_owner_removes_the_gap(self) -> None:
        """Assigned tasks have no gap."""
        assigned = task(owner=None).assign(PCP, at=at(dt.date(2026, 2, 5)))
        scenario(assigned, now=at(dt.date(2026, 2, 10))).assert_no_gap(UNASSIGNED)

    def test_finished_tasks_have_no_gap(self) -> None:
        """A cancelled task needs no owner."""
        cancelled = task(owner=None).cancel(at=at(dt.date(2026, 2, 5)))
        scenario(cancelled, now=at(dt.date(2026, 2, 10))).assert_no_gap(UNASSIGNED)

    def test_task_written_after_as_of_is_not_known(self) -> None:
        """Time travel: no gap before the task was written."""
        scenario(task(owner=None), now=AUTHORED - dt.timedelta(hours=1)).assert_no_gap(UNASSIGNED)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due day excludes the gap."""
        s = scenario(task(owner=None), now=at(dt.date(2026, 2, 10)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 5)))
        s.assert_not_applicable(UNASSIGNED)


STALLED = "task.stalled"
STALL_DUE = dt.date(2026, 2, 18)


class TestStalled:
    """Tests for task.stalled."""

    def test_no_gap_until_14_days_pass(self) -> None:
        """At the end of day 14 after the last change there is no gap yet."""
        scenario(now=end_of(STALL_DUE)).assert_no_gap(STALLED)

    def test_open_from_day_15(self) -> None:
        """From the next day the task is stalled, due 14 days after its last change."""
        gap = scenario(now=start_after(STALL_DUE)).assert_open(STALLED)
        assert gap.due == STALL_DUE
        assert gap.opened == AUTHORED

    def test_a_status_change_restarts_the_clock(self) -> None:
        """Accepted on 10 February: no stall until 24 February."""
        accepted = task().accept(at=at(dt.date(2026, 2, 10)))
        s = scenario(accepted)
        s.set_now(end_of(dt.date(2026, 2, 24))).assert_no_gap(STALLED)
        s.set_now(start_after(dt.date(2026, 2, 24))).assert_open(STALLED)

    def test_a_change_after_the_stall_closes_it_late(self) -> None:
        """A change on 20 February ends the stall: closed, late, at the change."""
        moved = task().accept(at=at(dt.date(2026, 2, 20)))
        gap = scenario(moved, now=at(dt.date(2026, 2, 21))).assert_closed(STALLED)
        assert gap.late
        assert gap.closed_at == at(dt.date(2026, 2, 20))

    def test_a_change_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the change, the task is stalled."""
        moved = task().accept(at=at(dt.date(2026, 2, 20)))
        scenario(moved, now=at(dt.date(2026, 2, 19))).assert_open(STALLED)

    def test_finishing_a_stalled_task_closes_it(self) -> None:
        """Cancelling a stalled task is a change that closes the stall."""
        cancelled = task().cancel(at=at(dt.date(2026, 2, 25)))
        scenario(cancelled, now=at(dt.date(2026, 3, 1))).assert_closed(STALLED)

    def test_on_hold_tasks_can_stall(self) -> None:
        """On-hold is not terminal: a task held for weeks is stalled."""
        held = task().hold(at=at(dt.date(2026, 2, 5)))
        scenario(held, now=at(dt.date(2026, 2, 25))).assert_open(STALLED)

    def test_window_is_configurable(self) -> None:
        """within_days changes the window."""
        s = Scenario(start=at(dt.date(2026, 2, 12)), rules=[task_stalled(within_days=7)])
        s.add("tasks", task())
        assert s.assert_open(STALLED).due == dt.date(2026, 2, 11)

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due day excludes the gap."""
        s = scenario(now=at(dt.date(2026, 2, 25)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 8)))
        s.assert_not_applicable(STALLED)
