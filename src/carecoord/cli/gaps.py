"""``carecoord gaps``: the gaps in care in FHIR input, as a table, JSON, CSV or FHIR."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from carecoord.cli import common
from carecoord.cli.patients import select_profiles
from carecoord.errors import NotFound
from carecoord.profile import profile_label, source_labels
from carecoord.rules import (
    GAP_COLUMNS,
    HOLIDAY_SETS,
    WORKLIST_MONTHS,
    BusinessCalendar,
    GapReport,
    GapStatus,
    RuleSet,
    default_rules,
    describe_gaps,
    detect_gaps_population,
    group_gaps,
    render_gap_groups,
    worklist,
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
    since = (
        f"show the gaps due on or after DATE, or every gap (all); default: {WORKLIST_MONTHS} "
        "months before --as-of (prospective gaps are always shown)"
    )
    parser.add_argument("--since", metavar="DATE|all", help=since)
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


def _window(text: str | None, tz: dt.tzinfo) -> tuple[dt.date | None, int | None]:
    """``--since``: the first due date shown, and the window in months when none is given."""
    if text is None:
        return None, WORKLIST_MONTHS
    if text.strip().lower() == "all":
        return None, None
    return common.parse_as_of(text, tz, "--since").date(), None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``carecoord gaps``; the exit status."""
    tz = common.zone(args.tz)
    as_of = common.parse_as_of(args.as_of, tz)
    since, months = _window(args.since, tz)
    rules = _rules(args)
    calendar = BusinessCalendar.named(args.holidays) if args.holidays else BusinessCalendar()
    profiles, progress = common.load(args, err)
    chosen = select_profiles(profiles, args.patient)
    found = detect_gaps_population(  # every gap: the worklist below windows and counts them
        chosen,
        as_of=as_of,
        rules=rules,
        calendar=calendar,
        include_closed=args.include_closed,
        look_back_months=None,
    )
    shown = worklist(found, as_of=as_of, since=since, months=months)
    reports, gaps = shown.reports, shown.gaps
    progress.note(f"{len(gaps) + shown.hidden:,} gaps in {len(chosen):,} profiles")
    rule_errors = Counter((e.rule, e.error_type) for report in reports for e in report.errors)
    if rule_errors and not args.quiet:
        listed = ", ".join(f"{r} ({t}) x{n}" for (r, t), n in sorted(rule_errors.items()))
        common.warn(err, f"some rules raised and were skipped for some patients: {listed}")
    if shown.hidden and not args.quiet:
        hidden = f"{common.plural(shown.hidden, 'gap')} due before {shown.since} not shown"
        common.note(err, f"{hidden} (show them with --since DATE or --since all)")
    if args.format == "json":
        _write_json(shown.to_record(), out)
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
                out.write(f"({describe_gaps(report)})\n{render_gap_groups(group_gaps(report))}\n")
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
