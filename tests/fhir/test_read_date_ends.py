"""End boundaries written as dates: read as the last instant of the day written.

A FHIR ``date`` (or a ``dateTime`` without a time) is read as an instant where the model
needs one. A start is the first instant of its day; an end (``period.end``,
``Appointment.end``) is the last instant of its day, in ``default_tz`` (else UTC), so its
calendar day is the day written. It used to be the first instant of the next day: a stay
written as ending on 2020-03-09 was discharged on 2020-03-10 for every rule counting days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carecoord.domain import Period, to_local_date
from carecoord.profile import profile_from_record
from carecoord.rules import detect_gaps

from .test_read_fixtures import SUBJECT, only_record, ref

EST = dt.timezone(dt.timedelta(hours=-5))
LAST = dt.time(23, 59, 59, 999999)


def stay(start: str, end: str) -> dict[str, Any]:
    """A finished inpatient Encounter with the given period."""
    return {
        "resourceType": "Encounter",
        "id": "stay-1",
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": SUBJECT,
        "period": {"start": start, "end": end},
    }


class TestPeriodEnd:
    """``period.end`` written as a date ends on that day."""

    def test_day_end_is_the_last_instant_of_that_day(self) -> None:
        """2020-03-09 ends at 23:59:59.999999 UTC on the 9th, not at midnight on the 10th."""
        record = only_record(stay("2020-03-05", "2020-03-09"))
        [transition] = record.transitions
        assert transition.discharged_at == dt.datetime.combine(
            dt.date(2020, 3, 9), LAST, tzinfo=dt.UTC
        )
        assert to_local_date(transition.discharged_at) == dt.date(2020, 3, 9)

    def test_day_end_in_the_default_zone(self) -> None:
        """With ``default_tz`` the day ends in that zone: its local day is the day written."""
        record = only_record(stay("2020-03-05", "2020-03-09"), default_tz=EST)
        [transition] = record.transitions
        assert transition.discharged_at == dt.datetime.combine(
            dt.date(2020, 3, 9), LAST, tzinfo=EST
        )
        assert to_local_date(transition.discharged_at, EST) == dt.date(2020, 3, 9)

    @pytest.mark.parametrize(
        ("end", "last_day"),
        [("2020-02", dt.date(2020, 2, 29)), ("2021", dt.date(2021, 12, 31))],
    )
    def test_month_and_year_end_on_their_last_day(self, end: str, last_day: dt.date) -> None:
        """A month ends on its last day (leap years too), a year on 31 December."""
        record = only_record(stay("2020-01-05", end))
        [transition] = record.transitions
        assert transition.discharged_at == dt.datetime.combine(last_day, LAST, tzinfo=dt.UTC)

    def test_same_day_stay_is_valid(self) -> None:
        """A stay starting and ending on one date ends after it starts (on that day)."""
        record = only_record(stay("2020-03-09", "2020-03-09"))
        [transition] = record.transitions
        assert transition.discharged_at is not None
        assert transition.admitted_at < transition.discharged_at
        assert transition.discharged_at.date() == transition.admitted_at.date()

    def test_end_with_a_time_is_that_instant(self) -> None:
        """An end with a time of day is read as it is (the other side of the boundary)."""
        record = only_record(stay("2020-03-05T08:00:00Z", "2020-03-09T00:00:00Z"))
        [transition] = record.transitions
        assert transition.discharged_at == dt.datetime(2020, 3, 9, tzinfo=dt.UTC)

    def test_every_period_reads_ends_the_same_way(self) -> None:
        """The class, not one element: an episode's period end is read the same way."""
        episode = {
            "resourceType": "EpisodeOfCare",
            "id": "ccm-1",
            "status": "finished",
            "type": [{"text": "Chronic care management"}],
            "patient": SUBJECT,
            "period": {"start": "2020-01-01", "end": "2020-03-09"},
        }
        record = only_record(episode)
        [enrollment] = record.enrollments
        assert enrollment.period == Period(
            dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            dt.datetime.combine(dt.date(2020, 3, 9), LAST, tzinfo=dt.UTC),
        )
        assert enrollment.period.contains(dt.datetime(2020, 3, 9, 18, tzinfo=dt.UTC))
        assert not enrollment.period.contains(dt.datetime(2020, 3, 10, tzinfo=dt.UTC))


class TestAppointmentEnd:
    """``Appointment.end`` written as a date is read as an end too."""

    def test_date_only_end(self) -> None:
        """An appointment ending "2020-03-09" ends on the 9th, after its start that day."""
        appointment = {
            "resourceType": "Appointment",
            "id": "appt-1",
            "status": "booked",
            "start": "2020-03-09T10:00:00Z",
            "end": "2020-03-09",
            "participant": [{"actor": SUBJECT}, {"actor": ref("Practitioner", "pcp-1")}],
        }
        record = only_record(appointment)
        [found] = record.appointments
        assert found.end == dt.datetime.combine(dt.date(2020, 3, 9), LAST, tzinfo=dt.UTC)


class TestRulesCountFromTheDayWritten:
    """The rules' day windows count from the day written, not the day after."""

    def test_discharge_day_is_the_day_written(self) -> None:
        """A stay ending 2020-03-09: discharge information is due on the 11th (day + 2)."""
        record = only_record(stay("2020-03-05", "2020-03-09"))
        report = detect_gaps(
            profile_from_record(record), as_of=dt.datetime(2020, 3, 20, tzinfo=dt.UTC)
        )
        [gap] = report.by_rule("transition.discharge-info-missing")
        assert gap.due == dt.date(2020, 3, 11)
