"""Proof that two trees' FHIR readers give the same ImportResults on every shared input.

Usage::

    python benchmarks/reader_sameness.py --before OTHER/src [--after src] [--data DIR]

Each tree reads, in a fresh interpreter of its own, every FHIR input in ``--data`` (the
shared data: Synthea bundles, the FHIR R4 and R5 specification examples, the Da Vinci
DEQM examples, FHIR-Converter's expected FHIR, the VSAC ValueSets):

* every folder as one read, and the whole data folder as one read;
* every ``.json`` file on its own (as a path, and as bytes);
* the Synthea folder with options: ``source_id``, ``default_tz``, ``name_files``,
  ``strict`` (its error too), ``pause_gc=False``, tight ``Limits``; the spec examples
  as parsed ``dict`` objects;
* two Bulk Data exports with :func:`~carecoord.fhir.read_bulk` (every part, then its
  totals) and with :func:`~carecoord.fhir.read`: the Synthea bundles unbundled into one
  NDJSON file per type (``urn:uuid`` references rewritten as ``Type/id``), and a
  generated population written by ``carecoord.testing.write_bulk_export``.

Each result is reduced to a digest of (1) every record's canonical JSON
(``carecoord.serialization.dumps``), (2) a deep walk of every record that names the type
of every value (attrs classes with every field, private ones too; enums; ``str``
subclasses; tuples against lists; time zones), (3) the issue rows (``to_records`` with
``show_personal_data``) and (4) the counts. The two trees' digests must be equal input by
input; the script prints one combined hash per tree and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path("/work/shared/data")
HERE = Path(__file__).resolve()
FOLDERS = (
    "synthea-smart-r4",
    "fhir-r4-examples",
    "fhir-r5-examples",
    "davinci-deqm",
    "hl7v2-fhir-converter/expected-fhir",
    "vsac-valuesets",
)


def deep(value: Any, out: list[str]) -> None:
    """Append a description of ``value`` that names every value's exact type."""
    import attrs

    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if attrs.has(kind):
        out.append(f"<{name}")
        for field in attrs.fields(kind):
            out.append(f" {field.name}=")
            deep(getattr(value, field.name), out)
        out.append(">")
    elif isinstance(value, enum.Enum):
        out.append(f"{name}.{value.name}={value.value!r}")
    elif isinstance(value, tuple | list):
        out.append(f"{name}[")
        for item in value:
            deep(item, out)
            out.append(",")
        out.append("]")
    elif isinstance(value, frozenset | set):
        parts = []
        for item in value:
            one: list[str] = []
            deep(item, one)
            parts.append("".join(one))
        out.append(f"{name}{{{','.join(sorted(parts))}}}")
    elif isinstance(value, dict) or hasattr(value, "items"):
        parts = []
        for key, item in value.items():
            one = []
            deep(key, one)
            one.append(":")
            deep(item, one)
            parts.append("".join(one))
        out.append(f"{name}{{{','.join(sorted(parts))}}}")
    elif isinstance(value, dt.datetime):
        out.append(f"{name}({value.isoformat()};{value.tzinfo!r};fold={value.fold})")
    else:
        out.append(f"{name}({value!r})")


def digest_result(result: Any) -> dict[str, Any]:
    """The digests of one ImportResult: records' JSON, deep records, issues, counts."""
    from carecoord import serialization

    canonical = hashlib.sha256()
    walked = hashlib.sha256()
    for record in result.records:
        canonical.update(serialization.dumps(record).encode("utf-8"))
        canonical.update(b"\n")
        out: list[str] = []
        deep(record, out)
        walked.update("".join(out).encode("utf-8"))
        walked.update(b"\n")
    rows = json.dumps(result.to_records(show_personal_data=True), sort_keys=True)
    issues_out: list[str] = []
    deep(result.issues, issues_out)
    counts = json.dumps(
        {k: [c.read, c.mapped, c.skipped] for k, c in result.counts.items()}, sort_keys=False
    )
    return {
        "records": len(result.records),
        "issues": len(result.issues),
        "canonical": canonical.hexdigest(),
        "deep": walked.hexdigest(),
        "issue_rows": hashlib.sha256(rows.encode() + "".join(issues_out).encode()).hexdigest(),
        "counts": hashlib.sha256(counts.encode()).hexdigest(),
    }


def _rewrite(value: Any, types: dict[str, str]) -> Any:
    """``urn:uuid`` references rewritten as ``Type/id`` (a bulk export's form)."""
    if isinstance(value, dict):
        out = {k: _rewrite(v, types) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref.startswith("urn:uuid:") and ref[9:] in types:
            out["reference"] = f"{types[ref[9:]]}/{ref[9:]}"
        return out
    if isinstance(value, list):
        return [_rewrite(v, types) for v in value]
    return value


def synthea_export(data: Path, folder: Path) -> Path:
    """The Synthea bundles as a Bulk Data export: one NDJSON file per resource type."""
    folder.mkdir(parents=True, exist_ok=True)
    resources: list[dict[str, Any]] = []
    for file in sorted((data / "synthea-smart-r4").glob("*.json")):
        bundle = json.loads(file.read_bytes())
        resources.extend(e["resource"] for e in bundle.get("entry", []) if "resource" in e)
    types = {r["id"]: r["resourceType"] for r in resources if "id" in r}
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        line = json.dumps(_rewrite(resource, types), separators=(",", ":"))
        by_type.setdefault(resource["resourceType"], []).append(line)
    for kind, lines in by_type.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def generated_export(folder: Path) -> Path:
    """A generated population (300 people, with facts) written as a Bulk Data export."""
    from carecoord.testing import generate_population, write_bulk_export

    population = generate_population(300, seed=11, with_facts=True)
    write_bulk_export(population.records, folder)
    return folder


def cases(data: Path, exports: Path) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, read) for every input and option read."""
    import zoneinfo

    from carecoord import fhir

    yield "all", lambda: [fhir.read(data)]
    for name in FOLDERS:
        yield f"folder {name}", lambda name=name: [fhir.read(data / name)]  # type: ignore[misc]
    for file in sorted(data.rglob("*.json")):
        rel = file.relative_to(data)
        yield f"file {rel}", lambda file=file: [fhir.read(file)]  # type: ignore[misc]
        yield f"bytes {rel}", lambda file=file: [fhir.read(file.read_bytes())]  # type: ignore[misc]
    synthea = data / "synthea-smart-r4"
    tz = zoneinfo.ZoneInfo("America/New_York")
    yield "synthea source_id", lambda: [fhir.read(synthea, source_id="one-source")]
    yield "synthea default_tz", lambda: [fhir.read(synthea, default_tz=tz)]
    yield "synthea name_files", lambda: [fhir.read(synthea, name_files=True)]
    yield "synthea pause_gc=False", lambda: [fhir.read(synthea, pause_gc=False)]
    limits = fhir.Limits(max_string_length=2_000, max_depth=12, max_files=200)
    yield "synthea tight limits", lambda: [fhir.read(synthea, limits=limits)]
    yield "spec examples strict", lambda: _strict(fhir.read, data / "fhir-r4-examples")
    r4 = sorted((data / "fhir-r4-examples").glob("*.json"))
    yield "spec examples as dicts", lambda: [fhir.read([json.loads(f.read_bytes()) for f in r4])]
    yield "spec examples read_paths", lambda: [fhir.read_paths([*r4[:60], synthea])]
    for name in ("synthea", "generated"):
        folder = exports / name
        yield f"bulk {name} read", lambda folder=folder: [fhir.read(folder)]  # type: ignore[misc]
        yield f"bulk {name} read_bulk", lambda folder=folder: _bulk(fhir.read_bulk(folder))  # type: ignore[misc]


def _strict(read: Callable[..., Any], path: Path) -> list[Any]:
    from carecoord.fhir import FhirImportError

    try:
        return [read(path, strict=True)]
    except FhirImportError as err:
        return [("error", str(err), [_row(i) for i in err.issues])]


def _row(issue: Any) -> list[str]:
    return [issue.path, issue.code, issue.message, str(issue.severity), issue.source]


def _bulk(bulk: Any) -> list[Any]:
    parts = list(bulk)
    totals = (
        "totals",
        [_row(i) for i in bulk.issues],
        {k: [c.read, c.mapped, c.skipped] for k, c in bulk.counts.items()},
        bulk.patients,
    )
    return [*parts, totals]


def child(data: Path, exports: Path, only: str | None = None) -> None:
    """Digest every case with the tree on ``sys.path``; print one JSON line per case.

    ``only``: the cases whose name starts with it (a quick check during development).
    """
    from carecoord.fhir import ImportResult

    for name, read in cases(data, exports):
        if only is not None and not name.startswith(only):
            continue
        results = read()
        digests = []
        for result in results:
            if isinstance(result, ImportResult):
                digests.append(digest_result(result))
            else:
                text = json.dumps(result, sort_keys=True, default=str)
                digests.append({"other": hashlib.sha256(text.encode()).hexdigest()})
        print(json.dumps({"case": name, "digests": digests}), flush=True)


def _run_tree(src: Path, data: Path, exports: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, str(HERE), "--child", "--data", str(data)]
    command += ["--exports", str(exports)]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    """Run both trees and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--after", type=Path, default=HERE.parent.parent / "src")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--exports", type=Path)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--only", help="with --child: the cases whose name starts with it")
    args = parser.parse_args()
    if args.child:
        child(args.data, args.exports, args.only)
        return
    if args.before is None:
        parser.error("--before is required")
    with tempfile.TemporaryDirectory(prefix="reader-sameness-") as tmp:
        exports = Path(tmp)
        synthea_export(args.data, exports / "synthea")
        env = {**os.environ, "PYTHONPATH": str(args.before)}
        script = (
            "import sys; sys.path.insert(0, sys.argv[1]); import reader_sameness as r; "
            "from pathlib import Path; r.generated_export(Path(sys.argv[2]))"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(HERE.parent), str(exports / "generated")],
            env=env,
            check=True,
        )
        trees = {
            "before": _run_tree(args.before.resolve(), args.data, exports),
            "after": _run_tree(args.after.resolve(), args.data, exports),
        }
    before, after = trees["before"], trees["after"]
    differ = [b["case"] for b, a in zip(before, after, strict=True) if b != a]
    for label, rows in trees.items():
        whole = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
        records = sum(d.get("records", 0) for row in rows for d in row["digests"])
        issues = sum(d.get("issues", 0) for row in rows for d in row["digests"])
        print(f"{label:6} {len(rows)} cases, {records} records, {issues} issues: sha256 {whole}")
    for row in before:
        if row["case"] in ("all", "folder synthea-smart-r4", "bulk synthea read_bulk"):
            print(f"  {row['case']}: {json.dumps(row['digests'][0])}")
    if differ:
        print(f"DIFFERENT in {len(differ)} cases: {differ[:20]}")
        sys.exit(1)
    print("equal: every case gives the same digests")


if __name__ == "__main__":
    main()
