"""FHIR R4 date and time primitives, parsed with issues instead of exceptions.

Each parser takes the JSON value, the FHIR path it was found at, the
:class:`~carecoord.fhir._issues.IssueLog` to report to and the source label. ``None`` in
gives ``None`` out with no issue (the element is absent); anything that cannot be read
gives ``None`` and one issue. Messages never repeat the value.

* ``date`` (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) becomes a
  :class:`~carecoord.domain.PartialDate`;
* ``dateTime`` becomes a ``PartialDate`` when it has no time, else an aware
  :class:`datetime.datetime`; a time without an offset is not valid FHIR and is only
  accepted (with a ``naive-datetime`` warning) when a default time zone is given;
* ``instant`` (always to the second, with an offset) becomes an aware datetime.

Fractional seconds may have any number of digits (kept to the microsecond, truncated); a
leap second (``:60``) becomes the first instant of the next minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from carecoord.domain import PartialDate
from carecoord.errors import ValidationError, json_kind
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity

__all__ = ["parse_date", "parse_datetime", "parse_instant"]

_DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)
_DATETIME_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?)?"
    r")?)?",
    re.ASCII,
)
_DATE_FORMAT = "YYYY, YYYY-MM or YYYY-MM-DD"
_DATETIME_FORMAT = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff]+zz:zz"
_INSTANT_FORMAT = "YYYY-MM-DDThh:mm:ss[.fff]+zz:zz (date, time to the second and time zone)"
_MAX_OFFSET = dt.timedelta(hours=14)


def parse_date(
    value: object,
    path: str,
    *,
    issues: IssueLog,
    source: str = "<input>",
) -> PartialDate | None:
    """Parse a FHIR ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``).

    Reports ``wrong-type`` for a non-string and ``invalid-date`` for any other form
    (including a dateTime with a time) or an impossible date such as 2023-02-30.
    """
    text = _text(value, path, "date", issues, source)
    if text is None:
        return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        _invalid(path, f"not a FHIR date (expected {_DATE_FORMAT})", issues, source)
        return None
    return _partial(match[1], match[2], match[3], path=path, issues=issues, source=source)


def parse_datetime(
    value: object,
    path: str,
    *,
    issues: IssueLog,
    source: str = "<input>",
    default_tz: dt.tzinfo | None = None,
) -> dt.datetime | PartialDate | None:
    """Parse a FHIR ``dateTime``: a :class:`PartialDate` without a time, else an aware datetime.

    A time of day without an offset is interpreted in ``default_tz`` with a
    ``naive-datetime`` warning, or, without ``default_tz``, reported as a
    ``naive-datetime`` error (``None``). Malformed text and impossible dates or times are
    ``invalid-date`` errors.
    """
    text = _text(value, path, "dateTime", issues, source)
    if text is None:
        return None
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        _invalid(path, f"not a FHIR dateTime (expected {_DATETIME_FORMAT})", issues, source)
        return None
    if match[4] is None:
        return _partial(match[1], match[2], match[3], path=path, issues=issues, source=source)
    return _instant(
        match, path=path, issues=issues, source=source, default_tz=default_tz, kind="dateTime"
    )


def parse_instant(
    value: object,
    path: str,
    *,
    issues: IssueLog,
    source: str = "<input>",
    default_tz: dt.tzinfo | None = None,
) -> dt.datetime | None:
    """Parse a FHIR ``instant``: full date, time to the second and offset, as an aware datetime.

    A partial date is an ``invalid-date`` error; a missing offset is treated as for
    :func:`parse_datetime`.
    """
    text = _text(value, path, "instant", issues, source)
    if text is None:
        return None
    match = _DATETIME_RE.fullmatch(text)
    if match is None or match[4] is None:
        _invalid(path, f"not a FHIR instant (expected {_INSTANT_FORMAT})", issues, source)
        return None
    return _instant(
        match, path=path, issues=issues, source=source, default_tz=default_tz, kind="instant"
    )


def _text(value: object, path: str, kind: str, issues: IssueLog, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        issues.add(
            path,
            IssueCode.WRONG_TYPE,
            f"a FHIR {kind} is a JSON string, got {json_kind(value)}",
            source=source,
        )
        return None
    return value


def _invalid(path: str, message: str, issues: IssueLog, source: str) -> None:
    issues.add(path, IssueCode.INVALID_DATE, message, source=source)


def _partial(
    year: str,
    month: str | None,
    day: str | None,
    *,
    path: str,
    issues: IssueLog,
    source: str,
) -> PartialDate | None:
    try:
        return PartialDate(int(year), int(month) if month else None, int(day) if day else None)
    except ValidationError as err:
        what = err.problems[0].path if err.problems else ""
        reason = {
            "year": "year out of range (0001-9999)",
            "month": "month out of range (01-12)",
            "day": "no such day in that month",
        }.get(what, "impossible date")
        _invalid(path, reason, issues, source)
        return None


def _instant(
    match: re.Match[str],
    *,
    path: str,
    issues: IssueLog,
    source: str,
    default_tz: dt.tzinfo | None,
    kind: str,
) -> dt.datetime | None:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz: dt.tzinfo | None
    if offset is None:
        if default_tz is None:
            issues.add(
                path,
                IssueCode.NAIVE_DATETIME,
                f"{kind} has a time but no time-zone offset (FHIR requires one)",
                source=source,
            )
            return None
        tz = default_tz
    else:
        tz = _offset(offset)
        if tz is None:
            _invalid(path, "time-zone offset out of range (-14:00 to +14:00)", issues, source)
            return None
    leap = second == "60"
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            59 if leap else int(second),
            0 if leap else micro,
            tzinfo=tz,
        )
    except ValueError:
        _invalid(path, f"no such date or time of day in this {kind}", issues, source)
        return None
    if leap:
        value += dt.timedelta(seconds=1)
    if offset is None:
        issues.add(
            path,
            IssueCode.NAIVE_DATETIME,
            f"{kind} has a time but no time-zone offset; read in the default time zone",
            severity=IssueSeverity.WARNING,
            source=source,
        )
    return value


@functools.lru_cache(maxsize=256)
def _offset(text: str) -> dt.tzinfo | None:
    """The fixed-offset time zone of ``Z`` or ``±hh:mm`` (``None`` when out of range).

    Cached: one ``timezone`` object per offset text instead of one per value read.
    """
    if text == "Z":
        return dt.UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes > 59:
        return None
    delta = dt.timedelta(hours=hours, minutes=minutes)
    if delta > _MAX_OFFSET:
        return None
    if not delta:
        return dt.UTC
    return dt.timezone(-delta if text[0] == "-" else delta)
