"""Proof that a tree's identity linking gives the same answers as another tree's.

Usage::

    python benchmarks/linkage_digest.py [--src OTHER/src] [--large]

Links several generated populations (``carecoord.testing.generate_population``) under
several :class:`~carecoord.profile.MatchConfig` variants, in a fresh interpreter importing
``carecoord`` from ``--src`` (default: this tree's ``src``), and digests, per case:

* :meth:`IncrementalLinker.linkage`: every cluster and every review entry with its grade,
  score (``repr`` of the float) and evidence (field, outcome, weight ``repr``);
* :meth:`IncrementalLinker.scored_pairs`: every stored pair, whether it merges, and its
  review entry;
* the same after loading half the records in one batch and adding the rest one by one
  with :meth:`IncrementalLinker.add` (the clusters each addition returns too);
* :meth:`IncrementalLinker.from_pairs` over the candidate pairs of
  ``refined_blocking_keys`` / ``block_pairs`` with the whole population's
  ``TermFrequencies``;
* ``compare`` on a sample of record pairs.

With ``--large`` a population of about 100,000 records is also linked with
``workers=2`` (the forked scoring path). It prints one sha256 per case and a combined one;
run it against two trees and compare.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path
from typing import Any


def _digest_match(match: Any) -> str:
    evidence = ",".join(f"{e.field}:{e.outcome}:{e.weight!r}" for e in match.evidence)
    return f"{match.left}|{match.right}|{match.grade.value}|{match.score!r}|{evidence}"


def _digest_linker(linker: Any, h: Any) -> None:
    linkage = linker.linkage()
    for cluster in linkage.clusters:
        h.update(repr(cluster).encode())
    h.update(b"#review")
    for match in linkage.review:
        h.update(_digest_match(match).encode())
    h.update(b"#pairs")
    for pair in linker.scored_pairs():
        review = "-" if pair.review is None else _digest_match(pair.review)
        h.update(f"{pair.left}|{pair.right}|{pair.merges}|{review}".encode())


def _case(name: str, records: list[Any], config: Any, *, workers: int = 1) -> str:
    from carecoord.profile import _matching as m

    h = hashlib.sha256()
    _digest_linker(m.IncrementalLinker(config, records, workers=workers), h)
    if workers == 1:
        # Half in one batch, the rest one by one (shuffled).
        rng = random.Random(len(records))
        shuffled = list(records)
        rng.shuffle(shuffled)
        half = len(shuffled) // 2
        linker = m.IncrementalLinker(config, shuffled[:half])
        h.update(b"#add")
        for record in shuffled[half:]:
            h.update(repr(linker.add(record)).encode())
        _digest_linker(linker, h)
        # from_pairs over the blocking building blocks, with the population's frequencies.
        blocks: dict[str, list[Any]] = {}
        for record in records:
            for key, tokens in m.refined_blocking_keys(record.patient, config):
                blocks.setdefault(key, []).append((record.key, tokens))
        pairs = sorted({p for members in blocks.values() for p in m.block_pairs(members, config)})
        table = m.TermFrequencies.of(records)
        h.update(b"#from_pairs")
        _digest_linker(m.IncrementalLinker.from_pairs(config, records, pairs, frequencies=table), h)
        h.update(b"#compare")
        for _ in range(300):
            a, b = rng.choice(records), rng.choice(records)
            result = m.compare(a, b, config)
            evidence = ",".join(f"{e.field}:{e.outcome}:{e.weight!r}" for e in result.evidence)
            h.update(f"{result.grade.value}|{result.score!r}|{evidence}".encode())
    digest = h.hexdigest()
    print(f"{name}: {digest}", flush=True)
    return digest


def main() -> None:
    """Digest every case with the ``carecoord`` of ``--src``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(Path(__file__).resolve().parent.parent / "src"))
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, args.src)
    from carecoord.profile import MatchConfig
    from carecoord.testing import generate_population

    print(f"carecoord from {args.src}")
    digests = []
    populations = {
        "n2000-s1": list(generate_population(2000, seed=1).records),
        "n12000-s2": list(generate_population(12000, seed=2).records),
        "n6000-s3-hard": list(
            generate_population(6000, seed=3, nickname_twins=0.03, namesakes=0.03).records
        ),
    }
    configs = {
        "default": MatchConfig(),
        "tf-min-3000": MatchConfig(term_frequency_min_records=3000),
        "block-4": MatchConfig(max_block_size=4),
        "no-tf": MatchConfig(term_frequencies=False),
        "tight": MatchConfig(
            possible=6.0, probable=15.0, certain=25.0, term_frequency_bounds=(-2.0, 4.0)
        ),
    }
    for pop_name, records in populations.items():
        for config_name, config in configs.items():
            if pop_name == "n12000-s2" and config_name not in ("default", "tf-min-3000"):
                continue
            digests.append(_case(f"{pop_name}/{config_name}", records, config))
    if args.large:
        records = list(generate_population(50000, seed=0, with_facts=False).records)
        digests.append(_case("n50000-s0/default/workers2", records, MatchConfig(), workers=2))
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    print(f"combined: {combined}")


if __name__ == "__main__":
    main()
