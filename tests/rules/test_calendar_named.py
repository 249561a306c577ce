"""``BusinessCalendar.named``: a business calendar from a holiday-set name."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from carecoord.errors import MissingExtraError, NotFound
from carecoord.rules import HOLIDAY_SETS, BusinessCalendar


class TestNamedCalendar:
    """``BusinessCalendar.named``: a calendar from a holiday-set name."""

    def test_us_skips_federal_holidays_of_any_year(self) -> None:
        """Independence Day (observed) and New Year's Day are not business days."""
        calendar = BusinessCalendar.named("us")

        assert not calendar.is_business_day(dt.date(2026, 7, 3))
        assert not calendar.is_business_day(dt.date(2031, 1, 1))
        assert calendar.add_business_days(dt.date(2026, 7, 2), 1) == dt.date(2026, 7, 6)

    def test_the_names_are_listed(self) -> None:
        """HOLIDAY_SETS lists the names ``named`` accepts."""
        assert HOLIDAY_SETS == ("us",)

    def test_calendars_of_one_name_are_equal(self) -> None:
        """Two ``named("us")`` calendars are equal and print the set's name."""
        assert BusinessCalendar.named("us") == BusinessCalendar.named("us")
        assert BusinessCalendar.named("us") != BusinessCalendar()
        assert "<us holidays>" in repr(BusinessCalendar.named("us"))

    def test_an_unknown_name_is_not_found(self) -> None:
        """An unknown name raises NotFound listing the known ones."""
        with pytest.raises(NotFound, match=r"no holiday set 'uk' \(known: us\)"):
            BusinessCalendar.named("uk")

    def test_without_the_extra_the_error_names_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the ``holidays`` package, MissingExtraError names the extra at once."""
        monkeypatch.setitem(sys.modules, "holidays", None)

        with pytest.raises(MissingExtraError, match=r"carecoord\[holidays\]"):
            BusinessCalendar.named("us")
