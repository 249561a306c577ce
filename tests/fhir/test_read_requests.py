"""Mapping requests: referrals and orders, tasks, appointments, the referral lifecycle."""

from __future__ import annotations

import pytest

from carecoord.domain import (
    REFERRAL_TRANSITIONS,
    AppointmentStatus,
    OrderKind,
    Priority,
    Ref,
    ReferralStatus,
    TaskStatus,
)
from carecoord.fhir._map_requests import TASK_TO_REFERRAL
from carecoord.testing import days_before

from .test_read_fixtures import (
    SUBJECT,
    only_record,
    organization,
    practitioner,
    read_bundle,
    ref,
    when,
)

SNOMED = "http://snomed.info/sct"


def request(
    ident: str = "sr1", *, category: str | None = "3457005", **extra: object
) -> dict[str, object]:
    """A ServiceRequest by pcp-1, with a SNOMED category (a referral by default)."""
    resource: dict[str, object] = {
        "resourceType": "ServiceRequest",
        "id": ident,
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": when(20),
        "requester": ref("Practitioner", "pcp-1"),
        "performer": [ref("Practitioner", "cardio-1")],
        "code": {
            "coding": [{"system": SNOMED, "code": "183519002", "display": "Cardiology consult"}]
        },
    }
    if category is not None:
        resource["category"] = [{"coding": [{"system": SNOMED, "code": category}]}]
    resource.update(extra)
    return resource


def task(status: str, ident: str = "t1", **extra: object) -> dict[str, object]:
    """A fulfilment Task of sr1, last modified 10 days before AS_OF."""
    resource: dict[str, object] = {
        "resourceType": "Task",
        "id": ident,
        "status": status,
        "intent": "order",
        "code": {"coding": [{"code": "fulfill"}]},
        "focus": ref("ServiceRequest", "sr1"),
        "for": SUBJECT,
        "authoredOn": when(19),
        "lastModified": when(10),
        "owner": ref("Practitioner", "cardio-1"),
    }
    resource.update(extra)
    return resource


def appointment(status: str, **extra: object) -> dict[str, object]:
    """An appointment for sr1, 5 days before AS_OF."""
    resource: dict[str, object] = {
        "resourceType": "Appointment",
        "id": "a1",
        "status": status,
        "start": when(5),
        "end": when(4.9),
        "created": when(12),
        "basedOn": [ref("ServiceRequest", "sr1")],
        "participant": [{"actor": SUBJECT}, {"actor": ref("Practitioner", "cardio-1")}],
    }
    resource.update(extra)
    return resource


def assert_legal(history: tuple[object, ...]) -> None:
    """Every history step is a legal referral transition, in time order."""
    previous = None
    for change in history:
        source = ReferralStatus(change.from_status)  # type: ignore[attr-defined]
        target = ReferralStatus(change.to_status)  # type: ignore[attr-defined]
        assert target in REFERRAL_TRANSITIONS[source]
        if previous is not None:
            assert change.at >= previous  # type: ignore[attr-defined]
        previous = change.at  # type: ignore[attr-defined]


class TestRecognition:
    """A ServiceRequest is a referral or an order."""

    @pytest.mark.parametrize("code", ["3457005", "306206005", "103696004"])
    def test_referral_categories(self, code: str) -> None:
        """Referral category codes make a referral."""
        record = only_record(request(category=code))

        assert [r.id for r in record.referrals] == ["sr1"]
        assert record.orders == ()

    def test_referral_wording(self) -> None:
        """A code worded as a referral makes a referral."""
        code = {"coding": [{"system": SNOMED, "code": "1", "display": "Referral to podiatry"}]}

        assert only_record(request(category=None, code=code)).referrals

    def test_performer_in_another_organisation(self) -> None:
        """A performer outside the requester's organisation makes a referral."""
        roles = [
            {
                "resourceType": "PractitionerRole",
                "id": f"r-{who}",
                "practitioner": ref("Practitioner", who),
                "organization": ref("Organization", org),
            }
            for who, org in (("pcp-1", "clinic-1"), ("cardio-1", "heart-1"))
        ]
        record = only_record(
            request(category=None), *roles, organization(), organization("heart-1")
        )

        assert record.referrals

    def test_lab_order(self) -> None:
        """A lab category makes a lab order."""
        record = only_record(request(category="108252007"))

        assert [o.kind for o in record.orders] == [OrderKind.LAB]
        assert record.referrals == ()

    def test_loinc_code_is_a_lab_order(self) -> None:
        """Without a category, a LOINC code is a lab order."""
        code = {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}

        assert only_record(request(category=None, code=code)).orders[0].kind is OrderKind.LAB

    def test_imaging_order(self) -> None:
        """The imaging category makes an imaging order."""
        assert only_record(request(category="363679005")).orders[0].kind is OrderKind.IMAGING

    def test_referral_fields(self) -> None:
        """Requester, recipient, specialty, reasons and priority are read."""
        record = only_record(
            request(
                priority="urgent",
                performerType={"coding": [{"system": SNOMED, "code": "394579002"}]},
                reasonCode=[{"coding": [{"system": SNOMED, "code": "49436004"}]}],
            ),
            practitioner(),
        )
        [referral] = record.referrals

        assert referral.requester == Ref("Practitioner", "pcp-1")
        assert referral.recipient == Ref("Practitioner", "cardio-1")
        assert referral.specialty is not None
        assert referral.specialty.code == "394579002"
        assert [c.code for c in referral.reasons] == ["49436004"]
        assert referral.priority is Priority.URGENT
        assert [p.id for p in record.practitioners] == ["pcp-1"]

    def test_referral_without_requester_is_skipped(self) -> None:
        """A referral needs a requester."""
        result = read_bundle(request(requester=None))

        assert result.records[0].referrals == ()
        assert result.issue_codes()["missing-element"] == 1


class TestLifecycle:
    """The referral lifecycle comes from the request, its Tasks, Appointments, Communications."""

    def test_active_request_is_sent(self) -> None:
        """An active request alone is sent at authoredOn."""
        [referral] = only_record(request()).referrals

        assert referral.status is ReferralStatus.SENT
        assert referral.sent_at == days_before(20)

    def test_draft_request(self) -> None:
        """A draft request is a draft referral with no history."""
        [referral] = only_record(request(status="draft")).referrals

        assert referral.status is ReferralStatus.DRAFT
        assert referral.history == ()

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("received", ReferralStatus.RECEIVED),
            ("accepted", ReferralStatus.ACCEPTED),
            ("rejected", ReferralStatus.DECLINED),
            ("in-progress", ReferralStatus.ACCEPTED),
            ("completed", ReferralStatus.SEEN),
            ("cancelled", ReferralStatus.CANCELLED),
        ],
    )
    def test_task_status(self, status: str, expected: ReferralStatus) -> None:
        """A fulfilment Task's status moves the referral along legal steps."""
        record = only_record(request(), task(status))
        [referral] = record.referrals

        assert referral.status is expected
        assert referral.history[-1].at == days_before(10)
        assert_legal(referral.history)
        assert record.tasks == ()

    def test_task_owner_becomes_recipient(self) -> None:
        """The fulfilment Task's owner is the recipient when the request names none."""
        [referral] = only_record(request(performer=None), task("accepted")).referrals

        assert referral.recipient == Ref("Practitioner", "cardio-1")

    def test_completed_task_with_report(self) -> None:
        """A completed Task with a report in output means the report was received."""
        output = [{"type": {"text": "report"}, "valueReference": ref("DiagnosticReport", "dr1")}]
        [referral] = only_record(request(), task("completed", output=output)).referrals

        assert referral.status is ReferralStatus.REPORT_RECEIVED
        assert referral.report == Ref("Result", "dr1")
        assert referral.report_received_at == days_before(10)

    def test_completed_request_closes(self) -> None:
        """A request marked completed after the report is closed."""
        output = [{"valueReference": ref("DiagnosticReport", "dr1")}]
        [referral] = only_record(
            request(status="completed"), task("completed", output=output)
        ).referrals

        assert referral.status is ReferralStatus.CLOSED
        assert_legal(referral.history)

    def test_revoked_request_is_cancelled(self) -> None:
        """A revoked request is a cancelled referral."""
        assert (
            only_record(request(status="revoked")).referrals[0].status is ReferralStatus.CANCELLED
        )

    def test_task_versions_make_history(self) -> None:
        """Several versions of the fulfilment Task give one history entry each."""
        versions = [
            task("received", lastModified=when(18), meta={"versionId": "1"}),
            task("accepted", lastModified=when(16), meta={"versionId": "2"}),
        ]
        [referral] = only_record(request(), *versions).referrals

        statuses = [(c.to_status, c.at) for c in referral.history]
        assert statuses == [
            ("sent", days_before(20)),
            ("received", days_before(18)),
            ("accepted", days_before(16)),
        ]

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("booked", ReferralStatus.SCHEDULED),
            ("fulfilled", ReferralStatus.SEEN),
            ("noshow", ReferralStatus.NO_SHOW),
            ("cancelled", ReferralStatus.APPOINTMENT_CANCELLED),
        ],
    )
    def test_appointment_moves_referral(self, status: str, expected: ReferralStatus) -> None:
        """An appointment based on the referral schedules it, then records the outcome."""
        record = only_record(request(), appointment(status))
        [referral] = record.referrals

        assert referral.status is expected
        assert referral.appointments == ("a1",)
        assert record.appointments[0].based_on == (Ref("Referral", "sr1"),)

    def test_consult_note_communication(self) -> None:
        """A completed consult-note Communication based on the referral is its report."""
        note = {
            "resourceType": "Communication",
            "id": "m1",
            "status": "completed",
            "subject": SUBJECT,
            "basedOn": [ref("ServiceRequest", "sr1")],
            "category": [{"coding": [{"system": "http://loinc.org", "code": "11488-4"}]}],
            "sent": when(3),
            "sender": ref("Practitioner", "cardio-1"),
        }
        [referral] = only_record(request(), appointment("fulfilled"), note).referrals

        assert referral.status is ReferralStatus.REPORT_RECEIVED
        assert referral.report == Ref("Communication", "m1")

    def test_every_task_status_maps_to_a_referral_status(self) -> None:
        """The Task-to-referral table only names referral statuses."""
        assert all(isinstance(v, ReferralStatus) for v in TASK_TO_REFERRAL.values())


class TestTasks:
    """Other Tasks become coordination tasks."""

    def test_generic_task(self) -> None:
        """Owner, requester, focus, due window, business status and notes are read."""
        generic = {
            "resourceType": "Task",
            "id": "call-1",
            "status": "in-progress",
            "intent": "order",
            "for": SUBJECT,
            "authoredOn": when(5),
            "lastModified": when(2),
            "owner": ref("Practitioner", "coordinator-1"),
            "requester": ref("Practitioner", "pcp-1"),
            "focus": ref("Encounter", "e1"),
            "businessStatus": {"text": "left voicemail"},
            "priority": "asap",
            "restriction": {"period": {"start": when(5), "end": when(-2)}},
            "note": [{"text": "call back after 3pm", "time": when(2)}],
        }
        [item] = only_record(generic).tasks

        assert item.status is TaskStatus.IN_PROGRESS
        assert item.owner == Ref("Practitioner", "coordinator-1")
        assert item.focus == Ref("Encounter", "e1")
        assert item.due == days_before(-2)
        assert item.business_status == "left voicemail"
        assert item.priority is Priority.ASAP
        assert item.notes[0].at == days_before(2)
        assert item.last_change() == days_before(2)

    def test_task_on_an_order(self) -> None:
        """A Task focused on an order stays a task, its focus the order."""
        lab = request(category="108252007")
        [item] = only_record(lab, task("accepted")).tasks

        assert item.focus == Ref("Order", "sr1")

    def test_unknown_status_skips(self) -> None:
        """A Task with an unknown status is skipped with an issue."""
        result = read_bundle(task("waiting", focus=None))

        assert result.records[0].tasks == ()
        assert result.issue_codes()["unknown-code"] == 1

    def test_task_without_for_uses_focus_subject(self) -> None:
        """Without for, the patient comes from the focus resource's subject."""
        lab = request(category="108252007")
        orphan = task("accepted")
        del orphan["for"]
        [item] = only_record(lab, orphan).tasks

        assert item.id == "t1"


class TestAppointments:
    """Appointments."""

    def test_appointment_fields(self) -> None:
        """Start, end, status, participants and booking time are read."""
        [item] = only_record(appointment("booked", basedOn=None)).appointments

        assert item.start == days_before(5)
        assert item.status is AppointmentStatus.BOOKED
        assert item.participants == (Ref("Practitioner", "cardio-1"),)
        assert item.booked_at == days_before(12)
