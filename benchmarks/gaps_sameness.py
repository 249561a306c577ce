"""Proof that two trees' gap detection gives the same GapReports, gap for gap.

Usage::

    python benchmarks/gaps_sameness.py [--src DIR]            # one tree: print its digests
    python benchmarks/gaps_sameness.py --before OTHER/src [--after src]   # compare two trees

Each tree evaluates, in a fresh interpreter of its own:

* the 76 shared Synthea patients (``fhir.read`` then ``build_profiles``) with
  :func:`~carecoord.rules.detect_gaps` at several ``as_of`` instants (UTC and New York,
  1995 to 2026), with ``include_closed=True`` and without, with ``since``, with
  overrides (a window changed, a rule disabled, a snooze), and with
  :func:`~carecoord.rules.detect_gaps_population`;
* the demo data set (``carecoord.demo_data``) at :data:`DEMO_AS_OF` and around it, and
  :meth:`GapReport.for_viewer` of each report for a clinician, a care coordinator and
  the patient;
* the synthetic episodes of ``benchmarks/bench_rules.py`` (every fact kind, every rule
  family) at 300 and 1,500 facts, with one care team and with one per episode, at its
  ``AS_OF`` and 60 days before;
* generated populations (``generate_population(with_facts=True)``, seeds 0 and 1) as
  they are and with one episode added to every record (as ``bench_rules.py
  --population`` does), with ``detect_gaps_population``.

Every report is reduced to a deep walk that names every value's exact type (the
report's fields, every gap's every attrs field, evidence, enums, time zones, tuples
against lists, frozensets sorted) and its order: the digests must be equal case by case.
The script prints one combined sha256 per tree and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
SYNTHEA = Path("/work/shared/data/synthea-smart-r4")
UTC = dt.UTC


def _digest(reports: Any) -> str:
    from reader_sameness import deep

    walked = hashlib.sha256()
    for report in reports:
        out: list[str] = []
        deep(report, out)
        walked.update("".join(out).encode("utf-8"))
        walked.update(b"\n")
    return walked.hexdigest()


def _as_ofs() -> list[dt.datetime]:
    import zoneinfo

    ny = zoneinfo.ZoneInfo("America/New_York")
    return [
        dt.datetime(1995, 6, 1, 9, tzinfo=UTC),
        dt.datetime(2008, 3, 9, 6, 30, tzinfo=ny),
        dt.datetime(2014, 11, 2, 1, 30, tzinfo=ny),
        dt.datetime(2017, 12, 29, 23, 59, tzinfo=UTC),
        dt.datetime(2020, 1, 1, 12, tzinfo=UTC),
        dt.datetime(2026, 7, 15, 12, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
    ]


def _synthea_cases(profiles: list[Any]) -> Iterator[tuple[str, Callable[[], Any]]]:
    from carecoord.rules import (
        Overrides,
        Snooze,
        default_rules,
        detect_gaps,
        detect_gaps_population,
    )

    rules = default_rules()
    for as_of in _as_ofs():
        stamp = as_of.isoformat()
        yield (
            f"synthea {stamp}",
            lambda a=as_of: [detect_gaps(p, as_of=a, rules=rules) for p in profiles],
        )
        yield (
            f"synthea {stamp} include_closed",
            lambda a=as_of: [detect_gaps(p, as_of=a, include_closed=True) for p in profiles],
        )
    as_of = dt.datetime(2020, 1, 1, 12, tzinfo=UTC)
    yield (
        "synthea since 2015-01-01",
        lambda: [
            detect_gaps(p, as_of=as_of, since=dt.date(2015, 1, 1), include_closed=True)
            for p in profiles
        ],
    )
    yield (
        "synthea population",
        lambda: list(detect_gaps_population(profiles, as_of=as_of, include_closed=True)),
    )
    first = detect_gaps(profiles[0], as_of=as_of)
    snoozes = [
        Snooze(gap.rule, gap.patient, dt.date(2020, 3, 1), "sameness", gap.focus)
        for gap in list(first)[:3]
    ]
    snoozes.append(Snooze("result.unacknowledged", profiles[1].id, dt.date(2020, 2, 1), "all"))
    overrides = Overrides(
        disabled=frozenset({"result.missing"}),
        parameters={"result.unacknowledged": {"within_business_days": 10}},
        snoozes=tuple(snoozes),
    )
    yield (
        "synthea overrides",
        lambda: [
            detect_gaps(p, as_of=as_of, overrides=overrides, include_closed=True) for p in profiles
        ],
    )
    only = rules.only("result.unacknowledged", "transition.admission-notice-missing")
    yield (
        "synthea two rules",
        lambda: [detect_gaps(p, as_of=as_of, rules=only, include_closed=True) for p in profiles],
    )


def _demo_cases() -> Iterator[tuple[str, Callable[[], Any]]]:
    from carecoord import build_profiles, fhir
    from carecoord.demo_data import DEMO_AS_OF, demo_files
    from carecoord.domain import Ref
    from carecoord.profile import Viewer, ViewerRole
    from carecoord.rules import detect_gaps

    result = fhir.read([f.read_bytes() for f in demo_files()])
    profiles = list(build_profiles(result.records))
    instants = [DEMO_AS_OF + dt.timedelta(days=d) for d in (-90, -30, -7, 0, 1, 30, 365)]
    for as_of in instants:
        yield (
            f"demo {as_of.date()}",
            lambda a=as_of: [detect_gaps(p, as_of=a, include_closed=True) for p in profiles],
        )

    def viewed() -> list[Any]:
        out = []
        for profile in profiles:
            report = detect_gaps(profile, as_of=DEMO_AS_OF, include_closed=True)
            viewers = [
                Viewer(Ref("Practitioner", "pcp-1"), ViewerRole.CLINICIAN),
                Viewer(Ref("Practitioner", "coordinator-1"), ViewerRole.CARE_COORDINATOR),
                Viewer(Ref("Patient", profile.patient.id), ViewerRole.PATIENT),
            ]
            for viewer in viewers:
                try:
                    out.append(report.for_viewer(profile, viewer))
                except Exception as error:  # the refusal is part of the answer
                    out.append(f"{type(error).__name__}: {error}")
        return out

    yield "demo for_viewer", viewed


def _episode_cases() -> Iterator[tuple[str, Callable[[], Any]]]:
    import bench_rules

    from carecoord.profile._model import profile_from_record
    from carecoord.rules import detect_gaps

    for facts in (300, 1500):
        for teams in (1, None):
            record = bench_rules.patient_record(facts, spacing_days=3, care_teams=teams)
            profile = profile_from_record(record)
            for back in (0, 60):
                as_of = bench_rules.AS_OF - dt.timedelta(days=back)
                yield (
                    f"episodes {facts} teams={teams} -{back}d",
                    lambda p=profile, a=as_of: [
                        detect_gaps(p, as_of=a, include_closed=True),
                        detect_gaps(p, as_of=a),
                    ],
                )


def _population_cases() -> Iterator[tuple[str, Callable[[], Any]]]:
    import bench_rules

    from carecoord import build_profiles
    from carecoord.rules import detect_gaps_population
    from carecoord.testing import generate_population

    as_of = bench_rules.AS_OF
    for seed in (0, 1):
        population = generate_population(150, seed=seed, with_facts=True)
        plain = list(build_profiles(population.records))
        records = []
        for n, record in enumerate(population.records):
            start = as_of - dt.timedelta(days=20 + (n * 7) % 200)
            extra = bench_rules.episode(100_000 + n, record.patient.id, start)
            records.append(record.with_facts(**extra))
        rich = list(build_profiles(records))
        for name, profiles in (("facts", plain), ("episodes", rich)):
            yield (
                f"population seed={seed} {name}",
                lambda ps=profiles: list(
                    detect_gaps_population(ps, as_of=as_of, include_closed=True)
                ),
            )
            yield (
                f"population seed={seed} {name} open",
                lambda ps=profiles: list(detect_gaps_population(ps, as_of=as_of)),
            )


def cases() -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, evaluate) for every input and option."""
    from carecoord import build_profiles, fhir

    profiles = list(build_profiles(fhir.read(SYNTHEA).records))
    yield from _synthea_cases(profiles)
    yield from _demo_cases()
    yield from _episode_cases()
    yield from _population_cases()


def child() -> None:
    """Evaluate every case in this interpreter and print one JSON line per case."""
    import carecoord

    tree = Path(carecoord.__file__).resolve().parent.parent
    for name, run in cases():
        if not str(Path(sys.modules["carecoord.rules"].__file__ or "")).startswith(str(tree)):
            raise SystemExit("carecoord.rules loaded from another tree")
        reports = run()
        gaps = sum(len(r) for r in reports if not isinstance(r, str))
        row = {"case": name, "gaps": gaps, "digest": _digest(reports), "tree": str(tree)}
        print(json.dumps(row), flush=True)


def _run_tree(src: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE.parent}"}
    command = [sys.executable, str(HERE), "--child"]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    trees = {row.pop("tree") for row in rows}
    if trees != {str(src.resolve())}:
        raise SystemExit(f"expected {src.resolve()}, evaluated with {sorted(trees)}")
    return rows


def _combined(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def main() -> None:
    """Run one tree, or two and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help="run this tree only and print its digests")
    parser.add_argument("--before", type=Path, help="the tree to compare against")
    parser.add_argument("--after", type=Path, default=HERE.parent.parent / "src")
    args = parser.parse_args()
    if args.child:
        child()
        return
    if args.before is None:
        src = args.src or args.after
        rows = _run_tree(src)
        for row in rows:
            print(f"{row['case']:48} {row['gaps']:>7} {row['digest'][:16]}")
        print(f"{len(rows)} cases, {sum(r['gaps'] for r in rows)} gaps; sha256 {_combined(rows)}")
        return
    before = _run_tree(args.before)
    after = _run_tree(args.after)
    differ = [
        (b["case"], b["digest"][:12], a["digest"][:12])
        for b, a in zip(before, after, strict=True)
        if b != a
    ]
    for case, b, a in differ:
        print(f"DIFFERS {case}: before {b} after {a}")
    print(
        f"{len(before)} cases, {sum(r['gaps'] for r in before)} gaps\n"
        f"before {args.before}: sha256 {_combined(before)}\n"
        f"after  {args.after}: sha256 {_combined(after)}"
    )
    if differ or len(before) != len(after):
        sys.exit(1)
    print("same")


if __name__ == "__main__":
    main()
