"""HL7 v2 timestamps (TS, DTM, DT) of every precision, with and without an offset.

``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]``. A value with no time of day is a date
of year, month or day precision (a :class:`~carecoord.domain.PartialDate`, which keeps that
precision); one with a time of day is an instant, which needs an offset: the one it
carries, else the reader's ``default_tz``, else it cannot be placed in time and the
reader reports ``naive-datetime``. Since v2.5 a TS has a second component (the degree of
precision, deprecated): it is ignored, as the value's length says the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from carecoord.domain import PartialDate
from carecoord.errors import ValidationError

__all__ = ["HL7Time", "Naive", "parse_ts", "start_of_day"]

_TS = re.compile(
    r"(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,4}))?)?)?)?)?)?"
    r"(?P<z>[+-]\d{4})?\Z"
)


class Naive:
    """A date-time written without an offset when no ``default_tz`` was given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Naive()"


NAIVE = Naive()

HL7Time = dt.datetime | PartialDate
"""What a timestamp reads as: an aware instant, or a date of year/month/day precision."""


def parse_ts(text: str, default_tz: dt.tzinfo | None) -> HL7Time | Naive | None:
    """Read an HL7 timestamp; None when it is malformed or names an impossible time.

    Returns a :class:`PartialDate` when the value has no time of day (an offset on a bare
    date is ignored), an aware ``datetime`` when it has one and an offset (or when
    ``default_tz`` supplies it), and :data:`NAIVE` when it has a time but no offset and no
    ``default_tz`` was given.
    """
    text = text.strip()
    zone = text[-5:] if len(text) > 5 and text[-5] in "+-" else ""
    body = text[:-5] if zone else text
    if len(body) in _FAST_LENGTHS and body.isascii() and body.isdigit():
        if not zone:
            return _plain(body, default_tz)
        if zone[1:].isascii() and zone[1:].isdigit():
            return _with_offset(body, zone)
    return _parse(text, default_tz)


_FAST_LENGTHS = frozenset({4, 6, 8, 10, 12, 14})


def _parse(text: str, default_tz: dt.tzinfo | None) -> HL7Time | Naive | None:
    """The general case of :func:`parse_ts` (fractions of a second, odd lengths)."""
    m = _TS.match(text)
    if m is None:
        return None
    year = int(m["y"])
    try:
        if m["h"] is None:
            return PartialDate(
                year, int(m["mo"]) if m["mo"] else None, int(m["d"]) if m["d"] else None
            )
        tz: dt.tzinfo | None
        if m["z"]:
            sign = -1 if m["z"][0] == "-" else 1
            hours, minutes = int(m["z"][1:3]), int(m["z"][3:5])
            if hours > 23 or minutes > 59:
                return None
            tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        else:
            tz = default_tz
        fraction = m["f"] or ""
        micro = int((fraction + "000000")[:6]) if fraction else 0
        naive = dt.datetime(
            year,
            int(m["mo"]),
            int(m["d"]),
            int(m["h"]),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            micro,
            tzinfo=dt.UTC,
        ).replace(tzinfo=None)
    except (ValueError, ValidationError):
        return None
    if tz is None:
        return NAIVE
    if m["z"]:
        return naive.replace(tzinfo=tz)
    return _localize(naive, tz)


def _date(body: str) -> PartialDate | None:
    """A date of year, month or day precision from 4, 6 or 8 ASCII digits."""
    size = len(body)
    try:
        return PartialDate(
            int(body[:4]),
            int(body[4:6]) if size >= 6 else None,
            int(body[6:8]) if size >= 8 else None,
        )
    except (ValueError, ValidationError):
        return None


def _instant(body: str, tz: dt.tzinfo | None) -> dt.datetime | None:
    """The wall-clock time 10, 12 or 14 ASCII digits write, in ``tz`` (naive when None)."""
    size = len(body)
    try:
        return dt.datetime(
            int(body[:4]),
            int(body[4:6]),
            int(body[6:8]),
            int(body[8:10]),
            int(body[10:12]) if size >= 12 else 0,
            int(body[12:14]) if size >= 14 else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _offset(zone: str) -> dt.timezone | None:
    """The fixed offset ``+HHMM``/``-HHMM`` names, or None when out of range."""
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if zone[0] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _plain(body: str, default_tz: dt.tzinfo | None) -> HL7Time | Naive | None:
    """All digits, no offset: a date, or a time in ``default_tz`` (else :data:`NAIVE`)."""
    if len(body) <= 8:
        return _date(body)
    value = _instant(body, default_tz)
    if value is None:
        return None
    return NAIVE if default_tz is None else value


def _with_offset(body: str, zone: str) -> HL7Time | None:
    """All digits and an offset (ignored on a bare date)."""
    if len(body) <= 8:
        return _date(body)
    tz = _offset(zone)
    if tz is None:
        return None
    return _instant(body, tz)


def _localize(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``naive`` read as wall-clock time in ``tz`` (a zoneinfo or a fixed offset)."""
    return naive.replace(tzinfo=tz)


def start_of_day(value: PartialDate, default_tz: dt.tzinfo | None) -> dt.datetime:
    """The first instant of a partial date, in ``default_tz`` (else UTC)."""
    day = value.earliest()
    return dt.datetime(day.year, day.month, day.day, tzinfo=default_tz or dt.UTC)
