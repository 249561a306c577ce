"""Build one :class:`PatientProfile` per person from many sources' records.

:func:`build_profiles` links the records (identity matching,
:func:`~carecoord.profile.link_records`), then merges each person's records
(:func:`~carecoord.profile.merge_records`). Records are first reduced to one per key
``(source id, patient id)``: exact duplicates collapse, and of two different versions of
one key the one with the later ``source.retrieved_at`` wins (see
:func:`~carecoord.profile.dedupe_records`). The result depends only on the set of records,
never on their order or on a record being given twice.

A profile's id is ``"<source id>/<patient id>"`` of the smallest record key of its
person (tuples compare source first, then patient id), so it is deterministic and readable.
It changes only when a record with a smaller key joins the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload

import attrs

from carecoord.domain import PatientRecord
from carecoord.errors import NotFound
from carecoord.profile._matching import IncrementalLinker, Linkage, MatchConfig, PossibleMatch
from carecoord.profile._merge import dedupe_records, merge_records, profile_id_for
from carecoord.profile._model import PatientProfile

__all__ = ["ProfileSet", "build_profiles"]

RecordKey = tuple[str, str]


class _LinkerBox:
    """Holds the incremental linker that matches one ProfileSet's records exactly.

    The linker is mutable, so it is handed on (never shared): the first :meth:`take`
    empties the box, and a later ``add`` on the same set rebuilds a linker.
    """

    def __init__(self, linker: IncrementalLinker | None) -> None:
        self.linker = linker

    def take(self) -> IncrementalLinker | None:
        linker, self.linker = self.linker, None
        return linker


def _boxed(value: _LinkerBox | None) -> _LinkerBox:
    return value if value is not None else _LinkerBox(None)


@attrs.frozen
class ProfileSet:
    """Every person's profile, built from a set of records, and the pairs to review.

    Iterating, ``len`` and ``[n]`` go through ``profiles`` (sorted by id); ``get(id)`` and
    ``[id]`` find a profile by id; :meth:`profile_of` finds a record's person. ``review``
    lists the record pairs that might be the same person but were not merged.
    :meth:`add` returns a new set with one more record, re-merging only that person.
    """

    profiles: tuple[PatientProfile, ...]
    review: tuple[PossibleMatch, ...] = ()
    source_ranking: tuple[str, ...] = ()
    match: MatchConfig | None = None
    _by_id: Mapping[str, PatientProfile] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    _by_record: Mapping[RecordKey, PatientProfile] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    _box: _LinkerBox = attrs.field(default=None, eq=False, repr=False, converter=_boxed)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.profiles})
        object.__setattr__(self, "_by_record", {r.key: p for p in self.profiles for r in p.records})

    def __iter__(self) -> Iterator[PatientProfile]:
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)

    @overload
    def __getitem__(self, index: int) -> PatientProfile: ...
    @overload
    def __getitem__(self, index: str) -> PatientProfile: ...
    def __getitem__(self, index: int | str) -> PatientProfile:
        if isinstance(index, str):
            profile = self._by_id.get(index)
            if profile is None:
                raise NotFound("no profile with that id")
            return profile
        return self.profiles[index]

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._by_id

    def get(self, profile_id: str, default: PatientProfile | None = None) -> PatientProfile | None:
        """The profile with id ``profile_id``, or ``default``."""
        return self._by_id.get(profile_id, default)

    def profile_of(self, record_key: RecordKey) -> PatientProfile:
        """The profile holding the record with key ``(source id, patient id)``.

        Raises:
            NotFound: if no record has that key.

        """
        profile = self._by_record.get(record_key)
        if profile is None:
            raise NotFound("no record with that key")
        return profile

    @property
    def records(self) -> tuple[PatientRecord, ...]:
        """Every record kept (one per key), sorted by key."""
        return tuple(sorted((r for p in self.profiles for r in p.records), key=lambda r: r.key))

    def add(self, record: PatientRecord) -> ProfileSet:
        """A new set with ``record`` added; this set is left unchanged.

        Only the person ``record`` joins (and any people it links together) is re-merged;
        every other profile is the same object as before. A record already present returns
        this set; a different version of a present key replaces it only when its
        ``source.retrieved_at`` is later (and then the people are re-linked from scratch).
        """
        current = self._by_record.get(record.key)
        old = None
        if current is not None:
            old = next(r for r in current.records if r.key == record.key)
            if old == record or dedupe_records([old, record])[0] is old:
                return self
        records = {r.key: r for p in self.profiles for r in p.records}
        records[record.key] = record
        linker = self._box.take()
        if linker is None or old is not None:
            linker = IncrementalLinker(self.match, records.values())
        else:
            linker.add(record)
        return _assemble(linker, records, self, self.source_ranking, self.match)


def _assemble(
    linker: IncrementalLinker,
    records: Mapping[RecordKey, PatientRecord],
    previous: ProfileSet | None,
    source_ranking: tuple[str, ...],
    match: MatchConfig | None,
) -> ProfileSet:
    linkage: Linkage = linker.linkage()
    known: dict[RecordKey, PatientRecord] = {}
    reuse: dict[tuple[RecordKey, ...], PatientProfile] = {}
    if previous is not None:
        for profile in previous.profiles:
            keys = tuple(r.key for r in profile.records)
            reuse[keys] = profile
            known.update((r.key, r) for r in profile.records)
    profiles = []
    for cluster in linkage.clusters:
        old = reuse.get(cluster)
        if old is not None and all(known.get(k) is records[k] for k in cluster):
            profiles.append(old)
            continue
        profiles.append(
            merge_records(
                [records[k] for k in cluster],
                profile_id=profile_id_for(cluster),
                source_ranking=source_ranking,
            )
        )
    profiles.sort(key=lambda p: p.id)
    return ProfileSet(
        profiles=tuple(profiles),
        review=linkage.review,
        source_ranking=source_ranking,
        match=match,
        box=_LinkerBox(linker),
    )


def build_profiles(
    records: Iterable[PatientRecord],
    *,
    match: MatchConfig | None = None,
    source_ranking: Sequence[str] = (),
) -> ProfileSet:
    """One profile per person found in ``records``, and the record pairs to review.

    ``match`` configures identity matching (defaults: ``MatchConfig()``);
    ``source_ranking`` lists source ids from most to least trusted, for survivorship
    (unlisted sources come after, by most recent change then source id).
    """
    unique = {r.key: r for r in dedupe_records(records)}
    linker = IncrementalLinker(match, unique.values())
    return _assemble(linker, unique, None, tuple(source_ranking), match)
