"""Tests for merging one person's records: folding, provenance, survivorship, conflicts."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from unittest import mock

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.domain import (
    FACT_FIELDS,
    Address,
    ClinicalStatus,
    Code,
    ContactPoint,
    ContactSystem,
    EncounterClass,
    HumanName,
    Identifier,
    MedicationStatus,
    PartialDate,
    Patient,
    PatientRecord,
    Period,
    Quantity,
    Sex,
    System,
)
from carecoord.profile import _merge
from carecoord.profile._merge import (
    dedupe_records,
    fact_author,
    merge_records,
    profile_id_for,
)
from carecoord.profile._model import ConflictKind, FactConflict, PatientProfile
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    PCP,
    days_before,
    generate_population,
    make_allergy,
    make_condition,
    make_encounter,
    make_medication,
    make_order,
    make_patient,
    make_procedure,
    make_record,
    make_related_person,
    make_result,
    make_source,
)

LISINOPRIL = Code(System.RXNORM, "29046", "lisinopril")
METFORMIN = Code(System.RXNORM, "6809", "metformin")


def record(
    source: str,
    patient_id: str = "patient-1",
    *,
    patient: Patient | None = None,
    retrieved_at: dt.datetime | None = None,
    **facts: Any,
) -> PatientRecord:
    """A record from ``source`` whose facts all name ``patient_id``."""
    facts = {
        name: tuple(attrs.evolve(f, patient=patient_id) for f in v) for name, v in facts.items()
    }
    return make_record(
        source=make_source(id=source, retrieved_at=retrieved_at),
        patient=patient if patient is not None else make_patient(id=patient_id),
        **facts,
    )


def conflicts_of(profile: PatientProfile, kind: ConflictKind) -> list[FactConflict]:
    """The profile's conflicts of one kind."""
    return [c for c in profile.conflicts if c.kind is kind]


class TestProfileId:
    """Profile ids are derived from the smallest record key."""

    def test_smallest_record_key(self) -> None:
        """The profile id is "<source>/<patient id>" of the smallest record key."""
        assert profile_id_for([("z", "1"), ("a", "9"), ("a", "10")]) == "a/10"

    def test_merged_patient_takes_the_profile_id(self) -> None:
        """The merged patient's id is the profile id, whatever the survivor."""
        profile = merge_records([record("b", "p2"), record("a", "p1")], source_ranking=["b"])
        assert profile.id == "a/p1"
        assert profile.patient.id == "a/p1"


class TestDedupe:
    """Records sharing a key are reduced to one."""

    def test_exact_duplicates_collapse(self) -> None:
        """The same record given twice is kept once."""
        one = record("a")
        assert dedupe_records([one, one]) == [one]

    def test_later_retrieval_wins(self) -> None:
        """Of two versions of one key, the later ``retrieved_at`` is kept, in any order."""
        old = record("a", retrieved_at=days_before(2), conditions=(make_condition(),))
        new = record("a", retrieved_at=days_before(1))
        assert dedupe_records([old, new]) == [new]
        assert dedupe_records([new, old]) == [new]

    def test_tie_is_deterministic(self) -> None:
        """Two versions with the same retrieval time resolve the same way in any order."""
        one = record("a", conditions=(make_condition(),))
        two = record("a", medications=(make_medication(),))
        assert dedupe_records([one, two]) == dedupe_records([two, one])

    def test_tie_keeps_the_larger_content_fingerprint(self) -> None:
        """On a retrieval-time tie the version with the larger content fingerprint is kept."""
        one = record("a", conditions=(make_condition(),))
        two = record("a", medications=(make_medication(),))
        larger = max((one, two), key=_merge._fingerprint)
        assert dedupe_records([one, two]) == [larger]

    def test_fingerprints_only_break_ties(self) -> None:
        """Distinct keys, exact duplicates and different retrieval times need no fingerprint."""
        old = record("a", retrieved_at=days_before(2), conditions=(make_condition(),))
        new = record("a", retrieved_at=days_before(1))
        other = record("b", "p2", patient=make_patient(id="p2"))
        with mock.patch.object(_merge, "_fingerprint", side_effect=AssertionError("computed")):
            assert dedupe_records([old, other, new, new, other]) == [new, other]


class TestFolding:
    """Duplicate facts fold into one fact with several sources."""

    def test_same_source_and_fact_id_fold(self) -> None:
        """Two records of one source stating one fact id give one fact with both versions."""
        first = record("a", "p1", conditions=(make_condition(),))
        second = record("a", "p2", patient=make_patient(id="p2"), conditions=(make_condition(),))
        profile = merge_records([first, second])
        assert len(profile.conditions) == 1
        assert [p.record for p in profile.conditions[0].provenance] == ["p1", "p2"]

    def test_conditions_fold_by_code_and_onset(self) -> None:
        """Conditions with the same code and onset from two sources fold."""
        profile = merge_records(
            [
                record("a", conditions=(make_condition(onset=PartialDate(2019, 3)),)),
                record("b", conditions=(make_condition(id="x", onset=PartialDate(2019, 3, 4)),)),
            ]
        )
        assert len(profile.conditions) == 1
        assert profile.conditions[0].sources == ("a", "b")

    def test_conditions_with_different_onsets_stay_apart(self) -> None:
        """The same code with onsets that cannot be the same day gives two facts."""
        profile = merge_records(
            [
                record("a", conditions=(make_condition(onset=PartialDate(2015)),)),
                record("b", conditions=(make_condition(onset=PartialDate(2019)),)),
            ]
        )
        assert len(profile.conditions) == 2

    def test_condition_without_onset_folds_by_code(self) -> None:
        """A condition without onset folds with the same code from another source."""
        profile = merge_records(
            [
                record("a", conditions=(make_condition(onset=PartialDate(2019)),)),
                record("b", conditions=(make_condition(onset=None),)),
            ]
        )
        assert len(profile.conditions) == 1

    def test_facts_of_one_record_never_fold(self) -> None:
        """Two facts of the same record stay apart even with the same code and date."""
        profile = merge_records(
            [record("a", conditions=(make_condition(), make_condition(id="condition-2")))]
        )
        assert len(profile.conditions) == 2

    def test_medications_fold_by_shared_ingredient(self) -> None:
        """Different products of one ingredient from two sources fold into one medication."""
        other_product = make_medication(
            id="rx-9", code=Code(System.RXNORM, "314077", "lisinopril 20 MG Oral Tablet")
        )
        profile = merge_records(
            [
                record("a", medications=(make_medication(),)),
                record("b", medications=(other_product,)),
            ]
        )
        assert len(profile.medications) == 1
        assert len(profile.medications[0].variants) == 2

    def test_medications_without_ingredients_fold_by_code(self) -> None:
        """Without ingredients, medications fold on the product code."""
        med = make_medication(ingredients=(), code=METFORMIN)
        profile = merge_records(
            [record("a", medications=(med,)), record("b", medications=(attrs.evolve(med, id="z"),))]
        )
        assert len(profile.medications) == 1

    def test_different_drugs_stay_apart(self) -> None:
        """Medications sharing no ingredient are different facts."""
        metformin = make_medication(id="m2", code=METFORMIN, ingredients=(METFORMIN,))
        profile = merge_records(
            [record("a", medications=(make_medication(),)), record("b", medications=(metformin,))]
        )
        assert len(profile.medications) == 2

    def test_encounters_fold_by_class_and_start(self) -> None:
        """Encounters of one class starting at the same instant (any offset) fold."""
        start = days_before(3)
        other_zone = start.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        profile = merge_records(
            [
                record("a", encounters=(make_encounter(period=Period(start)),)),
                record("b", encounters=(make_encounter(id="e9", period=Period(other_zone)),)),
            ]
        )
        assert len(profile.encounters) == 1

    def test_encounters_of_different_class_stay_apart(self) -> None:
        """A video visit and an office visit at the same time are two encounters."""
        start = days_before(3)
        profile = merge_records(
            [
                record("a", encounters=(make_encounter(period=Period(start)),)),
                record(
                    "b",
                    encounters=(
                        make_encounter(period=Period(start), klass=EncounterClass.VIRTUAL),
                    ),
                ),
            ]
        )
        assert len(profile.encounters) == 2

    def test_results_fold_by_code_and_day(self) -> None:
        """Results of one test on the same day fold (effective, else issued)."""
        profile = merge_records(
            [
                record("lab", results=(make_result(),)),
                record(
                    "a",
                    results=(
                        make_result(id="copy", issued=days_before(1) + dt.timedelta(hours=1)),
                    ),
                ),
            ]
        )
        assert len(profile.results) == 1

    def test_orders_fold_by_code_and_authored_day(self) -> None:
        """Orders of one test authored the same day fold."""
        profile = merge_records(
            [record("a", orders=(make_order(),)), record("b", orders=(make_order(id="o9"),))]
        )
        assert len(profile.orders) == 1

    def test_procedures_fold_by_code_and_performed_date(self) -> None:
        """Procedures with one code and overlapping performed dates fold."""
        partial = PartialDate.from_date((AS_OF - dt.timedelta(hours=2)).date())
        profile = merge_records(
            [
                record("a", procedures=(make_procedure(),)),
                record("b", procedures=(make_procedure(id="p9", performed=partial),)),
            ]
        )
        assert len(profile.procedures) == 1

    def test_no_known_allergies_fold(self) -> None:
        """Every source's "no known allergies" folds into one fact."""
        nka = make_allergy(code=None, no_known=True)
        profile = merge_records(
            [record("a", allergies=(nka,)), record("b", allergies=(attrs.evolve(nka, id="n2"),))]
        )
        assert len(profile.allergies) == 1


class TestSingleRecord:
    """One record (a single-source person) merges without folding, as the general merge."""

    @staticmethod
    def _busy_record() -> PatientRecord:
        """A record with facts that share fold keys (same result code and day, one drug)."""
        return record(
            "a",
            results=(
                make_result(id="r2"),
                make_result(id="r1"),
                make_result(id="r3", code=Code(System.LOINC, "2345-7", "Glucose")),
            ),
            medications=(make_medication(id="m2"), make_medication(id="m1")),
            conditions=(make_condition(id="c2"), make_condition(id="c1")),
            encounters=(make_encounter(id="e1"), make_encounter(id="e2")),
            allergies=(make_allergy(),),
        )

    def test_facts_equal_the_general_merge(self) -> None:
        """Each fact list equals what the general fold gives next to a record without facts."""
        one = self._busy_record()
        empty = record("b", "p2", patient=make_patient(id="p2"))
        alone = merge_records([one])
        beside = merge_records([one, empty])
        for name in FACT_FIELDS:
            assert getattr(alone, name) == getattr(beside, name), name

    def test_each_fact_is_its_own_fact_ordered_by_id(self) -> None:
        """Every fact keeps the record's object as value and only variant, sorted by id."""
        one = self._busy_record()
        profile = merge_records([one])
        assert [f.key for f in profile.results] == ["a/r1", "a/r2", "a/r3"]
        for fact in profile.results:
            (variant,) = fact.variants
            assert fact.value is variant
            assert any(variant is r for r in one.results)
            assert [(p.source, p.record) for p in fact.provenance] == [("a", "patient-1")]

    def test_allergy_and_no_known_allergies_in_one_record_conflict(self) -> None:
        """One record stating an allergy and "no known allergies" still gives the conflict."""
        nka = make_allergy(id="n1", code=None, no_known=True)
        profile = merge_records([record("a", allergies=(make_allergy(), nka))])
        assert [c.kind for c in profile.conflicts] == [ConflictKind.ALLERGY_VS_NKA]


class TestProvenance:
    """Every fact keeps every source's version and origin."""

    def test_every_source_is_kept(self) -> None:
        """A folded fact lists each source with its record, fact id, author and change time."""
        stamp = days_before(7)
        profile = merge_records(
            [
                record("a", conditions=(make_condition(recorded_at=stamp),)),
                record(
                    "b",
                    "h-1",
                    patient=make_patient(id="h-1"),
                    conditions=(make_condition(id="c9", author=None),),
                ),
            ]
        )
        provenance = profile.conditions[0].provenance
        assert [(p.source, p.record, p.fact_id) for p in provenance] == [
            ("a", "patient-1", "condition-1"),
            ("b", "h-1", "c9"),
        ]
        assert provenance[0].author == PCP
        assert provenance[0].last_modified == stamp
        assert provenance[1].author is None

    def test_variants_follow_provenance(self) -> None:
        """``variants[i]`` is the version stated by ``provenance[i]``."""
        profile = merge_records(
            [
                record("a", medications=(make_medication(dose=Quantity(10, "mg")),)),
                record("b", medications=(make_medication(id="m9", dose=Quantity(20, "mg")),)),
            ]
        )
        fact = profile.medications[0]
        assert [v.id for v in fact.variants] == [p.fact_id for p in fact.provenance]

    def test_author_falls_back_to_the_prescriber(self) -> None:
        """A medication without author is attributed to its prescriber."""
        assert fact_author(make_medication(prescriber=BEHAVIORAL_HEALTH)) == BEHAVIORAL_HEALTH

    def test_records_are_kept_unchanged(self) -> None:
        """The profile keeps every (deduplicated) record, sorted by key."""
        b, a = record("b"), record("a")
        assert merge_records([b, a, b]).records == (a, b)


class TestSurvivorship:
    """The representative value and demographics follow the source ranking."""

    def test_ranked_source_gives_the_value(self) -> None:
        """The representative value comes from the highest-ranked source."""
        profile = merge_records(
            [
                record("a", medications=(make_medication(dose=Quantity(10, "mg")),)),
                record("b", medications=(make_medication(id="m9", dose=Quantity(20, "mg")),)),
            ],
            source_ranking=["b", "a"],
        )
        assert profile.medications[0].value.dose == Quantity(20, "mg")
        assert profile.medications[0].key == "b/m9"

    def test_most_recent_change_wins_among_unranked(self) -> None:
        """Without a ranking, the most recently modified version is the value."""
        profile = merge_records(
            [
                record("a", conditions=(make_condition(recorded_at=days_before(9)),)),
                record("b", conditions=(make_condition(id="c9", recorded_at=days_before(1)),)),
            ]
        )
        assert profile.conditions[0].key == "b/c9"

    def test_source_id_breaks_ties(self) -> None:
        """With no ranking and no change times, the smaller source id gives the value."""
        profile = merge_records(
            [
                record("b", conditions=(make_condition(id="c9"),)),
                record("a", conditions=(make_condition(),)),
            ]
        )
        assert profile.conditions[0].key == "a/condition-1"

    def test_demographics_come_from_the_survivor(self) -> None:
        """Birth date and sex come from the highest-ranked source."""
        profile = merge_records(
            [
                record("a"),
                record(
                    "b", patient=make_patient(birth_date=PartialDate(1961, 12, 4), sex=Sex.MALE)
                ),
            ],
            source_ranking=["b"],
        )
        assert profile.patient.birth_date == PartialDate(1961, 12, 4)
        assert profile.patient.sex is Sex.MALE

    def test_identifiers_and_names_are_united_survivor_first(self) -> None:
        """Identifiers, names, phones and addresses are unions, the survivor's first."""
        other = make_patient(
            identifiers=(Identifier("urn:example:hospital", "H-1"),),
            names=(HumanName(family="Testperson", given=("Alexandra",)),),
        )
        profile = merge_records([record("a"), record("b", patient=other)], source_ranking=["b"])
        assert profile.patient.names[0].given == ("Alexandra",)
        assert len(profile.patient.names) == 2
        assert {i.system for i in profile.patient.identifiers} == {
            "urn:example:hospital",
            "urn:example:mrn",
        }


class TestDemographicConflicts:
    """Demographic disagreements are reported, never silently resolved."""

    def test_name(self) -> None:
        """Different names are a demographic conflict naming the survivor."""
        other = make_patient(names=(HumanName(family="Testperson", given=("Alexandra",)),))
        profile = merge_records([record("a"), record("b", patient=other)], source_ranking=["b"])
        (conflict,) = conflicts_of(profile, ConflictKind.DEMOGRAPHIC)
        assert conflict.field == "name"
        assert conflict.chosen == "b"
        assert dict(conflict.values) == {"a": "Alex Testperson", "b": "Alexandra Testperson"}

    def test_name_spelling_variants_agree(self) -> None:
        """Names that differ only in case and punctuation do not conflict."""
        other = make_patient(names=(HumanName(family="TESTPERSON", given=("alex",)),))
        profile = merge_records([record("a"), record("b", patient=other)])
        assert profile.conflicts == ()

    def test_birth_date(self) -> None:
        """Incompatible birth dates conflict; the loser is kept in the conflict."""
        other = make_patient(birth_date=PartialDate(1961, 12, 4))
        profile = merge_records([record("a"), record("b", patient=other)])
        (conflict,) = conflicts_of(profile, ConflictKind.DEMOGRAPHIC)
        assert conflict.field == "birth_date"
        assert ("b", "1961-12-04") in conflict.values

    def test_partial_birth_date_is_compatible(self) -> None:
        """A birth year that contains the full birth date does not conflict."""
        other = make_patient(birth_date=PartialDate(1961))
        assert merge_records([record("a"), record("b", patient=other)]).conflicts == ()

    def test_sex(self) -> None:
        """Different known sexes conflict; unknown does not."""
        male = record("b", patient=make_patient(sex=Sex.MALE))
        unknown = record("c", patient=make_patient(sex=Sex.UNKNOWN))
        fields = [c.field for c in merge_records([record("a"), male, unknown]).conflicts]
        assert fields == ["sex"]

    def test_address(self) -> None:
        """A different primary address conflicts."""
        moved = make_patient(addresses=(Address(lines=("9 Other Road",), postal_code="01102"),))
        profile = merge_records([record("a"), record("b", patient=moved)])
        assert [c.field for c in profile.conflicts] == ["address"]

    def test_address_abbreviations_agree(self) -> None:
        """Street and St name the same address."""
        same = make_patient(
            addresses=(Address(lines=("1 Example St",), city="Springfield", postal_code="01101"),)
        )
        assert merge_records([record("a"), record("b", patient=same)]).conflicts == ()

    def test_phone(self) -> None:
        """A different phone number conflicts; formatting does not."""
        formatted = make_patient(telecom=(ContactPoint(ContactSystem.PHONE, "(555) 0100"),))
        changed = make_patient(telecom=(ContactPoint(ContactSystem.PHONE, "555-0199"),))
        assert merge_records([record("a"), record("b", patient=formatted)]).conflicts == ()
        profile = merge_records([record("a"), record("b", patient=changed)])
        assert [c.field for c in profile.conflicts] == ["phone"]

    def test_deceased_in_any_source(self) -> None:
        """One source saying deceased makes the profile deceased, with a conflict."""
        profile = merge_records(
            [record("a"), record("b", patient=make_patient(deceased=True))], source_ranking=["a"]
        )
        assert profile.patient.deceased
        (conflict,) = profile.conflicts
        assert (conflict.field, conflict.chosen) == ("deceased", "b")

    def test_conflict_repr_masks_values(self) -> None:
        """A conflict's repr does not show the disagreeing values."""
        other = make_patient(birth_date=PartialDate(1961, 12, 4))
        (conflict,) = merge_records([record("a"), record("b", patient=other)]).conflicts
        assert "1961" not in repr(conflict)

    def test_several_records_of_one_source_are_labelled_by_record(self) -> None:
        """When one source gives two records, conflict values name source and patient id."""
        other = make_patient(id="p2", birth_date=PartialDate(1961, 12, 4))
        profile = merge_records([record("a"), record("a", "p2", patient=other)])
        (conflict,) = profile.conflicts
        assert [label for label, _ in conflict.values] == ["a/p2", "a/patient-1"]


class TestMedicationConflicts:
    """Medication discrepancies are classified and reported."""

    def test_omission(self) -> None:
        """A current medication absent from another source that lists medications."""
        metformin = make_medication(id="m2", code=METFORMIN, ingredients=(METFORMIN,))
        profile = merge_records(
            [
                record("a", medications=(make_medication(), metformin)),
                record("b", medications=(make_medication(id="x"),)),
            ]
        )
        (conflict,) = conflicts_of(profile, ConflictKind.MEDICATION_OMISSION)
        assert conflict.subject == "a/m2"
        assert dict(conflict.values) == {"a": "active", "b": "absent"}
        assert conflict.chosen is None

    def test_no_omission_against_a_source_without_medications(self) -> None:
        """A source that lists no medications at all is not counted as omitting one."""
        profile = merge_records([record("a", medications=(make_medication(),)), record("b")])
        assert conflicts_of(profile, ConflictKind.MEDICATION_OMISSION) == []

    def test_no_omission_for_past_medications(self) -> None:
        """A stopped medication missing elsewhere is not an omission."""
        stopped = make_medication(
            id="m2", code=METFORMIN, ingredients=(METFORMIN,), status=MedicationStatus.STOPPED
        )
        profile = merge_records(
            [
                record("a", medications=(make_medication(), stopped)),
                record("b", medications=(make_medication(id="x"),)),
            ]
        )
        assert conflicts_of(profile, ConflictKind.MEDICATION_OMISSION) == []

    def test_dose(self) -> None:
        """Different doses of one drug conflict, naming the chosen source."""
        profile = merge_records(
            [
                record("a", medications=(make_medication(),)),
                record("b", medications=(make_medication(id="x", dose=Quantity(20, "mg")),)),
            ],
            source_ranking=["a"],
        )
        (conflict,) = profile.conflicts
        assert (conflict.kind, conflict.chosen) == (ConflictKind.MEDICATION_DOSE, "a")
        assert dict(conflict.values) == {"a": "10 mg", "b": "20 mg"}

    def test_frequency(self) -> None:
        """Different frequencies conflict; spacing and case do not."""
        same = make_medication(id="x", frequency=" qd ")
        assert (
            merge_records(
                [record("a", medications=(make_medication(),)), record("b", medications=(same,))]
            ).conflicts
            == ()
        )
        twice = make_medication(id="x", frequency="BID")
        profile = merge_records(
            [record("a", medications=(make_medication(),)), record("b", medications=(twice,))]
        )
        assert [c.kind for c in profile.conflicts] == [ConflictKind.MEDICATION_FREQUENCY]

    def test_route(self) -> None:
        """Different routes conflict."""
        iv = make_medication(id="x", route=Code(System.SNOMED, "47625008", "Intravenous route"))
        profile = merge_records(
            [record("a", medications=(make_medication(),)), record("b", medications=(iv,))]
        )
        assert [c.kind for c in profile.conflicts] == [ConflictKind.MEDICATION_ROUTE]

    def test_status(self) -> None:
        """A medication active in one source and stopped in another conflicts on status."""
        stopped = make_medication(id="x", status=MedicationStatus.STOPPED)
        profile = merge_records(
            [record("a", medications=(make_medication(),)), record("b", medications=(stopped,))]
        )
        assert [c.kind for c in profile.conflicts] == [ConflictKind.MEDICATION_STATUS]


class TestOtherConflicts:
    """Allergy and problem-list disagreements are reported."""

    def test_allergy_versus_no_known_allergies(self) -> None:
        """An allergy in one source and "no known allergies" in another conflict."""
        nka = make_allergy(id="n1", code=None, no_known=True)
        profile = merge_records(
            [record("a", allergies=(make_allergy(),)), record("b", allergies=(nka,))]
        )
        (conflict,) = profile.conflicts
        assert conflict.kind is ConflictKind.ALLERGY_VS_NKA
        assert conflict.subject == "b/n1"
        assert dict(conflict.values) == {"a": "Allergy to penicillin", "b": "no known allergies"}

    def test_resolved_allergy_does_not_conflict_with_nka(self) -> None:
        """A resolved allergy does not contradict "no known allergies"."""
        old = make_allergy(clinical_status=ClinicalStatus.RESOLVED)
        nka = make_allergy(id="n1", code=None, no_known=True)
        profile = merge_records([record("a", allergies=(old,)), record("b", allergies=(nka,))])
        assert profile.conflicts == ()

    def test_problem_status(self) -> None:
        """A problem active in one source and resolved in another conflicts on status."""
        resolved = make_condition(id="c9", clinical_status=ClinicalStatus.RESOLVED)
        profile = merge_records(
            [record("a", conditions=(make_condition(),)), record("b", conditions=(resolved,))]
        )
        assert [c.kind for c in profile.conflicts] == [ConflictKind.PROBLEM_STATUS]


def _records() -> list[PatientRecord]:
    """Three sources' records about one person, with duplicates to fold and conflicts."""
    metformin = make_medication(id="m2", code=METFORMIN, ingredients=(METFORMIN,))
    return [
        record(
            "clinic",
            medications=(make_medication(), metformin),
            conditions=(make_condition(),),
            allergies=(make_allergy(),),
        ),
        record(
            "hospital",
            "h-1",
            patient=make_patient(id="h-1", birth_date=PartialDate(1961, 12, 4)),
            medications=(make_medication(id="x", dose=Quantity(20, "mg")),),
            conditions=(make_condition(id="c9", onset=None),),
            allergies=(make_allergy(id="n1", code=None, no_known=True),),
        ),
        record(
            "pharmacy",
            "rx-1",
            patient=make_patient(id="rx-1", sex=Sex.MALE),
            medications=(
                make_medication(id="p1", frequency="BID"),
                attrs.evolve(metformin, id="p2"),
            ),
        ),
    ]


class TestOrderIndependence:
    """The merge depends only on the set of records."""

    @settings(max_examples=25, deadline=None)
    @given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=2))
    def test_shuffled_and_duplicated_input(self, rnd: random.Random, extra: int) -> None:
        """Shuffling the records or repeating some gives the same profile."""
        records = _records()
        expected = merge_records(records, source_ranking=["hospital"])
        shuffled = [*records, *rnd.sample(records, extra)]
        rnd.shuffle(shuffled)
        assert merge_records(shuffled, source_ranking=["hospital"]) == expected


class TestRelatedPersons:
    """The patient's related persons are parties: united by id, the survivor's first."""

    def test_related_persons_of_every_record_are_united_by_id(self) -> None:
        """Each record's related persons join the profile once per id, in id order."""
        guardian = make_related_person()
        clinic = attrs.evolve(record("clinic"), related_persons=(guardian,))
        hospital = attrs.evolve(
            record("hospital", "H-7"),
            related_persons=(
                make_related_person(patient="H-7"),
                make_related_person(id="spouse-1", patient="H-7", relationships=()),
            ),
        )

        profile = merge_records([hospital, clinic], source_ranking=["clinic"])

        assert [p.id for p in profile.related_persons] == ["guardian-1", "spouse-1"]
        assert profile.related_persons[0].patient == "patient-1"  # the survivor's version
        assert profile.related_person(guardian.ref) == guardian
        assert profile.representatives(AS_OF) == (guardian,)


def _merged_by_folding_everything(records: list[PatientRecord]) -> dict[str, Any]:
    """Every fact field of ``records`` folded by ``_fold``, with no shortcut (the reference)."""
    unique = _merge.dedupe_records(records)
    return {
        name: _merge._fold(
            name,
            [
                _merge._Item(
                    record=record.key,
                    rank=0,
                    fact=fact,
                    provenance=_merge._provenance(record, fact),
                )
                for record in unique
                for fact in getattr(record, name)
            ],
        )
        for name in FACT_FIELDS
    }


def test_shortcuts_give_the_same_profile_as_folding_every_field() -> None:
    """Fields held by one record (or none) and one-record people merge as a full fold would.

    ``merge_records`` wraps the facts of a kind that only one record holds instead of
    folding them, and skips the demographic comparison of a person with one record; on a
    generated population with facts every field equals the reference fold and a lone
    patient has no demographic conflict.
    """
    population = generate_population(150, seed=3, with_facts=True)
    people: dict[str, list[PatientRecord]] = {}
    for record in population.records:
        people.setdefault(population.truth[record.key], []).append(record)
    sizes = set()
    for records in people.values():
        profile = merge_records(records)
        sizes.add(len(profile.records))
        for name, facts in _merged_by_folding_everything(records).items():
            assert getattr(profile, name) == facts
        if len(profile.records) == 1:
            assert not profile.conflicts
            lone = profile.records[0].patient
            born = [] if lone.birth_date is None else [("a", lone.birth_date)]
            sexed = [("a", lone.sex)]
            dead = ["a"] if lone.is_deceased else []
            assert _merge._patient_conflicts([lone], ["a"], born, sexed, dead) == []
    assert {1, 2, 3} <= sizes
