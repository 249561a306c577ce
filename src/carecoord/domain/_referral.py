"""Referrals and their closed-loop lifecycle (BSeR business states, IHE 360X messages)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._lifecycle import StatusChange, check_transition, replay_status
from carecoord.domain._task import Priority
from carecoord.domain._values import (
    AppointmentId,
    Code,
    PatientId,
    Ref,
    ReferralId,
    Sensitivity,
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

__all__ = [
    "REFERRAL_TRANSITIONS",
    "AuthorizationOutcome",
    "PriorAuthorization",
    "Referral",
    "ReferralStatus",
]


class ReferralStatus(Enum):
    """Where a referral is in the closed loop."""

    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    NO_SHOW = "no-show"
    APPOINTMENT_CANCELLED = "appointment-cancelled"
    SEEN = "seen"
    REPORT_RECEIVED = "report-received"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"

    @property
    def is_terminal(self) -> bool:
        """Closed, declined, cancelled and entered-in-error end the referral."""
        return self in _TERMINAL


_S = ReferralStatus
_TERMINAL = frozenset({_S.CLOSED, _S.DECLINED, _S.CANCELLED, _S.ENTERED_IN_ERROR})
_OPEN_ESCAPES = frozenset({_S.CANCELLED, _S.ENTERED_IN_ERROR})

REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    _S.DRAFT: frozenset({_S.SENT}) | _OPEN_ESCAPES,
    _S.SENT: frozenset({_S.RECEIVED, _S.ACCEPTED, _S.DECLINED}) | _OPEN_ESCAPES,
    _S.RECEIVED: frozenset({_S.ACCEPTED, _S.DECLINED}) | _OPEN_ESCAPES,
    _S.ACCEPTED: frozenset({_S.SCHEDULED}) | _OPEN_ESCAPES,
    _S.SCHEDULED: frozenset({_S.SEEN, _S.NO_SHOW, _S.APPOINTMENT_CANCELLED}) | _OPEN_ESCAPES,
    _S.NO_SHOW: frozenset({_S.SCHEDULED}) | _OPEN_ESCAPES,
    _S.APPOINTMENT_CANCELLED: frozenset({_S.SCHEDULED}) | _OPEN_ESCAPES,
    _S.SEEN: frozenset({_S.REPORT_RECEIVED}) | _OPEN_ESCAPES,
    _S.REPORT_RECEIVED: frozenset({_S.CLOSED}) | _OPEN_ESCAPES,
    _S.CLOSED: frozenset({_S.ENTERED_IN_ERROR}),
    _S.DECLINED: frozenset({_S.ENTERED_IN_ERROR}),
    _S.CANCELLED: frozenset({_S.ENTERED_IN_ERROR}),
    _S.ENTERED_IN_ERROR: frozenset(),
}
"""The allowed referral status changes: status -> statuses reachable from it."""


class AuthorizationOutcome(Enum):
    """The payer's decision on a prior authorisation."""

    APPROVED = "approved"
    DENIED = "denied"
    PARTIAL = "partial"


@attrs.frozen
class PriorAuthorization:
    """Prior authorisation for a referral: required, submitted, decided (CMS-0057-F)."""

    required: bool = True
    expedited: bool = False
    submitted_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    decided_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    outcome: AuthorizationOutcome | None = None

    def __attrs_post_init__(self) -> None:
        if self.decided_at is not None and self.submitted_at is None:
            raise ValidationError(Problem("decided_at", "a decision needs a submission"))
        if (
            self.decided_at is not None
            and self.submitted_at is not None
            and before(self.decided_at, self.submitted_at)
        ):
            raise ValidationError(Problem("decided_at", "decided before it was submitted"))
        if (self.outcome is None) != (self.decided_at is None):
            raise ValidationError(Problem("outcome", "an outcome goes with a decision time"))

    @property
    def pending(self) -> bool:
        """Submitted and not yet decided."""
        return self.submitted_at is not None and self.decided_at is None


@attrs.frozen
class Referral:
    """A request that another provider or service take over part of the patient's care.

    The loop is closed when the referrer has received (and reviewed) the consultant's
    report. Status changes return evolved copies with history; illegal ones raise
    :class:`carecoord.InvalidTransition`. ``community`` marks a referral to a
    community-based service (social needs).
    """

    id: ReferralId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    authored_on: dt.datetime = attrs.field(validator=aware)
    requester: Ref
    recipient: Ref | None = None
    status: ReferralStatus = attrs.field(
        default=ReferralStatus.DRAFT, validator=choice(ReferralStatus)
    )
    specialty: Code | None = None
    reasons: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    priority: Priority = attrs.field(default=Priority.ROUTINE, validator=choice(Priority))
    sent_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    prior_authorization: PriorAuthorization | None = None
    appointments: tuple[AppointmentId, ...] = attrs.field(default=(), validator=is_tuple)
    seen_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    report_received_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    report: Ref | None = None
    replaces: ReferralId | None = None
    community: bool = False
    note: str | None = attrs.field(default=None, repr=masked)
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=is_tuple)
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    last_modified: dt.datetime | None = attrs.field(default=None, validator=optional_aware)

    def __attrs_post_init__(self) -> None:
        if self.sent_at is not None and before(self.sent_at, self.authored_on):
            raise ValidationError(Problem("sent_at", "a referral cannot be sent before written"))

    @property
    def is_open(self) -> bool:
        """Whether the loop is still open (not terminal)."""
        return not self.status.is_terminal

    @staticmethod
    def allowed_transitions(status: ReferralStatus) -> frozenset[ReferralStatus]:
        """The statuses reachable from ``status``."""
        return REFERRAL_TRANSITIONS[status]

    def status_at(self, at: dt.datetime) -> ReferralStatus:
        """The referral's status at ``at``.

        With a history, the history replayed up to ``at``
        (:func:`~carecoord.domain.replay_status`: before the first change, that change's
        ``from_status``, or the status it was created in). Without one, the status is
        inferred from the dated fields: a referral whose report, visit or sending happened
        after ``at`` is shown at the last stage reached by ``at`` (``draft`` when it had not
        been sent), and otherwise in its current status.
        """
        replayed = replay_status(self.history, at)
        if replayed is not None:
            return ReferralStatus(replayed)
        stages = (
            (self.report_received_at, ReferralStatus.REPORT_RECEIVED),
            (self.seen_at, ReferralStatus.SEEN),
            (self.sent_at, ReferralStatus.SENT),
        )
        if not any(when is not None and before(at, when) for when, _ in stages):
            return self.status
        for when, stage in stages:
            if when is not None and not before(at, when):
                return stage
        return ReferralStatus.DRAFT

    def first_reached(self, status: ReferralStatus) -> dt.datetime | None:
        """When the referral first entered ``status`` according to its history."""
        return next((c.at for c in self.history if c.to_status == status.value), None)

    def transition_to(
        self,
        status: ReferralStatus,
        *,
        at: dt.datetime,
        by: Ref | None = None,
        reason: str | None = None,
    ) -> Referral:
        """Return a copy in ``status`` with a history entry (who, when, why)."""
        check_transition("Referral", REFERRAL_TRANSITIONS, self.status, status)
        change = StatusChange(self.status.value, status.value, at, by, reason)
        return attrs.evolve(self, status=status, history=(*self.history, change), last_modified=at)

    def send(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Draft -> sent."""
        return attrs.evolve(self.transition_to(_S.SENT, at=at, by=by), sent_at=at)

    def receive(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Sent -> received: the recipient acknowledged receipt."""
        return self.transition_to(_S.RECEIVED, at=at, by=by)

    def accept(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Sent or received -> accepted."""
        return self.transition_to(_S.ACCEPTED, at=at, by=by)

    def decline(
        self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None
    ) -> Referral:
        """Sent or received -> declined (terminal; send a replacement referral)."""
        return self.transition_to(_S.DECLINED, at=at, by=by, reason=reason)

    def schedule(
        self, appointment: AppointmentId, *, at: dt.datetime, by: Ref | None = None
    ) -> Referral:
        """Accepted (or after a no-show / cancelled appointment) -> scheduled."""
        moved = self.transition_to(_S.SCHEDULED, at=at, by=by)
        return attrs.evolve(moved, appointments=(*self.appointments, appointment))

    def record_no_show(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Scheduled -> no-show."""
        return self.transition_to(_S.NO_SHOW, at=at, by=by)

    def record_appointment_cancelled(
        self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None
    ) -> Referral:
        """Scheduled -> appointment-cancelled (the referral itself stays open)."""
        return self.transition_to(_S.APPOINTMENT_CANCELLED, at=at, by=by, reason=reason)

    def record_seen(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Scheduled -> seen."""
        return attrs.evolve(self.transition_to(_S.SEEN, at=at, by=by), seen_at=at)

    def receive_report(
        self, *, at: dt.datetime, by: Ref | None = None, report: Ref | None = None
    ) -> Referral:
        """Seen -> report-received: the consultant's report reached the referrer."""
        moved = self.transition_to(_S.REPORT_RECEIVED, at=at, by=by)
        return attrs.evolve(moved, report_received_at=at, report=report)

    def close(self, *, at: dt.datetime, by: Ref | None = None) -> Referral:
        """Report-received -> closed: the referrer reviewed the report; the loop is closed."""
        return self.transition_to(_S.CLOSED, at=at, by=by)

    def cancel(
        self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None
    ) -> Referral:
        """Any open status -> cancelled."""
        return self.transition_to(_S.CANCELLED, at=at, by=by, reason=reason)

    def mark_entered_in_error(
        self, *, at: dt.datetime, by: Ref | None = None, reason: str | None = None
    ) -> Referral:
        """Any status (but entered-in-error) -> entered-in-error."""
        return self.transition_to(_S.ENTERED_IN_ERROR, at=at, by=by, reason=reason)

    def submit_prior_authorization(self, *, at: dt.datetime, expedited: bool = False) -> Referral:
        """Record that prior authorisation was submitted to the payer."""
        if not self.is_open:
            raise InvalidTransition(
                "Referral",
                self.status.value,
                "submit-prior-authorization",
                sorted(s.value for s in REFERRAL_TRANSITIONS[self.status]),
            )
        auth = PriorAuthorization(required=True, expedited=expedited, submitted_at=at)
        return attrs.evolve(self, prior_authorization=auth, last_modified=at)

    def decide_prior_authorization(
        self, outcome: AuthorizationOutcome, *, at: dt.datetime
    ) -> Referral:
        """Record the payer's decision on the submitted prior authorisation."""
        auth = self.prior_authorization
        if auth is None or not auth.pending:
            raise ValidationError(Problem("prior_authorization", "nothing pending to decide"))
        decided = attrs.evolve(auth, decided_at=at, outcome=outcome)
        return attrs.evolve(self, prior_authorization=decided, last_modified=at)
