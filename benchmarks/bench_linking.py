"""Cost of batch identity linking: CPU (this process and its forked workers) and peak RSS.

Usage::

    python benchmarks/bench_linking.py N_PEOPLE [--workers 2] [--src PATH]

Generates ``generate_population(N_PEOPLE, seed=0, with_facts=True)``, dedupes it as
``build_profiles`` does and builds ``IncrementalLinker(None, records, workers=...)`` with
the ``carecoord`` of ``--src`` (default: this tree). Prints one line: records, stored pairs,
wall and CPU seconds (main process, workers), and the peak RSS before and after linking.
Run it in a fresh process per measurement, alternating the trees compared.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    """Measure one batch link."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", type=int)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--src", default=str(Path(__file__).resolve().parent.parent / "src"))
    args = parser.parse_args()
    sys.path.insert(0, args.src)
    from carecoord.profile import _build
    from carecoord.profile._matching import IncrementalLinker
    from carecoord.testing import generate_population

    records = list(generate_population(args.people, seed=0, with_facts=True).records)
    unique = {record.key: record for record in _build.dedupe_records(records)}
    del records
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    linker = IncrementalLinker(None, unique.values(), workers=args.workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.src}: records={len(unique)} pairs={len(linker._edges)} "
        f"wall={wall:.1f}s cpu main={cpu:.1f}s workers={child_cpu:.1f}s "
        f"total={cpu + child_cpu:.1f}s rss {rss0:.0f} -> {rss1:.0f} MiB "
        f"(+{rss1 - rss0:.0f})",
        flush=True,
    )


if __name__ == "__main__":
    main()
