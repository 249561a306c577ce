"""Tests for patient identity matching: evidence, grades, explicit links and clustering."""

from __future__ import annotations

import random
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    Address,
    ContactPoint,
    ContactSystem,
    HumanName,
    Identifier,
    LinkKind,
    PartialDate,
    Patient,
    PatientId,
    PatientLink,
    PatientRecord,
    Sex,
)
from carecoord.errors import ValidationError
from carecoord.profile._matching import (
    BLOCKING_KEYS,
    DEFAULT_PROBABILITIES,
    FieldEvidence,
    IncrementalLinker,
    Linkage,
    MatchConfig,
    MatchGrade,
    MatchResult,
    compare,
    link_records,
)
from carecoord.testing import make_patient, make_record, make_source
from carecoord.testing._population import ErrorMix, generate_population

MRN = "urn:example:mrn"


def person(**overrides: Any) -> Patient:
    """The builder's synthetic patient, without identifiers unless given."""
    overrides.setdefault("identifiers", ())
    return make_patient(**overrides)


def named(given: str, family: str = "Testperson", **overrides: Any) -> Patient:
    """The default patient under another name."""
    return person(names=(HumanName(family=family, given=(given,)),), **overrides)


def record(source: str, patient_id: str, **overrides: Any) -> PatientRecord:
    """A record of the default patient (with ``overrides``) from ``source``."""
    return make_record(
        source=make_source(id=source), patient=person(id=PatientId(patient_id), **overrides)
    )


def outcomes(result: MatchResult) -> dict[str, str]:
    """Field -> outcome of a comparison."""
    return {evidence.field: evidence.outcome for evidence in result.evidence}


def clusters_of(linkage: Linkage) -> set[frozenset[tuple[str, str]]]:
    """The clusters as a set of sets, for order-free comparisons."""
    return {frozenset(cluster) for cluster in linkage.clusters}


class TestGivenName:
    """How given names compare."""

    def test_identical_records_are_certain(self) -> None:
        """Two copies of one patient are a certain match on every field they hold."""
        result = compare(person(), person())
        assert result.grade is MatchGrade.CERTAIN
        assert set(outcomes(result).values()) == {"exact", "missing"}
        assert outcomes(result)["email"] == "missing"

    def test_nickname_matches_formal_name(self) -> None:
        """Bill and William are a nickname match and still merge."""
        result = compare(named("William"), named("Bill"))
        assert outcomes(result)["given_name"] == "nickname"
        assert result.grade.merges

    def test_typo_is_close(self) -> None:
        """A one-letter typo (Jonh for John) is a close match."""
        result = compare(named("John"), named("Jonh"))
        assert outcomes(result)["given_name"] == "close"
        assert result.grade.merges

    def test_typo_in_a_nickname_is_close(self) -> None:
        """A typo in a nickname (Jiim for James) is still close to the formal name."""
        result = compare(named("James"), named("Jiim"))
        assert outcomes(result)["given_name"] == "close"

    def test_initial_is_weak_agreement(self) -> None:
        """An initial matching the first letter counts as ``initial``."""
        result = compare(named("Alex"), named("A."))
        assert outcomes(result)["given_name"] == "initial"

    def test_middle_name_used_as_first(self) -> None:
        """A first name equal to the other record's middle name is ``middle``."""
        a = person(names=(HumanName(family="Testperson", given=("Jordan", "Alex")),))
        result = compare(a, named("Alex"))
        assert outcomes(result)["given_name"] == "middle"

    def test_transposed_names(self) -> None:
        """Given and family names entered in each other's fields are ``transposed``."""
        swapped = person(names=(HumanName(family="Alex", given=("Testperson",)),))
        result = compare(person(), swapped)
        assert outcomes(result)["given_name"] == "transposed"
        assert outcomes(result)["family_name"] == "transposed"
        assert result.grade.merges

    def test_different_given_names_cap_at_possible(self) -> None:
        """A clearly different given name caps the grade at possible however much agrees."""
        result = compare(named("Alex"), named("Morgan"))
        assert outcomes(result)["given_name"] == "disagree"
        assert result.grade is MatchGrade.POSSIBLE

    def test_missing_given_name_weighs_nothing(self) -> None:
        """A record without a given name gives ``missing`` with weight zero."""
        result = compare(person(), person(names=(HumanName(family="Testperson"),)))
        evidence = {e.field: e for e in result.evidence}["given_name"]
        assert (evidence.outcome, evidence.weight) == ("missing", 0.0)


class TestFamilyName:
    """How family names compare."""

    def test_typo_is_close(self) -> None:
        """A one-letter typo in the family name is close."""
        result = compare(named("Alex", "Testperson"), named("Alex", "Tsetperson"))
        assert outcomes(result)["family_name"] == "close"
        assert result.grade.merges

    def test_one_part_of_a_double_name_is_partial(self) -> None:
        """One part of a double-barrelled family name is a partial match."""
        result = compare(named("Alex", "Testperson-Example"), named("Alex", "Example"))
        assert outcomes(result)["family_name"] == "partial"

    def test_hyphen_and_space_are_the_same_name(self) -> None:
        """Hyphenated and space-separated spellings of a double name are exact."""
        result = compare(named("Alex", "Testperson-Example"), named("Alex", "Testperson Example"))
        assert outcomes(result)["family_name"] == "exact"


class TestBirthDate:
    """How birth dates compare."""

    def test_swapped_day_and_month(self) -> None:
        """12 April and 4 December of one year are a day/month swap, and still merge."""
        result = compare(person(), person(birth_date=PartialDate(1961, 12, 4)))
        assert outcomes(result)["birth_date"] == "swapped-day-month"
        assert result.grade.merges

    def test_missing_birth_date_weighs_nothing(self) -> None:
        """A missing birth date is ``missing``, weight zero; the rest still merges."""
        result = compare(person(), person(birth_date=None))
        evidence = {e.field: e for e in result.evidence}["birth_date"]
        assert (evidence.outcome, evidence.weight) == ("missing", 0.0)
        assert result.grade.merges

    def test_partial_date_agrees_to_its_precision(self) -> None:
        """A year-month date consistent with a full date is ``same-month``."""
        result = compare(person(), person(birth_date=PartialDate(1961, 4)))
        assert outcomes(result)["birth_date"] == "same-month"

    def test_year_only_date(self) -> None:
        """A year-only date consistent with a full date is ``same-year``."""
        result = compare(person(), person(birth_date=PartialDate(1961)))
        assert outcomes(result)["birth_date"] == "same-year"

    def test_one_mistyped_digit_is_close(self) -> None:
        """One mistyped digit of the day is ``close``."""
        result = compare(person(), person(birth_date=PartialDate(1961, 4, 13)))
        assert outcomes(result)["birth_date"] == "close"

    def test_different_birth_dates_never_merge(self) -> None:
        """A clearly different birth date is a veto, however much else agrees."""
        result = compare(person(), person(birth_date=PartialDate(1975, 9, 30)))
        assert outcomes(result)["birth_date"] == "disagree"
        assert result.score > MatchConfig().certain
        assert not result.grade.merges


class TestContactFields:
    """Sex, address, phone and e-mail comparisons."""

    def test_phone_formats_are_normalised(self) -> None:
        """The same phone written differently is an exact match."""
        a = person(telecom=(ContactPoint(ContactSystem.PHONE, "(212) 555-0143"),))
        b = person(telecom=(ContactPoint(ContactSystem.PHONE, "+1 212.555.0143"),))
        assert outcomes(compare(a, b))["phone"] == "exact"

    def test_email_case_is_ignored(self) -> None:
        """E-mail addresses compare without case."""
        a = person(telecom=(ContactPoint(ContactSystem.EMAIL, "alex@example.org"),))
        b = person(telecom=(ContactPoint(ContactSystem.EMAIL, "ALEX@Example.org"),))
        assert outcomes(compare(a, b))["email"] == "exact"

    def test_address_abbreviations_are_normalised(self) -> None:
        """``1 Example Street`` and ``1 EXAMPLE ST`` with the ZIP+4 are the same address."""
        other = Address(lines=("1 EXAMPLE ST",), city="Springfield", postal_code="01101-2233")
        assert outcomes(compare(person(), person(addresses=(other,))))["address"] == "exact"

    def test_moved_address_disagrees(self) -> None:
        """A different address is a disagreement, with a small negative weight."""
        other = Address(lines=("9 Other Road",), city="Elsewhere", postal_code="99999")
        result = compare(person(), person(addresses=(other,)))
        evidence = {e.field: e for e in result.evidence}["address"]
        assert evidence.outcome == "disagree"
        assert -4 < evidence.weight < 0

    def test_different_sex_weighs_against(self) -> None:
        """Different recorded sexes weigh against the match."""
        result = compare(person(), person(sex=Sex.MALE))
        evidence = {e.field: e for e in result.evidence}["sex"]
        assert evidence.outcome == "disagree"
        assert evidence.weight < 0

    def test_unknown_sex_is_missing(self) -> None:
        """Sex ``unknown`` counts as missing."""
        assert outcomes(compare(person(), person(sex=Sex.UNKNOWN)))["sex"] == "missing"


class TestScores:
    """Scores, symmetry and privacy of results."""

    def test_score_is_the_sum_of_weights(self) -> None:
        """The score is the sum of the evidence weights."""
        result = compare(named("Bill"), named("William", birth_date=None))
        assert result.score == pytest.approx(sum(e.weight for e in result.evidence))

    def test_compare_is_symmetric(self) -> None:
        """``compare(a, b)`` equals ``compare(b, a)``."""
        a = named("Bill", birth_date=PartialDate(1961, 12, 4))
        b = named("William", telecom=())
        assert compare(a, b) == compare(b, a)

    def test_weight_is_log2_of_m_over_u(self) -> None:
        """Each outcome weighs ``log2(m / u)``."""
        m, u = DEFAULT_PROBABILITIES["birth_date"]["exact"]
        result = compare(person(), person())
        evidence = {e.field: e for e in result.evidence}["birth_date"]
        assert 2**evidence.weight == pytest.approx(m / u)

    def test_results_carry_no_personal_data(self) -> None:
        """Reprs of results name fields and outcomes, never values."""
        a = named("Zebedee", "Quixworth", birth_date=PartialDate(1961, 12, 4))
        text = repr(compare(a, person())) + repr(link_records([make_record(patient=a)]))
        for value in ("Zebedee", "Quixworth", "1961", "555", "Example Street"):
            assert value.lower() not in text.lower()


class TestIdentifiers:
    """Identifier rules: shared means certain, conflicting in one system means not."""

    def test_shared_identifier_is_certain(self) -> None:
        """Records sharing a system and value are certain, whatever else differs."""
        shared = (Identifier("urn:example:payer", "M-1"),)
        a = named("Alex", identifiers=shared)
        b = named("Morgan", "Other", birth_date=None, identifiers=shared)
        result = compare(a, b)
        assert result.grade is MatchGrade.CERTAIN
        assert outcomes(result)["identifier"] == "shared"

    def test_same_value_in_another_system_is_not_shared(self) -> None:
        """The same value under different systems is no identifier evidence."""
        a = person(identifiers=(Identifier("urn:example:a", "1"),))
        b = person(identifiers=(Identifier("urn:example:b", "1"),))
        assert "identifier" not in outcomes(compare(a, b))

    def test_conflicting_mrns_of_one_system_are_certainly_not(self) -> None:
        """Two MRNs of one assigning system mean two people, even with equal demographics."""
        a = person(identifiers=(Identifier(MRN, "1"),))
        b = person(identifiers=(Identifier(MRN, "2"),))
        result = compare(a, b)
        assert result.grade is MatchGrade.CERTAINLY_NOT
        assert outcomes(result)["identifier"] == "conflict"

    def test_conflict_can_be_ignored_per_system(self) -> None:
        """A system listed in ``ignore_identifier_conflicts`` proves nothing when it differs."""
        a = person(identifiers=(Identifier(MRN, "1"),))
        b = person(identifiers=(Identifier(MRN, "2"),))
        config = MatchConfig(ignore_identifier_conflicts=frozenset({MRN}))
        assert compare(a, b, config).grade is MatchGrade.CERTAIN

    def test_conflicting_mrns_in_one_source_stay_apart(self) -> None:
        """Two records of one source with different MRNs are not merged."""
        a = record("clinic", "p1", identifiers=(Identifier(MRN, "1"),))
        b = record("clinic", "p2", identifiers=(Identifier(MRN, "2"),))
        assert len(link_records([a, b]).clusters) == 2

    def test_shared_identifier_links_across_sources(self) -> None:
        """Records from two sources sharing an identifier merge despite other differences."""
        shared = (Identifier("urn:example:payer", "M-1"),)
        a = record("clinic", "p1", identifiers=shared)
        b = record("lab", "x9", identifiers=shared, names=(HumanName(family="Other"),))
        assert link_records([a, b]).clusters == ((a.key, b.key),)


class TestExplicitLinks:
    """Explicit same-person and not-same-person assertions win over evidence."""

    def test_same_person_link_merges_unlike_records(self) -> None:
        """A ``SAME_PERSON`` link merges records whose demographics disagree."""
        a = record(
            "clinic", "p1", links=(PatientLink(LinkKind.SAME_PERSON, PatientId("x9"), "lab"),)
        )
        b = record("lab", "x9", names=(HumanName(family="Other", given=("Morgan",)),), telecom=())
        assert link_records([a, b]).clusters == ((a.key, b.key),)

    def test_link_held_by_either_record_counts(self) -> None:
        """The link works whichever of the two records holds it."""
        a = record("clinic", "p1", names=(HumanName(family="Other", given=("Morgan",)),))
        b = record(
            "lab", "x9", links=(PatientLink(LinkKind.SAME_PERSON, PatientId("p1"), "clinic"),)
        )
        assert link_records([a, b]).clusters == ((a.key, b.key),)

    def test_link_without_source_points_into_the_same_source(self) -> None:
        """A link naming no source means a record of the holder's own source (ADT A40)."""
        a = record("clinic", "p1", identifiers=(Identifier(MRN, "1"),))
        b = record(
            "clinic",
            "p2",
            identifiers=(Identifier(MRN, "2"),),
            links=(PatientLink(LinkKind.SAME_PERSON, PatientId("p1")),),
        )
        assert link_records([a, b]).clusters == ((a.key, b.key),)

    def test_not_same_person_keeps_identical_records_apart(self) -> None:
        """A ``NOT_SAME_PERSON`` link keeps identical records apart, and out of review."""
        a = record("clinic", "p1")
        b = record(
            "lab", "x9", links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("p1"), "clinic"),)
        )
        linkage = link_records([a, b])
        assert len(linkage.clusters) == 2
        assert linkage.review == ()

    def test_not_same_person_wins_over_same_person(self) -> None:
        """When the two records assert both, they stay apart."""
        a = record(
            "clinic", "p1", links=(PatientLink(LinkKind.SAME_PERSON, PatientId("x9"), "lab"),)
        )
        b = record(
            "lab", "x9", links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("p1"), "clinic"),)
        )
        assert len(link_records([a, b]).clusters) == 2

    def test_not_same_person_blocks_transitive_merge(self) -> None:
        """A and C asserted different are never clustered through a record matching both."""
        a = record("clinic", "p1")
        b = record("lab", "x9")
        c = record(
            "hie", "h1", links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("p1"), "clinic"),)
        )
        linkage = link_records([a, b, c])
        index = linkage.cluster_index()
        assert index[a.key] != index[c.key]
        assert len(linkage.clusters) == 2

    def test_refused_merge_goes_to_review(self) -> None:
        """A certain match refused by a conflict is listed for review, marked ``refused``."""
        a = record("clinic", "p1", identifiers=(Identifier(MRN, "1"),))
        c = record("clinic", "p2", identifiers=(Identifier(MRN, "2"),))
        b = record("lab", "x9")
        linkage = link_records([a, b, c])
        assert len(linkage.clusters) == 2
        (refused,) = linkage.review
        assert refused.grade is MatchGrade.CERTAIN
        assert refused.evidence[-1] == FieldEvidence("clustering", "refused", 0.0)

    def test_compare_resolves_links_between_records(self) -> None:
        """``compare`` on records honours their links."""
        a = record("clinic", "p1")
        b = record(
            "lab", "x9", links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("p1"), "clinic"),)
        )
        result = compare(a, b)
        assert result.grade is MatchGrade.CERTAINLY_NOT
        assert outcomes(result)["link"] == "not-same-person"


class TestClustering:
    """Grouping records into people."""

    def test_merges_transitively(self) -> None:
        """Three records of one person from three sources form one cluster."""
        records = [
            record("clinic", "p1"),
            record("lab", "x9", names=(HumanName(family="Testperson", given=("Alexander",)),)),
            record("hie", "h1", birth_date=PartialDate(1961, 12, 4)),
        ]
        assert len(link_records(records).clusters) == 1

    def test_twins_are_not_merged(self) -> None:
        """Twins (same birth date, family, address and phone) stay two people, for review."""
        a = record("clinic", "p1", names=(HumanName(family="Testperson", given=("Alex",)),))
        b = record("clinic", "p2", names=(HumanName(family="Testperson", given=("Morgan",)),))
        linkage = link_records([a, b])
        assert len(linkage.clusters) == 2
        assert [(m.left, m.right, m.grade) for m in linkage.review] == [
            (a.key, b.key, MatchGrade.POSSIBLE)
        ]

    def test_household_members_are_not_merged_nor_reviewed(self) -> None:
        """A parent and child sharing family, address and phone are different people."""
        parent = record("clinic", "p1")
        child = record(
            "clinic",
            "p2",
            names=(HumanName(family="Testperson", given=("Robin",)),),
            birth_date=PartialDate(1995, 8, 30),
        )
        linkage = link_records([parent, child])
        assert len(linkage.clusters) == 2
        assert linkage.review == ()

    def test_possible_match_is_reviewed_with_evidence(self) -> None:
        """A possible match is not merged and is listed with per-field evidence."""
        a = record("clinic", "p1", telecom=(), addresses=())
        b = record("lab", "x9", telecom=(), addresses=(), birth_date=None)
        linkage = link_records([a, b])
        assert len(linkage.clusters) == 2
        (match,) = linkage.review
        assert match.grade is MatchGrade.POSSIBLE
        assert {e.field for e in match.evidence} >= {"given_name", "family_name", "birth_date"}

    def test_every_record_is_in_exactly_one_cluster(self) -> None:
        """Clusters partition the records, singletons included, sorted."""
        population = generate_population(30, seed=3)
        linkage = link_records(population.records)
        keys = [key for cluster in linkage.clusters for key in cluster]
        assert sorted(keys) == sorted(r.key for r in population.records)
        assert list(linkage.clusters) == sorted(linkage.clusters)
        assert all(list(cluster) == sorted(cluster) for cluster in linkage.clusters)

    def test_empty_input(self) -> None:
        """No records give no clusters and no review."""
        assert link_records([]) == Linkage((), ())

    def test_different_records_with_one_key_are_rejected(self) -> None:
        """Two different records sharing a key raise a ValidationError."""
        with pytest.raises(ValidationError):
            link_records([record("clinic", "p1"), record("clinic", "p1", birth_date=None)])


# Populations with many errors make blocking, vetoes and refusals all happen.
_NOISY = ErrorMix(
    given_typo=0.2,
    given_nickname=0.3,
    family_typo=0.2,
    birth_swapped=0.2,
    birth_missing=0.2,
    address_moved=0.3,
    phone_changed=0.3,
    national_id=0.3,
    payer_member_id=0.3,
)
populations = st.builds(
    generate_population,
    st.integers(2, 25),
    seed=st.integers(0, 10_000),
    sources=st.integers(1, 4),
    error_mix=st.sampled_from([ErrorMix(), _NOISY]),
)
configs = st.sampled_from([MatchConfig(), MatchConfig(max_block_size=3)])
_FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _with_links(records: tuple[PatientRecord, ...], rng: random.Random) -> list[PatientRecord]:
    """Add random same-person and not-same-person links between the records."""
    out = list(records)
    for n, item in enumerate(out):
        if len(out) > 1 and rng.random() < 0.3:
            other = rng.choice(records)
            kind = rng.choice(list(LinkKind))
            link = PatientLink(kind, other.patient.id, other.source.id)
            patient = attrs.evolve(item.patient, links=(*item.patient.links, link))
            out[n] = attrs.evolve(item, patient=patient)
    return out


class TestLinkageProperties:
    """The result depends on the set of records only."""

    @_FAST
    @given(population=populations, config=configs, data=st.data())
    def test_order_does_not_matter(self, population: Any, config: MatchConfig, data: Any) -> None:
        """Any permutation of the records gives the same linkage."""
        records = _with_links(population.records, random.Random(len(population.records)))
        shuffled = data.draw(st.permutations(records))
        assert link_records(shuffled, config) == link_records(records, config)

    @_FAST
    @given(population=populations, config=configs, data=st.data())
    def test_duplicates_do_not_matter(
        self, population: Any, config: MatchConfig, data: Any
    ) -> None:
        """Giving some records twice changes nothing."""
        records = list(population.records)
        again = data.draw(st.lists(st.sampled_from(records), max_size=5)) if records else []
        assert link_records(records + again, config) == link_records(records, config)

    @_FAST
    @given(population=populations, config=configs, data=st.data())
    def test_incremental_equals_batch(
        self, population: Any, config: MatchConfig, data: Any
    ) -> None:
        """Adding records one at a time, in any order, ends where the batch does."""
        records = _with_links(population.records, random.Random(7))
        order = data.draw(st.permutations(records))
        split = data.draw(st.integers(0, len(order)))
        linker = IncrementalLinker(config, order[:split])
        for item in order[split:]:
            linker.add(item)
        assert linker.linkage() == link_records(records, config)


class TestIncrementalLinker:
    """Adding records one at a time."""

    def test_add_returns_the_new_records_cluster(self) -> None:
        """``add`` returns the clusters it changed, including the new record's."""
        a, b = record("clinic", "p1"), record("lab", "x9")
        linker = IncrementalLinker(records=[a])
        assert linker.add(b) == ((a.key, b.key),)
        assert linker.cluster_of(a.key) == (a.key, b.key)

    def test_adding_the_same_record_twice_is_a_no_op(self) -> None:
        """Adding an already added record changes nothing and returns its cluster."""
        a = record("clinic", "p1")
        linker = IncrementalLinker(records=[a])
        assert linker.add(a) == ((a.key,),)
        assert len(linker) == 1

    def test_a_different_record_with_a_known_key_is_rejected(self) -> None:
        """Adding a different record under a known key raises a ValidationError."""
        linker = IncrementalLinker(records=[record("clinic", "p1")])
        with pytest.raises(ValidationError):
            linker.add(record("clinic", "p1", birth_date=None))

    def test_link_to_a_record_not_yet_added_applies_on_arrival(self) -> None:
        """A link naming a record that arrives later takes effect when it arrives."""
        a = record(
            "clinic", "p1", links=(PatientLink(LinkKind.SAME_PERSON, PatientId("x9"), "lab"),)
        )
        b = record("lab", "x9", names=(HumanName(family="Other"),), telecom=(), addresses=())
        linker = IncrementalLinker()
        linker.add(a)
        assert linker.add(b) == ((a.key, b.key),)

    def test_contains_and_len(self) -> None:
        """The linker knows which keys it holds."""
        linker = IncrementalLinker(records=[record("clinic", "p1")])
        assert ("clinic", "p1") in linker
        assert ("lab", "p1") not in linker
        assert len(linker) == 1


class TestMatchConfig:
    """Configuration."""

    def test_override_keeps_other_defaults(self) -> None:
        """Overriding one outcome keeps every other default probability."""
        config = MatchConfig(probabilities={"phone": {"exact": (0.5, 0.001)}})
        assert config.probabilities["phone"]["exact"] == (0.5, 0.001)
        assert config.probabilities["email"] == DEFAULT_PROBABILITIES["email"]

    def test_missing_weighs_zero(self) -> None:
        """The outcome ``missing`` always weighs zero."""
        assert MatchConfig().weight("phone", "missing") == 0.0

    def test_grade_follows_thresholds(self) -> None:
        """Scores map to grades by the thresholds."""
        config = MatchConfig()
        assert config.grade(config.certain) is MatchGrade.CERTAIN
        assert config.grade(config.probable) is MatchGrade.PROBABLE
        assert config.grade(config.possible) is MatchGrade.POSSIBLE
        assert config.grade(config.possible - 0.1) is MatchGrade.CERTAINLY_NOT

    def test_lower_probable_threshold_merges_more(self) -> None:
        """Lowering the thresholds turns a possible match into a merge."""
        a, b = person(telecom=(), addresses=()), person(telecom=(), addresses=(), birth_date=None)
        assert compare(a, b).grade is MatchGrade.POSSIBLE
        assert compare(a, b, MatchConfig(probable=12, certain=12)).grade.merges

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"probabilities": {"phone": {"exact": (0.0, 0.1)}}},
            {"probabilities": {"shoe_size": {"exact": (0.5, 0.1)}}},
            {"probabilities": {"phone": {"nickname": (0.5, 0.1)}}},
            {"certain": 5.0, "probable": 10.0},
            {"blocking": ("zodiac",)},
            {"vetoes": frozenset({("phone", "upside-down")})},
            {"max_block_size": 1},
        ],
    )
    def test_invalid_settings_are_rejected(self, kwargs: dict[str, Any]) -> None:
        """Out-of-range probabilities, unknown names and unordered thresholds raise."""
        with pytest.raises(ValidationError):
            MatchConfig(**kwargs)

    def test_every_blocking_key_alone_still_links(self) -> None:
        """Each blocking key works on its own."""
        a, b = record("clinic", "p1"), record("lab", "x9")
        for key in BLOCKING_KEYS:
            if key in ("email", "identifier"):
                continue
            assert len(link_records([a, b], MatchConfig(blocking=(key,))).clusters) == 1

    def test_no_shared_block_means_no_comparison(self) -> None:
        """Records sharing no blocking key are never compared."""
        a, b = record("clinic", "p1"), record("lab", "x9")
        assert len(link_records([a, b], MatchConfig(blocking=("email",))).clusters) == 2


class TestAccuracy:
    """An accuracy floor on a synthetic population, so regressions fail."""

    def test_precision_and_recall_floor(self) -> None:
        """About 2,000 records: pairwise precision >= 0.99 and recall >= 0.97."""
        population = generate_population(1000, seed=2024)
        score = population.score(link_records(population.records).clusters)
        assert score.precision >= 0.99
        assert score.recall >= 0.97
