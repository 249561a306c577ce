"""The rows of the population tables, shared by the cluster run and the one-machine run.

A gap row, a profile-membership row and a review row are plain ``dict`` values of
strings, numbers and booleans, so that they go to Parquet (or anywhere) as they are, and
so that :func:`local_tables` (one machine) and :func:`~carecoord.dask.run_population` (a
cluster) can be compared row for row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from carecoord.domain import PatientRecord
from carecoord.profile import MatchConfig, PatientProfile, PossibleMatch, build_profiles
from carecoord.rules import WORKLIST_MONTHS, Gap, RuleSet, detect_gaps

__all__ = [
    "GAP_COLUMNS",
    "MEMBER_COLUMNS",
    "REVIEW_COLUMNS",
    "gap_rows",
    "local_tables",
    "member_rows",
    "review_row",
]

GAP_COLUMNS = (
    "profile_id",
    "gap_key",
    "rule",
    "family",
    "status",
    "severity",
    "due",
    "opened",
    "closed_at",
    "late",
    "focus",
    "summary",
    "action",
    "reason",
    "snoozed_until",
    "standing",
    "sensitivity",
    "evidence",
)
"""The columns of the gap table, in order (dates and times as ISO 8601 text)."""

MEMBER_COLUMNS = ("profile_id", "source_id", "patient_id")
"""The columns of the profile table: one row per record, naming its person's profile."""

REVIEW_COLUMNS = (
    "left_source",
    "left_patient",
    "right_source",
    "right_patient",
    "grade",
    "score",
)
"""The columns of the review table: the record pairs that may be one person, not merged."""


def _text(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def gap_rows(profile: PatientProfile, gaps: Iterable[Gap]) -> list[dict[str, Any]]:
    """One row per gap of one profile, in the report's order."""
    return [
        {
            "profile_id": profile.id,
            "gap_key": gap.key,
            "rule": gap.rule,
            "family": gap.family,
            "status": str(gap.status.value),
            "severity": str(gap.severity.value),
            "due": _text(gap.due),
            "opened": _text(gap.opened),
            "closed_at": _text(gap.closed_at),
            "late": gap.late,
            "focus": gap.focus,
            "summary": gap.summary,
            "action": gap.action,
            "reason": gap.reason,
            "snoozed_until": _text(gap.snoozed_until),
            "standing": gap.standing,
            "sensitivity": ",".join(sorted(str(s.value) for s in gap.sensitivity)),
            "evidence": len(gap.evidence),
        }
        for gap in gaps
    ]


def member_rows(profile: PatientProfile) -> list[dict[str, Any]]:
    """One row per record of a profile."""
    return [
        {"profile_id": profile.id, "source_id": r.source.id, "patient_id": r.patient.id}
        for r in profile.records
    ]


def review_row(match: PossibleMatch) -> dict[str, Any]:
    """The review-table row of one possible match."""
    return {
        "left_source": match.left[0],
        "left_patient": match.left[1],
        "right_source": match.right[0],
        "right_patient": match.right[1],
        "grade": str(match.grade.value),
        "score": match.score,
    }


def local_tables(
    records: Iterable[PatientRecord],
    *,
    as_of: dt.datetime,
    rules: RuleSet | None = None,
    match: MatchConfig | None = None,
    source_ranking: Sequence[str] = (),
    look_back_months: int | None = WORKLIST_MONTHS,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The gap, profile and review tables on one machine (``build_profiles``, ``detect_gaps``).

    ``look_back_months`` is :func:`~carecoord.rules.detect_gaps`'s.

    Rows are sorted as :func:`~carecoord.dask.run_population` sorts them: gaps by profile
    id then report order, members by profile id then record key, review by keys.
    """
    profiles = build_profiles(records, match=match, source_ranking=source_ranking)
    gaps: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for profile in profiles:
        report = detect_gaps(profile, as_of=as_of, rules=rules, look_back_months=look_back_months)
        gaps.extend(gap_rows(profile, report))
        members.extend(member_rows(profile))
    review = [review_row(m) for m in profiles.review]
    return gaps, members, review
