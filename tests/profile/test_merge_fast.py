"""The merge's shortcuts give exactly what the general merge gives.

The one-record path (:func:`_merge._merge_one`), the trusted constructors, the unions
that keep a record's own tuples, the demographic comparison that skips equal raw values
and the fact conflicts that compare keys only between versions are each checked against
a reference built the long way, on generated populations: equal values, and the same
types all the way down.
"""

from __future__ import annotations

import enum
import itertools
from typing import Any

import attrs

from carecoord.domain import (
    FACT_FIELDS,
    ContactPoint,
    ContactSystem,
    HumanName,
    Patient,
    PatientRecord,
)
from carecoord.profile import _merge
from carecoord.profile._facts import ConflictKind, Fact, FactConflict, Provenance
from carecoord.profile._merge import merge_records
from carecoord.profile._model import PatientProfile
from carecoord.profile._strings import normalize_name
from carecoord.profile._trusted import trusted_constructor
from carecoord.testing import generate_population, make_practitioner


def _shape(value: Any) -> Any:
    """``value`` as nested tuples naming every value's exact type (attrs fields in order)."""
    kind = type(value)
    if attrs.has(kind):
        return (kind, tuple((f.name, _shape(getattr(value, f.name))) for f in attrs.fields(kind)))
    if isinstance(value, tuple | list):
        return (kind, tuple(_shape(v) for v in value))
    if isinstance(value, enum.Enum):
        return (kind, value.name)
    return (kind, value)


def _people(n: int, seed: int) -> list[list[PatientRecord]]:
    population = generate_population(n, seed=seed, with_facts=True)
    people: dict[str, list[PatientRecord]] = {}
    for record in population.records:
        people.setdefault(population.truth[record.key], []).append(record)
    return list(people.values())


def _general_one(record: PatientRecord, pid: str) -> PatientProfile:
    """The profile of one record built by the general merge's parts, validated."""
    labels = {record.key: record.source.id}
    patient, demographic = _merge._merge_patient(pid, [record], labels)
    fields: dict[str, Any] = {}
    for name in FACT_FIELDS:
        fields[name] = _merge._fold(
            name,
            [
                _merge._Item(record.key, 0, fact, _merge._provenance(record, fact))
                for fact in getattr(record, name)
            ],
        )
    conflicts = [*demographic, *_merge._allergy_conflicts(fields["allergies"], labels)]
    return PatientProfile(
        id=pid,
        patient=Patient(**{f.name: getattr(patient, f.name) for f in attrs.fields(Patient)}),
        records=(record,),
        practitioners=_merge._union_by_id([record], lambda r: r.practitioners),
        organizations=_merge._union_by_id([record], lambda r: r.organizations),
        related_persons=_merge._union_by_id([record], lambda r: r.related_persons),
        conflicts=tuple(conflicts),
        **{
            name: tuple(
                Fact(
                    value=f.value,
                    provenance=tuple(
                        Provenance(**attrs.asdict(p, recurse=False)) for p in f.provenance
                    ),
                    variants=f.variants,
                )
                for f in facts
            )
            for name, facts in fields.items()
        },
    )


def _awkward(record: PatientRecord) -> PatientRecord:
    """``record`` with duplicated names and telecom, and practitioners out of id order."""
    patient = record.patient
    name = patient.names[0] if patient.names else HumanName(family="Doe", given=("Jo",))
    phone = ContactPoint(ContactSystem.PHONE, "555-0100")
    patient = attrs.evolve(
        patient,
        names=(name, HumanName(family="Roe"), name),
        telecom=(phone, *patient.telecom, phone),
    )
    practitioners = (make_practitioner(id="zz-9"), make_practitioner(id="aa-1"))
    return attrs.evolve(record, patient=patient, practitioners=practitioners)


def test_one_record_path_equals_the_general_merge() -> None:
    """A person with one record gets what the general merge's parts build, type for type."""
    checked = 0
    for records in _people(400, 21):
        for record in records:
            for one in (record, _awkward(record)):
                profile = merge_records([one])
                expected = _general_one(one, profile.id)
                assert profile == expected
                assert _shape(profile) == _shape(expected)
                checked += 1
    assert checked > 1000


def test_trusted_objects_equal_validated_ones() -> None:
    """Every fact, provenance, patient and profile equals its validated rebuild."""
    for records in _people(200, 22):
        profile = merge_records(records)
        rebuilt = attrs.evolve(profile)  # the checked, validating constructor
        assert rebuilt == profile
        patient = Patient(
            **{f.name: getattr(profile.patient, f.name) for f in attrs.fields(Patient)}
        )
        assert _shape(patient) == _shape(profile.patient)
        for _, fact in profile.facts():
            again = Fact(value=fact.value, provenance=fact.provenance, variants=fact.variants)
            assert _shape(again) == _shape(fact)
            for provenance in fact.provenance:
                assert _shape(attrs.evolve(provenance)) == _shape(provenance)


def test_trusted_constructor_skips_validators_only() -> None:
    """The copy sets fields like ``__init__`` (defaults included) without validating."""
    build = trusted_constructor(Provenance)
    made = build(source="s", record="r", fact_id="f")
    assert _shape(made) == _shape(Provenance(source="s", record="r", fact_id="f"))
    assert build(source="s", record="r", fact_id="f", last_modified="not checked").last_modified


def _reference_patient_conflicts(
    patients: list[Patient], lab: list[str], born: Any, sexed: Any, dead: list[str]
) -> list[FactConflict]:
    """Demographic conflicts with every comparison key computed (no shortcut)."""
    d = _merge._demographic
    named = [(lab[i], p) for i, p in enumerate(patients) if p.name is not None]
    housed = [(lab[i], p.addresses[0]) for i, p in enumerate(patients) if p.addresses]
    phones = [(lab[i], _merge._phone(p)) for i, p in enumerate(patients)]
    return [
        *d("name", [(x, normalize_name(p.names[0].full()), p.names[0].full()) for x, p in named]),
        *d(
            "birth_date",
            [(x, b.isoformat(), b.isoformat()) for x, b in born],
            agree=_merge._birth_dates_agree([b for _, b in born]),
        ),
        *d("sex", [(x, s.value, s.value) for x, s in sexed]),
        *d(
            "address", [(x, _merge._primary_address(a), _merge._address_text(a)) for x, a in housed]
        ),
        *d("phone", [(x, ph[0], ph[1]) for x, ph in phones if ph is not None]),
        *d(
            "deceased",
            [
                (lab[i], str(p.is_deceased), str(p.is_deceased).lower())
                for i, p in enumerate(patients)
            ],
            chosen=dead[0] if dead else None,
        ),
    ]


def test_demographic_shortcut_equals_comparing_every_key() -> None:
    """Skipping keys of equal raw values finds exactly the conflicts of the full comparison."""
    patients = [r.patient for records in _people(300, 23) for r in records]
    groups = [patients[i : i + size] for size in (2, 3) for i in range(0, len(patients) - 3, 2)]
    groups += [[p, p] for p in patients[:50]]  # identical: no conflict at all
    groups += [[p, attrs.evolve(p, deceased=True)] for p in patients[:50]]
    found = 0
    for group in groups:
        lab = [f"s{i}" for i in range(len(group))]
        born = [(lab[i], p.birth_date) for i, p in enumerate(group) if p.birth_date is not None]
        sexed = [(lab[i], p.sex) for i, p in enumerate(group) if p.sex.value != "unknown"]
        dead = [lab[i] for i, p in enumerate(group) if p.is_deceased]
        got = _merge._patient_conflicts(group, lab, born, sexed, dead)
        assert got == _reference_patient_conflicts(group, lab, born, sexed, dead)
        found += len(got)
    assert found > 100


def _reference_fact_conflicts(profile: PatientProfile) -> list[FactConflict]:
    """Medication-variant and problem-status conflicts, every key compared (no shortcut)."""
    per_source: dict[str, int] = {}
    for r in profile.records:
        per_source[r.source.id] = per_source.get(r.source.id, 0) + 1
    labels = {
        r.key: r.source.id if per_source[r.source.id] == 1 else f"{r.source.id}/{r.patient.id}"
        for r in profile.records
    }

    def variant(kind: ConflictKind, field: str, fact: Fact[Any], obs: Any) -> list[FactConflict]:
        if len({key for _, key, _ in obs}) < 2:
            return []
        values = tuple(sorted((label, shown) for label, _, shown in obs))
        return [FactConflict(kind, field, values, obs[0][0], fact.key)]

    out: list[FactConflict] = []
    for fact in profile.medications:
        v = _merge._fact_labels(fact, labels)
        out += variant(
            ConflictKind.MEDICATION_DOSE,
            "dose",
            fact,
            [(x, (m.dose.value, m.dose.unit), str(m.dose)) for x, m in v if m.dose],
        )
        out += variant(
            ConflictKind.MEDICATION_FREQUENCY,
            "frequency",
            fact,
            [(x, _merge._frequency(m.frequency), m.frequency) for x, m in v if m.frequency],
        )
        out += variant(
            ConflictKind.MEDICATION_ROUTE,
            "route",
            fact,
            [(x, _merge._code_key(m.route), str(m.route)) for x, m in v if m.route],
        )
        out += variant(
            ConflictKind.MEDICATION_STATUS,
            "status",
            fact,
            [(x, m.status, m.status.value) for x, m in v],
        )
    for problem in profile.conditions:
        v = _merge._fact_labels(problem, labels)
        out += variant(
            ConflictKind.PROBLEM_STATUS,
            "clinical_status",
            problem,
            [(x, c.clinical_status, c.clinical_status.value) for x, c in v],
        )
    return out


def test_fact_conflict_shortcut_equals_comparing_every_version() -> None:
    """Versions compared only across records: the same dose/frequency/route/status conflicts."""
    records = [r for people in _people(300, 24) for r in people]
    found = 0
    for group in itertools.chain(
        (records[i : i + 3] for i in range(0, len(records) - 3, 3)),
        (records[i : i + 2] for i in range(1, len(records) - 2, 5)),
    ):
        profile = merge_records(group)
        kinds = {ConflictKind.MEDICATION_OMISSION, ConflictKind.DEMOGRAPHIC}
        kinds.add(ConflictKind.ALLERGY_VS_NKA)
        got = sorted(
            (c for c in profile.conflicts if c.kind not in kinds),
            key=lambda c: (c.kind.value, c.field, c.subject or "", c.values),
        )
        expected = sorted(
            _reference_fact_conflicts(profile),
            key=lambda c: (c.kind.value, c.field, c.subject or "", c.values),
        )
        assert got == expected
        found += len(got)
    assert found > 10


def test_parties_shortcut_equals_union_by_id() -> None:
    """Parties united from the survivors' tuples equal ``_union_by_id``, tuple for tuple."""
    records = [r for people in _people(100, 25) for r in people]
    records = [_awkward(r) if i % 3 == 0 else r for i, r in enumerate(records)]
    for size in (1, 2, 3):
        for i in range(0, len(records) - size, size):
            group = records[i : i + size]
            for get in (
                lambda r: r.practitioners,
                lambda r: r.organizations,
                lambda r: r.related_persons,
            ):
                got = _merge._parties_by_id([get(r) for r in group])
                expected = _merge._union_by_id(group, get)
                assert got == expected
                assert _shape(got) == _shape(expected)
