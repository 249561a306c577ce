"""The ``carecoord`` command line: gaps in care, unified profiles, the rules, and a demo.

One thin module per command (``gaps``, ``profile``, ``rules``, ``demo``) over public library
functions; ``app`` has the parser and :func:`main`, ``common`` what commands share. Exit
status: 0 success, 1 gaps found with ``--fail-on``, 2 a usage error or unusable input, 130
interrupted. See ``docs/cli.md``.
"""

from __future__ import annotations

from carecoord.cli.app import main
from carecoord.cli.common import (
    EXIT_FAILED_ON,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    parse_as_of,
)
from carecoord.cli.demo import run_demo
from carecoord.rules import GAP_COLUMNS

__all__ = [
    "EXIT_FAILED_ON",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "GAP_COLUMNS",
    "main",
    "run_demo",
]

_parse_as_of = parse_as_of  # the name tests/test_cli.py uses
