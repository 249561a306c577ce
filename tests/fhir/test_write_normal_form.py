"""The round-trip normal form: what ``read(write_bundle([record]))`` cannot give back exactly.

The round-trip tests (``test_write_roundtrip.py``) compare records in this normal form;
the tests at the end check the normal form itself.

``normalise(record)`` is applied to both sides of the round trip. Its steps come in two
lists, each step a small function whose docstring says why:

* :data:`FHIR_LIMITS`: what FHIR R4 (or the writer's choice of a standard element)
  cannot carry, or what the model itself treats as equivalent. Permanent; listed in
  ``docs/fhir.md`` ("Writing").
* :data:`PENDING_READER`: what the writer does put in the output but the reader does
  not read back yet. Each step names the reader change that makes it unnecessary
  (``R1``...): once the reader has it, delete the step.

:func:`pending_input` is the one pending step that shapes the input instead (the
reader turns such facts into facts of another kind, which no normal form can undo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from carecoord.domain import (
    Acknowledgement,
    ActivityKind,
    CareSetting,
    CareTeamMember,
    ClinicalStatus,
    CommunicationKind,
    ConditionCategory,
    Discipline,
    EncounterClass,
    EncounterStatus,
    HumanName,
    LinkKind,
    MedicationKind,
    OrderKind,
    OrganizationKind,
    PartialDate,
    PatientRecord,
    Period,
    Ref,
    ReferralStatus,
    Source,
    TransitionKind,
    VerificationStatus,
)
from carecoord.fhir._codes import CARE_TEAM_ROLE_SYSTEM, ENCOUNTER_CLASS, ENCOUNTER_CLASS_TO_CODE
from carecoord.fhir._write_base import DISCIPLINE_SYSTEM
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

__all__ = ["FHIR_LIMITS", "PENDING_READER", "normalise", "pending_input"]

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
}
_STAYS = frozenset({EncounterClass.INPATIENT, EncounterClass.OBSERVATION, EncounterClass.EMERGENCY})
_NOT_A_STAY = frozenset(
    {EncounterStatus.PLANNED, EncounterStatus.CANCELLED, EncounterStatus.ENTERED_IN_ERROR}
)


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
    return attrs.evolve(record, **{name: kept})


def _unique(items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def _blank(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


# --------------------------------------------------------------------------- FHIR limits


def blank_text(record: PatientRecord) -> PatientRecord:
    """FHIR strings cannot be empty: blank optional text reads as ``None``.

    Free text that is empty or only spaces (a task description, a note, a reason...) is
    not written; a blank ``Note`` is no note; a blank goal description (required) is
    written absent (data-absent-reason) and is ``""``. Likewise an empty ``Period`` (no
    start, no end) is no period, and a name with no part at all is no name.
    """
    texts = {
        "Task": ("description", "business_status", "status_reason"),
        "Referral": ("note",),
        "Order": ("justification",),
        "Communication": ("note", "medium"),
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
        elif name == "Result" and isinstance(value.value, str) and not value.value.strip():
            updates["value"] = None
        elif name == "CarePlanActivity" and value.scheduled == Period():
            updates["scheduled"] = None
        elif name == "Goal" and not value.description.strip():
            updates["description"] = ""
        elif name in ("Patient", "Practitioner"):
            updates["names"] = tuple(n for n in value.names if n != HumanName())
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
    "CarePlan": ("addresses", "contributors", "goals"),
    "CarePlanActivity": ("goals",),
    "Goal": ("addresses",),
    "Consent": ("actors",),
    "Medication": ("reasons",),
    "Allergy": ("reactions",),
    "Result": ("based_on",),
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


def result_reviews_acknowledge(record: PatientRecord) -> PatientRecord:
    """A result-review activity about a result acknowledges it (by its performer, at its time).

    The reader's rule: a completed ``result-review`` activity whose first subject is a
    result of the record, done no earlier than the result was issued, is also an
    acknowledgement of that result.
    """
    results = {r.id: r for r in record.results}
    for activity in record.activities:
        if activity.kind is not ActivityKind.RESULT_REVIEW or not activity.about:
            continue
        target = activity.about[0]
        result = results.get(target.id) if target.type == "Result" else None
        if result is None or activity.at < result.issued:
            continue
        acknowledgement = Acknowledgement(activity.performer, activity.at)
        if acknowledgement not in result.acknowledgements:
            results[result.id] = attrs.evolve(
                result, acknowledgements=(*result.acknowledgements, acknowledgement)
            )
    return attrs.evolve(record, results=tuple(results[r.id] for r in record.results))


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
    practitioners = {p.id: p for p in record.practitioners}
    organizations = {o.id: o for o in record.organizations}
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
    medication_order,
    prior_authorization_required,
    result_reviews_acknowledge,
    parties,
)
"""The permanent normal form, in the order applied (parties last: it looks at every ref)."""


# --------------------------------------------------------------------------- pending reader
#
# Each step below undoes, on both sides, what the writer writes and the reader does not
# read yet. The name of the reader change (R1...) is the one in docs/fhir.md ("Writing",
# "Reader changes"); once the reader has it, delete the step.


def r01_source(record: PatientRecord) -> PatientRecord:
    """R1: the source's name and kind (``meta.extension`` ``source`` on the Patient)."""
    source = Source(record.source.id, retrieved_at=record.source.retrieved_at)
    return attrs.evolve(record, source=source)


def r02_names(record: PatientRecord) -> PatientRecord:
    """R2: names with neither a family nor a given name (only a prefix, suffix, use)."""

    def named(names: tuple[HumanName, ...]) -> tuple[HumanName, ...]:
        return tuple(n for n in names if n.family or n.given)

    return attrs.evolve(
        record,
        patient=attrs.evolve(record.patient, names=named(record.patient.names)),
        practitioners=tuple(attrs.evolve(p, names=named(p.names)) for p in record.practitioners),
    )


def r03_links(record: PatientRecord) -> PatientRecord:
    """R3: a link's kind and other source (the ``patient-link`` extension)."""
    links = tuple(
        attrs.evolve(link, kind=LinkKind.SAME_PERSON, other_source=None)
        for link in record.patient.links
    )
    return attrs.evolve(record, patient=attrs.evolve(record.patient, links=_unique(links)))


_CARECOORD_ROLE_SYSTEMS = frozenset({CARE_TEAM_ROLE_SYSTEM, DISCIPLINE_SYSTEM})


def r04_disciplines(record: PatientRecord) -> PatientRecord:
    """R4: disciplines and organisation kinds (``discipline``/``organization-kind`` codings).

    Also the care-team roles: a member's role is the first role that is not a carecoord
    coding, and the lead flags are the ``care-team-role`` codings (every lead, no
    inference when they are there).
    """

    def member(m: CareTeamMember) -> CareTeamMember:
        role = None if m.role is None or m.role.system in _CARECOORD_ROLE_SYSTEMS else m.role
        return attrs.evolve(m, discipline=Discipline.OTHER, role=role, lead=False)

    return attrs.evolve(
        _facts(
            record,
            "care_teams",
            lambda t: attrs.evolve(t, members=tuple(member(m) for m in t.members)),
        ),
        practitioners=tuple(
            attrs.evolve(p, discipline=Discipline.OTHER) for p in record.practitioners
        ),
        organizations=tuple(
            attrs.evolve(o, kind=OrganizationKind.OTHER, discipline=Discipline.OTHER)
            for o in record.organizations
        ),
    )


def r05_histories(record: PatientRecord) -> PatientRecord:
    """R5: task and care-team histories and ``held_from`` (``status-history``, ``held-from``)."""
    record = _facts(record, "tasks", lambda t: attrs.evolve(t, history=(), held_from=None))
    return _facts(record, "care_teams", lambda t: attrs.evolve(t, history=()))


def r06_referral_lifecycle(record: PatientRecord) -> PatientRecord:
    """R6: the closed-loop state and history of a referral (``referral``, ``status-history``)."""
    return _facts(
        record,
        "referrals",
        lambda r: attrs.evolve(
            r,
            status=ReferralStatus.SENT,
            history=(),
            sent_at=None,
            seen_at=None,
            report_received_at=None,
            report=None,
            appointments=(),
            community=False,
            last_modified=None,
        ),
    )


def r07_transitions(record: PatientRecord) -> PatientRecord:
    """R7: a stay's kind, settings, complexity and own disposition (``transition``)."""
    return _facts(
        record,
        "transitions",
        lambda t: attrs.evolve(
            t,
            kind=TransitionKind.INPATIENT if t.kind is TransitionKind.TRANSFER else t.kind,
            from_setting=CareSetting.UNKNOWN,
            to_setting=CareSetting.UNKNOWN,
            complexity=None,
            discharge_disposition=None,
        ),
    )


def r08_visit_classes(record: PatientRecord) -> PatientRecord:
    """R8: a visit's class (``encounter-class``): telephone and other read as ambulatory."""
    return _facts(
        record,
        "encounters",
        lambda e: attrs.evolve(e, klass=ENCOUNTER_CLASS[ENCOUNTER_CLASS_TO_CODE[e.klass]]),
    )


def r09_social_needs(record: PatientRecord) -> PatientRecord:
    """R9: social needs (``social-need``): SDOH conditions and every need are left out.

    The reader makes a need of every SDOH Condition and a Condition of every need.
    """
    record = attrs.evolve(record, social_needs=())
    return _facts(
        record, "conditions", lambda c: None if c.category is ConditionCategory.SDOH else c
    )


def r10_authors(record: PatientRecord) -> PatientRecord:
    """R10: authors that the reader infers (orders, results, communications...).

    The reader takes the requester, performer, sender or information source as the
    author, and a Provenance's time as ``recorded_at`` of a fact that has none. Here:
    no author and no recorded time for orders, results, communications, medications and
    procedures' authors; for visits and appointments (no inference) the Provenance time.
    """
    record = _facts(record, "orders", lambda f: attrs.evolve(f, author=None, recorded_at=None))
    record = _facts(record, "results", lambda f: attrs.evolve(f, author=None, recorded_at=None))
    record = _facts(
        record, "communications", lambda f: attrs.evolve(f, author=None, recorded_at=None)
    )
    record = _facts(record, "medications", lambda f: attrs.evolve(f, author=None, recorded_at=None))
    record = _facts(record, "procedures", lambda f: attrs.evolve(f, author=None))
    record = _facts(
        record,
        "encounters",
        lambda e: attrs.evolve(
            e, recorded_at=e.recorded_at or (e.start if e.author is not None else None)
        ),
    )
    return _facts(
        record,
        "appointments",
        lambda a: attrs.evolve(
            a,
            recorded_at=a.recorded_at
            or ((a.booked_at or a.start) if a.author is not None else None),
        ),
    )


def r11_care_plan_review(record: PatientRecord) -> PatientRecord:
    """R11: a care plan's last review (``last-reviewed``); the reader takes ``lastUpdated``."""
    return _facts(record, "care_plans", lambda p: attrs.evolve(p, last_reviewed=p.recorded_at))


def r12_appointment_change(record: PatientRecord) -> PatientRecord:
    """R12: when an appointment's status changed (``status-changed``)."""
    return _facts(record, "appointments", lambda a: attrs.evolve(a, status_changed_at=None))


def r13_communications(record: PatientRecord) -> PatientRecord:
    """R13: a communication's kind and interactivity (``communication``), an uncoded medium."""
    return _facts(
        record,
        "communications",
        lambda c: attrs.evolve(c, kind=CommunicationKind.OTHER, interactive=False, medium=None),
    )


def r14_orders(record: PatientRecord) -> PatientRecord:
    """R14: an order's procedure category and its justification (``reasonCode.text``)."""
    return _facts(
        record, "orders", lambda o: attrs.evolve(o, kind=OrderKind.LAB, justification=None)
    )


def r15_acknowledgements(record: PatientRecord) -> PatientRecord:
    """R15: result acknowledgements (``acknowledgement``)."""
    return _facts(record, "results", lambda r: attrs.evolve(r, acknowledgements=()))


def r16_billable(record: PatientRecord) -> PatientRecord:
    """R16: whether an activity is billable (``billable``)."""
    return _facts(record, "activities", lambda a: attrs.evolve(a, billable=True))


def r17_reconciliations(record: PatientRecord) -> PatientRecord:
    """R17: reconciliations (``List`` in ``changes`` mode)."""
    return attrs.evolve(record, reconciliations=())


def r18_blank_goals(record: PatientRecord) -> PatientRecord:
    """R18: a goal whose description is absent (data-absent-reason) reads as ``""``."""
    return _facts(record, "goals", lambda g: g if g.description.strip() else None)


PENDING_READER: tuple[Step, ...] = (
    r01_source,
    r02_names,
    r03_links,
    r04_disciplines,
    r05_histories,
    r06_referral_lifecycle,
    r07_transitions,
    r08_visit_classes,
    r09_social_needs,
    r10_authors,
    r11_care_plan_review,
    r12_appointment_change,
    r13_communications,
    r14_orders,
    r15_acknowledgements,
    r16_billable,
    r17_reconciliations,
    r18_blank_goals,
)
"""Steps waiting for a reader change, applied before :data:`FHIR_LIMITS`."""


def pending_input(record: PatientRecord) -> PatientRecord:
    """R8, R14 (input): leave out facts the reader would read as facts of another kind.

    R8: a visit of an inpatient, observation or emergency class (not planned, cancelled
    or entered in error) reads as a care transition until the reader honours the
    ``encounter-class`` extension. R14: an order whose requester and performer work for
    different organisations reads as a referral until the order's category wins.
    """
    record = _facts(
        record,
        "encounters",
        lambda e: None if e.klass in _STAYS and e.status not in _NOT_A_STAY else e,
    )
    employers = {p.id: p.organization for p in record.practitioners if p.organization}

    def organization(ref: Ref | None) -> str | None:
        if ref is None:
            return None
        return ref.id if ref.type == "Organization" else employers.get(ref.id)

    def order(o: Any) -> Any:
        ours, theirs = organization(o.requester), organization(o.performer)
        return None if ours is not None and theirs is not None and ours != theirs else o

    return _facts(record, "orders", order)


def normalise(record: PatientRecord) -> PatientRecord:
    """``record`` in round-trip normal form (pending steps, then the FHIR limits)."""
    for step in (*PENDING_READER, *FHIR_LIMITS):
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
        steps = (*FHIR_LIMITS, *PENDING_READER)

        assert all(step.__doc__ and step.__doc__.strip() for step in steps)

    def test_pending_steps_name_their_reader_change(self) -> None:
        """Every pending step starts with the reader change it waits for (``R<n>:``)."""
        names = [step.__doc__ or "" for step in PENDING_READER]

        assert all(
            name.startswith(f"R{int(step.__name__[1:3])}:")
            for name, step in zip(names, PENDING_READER, strict=True)
        )

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

    def test_input_shaping_leaves_out_visits_read_as_stays(self) -> None:
        """An inpatient-class visit is left out of the input until the reader reads R8."""
        record = _record(encounters=(make_encounter(klass=EncounterClass.INPATIENT),))

        assert pending_input(record).encounters == ()
