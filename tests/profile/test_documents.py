"""Documents in the profile: folded, on the timeline, in the as-of view, under consent.

The same document from two sources folds into one fact; it is one timeline event; it
exists from when it was made; a psychotherapy note is hidden like any sensitive fact.
"""

from __future__ import annotations

from typing import Any

from carecoord.domain import (
    Code,
    CompositionStatus,
    Discipline,
    DocumentStatus,
    PatientRecord,
    Sensitivity,
    System,
)
from carecoord.profile import Viewer, ViewerRole, merge_records, timeline, view_for
from carecoord.profile._timeline import EventKind
from carecoord.rules import profile_as_of
from carecoord.testing import (
    AS_OF,
    BEHAVIORAL_HEALTH,
    PCP,
    days_before,
    make_document,
    make_patient,
    make_record,
    make_source,
)

CONSULT_NOTE = Code(System.LOINC, "11488-4", "Consult note")


def record(source: str, **facts: Any) -> PatientRecord:
    """A record of ``patient-1`` from ``source``."""
    return make_record(source=make_source(id=source), patient=make_patient(), **facts)


class TestMerge:
    """The same document from two sources is one fact with two provenances."""

    def test_same_type_and_instant_fold(self) -> None:
        """A hospital's summary and the HIE's copy of it fold into one document."""
        hospital = record("hospital", documents=(make_document(),))
        hie = record("hie", documents=(make_document(id="hie-copy"),))
        [document] = merge_records([hospital, hie]).documents
        assert len(document.provenance) == 2

    def test_other_instant_or_type_do_not(self) -> None:
        """A summary made at another time, or a document of another type, stays apart."""
        hospital = record("hospital", documents=(make_document(),))
        later = record("hie", documents=(make_document(date=days_before(0.5)),))
        consult = record("clinic", documents=(make_document(types=(CONSULT_NOTE,)),))
        assert len(merge_records([hospital, later, consult]).documents) == 3

    def test_undated_documents_do_not_fold(self) -> None:
        """Without a date there is nothing to tell two documents are the same one."""
        a = record("hospital", documents=(make_document(date=None),))
        b = record("hie", documents=(make_document(date=None),))
        assert len(merge_records([a, b]).documents) == 2


class TestTimeline:
    """A document is one event, when it was made."""

    def events(self, **changes: Any) -> list[Any]:
        """The document events of a profile holding one document."""
        profile = merge_records([record("hospital", documents=(make_document(**changes),))])
        return [e for e in timeline(profile) if e.kind is EventKind.DOCUMENT]

    def test_document_event(self) -> None:
        """Its type's display and its date."""
        [event] = self.events()
        assert event.description == "Document: Discharge summary"
        assert event.when == days_before(1)

    def test_status_is_shown_unless_current(self) -> None:
        """A superseded or preliminary document says so."""
        [superseded] = self.events(status=DocumentStatus.SUPERSEDED)
        assert superseded.description == "Document: Discharge summary (superseded)"
        [preliminary] = self.events(doc_status=CompositionStatus.PRELIMINARY)
        assert preliminary.description.endswith("(preliminary)")

    def test_entered_in_error_is_left_out(self) -> None:
        """Entered in error, as a reference or as content: no event."""
        assert not self.events(status=DocumentStatus.ENTERED_IN_ERROR)
        assert not self.events(doc_status=CompositionStatus.ENTERED_IN_ERROR)

    def test_undated_falls_back_to_period_then_recorded(self) -> None:
        """No date: the end of the care documented; nothing at all: when it was recorded."""
        [event] = self.events(date=None, recorded_at=days_before(3))
        assert event.when == days_before(3)


class TestAsOf:
    """A document exists from when it was made (or recorded)."""

    def test_not_known_before_it_was_made(self) -> None:
        """Before its date the document is not in the as-of view; after, it is."""
        profile = merge_records([record("hospital", documents=(make_document(),))])
        assert not profile_as_of(profile, days_before(2)).documents
        assert profile_as_of(profile, AS_OF).documents == profile.documents


class TestConsent:
    """A psychotherapy note is hidden like any sensitive fact."""

    def test_psychotherapy_note_is_seen_by_its_author_only(self) -> None:
        """The therapist sees their note; the PCP does not."""
        note = make_document(
            types=(Code(System.LOINC, "11506-3", "Progress note"),),
            author=BEHAVIORAL_HEALTH,
            sensitivity=frozenset({Sensitivity.PSYCHOTHERAPY_NOTE, Sensitivity.MENTAL_HEALTH}),
        )
        profile = merge_records([record("clinic", documents=(note,))])
        therapist = Viewer(BEHAVIORAL_HEALTH, ViewerRole.CLINICIAN, Discipline.BEHAVIORAL_HEALTH)
        doctor = Viewer(PCP, ViewerRole.CLINICIAN, Discipline.PRIMARY_CARE)
        assert view_for(profile, therapist, at=AS_OF).documents
        assert not view_for(profile, doctor, at=AS_OF).documents
