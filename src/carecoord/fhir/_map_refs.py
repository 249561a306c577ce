"""References for the mappers: FHIR ``Reference`` elements resolved into carecoord refs.

:class:`ReferenceAccess` resolves references against the read's
:class:`~carecoord.fhir._refs.ReferenceIndex` (reporting dangling, logical, empty and
mistyped ones), turns the key of the target into the :class:`~carecoord.domain.Ref` of
the carecoord type it became, and notes the parties (practitioners, organisations) the
facts name.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from carecoord.domain import Ref
from carecoord.fhir._map_json import JsonAccess
from carecoord.fhir._map_state import DOMAIN_TYPES, Key, ReadState, remember
from carecoord.fhir._refs import ReferenceIndex

__all__ = ["ReferenceAccess"]


class ReferenceAccess(JsonAccess):
    """References resolved against the reference index (a base of ``MapContext``)."""

    __slots__ = ()

    state: ReadState
    index: ReferenceIndex
    parties: set[Key]

    def ref(
        self,
        ref_obj: object,
        path: str,
        *,
        expected: str | Collection[str] | None = None,
    ) -> Ref | None:
        """A FHIR ``Reference`` as a carecoord :class:`Ref` (``None`` with an issue if unusable).

        A reference that resolves gives its target's key; one that does not resolve
        still gives ``Ref(type, id)`` when it is written ``Type/id`` (with a
        ``dangling-reference`` warning). The type is the carecoord type the target maps
        to (``Result`` for an Observation, ``Referral`` for a referral...).
        """
        index = self.index
        memo_key: tuple[str, object, object, object] | None = None
        if type(ref_obj) is dict and (
            expected is None or type(expected) is str or type(expected) is tuple
        ):
            reference = ref_obj.get("reference")
            declared = ref_obj.get("type")
            if type(reference) is str and (declared is None or type(declared) is str):
                unique = index.unique_target(ref_obj, reference, expected)
                if unique is not None:  # the usual urn:uuid: found with nothing to report
                    found_key = index.key_for(unique)
                    return None if found_key is None else self.ref_for_key(found_key)
                if index.scoped(reference):  # its target depends on the scope alone
                    memo_key = (reference, declared, expected, index.scope_of(self.resource))
                    known = self.state.target_memo.get(memo_key)
                    if known is not None:  # resolved before from the same scope, quietly
                        return self.ref_for_key(known)
        target = index.resolve_or_report(
            ref_obj, path, self.source, self.issues, self.resource, expected=expected
        )
        key: Key | None
        if target is not None:
            key = index.key_for(target)
            if key is not None and memo_key is not None:
                remember(self.state.target_memo, memo_key, key)
        else:
            key = self._unresolved_key(ref_obj, expected)
        return None if key is None else self.ref_for_key(key)

    def _unresolved_key(
        self, ref_obj: object, expected: str | Collection[str] | None
    ) -> Key | None:
        if not isinstance(ref_obj, dict):
            return None
        reference = ref_obj.get("reference")
        if not isinstance(reference, str) or not reference or reference.startswith("#"):
            return None
        key = self.index.key_of(reference, context=self.resource)
        if key is None:
            return None
        if expected is not None:
            allowed = (expected,) if isinstance(expected, str) else tuple(expected)
            if key[0] not in allowed:
                return None
        return key

    def model_id(self, key: Key) -> str:
        """The model's id of the resource of ``key`` (its ``original-id``, else its id)."""
        originals = self.state.original_ids
        return originals.get(key, key[1]) if originals else key[1]

    def ref_for_key(self, key: Key) -> Ref:
        """The carecoord reference for a resource key (noting parties it names)."""
        key = self.state.role_targets.get(key, key)
        kind, ident = key
        if kind in ("Practitioner", "Organization"):
            self.parties.add(key)
        originals = self.state.original_ids
        if originals:
            ident = originals.get(key, ident)
        domain = self.state.domain_types.get(key) or DOMAIN_TYPES.get(kind, kind)
        memo_key = (domain, ident)
        found = self.state.ref_memo.get(memo_key)
        if found is None:
            found = Ref(domain, ident)
            remember(self.state.ref_memo, memo_key, found)
        return found

    def resolve(self, ref_obj: object) -> dict[str, Any] | None:
        """The resource a Reference points to, without reporting anything."""
        if not isinstance(ref_obj, dict):
            return None
        reference = ref_obj.get("reference")
        if not isinstance(reference, str):
            return None
        return self.index.resolve(reference, context=self.resource)

    def key_of_ref(self, ref_obj: object) -> Key | None:
        """The key of what a Reference points to (resolved or ``Type/id``), silently."""
        if not isinstance(ref_obj, dict):
            return None
        reference = ref_obj.get("reference")
        if not isinstance(reference, str) or not reference:
            return None
        return self.index.key_of(reference, context=self.resource)

    def refs(
        self,
        obj: dict[str, Any] | None,
        key: str,
        path: str,
        *,
        expected: str | Collection[str] | None = None,
    ) -> tuple[Ref, ...]:
        """Every usable Reference of an array element, in order, without repeats."""
        found: list[Ref] = []
        seen: set[Ref] = set()  # the same test as ``in found`` (refs are equal by value)
        for item_path, item in self.items(obj, key, path):
            ref = self.ref(item, item_path, expected=expected)
            if ref is not None and ref not in seen:
                seen.add(ref)
                found.append(ref)
        return tuple(found)

    def first_ref(
        self,
        obj: dict[str, Any] | None,
        key: str,
        path: str,
        *,
        expected: str | Collection[str] | None = None,
    ) -> Ref | None:
        """The first usable Reference of an element that may be one or an array."""
        if obj is None or obj.get(key) is None:
            return None
        if isinstance(obj[key], list):
            refs = self.refs(obj, key, path, expected=expected)
            return refs[0] if refs else None
        return self.ref(obj[key], f"{path}.{key}", expected=expected)

    def mark_used(self, resource: dict[str, Any]) -> None:
        """Note that a supporting resource (e.g. a Medication) was read by a mapper."""
        key = self.index.key_for(resource)
        if key is not None:
            self.state.used.add(key)
