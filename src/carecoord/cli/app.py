"""The argument parser and :func:`main`: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from carecoord.cli import common, demo, gaps, ingest, listen, profile, rules, worklist
from carecoord.errors import CarecoordError
from carecoord.profile import printable

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]] = {
    "gaps": ("find gaps in care in FHIR data", gaps.configure, gaps.run),
    "profile": ("show the unified patient profiles", profile.configure, profile.run),
    "rules": ("list the gap rules and their families", rules.configure, rules.run),
    "demo": ("run the built-in synthetic multi-provider demo", demo.configure, demo.run),
    "ingest": ("read FHIR input into a coordinator store", ingest.configure, ingest.run),
    "worklist": ("the worklist kept in a coordinator store", worklist.configure, worklist.run),
    "events": (
        "the store's outbox events after a cursor, as JSON lines",
        worklist.configure_events,
        worklist.run_events,
    ),
    "listen": ("receive HL7 v2 messages over MLLP", listen.configure, listen.run),
}
"""Each command: its help line, the function adding its arguments, and the one running it."""


def parser() -> argparse.ArgumentParser:
    """The ``carecoord`` argument parser, with every command of :data:`COMMANDS`."""
    top = argparse.ArgumentParser(
        prog=common.PROG,
        description="Care coordination: referrals, transitions, tasks and gaps in care.",
        epilog=(
            "Exit status: 0 ok, 1 gaps found with --fail-on, 2 usage error or bad input,"
            " 130 interrupted."
        ),
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, configure, _run) in COMMANDS.items():
        configure(commands.add_parser(name, help=help_text))
    return top


def _version() -> str:
    """The installed distribution's version (``carecoord.__version__``)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - only here

    try:
        return version("carecoord")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Whatever happens, standard error gets at most one line and no traceback: a carecoord
    error (bad arguments, unusable input, input over a limit) and running out of memory
    exit 2, Ctrl-C (``KeyboardInterrupt``) exits 130.
    """
    try:
        try:
            args = parser().parse_args(argv)
        except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
            return stop.code if isinstance(stop.code, int) else common.EXIT_USAGE
        return COMMANDS[args.command][2](args, sys.stdout, sys.stderr)
    except CarecoordError as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _fail(f"error: {printable(message)}", common.EXIT_USAGE)
    except MemoryError:
        return _fail("error: out of memory (see --limit to read less at once)", common.EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", common.EXIT_INTERRUPTED)
    except BrokenPipeError:  # pragma: no cover - the reader of stdout went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return common.EXIT_OK


def _fail(message: str, status: int) -> int:
    """Write one line on standard error (the command's name first); return ``status``."""
    with contextlib.suppress(OSError, ValueError):  # stdout may be closed or gone
        sys.stdout.flush()
    sys.stderr.write(f"{common.PROG}: {message}\n")
    sys.stderr.flush()
    return status
