"""FHIR datatypes for the mappers: codes, times, periods, quantities, names and the like.

:class:`DatatypeAccess` reads CodeableConcept and Coding, dateTime and instant, Period,
Quantity, Identifier, HumanName, ContactPoint, Address, statuses and security labels
into carecoord's values, reporting what it cannot read. Well-formed elements take quiet
fast paths (``_clean_*``) that build no FHIR path; anything else falls back to the
reporting path, with the same values and issues (``tests/fhir/test_read_fast_paths.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import attrs

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
    Sensitivity,
)
from carecoord.fhir._codes import CareCodes, security_label
from carecoord.fhir._datatypes import parse_datetime, parse_instant
from carecoord.fhir._issues import IssueCode
from carecoord.fhir._map_json import JsonAccess
from carecoord.fhir._map_state import ReadState, memoised_at, remember
from carecoord.fhir._trusted import trusted_constructor

__all__ = ["DatatypeAccess", "silent_code"]

_MIN_YEAR = 2

_NO_LABELS: frozenset[Sensitivity] = frozenset()

_trusted_period = trusted_constructor(Period)
_trusted_quantity = trusted_constructor(Quantity)

_MAX_YEAR = 9998


class DatatypeAccess(JsonAccess):
    """FHIR datatypes read into carecoord values (a base of ``MapContext``)."""

    __slots__ = ()

    state: ReadState
    tz: dt.tzinfo | None

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
        codings = concept.get("coding")
        if type(codings) is list and len(codings) == 1:
            # The usual concept, one coding (and a text): what it gives depends on those
            # four strings only (no preference or order to apply), so the answer is kept
            # per read and the same concept, met again, is not read again.
            coding = codings[0]
            if type(coding) is dict:
                system, code = coding.get("system"), coding.get("code")
                display, text = coding.get("display"), concept.get("text")
                if (
                    (system is None or type(system) is str)
                    and (code is None or type(code) is str)
                    and (display is None or type(display) is str)
                    and (text is None or type(text) is str)
                ):
                    key = (system, code, display, text)
                    memo = self.state.concept_memo
                    if key in memo:
                        return memo[key]
                    found = self._quiet_concept(concept, prefer)
                    remember(memo, key, found)
                    return found
        return self._quiet_concept(concept, prefer)

    def _quiet_concept(
        self, concept: dict[str, Any], prefer: Collection[str]
    ) -> Code | _Unread | None:
        """:meth:`_quiet_code` of a concept object, read in full."""
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
        """The first usable coding (a ``prefer`` system first), else the text as a code.

        The concept's other usable codings become the code's ``also``, in their order. On a
        carecoord-written resource the first coding is the code (the writer puts it first),
        whatever ``prefer`` says.
        """
        usable: list[tuple[str, str, str | None]] = [(s, c, d) for s, c, d in codings if s and c]
        if not usable:
            if label is not None:
                return self.make_code(CareCodes.TEXT_ONLY, label.strip(), None)
            return None
        chosen = 0
        if prefer and len(usable) > 1 and not self.codings_in_order():
            chosen = next((i for i, item in enumerate(usable) if item[0] in prefer), 0)
        system, code, display = usable[chosen]
        others = tuple((s, c.strip() or c, d) for i, (s, c, d) in enumerate(usable) if i != chosen)
        return self.make_code(system, code.strip() or code, display or label, others)

    def codings_in_order(self) -> bool:
        """Whether the first coding of a concept is its code, whatever system is preferred.

        ``False`` here; the mapping context answers for carecoord-written resources.
        """
        return False

    def make_code(
        self,
        system: str,
        code: str,
        display: str | None,
        others: tuple[tuple[str, str, str | None], ...] = (),
    ) -> Code:
        """``Code(system, code, display)``, with ``others`` as its other codings (``also``).

        Shared with every equal one of this read (displays and other codings included).
        """
        key = (system, code, display, others)
        found = self.state.code_memo.get(key)
        if found is None:
            also = tuple(Code(s, c, d) for s, c, d in others)
            found = Code(system, code, display, also)
            remember(self.state.code_memo, key, found)
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
            remember(self.state.clinical_memo, value, parsed)
        return parsed

    def clinical_at(
        self, obj: dict[str, Any], key: str, path: str
    ) -> dt.datetime | PartialDate | None:
        """:meth:`clinical` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return memoised_at(obj, key, path, self.state.clinical_memo, self.clinical)

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
            remember(self.state.instant_memo, value, parsed)
        return parsed

    def instant_at(self, obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
        """:meth:`instant` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return memoised_at(obj, key, path, self.state.instant_memo, self.instant)

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
            remember(self.state.strict_memo, value, parsed)
        return parsed

    def strict_instant_at(self, obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
        """:meth:`strict_instant` of ``obj[key]`` (at ``path.key``, built only when needed)."""
        return memoised_at(obj, key, path, self.state.strict_memo, self.strict_instant)

    def start_of(self, value: PartialDate) -> dt.datetime | None:
        """The first instant of a partial date (in the default time zone, else UTC)."""
        day = value.earliest()
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            return None
        return dt.datetime.combine(day, dt.time(), tzinfo=self.tz or dt.UTC)

    def end_of(self, value: PartialDate) -> dt.datetime | None:
        """The last instant of a partial date: an end boundary written as a date.

        ``2020-03-09`` ends at ``2020-03-09T23:59:59.999999`` in the default time zone
        (UTC when none is given), so the end falls on the day written, in that zone; a
        month or a year ends on its last day. (It was the first instant of the next day,
        which put a stay ending on the 9th on the 10th for every rule counting days.)
        """
        day = value.latest()
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            return None
        return dt.datetime.combine(day, dt.time.max, tzinfo=self.tz or dt.UTC)

    def end_instant_at(self, obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
        """``obj[key]``, a ``dateTime`` that ends an interval, as an aware instant.

        A value with a time is that instant; a date alone is the last instant of that
        date (:meth:`end_of`), as a period's ``end`` is read.
        """
        value = self.clinical_at(obj, key, path)
        return self.end_of(value) if isinstance(value, PartialDate) else value

    def period(self, obj: dict[str, Any] | None, key: str, path: str) -> Period | None:
        """A ``Period`` element; an end before the start is dropped with an issue."""
        value = self.obj(obj, key, path)
        if value is None:
            return None
        here = f"{path}.{key}"
        start = self.instant_at(value, "start", here)
        end = self.end_instant_at(value, "end", here)
        if start is not None and end is not None and end < start:
            self.issue(
                f"{here}.end", IssueCode.INVALID_VALUE, "period ends before it starts; end dropped"
            )
            end = None
        if start is None and end is None:
            return None
        if self.state.trusted:  # aware instants, as the validators require
            return _trusted_period(start=start, end=end)
        return Period(start, end)

    def recorded_at(self) -> dt.datetime | None:
        """``meta.lastUpdated``: when the source last recorded the resource."""
        meta = self.resource.get("meta")
        if meta is None:
            return None
        if type(meta) is not dict:  # reported by the reporting read (a subclass passes)
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
        """Sensitivity classes from ``meta.security`` and any extra ``(path, codings)``.

        v3-ActCode sensitivity codes and v3-Confidentiality ``R`` and ``V`` (restricted).
        """
        if not labels:  # the usual case: no labels anywhere, nothing to report
            meta = self.resource.get("meta")
            if meta is None or (type(meta) is dict and meta.get("security") is None):
                return _NO_LABELS
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
                label = security_label(system, code) if code is not None else None
                if label is not None:
                    found.add(label)
        return frozenset(found)

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
    # A finite float, as Quantity's validator requires.
    if code is not None and code.strip():
        return _trusted_quantity(value=number, unit=code)
    return _trusted_quantity(value=number, unit=unit if unit is not None and unit.strip() else None)


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
    """The first coded ``Code`` of a concept in another resource (the rest its ``also``).

    Used to borrow a code from a resource that is mapped (and reported on) by itself. An
    R5 CodeableReference gives its ``concept``'s code.
    """
    if not isinstance(concept, dict):
        return None
    if "concept" in concept and "coding" not in concept and "text" not in concept:
        return silent_code(concept["concept"])  # an R5 CodeableReference
    codings = concept.get("coding")
    label = concept.get("text") if isinstance(concept.get("text"), str) else None
    found: list[Code] = []
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
                named = display if isinstance(display, str) else (None if found else label)
                found.append(Code(system, code, named))
    if found:
        return attrs.evolve(found[0], also=tuple(found[1:])) if len(found) > 1 else found[0]
    if label is not None and label.strip():
        return Code(CareCodes.TEXT_ONLY, label.strip())
    return None
