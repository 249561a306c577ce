"""Every public type has a bounded repr without personal data, however large the object.

Large real objects come from the 76 shared Synthea bundles (an import result, every
profile, every gap report, the population summary) and a generated population with pairs
to review. Every public class of every public module (``__all__``) is looked for among
the objects reachable from them, and each instance found is checked: a repr of at most
about 1,000 characters, holding none of the patients' names, birth dates, addresses,
phone numbers or identifiers.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import carecoord as cc
from carecoord import display
from carecoord.domain import Ref
from carecoord.ports import GapQuery
from carecoord.profile import IncrementalLinker, ProfileSet, Viewer, compare, link_records
from carecoord.rules import default_rules
from carecoord.services import Coordinator, IngestChanges
from carecoord.stores import MemoryStore, SQLiteStore
from carecoord.terminology import DEFAULT_VALUE_SETS
from carecoord.testing import (
    ErrorMix,
    generate_population,
    make_reconciliation,
    make_related_person,
)

from .conftest import Synthea, walk

PUBLIC_MODULES = (
    "carecoord",
    "carecoord.errors",
    "carecoord.display",
    "carecoord.domain",
    "carecoord.terminology",
    "carecoord.profile",
    "carecoord.rules",
    "carecoord.fhir",
    "carecoord.testing",
    "carecoord.ports",
    "carecoord.services",
    "carecoord.stores",
)
LIMIT = display.MAX_REPR
UNREACHED = {
    # Built by callers, never part of a read, a profile or a report: checked by their own
    # tests, and small by construction (a handful of fields, no collections of facts).
    "Acknowledgement", "ActivitySummary", "BusinessCalendar", "CarePlanActivity",
    "Citation", "Consent", "Exclusion", "FactConflict", "FhirOptions", "GapGroup",
    "HtmlDisplay", "Limits", "MatchConfig", "Overrides", "Parameter", "PatientSummary",
    "Problem", "ReconciliationEntry", "ReconciliationRow", "ReconciliationView",
    "RecordLink", "RuleError", "RuleMetadata", "Sensitivities", "Snooze", "SourceColumn",
    "Viewer", "Worklist",
    # Parts of other objects that no real input here holds; small and fixed in size.
    "CodePattern", "Note", "PatientLink", "ReconciliationDecision", "RuleContext",
}  # fmt: skip


def public_classes() -> dict[str, type]:
    """Every attrs class named in the ``__all__`` of a public module, by name."""
    found: dict[str, type] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if isinstance(obj, type) and attrs.has(obj):
                found[obj.__name__] = obj
    return found


def public_names(module: str) -> list[str]:
    """The names in ``module``'s ``__all__``."""
    return list(importlib.import_module(module).__all__)


def personal_data(synthea: Synthea) -> set[str]:
    """The Synthea patients' names, birth dates, address parts, telecom and identifiers."""
    found: set[str] = set()
    for record in synthea.result.records:
        patient = record.patient
        for name in patient.names:
            found.update(p for p in (*name.given, name.family or "") if len(p) >= 4)
        if patient.birth_date is not None:
            found.add(patient.birth_date.isoformat())
        for address in patient.addresses:
            found.update(line for line in address.lines if len(line) >= 6)
            found.update(p for p in (address.postal_code,) if p and len(p) >= 5)
        found.update(t.value for t in patient.telecom)
        found.update(
            i.value for i in patient.identifiers if i.value != patient.id and len(i.value) >= 6
        )
    return found


def leaks(text: str, secrets: set[str]) -> list[str]:
    """The secrets that appear in ``text`` as whole words."""
    words = set(re.findall(r"[\w\-.@() ]+", text))
    return sorted(s for s in secrets if s in text and any(s in w for w in words))


@attrs.frozen
class Coordinated:
    """The 76 Synthea bundles in a coordinator, worked by people, and what it returned."""

    coordinator: Coordinator
    store: MemoryStore
    sqlite: SQLiteStore
    changes: IngestChanges
    objects: tuple[Any, ...]


@pytest.fixture(scope="module")
def coordinated(
    synthea: Synthea, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Coordinated]:
    """Synthea ingested into a store, gaps worked with free text, a decision, an erasure."""
    store = MemoryStore()
    coordinator = Coordinator(store)
    as_of = synthea.reports[0].as_of
    changes = coordinator.ingest([*synthea.result.records, "not a record"], as_of=as_of)
    work = coordinator.worklist(as_of)
    first, second, third = work[0], work[1], work[2]
    coordinator.assign(first.key, "nurse-1", actor="lead", at=as_of, team="north", reason="x")
    coordinator.add_note(first.key, "called the practice", actor="nurse-1", at=as_of)
    coordinator.snooze(
        second.key, as_of.date() + dt.timedelta(days=9), actor="n", at=as_of, reason="waiting"
    )
    coordinator.dismiss(third.key, actor="n", at=as_of, reason="seen elsewhere")
    left, right = synthea.result.records[0].key, synthea.result.records[1].key
    coordinator.decide_link(left, right, same_person=False, actor="n", as_of=as_of)
    pid = coordinator.persons()[0]
    coordinator.profile(pid, as_of=as_of, viewer=Viewer(Ref("Practitioner", "pr-1")))
    tombstone = coordinator.erase_person(
        coordinator.persons()[-1], actor="po", reason="asked", at=as_of
    )
    with store.unit_of_work() as uow:
        stored = uow.records.of_person(pid)
        seen = (
            stored,
            uow.records.heads([s.key for s in stored]),
            uow.persons.get(pid),
            uow.decisions.involving([left, right]),
        )
    sqlite = SQLiteStore(tmp_path_factory.mktemp("reprs") / "cc.db")
    objects = (
        changes,
        coordinator.worklist(as_of, include_dismissed=True, include_snoozed=True),
        coordinator.events(),
        coordinator.ledger(first.person),
        coordinator.access_log(),
        coordinator.tasks(),
        tombstone,
        GapQuery(persons=frozenset(coordinator.persons()), statuses=frozenset({"open"})),
        *seen,
    )
    yield Coordinated(coordinator, store, sqlite, changes, objects)
    sqlite.close()


def instances(
    synthea: Synthea, linked: ProfileSet, coordinated: Coordinated | None = None
) -> Iterator[Any]:
    """Everything reachable from the real objects, and the objects themselves."""
    worklist = cc.rules.worklist(synthea.reports, as_of=synthea.reports[0].as_of)
    population = generate_population(300, seed=3, error_mix=ErrorMix())
    score = population.score([r.key for r in p.records] for p in linked)
    yield from walk(
        coordinated.objects if coordinated is not None else (),  # walked last
        population,
        ErrorMix(),
        score,
        synthea.result,
        synthea.profiles,
        synthea.reports,
        synthea.summary,
        synthea.demo,
        synthea.demo_reports,
        worklist,
        linked,
        default_rules(),
        DEFAULT_VALUE_SETS,
        tuple(vs for _, vs in DEFAULT_VALUE_SETS.items()),
        link_records(linked.records),
        IncrementalLinker(None, linked.records).scored_pairs(),
        tuple(compare(a, b) for a, b in itertools.pairwise(linked.records[:50])),
        make_reconciliation(),
        make_related_person(),
        tuple(p.timeline() for p in synthea.profiles),
    )


@pytest.fixture(scope="module")
def largest(synthea: Synthea, linked: ProfileSet, coordinated: Coordinated) -> dict[str, Any]:
    """For each class, its instance with the most items in its collections."""

    def size(obj: Any) -> int:
        if not attrs.has(type(obj)):
            return len(obj) if hasattr(obj, "__len__") else 0
        return sum(
            len(v) if isinstance(v, tuple | frozenset | str) else 1
            for v in (getattr(obj, f.name) for f in attrs.fields(type(obj)))
        )

    best: dict[str, tuple[int, Any]] = {}
    for obj in instances(synthea, linked, coordinated):
        name = type(obj).__name__
        weight = size(obj)
        if name not in best or weight > best[name][0]:
            best[name] = (weight, obj)
    return {name: obj for name, (_, obj) in best.items()}


def test_every_public_class_is_reached_or_known(largest: dict[str, Any]) -> None:
    """Each public attrs class has a real instance to check, or is listed as unreached."""
    missing = sorted(set(public_classes()) - set(largest) - UNREACHED)

    assert missing == []


def test_every_public_class_has_a_bounded_repr(largest: dict[str, Any]) -> None:
    """The largest instance of each public class has a repr of at most 1,000 characters."""
    long = {name: len(repr(largest[name])) for name in public_classes() if name in largest}

    assert {name: n for name, n in long.items() if n > LIMIT} == {}
    assert len(long) >= 60


def test_no_repr_holds_personal_data(synthea: Synthea, largest: dict[str, Any]) -> None:
    """No repr of any instance holds a patient's name, birth date, address or identifier."""
    secrets = personal_data(synthea)
    found = {
        name: leaks(repr(obj), secrets) for name, obj in largest.items() if name in public_classes()
    }
    for profile in synthea.profiles:
        found[profile.id] = leaks(repr(profile) + repr(profile.patient), secrets)

    assert len(secrets) > 300
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_the_detector_sees_personal_data(synthea: Synthea) -> None:
    """The check is not vacuous: a display asked for personal data shows some of it."""
    secrets = personal_data(synthea)
    shown = synthea.largest().display(show_personal_data=True).html

    assert leaks(shown, secrets)


def test_collections_summarise(synthea: Synthea, linked: ProfileSet) -> None:
    """Profile sets, profiles, reports and results say what they hold in counts."""
    profile = synthea.largest()

    assert repr(synthea.profiles) == "ProfileSet(76 persons, 76 records, 0 possible matches)"
    assert re.fullmatch(
        r"ProfileSet\(\d+ persons, \d+ records, [1-9]\d* possible matches\)", repr(linked)
    )
    assert re.search(r", encounters=\d+, .*results=\d+", repr(profile))
    assert repr(synthea.result).startswith("ImportResult(76 records, ")
    assert repr(profile.timeline()).startswith(f"Timeline({len(profile.timeline())} events, ")


def test_population_summary_prints_no_mappingproxy(synthea: Synthea) -> None:
    """A population summary prints counts by status, not nested mapping proxies."""
    text = repr(synthea.summary)

    assert "mappingproxy" not in text
    assert text.startswith(f"PopulationSummary(76 patients, {synthea.summary.gaps} gaps: ")


def test_a_huge_tuple_field_is_cut_with_a_count() -> None:
    """A tuple of thousands of models shows the first few and how many more there are."""
    codes = tuple(cc.Code(cc.System.SNOMED, str(100000 + i)) for i in range(5000))
    text = display.bounded_repr(codes)

    assert len(text) < 400
    assert text.endswith(", ... +4996 more)")


def test_stores_coordinator_and_result_tuples_have_short_reprs(
    synthea: Synthea, coordinated: Coordinated
) -> None:
    """Every public non-attrs class of ports, services and stores has a short, clean repr."""
    secrets = personal_data(synthea)
    store, sqlite = coordinated.store, coordinated.sqlite
    with store.unit_of_work() as memory_uow, sqlite.unit_of_work() as sqlite_uow:
        objects = {
            "Coordinator": coordinated.coordinator,
            "MemoryStore": store,
            "SQLiteStore": sqlite,
            "MemoryUnitOfWork": memory_uow,
            "SQLiteUnitOfWork": sqlite_uow,
            **{type(o).__name__: o for o in coordinated.objects if isinstance(o, tuple)},
        }
        texts = {name: repr(obj) for name, obj in objects.items()}
    concrete = {
        obj.__name__
        for module in ("carecoord.ports", "carecoord.services", "carecoord.stores")
        for obj in (getattr(importlib.import_module(module), n) for n in public_names(module))
        if isinstance(obj, type) and not attrs.has(obj)
    }

    assert {"GapStates", "Events", "LedgerEntries"} <= set(texts)
    assert {n for n, t in texts.items() if len(t) > LIMIT} == set()
    assert {n: leaks(t, secrets) for n, t in texts.items() if leaks(t, secrets)} == {}
    missing = concrete - set(texts) - PROTOCOLS
    assert missing == set()


PROTOCOLS = {
    # Typing protocols and an enum: no instances of their own to print.
    "AccessLog", "DecisionRepository", "GapRepository", "Ledger", "Outbox", "PersonRepository",
    "RecordRepository", "Store", "TaskRepository", "TombstoneRepository", "UnitOfWork",
    "TaskState",
}  # fmt: skip
