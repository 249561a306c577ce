"""Linking and merging timed apart, in one process, for one population size.

Usage::

    python benchmarks/scale_phases.py PEOPLE [--workers 1] [--no-facts]

Generates ``generate_population(PEOPLE, seed=0, with_facts=...)`` (about two records per
person), then does what ``build_profiles`` does in two timed steps, with the cyclic
collector paused as it pauses it: deduplicate and link (``IncrementalLinker``), then merge
every cluster into the profile set. Prints the wall and CPU seconds of each step and the
peak resident memory after generation, after linking and after merging.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from pathlib import Path

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Generate, link, merge; print one line."""
    from carecoord.profile import _build, dedupe_records
    from carecoord.profile._matching import IncrementalLinker
    from carecoord.testing import generate_population

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", type=int)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-facts", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    population = generate_population(args.people, seed=0, with_facts=not args.no_facts)
    records = list(population.records)
    del population
    generated, after_generation = time.perf_counter() - started, _peak_mib()
    gc.disable()
    wall, cpu = time.perf_counter(), time.process_time()
    unique = {r.key: r for r in dedupe_records(records)}
    linker = IncrementalLinker(None, unique.values(), workers=args.workers)
    link_wall, link_cpu = time.perf_counter() - wall, time.process_time() - cpu
    after_linking = _peak_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    profiles = _build._assemble(linker, unique, None, (), None)
    merge_wall, merge_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"records={len(records):,} profiles={len(profiles):,} generated in {generated:.1f}s | "
        f"link wall={link_wall:.1f}s cpu={link_cpu:.1f}s | "
        f"merge wall={merge_wall:.1f}s cpu={merge_cpu:.1f}s | peak RSS after generation "
        f"{after_generation:,.0f}, linking {after_linking:,.0f}, merging {_peak_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
