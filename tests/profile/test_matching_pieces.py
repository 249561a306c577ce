"""The building blocks of linking spread over many machines equal ``link_records``."""

from __future__ import annotations

import pickle
from collections import defaultdict

from carecoord.domain import PatientRecord
from carecoord.profile import (
    IncrementalLinker,
    MatchConfig,
    TermFrequencies,
    block_pairs,
    link_keys,
    link_records,
    refined_blocking_keys,
)
from carecoord.profile._matching import RecordKey
from carecoord.testing import generate_population

SMALL = MatchConfig(term_frequency_min_records=50, max_block_size=4)
"""Frequencies and split blocks bite at test size."""


def _population() -> list[PatientRecord]:
    return list(generate_population(120, seed=3, nickname_twins=0.5, namesakes=0.5).records)


def _candidates(
    records: list[PatientRecord], config: MatchConfig
) -> set[tuple[RecordKey, RecordKey]]:
    """Every candidate pair, block by block (as a cluster gathers each block)."""
    blocks: dict[str, list[tuple[RecordKey, tuple[str, ...]]]] = defaultdict(list)
    for record in records:
        for key, tokens in refined_blocking_keys(record.patient, config):
            blocks[key].append((record.key, tokens))
    pairs = {pair for members in blocks.values() for pair in block_pairs(members, config)}
    for record in records:
        pairs.update(
            (min(record.key, other), max(record.key, other)) for other in link_keys(record)
        )
    return pairs


def test_split_blocks_and_global_frequencies_give_link_records() -> None:
    """Block pairs plus the population's frequencies, clustered, equal ``link_records``."""
    records = _population()
    expected = link_records(records, SMALL)
    table = TermFrequencies.of(records)
    linker = IncrementalLinker.from_pairs(
        SMALL, records, _candidates(records, SMALL), frequencies=table
    )
    assert linker.linkage() == expected
    assert expected != link_records(records)  # the small config changes the result


def test_oversized_blocks_are_split_not_skipped() -> None:
    """A block over ``max_block_size`` still gives the pairs of its small sub-blocks."""
    records = _population()
    split = _candidates(records, MatchConfig(max_block_size=4))
    unsplit_limit = _candidates(records, MatchConfig(max_block_size=10_000))
    assert split
    assert split <= unsplit_limit
    assert len(split) < len(unsplit_limit)


def test_each_cluster_alone_with_the_population_table() -> None:
    """Each cluster linked alone, with the population's table, keeps its clusters."""
    records = _population()
    expected = link_records(records, SMALL)
    pairs = _candidates(records, SMALL)
    by_cluster = [[r for r in records if r.key in set(cluster)] for cluster in expected.clusters]
    table = TermFrequencies.of(records)
    with_table = [
        IncrementalLinker.from_pairs(SMALL, part, pairs, frequencies=table).linkage().clusters
        for part in by_cluster
    ]
    assert sorted(c for clusters in with_table for c in clusters) == list(expected.clusters)


def test_frequencies_add_up_and_pickle() -> None:
    """Counting pieces and adding them equals counting the whole; a pickle keeps it all."""
    records = _population()
    whole = TermFrequencies.of(records)
    pieces = TermFrequencies.merged(TermFrequencies.of(records[n::3]) for n in range(3))
    assert (pieces.records, pieces.counts) == (whole.records, whole.counts)
    summed = TermFrequencies.of(records[:40]) + TermFrequencies.of(records[40:])
    assert summed.counts == whole.counts
    copy = pickle.loads(pickle.dumps(whole))
    assert (copy.records, copy.counts) == (whole.records, whole.counts)
    assert repr(whole) == f"TermFrequencies(records={len(records)})"


def test_a_record_given_twice_counts_once() -> None:
    """``TermFrequencies.of`` counts each record key once, as linking does."""
    records = _population()[:5]
    assert TermFrequencies.of([*records, *records]).counts == TermFrequencies.of(records).counts
