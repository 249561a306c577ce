"""The coordination work done behind the scenes, so it can be shown and counted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import Enum

import attrs

from carecoord.domain._values import (
    FactId,
    PatientId,
    Ref,
    aware,
    choice,
    is_tuple,
    masked,
    non_empty,
    optional_aware,
)
from carecoord.errors import Problem, ValidationError

__all__ = ["ActivityKind", "CoordinationActivity", "minutes_by_kind"]


class ActivityKind(Enum):
    """Kinds of coordination work (the ones CCM/TCM documentation counts and more)."""

    CHART_REVIEW = "chart-review"
    RECORD_REVIEW = "record-review"
    RESULT_REVIEW = "result-review"
    PROVIDER_COMMUNICATION = "provider-communication"
    REFERRAL_COORDINATION = "referral-coordination"
    PRIOR_AUTHORIZATION = "prior-authorization"
    SCHEDULING = "scheduling"
    CARE_PLAN_UPDATE = "care-plan-update"
    PATIENT_OUTREACH = "patient-outreach"
    TRANSITION_MANAGEMENT = "transition-management"
    MEDICATION_RECONCILIATION = "medication-reconciliation"
    COMMUNITY_RESOURCE = "community-resource"
    OTHER = "other"

    @property
    def plain(self) -> str:
        """A plain-language description for the patient-facing summary."""
        return _PLAIN[self]


_PLAIN = {
    ActivityKind.CHART_REVIEW: "reviewed your chart",
    ActivityKind.RECORD_REVIEW: "reviewed records from your other providers",
    ActivityKind.RESULT_REVIEW: "reviewed your test results",
    ActivityKind.PROVIDER_COMMUNICATION: "talked with your other providers",
    ActivityKind.REFERRAL_COORDINATION: "coordinated your referrals",
    ActivityKind.PRIOR_AUTHORIZATION: "handled insurance approvals",
    ActivityKind.SCHEDULING: "arranged your appointments",
    ActivityKind.CARE_PLAN_UPDATE: "updated your care plan",
    ActivityKind.PATIENT_OUTREACH: "reached out to you",
    ActivityKind.TRANSITION_MANAGEMENT: "managed your move home from the hospital",
    ActivityKind.MEDICATION_RECONCILIATION: "checked your medication list across providers",
    ActivityKind.COMMUNITY_RESOURCE: "connected you with community services",
    ActivityKind.OTHER: "did other work on your care",
}


@attrs.frozen
class CoordinationActivity:
    """One piece of coordination work: who did what kind, when, for how many minutes."""

    id: FactId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    kind: ActivityKind = attrs.field(validator=choice(ActivityKind))
    performer: Ref
    at: dt.datetime = attrs.field(validator=aware)
    minutes: int = 0
    about: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)
    note: str | None = attrs.field(default=None, repr=masked)
    billable: bool = True
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)

    def __attrs_post_init__(self) -> None:
        if self.minutes < 0:
            raise ValidationError(Problem("minutes", "cannot be negative"))


def minutes_by_kind(
    activities: Iterable[CoordinationActivity],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[ActivityKind, int]:
    """Total minutes per kind for activities in ``[start, end)``, largest first."""
    totals: dict[ActivityKind, int] = {}
    for a in activities:
        if (start is None or a.at >= start) and (end is None or a.at < end):
            totals[a.kind] = totals.get(a.kind, 0) + a.minutes
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0].value)))
