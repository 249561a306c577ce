"""``carecoord gaps``: the gaps in care in FHIR input, as a table, JSON, CSV or FHIR."""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from carecoord.cli import common
from carecoord.errors import NotFound
from carecoord.profile import profile_label, source_labels
from carecoord.rules import (
    GAP_COLUMNS,
    HOLIDAY_SETS,
    BusinessCalendar,
    GapReport,
    GapStatus,
    RuleSet,
    default_rules,
    describe_gaps,
    detect_gaps_population,
    render_gaps,
)

FAIL_ON: dict[str, frozenset[GapStatus]] = {
    "open": frozenset({GapStatus.OPEN}),
    "prospective": frozenset({GapStatus.OPEN, GapStatus.PROSPECTIVE}),
    "any": frozenset(GapStatus),
}
"""``--fail-on`` values and the statuses that make the command exit 1."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``gaps`` arguments to ``parser``."""
    common.add_input_arguments(parser)
    as_of = "evaluate as of this ISO date (its end, 23:59:59 in --tz) or date-time"
    parser.add_argument("--as-of", required=True, metavar="DATE", help=as_of)
    formats = ("table", "json", "csv", "fhir")
    parser.add_argument("--format", choices=formats, default="table", help="output")
    chosen = parser.add_mutually_exclusive_group()
    only, skip = "only these rules or families", "all rules but these rules or families"
    chosen.add_argument("--rules", action="append", metavar="ID,...", help=only)
    chosen.add_argument("--skip", action="append", metavar="ID,...", help=skip)
    holidays = "skip US federal holidays in business days"
    parser.add_argument("--holidays", choices=HOLIDAY_SETS, help=holidays)
    closed = "also report closed and not-applicable gaps"
    parser.add_argument("--include-closed", action="store_true", help=closed)
    since = "only gaps whose clock started on or after DATE (a work or measurement period)"
    parser.add_argument("--since", metavar="DATE", help=since)
    fail = "exit 1 if a gap is open (open), open or prospective (prospective), or any"
    parser.add_argument("--fail-on", choices=tuple(FAIL_ON), help=fail)


def _rules(args: argparse.Namespace) -> RuleSet:
    """The catalogue, or the rules ``--rules`` keeps or ``--skip`` drops (``RuleSet.select``)."""
    catalogue, given = default_rules(), args.rules or args.skip
    names = [item.strip() for value in given or () for item in value.split(",") if item.strip()]
    try:
        chosen = catalogue.select(*names) if given else catalogue
    except NotFound as error:
        option = "--rules" if args.rules else "--skip"
        raise common.UsageError(f"{option}: {error} (run `carecoord rules` to list them)") from None
    return catalogue.without(*chosen.ids) if args.skip else chosen


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``carecoord gaps``; the exit status."""
    tz = common.zone(args.tz)
    as_of = common.parse_as_of(args.as_of, tz)
    since = common.parse_as_of(args.since, tz, "--since").date() if args.since else None
    rules = _rules(args)
    calendar = BusinessCalendar.named(args.holidays) if args.holidays else BusinessCalendar()
    profiles, progress = common.load(args, err)
    chosen = common.select_profiles(profiles, args.patient)
    reports = list(
        detect_gaps_population(
            chosen,
            as_of=as_of,
            rules=rules,
            calendar=calendar,
            include_closed=args.include_closed,
            since=since,
        )
    )
    gaps = [g for report in reports for g in report]
    progress.note(f"{len(gaps):,} gaps in {len(chosen):,} profiles")
    rule_errors = Counter((e.rule, e.error_type) for report in reports for e in report.errors)
    if rule_errors and not args.quiet:
        listed = ", ".join(f"{r} ({t}) x{n}" for (r, t), n in sorted(rule_errors.items()))
        common.warn(err, f"some rules raised and were skipped for some patients: {listed}")
    if args.format == "json":
        _write_json([record for report in reports for record in report.to_records()], out)
    elif args.format == "csv":
        _write_csv(reports, out)
    elif args.format == "fhir":
        from carecoord.fhir import write_gaps_bundle  # noqa: PLC0415 - loaded only when used

        _write_json(write_gaps_bundle(chosen, reports, timestamp=as_of), out)
    else:
        labels = source_labels(r.source.id for r in profiles.records)
        for profile, report in zip(chosen, reports, strict=True):
            if report:
                out.write(f"{profile_label(profile, labels)}: {len(report):,} gaps ")
                out.write(f"({describe_gaps(report)})\n{render_gaps(report)}\n")
        patients = sum(1 for report in reports if report)
        out.write(f"{len(gaps):,} gaps for {patients:,} of {len(reports):,} patients ")
        out.write(f"({describe_gaps(gaps)})\n")
    if args.fail_on and any(g.status in FAIL_ON[args.fail_on] for g in gaps):
        return common.EXIT_FAILED_ON
    return common.EXIT_OK


def _write_json(data: object, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "evidence":
        return "; ".join(f"{e['role']}:{e['type']}/{e['id']}" for e in value)
    if name == "sensitivity":
        return " ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(reports: Sequence[GapReport], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GAP_COLUMNS)
    for report in reports:
        writer.writerows(
            [_csv_cell(k, record[k]) for k in GAP_COLUMNS] for record in report.to_records()
        )
