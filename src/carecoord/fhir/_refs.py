"""Resolving FHIR references between the resources read from the input.

:class:`ReferenceIndex` is built from the :class:`~carecoord.fhir._input.FlatResource`
items of one import and resolves, following the FHIR rules for references in Bundles and
tolerating what real exchanges do:

* ``urn:uuid:`` and ``urn:oid:`` references, by ``fullUrl``;
* relative ``Type/id`` (optionally ``/_history/vid``): first against the ``fullUrl`` base
  of the referring entry, then by type and id, preferring the same Bundle, then the
  same source; a resource whose ``fullUrl`` is on another server never matches;
* absolute ``http(s)://server/fhir/Type/id``: by ``fullUrl``, then by the trailing
  ``Type/id`` among resources that have no server of their own (or the same one);
* contained ``#id`` (and ``#``, the container), within the containing resource;
* conditional ``Type?identifier=system|value`` (as in transaction Bundles), by identifier.

A versioned reference prefers the resource whose ``meta.versionId`` matches, and falls
back to any version of the same resource.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import parse_qsl

from carecoord.errors import json_kind
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity
from carecoord.fhir._resource_types import type_label

__all__ = ["ReferenceIndex", "reference_kind"]

_TYPE = r"[A-Z][A-Za-z]+"
_RELATIVE_RE = re.compile(
    rf"^(?P<type>{_TYPE})/(?P<id>[^/?#]+)(?:/_history/(?P<vid>[^/?#]+))?$",
)
_ABSOLUTE_RE = re.compile(
    rf"^(?P<base>https?://.+)/(?P<type>{_TYPE})/(?P<id>[^/?#]+)(?:/_history/(?P<vid>[^/?#]+))?$",
)
_CONDITIONAL_RE = re.compile(rf"^(?P<type>{_TYPE})\?(?P<query>.+)$")
_UNKNOWN: tuple[str, str] = ("", "")
"""A node's key before it is computed (compared by identity: no real key is this object)."""


def reference_kind(reference: str) -> str:
    """Classify a reference string without looking at its value's meaning.

    One of ``contained``, ``urn:uuid``, ``urn:oid``, ``absolute``, ``relative``,
    ``conditional`` or ``unrecognised``; safe to put in messages.
    """
    if reference.startswith("#"):
        return "contained"
    lowered = reference[:9].lower()
    if lowered.startswith("urn:uuid:"):
        return "urn:uuid"
    if lowered.startswith("urn:oid:"):
        return "urn:oid"
    if _CONDITIONAL_RE.match(reference):
        return "conditional"
    if "://" in reference or lowered.startswith("urn:"):
        return "absolute"
    if _RELATIVE_RE.match(reference):
        return "relative"
    return "unrecognised"


def _url_key(url: str) -> str:
    # UUIDs are compared without regard to case; everything else exactly.
    return url.lower() if url[:9].lower() == "urn:uuid:" else url


_HTTP = ("http://", "https://")


class _Node:
    """What the index knows about one resource."""

    __slots__ = (
        "base",
        "container",
        "full_url",
        "id",
        "key",
        "resource",
        "scope",
        "source",
        "type",
    )

    def __init__(
        self,
        resource: dict[str, Any],
        full_url: str | None,
        scope: tuple[str, str],
        source: str,
        container: dict[str, Any] | None,
    ) -> None:
        self.resource = resource
        raw_type = resource.get("resourceType")
        self.type: str = raw_type if isinstance(raw_type, str) else ""
        raw_id = resource.get("id")
        self.id: str | None = raw_id if isinstance(raw_id, str) and raw_id else None
        self.full_url = full_url
        self.scope = scope
        self.source = source
        self.container = container
        self.key: tuple[str, str] | None = _UNKNOWN
        """:meth:`ReferenceIndex.key_for` of the resource, once computed (``_UNKNOWN`` before)."""
        self.base: str | None = None
        if full_url is not None and full_url.startswith(_HTTP):
            match = _ABSOLUTE_RE.match(full_url)
            if match is not None and match["type"] == self.type:
                self.base = match["base"]
                if self.id is None:
                    self.id = match["id"]

    @property
    def version(self) -> str | None:
        meta = self.resource.get("meta")
        version = meta.get("versionId") if isinstance(meta, dict) else None
        return version if isinstance(version, str) else None


class ReferenceIndex:
    """Every resource of one import, indexed to resolve references between them.

    Build it from the items of :func:`~carecoord.fhir._input.iter_resources` (keep them
    in a list: the index holds the same dict objects). Contained resources are indexed
    with their container, so a reference made inside a contained resource resolves too.
    """

    def __init__(self, entries: Iterable[FlatResource] = ()) -> None:
        self._nodes: dict[int, _Node] = {}
        self._by_url: dict[str, list[_Node]] = {}
        self._by_type_id: dict[tuple[str, str], list[_Node]] = {}
        self._by_identifier: (
            tuple[dict[tuple[str, str, str], list[_Node]], dict[tuple[str, str], list[_Node]]]
            | None
        ) = None
        self._count = 0
        self._add_all(entries)

    def add(self, entry: FlatResource) -> None:
        """Index one resource (and the resources it contains)."""
        self._add_all((entry,))

    def _add_all(self, entries: Iterable[FlatResource]) -> None:
        """Index each resource in turn (what :meth:`add` does, in one loop)."""
        nodes, by_url, by_type_id = self._nodes, self._by_url, self._by_type_id
        count = 0
        for path, resource, written_url, source in entries:
            cut = path.rfind(".entry[")
            scope = (source, path[:cut] if cut >= 0 else "")
            full_url = written_url or None
            node = _Node(resource, full_url, scope, source, None)
            nodes[id(resource)] = node
            count += 1
            if full_url is not None:
                # UUIDs are compared without regard to case (as _url_key does)
                if full_url.startswith("urn:uuid:") or full_url[:9].lower() == "urn:uuid:":
                    url_key = full_url.lower()
                else:
                    url_key = full_url
                found = by_url.get(url_key)
                if found is None:
                    by_url[url_key] = [node]
                else:
                    found.append(node)
            node_id = node.id
            if node_id is not None:
                type_id = (node.type, node_id)
                found = by_type_id.get(type_id)
                if found is None:
                    by_type_id[type_id] = [node]
                else:
                    found.append(node)
            if "contained" in resource:
                contained = resource["contained"]
                if isinstance(contained, list):
                    for item in contained:
                        if isinstance(item, dict):
                            nodes[id(item)] = _Node(item, None, scope, source, resource)
        self._count += count
        self._by_identifier = None

    def __len__(self) -> int:
        """The number of resources indexed (contained resources not counted)."""
        return self._count

    def __contains__(self, resource: object) -> bool:
        """Whether this very resource object (or a resource it contains) is indexed."""
        node = self._nodes.get(id(resource))
        return node is not None and node.resource is resource

    def full_url_of(self, resource: dict[str, Any]) -> str | None:
        """The ``fullUrl`` the resource was read with (its container's, if contained)."""
        node = self._node(resource)
        if node is None:
            return None
        if node.container is not None:
            return self.full_url_of(node.container)
        return node.full_url

    def key_for(self, resource: dict[str, Any]) -> tuple[str, str] | None:
        """A stable key for ``resource``: ``(resourceType, id)``.

        Without an ``id`` the key is taken from the ``fullUrl`` (its trailing id for a
        RESTful URL, else the whole URL, e.g. ``urn:uuid:...``). A contained resource's
        key is ``(type, "ContainerType/containerKey#id")``. ``None`` when there is
        nothing to build a key from.
        """
        node = self._node(resource)
        if node is None:
            resource_type = resource.get("resourceType")
            resource_id = resource.get("id")
            if isinstance(resource_type, str) and isinstance(resource_id, str) and resource_id:
                return (resource_type, resource_id)
            return None
        key = node.key
        if key is _UNKNOWN:
            key = node.key = self._key_of_node(node)
        return key

    def _key_of_node(self, node: _Node) -> tuple[str, str] | None:
        if not node.type:
            return None
        if node.container is not None:
            outer = self.key_for(node.container)
            if outer is None or node.id is None:
                return None
            return (node.type, f"{outer[0]}/{outer[1]}#{node.id}")
        if node.id is not None:
            return (node.type, node.id)
        if node.full_url is not None:
            return (node.type, node.full_url)
        return None

    def unique_url(self, reference: str) -> bool:
        """Whether ``reference`` is a ``urn:uuid``/``urn:oid`` naming exactly one resource.

        Such a reference resolves to the same resource wherever it is written, so what it
        resolves to may be remembered by the text alone.
        """
        if not reference.startswith(("urn:uuid:", "urn:oid:")):
            return False
        return len(self._by_url.get(_url_key(reference), ())) == 1

    def unique_target(
        self,
        ref_obj: dict[str, Any],
        reference: str,
        expected: str | Collection[str] | None = None,
    ) -> dict[str, Any] | None:
        """What :meth:`resolve_or_report` gives for a ``urn:uuid`` naming one resource.

        ``reference`` is ``ref_obj["reference"]``. The target when it starts
        ``urn:uuid:``, names exactly one resource and fits the declared and expected
        types (so nothing would be reported); otherwise ``None``, and the caller takes
        the reporting path.
        """
        if not reference.startswith("urn:uuid:"):
            return None
        unique = self._by_url.get(reference.lower())
        if unique is None or len(unique) != 1:
            return None
        target = unique[0].resource
        if _type_problem(ref_obj, target.get("resourceType"), expected) is not None:
            return None
        return target

    def scope_of(self, resource: object) -> tuple[str, str] | None:
        """The scope (source, Bundle path) ``resource`` was indexed in; ``None`` if not indexed.

        Together with the text of a :meth:`scoped` reference, it decides what the
        reference resolves to from ``resource``.
        """
        node = self._nodes.get(id(resource))
        return node.scope if node is not None and node.resource is resource else None

    def scoped(self, reference: str) -> bool:
        """Whether what ``reference`` resolves to depends only on the referrer's scope.

        True for ``urn:uuid``/``urn:oid`` references (by ``fullUrl``; among several
        resources, the one in the referrer's Bundle, then its source) and conditional
        ``Type?identifier=...`` ones (by identifier alone): :meth:`resolve` reads nothing
        else of the referring resource for them.
        """
        return reference_kind(reference) in ("urn:uuid", "urn:oid", "conditional")

    def resolve(
        self,
        reference: str,
        *,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The resource ``reference`` points to, or ``None`` when it is not in the input.

        ``context`` is the resource that holds the reference: it is needed for contained
        (``#id``) references and makes relative ones follow the referring entry's
        ``fullUrl``. Never raises for odd input.
        """
        text: object = reference  # checked at run time: callers are not always typed
        if not isinstance(text, str) or not text:
            return None
        if reference.startswith("urn:uuid:"):  # the usual case, as below without the kind
            unique = self._by_url.get(reference.lower())
            if unique is not None and len(unique) == 1:
                return unique[0].resource
        kind = reference_kind(reference)
        if kind in ("urn:uuid", "urn:oid"):
            candidates = self._by_url.get(_url_key(reference), [])
            if len(candidates) == 1:  # the usual case: no need to know where we are
                return candidates[0].resource
        here = self._node(context) if context is not None else None
        if kind == "contained":
            return self._contained(reference[1:], context, here)
        if kind == "conditional":
            node = self._conditional(reference)
        elif kind in ("urn:uuid", "urn:oid"):
            node = self._pick(candidates, here, None)
        elif kind == "absolute":
            node = self._absolute(reference, here)
        elif kind == "relative":
            node = self._relative(reference, here)
        else:
            node = None
        return node.resource if node is not None else None

    def key_of(
        self,
        reference: str,
        *,
        context: dict[str, Any] | None = None,
    ) -> tuple[str, str] | None:
        """The key (see :meth:`key_for`) of what ``reference`` points to.

        A resolved reference gives its resource's key; an unresolved ``Type/id`` or
        ``http(s)://.../Type/id`` gives ``(Type, id)``; anything else gives ``None``.
        """
        target = self.resolve(reference, context=context)
        if target is not None:
            return self.key_for(target)
        text: object = reference
        if not isinstance(text, str):
            return None
        match = _RELATIVE_RE.match(text) or _ABSOLUTE_RE.match(text)
        if match is not None:
            return (match["type"], match["id"])
        return None

    def resolve_or_report(
        self,
        ref_obj: Any,
        path: str,
        source: str,
        issues: IssueLog,
        context: dict[str, Any] | None = None,
        *,
        expected: str | Collection[str] | None = None,
        severity: IssueSeverity = IssueSeverity.WARNING,
    ) -> dict[str, Any] | None:
        """Resolve a FHIR ``Reference`` element, recording why when it cannot be resolved.

        ``ref_obj`` is the element's JSON (``{"reference": ...}``), found at ``path`` in
        ``source``; ``context`` the resource holding it. Returns the target resource, or
        ``None`` with no issue when ``ref_obj`` is ``None``, and ``None`` with an issue:

        * ``wrong-type`` (error): not an object, ``reference`` not a string, or a target
          whose type is not ``expected`` (one type or several) or not the declared
          ``type``;
        * ``logical-reference`` (warning): only an ``identifier``, which is not resolved;
        * ``empty-reference`` (warning): neither ``reference`` nor ``identifier``;
        * ``dangling-reference`` (of ``severity``, a warning by default, since FHIR lets
          references point outside the Bundle): nothing in the input matches.
        """
        if ref_obj is None:
            return None
        if not isinstance(ref_obj, dict):
            issues.add(
                path,
                IssueCode.WRONG_TYPE,
                f"expected a Reference object, got {json_kind(ref_obj)}",
                source=source,
            )
            return None
        reference = ref_obj.get("reference")
        if reference is None:
            _report_unresolvable(ref_obj, path, source, issues)
            return None
        if not isinstance(reference, str) or not reference:
            issues.add(
                f"{path}.reference",
                IssueCode.WRONG_TYPE,
                f"Reference.reference must be a non-empty string, got {json_kind(reference)}",
                source=source,
            )
            return None
        target = self.resolve(reference, context=context)
        if target is None:
            issues.add(
                path,
                IssueCode.DANGLING_REFERENCE,
                f"{_describe(reference)} does not resolve to a resource in the input",
                severity=severity,
                source=source,
            )
            return None
        problem = _type_problem(ref_obj, target.get("resourceType"), expected)
        if problem is not None:
            issues.add(path, IssueCode.WRONG_TYPE, problem, source=source)
            return None
        return target

    # ----------------------------------------------------------------------- internals

    def _node(self, resource: object) -> _Node | None:
        node = self._nodes.get(id(resource))
        return node if node is not None and node.resource is resource else None

    def _contained(
        self,
        local_id: str,
        context: dict[str, Any] | None,
        here: _Node | None,
    ) -> dict[str, Any] | None:
        if not isinstance(context, dict):
            return None
        container = here.container if here is not None and here.container is not None else context
        if not local_id:
            return container
        contained = container.get("contained")
        if isinstance(contained, list):
            for item in contained:
                if isinstance(item, dict) and item.get("id") == local_id:
                    return item
        return None

    def _pick(
        self, candidates: list[_Node], here: _Node | None, version: str | None
    ) -> _Node | None:
        if not candidates:
            return None
        if version is not None:
            exact = [node for node in candidates if node.version == version]
            if exact:
                candidates = exact
        if here is not None and len(candidates) > 1:
            for node in candidates:
                if node.scope == here.scope:
                    return node
            for node in candidates:
                if node.source == here.source:
                    return node
        return candidates[0]

    def _by_type_and_id(
        self,
        resource_type: str,
        resource_id: str,
        base: str | None,
        here: _Node | None,
        version: str | None,
    ) -> _Node | None:
        candidates = self._by_type_id.get((resource_type, resource_id), [])
        if base is not None:
            candidates = [node for node in candidates if node.base is None or node.base == base]
        return self._pick(candidates, here, version)

    def _relative(self, reference: str, here: _Node | None) -> _Node | None:
        match = _RELATIVE_RE.match(reference)
        if match is None:
            return None
        resource_type, resource_id, version = match["type"], match["id"], match["vid"]
        base = None
        if here is not None:
            home = here if here.container is None else self._node(here.container)
            base = home.base if home is not None else None
        if base is not None:
            found = self._pick(
                self._by_url.get(f"{base}/{resource_type}/{resource_id}", []),
                here,
                version,
            )
            if found is not None:
                return found
        return self._by_type_and_id(resource_type, resource_id, base, here, version)

    def _absolute(self, reference: str, here: _Node | None) -> _Node | None:
        match = _ABSOLUTE_RE.match(reference)
        if match is None:
            return self._pick(self._by_url.get(reference, []), here, None)
        base, resource_type, resource_id = match["base"], match["type"], match["id"]
        version = match["vid"]
        found = self._pick(
            self._by_url.get(f"{base}/{resource_type}/{resource_id}", []),
            here,
            version,
        )
        if found is not None:
            return found
        return self._by_type_and_id(resource_type, resource_id, base, here, version)

    def _conditional(self, reference: str) -> _Node | None:
        match = _CONDITIONAL_RE.match(reference)
        if match is None:
            return None
        params = parse_qsl(match["query"], keep_blank_values=True)
        if len(params) != 1 or params[0][0] != "identifier":
            return None  # only identifier searches can be answered locally
        system, bar, value = params[0][1].rpartition("|")
        with_system, any_system = self._identifier_index()
        if bar:
            matches = with_system.get((match["type"], system, value), [])
        else:  # a bare value matches any system
            matches = any_system.get((match["type"], value), [])
        distinct = {id(node.resource): node for node in matches}
        # FHIR makes a conditional reference that matches several resources fail.
        return next(iter(distinct.values())) if len(distinct) == 1 else None

    def _identifier_index(
        self,
    ) -> tuple[dict[tuple[str, str, str], list[_Node]], dict[tuple[str, str], list[_Node]]]:
        if self._by_identifier is None:
            with_system: dict[tuple[str, str, str], list[_Node]] = {}
            any_system: dict[tuple[str, str], list[_Node]] = {}
            for node in self._nodes.values():
                if node.container is not None:
                    continue
                identifiers = node.resource.get("identifier")
                if isinstance(identifiers, dict):
                    identifiers = [identifiers]
                if not isinstance(identifiers, list):
                    continue
                for identifier in identifiers:
                    if not isinstance(identifier, dict):
                        continue
                    system = identifier.get("system")
                    value = identifier.get("value")
                    if isinstance(value, str):
                        system_text = system if isinstance(system, str) else ""
                        with_system.setdefault((node.type, system_text, value), []).append(node)
                        any_system.setdefault((node.type, value), []).append(node)
            self._by_identifier = (with_system, any_system)
        return self._by_identifier


def _describe(reference: str) -> str:
    kind = reference_kind(reference)
    match = _RELATIVE_RE.match(reference) or _ABSOLUTE_RE.match(reference)
    if match is None:
        conditional = _CONDITIONAL_RE.match(reference)
        target = conditional["type"] if conditional is not None else None
    else:
        target = match["type"]
    return f"{kind} reference to {type_label(target)}" if target else f"{kind} reference"


def _report_unresolvable(ref_obj: dict[str, Any], path: str, source: str, issues: IssueLog) -> None:
    """Report a Reference with no ``reference``: logical (an identifier) or empty."""
    if ref_obj.get("identifier") is not None:
        issues.add(
            path,
            IssueCode.LOGICAL_REFERENCE,
            "reference by identifier only (logical reference) is not resolved",
            severity=IssueSeverity.WARNING,
            source=source,
        )
    else:
        issues.add(
            path,
            IssueCode.EMPTY_REFERENCE,
            "reference has neither reference nor identifier",
            severity=IssueSeverity.WARNING,
            source=source,
        )


def _type_problem(
    ref_obj: dict[str, Any], target_type: object, expected: str | Collection[str] | None
) -> str | None:
    """Why a resolved target's type does not fit the reference (``None`` when it does)."""
    declared = ref_obj.get("type")
    if isinstance(declared, str) and declared and declared != target_type:
        return (
            f"reference declares type {type_label(declared)}"
            f" but resolves to a {type_label(target_type)}"
        )
    if expected is not None:
        allowed = (expected,) if isinstance(expected, str) else tuple(expected)
        if target_type not in allowed:
            wanted = " or ".join(allowed)
            return f"expected a reference to {wanted}, got a {type_label(target_type)}"
    return None
