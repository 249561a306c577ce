"""The shared machinery of the FHIR mappers: typed accessors that report instead of raising.

Every mapper reads JSON through a :class:`MapContext`, whose getters check the JSON type
of each element and record a ``wrong-type`` issue (and return ``None`` or an empty list)
when it is not what FHIR says it is. A required element that is absent or unusable stops
the mapping of its resource through :meth:`MapContext.skip`, which raises the internal
:class:`SkipResource`; the reader catches it (and any model
:class:`~carecoord.errors.ValidationError`) per resource, records the issue and goes on.
No message here holds a value from the input.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, ClassVar, NoReturn, TypeVar

from carecoord.domain import (
    Address,
    Code,
    ContactPoint,
    ContactSystem,
    HumanName,
    Identifier,
    PartialDate,
    Period,
    Quantity,
    Ref,
    Sensitivity,
    System,
)
from carecoord.errors import CarecoordError, json_kind
from carecoord.fhir._codes import SECURITY_LABELS, CareCodes
from carecoord.fhir._datatypes import parse_datetime, parse_instant
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueCode, IssueLog, IssueSeverity
from carecoord.fhir._origin import Origin
from carecoord.fhir._refs import ReferenceIndex

__all__ = [
    "DOMAIN_TYPES",
    "Facts",
    "Key",
    "MapContext",
    "MapIssue",
    "ReadState",
    "SkipResource",
    "first",
    "silent_code",
]

Facts = list[tuple[str, Any]]
"""What a mapper returns: ``(PatientRecord field name, fact)`` pairs."""

Key = tuple[str, str]
"""A resource key: ``(resourceType, id)`` as :meth:`ReferenceIndex.key_for` gives it."""

DOMAIN_TYPES: dict[str, str] = {
    "Patient": "Patient",
    "Practitioner": "Practitioner",
    "Organization": "Organization",
    "CareTeam": "CareTeam",
    "Task": "Task",
    "Encounter": "Encounter",
    "ServiceRequest": "Order",
    "Condition": "Condition",
    "MedicationRequest": "Medication",
    "MedicationStatement": "Medication",
    "AllergyIntolerance": "Allergy",
    "Observation": "Result",
    "DiagnosticReport": "Result",
    "Appointment": "Appointment",
    "CarePlan": "CarePlan",
    "Goal": "Goal",
    "Communication": "Communication",
    "Consent": "Consent",
    "Procedure": "Procedure",
    "EpisodeOfCare": "Enrollment",
}
"""FHIR type -> the carecoord type a :class:`~carecoord.domain.Ref` names.

Encounters that become care transitions are ``CareTransition`` and service requests that
are referrals ``Referral`` (decided per resource); other types keep their FHIR name."""

_MIN_YEAR = 2
_MAX_YEAR = 9998
_MEMO_LIMIT = 1 << 14
"""How many entries each per-read memo of :class:`ReadState` holds before it starts over."""


class MapIssue:
    """Issue codes the mappers add to :class:`~carecoord.fhir._issues.IssueCode`."""

    MISSING_ELEMENT: ClassVar[str] = "missing-element"
    """A required element is absent: the resource (or the optional element) is skipped."""
    INVALID_VALUE: ClassVar[str] = "invalid-value"
    """A value the model rejects (an end before its start, an empty code...)."""
    UNKNOWN_CODE: ClassVar[str] = "unknown-code"
    """A code outside the value set carecoord reads; a default is used or it is dropped."""
    DUPLICATE_RESOURCE: ClassVar[str] = "duplicate-resource"
    """The same resource (type and id) for the same patient more than once."""
    NOT_MAPPED: ClassVar[str] = "not-mapped"
    """A supported resource that does not describe anything carecoord keeps."""
    SUPERSEDED: ClassVar[str] = "superseded-version"
    """An older version of a resource read alongside a newer one."""


class SkipResource(CarecoordError):
    """Internal: the resource being mapped cannot be kept (caught by the reader)."""

    def __init__(self, path: str, code: IssueCode, message: str, *, warning: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.code = code
        self.message = message
        self.warning = warning


class ReadState:
    """What every mapper of one :func:`read` call shares."""

    def __init__(
        self,
        issues: IssueLog,
        index: ReferenceIndex,
        default_tz: dt.tzinfo | None,
    ) -> None:
        self.issues = issues
        self.index = index
        self.default_tz = default_tz
        self.domain_types: dict[Key, str] = {}
        """Per resource: the carecoord type it became, where it depends on the resource."""
        self.role_targets: dict[Key, Key] = {}
        """PractitionerRole key -> the Practitioner (else Organization) it stands for."""
        self.used: set[Key] = set()
        """Keys of supporting resources (Medication...) that a mapper read."""
        self.source_of: dict[Key, str] = {}
        """Patient key -> the id of the source its record belongs to."""
        self.org_of_party: dict[Key, Key] = {}
        """Practitioner or PractitionerRole key -> the Organization it works for."""
        self.party_disciplines: dict[Key, Any] = {}
        """Practitioner, PractitionerRole or Organization key -> its discipline."""
        self.community_orgs: set[Key] = set()
        """Organizations of the community kind (their referrals are community referrals)."""
        self.versions: dict[Key, list[dict[str, Any]]] = {}
        """Every version read of a resource that appears more than once, oldest first."""
        self.referral_events: dict[Key, list[Any]] = {}
        """ServiceRequest (referral) key -> lifecycle events found in other resources."""
        self.referral_status: dict[Key, tuple[str | None, dt.datetime | None]] = {}
        """ServiceRequest (referral) key -> its own status code and last-updated time."""
        self.fulfilment_tasks: dict[Key, Key] = {}
        """Fulfilment Task key -> the referral ServiceRequest key it fulfils."""
        self.acknowledgements: dict[Key, list[Any]] = {}
        """Observation or DiagnosticReport key -> acknowledgements from result-review
        activities, applied to its result once every fact is mapped."""
        self.literal_referrals: set[Key] = set()
        """Referral ServiceRequests whose state was read from the carecoord ``referral``
        extension: their lifecycle is not rebuilt from other resources."""
        self.resource_sources: dict[int, str] = {}
        """``id()`` of every resource read -> the id of the source it was read as."""
        self.original_ids: dict[Key, str] = {}
        """Key of a carecoord-written resource with a stand-in id -> the model's id (its
        ``original-id`` extension): facts and references take the model's id."""
        # Per-read memos (bounded by _MEMO_LIMIT). Values are immutable, so identical
        # input text maps to one shared object. A time is only remembered when it parsed
        # with no issue, so a text that needs an issue is parsed (and reported) each time.
        self.clinical_memo: dict[str, dt.datetime | PartialDate] = {}
        """``dateTime`` text -> :meth:`MapContext.clinical` of it."""
        self.instant_memo: dict[str, dt.datetime] = {}
        """``dateTime`` text -> :meth:`MapContext.instant` of it."""
        self.strict_memo: dict[str, dt.datetime] = {}
        """``instant`` text -> :meth:`MapContext.strict_instant` of it."""
        self.code_memo: dict[tuple[str, str, str | None], Code] = {}
        """``(system, code, display)`` -> the :class:`Code` made of them."""
        self.ref_memo: dict[tuple[str, str], Ref] = {}
        """``(carecoord type, id)`` -> the :class:`Ref` made of them."""


_V = TypeVar("_V")


def _memoised_at(
    obj: dict[str, Any],
    key: str,
    path: str,
    memo: Mapping[str, _V],
    read: Callable[[object, str], _V | None],
) -> _V | None:
    """``read(obj[key])`` with its FHIR path built only on a memo miss (the fast path)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        found = memo.get(value)
        if found is not None:
            return found
    return read(value, f"{path}.{key}")


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


class MapContext:
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

    # ------------------------------------------------------------------- issues

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

    # ------------------------------------------------------------------- primitives

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

    # ------------------------------------------------------------------- codes

    def codings(
        self, concept: object, path: str
    ) -> list[tuple[str | None, str | None, str | None]]:
        """``(system, code, display)`` of every coding of a CodeableConcept (or a Coding)."""
        if concept is None:
            return []
        if not isinstance(concept, dict):
            self._wrong(path, "a CodeableConcept object", concept)
            return []
        if "concept" in concept and "coding" not in concept and "text" not in concept:
            return self.codings(concept["concept"], f"{path}.concept")  # R5 CodeableReference
        if "coding" not in concept and ("code" in concept or "system" in concept):
            return [self._coding(concept, path)]
        clean = _clean_codings(concept.get("coding"))
        if clean is not None:
            return clean
        return [self._coding(coding, p) for p, coding in self.objs(concept, "coding", path)]

    def item_codings(
        self, obj: dict[str, Any] | None, key: str, path: str
    ) -> Iterator[list[tuple[str | None, str | None, str | None]]]:
        """:meth:`codings` of each item of an array element, one item at a time.

        The same as ``codings(concept, item_path)`` for each ``items(obj, key, path)``
        (so items not reached are not read, nor reported), without building the item
        paths of well-formed concepts.
        """
        value = obj.get(key) if obj is not None else None
        if type(value) is not list:
            for item_path, concept in self.items(obj, key, path):
                yield self.codings(concept, item_path)
            return
        for index, concept in enumerate(value):
            clean = _clean_concept(concept)
            yield clean if clean is not None else self.codings(concept, f"{path}.{key}[{index}]")

    def _coding(
        self, coding: dict[str, Any], path: str
    ) -> tuple[str | None, str | None, str | None]:
        return (
            self.text(coding, "system", path),
            self.text(coding, "code", path),
            self.text(coding, "display", path),
        )

    def code(self, concept: object, path: str, *, prefer: Collection[str] = ()) -> Code | None:
        """The concept as a :class:`Code`: the first coding with system and code.

        A coding from a ``prefer`` system wins; a concept with only ``text`` becomes a code
        of :attr:`CareCodes.TEXT_ONLY`.
        """
        quiet = self._quiet_code(concept, prefer)
        if not isinstance(quiet, _Unread):
            return quiet
        if isinstance(concept, dict) and "concept" in concept and "coding" not in concept:
            concept, path = concept["concept"], f"{path}.concept"  # R5 CodeableReference
        codings = self.codings(concept, path)
        label = self.text(concept, "text", path) if isinstance(concept, dict) else None
        return self._chosen_code(codings, label, prefer)

    def code_at(
        self, obj: dict[str, Any], key: str, path: str, *, prefer: Collection[str] = ()
    ) -> Code | None:
        """:meth:`code` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        concept = obj.get(key)
        quiet = self._quiet_code(concept, prefer)
        if not isinstance(quiet, _Unread):
            return quiet
        return self.code(concept, f"{path}.{key}", prefer=prefer)

    def _quiet_code(self, concept: object, prefer: Collection[str]) -> Code | _Unread | None:
        """:meth:`code` of a well-formed R4 concept (nothing to report), else ``_UNREAD``."""
        if concept is None:
            return None
        if type(concept) is not dict:
            return _UNREAD
        codings = _clean_concept(concept)  # None for an R5 CodeableReference too
        label = concept.get("text")
        if codings is None or (label is not None and type(label) is not str):
            return _UNREAD
        if label is not None and not label.strip():
            label = None
        return self._chosen_code(codings, label, prefer)

    def _chosen_code(
        self,
        codings: Iterable[tuple[str | None, str | None, str | None]],
        label: str | None,
        prefer: Collection[str],
    ) -> Code | None:
        """The first usable coding (a ``prefer`` system first), else the text as a code."""
        usable = [(s, c, d) for s, c, d in codings if s and c]
        if prefer and len(usable) > 1:
            usable.sort(key=lambda item: item[0] not in prefer)
        if usable:
            system, code, display = usable[0]
            assert system is not None  # filtered above
            assert code is not None
            return self.make_code(system, code.strip() or code, display or label)
        if label is not None:
            return self.make_code(CareCodes.TEXT_ONLY, label.strip(), None)
        return None

    def make_code(self, system: str, code: str, display: str | None) -> Code:
        """``Code(system, code, display)``, shared with every equal one of this read."""
        key = (system, code, display)
        found = self.state.code_memo.get(key)
        if found is None:
            found = Code(system, code, display)
            _remember(self.state.code_memo, key, found)
        return found

    def codes(self, concept: object, path: str) -> list[Code]:
        """Every coding of the concept with both system and code, as codes."""
        label = self.text(concept, "text", path) if isinstance(concept, dict) else None
        return [
            self.make_code(s, c, d or label)
            for s, c, d in self.codings(concept, path)
            if s and c and c.strip()
        ]

    def code_values(self, concepts: Iterable[tuple[str, object]]) -> set[str]:
        """Every code (whatever its system) of the given ``(path, concept)`` pairs."""
        found: set[str] = set()
        for path, concept in concepts:
            for _system, code, _display in self.codings(concept, path):
                if code:
                    found.add(code)
        return found

    def concept_words(self, concept: object, path: str) -> str:
        """The concept's text and displays, lower-cased, for keyword recognition."""
        parts = [d for _s, _c, d in self.codings(concept, path) if d]
        if isinstance(concept, dict):
            label = concept.get("text")
            if isinstance(label, str):
                parts.append(label)
        return " ".join(parts).lower()

    def status(self, obj: dict[str, Any], key: str, table: dict[str, Any], default: Any) -> Any:
        """A coded status (a ``code`` string) through ``table``; unknown codes give ``default``.

        An absent status gives ``default`` silently; an unknown code adds an
        ``unknown-code`` warning.
        """
        value = self.text(obj, key, self.path)
        if value is None:
            return default
        found = table.get(value.strip())
        if found is None:
            self.issue(
                self.at(key),
                IssueCode.UNKNOWN_CODE,
                f"{key} code is not one carecoord reads; default used",
                warning=True,
            )
            return default
        return found

    def concept_status(
        self, obj: dict[str, Any], key: str, table: dict[str, Any], default: Any
    ) -> Any:
        """A status given as a CodeableConcept (``clinicalStatus``) through ``table``."""
        concept = obj.get(key)
        if concept is None:
            return default
        for _system, code, _display in self.codings(concept, self.at(key)):
            if code is not None and code in table:
                return table[code]
        self.issue(
            self.at(key),
            IssueCode.UNKNOWN_CODE,
            f"{key} has no code carecoord reads; default used",
            warning=True,
        )
        return default

    # ------------------------------------------------------------------- references

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
        target = self.index.resolve_or_report(
            ref_obj, path, self.source, self.issues, self.resource, expected=expected
        )
        key: Key | None
        if target is not None:
            key = self.index.key_for(target)
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
            _remember(self.state.ref_memo, memo_key, found)
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
        for item_path, item in self.items(obj, key, path):
            ref = self.ref(item, item_path, expected=expected)
            if ref is not None and ref not in found:
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

    # ------------------------------------------------------------------- time

    def _checked(self, value: dt.datetime | None, path: str) -> dt.datetime | None:
        if value is not None and not _MIN_YEAR <= value.year <= _MAX_YEAR:
            self.issue(path, IssueCode.INVALID_DATE, "instant outside years 0002-9998")
            return None
        return value

    def clinical(self, value: object, path: str) -> dt.datetime | PartialDate | None:
        """A ``dateTime``: an aware instant, or a :class:`PartialDate` without a time."""
        if value is None:
            return None
        if isinstance(value, str):
            found = self.state.clinical_memo.get(value)
            if found is not None:
                return found
        before = len(self.issues)
        parsed = parse_datetime(
            value, path, issues=self.issues, source=self.source, default_tz=self.tz
        )
        if isinstance(parsed, dt.datetime):
            parsed = self._checked(parsed, path)
        if parsed is not None and isinstance(value, str) and len(self.issues) == before:
            _remember(self.state.clinical_memo, value, parsed)
        return parsed

    def clinical_at(
        self, obj: dict[str, Any], key: str, path: str
    ) -> dt.datetime | PartialDate | None:
        """:meth:`clinical` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return _memoised_at(obj, key, path, self.state.clinical_memo, self.clinical)

    def instant(self, value: object, path: str) -> dt.datetime | None:
        """A ``dateTime`` or ``instant`` as an aware instant.

        A value with only a date is read as the start of that day in the default time
        zone (UTC when none is given).
        """
        if value is None:
            return None
        if isinstance(value, str):
            found = self.state.instant_memo.get(value)
            if found is not None:
                return found
        before = len(self.issues)
        parsed = self.clinical(value, path)
        if isinstance(parsed, PartialDate):
            parsed = self.start_of(parsed)
        if parsed is not None and isinstance(value, str) and len(self.issues) == before:
            _remember(self.state.instant_memo, value, parsed)
        return parsed

    def instant_at(self, obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
        """:meth:`instant` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return _memoised_at(obj, key, path, self.state.instant_memo, self.instant)

    def strict_instant(self, value: object, path: str) -> dt.datetime | None:
        """A FHIR ``instant`` (``meta.lastUpdated``, ``issued``)."""
        if value is None:
            return None
        if isinstance(value, str):
            found = self.state.strict_memo.get(value)
            if found is not None:
                return found
        before = len(self.issues)
        parsed = self._checked(
            parse_instant(value, path, issues=self.issues, source=self.source, default_tz=self.tz),
            path,
        )
        if parsed is not None and isinstance(value, str) and len(self.issues) == before:
            _remember(self.state.strict_memo, value, parsed)
        return parsed

    def strict_instant_at(self, obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
        """:meth:`strict_instant` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return _memoised_at(obj, key, path, self.state.strict_memo, self.strict_instant)

    def start_of(self, value: PartialDate) -> dt.datetime | None:
        """The first instant of a partial date (in the default time zone, else UTC)."""
        day = value.earliest()
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            return None
        return dt.datetime.combine(day, dt.time(), tzinfo=self.tz or dt.UTC)

    def end_of(self, value: PartialDate) -> dt.datetime | None:
        """The instant just after a partial date (an exclusive period end)."""
        day = value.latest()
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.tz or dt.UTC)

    def period(self, obj: dict[str, Any] | None, key: str, path: str) -> Period | None:
        """A ``Period`` element; an end before the start is dropped with an issue."""
        value = self.obj(obj, key, path)
        if value is None:
            return None
        here = f"{path}.{key}"
        start = self.instant_at(value, "start", here)
        end_value = self.clinical_at(value, "end", here)
        end = self.end_of(end_value) if isinstance(end_value, PartialDate) else end_value
        if start is not None and end is not None and end < start:
            self.issue(
                f"{here}.end", IssueCode.INVALID_VALUE, "period ends before it starts; end dropped"
            )
            end = None
        if start is None and end is None:
            return None
        return Period(start, end)

    def recorded_at(self) -> dt.datetime | None:
        """``meta.lastUpdated``: when the source last recorded the resource."""
        meta = self.obj(self.resource, "meta", self.path)
        if meta is None:
            return None
        value = meta.get("lastUpdated")
        if value is None:
            return None
        if isinstance(value, str):
            found = self.state.strict_memo.get(value)
            if found is not None:
                return found
        return self.strict_instant(value, self.at("meta.lastUpdated"))

    def sensitivity(self, *labels: tuple[str, object]) -> frozenset[Sensitivity]:
        """Sensitivity classes from ``meta.security`` and any extra ``(path, codings)``."""
        meta = self.obj(self.resource, "meta", self.path)
        pairs = (
            list(self.items(meta, "security", self.at("meta")))
            if meta is not None and meta.get("security") is not None
            else []
        )
        for path, value in labels:
            if isinstance(value, list):
                pairs.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
            elif value is not None:
                pairs.append((path, value))
        found: set[Sensitivity] = set()
        for path, coding in pairs:
            for system, code, _display in self.codings(coding, path):
                if code is None or system not in (None, System.V3_ACT_CODE):
                    continue
                label = SECURITY_LABELS.get(code.upper())
                if label is not None:
                    found.add(label)
        return frozenset(found)

    # ------------------------------------------------------------------- datatypes

    def quantity_at(self, obj: dict[str, Any], key: str, path: str) -> Quantity | None:
        """:meth:`quantity` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        value = obj.get(key)
        if type(value) is dict:
            found = _clean_quantity(value)
            if found is not None:
                return found
        return self.quantity(value, f"{path}.{key}")

    def quantity(self, value: object, path: str) -> Quantity | None:
        """A ``Quantity`` (UCUM code preferred as the unit)."""
        if value is None:
            return None
        if type(value) is dict:
            found = _clean_quantity(value)
            if found is not None:
                return found
        if not isinstance(value, dict):
            self._wrong(path, "a Quantity object", value)
            return None
        number = self.number(value, "value", path)
        if number is None:
            return None
        unit = self.text(value, "code", path) or self.text(value, "unit", path)
        return Quantity(number, unit)

    def identifiers(self, obj: dict[str, Any], path: str) -> tuple[Identifier, ...]:
        """Identifiers with both a system and a value (others are dropped with a warning)."""
        found: list[Identifier] = []
        for item_path, item in self.objs(obj, "identifier", path):
            system = self.text(item, "system", item_path)
            value = self.text(item, "value", item_path)
            if system is None or value is None:
                self.issue(
                    item_path,
                    IssueCode.MISSING_ELEMENT,
                    "identifier without a system and a value; dropped",
                    warning=True,
                )
                continue
            found.append(Identifier(system, value))
        return tuple(dict.fromkeys(found))

    def names(self, obj: dict[str, Any], path: str) -> tuple[HumanName, ...]:
        """``HumanName`` items with at least one part (a prefix, a suffix or a use counts).

        A name with neither a family nor a given name takes its ``text`` as the family
        name; one with nothing at all is left out.
        """
        found: list[HumanName] = []
        for item_path, item in self.objs(obj, "name", path):
            name = HumanName(
                family=self.text(item, "family", item_path),
                given=tuple(self.texts(item, "given", item_path)),
                prefix=tuple(self.texts(item, "prefix", item_path)),
                suffix=tuple(self.texts(item, "suffix", item_path)),
                use=self.text(item, "use", item_path),
            )
            if name.family is None and not name.given:
                label = self.text(item, "text", item_path)
                if label is not None:
                    name = HumanName(family=label, use=name.use)
                elif not (name.prefix or name.suffix or name.use):
                    continue
            found.append(name)
        return tuple(found)

    def telecom(self, obj: dict[str, Any], path: str) -> tuple[ContactPoint, ...]:
        """``ContactPoint`` items with a value (unknown systems read as ``other``)."""
        systems = {s.value: s for s in ContactSystem}
        found: list[ContactPoint] = []
        for item_path, item in self.objs(obj, "telecom", path):
            value = self.text(item, "value", item_path)
            if value is None:
                continue
            system = systems.get(self.text(item, "system", item_path) or "", ContactSystem.OTHER)
            found.append(ContactPoint(system, value, self.text(item, "use", item_path)))
        return tuple(found)

    def addresses(self, obj: dict[str, Any], path: str) -> tuple[Address, ...]:
        """``Address`` items."""
        found: list[Address] = []
        for item_path, item in self.objs(obj, "address", path):
            found.append(
                Address(
                    lines=tuple(self.texts(item, "line", item_path)),
                    city=self.text(item, "city", item_path),
                    state=self.text(item, "state", item_path),
                    postal_code=self.text(item, "postalCode", item_path),
                    country=self.text(item, "country", item_path),
                    use=self.text(item, "use", item_path),
                )
            )
        return tuple(found)

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

    def each_concept(
        self, obj: dict[str, Any] | None, key: str, path: str
    ) -> list[tuple[str, object]]:
        """``(path, concept)`` for an element that is one CodeableConcept or an array."""
        if obj is None or obj.get(key) is None:
            return []
        if isinstance(obj[key], list):
            return list(self.items(obj, key, path))
        return [(f"{path}.{key}", obj[key])]

    def reason_codes(self, obj: dict[str, Any], path: str) -> tuple[Code, ...]:
        """Codes of the reasons for a request or a visit.

        From ``reasonCode`` (R4), ``reason[].concept`` (R5) and the codes of the
        Conditions, Observations and Procedures that ``reasonReference`` points to.
        """
        found: list[Code] = []
        for item_path, concept in self.items(obj, "reasonCode", path):
            code = self.code(concept, item_path)
            if code is not None:
                found.append(code)
        for item_path, item in self.objs(obj, "reason", path):
            code = self.code(item.get("concept"), f"{item_path}.concept")
            if code is not None:
                found.append(code)
            target = self.resolve(item.get("reference"))
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

    def mark_used(self, resource: dict[str, Any]) -> None:
        """Note that a supporting resource (e.g. a Medication) was read by a mapper."""
        key = self.index.key_for(resource)
        if key is not None:
            self.state.used.add(key)


class _Unread:
    """The type of :data:`_UNREAD`."""


_UNREAD = _Unread()
"""A quiet fast path's answer when the value needs the reporting path."""

_FLOAT_SAFE = 2**1000
"""Integers smaller than this in magnitude convert to a finite float."""


def _clean_quantity(value: dict[str, Any]) -> Quantity | None:
    """What :meth:`MapContext.quantity` gives for a well-formed Quantity, else ``None``.

    Well-formed: a finite number and a ``code`` and ``unit`` that are strings or
    absent (nothing to report). ``None`` leaves the value to the reporting path.
    """
    number = value.get("value")
    if type(number) is int and -_FLOAT_SAFE < number < _FLOAT_SAFE:
        number = float(number)
    elif type(number) is not float or not math.isfinite(number):
        return None
    code, unit = value.get("code"), value.get("unit")
    if (code is not None and type(code) is not str) or (unit is not None and type(unit) is not str):
        return None
    if code is not None and code.strip():
        return Quantity(number, code)
    return Quantity(number, unit if unit is not None and unit.strip() else None)


def _clean_concept(
    concept: object,
) -> list[tuple[str | None, str | None, str | None]] | None:
    """What :meth:`MapContext.codings` gives for a well-formed R4 CodeableConcept, else ``None``.

    ``None`` also for anything that needs a look by the reporting path (an R5
    CodeableReference, a bare Coding, a malformed ``coding``).
    """
    if concept is None:
        return []
    if type(concept) is not dict:
        return None
    if "coding" not in concept:
        if "concept" in concept or "code" in concept or "system" in concept:
            return None
        return []
    return _clean_codings(concept["coding"])


def _clean_codings(
    codings: object,
) -> list[tuple[str | None, str | None, str | None]] | None:
    """What :meth:`MapContext.codings` gives for a well-formed ``coding`` array, else ``None``.

    Well-formed: a list of objects whose ``system``, ``code`` and ``display`` are strings
    or absent, so that reading it reports nothing and needs no path. Anything else
    (``None`` for an absent array too) is left to the reporting path.
    """
    if type(codings) is not list:
        return None
    found: list[tuple[str | None, str | None, str | None]] = []
    for coding in codings:
        if type(coding) is not dict:
            return None
        system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
        if system is not None:
            if type(system) is not str:
                return None
            system = system if system.strip() else None
        if code is not None:
            if type(code) is not str:
                return None
            code = code if code.strip() else None
        if display is not None:
            if type(display) is not str:
                return None
            display = display if display.strip() else None
        found.append((system, code, display))
    return found


def silent_code(concept: object) -> Code | None:
    """The first coded ``Code`` of a CodeableConcept in another resource, reporting nothing.

    Used to borrow a code from a resource that is mapped (and reported on) by itself.
    """
    if not isinstance(concept, dict):
        return None
    codings = concept.get("coding")
    label = concept.get("text") if isinstance(concept.get("text"), str) else None
    if isinstance(codings, list):
        for coding in codings:
            if not isinstance(coding, dict):
                continue
            system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
            if (
                isinstance(system, str)
                and system.strip()
                and isinstance(code, str)
                and code.strip()
            ):
                return Code(system, code, display if isinstance(display, str) else label)
    if label is not None and label.strip():
        return Code(CareCodes.TEXT_ONLY, label.strip())
    return None


def first(values: Iterable[Any], test: Callable[[Any], bool] = bool) -> Any:
    """The first value passing ``test``, or ``None``."""
    return next((v for v in values if test(v)), None)
