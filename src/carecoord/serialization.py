"""Canonical JSON for every carecoord domain model.

Every document has the same envelope::

    {"schema": "carecoord/1", "type": "PatientRecord", "data": {...}}

``schema`` names the format and its version (:data:`SCHEMA_VERSION`), ``type`` the class
of the top-level object, and ``data`` the object itself, written as follows:

* aware datetimes as ISO 8601 strings with their UTC offset
  (``"2026-03-02T14:00:00+00:00"``); naive datetimes are refused both ways;
* :class:`~carecoord.domain.PartialDate` as ``"YYYY"``, ``"YYYY-MM"`` or ``"YYYY-MM-DD"``;
  a field that may hold either (a clinical time) is read as a datetime when the string
  has a ``T``, as a partial date otherwise;
* ``Result.value`` (a quantity, a code or text) by shape: an object with ``"value"`` is
  a :class:`~carecoord.domain.Quantity`, an object with ``"system"`` a
  :class:`~carecoord.domain.Code`, a string is text;
* enums by value; tuples as arrays; frozensets as arrays sorted by value, so the output
  of :func:`dumps` is deterministic;
* every field is written, ``None`` as ``null`` (nothing is omitted, so a document shows
  its whole shape); on input a field with a default may be left out.

Input is read strictly: unknown fields, wrong JSON types (a number where a string is
expected, a string where an array is expected...), malformed dates and invalid enum
values are problems. Every problem found is reported at once, in one
:class:`carecoord.ValidationError`, each with its path inside ``data`` (``history[2].at``,
``tasks[0].status``); the envelope's own problems have the paths ``schema``, ``type`` and
``data``. Messages name fields and expected types, never the offending value: the only
input ever echoed is one of carecoord's own codes (an enum value, as in
``'finished' is not a valid TaskStatus``), a carecoord class name, or an unknown field
name written in snake_case; other unknown keys are counted, not shown. A document from a
newer schema version raises :class:`carecoord.UnsupportedSchemaVersion`.

Datetimes keep their instant and offset, not their zone name: a ``zoneinfo`` datetime
reads back with a fixed offset. It compares equal to the original, except for local times
in a daylight-saving fold or gap, which Python never considers equal across zones (the
instant itself is preserved).

Writing checks the values too: a naive datetime, a non-finite number or a value of the
wrong type in a model raises :class:`carecoord.ValidationError` with its path, so that
whatever :func:`dumps` writes, :func:`loads` reads back.

This module needs cattrs; ``import carecoord`` does not import it. Nothing is registered
on cattrs' global converter: :func:`make_converter` returns a new converter each call and
:func:`configure_converter` configures one you own.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from functools import cache
from typing import Any, Final, NoReturn, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
    StructureHandlerNotFoundError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

import carecoord.domain as _domain
from carecoord.domain import Code, PartialDate, Quantity
from carecoord.errors import (
    Problem,
    UnsupportedSchemaVersion,
    UsageError,
    ValidationError,
    checked_exports,
    json_kind,
)

__all__ = [
    "SCHEMA_VERSION",
    "configure_converter",
    "dumps",
    "from_dict",
    "loads",
    "make_converter",
    "to_dict",
]

T = TypeVar("T")

SCHEMA_VERSION: Final = 1
"""The version of the document format this carecoord writes, and the newest it reads."""

_SCHEMA_NAME: Final = "carecoord"
_SCHEMA_RE = re.compile(r"carecoord/([0-9]{1,9})")
_ENVELOPE_KEYS: Final = ("schema", "type", "data")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?",
)
_PARTIAL_DATE_RE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")
_FIELD_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,63}")

_DATETIME_FORMAT: Final = "expected a date-time written YYYY-MM-DDThh:mm:ss±hh:mm"
_PARTIAL_DATE_FORMAT: Final = "expected a date written YYYY, YYYY-MM or YYYY-MM-DD"

_NONE_TYPE: Final = type(None)
_CLINICAL_TIME_ARGS: Final = frozenset({dt.datetime, PartialDate})
_RESULT_VALUE_ARGS: Final = frozenset({Quantity, Code, str})

_StructureHook = Callable[[Any, Any], Any]
_UnstructureHook = Callable[[Any], Any]


# --------------------------------------------------------------------------- problems


def _fail(message: str, path: str = "") -> NoReturn:
    raise ValidationError(Problem(path, message))


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    if path.startswith("["):
        return prefix + path
    return f"{prefix}.{path}"


def _prefixed(problems: typing.Iterable[Problem], prefix: str) -> list[Problem]:
    return [Problem(_join(prefix, p.path), p.message) for p in problems]


def _note(exc: BaseException, kind: type[T]) -> T | None:
    for note in getattr(exc, "__notes__", ()):
        if note.__class__ is kind:
            return note
    return None


def _problems(exc: BaseException, path: str = "") -> list[Problem]:
    """Every problem ``exc`` carries, with paths placed under ``path``.

    Walks cattrs' exception groups (attribute and index notes give the path), unwraps
    carecoord ValidationErrors raised by hooks and attrs validators, and turns anything
    else into a problem that does not repeat the exception's text (it may hold a value).
    """
    if isinstance(exc, ValidationError):
        return _prefixed(exc.problems, path)
    if isinstance(exc, ClassValidationError):
        found: list[Problem] = []
        for sub in exc.exceptions:
            attribute = _note(sub, AttributeValidationNote)
            if attribute is None:
                found.extend(_problems(sub, path))
            elif type(sub) is KeyError:
                found.append(Problem(_join(path, attribute.name), "missing required field"))
            else:
                found.extend(_problems(sub, _join(path, attribute.name)))
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        for sub in exc.exceptions:
            item = _note(sub, IterableValidationNote)
            found.extend(_problems(sub, path if item is None else f"{path}[{item.index}]"))
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        return _unknown_fields(exc.extra_fields, path)
    if isinstance(exc, BaseExceptionGroup):
        return [p for sub in exc.exceptions for p in _problems(sub, path)]
    if isinstance(exc, StructureHandlerNotFoundError):
        return [Problem(path, "this type cannot be read")]
    if isinstance(exc, RecursionError):
        return [Problem(path, "nested too deeply")]
    return [Problem(path, f"invalid value ({type(exc).__name__})")]


def _unknown_fields(keys: typing.Iterable[object], path: str) -> list[Problem]:
    found: list[Problem] = []
    hidden = 0
    for key in sorted(keys, key=str):
        if isinstance(key, str) and _FIELD_NAME_RE.fullmatch(key):
            found.append(Problem(_join(path, key), "unknown field"))
        else:
            hidden += 1
    if hidden:
        found.append(Problem(path, f"{hidden} unknown field(s) with names that are not shown"))
    return found


@cache
def _vocabulary() -> frozenset[object]:
    """Every domain enum value: carecoord's own codes, safe to echo in messages."""
    return frozenset(
        member.value
        for name in _domain.__all__
        if isinstance(cls := getattr(_domain, name), type) and issubclass(cls, Enum)
        for member in cls
    )


@cache
def _model_names() -> frozenset[str]:
    return frozenset(name for name in _domain.__all__ if attrs.has(getattr(_domain, name)))


# --------------------------------------------------------------------------- scalars


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    _fail(f"expected string, got {json_kind(value, article=False)}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    _fail(f"expected boolean, got {json_kind(value, article=False)}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    _fail(f"expected integer, got {json_kind(value, article=False)}")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"expected number, got {json_kind(value, article=False)}")
    try:
        number = float(value)
    except OverflowError:
        _fail("number out of range")
    if not math.isfinite(number):
        _fail("expected a finite number")
    return number


def _unstructure_str(value: object) -> str:
    if isinstance(value, str):
        return value
    _fail(f"expected a str, got {type(value).__name__}")


def _unstructure_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    _fail(f"expected a bool, got {type(value).__name__}")


def _unstructure_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    _fail(f"expected an int, got {type(value).__name__}")


def _unstructure_float(value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        _fail("not a finite number")
    return value


def _structure_datetime(value: object, _: object) -> dt.datetime:
    if not isinstance(value, str):
        _fail(f"expected a date-time string, got {json_kind(value, article=False)}")
    if _DATETIME_RE.fullmatch(value) is None:
        _fail(_DATETIME_FORMAT)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        _fail("not a valid date-time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        _fail("naive datetime")
    return parsed


def _unstructure_datetime(value: object) -> str:
    if not isinstance(value, dt.datetime):
        _fail(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        _fail("naive datetime")
    return value.isoformat()


def _structure_partial_date(value: object, _: object) -> PartialDate:
    if not isinstance(value, str):
        _fail(f"{_PARTIAL_DATE_FORMAT}, got {json_kind(value, article=False)}")
    if _PARTIAL_DATE_RE.fullmatch(value) is None:
        _fail(_PARTIAL_DATE_FORMAT)
    try:
        return PartialDate.parse(value)
    except ValidationError as exc:
        reasons = "; ".join(str(p) for p in exc.problems)
        _fail(f"not a real date ({reasons})")


def _unstructure_partial_date(value: object) -> str:
    if not isinstance(value, PartialDate):
        _fail(f"expected a PartialDate, got {type(value).__name__}")
    return value.isoformat()


_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_FORMAT: Final = "expected a date written YYYY-MM-DD"


def _structure_date(value: object, _: object) -> dt.date:
    if not isinstance(value, str):
        _fail(f"{_DATE_FORMAT}, got {json_kind(value, article=False)}")
    if _DATE_RE.fullmatch(value) is None:
        _fail(_DATE_FORMAT)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail("not a real date")


def _unstructure_date(value: object) -> str:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        _fail(f"expected a date, got {type(value).__name__}")
    return value.isoformat()


def _is_day_or_instant(tp: object) -> bool:
    """``date | datetime`` (optional or not): a due date that may be a day or an instant."""
    args = _union_args(tp)
    return args is not None and args - {_NONE_TYPE} == {dt.date, dt.datetime}


def _structure_day_or_instant(value: object, tp: object) -> dt.date | dt.datetime | None:
    if value is None and _NONE_TYPE in typing.get_args(tp):
        return None
    if isinstance(value, str) and "T" in value:
        return _structure_datetime(value, dt.datetime)
    return _structure_date(value, dt.date)


def _unstructure_day_or_instant(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _unstructure_datetime(value)
    return _unstructure_date(value)


def _union_args(tp: object) -> frozenset[object] | None:
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    return frozenset(typing.get_args(tp))


def _is_clinical_time(tp: object) -> bool:
    args = _union_args(tp)
    return args is not None and args - {_NONE_TYPE} == _CLINICAL_TIME_ARGS


def _is_result_value(tp: object) -> bool:
    args = _union_args(tp)
    return args is not None and args - {_NONE_TYPE} == _RESULT_VALUE_ARGS


def _structure_clinical_time(value: object, tp: object) -> dt.datetime | PartialDate | None:
    if value is None and _NONE_TYPE in typing.get_args(tp):
        return None
    if not isinstance(value, str):
        _fail(f"expected a date or date-time string, got {json_kind(value, article=False)}")
    if "T" in value:
        return _structure_datetime(value, dt.datetime)
    return _structure_partial_date(value, PartialDate)


def _unstructure_clinical_time(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, dt.datetime):
        return _unstructure_datetime(value)
    _fail(f"expected a datetime or a PartialDate, got {type(value).__name__}")


def _is_homogeneous(tp: object, origin: type) -> bool:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is not origin:
        return False
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis
    return len(args) == 1


def _sort_key(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------- the converter


def make_converter() -> cattrs.Converter:
    """A new converter for carecoord's canonical JSON shapes (never the global one)."""
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    configure_converter(converter)
    return converter


def configure_converter(converter: cattrs.Converter) -> None:
    """Register carecoord's structure and unstructure hooks on ``converter``.

    The hooks are strict (JSON types are checked, not coerced), report every problem at
    once as a :class:`carecoord.ValidationError` with full paths, and write the canonical
    shapes described in the module documentation. Only ``converter`` is changed.
    """
    for cls, structure, unstructure in (
        (str, _structure_str, _unstructure_str),
        (bool, _structure_bool, _unstructure_bool),
        (int, _structure_int, _unstructure_int),
        (float, _structure_float, _unstructure_float),
        (dt.datetime, _structure_datetime, _unstructure_datetime),
        (PartialDate, _structure_partial_date, _unstructure_partial_date),
        (dt.date, _structure_date, _unstructure_date),
    ):
        converter.register_structure_hook(cls, structure)
        converter.register_unstructure_hook(cls, unstructure)

    def structure_result_value(value: object, tp: object) -> Quantity | Code | str | None:
        if value is None and _NONE_TYPE in typing.get_args(tp):
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            if "value" in value:
                return converter.structure(value, Quantity)
            if "system" in value:
                return converter.structure(value, Code)
            _fail('expected a Quantity (an object with "value") or a Code (with "system")')
        _fail(f"expected an object or a string, got {json_kind(value, article=False)}")

    def unstructure_result_value(value: object) -> object:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Quantity | Code):
            return converter.unstructure(value, unstructure_as=type(value))
        _fail(f"expected a Quantity, a Code or a str, got {type(value).__name__}")

    converter.register_structure_hook_func(_is_clinical_time, _structure_clinical_time)
    converter.register_unstructure_hook_func(_is_clinical_time, _unstructure_clinical_time)
    converter.register_structure_hook_func(_is_day_or_instant, _structure_day_or_instant)
    converter.register_unstructure_hook_func(_is_day_or_instant, _unstructure_day_or_instant)
    converter.register_structure_hook_func(_is_result_value, structure_result_value)
    converter.register_unstructure_hook_func(_is_result_value, unstructure_result_value)

    converter.register_structure_hook_factory(_is_enum, _enum_structure)
    converter.register_unstructure_hook_factory(_is_enum, _enum_unstructure)
    converter.register_structure_hook_factory(
        lambda tp: _is_homogeneous(tp, tuple) or _is_homogeneous(tp, frozenset),
        lambda tp: _collection_structure(converter, tp),
    )
    converter.register_unstructure_hook_factory(
        lambda tp: _is_homogeneous(tp, tuple),
        lambda tp: _tuple_unstructure(converter, tp),
    )
    converter.register_unstructure_hook_factory(
        lambda tp: _is_homogeneous(tp, frozenset),
        lambda tp: _frozenset_unstructure(converter, tp),
    )
    converter.register_structure_hook_factory(_is_model, lambda tp: _model_structure(converter, tp))
    converter.register_unstructure_hook_factory(
        _is_model, lambda tp: _model_unstructure(converter, tp)
    )


def _is_enum(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, Enum)


def _enum_structure(cls: type[Enum]) -> _StructureHook:
    values_are_strings = all(isinstance(m.value, str) for m in cls)

    def structure(value: object, _: object) -> Enum:
        if values_are_strings and not isinstance(value, str):
            _fail(f"expected string, got {json_kind(value, article=False)}")
        try:
            return cls(value)
        except (ValueError, TypeError):
            pass
        if isinstance(value, str) and value in _vocabulary():
            _fail(f"{value!r} is not a valid {cls.__name__}")
        _fail(f"value is not a valid {cls.__name__}")

    return structure


def _enum_unstructure(cls: type[Enum]) -> _UnstructureHook:
    def unstructure(value: object) -> object:
        if isinstance(value, cls):
            return value.value
        _fail(f"expected a {cls.__name__}, got {type(value).__name__}")

    return unstructure


def _collection_structure(converter: cattrs.Converter, tp: Any) -> _StructureHook:
    item_type = typing.get_args(tp)[0]
    make: Callable[[list[Any]], Any] = tuple if typing.get_origin(tp) is tuple else frozenset

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, list | tuple):
            _fail(f"expected array, got {json_kind(value, article=False)}")
        hook = converter.get_structure_hook(item_type)
        items: list[Any] = []
        problems: list[Problem] = []
        for index, item in enumerate(value):
            try:
                items.append(hook(item, item_type))
            except Exception as exc:  # every failure becomes a problem
                problems.extend(_problems(exc, f"[{index}]"))
        if problems:
            raise ValidationError(problems)
        return make(items)

    return structure


def _tuple_unstructure(converter: cattrs.Converter, tp: Any) -> _UnstructureHook:
    item_type = typing.get_args(tp)[0]

    def unstructure(value: object) -> list[Any]:
        if not isinstance(value, tuple):
            _fail(f"expected a tuple, got {type(value).__name__}")
        hook = converter.get_unstructure_hook(item_type)
        try:
            return [hook(item) for item in value]
        except Exception:  # locate the failing items, then report them
            problems: list[Problem] = []
            for index, item in enumerate(value):
                try:
                    hook(item)
                except Exception as exc:
                    problems.extend(_problems(exc, f"[{index}]"))
            raise ValidationError(problems) from None

    return unstructure


def _frozenset_unstructure(converter: cattrs.Converter, tp: Any) -> _UnstructureHook:
    item_type = typing.get_args(tp)[0]

    def unstructure(value: object) -> list[Any]:
        if not isinstance(value, frozenset):
            _fail(f"expected a frozenset, got {type(value).__name__}")
        hook = converter.get_unstructure_hook(item_type)
        return sorted((hook(item) for item in value), key=_sort_key)

    return unstructure


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and tp is not PartialDate


@cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _public_fields(cls: type) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if not f.name.startswith("_")]


def _private_omitted(cls: type) -> dict[str, Any]:
    """Overrides leaving out private fields (caches and indexes a class derives itself)."""
    return {f.name: override(omit=True) for f in attrs.fields(cls) if f.name.startswith("_")}


def _model_structure(converter: cattrs.Converter, cls: type[T]) -> _StructureHook:
    generated = make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=True,
        _cattrs_detailed_validation=True,
        **_private_omitted(cls),
    )

    def structure(value: object, _: object) -> T:
        if not isinstance(value, Mapping):
            _fail(f"expected object, got {json_kind(value, article=False)}")
        try:
            return generated(value, cls)
        except ClassValidationError as exc:
            problems = _problems(exc)
            if _failed_in_constructor(exc):
                problems = _validator_problems(converter, cls, value) or problems
            raise ValidationError(problems, what=cls.__name__) from None

    return structure


def _failed_in_constructor(exc: ClassValidationError) -> bool:
    """Whether cattrs read every field and the class itself (a validator) refused them."""
    return len(exc.exceptions) == 1 and (
        _note(exc.exceptions[0], AttributeValidationNote) is None
        and not isinstance(exc.exceptions[0], ForbiddenExtraKeysError)
    )


def _validator_problems(
    converter: cattrs.Converter, cls: type, value: Mapping[str, Any]
) -> list[Problem]:
    """Run each attrs validator on its own, so that every failing field is reported.

    attrs stops at the first failing validator; this finds the others. It returns
    nothing when every validator passes (the constructor's own check failed).
    """
    hints = _type_hints(cls)
    problems: list[Problem] = []
    for field in attrs.fields(cls):
        if field.validator is None or field.name not in value:
            continue
        try:
            field.validator(None, field, converter.structure(value[field.name], hints[field.name]))
        except Exception as exc:  # every failure becomes a problem
            found = _problems(exc)
            problems.extend(
                found if isinstance(exc, ValidationError) else _prefixed(found, field.name)
            )
    return problems


def _model_unstructure(converter: cattrs.Converter, cls: type) -> _UnstructureHook:
    generated: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
        cls, converter, _cattrs_omit_if_default=False, **_private_omitted(cls)
    )
    hints = _type_hints(cls)

    def unstructure(value: object) -> dict[str, Any]:
        if not isinstance(value, cls):
            _fail(f"expected a {cls.__name__}, got {type(value).__name__}")
        try:
            return generated(value)
        except Exception:  # locate the failing fields, then report them
            problems: list[Problem] = []
            for field in _public_fields(cls):
                hook = converter.get_unstructure_hook(hints[field.name])
                try:
                    hook(getattr(value, field.name))
                except Exception as exc:
                    problems.extend(_problems(exc, field.name))
            raise ValidationError(problems, what=cls.__name__) from None

    return unstructure


_CONVERTER: cattrs.Converter | None = None


def _converter() -> cattrs.Converter:
    global _CONVERTER  # noqa: PLW0603 - built on first use, then shared by this module
    if _CONVERTER is None:
        _CONVERTER = make_converter()
    return _CONVERTER


# --------------------------------------------------------------------------- documents


def _check_model(cls: object) -> None:
    origin = typing.get_origin(cls) or cls
    if not (isinstance(origin, type) and attrs.has(origin)):
        kind = cls.__name__ if isinstance(cls, type) else type(cls).__name__
        msg = f"not a carecoord model class: {kind}"
        raise UsageError(msg)


def _name(cls: Any) -> str:
    """The class name of ``cls``, or of a generic alias's class (``Fact[Referral]``: Fact)."""
    return str((typing.get_origin(cls) or cls).__name__)


def _runtime_type(obj: object) -> Any:
    """``obj``'s class, parametrised by its values when it is generic (``Fact[Referral]``)."""
    cls: Any = type(obj)
    params: tuple[Any, ...] = getattr(cls, "__parameters__", ())
    if not params:
        return cls
    bound: dict[Any, type] = {}
    hints = _type_hints(cls)
    for field in attrs.fields(cls):
        hint = hints.get(field.name)
        if isinstance(hint, typing.TypeVar) and hint not in bound:
            bound[hint] = type(getattr(obj, field.name))
    if any(p not in bound for p in params):
        return cls
    return cls[tuple(bound[p] for p in params)]


def to_dict(obj: Any) -> dict[str, Any]:
    """The document for ``obj`` (a domain model), as JSON-compatible Python values.

    Raises :class:`carecoord.ValidationError` when ``obj`` holds something the format
    cannot write (a naive datetime, a non-finite number, a value of the wrong type), and
    :class:`carecoord.UsageError` (a ``TypeError``) when ``obj`` is not an attrs model at
    all.
    """
    _check_model(type(obj))
    cls = _runtime_type(obj)
    try:
        data = _converter().unstructure(obj, unstructure_as=cls)
    except ValidationError as exc:
        raise ValidationError(exc.problems, what=_name(cls)) from None
    return {"schema": f"{_SCHEMA_NAME}/{SCHEMA_VERSION}", "type": _name(cls), "data": data}


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """The canonical JSON text of ``obj`` (see :func:`to_dict`); equal objects give equal text.

    Without ``indent`` the text is compact; with it, pretty-printed. Non-ASCII text is
    written as is (encode the result as UTF-8).
    """
    document = to_dict(obj)
    try:
        return json.dumps(
            document,
            indent=indent,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":") if indent is None else None,
        )
    except ValueError:
        _fail("not a finite number")


def from_dict(data: object, cls: type[T]) -> T:
    """Read a document (as produced by :func:`to_dict`) holding a ``cls``.

    Raises :class:`carecoord.ValidationError` listing every problem, or
    :class:`carecoord.UnsupportedSchemaVersion` for a document from a newer carecoord;
    :class:`carecoord.UsageError` (a ``TypeError``) when ``cls`` is not a model class.
    """
    _check_model(cls)
    what = f"{_name(cls)} document"
    if not isinstance(data, Mapping):
        raise ValidationError(
            Problem(
                "",
                f"expected a carecoord document (an object), got {json_kind(data, article=False)}",
            ),
            what=what,
        )
    problems = _envelope_problems(data, cls)
    if problems:
        raise ValidationError(problems, what=what)
    try:
        return _converter().structure(data["data"], cls)
    except Exception as exc:  # every failure becomes a ValidationError
        raise ValidationError(_problems(exc), what=what) from None


def _envelope_problems(document: Mapping[Any, Any], cls: type) -> list[Problem]:
    problems: list[Problem] = []
    if "schema" not in document:
        problems.append(Problem("schema", "missing required field"))
    else:
        schema = document["schema"]
        match = _SCHEMA_RE.fullmatch(schema) if isinstance(schema, str) else None
        version = int(match.group(1)) if match else 0
        if version > SCHEMA_VERSION:
            raise UnsupportedSchemaVersion(
                Problem(
                    "schema",
                    f"written by a newer carecoord (schema version {version}); "
                    f"this version reads up to {SCHEMA_VERSION}",
                ),
                what="document",
            )
        if version < 1:
            expected = f"{_SCHEMA_NAME}/{SCHEMA_VERSION}"
            problems.append(Problem("schema", f"not a carecoord document; expected {expected!r}"))
    if "type" not in document:
        problems.append(Problem("type", "missing required field"))
    elif (kind := document["type"]) != _name(cls):
        if isinstance(kind, str) and kind in _model_names():
            problems.append(Problem("type", f"expected a {_name(cls)} document, got {kind}"))
        else:
            problems.append(Problem("type", f"expected a {_name(cls)} document"))
    if "data" not in document:
        problems.append(Problem("data", "missing required field"))
    problems.extend(_unknown_fields((k for k in document if k not in _ENVELOPE_KEYS), ""))
    return problems


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError
    return result


def _reject_constant(_: str) -> NoReturn:
    msg = "non-finite number"
    raise ValueError(msg)


def loads(text: str | bytes, cls: type[T]) -> T:
    """Read a ``cls`` from JSON text written by :func:`dumps` (``bytes`` must be UTF-8/16/32).

    Malformed JSON (nested too deeply too), and every problem :func:`from_dict` finds,
    raise :class:`carecoord.ValidationError`; ``text`` that is not ``str`` or ``bytes``, or
    a ``cls`` that is not a model class, raise :class:`carecoord.UsageError` (a
    ``TypeError``).
    """
    _check_model(cls)
    what = f"{_name(cls)} document"
    given: object = text  # checked at run time: callers are not always typed
    if not isinstance(given, str | bytes | bytearray):
        msg = f"loads takes JSON text (str or bytes), not {type(given).__name__}"
        raise UsageError(msg)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        message = f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise ValidationError(Problem("", message), what=what) from None
    except _DuplicateKeyError:
        raise ValidationError(Problem("", "malformed JSON: duplicate key"), what=what) from None
    except UnicodeDecodeError:
        raise ValidationError(Problem("", "malformed JSON: not UTF-8 text"), what=what) from None
    except RecursionError:
        raise ValidationError(Problem("", "malformed JSON: nested too deeply"), what=what) from None
    except ValueError:
        message = "malformed JSON: a non-finite or over-long number"
        raise ValidationError(Problem("", message), what=what) from None
    return from_dict(data, cls)


checked_exports(globals())
del checked_exports
