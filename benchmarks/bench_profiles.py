"""Building profiles (link + merge) and adding one record to an existing profile set.

Usage::

    python benchmarks/bench_profiles.py [--people 5000 20000] [--adds 200] [--seed 0]

For each size the script generates a population *with facts* (conditions and medications
per record), holds out ``--adds`` records, builds a ``ProfileSet`` from the rest with
``build_profiles`` and then adds the held-out records one by one with ``ProfileSet.add``.
It reports records per second of the batch build and the median and 95th percentile
latency of one ``add`` (which re-links and re-merges only the affected person), with a
baseline in the same run: the time to merge one average person from scratch.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def run(people: int, adds: int, seed: int) -> None:
    """Measure one population size and print a report line."""
    from carecoord import build_profiles
    from carecoord.profile import merge_records
    from carecoord.testing import generate_population

    population = generate_population(people, seed=seed, with_facts=True)
    records = list(population.records)
    random.Random(seed).shuffle(records)
    held, rest = records[:adds], records[adds:]

    started = time.perf_counter()
    profiles = build_profiles(rest)
    built = time.perf_counter() - started

    latencies: list[float] = []
    for record in held:
        t0 = time.perf_counter()
        profiles = profiles.add(record)
        latencies.append(time.perf_counter() - t0)

    sample = [p.records for p in list(profiles)[:500]]
    t0 = time.perf_counter()
    for group in sample:
        merge_records(group)
    merge_one = (time.perf_counter() - t0) / max(1, len(sample))

    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"records={len(rest):>7,} profiles={len(profiles):>7,} build={built:6.2f}s "
        f"({len(rest) / built:,.0f} records/s)  add median={statistics.median(latencies) * 1e3:.2f}"
        f" ms p95={p95 * 1e3:.2f} ms  merge-one-person baseline={merge_one * 1e3:.2f} ms  "
        f"peak RSS={rss:,.0f} MiB",
        flush=True,
    )


def main() -> None:
    """Parse arguments and run each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    for people in args.people:
        run(people, args.adds, args.seed)


if __name__ == "__main__":
    main()
