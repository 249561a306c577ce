"""The read -> profiles -> gaps pipeline against ``orjson.loads`` at its best, best of N.

Usage::

    python benchmarks/pipeline_vs_orjson.py [--data DIR] [--runs 7] [--src DIR]

Over the ``*.json`` files of ``--data`` (default: the 76 shared Synthea patient Bundles
and the two directory Bundles), interleaved, ``--runs`` times:

* **orjson, each result freed**: ``orjson.loads`` of every file's bytes (from memory),
  each result dropped before the next parse;
* **orjson, collector paused**: the same, all results kept, with the cyclic garbage
  collector paused around the whole loop, as ``fhir.read(pause_gc=True)`` pauses it;
* **pipeline**: ``fhir.read(folder)`` (which reads the files itself), ``build_profiles``,
  then ``detect_gaps`` of every profile.

The baseline is the faster of the two orjson variants (orjson at its best); the ratio
pipeline / baseline is reported on the best run of each (best of N) and on medians, with
the load average before and after (other processes share the CPU). ``--src`` runs another
checkout's ``src`` (a "before" tree) with the same script. The issue's target is 3x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path("/work/shared/data/synthea-smart-r4")
AS_OF = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)


def _freed(loads: Callable[[bytes], Any], blobs: list[bytes]) -> None:
    for blob in blobs:
        loads(blob)


def _paused(loads: Callable[[bytes], Any], blobs: list[bytes]) -> list[Any]:
    gc.disable()
    try:
        return [loads(blob) for blob in blobs]
    finally:
        gc.enable()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    args = parser.parse_args()
    sys.path.insert(0, str(args.src))
    import orjson

    from carecoord import build_profiles, fhir
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    files = sorted(args.data.glob("*.json"))
    blobs = [f.read_bytes() for f in files]
    fhir.read(args.data)  # warm: imports, caches, page cache
    times: dict[str, list[float]] = {}

    def timed(name: str, func: Callable[[], Any]) -> Any:
        gc.collect()
        started = time.perf_counter()
        out = func()
        times.setdefault(name, []).append(time.perf_counter() - started)
        return out

    load_before = os.getloadavg()
    gaps = 0
    for _ in range(args.runs):
        timed("orjson, each result freed", lambda: _freed(orjson.loads, blobs))
        kept = timed("orjson, collector paused", lambda: _paused(orjson.loads, blobs))
        del kept
        gc.collect()
        started = time.perf_counter()
        result = fhir.read(args.data)
        read = time.perf_counter()
        profiles = build_profiles(result.records)
        built = time.perf_counter()
        reports = [detect_gaps(p, as_of=AS_OF, rules=rules) for p in profiles]
        done = time.perf_counter()
        gaps = sum(len(r) for r in reports)
        for name, seconds in (
            ("read", read - started),
            ("build_profiles", built - read),
            ("detect_gaps", done - built),
            ("pipeline", done - started),
        ):
            times.setdefault(name, []).append(seconds)
        del result, profiles, reports
    load_after = os.getloadavg()
    base = "orjson, each result freed"
    if min(times["orjson, collector paused"]) < min(times[base]):
        base = "orjson, collector paused"
    print(
        f"{len(files)} files, {sum(map(len, blobs)) / 2**20:.1f} MiB, {gaps} gaps; src {args.src}"
    )
    print(f"{'stage':28} {'best':>8} {'median':>8}  {'best / baseline':>15}")
    for name, values in times.items():
        ratio = min(values) / min(times[base])
        print(f"{name:28} {min(values):8.3f} {statistics.median(values):8.3f}  {ratio:14.2f}x")
    best = min(times["pipeline"]) / min(times[base])
    median = statistics.median(times["pipeline"]) / statistics.median(times[base])
    print(
        f"pipeline / orjson at its best ({base}): best {best:.2f}x, medians {median:.2f}x "
        f"(target 3x); load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"{args.runs} runs"
    )


if __name__ == "__main__":
    main()
