"""``carecoord rules``: the rule catalogue's ids, families, severities and titles."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from carecoord.cli import common
from carecoord.profile import table_lines
from carecoord.rules import default_rules

COLUMNS = ("id", "family", "severity", "title")
"""The columns of ``carecoord rules``, in the table and in each JSON object."""


def configure(parser: argparse.ArgumentParser) -> None:
    """``rules`` takes ``--format table|json``."""
    formats = ("table", "json")
    parser.add_argument("--format", choices=formats, default="table", help="output")


def run(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    """Run ``carecoord rules``; the exit status."""
    rows = [
        [r.id, r.metadata.family, r.metadata.severity.value, r.metadata.title]
        for r in default_rules()
    ]
    if args.format == "json":
        records = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        json.dump(records, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.writelines(line + "\n" for line in table_lines([list(COLUMNS), *rows]))
    return common.EXIT_OK
