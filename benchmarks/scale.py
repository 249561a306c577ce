"""Per-record cost of ``build_profiles`` (linking and merging) from 10k to 1M records.

Usage::

    python benchmarks/scale.py [--records 10000 100000 1000000] [--seed 0] [--profile N]

Each size runs in a fresh subprocess (so peak memory is that size's own): it generates a
population *with facts* (``generate_population(..., with_facts=True)``, about two records
per person), then times ``build_profiles`` on the records in memory, wall clock and CPU
(``time.process_time``, which other sessions sharing the machine disturb less), and
reports the peak resident memory of the process (which includes the generated records).
The last column is the per-record CPU cost divided by that of the first size: a linear
build keeps it near 1. With ``--profile N`` each size also prints the N functions with
the most own time under ``cProfile`` (the profile slows the run; its times are only for
comparing functions). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def measure(records: int, seed: int, profile: int) -> dict[str, float]:
    """Build profiles for about ``records`` records; return timings and peak memory."""
    from carecoord import build_profiles
    from carecoord.testing import generate_population

    population = generate_population(max(1, records // 2), seed=seed, with_facts=True)
    items = list(population.records)
    del population
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    profiles = build_profiles(items)
    if profiler is not None:
        profiler.disable()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(profile)
    return {
        "records": len(items),
        "profiles": len(profiles),
        "wall": wall,
        "cpu": cpu,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Run each size in its own process and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="top N functions per size")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(args.records[0], args.seed, args.profile)
        print(json.dumps(result), flush=True)
        return
    print(f"{platform.machine()} Python {platform.python_version()} cpus={os.cpu_count()}")
    print(f"load average before: {os.getloadavg()}", flush=True)
    first = None
    for records in args.records:
        command = [sys.executable, __file__, "--child", "--records", str(records)]
        command += ["--seed", str(args.seed), "--profile", str(args.profile)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        if args.profile:
            print(done.stderr, flush=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        per_record = result["cpu"] / result["records"] * 1e3
        first = first if first is not None else per_record
        print(
            f"records={result['records']:>9,} profiles={result['profiles']:>9,} "
            f"wall={result['wall']:8.1f}s cpu={result['cpu']:8.1f}s "
            f"cpu/record={per_record:.3f} ms ({per_record / first:.2f}x first) "
            f"peak RSS={result['rss_mib']:,.0f} MiB",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
