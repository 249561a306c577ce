"""Proof that two trees merge records into the same profiles, deeply and structurally.

Usage::

    python benchmarks/merge_sameness.py --before OTHER/src [--after src] [--data DIR]

Each tree, in a fresh interpreter of its own, builds profiles for:

* generated populations with facts (1,000 and 10,000 people; with nickname twins and
  namesakes; with a source ranking), and one without facts;
* the Synthea bundles of ``--data`` read with :func:`carecoord.fhir.read`, alone and read
  three times under three source ids (every person in three sources: every fact kind
  folds), with and without a source ranking;
* forced merges (:func:`~carecoord.profile.merge_records` on records of different people,
  so demographics, medications, allergies and problems conflict), duplicated keys, the
  errors of bad input, and incremental additions (``ProfileSet.add``).

Every profile is walked deeply (``reader_sameness.deep``: every attrs field, private ones
too, with the exact type of every value; tuples against lists; order kept) and hashed;
the two trees' digests must be equal case by case. The script prints one combined sha256
per tree and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path("/work/shared/data")
HERE = Path(__file__).resolve()


def _digest(values: Any) -> str:
    sys.path.insert(0, str(HERE.parent))
    from reader_sameness import deep

    hashed = hashlib.sha256()
    for value in values:
        out: list[str] = []
        deep(value, out)
        hashed.update("".join(out).encode("utf-8"))
        hashed.update(b"\n")
    return hashed.hexdigest()


def _profile_set(profiles: Any) -> list[Any]:
    return [*profiles.profiles, ("review", profiles.review)]


def _error(call: Callable[[], Any]) -> list[Any]:
    try:
        return [call()]
    except Exception as err:
        return [("error", type(err).__name__, str(err))]


def cases(data: Path) -> Iterator[tuple[str, Callable[[], list[Any]]]]:
    """(name, build) for every case: ``build`` gives the values to digest."""
    import attrs

    from carecoord import fhir
    from carecoord.profile import build_profiles, merge_records
    from carecoord.testing import generate_population

    def population(n: int, seed: int, **kw: Any) -> list[Any]:
        return list(generate_population(n, seed=seed, **kw).records)

    yield (
        "gen 1000",
        lambda: _profile_set(build_profiles(population(1000, 1, with_facts=True), workers=1)),
    )
    yield (
        "gen 10000",
        lambda: _profile_set(build_profiles(population(10000, 2, with_facts=True), workers=1)),
    )
    yield (
        "gen 3000 hard cases",
        lambda: _profile_set(
            build_profiles(
                population(3000, 3, with_facts=True, nickname_twins=0.3, namesakes=0.3), workers=1
            )
        ),
    )

    def ranked() -> list[Any]:
        records = population(2000, 4, with_facts=True, sources=4)
        sources = sorted({r.source.id for r in records})
        ranking = (sources[2], sources[0], "nowhere")
        return _profile_set(build_profiles(records, source_ranking=ranking, workers=1))

    yield "gen 2000 ranked", ranked
    yield "gen 2000 no facts", lambda: _profile_set(build_profiles(population(2000, 5), workers=1))

    synthea = data / "synthea-smart-r4"

    read_before: dict[str | None, list[Any]] = {}

    def read(source_id: str | None = None) -> list[Any]:
        if source_id not in read_before:
            kw = {} if source_id is None else {"source_id": source_id}
            read_before[source_id] = list(fhir.read(synthea, **kw).records)
        return read_before[source_id]

    yield "synthea", lambda: _profile_set(build_profiles(read(), workers=1))

    def tripled(ranking: tuple[str, ...]) -> list[Any]:
        records = read("site-a") + read("site-b") + read()
        return _profile_set(build_profiles(records, source_ranking=ranking, workers=1))

    yield "synthea x3", lambda: tripled(())
    yield "synthea x3 ranked", lambda: tripled(("site-b", "site-a"))

    def forced(ranking: tuple[str, ...]) -> list[Any]:
        a, b, c = read("site-a"), read("site-b"), read()
        out = []
        for i in range(len(a)):
            j, k = (i + 1) % len(a), (i + 7) % len(a)
            out.append(merge_records([a[i], b[j], c[k]], source_ranking=ranking))
            out.append(merge_records([a[i], b[i], c[j]], source_ranking=ranking))
            out.append(merge_records([c[i], a[k]], profile_id=f"p{i}", source_ranking=ranking))
            out.append(merge_records([c[i]], source_ranking=ranking))
        return out

    yield "synthea forced", lambda: forced(())
    yield "synthea forced ranked", lambda: forced(("site-b", "nowhere", "site-a"))

    def generated_forced() -> list[Any]:
        records = population(600, 6, with_facts=True, sources=5)
        out = []
        for i in range(0, len(records) - 4, 3):
            out.append(merge_records(records[i : i + 4]))
            out.append(merge_records(records[i : i + 2]))
            out.append(merge_records([records[i]]))
        return out

    yield "gen forced", generated_forced

    def duplicated() -> list[Any]:
        import datetime as dt

        records = read()[:20]
        out = []
        for i, record in enumerate(records):
            later = attrs.evolve(
                record,
                source=attrs.evolve(
                    record.source, retrieved_at=dt.datetime(2030, 1, 1 + i % 20, tzinfo=dt.UTC)
                ),
            )
            out.append(merge_records([later, record, record]))
            out.append(merge_records([record, later, records[(i + 1) % 20]]))
        return out

    yield "duplicated keys", duplicated

    def errors() -> list[Any]:
        record = read()[0]
        return [
            *_error(lambda: merge_records([])),
            *_error(lambda: merge_records([record], profile_id="   ")),
            *_error(lambda: merge_records([record], profile_id="")),
            *_error(lambda: merge_records([record, record], profile_id=" x ")),
        ]

    yield "errors", errors

    def incremental() -> list[Any]:
        records = population(300, 7, with_facts=True)
        profiles = build_profiles(records[:-30], workers=1)
        for record in records[-30:]:
            profiles = profiles.add(record)
        return _profile_set(profiles)

    yield "incremental", incremental


def child(data: Path, only: str | None) -> None:
    """Digest every case with the tree on ``sys.path``; print one JSON line per case."""
    for name, build in cases(data):
        if only is not None and not name.startswith(only):
            continue
        values = build()
        print(json.dumps({"case": name, "values": len(values), "sha256": _digest(values)}))
        sys.stdout.flush()


def _start_tree(src: Path, data: Path, only: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, str(HERE), "--child", "--data", str(data)]
    if only:
        command += ["--only", only]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def _rows(process: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"a tree failed (exit {process.returncode})")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    """Run both trees and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--after", type=Path, default=HERE.parent.parent / "src")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--only", help="the cases whose name starts with it")
    args = parser.parse_args()
    if args.child:
        child(args.data, args.only)
        return
    if args.before is None:
        parser.error("--before is required")
    # Both trees run at once (one process each): the cases are deterministic.
    started = {
        "before": _start_tree(args.before.resolve(), args.data, args.only),
        "after": _start_tree(args.after.resolve(), args.data, args.only),
    }
    trees = {label: _rows(process) for label, process in started.items()}
    before, after = trees["before"], trees["after"]
    differ = [b["case"] for b, a in zip(before, after, strict=True) if b != a]
    for label, rows in trees.items():
        whole = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
        values = sum(row["values"] for row in rows)
        print(f"{label:6} {len(rows)} cases, {values} values: sha256 {whole}")
    if differ or len(before) != len(after):
        print(f"DIFFERENT in {len(differ)} cases: {differ}")
        sys.exit(1)
    print("equal: every case gives the same digests")


if __name__ == "__main__":
    main()
