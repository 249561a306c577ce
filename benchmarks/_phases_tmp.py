"""Time link vs merge phases: phases.py N_PEOPLE [workers] [nofacts]"""
import sys, time, resource, gc
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else "/work/main/src")
from carecoord.testing import generate_population
from carecoord.profile._matching import IncrementalLinker
from carecoord.profile import _build
n = int(sys.argv[1]); workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
facts = not (len(sys.argv) > 3 and sys.argv[3] == "nofacts")
t = time.perf_counter()
pop = generate_population(n, seed=0, with_facts=facts)
recs = list(pop.records); del pop
gen = time.perf_counter() - t
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gc.disable()
w, c = time.perf_counter(), time.process_time()
unique = {r.key: r for r in _build.dedupe_records(recs)}
linker = IncrementalLinker(None, unique.values(), workers=workers)
lw, lc = time.perf_counter() - w, time.process_time() - c
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
w, c = time.perf_counter(), time.process_time()
ps = _build._assemble(linker, unique, None, (), None)
mw, mc = time.perf_counter() - w, time.process_time() - c
rss2 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"records={len(recs)} gen={gen:.1f}s link wall={lw:.1f} cpu={lc:.1f} | merge wall={mw:.1f} cpu={mc:.1f} | rss gen={rss0:.0f} link={rss1:.0f} merge={rss2:.0f} MiB profiles={len(ps)}")
