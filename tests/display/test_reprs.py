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
from carecoord.profile import ProfileSet, ScoredPair, Viewer, compare, link_records, record_links
from carecoord.rules import default_rules
from carecoord.services import Coordinator, IngestChanges
from carecoord.stores import MemoryStore, SQLiteStore
from carecoord.terminology import DEFAULT_VALUE_SETS
from carecoord.testing import (
    ErrorMix,
    generate_population,
    make_care_plan,
    make_consent,
    make_reconciliation,
    make_record,
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
    "carecoord.hl7v2",
    "carecoord.interop",
    "carecoord.ports",
    "carecoord.services",
    "carecoord.stores",
)
LIMIT = display.MAX_REPR
UNREACHED: set[str] = set()
"""Public classes with no instance checked here (none: each is reached or built below)."""


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


def planted(synthea: Synthea) -> str:
    """Free text as a careless user types it: a real patient's name, MRN and birth date."""
    record = max(synthea.result.records, key=lambda r: len(r.patient.identifiers))
    patient = record.patient
    name = patient.names[0]
    mrn = next(i.value for i in patient.identifiers if i.value != patient.id)
    born = patient.birth_date.isoformat() if patient.birth_date else ""
    return f"{' '.join(name.given)} {name.family} MRN {mrn} born {born} called back"


def built(synthea: Synthea) -> Iterator[Any]:
    """Instances of the classes no read or report holds, as large as callers make them.

    Every free-text field holds :func:`planted` personal data, many times over, so a repr
    that shows free text fails both the length and the personal-data checks.
    """
    text = planted(synthea)
    long = " ".join([text] * 40)
    profile = synthea.largest()
    at = synthea.reports[0].as_of
    ref = cc.Ref("Practitioner", "pcp-1")
    gaps = tuple(g for r in synthea.reports for g in r.gaps)
    authored = "Written by a rule's author, not about a patient. " * 60
    citation = cc.rules.Citation(authored, url="https://example.org/" + "x" * 3000)
    yield cc.domain.Acknowledgement(ref, at)
    yield cc.domain.Note(long, at=at, author=ref)
    yield cc.domain.PatientLink(cc.domain.LinkKind.SAME_PERSON, profile.id, "clinic-ehr")
    yield cc.domain.ReconciliationDecision(ref, "keep", note=long)
    yield cc.domain.CarePlanActivity(description=long, goals=tuple(f"g-{i}" for i in range(500)))
    yield cc.rules.BusinessCalendar(cc.rules.us_federal_holidays(range(1900, 2100)))
    yield citation
    yield cc.rules.Exclusion(authored, follows=authored, sources=(citation,) * 50)
    yield cc.rules.Parameter("days", tuple(range(2000)), authored, unit="days")
    for rule in default_rules():
        yield rule.metadata
    yield cc.rules.Snooze("referral.unacknowledged", profile.id, at.date(), long, focus="x")
    yield cc.rules.Overrides(
        disabled=[f"rule-{i}" for i in range(500)],
        parameters={f"rule-{i}": {"days": i} for i in range(500)},
        snoozes=[cc.rules.Snooze(f"r-{i}", profile.id, at.date(), long) for i in range(200)],
    )
    yield cc.rules.RuleError("referral.unacknowledged", profile.id, "ValueError", long)
    yield cc.rules.RuleContext(profile, at, cc.rules.BusinessCalendar(), dt.UTC)
    yield cc.rules.group_gaps(gaps)
    yield cc.Problem("patient.name[0]", authored)
    for kind in cc.ActivityKind:
        yield cc.profile.ActivitySummary(kind, authored, 10**6, 10**5)
    yield cc.fhir.Limits()
    yield ScoredPair(synthea.result.records[0].key, synthea.result.records[1].key, False, None)
    yield cc.MatchConfig()
    yield cc.profile.Viewer(ref)
    yield cc.profile.Sensitivities(profile)
    yield profile.display(show_personal_data=True)
    start = at - dt.timedelta(days=3650)
    yield cc.profile.patient_summary(profile, start=start, end=at, at=at)
    yield cc.terminology.CodePattern(cc.System.ICD10CM, "E11" + "1" * 3000, description=authored)
    yield cc.FactConflict(
        next(iter(cc.profile.ConflictKind)),
        "patient.name",
        tuple((f"source-{i}", text) for i in range(300)),
        chosen="source-1",
        subject="patient",
    )
    consent = make_consent(actors=tuple(cc.Ref("Practitioner", f"p-{i}") for i in range(400)))
    yield consent
    yield make_record(care_plans=(make_care_plan(),))
    for kind in cc.domain.ListKind:
        yield cc.profile.reconciliation_view(profile, kind)


def coordinated(synthea: Synthea) -> Iterator[Any]:
    """What the coordinator and its store hold after a day's work on the Synthea records.

    The work is done with :func:`planted` personal data in every free-text argument
    (reasons, notes, owners), one decision that two records are not the same person, and
    one erasure; the store's own rows are read back through a unit of work.
    """
    from carecoord.ports import GapQuery
    from carecoord.services import Coordinator
    from carecoord.stores import MemoryStore

    text = planted(synthea)
    at = synthea.reports[0].as_of
    store = MemoryStore()
    coordinator = Coordinator(store)
    yield coordinator
    yield store
    changes = coordinator.ingest([*synthea.result.records, object()], as_of=at)
    yield changes
    states = coordinator.worklist(at, include_closed=True, due_since=dt.date(1900, 1, 1))
    for state in states[:30]:
        coordinator.assign(state.key, "nurse-1", actor="lead", at=at, reason=text)
        coordinator.add_note(state.key, text, actor="nurse-1", at=at)
    for state in states[30:40]:
        coordinator.snooze(state.key, at.date(), actor="lead", at=at, reason=text)
    worked = coordinator.worklist(at, include_snoozed=True, due_since=dt.date(1900, 1, 1))
    yield from worked
    persons = coordinator.persons()
    first, second = (coordinator.records_of(p)[0] for p in persons[:2])
    coordinator.decide_link(first, second, same_person=False, actor="lead", as_of=at, reason=text)
    with store.unit_of_work() as uow:
        yield from uow.decisions.involving([first, second])
    tasks = coordinator.tasks()
    yield from tasks
    if tasks:
        coordinator.accept_task(tasks[0].id, actor="lead", at=at)
    yield from coordinator.tasks()
    viewer = cc.profile.Viewer(cc.Ref("Practitioner", "pcp-1"))
    coordinator.profile(persons[0], as_of=at, viewer=viewer)
    yield coordinator.erase_person(persons[1], actor="dpo", reason=text, at=at)
    yield from coordinator.events()
    yield from coordinator.access_log()
    for person in persons[:3]:
        yield from coordinator.ledger(person)
    yield coordinator.ingest(synthea.result.records[:3], as_of=at)
    with store.unit_of_work() as uow:
        yield GapQuery(persons=frozenset(persons), families=frozenset({"referrals"}))
        yield from uow.records.of_person(persons[0])
        yield from uow.records.heads([r.key for r in synthea.result.records]).values()
        yield from (uow.persons.get(p) for p in persons)
        yield uow


def hl7(synthea: Synthea) -> Iterator[Any]:
    """The HL7 v2 parser's objects, from the shared example messages."""
    from carecoord import hl7v2

    folder = synthea.folder.parent / "hl7v2-fhir-converter"
    decoder = hl7v2.FrameDecoder()
    stats = hl7v2.ServerStats(*range(12))
    yield stats
    yield hl7v2.Encoding()
    yield hl7v2.MemoryDedupe()
    for number, path in enumerate(sorted(folder.glob("*.hl7"))):
        raw = path.read_bytes()
        message = hl7v2.parse_message(raw)
        header = hl7v2.peek_header(raw)
        yield message
        yield from (segment.field(n) for segment in message.segments() for n in (1, 3, 5))
        if header is None:
            continue
        yield header
        yield hl7v2.Inbound(message, raw, header, 1, number)
        outcome = hl7v2.Outcome(hl7v2.AckCode.AE, reason=planted(synthea))
        yield outcome
        ack = hl7v2.build_ack(header, outcome, at=synthea.reports[0].as_of, control_id="c-1")
        yield hl7v2.parse_ack(ack)
        yield from decoder.feed(hl7v2.frame(raw))
    yield hl7v2.read(folder)


def instances(synthea: Synthea, linked: ProfileSet) -> Iterator[Any]:
    """Everything reachable from the real objects, and the objects themselves."""
    worklist = cc.rules.worklist(synthea.reports, as_of=synthea.reports[0].as_of)
    population = generate_population(300, seed=3, error_mix=ErrorMix())
    score = population.score([r.key for r in p.records] for p in linked)
    yield from walk(
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
        tuple(compare(a, b) for a, b in itertools.pairwise(linked.records[:50])),
        make_reconciliation(),
        make_related_person(),
        tuple(p.timeline() for p in synthea.profiles),
        tuple(built(synthea)),
        tuple(coordinated(synthea)),
        tuple(hl7(synthea)),
        tuple(
            link
            for p in itertools.islice((p for p in linked if len(p.records) > 1), 20)
            for link in record_links(p, linked.match)
        ),
    )


@pytest.fixture(scope="module")
def largest(synthea: Synthea, linked: ProfileSet) -> dict[str, Any]:
    """For each class, its instance with the most items in its collections."""

    def size(obj: Any) -> int:
        if not attrs.has(type(obj)):
            return len(obj) if hasattr(obj, "__len__") else 0
        return sum(
            len(v) if isinstance(v, tuple | frozenset | str) else 1
            for v in (getattr(obj, f.name) for f in attrs.fields(type(obj)))
        )

    best: dict[str, tuple[int, Any]] = {}
    for obj in instances(synthea, linked):
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


@attrs.frozen
class Coordinated:
    """The 76 Synthea bundles in a coordinator, worked by people, and what it returned."""

    coordinator: Coordinator
    store: MemoryStore
    sqlite: SQLiteStore
    changes: IngestChanges
    objects: tuple[Any, ...]


@pytest.fixture(scope="module")
def coordinated_service(
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


def test_stores_coordinator_and_result_tuples_have_short_reprs(
    synthea: Synthea, coordinated_service: Coordinated
) -> None:
    """Every public non-attrs class of ports, services and stores has a short, clean repr."""
    secrets = personal_data(synthea)
    store, sqlite = coordinated_service.store, coordinated_service.sqlite
    with store.unit_of_work() as memory_uow, sqlite.unit_of_work() as sqlite_uow:
        objects = {
            "Coordinator": coordinated_service.coordinator,
            "MemoryStore": store,
            "SQLiteStore": sqlite,
            "MemoryUnitOfWork": memory_uow,
            "SQLiteUnitOfWork": sqlite_uow,
            **{type(o).__name__: o for o in coordinated_service.objects if isinstance(o, tuple)},
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
