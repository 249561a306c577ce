"""The mapping context: one resource's JSON, read through typed, reporting accessors.

Every mapper reads its resource through a :class:`MapContext`, made of three parts by
concern, each in its own module:

* :class:`~carecoord.fhir._map_json.JsonAccess` (``_map_json``): JSON primitives, issue
  reporting, ``skip`` and ``require``;
* :class:`~carecoord.fhir._map_types.DatatypeAccess` (``_map_types``): FHIR datatypes
  (codes, times, periods, quantities, identifiers, names...);
* :class:`~carecoord.fhir._map_refs.ReferenceAccess` (``_map_refs``): references
  resolved against the reference index;

plus :attr:`MapContext.origin` (``_origin``), the one answer to "infer, or take it as
carecoord wrote it?". What every mapper of one read shares is the
:class:`~carecoord.fhir._map_state.ReadState`.
"""

from __future__ import annotations

from typing import Any

from carecoord.domain import Code
from carecoord.fhir._input import FlatResource
from carecoord.fhir._map_json import SkipResource, first
from carecoord.fhir._map_refs import ReferenceAccess
from carecoord.fhir._map_state import DOMAIN_TYPES, Facts, Key, ReadState
from carecoord.fhir._map_types import DatatypeAccess, silent_code
from carecoord.fhir._origin import Origin

__all__ = [
    "DOMAIN_TYPES",
    "Facts",
    "Key",
    "MapContext",
    "ReadState",
    "SkipResource",
    "first",
    "silent_code",
]


class MapContext(DatatypeAccess, ReferenceAccess):
    """Typed, reporting access to one resource's JSON while it is mapped."""

    __slots__ = (
        "_origin",
        "index",
        "issues",
        "parties",
        "path",
        "resource",
        "source",
        "state",
        "tz",
    )

    def __init__(self, state: ReadState, item: FlatResource) -> None:
        self.state = state
        self.issues = state.issues
        self.index = state.index
        self.tz = state.default_tz
        self.resource = item.resource
        self.path = item.path
        self.source = item.source
        self.parties: set[Key] = set()
        """Practitioners and organisations the resource's facts refer to."""
        self._origin: Origin | None = None

    @property
    def origin(self) -> Origin:
        """Who wrote the resource: the one answer to "infer, or take it as written?".

        On a carecoord-written resource (its origin tag) mappers read carecoord's
        extensions as the model's values and infer nothing the writer left out (no
        author from a requester, no history from versions...); see :mod:`._origin`.
        """
        found = self._origin
        if found is None:
            found = self._origin = Origin.of(self.resource)
        return found

    def codings_in_order(self) -> bool:
        """Whether a concept's first coding is its code: on a carecoord-written resource.

        The writer puts a code first and its other codings (``Code.also``) after it, so
        the reader takes the first, whatever system a mapper prefers.
        """
        return self.origin.literal

    def reason_codes(self, obj: dict[str, Any], path: str) -> tuple[Code, ...]:
        """Codes of the reasons for a request or a visit.

        From ``reasonCode`` (R4), ``reason[].concept`` (R5; an R5 Encounter's
        ``reason[].value[].concept``) and the codes of the Conditions, Observations and
        Procedures that ``reasonReference`` (R5: the reasons' ``reference``) points to.
        """
        found: list[Code] = []
        for item_path, concept in self.items(obj, "reasonCode", path):
            code = self.code(concept, item_path)
            if code is not None:
                found.append(code)
        for item_path, item in self.objs(obj, "reason", path):
            values = (
                self.objs(item, "value", item_path)  # R5 Encounter: reason.value[]
                if item.get("value") is not None
                else [(item_path, item)]
            )
            for value_path, value in values:
                code = self.code(value.get("concept"), f"{value_path}.concept")
                if code is not None:
                    found.append(code)
                target = self.resolve(value.get("reference"))
                if target is not None:
                    found.extend(self._target_code(target))
        for _item_path, item in self.items(obj, "reasonReference", path):
            target = self.resolve(item)
            if target is not None:
                found.extend(self._target_code(target))
        return tuple(dict.fromkeys(found))

    def _target_code(self, target: dict[str, Any]) -> list[Code]:
        if target.get("resourceType") not in ("Condition", "Observation", "Procedure"):
            return []
        code = silent_code(target.get("code"))
        return [] if code is None else [code]
