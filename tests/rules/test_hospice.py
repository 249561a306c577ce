"""Tests for hospice as periods of care that a rule's measurement period must overlap.

Hospice used to begin at the first discharge to hospice (or hospice procedure or visit)
and never end, so one past discharge suppressed the FUM, FMC, CMS50 and monitoring gaps
for life, even for a patient who left hospice alive. Now each piece of hospice care on
record covers its own days, and ``RuleContext.hospice_during(first, last)`` asks whether
any falls in a period (the measures: HEDIS "anytime during the measurement year", CMS
"overlaps the measurement period").
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from carecoord.domain import (
    CareSetting,
    Code,
    Encounter,
    EncounterClass,
    EncounterStatus,
    PartialDate,
    Period,
    System,
)
from carecoord.profile import PatientProfile, profile_from_record
from carecoord.rules import BusinessCalendar, RuleContext, profile_as_of
from carecoord.testing import (
    make_encounter,
    make_enrollment,
    make_procedure,
    make_record,
    make_transition,
)

NY = ZoneInfo("America/New_York")
AS_OF = dt.datetime(2026, 6, 15, 12, 0, tzinfo=NY)
HOSPICE_CARE = Code(System.SNOMED, "385763009", "Hospice care")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def context(as_of: dt.datetime = AS_OF, **facts: object) -> RuleContext:
    """A rule context on the as-of view of a record holding ``facts``."""
    profile: PatientProfile = profile_from_record(make_record(**facts))
    return RuleContext(profile_as_of(profile, as_of, tz=NY), as_of, BusinessCalendar(), NY)


def days(ctx: RuleContext, first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from ``first`` to ``last`` that are in hospice."""
    span = (last - first).days + 1
    every = (first + dt.timedelta(days=n) for n in range(span))
    return [day for day in every if ctx.in_hospice(day)]


class TestSpans:
    """Each kind of hospice care covers its own days."""

    def test_a_discharge_to_hospice_covers_its_day(self) -> None:
        """Discharged to hospice on 2 March: that day only (the day hospice care began)."""
        stay = make_transition(
            admitted_at=at(dt.date(2026, 2, 27)),
            discharged_at=at(dt.date(2026, 3, 2)),
            to_setting=CareSetting.HOSPICE,
        )
        ctx = context(transitions=(stay,))
        assert days(ctx, dt.date(2026, 2, 1), dt.date(2026, 6, 15)) == [dt.date(2026, 3, 2)]

    def test_a_procedure_known_to_the_year_covers_the_year(self) -> None:
        """Hospice care dated 2025: every day of 2025, none of 2024 or 2026."""
        ctx = context(procedures=(make_procedure(code=HOSPICE_CARE, performed=PartialDate(2025)),))
        assert not ctx.hospice_during(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        assert ctx.in_hospice(dt.date(2025, 1, 1))
        assert ctx.in_hospice(dt.date(2025, 12, 31))
        assert not ctx.hospice_during(dt.date(2026, 1, 1), dt.date(2026, 6, 15))

    def test_a_procedure_not_done_is_not_hospice(self) -> None:
        """A hospice procedure marked not-done is no care."""
        procedure = make_procedure(
            code=HOSPICE_CARE, performed=PartialDate(2026), status="not-done"
        )
        assert not context(procedures=(procedure,)).in_hospice(dt.date(2026, 3, 1))

    def test_a_hospice_visit_in_progress_is_open(self) -> None:
        """A hospice visit begun in May with no end covers every day since."""
        visit: Encounter = make_encounter(
            klass=EncounterClass.HOME,
            status=EncounterStatus.IN_PROGRESS,
            types=(HOSPICE_CARE,),
            period=Period(at(dt.date(2026, 5, 1))),
        )
        ctx = context(encounters=(visit,))
        assert not ctx.in_hospice(dt.date(2026, 4, 30))
        assert ctx.in_hospice(dt.date(2026, 5, 1))
        assert ctx.in_hospice(dt.date(2026, 6, 15))
        assert ctx.hospice_during(dt.date(2026, 12, 31), dt.date(2026, 12, 31))

    def test_a_finished_hospice_visit_covers_its_period(self) -> None:
        """A hospice stay from 1 to 10 May covers those days only."""
        visit: Encounter = make_encounter(
            klass=EncounterClass.HOME,
            types=(HOSPICE_CARE,),
            period=Period(at(dt.date(2026, 5, 1)), at(dt.date(2026, 5, 10))),
        )
        ctx = context(encounters=(visit,))
        assert days(ctx, dt.date(2026, 4, 1), dt.date(2026, 6, 15)) == [
            dt.date(2026, 5, 1) + dt.timedelta(days=n) for n in range(10)
        ]

    def test_an_enrolment_without_end_is_open(self) -> None:
        """A hospice enrolment with no end covers every day from its start."""
        enrolment = make_enrollment(program="Hospice", period=Period(at(dt.date(2026, 6, 1))))
        ctx = context(enrollments=(enrolment,))
        assert not ctx.in_hospice(dt.date(2026, 5, 31))
        assert ctx.hospice_during(dt.date(2026, 6, 1), dt.date(2026, 12, 31))

    def test_hospice_recorded_after_as_of_is_not_known(self) -> None:
        """Time travel: a hospice enrolment recorded in June is unknown on 15 May."""
        enrolment = make_enrollment(
            program="hospice",
            period=Period(at(dt.date(2026, 5, 1))),
            recorded_at=at(dt.date(2026, 6, 1)),
        )
        before = context(at(dt.date(2026, 5, 15)), enrollments=(enrolment,))
        assert not before.hospice_during(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        after = context(enrollments=(enrolment,))
        assert after.in_hospice(dt.date(2026, 5, 15))

    def test_the_measurement_year_is_the_calendar_year(self) -> None:
        """measurement_year gives 1 January to 31 December of the day's year."""
        first, last = RuleContext.measurement_year(dt.date(2026, 7, 4))
        assert (first, last) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
