"""Indexes over a profile's facts, built once per evaluation and searched with ``bisect``.

Rules ask "the first visit on or after this day", "the first stay admitted after this
instant", "the earliest reconciliation from this day on" once per trigger. Scanning every
fact each time makes a profile's evaluation quadratic in its size; these indexes sort the
facts once (:meth:`RuleContext.cached` shares them between the rules of one evaluation)
and answer each question in logarithmic time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from carecoord.profile import Fact

__all__ = ["Ranked", "Timeline"]

T = TypeVar("T")
K = TypeVar("K", dt.date, dt.datetime)


class Timeline(Generic[T]):
    """Facts in time order (by instant, then key), each with the local day of its instant.

    ``entries`` are ``(instant, fact)`` pairs; ``local_date`` gives an instant's local
    calendar day (worked out on the first lookup by day). Facts of equal instant and key
    keep their order in ``entries``.

    Local days almost always grow with the instant; in a zone that once moved its clocks
    back across midnight they may not, and lookups by day then check every fact (the same
    answers, just slower).
    """

    __slots__ = ("_days", "_local_date", "_monotone", "facts", "instants")

    def __init__(
        self,
        entries: Iterable[tuple[dt.datetime, Fact[T]]],
        local_date: Callable[[dt.datetime], dt.date],
    ) -> None:
        ordered = sorted(entries, key=lambda e: (e[0], e[1].key))
        self.facts: list[Fact[T]] = [fact for _, fact in ordered]
        self.instants: list[dt.datetime] = [instant for instant, _ in ordered]
        self._local_date = local_date
        self._days: list[dt.date] | None = None
        self._monotone = True

    def __len__(self) -> int:
        return len(self.facts)

    def __iter__(self) -> Iterator[Fact[T]]:
        return iter(self.facts)

    @property
    def days(self) -> list[dt.date]:
        """The local day of each fact, in the same order."""
        if self._days is None:
            self._days = [self._local_date(instant) for instant in self.instants]
            self._monotone = all(a <= b for a, b in itertools.pairwise(self._days))
        return self._days

    def where(self, keep: Callable[[T], bool]) -> Timeline[T]:
        """The facts whose value passes ``keep``, in the same order."""
        kept = [(i, f) for i, f in zip(self.instants, self.facts, strict=True) if keep(f.value)]
        return Timeline(kept, self._local_date)

    def from_day(self, day: dt.date) -> Iterator[Fact[T]]:
        """The facts on or after local ``day``, in time order."""
        facts, days = self.facts, self.days
        start = bisect_left(days, day) if self._monotone else 0
        return (facts[n] for n in range(start, len(days)) if days[n] >= day)

    def first_from(self, day: dt.date) -> Fact[T] | None:
        """The first fact on or after local ``day``."""
        return next(self.from_day(day), None)

    def from_instant(self, instant: dt.datetime, day: dt.date | None = None) -> Iterator[Fact[T]]:
        """The facts at or after ``instant`` (and on or after local ``day``), in time order."""
        facts = self.facts
        start = bisect_left(self.instants, instant)
        if day is None:
            return (facts[n] for n in range(start, len(facts)))
        days = self.days
        return (facts[n] for n in range(start, len(facts)) if days[n] >= day)

    def between(self, after: dt.datetime, through: dt.date) -> Iterator[Fact[T]]:
        """The facts strictly after ``after`` whose local day is on or before ``through``."""
        days = self.days
        for n in range(bisect_right(self.instants, after), len(days)):
            if days[n] <= through:
                yield self.facts[n]
            elif self._monotone:
                return


class Ranked(Generic[K, T]):
    """Facts placed on a time line (a local day or an instant each) and ranked.

    Answers "the best fact from this point on": ``entries`` are ``(point, fact)`` pairs,
    ``rank`` orders them (smaller is better; by default the point, then the key), and of
    equally ranked entries the first given wins. Lookups are a binary search into the
    best two entries of every suffix, worked out once from the latest point back (the
    second serves when the caller must skip one fact, such as the trigger itself).
    """

    __slots__ = ("_best", "_points")

    def __init__(
        self,
        entries: Iterable[tuple[K, Fact[T]]],
        rank: Callable[[K, Fact[T]], Any] = lambda point, fact: (point, fact.key),
    ) -> None:
        ordered: list[tuple[int, tuple[K, Fact[T]]]] = sorted(
            enumerate(entries), key=lambda e: (e[1][0], e[0])
        )
        self._points: list[K] = [point for _, (point, _) in ordered]
        # entries compare by (rank, place given); for every suffix, its best two entries
        self._best: list[tuple[tuple[K, Fact[T]], tuple[K, Fact[T]] | None]] = []
        top: list[tuple[Any, int, tuple[K, Fact[T]]]] = []
        for n, entry in reversed(ordered):
            candidate: tuple[Any, int, tuple[K, Fact[T]]] = (rank(*entry), n, entry)
            top.append(candidate)
            top.sort(key=lambda r: (r[0], r[1]))
            del top[2:]
            self._best.append((top[0][2], top[1][2] if len(top) > 1 else None))
        self._best.reverse()

    def _at(self, n: int, skip: Fact[T] | None) -> tuple[K, Fact[T]] | None:
        if n == len(self._best):
            return None
        first, second = self._best[n]
        return second if skip is not None and first[1] is skip else first

    def first_from(self, point: K, *, skip: Fact[T] | None = None) -> tuple[K, Fact[T]] | None:
        """The best ``(point, fact)`` at or after ``point`` (other than ``skip``)."""
        return self._at(bisect_left(self._points, point), skip)

    def first_after(self, point: K, *, skip: Fact[T] | None = None) -> tuple[K, Fact[T]] | None:
        """The best ``(point, fact)`` strictly after ``point`` (other than ``skip``)."""
        return self._at(bisect_right(self._points, point), skip)
