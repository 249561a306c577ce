"""What the coordinator returns: the changes one call made, skipped inputs, the retry helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import attrs

from carecoord.errors import ConflictError, UsageError
from carecoord.ports import RecordKey

__all__ = ["IngestChanges", "OnInvalid", "Skipped", "retry_on_conflict"]

T = TypeVar("T")

OnInvalid = Literal["skip", "refuse"]
"""What :meth:`Coordinator.ingest` does with an input it cannot take: skip it or refuse all."""


@attrs.frozen
class Skipped:
    """An input the coordinator did not take: its position in the input, key, and why.

    ``key`` is ``None`` when the input was not a readable record. ``reason`` never holds
    personal data: ``"older than the stored version"``, ``"erased on request"``,
    ``"invalid: <path>: <problem>"``...
    """

    index: int
    key: RecordKey | None
    reason: str


@attrs.frozen
class IngestChanges:
    """What one call changed (ids only; the details are in the store and the outbox).

    ``records_added``/``records_replaced``/``records_unchanged`` are record keys;
    ``persons_created`` new person ids; ``persons_merged`` pairs ``(alias, survivor)``;
    ``persons_changed`` every person re-linked or re-evaluated; ``gaps_opened``,
    ``gaps_closed`` and ``gaps_changed`` gap keys; ``tasks_suggested`` ids of new
    proposals and ``tasks_created`` ids of new tasks (when tasks are accepted at once);
    ``gaps_retired`` keys of gap states removed (no longer work and no human work on them,
    or their person merged into another) and ``tasks_withdrawn`` ids of proposals removed
    because their gap is no longer work, ``tasks_changed`` ids of proposals brought up to
    date (a new owner, due date or priority); ``skipped`` the inputs not taken.
    """

    records_added: tuple[RecordKey, ...] = ()
    records_replaced: tuple[RecordKey, ...] = ()
    records_unchanged: tuple[RecordKey, ...] = ()
    persons_created: tuple[str, ...] = ()
    persons_merged: tuple[tuple[str, str], ...] = ()
    persons_changed: tuple[str, ...] = ()
    gaps_opened: tuple[str, ...] = ()
    gaps_closed: tuple[str, ...] = ()
    gaps_changed: tuple[str, ...] = ()
    tasks_suggested: tuple[str, ...] = ()
    tasks_created: tuple[str, ...] = ()
    gaps_retired: tuple[str, ...] = ()
    tasks_withdrawn: tuple[str, ...] = ()
    tasks_changed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was stored (records, persons, gaps or tasks)."""
        return bool(
            self.records_added
            or self.records_replaced
            or self.persons_created
            or self.persons_merged
            or self.gaps_opened
            or self.gaps_closed
            or self.gaps_changed
            or self.tasks_suggested
            or self.tasks_created
            or self.gaps_retired
            or self.tasks_withdrawn
            or self.tasks_changed
        )

    def __add__(self, other: IngestChanges) -> IngestChanges:
        """Both calls' changes, in order (for a batch worked in several calls)."""
        if not isinstance(other, IngestChanges):
            return NotImplemented
        fields = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in attrs.fields(IngestChanges)
        }
        return IngestChanges(**fields)

    def __repr__(self) -> str:
        return f"IngestChanges({self.summary()})"

    def summary(self) -> str:
        """One line of counts, for logs and the command line (no ids)."""
        return (
            f"{len(self.records_added)} records added, {len(self.records_replaced)} replaced, "
            f"{len(self.records_unchanged)} unchanged, {len(self.skipped)} skipped; "
            f"{len(self.persons_created)} persons created, {len(self.persons_merged)} merged; "
            f"gaps: {len(self.gaps_opened)} opened, {len(self.gaps_closed)} closed, "
            f"{len(self.gaps_changed)} changed, {len(self.gaps_retired)} retired; "
            f"{len(self.tasks_suggested)} tasks suggested, {len(self.tasks_created)} created, "
            f"{len(self.tasks_changed)} updated, {len(self.tasks_withdrawn)} withdrawn"
        )


def retry_on_conflict(fn: Callable[[], T], *, attempts: int = 5) -> T:
    """Call ``fn`` and return its result, calling it again after a ``ConflictError``.

    ``fn`` must redo its reads (a new unit of work each time), so a retry sees what the
    other writer committed. After ``attempts`` calls that all conflicted, the last
    :class:`~carecoord.errors.ConflictError` is raised.
    """
    if attempts < 1:
        raise UsageError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            return fn()
        except ConflictError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
