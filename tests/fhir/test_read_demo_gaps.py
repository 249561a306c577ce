"""The reader gaps the demo data exposed.

Fulfilment Tasks, acceptance time, prior authorisation, coordination activities and
acknowledgements, carecoord's care-team roles and programmes.

The last class reads the shipped demo data end to end and checks the referral and
transition gaps against the expected gaps its README lists.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from carecoord.demo_data import DEMO_AS_OF, demo_files
from carecoord.domain import (
    ActivityKind,
    AuthorizationOutcome,
    PatientRecord,
    Ref,
    ReferralStatus,
    Sensitivity,
    TaskStatus,
)
from carecoord.fhir._codes import ACTIVITY_KIND_SYSTEM, CARE_TEAM_ROLE_SYSTEM, PROGRAM_SYSTEM
from carecoord.fhir._read import ImportResult, read
from carecoord.profile import build_profiles
from carecoord.rules import BusinessCalendar, detect_gaps, us_federal_holidays
from carecoord.testing import days_before

from .test_read_fixtures import SUBJECT, iso, only_record, organization, read_bundle, ref, when
from .test_read_requests import appointment, assert_legal, request, task

TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
PAS_LEVEL_OF_SERVICE = (
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-levelOfServiceCode"
)
NUCC = "http://nucc.org/provider-taxonomy"
LOINC = "http://loinc.org"
COORDINATOR = Ref("Practitioner", "coordinator-1")


def issues(result: ImportResult) -> dict[str, int]:
    """Issue codes and counts, without the dangling references to parties not in the input."""
    return {k: v for k, v in result.issue_codes().items() if k != "dangling-reference"}


def coded(system: str, code: str) -> dict[str, object]:
    """A CodeableConcept with one coding."""
    return {"coding": [{"system": system, "code": code}]}


def two_organisations(cardiology: str = "heart-1") -> list[dict[str, Any]]:
    """pcp-1 works for clinic-1 and cardio-1 for ``cardiology`` (roles and organisations)."""
    roles: list[dict[str, Any]] = [
        {
            "resourceType": "PractitionerRole",
            "id": f"r-{who}",
            "practitioner": ref("Practitioner", who),
            "organization": ref("Organization", org),
        }
        for who, org in (("pcp-1", "clinic-1"), ("cardio-1", cardiology))
    ]
    return [*roles, organization(), organization("heart-1")]


def uncoded_task(status: str = "accepted", **extra: object) -> dict[str, object]:
    """A Task on sr1 with no code, requested by pcp-1 for cardio-1."""
    resource = task(status, requester=ref("Practitioner", "pcp-1"))
    del resource["code"]
    resource.update(extra)
    return resource


def activity(kind: str = "chart-review", ident: str = "act-1", **extra: object) -> dict[str, Any]:
    """A completed activity Task: 25 minutes ending 3 days before AS_OF, by the coordinator."""
    end = days_before(3)
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": ident,
        "meta": {"lastUpdated": iso(end)},
        "status": "completed",
        "intent": "order",
        "code": coded(ACTIVITY_KIND_SYSTEM, kind),
        "for": SUBJECT,
        "executionPeriod": {"start": iso(end - dt.timedelta(minutes=25)), "end": iso(end)},
        "authoredOn": iso(end - dt.timedelta(minutes=25)),
        "lastModified": iso(end),
        "owner": ref("Practitioner", "coordinator-1"),
    }
    resource.update(extra)
    return resource


def observation(ident: str = "o1", **extra: object) -> dict[str, Any]:
    """A final potassium result issued 10 days before AS_OF."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": coded(LOINC, "2823-3"),
        "subject": SUBJECT,
        "issued": when(10),
    }
    resource.update(extra)
    return resource


def claim(ident: str = "pa-1", **extra: object) -> dict[str, Any]:
    """A standard prior-authorisation Claim for sr1, created 6 days before AS_OF."""
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": ident,
        "status": "active",
        "type": coded("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "preauthorization",
        "patient": SUBJECT,
        "created": when(6),
        "insurer": ref("Organization", "payer-1"),
        "provider": ref("Organization", "clinic-1"),
        "priority": coded(PROCESS_PRIORITY, "normal"),
        "referral": ref("ServiceRequest", "sr1"),
    }
    resource.update(extra)
    return resource


def claim_response(outcome: str | None = "complete", **extra: object) -> dict[str, Any]:
    """A ClaimResponse to pa-1, created 4 days before AS_OF."""
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": "par-1",
        "status": "active",
        "use": "preauthorization",
        "patient": SUBJECT,
        "created": when(4),
        "insurer": ref("Organization", "payer-1"),
        "request": ref("Claim", "pa-1"),
    }
    if outcome is not None:
        resource["outcome"] = outcome
    resource.update(extra)
    return resource


# --------------------------------------------------------------------------- fulfilment Tasks


class TestFulfilmentTasks:
    """Only a fulfil Task (or an uncoded order across organisations) moves its referral."""

    def test_task_code_fulfill(self) -> None:
        """A Task coded task-code#fulfill on the referral is its fulfilment Task."""
        record = only_record(request(), task("accepted", code=coded(TASK_CODE, "fulfill")))

        assert record.referrals[0].status is ReferralStatus.ACCEPTED
        assert record.tasks == ()

    def test_other_code_is_a_coordination_task(self) -> None:
        """A Task with another code focused on the referral is a coordination Task."""
        record = only_record(request(), task("accepted", code=coded(TASK_CODE, "approve")))

        assert [t.focus for t in record.tasks] == [Ref("Referral", "sr1")]
        assert record.referrals[0].status is ReferralStatus.SENT

    def test_fulfill_from_another_system_is_not_fulfilment(self) -> None:
        """The code fulfill in a system other than task-code does not make a fulfilment Task."""
        record = only_record(request(), task("accepted", code=coded("urn:example:x", "fulfill")))

        assert [t.id for t in record.tasks] == ["t1"]

    def test_uncoded_order_across_organisations(self) -> None:
        """An uncoded order Task owned outside the requester's organisation is fulfilment."""
        record = only_record(request(), uncoded_task(), *two_organisations())

        assert record.referrals[0].status is ReferralStatus.ACCEPTED
        assert record.tasks == ()

    def test_text_only_code_counts_as_uncoded(self) -> None:
        """A code with only text is no code: the organisations decide."""
        concept = {"text": "Cardiology consult"}
        record = only_record(request(), uncoded_task(code=concept), *two_organisations())

        assert record.tasks == ()

    def test_uncoded_order_within_one_organisation(self) -> None:
        """An uncoded Task whose owner works for the requester's organisation is a task."""
        record = only_record(request(), uncoded_task(), *two_organisations("clinic-1"))

        assert [t.focus for t in record.tasks] == [Ref("Referral", "sr1")]

    def test_uncoded_order_with_unknown_organisations(self) -> None:
        """An uncoded Task whose organisations are unknown is a coordination task."""
        record = only_record(request(), uncoded_task())

        assert [t.status for t in record.tasks] == [TaskStatus.ACCEPTED]

    def test_uncoded_plan_is_not_fulfilment(self) -> None:
        """An uncoded Task whose intent is not order is a coordination task."""
        record = only_record(request(), uncoded_task(intent="plan"), *two_organisations())

        assert [t.id for t in record.tasks] == ["t1"]
        assert record.referrals[0].status is ReferralStatus.SENT

    def test_uncoded_task_uses_the_request_parties(self) -> None:
        """Without its own requester and owner, the Task takes the request's parties."""
        bare = task("accepted")
        del bare["code"], bare["owner"]
        record = only_record(request(), bare, *two_organisations())

        assert record.tasks == ()
        assert record.referrals[0].status is ReferralStatus.ACCEPTED

    def test_based_on_referral_sets_the_focus(self) -> None:
        """A coordination Task based on the referral, with no focus, is focused on it."""
        other = task("in-progress", code={"text": "Call the patient"}, focus=None)
        other["basedOn"] = [ref("ServiceRequest", "sr1")]
        record = only_record(request(), other)

        assert [t.focus for t in record.tasks] == [Ref("Referral", "sr1")]

    def test_own_focus_is_kept(self) -> None:
        """A coordination Task based on the referral keeps its own focus."""
        other = task("in-progress", code={"text": "Call the patient"}, focus=ref("Goal", "g1"))
        other["basedOn"] = [ref("ServiceRequest", "sr1")]
        record = only_record(request(), other)

        assert [t.focus for t in record.tasks] == [Ref("Goal", "g1")]

    def test_coordination_task_does_not_move_the_referral(self) -> None:
        """A completed coordination Task on the referral leaves its lifecycle alone."""
        other = task("completed", code=coded(TASK_CODE, "approve"))
        record = only_record(request(), other)

        assert record.referrals[0].history[-1].to_status == "sent"


# --------------------------------------------------------------------------- acceptance time


class TestAcceptanceTime:
    """Acceptance is dated by the fulfilment Task's executionPeriod.start."""

    def test_accepted_at_execution_start(self) -> None:
        """An accepted Task with executionPeriod.start is accepted then, not at lastModified."""
        started = task("accepted", executionPeriod={"start": when(15)})
        [referral] = only_record(request(), started).referrals

        assert referral.first_reached(ReferralStatus.ACCEPTED) == days_before(15)

    def test_accepted_before_the_booking(self) -> None:
        """An in-progress Task with an appointment: accepted at execution start, then booked."""
        started = task("in-progress", executionPeriod={"start": when(15)}, lastModified=when(4))
        [referral] = only_record(request(), started, appointment("noshow")).referrals

        assert referral.first_reached(ReferralStatus.ACCEPTED) == days_before(15)
        assert referral.first_reached(ReferralStatus.SCHEDULED) == days_before(12)
        assert referral.status is ReferralStatus.NO_SHOW

    def test_legal_monotonic_walk(self) -> None:
        """The rebuilt history is a legal, time-ordered walk of the referral transitions."""
        started = task("in-progress", executionPeriod={"start": when(15)}, lastModified=when(4))
        [referral] = only_record(request(), started, appointment("fulfilled")).referrals

        assert_legal(referral.history)
        assert [c.to_status for c in referral.history] == ["sent", "accepted", "scheduled", "seen"]

    def test_completed_task_dates_acceptance(self) -> None:
        """A completed Task with executionPeriod.start also says when it was accepted."""
        done = task("completed", executionPeriod={"start": when(15)})
        [referral] = only_record(request(), done).referrals

        assert referral.first_reached(ReferralStatus.ACCEPTED) == days_before(15)
        assert referral.seen_at == days_before(10)

    def test_without_execution_period(self) -> None:
        """Without executionPeriod.start, acceptance is dated by lastModified."""
        [referral] = only_record(request(), task("accepted")).referrals

        assert referral.first_reached(ReferralStatus.ACCEPTED) == days_before(10)

    def test_start_before_sending_is_clamped(self) -> None:
        """An execution start before the referral was sent is moved up to the sending."""
        early = task("accepted", executionPeriod={"start": when(30)})
        [referral] = only_record(request(), early).referrals

        assert referral.first_reached(ReferralStatus.ACCEPTED) == days_before(20)
        assert_legal(referral.history)


# --------------------------------------------------------------------------- prior authorisation


class TestPriorAuthorization:
    """A prior-authorisation Claim (and its ClaimResponse) is the referral's prior auth."""

    def test_pending_standard_request(self) -> None:
        """A Claim for the referral: required, standard, submitted at created, undecided."""
        result = read_bundle(request(), claim())
        auth = result.records[0].referrals[0].prior_authorization

        assert auth is not None
        assert auth.required
        assert not auth.expedited
        assert auth.submitted_at == days_before(6)
        assert auth.pending

    def test_claim_is_counted_mapped(self) -> None:
        """The Claim counts as mapped and raises no issue."""
        result = read_bundle(request(), claim())

        assert result.counts["Claim"].mapped == 1
        assert issues(result) == {}

    def test_submission_updates_last_modified(self) -> None:
        """The submission is the referral's last change when it is the latest one."""
        [referral] = only_record(request(), claim()).referrals

        assert referral.last_modified == days_before(6)

    @pytest.mark.parametrize("code", ["stat", "urgent"])
    def test_expedited_priority(self, code: str) -> None:
        """A stat (or urgent) priority makes the request expedited."""
        [referral] = only_record(request(), claim(priority=coded(PROCESS_PRIORITY, code))).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.expedited

    def test_expedited_level_of_service(self) -> None:
        """A PAS level of service U (urgent) makes the request expedited."""
        flag = {
            "url": PAS_LEVEL_OF_SERVICE,
            "valueCodeableConcept": coded("https://codesystem.x12.org/005010/1338", "U"),
        }
        [referral] = only_record(request(), claim(extension=[flag])).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.expedited

    @pytest.mark.parametrize(
        ("outcome", "expected"),
        [
            ("complete", AuthorizationOutcome.APPROVED),
            ("error", AuthorizationOutcome.DENIED),
            ("partial", AuthorizationOutcome.PARTIAL),
        ],
    )
    def test_response_outcome(self, outcome: str, expected: AuthorizationOutcome) -> None:
        """The ClaimResponse outcome is the decision, at the response's created time."""
        [referral] = only_record(request(), claim(), claim_response(outcome)).referrals
        auth = referral.prior_authorization

        assert auth is not None
        assert auth.outcome is expected
        assert auth.decided_at == days_before(4)

    def test_queued_response_is_no_decision(self) -> None:
        """A queued response leaves the request pending (and is counted mapped)."""
        result = read_bundle(request(), claim(), claim_response("queued"))
        auth = result.records[0].referrals[0].prior_authorization

        assert auth is not None
        assert auth.pending
        assert result.counts["ClaimResponse"].mapped == 1

    def test_r5_decision_wins(self) -> None:
        """An R5 decision code wins over a complete outcome."""
        denied = claim_response(decision=coded("http://hl7.org/fhir/claim-decision", "denied"))
        [referral] = only_record(request(), claim(), denied).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.outcome is AuthorizationOutcome.DENIED

    def test_denial_in_disposition(self) -> None:
        """A complete outcome whose disposition says denied is a denial."""
        response = claim_response(disposition="Request denied: not medically necessary")
        [referral] = only_record(request(), claim(), response).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.outcome is AuthorizationOutcome.DENIED

    def test_pre_auth_ref_alone_approves(self) -> None:
        """A response with only an authorisation number approves the request."""
        response = claim_response(None, preAuthRef="AUTH-0001")
        [referral] = only_record(request(), claim(), response).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.outcome is AuthorizationOutcome.APPROVED

    def test_decision_before_submission_is_dropped(self) -> None:
        """A response dated before the Claim was submitted gives no decision (a warning)."""
        result = read_bundle(request(), claim(), claim_response(created=when(8)))
        auth = result.records[0].referrals[0].prior_authorization

        assert auth is not None
        assert auth.pending
        assert issues(result) == {"invalid-value": 1}

    @pytest.mark.parametrize(
        "link",
        [
            {"item": [{"sequence": 1, "request": [ref("ServiceRequest", "sr1")]}]},
            {"supportingInfo": [{"sequence": 1, "valueReference": ref("ServiceRequest", "sr1")}]},
        ],
    )
    def test_other_links_to_the_referral(self, link: dict[str, object]) -> None:
        """Without Claim.referral, an item request or supportingInfo names the referral."""
        linked = claim()
        del linked["referral"]
        linked.update(link)
        [referral] = only_record(request(), linked).referrals

        assert referral.prior_authorization is not None

    def test_draft_claim_is_not_submitted(self) -> None:
        """A draft Claim: authorisation required, not yet submitted."""
        [referral] = only_record(request(), claim(status="draft")).referrals
        auth = referral.prior_authorization

        assert auth is not None
        assert auth.required
        assert auth.submitted_at is None

    def test_cancelled_claim_is_skipped(self) -> None:
        """A cancelled Claim gives no prior authorisation and is counted skipped."""
        result = read_bundle(request(), claim(status="cancelled"))

        assert result.records[0].referrals[0].prior_authorization is None
        assert result.counts["Claim"].skipped == 1
        assert issues(result) == {"not-mapped": 1}

    def test_latest_claim_wins(self) -> None:
        """Of two Claims for one referral, the later submission is kept."""
        [referral] = only_record(request(), claim(), claim("pa-2", created=when(2))).referrals

        assert referral.prior_authorization is not None
        assert referral.prior_authorization.submitted_at == days_before(2)

    def test_claim_without_referral_is_skipped(self) -> None:
        """A prior-authorisation Claim for no referral is skipped with a not-mapped warning."""
        result = read_bundle(request(category="108252007"), claim())

        assert result.counts["Claim"].skipped == 1
        assert issues(result) == {"not-mapped": 1}

    def test_billing_claims_stay_unsupported(self) -> None:
        """A Claim whose use is claim stays skipped as an unsupported resource."""
        result = read_bundle(request(), claim(use="claim"), claim_response())

        assert result.records[0].referrals[0].prior_authorization is None
        assert result.counts["Claim"].skipped == 1
        assert result.counts["ClaimResponse"].skipped == 1
        assert issues(result) == {"unsupported-resource": 2}


# --------------------------------------------------------------------------- activities


class TestActivities:
    """Completed activity Tasks are coordination activities."""

    def test_activity_fields(self) -> None:
        """Kind, performer, time (execution end), minutes and recorded time are read."""
        record = only_record(activity())
        [item] = record.activities

        assert item.kind is ActivityKind.CHART_REVIEW
        assert item.performer == COORDINATOR
        assert item.at == days_before(3)
        assert item.minutes == 25
        assert item.recorded_at == days_before(3)
        assert record.tasks == ()

    def test_about(self) -> None:
        """Focus, reasonReference and inputs typed about are what the activity was about."""
        about = activity(
            focus=ref("Condition", "c1"),
            reasonReference=ref("ServiceRequest", "sr1"),
            input=[{"type": {"text": "about"}, "valueReference": ref("Goal", "g1")}],
        )
        [item] = only_record(request(), about).activities

        assert item.about == (
            Ref("Condition", "c1"),
            Ref("Referral", "sr1"),
            Ref("Goal", "g1"),
        )

    def test_minutes_round_to_nearest(self) -> None:
        """Minutes are the execution period's length rounded to the nearest minute."""
        end = days_before(3)
        period = {"start": iso(end - dt.timedelta(minutes=5, seconds=40)), "end": iso(end)}
        [item] = only_record(activity(executionPeriod=period)).activities

        assert item.minutes == 6

    def test_without_execution_period(self) -> None:
        """Without executionPeriod the time is lastModified and the minutes 0."""
        [item] = only_record(activity(executionPeriod=None)).activities

        assert item.at == days_before(3)
        assert item.minutes == 0

    def test_open_activity_task_is_a_task(self) -> None:
        """An activity-coded Task that is not completed is planned work: a Task."""
        record = only_record(activity(status="in-progress"))

        assert record.activities == ()
        assert [t.id for t in record.tasks] == ["act-1"]

    def test_unknown_kind_is_other(self) -> None:
        """An unknown activity code reads as other, with an unknown-code warning."""
        result = read_bundle(activity("juggling"))

        assert result.records[0].activities[0].kind is ActivityKind.OTHER
        assert issues(result) == {"unknown-code": 1}

    def test_owner_required(self) -> None:
        """An activity without an owner is skipped (missing-element)."""
        result = read_bundle(activity(owner=None))

        assert result.records[0].activities == ()
        assert issues(result) == {"missing-element": 1}

    @pytest.mark.parametrize("kind", ["Observation", "DiagnosticReport"])
    def test_result_review_acknowledges(self, kind: str) -> None:
        """A result review focused on a result acknowledges it, by the owner, at the end."""
        reviewed = {**observation(), "resourceType": kind}
        record = only_record(reviewed, activity("result-review", focus=ref(kind, "o1")))
        [result] = record.results

        assert [(a.by, a.at) for a in result.acknowledgements] == [(COORDINATOR, days_before(3))]
        assert record.activities[0].about == (Ref("Result", "o1"),)

    def test_other_kinds_do_not_acknowledge(self) -> None:
        """A chart review focused on a result does not acknowledge it."""
        record = only_record(observation(), activity(focus=ref("Observation", "o1")))

        assert record.results[0].acknowledgements == ()

    def test_review_before_issue_is_dropped(self) -> None:
        """A review that ended before the result was issued acknowledges nothing (warning)."""
        result = read_bundle(
            observation(issued=when(1)), activity("result-review", focus=ref("Observation", "o1"))
        )

        assert result.records[0].results[0].acknowledgements == ()
        assert issues(result) == {"invalid-value": 1}

    def test_review_of_an_unread_result(self) -> None:
        """A review of a result that is not in the input warns (not-mapped)."""
        result = read_bundle(activity("result-review", focus=ref("Observation", "o9")))

        assert result.records[0].activities
        assert result.issue_codes()["not-mapped"] == 1


# --------------------------------------------------------------------------- care teams, programmes


def participant(who: str, *roles: dict[str, object]) -> dict[str, object]:
    """A care-team participant with ``roles``."""
    return {"member": ref("Practitioner", who), "role": list(roles)}


def care_team(*participants: dict[str, object]) -> dict[str, object]:
    """An active care team."""
    return {
        "resourceType": "CareTeam",
        "id": "team-1",
        "status": "active",
        "subject": SUBJECT,
        "participant": list(participants),
    }


class TestCareTeamRoles:
    """carecoord's care-team-role codes mark the lead."""

    @pytest.mark.parametrize("code", ["lead", "coordinator", "case-manager"])
    def test_carecoord_role_marks_lead(self, code: str) -> None:
        """A second role coding from carecoord's care-team-role system marks the lead."""
        nurse = participant(
            "nurse-1", coded(NUCC, "163W00000X"), coded(CARE_TEAM_ROLE_SYSTEM, code)
        )
        record = only_record(care_team(participant("pcp-1", coded(NUCC, "207Q00000X")), nurse))

        assert [m.lead for m in record.care_teams[0].members] == [False, True]

    def test_marked_lead_beats_worded_role(self) -> None:
        """An explicit carecoord lead wins over an earlier role worded coordinator."""
        worded = participant("coordinator-1", {"text": "Care coordinator"})
        marked = participant("pcp-1", coded(CARE_TEAM_ROLE_SYSTEM, "lead"))
        record = only_record(care_team(worded, marked))

        assert [m.lead for m in record.care_teams[0].members] == [False, True]

    def test_other_codes_of_the_system(self) -> None:
        """Another code of the care-team-role system does not mark a lead."""
        member = participant("nurse-1", coded(CARE_TEAM_ROLE_SYSTEM, "member"))

        assert not only_record(care_team(member)).care_teams[0].members[0].lead


class TestPrograms:
    """carecoord's program codes name the enrolment's programme."""

    def episode(self, *codings: dict[str, str]) -> dict[str, object]:
        """An active episode of care typed with ``codings``."""
        return {
            "resourceType": "EpisodeOfCare",
            "id": "ep-1",
            "status": "active",
            "patient": SUBJECT,
            "type": [{"coding": list(codings)}],
            "period": {"start": when(200)},
        }

    def test_program_code_is_exact(self) -> None:
        """A program code is the programme name, as written."""
        typed = self.episode({"system": PROGRAM_SYSTEM, "code": "ccm-complex"})

        assert [e.program for e in only_record(typed).enrollments] == ["ccm-complex"]

    def test_program_code_wins(self) -> None:
        """The program coding wins over an earlier known code of another system."""
        typed = self.episode(
            {"system": "urn:example:programs", "code": "tcm"},
            {"system": PROGRAM_SYSTEM, "code": "pcm"},
        )

        assert [e.program for e in only_record(typed).enrollments] == ["pcm"]

    def test_local_programme(self) -> None:
        """A programme carecoord does not list is read when coded in the program system."""
        typed = self.episode({"system": PROGRAM_SYSTEM, "code": "heart-failure-clinic"})

        assert [e.program for e in only_record(typed).enrollments] == ["heart-failure-clinic"]


# --------------------------------------------------------------------------- the demo data

ROW = re.compile(
    r"^\| P\d \| (?P<rule>(?:referral|transition)\.[a-z-]+) \| "
    r"(?P<file>[a-z_]+):[A-Za-z]+/(?P<id>[\w.-]+)(?P<part>#[\w-]+)? \| "
    r"(?P<status>[a-z-]+) \| (?P<due>[0-9T:+-]+) \|"
)


@functools.cache
def demo() -> ImportResult:
    """The four demo bundles, read once."""
    return read(Path(str(demo_files()[0])).parent)


def demo_record(patient: str) -> PatientRecord:
    """The clinic's record of a demo patient."""
    found = demo().record(patient, "https://clinic.example/fhir")
    assert found is not None
    return found


def expected_gaps() -> set[tuple[str, str, str, str]]:
    """``(rule, focus, status, due)`` of the README's referral and transition gaps."""
    root = Path(str(demo_files()[0])).parent
    sources = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))["meta"]["source"]
        for path in root.glob("*.json")
    }
    found = set()
    for line in (root / "README.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            focus = f"{sources[match['file']]}/{match['id']}{match['part'] or ''}"
            found.add((match["rule"], focus, match["status"], match["due"]))
    return found


class TestDemoData:
    """The demo bundles read as their README says."""

    def test_acceptance_from_execution_start(self) -> None:
        """The cardiology referral was accepted on 6 May (its Task's execution start)."""
        [referral] = [r for r in demo_record("pat-1001").referrals if r.id == "ref-cardiology"]
        accepted = referral.first_reached(ReferralStatus.ACCEPTED)

        assert accepted is not None
        assert accepted.isoformat() == "2026-05-06T09:00:00-04:00"

    def test_referral_histories_are_legal(self) -> None:
        """Every demo referral history is a legal, time-ordered walk."""
        for record in demo().records:
            for referral in record.referrals:
                assert_legal(referral.history)

    def test_cardiac_rehab_prior_authorization(self) -> None:
        """The rehab referral has a standard authorisation pending since 6 July, 15:00."""
        [referral] = [r for r in demo_record("pat-1001").referrals if r.id == "ref-cardiac-rehab"]
        auth = referral.prior_authorization

        assert auth is not None
        assert auth.pending
        assert not auth.expedited
        assert auth.submitted_at is not None
        assert auth.submitted_at.isoformat() == "2026-07-06T15:00:00-04:00"

    def test_activity_log(self) -> None:
        """P1's four activity Tasks are activities with their minutes."""
        record = demo_record("pat-1001")

        assert {a.id: a.minutes for a in record.activities} == {
            "act-a1c-review": 5,
            "act-chart-review": 25,
            "act-outreach": 6,
            "act-prior-auth": 6,
        }
        assert [t.id for t in record.tasks] == ["task-scale"]

    def test_a1c_acknowledged(self) -> None:
        """The HbA1c result is acknowledged by the PCP on 2 December 2025."""
        [result] = [r for r in demo_record("pat-1001").results if r.id == "res-a1c"]

        assert [(a.by.id, a.at.date()) for a in result.acknowledgements] == [
            ("pr-pcp", dt.date(2025, 12, 2))
        ]

    def test_leads(self) -> None:
        """The coordinator leads every team but P2's, which has no lead."""
        leads = {
            team.id: [m.party.id for m in team.members if m.lead]
            for record in demo().records
            for team in record.care_teams
        }

        assert leads == {
            "team-1001": ["pr-coord"],
            "team-1002": [],
            "team-1003": ["pr-coord"],
            "team-1004": ["pr-coord"],
        }

    def test_every_claim_is_read(self) -> None:
        """The prior-authorisation Claim is mapped; only Coverage is skipped.

        The psychotherapy note (a DocumentReference) was skipped too until documents became
        a fact kind: it is now read as a document (its sensitivity test is below).
        """
        counts = demo().counts

        assert counts["Claim"].mapped == 1
        assert {k for k, c in counts.items() if c.skipped} == {"Coverage"}
        assert counts["DocumentReference"].mapped == 1

    def test_the_psychotherapy_note_is_a_sensitive_document(self) -> None:
        """The therapy note is a progress-note document labelled PSYTHPN, PSY and R.

        Its ``meta.security`` also carries the v3 Confidentiality code R (restricted), which
        the reader now keeps as :attr:`Sensitivity.RESTRICTED` (it was ignored before).
        """
        [note] = [d for r in demo().records for d in r.documents]

        assert note.id == "session-note-6"
        assert [c.code for c in note.types] == ["11506-3"]
        assert note.sensitivity == {
            Sensitivity.PSYCHOTHERAPY_NOTE,
            Sensitivity.MENTAL_HEALTH,
            Sensitivity.RESTRICTED,
        }
        assert note.author == Ref("Practitioner", "pr-counselor")
        assert "Synthetic" not in repr(note)  # no content is kept, and the title is masked

    def test_referral_and_transition_gaps(self) -> None:
        """The referral and transition gaps at DEMO_AS_OF are those the README lists."""
        calendar = BusinessCalendar(us_federal_holidays(2026))
        found = set()
        for profile in build_profiles(demo().records).profiles:
            report = detect_gaps(profile, as_of=DEMO_AS_OF, calendar=calendar, include_closed=True)
            found |= {
                (g.rule, g.focus, g.status.value, g.due.isoformat())
                for g in report.gaps
                if g.rule.startswith(("referral.", "transition."))
            }

        assert found == expected_gaps()
