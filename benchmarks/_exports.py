"""Generated Bulk Data exports for the benchmarks (made once, then reused from a cache).

``export(people, seed, root)`` writes ``generate_population(people, with_facts=True)``
with ``carecoord.testing.write_bulk_export`` under ``root/people-<n>-seed-<s>`` (about two
records per person: one Patient, a few Conditions and MedicationStatements each) and
returns the folder; a ``DONE`` marker says the export is complete.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

DEFAULT_ROOT = Path("/tmp/carecoord-bench-exports")


def export(people: int, seed: int = 7, root: Path = DEFAULT_ROOT) -> Path:
    """The export folder of ``people`` generated people (written now if not cached)."""
    from carecoord.testing import generate_population, write_bulk_export

    folder = root / f"people-{people}-seed-{seed}"
    if (folder / "DONE").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    population = generate_population(people, seed=seed, with_facts=True)
    generated = time.perf_counter() - started
    lines = write_bulk_export(population.records, folder)
    info = {
        "people": people,
        "records": len(population.records),
        "lines": lines,
        "bytes": sum(f.stat().st_size for f in folder.rglob("*.ndjson")),
        "generate_s": round(generated, 1),
        "write_s": round(time.perf_counter() - started - generated, 1),
    }
    (folder / "DONE").write_text(json.dumps(info), encoding="utf-8")
    return folder


def info(folder: Path) -> dict[str, object]:
    """What the ``DONE`` marker of an export says."""
    loaded: dict[str, object] = json.loads((folder / "DONE").read_text(encoding="utf-8"))
    return loaded


if __name__ == "__main__":
    made = export(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    print(made, info(made))
