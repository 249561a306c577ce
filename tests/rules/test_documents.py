"""Documents as closing evidence: consult notes close the referral loop, summaries the TRC gap.

Both sides of every boundary: a document of the right type, about the right referral or
stay, in time, usable, closes the gap; one of another type, about another referral or
stay, from before the visit or the discharge day, entered in error, preliminary, undated,
or recorded after ``as_of``, does not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import (
    AppointmentId,
    CareSetting,
    CareTransition,
    Code,
    CompositionStatus,
    Document,
    DocumentStatus,
    Ref,
    Referral,
    StatusChange,
    System,
)
from carecoord.rules import referral_loop_open, referral_report_missing
from carecoord.terminology import DEFAULT_VALUE_SETS, ValueSet, ValueSetName
from carecoord.testing import (
    CARDIOLOGIST,
    HOSPITAL,
    PCP,
    make_communication,
    make_document,
    make_organization,
    make_practitioner,
    make_record,
    make_referral,
    make_transition,
)
from carecoord.testing._timetravel import Scenario

NY = ZoneInfo("America/New_York")
CONSULT_NOTE = Code(System.LOINC, "11488-4", "Consult note")
CARDIOLOGY_NOTE = Code(System.LOINC, "34099-2", "Cardiology consult note")
DISCHARGE_SUMMARY = Code(System.LOINC, "18842-5", "Discharge summary")
TRANSFER_SUMMARY = Code(System.LOINC, "18761-7", "Transfer summary")
REFERRAL_NOTE = Code(System.LOINC, "57133-1", "Referral note")
PROGRESS_NOTE = Code(System.LOINC, "11506-3", "Progress note")
HEART_CLINIC = Ref("Organization", "heart-clinic")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


# --------------------------------------------------------------------------- referrals

REPORT = "referral.report-missing"
LOOP = "referral.loop-open"
SENT_DAY = dt.date(2026, 2, 4)
SEEN_DAY = dt.date(2026, 2, 20)
LATER = at(dt.date(2026, 3, 5))
THE_REFERRAL = Ref("Referral", "referral-1")


def seen_referral(**changes: Any) -> Referral:
    """A cardiology referral to ``cardio-1`` sent 4 February, the patient seen 20 February."""
    sent = at(SENT_DAY)
    fields: dict[str, Any] = {
        "authored_on": sent,
        "sent_at": sent,
        "history": (StatusChange("draft", "sent", sent, PCP),),
        "last_modified": sent,
    }
    fields.update(changes)
    return (
        make_referral(**fields)
        .accept(at=at(dt.date(2026, 2, 5)))
        .schedule(AppointmentId("appointment-1"), at=at(dt.date(2026, 2, 6)))
        .record_seen(at=at(SEEN_DAY))
    )


def note(**changes: Any) -> Document:
    """A consult note about ``referral-1`` by the cardiologist, made on 2 March."""
    fields: dict[str, Any] = {
        "types": (CONSULT_NOTE,),
        "date": at(dt.date(2026, 3, 2)),
        "author": CARDIOLOGIST,
        "custodian": None,
        "context": (THE_REFERRAL,),
    }
    fields.update(changes)
    return make_document(**fields)


def referral_scenario(*documents: Document, now: dt.datetime = LATER, **kwargs: Any) -> Scenario:
    """The seen referral and ``documents``, evaluated at ``now``."""
    s = Scenario(start=now, **kwargs)
    s.add("referrals", seen_referral())
    if documents:
        s.add("documents", *documents)
    return s


class TestConsultNoteClosesTheLoop:
    """A consult note about the referral, or from its recipient after the visit, closes it."""

    def test_consult_note_about_the_referral(self) -> None:
        """The generic consult note naming the referral closes the report gap, when made."""
        gap = referral_scenario(note()).assert_closed(REPORT)
        assert gap.closed_at == at(dt.date(2026, 3, 2))
        assert gap.closed_by[0].ref.type == "Document"

    def test_specialty_consult_note(self) -> None:
        """A cardiology consult note (in the consult-note value set) closes it too."""
        referral_scenario(note(types=(CARDIOLOGY_NOTE,))).assert_closed(REPORT)

    def test_any_coding_of_the_type_counts(self) -> None:
        """A document typed by a local code and a LOINC consult note closes it."""
        local = Code("urn:example:doc-types", "CONS")
        referral_scenario(note(types=(local, CONSULT_NOTE))).assert_closed(REPORT)

    def test_unlinked_note_from_the_recipient_after_the_visit(self) -> None:
        """A consult note naming no referral, by the recipient after the visit, closes it."""
        referral_scenario(note(context=())).assert_closed(REPORT)

    def test_unlinked_note_on_the_visit_day(self) -> None:
        """The visit day itself counts (the report is often written that afternoon)."""
        referral_scenario(note(context=(), date=at(SEEN_DAY, 16))).assert_closed(REPORT)

    def test_unlinked_note_kept_by_the_recipient_organisation(self) -> None:
        """An unlinked note whose custodian is the recipient organisation closes it."""
        s = Scenario(start=LATER)
        s.add("referrals", seen_referral(recipient=HEART_CLINIC))
        s.add("documents", note(context=(), author=None, custodian=HEART_CLINIC))
        s.assert_closed(REPORT)

    def test_unlinked_note_by_someone_working_for_the_recipient(self) -> None:
        """An unlinked note by a practitioner of the recipient organisation closes it."""
        record = make_record(
            practitioners=(
                make_practitioner(),
                make_practitioner(id=CARDIOLOGIST.id, organization=HEART_CLINIC.id),
            ),
            organizations=(make_organization(),),
        )
        s = Scenario(record, start=LATER)
        s.add("referrals", seen_referral(recipient=HEART_CLINIC))
        s.add("documents", note(context=()))
        s.assert_closed(REPORT)

    def test_loop_open_is_closed_by_a_consult_note(self) -> None:
        """CMS50: the year's first referral is closed by the consultant's note."""
        s = referral_scenario(note(), rules=[referral_loop_open()])
        s.assert_closed(LOOP)


class TestWhatDoesNotCloseTheLoop:
    """The other side of every boundary: these documents leave the gap open."""

    def open_after(self, document: Document) -> None:
        """Evaluated after the due date (23 March), the report gap is open."""
        referral_scenario(document, now=at(dt.date(2026, 3, 25))).assert_open(REPORT)

    def test_a_document_of_another_type(self) -> None:
        """A referral note, a discharge summary or a progress note is not a report."""
        for kind in (REFERRAL_NOTE, DISCHARGE_SUMMARY, PROGRESS_NOTE):
            self.open_after(note(types=(kind,)))

    def test_a_document_without_a_type(self) -> None:
        """A document of unknown type is not a report."""
        self.open_after(note(types=()))

    def test_a_note_about_another_referral(self) -> None:
        """A consult note naming another referral answers that one."""
        self.open_after(note(context=(Ref("Referral", "referral-2"),)))

    def test_a_note_about_another_referral_from_the_same_recipient(self) -> None:
        """Even from the recipient: it names another referral, so it is not this one's."""
        self.open_after(note(context=(Ref("Referral", "referral-2"),), author=CARDIOLOGIST))

    def test_a_note_before_the_visit(self) -> None:
        """A consult note made the day before the visit is not the report of it."""
        self.open_after(note(date=at(dt.date(2026, 2, 19))))
        self.open_after(note(context=(), date=at(dt.date(2026, 2, 19))))

    def test_an_unlinked_note_from_someone_else(self) -> None:
        """An unlinked consult note by another practitioner is not the recipient's report."""
        self.open_after(note(context=(), author=Ref("Practitioner", "other-1")))

    def test_entered_in_error(self) -> None:
        """A note entered in error (as a reference, or its content) says nothing."""
        self.open_after(note(status=DocumentStatus.ENTERED_IN_ERROR))
        self.open_after(note(doc_status=CompositionStatus.ENTERED_IN_ERROR))

    def test_preliminary(self) -> None:
        """A preliminary note is not yet the report."""
        self.open_after(note(doc_status=CompositionStatus.PRELIMINARY))

    def test_a_superseded_note_still_counts(self) -> None:
        """A superseded note was still sent: it closes the gap (the boundary's other side)."""
        referral_scenario(note(status=DocumentStatus.SUPERSEDED)).assert_closed(REPORT)

    def test_undated(self) -> None:
        """A note with no date, period or recorded time cannot be placed after the visit."""
        self.open_after(note(date=None))

    def test_recorded_after_as_of(self) -> None:
        """A note recorded after ``as_of`` is not known yet."""
        late = note(recorded_at=at(dt.date(2026, 3, 26)))
        referral_scenario(late, now=at(dt.date(2026, 3, 25))).assert_open(REPORT)
        referral_scenario(late, now=at(dt.date(2026, 3, 27))).assert_closed(REPORT)

    def test_unlinked_without_a_visit(self) -> None:
        """CMS50 without a recorded visit: an unlinked note from the recipient does not count."""
        s = Scenario(start=at(dt.date(2026, 6, 1)), rules=[referral_loop_open()])
        s.add("referrals", make_referral(authored_on=at(SENT_DAY), sent_at=at(SENT_DAY)))
        s.add("documents", note(context=()))
        s.assert_prospective(LOOP)


class TestConfiguredReportTypes:
    """The report types are a value set: the library or the rule's parameter changes them."""

    def test_the_library_decides(self) -> None:
        """With an empty consult-note set in the library, nothing is a report."""
        empty = DEFAULT_VALUE_SETS.replace(ValueSetName.CONSULT_NOTE, ValueSet("empty"))
        s = referral_scenario(note(), now=at(dt.date(2026, 3, 25)), value_sets=empty)
        s.assert_open(REPORT)

    def test_the_parameter_points_at_another_set(self) -> None:
        """``reports=`` names the set the rule reads (here: progress notes count)."""
        progress = ValueSet("progress-note", codes=(PROGRESS_NOTE,))
        library = DEFAULT_VALUE_SETS.with_(progress)
        rule = referral_report_missing(reports="progress-note")
        s = referral_scenario(note(types=(PROGRESS_NOTE,)), rules=[rule], value_sets=library)
        s.assert_closed(REPORT)


# --------------------------------------------------------------------------- discharges

DISCHARGE_INFO = "transition.discharge-info-missing"
DISCHARGE_DAY = dt.date(2026, 2, 5)
THE_STAY = Ref("CareTransition", "stay-1")


def stay(**changes: Any) -> CareTransition:
    """A stay admitted 2 February, discharged home on 5 February at 11:00."""
    fields: dict[str, Any] = {
        "admitted_at": at(dt.date(2026, 2, 2), 22),
        "discharged_at": at(DISCHARGE_DAY, 11),
        "to_setting": CareSetting.HOME,
    }
    fields.update(changes)
    return make_transition(**fields)


def summary(**changes: Any) -> Document:
    """The hospital's discharge summary of ``stay-1``, made on the discharge day at 15:00."""
    fields: dict[str, Any] = {
        "types": (DISCHARGE_SUMMARY,),
        "date": at(DISCHARGE_DAY, 15),
        "author": HOSPITAL,
        "context": (THE_STAY,),
    }
    fields.update(changes)
    return make_document(**fields)


def discharge_scenario(*documents: Document, now: dt.datetime | None = None) -> Scenario:
    """The stay and ``documents``, evaluated on 10 February (after the due day, 7 February)."""
    s = Scenario(start=now or at(dt.date(2026, 2, 10)))
    s.add("transitions", stay())
    if documents:
        s.add("documents", *documents)
    return s


class TestSummaryClosesTheDischargeGap:
    """A discharge or transfer summary document is the discharge information."""

    def test_discharge_summary_about_the_stay(self) -> None:
        """The summary about the stay closes the gap when it was made."""
        gap = discharge_scenario(summary()).assert_closed(DISCHARGE_INFO)
        assert gap.closed_at == at(DISCHARGE_DAY, 15)
        assert gap.closed_by[0].ref.type == "Document"

    def test_transfer_summary(self) -> None:
        """A transfer summary carries the discharge information too."""
        discharge_scenario(summary(types=(TRANSFER_SUMMARY,))).assert_closed(DISCHARGE_INFO)

    def test_about_the_stay_encounter(self) -> None:
        """A summary naming the stay's Encounter closes it (the stay is its Encounter)."""
        s = Scenario(start=at(dt.date(2026, 2, 10)))
        s.add("transitions", stay(encounter=Ref("Encounter", "enc-9")))
        s.add("documents", summary(context=(Ref("Encounter", "enc-9"),)))
        s.assert_closed(DISCHARGE_INFO)

    def test_unlinked_summary_on_the_discharge_day(self) -> None:
        """A summary naming no stay, made on the discharge day, counts (as a message does)."""
        discharge_scenario(summary(context=())).assert_closed(DISCHARGE_INFO)

    def test_late_summary_closes_late(self) -> None:
        """A summary made after the due day closes the gap, late."""
        gap = discharge_scenario(summary(date=at(dt.date(2026, 2, 9)))).assert_closed(
            DISCHARGE_INFO
        )
        assert gap.late

    def test_the_earliest_of_a_message_and_a_document(self) -> None:
        """With a summary message and a summary document, the first to arrive closes it."""
        s = discharge_scenario(summary(date=at(dt.date(2026, 2, 6))))
        s.add("communications", make_communication(sent=at(DISCHARGE_DAY, 16)))
        assert s.assert_closed(DISCHARGE_INFO).closed_by[0].ref.type == "Communication"
        s2 = discharge_scenario(summary())
        s2.add("communications", make_communication(sent=at(DISCHARGE_DAY, 16)))
        assert s2.assert_closed(DISCHARGE_INFO).closed_by[0].ref.type == "Document"


class TestWhatDoesNotCloseTheDischargeGap:
    """The other side: these documents leave the discharge information missing."""

    def open_with(self, document: Document) -> None:
        """On 10 February (due 7 February) the gap is open."""
        discharge_scenario(document).assert_open(DISCHARGE_INFO)

    def test_a_document_of_another_type(self) -> None:
        """A consult note or a progress note is not a discharge summary."""
        self.open_with(summary(types=(CONSULT_NOTE,)))
        self.open_with(summary(types=(PROGRESS_NOTE,)))

    def test_about_another_stay(self) -> None:
        """A summary of another stay is about that one."""
        self.open_with(summary(context=(Ref("CareTransition", "stay-2"),)))

    def test_before_the_discharge_day(self) -> None:
        """A summary made before the discharge day (an earlier stay's) does not count."""
        self.open_with(summary(date=at(dt.date(2026, 2, 4))))
        self.open_with(summary(context=(), date=at(dt.date(2026, 2, 4))))

    def test_entered_in_error_or_preliminary(self) -> None:
        """A summary entered in error, or only preliminary, is not the information."""
        self.open_with(summary(status=DocumentStatus.ENTERED_IN_ERROR))
        self.open_with(summary(doc_status=CompositionStatus.PRELIMINARY))

    def test_recorded_after_as_of(self) -> None:
        """A summary recorded after ``as_of`` is not known then."""
        late = summary(recorded_at=at(dt.date(2026, 2, 11)))
        discharge_scenario(late).assert_open(DISCHARGE_INFO)
        discharge_scenario(late, now=at(dt.date(2026, 2, 12))).assert_closed(DISCHARGE_INFO)
