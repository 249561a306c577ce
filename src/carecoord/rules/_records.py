"""Gaps as plain records: JSON-safe dicts with the :data:`GAP_COLUMNS` keys.

What :meth:`Gap.to_record <carecoord.rules.Gap.to_record>` and
:meth:`GapReport.to_records <carecoord.rules.GapReport.to_records>` return, and what
``carecoord gaps --format json`` prints (``csv`` has the same columns).
"""

from __future__ import annotations

import datetime as dt
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
    "standing",
)
"""The keys of a gap record, in order (``Gap.to_record()``; the columns of a table).

``key``, ``patient``, ``rule``, ``focus``, ``summary``, ``action``: as on
:class:`~carecoord.rules.Gap`; ``family``: the rule's family (``"custom"`` for a rule
outside the catalogue); ``status``, ``severity``: the enum values (``"open"``,
``"high"``); ``due``, ``opened``, ``closed_at``: ISO dates or date-times (``closed_at``
``None`` unless closed); ``evidence``: a list of ``{"role", "type", "id", "description"}``
(``id`` is the fact key); ``late``: a bool; ``reason``, ``snoozed_until``: ``None`` unless
set; ``sensitivity``: the sorted labels (``["mental-health"]``); ``standing``: a bool (a
state that holds at ``as_of``, shown however old its due date).
"""


def rule_families(rules: Iterable[Rule]) -> Mapping[str, str]:
    """Rule id -> family of ``rules``."""
    return {rule.id: rule.metadata.family for rule in rules}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def gap_record(gap: Gap, families: Mapping[str, str] | None = None) -> dict[str, JsonValue]:
    """``gap`` as a JSON-safe dict with the :data:`GAP_COLUMNS` keys, in that order.

    ``family`` is the gap's own (the family of the rule that found it), or, when
    ``families`` is given, the family it maps the gap's rule to (``"custom"`` when absent).
    """
    return {
        "key": gap.key,
        "patient": gap.patient,
        "rule": gap.rule,
        "family": gap.family if families is None else families.get(gap.rule, "custom"),
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
        "standing": gap.standing,
    }
