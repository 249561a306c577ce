"""Fuzz the HL7 v2 reader for as long as wanted: only carecoord errors may escape.

Usage::

    python benchmarks/fuzz_hl7v2.py [--cases 20000] [--seed 0]

Runs the mutation fuzzer of ``tests/hl7v2/_fuzz.py`` (mutated FHIR-Converter samples and
specification fixtures, a secret planted in every patient name) case by case, and prints
every escape (an exception that is not a carecoord error, or the secret in an error or
issue message) with the seed that reproduces it. Exit status 1 when anything escaped.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for extra in (_ROOT / "src", _ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def main(argv: list[str]) -> int:
    """Run ``--cases`` cases from ``--seed`` on; report the escapes."""
    from tests.hl7v2 import _fuzz

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not _fuzz.samples():
        print("no shared samples found", file=sys.stderr)
        return 2
    started = time.perf_counter()
    escaped: dict[str, int] = {}
    for seed in range(args.seed, args.seed + args.cases):
        _kind, escapes = _fuzz.run_one(random.Random(seed))
        for escape in escapes:
            escaped.setdefault(escape, seed)
    seconds = time.perf_counter() - started
    print(f"{args.cases:,} cases in {seconds:.0f} s, {len(escaped)} kinds of escape")
    for escape, seed in sorted(escaped.items()):
        print(f"  seed {seed}: {escape}")
    return 1 if escaped else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
