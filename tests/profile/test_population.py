"""Tests for the synthetic population generator used to measure identity matching."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from carecoord.domain import ContactSystem, Precision
from carecoord.errors import ValidationError
from carecoord.profile._strings import normalize_name
from carecoord.testing._population import (
    NATIONAL_ID_SYSTEM,
    PAYER_MEMBER_SYSTEM,
    ErrorMix,
    LinkageScore,
    Population,
    generate_population,
    mrn_system,
)


def no_errors() -> ErrorMix:
    """An error mix where every rate is zero."""
    return ErrorMix(**dict.fromkeys((a.name for a in ErrorMix.__attrs_attrs__), 0.0))


@pytest.fixture(scope="module")
def population() -> Population:
    """A mid-sized population shared by the read-only tests."""
    return generate_population(1500, seed=11)


def by_person(population: Population) -> dict[str, list[tuple[str, str]]]:
    """Record keys grouped by true person."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, person in population.truth.items():
        groups[person].append(key)
    return groups


class TestDeterminism:
    """The same arguments give the same population."""

    def test_same_seed_same_population(self) -> None:
        """Two runs with one seed produce equal records and truth."""
        first = generate_population(60, seed=4, with_facts=True)
        second = generate_population(60, seed=4, with_facts=True)
        assert first.records == second.records
        assert dict(first.truth) == dict(second.truth)

    def test_different_seeds_differ(self) -> None:
        """Different seeds produce different records."""
        assert generate_population(60, seed=1).records != generate_population(60, seed=2).records


class TestShape:
    """People, sources and keys."""

    def test_counts_people_exactly(self, population: Population) -> None:
        """The population has exactly the requested number of people."""
        assert population.people == 1500
        assert len(set(population.truth.values())) == 1500

    def test_truth_covers_every_record(self, population: Population) -> None:
        """Every record key is unique and has a true person."""
        keys = [record.key for record in population.records]
        assert len(keys) == len(set(keys))
        assert set(keys) == set(population.truth)

    def test_each_person_once_per_source(self, population: Population) -> None:
        """A person appears in 1 to ``sources`` sources, at most once in each."""
        for keys in by_person(population).values():
            sources = [source for source, _ in keys]
            assert 1 <= len(sources) <= 3
            assert len(sources) == len(set(sources))

    def test_records_are_sorted_by_key(self, population: Population) -> None:
        """Records come sorted by key."""
        keys = [record.key for record in population.records]
        assert keys == sorted(keys)

    def test_each_source_has_its_own_mrn_system(self, population: Population) -> None:
        """Each record carries exactly one MRN, of its own source's system."""
        for record in population.records:
            mrns = [i for i in record.patient.identifiers if i.system.endswith(":mrn")]
            assert [i.system for i in mrns] == [mrn_system(record.source.id)]

    def test_shared_identifiers_belong_to_one_person(self, population: Population) -> None:
        """A national id or member id seen in several records always names one person."""
        owners: dict[tuple[str, str], set[str]] = defaultdict(set)
        for record in population.records:
            for identifier in record.patient.identifiers:
                if identifier.system in (NATIONAL_ID_SYSTEM, PAYER_MEMBER_SYSTEM):
                    owners[identifier.system, identifier.value].add(population.truth[record.key])
        assert owners
        assert all(len(people) == 1 for people in owners.values())

    def test_records_hold_no_facts_by_default(self, population: Population) -> None:
        """Without ``with_facts`` records are demographics only."""
        assert all(record.fact_count() == 0 for record in population.records)

    def test_with_facts_adds_conditions_and_medications(self) -> None:
        """With ``with_facts`` records hold conditions and medications of their patient."""
        records = generate_population(80, seed=5, with_facts=True).records
        assert any(record.conditions for record in records)
        assert any(record.medications for record in records)
        for record in records:
            assert all(fact.patient == record.patient.id for _, fact in record.facts())

    def test_single_source(self) -> None:
        """With one source every person has one record."""
        population = generate_population(40, seed=3, sources=1)
        assert len(population.records) == 40

    @pytest.mark.parametrize(("n_people", "sources"), [(-1, 3), (10, 0)])
    def test_invalid_arguments(self, n_people: int, sources: int) -> None:
        """A negative size or no source raises a ValidationError."""
        with pytest.raises(ValidationError):
            generate_population(n_people, sources=sources)

    def test_invalid_rate(self) -> None:
        """An error rate outside [0, 1] raises a ValidationError."""
        with pytest.raises(ValidationError):
            ErrorMix(given_typo=1.5)


class TestRealism:
    """Households, twins and errors are present."""

    def test_households_share_addresses(self, population: Population) -> None:
        """Some addresses are shared by several different people."""
        people_at: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for record in population.records:
            for address in record.patient.addresses:
                people_at[address.lines[:1]].add(population.truth[record.key])
        assert any(len(people) >= 3 for people in people_at.values())

    def test_twins_exist(self, population: Population) -> None:
        """Some different people share family name, birth date and address."""
        seen: dict[tuple[object, ...], set[str]] = defaultdict(set)
        for record in population.records:
            patient = record.patient
            if patient.birth_date is None or not patient.addresses or not patient.names:
                continue
            family = normalize_name(patient.names[0].family or "")
            key = (family, patient.birth_date, normalize_name(patient.addresses[0].lines[0]))
            seen[key].add(population.truth[record.key])
        assert any(len(people) > 1 for people in seen.values())

    def test_errors_vary_records_of_one_person(self, population: Population) -> None:
        """Records of one person disagree sometimes on name and birth date."""
        names = dates = 0
        index = {record.key: record for record in population.records}
        for keys in by_person(population).values():
            patients = [index[key].patient for key in keys]
            given = {normalize_name(p.names[0].given[0]) for p in patients if p.names[0].given}
            names += len(given) > 1
            dates += len({p.birth_date for p in patients}) > 1
        assert names > 0
        assert dates > 0

    def test_partial_birth_dates_occur(self, population: Population) -> None:
        """Some birth dates are known to the month or the year only."""
        precisions = Counter(
            r.patient.birth_date.precision for r in population.records if r.patient.birth_date
        )
        assert precisions[Precision.DAY] > precisions[Precision.MONTH] + precisions[Precision.YEAR]
        assert precisions[Precision.MONTH] + precisions[Precision.YEAR] > 0

    def test_no_errors_means_consistent_records(self) -> None:
        """With every rate at zero, a person's records agree on name, birth date and email."""
        population = generate_population(200, seed=8, error_mix=no_errors())
        index = {record.key: record for record in population.records}
        for keys in by_person(population).values():
            patients = [index[key].patient for key in keys]
            assert len({normalize_name(p.names[0].full()) for p in patients}) == 1
            assert len({p.birth_date for p in patients}) == 1
            emails = {
                point.value
                for p in patients
                for point in p.telecom
                if point.system is ContactSystem.EMAIL
            }
            assert len(emails) <= 1


class TestScore:
    """Pairwise precision and recall against the truth."""

    def test_true_clusters_score_perfectly(self, population: Population) -> None:
        """The true clusters have precision and recall 1."""
        score = population.score(population.true_clusters())
        assert (score.precision, score.recall) == (1.0, 1.0)

    def test_counts_pairs(self) -> None:
        """Pairs are counted within clusters: one wrong merge and one split."""
        population = Population(
            records=(),
            truth={("s", "1"): "a", ("s", "2"): "a", ("s", "3"): "a", ("s", "4"): "b"},
            people=2,
        )
        score = population.score([[("s", "1"), ("s", "2")], [("s", "3"), ("s", "4")]])
        assert score == LinkageScore(predicted_pairs=2, true_pairs=3, correct_pairs=1)
        assert score.precision == 0.5
        assert score.recall == pytest.approx(1 / 3)

    def test_empty_scores_one(self) -> None:
        """With no pairs at all, precision and recall are 1."""
        assert LinkageScore(0, 0, 0).precision == LinkageScore(0, 0, 0).recall == 1.0
