"""``carecoord ingest``: read FHIR input into a coordinator store (a SQLite file)."""

from __future__ import annotations

import argparse
from typing import TextIO

from carecoord.cli import common
from carecoord.errors import UsageError
from carecoord.services import Coordinator, OnInvalid, retry_on_conflict
from carecoord.stores import SQLiteStore


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--db FILE`` argument every store command takes."""
    parser.add_argument("--db", required=True, metavar="FILE", help="the SQLite store file")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``ingest`` arguments to ``parser``."""
    common.add_input_arguments(parser)
    add_db_argument(parser)
    as_of = (
        "evaluate as of this ISO date (its end, 23:59:59 in --tz) or date-time;"
        " default: the newest retrieval time in the input"
    )
    parser.add_argument("--as-of", metavar="DATE", help=as_of)
    refuse = "refuse the whole input if any record is invalid (default: skip and report it)"
    parser.add_argument("--refuse-invalid", action="store_true", help=refuse)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``carecoord ingest``; the exit status."""
    from carecoord import fhir  # noqa: PLC0415 - the adapter is loaded only when used

    tz = common.zone(args.tz)
    for text in args.paths:
        common.check_path(text)
    result = fhir.read_paths(args.paths, limits=common.limits(args))
    if not args.quiet and result.issues:
        common.warn(err, f"import: {fhir.summarize_issues(result.issues)}")
    if args.as_of:
        as_of = common.parse_as_of(args.as_of, tz)
    else:
        stamps = [r.source.retrieved_at for r in result.records if r.source.retrieved_at]
        if not stamps:
            msg = "--as-of is needed: the input carries no retrieval time"
            raise UsageError(msg)
        as_of = max(stamps)
    store = SQLiteStore(args.db)
    coordinator = Coordinator(store)
    on_invalid: OnInvalid = "refuse" if args.refuse_invalid else "skip"
    try:  # another process writing the same file at once: redo the ingest on a conflict
        changes = retry_on_conflict(
            lambda: coordinator.ingest(result, as_of=as_of, on_invalid=on_invalid)
        )
    finally:
        store.close()
    out.write(f"{changes.summary()}\n")
    if not args.quiet:
        reasons: dict[str, int] = {}
        for skipped in changes.skipped:
            reasons[skipped.reason] = reasons.get(skipped.reason, 0) + 1
        for reason, count in sorted(reasons.items()):
            common.note(err, f"skipped {common.plural(count, 'record')}: {reason}")
    return common.EXIT_OK
