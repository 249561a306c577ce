"""Checks of the writers' arguments: a wrong type is a :class:`~carecoord.errors.UsageError`.

The writers are called with the library's own objects; a list of something else (a dict,
a record's id) would fail deep inside with an ``AttributeError``. These checks say which
argument is wrong instead, naming its type and never its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from carecoord.errors import UsageError

__all__ = ["checked_items", "checked_one"]

T = TypeVar("T")


def checked_one(value: object, kinds: type[T] | tuple[type[Any], ...], what: str) -> T:
    """``value`` when it is one of ``kinds``; a :class:`UsageError` naming ``what`` if not."""
    if not isinstance(value, kinds):
        msg = f"{what} must be {_names(kinds)}, not {type(value).__name__}"
        raise UsageError(msg)
    return value


def checked_items(value: object, kinds: type[T] | tuple[type[Any], ...], what: str) -> list[T]:
    """The items of an iterable ``value``, each one of ``kinds`` (else a :class:`UsageError`)."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        msg = f"{what} must be an iterable of {_names(kinds)}, not {type(value).__name__}"
        raise UsageError(msg)
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, kinds):
            msg = f"{what}[{index}] is {_a(type(item).__name__)}, not {_names(kinds)}"
            raise UsageError(msg)
    return items


def _names(kinds: type[Any] | tuple[type[Any], ...]) -> str:
    found = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(_a(kind.__name__) for kind in found)


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"
