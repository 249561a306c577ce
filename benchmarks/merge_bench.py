"""Time merging only (``_build._assemble``) on a generated population.

    python benchmarks/merge_bench.py N [nofacts] [--src SRC] [--profile]

Linking runs once per (N, facts) and its clusters are cached in /tmp, so alternated runs
of two trees (``--src``) time the merge alone: CPU (``time.process_time``) and the peak
RSS the merge adds on top of the records (``VmHWM`` reset before merging).
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("n", type=int)
parser.add_argument("nofacts", nargs="?", default="")
parser.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", "src"))
parser.add_argument("--profile", action="store_true")
args = parser.parse_args()
sys.path.insert(0, os.path.abspath(args.src))

from carecoord.profile import _build  # noqa: E402
from carecoord.profile._matching import IncrementalLinker  # noqa: E402
from carecoord.testing import generate_population  # noqa: E402

facts = args.nofacts != "nofacts"
records = list(generate_population(args.n, seed=0, with_facts=facts).records)
unique = {r.key: r for r in _build.dedupe_records(records)}
del records
cache = f"/tmp/merge_bench_clusters_{args.n}_{int(facts)}.pickle"
if os.path.exists(cache):
    with open(cache, "rb") as handle:
        clusters = pickle.load(handle)
else:
    clusters = IncrementalLinker(None, unique.values()).linkage().clusters
    with open(cache, "wb") as handle:
        pickle.dump(clusters, handle)


class _Linkage:
    def __init__(self, clusters: object) -> None:
        self.clusters = clusters
        self.review = ()


class _Linker:
    def linkage(self) -> _Linkage:
        return _Linkage(clusters)


def _status(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (the peak since the last reset) of this process, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


gc.collect()
gc.disable()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # resets VmHWM: the peak below is the merge's own
rss0 = _status("VmRSS")
cpu = time.process_time()
if args.profile:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
result = _build._assemble(_Linker(), unique, None, (), None)  # type: ignore[arg-type]
cpu = time.process_time() - cpu
if args.profile:
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    profiler.dump_stats("/tmp/merge.prof")
rss1 = _status("VmHWM")
print(
    f"src={args.src} records={len(unique)} profiles={len(result.profiles)} "
    f"merge cpu={cpu:.2f}s ({cpu / len(unique) * 1e6:.0f} us/record) "
    f"rss before={rss0:.0f} peak={rss1:.0f} added={rss1 - rss0:.0f} MiB"
)
