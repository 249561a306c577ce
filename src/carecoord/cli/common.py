"""What the commands share: exit statuses, usage errors, progress, dates, reading input."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import time
import zoneinfo
from typing import TYPE_CHECKING, TextIO

import attrs

from carecoord.cli.inputs import read_inputs
from carecoord.errors import CarecoordError, ValidationError
from carecoord.profile import (
    ProfileSet,
    build_profiles,
    printable,
)

if TYPE_CHECKING:
    from carecoord.fhir import Limits

EXIT_OK = 0
"""Exit status: the command did what was asked."""
EXIT_FAILED_ON = 1
"""Exit status: ``gaps --fail-on`` found a gap at or above the threshold."""
EXIT_USAGE = 2
"""Exit status: a usage error, or input that cannot be used (path, date, rule id, a limit)."""
EXIT_INTERRUPTED = 130
"""Exit status: interrupted (Ctrl-C), as shells report a SIGINT (128 + 2)."""
PROG = "carecoord"
"""The command's name, at the start of every line on standard error."""


class UsageError(CarecoordError):
    """A bad argument or unusable input: printed as one line, exit status 2."""


class Progress:
    """Progress lines on standard error, when enabled (a TTY, or ``--progress``)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream, self.enabled, self._started = stream, enabled, time.perf_counter()

    def note(self, message: str) -> None:
        """Write ``message`` and the seconds since the last note, when progress is enabled."""
        now = time.perf_counter()
        elapsed, self._started = now - self._started, now
        if self.enabled:
            self.stream.write(f"{PROG}: {message} ({elapsed:.1f} s)\n")
            self.stream.flush()


def warn(err: TextIO, message: str) -> None:
    """One warning line on ``err``."""
    err.write(f"{PROG}: warning: {message}\n")


def note(err: TextIO, message: str) -> None:
    """One information line on ``err`` (what the output leaves out, and how to see it)."""
    err.write(f"{PROG}: {message}\n")


def zone(name: str) -> dt.tzinfo:
    """The time zone ``--tz`` names: ``UTC`` (or ``Z``) or an IANA name."""
    if name.upper() in {"UTC", "Z"}:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = f"--tz: unknown time zone {name!r} (use an IANA name such as America/New_York)"
        raise UsageError(msg) from None


def parse_as_of(text: str, tz: dt.tzinfo, option: str = "--as-of") -> dt.datetime:
    """An ISO date (the end of that day, 23:59:59, in ``tz``) or an ISO date-time.

    A date-time without an offset is read in ``tz``.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(23, 59, 59), tz)
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = (
            f"{option}: {text!r} is not an ISO date (2026-07-15) or date-time "
            "(2026-07-15T12:00:00-04:00)"
        )
        raise UsageError(msg) from None
    return stamp if stamp.utcoffset() is not None else stamp.replace(tzinfo=tz)


def plural(count: int, word: str) -> str:
    """``"1 gap"``, ``"1,234 gaps"``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_LIMIT = re.compile(r"(?P<name>[a-z_]+)=(?P<number>[0-9][0-9_]*)(?P<unit>[kmg]?)(?:i?b)?")


def limits(args: argparse.Namespace) -> Limits:
    """The ``carecoord.fhir.Limits`` of the ``--limit NAME=N`` options (defaults for none).

    ``N`` is a whole number, optionally followed by ``K``, ``M`` or ``G`` (binary: ``2G``
    is ``2 * 2**30``): ``--limit max_file_bytes=2G --limit max_depth=100``.
    """
    from carecoord.fhir import Limits  # noqa: PLC0415 - the adapter is loaded only when used

    names = [field.name for field in attrs.fields(Limits)]
    chosen: dict[str, int] = {}
    for text in args.limit or ():
        found = _LIMIT.fullmatch(text.strip().lower())
        if found is None or found["name"] not in names:
            raise UsageError(f"--limit: expected NAME=N with NAME one of {', '.join(names)}")
        chosen[found["name"]] = int(found["number"]) * _UNITS[found["unit"]]
    try:
        return Limits(**chosen)
    except ValidationError as error:
        problem = error.problems[0]
        raise UsageError(f"--limit: {problem.path} {problem.message}") from None


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of the commands that read FHIR input: paths, patients, zone, progress."""
    paths = "FHIR JSON/NDJSON (gzip too) or HL7 v2 (.hl7) files or folders"
    parser.add_argument("paths", nargs="+", metavar="PATH", help=paths)
    limit = (
        "raise or lower a bound of the read, such as max_file_bytes=2G or max_depth=100"
        " (repeatable; see docs/fhir.md, Limits)"
    )
    parser.add_argument("--limit", action="append", metavar="NAME=N", help=limit)
    patient = "only this patient: a profile id, SOURCE/ID or a record's patient id (repeatable)"
    parser.add_argument("--patient", action="append", metavar="ID", help=patient)
    tz = "time zone for --as-of dates and date-times without offset (default: UTC)"
    parser.add_argument("--tz", default="UTC", metavar="ZONE", help=tz)
    parser.add_argument("--progress", action="store_true", help="report progress on stderr")
    parser.add_argument("--quiet", action="store_true", help="no progress and no warnings")


def load(args: argparse.Namespace, err: TextIO) -> tuple[ProfileSet, Progress]:
    """Read ``args.paths`` (FHIR and HL7 v2) and build the profiles, reporting on ``err``.

    Import issues are counted by code, never with paths or values. Input with no patient
    record in it (no FHIR, or none that can be read) is a :class:`UsageError` (exit 2).
    The progress reporter is returned for the command's next steps.
    """
    from carecoord import fhir  # noqa: PLC0415 - the adapter is loaded only when used

    for text in args.paths:
        check_path(text)
    bounds = limits(args)
    progress = Progress(err, enabled=not args.quiet and (args.progress or err.isatty()))
    result = read_inputs(args.paths, bounds)
    over = [i for i in result.issues if i.code == fhir.IssueCode.LIMIT_EXCEEDED]
    if over:
        first = over[0]
        more = f" (and {len(over) - 1:,} more)" if len(over) > 1 else ""
        msg = f"input over a limit: {first.source}: {first.message}{more}; see --limit"
        raise UsageError(msg)
    resources = sum(c.read for c in result.counts.values())
    noun, records = "path" if len(args.paths) == 1 else "paths", len(result.records)
    progress.note(f"read {len(args.paths)} {noun}, {resources:,} resources, {records:,} records")
    if not result.records:  # never a silent "0 gaps for 0 patients" that --fail-on passes
        found = f" (import: {fhir.summarize_issues(result.issues)})" if result.issues else ""
        raise UsageError(f"no patient records found in the input{found}")
    if not args.quiet and result.issues:
        warn(err, f"import: {fhir.summarize_issues(result.issues)}")
    profiles = build_profiles(result.records)
    progress.note(plural(len(profiles), "profile"))
    return profiles, progress


def check_path(text: str) -> None:
    """A PATH argument must name something readable; the message names it as typed."""
    shown = printable(text)
    if not text.strip():
        raise UsageError("PATH: an empty path names no file (use . for the current folder)")
    try:
        os.stat(text)
    except FileNotFoundError:
        raise UsageError(f"cannot read {shown}: no such file or directory") from None
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else None
        raise UsageError(f"cannot read {shown}: {(reason or 'not a valid path').lower()}") from None
    if not os.access(text, os.R_OK):
        raise UsageError(f"cannot read {shown}: permission denied")
