"""HL7 timestamps of every precision, with and without an offset."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from carecoord.domain import PartialDate
from carecoord.hl7v2._time import Naive, parse_ts

PLUS_2_15 = dt.timezone(dt.timedelta(hours=2, minutes=15))


class TestPrecision:
    """Dates keep their precision; times need an offset."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026", PartialDate(2026)),
            ("202603", PartialDate(2026, 3)),
            ("20260307", PartialDate(2026, 3, 7)),
            ("20260307+0200", PartialDate(2026, 3, 7)),
        ],
    )
    def test_dates(self, text: str, expected: PartialDate) -> None:
        """YYYY, YYYYMM and YYYYMMDD are partial dates of year, month and day precision."""
        assert parse_ts(text, None) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026030709+0215", dt.datetime(2026, 3, 7, 9, tzinfo=PLUS_2_15)),
            ("202603070930+0215", dt.datetime(2026, 3, 7, 9, 30, tzinfo=PLUS_2_15)),
            ("20260307093015+0215", dt.datetime(2026, 3, 7, 9, 30, 15, tzinfo=PLUS_2_15)),
            (
                "20260307093015.1234+0215",
                dt.datetime(2026, 3, 7, 9, 30, 15, 123400, tzinfo=PLUS_2_15),
            ),
            ("20260307093015.5-0500", dt.datetime(2026, 3, 7, 14, 30, 15, 500000, tzinfo=dt.UTC)),
        ],
    )
    def test_times_with_offsets(self, text: str, expected: dt.datetime) -> None:
        """Hours, minutes, seconds and up to four fractional digits, with the offset."""
        assert parse_ts(text, None) == expected

    def test_naive_without_default(self) -> None:
        """A time without an offset and no default_tz cannot be placed."""
        assert isinstance(parse_ts("202603070930", None), Naive)

    def test_default_tz_is_wall_clock(self) -> None:
        """With a zoneinfo default, the wall-clock time is read in that zone."""
        zone = zoneinfo.ZoneInfo("America/Chicago")

        value = parse_ts("202607010930", zone)

        assert value == dt.datetime(2026, 7, 1, 9, 30, tzinfo=zone)

    @pytest.mark.parametrize(
        "text", ["", "26", "20261301", "20260230", "2026030725+0000", "20260307+9900x", "abcd"]
    )
    def test_invalid(self, text: str) -> None:
        """Malformed or impossible values are None."""
        assert parse_ts(text, dt.UTC) is None


class TestFastPath:
    """Timestamps of plain digits (the common case) read as the general parser reads them."""

    @pytest.mark.parametrize(
        "text",
        [
            "2026",
            "202613",
            "20260230",
            "20260307",
            "20260307+2400",
            "2026030709",
            "2026030724",
            "202603070960",
            "20260307093015",
            "20260307093061",
            "20260307093015+0215",
            "20260307093015-0500",
            "20260307093015+2400",
            "20260307093015+0060",
            "00000101",
            "000001011200+0000",
            " 20260307093015+0215 ",
            "2026030709301",
            "20260307093015.5",
            "2026-03-07",
            "٢٠٢٦٠٣٠٧",
        ],
    )
    @pytest.mark.parametrize("tz", [None, zoneinfo.ZoneInfo("America/New_York")])
    def test_same_as_general(self, text: str, tz: dt.tzinfo | None) -> None:
        """Every answer (date, instant, naive, None) equals the regex-based reading's."""
        from carecoord.hl7v2._time import _parse

        fast = parse_ts(text, tz)
        general = _parse(text.strip(), tz)
        assert fast == general
        assert type(fast) is type(general)
        if isinstance(fast, dt.datetime) and isinstance(general, dt.datetime):
            assert fast.utcoffset() == general.utcoffset()
