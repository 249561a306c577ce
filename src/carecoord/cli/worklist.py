"""``carecoord worklist`` and ``carecoord events``: read a coordinator store."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any, TextIO

from carecoord.cli import common
from carecoord.cli.ingest import add_db_argument
from carecoord.errors import UsageError
from carecoord.ports import Event, GapState
from carecoord.profile import printable, table_lines
from carecoord.services import Coordinator
from carecoord.stores import SQLiteStore

_COLUMNS = ("due", "severity", "status", "rule", "person", "assigned", "summary")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``worklist`` arguments to ``parser``."""
    add_db_argument(parser)
    as_of = "the worklist as of this ISO date (its end, 23:59:59 in --tz) or date-time"
    parser.add_argument("--as-of", required=True, metavar="DATE", help=as_of)
    parser.add_argument("--tz", default="UTC", metavar="ZONE", help="time zone for --as-of")
    parser.add_argument("--owner", metavar="WHO", help="only gaps assigned to WHO")
    parser.add_argument("--team", metavar="TEAM", help="only gaps of TEAM")
    parser.add_argument("--family", action="append", metavar="FAMILY", help="rule family")
    parser.add_argument("--severity", action="append", metavar="LEVEL", help="severity")
    parser.add_argument("--due-before", metavar="DATE", help="only gaps due before DATE")
    since = "show gaps due on or after DATE, or all (default: 12 months before --as-of)"
    parser.add_argument("--since", metavar="DATE|all", help=since)
    parser.add_argument("--include-snoozed", action="store_true", help="show snoozed gaps too")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output")


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: {printable(text)!r} is not an ISO date") from None


def gap_json(state: GapState) -> dict[str, Any]:
    """A worklist line as JSON-safe data (ids, codes, dates; no notes' text)."""
    gap = state.gap
    return {
        "key": state.key,
        "person": state.person,
        "rule": gap.rule,
        "family": gap.family,
        "status": gap.status.value,
        "severity": gap.severity.value,
        "due": gap.due.isoformat(),
        "summary": gap.summary,
        "action": gap.action,
        "sensitivity": sorted(s.value for s in gap.sensitivity),
        "assigned_to": state.assigned_to,
        "team": state.team,
        "snoozed_until": state.snoozed_until.isoformat() if state.snoozed_until else None,
        "dismissed": state.dismissed,
        "notes": len(state.notes),
        "version": state.version,
    }


def run(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    """Run ``carecoord worklist``; the exit status."""
    as_of = common.parse_as_of(args.as_of, common.zone(args.tz))
    since = None
    if args.since:
        since = dt.date.min if args.since.strip() == "all" else _date(args.since, "--since")
    due_before = _date(args.due_before, "--due-before") if args.due_before else None
    store = SQLiteStore(args.db)
    try:
        states = Coordinator(store).worklist(
            as_of,
            owner=args.owner,
            team=args.team,
            family=args.family,
            severity=args.severity,
            due_before=due_before,
            due_since=since,
            include_snoozed=args.include_snoozed,
        )
    finally:
        store.close()
    if args.format == "json":
        json.dump([gap_json(s) for s in states], out, indent=2)
        out.write("\n")
        return common.EXIT_OK
    rows = [
        (
            str(s.gap.due)[:16],
            s.gap.severity.value,
            s.gap.status.value,
            s.gap.rule,
            s.person[:15],
            s.assigned_to or "",
            s.gap.summary[:60],
        )
        for s in states
    ]
    for line in table_lines([_COLUMNS, *rows]):
        out.write(f"{line}\n")
    out.write(f"{common.plural(len(states), 'gap')}\n")
    return common.EXIT_OK


def configure_events(parser: argparse.ArgumentParser) -> None:
    """Add the ``events`` arguments to ``parser``."""
    add_db_argument(parser)
    parser.add_argument("--after", type=int, default=0, metavar="N", help="after position N")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N events")


def event_json(event: Event) -> dict[str, Any]:
    """An outbox event as JSON-safe data."""
    return {
        "position": event.position,
        "kind": event.kind,
        "person": event.person,
        "subject": event.subject,
        "at": event.at.isoformat(),
        "rule": event.rule,
        "status": event.status,
        "sensitivity": list(event.sensitivity),
        "data": dict(event.data),
        "redacted": event.redacted,
    }


def run_events(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    """Run ``carecoord events``: one JSON object per line, in position order."""
    if args.after < 0 or (args.limit is not None and args.limit < 1):
        raise UsageError("--after must be 0 or more and --limit 1 or more")
    store = SQLiteStore(args.db)
    try:
        events = Coordinator(store).events(after=args.after, limit=args.limit)
    finally:
        store.close()
    for event in events:
        out.write(json.dumps(event_json(event), sort_keys=True) + "\n")
    return common.EXIT_OK
