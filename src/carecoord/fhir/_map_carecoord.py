"""Reading back carecoord's own extensions (``ExtensionUrl``), for the mappers.

The writer puts in carecoord extensions what FHIR R4 has no element for (a referral's
closed-loop state, a task's history, a stay's settings...). Every helper here is called
only when a resource carries an ``extension`` array (or the carecoord origin tag: see
:meth:`~carecoord.fhir._map_base.MapContext.carecoord`), so input from elsewhere costs a
dictionary lookup. Values are checked like every other element: a value of the wrong
JSON type is a ``wrong-type`` issue, an unknown code an ``unknown-code`` warning, and the
value is then left out. No message quotes a value.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, TypeVar

from carecoord.domain import Code, Ref, StatusChange
from carecoord.errors import json_kind
from carecoord.fhir._codes import ExtensionUrl
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_base import MapContext

__all__ = [
    "Parts",
    "enum_value",
    "extension_items",
    "first_extension",
    "status_history",
    "typed_value",
]

E = TypeVar("E", bound=Enum)

_PY_TYPES: dict[str, type] = {"Code": str, "String": str, "Boolean": bool}
_OBJECT_KINDS = frozenset({"Reference", "Coding", "CodeableConcept"})


def extension_items(
    obj: dict[str, Any] | None, url: str, path: str
) -> list[tuple[str, dict[str, Any]]]:
    """``(path, extension)`` of each item of ``obj.extension`` whose ``url`` is ``url``.

    Looked for quietly: other extensions are not carecoord's to report on.
    """
    items = obj.get("extension") if obj is not None else None
    if type(items) is not list:
        return []
    return [
        (f"{path}.extension[{index}]", item)
        for index, item in enumerate(items)
        if type(item) is dict and item.get("url") == url
    ]


def first_extension(
    obj: dict[str, Any] | None, url: str, path: str
) -> tuple[str, dict[str, Any]] | None:
    """The first item of :func:`extension_items`, or ``None``."""
    found = extension_items(obj, url, path)
    return found[0] if found else None


def typed_value(ctx: MapContext, value: object, path: str, kind: str) -> Any:
    """An extension value ``value{kind}`` read as the model needs it (``None`` if unusable).

    ``Code`` and ``String``: a non-blank string; ``Boolean``: a boolean; ``DateTime``: an
    aware instant; ``Reference``: a :class:`Ref`; ``Coding`` and ``CodeableConcept``: a
    :class:`Code`.
    """
    if value is None:
        return None
    expected = _PY_TYPES.get(kind)
    if expected is not None:
        if not isinstance(value, expected):
            ctx.issue(
                path, IssueCode.WRONG_TYPE, f"expected a {kind.lower()}, got {json_kind(value)}"
            )
            return None
        if isinstance(value, str) and not value.strip():
            return None
        return value
    if kind == "DateTime":
        return ctx.instant(value, path)
    if kind in _OBJECT_KINDS and not isinstance(value, dict):
        ctx.issue(path, IssueCode.WRONG_TYPE, f"expected a {kind} object, got {json_kind(value)}")
        return None
    if kind == "Reference":
        return ctx.ref(value, path)
    return ctx.code(value, path)


def enum_value(ctx: MapContext, enum: type[E], value: str | None, path: str) -> E | None:
    """The member of ``enum`` whose value is ``value`` (an unknown one: warning, ``None``)."""
    if value is None:
        return None
    try:
        return enum(value.strip())
    except ValueError:
        ctx.issue(path, IssueCode.UNKNOWN_CODE, "code not recognised; left out", warning=True)
        return None


class Parts:
    """The named sub-extensions of one complex carecoord extension, read with their types.

    Each getter takes the sub-extension's name and returns its value (the first one, or
    every one for :meth:`refs`), or ``None`` when it is absent or unusable.
    """

    __slots__ = ("ctx", "found")

    def __init__(self, ctx: MapContext, extension: dict[str, Any], path: str) -> None:
        self.ctx = ctx
        self.found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for item_path, item in ctx.objs(extension, "extension", path):
            name = item.get("url")
            if isinstance(name, str):
                self.found.setdefault(name, []).append((item_path, item))

    def __contains__(self, name: str) -> bool:
        """Whether a sub-extension ``name`` is present."""
        return name in self.found

    def values(self, name: str, kind: str) -> list[Any]:
        """Every usable value of the sub-extensions ``name``, as :func:`typed_value` reads it."""
        found: list[Any] = []
        for item_path, item in self.found.get(name, ()):
            key = f"value{kind}"
            if key not in item:
                others = [k for k in item if k.startswith("value")]
                if others:
                    self.ctx.issue(
                        f"{item_path}.{others[0]}",
                        IssueCode.WRONG_TYPE,
                        f"expected value{kind}",
                    )
                continue
            value = typed_value(self.ctx, item[key], f"{item_path}.{key}", kind)
            if value is not None:
                found.append(value)
        return found

    def value(self, name: str, kind: str) -> Any:
        """The first usable value of ``name`` (see :meth:`values`), or ``None``."""
        found = self.values(name, kind)
        return found[0] if found else None

    def code(self, name: str) -> str | None:
        """A ``valueCode``."""
        found: str | None = self.value(name, "Code")
        return found

    def text(self, name: str) -> str | None:
        """A ``valueString``."""
        found: str | None = self.value(name, "String")
        return found

    def flag(self, name: str) -> bool | None:
        """A ``valueBoolean``."""
        found: bool | None = self.value(name, "Boolean")
        return found

    def instant(self, name: str) -> dt.datetime | None:
        """A ``valueDateTime`` as an aware instant."""
        found: dt.datetime | None = self.value(name, "DateTime")
        return found

    def ref(self, name: str) -> Ref | None:
        """A ``valueReference``."""
        found: Ref | None = self.value(name, "Reference")
        return found

    def refs(self, name: str) -> list[Ref]:
        """Every ``valueReference`` of a repeated sub-extension, in order."""
        found: list[Ref] = self.values(name, "Reference")
        return found

    def coding(self, name: str) -> Code | None:
        """A ``valueCoding`` as a :class:`Code`."""
        found: Code | None = self.value(name, "Coding")
        return found

    def concept(self, name: str) -> Code | None:
        """A ``valueCodeableConcept`` as a :class:`Code`."""
        found: Code | None = self.value(name, "CodeableConcept")
        return found

    def coded(self, name: str) -> Code | None:
        """A ``valueCoding``, or a ``valueCodeableConcept`` (a code with other codings)."""
        items = self.found.get(name, ())
        if items and "valueCodeableConcept" in items[0][1]:
            return self.concept(name)
        return self.coding(name)

    def enum(self, name: str, enum: type[E]) -> E | None:
        """A ``valueCode`` that is a value of ``enum`` (unknown codes: warning, ``None``)."""
        value = self.code(name)
        if value is None:
            return None
        path = self.found[name][0][0]
        return enum_value(self.ctx, enum, value, f"{path}.valueCode")


def status_history(ctx: MapContext, obj: dict[str, Any], path: str) -> tuple[StatusChange, ...]:
    """The ``status-history`` extensions of ``obj``, in order, as status changes.

    An entry without ``to`` or ``at`` is dropped with a ``missing-element`` warning.
    """
    found: list[StatusChange] = []
    for item_path, item in extension_items(obj, ExtensionUrl.STATUS_HISTORY, path):
        parts = Parts(ctx, item, item_path)
        to_status, at = parts.code("to"), parts.instant("at")
        if to_status is None or at is None:
            ctx.issue(
                item_path,
                IssueCode.MISSING_ELEMENT,
                "status change without a status or a time; dropped",
                warning=True,
            )
            continue
        found.append(
            StatusChange(parts.code("from"), to_status, at, parts.ref("by"), parts.text("reason"))
        )
    return tuple(found)
