"""CMS50's pattern in FHIR: a completed Task coded as a consultant report closes the loop.

A completed Task coded "Consultant Report" (LOINC 11488-4 and the shipped ``consult-note``
codes) whose focus is the referral, or a completed ``fulfill`` Task whose reason is one,
moves the referral to report-received.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord import fhir
from carecoord.domain import Code, Ref, ReferralStatus, System
from carecoord.testing import make_record, make_referral, make_task

from .test_read_fixtures import only_record, ref, when
from .test_read_requests import request, task

LOINC = System.LOINC
CONSULT = {"system": LOINC, "code": "11488-4", "display": "Consult note"}


class TestConsultantReportTask:
    """CMS50's pattern: a completed Task coded "Consultant Report" focused on the referral."""

    def consult_task(self, status: str = "completed", **extra: Any) -> dict[str, Any]:
        """A Task coded LOINC 11488-4 whose focus is referral sr1."""
        resource = task(
            status,
            ident="t-report",
            code={"coding": [CONSULT]},
            executionPeriod={"start": when(12), "end": when(8)},
        )
        resource.update(extra)
        return resource

    def test_completed_consultant_report_task_closes_the_loop(self) -> None:
        """The referral reaches report-received when the Task completed; the Task stays."""
        record = only_record(request(), self.consult_task())
        [referral] = record.referrals
        assert referral.status is ReferralStatus.REPORT_RECEIVED
        assert referral.report_received_at is not None
        assert referral.report == Ref("Task", "t-report")
        assert [t.id for t in record.tasks] == ["t-report"]

    def test_fulfil_task_with_a_consultant_report_reason(self) -> None:
        """A completed ``fulfill`` Task whose reasonCode is a consultant report closes it."""
        fulfil = task("completed", reasonCode={"coding": [CONSULT]})
        [referral] = only_record(request(), fulfil).referrals
        assert referral.status is ReferralStatus.REPORT_RECEIVED

    def test_completed_fulfil_task_alone_does_not(self) -> None:
        """A completed ``fulfill`` Task with no report is only "seen"."""
        [referral] = only_record(request(), task("completed")).referrals
        assert referral.status is ReferralStatus.SEEN

    def test_not_completed_does_not(self) -> None:
        """A consultant-report Task still in progress says nothing about the report."""
        [referral] = only_record(request(), self.consult_task("in-progress")).referrals
        assert referral.status is ReferralStatus.SENT

    def test_another_code_does_not(self) -> None:
        """A completed Task coded otherwise (a referral note) does not close the loop."""
        other = self.consult_task(code={"coding": [{"system": LOINC, "code": "57133-1"}]})
        [referral] = only_record(request(), other).referrals
        assert referral.status is ReferralStatus.SENT

    def test_focus_on_an_order_does_not(self) -> None:
        """A consultant-report Task about a plain order moves no referral."""
        order = request("sr2", category="108252007")
        other = self.consult_task(focus=ref("ServiceRequest", "sr2"))
        record = only_record(request(), order, other)
        [referral] = record.referrals
        assert referral.status is ReferralStatus.SENT

    def test_written_by_carecoord_infers_nothing(self) -> None:
        """A carecoord-written Task coded as a report does not move a referral on re-read."""
        referral = make_referral()
        report_task = (
            make_task(
                code=Code(LOINC, "11488-4", "Consult note"), focus=Ref("Referral", "referral-1")
            )
            .start(at=referral.authored_on + dt.timedelta(days=2))
            .complete(at=referral.authored_on + dt.timedelta(days=3))
        )
        record = make_record(referrals=(referral,), tasks=(report_task,))
        [again] = fhir.read(fhir.write_bundle([record])).records
        assert again.referrals[0].status is ReferralStatus.SENT

    def test_report_dated_by_a_date_only_execution_end(self) -> None:
        """An ``executionPeriod.end`` written as a date dates the report on that day."""
        resource = self.consult_task(executionPeriod={"start": "2026-02-01", "end": "2026-02-09"})
        [referral] = only_record(request(authoredOn="2026-01-20T10:00:00Z"), resource).referrals
        assert referral.report_received_at == dt.datetime(
            2026, 2, 9, 23, 59, 59, 999999, tzinfo=dt.UTC
        )
