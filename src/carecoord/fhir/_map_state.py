"""What the mappers of one :func:`~carecoord.fhir.read` share: keys, the read state, memos.

:class:`ReadState` holds the reference index, the issue log and what mappers learn about
resources for other mappers (the carecoord type a resource became, who a role stands
for, referral lifecycle events...), plus bounded per-read memos of parsed times, codes
and references.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from carecoord.domain import Code, OrderKind, PartialDate, Ref
from carecoord.fhir._input import FlatResource
from carecoord.fhir._issues import IssueLog
from carecoord.fhir._refs import ReferenceIndex
from carecoord.fhir._trusted import aware_zone

__all__ = [
    "DOMAIN_TYPES",
    "Facts",
    "Key",
    "ReadEntry",
    "ReadState",
    "ResourceTable",
    "memoised_at",
    "remember",
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
    "DocumentReference": "Document",
    "Composition": "Document",
}
"""FHIR type -> the carecoord type a :class:`~carecoord.domain.Ref` names.

Encounters that become care transitions are ``CareTransition`` and service requests that
are referrals ``Referral`` (decided per resource); other types keep their FHIR name."""

_MEMO_LIMIT = 1 << 14
"""How many entries each per-read memo of :class:`ReadState` holds before it starts over."""


class ReadEntry:
    """One resource read, with what the reader's passes note about it.

    ``order`` is its place in the input; ``source_id`` the source it is read as
    (``own_source`` when carecoord wrote it and names one in ``meta.source``);
    ``retrieved`` its Bundle's ``timestamp``; ``key`` its ``(type, id)`` once versions
    are chosen; ``handled`` whether a pass mapped it though its type is otherwise not
    read; ``request`` what a ServiceRequest was classified as.
    """

    __slots__ = (
        "handled",
        "item",
        "key",
        "order",
        "own_source",
        "request",
        "retrieved",
        "source_id",
    )

    def __init__(
        self,
        item: FlatResource,
        order: int,
        source_id: str,
        own_source: str | None,
        retrieved: dt.datetime | None,
    ) -> None:
        self.item = item
        self.order = order
        self.source_id = source_id
        self.own_source = own_source
        self.retrieved = retrieved
        self.key: Key | None = None
        self.handled = False
        self.request: tuple[str, OrderKind] | None = None


class ResourceTable:
    """Every resource of one read, in input order, found by the resource object itself.

    Lookups are by identity, not equality: two equal JSON objects in the input are two
    resources. Every resource stays referenced by its entry for the whole read, so its
    identity is stable; a resource not read from the input (a contained one) has none.
    """

    __slots__ = ("_by_identity", "entries", "named_sources")

    def __init__(self) -> None:
        self.entries: list[ReadEntry] = []
        self._by_identity: dict[int, ReadEntry] = {}
        self.named_sources = False
        """Whether any resource names its own source (so :meth:`own_source` may find one)."""

    def add(
        self,
        item: FlatResource,
        source_id: str,
        own_source: str | None,
        retrieved: dt.datetime | None,
    ) -> None:
        """Note one more resource read."""
        entry = ReadEntry(item, len(self.entries), source_id, own_source, retrieved)
        self.entries.append(entry)
        self._by_identity[id(item.resource)] = entry
        if own_source is not None:
            self.named_sources = True

    def of(self, resource: dict[str, Any]) -> ReadEntry:
        """The entry of a resource read (``KeyError`` for any other object)."""
        return self._by_identity[id(resource)]

    def get(self, resource: dict[str, Any]) -> ReadEntry | None:
        """The entry of ``resource``, or ``None`` when it was not read as a resource."""
        return self._by_identity.get(id(resource))

    def own_source(self, resource: dict[str, Any]) -> str | None:
        """The source a carecoord-written resource read names itself, else ``None``."""
        if not self.named_sources:  # the common case: no lookup
            return None
        entry = self._by_identity.get(id(resource))
        return entry.own_source if entry is not None else None

    def source_of(self, resource: dict[str, Any] | None) -> str | None:
        """The id of the source ``resource`` was read as (``None`` if not read as one)."""
        entry = self._by_identity.get(id(resource)) if resource is not None else None
        return entry.source_id if entry is not None else None

    def distinct_objects(self) -> bool:
        """Whether every resource was read from a distinct object (none given twice)."""
        return len(self._by_identity) == len(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


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
        self.trusted = aware_zone(default_tz)
        """Whether every parsed time is aware, so checked values build facts without
        their validators (:mod:`._trusted`)."""
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
        self.resources = ResourceTable()
        """Every resource read, with the source it was read as (filled by the reader)."""
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
        self.code_memo: dict[
            tuple[str, str, str | None, tuple[tuple[str, str, str | None], ...]], Code
        ] = {}
        """``(system, code, display, other codings)`` -> the :class:`Code` made of them."""
        self.concept_memo: dict[tuple[str | None, ...], Code | None] = {}
        """``(system, code, display, text)`` of a one-coding concept -> the code it gives
        (:meth:`DatatypeAccess._quiet_code`; strings or ``None`` only)."""
        self.ref_memo: dict[tuple[str, str], Ref] = {}
        """``(carecoord type, id)`` -> the :class:`Ref` made of them."""
        self.target_memo: dict[tuple[str, object, object, object], Key] = {}
        """``(reference, declared type, expected, scope of the referring resource)`` ->
        the key of the resource it resolved to with no issue, for references whose
        resolution depends on nothing else (:meth:`ReferenceIndex.scoped`)."""


_V = TypeVar("_V")


def memoised_at(
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


def remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Store ``value`` under ``key`` in a per-read memo, starting it over when full."""
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value
