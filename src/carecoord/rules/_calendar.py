"""Business days: Monday to Friday minus the holidays the user passes, or a named set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Iterable
from types import ModuleType
from typing import Any

import attrs

from carecoord.errors import MissingExtraError, NotFound, Problem, ValidationError

__all__ = ["HOLIDAY_SETS", "BusinessCalendar", "us_federal_holidays"]

_MAX_SCAN_DAYS = 3660
"""How far add_business_days scans before concluding the calendar has no business days."""


def _holidays(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Container):
        raise ValidationError(Problem(attribute.name, "expected a container of dates"))


def _workdays(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, frozenset)
        or not value
        or not all(isinstance(d, int) and 0 <= d <= 6 for d in value)
    ):
        raise ValidationError(
            Problem(attribute.name, "a non-empty frozenset of weekday numbers (Monday=0..Sunday=6)")
        )


def _holidays_repr(value: object) -> str:
    if isinstance(value, _HolidaySet):
        return repr(value)
    try:
        count = len(value)  # type: ignore[arg-type]
    except TypeError:
        return f"<{type(value).__name__}>"
    return f"<{count} dates>"


def _check_date(value: object, name: str = "day") -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(
            Problem(name, "expected a date (take the local date of an instant first)")
        )
    return value


@attrs.frozen
class BusinessCalendar:
    """Which days are business days: ``workdays`` (Monday to Friday) minus ``holidays``.

    ``holidays`` is any container of dates: a set, or an object from the ``holidays``
    package (``holidays.US(years=2026)``), or :func:`us_federal_holidays`. The default
    calendar has weekends only. Dates are local calendar dates: take the local date of an
    instant (:meth:`RuleContext.local_date`) before asking.

    >>> cal = BusinessCalendar()
    >>> cal.add_business_days(dt.date(2026, 7, 2), 2)  # Thursday + 2 business days
    datetime.date(2026, 7, 6)

    :meth:`named` builds the calendar of a holiday set by name (``"us"``).
    """

    holidays: Container[dt.date] = attrs.field(
        default=frozenset(), validator=_holidays, repr=_holidays_repr, hash=False
    )
    workdays: frozenset[int] = attrs.field(default=frozenset({0, 1, 2, 3, 4}), validator=_workdays)

    @classmethod
    def named(cls, name: str) -> BusinessCalendar:
        """Monday to Friday minus the holiday set called ``name`` (see :data:`HOLIDAY_SETS`).

        ``"us"`` is the US federal holidays with observed days (:func:`us_federal_holidays`),
        for every year, each computed the first time a date of that year is asked. Two
        calendars of the same name are equal.

        >>> BusinessCalendar.named("us").next_business_day(dt.date(2026, 7, 3))
        datetime.date(2026, 7, 6)

        Raises:
            NotFound: ``name`` is not one of :data:`HOLIDAY_SETS` (the message lists them).
            MissingExtraError: the ``holidays`` package is not installed (``pip install
                'carecoord[holidays]'``); raised here, not when a date is first asked.
        """
        key: object = name  # checked at run time: callers are not always typed
        dates = _HOLIDAY_SETS.get(key) if isinstance(key, str) else None
        if dates is None:
            known = ", ".join(HOLIDAY_SETS)
            msg = f"no holiday set {name!r} (known: {known})"
            raise NotFound(msg)
        _holidays_package()
        return cls(holidays=_HolidaySet(name, dates))

    def is_business_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a workday and not a holiday."""
        day = _check_date(day)
        return day.weekday() in self.workdays and day not in self.holidays

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """The date ``n`` business days after ``day`` (before it when ``n`` is negative).

        ``day`` itself is not counted, so Thursday + 2 is the next Monday on a
        weekends-only calendar; ``n == 0`` returns ``day`` unchanged.
        """
        day = _check_date(day)
        step = dt.timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        scanned = 0
        while remaining:
            day += step
            scanned += 1
            if scanned > _MAX_SCAN_DAYS + abs(n) * 7:
                raise ValidationError(Problem("holidays", "no business days in the calendar"))
            if self.is_business_day(day):
                remaining -= 1
        return day

    def next_business_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a business day, else the next one."""
        day = _check_date(day)
        return day if self.is_business_day(day) else self.add_business_days(day, 1)

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many business days fall after ``start`` up to and including ``end``.

        Negative when ``end`` is before ``start``.
        """
        start = _check_date(start, "start")
        end = _check_date(end, "end")
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_business_day(day)
        return sign * count


def us_federal_holidays(years: int | Iterable[int]) -> frozenset[dt.date]:
    """US federal holidays (with observed days) for ``years``, from the ``holidays`` package.

    Needs the optional extra: ``pip install 'carecoord[holidays]'``; raises
    :class:`~carecoord.errors.MissingExtraError` naming it when absent. Pass every year
    your evaluations touch (a window that crosses New Year needs both years).

    >>> dt.date(2026, 7, 3) in us_federal_holidays(2026)  # Independence Day, observed
    True
    """
    holidays = _holidays_package()
    wanted = [years] if isinstance(years, int) else sorted(set(years))
    calendar = holidays.country_holidays("US", years=wanted)
    return frozenset(calendar.keys())


def _holidays_package() -> ModuleType:
    """The ``holidays`` package; :class:`~carecoord.errors.MissingExtraError` when absent."""
    try:
        import holidays  # noqa: PLC0415 (optional extra, imported lazily)
    except ImportError:
        raise MissingExtraError("holidays", "holidays") from None
    return holidays


class _HolidaySet(Container[dt.date]):
    """The dates of a named holiday set, computed one year at a time, when first asked."""

    __slots__ = ("_dates", "_years", "name")

    def __init__(self, name: str, dates: Callable[[int], frozenset[dt.date]]) -> None:
        self.name = name
        self._dates = dates
        self._years: dict[int, frozenset[dt.date]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        year = self._years.get(day.year)
        if year is None:
            year = self._years[day.year] = self._dates(day.year)
        return day in year

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _HolidaySet) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<{self.name} holidays>"


_HOLIDAY_SETS: dict[str, Callable[[int], frozenset[dt.date]]] = {"us": us_federal_holidays}

HOLIDAY_SETS: tuple[str, ...] = tuple(_HOLIDAY_SETS)
"""The names :meth:`BusinessCalendar.named` accepts: ``("us",)``."""
