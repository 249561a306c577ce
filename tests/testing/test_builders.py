"""The builders: typed keyword arguments that match the models, and derived fields that agree."""

from __future__ import annotations

import datetime as dt
import typing

import attrs
import pytest

import carecoord.testing as kit
from carecoord import domain
from carecoord.errors import UsageError
from carecoord.testing import (
    AS_OF,
    days_before,
    make_referral,
    make_task,
)
from carecoord.testing import _builder_fields as fields

BUILDERS = sorted(name for name in kit.__all__ if name.startswith("make_"))
WRITTEN = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)


def _model_of(builder: str) -> type:
    made = getattr(kit, builder)()
    return type(made)


@pytest.mark.parametrize("builder", BUILDERS)
def test_each_builder_is_typed_with_its_models_fields(builder: str) -> None:
    """``make_x``'s TypedDict lists exactly the model's init fields (no more, no fewer)."""
    model = _model_of(builder)
    typed = getattr(fields, f"{model.__name__}Fields")
    expected = {a.alias for a in attrs.fields(model) if a.init}

    assert set(typing.get_type_hints(typed)) == expected
    assert "Any" not in str(typing.get_type_hints(getattr(kit, builder)))


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_misspelt_field_is_a_usage_error(builder: str) -> None:
    """At run time too, an unknown keyword is refused, naming it (a TypeError as before)."""
    with pytest.raises(UsageError, match="no field"):
        getattr(kit, builder)(not_a_field=1)


class TestReferral:
    """make_referral keeps its dates and history consistent with authored_on and status."""

    def test_authored_on_moves_the_derived_dates(self) -> None:
        """``make_referral(authored_on=X)`` works: sent_at, history and last_modified follow."""
        referral = make_referral(authored_on=WRITTEN)

        assert referral.sent_at == WRITTEN
        assert [c.at for c in referral.history] == [WRITTEN]
        assert referral.last_modified == WRITTEN

    @pytest.mark.parametrize("status", list(domain.ReferralStatus))
    def test_the_history_agrees_with_the_status(self, status: domain.ReferralStatus) -> None:
        """Every status is reached from draft by legal steps; replaying gives the status."""
        referral = make_referral(status=status, authored_on=WRITTEN)

        assert referral.status is status
        assert referral.status_at(AS_OF) is status
        steps = [(c.from_status, c.to_status) for c in referral.history]
        assert all(steps[i][1] == steps[i + 1][0] for i in range(len(steps) - 1))
        assert not steps or steps[0][0] == "draft"
        assert all(
            b.at >= a.at for a, b in zip(referral.history, referral.history[1:], strict=False)
        )
        assert referral.last_modified == (referral.history[-1].at if steps else WRITTEN)

    def test_the_derived_stage_dates_follow_the_road(self) -> None:
        """A closed referral was sent, seen and had its report, in that order, after writing."""
        referral = make_referral(status=domain.ReferralStatus.CLOSED, authored_on=WRITTEN)

        assert referral.sent_at is not None
        assert referral.seen_at is not None
        assert referral.report_received_at is not None
        assert WRITTEN <= referral.sent_at < referral.seen_at < referral.report_received_at
        assert referral.appointments == ("appointment-1",)

    def test_without_authored_on_the_last_step_is_five_days_ago(self) -> None:
        """The default keeps every step in the past: the last one 5 days before AS_OF."""
        referral = make_referral(status=domain.ReferralStatus.SEEN)

        assert referral.history[-1].at == days_before(5)
        assert referral.authored_on < referral.history[-1].at

    def test_the_default_is_unchanged(self) -> None:
        """Without arguments: sent 5 days before AS_OF, as every existing test expects."""
        referral = make_referral()

        assert referral.status is domain.ReferralStatus.SENT
        assert referral.authored_on == referral.sent_at == days_before(5)

    def test_an_explicit_field_wins(self) -> None:
        """A field given explicitly is kept as given (the model still validates it)."""
        later = WRITTEN + dt.timedelta(days=2)

        assert make_referral(authored_on=WRITTEN, sent_at=later).sent_at == later


class TestTask:
    """make_task keeps its history consistent with its status."""

    @pytest.mark.parametrize("status", list(domain.TaskStatus))
    def test_the_history_agrees_with_the_status(self, status: domain.TaskStatus) -> None:
        """Every status is reached by legal steps from requested; replaying gives it."""
        task = make_task(status=status, authored_on=WRITTEN)

        assert task.status is status
        assert task.status_at(AS_OF) is status
        assert all(c.at > WRITTEN for c in task.history)

    def test_due_follows_authored_on(self) -> None:
        """A task written on X is due 3 days later unless ``due`` is given."""
        assert make_task(authored_on=WRITTEN).due == WRITTEN + dt.timedelta(days=3)
        assert make_task().due == AS_OF + dt.timedelta(days=2)
