"""What a fact reveals: its sensitivity classes, labelled, inferred and propagated.

A fact's classes are the union, over every source's version, of

* its ``sensitivity`` labels;
* the classes *inferred* from **every coding** of each of its codes (``Code.also``
  included): the code, specialty, service type and result value; reasons, diagnoses,
  types, categories, ingredients and care-plan activities; the specialty of the
  practitioner a referral goes to, an appointment is with, or a visit was performed by;
  a medication whose name (or an ingredient's) names a sensitive ingredient; a stay in
  or to a psychiatric setting; a social need for interpersonal safety or elder abuse
  (sexual or domestic violence); the classes a consent speaks about (but psychotherapy
  notes). Inference reads the ``sensitivity-*`` value sets of a library
  (:data:`carecoord.terminology.SENSITIVITY_VALUE_SETS`);
* the classes of **every fact it refers to** in the profile, transitively: a task's focus,
  what a communication or activity is about, an appointment's referral, a result's
  order, the conditions and goals a care plan addresses, the encounter a diagnosis was
  made in, a referral's appointments... A fact that names another carries what that one
  reveals.

:class:`Sensitivities` works this out once for a whole profile; the views, the rules'
gap labels and :func:`sensitivity_of` read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any

import attrs

import carecoord.domain as _domain
from carecoord.domain import (
    FACT_KINDS,
    CareSetting,
    Code,
    Consent,
    Medication,
    PartialDate,
    Period,
    Quantity,
    Ref,
    Sensitivity,
    SocialDomain,
    SocialNeed,
    System,
)
from carecoord.errors import Problem, ValidationError
from carecoord.profile._facts import Fact
from carecoord.terminology import DEFAULT_VALUE_SETS, SENSITIVITY_VALUE_SETS, ValueSet, ValueSets

if TYPE_CHECKING:
    from carecoord.profile._model import PatientProfile

__all__ = [
    "REFERENCE_KINDS",
    "Sensitivities",
    "infer_sensitivity",
    "library",
    "refs_in",
    "sensitivity_of",
    "with_sensitivity_sets",
]


def library(value_sets: object) -> ValueSets:
    """The library the views read: ``value_sets``, else the shipped defaults.

    Raises:
        ValidationError: ``value_sets`` is not a library.
        NotFound: a ``sensitivity-*`` value set is missing from it.
    """
    if value_sets is None:
        return DEFAULT_VALUE_SETS
    if not isinstance(value_sets, ValueSets):
        raise ValidationError(
            Problem("value_sets", f"expected a ValueSets library, got {type(value_sets).__name__}")
        )
    value_sets.require((name for _, name in SENSITIVITY_VALUE_SETS), reader="the consent views")
    return value_sets


def with_sensitivity_sets(value_sets: ValueSets) -> ValueSets:
    """``value_sets``, with the shipped ``sensitivity-*`` value sets for any it lacks.

    For readers whose library need not carry them (a rule library): the sets it has are
    used, the defaults fill the rest.
    """
    names = [name for _, name in SENSITIVITY_VALUE_SETS]
    if all(name in value_sets for name in names):
        return value_sets
    return DEFAULT_VALUE_SETS.with_(*(value_sets[n] for n in names if n in value_sets))


# --------------------------------------------------------------------------- inference


_PATTERNS: dict[int, tuple[ValueSet, re.Pattern[str] | None]] = {}
"""id(value set) -> (the set, its name pattern): value sets are immutable, so a pattern is
compiled once per set (the set is kept so that its id is not reused)."""


def _name_pattern(value_set: ValueSet) -> re.Pattern[str] | None:
    """A case-blind pattern of the set's RxNorm names, as whole words (``None``: none)."""
    known = _PATTERNS.get(id(value_set))
    if known is not None and known[0] is value_set:
        return known[1]
    if len(_PATTERNS) > 256:
        _PATTERNS.clear()
    found = _compile_names(value_set)
    _PATTERNS[id(value_set)] = (value_set, found)
    return found


def _compile_names(value_set: ValueSet) -> re.Pattern[str] | None:
    """Compile :func:`_name_pattern` of one set."""
    names = sorted(
        {c.display.strip().lower() for c in value_set.codes_in(System.RXNORM) if c.display},
        key=lambda name: (-len(name), name),
    )
    names = [name for name in names if name]
    if not names:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)


class _Inference:
    """The classes each coding reveals, with one library, remembered per coding."""

    __slots__ = ("known", "names", "sets", "texts")

    def __init__(self, value_sets: ValueSets) -> None:
        self.sets = tuple((s, value_sets[name]) for s, name in SENSITIVITY_VALUE_SETS)
        self.names = tuple(
            (s, pattern) for s, vs in self.sets if (pattern := _name_pattern(vs)) is not None
        )
        self.known: dict[tuple[str, str], frozenset[Sensitivity]] = {}
        self.texts: dict[str, frozenset[Sensitivity]] = {}

    def coding(self, code: Code) -> frozenset[Sensitivity]:
        """The classes one coding reveals (its ``also`` not read)."""
        key = (code.system, code.code)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = frozenset(s for s, vs in self.sets if vs.contains(code))
        return found

    def classes(self, code: Code) -> frozenset[Sensitivity]:
        """The classes a concept reveals: any of its codings (the code and ``also``)."""
        found = self.known.get((code.system, code.code))
        if found is None:
            found = self.coding(code)
        for other in code.also:
            found = found | self.coding(other)
        return found

    def named(self, text: str) -> frozenset[Sensitivity]:
        """The classes of the sensitive ingredients ``text`` names (a medication's name)."""
        found = self.texts.get(text)
        if found is None:
            found = self.texts[text] = frozenset(s for s, p in self.names if p.search(text))
        return found


_INFERENCES: dict[int, tuple[ValueSets, _Inference]] = {}
"""id(library) -> (the library, its inference): libraries are immutable, so what a coding
or a name reveals with one is worked out once for every profile read with it (the library
is kept so that its id is not reused)."""

_INFERENCE_LIMIT = 50_000
"""Codings and names remembered per library before the memo starts afresh."""


def _inference(value_sets: ValueSets) -> _Inference:
    """The shared :class:`_Inference` of ``value_sets`` (:data:`_INFERENCES`)."""
    known = _INFERENCES.get(id(value_sets))
    if known is not None and known[0] is value_sets:
        found = known[1]
        if len(found.known) + len(found.texts) > _INFERENCE_LIMIT:
            found.known.clear()
            found.texts.clear()
        return found
    if len(_INFERENCES) > 64:
        _INFERENCES.clear()
    found = _Inference(value_sets)
    _INFERENCES[id(value_sets)] = (value_sets, found)
    return found


def infer_sensitivity(code: Code, value_sets: ValueSets | None = None) -> frozenset[Sensitivity]:
    """The sensitivity classes a code reveals when a source did not label the fact.

    A code reveals a class when it, or one of its other codings (``code.also``), is in
    that class's value set (``carecoord.terminology.SENSITIVITY_VALUE_SETS``) of
    ``value_sets``, the shipped defaults when ``None``:

    * ``sensitivity-mental-health``: ICD-10-CM ``F01``-``F09`` and ``F20``-``F99``,
      intentional self-harm (``X71``-``X83``, ``T14.91``, poisoning with intent 2), SNOMED
      CT mental disorders, dementia and suicide attempt; psychiatry, psychotherapy and
      psychology (SNOMED CT and NUCC specialties and settings); psychiatric interviews,
      depression screening, mental-health care plans; PHQ-9, PHQ-2 and GAD-7 results;
      antidepressants, antipsychotics, lithium and ADHD medicines;
    * ``sensitivity-substance-use`` (42 CFR Part 2): ICD-10-CM ``F10``-``F19``, alcohol and
      drug counselling (``Z71.41``, ``Z71.51``), narcotic poisoning (``T40``), SNOMED CT
      substance-use disorders, drug overdose and rehabilitation, addiction medicine
      (NUCC), DAST-10 and the medications for opioid use disorder;
    * ``sensitivity-hiv``: ``B20``, ``B97.35``, ``Z21``, ``O98.7``, ``Z71.7``, SNOMED CT HIV
      infection, HIV tests and HIV status (LOINC), antiretrovirals, infectious disease
      (specialty);
    * ``sensitivity-sexual-domestic-violence``: ``T74``, ``T76``, ``Y07``, ``Z69``, abuse
      examinations and histories, abuse in pregnancy; SNOMED CT abuse findings; abuse
      screening results.

    ICD-10 (WHO) codes count as ICD-10-CM. The defaults are a safety net, not a
    terminology service: label facts at the source (``sensitivity``) whenever you can, or
    pass fuller value sets.
    """
    return _Inference(library(value_sets)).classes(code)


_CODE_FIELDS = ("code", "specialty", "service_type", "value", "discharge_disposition")
_CODE_LISTS = ("reasons", "diagnoses", "types", "ingredients", "categories", "activities")
_PARTY_FIELDS = ("recipient", "participants", "performers")
_SETTING_FIELDS = ("from_setting", "to_setting")
_VIOLENCE_DOMAINS = frozenset({SocialDomain.INTERPERSONAL_SAFETY, SocialDomain.ELDER_ABUSE})
"""Social-need domains that are sexual or domestic violence information."""


class _Shape:
    """Which of the fields inference reads a model class has (worked out once per class)."""

    __slots__ = ("code_lists", "codes", "labelled", "parties", "settings")

    def __init__(self, kind: type) -> None:
        names = {f.name for f in attrs.fields(kind)} if attrs.has(kind) else set()
        self.labelled = "sensitivity" in names
        self.codes = tuple(n for n in _CODE_FIELDS if n in names)
        self.code_lists = tuple(n for n in _CODE_LISTS if n in names)
        self.parties = tuple(n for n in _PARTY_FIELDS if n in names)
        self.settings = tuple(n for n in _SETTING_FIELDS if n in names)


_SHAPES: dict[type, _Shape] = {}


def _shape(kind: type) -> _Shape:
    found = _SHAPES.get(kind)
    if found is None:
        found = _SHAPES[kind] = _Shape(kind)
    return found


def _codes_of(fact: Any, shape: _Shape) -> Iterator[Code]:
    """Every code of a fact that may reveal a class (their other codings come with them)."""
    for name in shape.codes:
        value = getattr(fact, name)
        if isinstance(value, Code):
            yield value
    for name in shape.code_lists:
        for value in getattr(fact, name):
            code = value if isinstance(value, Code) else getattr(value, "code", None)
            if isinstance(code, Code):
                yield code


def _parties_of(fact: Any, shape: _Shape) -> Iterator[Ref]:
    """The practitioners a fact is addressed to, booked with or performed by."""
    for name in shape.parties:
        value = getattr(fact, name)
        if isinstance(value, Ref):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, Ref))


def _own_classes(
    fact: Any, inference: _Inference, specialties: Mapping[Ref, Code]
) -> frozenset[Sensitivity]:
    """What one version of a fact reveals by itself (labels and inference)."""
    shape = _shape(type(fact))
    found: set[Sensitivity] = set(fact.sensitivity) if shape.labelled else set()
    classes = inference.classes
    for name in shape.codes:  # what _codes_of yields, read in place
        value = getattr(fact, name)
        if isinstance(value, Code):
            found |= classes(value)
    for name in shape.code_lists:
        for value in getattr(fact, name):
            code = value if isinstance(value, Code) else getattr(value, "code", None)
            if isinstance(code, Code):
                found |= classes(code)
    if specialties:
        for party in _parties_of(fact, shape):
            specialty = specialties.get(party)
            if specialty is not None:
                found |= classes(specialty)
    if isinstance(fact, Medication):
        for code in (fact.code, *fact.ingredients):
            for coding in code.codings:
                if coding.display:
                    found |= inference.named(coding.display)
    elif isinstance(fact, Consent):
        found |= fact.classes - {Sensitivity.PSYCHOTHERAPY_NOTE}
    elif isinstance(fact, SocialNeed) and fact.domain in _VIOLENCE_DOMAINS:
        found.add(Sensitivity.SEXUAL_DOMESTIC_VIOLENCE)
    for name in shape.settings:
        if getattr(fact, name) is CareSetting.PSYCHIATRIC:
            found.add(Sensitivity.MENTAL_HEALTH)
            break
    return frozenset(found) if found else _NOTHING


_NOTHING: frozenset[Sensitivity] = frozenset()
_NO_POSITIONS: frozenset[int] = frozenset()


# --------------------------------------------------------------------------- references

REFERENCE_KINDS: dict[str, tuple[str, ...]] = {
    **{kind.model.__name__: (kind.name,) for kind in FACT_KINDS},
    "Order": ("orders", "referrals"),
    "Referral": ("referrals", "orders"),
    "ServiceRequest": ("referrals", "orders"),
    "Encounter": ("encounters", "transitions"),
    "CareTransition": ("transitions", "encounters"),
    "Observation": ("results",),
    "DiagnosticReport": ("results",),
    "MedicationRequest": ("medications",),
    "MedicationStatement": ("medications",),
    "AllergyIntolerance": ("allergies",),
    "EpisodeOfCare": ("enrollments",),
    "Condition": ("conditions", "social_needs"),
    "List": ("reconciliations",),
    "Task": ("tasks", "activities"),
}
"""A reference type -> the fact kinds it may point to: carecoord's own names, and the FHIR
names a reader may leave (a reference is resolved liberally: hiding too much is safer)."""

_ID_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "results": (("based_on", "orders"),),
    "referrals": (("appointments", "appointments"), ("replaces", "referrals")),
    "care_plans": (("goals", "goals"),),
    "tasks": (("part_of", "tasks"),),
}
"""Fields holding bare ids of other facts: ``(field, kind)`` per fact kind."""


_LEAF_TYPES: frozenset[object] = frozenset(
    {
        Code,
        Period,
        Quantity,
        PartialDate,
        Sensitivity,
        _domain.Identifier,
        _domain.HumanName,
        _domain.ContactPoint,
        _domain.Address,
        str,
        int,
        float,
        bool,
    }
)
"""Types that hold no :class:`Ref`: fields of these types are not walked."""
_LEAF_WORDS = frozenset({"None", "tuple", "frozenset", "str", "int", "float", "bool", "dt"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_leaf(annotation: object) -> bool:
    """Whether a field annotated so can hold no :class:`Ref` (unknown types: it can)."""
    if not isinstance(annotation, str):
        return False
    for word in _WORD.findall(annotation):
        if word in _LEAF_WORDS or word in {"datetime", "date"}:
            continue
        found = getattr(_domain, word, None)
        if found in _LEAF_TYPES:
            continue
        if isinstance(found, type) and issubclass(found, Enum):
            continue
        if callable(found) and hasattr(found, "__supertype__"):  # a NewType id
            continue
        return False
    return True


_WALKED: dict[type, tuple[str, ...]] = {}


def _walked(kind: type) -> tuple[str, ...]:
    """The fields of an attrs class that may hold a :class:`Ref`, worked out once."""
    found = _WALKED.get(kind)
    if found is None:
        found = _WALKED[kind] = tuple(f.name for f in attrs.fields(kind) if not _is_leaf(f.type))
    return found


def refs_in(value: Any) -> Iterator[Ref]:
    """Every :class:`Ref` inside a value (attrs objects and tuples walked, depth first)."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, tuple | frozenset):
        for item in value:
            yield from refs_in(item)
    elif value is not None and attrs.has(type(value)):
        for name in _walked(type(value)):
            yield from refs_in(getattr(value, name))


_PLANS: dict[type, tuple[str, ...]] = {}
"""Any type -> the fields :func:`_collect_refs` walks (none for a type that is not attrs)."""


def _collect_refs(value: Any, out: list[Ref]) -> None:
    """Append every :class:`Ref` inside ``value`` to ``out``, as :func:`refs_in` yields them.

    The same walk without a generator per value, and with each type's fields looked up
    once (:data:`_PLANS`): a profile's sensitivity table walks every fact it reads.
    """
    if isinstance(value, Ref):
        out.append(value)
    elif isinstance(value, tuple | frozenset):
        for item in value:
            _collect_refs(item, out)
    elif value is not None:
        kind = type(value)
        names = _PLANS.get(kind)
        if names is None:
            names = _PLANS[kind] = _walked(kind) if attrs.has(kind) else ()
        for name in names:
            field = getattr(value, name)
            if field is None:  # most fields: nothing to walk into
                continue
            kind_of = type(field)
            if kind_of is Ref:
                out.append(field)
            elif kind_of is not tuple or field:
                _collect_refs(field, out)


def _named(kind: str, fact: Any) -> list[tuple[str, str]]:
    """``(kind, fact id)`` of every fact one version of a fact names."""
    refs: list[Ref] = []
    _collect_refs(fact, refs)
    named = (
        [(target, ref.id) for ref in refs for target in REFERENCE_KINDS.get(ref.type, ())]
        if refs
        else []
    )
    for field, target in _ID_FIELDS.get(kind, ()):
        value = getattr(fact, field, None)
        if isinstance(value, tuple):
            if value:
                named.extend([(target, ident) for ident in value if isinstance(ident, str)])
        elif isinstance(value, str):
            named.append((target, value))
    if kind == "care_plans":
        named.extend(("goals", ident) for activity in fact.activities for ident in activity.goals)
    return named


class Sensitivities:
    """The sensitivity classes of every fact of one profile, and which facts name which.

    Built for one profile and library: :meth:`of` gives a fact's classes (labelled,
    inferred and propagated, see the module), :meth:`of_ref` those of the fact a gap's
    evidence names, :meth:`references` the facts a fact names. Facts are identified by
    their position in :meth:`PatientProfile.facts` order (:attr:`facts`). Work is done as
    it is asked for: a few facts' classes cost a few facts' inference, :meth:`all` works
    out every fact's at once.
    """

    __slots__ = (
        "_all",
        "_edges",
        "_index",
        "_inference",
        "_known",
        "_own",
        "_position",
        "_refs",
        "_specialties",
        "facts",
    )

    def __init__(self, profile: PatientProfile, value_sets: ValueSets | None = None) -> None:
        self._inference = _inference(library(value_sets))
        self._specialties = {
            p.ref: p.specialty for p in profile.practitioners if p.specialty is not None
        }
        self.facts: tuple[tuple[str, Fact[Any]], ...] = tuple(profile.facts())
        """Every fact of the profile as ``(kind, fact)``, in profile order."""
        self._position: dict[int, int] | None = None
        self._index: dict[tuple[str, str, str], list[int]] | None = None
        count = len(self.facts)
        self._own: list[frozenset[Sensitivity] | None] = [None] * count
        self._edges: list[frozenset[int] | None] = [None] * count
        self._known: dict[int, frozenset[Sensitivity]] = {}
        self._all: tuple[frozenset[Sensitivity], ...] | None = None
        self._refs: dict[str, list[int]] | None = None

    @property
    def index(self) -> dict[tuple[str, str, str], list[int]]:
        """``(kind, source, source fact id)`` -> the positions of the facts folded from it.

        Worked out when first asked for (facts that name no other need none of it).
        """
        index = self._index
        if index is None:
            index = self._index = {}
            for i, (name, fact) in enumerate(self.facts):
                for prov in fact.provenance:
                    key = (name, prov.source, prov.fact_id)
                    found = index.get(key)
                    if found is None:
                        index[key] = [i]
                    else:
                        found.append(i)
        return index

    @property
    def position(self) -> dict[int, int]:
        """``id(fact)`` -> the fact's position (worked out when first asked for)."""
        found = self._position
        if found is None:
            found = self._position = {id(fact): i for i, (_name, fact) in enumerate(self.facts)}
        return found

    def index_of(self, fact: Fact[Any]) -> int | None:
        """The position of ``fact`` in the profile (``None`` when it is not one of its facts)."""
        found = self.position.get(id(fact))
        if found is None:
            found = next((i for i, (_n, f) in enumerate(self.facts) if f == fact), None)
        return found

    def own(self, position: int) -> frozenset[Sensitivity]:
        """What the fact at ``position`` reveals by itself (labels and inference)."""
        found = self._own[position]
        if found is None:
            variants = self.facts[position][1].variants
            if len(variants) == 1:
                found = _own_classes(variants[0], self._inference, self._specialties)
            else:
                found = frozenset().union(
                    *(_own_classes(v, self._inference, self._specialties) for v in variants)
                )
            self._own[position] = found
        return found

    def references(self, position: int) -> frozenset[int]:
        """The positions of the facts the fact at ``position`` names (in its own source)."""
        found = self._edges[position]
        if found is None:
            name, fact = self.facts[position]
            named = [
                (prov.source, _named(name, variant))
                for prov, variant in zip(fact.provenance, fact.variants, strict=True)
            ]
            if not any(pairs for _source, pairs in named):  # often: it names nothing
                found = self._edges[position] = _NO_POSITIONS
                return found
            index = self.index
            targets: set[int] = set()
            for source, pairs in named:
                for target, ident in pairs:
                    hits = index.get((target, source, ident))
                    if hits is not None:
                        targets.update(hits)
            targets.discard(position)
            found = self._edges[position] = frozenset(targets)
        return found

    def classes_of(self, position: int) -> frozenset[Sensitivity]:
        """The classes of the fact at ``position``: its own and those of all it names."""
        if self._all is not None:
            return self._all[position]
        found = self._known.get(position)
        if found is None and not self.references(position):  # names nothing: its own
            found = self._known[position] = self.own(position)
        if found is None:
            seen = {position}
            pending = [position]
            classes: set[Sensitivity] = set()
            while pending:
                current = pending.pop()
                classes |= self.own(current)
                for target in self.references(current):
                    if target not in seen:
                        seen.add(target)
                        pending.append(target)
            found = self._known[position] = frozenset(classes)
        return found

    def all(self) -> tuple[frozenset[Sensitivity], ...]:
        """Every fact's classes, by position (worked out together, once)."""
        if self._all is None:
            count = len(self.facts)
            own = [self.own(i) for i in range(count)]
            edges = [self.references(i) for i in range(count)]
            self._all = _propagate(own, edges)
        return self._all

    def of(self, fact: Fact[Any]) -> frozenset[Sensitivity]:
        """The classes of a fact of the profile (see the module).

        Raises:
            ValidationError: ``fact`` is not one of the profile's facts.
        """
        found = self.index_of(fact)
        if found is None:
            raise ValidationError(Problem("fact", "not a fact of this profile"))
        return self.classes_of(found)

    def of_ref(self, ref: Ref) -> frozenset[Sensitivity]:
        """The classes of the fact ``Ref(<fact type>, <fact key>)`` (gap evidence) names.

        ``frozenset()`` when no fact has that reference. A reference whose type is ``"*"``
        matches a fact of any type with that key (a gap's focus is a bare key).
        """
        return self.of_named(ref.type, ref.id)

    def of_named(self, kind: str, key: str) -> frozenset[Sensitivity]:
        """:meth:`of_ref` of ``Ref(kind, key)``, without building the reference."""
        refs = self._refs
        if refs is None:  # fact key -> the positions of the facts with that key
            refs = self._refs = {}
            for i, (_name, fact) in enumerate(self.facts):
                if type(fact) is Fact:  # Fact.key, without the property call
                    first = fact.provenance[0]
                    key_of = f"{first.source}/{first.fact_id}"
                else:
                    key_of = fact.key
                known = refs.get(key_of)
                if known is None:
                    refs[key_of] = [i]
                else:
                    known.append(i)
        found = refs.get(key)
        if found is None:
            return _NOTHING
        if kind != "*":
            facts = self.facts
            if len(found) == 1:  # the usual case: one fact has the key
                only = found[0]
                if type(facts[only][1].value).__name__ != kind:
                    return _NOTHING
                return self.classes_of(only)
            found = [i for i in found if type(facts[i][1].value).__name__ == kind]
        if len(found) == 1:
            return self.classes_of(found[0])
        return frozenset().union(*(self.classes_of(i) for i in found))


def _propagate(
    own: list[frozenset[Sensitivity]], edges: list[frozenset[int]]
) -> tuple[frozenset[Sensitivity], ...]:
    """Each fact's classes united with those of every fact it names, transitively."""
    classes = list(own)
    changed = True
    while changed:
        changed = False
        for i, targets in enumerate(edges):
            if not targets:
                continue
            merged = classes[i].union(*(classes[j] for j in targets))
            if merged != classes[i]:
                classes[i] = merged
                changed = True
    return tuple(classes)


def sensitivity_of(
    profile: PatientProfile, fact: Fact[Any], *, value_sets: ValueSets | None = None
) -> frozenset[Sensitivity]:
    """The sensitivity classes of a fact: labelled, inferred and propagated (see module).

    Inferred with the value sets of ``value_sets`` (the shipped defaults when ``None``).
    A fact that is not one of the profile's is read as if it were (what it names is
    looked up in the profile).
    """
    table = Sensitivities(profile, value_sets)
    if table.index_of(fact) is not None:
        return table.of(fact)
    extended = _with_fact(profile, fact)
    return Sensitivities(extended, value_sets).of(fact)


def _with_fact(profile: PatientProfile, fact: Fact[Any]) -> PatientProfile:
    """``profile`` with ``fact`` added to the list of its kind."""
    for kind in FACT_KINDS:
        if isinstance(fact.value, kind.model):
            changes: dict[str, Any] = {kind.name: (*getattr(profile, kind.name), fact)}
            return attrs.evolve(profile, **changes)
    raise ValidationError(Problem("fact", "not a fact of a registered kind"))
