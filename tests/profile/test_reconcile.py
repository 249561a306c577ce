"""Tests for side-by-side reconciliation views and recorded reconciliations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from carecoord.domain import (
    ClinicalStatus,
    Code,
    ListKind,
    MedicationStatus,
    PatientRecord,
    Quantity,
    ReconciliationDecision,
    Ref,
    System,
)
from carecoord.errors import ConflictError, ValidationError
from carecoord.profile._merge import merge_records
from carecoord.profile._model import ConflictKind, PatientProfile
from carecoord.profile._reconcile import (
    reconciliation_item,
    reconciliation_view,
    record_reconciliation,
    with_reconciliation,
)
from carecoord.testing import (
    AS_OF,
    PCP,
    days_before,
    make_allergy,
    make_condition,
    make_medication,
    make_patient,
    make_record,
    make_source,
)

METFORMIN = Code(System.RXNORM, "6809", "metformin")


def record(
    source: str,
    patient_id: str = "patient-1",
    *,
    retrieved_at: dt.datetime | None = None,
    **facts: Any,
) -> PatientRecord:
    """A record from ``source`` whose facts all name ``patient_id``."""
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    return make_record(
        source=make_source(id=source, name=f"{source} system", retrieved_at=retrieved_at),
        patient=make_patient(id=patient_id),
        **facts,
    )


def three_sources() -> PatientProfile:
    """A clinic, a hospital and a lab (which states no medications) about one person."""
    metformin = make_medication(
        id="m2", code=METFORMIN, ingredients=(METFORMIN,), recorded_at=days_before(40)
    )
    stopped = make_medication(
        id="m3",
        code=Code(System.RXNORM, "8640", "prednisone"),
        ingredients=(),
        status=MedicationStatus.STOPPED,
    )
    return merge_records(
        [
            record(
                "clinic",
                retrieved_at=days_before(1),
                medications=(make_medication(recorded_at=days_before(30)), metformin, stopped),
                allergies=(make_allergy(),),
                conditions=(make_condition(),),
            ),
            record(
                "hospital",
                retrieved_at=days_before(2),
                medications=(
                    make_medication(id="x", dose=Quantity(20, "mg"), recorded_at=days_before(3)),
                ),
                allergies=(make_allergy(id="n", code=None, no_known=True),),
                conditions=(make_condition(id="c9", clinical_status=ClinicalStatus.RESOLVED),),
            ),
            record("lab", retrieved_at=days_before(1)),
        ]
    )


class TestReconciliationView:
    """The view shows every source side by side with last-modified dates."""

    def test_every_source_is_a_column(self) -> None:
        """Each source of the profile is a column, even one without medications."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        assert [c.source for c in view.columns] == ["clinic", "hospital", "lab"]
        assert view.columns[0].name == "clinic system"

    def test_column_dates(self) -> None:
        """A column gives the source's retrieval time and its latest change in the list."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        clinic, hospital, lab = view.columns
        assert clinic.last_modified == days_before(30)
        assert hospital.last_modified == days_before(3)
        assert (lab.last_modified, lab.retrieved_at) == (None, days_before(1))

    def test_rows_side_by_side(self) -> None:
        """A folded medication has one entry per source, each with its own date."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        row = next(r for r in view.rows if r.display.startswith("lisinopril"))
        clinic, hospital, lab = row.entries
        assert clinic is not None
        assert hospital is not None
        assert (clinic.text, clinic.last_modified) == (
            "lisinopril 10 MG Oral Tablet 10 mg Oral route QD",
            days_before(30),
        )
        assert "20 mg" in hospital.text
        assert hospital.retrieved_at == days_before(2)
        assert lab is None

    def test_discrepancies_per_row(self) -> None:
        """Each row lists the conflicts about it."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        by_display = {r.display: {c.kind for c in r.discrepancies} for r in view.rows}
        assert by_display["lisinopril 10 MG Oral Tablet"] == {ConflictKind.MEDICATION_DOSE}
        assert by_display["metformin"] == {ConflictKind.MEDICATION_OMISSION}
        assert len(view.discrepancies) == 2

    def test_current_items_first(self) -> None:
        """Current medications come before past ones."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        assert [r.current for r in view.rows] == [True, True, False]
        assert view.rows[-1].display == "prednisone"

    def test_allergies(self) -> None:
        """The allergy view shows "no known allergies" with its conflict."""
        view = reconciliation_view(three_sources(), ListKind.ALLERGIES)
        nka = next(r for r in view.rows if r.display == "No known allergies")
        assert [c.kind for c in nka.discrepancies] == [ConflictKind.ALLERGY_VS_NKA]

    def test_problems(self) -> None:
        """The problem view shows each source's clinical and verification status."""
        view = reconciliation_view(three_sources(), ListKind.PROBLEMS)
        (row,) = view.rows
        statuses = [e.status for e in row.entries if e is not None]
        assert statuses == ["active/confirmed", "resolved/confirmed"]
        assert [c.kind for c in row.discrepancies] == [ConflictKind.PROBLEM_STATUS]

    def test_render(self) -> None:
        """The text rendering names each source with a date, and flags discrepancies."""
        text = reconciliation_view(three_sources(), ListKind.MEDICATIONS).render()
        assert "hospital (" in text
        assert days_before(3).date().isoformat() in text
        assert "! metformin: medication-omission" in text

    def test_row_item_reference(self) -> None:
        """A row's ``item`` is the reference a decision uses."""
        view = reconciliation_view(three_sources(), ListKind.MEDICATIONS)
        assert view.rows[0].item == Ref("Medication", view.rows[0].fact)


class TestRecordReconciliation:
    """Decisions become a Reconciliation fact that rules can see."""

    def test_fields(self) -> None:
        """The reconciliation names the list, performer, time, decisions and sources."""
        person = three_sources()
        keep = ReconciliationDecision(
            reconciliation_item(ListKind.MEDICATIONS, person.medications[0]), "keep"
        )
        rec = record_reconciliation(
            person, ListKind.MEDICATIONS, performer=PCP, at=AS_OF, decisions=[keep]
        )
        assert (rec.list, rec.performer, rec.at, rec.decisions) == (
            ListKind.MEDICATIONS,
            PCP,
            AS_OF,
            (keep,),
        )
        assert rec.sources == ("clinic", "hospital", "lab")
        assert rec.patient == person.id
        assert rec.id == "reconciliation-medications-20260302T140000Z"

    def test_any_source_key_names_an_item(self) -> None:
        """A decision may name the item by any source's "<source>/<fact id>"."""
        decision = ReconciliationDecision(Ref("Medication", "hospital/x"), "change")
        rec = record_reconciliation(
            three_sources(), ListKind.MEDICATIONS, performer=PCP, at=AS_OF, decisions=[decision]
        )
        assert rec.decisions == (decision,)

    def test_add_needs_no_known_item(self) -> None:
        """An "add" decision may bring in an item no source lists."""
        decision = ReconciliationDecision(Ref("Medication", "new"), "add")
        rec = record_reconciliation(
            three_sources(), ListKind.MEDICATIONS, performer=PCP, at=AS_OF, decisions=[decision]
        )
        assert rec.decisions == (decision,)

    def test_unknown_item_and_action_are_reported(self) -> None:
        """Every bad decision is reported with its path."""
        decisions = [
            ReconciliationDecision(Ref("Medication", "clinic/nope"), "keep"),
            ReconciliationDecision(Ref("Allergy", "clinic/allergy-1"), "stop"),
            ReconciliationDecision(Ref("Medication", "clinic/medication-1"), "forget"),
        ]
        with pytest.raises(ValidationError) as caught:
            record_reconciliation(
                three_sources(), ListKind.MEDICATIONS, performer=PCP, at=AS_OF, decisions=decisions
            )
        assert [p.path for p in caught.value.problems] == [
            "decisions[0].item",
            "decisions[1].item",
            "decisions[2].action",
        ]

    def test_naive_time_is_rejected(self) -> None:
        """A naive ``at`` raises a ValidationError."""
        naive = dt.datetime(2026, 3, 2)  # noqa: DTZ001
        with pytest.raises(ValidationError):
            record_reconciliation(three_sources(), ListKind.ALLERGIES, performer=PCP, at=naive)


class TestWithReconciliation:
    """A recorded reconciliation can be added to the profile."""

    def test_added_with_provenance(self) -> None:
        """The new fact names the recording system, the performer and the time."""
        person = three_sources()
        rec = record_reconciliation(person, ListKind.MEDICATIONS, performer=PCP, at=AS_OF)
        after = with_reconciliation(person, rec, source="coordination-app")
        (fact,) = after.reconciliations
        assert fact.value == rec
        assert (fact.provenance[0].source, fact.provenance[0].author) == ("coordination-app", PCP)
        assert person.reconciliations == ()

    def test_view_shows_the_last_reconciliation(self) -> None:
        """The reconciliation view of that list shows the latest reconciliation."""
        person = three_sources()
        first = record_reconciliation(
            person, ListKind.MEDICATIONS, performer=PCP, at=days_before(1)
        )
        second = record_reconciliation(person, ListKind.MEDICATIONS, performer=PCP, at=AS_OF)
        after = with_reconciliation(with_reconciliation(person, second), first)
        assert reconciliation_view(after, ListKind.MEDICATIONS).last_reconciled == second
        assert reconciliation_view(after, ListKind.ALLERGIES).last_reconciled is None

    def test_adding_twice_is_idempotent(self) -> None:
        """Adding the same reconciliation again returns the profile unchanged."""
        person = three_sources()
        rec = record_reconciliation(person, ListKind.MEDICATIONS, performer=PCP, at=AS_OF)
        once = with_reconciliation(person, rec)
        assert with_reconciliation(once, rec) is once

    def test_different_content_same_id_conflicts(self) -> None:
        """A different reconciliation under an existing id raises ConflictError."""
        person = three_sources()
        rec = record_reconciliation(person, ListKind.MEDICATIONS, performer=PCP, at=AS_OF)
        other = attrs.evolve(rec, performer=Ref("Practitioner", "someone-else"))
        with pytest.raises(ConflictError):
            with_reconciliation(with_reconciliation(person, rec), other)
