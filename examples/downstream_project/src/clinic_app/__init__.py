"""clinic-app: the referral follow-up list of a small clinic, built on carecoord."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from carecoord import GapStatus, build_profiles, detect_gaps_population, fhir

__all__ = ["REFERRAL_RULES", "referral_follow_ups"]

REFERRAL_RULES = ("referral.unacknowledged", "referral.unscheduled", "referral.report-missing")
"""The rules the clinic's referral coordinator works from."""


def referral_follow_ups(
    bundles: Iterable[Mapping[str, Any]], *, as_of: dt.datetime
) -> list[tuple[str, str, str]]:
    """The open referral gaps in FHIR ``bundles`` at ``as_of``: (profile, rule, due) rows."""
    result = fhir.read(list(bundles))
    profiles = build_profiles(result.records)
    rows = []
    for report in detect_gaps_population(profiles, as_of=as_of):
        rows.extend(
            (gap.patient, gap.rule, str(gap.due))
            for gap in report
            if gap.rule in REFERRAL_RULES and gap.status is GapStatus.OPEN
        )
    return sorted(rows)
