"""Tests for monitoring.overdue and its schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecoord.domain import (
    CareSetting,
    Code,
    Interpretation,
    PartialDate,
    Period,
    Quantity,
    Result,
    Sensitivity,
    System,
)
from carecoord.errors import ValidationError
from carecoord.rules import (
    ANNUAL_WELLNESS_VISIT,
    DIABETES_HBA1C,
    Citation,
    MonitoringSchedule,
    monitoring_overdue,
)
from carecoord.testing import (
    Scenario,
    make_condition,
    make_encounter,
    make_enrollment,
    make_procedure,
    make_result,
    make_transition,
)

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NY)
RULE = "monitoring.overdue"
DIABETES = Code(System.ICD10CM, "E11.9", "Type 2 diabetes without complications")
DEPRESSION = Code(System.ICD10CM, "F33.1", "Major depressive disorder, recurrent, moderate")
HBA1C = Code(System.LOINC, "4548-4", "Hemoglobin A1c")
PHQ9 = Code(System.LOINC, "44261-6", "PHQ-9 total score")
AWV = Code(System.HCPCS, "G0439", "Annual wellness visit, subsequent")
IPPE = Code(System.HCPCS, "G0402", "Initial preventive physical examination")
HOSPICE_CARE = Code(System.SNOMED, "385763009", "Hospice care")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def end_of(day: dt.date) -> dt.datetime:
    """The last instant of local ``day`` in New York."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=NY)


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def lab(id: str, day: dt.date, code: Code = HBA1C, value: float = 7.1, **changes: Any) -> Result:
    """A result of ``code`` issued on ``day``, based on no order."""
    fields = {
        "id": id,
        "code": code,
        "issued": at(day),
        "value": Quantity(value, "%"),
        "interpretation": Interpretation.UNKNOWN,
        "based_on": (),
    }
    return make_result(**{**fields, **changes})


def scenario(*facts: tuple[str, Any], now: dt.datetime = NOW, rules: Any = None) -> Scenario:
    """A scenario with the monitoring rule only and the given (kind, fact) pairs."""
    s = Scenario(start=now, rules=rules or [monitoring_overdue()])
    for kind, fact in facts:
        s.add(kind, fact)
    return s


def diabetes(**changes: Any) -> tuple[str, Any]:
    """Type 2 diabetes since 15 January 2020."""
    return "conditions", make_condition(
        **{"id": "dm", "code": DIABETES, "onset": PartialDate(2020, 1, 15), **changes}
    )


LAST_HBA1C = dt.date(2025, 9, 1)
HBA1C_DUE = dt.date(2026, 3, 1)


class TestDiabetesHbA1c:
    """Tests for the diabetes HbA1c schedule (every 6 months)."""

    def test_due_6_months_after_the_last_hba1c(self) -> None:
        """Last HbA1c 1 September 2025: the next is due 1 March 2026."""
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C)))
        gap = s.gap(RULE, "clinic-ehr/a1c-2#diabetes-hba1c")
        assert gap.due == HBA1C_DUE

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 1 March, open from 2 March."""
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C)))
        focus = "clinic-ehr/a1c-2#diabetes-hba1c"
        s.set_now(end_of(HBA1C_DUE)).assert_prospective(RULE, focus)
        s.set_now(start_after(HBA1C_DUE)).assert_open(RULE, focus)

    def test_the_latest_test_closes_the_previous_cycle(self) -> None:
        """The cycle from the March 2025 test is closed by the September one, on time."""
        s = scenario(
            diabetes(),
            ("results", lab("a1c-1", dt.date(2025, 3, 1))),
            ("results", lab("a1c-2", LAST_HBA1C)),
        )
        gap = s.assert_closed(RULE, "clinic-ehr/a1c-1#diabetes-hba1c")
        assert gap.closed_at == at(LAST_HBA1C)
        assert not gap.late
        assert gap.closed_by[0].ref.id == "clinic-ehr/a1c-2"

    def test_a_later_test_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the September test, the March cycle is not met yet."""
        s = scenario(
            diabetes(),
            ("results", lab("a1c-1", dt.date(2025, 3, 1))),
            ("results", lab("a1c-2", LAST_HBA1C)),
            now=at(dt.date(2025, 8, 30)),
        )
        march = "clinic-ehr/a1c-1#diabetes-hba1c"
        assert s.assert_prospective(RULE, march).due == LAST_HBA1C
        s.assert_no_gap(RULE, "clinic-ehr/a1c-2#diabetes-hba1c")
        s.set_now(end_of(LAST_HBA1C)).assert_closed(RULE, march)

    def test_first_test_closes_the_cycle_from_the_diagnosis(self) -> None:
        """With one test, the cycle from the onset is closed by it (late)."""
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C)))
        gap = s.assert_closed(RULE, "clinic-ehr/dm#diabetes-hba1c")
        assert gap.due == dt.date(2020, 7, 15)
        assert gap.late

    def test_no_test_ever_is_due_6_months_after_onset(self) -> None:
        """Diabetes since January 2020 with no HbA1c: due July 2020, open."""
        gap = scenario(diabetes()).assert_open(RULE)
        assert gap.focus == "clinic-ehr/dm#diabetes-hba1c"
        assert gap.due == dt.date(2020, 7, 15)

    def test_undated_diagnosis_without_tests_is_due_from_when_it_was_recorded(self) -> None:
        """No onset and no test: due 6 months after the diagnosis was recorded, both sides.

        It used to be due at once, the day before ``as_of`` at every evaluation (always
        freshly open, never older); the clock now starts when the diagnosis became known.
        """
        s = scenario(diabetes(onset=None, recorded_at=at(dt.date(2025, 6, 10))))

        assert s.gap(RULE).due == dt.date(2025, 12, 10)
        s.set_now(end_of(dt.date(2025, 12, 10))).assert_prospective(RULE)
        s.set_now(start_after(dt.date(2025, 12, 10))).assert_open(RULE)

    def test_a_diagnosis_nothing_dates_starts_no_clock(self) -> None:
        """No onset, no recorded time, no retrieval time of its record: no first-cycle gap.

        It used to be due the day before every evaluation; nothing says when it began.
        """
        scenario(diabetes(onset=None)).assert_no_gap(RULE)

    def test_snomed_coded_diabetes_applies(self) -> None:
        """SNOMED 44054006 is diabetes too."""
        snomed = Code(System.SNOMED, "44054006", "Diabetes mellitus type 2")
        scenario(diabetes(code=snomed)).assert_open(RULE)

    def test_no_diabetes_no_schedule(self) -> None:
        """Without diabetes an HbA1c is not monitored."""
        scenario(("results", lab("a1c-2", LAST_HBA1C))).assert_no_gap(RULE)

    def test_the_effective_date_counts(self) -> None:
        """The specimen date (effective) comes before the issue date."""
        result = lab("a1c-2", LAST_HBA1C, effective=at(dt.date(2025, 8, 28)))
        s = scenario(diabetes(), ("results", result))
        assert s.gap(RULE, "clinic-ehr/a1c-2#diabetes-hba1c").due == dt.date(2026, 2, 28)

    def test_the_hplc_code_counts(self) -> None:
        """LOINC 17856-6 is an HbA1c too."""
        hplc = Code(System.LOINC, "17856-6", "Hemoglobin A1c by HPLC")
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C, code=hplc)))
        assert s.gap(RULE, "clinic-ehr/a1c-2#diabetes-hba1c").due == HBA1C_DUE

    def test_hospice_is_not_applicable(self) -> None:
        """A patient enrolled in hospice is excluded."""
        hospice = make_enrollment(program="hospice", period=Period(at(dt.date(2026, 1, 5))))
        gap = scenario(diabetes(), ("enrollments", hospice)).assert_not_applicable(RULE)
        assert gap.reason == "hospice"

    def test_hospice_before_the_cycle_does_not_exclude(self) -> None:
        """Discharged to hospice in 2023, alive since: the September 2025 cycle is open.

        A discharge to hospice used to exclude the patient for life from its day on.
        """
        stay = make_transition(
            admitted_at=at(dt.date(2023, 1, 2)),
            discharged_at=at(dt.date(2023, 1, 5)),
            to_setting=CareSetting.HOSPICE,
        )
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C)), ("transitions", stay))
        s.assert_open(RULE, "clinic-ehr/a1c-2#diabetes-hba1c")

    def test_hospice_on_the_cycles_first_and_last_day(self) -> None:
        """Both edges of the cycle (1 September 2025 to 1 March 2026) count; the day before not."""
        focus = "clinic-ehr/a1c-2#diabetes-hba1c"
        for day, excluded in (
            (dt.date(2025, 8, 31), False),
            (LAST_HBA1C, True),
            (HBA1C_DUE, True),
        ):
            hospice = make_procedure(
                id="hospice-1", code=HOSPICE_CARE, performed=PartialDate.from_date(day)
            )
            s = scenario(
                diabetes(),
                ("results", lab("a1c-2", LAST_HBA1C)),
                ("procedures", hospice),
                now=at(HBA1C_DUE),
            )
            status = s.gap(RULE, focus).status.value
            assert status == ("not-applicable" if excluded else "prospective"), day

    def test_an_overdue_gap_is_excluded_by_hospice_this_year(self) -> None:
        """Overdue since 2024; hospice care this January (after the due date) excludes it."""
        old = lab("a1c-2", dt.date(2023, 6, 1))
        hospice = make_procedure(
            id="hospice-1", code=HOSPICE_CARE, performed=PartialDate(2026, 1, 10)
        )
        s = scenario(diabetes(), ("results", old), ("procedures", hospice))
        assert s.assert_not_applicable(RULE, "clinic-ehr/a1c-2#diabetes-hba1c").reason == "hospice"

    def test_hospice_last_year_after_an_old_due_date_does_not_exclude(self) -> None:
        """Overdue since 2023-12; hospice in 2025 only: neither the cycle nor this year."""
        old = lab("a1c-2", dt.date(2023, 6, 1))
        hospice = make_procedure(
            id="hospice-1", code=HOSPICE_CARE, performed=PartialDate(2025, 5, 10)
        )
        s = scenario(diabetes(), ("results", old), ("procedures", hospice))
        s.assert_open(RULE, "clinic-ehr/a1c-2#diabetes-hba1c")

    def test_patient_died_is_not_applicable(self) -> None:
        """A death by the due date excludes the gap."""
        s = scenario(diabetes(), ("results", lab("a1c-2", LAST_HBA1C)))
        s.update_patient(deceased_at=at(dt.date(2026, 2, 1)))
        s.assert_not_applicable(RULE, "clinic-ehr/a1c-2#diabetes-hba1c")


INDEX_DAY = dt.date(2025, 3, 3)
WINDOW_START = dt.date(2026, 1, 2)
WINDOW_END = dt.date(2026, 5, 2)
INDEX_FOCUS = "clinic-ehr/phq-1#depression-phq9"


def depression() -> tuple[str, Any]:
    """Recurrent depression since January 2025."""
    return "conditions", make_condition(id="mdd", code=DEPRESSION, onset=PartialDate(2025, 1, 1))


def phq9(id: str, day: dt.date, score: float) -> tuple[str, Any]:
    """A PHQ-9 total score on ``day``."""
    return "results", lab(id, day, code=PHQ9, value=score)


class TestDepressionPhq9:
    """Tests for the depression PHQ-9 schedule (CMS159: 12 months +/- 60 days)."""

    def test_due_at_the_end_of_the_window(self) -> None:
        """An index PHQ-9 of 15 on 3 March 2025: a PHQ-9 is due by 2 May 2026."""
        gap = scenario(depression(), phq9("phq-1", INDEX_DAY, 15)).gap(RULE)
        assert gap.focus == INDEX_FOCUS
        assert gap.due == WINDOW_END
        assert "between 2026-01-02 and 2026-05-02" in gap.summary

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 2 May 2026, open from 3 May."""
        s = scenario(depression(), phq9("phq-1", INDEX_DAY, 15))
        s.set_now(end_of(WINDOW_END)).assert_prospective(RULE, INDEX_FOCUS)
        s.set_now(start_after(WINDOW_END)).assert_open(RULE, INDEX_FOCUS)

    def test_closed_by_a_phq9_in_the_window(self) -> None:
        """A PHQ-9 on the window's first day closes it."""
        s = scenario(depression(), phq9("phq-1", INDEX_DAY, 15), phq9("phq-2", WINDOW_START, 4))
        gap = s.assert_closed(RULE, INDEX_FOCUS)
        assert gap.closed_at == at(WINDOW_START)

    def test_a_phq9_before_the_window_does_not_count(self) -> None:
        """A PHQ-9 the day before the window opens is too early."""
        early = phq9("phq-2", WINDOW_START - dt.timedelta(days=1), 4)
        scenario(depression(), phq9("phq-1", INDEX_DAY, 15), early).assert_prospective(
            RULE, INDEX_FOCUS
        )

    def test_a_phq9_after_as_of_does_not_close_earlier(self) -> None:
        """Time travel: before the repeat PHQ-9, the gap is prospective."""
        s = scenario(
            depression(), phq9("phq-1", INDEX_DAY, 15), phq9("phq-2", dt.date(2026, 3, 20), 4)
        )
        s.assert_prospective(RULE, INDEX_FOCUS)
        s.set_now(at(dt.date(2026, 3, 21))).assert_closed(RULE, INDEX_FOCUS)

    def test_no_index_at_9_or_below(self) -> None:
        """A PHQ-9 of 9 is not an index (CMS159 needs above 9)."""
        scenario(depression(), phq9("phq-1", INDEX_DAY, 9)).assert_no_gap(RULE)

    def test_no_depression_no_schedule(self) -> None:
        """A high PHQ-9 without a depression diagnosis is not followed here."""
        scenario(phq9("phq-1", INDEX_DAY, 15)).assert_no_gap(RULE)

    def test_gap_is_labelled_mental_health(self) -> None:
        """The gap carries the mental-health label."""
        gap = scenario(depression(), phq9("phq-1", INDEX_DAY, 15)).gap(RULE)
        assert gap.sensitivity == frozenset({Sensitivity.MENTAL_HEALTH})

    def test_a_new_index_after_the_window(self) -> None:
        """A high PHQ-9 after the first window is a new index with its own gap."""
        s = scenario(
            depression(),
            phq9("phq-1", INDEX_DAY, 15),
            phq9("phq-2", WINDOW_END + dt.timedelta(days=1), 12),
            now=at(dt.date(2026, 7, 1)),
        )
        assert s.assert_open(RULE, INDEX_FOCUS).due == WINDOW_END
        s.assert_prospective(RULE, "clinic-ehr/phq-2#depression-phq9")


AWV_FOCUS = "clinic-ehr/visit-1#annual-wellness-visit"


def wellness(id: str, day: dt.date, code: Code = AWV) -> tuple[str, Any]:
    """A wellness visit coded ``code`` on ``day``."""
    start = at(day)
    return "encounters", make_encounter(
        id=id, period=Period(start, start + dt.timedelta(minutes=40)), types=(code,)
    )


def senior(*facts: tuple[str, Any], now: dt.datetime = NOW) -> Scenario:
    """A patient born 1 June 1955 (70 in 2026), with the facts."""
    s = scenario(*facts, now=now)
    s.update_patient(birth_date=PartialDate(1955, 6, 1))
    return s


class TestAnnualWellnessVisit:
    """Tests for the annual wellness visit (65+, 11 full months apart)."""

    def test_due_by_the_end_of_the_anniversary_month(self) -> None:
        """Last visit 15 January 2025: allowed from 1 January 2026, due 31 January 2026."""
        gap = senior(wellness("visit-1", dt.date(2025, 1, 15))).gap(RULE, AWV_FOCUS)
        assert gap.due == dt.date(2026, 1, 31)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective at the end of 31 January, open from 1 February."""
        s = senior(wellness("visit-1", dt.date(2025, 1, 15)))
        s.set_now(end_of(dt.date(2026, 1, 31))).assert_prospective(RULE, AWV_FOCUS)
        s.set_now(start_after(dt.date(2026, 1, 31))).assert_open(RULE, AWV_FOCUS)

    def test_closed_by_a_visit_11_full_months_later(self) -> None:
        """A visit on 2 January 2026 closes the cycle and starts the next."""
        s = senior(
            wellness("visit-1", dt.date(2025, 1, 15)), wellness("visit-2", dt.date(2026, 1, 2))
        )
        assert s.assert_closed(RULE, AWV_FOCUS).closed_at == at(dt.date(2026, 1, 2))
        nxt = s.gap(RULE, "clinic-ehr/visit-2#annual-wellness-visit")
        assert nxt.due == dt.date(2027, 1, 31)

    def test_a_visit_too_soon_does_not_close_it(self) -> None:
        """A visit on 31 December 2025 is under 11 full months: it neither closes nor restarts.

        It used to start a new cycle (due 31 December 2026), so the visit due by 31 January
        2026 was never flagged. Medicare does not cover a visit that early as an annual
        wellness visit: the cycle stays on visit-1 and is open, the early visit is context.
        """
        s = senior(
            wellness("visit-1", dt.date(2025, 1, 15)), wellness("visit-2", dt.date(2025, 12, 31))
        )
        gap = s.assert_open(RULE, AWV_FOCUS)
        assert gap.due == dt.date(2026, 1, 31)
        assert [e.ref.id for e in gap.evidence] == ["clinic-ehr/visit-1", "clinic-ehr/visit-2"]
        assert s.find_gaps(RULE, "clinic-ehr/visit-2#annual-wellness-visit") == ()

    def test_procedures_count_too(self) -> None:
        """A procedure coded G0439 is a wellness visit."""
        proc = make_procedure(id="awv-proc", code=AWV, performed=at(dt.date(2025, 1, 15)))
        s = senior(("procedures", proc))
        assert s.gap(RULE, "clinic-ehr/awv-proc#annual-wellness-visit").due == dt.date(2026, 1, 31)

    def test_initial_preventive_exam_starts_the_clock(self) -> None:
        """G0402 starts the clock without meeting it."""
        s = senior(wellness("ippe", dt.date(2025, 2, 10), IPPE))
        assert [g.focus for g in s.find_gaps(RULE)] == ["clinic-ehr/ippe#annual-wellness-visit"]
        assert s.gap(RULE).due == dt.date(2026, 2, 28)

    def test_never_had_one(self) -> None:
        """No visit on record: due the month 12 months after the 65th birthday."""
        gap = senior().assert_open(RULE)
        assert gap.focus == "patient#annual-wellness-visit"
        assert gap.due == dt.date(2021, 6, 30)

    def test_under_65_no_schedule(self) -> None:
        """The default synthetic patient is 64 on 2 March 2026."""
        scenario(wellness("visit-1", dt.date(2025, 1, 15))).assert_no_gap(RULE)


class TestSchedules:
    """Tests for schedules as data."""

    def test_custom_schedule(self) -> None:
        """A practice schedule (yearly HbA1c for everyone 18+) is followed."""
        yearly = MonitoringSchedule(
            name="yearly-a1c",
            label="HbA1c",
            tests=(HBA1C,),
            every_months=12,
            minimum_age=18,
            source=Citation("Practice policy", "https://example.org/policy"),
        )
        s = scenario(
            ("results", lab("a1c-1", dt.date(2025, 9, 1))),
            rules=[monitoring_overdue(schedules=(yearly,))],
        )
        assert s.gap(RULE, "clinic-ehr/a1c-1#yearly-a1c").due == dt.date(2026, 9, 1)
        assert s.assert_closed(RULE, "patient#yearly-a1c").late

    def test_default_schedules_cite_their_sources(self) -> None:
        """Every default schedule names its source with an address."""
        assert DIABETES_HBA1C.source.url
        assert ANNUAL_WELLNESS_VISIT.source.url

    def test_invalid_schedules_are_refused(self) -> None:
        """A schedule needs a positive interval and at least one test."""
        with pytest.raises(ValidationError):
            MonitoringSchedule(
                name="x", label="x", tests=(HBA1C,), every_months=0, source=DIABETES_HBA1C.source
            )
        with pytest.raises(ValidationError):
            MonitoringSchedule(
                name="x", label="x", tests=(), every_months=6, source=DIABETES_HBA1C.source
            )

    def test_duplicate_schedule_names_are_refused(self) -> None:
        """Two schedules with one name would share gap keys."""
        with pytest.raises(ValidationError, match="unique"):
            monitoring_overdue(schedules=(DIABETES_HBA1C, DIABETES_HBA1C))

    def test_repr_names_the_schedules(self) -> None:
        """The rule's repr lists schedules by name."""
        assert "MonitoringSchedule('diabetes-hba1c')" in repr(monitoring_overdue())
