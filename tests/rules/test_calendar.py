"""Tests for business days and the optional US federal holiday calendar."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord.errors import MissingExtraError, ValidationError
from carecoord.rules import BusinessCalendar, us_federal_holidays

THU_2_JULY = dt.date(2026, 7, 2)
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


class TestBusinessDays:
    """Tests for business days."""

    def test_weekdays_are_business_days_by_default(self) -> None:
        """Monday to Friday are business days on the default calendar."""
        monday = dt.date(2026, 3, 2)
        week = [monday + dt.timedelta(days=i) for i in range(5)]
        assert all(BusinessCalendar().is_business_day(d) for d in week)

    def test_weekends_are_not_business_days(self) -> None:
        """Saturday and Sunday are not business days."""
        cal = BusinessCalendar()
        assert not cal.is_business_day(dt.date(2026, 3, 7))
        assert not cal.is_business_day(dt.date(2026, 3, 8))

    def test_the_default_calendar_has_no_holidays(self) -> None:
        """Without a holiday container, a public holiday on a weekday is a business day."""
        assert BusinessCalendar().is_business_day(dt.date(2026, 7, 3))

    def test_adding_skips_the_weekend(self) -> None:
        """Thursday plus 2 business days is the next Monday (the start day is not counted)."""
        assert BusinessCalendar().add_business_days(THU_2_JULY, 2) == dt.date(2026, 7, 6)

    def test_adding_zero_returns_the_same_day(self) -> None:
        """Adding 0 business days returns the day itself, even on a weekend."""
        saturday = dt.date(2026, 7, 4)
        assert BusinessCalendar().add_business_days(saturday, 0) == saturday

    def test_adding_a_negative_number_goes_back(self) -> None:
        """Monday minus 1 business day is the previous Friday."""
        assert BusinessCalendar().add_business_days(dt.date(2026, 7, 6), -1) == dt.date(2026, 7, 3)

    def test_holidays_from_any_container_are_skipped(self) -> None:
        """A set of dates works as the holiday calendar."""
        cal = BusinessCalendar(holidays={dt.date(2026, 7, 3)})
        assert cal.add_business_days(THU_2_JULY, 2) == dt.date(2026, 7, 7)

    def test_an_object_from_the_holidays_package_is_accepted(self) -> None:
        """A ``holidays`` package calendar (a dict of dates) is a valid holiday container."""
        import holidays

        cal = BusinessCalendar(holidays=holidays.country_holidays("US", years=2026))
        assert not cal.is_business_day(dt.date(2026, 7, 3))

    def test_custom_workdays(self) -> None:
        """A calendar may define other workdays, such as Sunday to Thursday."""
        cal = BusinessCalendar(workdays=frozenset({6, 0, 1, 2, 3}))
        assert cal.add_business_days(THU_2_JULY, 1) == dt.date(2026, 7, 5)

    def test_datetimes_are_refused(self) -> None:
        """A datetime must be turned into a local date first, so it is refused."""
        with pytest.raises(ValidationError, match="local date"):
            BusinessCalendar().is_business_day(dt.datetime(2026, 7, 2, tzinfo=dt.UTC))

    def test_empty_workdays_are_refused(self) -> None:
        """A calendar needs at least one workday."""
        with pytest.raises(ValidationError, match="workdays"):
            BusinessCalendar(workdays=frozenset())

    def test_next_business_day(self) -> None:
        """The next business day of a Saturday is Monday; of a Monday, the Monday itself."""
        cal = BusinessCalendar()
        assert cal.next_business_day(dt.date(2026, 7, 4)) == dt.date(2026, 7, 6)
        assert cal.next_business_day(dt.date(2026, 7, 6)) == dt.date(2026, 7, 6)

    def test_business_days_between_counts_the_end_not_the_start(self) -> None:
        """From Thursday to Monday there are 2 business days (Friday and Monday)."""
        assert BusinessCalendar().business_days_between(THU_2_JULY, dt.date(2026, 7, 6)) == 2

    def test_repr_summarises_the_holidays(self) -> None:
        """The repr counts holidays instead of listing them."""
        assert "<1 dates>" in repr(BusinessCalendar(holidays=frozenset({THU_2_JULY})))

    @settings(max_examples=60, deadline=None)
    @given(day=days, n=st.integers(min_value=0, max_value=40))
    def test_adding_lands_on_a_business_day_n_business_days_later(
        self, day: dt.date, n: int
    ) -> None:
        """add_business_days and business_days_between agree, and land on business days."""
        cal = BusinessCalendar(holidays=us_federal_holidays(range(2020, 2032)))
        later = cal.add_business_days(day, n)
        assert cal.business_days_between(day, later) == n
        assert n == 0 or cal.is_business_day(later)


class TestUsFederalHolidays:
    """Tests for us federal holidays."""

    def test_independence_day_2026_is_observed_on_friday_3_july(self) -> None:
        """4 July 2026 is a Saturday, so the federal holiday is observed on Friday 3 July."""
        assert dt.date(2026, 7, 3) in us_federal_holidays(2026)

    def test_thursday_2_july_2026_plus_2_business_days_is_tuesday_7_july(self) -> None:
        """With US federal holidays, Thursday 2 July 2026 + 2 business days is 7 July."""
        cal = BusinessCalendar(holidays=us_federal_holidays(2026))
        assert cal.add_business_days(THU_2_JULY, 2) == dt.date(2026, 7, 7)

    def test_several_years_at_once(self) -> None:
        """Several years can be asked for at once (windows that cross New Year)."""
        found = us_federal_holidays([2026, 2027])
        assert dt.date(2026, 12, 25) in found
        assert dt.date(2027, 1, 1) in found

    def test_missing_extra_names_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the holidays package, the error names the extra to install."""
        monkeypatch.setitem(sys.modules, "holidays", None)
        with pytest.raises(MissingExtraError, match=r"carecoord\[holidays\]"):
            us_federal_holidays(2026)
