"""Tests for the profile timeline: every dated event, in a deterministic time order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from carecoord.domain import (
    Code,
    EncounterStatus,
    ListKind,
    MedicationStatus,
    PartialDate,
    PatientRecord,
    Period,
    System,
)
from carecoord.errors import ValidationError
from carecoord.profile._merge import merge_records
from carecoord.profile._model import PatientProfile
from carecoord.profile._timeline import EventKind, TimelineEvent, timeline
from carecoord.profile._views import Viewer
from carecoord.testing import (
    AS_OF,
    CARDIOLOGIST,
    PCP,
    days_before,
    make_activity,
    make_allergy,
    make_appointment,
    make_care_plan,
    make_care_team,
    make_communication,
    make_condition,
    make_consent,
    make_document,
    make_encounter,
    make_enrollment,
    make_goal,
    make_medication,
    make_order,
    make_patient,
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

NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
TOKYO = dt.timezone(dt.timedelta(hours=9))


def record(source: str, patient_id: str = "patient-1", **facts: Any) -> PatientRecord:
    """A record from ``source`` whose facts all name ``patient_id``."""
    facts = {n: tuple(attrs.evolve(f, patient=patient_id) for f in v) for n, v in facts.items()}
    return make_record(source=make_source(id=source), patient=make_patient(id=patient_id), **facts)


def profile_of(*records: PatientRecord) -> PatientProfile:
    """The merged profile of some records."""
    return merge_records(records)


def kinds(events: tuple[TimelineEvent, ...]) -> list[EventKind]:
    """The kinds of the events, in order."""
    return [e.kind for e in events]


def everything() -> PatientProfile:
    """A profile with one fact of every kind, from two sources."""
    referral = make_referral().accept(at=days_before(4), by=CARDIOLOGIST)
    task = make_task().accept(at=days_before(0.5), by=PCP)
    stopped = make_medication(
        id="m2",
        code=Code(System.RXNORM, "6809", "metformin"),
        ingredients=(),
        status=MedicationStatus.STOPPED,
        period=Period(days_before(60), days_before(20)),
    )
    clinic = record(
        "clinic",
        care_teams=(make_care_team(),),
        referrals=(referral,),
        tasks=(task,),
        encounters=(make_encounter(),),
        conditions=(make_condition(),),
        medications=(make_medication(), stopped),
        allergies=(make_allergy(onset=PartialDate(2001)),),
        orders=(make_order(),),
        results=(make_result(),),
        appointments=(make_appointment(),),
        care_plans=(make_care_plan(last_reviewed=days_before(6)),),
        goals=(make_goal(start=PartialDate(2025, 11)),),
        social_needs=(make_social_need(),),
        communications=(make_communication(),),
        documents=(make_document(),),
        consents=(make_consent(),),
        reconciliations=(make_reconciliation(),),
        procedures=(make_procedure(),),
        enrollments=(make_enrollment(),),
        activities=(make_activity(),),
    )
    hospital = record("hospital", transitions=(make_transition(),))
    return profile_of(clinic, hospital)


class TestEvents:
    """Every fact kind contributes its dated events."""

    def test_every_kind_of_event(self) -> None:
        """A full profile yields the expected event kinds."""
        found = set(kinds(timeline(everything())))
        assert found == set(EventKind) - {EventKind.CONDITION_RESOLVED}

    def test_admission_and_discharge(self) -> None:
        """A stay gives an admission and a discharge event from its source."""
        events = timeline(profile_of(record("hospital", transitions=(make_transition(),))))
        assert kinds(events) == [EventKind.ADMISSION, EventKind.DISCHARGE]
        assert events[0].when == days_before(4)
        assert events[0].sources == ("hospital",)
        assert events[0].fact == "hospital/stay-1"
        assert events[0].field == "transitions"

    def test_referral_status_changes(self) -> None:
        """Each referral history entry is an event, after the referral was written."""
        referral = make_referral().accept(at=days_before(4)).schedule("appt-1", at=days_before(3))
        events = timeline(profile_of(record("clinic", referrals=(referral,))))
        assert [e.description for e in events] == [
            "Referral (Cardiology) written",
            "Referral (Cardiology): draft -> sent",
            "Referral (Cardiology): sent -> accepted",
            "Referral (Cardiology): accepted -> scheduled",
        ]

    def test_task_status_changes(self) -> None:
        """A task's creation and status changes are events."""
        task = make_task().accept(at=days_before(0.5)).start(at=days_before(0.25))
        events = timeline(profile_of(record("clinic", tasks=(task,))))
        assert kinds(events) == [EventKind.TASK, EventKind.TASK_STATUS, EventKind.TASK_STATUS]

    def test_medication_start_and_stop(self) -> None:
        """A medication with a period gives a start and a stop event."""
        med = make_medication(period=Period(days_before(30), days_before(2)))
        events = timeline(profile_of(record("clinic", medications=(med,))))
        assert [(e.kind, e.when) for e in events] == [
            (EventKind.MEDICATION_START, days_before(30)),
            (EventKind.MEDICATION_STOP, days_before(2)),
        ]

    def test_care_plan_created_and_reviewed(self) -> None:
        """A reviewed care plan gives a created and a reviewed event."""
        plan = make_care_plan(last_reviewed=days_before(5))
        events = timeline(profile_of(record("clinic", care_plans=(plan,))))
        assert kinds(events) == [EventKind.CARE_PLAN_CREATED, EventKind.CARE_PLAN_REVIEWED]

    def test_reconciliation_event(self) -> None:
        """A reconciliation names the list reconciled."""
        rec = make_reconciliation(list=ListKind.ALLERGIES)
        (event,) = timeline(profile_of(record("clinic", reconciliations=(rec,))))
        assert event.description == "Allergies list reconciled"

    def test_folded_fact_gives_one_event_with_every_source(self) -> None:
        """A fact stated by two sources is one event listing both sources."""
        events = timeline(
            profile_of(
                record("a", results=(make_result(),)),
                record("b", results=(make_result(id="r9"),)),
            )
        )
        assert [(e.kind, e.sources) for e in events] == [(EventKind.RESULT, ("a", "b"))]

    def test_entered_in_error_is_left_out(self) -> None:
        """Facts entered in error contribute no event."""
        visit = make_encounter(status=EncounterStatus.ENTERED_IN_ERROR)
        assert timeline(profile_of(record("clinic", encounters=(visit,)))) == ()

    def test_descriptions_carry_no_free_text(self) -> None:
        """Task descriptions and notes never appear in the timeline."""
        task = make_task(description="Call Alex Testperson at home")
        note = make_communication(note="Patient said something private")
        events = timeline(profile_of(record("clinic", tasks=(task,), communications=(note,))))
        text = " ".join(e.description for e in events)
        assert "Testperson" not in text
        assert "private" not in text


class TestOrdering:
    """Events are ordered by time, with deterministic ties."""

    def test_partial_dates_sort_at_their_earliest_day(self) -> None:
        """A month-precision date sorts at the first of the month, before later instants."""
        early = make_condition(onset=PartialDate(2026, 2))
        instant = make_condition(
            id="c2",
            code=Code(System.ICD10CM, "E11.9", "Diabetes"),
            onset=dt.datetime(2026, 2, 1, 5, tzinfo=dt.UTC),
        )
        year = make_condition(
            id="c3", code=Code(System.ICD10CM, "J45", "Asthma"), onset=PartialDate(2026)
        )
        events = timeline(profile_of(record("clinic", conditions=(instant, early, year))))
        assert [e.when for e in events] == [
            PartialDate(2026),
            PartialDate(2026, 2),
            dt.datetime(2026, 2, 1, 5, tzinfo=dt.UTC),
        ]

    def test_partial_date_before_instant_at_midnight(self) -> None:
        """A day-precision date sorts before an instant at midnight UTC of that day."""
        day = make_condition(onset=PartialDate(2026, 2, 1))
        midnight = make_condition(
            id="c2",
            code=Code(System.ICD10CM, "E11.9", "Diabetes"),
            onset=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        )
        events = timeline(profile_of(record("clinic", conditions=(midnight, day))))
        assert isinstance(events[0].when, PartialDate)

    def test_time_zones_compare_as_instants(self) -> None:
        """09:00 in New York comes after 13:00 UTC the same day, and Tokyo 20:00 before."""
        ny = make_encounter(id="ny", period=Period(dt.datetime(2026, 2, 10, 9, tzinfo=NEW_YORK)))
        utc = make_encounter(id="utc", period=Period(dt.datetime(2026, 2, 10, 13, tzinfo=dt.UTC)))
        tokyo = make_encounter(
            id="tokyo", period=Period(dt.datetime(2026, 2, 10, 20, tzinfo=TOKYO))
        )
        events = timeline(profile_of(record("clinic", encounters=(ny, utc, tokyo))))
        assert [e.fact for e in events] == ["clinic/tokyo", "clinic/utc", "clinic/ny"]

    def test_ties_are_broken_by_kind_then_key(self) -> None:
        """Events at the same instant follow the kind order, then the fact key."""
        at = days_before(1)
        facts = {
            "results": (
                make_result(issued=at, id="r2"),
                make_result(id="r1", code=Code(System.LOINC, "2093-3", "Cholesterol"), issued=at),
            ),
            "orders": (make_order(authored_on=at),),
        }
        events = timeline(profile_of(record("clinic", **facts)))
        assert [e.fact for e in events] == ["clinic/order-1", "clinic/r1", "clinic/r2"]

    def test_order_does_not_depend_on_input(self) -> None:
        """The timeline is the same whatever the order of records and facts."""
        a = record("a", results=(make_result(),), encounters=(make_encounter(),))
        b = record("b", orders=(make_order(),), conditions=(make_condition(),))
        assert timeline(profile_of(a, b)) == timeline(profile_of(b, a))

    def test_timeline_is_sorted(self) -> None:
        """Every event's sort key is at most the next one's."""
        keys = [e.sort_key() for e in timeline(everything())]
        assert keys == sorted(keys)


class TestViewerTimeline:
    """A viewer's timeline shows only what they may see."""

    def test_viewer_filters_events(self) -> None:
        """A sensitive diagnosis is not in a specialist's timeline."""
        depression = make_condition(
            id="dep", code=Code(System.ICD10CM, "F32.9", "Depression"), author=None
        )
        person = profile_of(record("clinic", conditions=(make_condition(), depression)))
        seen = timeline(person, viewer=Viewer(CARDIOLOGIST), at=AS_OF)
        assert [e.fact for e in seen] == ["clinic/condition-1"]
        assert len(timeline(person)) == 2

    def test_viewer_needs_at(self) -> None:
        """A viewer without ``at`` is rejected."""
        with pytest.raises(ValidationError):
            timeline(everything(), viewer=Viewer(PCP))
