"""Shared machinery for lifecycles: status history entries and transition tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import attrs

from carecoord.domain._values import Ref, aware, before, masked
from carecoord.errors import InvalidTransition

__all__ = ["StatusChange", "check_transition", "replay_status"]

S = TypeVar("S", bound=Enum)


@attrs.frozen
class StatusChange:
    """One entry in a lifecycle's history: from which status to which, when, by whom, why.

    ``reason`` is free text and is masked in ``repr``.
    """

    from_status: str | None
    to_status: str
    at: dt.datetime = attrs.field(validator=aware)
    by: Ref | None = None
    reason: str | None = attrs.field(default=None, repr=masked)


def check_transition(
    kind: str,
    table: Mapping[S, frozenset[S]],
    current: S,
    requested: S,
) -> None:
    """Raise :class:`InvalidTransition` unless ``table`` allows ``current`` -> ``requested``."""
    allowed = table[current]
    if requested not in allowed:
        raise InvalidTransition(
            kind,
            str(current.value),
            str(requested.value),
            sorted(str(s.value) for s in allowed),
        )


def replay_status(history: tuple[StatusChange, ...], at: dt.datetime) -> str | None:
    """The status a lifecycle's ``history`` shows at ``at``; ``None`` without a history.

    The one replay both the domain (``Referral.status_at``, ``Task.status_at``) and the
    rules' as-of view use. Changes at or before ``at`` apply in order (instants compare
    across time zones and daylight-saving folds). Before the first change the object is in
    that change's ``from_status``, or, for a creation entry (no ``from_status``), in the
    status it was created in.
    """
    if not history:
        return None
    first = history[0]
    status = first.from_status or first.to_status
    for change in history:
        if before(at, change.at):
            break
        status = change.to_status
    return status
