"""Fuzz the FHIR input path for as long as wanted, and count what escapes.

Usage: ``python benchmarks/fuzz_input.py [--examples N] [--seed S] [--report-every K]``.

Each example is made by ``tests/fhir/_fuzz.py`` from the seed ``S + i`` (mutated shared
FHIR documents, hand-made hostile text, files with patient-like names, special files) and
checked with both JSON parsers through every public entry point (see that module). The
test suite runs the same check for a bounded number of examples; this script runs many
more and, instead of stopping at the first, counts every escape (an exception that is
not a carecoord error, a planted secret in a message, a control character in rendered
text), with the seed that reproduces it: ``python benchmarks/fuzz_input.py --seed SEED
--examples 1``. It exits 1 when anything escaped. Not part of ``make bench``; it needs
the test dependencies (``pip install -e . --group test``), and reads the shared data when
it is there. Results: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT, _ROOT / "src"):
    if _path.is_dir() and str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.fhir import _fuzz  # noqa: E402 - after the sys.path set-up


def main(argv: list[str]) -> int:
    """Run the examples; print counts, escapes and timing; 1 when anything escaped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="how many inputs")
    parser.add_argument("--seed", type=int, default=0, help="the first example's seed")
    parser.add_argument("--report-every", type=int, default=5_000, metavar="K")
    args = parser.parse_args(argv)
    if not _fuzz.corpus():
        print(f"no shared data under {_fuzz.SHARED_DATA}: hand-made inputs only")
    kinds: collections.Counter[str] = collections.Counter()
    escapes: collections.Counter[tuple[str, str, str]] = collections.Counter()
    first: dict[tuple[str, str, str], tuple[int, _fuzz.Escape]] = {}
    started = time.perf_counter()
    for index in range(args.examples):
        seed = args.seed + index
        try:
            kind, found = _fuzz.run_one(seed)
        except Exception as error:  # the generator itself failed: report it, go on
            kind = "generator-failed"
            found = [_fuzz.Escape("make-input", "-", kind, type(error).__name__, str(error))]
        kinds[kind] += 1
        for escape in found:
            key = (escape.step, escape.what, escape.detail[:80])
            escapes[key] += 1
            first.setdefault(key, (seed, escape))
        if args.report_every and (index + 1) % args.report_every == 0:
            elapsed = time.perf_counter() - started
            print(f"{index + 1:,} examples, {sum(escapes.values()):,} escapes ({elapsed:.0f} s)")
            sys.stdout.flush()
    elapsed = time.perf_counter() - started
    print(
        f"{args.examples:,} examples (seeds {args.seed}-{args.seed + args.examples - 1}) "
        f"with parsers {', '.join(_fuzz.BACKENDS)} in {elapsed:.0f} s "
        f"({elapsed / max(1, args.examples) * 1000:.1f} ms each)"
    )
    print("inputs: " + ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common()))
    print(f"escapes: {sum(escapes.values()):,}")
    for key, count in escapes.most_common():
        seed, escape = first[key]
        print(f"  {count:,} x {escape.step} {escape.what} ({escape.backend}, seed {seed}):")
        print(f"      {escape.detail}")
    return 1 if escapes else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
