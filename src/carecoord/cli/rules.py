"""``carecoord rules``: the rule catalogue's ids, families, severities and titles."""

from __future__ import annotations

import argparse
from typing import TextIO

from carecoord.cli import common
from carecoord.profile import table_lines
from carecoord.rules import default_rules


def configure(parser: argparse.ArgumentParser) -> None:
    """``rules`` takes no argument."""


def run(_args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    """Run ``carecoord rules``; the exit status."""
    rows = [["id", "family", "severity", "title"]]
    rows.extend(
        [r.id, r.metadata.family, r.metadata.severity.value, r.metadata.title]
        for r in default_rules()
    )
    out.writelines(line + "\n" for line in table_lines(rows))
    return common.EXIT_OK
