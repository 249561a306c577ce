"""``carecoord demo``: the shipped synthetic data set, from reading to a population summary."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TextIO

from carecoord.cli import common
from carecoord.cli.demo_store import day_two
from carecoord.domain import ListKind
from carecoord.errors import MissingExtraError
from carecoord.profile import (
    ProfileSet,
    build_profiles,
    describe_match,
    describe_patient,
    reconciliation_view,
    record_links,
    render_reconciliation,
    render_timeline,
    source_labels,
    table_lines,
    timeline,
)
from carecoord.rules import (
    GAP_STATUS_ORDER,
    BusinessCalendar,
    GapReport,
    describe_gaps,
    detect_gaps_population,
    profile_as_of,
    render_work_list,
    resolve_timezone,
    summarize,
)

_WEEKENDS_ONLY = (
    "Monday to Friday only: the optional 'holidays' package is not installed, "
    "so US federal holidays are not skipped"
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` arguments to ``parser``."""
    parser.add_argument("--as-of", metavar="DATE", help="evaluate at this date instead")
    zone = "time zone for --as-of"
    parser.add_argument("--tz", default="America/New_York", metavar="ZONE", help=zone)


def run(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    """Run ``carecoord demo``; the exit status."""
    as_of = common.parse_as_of(args.as_of, common.zone(args.tz)) if args.as_of else None
    run_demo(out, as_of=as_of)
    return common.EXIT_OK


def run_demo(out: TextIO, *, as_of: dt.datetime | None = None) -> None:
    """Print the demo report to ``out``: profiles, timelines, medications, gaps, summary.

    The shipped synthetic data set (:mod:`carecoord.demo_data`) is read from the package,
    so it works from an installed wheel and without a network. ``as_of`` defaults to
    :data:`~carecoord.demo_data.DEMO_AS_OF`.
    """
    from carecoord import fhir  # noqa: PLC0415 - the adapter is loaded only when used
    from carecoord.demo_data import DEMO_AS_OF, DEMO_TIMEZONE, demo_files  # noqa: PLC0415

    when = as_of or DEMO_AS_OF
    try:
        calendar, days = BusinessCalendar.named("us"), "Monday to Friday minus US federal holidays"
    except MissingExtraError:
        calendar, days = BusinessCalendar(), _WEEKENDS_ONLY
    documents = [json.loads(item.read_bytes()) for item in demo_files()]
    result = fhir.read(documents)
    profiles = build_profiles(result.records)
    labels = source_labels(r.source.id for r in result.records)
    names = {p.id: f"P{n}" for n, p in enumerate(profiles, start=1)}
    out.write("carecoord demo: four invented people, three providers, one shared directory\n")
    out.write(f"Evaluated at {when.isoformat()} ({DEMO_TIMEZONE} local dates)\n")
    out.write(f"Business days: {days}\n")
    resources = sum(c.read for c in result.counts.values())
    out.write(f"\n1. Reading: {len(documents)} FHIR bundles, {resources} resources, ")
    out.write(f"{len(result.records)} patient records from {len(labels)} sources")
    codes = ", ".join(f"{k} x{v}" for k, v in result.issue_codes().items())
    out.write(f" (import notes: {codes})\n" if codes else "\n")
    out.writelines(_identity(profiles, names, labels))
    out.writelines(_timelines(profiles, names, labels, when))
    out.writelines(_medications(profiles, names, labels))
    found = detect_gaps_population(  # the whole record, closed and old gaps too
        profiles, as_of=when, calendar=calendar, include_closed=True, look_back_months=None
    )
    out.writelines(_gaps(profiles, names, list(found)))
    out.writelines(day_two(result.records, profiles, names, when))
    out.write("\nTry: carecoord gaps PATH --as-of 2026-07-15 --format json  (see docs/cli.md)\n")


def _identity(profiles: ProfileSet, names: dict[str, str], labels: dict[str, str]) -> Iterator[str]:
    """2. Which records were linked into which person, how, and where sources disagree."""
    records = sum(len(p.records) for p in profiles)
    yield f"\n2. Identity: {records} records linked into {len(profiles)} people\n"
    for profile in profiles:
        yield f"  {names[profile.id]}  {describe_patient(profile)}\n"
        rows = []
        for link in record_links(profile, profiles.match):
            how = "" if link.result is None else describe_match(link.result)
            rows.append([labels[link.record.source.id], link.record.patient.id, how])
        yield from (line + "\n" for line in table_lines(rows, "      "))
        kinds = Counter(f"{c.kind.value} ({c.field})" for c in profile.conflicts)
        if kinds:
            listed = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items())
            yield f"      sources disagree: {listed}\n"


def _timelines(
    profiles: ProfileSet, names: dict[str, str], labels: dict[str, str], as_of: dt.datetime
) -> Iterator[str]:
    """3. Each person's four latest events, as knowable at ``as_of``."""
    yield "\n3. Timelines, as knowable at the demo instant (the 4 latest events)\n"
    for profile in profiles:
        events = timeline(profile_as_of(profile, as_of, tz=resolve_timezone(profile)))
        if events:
            span = f"{events[0].when.isoformat()[:10]} to {events[-1].when.isoformat()[:10]}"
            yield f"  {names[profile.id]}: {len(events)} events, {span}\n"
            yield render_timeline(events[-4:], labels=labels, indent="    ")


def _medications(
    profiles: ProfileSet, names: dict[str, str], labels: dict[str, str]
) -> Iterator[str]:
    """4. The medication lists that come from more than one source, side by side."""
    yield "\n4. Medication lists side by side (reconciliation view)\n"
    views = [(p, reconciliation_view(p, ListKind.MEDICATIONS)) for p in profiles]
    shown = [(p, view) for p, view in views if len(view.columns) > 1 and view.rows]
    for profile, view in shown:
        yield f"  {names[profile.id]}: {len(view.rows)} medicines, "
        yield f"{len(view.discrepancies)} discrepancies\n"
        yield render_reconciliation(view, labels=labels, indent="    ")
    if not shown:
        yield "  (no medication list comes from more than one source)\n"


def _gaps(
    profiles: ProfileSet, names: dict[str, str], reports: Sequence[GapReport]
) -> Iterator[str]:
    """5. Each person's work list; 6. the population summary."""
    yield "\n5. Gaps to act on (open first, then prospective; due date, rule, what to do)\n"
    for profile, report in zip(profiles, reports, strict=True):
        actionable = report.actionable()
        closed = len(report) - len(actionable)
        yield f"  {names[profile.id]}: {describe_gaps(actionable)}; "
        yield f"{closed} closed or not applicable\n{render_work_list(actionable)}"
    summary = summarize(reports)
    yield "\n6. Population summary\n"
    rows = [["family", *(s.value for s in GAP_STATUS_ORDER)]]
    for family, counts in [*summary.by_family().items(), ("total", summary.by_status)]:
        rows.append([family, *(str(counts.get(s, 0)) for s in GAP_STATUS_ORDER)])
    yield from (line + "\n" for line in table_lines(rows, "  "))
    rate, median = summary.referral_loop_closure_rate, summary.median_days_to_follow_up
    closure = "no referral to measure" if rate is None else f"{rate:.0%}"
    follow_up = "no follow-up visit yet" if median is None else f"{median:.1f} days"
    yield f"  referral loops closed on time (CMS50 style): {closure}\n"
    yield f"  median time from discharge to the follow-up visit: {follow_up}\n"
