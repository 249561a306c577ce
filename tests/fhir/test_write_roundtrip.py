"""Round trip: what the writer writes, the reader reads back as the same records.

Records are compared in the normal form of ``test_write_normal_form.py``: only what FHIR
cannot carry (permanent, justified there). The property tests run 60 (Bundle) and 15
(NDJSON) examples by default, and the ``ci`` Hypothesis profile's count
(``CARECOORD_HYPOTHESIS_PROFILE=ci``: 300) when that is more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from carecoord import fhir
from carecoord.domain import (
    FACT_FIELDS,
    AuthorizationOutcome,
    Code,
    PatientRecord,
    Ref,
    System,
)
from carecoord.fhir._write import to_resources, write_bundle, write_ndjson
from carecoord.fhir._write_base import generated_id
from carecoord.profile import profile_from_record
from carecoord.testing import (
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_document,
    make_encounter,
    make_enrollment,
    make_goal,
    make_medication,
    make_order,
    make_patient,
    make_procedure,
    make_reconciliation,
    make_record,
    make_referral,
    make_result,
    make_social_need,
    make_source,
    make_task,
    make_transition,
)
from carecoord.testing.strategies import patient_records

from .test_write_normal_form import normalise

BUILDERS: dict[str, Any] = {
    "care_teams": make_care_team,
    "referrals": make_referral,
    "transitions": make_transition,
    "tasks": make_task,
    "encounters": make_encounter,
    "conditions": make_condition,
    "medications": make_medication,
    "allergies": make_allergy,
    "orders": make_order,
    "results": make_result,
    "appointments": make_appointment,
    "care_plans": make_care_plan,
    "goals": make_goal,
    "social_needs": make_social_need,
    "communications": make_communication,
    "documents": make_document,
    "consents": make_consent,
    "reconciliations": make_reconciliation,
    "procedures": make_procedure,
    "enrollments": make_enrollment,
    "activities": make_activity,
}
assert tuple(BUILDERS) == FACT_FIELDS


def full_record() -> PatientRecord:
    """The builders' patient with one of every fact."""
    return make_record(**{name: (build(),) for name, build in BUILDERS.items()})


def examples(default: int) -> int:
    """``default`` examples, or the loaded Hypothesis profile's count when it asks for more.

    Hypothesis runs 100 examples unless a profile says otherwise: a profile above that
    (``ci``) raises the count, one below it (``fast``) lowers it.
    """
    loaded = settings.default
    profile = loaded.max_examples if loaded is not None else default
    return profile if profile > 100 else min(default, profile)


def read_back(document: Any) -> PatientRecord:
    """The one record read from ``document``."""
    result = fhir.read(document)
    assert len(result.records) == 1
    return result.records[0]


def same(written: PatientRecord, read: PatientRecord) -> bool:
    """Whether two records are equal in round-trip normal form."""
    return normalise(written) == normalise(read)


class TestGeneratedRecords:
    """Any valid record reads back equal (in normal form) from its Bundle."""

    @settings(max_examples=examples(60))
    @given(patient_records())
    def test_bundle_round_trip(self, record: PatientRecord) -> None:
        """``read(write_bundle([record]))`` gives back ``(record,)`` in normal form."""
        result = fhir.read(write_bundle([record]))

        assert tuple(normalise(r) for r in result.records) == (normalise(record),)

    @settings(max_examples=examples(15))
    @given(patient_records())
    def test_ndjson_round_trip(self, record: PatientRecord) -> None:
        """NDJSON reads back the same record (``retrieved_at`` from the Patient's meta)."""
        assert same(record, read_back(write_ndjson([record])))

    @settings(max_examples=examples(10))
    @given(patient_records(), patient_records())
    def test_two_sources_in_one_bundle_round_trip(
        self, first: PatientRecord, second: PatientRecord
    ) -> None:
        """Records of two sources in one Bundle read back as themselves, ids shared or not."""
        second = attrs.evolve(
            second,
            source=attrs.evolve(second.source, id=f"other-{first.source.id}"),
            practitioners=first.practitioners,
            organizations=first.organizations,
        )

        result = fhir.read(write_bundle([first, second]))

        assert [normalise(r) for r in result.records] == [normalise(first), normalise(second)]


class TestBuilderRecords:
    """The builders' records read back equal, with every fact kind and every document form."""

    def test_full_record_round_trips(self) -> None:
        """A record with one fact of every kind reads back equal in normal form."""
        record = full_record()

        assert same(record, read_back(write_bundle([record])))

    @pytest.mark.parametrize("kind", FACT_FIELDS)
    def test_each_fact_kind_round_trips(self, kind: str) -> None:
        """A record with one builder fact of ``kind`` reads back equal in normal form."""
        record = make_record(**{kind: (BUILDERS[kind](),)})

        assert same(record, read_back(write_bundle([record])))

    def test_full_record_reads_without_errors(self) -> None:
        """Reading the written Bundle reports no error (warnings only)."""
        result = fhir.read(write_bundle([full_record()]))

        assert result.errors == ()

    def test_transaction_round_trips(self) -> None:
        """A transaction Bundle reads back like a collection."""
        record = full_record()

        assert same(record, read_back(write_bundle([record], bundle_type="transaction")))

    def test_plain_resources_round_trip(self) -> None:
        """``to_resources`` (references ``Type/id``) read as a list give the record back."""
        record = full_record()

        assert same(record, read_back(to_resources(record)))

    def test_profile_writes_its_records(self) -> None:
        """A profile is written as its source records, which read back equal."""
        record = full_record()

        assert same(record, read_back(write_bundle([profile_from_record(record)])))

    def test_source_round_trips(self) -> None:
        """The source's id (``meta.source``), name, kind and retrieval time come back."""
        record = make_record(source=make_source(retrieved_at=make_task().authored_on))

        assert read_back(write_bundle([record])).source == record.source


class TestExactFields:
    """Fields the reader already reads back exactly, checked without the normal form."""

    def test_patient_demographics_come_back(self) -> None:
        """Identifiers, name, birth date, sex, telecom, address, timezone are kept."""
        patient = make_patient()

        assert read_back(write_bundle([make_record(patient=patient)])).patient == patient

    def test_prior_authorisation_comes_back(self) -> None:
        """A submitted and approved authorisation reads back from its Claim and ClaimResponse."""
        authored = make_referral().authored_on
        referral = make_referral().submit_prior_authorization(at=authored, expedited=True)
        decided = referral.decide_prior_authorization(
            AuthorizationOutcome.APPROVED, at=authored + dt.timedelta(hours=30)
        )
        record = make_record(referrals=(decided,))

        got = read_back(write_bundle([record])).referrals[0]

        assert got.prior_authorization == decided.prior_authorization

    def test_activity_minutes_and_time_come_back(self) -> None:
        """An activity's time, minutes, kind and performer read back exactly."""
        activity = make_activity(about=())

        got = read_back(write_bundle([make_record(activities=(activity,))])).activities[0]

        assert (got.at, got.minutes, got.kind, got.performer) == (
            activity.at,
            activity.minutes,
            activity.kind,
            activity.performer,
        )

    def test_discharge_setting_comes_back_as_nubc(self) -> None:
        """A stay discharged home (no disposition of its own) reads back discharged home."""
        stay = make_transition()

        got = read_back(write_bundle([make_record(transitions=(stay,))])).transitions[0]

        assert (got.to_setting, got.discharged_at) == (stay.to_setting, stay.discharged_at)

    def test_encounter_reference_resolves_to_the_stay(self) -> None:
        """A communication about the stay refers to the CareTransition read from it."""
        record = make_record(
            transitions=(make_transition(),), communications=(make_communication(),)
        )

        got = read_back(write_bundle([record])).communications[0]

        assert got.about == (Ref("CareTransition", "stay-1"),)


def concepts(value: object) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Every code reachable from ``value``, with its other codings (``also``), sorted.

    ``Code`` equality ignores ``also``, so the record comparisons above do not see it:
    this list does (the other codings in their order).
    """
    found: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []

    def walk(item: object) -> None:
        if isinstance(item, Code):
            found.append((item.system, item.code, tuple((o.system, o.code) for o in item.also)))
        elif attrs.has(type(item)):
            for field in attrs.fields(type(item)):
                walk(getattr(item, field.name))
        elif isinstance(item, tuple | list):
            for element in item:
                walk(element)

    walk(value)
    return sorted(found)


class TestOtherCodings:
    """A code's other codings (``Code.also``) are written as extra codings and read back."""

    @settings(max_examples=examples(40))
    @given(patient_records())
    def test_every_code_keeps_its_other_codings(self, record: PatientRecord) -> None:
        """Every code of a generated record comes back with the same other codings, in order."""
        result = fhir.read(write_bundle([record]))

        assert [concepts(normalise(r)) for r in result.records] == [concepts(normalise(record))]

    def test_a_secondary_icd_coding_comes_back_behind_the_snomed_code(self) -> None:
        """F32.0 sent after 36923009 is kept as the condition code's other coding."""
        code = Code(
            System.SNOMED,
            "36923009",
            "Major depression, single episode",
            also=(Code(System.ICD10CM, "F32.0", "Major depressive disorder, single episode"),),
        )
        record = make_record(conditions=(make_condition(code=code),))

        got = read_back(write_bundle([record])).conditions[0].code

        assert (got, got.also) == (code, code.also)
        assert got.also[0].display == "Major depressive disorder, single episode"

    def test_a_preferred_system_in_second_place_stays_second(self) -> None:
        """On a carecoord-written resource the first coding is the code, whatever is preferred.

        A medication code written as a local code with an RxNorm coding after it reads back
        as the local code (a third-party resource would be read as the RxNorm one).
        """
        code = Code("urn:example:formulary", "F-1", also=(Code(System.RXNORM, "4493"),))
        record = make_record(medications=(make_medication(code=code, ingredients=()),))

        got = read_back(write_bundle([record])).medications[0].code

        assert (got, got.also) == (code, code.also)


class TestSeveralRecords:
    """Several records in one Bundle."""

    def test_two_patients_of_one_source_read_back_as_two_records(self) -> None:
        """Two patients of one source give two records, each equal in normal form."""
        first = make_record(referrals=(make_referral(),))
        second = make_record(
            patient=make_patient(id="patient-2"),
            referrals=(make_referral(id="referral-2", patient="patient-2"),),
        )

        result = fhir.read(write_bundle([first, second]))

        assert [normalise(r) for r in result.records] == [normalise(first), normalise(second)]

    def test_an_id_repeated_by_a_later_record_of_the_source_comes_back(self) -> None:
        """A second ``referral-1`` of a source is written as a stand-in, read back as itself.

        FHIR ids are unique per source: the writer gives it a stand-in id, and the reader
        takes the model's id back from its ``original-id``.
        """
        first = make_record(referrals=(make_referral(),))
        second = make_record(
            patient=make_patient(id="patient-2"), referrals=(make_referral(patient="patient-2"),)
        )

        written = write_bundle([first, second])
        result = fhir.read(written)

        assert generated_id("id", "patient-2", "referral-1") in {
            e["resource"]["id"] for e in written["entry"]
        }
        assert [r.referrals[0].id for r in result.records] == ["referral-1", "referral-1"]

    def test_a_record_given_twice_is_written_once(self) -> None:
        """The same record twice (or with its profile) is one record's resources."""
        record = make_record(tasks=(make_task(),))

        twice = write_bundle([record, profile_from_record(record)])

        assert len(twice["entry"]) == len(write_bundle([record])["entry"])
