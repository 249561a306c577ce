"""Merge one person's records into a :class:`~carecoord.profile.PatientProfile`.

Every fact keeps every source's version (:class:`Fact` ``variants`` and ``provenance``).
Duplicates fold into one fact:

* always: the same source and the same fact id (two records of one source);
* between *different* records, by clinical identity:

  ======================  ============================================================
  list                    folded when
  ======================  ============================================================
  conditions              same code and onsets overlap, or onset missing on one side
  medications             a shared RxNorm ingredient (``ingredients``; else the code)
  allergies               same code; every "no known allergies" entry folds together
  encounters              same class and the same start instant
  results                 same code and the same UTC day (``effective``, else ``issued``)
  orders                  same code and the same UTC day authored
  procedures              same code and performed dates overlap
  appointments            the same start instant
  communications          same kind and the same sent instant
  documents               a shared type code and the same instant made (``date``)
  social_needs            same domain and the same UTC day identified
  transitions             same kind and the same UTC day of admission
  referrals               same specialty (else recipient) and UTC day authored
  consents                same decision, period, actors, classes and status
  reconciliations         same list, performer and instant
  activities              same kind, performer, instant and minutes
  enrollments             same programme and UTC start day
  care teams, tasks,      never by content (only by source and id)
  care plans, goals
  ======================  ============================================================

  Two facts of the *same* record never fold (the source itself keeps them apart); when a
  fact could fold with several, pairs are taken in a fixed order so the result does not
  depend on the order of the input.

The representative ``value`` of a fact, and the first provenance entry (so
:attr:`Fact.key`), come from the best source: first in ``source_ranking`` (unranked
sources after ranked ones), then the most recent ``last_modified``, then source id,
record id and fact id.

Conflicts are reported (:class:`FactConflict`) and never silently resolved:
demographics (name, birth date, sex, address, phone, deceased), medication discrepancies
(omission, dose, frequency, route, status), an allergy versus "no known allergies", and
problems whose clinical status differs between sources. Conflict ``values`` are labelled
by source id (``"<source>/<patient id>"`` when one source contributes several records).
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from enum import Enum
from itertools import compress
from typing import Any, NamedTuple, TypeVar

import attrs

from carecoord.domain import (
    FACT_FIELDS,
    Address,
    Allergy,
    ContactSystem,
    KindTable,
    Medication,
    Organization,
    PartialDate,
    Patient,
    PatientId,
    PatientRecord,
    Practitioner,
    Ref,
    RelatedPerson,
    Sex,
    VerificationStatus,
    aware,
    optional_aware,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile._facts import (
    ConflictKind,
    Fact,
    FactConflict,
    Provenance,
    fact_author,
)
from carecoord.profile._model import (
    PatientProfile,
)
from carecoord.profile._strings import (
    normalize_address_line,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
)
from carecoord.profile._trusted import trusted_constructor

__all__ = ["dedupe_records", "fact_author", "merge_records", "profile_id_for"]

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
_P = TypeVar("_P", Practitioner, Organization, RelatedPerson)

# The merge builds its facts, provenance, merged patient and profile from values the
# records' own constructors have validated (a fact's aware ``recorded_at``, tuples of a
# validated patient...): running those validators (and the profile's argument checks)
# again only costs time. Each builds exactly what the validated constructor gives.
_new_fact = trusted_constructor(Fact)
_new_provenance = trusted_constructor(Provenance)
_new_patient = trusted_constructor(Patient)
_new_profile = trusted_constructor(PatientProfile)
_AUTHOR_NAMES = ("author", "performer", "requester", "prescriber", "sender")
_STAMP_NAMES = ("last_modified", "recorded_at")
_FACT_ORDER = {name: index for index, name in enumerate(FACT_FIELDS)}
_ALL_FACTS = operator.attrgetter(*FACT_FIELDS)
"""A record's fact tuples, one per kind in FACT_FIELDS order (``compress`` keeps those held)."""


# --------------------------------------------------------------------------- helpers


def profile_id_for(keys: Iterable[tuple[str, str]]) -> str:
    """The profile id of a cluster: ``"<source>/<patient id>"`` of its smallest record key.

    The id depends only on the set of keys, never on their order.
    """
    smallest = min(keys, default=None)
    if smallest is None:
        raise ValidationError(Problem("records", "a profile needs at least one record"))
    return f"{smallest[0]}/{smallest[1]}"


def _fingerprint(value: object) -> str:
    """A deterministic text form of a value, for tie-breaking only (never shown or logged).

    Unlike ``repr`` it includes masked fields and sorts sets, so two different values
    almost never share a fingerprint and equal values always do.
    """
    if attrs.has(type(value)):
        parts = ",".join(
            f"{a.name}={_fingerprint(getattr(value, a.name))}"
            for a in attrs.fields(type(value))  # type: ignore[arg-type]
        )
        return f"{type(value).__name__}({parts})"
    if isinstance(value, tuple | list):
        return "(" + ",".join(_fingerprint(v) for v in value) + ")"
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(_fingerprint(v) for v in value)) + "}"
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value)


def _retrieved(record: PatientRecord) -> dt.datetime:
    return record.source.retrieved_at or _NEVER


def dedupe_records(records: Iterable[PatientRecord]) -> list[PatientRecord]:
    """One record per key, sorted by key.

    Exact duplicates collapse. When two different versions share a key, the one with the
    later ``source.retrieved_at`` wins (a missing time counts as the earliest); on a tie
    the choice is still deterministic (by content), whatever the input order.
    """
    # The content fingerprint only breaks ties, and is costly (it walks the whole
    # record): it is computed only for two different records with the same key and the
    # same retrieval time, which gives the same choice as ordering every record by
    # (retrieved_at, fingerprint).
    if isinstance(records, list | tuple):
        keys = [record.key for record in records]
        if all(a < b for a, b in itertools.pairwise(keys)):
            return list(records)  # already one per key, sorted (a linked cluster)
    chosen: dict[tuple[str, str], PatientRecord] = {}
    for record in records:
        key = record.key
        current = chosen.get(key)
        if current is None:
            chosen[key] = record
            continue
        if current is record or current == record:
            continue
        new, old = _retrieved(record), _retrieved(current)
        if new > old or (new == old and _fingerprint(record) > _fingerprint(current)):
            chosen[key] = record
    return [chosen[key] for key in sorted(chosen)]


def _last_modified(fact: object) -> dt.datetime | None:
    for name in ("last_modified", "recorded_at"):
        stamp = getattr(fact, name, None)
        if isinstance(stamp, dt.datetime):
            return stamp
    return None


def _utc_day(value: dt.datetime) -> dt.date:
    return value.astimezone(dt.UTC).date()


def _days(value: dt.datetime | PartialDate | None) -> tuple[dt.date, dt.date] | None:
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return (value.earliest(), value.latest())
    day = _utc_day(value)
    return (day, day)


def _overlap(a: dt.datetime | PartialDate | None, b: dt.datetime | PartialDate | None) -> bool:
    range_a, range_b = _days(a), _days(b)
    if range_a is None or range_b is None:
        return True
    return range_a[0] <= range_b[1] and range_b[0] <= range_a[1]


def _code_key(code: Any) -> tuple[str, str] | None:
    return None if code is None else (code.system, code.code)


# --------------------------------------------------------------------------- folding rules


@attrs.frozen
class _Rule:
    """How one fact list folds: blocking keys, a pairwise test and a pair priority."""

    blocks: Callable[[Any], Iterable[Hashable]]
    compatible: Callable[[Any, Any], bool] = lambda _a, _b: True
    priority: Callable[[Any, Any], tuple[int, ...]] = lambda _a, _b: (0,)


def _none(_fact: Any) -> Iterable[Hashable]:
    return ()


def _medication_blocks(fact: Medication) -> Iterable[Hashable]:
    codes = fact.ingredients or (fact.code,)
    return [("ingredient", c.system, c.code) for c in codes]


def _medication_priority(a: Medication, b: Medication) -> tuple[int, ...]:
    same_currency = a.status.is_current == b.status.is_current
    return (0 if same_currency else 1, 0 if a.status is b.status else 1)


def _allergy_blocks(fact: Allergy) -> Iterable[Hashable]:
    if fact.no_known:
        return [("no-known",)]
    return [_code_key(fact.code)]


def _referral_blocks(fact: Any) -> Iterable[Hashable]:
    target = _code_key(fact.specialty) or (
        (fact.recipient.type, fact.recipient.id) if fact.recipient is not None else None
    )
    return [] if target is None else [(target, _utc_day(fact.authored_on))]


def _result_blocks(fact: Any) -> Iterable[Hashable]:
    when = fact.effective if fact.effective is not None else fact.issued
    days = _days(when)
    return [(_code_key(fact.code), days)]


def _document_blocks(fact: Any) -> Iterable[Hashable]:
    """Documents of one type made at the same instant (a summary sent to two systems)."""
    if fact.date is None or not fact.types:
        return []
    when = fact.date.astimezone(dt.UTC)
    return [(_code_key(code), when) for code in fact.types]


def _condition_priority(a: Any, b: Any) -> tuple[int, ...]:
    return (0 if a.onset is not None and b.onset is not None else 1,)


_RULES: KindTable[_Rule] = KindTable(
    "profile merge",
    {
        "care_teams": _Rule(_none),
        "tasks": _Rule(_none),
        "care_plans": _Rule(_none),
        "goals": _Rule(_none),
        "referrals": _Rule(_referral_blocks),
        "transitions": _Rule(lambda f: [(f.kind, _utc_day(f.admitted_at))]),
        "encounters": _Rule(lambda f: [(f.klass, f.start.astimezone(dt.UTC))]),
        "conditions": _Rule(
            lambda f: [_code_key(f.code)],
            compatible=lambda a, b: _overlap(a.onset, b.onset),
            priority=_condition_priority,
        ),
        "medications": _Rule(_medication_blocks, priority=_medication_priority),
        "allergies": _Rule(_allergy_blocks),
        "orders": _Rule(lambda f: [(_code_key(f.code), _utc_day(f.authored_on))]),
        "results": _Rule(_result_blocks),
        "appointments": _Rule(lambda f: [f.start.astimezone(dt.UTC)]),
        "social_needs": _Rule(lambda f: [(f.domain, _utc_day(f.identified_at))]),
        "communications": _Rule(lambda f: [(f.kind, f.sent.astimezone(dt.UTC))]),
        "documents": _Rule(_document_blocks),
        "consents": _Rule(
            lambda f: [(f.decision, f.period, f.actors, f.classes, f.status)],
        ),
        "reconciliations": _Rule(lambda f: [(f.list, f.performer, f.at.astimezone(dt.UTC))]),
        "procedures": _Rule(
            lambda f: [_code_key(f.code)],
            compatible=lambda a, b: _overlap(a.performed, b.performed),
        ),
        "enrollments": _Rule(
            lambda f: [(f.program, None if f.period.start is None else _utc_day(f.period.start))]
        ),
        "activities": _Rule(
            lambda f: [(f.kind, f.performer, f.at.astimezone(dt.UTC), f.minutes)],
        ),
    },
)
"""For each fact kind, how facts of several sources fold into one (blocking, compatibility)."""


class _Item(NamedTuple):
    """One version of a fact to fold: its record's key, source rank, the fact, provenance."""

    record: tuple[str, str]
    rank: int
    fact: Any
    provenance: Provenance


def _order(item: _Item) -> tuple[str, str, str]:
    provenance = item[3]
    return (provenance.source, provenance.record, provenance.fact_id)


def _best_first(item: _Item) -> tuple[Any, ...]:
    provenance = item[3]
    stamp = provenance.last_modified
    recency = (0, -stamp.timestamp()) if stamp is not None else (1, 0.0)
    return (item[1], recency, provenance.source, provenance.record, provenance.fact_id)


class _Groups:
    """Union-find that refuses to put two facts of the same record in one group."""

    def __init__(self, items: Sequence[_Item]) -> None:
        self.parent = list(range(len(items)))
        self.records: list[set[tuple[str, str]]] = [{i[0]} for i in items]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int, *, force: bool = False) -> None:
        a, b = self.find(i), self.find(j)
        if a == b or (not force and self.records[a] & self.records[b]):
            return
        a, b = min(a, b), max(a, b)
        self.parent[b] = a
        self.records[a] |= self.records[b]


def _fact_id(fact: Any) -> str:
    return str(fact.id)


@attrs.frozen
class _FactPlan:
    """Where one fact class keeps its author and last change, for its provenance."""

    authors: tuple[str, ...]
    stamps: tuple[str, ...]
    trusted: bool  # every stamp field is validated aware by the class itself


_PLANS: dict[type, _FactPlan] = {}


def _plan(kind: type) -> _FactPlan:
    """The names :func:`fact_author` and :func:`_last_modified` would find on ``kind``."""
    plan = _PLANS.get(kind)
    if plan is None:
        # Instances of a class without ``__dict__`` have only the class's attributes.
        open_ = getattr(kind, "__dictoffset__", 0) != 0
        authors = tuple(n for n in _AUTHOR_NAMES if open_ or hasattr(kind, n))
        stamps = tuple(n for n in _STAMP_NAMES if open_ or hasattr(kind, n))
        fields = {f.name: f for f in attrs.fields(kind)} if attrs.has(kind) else {}
        trusted = not open_ and all(
            n in fields and fields[n].validator in (aware, optional_aware) for n in stamps
        )
        plan = _PLANS[kind] = _FactPlan(authors, stamps, trusted)
    return plan


def _provenance(record: PatientRecord, fact: Any) -> Provenance:
    return _provenance_of(record.source.id, record.patient.id, fact)


def _provenance_of(source: str, record: str, fact: Any) -> Provenance:
    """``Provenance`` of ``fact`` (as :func:`fact_author` and :func:`_last_modified` say)."""
    plan = _PLANS.get(type(fact)) or _plan(type(fact))
    author = None
    for name in plan.authors:
        value = getattr(fact, name, None)
        if isinstance(value, Ref):
            author = value
            break
    stamp = None
    for name in plan.stamps:
        value = getattr(fact, name, None)
        if isinstance(value, dt.datetime):
            stamp = value
            break
    build = _new_provenance if plan.trusted else Provenance
    return build(source=source, record=record, fact_id=fact.id, author=author, last_modified=stamp)


def _single_facts(source: str, record: str, facts: Sequence[Any]) -> tuple[Fact[Any], ...]:
    """Facts of one record, each its own Fact, ordered by id (as :func:`_fold` orders)."""
    ordered = sorted(facts, key=_fact_id) if len(facts) > 1 else facts
    return tuple(
        _new_fact(value=fact, provenance=(_provenance_of(source, record, fact),), variants=(fact,))
        for fact in ordered
    )


def _fold(name: str, items: list[_Item]) -> tuple[Fact[Any], ...]:
    items = sorted(items, key=_order)
    groups = _Groups(items)
    by_id: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        key = (item[3].source, item[3].fact_id)
        if key in by_id:
            groups.union(by_id[key], index, force=True)
        else:
            by_id[key] = index
    rule = _RULES[name]
    blocks: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        for block in dict.fromkeys(rule.blocks(item[2])):
            if block is not None:
                blocks.setdefault(block, []).append(index)
    pairs: set[tuple[int, int]] = set()
    for block_members in blocks.values():
        if len(block_members) < 2:
            continue
        first_record = items[block_members[0]][0]
        if all(items[i][0] == first_record for i in block_members):
            continue  # facts of one record never fold: no pair to test
        for x, i in enumerate(block_members):
            record = items[i][0]
            for j in block_members[x + 1 :]:
                if record != items[j][0]:
                    pairs.add((i, j))
    if pairs:
        ranked = sorted(
            (rule.priority(items[i][2], items[j][2]), i, j)
            for i, j in pairs
            if rule.compatible(items[i][2], items[j][2])
        )
        for _, i, j in ranked:
            groups.union(i, j)
        clusters: dict[int, list[_Item]] = {}
        for index, item in enumerate(items):
            clusters.setdefault(groups.find(index), []).append(item)
        members = list(clusters.values())
    elif len(by_id) < len(items):
        members_of: dict[int, list[_Item]] = {}
        for index, item in enumerate(items):
            members_of.setdefault(groups.find(index), []).append(item)
        members = list(members_of.values())
    else:
        # Nothing folds: every version is its own fact.
        members = [[item] for item in items]
    facts = []
    for cluster in members:
        if len(cluster) > 1:
            cluster.sort(key=_best_first)
        first = cluster[0]
        facts.append(
            _new_fact(
                value=first[2],
                provenance=tuple(m[3] for m in cluster),
                variants=tuple(m[2] for m in cluster),
            )
        )
    facts.sort(key=lambda f: (f.provenance[0].source, f.provenance[0].fact_id))
    return tuple(facts)


# --------------------------------------------------------------------------- merge


def _ranker(source_ranking: Sequence[str]) -> Callable[[str], int]:
    positions: dict[str, int] = {}
    for position, source in enumerate(source_ranking):
        positions.setdefault(source, position)
    unranked = len(positions)
    return lambda source: positions.get(source, unranked)


def merge_records(
    records: Iterable[PatientRecord],
    *,
    profile_id: str | None = None,
    source_ranking: Sequence[str] = (),
) -> PatientProfile:
    """Merge records known to be one person into a profile with provenance and conflicts.

    ``profile_id`` defaults to :func:`profile_id_for` of the records' keys; duplicated
    keys are collapsed first (:func:`dedupe_records`). The result does not depend on the
    order of ``records``.
    """
    unique = dedupe_records(records)
    pid = profile_id or profile_id_for(r.key for r in unique)
    if not pid.strip():  # what Patient(id=pid) checks
        raise ValidationError(Problem("id", "must be a non-empty string"))
    if len(unique) == 1:
        return _merge_one(unique[0], pid)
    rank = _ranker(source_ranking)
    survivors = sorted(
        unique,
        key=lambda r: (rank(r.source.id), -_retrieved(r).timestamp(), r.key),
    )
    per_source: dict[str, int] = {}
    for record in unique:
        per_source[record.source.id] = per_source.get(record.source.id, 0) + 1
    labels = {
        r.key: r.source.id if per_source[r.source.id] == 1 else f"{r.source.id}/{r.patient.id}"
        for r in unique
    }

    fields: dict[str, tuple[Fact[Any], ...]] = dict.fromkeys(FACT_FIELDS, ())
    holding: dict[str, list[tuple[PatientRecord, int, Any]]] = {}
    for record in unique:
        rank_ = rank(record.source.id)
        every = _ALL_FACTS(record)
        for name, facts in zip(compress(FACT_FIELDS, every), compress(every, every), strict=True):
            holding.setdefault(name, []).append((record, rank_, facts))
    # Kinds no record holds stay empty; the others in FACT_FIELDS order (as ever).
    for name in sorted(holding, key=_FACT_ORDER.__getitem__):
        held = holding[name]
        if len(held) == 1:
            # Only one record holds facts of this kind: nothing folds (see _merge_one).
            record = held[0][0]
            fields[name] = _single_facts(record.source.id, record.patient.id, held[0][2])
        else:
            fields[name] = _fold(
                name,
                [
                    _Item(
                        record=record.key,
                        rank=rank_,
                        fact=fact,
                        provenance=_provenance(record, fact),
                    )
                    for record, rank_, facts in held
                    for fact in facts
                ],
            )

    patient, demographic = _merge_patient(pid, survivors, labels)
    conflicts = demographic
    if fields["allergies"]:
        conflicts += _allergy_conflicts(fields["allergies"], labels)
    if fields["medications"]:
        conflicts += _medication_conflicts(fields["medications"], unique, labels)
    if fields["conditions"]:
        conflicts += _problem_conflicts(fields["conditions"], labels)
    conflicts.sort(key=lambda c: (c.kind.value, c.field, c.subject or "", c.values))
    return _new_profile(
        id=pid,
        patient=patient,
        records=tuple(unique),
        practitioners=_parties_by_id([r.practitioners for r in survivors]),
        organizations=_parties_by_id([r.organizations for r in survivors]),
        related_persons=_parties_by_id([r.related_persons for r in survivors]),
        conflicts=tuple(conflicts),
        **fields,
    )


def _parties_by_id(tuples: Sequence[tuple[_P, ...]]) -> tuple[_P, ...]:
    """:func:`_union_by_id` of the survivors' parties (``tuples`` in survivorship order)."""
    held = [t for t in tuples if t]
    if len(held) < 2:
        return _by_id(held[0]) if held else ()
    chosen: dict[str, _P] = {}
    for parties in held:
        for party in parties:
            chosen.setdefault(party.id, party)
    return tuple(chosen[key] for key in sorted(chosen))


def _merge_one(record: PatientRecord, pid: str) -> PatientProfile:
    """The profile of one record (a third of people): what the general merge gives.

    Nothing can fold, since fact ids are unique within a record and two facts of one
    record never fold by content: each fact is its own Fact, ordered by id. One record
    cannot disagree with itself, so only an allergy against "no known allergies" (which
    a single record can state) is checked. The patient and the parties keep the record's
    own tuples when they hold no duplicates (the general merge would build equal ones).
    """
    source, rid = record.source.id, record.patient.id
    fields: dict[str, tuple[Fact[Any], ...]] = dict.fromkeys(FACT_FIELDS, ())
    every = _ALL_FACTS(record)
    for name, facts in zip(compress(FACT_FIELDS, every), compress(every, every), strict=True):
        fields[name] = _single_facts(source, rid, facts)
    conflicts: tuple[FactConflict, ...] = ()
    if fields["allergies"]:
        found = _allergy_conflicts(fields["allergies"], {record.key: source})
        conflicts = tuple(found)
    p = record.patient
    patient = _new_patient(
        id=PatientId(pid),
        identifiers=_distinct(p.identifiers),
        names=_distinct(p.names),
        birth_date=p.birth_date,
        sex=p.sex,
        telecom=_distinct(p.telecom),
        addresses=_distinct(p.addresses),
        deceased=bool(p.is_deceased),
        deceased_at=p.deceased_at,
        links=_distinct(p.links),
        language=p.language or None,
        timezone=p.timezone or None,
        general_practitioner=_distinct(p.general_practitioner),
    )
    return _new_profile(
        id=pid,
        patient=patient,
        records=(record,),
        practitioners=_by_id(record.practitioners),
        organizations=_by_id(record.organizations),
        related_persons=_by_id(record.related_persons),
        conflicts=conflicts,
        **fields,
    )


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``values`` without repeats: ``values`` itself when a plain tuple without any."""
    if type(values) is tuple:
        if len(values) < 2:
            return values
        unique = dict.fromkeys(values)
        return values if len(unique) == len(values) else tuple(unique)
    return tuple(dict.fromkeys(values))


def _by_id(parties: tuple[_P, ...]) -> tuple[_P, ...]:
    """``_union_by_id`` of one record: ``parties`` itself when already sorted by unique id."""
    if type(parties) is tuple and (
        len(parties) < 2 or all(parties[i].id < parties[i + 1].id for i in range(len(parties) - 1))
    ):
        return parties
    chosen: dict[str, _P] = {}
    for party in parties:
        chosen.setdefault(party.id, party)
    return tuple(chosen[key] for key in sorted(chosen))


def _union_by_id(
    survivors: Sequence[PatientRecord],
    get: Callable[[PatientRecord], Sequence[_P]],
) -> tuple[_P, ...]:
    """Parties by id, the first survivor's version of each, sorted by id.

    The plain form of :func:`_parties_by_id` and :func:`_by_id` (which give the same
    tuples, sharing a record's own when they can); the tests compare them with it.
    """
    chosen: dict[str, _P] = {}
    for record in survivors:
        for party in get(record):
            chosen.setdefault(party.id, party)
    return tuple(chosen[key] for key in sorted(chosen))


def _union_of(tuples: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The tuples' items without repeats, first seen first (one tuple's own when it can)."""
    held = [t for t in tuples if t]
    if not held:
        return ()
    if held.count(held[0]) == len(held):
        # Only one tuple holds items, or every one holds the same: the first's own items.
        return _distinct(held[0])
    return tuple(dict.fromkeys(item for t in held for item in t))


def _label(labels: dict[tuple[str, str], str], record: PatientRecord) -> str:
    return labels[record.key]


def _primary_address(address: Address) -> str:
    line = normalize_address_line(" ".join(address.lines))
    postal = normalize_postal_code(address.postal_code or "") or ""
    city = normalize_name(address.city or "")
    return f"{line}|{city}|{postal}"


def _address_text(address: Address) -> str:
    parts = [*address.lines, address.city, address.state, address.postal_code]
    return ", ".join(p for p in parts if p)


def _phone(patient: Patient) -> tuple[str, str] | None:
    for point in patient.telecom:
        if point.system in {ContactSystem.PHONE, ContactSystem.SMS}:
            digits = normalize_phone(point.value)
            if digits is not None:
                return digits, point.value
    return None


def _birth_dates_agree(dates: Sequence[PartialDate]) -> bool:
    return all(
        a.contains(b.earliest()) or b.contains(a.earliest())
        for i, a in enumerate(dates)
        for b in dates[i + 1 :]
    )


def _demographic(
    field: str,
    observations: Sequence[tuple[str, str, str]],
    *,
    chosen: str | None = None,
    agree: bool | None = None,
) -> list[FactConflict]:
    """``observations``: (label, comparison key, shown value), in survivorship order."""
    if len(observations) < 2:
        return []
    if agree is None:
        agree = len({key for _, key, _ in observations}) == 1
    if agree:
        return []
    return [
        FactConflict(
            kind=ConflictKind.DEMOGRAPHIC,
            field=field,
            values=tuple(sorted((label, shown) for label, _, shown in observations)),
            chosen=chosen if chosen is not None else observations[0][0],
            subject="patient",
        )
    ]


def _patient_conflicts(
    patients: Sequence[Patient],
    lab: Sequence[str],
    born: Sequence[tuple[str, PartialDate]],
    sexed: Sequence[tuple[str, Sex]],
    deceased_labels: Sequence[str],
) -> list[FactConflict]:
    """Demographic conflicts between the records' patients (in survivorship order)."""
    # Comparison keys (normalised names, addresses, phones) are computed only when the
    # raw values differ: equal values always have equal keys, so they agree.
    conflicts: list[FactConflict] = []
    named = [(lab[i], p) for i, p in enumerate(patients) if p.name is not None]
    fulls = [(label, p.names[0].full()) for label, p in named]
    if not _all_equal([full for _, full in fulls]):
        conflicts += _demographic(
            "name", [(label, normalize_name(full), full) for label, full in fulls]
        )

    if not _all_equal([d for _, d in born]):
        conflicts += _demographic(
            "birth_date",
            [(label, d.isoformat(), d.isoformat()) for label, d in born],
            agree=_birth_dates_agree([d for _, d in born]),
        )

    conflicts += _demographic("sex", [(label, s.value, s.value) for label, s in sexed])

    housed = [(lab[i], p.addresses[0]) for i, p in enumerate(patients) if p.addresses]
    if not _all_equal([a for _, a in housed]):
        conflicts += _demographic(
            "address",
            [(label, _primary_address(a), _address_text(a)) for label, a in housed],
        )

    if not _all_equal([p.telecom for p in patients]):
        phones = [(lab[i], _phone(p)) for i, p in enumerate(patients)]
        conflicts += _demographic(
            "phone",
            [(label, phone[0], phone[1]) for label, phone in phones if phone is not None],
        )

    deceased = [str(p.is_deceased) for p in patients]
    if not _all_equal(deceased):
        conflicts += _demographic(
            "deceased",
            [(lab[i], text, text.lower()) for i, text in enumerate(deceased)],
            chosen=deceased_labels[0] if deceased_labels else None,
        )
    return conflicts


def _all_equal(values: Sequence[object]) -> bool:
    """Whether every value equals the first (so any key computed from them agrees)."""
    return not values or values.count(values[0]) == len(values)


def _merge_patient(
    pid: str,
    survivors: Sequence[PatientRecord],
    labels: dict[tuple[str, str], str],
) -> tuple[Patient, list[FactConflict]]:
    patients = [r.patient for r in survivors]
    lab = [_label(labels, r) for r in survivors]
    conflicts: list[FactConflict] = []

    born = [(lab[i], p.birth_date) for i, p in enumerate(patients) if p.birth_date is not None]
    birth_date = born[0][1] if born else None
    sexed = [(lab[i], p.sex) for i, p in enumerate(patients) if p.sex is not Sex.UNKNOWN]
    sex = sexed[0][1] if sexed else Sex.UNKNOWN
    deceased_labels = [lab[i] for i, p in enumerate(patients) if p.is_deceased]
    if len(patients) > 1:
        # One record cannot disagree with itself: its comparison keys are not needed.
        conflicts += _patient_conflicts(patients, lab, born, sexed, deceased_labels)
    deceased_at = next((p.deceased_at for p in patients if p.deceased_at is not None), None)

    patient = _new_patient(
        id=PatientId(pid),
        identifiers=_union_of([p.identifiers for p in patients]),
        names=_union_of([p.names for p in patients]),
        birth_date=birth_date,
        sex=sex,
        telecom=_union_of([p.telecom for p in patients]),
        addresses=_union_of([p.addresses for p in patients]),
        deceased=bool(deceased_labels),
        deceased_at=deceased_at,
        links=_union_of([p.links for p in patients]),
        language=next((p.language for p in patients if p.language), None),
        timezone=next((p.timezone for p in patients if p.timezone), None),
        general_practitioner=_union_of([p.general_practitioner for p in patients]),
    )
    return patient, conflicts


# --------------------------------------------------------------------------- fact conflicts


def _fact_labels(fact: Fact[Any], labels: dict[tuple[str, str], str]) -> list[tuple[str, Any]]:
    """(label, variant) per record, first variant per label, in provenance order."""
    seen: dict[str, Any] = {}
    for prov, variant in zip(fact.provenance, fact.variants, strict=True):
        seen.setdefault(labels[(prov.source, prov.record)], variant)
    return list(seen.items())


def _conflict(
    kind: ConflictKind, field: str, fact: Fact[Any], shown: Sequence[tuple[str, str]]
) -> FactConflict:
    """A conflict between versions of one fact: ``shown`` is (label, value) by version."""
    return FactConflict(
        kind=kind,
        field=field,
        values=tuple(sorted(shown)),
        chosen=shown[0][0],
        subject=fact.key,
    )


def _frequency(text: str) -> str:
    return "".join(text.split()).upper()


def _medication_conflicts(
    facts: Sequence[Fact[Medication]],
    records: Sequence[PatientRecord],
    labels: dict[tuple[str, str], str],
) -> list[FactConflict]:
    reporting = sorted({labels[r.key] for r in records if r.medications})
    conflicts: list[FactConflict] = []
    for fact in facts:
        variants = _fact_labels(fact, labels)
        if len(variants) > 1:
            # One record's version cannot disagree with itself. The comparison keys are
            # computed first, the values shown only for a conflict.
            dosed = [(lab, m) for lab, m in variants if m.dose]
            if len(dosed) > 1 and len({(m.dose.value, m.dose.unit) for _, m in dosed}) > 1:
                shown = [(lab, str(m.dose)) for lab, m in dosed]
                conflicts.append(_conflict(ConflictKind.MEDICATION_DOSE, "dose", fact, shown))
            timed = [(lab, m.frequency) for lab, m in variants if m.frequency]
            if len(timed) > 1 and len({_frequency(f) for _, f in timed}) > 1:
                conflicts.append(
                    _conflict(ConflictKind.MEDICATION_FREQUENCY, "frequency", fact, timed)
                )
            routed = [(lab, m.route) for lab, m in variants if m.route]
            if len(routed) > 1 and len({_code_key(r) for _, r in routed}) > 1:
                shown = [(lab, str(r)) for lab, r in routed]
                conflicts.append(_conflict(ConflictKind.MEDICATION_ROUTE, "route", fact, shown))
            status = variants[0][1].status
            if any(m.status is not status for _, m in variants):  # enum members
                shown = [(lab, m.status.value) for lab, m in variants]
                conflicts.append(_conflict(ConflictKind.MEDICATION_STATUS, "status", fact, shown))
        if any(m.status.is_current for _, m in variants):
            present = {lab for lab, _ in variants}
            missing = [lab for lab in reporting if lab not in present]
            if missing:
                shown = [(lab, m.status.value) for lab, m in variants]
                shown += [(lab, "absent") for lab in missing]
                conflicts.append(
                    FactConflict(
                        kind=ConflictKind.MEDICATION_OMISSION,
                        field="presence",
                        values=tuple(sorted(shown)),
                        chosen=None,
                        subject=fact.key,
                    )
                )
    return conflicts


def _allergy_is_live(allergy: Allergy) -> bool:
    return allergy.clinical_status.is_active and allergy.verification_status not in {
        VerificationStatus.REFUTED,
        VerificationStatus.ENTERED_IN_ERROR,
    }


def _allergy_conflicts(
    facts: Sequence[Fact[Allergy]], labels: dict[tuple[str, str], str]
) -> list[FactConflict]:
    none_known: dict[str, str] = {}
    allergic: dict[str, list[str]] = {}
    subject: str | None = None
    for fact in facts:
        for label, allergy in _fact_labels(fact, labels):
            if not _allergy_is_live(allergy):
                continue
            if allergy.no_known:
                none_known[label] = "no known allergies"
                subject = subject or fact.key
            elif allergy.code is not None:
                allergic.setdefault(label, []).append(str(allergy.code))
    if subject is None or not allergic:
        return []
    values = {label: "; ".join(sorted(names)) for label, names in allergic.items()}
    for label, text in none_known.items():
        values[label] = f"{text}; {values[label]}" if label in values else text
    return [
        FactConflict(
            kind=ConflictKind.ALLERGY_VS_NKA,
            field="allergies",
            values=tuple(sorted(values.items())),
            chosen=None,
            subject=subject,
        )
    ]


def _problem_conflicts(
    facts: Sequence[Fact[Any]], labels: dict[tuple[str, str], str]
) -> list[FactConflict]:
    conflicts: list[FactConflict] = []
    for fact in facts:
        if len(fact.variants) < 2:
            continue  # one version: nothing to disagree with
        variants = _fact_labels(fact, labels)
        status = variants[0][1].clinical_status
        if any(c.clinical_status is not status for _, c in variants):  # enum members
            shown = [(lab, c.clinical_status.value) for lab, c in variants]
            conflicts.append(_conflict(ConflictKind.PROBLEM_STATUS, "clinical_status", fact, shown))
    return conflicts
