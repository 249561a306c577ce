"""The coordinator on a SQLite store: bulk ingest, one-record latency, bytes per person.

Usage::

    python benchmarks/coordinator.py [--data DIR] [--runs 3] [--people 50000]
                                     [--samples 60] [--skip-synthea] [--skip-population]
                                     [--profile]

Three measurements, in one run:

(a) **Synthea bulk ingest**: the 76 Synthea patient bundles (and the two directory bundles
    they refer to) read with ``carecoord.fhir.read`` alone, against ``fhir.read`` followed
    by ``Coordinator(SQLiteStore(empty file)).ingest(result)`` (link, evaluate, persist),
    interleaved, best of ``--runs``. Reported as the ratio of the two (target: at most
    2.5x).
(b) **One new record in a big store**: a store holding a generated population of
    ``--people`` persons (``carecoord.testing.generate_population``: demographics only,
    or with conditions and medications with ``--with-facts``), loaded in one ingest, then
    ``--samples`` ingests of one new record each (a new source's copy of an existing
    person's record, with a new condition), timed from the call to the returned changes:
    median and p95 (target: p95 under 50 ms).
(c) **Bytes on disk per person**: the SQLite file (and its WAL) after (b), divided by the
    persons stored.

The load average is printed before and after: the machine is shared. Each latency is
given as wall-clock time and as the CPU time of this process (``time.process_time``),
which waiting for a busy machine's cores does not inflate.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs

from carecoord import fhir
from carecoord.domain import Code, Condition, PatientRecord, Source, System
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore
from carecoord.testing import generate_population

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "synthea-smart-r4"
AS_OF = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def synthea(data: Path, runs: int, profile: bool) -> None:
    """(a) fhir.read alone against read + ingest into an empty SQLite store."""
    paths = sorted(str(p) for p in data.glob("*.json"))
    read_times: list[float] = []
    ingest_times: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            start = time.perf_counter()
            fhir.read(paths)
            alone = time.perf_counter() - start
            read_times.append(alone)

            db = Path(tmp) / f"synthea-{run}.db"
            start = time.perf_counter()
            result = fhir.read(paths)
            middle = time.perf_counter()
            store = SQLiteStore(db)
            profiler = cProfile.Profile() if profile and run == 0 else None
            if profiler:
                profiler.enable()
            changes = Coordinator(store).ingest(result, as_of=AS_OF)
            if profiler:
                profiler.disable()
            store.close()
            end = time.perf_counter()
            ingest_times.append(end - middle)
            ratios.append((end - start) / alone)
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        size = sum(f.stat().st_size for f in Path(tmp).glob("synthea-0.db*"))
    read, ingest = min(read_times), min(ingest_times)
    print(f"(a) {len(paths)} files, {len(result.records)} records: {changes.summary()}")
    print(f"    fhir.read alone      best {read:.2f} s  (runs: {_fmt(read_times)})")
    print(f"    ingest (SQLite)      best {ingest:.2f} s  (runs: {_fmt(ingest_times)})")
    print(
        f"    ratio (read + ingest) / read: {(read + ingest) / read:.2f}x of the bests, "
        f"median per run {statistics.median(ratios):.2f}x (target <= 2.5x)"
    )
    print(
        f"    store size           {size / 1e6:.1f} MB for {len(changes.persons_created)} persons"
    )


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _new_copy(record: PatientRecord, n: int) -> PatientRecord:
    """A new source's copy of ``record`` with one new condition."""
    source = Source(f"bench-source-{n}", retrieved_at=AS_OF)
    condition = Condition(
        id=f"bench-cond-{n}",
        patient=record.patient.id,
        code=Code(System.ICD10CM, "I10", "Essential hypertension"),
    )
    return attrs.evolve(record, source=source, conditions=(condition,))


def population(people: int, samples: int, profile: bool, with_facts: bool) -> None:
    """(b) one-record ingest latency in a big store, and (c) bytes per person."""
    start = time.perf_counter()
    pop = generate_population(people, seed=11, with_facts=with_facts)
    print(
        f"(b) generated {people:,} people, {len(pop.records):,} records in "
        f"{time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "population.db"
        store = SQLiteStore(db, synchronous="NORMAL")
        coordinator = Coordinator(store)
        start = time.perf_counter()
        coordinator.ingest(pop.records, as_of=AS_OF)  # the initial load: one ingest
        loaded = time.perf_counter() - start
        persons = len(coordinator.persons())
        print(f"    loaded into SQLite in {loaded:.1f} s: {persons:,} persons")
        rng = random.Random(5)
        picks = rng.sample(list(pop.records), samples)
        latencies = []
        cpu_times = []
        profiler = cProfile.Profile() if profile else None
        for n, record in enumerate(picks):
            new = _new_copy(record, n)
            if profiler:
                profiler.enable()
            begin, cpu = time.perf_counter(), time.process_time()
            changes = coordinator.ingest([new], as_of=AS_OF)
            latencies.append((time.perf_counter() - begin) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
            if profiler:
                profiler.disable()
            assert changes.records_added == (new.key,)
        store.close()
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        for label, values in (("wall-clock", latencies), ("CPU time", cpu_times)):
            values.sort()
            p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
            print(
                f"    one new record, {label}: median {statistics.median(values):.1f} ms, "
                f"p95 {p95:.1f} ms, max {values[-1]:.1f} ms over {samples} ingests "
                "(target p95 < 50 ms)"
            )
        size = sum(f.stat().st_size for f in Path(tmp).glob("population.db*"))
        print(
            f"(c) {size / 1e6:.1f} MB on disk: {size / persons:,.0f} bytes per person "
            f"({len(pop.records) / people:.2f} records per person, "
            f"{'with' if with_facts else 'without'} facts)"
        )


def main() -> None:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--skip-synthea", action="store_true")
    parser.add_argument("--skip-population", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--with-facts", action="store_true", help="population records with facts")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load before: {_load()}")
    if not args.skip_synthea:
        synthea(args.data, args.runs, args.profile)
    if not args.skip_population:
        population(args.people, args.samples, args.profile, args.with_facts)
    print(f"load after: {_load()}")


if __name__ == "__main__":
    main()
