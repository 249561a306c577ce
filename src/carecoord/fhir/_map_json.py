"""JSON primitives for the mappers: typed accessors on dicts that report instead of raising.

:class:`JsonAccess` checks the JSON type of each element it reads and records a
``wrong-type`` issue (returning ``None`` or an empty list) when it is not what FHIR says
it is. A required element that is absent or unusable stops the mapping of its resource
through :meth:`JsonAccess.skip`, which raises :class:`SkipResource`; the reader catches
it per resource, records the issue and goes on. No message holds a value from the input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from carecoord.errors import CarecoordError, json_kind
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity

__all__ = ["JsonAccess", "SkipResource", "first"]


class SkipResource(CarecoordError):
    """Internal: the resource being mapped cannot be kept (caught by the reader)."""

    def __init__(self, path: str, code: IssueCode, message: str, *, warning: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.code = code
        self.message = message
        self.warning = warning


class JsonAccess:
    """Typed, reporting access to the JSON of the resource being mapped.

    The base of :class:`~carecoord.fhir._map_base.MapContext`, which holds the
    attributes (``issues``, ``path``, ``resource``, ``source``).
    """

    __slots__ = ()

    issues: IssueLog
    path: str
    resource: dict[str, Any]
    source: str

    def at(self, key: str) -> str:
        """The FHIR path of the resource's element ``key``."""
        return f"{self.path}.{key}"

    def issue(self, path: str, code: IssueCode, message: str, *, warning: bool = False) -> None:
        """Record an issue found at ``path``."""
        severity = IssueSeverity.WARNING if warning else IssueSeverity.ERROR
        self.issues.add(path, code, message, severity=severity, source=self.source)

    def skip(self, path: str, code: IssueCode, message: str, *, warning: bool = False) -> NoReturn:
        """Give up on the resource: raises :class:`SkipResource`."""
        raise SkipResource(path, code, message, warning=warning)

    def require(self, value: Any, path: str, what: str) -> Any:
        """``value``, or skip the resource when it is ``None`` (a required element)."""
        if value is None:
            self.skip(path, IssueCode.MISSING_ELEMENT, f"required {what} is absent or unusable")
        return value

    def require_at(self, value: Any, key: str, what: str) -> Any:
        """:meth:`require` for the resource's element ``key`` (its path built only if absent)."""
        if value is None:
            self.skip(
                self.at(key), IssueCode.MISSING_ELEMENT, f"required {what} is absent or unusable"
            )
        return value

    def _wrong(self, path: str, expected: str, value: object) -> None:
        self.issue(path, IssueCode.WRONG_TYPE, f"expected {expected}, got {json_kind(value)}")

    def text(self, obj: dict[str, Any] | None, key: str, path: str) -> str | None:
        """A non-empty string element, or ``None``."""
        if obj is None:
            return None
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self._wrong(f"{path}.{key}", "a string", value)
            return None
        return value if value.strip() else None

    def flag(self, obj: dict[str, Any] | None, key: str, path: str) -> bool | None:
        """A boolean element, or ``None``."""
        if obj is None:
            return None
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self._wrong(f"{path}.{key}", "a boolean", value)
            return None
        return value

    def number(self, obj: dict[str, Any] | None, key: str, path: str) -> float | None:
        """A finite number element as a float, or ``None``."""
        if obj is None:
            return None
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(f"{path}.{key}", "a number", value)
            return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self.issue(f"{path}.{key}", IssueCode.INVALID_VALUE, "number out of range")
            return None
        return number

    def integer(self, obj: dict[str, Any] | None, key: str, path: str) -> int | None:
        """An integer element, or ``None``."""
        if obj is None:
            return None
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(f"{path}.{key}", "an integer", value)
            return None
        return value

    def obj(self, obj: dict[str, Any] | None, key: str, path: str) -> dict[str, Any] | None:
        """An object element, or ``None``."""
        if obj is None:
            return None
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong(f"{path}.{key}", "an object", value)
            return None
        return value

    def items(self, obj: dict[str, Any] | None, key: str, path: str) -> list[tuple[str, Any]]:
        """The items of an array element with their paths (``path.key[i]``).

        A single object where an array is expected is taken as a one-item array (with a
        warning); any other non-array is a ``wrong-type`` error and gives no items.
        """
        if obj is None:
            return []
        value = obj.get(key)
        if value is None:
            return []
        here = f"{path}.{key}"
        if isinstance(value, list):
            return [(f"{here}[{i}]", item) for i, item in enumerate(value)]
        if isinstance(value, dict):
            self.issue(here, IssueCode.WRONG_TYPE, "expected an array, got an object", warning=True)
            return [(here, value)]
        self._wrong(here, "an array", value)
        return []

    def objs(
        self, obj: dict[str, Any] | None, key: str, path: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """The object items of an array element; other items are ``wrong-type`` errors."""
        found: list[tuple[str, dict[str, Any]]] = []
        for item_path, item in self.items(obj, key, path):
            if isinstance(item, dict):
                found.append((item_path, item))
            elif item is not None:
                self._wrong(item_path, "an object", item)
        return found

    def texts(self, obj: dict[str, Any] | None, key: str, path: str) -> list[str]:
        """The non-empty string items of an array element."""
        found: list[str] = []
        for item_path, item in self.items(obj, key, path):
            if isinstance(item, str):
                if item.strip():
                    found.append(item)
            elif item is not None:
                self._wrong(item_path, "a string", item)
        return found

    def choice(
        self, obj: dict[str, Any] | None, prefix: str, suffixes: Iterable[str]
    ) -> tuple[str, Any] | None:
        """The first present ``prefix + suffix`` element of a choice (``value[x]``)."""
        if obj is None:
            return None
        for suffix in suffixes:
            name = prefix + suffix
            if obj.get(name) is not None:
                return name, obj[name]
        return None

    def each_concept(
        self, obj: dict[str, Any] | None, key: str, path: str
    ) -> list[tuple[str, object]]:
        """``(path, concept)`` for an element that is one CodeableConcept or an array."""
        if obj is None or obj.get(key) is None:
            return []
        if isinstance(obj[key], list):
            return list(self.items(obj, key, path))
        return [(f"{path}.{key}", obj[key])]

    def extension_value(
        self, obj: dict[str, Any], path: str, url: str, kind: str
    ) -> tuple[str, Any] | None:
        """``(path, value)`` of the first extension with ``url`` carrying ``value{kind}``."""
        for item_path, item in self.objs(obj, "extension", path):
            if item.get("url") == url and item.get(f"value{kind}") is not None:
                return f"{item_path}.value{kind}", item[f"value{kind}"]
        return None

    def annotation_texts(self, obj: dict[str, Any], key: str, path: str) -> list[str]:
        """The ``text`` of each ``Annotation`` item."""
        return [t for p, a in self.objs(obj, key, path) if (t := self.text(a, "text", p))]


def first(values: Iterable[Any], test: Callable[[Any], bool] = bool) -> Any:
    """The first value passing ``test``, or ``None``."""
    return next((v for v in values if test(v)), None)
