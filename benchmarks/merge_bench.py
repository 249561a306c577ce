"""Time merging only (``_build._assemble``) on a generated population.

    python benchmarks/merge_bench.py N [nofacts] [--src SRC] [--profile]

Linking runs once per (N, facts) and its clusters are cached in /tmp, so alternated runs
of two trees (``--src``) time the merge alone: CPU (``time.process_time``) and the peak
RSS the merge adds on top of the records.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import resource
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


gc.collect()
gc.disable()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    f"src={args.src} records={len(unique)} profiles={len(result.profiles)} "
    f"merge cpu={cpu:.2f}s ({cpu / len(unique) * 1e6:.0f} us/record) "
    f"rss before={rss0:.0f} after={rss1:.0f} added={rss1 - rss0:.0f} MiB"
)
