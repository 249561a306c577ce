"""``carecoord profile``: the unified patient profiles, as text or JSON."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from carecoord.cli import common
from carecoord.cli.patients import select_profiles
from carecoord.profile import (
    possible_match_to_record,
    printable,
    profile_to_record,
    render_profile,
    source_labels,
)
from carecoord.rules import profile_as_of, resolve_timezone


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``profile`` arguments to ``parser``."""
    common.add_input_arguments(parser)
    as_of = "show the profiles as knowable at this date"
    parser.add_argument("--as-of", metavar="DATE", help=as_of)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output")
    parser.add_argument("--timeline", action="store_true", help="also print each timeline")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``carecoord profile``; the exit status."""
    tz = common.zone(args.tz)
    as_of = common.parse_as_of(args.as_of, tz) if args.as_of else None
    profiles, _progress = common.load(args, err)
    chosen = select_profiles(profiles, args.patient)
    if as_of is not None:
        chosen = [profile_as_of(p, as_of, tz=resolve_timezone(p)) for p in chosen]
    keys = {r.key for p in chosen for r in p.records}
    review = [m for m in profiles.review if m.left in keys or m.right in keys]
    match, with_timeline = profiles.match, args.timeline
    if args.format == "json":
        data = {
            "as_of": None if as_of is None else as_of.isoformat(),
            "profiles": [
                profile_to_record(p, match=match, with_timeline=with_timeline) for p in chosen
            ],
            "review": [possible_match_to_record(m) for m in review],
        }
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return common.EXIT_OK
    labels = source_labels(r.source.id for r in profiles.records)
    for p in chosen:
        out.write(render_profile(p, match=match, labels=labels, with_timeline=with_timeline))
    records = sum(len(p.records) for p in chosen)
    out.write(f"{common.plural(len(chosen), 'profile')} from {common.plural(records, 'record')}\n")
    if review:
        out.write("Possible matches to review (not merged):\n")
    for m in review:
        left = f"{labels.get(m.left[0], m.left[0])}/{m.left[1]}"
        right = f"{labels.get(m.right[0], m.right[0])}/{m.right[1]}"
        out.write(printable(f"  {left} ~ {right}: {m.grade.value} (score {m.score:.1f})") + "\n")
    return common.EXIT_OK
