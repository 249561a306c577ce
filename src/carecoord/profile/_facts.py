"""The building blocks of a unified profile: facts with provenance, and conflicts."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Generic, TypeVar

import attrs

from carecoord.domain import Ref, masked, optional_aware

__all__ = ["ConflictKind", "Fact", "FactConflict", "Provenance", "fact_author"]

T = TypeVar("T")


@attrs.frozen(order=True)
class Provenance:
    """Where one version of a fact came from: source, the source's ids, author, last change."""

    source: str
    record: str
    fact_id: str
    author: Ref | None = attrs.field(default=None, order=False)
    last_modified: dt.datetime | None = attrs.field(
        default=None, validator=optional_aware, order=False
    )


@attrs.frozen
class Fact(Generic[T]):
    """A fact in the unified profile, folded from one or more sources.

    ``value`` is the representative version (from the highest-ranked source);
    ``variants`` holds every source's version, in the same order as ``provenance``.
    """

    value: T
    provenance: tuple[Provenance, ...]
    variants: tuple[T, ...]

    @property
    def key(self) -> str:
        """A stable id within the profile: ``"<source>/<fact id>"`` of the first source."""
        first = self.provenance[0]
        return f"{first.source}/{first.fact_id}"

    @property
    def sources(self) -> tuple[str, ...]:
        """The ids of the sources that state this fact."""
        return tuple(dict.fromkeys(p.source for p in self.provenance))

    @property
    def last_modified(self) -> dt.datetime | None:
        """The most recent change across sources, when any source says."""
        stamps = [p.last_modified for p in self.provenance if p.last_modified is not None]
        return max(stamps, default=None)


class ConflictKind(Enum):
    """What disagrees between sources."""

    DEMOGRAPHIC = "demographic"
    MEDICATION_OMISSION = "medication-omission"
    MEDICATION_DOSE = "medication-dose"
    MEDICATION_FREQUENCY = "medication-frequency"
    MEDICATION_ROUTE = "medication-route"
    MEDICATION_STATUS = "medication-status"
    ALLERGY_VS_NKA = "allergy-vs-no-known-allergies"
    PROBLEM_STATUS = "problem-status"


@attrs.frozen
class FactConflict:
    """A disagreement between sources, reported and never silently resolved.

    ``field`` names what disagrees (``"birth_date"``, ``"dose"``...); ``values`` maps each
    source id to its (masked in ``repr``) value; ``chosen`` is the source whose value the
    profile shows (survivorship), or ``None`` when none was chosen.
    """

    kind: ConflictKind
    field: str
    values: tuple[tuple[str, str], ...] = attrs.field(repr=masked)
    chosen: str | None = None
    subject: str | None = None


def fact_author(fact: object) -> Ref | None:
    """Who authored a fact: ``author``, else the performer, requester or prescriber."""
    for name in ("author", "performer", "requester", "prescriber", "sender"):
        value = getattr(fact, name, None)
        if isinstance(value, Ref):
            return value
    return None
