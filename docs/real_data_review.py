"""The real-data review behind ``docs/real-data-review.md``: gaps on the shared Synthea.

Usage (from the project's root, with the shared data beside it)::

    .venv/bin/python docs/real_data_review.py [--data ../shared/data/synthea-smart-r4]
                                              [--sample 20] [--seed 9]

Each patient is evaluated at its own last encounter + 10 days (as
``../shared/tools/real-data-check`` does), so every worklist is live. It prints the
actionable gaps by rule (open or prospective: in all, and those the default worklist
shows, ``GapReport.worklist()``: due in the last 12 months, prospective or standing),
then a sample of gaps, stratified by rule, each with the facts it rests on, for a person to
judge against the source bundles. It changes nothing.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import random
from pathlib import Path

import carecoord as cc
from carecoord import fhir

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "synthea-smart-r4"


def _last_encounter(profile: cc.PatientProfile) -> dt.datetime | None:
    ends = [
        f.value.period.end or f.value.period.start
        for f in profile.encounters
        if f.value.period.start is not None
    ]
    return max(ends, default=None)


def _fact_line(profile: cc.PatientProfile, key: str) -> str:
    for name, fact in profile.facts():
        if fact.key == key:
            value = fact.value
            code = getattr(value, "code", None) or getattr(value, "specialty", None)
            words = str(code) if code is not None else ""
            for field in ("title", "description", "types", "klass", "kind", "to_setting"):
                extra = getattr(value, field, None)
                if extra:
                    words += f" {field}={extra if not isinstance(extra, tuple) else extra[:2]}"
            dates = [
                f"{field}={getattr(value, field)}"
                for field in (
                    "effective",
                    "issued",
                    "admitted_at",
                    "discharged_at",
                    "onset",
                    "start",
                    "created",
                    "last_reviewed",
                )
                if getattr(value, field, None) is not None
            ]
            status = getattr(getattr(value, "status", None), "value", "")
            return f"{name}: {words} [{status}] {' '.join(dates)}".strip()
    return f"(not in the profile: {key})"


def main() -> None:
    """Print the review."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    files = sorted(p for p in args.data.glob("*.json") if "Information" not in p.name)
    directory = sorted(p for p in args.data.glob("*.json") if "Information" in p.name)
    by_rule: collections.Counter[str] = collections.Counter()
    in_window: collections.Counter[str] = collections.Counter()
    found: list[tuple[cc.PatientProfile, cc.Gap, dt.datetime]] = []
    for path in files:
        result = fhir.read([path, *directory])
        for profile in cc.build_profiles(result.records):
            last = _last_encounter(profile)
            if last is None:
                continue
            as_of = last + dt.timedelta(days=10)
            report = cc.detect_gaps(profile, as_of=as_of, look_back_months=None)
            shown = {gap.key for gap in report.worklist().gaps}
            for gap in report:
                if not gap.status.is_actionable:
                    continue
                by_rule[gap.rule] += 1
                if gap.key in shown:
                    in_window[gap.rule] += 1
                    found.append((profile, gap, as_of))
    print(
        f"{len(files)} patients; actionable gaps: {sum(by_rule.values())} in all, "
        f"{sum(in_window.values())} on the default worklist"
    )
    for rule, count in by_rule.most_common():
        print(f"  {count:6d} {in_window[rule]:6d}  {rule}")
    rng = random.Random(args.seed)
    per_rule: dict[str, list[tuple[cc.PatientProfile, cc.Gap, dt.datetime]]] = {}
    for item in found:
        per_rule.setdefault(item[1].rule, []).append(item)
    sample: list[tuple[cc.PatientProfile, cc.Gap, dt.datetime]] = []
    while len(sample) < args.sample and any(per_rule.values()):
        for rule in sorted(per_rule):
            if per_rule[rule] and len(sample) < args.sample:
                sample.append(per_rule[rule].pop(rng.randrange(len(per_rule[rule]))))
    for n, (profile, gap, as_of) in enumerate(sample, 1):
        print(f"\n#{n} {gap.rule} [{gap.status.value}] due {gap.due} as of {as_of.date()}")
        print(f"   {gap.summary}")
        for evidence in gap.evidence:
            print(f"   {evidence.role.value}: {_fact_line(profile, evidence.ref.id)}")


if __name__ == "__main__":
    main()
