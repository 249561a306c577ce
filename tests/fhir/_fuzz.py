"""Hostile FHIR input, and the check that only carecoord errors come out of it.

Shared by the fuzz test (``tests/fhir/test_fuzz_input.py``, a bounded run on every test
run) and ``benchmarks/fuzz_input.py`` (long runs that count what escapes). Everything is
driven by a ``random.Random``, so a run is reproducible from its seed, and Hypothesis can
drive it through ``st.randoms()``.

An input is made from a real shared document (mutated as JSON, then serialised in one of
several ways and perhaps mutated as bytes) or by hand (deep nesting, lone surrogates,
NULs, huge numbers, byte-order marks, long strings, special files). :func:`check` reads
it with each JSON parser and takes the result through the public entry points: strict
reading, value-set reading, profiles, the text renderers, the FHIR writers and the
serialization round trip. It returns every *escape*: an exception that is not a
carecoord error, a message or issue repeating the planted :data:`SECRET`, or a control
character in rendered text.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gzip
import importlib
import importlib.util
import json
import os
import random
import re
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from carecoord import fhir, serialization
from carecoord.domain import PatientRecord
from carecoord.errors import CarecoordError
from carecoord.fhir import _input
from carecoord.fhir._resource_types import RESOURCE_TYPES
from carecoord.profile import build_profiles, describe_patient, profile_label, render_profile

from ._shared import SHARED_DATA

SECRET = "Qzx7Secret"
"""Planted in hostile strings and file names: it must never reach a message or an issue."""

BACKENDS: dict[str, Callable[[bytes], Any]] = {"json": _input._json_loads}
if importlib.util.find_spec("orjson") is not None:
    BACKENDS["orjson"] = importlib.import_module("orjson").loads

FOLDERS = (
    "synthea-smart-r4",
    "fhir-r4-examples",
    "fhir-r5-examples",
    "davinci-deqm",
    "vsac-valuesets",
)
"""The shared data folders whose small documents are mutated."""

SMALL_LIMITS = fhir.Limits(
    max_file_bytes=1 << 20, max_total_bytes=4 << 20, max_files=50, max_string_length=1 << 16
)
"""Limits small enough for hostile inputs to reach them in a fuzz run."""

_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TYPES = sorted(RESOURCE_TYPES)
_MAPPED = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Encounter",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "ServiceRequest",
    "Task",
    "Appointment",
    "CarePlan",
    "CareTeam",
    "Goal",
    "Communication",
    "Consent",
    "Procedure",
    "EpisodeOfCare",
    "List",
    "Provenance",
    "Claim",
    "ClaimResponse",
    "Bundle",
    "Parameters",
    "ValueSet",
    "Medication",
)


class Escape(NamedTuple):
    """Something that broke a promise: where, with which parser, and what."""

    step: str
    backend: str
    kind: str
    what: str
    detail: str


# --------------------------------------------------------------------------- values


def _deep(rng: random.Random) -> Any:
    depth = rng.choice([5, 60, 70, 200, 3000])
    value: Any = rng.choice([1, "x", None, {}, []])
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def hostile_string(rng: random.Random) -> str:
    """A string that is long, invisible, controlling, unencodable, or looks like data."""
    pieces = [
        SECRET,
        f"Patient/{SECRET}",
        f"urn:uuid:{SECRET}",
        f"#{SECRET}",
        f"http://x.example/fhir/Patient/{SECRET}/_history/1",
        f"{SECRET}?identifier=x",
        "\ud800",
        "\udfff" + SECRET,
        "\x00",
        "\ufeff",
        "\u200b" * 3,
        "\x1b[2J\r\n",
        "\u202e",
        SECRET * rng.choice([1, 100, 5000]),
        "x" * rng.choice([70, 65_000, 70_000]),
        " ",
        "",
        "2024-02-30",
        "2024-06-01T25:00:00Z",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00-14:00",
        "2024-06",
        "2024-06-01T10:00:00",
        "1e400",
        "NaN",
        "-0",
        "9" * 4400,
        "\\ud800",
        "Zoë Ñandú 李",
    ]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))


def hostile_value(rng: random.Random) -> Any:
    """A JSON value (or near enough) that no mapper expects here."""
    choice = rng.randrange(14)
    if choice < 5:
        return hostile_string(rng)
    if choice == 5:
        return rng.choice([10**30, -(10**30), 10**400, 2**63, -(2**63) - 1, 0, -1])
    if choice == 6:
        return rng.choice([float("inf"), float("nan"), -0.0, 1e308, 5e-324])
    if choice == 7:
        return _deep(rng)
    if choice == 8:
        return rng.choice([True, False, None])
    if choice == 9:
        return [hostile_value(rng) for _ in range(rng.randint(0, 3))]
    if choice == 10:
        return {hostile_string(rng): hostile_value(rng) for _ in range(rng.randint(0, 2))}
    if choice == 11:
        return {"reference": hostile_string(rng), "type": rng.choice([SECRET, *_MAPPED])}
    if choice == 12:
        return {"coding": [{"system": hostile_string(rng), "code": hostile_string(rng)}]}
    return {"resourceType": rng.choice([SECRET, *_MAPPED]), "id": hostile_string(rng)}


# --------------------------------------------------------------------------- documents


@functools.cache
def corpus() -> tuple[tuple[str, bytes], ...]:
    """Small documents of the shared data folders that are present.

    About 30 documents under 60 kB from each folder, and slices of Synthea's patient
    Bundles (each whole one is hundreds of kB): the Patient and 40 entries after it.
    """
    found: list[tuple[str, bytes]] = []
    for folder in FOLDERS:
        files = sorted((SHARED_DATA / folder).glob("*.json"))
        small = [f for f in files if f.stat().st_size < 60_000]
        found.extend((f.name, f.read_bytes()) for f in small[:: max(1, len(small) // 30)])
    patients = sorted((SHARED_DATA / "synthea-smart-r4").glob("*_*.json"))
    for file in patients[:: max(1, len(patients) // 12)]:
        bundle = json.loads(file.read_bytes())
        entries = bundle.get("entry", [])
        for start in (1, len(entries) // 2, max(1, len(entries) - 40)):
            sliced = {**bundle, "entry": entries[:1] + entries[start : start + 40]}
            found.append((f"{file.name}[{start}:]", json.dumps(sliced).encode()))
    return tuple(found)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        here = stack.pop()
        if isinstance(here, dict):
            for key, value in here.items():
                found.append((here, key))
                stack.append(value)
        elif isinstance(here, list):
            for index, value in enumerate(here):
                found.append((here, index))
                stack.append(value)
    return found


def _copy(value: Any) -> Any:
    """A deep copy, or the value itself when it is too deep to copy (sharing is allowed)."""
    try:
        return copy.deepcopy(value)
    except RecursionError:
        return value


def mutate_tree(rng: random.Random, document: Any) -> Any:
    """``document`` with 1-12 places deleted, replaced, retyped or duplicated."""
    for _ in range(rng.randint(1, 12)):
        slots = _slots(document)
        if not slots:
            break
        parent, key = rng.choice(slots)
        action = rng.random()
        if isinstance(parent, dict) and action < 0.2:
            del parent[key]
        elif (isinstance(parent, dict) and key == "resourceType") or action < 0.3:
            parent[key] = rng.choice([*_MAPPED, rng.choice(_TYPES), SECRET])
        elif action < 0.4 and isinstance(parent, list):
            parent.append(_copy(parent[key]))
        else:
            parent[key] = hostile_value(rng)
    if rng.random() < 0.1:
        entries = [{"resource": document}, {"resource": _copy(document)}]
        document = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return document


def hand_made(rng: random.Random) -> bytes:
    """JSON text written to break parsers: nesting, surrogates, numbers, marks, NULs."""
    depth = rng.choice([63, 64, 65, 1000, 100_000])
    patient = b'{"resourceType":"Patient","id":"p1","x":%s}'
    texts = [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b"[" * depth,
        patient % (b"[" * depth + b"]" * depth),
        patient % b'"\\ud800"',
        patient % b'"\xed\xa0\x80"',
        patient % b'"a\\u0000b"',
        patient % b"NaN",
        patient % b"1e999",
        patient % (b"9" * 5000),
        patient % (b'"' + b"a" * 70_000 + b'"'),
        b"\xef\xbb\xbf" + patient % b"1",
        "\u200b".encode() + patient % b"1",
        patient % b"1" + b"\n" + b"[" * depth,
        b"\x00" + patient % b"1",
        b"\xff\xfe" + patient % b"1",
        (patient % b"1").decode().encode("utf-16"),
        b"\n".join([patient % b"1", b"{", b"[]", patient % b'"\\ud800"']),
        f'{{"resourceType":"{SECRET * 1000}","id":"x"}}'.encode(),
        *_CYCLES,
    ]
    return rng.choice(texts)


def _cycle(*resources: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": r} for r in ({"resourceType": "Patient", "id": "p1"}, *resources)
            ],
        }
    ).encode()


_SUBJECT = {"reference": "Patient/p1"}
_CYCLES = (
    _cycle(
        {"resourceType": "Organization", "id": "o1", "partOf": {"reference": "Organization/o2"}},
        {"resourceType": "Organization", "id": "o2", "partOf": {"reference": "Organization/o1"}},
    ),
    _cycle(
        {
            "resourceType": "Task",
            "id": "t1",
            "status": "requested",
            "intent": "order",
            "for": _SUBJECT,
            "partOf": [{"reference": "Task/t1"}],
            "focus": {"reference": "Task/t1"},
        },
    ),
    _cycle(
        {
            "resourceType": "Patient",
            "id": "p2",
            "link": [
                {"other": {"reference": "Patient/p1"}, "type": "replaces"},
                {"other": {"reference": "Patient/p2"}, "type": "seealso"},
            ],
        },
    ),
    _cycle(
        {
            "resourceType": "PractitionerRole",
            "id": "r1",
            "practitioner": {"reference": "PractitionerRole/r1"},
            "organization": {"reference": "PractitionerRole/r1"},
        },
        {
            "resourceType": "Provenance",
            "id": "v1",
            "target": [{"reference": "Provenance/v1"}],
            "agent": [{"who": {"reference": "PractitionerRole/r1"}}],
            "recorded": "2024-01-01",
        },
    ),
    _cycle(
        {
            "resourceType": "Condition",
            "id": "c1",
            "subject": {"reference": "#c1"},
            "code": {"text": "x"},
            "contained": [{"resourceType": "Condition", "id": "c1"}],
        },
    ),
)


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """``data`` truncated, or with hostile bytes inserted or flipped somewhere."""
    if not data:
        return data
    at = rng.randrange(len(data))
    choice = rng.randrange(4)
    if choice == 0:
        return data[:at]
    if choice == 1:
        junk = rng.choice(
            [b"\x00", b"\xff", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\\ud800", b"[[[[", b'"', b"\\"]
        )
        return data[:at] + junk + data[at:]
    if choice == 2:
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    return data + data[: rng.randrange(len(data))]


def _serialised(rng: random.Random, document: Any) -> object:
    """The document as a dict, bytes, text with leading marks, or NDJSON."""
    form = rng.randrange(5)
    try:
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
    except (RecursionError, ValueError):  # deeper than json.dumps goes: given as an object
        return document
    if form == 0:
        return document
    if form == 1:
        return text.encode("utf-8", "surrogatepass")
    if form == 2:
        return rng.choice(["", " \n", "\ufeff", "\u200b\ufeff "]) + text
    entries = document.get("entry") if isinstance(document, dict) else None
    entries = entries if isinstance(entries, list) else []
    lines = [_line(e.get("resource") if isinstance(e, dict) else e) for e in entries]
    ndjson = "\n".join(lines or [text]).encode("utf-8", "surrogatepass")
    return mutate_bytes(rng, ndjson) if form == 4 else ndjson


def _line(value: Any) -> str:
    try:
        return json.dumps(value)
    except (RecursionError, ValueError):
        return "[" * 3000


def _files(rng: random.Random, folder: Path, payloads: list[bytes]) -> None:
    """Write ``payloads`` into ``folder`` under names holding :data:`SECRET`.

    Some are gzipped; now and then a FIFO, a link loop, a dangling link, a link to a
    device or a gzip bomb lies beside them.
    """
    for index, data in enumerate(payloads):
        suffix = rng.choice([".json", ".ndjson", ".json.gz", ".ndjson.gz"])
        sub = folder / (f"{SECRET}_dir" if rng.random() < 0.3 else "")
        sub.mkdir(exist_ok=True)
        body = gzip.compress(data) if suffix.endswith(".gz") else data
        (sub / f"{SECRET}_{index}{suffix}").write_bytes(body)
    if os.name == "posix" and rng.random() < 0.3:
        special = rng.randrange(4)
        target = folder / f"{SECRET}_special.json"
        if special == 0:
            os.mkfifo(target)
        elif special == 1:
            target.symlink_to(target)
        elif special == 2:
            target.symlink_to(folder / "absent")
        elif Path("/dev/zero").exists():
            target.symlink_to("/dev/zero")
    if rng.random() < 0.1:
        bomb = gzip.compress(b"{" + b" " * (3 << 20) + b"}")
        (folder / f"{SECRET}_bomb.json.gz").write_bytes(bomb)


def make_input(rng: random.Random, folder: Path) -> tuple[str, object]:
    """A hostile input and the name of how it was made; files go into ``folder``."""
    documents = corpus()
    kind = rng.choices(["mutated", "hand-made", "files", "several", "text"], [6, 2, 1, 1, 1])[0]
    if kind == "text":  # a str: JSON text after ignorable marks, or a path not to repeat
        lead = rng.choice(["", " ", "\ufeff", "\u200b", "\u00a0", "x"])
        return kind, lead + rng.choice([hostile_string(rng), hand_made(rng).decode("latin-1")])
    if kind == "hand-made" or not documents:
        text = hand_made(rng)
        return "hand-made", mutate_bytes(rng, text) if rng.random() < 0.4 else text
    if kind == "several":
        return kind, [_serialised(rng, _document(rng)) for _ in range(rng.randint(2, 4))]
    if kind == "files":
        payloads = [_line(_document(rng)).encode("utf-8", "surrogatepass")]
        payloads.append(rng.choice([hand_made(rng), mutate_bytes(rng, payloads[0])]))
        _files(rng, folder, payloads)
        return kind, folder
    return kind, _serialised(rng, _document(rng))


def _document(rng: random.Random) -> Any:
    _name, data = rng.choice(corpus())
    return mutate_tree(rng, json.loads(data))


# --------------------------------------------------------------------------- the check


@contextlib.contextmanager
def parser(name: str) -> Iterator[None]:
    """Read with the named JSON parser inside the block."""
    saved = _input._loads
    _input._loads = BACKENDS[name]
    try:
        yield
    finally:
        _input._loads = saved


class _Run:
    """One input through every entry point with one parser, collecting escapes."""

    def __init__(self, backend: str, kind: str) -> None:
        self.backend, self.kind = backend, kind
        self.escapes: list[Escape] = []

    def call(self, step: str, call: Callable[[], Any]) -> Any:
        """``call()``; a carecoord error is fine (its message is checked), else an escape."""
        try:
            return call()
        except CarecoordError as error:
            self.text(step, str(error))
            return None
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            detail = f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno} {error!s:.120}"
            self.escapes.append(Escape(step, self.backend, self.kind, type(error).__name__, detail))
            return None

    def text(self, step: str, text: str) -> None:
        """A message or issue must not repeat the planted secret."""
        if SECRET in text:
            at = text.index(SECRET)
            detail = text[max(0, at - 60) : at + 20]
            self.escapes.append(Escape(step, self.backend, self.kind, "secret", detail))

    def shown(self, step: str, text: str) -> None:
        """Rendered text must hold no control character but line ends."""
        if _CONTROLS.search(text):
            self.escapes.append(Escape(step, self.backend, self.kind, "control", step))


def check(source: object, kind: str = "input") -> list[Escape]:
    """Every escape of ``source`` through the entry points, with each JSON parser."""
    escapes: list[Escape] = []
    for name in BACKENDS:
        with parser(name):
            run = _Run(name, kind)
            _pipeline(run, source)
            escapes.extend(run.escapes)
    return escapes


def _pipeline(run: _Run, source: object) -> None:
    result = run.call("read", lambda: fhir.read(source, limits=SMALL_LIMITS))  # type: ignore[arg-type]
    run.call("read-strict", lambda: fhir.read(source, strict=True))  # type: ignore[arg-type]
    run.call("read-value-sets", lambda: fhir.read_value_sets(source))  # type: ignore[arg-type]
    if isinstance(source, Path):
        run.call("read-paths", lambda: fhir.read_paths([source, source]))
    if isinstance(source, bytes | str):
        run.call("serialization-loads", lambda: serialization.loads(source, PatientRecord))
    if result is None:
        return
    for issue in result.issues:
        run.text("issue", str(issue))
    records = result.records
    profiles = run.call("build-profiles", lambda: build_profiles(records))
    for profile in list(profiles or ())[:3]:
        for step, render in (
            ("render-profile", lambda p=profile: render_profile(p, with_timeline=True)),
            ("profile-label", lambda p=profile: profile_label(p)),
            ("describe-patient", lambda p=profile: describe_patient(p)),
        ):
            text = run.call(step, render)
            if isinstance(text, str):
                run.shown(step, text)
    run.call("write-bundle", lambda: fhir.write_bundle(records))
    text = run.call("write-ndjson", lambda: fhir.write_ndjson(records))
    if isinstance(text, str):
        run.call("ndjson-utf8", lambda: text.encode("utf-8"))
    for record in records[:3]:
        run.call(
            "serialization",
            lambda r=record: serialization.loads(serialization.dumps(r), PatientRecord),
        )


def run_one(seed: int | random.Random) -> tuple[str, list[Escape]]:
    """Make one input from ``seed`` (in a fresh temporary folder) and check it."""
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="carecoord-fuzz-") as folder:
        kind, source = make_input(rng, Path(folder))
        return kind, check(source, kind)
