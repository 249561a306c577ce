"""The closed-loop referral lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest

import carecoord as cc
from carecoord.domain import AppointmentId, AuthorizationOutcome, PriorAuthorization
from carecoord.testing import AS_OF, CARDIOLOGIST, PCP, make_referral


def _at(hours: int) -> dt.datetime:
    return AS_OF + dt.timedelta(hours=hours)


class TestClosedLoop:
    """sent -> received -> accepted -> scheduled -> seen -> report received -> closed."""

    def test_full_loop(self) -> None:
        """A referral walks the whole loop and records each step."""
        referral = (
            make_referral()
            .receive(at=_at(1), by=CARDIOLOGIST)
            .accept(at=_at(2), by=CARDIOLOGIST)
            .schedule(AppointmentId("appt-1"), at=_at(3))
            .record_seen(at=_at(4))
            .receive_report(at=_at(5), by=PCP, report=cc.Ref("Communication", "c-1"))
            .close(at=_at(6), by=PCP)
        )

        assert referral.status is cc.ReferralStatus.CLOSED
        assert not referral.is_open
        assert referral.appointments == ("appt-1",)
        assert referral.seen_at == _at(4)
        assert referral.report_received_at == _at(5)
        assert referral.first_reached(cc.ReferralStatus.ACCEPTED) == _at(2)

    def test_no_show_then_rescheduled(self) -> None:
        """After a no-show the referral can be scheduled again."""
        referral = make_referral().accept(at=_at(1)).schedule(AppointmentId("a1"), at=_at(2))
        referral = referral.record_no_show(at=_at(3)).schedule(AppointmentId("a2"), at=_at(4))

        assert referral.status is cc.ReferralStatus.SCHEDULED
        assert referral.appointments == ("a1", "a2")

    def test_send_stamps_sent_at(self) -> None:
        """Sending a draft sets sent_at."""
        draft = make_referral(status=cc.ReferralStatus.DRAFT, sent_at=None, history=())

        sent = draft.send(at=_at(1), by=PCP)

        assert sent.sent_at == _at(1)
        assert sent.history[-1].from_status == "draft"

    def test_status_at_replays_history(self) -> None:
        """status_at shows the status the referral had at an earlier instant."""
        referral = make_referral().accept(at=_at(2)).schedule(AppointmentId("a"), at=_at(4))

        assert referral.status_at(_at(1)) is cc.ReferralStatus.SENT
        assert referral.status_at(_at(3)) is cc.ReferralStatus.ACCEPTED
        assert referral.status_at(_at(5)) is cc.ReferralStatus.SCHEDULED


class TestIllegalReferralChanges:
    """Illegal changes name current, requested and allowed states."""

    def test_cannot_be_seen_before_scheduled(self) -> None:
        """A sent referral cannot jump to seen."""
        with pytest.raises(cc.InvalidTransition) as info:
            make_referral().record_seen(at=_at(1))

        assert info.value.current == "sent"
        assert info.value.requested == "seen"
        assert info.value.allowed == (
            "accepted",
            "cancelled",
            "declined",
            "entered-in-error",
            "received",
        )

    def test_declined_is_terminal(self) -> None:
        """A declined referral cannot be accepted later; a replacement is needed."""
        declined = make_referral().decline(at=_at(1), reason="Not accepting new patients")

        with pytest.raises(cc.InvalidTransition):
            declined.accept(at=_at(2))

    def test_cancel_from_any_open_state(self) -> None:
        """Cancelled is reachable from every open state."""
        for status in cc.ReferralStatus:
            if status.is_terminal:
                continue
            assert cc.ReferralStatus.CANCELLED in cc.Referral.allowed_transitions(status)


class TestPriorAuthorization:
    """Prior authorisation: submitted, then decided."""

    def test_submit_then_decide(self) -> None:
        """A submitted authorisation is pending until decided."""
        referral = make_referral().submit_prior_authorization(at=_at(1), expedited=True)
        auth = referral.prior_authorization

        assert auth is not None
        assert auth.pending
        decided = referral.decide_prior_authorization(AuthorizationOutcome.APPROVED, at=_at(2))
        assert decided.prior_authorization is not None
        assert not decided.prior_authorization.pending

    def test_decision_before_submission_rejected(self) -> None:
        """A decision earlier than the submission is invalid."""
        with pytest.raises(cc.ValidationError):
            PriorAuthorization(
                submitted_at=_at(2),
                decided_at=_at(1),
                outcome=AuthorizationOutcome.DENIED,
            )

    def test_deciding_nothing_pending_raises(self) -> None:
        """Deciding without a submission is a validation error."""
        with pytest.raises(cc.ValidationError):
            make_referral().decide_prior_authorization(AuthorizationOutcome.DENIED, at=_at(1))

    def test_sent_before_authored_rejected(self) -> None:
        """A referral cannot be sent before it was written."""
        with pytest.raises(cc.ValidationError):
            make_referral(sent_at=AS_OF - dt.timedelta(days=30))
