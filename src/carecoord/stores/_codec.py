"""Canonical JSON for what a store keeps besides patient records.

Patient records are written with :func:`carecoord.serialization.dumps` (the canonical
document, with its schema envelope). The other port values (gap states, task entries,
ledger lines, events...) are written as the bare ``data`` part of the same canonical
format, by a converter made with :func:`carecoord.serialization.make_converter` plus two
shapes the domain models do not use: a calendar date (``"YYYY-MM-DD"``) and a field that
holds a date or an aware datetime (a datetime when the string has a ``T``). Writing
validates like the serialization module does: a value the format cannot write raises
:class:`carecoord.errors.ValidationError` before anything reaches the store.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from functools import cache
from typing import Any, TypeVar

import cattrs

from carecoord.errors import Problem, StoreError, ValidationError
from carecoord.serialization import make_converter

__all__ = ["decode", "encode"]

T = TypeVar("T")

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHEN = frozenset({dt.date, dt.datetime})


def _structure_date(value: object, _: object) -> dt.date:
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValidationError(Problem("", "expected a date written YYYY-MM-DD"))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(Problem("", "not a calendar date")) from None


def _unstructure_date(value: object) -> str:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(Problem("", f"expected a date, got {type(value).__name__}"))
    return value.isoformat()


def _is_when(tp: object) -> bool:
    """``date | datetime`` (optionally ``| None``)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    args = set(typing.get_args(tp)) - {type(None)}
    return args == _WHEN


@cache
def _converter() -> cattrs.Converter:
    converter = make_converter()
    converter.register_structure_hook(dt.date, _structure_date)
    converter.register_unstructure_hook(dt.date, _unstructure_date)

    def structure_when(value: object, tp: object) -> dt.date | dt.datetime | None:
        if value is None and type(None) in typing.get_args(tp):
            return None
        if isinstance(value, str) and "T" in value:
            result: dt.datetime = converter.structure(value, dt.datetime)
            return result
        return _structure_date(value, dt.date)

    def unstructure_when(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            text: str = converter.unstructure(value, unstructure_as=dt.datetime)
            return text
        return _unstructure_date(value)

    converter.register_structure_hook_func(_is_when, structure_when)
    converter.register_unstructure_hook_func(_is_when, unstructure_when)
    return converter


def encode(obj: Any) -> str:
    """The compact canonical JSON of a port value (``ValidationError`` if it cannot be)."""
    cls = type(obj)
    try:
        data = _converter().unstructure(obj, unstructure_as=cls)
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValidationError as exc:
        raise ValidationError(exc.problems, what=cls.__name__) from None
    except (TypeError, ValueError):
        raise ValidationError(
            Problem("", "holds a value the store cannot write"), what=cls.__name__
        ) from None


def decode(text: str, cls: type[T]) -> T:
    """Read a port value back; a damaged row raises :class:`StoreError` (no data echoed)."""
    try:
        result: T = _converter().structure(json.loads(text), cls)
    except Exception:  # a row the store itself wrote: anything else is damage
        msg = f"a stored {cls.__name__} cannot be read back (the store is damaged)"
        raise StoreError(msg) from None
    return result
