"""The round-trip normal form: what ``read(write_bundle([record]))`` cannot give back exactly.

The round-trip tests (``test_write_roundtrip.py``) compare records in this normal form;
the tests at the end check the normal form itself.

``normalise(record)`` is applied to both sides of the round trip: the steps of
:data:`FHIR_LIMITS`, each a small function whose docstring says why. They are what FHIR
R4 (or the writer's choice of a standard element) cannot carry, or what the model itself
treats as equivalent; they are listed in ``docs/fhir.md`` ("Round trip"). Everything else
the writer writes (in FHIR elements or in carecoord's extensions) the reader reads back
exactly: there is no step waiting for the reader any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from carecoord.domain import (
    ClinicalStatus,
    HumanName,
    MedicationKind,
    Organization,
    PartialDate,
    PatientRecord,
    Period,
    Practitioner,
    Ref,
    VerificationStatus,
)
from carecoord.fhir._write_documents import ENCOUNTER_CONTEXT_TYPES
from carecoord.testing import (
    PCP,
    make_condition,
    make_encounter,
    make_patient,
    make_record,
    make_referral,
    make_task,
    make_transition,
)

__all__ = ["FHIR_LIMITS", "normalise"]

T = TypeVar("T")
Step = Callable[[PatientRecord], PatientRecord]

_FHIR_NAMES = {
    "Observation": "Result",
    "DiagnosticReport": "Result",
    "ServiceRequest": "Order",
    "MedicationRequest": "Medication",
    "MedicationStatement": "Medication",
    "AllergyIntolerance": "Allergy",
    "EpisodeOfCare": "Enrollment",
    "SocialNeed": "Condition",
    "CoordinationActivity": "Task",
    "DocumentReference": "Document",
    "Composition": "Document",
}


# --------------------------------------------------------------------------- helpers


def _walk(value: Any, change: Callable[[Any], Any]) -> Any:
    """``value`` with ``change`` applied bottom-up to every attrs object, tuple and set."""
    if attrs.has(type(value)):
        updates = {}
        for field in attrs.fields(type(value)):
            before = getattr(value, field.name)
            after = _walk(before, change)
            if after is not before:
                updates[field.name] = after
        value = attrs.evolve(value, **updates) if updates else value
    elif isinstance(value, tuple):
        items = tuple(_walk(v, change) for v in value)
        value = items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    elif isinstance(value, frozenset):
        value = frozenset(_walk(v, change) for v in value)
    changed = change(value)
    return value if changed is None else changed


def _facts(record: PatientRecord, name: str, change: Callable[[Any], Any]) -> PatientRecord:
    """``record`` with ``change`` applied to each fact of the field ``name`` (``None``: dropped)."""
    kept = tuple(f for f in (change(fact) for fact in getattr(record, name)) if f is not None)
    changes: dict[str, Any] = {name: kept}
    return attrs.evolve(record, **changes)


def _unique(items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def _blank(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _parts(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in texts if t.strip())


# --------------------------------------------------------------------------- FHIR limits


def blank_text(record: PatientRecord) -> PatientRecord:
    """FHIR strings cannot be empty: blank optional text reads as ``None``.

    Free text that is empty or only spaces (a task description, a note, a reason, a part
    of a name or an address...) is not written; a blank ``Note`` is no note; a blank goal
    description (required) is written absent (data-absent-reason) and is ``""``. Likewise
    an empty ``Period`` (no start, no end) is no period, and a name with no part at all
    (not even a use) is no name.
    """
    texts = {
        "Task": ("description", "business_status", "status_reason"),
        "Referral": ("note",),
        "Order": ("justification",),
        "Communication": ("note", "medium"),
        "Document": ("description",),
        "CarePlan": ("title",),
        "CarePlanActivity": ("description",),
        "CoordinationActivity": ("note",),
        "ReconciliationDecision": ("note",),
        "StatusChange": ("reason",),
        "CareTeam": ("name",),
        "Organization": ("name",),
        "Source": ("name",),
    }

    def change(value: Any) -> Any:
        name = type(value).__name__
        updates: dict[str, Any] = {f: _blank(getattr(value, f)) for f in texts.get(name, ())}
        if name == "Task":
            updates["notes"] = tuple(n for n in value.notes if n.text.strip())
        elif (
            name in ("Result", "ResultComponent")
            and isinstance(value.value, str)
            and not value.value.strip()
        ):
            updates["value"] = None
        elif name == "CarePlanActivity" and value.scheduled == Period():
            updates["scheduled"] = None
        elif name == "Goal" and not value.description.strip():
            updates["description"] = ""
        elif name in ("Patient", "Practitioner", "RelatedPerson"):
            updates["names"] = tuple(n for n in value.names if n != HumanName())
        elif name == "HumanName":
            updates.update(
                family=_blank(value.family),
                given=_parts(value.given),
                prefix=_parts(value.prefix),
                suffix=_parts(value.suffix),
            )
        elif name == "Address":
            updates.update(
                lines=_parts(value.lines),
                city=_blank(value.city),
                state=_blank(value.state),
                postal_code=_blank(value.postal_code),
                country=_blank(value.country),
            )
        if any(getattr(value, f) != v for f, v in updates.items()):
            return attrs.evolve(value, **updates)
        return None

    result: PatientRecord = _walk(record, change)
    return result


def deceased_flag(record: PatientRecord) -> PatientRecord:
    """``Patient.deceased[x]`` is one choice: a death date implies ``deceased``."""
    patient = record.patient
    if patient.deceased_at is not None and not patient.deceased:
        return attrs.evolve(record, patient=attrs.evolve(patient, deceased=True))
    return record


def allergy_statuses(record: PatientRecord) -> PatientRecord:
    """``AllergyIntolerance`` has fewer status codes than ``Condition``.

    Clinical: recurrence and relapse are active, remission inactive. Verification:
    provisional and differential are unconfirmed.
    """
    clinical = {
        ClinicalStatus.RECURRENCE: ClinicalStatus.ACTIVE,
        ClinicalStatus.RELAPSE: ClinicalStatus.ACTIVE,
        ClinicalStatus.REMISSION: ClinicalStatus.INACTIVE,
    }
    verification = {
        VerificationStatus.PROVISIONAL: VerificationStatus.UNCONFIRMED,
        VerificationStatus.DIFFERENTIAL: VerificationStatus.UNCONFIRMED,
    }
    return _facts(
        record,
        "allergies",
        lambda a: attrs.evolve(
            a,
            clinical_status=clinical.get(a.clinical_status, a.clinical_status),
            verification_status=verification.get(a.verification_status, a.verification_status),
        ),
    )


def reference_types(record: PatientRecord) -> PatientRecord:
    """A FHIR reference names a FHIR type: a reference reads as the type of its target.

    ``Ref("Observation", x)`` reads as ``Result`` (and likewise every FHIR type name the
    model has its own name for); a referral or stay outside the record is only a
    ``ServiceRequest`` or ``Encounter`` (``Order``, ``Encounter``); inside the record, an
    ``Order``/``Encounter`` reference to a referral/stay reads as ``Referral``/
    ``CareTransition``. A result ``based_on`` id naming a referral is not an order.
    """
    referrals = {r.id for r in record.referrals}
    stays = {t.id for t in record.transitions}

    def kind(ref: Ref) -> Ref:
        name = _FHIR_NAMES.get(ref.type, ref.type)
        if name in ("Referral", "Order"):
            name = "Referral" if ref.id in referrals else "Order"
        elif name in ("CareTransition", "Encounter"):
            name = "CareTransition" if ref.id in stays else "Encounter"
        return ref if name == ref.type else Ref(name, ref.id)

    def change(value: Any) -> Any:
        return kind(value) if isinstance(value, Ref) else None

    result: PatientRecord = _walk(record, change)
    return _facts(
        result,
        "results",
        lambda r: attrs.evolve(r, based_on=tuple(o for o in r.based_on if o not in referrals)),
    )


_SET_FIELDS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifiers", "links", "general_practitioner"),
    "Encounter": ("performers", "reasons", "diagnoses", "based_on"),
    "Appointment": ("participants", "based_on"),
    "Communication": ("recipients", "about"),
    "Document": ("types", "categories", "context"),
    "CarePlan": ("addresses", "contributors", "goals"),
    "CarePlanActivity": ("goals",),
    "Goal": ("addresses",),
    "Consent": ("actors",),
    "Medication": ("reasons",),
    "Allergy": ("reactions",),
    "Result": ("based_on", "members"),
    "Referral": ("reasons",),
    "SocialNeed": ("evidence",),
    "CoordinationActivity": ("about",),
    "Task": ("part_of",),
}


def set_lists(record: PatientRecord) -> PatientRecord:
    """Lists the model treats as sets read without repeats (the first one kept).

    Identifiers, references, reason and diagnosis codes listed twice say nothing more; a
    stay's diagnoses are one per code (the first listing, with its principal flag).
    """

    def change(value: Any) -> Any:
        fields = _SET_FIELDS.get(type(value).__name__)
        if fields is not None:
            updates = {f: _unique(getattr(value, f)) for f in fields}
            if any(getattr(value, f) != v for f, v in updates.items()):
                return attrs.evolve(value, **updates)
        if type(value).__name__ == "CareTransition":
            seen: dict[Any, Any] = {}
            for diagnosis in value.diagnoses:
                seen.setdefault(diagnosis.code, diagnosis)
            if len(seen) != len(value.diagnoses):
                return attrs.evolve(value, diagnoses=tuple(seen.values()))
        return None

    result: PatientRecord = _walk(record, change)
    return result


def self_references(record: PatientRecord) -> PatientRecord:
    """A patient linked to itself, an organisation part of itself: nothing is asserted."""
    patient = record.patient
    links = tuple(link for link in patient.links if link.other_id != patient.id)
    organizations = tuple(
        attrs.evolve(o, part_of=None) if o.part_of == o.id else o for o in record.organizations
    )
    return attrs.evolve(
        record, patient=attrs.evolve(patient, links=links), organizations=organizations
    )


def stay_is_its_encounter(record: PatientRecord) -> PatientRecord:
    """A care transition is written as an Encounter: its ``encounter`` is that Encounter."""
    return _facts(
        record, "transitions", lambda t: attrs.evolve(t, encounter=Ref("Encounter", t.id))
    )


def document_context(record: PatientRecord) -> PatientRecord:
    """R4 splits a document's context: encounters (and stays, episodes) come first.

    ``DocumentReference.context.encounter`` holds references to Encounters and
    EpisodesOfCare, ``context.related`` the others (a referral, an order); the reader
    reads the encounters first.
    """
    kinds = ENCOUNTER_CONTEXT_TYPES
    return _facts(
        record,
        "documents",
        lambda d: attrs.evolve(
            d, context=tuple(sorted(d.context, key=lambda r: r.type not in kinds))
        ),
    )


def medication_order(record: PatientRecord) -> PatientRecord:
    """MedicationRequests are read before MedicationStatements: orders come first."""
    ordered = sorted(record.medications, key=lambda m: m.kind is not MedicationKind.ORDER)
    return attrs.evolve(record, medications=tuple(ordered))


def prior_authorization_required(record: PatientRecord) -> PatientRecord:
    """A prior-authorisation Claim means one is required.

    An authorisation not required but submitted reads as required; one neither required
    nor submitted is not written (there is no Claim to write).
    """

    def change(referral: Any) -> Any:
        auth = referral.prior_authorization
        if auth is None or auth.required:
            return referral
        if auth.submitted_at is None:
            return attrs.evolve(referral, prior_authorization=None)
        return attrs.evolve(referral, prior_authorization=attrs.evolve(auth, required=True))

    return _facts(record, "referrals", change)


def _refs(value: Any) -> set[Ref]:
    found: set[Ref] = set()

    def change(item: Any) -> Any:
        if isinstance(item, Ref):
            found.add(item)
        return None

    _walk(value, change)
    return found


def parties(record: PatientRecord) -> PatientRecord:
    """A Bundle does not say whose a practitioner is: parties travel with the facts naming them.

    The reader attaches to a record the practitioners and organisations its patient and
    facts refer to, with their organisations and parent organisations, in id order.
    """
    named = _refs((record.patient, *(fact for _name, fact in record.facts())))
    practitioners: dict[str, Practitioner] = {p.id: p for p in record.practitioners}
    organizations: dict[str, Organization] = {o.id: o for o in record.organizations}
    pending = [(r.type, r.id) for r in named if r.type in ("Practitioner", "Organization")]
    seen: set[tuple[str, str]] = set()
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        practitioner = practitioners.get(key[1]) if key[0] == "Practitioner" else None
        if practitioner is not None and practitioner.organization is not None:
            pending.append(("Organization", practitioner.organization))
        organization = organizations.get(key[1]) if key[0] == "Organization" else None
        if organization is not None and organization.part_of is not None:
            pending.append(("Organization", organization.part_of))
    return attrs.evolve(
        record,
        practitioners=tuple(
            sorted(
                (p for p in record.practitioners if ("Practitioner", p.id) in seen),
                key=lambda p: p.id,
            )
        ),
        organizations=tuple(
            sorted(
                (o for o in record.organizations if ("Organization", o.id) in seen),
                key=lambda o: o.id,
            )
        ),
    )


FHIR_LIMITS: tuple[Step, ...] = (
    blank_text,
    deceased_flag,
    allergy_statuses,
    reference_types,
    set_lists,
    self_references,
    stay_is_its_encounter,
    document_context,
    medication_order,
    prior_authorization_required,
    parties,
)
"""The permanent normal form, in the order applied (parties last: it looks at every ref)."""


def normalise(record: PatientRecord) -> PatientRecord:
    """``record`` in round-trip normal form (the FHIR limits, in order)."""
    for step in FHIR_LIMITS:
        record = step(record)
    return record


# --------------------------------------------------------------------------- tests of the form


def _record(**facts: Any) -> PatientRecord:
    return make_record(**facts)


class TestNormalForm:
    """The normal form is a function of one record, stable, and only touches what it names."""

    def test_normalising_twice_changes_nothing(self) -> None:
        """``normalise`` is idempotent (a normal form)."""
        record = _record(
            referrals=(make_referral(),), tasks=(make_task(),), transitions=(make_transition(),)
        )

        once = normalise(record)

        assert normalise(once) == once

    def test_every_step_has_a_docstring_saying_why(self) -> None:
        """Each step documents its reason (the list is part of docs/fhir.md)."""
        assert all(step.__doc__ and step.__doc__.strip() for step in FHIR_LIMITS)

    def test_docs_list_every_step(self) -> None:
        """docs/fhir.md ("Round trip") lists as many FHIR limits as the normal form has."""
        docs = (Path(__file__).resolve().parents[2] / "docs" / "fhir.md").read_text("utf-8")
        section = docs.split("## Round trip", 1)[1].split("\n## ", 1)[0]
        listed = [line for line in section.splitlines() if line[:1].isdigit() and ". **" in line]

        assert len(listed) == len(FHIR_LIMITS)

    def test_a_record_the_writer_keeps_whole_is_left_alone_by_the_fhir_limits(self) -> None:
        """A builder record with nothing FHIR cannot carry is its own normal form."""
        record = _record(conditions=(make_condition(),))
        practitioners_named = attrs.evolve(
            record, practitioners=tuple(p for p in record.practitioners if p.id == "pcp-1")
        )

        for step in FHIR_LIMITS:
            practitioners_named = step(practitioners_named)

        assert practitioners_named.conditions == record.conditions

    def test_blank_text_reads_as_absent(self) -> None:
        """A blank task description is ``None`` in normal form."""
        record = _record(tasks=(make_task(description="  "),))

        assert blank_text(record).tasks[0].description is None

    def test_a_death_date_implies_deceased(self) -> None:
        """``deceased_at`` set with ``deceased`` false normalises to deceased."""
        record = _record(patient=make_patient(deceased_at=PartialDate(2020)))

        assert deceased_flag(record).patient.deceased

    def test_a_reference_to_a_referral_outside_the_record_is_an_order(self) -> None:
        """FHIR names only ``ServiceRequest``: an unknown referral reference reads as an order."""
        record = _record(encounters=(make_encounter(based_on=(Ref("Referral", "elsewhere-1"),)),))

        assert reference_types(record).encounters[0].based_on == (Ref("Order", "elsewhere-1"),)

    def test_parties_are_those_the_record_names_in_id_order(self) -> None:
        """Unreferenced practitioners leave; the others are sorted by id."""
        record = _record(conditions=(make_condition(author=PCP),))

        assert [p.id for p in parties(record).practitioners] == ["pcp-1"]

    def test_blank_name_parts_read_as_absent(self) -> None:
        """A blank family name is ``None`` and blank given names are left out."""
        record = _record(patient=make_patient(names=(HumanName(family=" ", given=("Sam", "")),)))

        assert blank_text(record).patient.names == (HumanName(given=("Sam",)),)
