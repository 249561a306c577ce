"""Run every benchmark in this folder, one after another, and print their reports.

Usage: ``python benchmarks/run.py [NAME ...]`` where NAME is a benchmark file stem such as
``bench_matching``. Benchmarks run on demand (``make bench``), never in the test suite; the
figures go to ``docs/benchmarks.md`` with the machine and the date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the selected (default: all) benchmarks; return the worst exit status."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem in argv]
    worst = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        done = subprocess.run([sys.executable, str(script)], check=False)
        worst = max(worst, done.returncode)
    return worst


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
