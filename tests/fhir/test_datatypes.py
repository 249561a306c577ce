"""FHIR date, dateTime and instant parsing with issues (carecoord.fhir._datatypes)."""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.domain._values import PartialDate
from carecoord.errors import IssueSeverity as Severity
from carecoord.fhir._datatypes import parse_date, parse_datetime, parse_instant
from carecoord.fhir._issues import ImportIssue, IssueCode, IssueLog

EST = dt.timezone(dt.timedelta(hours=-5))
PATH = "Patient.birthDate"


def one_issue(issues: IssueLog) -> ImportIssue:
    """The single issue recorded."""
    [issue] = issues
    return issue


class TestParseDate:
    """FHIR date: YYYY, YYYY-MM, YYYY-MM-DD."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1985", PartialDate(1985)),
            ("1985-06", PartialDate(1985, 6)),
            ("1985-06-21", PartialDate(1985, 6, 21)),
            ("2024-02-29", PartialDate(2024, 2, 29)),
            ("2000-02-29", PartialDate(2000, 2, 29)),
            ("0001-01-01", PartialDate(1, 1, 1)),
        ],
    )
    def test_valid(self, text: str, expected: PartialDate) -> None:
        """Each precision parses to a PartialDate of that precision, with no issue."""
        issues = IssueLog()
        result = parse_date(text, PATH, issues=issues)
        assert result == expected
        assert result is not None
        assert result.precision == expected.precision
        assert len(issues) == 0

    def test_absent(self) -> None:
        """None (absent element) gives None and no issue."""
        issues = IssueLog()
        assert parse_date(None, PATH, issues=issues) is None
        assert len(issues) == 0

    @pytest.mark.parametrize("value", [19850621, 1985.0, ["1985"], {"value": "1985"}, True])
    def test_wrong_type(self, value: object) -> None:
        """A non-string is a wrong-type error."""
        issues = IssueLog()
        assert parse_date(value, PATH, issues=issues, source="f.json") is None
        issue = one_issue(issues)
        assert (issue.code, issue.severity, issue.path, issue.source) == (
            IssueCode.WRONG_TYPE,
            Severity.ERROR,
            PATH,
            "f.json",
        )

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "85",
            "1985/06/21",
            "19850621",
            "1985-6-21",
            " 1985-06-21",
            "1985-06-21 ",
            "1985-06-21T10:00:00Z",
            "1985-06-21Z",
            "\uff11\uff19\uff18\uff15",  # full-width digits
            "1985-06-",
        ],
    )
    def test_malformed(self, text: str) -> None:
        """Anything but the three FHIR forms is an invalid-date error that hides the value."""
        issues = IssueLog()
        assert parse_date(text, PATH, issues=issues) is None
        issue = one_issue(issues)
        assert (issue.code, issue.severity) == (IssueCode.INVALID_DATE, Severity.ERROR)
        assert "YYYY-MM-DD" in issue.message
        if text.strip():
            assert text.strip() not in issue.message

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("2023-02-29", "no such day"),
            ("2023-02-30", "no such day"),
            ("1900-02-29", "no such day"),
            ("2023-04-31", "no such day"),
            ("2023-13", "month"),
            ("2023-00-10", "month"),
            ("2023-01-00", "no such day"),
            ("0000", "year"),
        ],
    )
    def test_impossible(self, text: str, reason: str) -> None:
        """Well-formed but impossible dates are invalid-date errors saying why."""
        issues = IssueLog()
        assert parse_date(text, PATH, issues=issues) is None
        issue = one_issue(issues)
        assert issue.code == IssueCode.INVALID_DATE
        assert reason in issue.message
        assert text not in issue.message


class TestParseDatetime:
    """FHIR dateTime: a partial date, or a date and time with an offset."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2015", PartialDate(2015)),
            ("2015-02", PartialDate(2015, 2)),
            ("2015-02-07", PartialDate(2015, 2, 7)),
        ],
    )
    def test_partial_stays_partial(self, text: str, expected: PartialDate) -> None:
        """A dateTime without a time is a PartialDate of its precision."""
        issues = IssueLog()
        assert parse_datetime(text, "X.effectiveDateTime", issues=issues) == expected
        assert len(issues) == 0

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "2015-02-07T13:28:17-05:00",
                dt.datetime(2015, 2, 7, 13, 28, 17, tzinfo=EST),
            ),
            ("2015-02-07T13:28:17Z", dt.datetime(2015, 2, 7, 13, 28, 17, tzinfo=dt.UTC)),
            ("2015-02-07T13:28:17+00:00", dt.datetime(2015, 2, 7, 13, 28, 17, tzinfo=dt.UTC)),
            ("2015-02-07T13:28:17-00:00", dt.datetime(2015, 2, 7, 13, 28, 17, tzinfo=dt.UTC)),
            (
                "2015-02-07T13:28:17.5+05:30",
                dt.datetime(
                    2015, 2, 7, 13, 28, 17, 500000, tzinfo=dt.timezone(dt.timedelta(hours=5.5))
                ),
            ),
            ("2015-02-07T13:28:17.1Z", dt.datetime(2015, 2, 7, 13, 28, 17, 100000, tzinfo=dt.UTC)),
            (
                "2015-02-07T13:28:17.123456789Z",
                dt.datetime(2015, 2, 7, 13, 28, 17, 123456, tzinfo=dt.UTC),
            ),
            (
                "2015-02-07T13:28:17.000000999Z",
                dt.datetime(2015, 2, 7, 13, 28, 17, 0, tzinfo=dt.UTC),
            ),
            ("2024-02-29T00:00:00+14:00", dt.datetime(2024, 2, 28, 10, 0, tzinfo=dt.UTC)),
            ("2024-02-29T23:59:59-12:00", dt.datetime(2024, 3, 1, 11, 59, 59, tzinfo=dt.UTC)),
        ],
    )
    def test_with_time(self, text: str, expected: dt.datetime) -> None:
        """A date and time with Z or an offset is an aware datetime at that instant."""
        issues = IssueLog()
        result = parse_datetime(text, "X.effectiveDateTime", issues=issues)
        assert isinstance(result, dt.datetime)
        assert result == expected
        assert result.utcoffset() is not None
        assert len(issues) == 0

    def test_offset_is_kept(self) -> None:
        """The written offset is kept on the result, not converted to UTC."""
        result = parse_datetime("2015-02-07T13:28:17-05:00", "p", issues=IssueLog())
        assert isinstance(result, dt.datetime)
        assert result.utcoffset() == dt.timedelta(hours=-5)
        assert result.hour == 13

    def test_leap_second(self) -> None:
        """A leap second (:60) becomes the first instant of the next minute."""
        result = parse_datetime("2016-12-31T23:59:60Z", "p", issues=IssueLog())
        assert result == dt.datetime(2017, 1, 1, tzinfo=dt.UTC)

    def test_naive_without_default_is_error(self) -> None:
        """A time without an offset and no default zone is a naive-datetime error."""
        issues = IssueLog()
        assert (
            parse_datetime("2015-02-07T13:28:17", "Encounter.period.start", issues=issues) is None
        )
        issue = one_issue(issues)
        assert (issue.code, issue.severity, issue.path) == (
            IssueCode.NAIVE_DATETIME,
            Severity.ERROR,
            "Encounter.period.start",
        )

    def test_naive_with_default_is_warning(self) -> None:
        """With default_tz the time is read in that zone, with a naive-datetime warning."""
        issues = IssueLog()
        result = parse_datetime("2015-02-07T13:28:17.25", "p", issues=issues, default_tz=EST)
        assert result == dt.datetime(2015, 2, 7, 13, 28, 17, 250000, tzinfo=EST)
        issue = one_issue(issues)
        assert (issue.code, issue.severity) == (IssueCode.NAIVE_DATETIME, Severity.WARNING)

    def test_default_tz_ignored_when_offset_given(self) -> None:
        """An explicit offset wins over default_tz, and there is no warning."""
        issues = IssueLog()
        result = parse_datetime("2015-02-07T13:28:17Z", "p", issues=issues, default_tz=EST)
        assert isinstance(result, dt.datetime)
        assert result.utcoffset() == dt.timedelta(0)
        assert len(issues) == 0

    @pytest.mark.parametrize(
        "text",
        [
            "2015-02-07T13:28Z",  # no seconds
            "2015-02-07T13Z",
            "2015-02-07 13:28:17Z",
            "2015-02T13:28:17Z",
            "T13:28:17Z",
            "2015-02-07T13:28:17.Z",
            "2015-02-07T13:28:17+0500",
            "2015-02-07T13:28:17+05",
            "2015-02-07T1:28:17Z",
            "2015-02-07t13:28:17z",
        ],
    )
    def test_malformed(self, text: str) -> None:
        """Other forms are invalid-date errors."""
        issues = IssueLog()
        assert parse_datetime(text, "p", issues=issues) is None
        issue = one_issue(issues)
        assert issue.code == IssueCode.INVALID_DATE
        assert "dateTime" in issue.message

    @pytest.mark.parametrize(
        "text",
        [
            "2023-02-29T10:00:00Z",
            "2023-02-30T10:00:00+01:00",
            "2023-01-01T24:00:00Z",
            "2023-01-01T10:60:00Z",
            "2023-01-01T10:00:61Z",
            "2023-02-30",
            "2023-01-01T10:00:00+14:30",
            "2023-01-01T10:00:00+15:00",
            "2023-01-01T10:00:00+05:60",
            "0000-01-01T00:00:00Z",
        ],
    )
    def test_impossible(self, text: str) -> None:
        """Impossible dates, times and offsets are invalid-date errors."""
        issues = IssueLog()
        assert parse_datetime(text, "p", issues=issues) is None
        assert one_issue(issues).code == IssueCode.INVALID_DATE

    def test_wrong_type(self) -> None:
        """A number is a wrong-type error."""
        issues = IssueLog()
        assert parse_datetime(20150207, "p", issues=issues) is None
        assert one_issue(issues).code == IssueCode.WRONG_TYPE


class TestParseInstant:
    """FHIR instant: always a full date, time to the second and an offset."""

    def test_valid(self) -> None:
        """A full instant is an aware datetime."""
        issues = IssueLog()
        result = parse_instant("2019-05-31T16:12:43.815-04:00", "Bundle.timestamp", issues=issues)
        assert result == dt.datetime(
            2019, 5, 31, 16, 12, 43, 815000, tzinfo=dt.timezone(dt.timedelta(hours=-4))
        )
        assert len(issues) == 0

    @pytest.mark.parametrize("text", ["2019", "2019-05", "2019-05-31", "2019-05-31T16:12Z"])
    def test_partial_is_invalid(self, text: str) -> None:
        """Anything less than a full instant is an invalid-date error."""
        issues = IssueLog()
        assert parse_instant(text, "p", issues=issues) is None
        issue = one_issue(issues)
        assert issue.code == IssueCode.INVALID_DATE
        assert "instant" in issue.message

    def test_naive(self) -> None:
        """Without an offset: an error, or a warning when a default zone is given."""
        issues = IssueLog()
        assert parse_instant("2019-05-31T16:12:43", "p", issues=issues) is None
        assert one_issue(issues).severity == Severity.ERROR
        issues = IssueLog()
        result = parse_instant("2019-05-31T16:12:43", "p", issues=issues, default_tz=dt.UTC)
        assert result == dt.datetime(2019, 5, 31, 16, 12, 43, tzinfo=dt.UTC)
        assert one_issue(issues).severity == Severity.WARNING

    def test_absent_and_impossible(self) -> None:
        """None gives None silently; an impossible instant is an invalid-date error."""
        issues = IssueLog()
        assert parse_instant(None, "p", issues=issues) is None
        assert len(issues) == 0
        assert parse_instant("2019-02-29T00:00:00Z", "p", issues=issues) is None
        assert one_issue(issues).code == IssueCode.INVALID_DATE
