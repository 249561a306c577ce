"""Mapping care organisation: care teams, plans, goals, communications, consents, provenance."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from carecoord.domain import (
    CarePlanStatus,
    CareTeamStatus,
    CommunicationKind,
    ConsentDecision,
    Discipline,
    PartialDate,
    Ref,
    Sensitivity,
)
from carecoord.testing import days_before

from .test_read_fixtures import SUBJECT, only_record, practitioner, read_bundle, ref, when

SNOMED = "http://snomed.info/sct"
NUCC = "http://nucc.org/provider-taxonomy"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def team(*participants: Mapping[str, object], **extra: object) -> dict[str, object]:
    """An active care team with ``participants``."""
    resource: dict[str, object] = {
        "resourceType": "CareTeam",
        "id": "team-1",
        "status": "active",
        "subject": SUBJECT,
        "period": {"start": when(100)},
        "participant": list(participants),
    }
    resource.update(extra)
    return resource


def member(
    who: str, *, role: dict[str, object] | None = None, **extra: object
) -> dict[str, object]:
    """A care-team participant."""
    item: dict[str, object] = {"member": ref("Practitioner", who)}
    if role is not None:
        item["role"] = [role]
    item.update(extra)
    return item


class TestCareTeams:
    """Care teams: members, disciplines, lead."""

    def test_members_and_roles(self) -> None:
        """Each participant is a member with its role, discipline from NUCC and period."""
        therapist = member(
            "therapist-1",
            role={"coding": [{"system": NUCC, "code": "103T00000X"}]},
            period={"start": when(50)},
        )
        record = only_record(team(therapist))
        [care_team] = record.care_teams
        [item] = care_team.members

        assert care_team.status is CareTeamStatus.ACTIVE
        assert item.party == Ref("Practitioner", "therapist-1")
        assert item.discipline is Discipline.BEHAVIORAL_HEALTH
        assert item.period.start == days_before(50)

    def test_discipline_from_practitioner_role(self) -> None:
        """Without a role code, the member's discipline comes from its PractitionerRole."""
        role = {
            "resourceType": "PractitionerRole",
            "id": "r1",
            "practitioner": ref("Practitioner", "pcp-1"),
            "specialty": [{"coding": [{"system": SNOMED, "code": "408443003"}]}],
        }
        record = only_record(team(member("pcp-1")), practitioner(), role)

        assert record.care_teams[0].members[0].discipline is Discipline.PRIMARY_CARE
        assert [p.id for p in record.practitioners] == ["pcp-1"]

    def test_coordinator_role_is_lead(self) -> None:
        """The first participant with a coordinator role leads."""
        coordinator = member("coordinator-1", role={"text": "Care coordinator"})
        [care_team] = only_record(team(member("pcp-1"), coordinator)).care_teams

        assert care_team.lead(days_before(0)) is not None
        assert [m.lead for m in care_team.members] == [False, True]

    def test_managing_organization_is_lead_otherwise(self) -> None:
        """Without a lead role, the participant that is the managing organisation leads."""
        org_member = {"member": ref("Organization", "clinic-1")}
        [care_team] = only_record(
            team(
                member("pcp-1"), org_member, managingOrganization=[ref("Organization", "clinic-1")]
            )
        ).care_teams

        assert [m.lead for m in care_team.members] == [False, True]
        assert care_team.managing_organization == Ref("Organization", "clinic-1")


class TestCarePlansAndGoals:
    """Care plans and goals."""

    def test_care_plan(self) -> None:
        """Status, period, goals, activities, addresses, author and last review are read."""
        plan = {
            "resourceType": "CarePlan",
            "id": "cp1",
            "status": "active",
            "intent": "plan",
            "subject": SUBJECT,
            "period": {"start": when(20)},
            "author": ref("Practitioner", "pcp-1"),
            "contributor": [ref("Practitioner", "coordinator-1")],
            "addresses": [ref("Condition", "c1")],
            "goal": [ref("Goal", "g1")],
            "activity": [
                {
                    "detail": {
                        "status": "in-progress",
                        "code": {"coding": [{"system": SNOMED, "code": "229065009"}]},
                        "goal": [ref("Goal", "g1")],
                    }
                }
            ],
            "meta": {"lastUpdated": when(7)},
        }
        [item] = only_record(plan).care_plans

        assert item.status is CarePlanStatus.ACTIVE
        assert item.goals == ("g1",)
        assert item.addresses == (Ref("Condition", "c1"),)
        assert item.activities[0].status == "in-progress"
        assert item.activities[0].goals == ("g1",)
        assert item.author == Ref("Practitioner", "pcp-1")
        assert item.contributors == (Ref("Practitioner", "coordinator-1"),)
        assert item.last_reviewed == days_before(7)

    def test_goal(self) -> None:
        """A goal's description, status, target date and addresses."""
        goal = {
            "resourceType": "Goal",
            "id": "g1",
            "lifecycleStatus": "active",
            "description": {"text": "HbA1c below 7%"},
            "subject": SUBJECT,
            "target": [{"dueDate": "2026-06-30"}],
            "addresses": [ref("Condition", "c1")],
            "startDate": "2026-01",
        }
        [item] = only_record(goal).goals

        assert item.description == "HbA1c below 7%"
        assert item.target_date == PartialDate(2026, 6, 30)
        assert item.start == PartialDate(2026, 1)
        assert item.is_active


class TestCommunications:
    """Communications and their kind."""

    def communication(self, **extra: object) -> dict[str, object]:
        """A completed communication from pcp-1 to cardio-1."""
        resource: dict[str, object] = {
            "resourceType": "Communication",
            "id": "m1",
            "status": "completed",
            "subject": SUBJECT,
            "sent": when(2),
            "received": when(1),
            "sender": ref("Practitioner", "pcp-1"),
            "recipient": [ref("Practitioner", "cardio-1")],
        }
        resource.update(extra)
        return resource

    @pytest.mark.parametrize(
        ("code", "kind"),
        [
            ("18842-5", CommunicationKind.DISCHARGE_SUMMARY),
            ("11488-4", CommunicationKind.CONSULT_REPORT),
            ("57133-1", CommunicationKind.REFERRAL),
        ],
    )
    def test_loinc_kinds(self, code: str, kind: CommunicationKind) -> None:
        """LOINC document codes in the category give the kind."""
        category = [{"coding": [{"system": "http://loinc.org", "code": code}]}]

        assert only_record(self.communication(category=category)).communications[0].kind is kind

    def test_alert_is_result_notification(self) -> None:
        """The alert category is a result notification."""
        category = [{"coding": [{"code": "alert"}]}]

        assert only_record(self.communication(category=category)).communications[0].kind is (
            CommunicationKind.RESULT_NOTIFICATION
        )

    def test_notification_about_a_stay_is_an_admission_notice(self) -> None:
        """A notification about an inpatient stay is an admission notice."""
        stay = {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "in-progress",
            "class": {"code": "IMP"},
            "subject": SUBJECT,
            "period": {"start": when(2)},
        }
        message = self.communication(
            category=[{"coding": [{"code": "notification"}]}], about=[ref("Encounter", "e1")]
        )
        [item] = only_record(stay, message).communications

        assert item.kind is CommunicationKind.ADMISSION_NOTICE
        assert item.about == (Ref("CareTransition", "e1"),)

    def test_patient_contact(self) -> None:
        """A phone call to the patient is an interactive patient contact."""
        call = self.communication(
            recipient=[SUBJECT],
            medium=[{"coding": [{"code": "PHONE"}]}],
        )
        [item] = only_record(call).communications

        assert item.kind is CommunicationKind.PATIENT_CONTACT
        assert item.interactive
        assert item.medium == "phone"

    def test_times_and_parties(self) -> None:
        """Sent, received, sender and recipients are read."""
        [item] = only_record(self.communication()).communications

        assert item.sent == days_before(2)
        assert item.received == days_before(1)
        assert item.sender == Ref("Practitioner", "pcp-1")
        assert item.author == Ref("Practitioner", "pcp-1")

    def test_received_before_sent_is_dropped(self) -> None:
        """A received time before the sent time is dropped with an issue."""
        result = read_bundle(self.communication(received=when(3)))

        assert result.records[0].communications[0].received is None
        assert result.issue_codes()["invalid-value"] == 1


class TestConsents:
    """Consents: decision, actors, classes, period, nested provisions."""

    def consent(self, provision: Mapping[str, object], **extra: object) -> dict[str, object]:
        """An active privacy consent."""
        resource: dict[str, object] = {
            "resourceType": "Consent",
            "id": "k1",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "patient": SUBJECT,
            "provision": provision,
        }
        resource.update(extra)
        return resource

    def test_permit_with_actor_and_class(self) -> None:
        """A permit for one actor and one class over a period."""
        provision = {
            "type": "permit",
            "period": {"start": when(10), "end": when(-300)},
            "actor": [{"reference": ref("Practitioner", "therapist-1")}],
            "securityLabel": [{"system": ACT, "code": "PSY"}],
        }
        [item] = only_record(self.consent(provision)).consents

        assert item.decision is ConsentDecision.PERMIT
        assert item.actors == (Ref("Practitioner", "therapist-1"),)
        assert item.classes == {Sensitivity.MENTAL_HEALTH}
        assert item.period.start == days_before(10)

    def test_nested_provision_is_its_own_consent(self) -> None:
        """A nested deny inside a permit is a second consent, inheriting the period."""
        provision = {
            "type": "permit",
            "period": {"start": when(10)},
            "provision": [{"type": "deny", "securityLabel": [{"system": ACT, "code": "ETH"}]}],
        }
        consents = only_record(self.consent(provision)).consents

        assert [(c.id, c.decision) for c in consents] == [
            ("k1", ConsentDecision.PERMIT),
            ("k1#provision[0]", ConsentDecision.DENY),
        ]
        assert consents[1].classes == {Sensitivity.SUBSTANCE_USE}
        assert consents[1].period.start == days_before(10)

    def test_policy_rule_gives_decision(self) -> None:
        """Without a provision type, an OPTOUT policy rule denies."""
        resource = self.consent({}, policyRule={"coding": [{"code": "OPTOUT"}]})

        assert only_record(resource).consents[0].decision is ConsentDecision.DENY

    def test_treatment_consent_is_skipped(self) -> None:
        """A consent to treatment is not a sharing consent: skipped and counted."""
        resource = self.consent({"type": "permit"}, scope={"coding": [{"code": "treatment"}]})
        result = read_bundle(resource)

        assert result.records[0].consents == ()
        assert result.counts["Consent"].skipped == 1

    def test_r5_decision_and_exceptions(self) -> None:
        """R5: the decision is the base, each provision an exception with the opposite one."""
        r5 = {
            "resourceType": "Consent",
            "id": "k5",
            "status": "active",
            "subject": SUBJECT,
            "decision": "deny",
            "provision": [{"actor": [{"reference": ref("Practitioner", "pcp-1")}]}],
        }
        consents = only_record(r5).consents

        assert [c.decision for c in consents] == [ConsentDecision.DENY, ConsentDecision.PERMIT]
        assert consents[1].actors == (Ref("Practitioner", "pcp-1"),)


class TestProvenance:
    """Provenance fills author and recorded-at on the facts it targets."""

    def test_provenance_sets_author_and_recorded(self) -> None:
        """The author agent and the recorded time go to the target fact."""
        condition = {
            "resourceType": "Condition",
            "id": "c1",
            "subject": SUBJECT,
            "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
        }
        provenance = {
            "resourceType": "Provenance",
            "id": "pv1",
            "target": [ref("Condition", "c1")],
            "recorded": when(9),
            "agent": [
                {"type": {"coding": [{"code": "DEV"}]}, "who": ref("Device", "d1")},
                {"type": {"coding": [{"code": "AUT"}]}, "who": ref("Practitioner", "pcp-1")},
            ],
        }
        result = read_bundle(condition, provenance, practitioner())
        [item] = result.records[0].conditions

        assert item.author == Ref("Practitioner", "pcp-1")
        assert item.recorded_at == days_before(9)
        assert result.counts["Provenance"].mapped == 1
        assert [p.id for p in result.records[0].practitioners] == ["pcp-1"]

    def test_provenance_of_nothing_is_counted(self) -> None:
        """A provenance whose targets were not read is skipped and counted."""
        provenance = {
            "resourceType": "Provenance",
            "id": "pv1",
            "target": [ref("Condition", "elsewhere")],
            "recorded": when(9),
            "agent": [{"who": ref("Practitioner", "pcp-1")}],
        }
        result = read_bundle(provenance)

        assert result.counts["Provenance"].skipped == 1
