"""Random walks through the Task and Referral lifecycles stay inside their tables."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from hypothesis import given
from hypothesis import strategies as st

import carecoord as cc
from carecoord.domain._referral import REFERRAL_TRANSITIONS
from carecoord.domain._task import TASK_TRANSITIONS
from carecoord.testing import AS_OF, make_referral, make_task

steps = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=25)


def _pick(options: list[Enum], index: int) -> Enum:
    return options[index % len(options)]


class TestTaskWalks:
    """Any sequence of requested changes either follows the table or raises."""

    @given(steps, st.lists(st.sampled_from(list(cc.TaskStatus)), min_size=1, max_size=25))
    def test_random_walk_never_leaves_the_table(
        self, gaps: list[int], requests: list[cc.TaskStatus]
    ) -> None:
        """Legal changes succeed, illegal ones raise, and history replays the table."""
        task = make_task()
        at = AS_OF
        for minutes, requested in zip(gaps, requests, strict=False):
            at = at + dt.timedelta(minutes=minutes)
            before = task
            try:
                task = task.transition_to(requested, at=at)
            except cc.InvalidTransition as error:
                assert error.current == before.status.value
                assert (
                    requested.value not in error.allowed or before.status is cc.TaskStatus.ON_HOLD
                )
                assert task is before
                continue
            if before.status is cc.TaskStatus.ON_HOLD:
                assert requested in {
                    before.held_from,
                    cc.TaskStatus.CANCELLED,
                    cc.TaskStatus.ENTERED_IN_ERROR,
                }
            else:
                assert requested in TASK_TRANSITIONS[before.status]
        for change in task.history:
            source = cc.TaskStatus(change.from_status)
            assert cc.TaskStatus(change.to_status) in TASK_TRANSITIONS[source]

    @given(steps)
    def test_legal_walk_reaches_terminal_then_only_entered_in_error(
        self, choices: list[int]
    ) -> None:
        """Walking only legal edges, a terminal status leads nowhere but entered-in-error."""
        task = make_task()
        at = AS_OF
        for index in choices:
            options = sorted(task._allowed_now(), key=lambda s: s.value)
            if not options:
                break
            at = at + dt.timedelta(minutes=1)
            task = task.transition_to(_pick(options, index), at=at)  # type: ignore[arg-type]
            if task.status.is_terminal and task.status is not cc.TaskStatus.ENTERED_IN_ERROR:
                assert task._allowed_now() == {cc.TaskStatus.ENTERED_IN_ERROR}

    def test_terminal_states_only_lead_to_entered_in_error(self) -> None:
        """The table itself: terminal statuses allow only entered-in-error (or nothing)."""
        for status, targets in TASK_TRANSITIONS.items():
            if status.is_terminal:
                assert targets <= {cc.TaskStatus.ENTERED_IN_ERROR}

    def test_entered_in_error_reachable_from_everywhere(self) -> None:
        """Every status but entered-in-error itself can be marked entered-in-error."""
        for status, targets in TASK_TRANSITIONS.items():
            if status is not cc.TaskStatus.ENTERED_IN_ERROR:
                assert cc.TaskStatus.ENTERED_IN_ERROR in targets


class TestReferralWalks:
    """Referral walks follow the closed-loop table."""

    @given(steps, st.lists(st.sampled_from(list(cc.ReferralStatus)), min_size=1, max_size=25))
    def test_random_walk_never_leaves_the_table(
        self, gaps: list[int], requests: list[cc.ReferralStatus]
    ) -> None:
        """Every recorded change is an edge of the table."""
        referral = make_referral()
        at = AS_OF
        for minutes, requested in zip(gaps, requests, strict=False):
            at = at + dt.timedelta(minutes=minutes)
            try:
                referral = referral.transition_to(requested, at=at)
            except cc.InvalidTransition as error:
                assert requested.value not in error.allowed
        for change in referral.history[1:]:
            source = cc.ReferralStatus(change.from_status)
            assert cc.ReferralStatus(change.to_status) in REFERRAL_TRANSITIONS[source]

    @given(steps)
    def test_status_at_agrees_with_history(self, choices: list[int]) -> None:
        """Replaying history at each change's instant gives the status it produced."""
        referral = make_referral()
        at = AS_OF
        for index in choices:
            options = sorted(REFERRAL_TRANSITIONS[referral.status], key=lambda s: s.value)
            if not options:
                break
            at = at + dt.timedelta(hours=1)
            referral = referral.transition_to(_pick(options, index), at=at)  # type: ignore[arg-type]
        for change in referral.history[1:]:
            assert referral.status_at(change.at).value == change.to_status

    def test_terminal_states_only_lead_to_entered_in_error(self) -> None:
        """Closed, declined and cancelled allow only entered-in-error."""
        for status, targets in REFERRAL_TRANSITIONS.items():
            if status.is_terminal:
                assert targets <= {cc.ReferralStatus.ENTERED_IN_ERROR}
