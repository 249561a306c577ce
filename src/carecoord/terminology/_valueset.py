"""A value set: named codes (and code patterns) per code system, with membership tests."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from carecoord.display import clip
from carecoord.domain import Code
from carecoord.errors import Problem, ValidationError
from carecoord.terminology._systems import HIERARCHICAL_SYSTEMS, canonical_system, normal_code

__all__ = ["CodePattern", "ValueSet"]

_PATTERN = re.compile(
    r"^(?P<first>[A-Z0-9]+)(?:-(?P<last>[A-Z0-9]+))?"
    r"(?::(?P<position>[1-9])=(?P<chars>[A-Z0-9]+))?$"
)
_PLACEHOLDER = "X"
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Problem(attribute.name, "must be a non-empty string"))


def _optional_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValidationError(Problem(attribute.name, "must be a non-empty string or None"))


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(Problem(attribute.name, "must be a string"))


def _tuple_of(kind: type) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            raise ValidationError(
                Problem(attribute.name, f"expected a tuple, got {type(value).__name__}")
            )
        bad = [i for i, item in enumerate(value) if not isinstance(item, kind)]
        if bad:
            raise ValidationError(
                Problem(f"{attribute.name}[{bad[0]}]", f"expected a {kind.__name__}")
            )

    return check


@attrs.frozen(repr=False)
class CodePattern:
    """A family of codes in a hierarchical code system (ICD-10-CM, ATC), written as text.

    ``pattern`` is one of (dots are ignored, letters are upper-cased):

    * ``F32``: every code that starts with ``F32`` (the category and all codes under it);
      ``T14.91`` every code under ``T14.91``; ``F`` the whole chapter;
    * ``X71-X83``: every code whose first three characters are ``X71`` to ``X83``
      (both ends included; the two ends have the same length);
    * either followed by ``:N=C``: and whose ``N``-th character (counted without the dot)
      is one of the characters ``C``. ICD-10-CM pads short codes with the placeholder ``X``
      before their 7th character, so when the ``N``-th character is ``X`` the one before
      it is read: ``T36-T65:6=2`` (poisoning and toxic effects whose intent character is
      2, intentional self-harm) matches ``T43.222A`` and ``T36.92XA`` but not ``T36.91XA``
      nor the header ``T43.22``.

    ``description`` says in plain words what the pattern stands for.
    """

    system: str = attrs.field(validator=_non_empty)
    pattern: str = attrs.field(validator=_non_empty)
    description: str = attrs.field(default="", validator=_text)
    _first: str = attrs.field(init=False, eq=False, repr=False)
    _last: str | None = attrs.field(init=False, eq=False, repr=False)
    _position: int | None = attrs.field(init=False, eq=False, repr=False)
    _chars: str = attrs.field(init=False, eq=False, repr=False)
    _canonical: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        canonical = canonical_system(self.system)
        if canonical not in HIERARCHICAL_SYSTEMS:
            raise ValidationError(
                Problem(
                    "system",
                    "code patterns are for hierarchical code systems (ICD-10-CM, ATC); "
                    "list the codes of other systems one by one",
                )
            )
        match = _PATTERN.match(self.pattern.strip().replace(".", "").upper())
        if match is None:
            raise ValidationError(
                Problem("pattern", f"{self.pattern!r} is not PREFIX, FIRST-LAST or either + ':N=C'")
            )
        first, last = match["first"], match["last"]
        if last is not None and (len(last) != len(first) or last < first):
            raise ValidationError(
                Problem("pattern", f"{self.pattern!r}: a range's ends have one length, in order")
            )
        position = int(match["position"]) if match["position"] else None
        if position is not None and position <= len(first) and last is None:
            raise ValidationError(
                Problem("pattern", f"{self.pattern!r}: the character position is inside the prefix")
            )
        object.__setattr__(self, "_first", first)
        object.__setattr__(self, "_last", last)
        object.__setattr__(self, "_position", position)
        object.__setattr__(self, "_chars", match["chars"] or "")
        object.__setattr__(self, "_canonical", canonical)

    def __repr__(self) -> str:
        return f"CodePattern({self.system!r}, {clip(self.pattern, 200)!r})"

    @property
    def is_prefix(self) -> bool:
        """Whether this is a plain prefix (no range, no character condition)."""
        return self._last is None and self._position is None

    @property
    def prefix(self) -> str:
        """The normal prefix (or the first end of the range): ``T1491`` for ``T14.91``."""
        return self._first

    def matches(self, code: Code) -> bool:
        """Whether ``code`` (of this pattern's code system) is one of the pattern's codes."""
        canonical = canonical_system(code.system)
        if canonical != self._canonical:
            return False
        return self.matches_normal(normal_code(canonical, code.code))

    def matches_normal(self, text: str) -> bool:
        """Whether ``text``, a code already in normal form (see ``normal_code``), matches."""
        first = self._first
        if self._last is None:
            if not text.startswith(first):
                return False
        else:
            head = text[: len(first)]
            if len(head) < len(first) or not first <= head <= self._last:
                return False
        position = self._position
        if position is None:
            return True
        if len(text) < position:
            return False
        char = text[position - 1]
        if char == _PLACEHOLDER and position > 1 and _PLACEHOLDER not in self._chars:
            char = text[position - 2]
        return char in self._chars


_MEMO_LIMIT = 65_536
"""How many answers a value set remembers before it starts afresh (bounded memory)."""


class _Index:
    """Exact codes and patterns by canonical system, built once per value set.

    Answers are remembered per code (codes recur across a population's facts); the memo
    is a cache only, cleared when it grows past ``_MEMO_LIMIT``.
    """

    __slots__ = ("codes", "memo", "patterns", "prefixes")

    def __init__(self, codes: Iterable[Code], patterns: Iterable[CodePattern]) -> None:
        self.codes: dict[str, set[str]] = {}
        for code in codes:
            system = canonical_system(code.system)
            self.codes.setdefault(system, set()).add(normal_code(system, code.code))
        self.prefixes: dict[str, tuple[str, ...]] = {}
        self.patterns: dict[str, tuple[CodePattern, ...]] = {}
        prefixes: dict[str, list[str]] = {}
        others: dict[str, list[CodePattern]] = {}
        for pattern in patterns:
            system = canonical_system(pattern.system)
            if pattern.is_prefix:
                prefixes.setdefault(system, []).append(pattern.prefix)
            else:
                others.setdefault(system, []).append(pattern)
        self.prefixes = {k: tuple(v) for k, v in prefixes.items()}
        self.patterns = {k: tuple(v) for k, v in others.items()}
        self.memo: dict[tuple[str, str], bool] = {}

    def contains(self, code: Code) -> bool:
        key = (code.system, code.code)
        known = self.memo.get(key)
        if known is None:
            memo = self.memo
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            known = memo[key] = self._contains(code)
        return known

    def _contains(self, code: Code) -> bool:
        system = canonical_system(code.system)
        text = normal_code(system, code.code)
        exact = self.codes.get(system)
        if exact is not None and text in exact:
            return True
        prefixes = self.prefixes.get(system)
        if prefixes is not None and text.startswith(prefixes):
            return True
        return any(p.matches_normal(text) for p in self.patterns.get(system, ()))


@attrs.frozen(repr=False)
class ValueSet:
    """A named set of codes: exact codes per code system, and category patterns.

    ``name`` is carecoord's stable name for the shipped defaults (``"mental-illness"``) or
    the publisher's computable name for a loaded one (``"MentalHealthDiagnoses"``);
    ``title`` is for people. ``url`` is the canonical URL and ``oid`` the OID when the set
    is published (VSAC: ``http://cts.nlm.nih.gov/fhir/ValueSet/<oid>``), ``version`` its
    version. ``codes`` are exact codes (``Code`` equality ignores the display);
    ``patterns`` are :class:`CodePattern` entries for ICD-10-CM and ATC categories.
    ``description`` says what the set is for and where it comes from; ``approximates``
    lists the canonical URLs of published value sets a carecoord default stands in for.

    Membership (``code in value_set``, :meth:`contains`) looks at the code itself;
    :meth:`contains_concept` also at the concept's other codings (``Code.also``). Both
    compare code systems by their
    canonical URI (OIDs and other known names of a system are the same system; ICD-10
    counts as ICD-10-CM) and ICD-10-CM codes without their dot. Load a published set with
    :meth:`from_fhir` (the FHIR adapter reads files: ``carecoord.fhir.read_value_sets``).
    """

    name: str = attrs.field(validator=_non_empty)
    title: str = attrs.field(default="", validator=_text)
    codes: tuple[Code, ...] = attrs.field(default=(), validator=_tuple_of(Code))
    patterns: tuple[CodePattern, ...] = attrs.field(default=(), validator=_tuple_of(CodePattern))
    url: str | None = attrs.field(default=None, validator=_optional_text)
    oid: str | None = attrs.field(default=None, validator=_optional_text)
    version: str | None = attrs.field(default=None, validator=_optional_text)
    description: str = attrs.field(default="", validator=_text)
    approximates: tuple[str, ...] = attrs.field(default=(), validator=_tuple_of(str))
    _index: _Index = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", _Index(self.codes, self.patterns))

    def __repr__(self) -> str:
        version = f", version={self.version!r}" if self.version else ""
        return (
            f"ValueSet({self.name!r}{version}, {len(self.codes)} codes, "
            f"{len(self.patterns)} patterns)"
        )

    def __contains__(self, code: object) -> bool:
        return isinstance(code, Code) and self._index.contains(code)

    def contains(self, code: Code) -> bool:
        """Whether ``code`` is in the set (an exact code, or matched by a pattern)."""
        return self._index.contains(code)

    def contains_concept(self, code: Code) -> bool:
        """Whether any coding of the concept ``code`` is in the set.

        ``code`` itself or one of its other codings (``code.also``): a concept read as a
        SNOMED CT code with an ICD-10-CM coding beside it is in an ICD-10-CM set.
        """
        index = self._index
        return index.contains(code) or any(index.contains(other) for other in code.also)

    def contains_any(self, codes: Iterable[Code]) -> bool:
        """Whether any of ``codes`` (the codings of one concept, say) is in the set."""
        index = self._index
        return any(index.contains(code) for code in codes)

    def first_member(self, codes: Iterable[Code]) -> Code | None:
        """The first of ``codes`` that is in the set, if any."""
        index = self._index
        return next((code for code in codes if index.contains(code)), None)

    @property
    def systems(self) -> tuple[str, ...]:
        """The canonical code systems the set has codes or patterns in, sorted."""
        index = self._index
        return tuple(sorted({*index.codes, *index.prefixes, *index.patterns}))

    def codes_in(self, system: str) -> tuple[Code, ...]:
        """The exact codes of ``system`` (any of its names), in the order listed."""
        canonical = canonical_system(system)
        return tuple(c for c in self.codes if canonical_system(c.system) == canonical)

    def patterns_in(self, system: str) -> tuple[CodePattern, ...]:
        """The patterns of ``system`` (any of its names), in the order listed."""
        canonical = canonical_system(system)
        return tuple(p for p in self.patterns if canonical_system(p.system) == canonical)

    def union(self, *others: ValueSet, name: str | None = None, title: str = "") -> ValueSet:
        """A new set with the codes and patterns of this set and ``others``.

        It is named ``name`` (this set's name by default) and carries no URL, OID or
        version: it is no longer the published set.
        """
        codes = dict.fromkeys(self.codes)
        patterns = dict.fromkeys(self.patterns)
        for other in others:
            codes.update(dict.fromkeys(other.codes))
            patterns.update(dict.fromkeys(other.patterns))
        sources = ", ".join(s.title or s.name for s in (self, *others))
        return ValueSet(
            name=name or self.name,
            title=title or self.title,
            codes=tuple(codes),
            patterns=tuple(patterns),
            description=f"The union of {sources}.",
        )

    # ------------------------------------------------------------------ FHIR

    @classmethod
    def from_fhir(cls, resource: Mapping[str, Any]) -> ValueSet:
        """A value set from a parsed FHIR ``ValueSet`` resource, as VSAC exports it.

        The codes are read from ``expansion.contains`` (nested ``contains`` too; abstract
        entries are skipped) or, when there is no expansion, from the ``concept`` lists of
        ``compose.include`` minus those of ``compose.exclude``. The name is the resource's
        ``name`` (else ``title``, ``id``, OID); the OID comes from ``identifier``
        (``urn:oid:...``) or from a VSAC URL.

        Raises:
            ValidationError: every problem found, each with its FHIR path: not a
                ValueSet, codes without a system or code, a paged (incomplete) expansion,
                or a ``compose`` that needs a terminology server (filters, other value
                sets, whole code systems). Messages name paths, never values.
        """
        return _FhirValueSet(resource).build()


# --------------------------------------------------------------------------- FHIR


class _FhirValueSet:
    """Reads one FHIR ValueSet, collecting problems with their paths."""

    def __init__(self, resource: object) -> None:
        self.resource = resource
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"{path}.{key}" if path else key, "expected a string")
            return None
        return value.strip() or None

    def items(self, obj: Mapping[str, Any], key: str, path: str) -> Iterator[tuple[str, Any]]:
        value = obj.get(key)
        if value is None:
            return
        here = f"{path}.{key}" if path else key
        if not isinstance(value, list):
            self.problem(here, "expected an array")
            return
        for index, item in enumerate(value):
            item_path = f"{here}[{index}]"
            if isinstance(item, Mapping):
                yield item_path, item
            else:
                self.problem(item_path, "expected an object")

    def build(self) -> ValueSet:
        resource = self.resource
        if not isinstance(resource, Mapping):
            raise ValidationError(
                Problem("", f"expected a FHIR ValueSet object, got {type(resource).__name__}"),
                what="FHIR ValueSet",
            )
        if resource.get("resourceType") != "ValueSet":
            raise ValidationError(
                Problem("resourceType", "expected 'ValueSet'"), what="FHIR ValueSet"
            )
        url = self.text(resource, "url", "")
        version = self.text(resource, "version", "")
        title = self.text(resource, "title", "")
        name = self.text(resource, "name", "")
        ident = self.text(resource, "id", "")
        description = self.text(resource, "description", "") or ""
        oid = self.oid(resource, url)
        codes = self.codes(resource)
        if self.problems:
            raise ValidationError(self.problems, what="FHIR ValueSet")
        label = name or title or ident or oid
        if label is None:
            raise ValidationError(
                Problem("name", "a ValueSet needs a name, title, id or OID"), what="FHIR ValueSet"
            )
        return ValueSet(
            name=label,
            title=title or name or "",
            codes=codes,
            url=url,
            oid=oid,
            version=version,
            description=description,
        )

    def oid(self, resource: Mapping[str, Any], url: str | None) -> str | None:
        for path, identifier in self.items(resource, "identifier", ""):
            value = self.text(identifier, "value", path)
            if value is None:
                continue
            candidate = value.removeprefix("urn:oid:")
            if _OID.match(candidate):
                return candidate
        tail = url.rstrip("/").rpartition("/")[2] if url else ""
        return tail if _OID.match(tail) else None

    def codes(self, resource: Mapping[str, Any]) -> tuple[Code, ...]:
        expansion = resource.get("expansion")
        if expansion is not None:
            if not isinstance(expansion, Mapping):
                self.problem("expansion", "expected an object")
                return ()
            found = list(self.contains(expansion, "expansion"))
            total = expansion.get("total")
            if isinstance(total, int) and not isinstance(total, bool) and total > len(found):
                self.problem(
                    "expansion.total",
                    f"the expansion lists {len(found)} of {total} codes (a paged export); "
                    "export the whole expansion",
                )
            if "contains" in expansion or "compose" not in resource:
                return tuple(dict.fromkeys(found))
        return self.compose(resource)

    def contains(self, parent: Mapping[str, Any], path: str) -> Iterator[Code]:
        for item_path, item in self.items(parent, "contains", path):
            abstract = item.get("abstract") is True
            system = self.text(item, "system", item_path)
            code = self.text(item, "code", item_path)
            if not abstract or code is not None:
                if system is None:
                    self.problem(f"{item_path}.system", "a code needs its system")
                elif code is None:
                    self.problem(f"{item_path}.code", "missing code")
                elif not abstract:
                    yield Code(system, code, self.text(item, "display", item_path))
            yield from self.contains(item, item_path)

    def compose(self, resource: Mapping[str, Any]) -> tuple[Code, ...]:
        compose = resource.get("compose")
        if compose is None:
            return ()
        if not isinstance(compose, Mapping):
            self.problem("compose", "expected an object")
            return ()
        included = list(self.concepts(compose, "include"))
        excluded = set(self.concepts(compose, "exclude"))
        return tuple(c for c in dict.fromkeys(included) if c not in excluded)

    def concepts(self, compose: Mapping[str, Any], key: str) -> Iterator[Code]:
        for path, part in self.items(compose, key, "compose"):
            if part.get("valueSet") is not None:
                self.problem(
                    f"{path}.valueSet",
                    "includes other value sets; export the expansion (VSAC: $expand) instead",
                )
            if part.get("filter") is not None:
                self.problem(
                    f"{path}.filter",
                    "a filter needs a terminology server; export the expansion instead",
                )
            system = self.text(part, "system", path)
            concepts = list(self.items(part, "concept", path))
            if system is None:
                if concepts:
                    self.problem(f"{path}.system", "concepts need their system")
                continue
            if part.get("concept") is None and part.get("filter") is None:
                self.problem(
                    f"{path}.concept",
                    "a whole code system cannot be listed; export the expansion instead",
                )
            for concept_path, concept in concepts:
                code = self.text(concept, "code", concept_path)
                if code is None:
                    self.problem(f"{concept_path}.code", "missing code")
                    continue
                yield Code(system, code, self.text(concept, "display", concept_path))
