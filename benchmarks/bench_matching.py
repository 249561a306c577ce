"""Accuracy and speed of identity matching on synthetic populations.

Usage::

    python benchmarks/bench_matching.py [--sizes 10000 50000 100000] [--seed 0]
                                        [--sources 3] [--adds 300] [--tracemalloc] [--json]

For each size (a number of records; the generator is asked for ``size / 2`` people, each
in 1 to 3 sources) the script generates a population with the default error mix, links it
with ``MatchConfig()`` and reports:

* pairwise precision and recall of the clusters against the truth (a pair is two records
  in one cluster);
* linking throughput in records per second (batch ``link_records``, generation excluded);
* peak memory: the process's peak resident set size, and with ``--tracemalloc`` the peak
  of Python allocations while linking (a second, slower run);
* incremental latency: ``--adds`` records are held out, the rest loaded into an
  ``IncrementalLinker``, then the held-out records added one by one; median and 95th
  percentile of one ``add``.

Each size runs in a fresh interpreter so memory figures do not leak between sizes.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(size: int, seed: int, sources: int, adds: int, trace: bool) -> dict[str, Any]:
    """Generate, link and measure one population of about ``size`` records."""
    from carecoord.profile._matching import IncrementalLinker, MatchConfig, link_records
    from carecoord.testing._population import generate_population

    people = max(1, round(size * 2 / (sources + 1)))
    started = time.perf_counter()
    population = generate_population(people, seed=seed, sources=sources)
    generated = time.perf_counter() - started
    records = population.records
    rss_before = _peak_rss_mib()

    started = time.perf_counter()
    linkage = link_records(records, MatchConfig())
    linked = time.perf_counter() - started
    rss_after = _peak_rss_mib()
    score = population.score(linkage.clusters)

    traced_peak = None
    if trace:
        tracemalloc.start()
        link_records(records, MatchConfig())
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    rng = random.Random(seed)
    held = set(rng.sample(range(len(records)), min(adds, len(records) // 10)))
    started = time.perf_counter()
    linker = IncrementalLinker(MatchConfig(), [r for n, r in enumerate(records) if n not in held])
    loaded = time.perf_counter() - started
    latencies = []
    for n in sorted(held):
        tick = time.perf_counter()
        linker.add(records[n])
        latencies.append(time.perf_counter() - tick)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0
    return {
        "size": size,
        "records": len(records),
        "people": population.people,
        "generate_s": round(generated, 2),
        "link_s": round(linked, 2),
        "records_per_s": round(len(records) / linked),
        "precision": round(score.precision, 5),
        "recall": round(score.recall, 5),
        "predicted_pairs": score.predicted_pairs,
        "true_pairs": score.true_pairs,
        "clusters": len(linkage.clusters),
        "review": len(linkage.review),
        "peak_rss_mib": round(rss_after, 1),
        "rss_growth_while_linking_mib": round(rss_after - rss_before, 1),
        "traced_peak_mib": None if traced_peak is None else round(traced_peak, 1),
        "incremental_base_records": len(linker) - len(latencies),
        "incremental_load_s": round(loaded, 2),
        "incremental_adds": len(latencies),
        "add_median_ms": round(statistics.median(latencies) * 1000, 3) if latencies else None,
        "add_p95_ms": round(p95 * 1000, 3),
    }


def machine() -> dict[str, str]:
    """The machine, CPU model and Python version the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "machine": platform.machine(),
        "cpu": cpu,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", type=int, default=3)
    parser.add_argument("--adds", type=int, default=300, help="records added incrementally")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.single:
        result = run_one(args.sizes[0], args.seed, args.sources, args.adds, args.tracemalloc)
        print(json.dumps(result))
        return 0

    info = machine()
    if not args.json:
        print(f"# {info['date']}  {info['machine']}  {info['cpu']}  Python {info['python']}")
        print(
            f"{'records':>8} {'people':>7} {'link s':>7} {'rec/s':>7} {'precision':>9} "
            f"{'recall':>7} {'review':>7} {'peak RSS':>9} {'traced':>7} "
            f"{'add med':>8} {'add p95':>8}"
        )
    for size in args.sizes:
        command = [
            sys.executable,
            __file__,
            "--single",
            "--sizes",
            str(size),
            "--seed",
            str(args.seed),
            "--sources",
            str(args.sources),
            "--adds",
            str(args.adds),
        ]
        if args.tracemalloc:
            command.append("--tracemalloc")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        result.update(info)
        if args.json:
            print(json.dumps(result))
            continue
        traced = result["traced_peak_mib"]
        print(
            f"{result['records']:>8} {result['people']:>7} {result['link_s']:>7.2f} "
            f"{result['records_per_s']:>7} {result['precision']:>9.5f} {result['recall']:>7.5f} "
            f"{result['review']:>7} {result['peak_rss_mib']:>6.0f} MiB "
            f"{'-' if traced is None else f'{traced:.0f}':>7} "
            f"{result['add_median_ms']:>5.2f} ms {result['add_p95_ms']:>5.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
