"""Tests for build_profiles and ProfileSet: linking, ids, lookups, incremental adds."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    Code,
    HumanName,
    Identifier,
    PartialDate,
    Patient,
    PatientRecord,
    Quantity,
    System,
)
from carecoord.errors import NotFound, UsageError
from carecoord.profile._build import ProfileSet, build_profiles
from carecoord.profile._matching import link_records
from carecoord.testing import (
    days_before,
    make_allergy,
    make_condition,
    make_medication,
    make_patient,
    make_record,
    make_result,
    make_source,
)


def record(
    source: str,
    patient_id: str = "patient-1",
    *,
    patient: Patient | None = None,
    retrieved_at: dt.datetime | None = None,
    **facts: Any,
) -> PatientRecord:
    """A record from ``source`` whose facts all name ``patient_id``."""
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    return make_record(
        source=make_source(id=source, retrieved_at=retrieved_at),
        patient=patient if patient is not None else make_patient(id=patient_id),
        **facts,
    )


def stranger(source: str, patient_id: str) -> PatientRecord:
    """A record of someone else entirely (other MRN, name, birth date, phone, address)."""
    person = make_patient(
        id=patient_id,
        identifiers=(Identifier("urn:example:mrn", f"MRN-{patient_id}"),),
        names=(HumanName(family="Otherperson", given=("Robin",)),),
        birth_date=PartialDate(1990, 7, 3),
        telecom=(),
        addresses=(),
    )
    return record(source, patient_id, patient=person, conditions=(make_condition(),))


def population() -> list[PatientRecord]:
    """Two people: one known to three sources, one known to one."""
    return [
        record("clinic", medications=(make_medication(),), conditions=(make_condition(),)),
        record(
            "hospital",
            "h-7",
            patient=make_patient(id="h-7"),
            medications=(make_medication(id="m9", dose=Quantity(20, "mg")),),
            allergies=(make_allergy(),),
        ),
        record("lab", "l-3", patient=make_patient(id="l-3"), results=(make_result(),)),
        stranger("clinic", "patient-2"),
    ]


class TestBuildProfiles:
    """build_profiles links records into people and merges each person."""

    def test_one_profile_per_person(self) -> None:
        """Records sharing an identifier become one profile; others stay apart."""
        profiles = build_profiles(population())
        assert len(profiles) == 2
        assert [len(p.records) for p in profiles] == [3, 1]

    def test_profiles_are_sorted_by_id(self) -> None:
        """Profiles are ordered by their id."""
        ids = [p.id for p in build_profiles(population())]
        assert ids == sorted(ids) == ["clinic/patient-1", "clinic/patient-2"]

    def test_profile_id_is_the_smallest_record_key(self) -> None:
        """The profile id is "<source>/<patient id>" of the smallest key of the person."""
        profiles = build_profiles(population()[1:3])
        assert profiles[0].id == "hospital/h-7"

    def test_source_ranking_drives_survivorship(self) -> None:
        """The ranking passed in decides which source gives a fact's value."""
        profiles = build_profiles(population(), source_ranking=["hospital"])
        assert profiles[0].medications[0].value.dose == Quantity(20, "mg")

    def test_review_comes_from_identity_matching(self) -> None:
        """The review list is the matcher's list of unmerged possible matches."""
        records = population()
        assert build_profiles(records).review == link_records(records).review

    def test_empty_input(self) -> None:
        """No records give an empty set."""
        assert len(build_profiles([])) == 0

    def test_exact_duplicates_collapse(self) -> None:
        """The same record given twice is one record of the profile."""
        one = record("clinic")
        assert build_profiles([one, one])[0].records == (one,)

    def test_later_version_of_a_key_wins(self) -> None:
        """Of two versions of one key, the one retrieved later is kept."""
        old = record("clinic", retrieved_at=days_before(3), conditions=(make_condition(),))
        new = record("clinic", retrieved_at=days_before(1))
        assert build_profiles([new, old])[0].records == (new,)


class TestLookups:
    """A ProfileSet is iterable, sized and indexable by position or id."""

    def test_get_by_id(self) -> None:
        """``get`` finds a profile by id and returns the default otherwise."""
        profiles = build_profiles(population())
        assert profiles.get("clinic/patient-2") is profiles[1]
        assert profiles.get("nobody") is None

    def test_index_by_id(self) -> None:
        """``[id]`` finds a profile, and raises NotFound for an unknown id."""
        profiles = build_profiles(population())
        assert profiles["clinic/patient-1"] is profiles[0]
        with pytest.raises(NotFound):
            profiles["nobody"]

    def test_contains_ids(self) -> None:
        """``in`` tests profile ids."""
        assert "clinic/patient-1" in build_profiles(population())

    def test_profile_of_record_key(self) -> None:
        """``profile_of`` gives the person a record belongs to."""
        profiles = build_profiles(population())
        assert profiles.profile_of(("lab", "l-3")).id == "clinic/patient-1"

    def test_profile_of_unknown_key(self) -> None:
        """An unknown record key raises NotFound without echoing it."""
        with pytest.raises(NotFound) as caught:
            build_profiles(population()).profile_of(("lab", "secret-id"))
        assert "secret-id" not in str(caught.value)

    def test_records(self) -> None:
        """``records`` lists every kept record, sorted by key."""
        keys = [r.key for r in build_profiles(population()).records]
        assert keys == sorted(keys)
        assert len(keys) == 4


class TestAdd:
    """Adding a record re-merges only the person it joins."""

    def test_add_equals_a_full_build(self) -> None:
        """Adding records one by one gives the same set as building them at once."""
        records = population()
        profiles = build_profiles(records[:1])
        for one in records[1:]:
            profiles = profiles.add(one)
        assert profiles == build_profiles(records)

    def test_unchanged_profiles_are_kept(self) -> None:
        """Profiles the new record does not touch are the same objects."""
        before = build_profiles(population())
        after = before.add(record("pharmacy", "rx-1", patient=make_patient(id="rx-1")))
        assert after["clinic/patient-2"] is before["clinic/patient-2"]
        assert after["clinic/patient-1"] is not before["clinic/patient-1"]
        assert len(after["clinic/patient-1"].records) == 4

    def test_the_original_set_is_unchanged(self) -> None:
        """``add`` returns a new set and leaves the old one as it was."""
        before = build_profiles(population())
        snapshot = attrs.evolve(before)
        before.add(stranger("pharmacy", "rx-9"))
        assert before == snapshot
        assert len(before) == 2

    def test_adding_twice_to_one_set(self) -> None:
        """Two different adds to the same set are independent."""
        base = build_profiles(population())
        first = base.add(stranger("pharmacy", "rx-9"))
        second = base.add(stranger("pharmacy", "rx-8"))
        assert "pharmacy/rx-9" in first
        assert "pharmacy/rx-9" not in second
        assert second == build_profiles([*population(), stranger("pharmacy", "rx-8")])

    def test_record_joining_a_person_out_of_key_order(self) -> None:
        """A record matched by evidence alone joins a person whose records came unsorted."""
        records = _sources()
        by_key = {r.key: r for r in records}
        order = [("lab", "l-3"), ("clinic", "patient-1"), ("hospital", "h-7"), ("hospital", "h-8")]
        profiles = ProfileSet(profiles=())
        for key in order:
            profiles = profiles.add(by_key[key])
        assert profiles == build_profiles([by_key[k] for k in order])

    def test_new_person(self) -> None:
        """A record of a new person adds a profile."""
        after = build_profiles(population()).add(stranger("pharmacy", "rx-9"))
        assert [p.id for p in after] == ["clinic/patient-1", "clinic/patient-2", "pharmacy/rx-9"]

    def test_present_record_returns_the_same_set(self) -> None:
        """Adding a record that is already there changes nothing."""
        profiles = build_profiles(population())
        assert profiles.add(population()[0]) is profiles

    def test_older_version_is_ignored(self) -> None:
        """A version retrieved earlier than the kept one is ignored."""
        current = record("clinic", retrieved_at=days_before(1))
        profiles = build_profiles([current])
        older = record("clinic", retrieved_at=days_before(5), conditions=(make_condition(),))
        assert profiles.add(older) is profiles

    def test_newer_version_replaces(self) -> None:
        """A version retrieved later replaces the kept one."""
        profiles = build_profiles([record("clinic", retrieved_at=days_before(5))])
        newer = record("clinic", retrieved_at=days_before(1), conditions=(make_condition(),))
        after = profiles.add(newer)
        assert after[0].records == (newer,)
        assert len(after[0].conditions) == 1


def _sources() -> list[PatientRecord]:
    """A small population from three sources with overlapping facts."""
    other_drug = Code(System.RXNORM, "6809", "metformin")
    return [
        *population(),
        record(
            "pharmacy",
            "rx-1",
            patient=make_patient(id="rx-1"),
            medications=(make_medication(id="p1", frequency="BID"),),
        ),
        record(
            "hospital",
            "h-8",
            patient=make_patient(
                id="h-8", identifiers=(Identifier("urn:example:hospital", "H-8"),)
            ),
            medications=(make_medication(id="m1", code=other_drug, ingredients=(other_drug,)),),
        ),
        stranger("lab", "l-9"),
    ]


class TestProperties:
    """The result depends only on the set of records."""

    @settings(max_examples=20, deadline=None)
    @given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=3))
    def test_order_and_duplicates_do_not_matter(self, rnd: random.Random, extra: int) -> None:
        """Shuffled input with repeated records gives an equal ProfileSet."""
        records = _sources()
        expected = build_profiles(records, source_ranking=["lab", "hospital"])
        shuffled = [*records, *rnd.sample(records, extra)]
        rnd.shuffle(shuffled)
        assert build_profiles(shuffled, source_ranking=["lab", "hospital"]) == expected

    @settings(max_examples=10, deadline=None)
    @given(st.randoms(use_true_random=False))
    def test_incremental_order_does_not_matter(self, rnd: random.Random) -> None:
        """Adding the records one at a time, in any order, gives the batch result."""
        records = _sources()
        rnd.shuffle(records)
        profiles = ProfileSet(profiles=())
        for one in records:
            profiles = profiles.add(one)
        assert profiles == build_profiles(records)


class TestIncrementalEqualsBatch:
    """Adding records one by one gives exactly what building from all of them gives."""

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_adds_match_a_batch_build(self, seed: int) -> None:
        """Profiles (ids and records) and the review list agree after incremental adds."""
        from carecoord.testing import generate_population

        records = list(generate_population(120, seed=seed, with_facts=True).records)
        random.Random(seed).shuffle(records)
        incremental = build_profiles(records[:150])
        for record in records[150:]:
            incremental = incremental.add(record)

        batch = build_profiles(records)

        assert [(p.id, [r.key for r in p.records]) for p in incremental] == [
            (p.id, [r.key for r in p.records]) for p in batch
        ]
        assert incremental.review == batch.review
        assert list(incremental) == list(batch)


class TestMisuse:
    """Arguments of the wrong type are a UsageError (a carecoord error and a TypeError)."""

    @pytest.mark.parametrize(
        ("records", "options"),
        [
            (42, {}),
            (None, {}),
            ("records", {}),
            ([object()], {}),
            ([make_record(), "x"], {}),
            ([make_record()], {"match": 5}),
            ([make_record()], {"source_ranking": 5}),
            ([make_record()], {"source_ranking": "clinic-ehr"}),
            ([make_record()], {"source_ranking": [1]}),
        ],
    )
    def test_wrong_types(self, records: object, options: dict[str, object]) -> None:
        """Each wrong argument raises UsageError naming it, never AttributeError."""
        with pytest.raises(UsageError) as raised:
            build_profiles(records, **options)  # type: ignore[arg-type]
        assert isinstance(raised.value, TypeError)
