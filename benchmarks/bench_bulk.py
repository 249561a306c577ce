"""Peak memory of ``fhir.read_bulk`` on a generated Bulk Data export, against ``fhir.read``.

Usage::

    python benchmarks/bench_bulk.py [--people 50000] [--compare-people 5000]
                                    [--chunk-mib 64] [--json]

Generates (once, cached under ``/tmp/carecoord-bench-exports``) an export of ``--people``
people (about two records, so two Patient resources, each: 50,000 people give about
100,000 patients) and one of ``--compare-people``; then, each in a fresh interpreter:

* ``read_bulk`` of the large export, iterated to the end (records counted, not kept): wall
  time, peak RSS above the interpreter's baseline (``VmHWM``), sorted runs spilled;
* ``read_bulk`` and ``fhir.read`` of the small export, the same measures: ``fhir.read``
  holds the whole export, ``read_bulk`` one patient, so the two diverge with size.

Memory is the point: the large export is never read whole by ``fhir.read``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _exports import export, info  # noqa: E402 - after the path set-up


def _rss() -> tuple[float, float]:
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith("Vm"))
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child(mode: str, folder: str, chunk: int) -> dict[str, Any]:
    """One measured read in this fresh interpreter."""
    from carecoord import fhir

    start, _ = _rss()
    started = time.perf_counter()
    out: dict[str, Any] = {"mode": mode}
    if mode == "bulk":
        bulk = fhir.read_bulk(folder, chunk_bytes=chunk)
        records = sum(len(part.records) for part in bulk)
        out.update(runs=bulk.runs, issues=len(bulk.issues), patients=bulk.patients)
    else:
        records = len(fhir.read(folder).records)
    out["seconds"] = time.perf_counter() - started
    _, peak = _rss()
    out.update(records=records, base_mib=start, peak_mib=peak, extra_mib=peak - start)
    return out


def _run(mode: str, folder: Path, chunk: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, "--folder", str(folder)]
    command += ["--chunk-bytes", str(chunk)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Generate the exports, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--compare-people", type=int, default=5_000)
    parser.add_argument("--chunk-mib", type=float, default=64)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--folder")
    parser.add_argument("--chunk-bytes", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.chunk_bytes)))
        return
    chunk = int(args.chunk_mib * 2**20)
    load_before = os.getloadavg()
    large, small = export(args.people), export(args.compare_people)
    rows = []
    for name, folder, modes in (("large", large, ("bulk",)), ("small", small, ("bulk", "read"))):
        details = info(folder)
        for mode in modes:
            found = _run(mode, folder, chunk)
            found.update(export=name, people=details["people"], bytes=details["bytes"])
            found["patients_in_export"] = details["lines"]["Patient"]  # type: ignore[index]
            rows.append(found)
            print(json.dumps(found) if args.json else _line(found), flush=True)
    load_after = os.getloadavg()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f}; chunk {args.chunk_mib} MiB"
    )


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['mode']:>4} {row['export']:>5}: {row['patients_in_export']:>9,} patients "
        f"({row['bytes'] / 2**20:,.0f} MiB NDJSON) -> {row['records']:,} records in "
        f"{row['seconds']:.1f} s; peak RSS +{row['extra_mib']:.0f} MiB "
        f"(base {row['base_mib']:.0f} MiB)" + (f", {row['runs']} runs" if "runs" in row else "")
    )


if __name__ == "__main__":
    main()
