"""Gaps as plain records: JSON-safe dicts with the :data:`GAP_COLUMNS` keys.

What :meth:`Gap.to_record <carecoord.rules.Gap.to_record>` and
:meth:`GapReport.to_records <carecoord.rules.GapReport.to_records>` return, and what
``carecoord gaps --format json`` prints (``csv`` has the same columns).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from carecoord.profile import JsonValue

if TYPE_CHECKING:
    from carecoord.rules._base import Rule
    from carecoord.rules._model import Gap

__all__ = ["GAP_COLUMNS", "gap_record", "rule_families"]

GAP_COLUMNS: tuple[str, ...] = (
    "key",
    "patient",
    "rule",
    "family",
    "status",
    "severity",
    "due",
    "opened",
    "focus",
    "summary",
    "action",
    "evidence",
    "closed_at",
    "late",
    "reason",
    "snoozed_until",
    "sensitivity",
)
"""The keys of a gap record, in order (``Gap.to_record()``; the columns of a table).

``key``, ``patient``, ``rule``, ``focus``, ``summary``, ``action``: as on
:class:`~carecoord.rules.Gap`; ``family``: the rule's family (``"custom"`` for a rule
outside the catalogue); ``status``, ``severity``: the enum values (``"open"``,
``"high"``); ``due``, ``opened``, ``closed_at``: ISO dates or date-times (``closed_at``
``None`` unless closed); ``evidence``: a list of ``{"role", "type", "id", "description"}``
(``id`` is the fact key); ``late``: a bool; ``reason``, ``snoozed_until``: ``None`` unless
set; ``sensitivity``: the sorted labels (``["mental-health"]``).
"""


@functools.cache
def _catalogue_families() -> Mapping[str, str]:
    from carecoord.rules._catalogue import default_rules  # noqa: PLC0415 (import cycle)

    return {rule.id: rule.metadata.family for rule in default_rules()}


def rule_families(rules: Iterable[Rule] | None = None) -> Mapping[str, str]:
    """Rule id -> family of ``rules`` (default: the catalogue, :func:`default_rules`)."""
    if rules is None:
        return _catalogue_families()
    return {rule.id: rule.metadata.family for rule in rules}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def gap_record(gap: Gap, families: Mapping[str, str]) -> dict[str, JsonValue]:
    """``gap`` as a JSON-safe dict with the :data:`GAP_COLUMNS` keys, in that order."""
    return {
        "key": gap.key,
        "patient": gap.patient,
        "rule": gap.rule,
        "family": families.get(gap.rule, "custom"),
        "status": gap.status.value,
        "severity": gap.severity.value,
        "due": _iso(gap.due),
        "opened": _iso(gap.opened),
        "focus": gap.focus,
        "summary": gap.summary,
        "action": gap.action,
        "evidence": [
            {
                "role": e.role.value,
                "type": e.ref.type,
                "id": e.ref.id,
                "description": e.description,
            }
            for e in gap.evidence
        ],
        "closed_at": _iso(gap.closed_at),
        "late": gap.late,
        "reason": gap.reason,
        "snoozed_until": _iso(gap.snoozed_until),
        "sensitivity": [s.value for s in sorted(gap.sensitivity, key=lambda s: s.value)],
    }
