"""Value objects: codes, identifiers, references, partial dates, periods."""

from __future__ import annotations

import datetime as dt

import pytest

import carecoord as cc
from carecoord.domain import HumanName, Identifier, PatientId, Precision, TaskId
from carecoord.domain._values import earliest_date, sort_key, to_local_date

UTC = dt.UTC
NY = dt.timezone(dt.timedelta(hours=-5))


class TestCode:
    """Codes need a system and compare on system and code only."""

    def test_code_needs_a_system(self) -> None:
        """A code without a system is rejected with the field named."""
        with pytest.raises(cc.ValidationError) as info:
            cc.Code("", "I10")

        assert info.value.problems[0].path == "system"

    def test_display_is_not_part_of_equality(self) -> None:
        """Two codes differing only in display are equal and hash alike."""
        a = cc.Code(cc.System.ICD10CM, "I10", "Hypertension")
        b = cc.Code(cc.System.ICD10CM, "I10", "Essential hypertension")

        assert a == b
        assert hash(a) == hash(b)

    def test_is_in_checks_system_and_codes(self) -> None:
        """is_in matches the system and, when given, one of the codes."""
        code = cc.Code(cc.System.LOINC, "4548-4")

        assert code.is_in(cc.System.LOINC)
        assert code.is_in(cc.System.LOINC, "1234-5", "4548-4")
        assert not code.is_in(cc.System.SNOMED)


class TestIdentifierAndRef:
    """Identifiers mask their value; references parse Type/id."""

    def test_identifier_value_masked_in_repr(self) -> None:
        """The identifier value never appears in repr."""
        ident = Identifier("urn:example:mrn", "MRN-SECRET-42")

        assert "MRN-SECRET-42" not in repr(ident)

    def test_ref_parse_round_trips(self) -> None:
        """Ref.parse reads what str(Ref) writes."""
        ref = cc.Ref("Practitioner", "p-1")

        assert cc.Ref.parse(str(ref)) == ref

    def test_ref_parse_rejects_text_without_slash(self) -> None:
        """A reference without Type/ is a validation error."""
        with pytest.raises(cc.ValidationError):
            cc.Ref.parse("p-1")


class TestPartialDate:
    """Partial dates keep their precision."""

    def test_year_month_is_not_the_first_of_the_month(self) -> None:
        """1985-06 has month precision and spans the whole month."""
        date = cc.PartialDate.parse("1985-06")

        assert date.precision is Precision.MONTH
        assert date.earliest() == dt.date(1985, 6, 1)
        assert date.latest() == dt.date(1985, 6, 30)
        assert date.isoformat() == "1985-06"

    def test_year_precision_spans_the_year(self) -> None:
        """A year-only date contains every day of that year."""
        date = cc.PartialDate(2019)

        assert date.contains(dt.date(2019, 12, 31))
        assert not date.contains(dt.date(2020, 1, 1))

    def test_december_month_ends_on_the_31st(self) -> None:
        """The last day of December 2020 is the 31st (year rollover handled)."""
        assert cc.PartialDate(2020, 12).latest() == dt.date(2020, 12, 31)

    def test_leap_day_accepted_only_in_leap_years(self) -> None:
        """29 February exists in 2024 but not in 2023."""
        assert cc.PartialDate(2024, 2, 29).precision is Precision.DAY
        with pytest.raises(cc.ValidationError) as info:
            cc.PartialDate(2023, 2, 29)

        assert info.value.problems[0].path == "day"

    @pytest.mark.parametrize("text", ["85", "1985-6", "1985-06-1", "June 1985", "1985-13"])
    def test_parse_rejects_malformed_text(self, text: str) -> None:
        """Anything but YYYY, YYYY-MM or YYYY-MM-DD is rejected."""
        with pytest.raises(cc.ValidationError):
            cc.PartialDate.parse(text)

    def test_day_without_month_is_rejected(self) -> None:
        """A day needs a month."""
        with pytest.raises(cc.ValidationError):
            cc.PartialDate(2020, None, 5)

    def test_ordering_by_earliest_day_then_precision(self) -> None:
        """Less precise dates sort before more precise ones starting the same day."""
        dates = [cc.PartialDate(2020, 1, 1), cc.PartialDate(2019), cc.PartialDate(2020)]

        assert sorted(dates) == [
            cc.PartialDate(2019),
            cc.PartialDate(2020),
            cc.PartialDate(2020, 1, 1),
        ]

    def test_repr_shows_the_iso_form(self) -> None:
        """The repr shows the precision-keeping ISO text."""
        assert repr(cc.PartialDate(1985, 6)) == "PartialDate('1985-06')"


class TestTime:
    """Instants must be aware; day windows use local dates."""

    def test_naive_datetime_rejected(self) -> None:
        """A naive datetime is rejected with the field path and the reason."""
        with pytest.raises(cc.ValidationError) as info:
            cc.Period(dt.datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test

        assert str(info.value.problems[0]) == "start: naive datetime (a time zone is required)"

    def test_period_cannot_end_before_it_starts(self) -> None:
        """A period ending before it starts is rejected."""
        with pytest.raises(cc.ValidationError) as info:
            cc.Period(dt.datetime(2026, 1, 2, tzinfo=UTC), dt.datetime(2026, 1, 1, tzinfo=UTC))

        assert info.value.problems[0].path == "end"

    def test_period_contains_is_end_exclusive(self) -> None:
        """The start belongs to the period, the end does not."""
        start = dt.datetime(2026, 1, 1, tzinfo=UTC)
        end = dt.datetime(2026, 1, 2, tzinfo=UTC)
        period = cc.Period(start, end)

        assert period.contains(start)
        assert not period.contains(end)

    def test_open_periods_overlap_everything_after_their_start(self) -> None:
        """An open-ended period overlaps a later closed one."""
        a = cc.Period(dt.datetime(2026, 1, 1, tzinfo=UTC))
        b = cc.Period(dt.datetime(2027, 1, 1, tzinfo=UTC), dt.datetime(2027, 2, 1, tzinfo=UTC))

        assert a.overlaps(b)
        assert b.overlaps(a)

    def test_local_date_differs_from_utc_date_late_in_the_evening(self) -> None:
        """23:30 in New York is already the next day in UTC."""
        instant = dt.datetime(2026, 7, 2, 23, 30, tzinfo=NY)

        assert to_local_date(instant) == dt.date(2026, 7, 2)
        assert to_local_date(instant, UTC) == dt.date(2026, 7, 3)

    def test_sort_key_puts_unknown_first_and_partial_at_earliest_instant(self) -> None:
        """Unknown times sort first; a partial date sorts at its first instant."""
        values: list[dt.datetime | cc.PartialDate | None] = [
            dt.datetime(2020, 1, 1, 12, tzinfo=UTC),
            None,
            cc.PartialDate(2020),
        ]

        assert sorted(values, key=sort_key) == [values[1], values[2], values[0]]

    def test_earliest_date_of_partial_and_instant(self) -> None:
        """earliest_date gives the first day for partial dates and the local day for instants."""
        assert earliest_date(cc.PartialDate(2020, 5)) == dt.date(2020, 5, 1)
        assert earliest_date(dt.datetime(2020, 5, 3, 1, tzinfo=UTC), NY) == dt.date(2020, 5, 2)

    def test_collections_must_be_tuples(self) -> None:
        """A list where a tuple is expected is rejected, so models stay hashable."""
        with pytest.raises(cc.ValidationError) as info:
            HumanName(given=["Alex"])  # type: ignore[arg-type]

        assert "expected a tuple" in str(info.value)


class TestRuntimeChecks:
    """Wrong types are refused at construction with carecoord errors."""

    def test_enum_fields_reject_strings(self) -> None:
        """A status given as a plain string is a validation error, not a later KeyError."""
        with pytest.raises(cc.ValidationError) as info:
            cc.Task(
                id=TaskId("t"),
                patient=PatientId("p"),
                authored_on=dt.datetime(2026, 1, 1, tzinfo=UTC),
                status="done",  # type: ignore[arg-type]
            )

        assert str(info.value.problems[0]) == "status: expected one of TaskStatus"

    def test_partial_date_does_not_compare_with_date(self) -> None:
        """Comparing a partial date with a date is a TypeError, as for other unlike types."""
        with pytest.raises(TypeError):
            _ = cc.PartialDate(2020) < dt.date(2020, 1, 1)  # type: ignore[operator]


class TestDaylightSaving:
    """Ordering checks compare real instants, not wall-clock readings."""

    def test_repeated_hour_orders_by_instant(self) -> None:
        """01:45 EDT happens before 01:30 EST on the night clocks go back."""
        from zoneinfo import ZoneInfo

        ny = ZoneInfo("America/New_York")
        first = dt.datetime(2025, 11, 2, 1, 45, tzinfo=ny)  # EDT, 05:45 UTC
        second = dt.datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ny)  # EST, 06:30 UTC

        assert cc.Period(first, second).end == second
        with pytest.raises(cc.ValidationError):
            cc.Period(second, first)
