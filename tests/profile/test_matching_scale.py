"""Tests for matching at scale: split blocks, term frequencies, twins and namesakes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from carecoord import build_profiles
from carecoord.domain import (
    Address,
    ContactPoint,
    ContactSystem,
    HumanName,
    PartialDate,
    PatientId,
    PatientRecord,
    Sex,
)
from carecoord.errors import NotFound, UsageError, ValidationError
from carecoord.profile._matching import (
    _REFINEMENTS,
    IncrementalLinker,
    Linkage,
    MatchConfig,
    _attribute_tokens,
    _Features,
    _field_values,
    _Frequencies,
    _refined_on,
    link_records,
)
from carecoord.profile._strings import canonical_given_names, nysiis
from carecoord.testing import HARD_CASES, make_patient, make_record, make_source
from carecoord.testing._population import generate_population

_DOB = PartialDate(1990, 4, 17)


def rec(
    source: str,
    pid: str,
    given: str,
    family: str,
    *,
    birth: PartialDate | None = _DOB,
    street: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    sex: Sex = Sex.FEMALE,
    postal: str = "99001",
) -> PatientRecord:
    """A synthetic record with just the demographics a test needs."""
    telecom = []
    if phone is not None:
        telecom.append(ContactPoint(ContactSystem.PHONE, phone))
    if email is not None:
        telecom.append(ContactPoint(ContactSystem.EMAIL, email))
    addresses = (
        (Address(lines=(street,), city="Springfield", postal_code=postal),) if street else ()
    )
    patient = make_patient(
        id=PatientId(pid),
        identifiers=(),
        names=(HumanName(family=family, given=(given,)),),
        birth_date=birth,
        sex=sex,
        telecom=tuple(telecom),
        addresses=addresses,
    )
    return make_record(source=make_source(id=source), patient=patient)


def together(linkage: Linkage, a: PatientRecord, b: PatientRecord) -> bool:
    """Whether two records ended in one cluster."""
    index = linkage.cluster_index()
    return index[a.key] == index[b.key]


def review_outcomes(linkage: Linkage, a: PatientRecord, b: PatientRecord) -> dict[str, Any]:
    """Field -> (outcome, weight) of the review entry of two records."""
    left, right = sorted((a.key, b.key))
    for match in linkage.review:
        if (match.left, match.right) == (left, right):
            return {e.field: (e.outcome, e.weight) for e in match.evidence}
    raise AssertionError("pair not in review")


class TestSplitBlocks:
    """A block larger than max_block_size is split into sub-blocks rather than skipped."""

    def test_oversized_block_still_links_through_a_sub_block(self) -> None:
        """Two records of one person in a crowded birth-date block are still compared."""
        names = [("Ann", "Harwood"), ("Beth", "Quill"), ("Cora", "Stanton"), ("Dina", "Brook")]
        crowd = [rec("a", f"p{n}", given, family) for n, (given, family) in enumerate(names)]
        crowd.append(rec("a", "p9", "Erin", "Merriweather"))
        twin = rec("b", "q1", "Ann", "Harwood")
        config = MatchConfig(blocking=("birth-date",), max_block_size=3, term_frequencies=False)
        linkage = link_records([*crowd, twin], config)
        assert together(linkage, crowd[0], twin)

    def test_oversized_sub_block_is_skipped(self) -> None:
        """When every sub-block is too large as well, the records are not compared."""
        same = [rec(s, "p1", "Ann", "Smith", street="1 Main St") for s in "abcde"]
        config = MatchConfig(blocking=("birth-date",), max_block_size=3, term_frequencies=False)
        assert len(link_records(same, config).clusters) == len(same)

    def test_incremental_adds_crossing_the_limit_equal_the_batch(self) -> None:
        """Adding records one by one past the limit ends where the batch does."""
        givens, families = ["Ann", "Beth", "Cora"], ["Harwood", "Quill"]
        records = [rec("a", f"p{n}", givens[n % 3], families[n % 2]) for n in range(9)]
        config = MatchConfig(blocking=("birth-date",), max_block_size=3, term_frequencies=False)
        linker = IncrementalLinker(config, records[:2])
        for item in records[2:]:
            linker.add(item)
        assert linker.linkage() == link_records(records, config)

    def test_refinement_tokens_follow_their_definition(self) -> None:
        """Each kind's sub-block tokens are the sorted, distinct codes of its attributes.

        The tokens are built attribute by attribute from memoised pieces (and not sorted
        when each attribute gives one); this checks them against the definition on a
        generated population, people with two names, two postal codes, no birth date or
        names without a code included.
        """
        population = generate_population(300, seed=11, with_facts=False)
        patients = [record.patient for record in population.records]
        patients.append(
            make_patient(
                names=(
                    HumanName(family="Smith", given=("Liz", "Ann")),
                    HumanName(family="Smyth", given=("Elizabeth",)),
                ),
                birth_date=None,
                addresses=(
                    Address(lines=("1 Elm St",), postal_code="99001"),
                    Address(lines=("2 Oak Rd",), postal_code="10001"),
                ),
            )
        )
        patients.append(make_patient(names=(HumanName(family="'", given=("-",)),)))
        checked = 0
        for patient in patients:
            features = _Features(patient)
            for kind in (*_REFINEMENTS, "other"):
                expected: set[str] = set()
                for attribute in _REFINEMENTS.get(kind, ("y",)):
                    if attribute == "f":
                        codes = {nysiis(family) for family in features.families}
                        expected.update(f"f:{code}" for code in codes if code)
                    elif attribute == "g":
                        codes = {
                            nysiis(name)
                            for first in features.firsts
                            for name in (canonical_given_names(first) if len(first) > 1 else ())
                        }
                        expected.update(f"g:{code}" for code in codes if code)
                    elif attribute == "y" and features.birth is not None:
                        expected.add(f"y:{features.birth[0]}")
                    elif attribute == "z":
                        expected.update(f"z:{postal}" for postal in features.postals)
                assert features.refinements(kind) == tuple(sorted(expected))
                checked += 1
        assert checked == len(patients) * (len(_REFINEMENTS) + 1)
        # A batch composes the same tokens from each attribute's, worked out per record.
        every = [_Features(patient) for patient in patients]
        by_attribute = _attribute_tokens(every, "fgyz")
        for index, features in enumerate(every):
            for kind in (*_REFINEMENTS, "other"):
                composed = [t for a in _refined_on(kind) for t in by_attribute[a][index]]
                assert sorted(composed) == list(features.refinements(kind))
                assert len(set(composed)) == len(composed)  # no token twice

    def test_refinement_attributes_are_listed_in_token_order(self) -> None:
        """Each kind lists its attributes as their token prefixes sort.

        ``_Features.refinements`` relies on it to skip sorting one token per attribute.
        """
        for kind, attributes in _REFINEMENTS.items():
            assert list(attributes) == sorted(set(attributes)), kind

    def test_additions_after_from_pairs_block_as_usual(self) -> None:
        """A linker made from pairs splits its oversized blocks, so later additions work.

        Adding a record to a block already over the limit used to raise ``KeyError``; the
        result now equals a batch of every record.
        """
        config = MatchConfig(max_block_size=2, blocking=("family-birth-year",))
        records = [
            rec("s", f"p{n}", given, "Smith") for n, given in enumerate(("Ann", "Bob", "Cy"))
        ]
        first = IncrementalLinker(config, records)
        pairs = [(pair.left, pair.right) for pair in first.scored_pairs()]
        linker = IncrementalLinker.from_pairs(config, records, pairs)
        later = [rec("s", "p3", "Dee", "Smith"), rec("t", "q0", "Ann", "Smith")]
        for record in later:
            linker.add(record)
        assert linker.linkage() == link_records([*records, *later], config)
        assert together(linker.linkage(), records[0], later[1])


def _crowd(count: int, family: str) -> list[PatientRecord]:
    """``count`` different people sharing one family name (distinct given names, births)."""
    return [
        rec("crowd", f"{family}{n}", f"Name{chr(97 + n % 26)}{n}", family, birth=None)
        for n in range(count)
    ]


class TestTermFrequencies:
    """Agreement on a common value weighs less than agreement on a rare one."""

    def test_common_family_name_weighs_less_than_a_rare_one(self) -> None:
        """The same kind of agreement scores lower on a family name many records carry."""
        common = [
            rec("a", "c1", "Ann", "Smith", birth=None),
            rec("b", "c2", "Ann", "Smith", birth=None),
        ]
        rare = [rec("a", "r1", "Ann", "Quillfeather", birth=None)]
        rare.append(rec("b", "r2", "Ann", "Quillfeather", birth=None))
        config = MatchConfig(term_frequency_min_records=2)
        linkage = link_records([*common, *rare, *_crowd(30, "Smith")], config)
        common_weight = review_outcomes(linkage, *common)["family_name"][1]
        rare_weight = review_outcomes(linkage, *rare)["family_name"][1]
        assert common_weight < rare_weight

    def test_no_adjustment_below_the_minimum_table_size(self) -> None:
        """With fewer records than term_frequency_min_records the configured weights hold."""
        common = [
            rec("a", "c1", "Ann", "Smith", birth=None),
            rec("b", "c2", "Ann", "Smith", birth=None),
        ]
        config = MatchConfig()
        linkage = link_records([*common, *_crowd(30, "Smith")], config)
        weight = review_outcomes(linkage, *common)["family_name"][1]
        assert weight == config.weight("family_name", "exact")

    def test_switched_off(self) -> None:
        """term_frequencies=False keeps the configured weights at any size."""
        common = [
            rec("a", "c1", "Ann", "Smith", birth=None),
            rec("b", "c2", "Ann", "Smith", birth=None),
        ]
        config = MatchConfig(term_frequencies=False, term_frequency_min_records=0)
        linkage = link_records([*common, *_crowd(30, "Smith")], config)
        assert review_outcomes(linkage, *common)["family_name"][1] == config.weight(
            "family_name", "exact"
        )

    @pytest.mark.parametrize("bounds", [(1.0, 2.0), (-1.0, -0.5), (0.0,)])
    def test_bad_bounds_raise(self, bounds: Any) -> None:
        """Bounds must be a pair (low <= 0 <= high)."""
        with pytest.raises(ValidationError):
            MatchConfig(term_frequency_bounds=bounds)

    def test_bounds_that_are_not_numbers_are_misuse(self) -> None:
        """A bound of the wrong kind is a UsageError (also a TypeError) naming the field."""
        with pytest.raises(UsageError, match="term_frequency_bounds"):
            MatchConfig(term_frequency_bounds=("a", 1.0))  # type: ignore[arg-type]

    def test_negative_minimum_raises(self) -> None:
        """A negative minimum table size is refused."""
        with pytest.raises(ValidationError):
            MatchConfig(term_frequency_min_records=-1)


def _table() -> list[PatientRecord]:
    """1,000 unrelated people without birth dates or contacts (so they block with nobody).

    Elizabeth, Lisa and Mary are common given names and Smith a common family name among
    them; every other name occurs once. Liz does not occur.
    """
    out = []
    for n in range(1000):
        given = ("Elizabeth", "Lisa", "Mary")[n % 3] if n < 300 else f"Zq{n}"
        family = "Smith" if 300 <= n < 400 else f"Xv{n}"
        out.append(rec("table", f"t{n}", given, family, birth=None))
    return out


_TABLE = _table()


class TestTwinsAndNamesakes:
    """Hard cases told apart by frequencies and personal evidence (default config)."""

    config = MatchConfig(blocking=("birth-date", "phone"))

    def test_nickname_twins_are_not_merged(self) -> None:
        """Twins Elizabeth and Lisa (same birth, home, landline; own e-mails) stay apart."""
        home = {"street": "12 Oak St", "phone": "555-201-0000"}
        elizabeth = rec("a", "t1", "Elizabeth", "Harwood", email="eh@example.com", **home)
        lisa = rec("b", "t2", "Lisa", "Harwood", email="lh@example.com", **home)
        linkage = link_records([elizabeth, lisa, *_TABLE], self.config)
        assert not together(linkage, elizabeth, lisa)
        assert review_outcomes(linkage, elizabeth, lisa)["twins"][0] == "suspected"

    def test_one_person_as_liz_and_elizabeth_still_links(self) -> None:
        """Liz is a nickname, not a name in its own right here: the records link."""
        home = {"street": "12 Oak St", "phone": "555-201-0000"}
        elizabeth = rec("a", "t1", "Elizabeth", "Harwood", email="eh@example.com", **home)
        liz = rec("b", "t2", "Liz", "Harwood", email="liz@example.com", **home)
        linkage = link_records([elizabeth, liz, *_TABLE], self.config)
        assert together(linkage, elizabeth, liz)

    def test_twins_below_the_minimum_table_size_are_as_before(self) -> None:
        """On a table too small for frequencies the twin guard does not apply."""
        home = {"street": "12 Oak St", "phone": "555-201-0000"}
        elizabeth = rec("a", "t1", "Elizabeth", "Harwood", email="eh@example.com", **home)
        lisa = rec("b", "t2", "Lisa", "Harwood", email="lh@example.com", **home)
        linkage = link_records([elizabeth, lisa, *_TABLE[:100]], self.config)
        assert together(linkage, elizabeth, lisa)

    def test_namesakes_living_apart_are_not_merged(self) -> None:
        """Same common name and birth date, different address and phone: for review."""
        one = rec("a", "n1", "Mary", "Smith", street="1 Elm St", phone="555-201-1111")
        two = rec(
            "b", "n2", "Mary", "Smith", street="9 Pine Rd", phone="555-201-2222", postal="99777"
        )
        linkage = link_records([one, two, *_TABLE], self.config)
        assert not together(linkage, one, two)
        assert review_outcomes(linkage, one, two)["given_name"][0] == "exact"

    def test_rare_name_with_a_new_address_and_phone_still_links(self) -> None:
        """A rare name and birth date with a new address and phone: one person who moved."""
        one = rec("a", "m1", "Imogen", "Quillfeather", street="1 Elm St", phone="555-201-1111")
        two = rec(
            "b",
            "m2",
            "Imogen",
            "Quillfeather",
            street="9 Pine Rd",
            phone="555-201-2222",
            postal="99777",
        )
        linkage = link_records([one, two, *_TABLE], self.config)
        assert together(linkage, one, two)


class TestRelink:
    """ProfileSet.relink reconciles incremental additions."""

    def test_relink_equals_a_batch_build(self) -> None:
        """After adds, relink gives what build_profiles gives on the same records."""
        population = generate_population(40, seed=5)
        records = list(population.records)
        config = MatchConfig(term_frequency_min_records=10)
        profiles = build_profiles(records[:30], match=config)
        for item in records[30:]:
            profiles = profiles.add(item)
        batch = build_profiles(records, match=config)
        assert profiles.relink() == batch


class TestHardCases:
    """generate_population learns nickname twins and namesakes."""

    def test_cases_are_listed(self) -> None:
        """Asked-for cases appear in Population.cases, as groups of two people."""
        population = generate_population(300, seed=1, nickname_twins=0.2, namesakes=0.2)
        assert set(population.cases) == set(HARD_CASES)
        for groups in population.cases.values():
            assert all(len(group) == 2 for group in groups)

    def test_twins_share_birth_and_family_with_nickname_names(self) -> None:
        """Each twin pair shares a birth date and family name; names are nicknames."""
        from carecoord.profile import are_nicknames

        population = generate_population(200, seed=2, nickname_twins=0.3)
        first: dict[str, PatientRecord] = {}
        for record in population.records:
            first.setdefault(population.truth[record.key], record)
        for a, b in population.cases["nickname-twins"]:
            if a in first and b in first:
                pa, pb = first[a].patient, first[b].patient
                assert pa.birth_date is not None
                assert pb.birth_date is not None
        names = {n.lower() for pair in [("Elizabeth", "Lisa")] for n in pair}
        assert all(are_nicknames(*sorted(names)) for _ in range(1))

    def test_default_population_has_no_cases_and_is_unchanged(self) -> None:
        """Without rates the population is the one earlier versions made (same draws)."""
        plain = generate_population(50, seed=9)
        explicit = generate_population(50, seed=9, nickname_twins=0.0, namesakes=0.0)
        assert plain.cases == {}
        assert plain.records == explicit.records

    def test_score_case(self) -> None:
        """score_case scores only the case's records; an unknown case raises NotFound."""
        population = generate_population(200, seed=3, namesakes=0.3)
        truth = population.true_clusters()
        assert population.score_case("namesakes", truth).precision == 1.0
        merged = [tuple(k for c in truth for k in c)]
        assert population.score_case("namesakes", merged).precision < 1.0
        with pytest.raises(NotFound):
            population.score_case("zodiac", truth)

    @pytest.mark.parametrize("rate", [-0.1, 1.5])
    def test_bad_rate_raises(self, rate: float) -> None:
        """Hard-case rates must be between 0 and 1."""
        with pytest.raises(ValidationError):
            generate_population(10, namesakes=rate)


class TestWorkers:
    """Scoring in worker processes gives the same answer as one process."""

    @pytest.mark.parametrize("workers", [2, 3])
    def test_parallel_equals_serial(self, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
        """Forked workers beside the parent link a population exactly as one process does.

        With 2 workers the parent and one forked process share the ranges; with 3, the
        parent and two (so the results of several forked processes are put in order).
        """
        import carecoord.profile._matching as matching

        monkeypatch.setattr(matching, "PARALLEL_MIN_RECORDS", 10)
        records = generate_population(150, seed=4).records
        serial = IncrementalLinker(None, records, workers=1)
        parallel = IncrementalLinker(None, records, workers=workers)
        assert parallel.linkage() == serial.linkage()
        assert parallel.scored_pairs() == serial.scored_pairs()

    def test_parallel_features_and_additions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Features worked out in workers link, store pairs and take additions as serial."""
        import carecoord.profile._matching as matching

        monkeypatch.setattr(matching, "PARALLEL_MIN_RECORDS", 10)
        records = list(generate_population(150, seed=5, nickname_twins=0.3).records)
        first, rest = records[:200], records[200:]
        serial = IncrementalLinker(None, first + first[:5], workers=1)
        parallel = IncrementalLinker(None, first + first[:5], workers=2)
        assert parallel.scored_pairs() == serial.scored_pairs()
        for record in rest:
            assert parallel.add(record) == serial.add(record)
        assert parallel.linkage() == serial.linkage()

    def test_parallel_key_clash_raises(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Two different records with one key are refused in the forked path too."""
        import attrs

        import carecoord.profile._matching as matching

        monkeypatch.setattr(matching, "PARALLEL_MIN_RECORDS", 10)
        records = list(generate_population(20, seed=6).records)
        clash = attrs.evolve(
            records[0], patient=records[1].patient.__class__(id=records[0].patient.id)
        )
        with pytest.raises(ValidationError):
            IncrementalLinker(None, [*records, clash], workers=2)

    @pytest.mark.parametrize(
        ("available", "resident", "wanted", "expected"),
        [
            (16 << 30, 6 << 30, 1, 1),  # a million records, 16 GiB free: one fork fits
            (16 << 30, 6 << 30, 3, 2),  # ... two of three
            (6 << 30, 6 << 30, 1, 0),  # 6 GiB free: none
            (None, 6 << 30, 3, 3),  # sizes unknown (not Linux): as asked
            (16 << 30, None, 2, 2),
        ],
    )
    def test_forks_fit_in_available_memory(
        self,
        monkeypatch: pytest.MonkeyPatch,
        available: int | None,
        resident: int | None,
        wanted: int,
        expected: int,
    ) -> None:
        """Each forked process counts as the parent's resident size, against 80 % free."""
        import carecoord.profile._matching as matching

        monkeypatch.setattr(matching, "_available_memory", lambda: available)
        monkeypatch.setattr(matching, "_resident_memory", lambda: resident)
        assert matching._affordable_forks(wanted) == expected

    def test_no_fork_without_memory_for_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without memory for a copy, 3 workers asked for link in this process alone."""
        import carecoord.profile._matching as matching

        def no_fork(*_args: object) -> None:
            raise AssertionError("forked without memory for it")

        monkeypatch.setattr(matching, "PARALLEL_MIN_RECORDS", 10)
        monkeypatch.setattr(matching, "_available_memory", lambda: 1 << 20)
        monkeypatch.setattr(matching, "_in_order", no_fork)
        records = generate_population(150, seed=4).records
        serial = IncrementalLinker(None, records, workers=1)
        guarded = IncrementalLinker(None, records, workers=3)
        assert guarded.linkage() == serial.linkage()
        assert guarded.scored_pairs() == serial.scored_pairs()

    @pytest.mark.parametrize(
        ("limit", "usage", "headroom"),
        [
            (b"8589934592\n", b"6442450944\n", 2 << 30),  # 8 GiB limit, 6 GiB used
            (b"1000\n", b"4000\n", 0),  # over the limit: nothing left
            (b"max\n", b"6442450944\n", None),  # cgroup v2 without a limit
            (b"9223372036854771712\n", b"1\n", None),  # v1's "unlimited"
            (b"", b"1\n", None),
            (b"lots\n", b"1\n", None),
        ],
    )
    def test_container_limit_lowers_available_memory(
        self,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        limit: bytes,
        usage: bytes,
        headroom: int | None,
    ) -> None:
        """Inside a container, forks are budgeted on the headroom under its memory limit."""
        import carecoord.profile._matching as matching

        (tmp_path / "max").write_bytes(limit)
        (tmp_path / "current").write_bytes(usage)
        files = ((str(tmp_path / "max"), str(tmp_path / "current")),)
        monkeypatch.setattr(matching, "_CGROUP_FILES", files)
        assert matching._cgroup_headroom(*files[0]) == headroom
        if sys.platform.startswith("linux"):
            available = matching._available_memory()
            assert available is not None
            if headroom is not None:
                assert available <= headroom

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
    def test_memory_sizes_are_read(self) -> None:
        """On Linux the available and resident memory are read (positive byte counts)."""
        import carecoord.profile._matching as matching

        available = matching._available_memory()
        resident = matching._resident_memory()
        assert available is not None
        assert resident is not None
        assert available > 0
        assert 1 << 20 < resident < 1 << 40

    @pytest.mark.parametrize("workers", [0, -1, True, 1.5])
    def test_bad_workers_raise(self, workers: Any) -> None:
        """The worker count must be a positive integer."""
        with pytest.raises(UsageError):
            IncrementalLinker(None, (), workers=workers)
        with pytest.raises(UsageError):
            build_profiles((), workers=workers)


def test_frequencies_counted_in_bulk_equal_one_by_one() -> None:
    """A batch counts its values in bulk, with the same results as one record at a time.

    Counts, sums of squares, totals and adjustments are equal; adding more after a bulk
    count counts them one by one.
    """
    records = list(generate_population(300, seed=5).records)
    features = [_Features(record.patient) for record in records]
    one_by_one = _Frequencies(-6.0, 2.0)
    for one in features:
        one_by_one.add(one)
    bulk = _Frequencies(-6.0, 2.0)
    bulk.add_all(features[:200])
    bulk.add_all(features[200:])
    assert bulk.records == one_by_one.records == len(features)
    assert bulk.counts == one_by_one.counts
    assert bulk.squares == one_by_one.squares
    assert bulk.totals == one_by_one.totals
    assert all(total > 0 for total in bulk.totals)
    for one in features[:50]:
        for field, values in enumerate(_field_values(one)):
            assert bulk.adjustment(field, values) == one_by_one.adjustment(field, values)
