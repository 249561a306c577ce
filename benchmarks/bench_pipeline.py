"""FHIR to gaps: the carecoord pipeline against plain JSON parsing and fhir.resources.

Usage::

    python benchmarks/bench_pipeline.py [--data DIR] [--runs 5] [--as-of 2020-01-01]
                                        [--patients-only] [--no-fhir-resources]
                                        [--no-memory] [--profile] [--top 15] [--json]

Over every ``*.json`` Bundle in ``--data`` (default: the 76 Synthea patients and the two
``*Information*.json`` practitioner and hospital Bundles they refer to; ``--patients-only``
leaves those two out), in one run:

* **file read**: ``Path.read_bytes`` of every file (from the page cache after the first
  run); the parsers below get these bytes from memory, so it is reported on its own;
* **orjson**: ``orjson.loads`` of every file, all results kept (as the pipeline keeps
  them), with the garbage collector as Python leaves it, and again with the collector
  paused around each call (which is how carecoord's reader calls it);
* **json**: the same with the standard library's ``json.loads``;
* **fhir.resources**: ``fhir.resources.R4B.bundle.Bundle.model_validate_json(bytes)``
  for every file; files it rejects are counted;
* **pipeline**: ``carecoord.fhir.read(folder)`` (it reads the files itself, so file
  reading is included), then ``carecoord.build_profiles(result.records)``, then
  ``detect_gaps`` of every profile at ``--as-of`` (noon UTC), each stage timed.

Stages run interleaved, ``--runs`` times, and the medians are reported with the ratios
pipeline / orjson, pipeline / json and fhir.resources / pipeline. The target: the whole
pipeline in at most 3× the orjson parse time.

Unless ``--no-memory``, each stage then runs once more in a fresh interpreter to report
its peak resident set size (``ru_maxrss``) above the interpreter's baseline (imports
done, file bytes loaded for the parsers), and the pipeline once more under
``tracemalloc`` for the peak of Python allocations of each of its stages. ``--profile``
prints a cProfile of each pipeline stage (top functions by own time, share of the
stage) and an uninstrumented split of ``read`` into parsing + flattening and the rest.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib.util
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

DEFAULT_DATA = Path("/work/shared/data/synthea-smart-r4")
TARGET = 3.0
"""The issue's target: the whole pipeline within 3× the orjson parse time."""


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


def _rss() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MiB.

    From ``/proc/self/status`` (``VmRSS``, ``VmHWM``) where there is one: unlike
    ``ru_maxrss``, which Linux carries over from the parent across ``fork`` and ``exec``,
    ``VmHWM`` belongs to this interpreter and :func:`_reset_peak` can reset it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status if line.startswith("Vm"))
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def _reset_peak() -> None:
    """Reset the peak RSS to the current RSS (Linux ``clear_refs``; else a no-op)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        pass


def _stage_memory(func: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``func``; its result and the RSS at its start and peak during it, in MiB."""
    gc.collect()
    start, _ = _rss()
    _reset_peak()
    out = func()
    _, peak = _rss()
    return out, {"start_mib": start, "peak_mib": peak, "extra_mib": peak - start}


def _files(data: Path, patients_only: bool) -> list[Path]:
    files = sorted(p for p in data.glob("*.json") if p.is_file())
    if patients_only:
        files = [p for p in files if "Information" not in p.name]
    return files


def _folder(data: Path, files: list[Path], patients_only: bool) -> tuple[Path, Path | None]:
    """The folder to hand to ``read``: ``data`` itself, or a temporary one of symlinks."""
    if not patients_only:
        return data, None
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    folder = tmp / data.name  # same folder name: same derived source ids
    folder.mkdir()
    for file in files:
        (folder / file.name).symlink_to(file)
    return folder, tmp


# --------------------------------------------------------------------------- stages


def _loads_all(loads: Callable[[bytes], Any], blobs: list[bytes]) -> list[Any]:
    return [loads(b) for b in blobs]


def _loads_all_paused(loads: Callable[[bytes], Any], blobs: list[bytes]) -> list[Any]:
    out = []
    for b in blobs:
        gc.disable()
        try:
            out.append(loads(b))
        finally:
            gc.enable()
    return out


def _fhir_resources_all(blobs: list[bytes]) -> tuple[list[Any], list[str]]:
    from fhir.resources.R4B.bundle import Bundle

    parsed, failed = [], []
    for n, b in enumerate(blobs):
        try:
            parsed.append(Bundle.model_validate_json(b))
        except Exception as err:  # counted and reported
            failed.append(f"file {n}: {type(err).__name__}")
    return parsed, failed


def _pipeline(folder: Path, as_of: dt.datetime) -> tuple[dict[str, float], dict[str, Any]]:
    """Run read → build_profiles → detect_gaps; time each stage; return times and counts."""
    from carecoord import build_profiles, fhir
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    t0 = time.perf_counter()
    result = fhir.read(folder)
    t1 = time.perf_counter()
    profiles = build_profiles(result.records)
    t2 = time.perf_counter()
    reports = [detect_gaps(p, as_of=as_of, rules=rules) for p in profiles]
    t3 = time.perf_counter()
    gaps = Counter(g.rule for r in reports for g in r)
    info = {
        "records": len(result.records),
        "issues": result.issue_codes(),
        "profiles": len(profiles),
        "facts": sum(p.fact_count() for p in profiles),
        "gaps": sum(gaps.values()),
        "gaps_by_rule": dict(gaps.most_common()),
        "rule_errors": sum(len(r.errors) for r in reports),
        "resources": sum(c.read for c in result.counts.values()),
    }
    times = {"read": t1 - t0, "build_profiles": t2 - t1, "detect_gaps": t3 - t2}
    times["pipeline"] = t3 - t0
    return times, info


def measure(
    files: list[Path], folder: Path, as_of: dt.datetime, runs: int, with_fhir_resources: bool
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Every stage ``runs`` times, interleaved; the wall times of each."""
    import orjson

    from carecoord import build_profiles, fhir  # noqa: F401 - imported before timing
    from carecoord.rules import default_rules

    default_rules()
    if with_fhir_resources:
        from fhir.resources.R4B.bundle import Bundle  # noqa: F401 - imported before timing
    blobs = [f.read_bytes() for f in files]
    times: dict[str, list[float]] = {}
    info: dict[str, Any] = {"files": len(files), "bytes": sum(map(len, blobs))}

    def timed(name: str, func: Callable[[], Any]) -> Any:
        gc.collect()
        started = time.perf_counter()
        out = func()
        times.setdefault(name, []).append(time.perf_counter() - started)
        return out

    for run in range(runs):
        timed("file read", lambda: [f.read_bytes() for f in files])
        timed("orjson", lambda: _loads_all(orjson.loads, blobs))
        timed("orjson (gc paused)", lambda: _loads_all_paused(orjson.loads, blobs))
        timed("json", lambda: _loads_all(json.loads, blobs))
        timed("json (gc paused)", lambda: _loads_all_paused(json.loads, blobs))
        if with_fhir_resources:
            _parsed, failed = timed("fhir.resources", lambda: _fhir_resources_all(blobs))
            info["fhir_resources_failed"] = failed
            del _parsed
        gc.collect()
        stage_times, info["pipeline"] = _pipeline(folder, as_of)
        for name, seconds in stage_times.items():
            times.setdefault(name, []).append(seconds)
        print(f"  run {run + 1}/{runs} done", file=sys.stderr, flush=True)
    return times, info


# --------------------------------------------------------------------------- memory


def child(stage: str, files: list[Path], folder: Path, as_of: dt.datetime) -> dict[str, Any]:
    """Run one stage once in this (fresh) interpreter and measure its memory."""
    import orjson

    from carecoord import build_profiles, fhir
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    if stage == "fhir.resources":
        from fhir.resources.R4B.bundle import Bundle  # noqa: F401 - import before baseline
    blobs = [] if stage.startswith("pipeline") else [f.read_bytes() for f in files]
    out: dict[str, Any] = {"stage": stage}
    kept: list[Any] = []
    if stage == "orjson":
        kept, out["rss"] = _stage_memory(lambda: _loads_all(orjson.loads, blobs))
    elif stage == "json":
        kept, out["rss"] = _stage_memory(lambda: _loads_all(json.loads, blobs))
    elif stage == "fhir.resources":
        kept, out["rss"] = _stage_memory(lambda: _fhir_resources_all(blobs))
    elif stage == "pipeline":
        start, _ = _rss()
        result, out["read"] = _stage_memory(lambda: fhir.read(folder))
        profiles, out["build_profiles"] = _stage_memory(lambda: build_profiles(result.records))
        kept, out["detect_gaps"] = _stage_memory(
            lambda: [detect_gaps(p, as_of=as_of, rules=rules) for p in profiles]
        )
        peak = max(out[s]["peak_mib"] for s in ("read", "build_profiles", "detect_gaps"))
        out["rss"] = {"start_mib": start, "peak_mib": peak, "extra_mib": peak - start}
    elif stage == "pipeline-trace":
        tracemalloc.start()
        result = fhir.read(folder)
        read_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        profiles = build_profiles(result.records)
        build_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        kept = [detect_gaps(p, as_of=as_of, rules=rules) for p in profiles]
        gaps_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["traced"] = {
            name: {"peak_mib": peak / 2**20, "retained_mib": current / 2**20}
            for name, (current, peak) in (
                ("read", read_peak),
                ("build_profiles", build_peak),
                ("detect_gaps", gaps_peak),
            )
        }
    else:
        raise SystemExit(f"unknown stage {stage}")
    del kept
    return out


def memory(args: argparse.Namespace, stages: list[str]) -> list[dict[str, Any]]:
    """Each stage in its own interpreter; their memory reports."""
    found = []
    for stage in stages:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            stage,
            "--data",
            str(args.data),
            "--as-of",
            args.as_of,
        ]
        if args.patients_only:
            command.append("--patients-only")
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return found


# --------------------------------------------------------------------------- profiling


def _profile_stage(name: str, func: Callable[[], Any], top: int) -> Any:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    out = func()
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    print(f"\n--- cProfile: {name} ({wall:.2f} s under the profiler, gc paused)")
    print("  own time   share   cumulative   calls  function")
    rows = sorted(entries.items(), key=lambda kv: -kv[1][2])
    for (file, line, func_name), (_cc, calls, tottime, cumtime, _callers) in rows[:top]:
        where = _short(file)
        print(
            f"  {tottime:7.3f} s  {tottime / total:6.1%}  {cumtime:8.3f} s  {calls:>8,}  "
            f"{where}:{line}({func_name})"
        )
    print("  by cumulative time (carecoord functions):")
    mine = [kv for kv in entries.items() if "carecoord" in kv[0][0]]
    mine.sort(key=lambda kv: -kv[1][3])
    for (file, line, func_name), (_cc, calls, _tottime, cumtime, _callers) in mine[:top]:
        print(
            f"  {cumtime:7.3f} s  {cumtime / total:6.1%}  {calls:>8,}  "
            f"{_short(file)}:{line}({func_name})"
        )
    return out


def _short(file: str) -> str:
    marker = f"src{os.sep}carecoord{os.sep}"
    if marker in file:
        return "carecoord/" + file.split(marker, 1)[1]
    if "site-packages" in file:
        return file.split("site-packages" + os.sep, 1)[1]
    return file if file.startswith(("<", "{")) else Path(file).name


class _GcTimer:
    """Time spent in the cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> _GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)


def profile(folder: Path, as_of: dt.datetime, top: int, runs: int) -> None:
    """Print where the pipeline's time goes.

    First without a profiler: the time each stage spends in the cyclic garbage collector
    (``gc.callbacks``), and ``read`` split into file reading + JSON parsing + Bundle
    flattening and the rest. Then a cProfile of each stage, with the collector paused so
    that its pauses are not charged to whatever function happened to allocate.
    """
    from carecoord import build_profiles, fhir
    from carecoord.fhir._input import iter_documents, iter_resources
    from carecoord.fhir._issues import IssueLog
    from carecoord.rules import default_rules, detect_gaps

    rules = default_rules()
    stage_gc: dict[str, list[tuple[float, float, list[int]]]] = {}
    parse_times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        log = IssueLog()
        flat = list(iter_resources(iter_documents(folder, issues=log), issues=log))
        parse_times.append(time.perf_counter() - started)
        del flat
        gc.collect()
        steps: list[tuple[str, Callable[[Any], Any]]] = [
            ("read", lambda _: fhir.read(folder)),
            ("build_profiles", lambda result: build_profiles(result.records)),
            ("detect_gaps", lambda ps: [detect_gaps(p, as_of=as_of, rules=rules) for p in ps]),
        ]
        value: Any = None
        for name, step in steps:
            with _GcTimer() as timer:
                started = time.perf_counter()
                value = step(value)
                wall = time.perf_counter() - started
            stage_gc.setdefault(name, []).append((wall, timer.seconds, timer.collections))
    print(f"\ntime in the cyclic garbage collector (no profiler, median of {runs}):")
    for name, rows in stage_gc.items():
        wall = statistics.median(r[0] for r in rows)
        in_gc = statistics.median(r[1] for r in rows)
        print(
            f"  {name:<15} {wall:7.3f} s, of which gc {in_gc:6.3f} s ({in_gc / wall:4.0%}); "
            f"collections by generation {rows[-1][2]}"
        )
    parse = statistics.median(parse_times)
    whole = statistics.median(r[0] for r in stage_gc["read"])
    print(
        f"read split: file read + JSON parse + Bundle flattening {parse:.3f} s "
        f"({parse / whole:.0%}); the rest (reference index, versions, mapping, records) "
        f"{whole - parse:.3f} s ({1 - parse / whole:.0%})"
    )
    gc.collect()
    gc.disable()
    try:
        result = _profile_stage("carecoord.fhir.read", lambda: fhir.read(folder), top)
        profiles = _profile_stage("build_profiles", lambda: build_profiles(result.records), top)
        _profile_stage(
            "detect_gaps (every profile)",
            lambda: [detect_gaps(p, as_of=as_of, rules=rules) for p in profiles],
            top,
        )
    finally:
        gc.enable()


# --------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×"


def report(times: dict[str, list[float]], info: dict[str, Any], as_of: dt.datetime) -> None:
    """Print the medians, the ratios and the target."""
    med = {name: statistics.median(values) for name, values in times.items()}
    runs = len(times["pipeline"])
    pipe = info["pipeline"]
    print(
        f"\n{info['files']} files, {info['bytes'] / 2**20:.1f} MiB, {pipe['resources']:,} "
        f"resources -> {pipe['records']} records -> {pipe['profiles']} profiles, "
        f"{pipe['facts']:,} facts; {pipe['gaps']:,} gaps at {as_of.isoformat()} "
        f"({pipe['rule_errors']} rule errors)"
    )
    print(f"gaps by rule: {pipe['gaps_by_rule']}")
    print(f"import issues: {pipe['issues']}")
    failed = info.get("fhir_resources_failed")
    if failed is not None:
        print(f"fhir.resources rejected {len(failed)} of {info['files']} files {failed}")
    print(f"\nmedian of {runs} runs (min - max):")
    for name, values in times.items():
        print(
            f"  {name:<22} {med[name]:8.3f} s   ({min(values):.3f} - {max(values):.3f})   "
            f"{info['bytes'] / 2**20 / med[name]:7.1f} MiB/s"
        )
    total = med["pipeline"]
    print("\nratios (medians):")
    print(f"  pipeline / orjson                 {_ratio(total, med['orjson'])}")
    print(f"  pipeline / orjson (gc paused)     {_ratio(total, med['orjson (gc paused)'])}")
    print(f"  pipeline / json                   {_ratio(total, med['json'])}")
    print(f"  pipeline / json (gc paused)       {_ratio(total, med['json (gc paused)'])}")
    if "fhir.resources" in med:
        print(f"  fhir.resources / pipeline         {_ratio(med['fhir.resources'], total)}")
        print(f"  fhir.resources / orjson           {_ratio(med['fhir.resources'], med['orjson'])}")
    for stage in ("read", "build_profiles", "detect_gaps"):
        print(f"  {stage + ' / orjson':<33} {_ratio(med[stage], med['orjson'])}")
    met = total <= TARGET * med["orjson"]
    print(
        f"\ntarget: pipeline <= {TARGET:g}× orjson ({TARGET * med['orjson']:.3f} s): "
        f"{'MET' if met else 'NOT MET'} ({_ratio(total, med['orjson'])}; against the "
        f"gc-paused orjson baseline {_ratio(total, med['orjson (gc paused)'])})"
    )


def main() -> None:
    """Parse arguments; measure, report, then memory and profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--as-of", default="2020-01-01", help="a date; gaps at noon UTC")
    parser.add_argument("--patients-only", action="store_true")
    parser.add_argument("--no-fhir-resources", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    as_of = dt.datetime.combine(dt.date.fromisoformat(args.as_of), dt.time(12), tzinfo=dt.UTC)
    files = _files(args.data, args.patients_only) if args.data.is_dir() else []
    if not files:
        print(f"skipped: no FHIR Bundles (*.json) in {args.data}; pass --data DIR")
        return
    if not _installed("orjson"):
        print("skipped: orjson is the baseline; install the bench group (orjson, fhir.resources)")
        return
    if not args.no_fhir_resources and not _installed("fhir.resources"):
        print("fhir.resources is not installed: its stage is skipped")
        args.no_fhir_resources = True
    folder, tmp = _folder(args.data, files, args.patients_only)
    try:
        if args.child:
            print(json.dumps(child(args.child, files, folder, as_of)))
            return
        from carecoord.fhir._input import JSON_BACKEND
        from carecoord.rules import default_rules

        print(
            f"{platform.machine()} Python {platform.python_version()}  orjson "
            f"{_version('orjson')}  fhir.resources {_version('fhir.resources')} (pydantic "
            f"{_version('pydantic')}, pydantic-core {_version('pydantic-core')})  carecoord "
            f"JSON backend: {JSON_BACKEND}  rules: {len(default_rules())}",
            flush=True,
        )
        times, info = measure(files, folder, as_of, args.runs, not args.no_fhir_resources)
        report(times, info, as_of)
        mem = None
        if not args.no_memory:
            stages = ["orjson", "json", "pipeline", "pipeline-trace"]
            if not args.no_fhir_resources:
                stages.insert(2, "fhir.resources")
            mem = memory(args, stages)
            print("\npeak memory (each stage once, in a fresh interpreter):")
            for m in mem:
                if m["stage"] == "pipeline-trace":
                    for stage, t in m["traced"].items():
                        print(
                            f"  tracemalloc {stage:<15} peak {t['peak_mib']:7.1f} MiB  "
                            f"retained after {t['retained_mib']:7.1f} MiB"
                        )
                    continue
                parts = [m["stage"]]
                if m["stage"] == "pipeline":
                    parts += ["read", "build_profiles", "detect_gaps"]
                for part in parts:
                    r = m[part] if part != m["stage"] else m["rss"]
                    label = part if part == m["stage"] else f"  {part}"
                    print(
                        f"  {label:<18} peak RSS {r['peak_mib']:7.1f} MiB, "
                        f"{r['extra_mib']:+7.1f} MiB over its start ({r['start_mib']:.1f})"
                    )
        if args.profile:
            profile(folder, as_of, args.top, args.runs)
        if args.json:
            print(json.dumps({"times": times, "info": info, "memory": mem}, default=str))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
