"""The population pipeline on a local Dask cluster, at up to a million records.

Usage::

    python benchmarks/bench_dask.py [--people 500000] [--workers 2] [--threads 1]
                                    [--check-people 2000] [--output DIR] [--partitions N]

Generates (once, cached under ``/tmp/carecoord-bench-exports``) an export of ``--people``
people (about two records each: 500,000 people give about a million records), starts a
``LocalCluster`` of ``--workers`` worker processes, and runs
``carecoord.dask.run_population`` over it with the gap, profile and review tables
written as Parquet under ``--output``; reports the wall time, records, profiles, gaps and
the peak RSS of the workers. First, on ``--check-people`` people, it checks that the
cluster's tables equal ``fhir.read`` + ``carecoord.dask.local_tables`` (the one-machine
result) and times both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _exports import export, info  # noqa: E402 - after the path set-up

AS_OF = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


def _worker_peaks(client: Any) -> list[float]:
    def peak() -> float:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
        return 0.0

    return list(client.run(peak).values())


def check(client: Any, people: int) -> None:
    """The cluster equals one machine on a small export; both timed."""
    from carecoord import fhir
    from carecoord.dask import local_tables, run_population

    folder = export(people)
    started = time.perf_counter()
    run = run_population(folder, as_of=AS_OF, client=client)
    cluster_s = time.perf_counter() - started
    started = time.perf_counter()
    full = fhir.read(folder)
    gaps, members, review = local_tables(full.records, as_of=AS_OF)
    local_s = time.perf_counter() - started
    same = (
        list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
        and sorted(map(str, run.members)) == sorted(map(str, members))
        and sorted(map(str, run.review)) == sorted(map(str, review))
    )
    print(
        f"check at {people:,} people ({run.records:,} records): cluster {cluster_s:.1f} s, "
        f"one machine {local_s:.1f} s; tables equal: {same}",
        flush=True,
    )
    if not same:
        raise SystemExit("the cluster's tables differ from the one-machine tables")


def main() -> None:
    """Generate, check, run at scale, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--check-people", type=int, default=2_000)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--memory-limit", default="6GiB")
    parser.add_argument("--partitions", type=int, default=None)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from carecoord.dask import run_population

    load_before = os.getloadavg()
    folder = export(args.people)
    details = info(folder)
    output = args.output or Path(tempfile.mkdtemp(prefix="carecoord-dask-"))
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=True,
            dashboard_address=":0",
            memory_limit=args.memory_limit,
        ) as cluster,
        Client(cluster) as client,
    ):
        if args.check_people:
            check(client, args.check_people)
        started = time.perf_counter()
        run = run_population(
            folder, as_of=AS_OF, client=client, output=output, partitions=args.partitions
        )
        seconds = time.perf_counter() - started
        peaks = _worker_peaks(client)
    load_after = os.getloadavg()
    print(
        f"{details['records']:,} records ({details['people']:,} people, "
        f"{int(details['bytes']) / 2**20:,.0f} MiB NDJSON): {seconds:.0f} s on "
        f"{args.workers} workers x {args.threads} thread(s); {run.profiles:,} profiles, "
        f"{len(run.gaps):,} gaps, {len(run.review):,} review pairs, {run.rule_errors} rule "
        f"errors; worker peak RSS {', '.join(f'{p:,.0f}' for p in peaks)} MiB; Parquet in "
        f"{output}"
    )
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items()))
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average before {load_before[0]:.2f}, after "
        f"{load_after[0]:.2f}"
    )


if __name__ == "__main__":
    main()
