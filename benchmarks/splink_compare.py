"""carecoord against Splink (DuckDB backend) on the same generated population.

Usage::

    python benchmarks/splink_compare.py [--people 10000 100000 200000] [--seed 0]

Needs the ``bench`` dependency group (``pip install --group bench -e .``: Splink, DuckDB,
pyarrow). For each size, one population is generated (``generate_population``, 3 sources,
1 to 3 records per person, default error mix: typos, nicknames, day/month swaps, moves,
twins, households) and each tool runs in its own subprocess on it, so that peak memory is
that tool's own:

* **carecoord**: ``build_profiles`` (linking and merging) on the records in memory;
* **Splink**: from a table in memory (a pyarrow table of the same demographics,
  flattened one row per record), its tutorial workflow with its recommended settings:
  name, date-of-birth, e-mail and exact-match comparisons with term-frequency
  adjustments, blocking on name, birth date, postal code, phone and e-mail; training
  (``estimate_probability_two_random_records_match``, ``estimate_u_using_random_sampling``
  on 1e6 pairs, expectation maximisation blocked on names and on birth date), prediction
  and clustering at match probability 0.95. Timed from the registered table to the
  clusters.

Both are scored with :meth:`Population.score` (pairwise precision, recall, F1) on the
generated truth. Times are wall clock for the timed part; "process CPU s" is the whole
subprocess's CPU time over all its threads (generation included), the fairer figure when
other sessions load the machine. The load average is printed before and after. Peak
memory is the subprocess's peak resident set, which includes the input.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _population(people: int, seed: int) -> Any:
    from carecoord.testing import generate_population

    return generate_population(people, seed=seed)


def _rows(population: Any) -> dict[str, list[Any]]:
    """The records' demographics, one row per record (what Splink gets)."""
    from carecoord.domain import ContactSystem

    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "unique_id",
            "first_name",
            "surname",
            "dob",
            "sex",
            "street",
            "city",
            "postcode",
            "phone",
            "email",
        )
    }
    for n, record in enumerate(population.records):
        patient = record.patient
        name = patient.names[0] if patient.names else None
        given = name.given[0].lower() if name is not None and name.given else None
        birth = patient.birth_date
        address = patient.addresses[0] if patient.addresses else None
        phones = [
            "".join(c for c in point.value if c.isdigit())[-10:]
            for point in patient.telecom
            if point.system is ContactSystem.PHONE
        ]
        emails = [
            point.value.strip().lower()
            for point in patient.telecom
            if point.system is ContactSystem.EMAIL
        ]
        columns["unique_id"].append(n)
        columns["first_name"].append(given)
        columns["surname"].append(name.family.lower() if name is not None and name.family else None)
        columns["dob"].append(
            f"{birth.year:04d}-{birth.month:02d}-{birth.day:02d}"
            if birth is not None and birth.day is not None and birth.month is not None
            else None
        )
        columns["sex"].append(patient.sex.value)
        columns["street"].append(
            address.lines[0].lower() if address is not None and address.lines else None
        )
        columns["city"].append(address.city.lower() if address and address.city else None)
        columns["postcode"].append(
            address.postal_code[:5] if address and address.postal_code else None
        )
        columns["phone"].append(phones[0] if phones else None)
        columns["email"].append(emails[0] if emails else None)
    return columns


def run_carecoord(people: int, seed: int) -> dict[str, Any]:
    """Link and merge with ``build_profiles``; score it."""
    from carecoord import build_profiles

    population = _population(people, seed)
    records = list(population.records)
    started = time.perf_counter()
    profiles = build_profiles(records)
    elapsed = time.perf_counter() - started
    score = population.score(tuple(r.key for r in p.records) for p in profiles)
    return {"records": len(records), "seconds": elapsed, **_scored(score)}


def run_splink(people: int, seed: int) -> dict[str, Any]:
    """Train, predict and cluster with Splink on DuckDB; score it."""
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    population = _population(people, seed)
    keys = [record.key for record in population.records]
    table = pa.table(_rows(population))
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("phone"),
            block_on("email"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("street").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    started = time.perf_counter()
    frame = db_api.register(table)
    linker = Linker(frame, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("email")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    rows = clusters.as_record_list()
    elapsed = time.perf_counter() - started
    groups: dict[Any, list[tuple[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["cluster_id"], []).append(keys[int(row["unique_id"])])
    score = population.score(groups.values())
    return {"records": len(keys), "seconds": elapsed, **_scored(score)}


def _scored(score: Any) -> dict[str, float]:
    precision, recall = score.precision, score.recall
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def main() -> None:
    """Run both tools at each size, each in a subprocess, and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 200_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("carecoord", "splink"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runner = run_carecoord if args.child == "carecoord" else run_splink
        result = runner(args.people[0], args.seed)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["rss_mib"] = usage.ru_maxrss / 1024
        result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result), flush=True)
        return
    print(f"{platform.machine()} Python {platform.python_version()} cpus={os.cpu_count()}")
    print(f"load average before: {os.getloadavg()}", flush=True)
    print("| people (records) | tool | P | R | F1 | seconds | process CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for people in args.people:
        for tool in ("carecoord", "splink"):
            command = [sys.executable, __file__, "--child", tool, "--people", str(people)]
            command += ["--seed", str(args.seed)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"| {people:,} | {tool} | failed: {done.stderr.strip()[-300:]} |")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"| {people:,} ({r['records']:,}) | {tool} | {r['precision']:.4f} | "
                f"{r['recall']:.4f} | {r['f1']:.4f} | {r['seconds']:.1f} | "
                f"{r.get('cpu_seconds', 0.0):.1f} | {r['rss_mib']:,.0f} |",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
