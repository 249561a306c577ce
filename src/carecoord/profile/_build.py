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

import bisect
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

from carecoord.collector import gc_paused
from carecoord.display import HtmlDisplay, JsonValue, to_pandas, to_polars
from carecoord.domain import FACT_FIELDS, PatientRecord
from carecoord.errors import NotFound, UsageError
from carecoord.profile._html import profile_set_html
from carecoord.profile._matching import IncrementalLinker, Linkage, MatchConfig, PossibleMatch
from carecoord.profile._merge import dedupe_records, merge_records, profile_id_for
from carecoord.profile._model import PatientProfile

__all__ = ["PERSONAL_COLUMNS", "PROFILE_COLUMNS", "ProfileSet", "build_profiles", "profile_row"]

PROFILE_COLUMNS: tuple[str, ...] = (
    "profile",
    "sources",
    "records",
    "sex",
    "deceased",
    "facts",
    "conflicts",
    "possible_matches",
    *FACT_FIELDS,
)
"""The keys of a profile-set row (:meth:`ProfileSet.to_records`), in order.

``profile``: the profile id; ``sources``: the source ids (a list); ``records``: how many
records were merged; ``sex``: the :class:`~carecoord.domain.Sex` value; ``deceased``: a
bool; ``facts``: how many facts in all; ``conflicts``: disagreements between sources;
``possible_matches``: pairs to review that involve one of the person's records; then one
count per fact list (``encounters``, ``results``...).
"""

PERSONAL_COLUMNS: tuple[str, ...] = ("name", "birth_date")
"""Added after :data:`PROFILE_COLUMNS` with ``show_personal_data=True``: every name the
sources use (``" / "``-joined) and the birth date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""


def _columns(show_personal_data: bool) -> tuple[str, ...]:
    return PROFILE_COLUMNS + (PERSONAL_COLUMNS if show_personal_data else ())


def profile_row(
    profile: PatientProfile, possible_matches: int = 0, show_personal_data: bool = False
) -> dict[str, JsonValue]:
    """One profile as a JSON-safe row with the :data:`PROFILE_COLUMNS` keys."""
    patient = profile.patient
    row: dict[str, JsonValue] = {
        "profile": profile.id,
        "sources": list(profile.sources),
        "records": len(profile.records),
        "sex": patient.sex.value,
        "deceased": bool(patient.deceased),
        "facts": profile.fact_count(),
        "conflicts": len(profile.conflicts),
        "possible_matches": possible_matches,
    }
    for name in FACT_FIELDS:
        row[name] = len(getattr(profile, name))
    if show_personal_data:
        names = dict.fromkeys(n.full() for n in patient.names if n.full())
        row["name"] = " / ".join(names) or None
        row["birth_date"] = None if patient.birth_date is None else patient.birth_date.isoformat()
    return row


RecordKey = tuple[str, str]
_Indexes = tuple[dict[str, PatientProfile], dict[RecordKey, PatientProfile], tuple[str, ...]]


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


@attrs.frozen(repr=False)
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
    _indexes: _Indexes | None = attrs.field(default=None, eq=False, repr=False)
    _ids: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False, factory=tuple)

    def __attrs_post_init__(self) -> None:
        if self._indexes is not None:
            by_id, by_record, ids = self._indexes
            object.__setattr__(self, "_indexes", None)
        else:
            by_id = {p.id: p for p in self.profiles}
            by_record = {r.key: p for p in self.profiles for r in p.records}
            ids = tuple(p.id for p in self.profiles)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_record", by_record)
        object.__setattr__(self, "_ids", ids)

    def __repr__(self) -> str:
        records = sum(len(p.records) for p in self.profiles)
        return (
            f"ProfileSet({len(self.profiles)} persons, {records} records, "
            f"{len(self.review)} possible matches)"
        )

    def display(self, *, show_personal_data: bool = False, limit: int = 25) -> HtmlDisplay:
        """The set as HTML for notebooks: counts, the first ``limit`` persons, the matches.

        Names and birth dates are masked unless ``show_personal_data`` is true.
        """
        return profile_set_html(self, show_personal_data=show_personal_data, limit=limit)

    def _repr_html_(self) -> str:
        return profile_set_html(self).html

    def to_records(self, *, show_personal_data: bool = False) -> list[dict[str, JsonValue]]:
        """One JSON-safe row per person, with the :data:`PROFILE_COLUMNS` keys.

        With ``show_personal_data`` each row also has ``name`` and ``birth_date``
        (:data:`PERSONAL_COLUMNS`).
        """
        review: dict[str, int] = {}
        for match in self.review:
            for key in {match.left, match.right}:
                owner = self._by_record.get(key)
                if owner is not None:
                    review[owner.id] = review.get(owner.id, 0) + 1
        return [profile_row(p, review.get(p.id, 0), show_personal_data) for p in self.profiles]

    def to_pandas(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a pandas ``DataFrame`` (needs ``carecoord[pandas]``)."""
        rows = self.to_records(show_personal_data=show_personal_data)
        return to_pandas(rows, _columns(show_personal_data))

    def to_polars(self, *, show_personal_data: bool = False) -> Any:
        """:meth:`to_records` as a polars ``DataFrame`` (needs ``carecoord[polars]``)."""
        rows = self.to_records(show_personal_data=show_personal_data)
        return to_polars(rows, _columns(show_personal_data))

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
        linker = self._box.take()
        if linker is None or old is not None:
            records = {r.key: r for p in self.profiles for r in p.records}
            records[record.key] = record
            linker = IncrementalLinker(self.match, records.values())
            return _assemble(linker, records, self, self.source_ranking, self.match)
        return self._add_incrementally(linker, record)

    def relink(self) -> ProfileSet:
        """A new set linked from scratch: what :func:`build_profiles` gives on its records.

        :meth:`add` scores the new record's pairs with the term frequencies of the records
        present at that moment (see :class:`MatchConfig`) and leaves older pairs as they
        were scored, so after many additions the set can differ from a batch build on the
        same records. ``relink`` reconciles: it recomputes the frequencies, re-scores every
        pair and re-clusters. Profiles whose records did not change are reused (the same
        objects). Its cost is that of a batch build.
        """
        records = {r.key: r for p in self.profiles for r in p.records}
        with gc_paused():
            linker = IncrementalLinker(self.match, records.values())
            return _assemble(linker, records, self, self.source_ranking, self.match)

    def _add_incrementally(self, linker: IncrementalLinker, record: PatientRecord) -> ProfileSet:
        """Re-link and re-merge only the people ``record`` touches (cost ~ their size)."""
        changed = linker.add(record)
        changed_keys = {key for cluster in changed for key in cluster}
        before = {
            self._by_record[key].id: self._by_record[key]
            for key in changed_keys
            if key in self._by_record
        }
        lookup = {r.key: r for profile in before.values() for r in profile.records}
        lookup[record.key] = record
        by_id = dict(self._by_id)
        by_record = dict(self._by_record)
        for profile_id in before:
            del by_id[profile_id]
        fresh: list[PatientProfile] = []
        for cluster in changed:
            reused = next(
                (
                    p
                    for p in before.values()
                    if tuple(r.key for r in p.records) == cluster
                    and all(lookup[r.key] is r for r in p.records)
                ),
                None,
            )
            profile = reused or merge_records(
                [lookup[key] for key in cluster],
                profile_id=profile_id_for(cluster),
                source_ranking=self.source_ranking,
            )
            fresh.append(profile)
            by_id[profile.id] = profile
            by_record.update((key, profile) for key in cluster)
        ids = list(self._ids)
        profiles = list(self.profiles)
        for profile_id in sorted(before, reverse=True):
            index = bisect.bisect_left(ids, profile_id)
            del ids[index], profiles[index]
        for profile in fresh:
            index = bisect.bisect_left(ids, profile.id)
            ids.insert(index, profile.id)
            profiles.insert(index, profile)
        review = [
            m for m in self.review if m.left not in changed_keys and m.right not in changed_keys
        ]
        review.extend(linker.review_involving(changed_keys))
        review.sort(key=lambda match: (match.left, match.right))
        return ProfileSet(
            profiles=tuple(profiles),
            review=tuple(review),
            source_ranking=self.source_ranking,
            match=self.match,
            box=_LinkerBox(linker),
            indexes=(by_id, by_record, tuple(ids)),
        )


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


def _checked_records(records: object) -> list[PatientRecord]:
    """``records`` as a list, after checking that each is a :class:`PatientRecord`."""
    if isinstance(records, str | bytes) or not isinstance(records, Iterable):
        msg = f"records must be an iterable of PatientRecord, not {type(records).__name__}"
        raise UsageError(msg)
    found = list(records)
    for index, record in enumerate(found):
        if not isinstance(record, PatientRecord):
            msg = f"records[{index}] is a {type(record).__name__}, not a PatientRecord"
            raise UsageError(msg)
    return found


def build_profiles(
    records: Iterable[PatientRecord],
    *,
    match: MatchConfig | None = None,
    source_ranking: Sequence[str] = (),
    workers: int | None = None,
) -> ProfileSet:
    """One profile per person found in ``records``, and the record pairs to review.

    ``match`` configures identity matching (defaults: ``MatchConfig()``);
    ``source_ranking`` lists source ids from most to least trusted, for survivorship
    (unlisted sources come after, by most recent change then source id).
    ``workers`` is the number of processes that score candidate pairs; the default
    (``None``) uses every CPU this process may run on for populations of at least
    :data:`~carecoord.profile.PARALLEL_MIN_RECORDS` records (and one process below,
    where processes cannot be forked, or where the memory available cannot hold a
    forked copy of the linker; fewer where it holds fewer). The result does not depend
    on it.

    Raises:
        UsageError: ``records`` is not an iterable of
            :class:`~carecoord.domain.PatientRecord`, ``match`` not a
            :class:`MatchConfig`, or ``source_ranking`` not a sequence of strings.
    """
    records = _checked_records(records)
    ranking: object = source_ranking
    if isinstance(ranking, str) or not isinstance(ranking, Iterable):
        msg = f"source_ranking must be a sequence of source ids, not {type(ranking).__name__}"
        raise UsageError(msg)
    source_ranking = tuple(ranking)
    if not all(isinstance(source, str) for source in source_ranking):
        msg = "source_ranking must hold source ids (str) only"
        raise UsageError(msg)
    config: object = match
    if config is not None and not isinstance(config, MatchConfig):
        msg = f"match must be a MatchConfig, not {type(config).__name__}"
        raise UsageError(msg)
    if workers is None:
        workers = _available_cpus()
    count: object = workers
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        msg = "workers must be a positive integer or None"
        raise UsageError(msg)
    with gc_paused():
        unique = {r.key: r for r in dedupe_records(records)}
        linker = IncrementalLinker(match, unique.values(), workers=workers)
        return _assemble(linker, unique, None, tuple(source_ranking), match)


def _available_cpus() -> int:
    """The CPUs this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)
