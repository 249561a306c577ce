"""Per-record cost of ``build_profiles`` (linking and merging) from 10k to 1M records.

Usage::

    python benchmarks/scale.py [--records 10000 100000 1000000] [--seed 0] [--profile N]
                               [--workers N] [--repeat N] [--cache DIR]

Each size runs in a fresh subprocess (so peak memory is that size's own): it generates a
population *with facts* (``generate_population(..., with_facts=True)``, about two records
per person), then times ``build_profiles`` on the records in memory, wall clock and CPU
(``time.process_time``, which other sessions sharing the machine disturb less), and
reports the peak resident memory of the process (which includes the generated records)
and the peak memory of the process *and its scoring workers together*: the sum of their
proportional set sizes (``Pss`` in ``/proc/<pid>/smaps_rollup``; forked workers share
the parent's pages, so the sum of their resident sets would count those pages twice),
sampled from this script's own process every ``--sample-every`` seconds (1 by default)
over the whole run of the size. CPU is given for the main process and for the workers it
waited for (``RUSAGE_CHILDREN``). The last column is the per-record wall time divided by that of the
first size: a linear build keeps it near 1. With ``--profile N`` each size also prints the
N functions with the most own time under ``cProfile`` (the profile slows the run; its
times are only for comparing functions). The load average is printed before and after.

``--repeat N`` runs the sizes N times, interleaved (``100k, 1M, 100k, 1M, ...``), so that
a change in the machine's load touches every size alike, and prints the median wall time
of each size and the ratio of each size's median to the first's, with the range of the
ratios of the rounds. ``--cache DIR`` keeps each generated population there as a pickle
(made by the first run of its size, then loaded by every run, that one too, so that all
build from records laid out alike in memory): a million records take about four minutes
to generate and one and a half to load.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pickle
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _pss_mib(pid: int) -> float:
    """The proportional set size of one process, MiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from ``/proc/<pid>/task/*/children``)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as kids:
                    stack.extend(int(kid) for kid in kids.read().split())
            except OSError:
                continue
    return found


def _run_sampled(command: list[str], interval: float) -> tuple[str, str, float]:
    """Run ``command``; return its stdout, stderr and the peak summed PSS of its tree.

    The sampling is done here, in another process than the one measured, once every
    ``interval`` seconds: reading ``smaps_rollup`` walks the page tables of a process of
    several GiB, which a thread inside it would pay for (and would take the GIL from it).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, sum(_pss_mib(pid) for pid in _tree(child.pid)))
            time.sleep(interval)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command, stdout, stderr)
    return stdout, stderr, peak


def _population(records: int, seed: int, cache: Path | None) -> list[Any]:
    """The generated records (from ``cache`` when it holds them; written there if not)."""
    from carecoord.testing import generate_population

    stored = None if cache is None else cache / f"population-{records}-seed-{seed}.pickle"
    if stored is not None and stored.is_file():
        with stored.open("rb") as data:
            loaded: list[Any] = pickle.load(data)
        return loaded
    population = generate_population(max(1, records // 2), seed=seed, with_facts=True)
    items = list(population.records)
    del population
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(".partial")
        with partial.open("wb") as data:
            pickle.dump(items, data, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(stored)
        del items  # every run builds from the loaded records, this one too
        return _population(records, seed, cache)
    return items


def measure(
    records: int, seed: int, profile: int, workers: int | None, cache: Path | None = None
) -> dict[str, float]:
    """Build profiles for about ``records`` records; return timings and peak memory."""
    from carecoord import build_profiles

    started = time.perf_counter()
    items = _population(records, seed, cache)
    generated = time.perf_counter() - started
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiler = cProfile.Profile() if profile else None
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    profiles = build_profiles(items, workers=workers)
    if profiler is not None:
        profiler.disable()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(profile)
    return {
        "records": len(items),
        "profiles": len(profiles),
        "wall": wall,
        "cpu": cpu,
        "workers_cpu": workers_cpu,
        "generate_s": generated,
        "records_rss_mib": before_rss,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Run each size in its own process and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="top N functions per size")
    parser.add_argument(
        "--workers", type=int, default=None, help="build_profiles(workers=...); default: its own"
    )
    parser.add_argument(
        "--sample-every", type=float, default=1.0, help="seconds between memory samples"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the sizes")
    parser.add_argument("--cache", type=Path, default=None, help="keep populations here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(args.records[0], args.seed, args.profile, args.workers, args.cache)
        print(json.dumps(result), flush=True)
        return
    print(f"{platform.machine()} Python {platform.python_version()} cpus={os.cpu_count()}")
    print(f"load average before: {os.getloadavg()}", flush=True)
    first = None
    walls: dict[int, list[float]] = {}
    for records in [size for _round in range(args.repeat) for size in args.records]:
        command = [sys.executable, __file__, "--child", "--records", str(records)]
        command += ["--seed", str(args.seed), "--profile", str(args.profile)]
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        if args.cache is not None:
            command += ["--cache", str(args.cache)]
        stdout, stderr, tree_peak = _run_sampled(command, args.sample_every)
        if args.profile:
            print(stderr, flush=True)
        result = json.loads(stdout.strip().splitlines()[-1])
        result["tree_pss_mib"] = tree_peak
        walls.setdefault(records, []).append(result["wall"])
        per_record = result["wall"] / result["records"] * 1e3
        first = first if first is not None else per_record
        print(
            f"records={result['records']:>9,} profiles={result['profiles']:>9,} "
            f"generated in {result['generate_s']:.1f}s | build wall={result['wall']:8.1f}s "
            f"cpu main={result['cpu']:8.1f}s workers={result['workers_cpu']:.1f}s "
            f"wall/record={per_record:.3f} ms ({per_record / first:.2f}x first) | "
            f"peak RSS={result['rss_mib']:,.0f} MiB (records alone "
            f"{result['records_rss_mib']:,.0f}), with workers (PSS)="
            f"{result['tree_pss_mib']:,.0f} MiB",
            flush=True,
        )
    if args.repeat > 1:
        _summary(walls, args.records)
    print(f"load average after: {os.getloadavg()}")


def _summary(walls: dict[int, list[float]], sizes: list[int]) -> None:
    """Median wall time per size, and each size's ratio to the first size."""
    base = walls[sizes[0]]
    for size in sizes:
        times = walls[size]
        rounds = [t / b for t, b in zip(times, base, strict=True)]
        print(
            f"size {size:>9,}: median wall {statistics.median(times):8.1f}s over "
            f"{len(times)} runs ({', '.join(f'{t:.1f}' for t in times)}); median ratio to "
            f"{sizes[0]:,}: {statistics.median(times) / statistics.median(base):.2f} "
            f"(rounds {min(rounds):.2f} to {max(rounds):.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
