"""Reading back what carecoord writes: its origin tag and its extensions (docs/fhir.md).

Each test writes a builder record (or edits what the writer wrote) and checks one thing
the reader takes from carecoord's extensions, or does not infer for a resource carrying
carecoord's origin tag. The same resources without the tag are read as any other FHIR.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from carecoord import fhir
from carecoord.domain import (
    Acknowledgement,
    ActivityKind,
    AppointmentId,
    AppointmentStatus,
    CareSetting,
    CareTeamMember,
    CareTeamStatus,
    Code,
    CommunicationKind,
    ConditionCategory,
    Discipline,
    EncounterClass,
    HumanName,
    LinkKind,
    OrderKind,
    OrganizationKind,
    PatientId,
    PatientLink,
    PatientRecord,
    Period,
    ReconciliationDecision,
    Ref,
    ReferralStatus,
    SocialNeedStatus,
    SourceKind,
    System,
    TaskStatus,
    TransitionKind,
)
from carecoord.fhir._codes import ORIGIN_SYSTEM
from carecoord.fhir._write import to_resources, write_bundle, write_ndjson
from carecoord.testing import (
    AS_OF,
    CARDIOLOGIST,
    COORDINATOR,
    HOSPITAL,
    PCP,
    days_before,
    make_activity,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_encounter,
    make_goal,
    make_medication,
    make_order,
    make_organization,
    make_patient,
    make_practitioner,
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

OTHER_PRACTICE = make_organization(
    id="practice-2", name="Example Family Practice", kind=OrganizationKind.PRACTICE
)


def read_one(document: Any) -> PatientRecord:
    """The one record read from ``document``."""
    [record] = fhir.read(document).records
    return record


def round_trip(record: PatientRecord) -> PatientRecord:
    """``record`` written as a Bundle and read back."""
    return read_one(write_bundle([record]))


def untagged(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources without carecoord's origin tag (as if another system wrote them)."""
    for resource in resources:
        meta = resource["meta"]
        meta["tag"] = [t for t in meta.get("tag", []) if t.get("system") != ORIGIN_SYSTEM]
    return resources


class TestSourceAndPatient:
    """R1-R3, R19: the record's source, names, links and ids."""

    def test_source_name_and_kind_come_from_the_patient_meta(self) -> None:
        """The ``source`` extension on the Patient's meta gives the name and the kind."""
        source = make_source(name="County HIE", kind=SourceKind.HIE)

        got = round_trip(make_record(source=source)).source

        assert (got.name, got.kind) == ("County HIE", SourceKind.HIE)

    def test_ndjson_keeps_the_retrieval_time(self) -> None:
        """Without a Bundle timestamp, ``retrieved_at`` comes from the Patient's meta."""
        record = make_record(source=make_source(retrieved_at=days_before(1)))

        assert read_one(write_ndjson([record])).source.retrieved_at == days_before(1)

    def test_a_name_with_only_a_prefix_is_kept(self) -> None:
        """A name with a prefix and no family or given name is a name."""
        patient = make_patient(names=(HumanName(prefix=("Dr",), use="official"),))

        assert round_trip(make_record(patient=patient)).patient.names == patient.names

    def test_a_not_same_person_link_keeps_its_kind_and_source(self) -> None:
        """The ``patient-link`` extension gives the link's kind and the other source."""
        link = PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("patient-9"), "county-hie")

        got = round_trip(make_record(patient=make_patient(links=(link,))))

        assert got.patient.links == (link,)

    def test_records_of_two_sources_in_one_bundle_keep_their_sources(self) -> None:
        """A resource's own ``meta.source`` names its source: one Bundle, two records."""
        first = make_record(referrals=(make_referral(),))
        second = attrs.evolve(first, source=make_source(id="county-hie"))

        result = fhir.read(write_bundle([first, second]))

        assert [r.key for r in result.records] == [first.key, second.key]

    def test_same_fact_ids_in_two_sources_keep_their_own_authors(self) -> None:
        """A Provenance names the author of its own source's fact, not the other's."""
        first = make_record(encounters=(make_encounter(author=PCP),))
        second = make_record(
            source=make_source(id="county-hie"),
            encounters=(make_encounter(author=CARDIOLOGIST),),
        )

        result = fhir.read(write_bundle([first, second]))

        assert [r.encounters[0].author for r in result.records] == [PCP, CARDIOLOGIST]

    def test_an_id_that_is_not_a_fhir_id_comes_back(self) -> None:
        """A stand-in id (``original-id``) reads back as the model's, in references too."""
        task = make_task(id="task 1")
        activity = make_activity(about=(Ref("Task", "task 1"),))

        got = round_trip(make_record(tasks=(task,), activities=(activity,)))

        assert (got.tasks[0].id, got.activities[0].about) == ("task 1", (Ref("Task", "task 1"),))

    def test_meta_source_of_other_systems_does_not_split_records(self) -> None:
        """Without the origin tag, ``meta.source`` of a resource names no source of its own."""
        resources = untagged(to_resources(make_record(conditions=(make_condition(),))))
        resources[-1]["meta"]["source"] = "#request-42"

        result = fhir.read(resources)

        assert [r.source.id for r in result.records] == ["clinic-ehr"]


class TestParties:
    """R4: disciplines, organisation kinds and care-team roles."""

    def test_a_discipline_coding_is_the_discipline(self) -> None:
        """A practitioner with a NUCC specialty keeps the discipline it was written with."""
        practitioner = make_practitioner(
            discipline=Discipline.NURSING, specialty=Code(System.NUCC, "207Q00000X")
        )
        record = make_record(
            practitioners=(practitioner,), conditions=(make_condition(author=PCP),)
        )

        assert round_trip(record).practitioners[0].discipline is Discipline.NURSING

    def test_a_written_practitioner_without_discipline_infers_none(self) -> None:
        """No discipline coding on a carecoord role: ``other``, not the specialty's."""
        practitioner = make_practitioner(
            discipline=Discipline.OTHER, specialty=Code(System.NUCC, "207Q00000X")
        )
        record = make_record(
            practitioners=(practitioner,), conditions=(make_condition(author=PCP),)
        )

        assert round_trip(record).practitioners[0].discipline is Discipline.OTHER

    def test_an_organization_kind_coding_is_the_kind(self) -> None:
        """A practice named like a hospital stays a practice (no guess from the name)."""
        organization = make_organization(
            name="Synthetic General Hospital", kind=OrganizationKind.PRACTICE
        )
        record = make_record(organizations=(organization,), transitions=(make_transition(),))

        assert round_trip(record).organizations[0].kind is OrganizationKind.PRACTICE

    def test_an_untagged_organization_is_still_refined_by_its_name(self) -> None:
        """Without the origin tag, a ``prov`` named "Hospital" reads as a hospital."""
        organization = make_organization(
            kind=OrganizationKind.PRACTICE, discipline=Discipline.OTHER
        )
        record = make_record(organizations=(organization,), transitions=(make_transition(),))
        resources = untagged(to_resources(record))
        for resource in resources:
            if resource["resourceType"] == "Organization":  # the HL7 type only: "prov"
                resource["type"] = [{"coding": [resource["type"][0]["coding"][0]]}]

        assert read_one(resources).organizations[0].kind is OrganizationKind.HOSPITAL

    def test_every_member_coded_lead_is_a_lead(self) -> None:
        """Two leads stay two leads; nothing is inferred from the managing organisation."""
        since = Period(days_before(30))
        team = make_care_team(
            members=(
                CareTeamMember(PCP, Discipline.PRIMARY_CARE, period=since, lead=True),
                CareTeamMember(COORDINATOR, Discipline.CARE_COORDINATION, period=since, lead=True),
                CareTeamMember(HOSPITAL, Discipline.HOSPITAL, period=since),
            ),
            managing_organization=HOSPITAL,
        )

        got = round_trip(make_record(care_teams=(team,))).care_teams[0]

        assert [m.lead for m in got.members] == [True, True, False]

    def test_a_member_without_role_reads_without_role(self) -> None:
        """The writer's own role codings (lead, discipline) are not the member's role."""
        got = round_trip(make_record(care_teams=(make_care_team(),))).care_teams[0]

        assert [m.role for m in got.members] == [None, None, None]


class TestHistories:
    """R5: task and care-team histories."""

    def test_a_task_history_comes_back(self) -> None:
        """Every status change (who, when, why) comes from ``status-history``."""
        task = (
            make_task()
            .accept(at=days_before(0.5), by=COORDINATOR)
            .hold(at=days_before(0.2), reason="waiting for the patient")
        )

        got = round_trip(make_record(tasks=(task,))).tasks[0]

        assert (got.history, got.held_from) == (task.history, TaskStatus.ACCEPTED)

    def test_a_task_that_never_moved_has_no_history(self) -> None:
        """A written task with a last-modified time but no history infers none."""
        task = make_task(status=TaskStatus.IN_PROGRESS, history=(), last_modified=days_before(0.5))

        got = round_trip(make_record(tasks=(task,))).tasks[0]

        assert (got.history, got.last_modified) == ((), days_before(0.5))

    def test_a_care_team_history_comes_back(self) -> None:
        """A care team's status changes come from ``status-history``."""
        team = make_care_team().transition_to(CareTeamStatus.SUSPENDED, at=days_before(2), by=PCP)

        assert round_trip(make_record(care_teams=(team,))).care_teams[0].history == team.history


class TestReferrals:
    """R6: the closed loop of a referral."""

    def test_a_scheduled_referral_keeps_its_state(self) -> None:
        """Status, appointments and history come from the ``referral`` extension."""
        referral = (
            make_referral()
            .accept(at=days_before(4))
            .schedule(AppointmentId("appointment-1"), at=days_before(2))
        )

        got = round_trip(make_record(referrals=(referral,))).referrals[0]

        assert got == referral

    def test_a_referral_is_not_moved_by_its_appointment(self) -> None:
        """A fulfilled appointment based on it does not make a stated referral seen."""
        appointment = make_appointment(status=AppointmentStatus.FULFILLED)
        record = make_record(referrals=(make_referral(),), appointments=(appointment,))

        assert round_trip(record).referrals[0].status is ReferralStatus.SENT

    def test_a_closed_loop_referral_round_trips(self) -> None:
        """Seen, report received and closed, with the report and its times."""
        referral = (
            make_referral()
            .accept(at=days_before(4))
            .schedule(AppointmentId("appointment-1"), at=days_before(3))
            .record_seen(at=days_before(2))
            .receive_report(at=days_before(1), report=Ref("Communication", "c-9"))
            .close(at=days_before(0.5))
        )

        assert round_trip(make_record(referrals=(referral,))).referrals[0] == referral


class TestEncounters:
    """R7, R8: stays and visits."""

    def test_a_stay_not_yet_discharged_keeps_its_destination(self) -> None:
        """The planned destination of an ongoing stay comes from ``transition``."""
        stay = make_transition(discharged_at=None, to_setting=CareSetting.SKILLED_NURSING)

        got = round_trip(make_record(transitions=(stay,))).transitions[0]

        assert (got.discharged_at, got.to_setting) == (None, CareSetting.SKILLED_NURSING)

    def test_a_transfer_stays_a_transfer(self) -> None:
        """A transfer (written as an inpatient class) keeps its kind."""
        stay = make_transition(kind=TransitionKind.TRANSFER)

        assert round_trip(make_record(transitions=(stay,))).transitions[0].kind is (
            TransitionKind.TRANSFER
        )

    def test_a_visit_of_an_inpatient_class_stays_a_visit(self) -> None:
        """An Encounter with ``encounter-class`` is a visit whatever its class."""
        visit = make_encounter(klass=EncounterClass.INPATIENT)

        got = round_trip(make_record(encounters=(visit,)))

        assert ([e.klass for e in got.encounters], got.transitions) == (
            [EncounterClass.INPATIENT],
            (),
        )

    def test_a_telephone_visit_keeps_its_class(self) -> None:
        """Telephone (no v3 class) comes back from ``encounter-class``."""
        visit = make_encounter(klass=EncounterClass.TELEPHONE)

        got = round_trip(make_record(encounters=(visit,))).encounters[0]

        assert got.klass is EncounterClass.TELEPHONE


class TestClinical:
    """R9, R10, R15, R18: social needs, authors, acknowledgements, goals."""

    def test_an_sdoh_condition_is_not_also_a_need(self) -> None:
        """A written SDOH Condition without ``social-need`` makes no social need."""
        condition = make_condition(category=ConditionCategory.SDOH)

        got = round_trip(make_record(conditions=(condition,)))

        assert (len(got.conditions), got.social_needs) == (1, ())

    def test_a_need_without_a_code_is_a_need_only(self) -> None:
        """A standalone need (no code) is read as the need, and as no Condition."""
        need = make_social_need(code=None, status=SocialNeedStatus.IN_PROGRESS)

        got = round_trip(make_record(social_needs=(need,)))

        assert (got.social_needs, got.conditions) == ((need,), ())

    def test_a_need_sharing_a_condition_id_comes_back_with_it(self) -> None:
        """A need merged into its Condition gives both back, with the need's own code.

        The need shares the Condition's author and recorded time (as a need read from an
        SDOH Condition does): the merged resource has one of each.
        """
        condition = make_condition(id="c-1")
        need = make_social_need(id="c-1", author=condition.author)

        got = round_trip(make_record(conditions=(condition,), social_needs=(need,)))

        assert (got.conditions[0].code, got.social_needs[0]) == (condition.code, need)

    def test_an_order_has_no_author_from_its_requester(self) -> None:
        """A written order's requester is not taken as its author."""
        assert round_trip(make_record(orders=(make_order(),))).orders[0].author is None

    def test_a_result_has_no_author_from_its_performer(self) -> None:
        """A written result's performer is not taken as its author."""
        result = make_result(performer=HOSPITAL)

        assert round_trip(make_record(results=(result,))).results[0].author is None

    def test_an_untagged_result_takes_its_performer_as_author(self) -> None:
        """Without the origin tag the performer is the author, as for any FHIR input."""
        record = make_record(results=(make_result(performer=HOSPITAL),))

        assert read_one(untagged(to_resources(record))).results[0].author == HOSPITAL

    def test_a_provenance_time_is_not_a_recorded_time(self) -> None:
        """An author's Provenance gives no ``recorded_at`` to a written visit."""
        visit = make_encounter(author=PCP)

        got = round_trip(make_record(encounters=(visit,))).encounters[0]

        assert (got.author, got.recorded_at) == (PCP, None)

    def test_a_statement_author_without_any_time_comes_back(self) -> None:
        """A Provenance with its time stated absent still names the author."""
        statement = make_medication(period=Period(), author=COORDINATOR)

        assert round_trip(make_record(medications=(statement,))).medications[0] == statement

    def test_a_procedure_has_no_author_from_its_performer(self) -> None:
        """A written procedure's author is its recorder only."""
        assert round_trip(make_record(procedures=(make_procedure(),))).procedures[0].author is None

    def test_acknowledgements_come_back(self) -> None:
        """A result's acknowledgements come from ``acknowledgement``."""
        result = make_result().acknowledge(PCP, at=days_before(0.5))

        got = round_trip(make_record(results=(result,))).results[0]

        assert got.acknowledgements == (Acknowledgement(PCP, days_before(0.5)),)

    def test_a_written_review_adds_no_acknowledgement(self) -> None:
        """A carecoord review of a carecoord result leaves its acknowledgements as stated."""
        review = make_activity(
            kind=ActivityKind.RESULT_REVIEW, about=(Ref("Result", "result-1"),), at=AS_OF
        )
        record = make_record(results=(make_result(),), activities=(review,))

        assert round_trip(record).results[0].acknowledgements == ()

    def test_a_goal_with_a_blank_description_is_read(self) -> None:
        """A description written absent (data-absent-reason) reads as ``""``."""
        goal = make_goal(description=" ")

        assert round_trip(make_record(goals=(goal,))).goals[0].description == ""


class TestCareAndRequests:
    """R11-R14, R16, R17: plans, appointments, communications, orders, activities, lists."""

    def test_a_care_plan_review_comes_back(self) -> None:
        """``last_reviewed`` comes from ``last-reviewed``, not ``meta.lastUpdated``."""
        plan = make_care_plan(last_reviewed=days_before(40), recorded_at=days_before(2))

        assert round_trip(make_record(care_plans=(plan,))).care_plans[0] == plan

    def test_a_never_reviewed_plan_stays_unreviewed(self) -> None:
        """A written plan without ``last-reviewed`` has no review date."""
        plan = make_care_plan(last_reviewed=None, recorded_at=days_before(2))

        assert round_trip(make_record(care_plans=(plan,))).care_plans[0].last_reviewed is None

    def test_an_appointment_status_change_comes_back(self) -> None:
        """``status_changed_at`` comes from ``status-changed``."""
        appointment = make_appointment().transition_to(
            AppointmentStatus.CANCELLED, at=days_before(1)
        )

        got = round_trip(make_record(appointments=(appointment,))).appointments[0]

        assert got.status_changed_at == days_before(1)

    def test_a_communication_kind_and_interactivity_come_back(self) -> None:
        """Kind and ``interactive`` come from ``communication``."""
        communication = make_communication(
            kind=CommunicationKind.PATIENT_CONTACT, interactive=True, medium="Portal"
        )

        got = round_trip(make_record(communications=(communication,))).communications[0]

        assert (got.kind, got.interactive, got.medium) == (
            CommunicationKind.PATIENT_CONTACT,
            True,
            "Portal",
        )

    def test_an_order_to_another_organization_stays_an_order(self) -> None:
        """A procedure order whose performer works elsewhere is not a referral."""
        order = make_order(
            kind=OrderKind.PROCEDURE,
            performer=Ref("Organization", OTHER_PRACTICE.id),
            justification="repeat after the first sample clotted",
        )
        record = make_record(
            organizations=(make_organization(), OTHER_PRACTICE),
            practitioners=(make_practitioner(organization=HOSPITAL.id),),
            orders=(order,),
        )

        got = round_trip(record)

        assert (got.referrals, got.orders) == ((), (order,))

    def test_an_activity_that_is_not_billable_comes_back(self) -> None:
        """``billable`` comes from ``billable``."""
        activity = make_activity(billable=False)

        assert round_trip(make_record(activities=(activity,))).activities[0].billable is False

    def test_a_reconciliation_comes_back(self) -> None:
        """A List in ``changes`` mode is a reconciliation: decisions, notes, sources."""
        reconciliation = make_reconciliation(
            decisions=(
                ReconciliationDecision(Ref("Medication", "medication-1"), "keep"),
                ReconciliationDecision(Ref("Medication", "m-2"), "stop", "duplicate"),
            ),
            sources=("clinic-ehr", "county-hie"),
            recorded_at=AS_OF,
        )
        record = make_record(medications=(make_medication(),), reconciliations=(reconciliation,))

        assert round_trip(record).reconciliations == (reconciliation,)

    def test_a_list_in_another_mode_is_not_read(self) -> None:
        """A working medication List is no reconciliation: skipped, as before."""
        resources = to_resources(make_record(reconciliations=(make_reconciliation(),)))
        resources[-1]["mode"] = "working"

        result = fhir.read(resources)

        assert (result.records[0].reconciliations, result.counts["List"].skipped) == ((), 1)

    def test_a_reconciliation_is_referred_to_as_such(self) -> None:
        """A reference to a reconciliation List reads as ``Reconciliation``."""
        activity = make_activity(
            kind=ActivityKind.MEDICATION_RECONCILIATION,
            about=(Ref("Reconciliation", "reconciliation-1"),),
        )
        record = make_record(reconciliations=(make_reconciliation(),), activities=(activity,))

        got = round_trip(record).activities[0]

        assert got.about == (Ref("Reconciliation", "reconciliation-1"),)


class TestUnchangedForOthers:
    """Resources without the origin tag read as any FHIR input."""

    def test_an_untagged_care_plan_is_reviewed_when_last_updated(self) -> None:
        """Without the tag (and the extension), ``last_reviewed`` is ``meta.lastUpdated``."""
        plan = make_care_plan(last_reviewed=None, recorded_at=days_before(2))
        resources = untagged(to_resources(make_record(care_plans=(plan,))))

        assert read_one(resources).care_plans[0].last_reviewed == days_before(2)

    def test_an_untagged_task_infers_its_history(self) -> None:
        """Without the tag or ``status-history``, one change is inferred at ``lastModified``."""
        task = make_task(status=TaskStatus.IN_PROGRESS, history=(), last_modified=days_before(0.5))
        resources = untagged(to_resources(make_record(tasks=(task,))))

        got = read_one(resources).tasks[0]

        assert [(c.to_status, c.at) for c in got.history] == [("in-progress", days_before(0.5))]

    def test_an_untagged_sdoh_condition_is_also_a_need(self) -> None:
        """Without the tag, an SDOH Condition makes a social need, as before."""
        condition = make_condition(
            category=ConditionCategory.SDOH, recorded_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        )
        resources = untagged(to_resources(make_record(conditions=(condition,))))

        assert len(read_one(resources).social_needs) == 1
