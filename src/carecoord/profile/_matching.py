"""Patient identity matching: blocking, Fellegi-Sunter evidence, grades and clustering.

The matcher decides which :class:`~carecoord.domain.PatientRecord` objects, from one or
several sources, describe the same person. It works in four steps.

1. **Explicit assertions and identifiers.** A :class:`~carecoord.domain.PatientLink` of
   kind ``SAME_PERSON`` (FHIR ``Patient.link``, HL7 ADT A40 merge) links two records for
   certain; a ``NOT_SAME_PERSON`` link keeps them apart whatever else agrees, and wins over
   a ``SAME_PERSON`` link between the same two records. Two records that share an
   identifier (same system *and* value) are the same person (``certain``); two records
   that both carry identifiers of one system but share no value of it are different people
   (``certainly-not``: two MRNs of one assigning system), unless the system is listed in
   :attr:`MatchConfig.ignore_identifier_conflicts`.
2. **Blocking.** Only records that share a blocking key (a phonetic family name and birth
   year, a birth date with day and month in either order, a phone number, an e-mail
   address, a phonetic given name and postal code...) are compared, so the cost grows with
   the size of the blocks rather than the square of the population. Blocks larger than
   :attr:`MatchConfig.max_block_size` are split into sub-blocks on attributes their key
   does not hold.
3. **Evidence.** Each compared pair gets one outcome per field (given name, family name,
   birth date, sex, address, phone, e-mail) and each outcome a weight
   ``log2(m / u)``, where ``m`` is the probability of that outcome when the two records
   are the same person and ``u`` when they are not (Fellegi-Sunter). The score is the sum
   of the weights; the grade comes from the thresholds of :class:`MatchConfig`. Outcomes
   listed in :attr:`MatchConfig.vetoes` (by default a given name or a birth date that
   clearly disagree) cap the grade at ``possible``; two of them, or one when the name,
   birth date and sex alone score below ``possible``, make it ``certainly-not``. Twins and
   household members share a family name, an address and a phone, and only their given
   names and birth dates tell them apart.
4. **Clustering.** ``certain`` and ``probable`` pairs merge transitively, strongest first
   (explicit links, shared identifiers, then by score), except that a merge is refused
   when it would put two records that must stay apart (a ``NOT_SAME_PERSON`` link, or
   conflicting identifiers of one system) in one cluster. ``possible`` pairs left in
   different clusters, and refused merges, go to the review list with their per-field
   evidence.

The result depends only on the set of records: not on their order, and not on a record
being given twice. Evidence names fields and outcomes only; no value of a record appears in
any result, repr or error message.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import multiprocessing
import os
import sys
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from enum import Enum
from functools import lru_cache
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final, TypeVar

import attrs

from carecoord.display import HtmlDisplay, JsonValue
from carecoord.domain import ContactSystem, LinkKind, Patient, PatientRecord, Sex
from carecoord.errors import Problem, UsageError, ValidationError
from carecoord.profile._strings import (
    COMPARED_LENGTH,
    NICKNAMES,
    are_nicknames,
    canonical_given_names,
    damerau_levenshtein,
    jaro_winkler,
    name_tokens,
    normalize_address_line,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    nysiis,
)

__all__ = [
    "BLOCKING_KEYS",
    "DEFAULT_PROBABILITIES",
    "DEFAULT_VETOES",
    "MAX_COMPARED_VALUES",
    "PARALLEL_MIN_RECORDS",
    "TERM_FREQUENCY_FIELDS",
    "FieldEvidence",
    "IncrementalLinker",
    "Linkage",
    "MatchConfig",
    "MatchGrade",
    "MatchResult",
    "PossibleMatch",
    "ScoredPair",
    "TermFrequencies",
    "block_pairs",
    "blocking_keys",
    "compare",
    "link_keys",
    "link_records",
    "refined_blocking_keys",
]

RecordKey = tuple[str, str]


class MatchGrade(Enum):
    """How sure the matcher is that two records are the same person (FHIR ``match-grade``)."""

    CERTAIN = "certain"
    """The same person: an explicit link, a shared identifier, or overwhelming evidence."""
    PROBABLE = "probable"
    """Very likely the same person; merged like ``certain``."""
    POSSIBLE = "possible"
    """Perhaps the same person; not merged, listed for review."""
    CERTAINLY_NOT = "certainly-not"
    """Not the same person (or too little evidence to say so)."""

    @property
    def merges(self) -> bool:
        """Whether records of this grade are merged into one person."""
        return self in (MatchGrade.CERTAIN, MatchGrade.PROBABLE)


_RANK: Final = {
    MatchGrade.CERTAINLY_NOT: 0,
    MatchGrade.POSSIBLE: 1,
    MatchGrade.PROBABLE: 2,
    MatchGrade.CERTAIN: 3,
}
_GRADES: Final = (
    MatchGrade.CERTAINLY_NOT,
    MatchGrade.POSSIBLE,
    MatchGrade.PROBABLE,
    MatchGrade.CERTAIN,
)


@attrs.frozen
class FieldEvidence:
    """The outcome of comparing one field of two records, and the weight it carries.

    ``field`` is one of ``given_name``, ``family_name``, ``birth_date``, ``sex``,
    ``address``, ``phone``, ``email``, ``identifier``, ``link``, ``clustering`` or ``twins``;
    ``outcome`` says how the two values relate (``exact``, ``nickname``, ``close``,
    ``swapped-day-month``, ``disagree``, ``missing``...; see :data:`DEFAULT_PROBABILITIES`).
    ``weight`` is ``log2(m / u)``: positive when the outcome is evidence for the same
    person. Values are never carried, only outcomes.
    """

    field: str
    outcome: str
    weight: float


@attrs.frozen
class MatchResult:
    """The verdict on two patients: a grade, a score (log2 Bayes factor) and the evidence."""

    grade: MatchGrade
    score: float
    evidence: tuple[FieldEvidence, ...]


@attrs.frozen
class PossibleMatch:
    """A scored pair of records, by key ``(source id, patient id)``; ``left < right``."""

    left: RecordKey
    right: RecordKey
    grade: MatchGrade
    score: float
    evidence: tuple[FieldEvidence, ...]

    def display(self) -> HtmlDisplay:
        """The pair as HTML for notebooks: records, grade, score, each field's weight.

        A match carries outcomes and weights only (never the values compared).
        """
        from carecoord.profile._html import match_html  # noqa: PLC0415 - _html reads this

        return match_html(self)

    def _repr_html_(self) -> str:
        return self.display().html

    def to_records(self) -> list[dict[str, JsonValue]]:
        """Each field's evidence as a row: ``field``, ``outcome``, ``weight`` (a float).

        The rows of a match-weight (waterfall) chart, in the order the fields were compared.
        """
        return [{"field": e.field, "outcome": e.outcome, "weight": e.weight} for e in self.evidence]


@attrs.frozen
class Linkage:
    """The outcome of linking records: who is who, and what a person should look at.

    ``clusters`` holds one sorted tuple of record keys per person, every record in exactly
    one cluster, clusters sorted. ``review`` holds the pairs that were not merged but might
    be the same person: ``possible`` matches, and ``certain``/``probable`` matches whose
    merge was refused because it would have joined records that must stay apart (their
    evidence then ends with ``clustering``/``refused``). It is sorted by keys.
    """

    clusters: tuple[tuple[RecordKey, ...], ...]
    review: tuple[PossibleMatch, ...]

    def cluster_index(self) -> dict[RecordKey, int]:
        """Map each record key to the position of its cluster in :attr:`clusters`."""
        return {key: n for n, cluster in enumerate(self.clusters) for key in cluster}


# --------------------------------------------------------------------------- configuration

_P = tuple[float, float]

DEFAULT_PROBABILITIES: Final[Mapping[str, Mapping[str, _P]]] = MappingProxyType(
    {
        "given_name": MappingProxyType(
            {
                "exact": (0.88, 0.01),
                "nickname": (0.06, 0.002),
                "close": (0.03, 0.003),
                "middle": (0.01, 0.0008),
                "initial": (0.01, 0.0007),
                "transposed": (0.005, 0.00005),
                "disagree": (0.015, 0.98),
            }
        ),
        "family_name": MappingProxyType(
            {
                "exact": (0.91, 0.004),
                "partial": (0.01, 0.0003),
                "close": (0.03, 0.002),
                "transposed": (0.005, 0.00005),
                "disagree": (0.04, 0.99),
            }
        ),
        "birth_date": MappingProxyType(
            {
                "exact": (0.94, 0.00004),
                "swapped-day-month": (0.01, 0.00004),
                "close": (0.015, 0.0008),
                "same-month": (0.02, 0.000025),
                "same-year": (0.02, 0.0003),
                "disagree": (0.01, 0.99),
            }
        ),
        "sex": MappingProxyType({"exact": (0.98, 0.5), "disagree": (0.01, 0.5)}),
        "address": MappingProxyType(
            {
                "exact": (0.7, 0.0001),
                "same-street": (0.05, 0.0002),
                "same-postal-code": (0.08, 0.02),
                "disagree": (0.2, 0.97),
            }
        ),
        "phone": MappingProxyType({"exact": (0.6, 0.0001), "disagree": (0.3, 0.999)}),
        "email": MappingProxyType({"exact": (0.5, 0.00001), "disagree": (0.2, 0.999)}),
        "identifier": MappingProxyType({"shared": (0.99, 0.000001), "conflict": (0.01, 0.99)}),
    }
)
"""Default ``(m, u)`` probabilities of each outcome of each field.

``m`` is the probability of the outcome when two records are the same person, ``u`` when
they are not; the outcome's weight is ``log2(m / u)``. The outcome ``missing`` (one side
has no value) always weighs ``0``. See ``docs/matching.md`` for what each outcome means.
"""

DEFAULT_VETOES: Final[frozenset[tuple[str, str]]] = frozenset(
    {("given_name", "disagree"), ("birth_date", "disagree")}
)
"""Outcomes that cap a pair at ``possible`` whatever its score (twins, households)."""

BLOCKING_KEYS: Final[tuple[str, ...]] = (
    "birth-date",
    "email",
    "family-birth-year",
    "family-postal-code",
    "given-family",
    "given-postal-code",
    "identifier",
    "phone",
)
"""Every blocking key :class:`MatchConfig` knows, all used by default.

* ``birth-date``: full birth date, with day and month in either order;
* ``email``, ``phone``, ``identifier``: each normalised value (identifier with its system);
* ``family-birth-year``: NYSIIS of the family name and the birth year;
* ``family-postal-code``: NYSIIS of the family name and the postal code;
* ``given-family``: NYSIIS of the first given name and of the family name, in either order;
* ``given-postal-code``: NYSIIS of each canonical form of the first given name (so a
  nickname shares a key with its formal name) and the postal code.
"""


def _freeze_probabilities(value: Mapping[str, Mapping[str, _P]]) -> Mapping[str, Mapping[str, _P]]:
    """Overlay ``value`` on the defaults, check it and freeze it."""
    merged: dict[str, dict[str, _P]] = {
        name: dict(levels) for name, levels in DEFAULT_PROBABILITIES.items()
    }
    problems: list[Problem] = []
    for name, levels in value.items():
        if name not in merged:
            problems.append(Problem(f"probabilities.{name}", "not a field the matcher compares"))
            continue
        for outcome, pair in levels.items():
            path = f"probabilities.{name}.{outcome}"
            if outcome not in DEFAULT_PROBABILITIES[name]:
                problems.append(Problem(path, "not an outcome of this field"))
                continue
            try:
                m, u = (float(pair[0]), float(pair[1]))
            except (TypeError, ValueError, IndexError):
                problems.append(Problem(path, "expected a pair (m, u)"))
                continue
            if not (0.0 < m <= 1.0 and 0.0 < u <= 1.0):
                problems.append(Problem(path, "m and u must be probabilities above 0"))
                continue
            merged[name][outcome] = (m, u)
    if problems:
        raise ValidationError(problems, what="MatchConfig")
    return MappingProxyType({name: MappingProxyType(levels) for name, levels in merged.items()})


def _to_vetoes(value: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset(value)


def _to_names(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _to_bounds(value: Iterable[float]) -> tuple[float, float]:
    bounds = tuple(value)
    if (
        len(bounds) != 2
        or not all(isinstance(bound, int | float) for bound in bounds)
        or not bounds[0] <= 0.0 <= bounds[1]
    ):
        raise ValidationError(
            Problem("term_frequency_bounds", "expected (low <= 0, high >= 0)"), what="MatchConfig"
        )
    return (float(bounds[0]), float(bounds[1]))


def _to_systems(value: Iterable[str]) -> frozenset[str]:
    return frozenset((value,) if isinstance(value, str) else value)


def _check_blocking(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    if any(name not in BLOCKING_KEYS for name in value):
        raise ValidationError(Problem("blocking", "unknown blocking key"), what="MatchConfig")


def _check_vetoes(_instance: object, _attribute: object, value: frozenset[tuple[str, str]]) -> None:
    for name, outcome in value:
        if outcome not in DEFAULT_PROBABILITIES.get(name, {}):
            raise ValidationError(Problem("vetoes", "unknown field outcome"), what="MatchConfig")


@attrs.frozen
class MatchConfig:
    """Weights, thresholds and blocking of the identity matcher; ``MatchConfig()`` is tuned.

    ``probabilities`` overrides some of :data:`DEFAULT_PROBABILITIES`:
    ``MatchConfig(probabilities={"phone": {"exact": (0.5, 0.001)}})`` changes one outcome
    and keeps every other default. Thresholds are on the score scale (sum of
    ``log2(m / u)`` weights): a pair scoring at least ``certain`` is ``certain``, at least
    ``probable`` is ``probable``, at least ``possible`` is ``possible``, and anything lower
    is ``certainly-not``. ``vetoes`` lists ``(field, outcome)`` pairs that cap a pair at
    ``possible``; a pair with two of them, or with one and a score below ``possible``
    without the contact fields (address, phone, e-mail), is ``certainly-not``.
    ``blocking`` names the blocking keys used (see :data:`BLOCKING_KEYS`); a block holding
    more than ``max_block_size`` records is split into sub-blocks on attributes its key
    does not hold (family name, given name, birth year, postal code), and sub-blocks still
    larger are skipped, so the pairs compared per record stay bounded at any size.
    ``ignore_identifier_conflicts`` lists identifier systems whose differing values do not
    prove that two records are different people (a system whose ids change over time).
    With ``term_frequencies`` (on by default), once at least
    ``term_frequency_min_records`` records are linked together, an exact agreement on a
    given name, family name, birth date, address, phone or e-mail weighs by how common
    the agreeing value is in those records (see :data:`TERM_FREQUENCY_FIELDS`), the
    adjustment clamped to ``term_frequency_bounds``. :func:`compare` (two records, no
    table) never adjusts.
    """

    probabilities: Mapping[str, Mapping[str, _P]] = attrs.field(
        factory=dict, converter=_freeze_probabilities, hash=False
    )
    certain: float = 30.0
    probable: float = 21.0
    possible: float = 10.0
    vetoes: frozenset[tuple[str, str]] = attrs.field(
        default=DEFAULT_VETOES, converter=_to_vetoes, validator=_check_vetoes
    )
    blocking: tuple[str, ...] = attrs.field(
        default=BLOCKING_KEYS, converter=_to_names, validator=_check_blocking
    )
    max_block_size: int = 12
    ignore_identifier_conflicts: frozenset[str] = attrs.field(
        default=frozenset(), converter=_to_systems
    )
    term_frequencies: bool = True
    term_frequency_min_records: int = 1000
    term_frequency_bounds: tuple[float, float] = attrs.field(
        default=(-6.0, 2.0), converter=_to_bounds
    )

    def __attrs_post_init__(self) -> None:
        if not self.certain >= self.probable >= self.possible:
            raise ValidationError(
                Problem("certain", "thresholds must satisfy certain >= probable >= possible"),
                what="MatchConfig",
            )
        if self.max_block_size < 2:
            raise ValidationError(Problem("max_block_size", "must be at least 2"))
        if self.term_frequency_min_records < 0:
            raise ValidationError(
                Problem("term_frequency_min_records", "must not be negative"), what="MatchConfig"
            )

    def weight(self, field: str, outcome: str) -> float:
        """The weight ``log2(m / u)`` of one outcome of one field (``0`` for ``missing``)."""
        if outcome == "missing":
            return 0.0
        m, u = self.probabilities[field][outcome]
        return math.log2(m / u)

    def grade(self, score: float) -> MatchGrade:
        """The grade a score earns, before vetoes."""
        if score >= self.certain:
            return MatchGrade.CERTAIN
        if score >= self.probable:
            return MatchGrade.PROBABLE
        if score >= self.possible:
            return MatchGrade.POSSIBLE
        return MatchGrade.CERTAINLY_NOT


class _Weights:
    """A config compiled for the hot loop: weights as plain dicts, evidence objects shared."""

    __slots__ = (
        "blocking",
        "certain",
        "evidence",
        "ignored_systems",
        "inexact_names",
        "max_block_size",
        "names_best",
        "possible",
        "probable",
        "term_frequencies",
        "tf_bounds",
        "tf_min_records",
        "vetoes",
        "weights",
    )

    def __init__(self, config: MatchConfig) -> None:
        self.weights: dict[tuple[str, str], float] = {}
        self.evidence: dict[tuple[str, str], FieldEvidence] = {}
        for name, levels in config.probabilities.items():
            for outcome in (*levels, "missing"):
                weight = config.weight(name, outcome)
                self.weights[name, outcome] = weight
                self.evidence[name, outcome] = FieldEvidence(name, outcome, weight)
        for name, outcome in (
            ("link", "same-person"),
            ("link", "not-same-person"),
            ("clustering", "refused"),
            ("twins", "suspected"),
        ):
            self.weights[name, outcome] = 0.0
            self.evidence[name, outcome] = FieldEvidence(name, outcome, 0.0)
        self.vetoes = config.vetoes
        self.certain = config.certain
        self.probable = config.probable
        self.possible = config.possible
        self.blocking = config.blocking
        self.max_block_size = config.max_block_size
        self.ignored_systems = config.ignore_identifier_conflicts
        self.term_frequencies = config.term_frequencies
        self.tf_min_records = config.term_frequency_min_records
        self.tf_bounds = (
            float(config.term_frequency_bounds[0]),
            float(config.term_frequency_bounds[1]),
        )
        # The best the given and family names can weigh together, without and with
        # frequency adjustments (an exact agreement gains at most the upper bound).
        best: list[float] = []
        for high in (0.0, self.tf_bounds[1]):
            total = 0.0
            for name in ("given_name", "family_name"):
                total += max(
                    self.weights[name, outcome] + (high if outcome == "exact" else 0.0)
                    for outcome in (*config.probabilities[name], "missing")
                )
            best.append(total)
        self.names_best = (best[0], best[1])
        # The exact weight of each name, and the best it can weigh without an exact
        # agreement (frequencies adjust exact agreements only): given, then family.
        self.inexact_names = tuple(
            (
                self.weights[name, "exact"],
                max(
                    self.weights[name, outcome]
                    for outcome in (*config.probabilities[name], "missing")
                    if outcome != "exact"
                ),
            )
            for name in ("given_name", "family_name")
        )


# --------------------------------------------------------------------------- features


_T = TypeVar("_T")

MAX_COMPARED_VALUES: Final = 16
"""The most values of one field (names, given names, phones, e-mails, addresses) that
matching reads from one record; it compares them pairwise, so their number is bounded too."""
_NAME_TEXT: Final = 4 * COMPARED_LENGTH
"""Characters of one name part, phone, e-mail or address line normalised (before tokens
and names are cut to :data:`~carecoord.profile._strings.COMPARED_LENGTH`)."""


_Values = tuple[str, ...] | frozenset[str]
_SMALL_SET: Final = 8


def _compact(values: set[str]) -> _Values:
    """Identifier values of one system: a sorted tuple, or a frozenset when many."""
    return tuple(sorted(values)) if len(values) <= _SMALL_SET else frozenset(values)


def _disjoint(values: _Values, others: _Values) -> bool:
    if isinstance(values, frozenset):
        return values.isdisjoint(others)
    return not any(value in others for value in values)


def _first(values: dict[_T, None]) -> tuple[_T, ...]:
    """The first :data:`MAX_COMPARED_VALUES` distinct values, in order."""
    if len(values) <= MAX_COMPARED_VALUES:
        return tuple(values)
    return tuple(itertools.islice(values, MAX_COMPARED_VALUES))


class _Features:
    """What the matcher needs of one patient, normalised once.

    Bounded whatever the record holds: at most :data:`MAX_COMPARED_VALUES` values of a
    field, each name token or family name cut to ``COMPARED_LENGTH`` characters, so
    comparing two records costs no more than comparing two ordinary ones.
    """

    __slots__ = (
        "addresses",
        "birth",
        "emails",
        "families",
        "firsts",
        "ids",
        "middles",
        "phones",
        "postals",
        "sex",
    )

    def __init__(self, patient: Patient) -> None:
        firsts: dict[str, None] = {}
        middles: dict[str, None] = {}
        families: dict[str, None] = {}
        for name in patient.names[:MAX_COMPARED_VALUES]:
            tokens = [
                token[:COMPARED_LENGTH]
                for part in name.given[:MAX_COMPARED_VALUES]
                for token in name_tokens(part[:_NAME_TEXT])
            ]
            if tokens:
                firsts.setdefault(tokens[0])
                middles.update(dict.fromkeys(tokens[1:]))
            family = normalize_name(name.family[:_NAME_TEXT]) if name.family else ""
            if family:
                families.setdefault(family[:COMPARED_LENGTH])
        self.firsts: tuple[str, ...] = _first(firsts)
        self.middles: tuple[str, ...] = _first(middles)
        self.families: tuple[str, ...] = _first(families)
        birth = patient.birth_date
        self.birth: tuple[int, int | None, int | None] | None = (
            None if birth is None else (birth.year, birth.month, birth.day)
        )
        self.sex: Sex | None = None if patient.sex is Sex.UNKNOWN else patient.sex
        phones: dict[str, None] = {}
        emails: dict[str, None] = {}
        for point in patient.telecom[: 4 * MAX_COMPARED_VALUES]:
            if point.system in (ContactSystem.PHONE, ContactSystem.SMS):
                phone = normalize_phone(point.value[:_NAME_TEXT])
                if phone is not None:
                    phones.setdefault(phone)
            elif point.system is ContactSystem.EMAIL:
                email = normalize_email(point.value[:_NAME_TEXT])
                if email is not None:
                    emails.setdefault(email)
        self.phones: tuple[str, ...] = _first(phones)
        self.emails: tuple[str, ...] = _first(emails)
        addresses: dict[tuple[str, str | None, str | None], None] = {}
        postals: dict[str, None] = {}
        for address in patient.addresses[:MAX_COMPARED_VALUES]:
            street = normalize_address_line(address.lines[0][:_NAME_TEXT]) if address.lines else ""
            postal = (
                normalize_postal_code(address.postal_code[:_NAME_TEXT])
                if address.postal_code
                else None
            )
            city = normalize_name(address.city[:_NAME_TEXT]) if address.city else None
            if street or postal:
                addresses.setdefault((street, postal, city or None))
            if postal:
                postals.setdefault(postal)
        self.addresses: tuple[tuple[str, str | None, str | None], ...] = _first(addresses)
        self.postals: tuple[str, ...] = _first(postals)
        ids: dict[str, set[str]] = {}
        for identifier in patient.identifiers:
            value = identifier.value.strip()
            if value:
                ids.setdefault(identifier.system.strip(), set()).add(value)
        # Sorted by system, each system's values as a small sorted tuple (a frozenset
        # when there are many): a fraction of the memory of a dict of frozensets.
        self.ids: tuple[tuple[str, _Values], ...] = tuple(
            (system, _compact(values)) for system, values in sorted(ids.items())
        )

    def state(self) -> tuple[Any, ...]:
        """The features as a plain tuple (quick to pickle; see :meth:`restore`)."""
        sex = None if self.sex is None else _SEXES.index(self.sex)
        return (
            self.addresses,
            self.birth,
            self.emails,
            self.families,
            self.firsts,
            self.ids,
            self.middles,
            self.phones,
            self.postals,
            sex,
        )

    @classmethod
    def restore(cls, state: tuple[Any, ...]) -> _Features:
        """The features :meth:`state` gave, with names shared with equal ones (interned)."""
        features = cls.__new__(cls)
        (
            addresses,
            features.birth,
            features.emails,
            families,
            firsts,
            features.ids,
            middles,
            features.phones,
            postals,
            sex,
        ) = state
        intern = sys.intern
        features.families = tuple(map(intern, families))
        features.firsts = tuple(map(intern, firsts))
        features.middles = tuple(map(intern, middles)) if middles else ()
        features.postals = tuple(map(intern, postals))
        features.addresses = tuple(
            (street, None if postal is None else intern(postal), city and intern(city))
            for street, postal, city in addresses
        )
        features.sex = None if sex is None else _SEXES[sex]
        return features

    def refinements(self, kind: str) -> tuple[str, ...]:
        """The sub-block tokens of this record for a blocking key of ``kind``.

        A block larger than :attr:`MatchConfig.max_block_size` is split into sub-blocks on
        attributes its key does not already hold (see ``_REFINEMENTS``): family name code
        (``f``), canonical given name code (``g``), birth year (``y``) and postal code
        (``z``). Records of one person share most of them, so the split keeps recall.
        """
        tokens: list[str] = []
        # Attributes come in alphabetical order (as their prefixes sort): when each gives
        # at most one token, the tokens are already sorted and distinct.
        several = False
        for attribute in _refined_on(kind):
            found = _value_tokens(attribute, _ATTRIBUTE_VALUES[attribute](self))
            several = several or len(found) > 1
            tokens.extend(found)
        return tuple(sorted(tokens)) if several else tuple(tokens)

    def block_keys(self, blocking: Iterable[str]) -> tuple[str, ...]:
        """The blocking keys of this record, without repeats, in a fixed order."""
        keys: list[str] = []
        birth = self.birth
        year = birth[0] if birth is not None else None
        family_codes = [nysiis(family) for family in self.families]
        for kind in blocking:
            if kind == "birth-date":
                if birth is not None and birth[1] is not None and birth[2] is not None:
                    low, high = sorted((birth[1], birth[2]))
                    keys.append(f"b|{birth[0]}|{low}|{high}")
            elif kind == "email":
                keys.extend(f"e|{email}" for email in self.emails)
            elif kind == "phone":
                keys.extend(f"p|{phone}" for phone in self.phones)
            elif kind == "identifier":
                for system, values in self.ids:
                    keys.extend(f"i|{system}|{value}" for value in sorted(values))
            elif kind == "family-birth-year":
                if year is not None:
                    keys.extend(f"fy|{code}|{year}" for code in family_codes if code)
            elif kind == "family-postal-code":
                keys.extend(
                    f"fz|{code}|{postal}"
                    for code in family_codes
                    if code
                    for postal in self.postals
                )
            elif kind == "given-family":
                for first in self.firsts:
                    given_code = nysiis(first)
                    for code in family_codes:
                        if given_code and code:
                            low_code, high_code = sorted((given_code, code))
                            keys.append(f"gf|{low_code}|{high_code}")
            elif kind == "given-postal-code" and self.postals:
                codes = sorted(
                    {nysiis(canonical) for first in self.firsts for canonical in _canonicals(first)}
                )
                keys.extend(
                    f"gz|{code}|{postal}" for code in codes if code for postal in self.postals
                )
        return tuple(dict.fromkeys(keys))


_SEXES: Final = tuple(Sex)
_Birth = tuple[int, int | None, int | None]

_REFINEMENTS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "b": ("f", "g", "z"),
        "e": ("g", "y"),
        "fy": ("g", "z"),
        "fz": ("g", "y"),
        "gf": ("y", "z"),
        "gz": ("f", "y"),
        "i": ("g", "y"),
        "p": ("g", "y"),
    }
)
"""For each blocking key kind (its prefix), the attributes an oversized block splits on."""


def _refined_on(kind: str) -> tuple[str, ...]:
    """The attributes an oversized block of ``kind`` splits on (birth year if unlisted)."""
    return _REFINEMENTS.get(kind, ("y",))


def _attribute_tokens(
    features: Sequence[_Features], attributes: Iterable[str]
) -> dict[str, list[tuple[str, ...]]]:
    """Each record's sub-block tokens of each of ``attributes``, distinct, in record order.

    A record's tokens for a kind of blocking key are the concatenation of its tokens of
    the kind's attributes: as a set, :meth:`_Features.refinements` (each attribute's
    tokens have their own prefix, so the concatenation has no repeats). Records with
    equal values share one tuple, worked out once.
    """
    found: dict[str, list[tuple[str, ...]]] = {}
    for attribute in attributes:
        value_of = _ATTRIBUTE_VALUES[attribute]
        memo: dict[Any, tuple[str, ...]] = {}
        tokens: list[tuple[str, ...]] = []
        append = tokens.append
        for record in features:
            value = value_of(record)
            made = memo.get(value)
            if made is None:
                made = memo[value] = _value_tokens(attribute, value)
            append(made)
        found[attribute] = tokens
    return found


_ATTRIBUTE_VALUES: Final[Mapping[str, Callable[[_Features], Any]]] = MappingProxyType(
    {
        "f": attrgetter("families"),
        "g": attrgetter("firsts"),
        "y": attrgetter("birth"),
        "z": attrgetter("postals"),
    }
)
"""The feature each sub-block attribute is worked out from."""


def _value_tokens(attribute: str, value: Any) -> tuple[str, ...]:
    """The distinct sub-block tokens of ``attribute`` for its feature's ``value``.

    Family name codes (``f:``), codes of the canonical forms of the first names (``g:``),
    the birth year (``y:``) and the postal codes (``z:``).
    """
    if attribute == "f":
        return tuple(dict.fromkeys(token for family in value if (token := _family_token(family))))
    if attribute == "g":
        return tuple(dict.fromkeys(token for first in value for token in _given_tokens(first)))
    if attribute == "y":
        return () if value is None else (f"y:{value[0]}",)
    return tuple("z:" + postal for postal in value)


def _canonicals(name: str) -> frozenset[str]:
    if len(name) < 2:
        return frozenset()
    return canonical_given_names(name)


@lru_cache(maxsize=1 << 17)
def _family_token(family: str) -> str:
    """The refinement token of a normalised family name (``""`` when it has no code)."""
    code = nysiis(family)
    return f"f:{code}" if code else ""


@lru_cache(maxsize=1 << 16)
def _given_tokens(first: str) -> tuple[str, ...]:
    """The refinement tokens of a normalised first name: the codes of its canonical forms."""
    return tuple(sorted({f"g:{code}" for name in _canonicals(first) if (code := nysiis(name))}))


# --------------------------------------------------------------------------- term frequencies

TERM_FREQUENCY_FIELDS: Final[tuple[str, ...]] = (
    "given_name",
    "family_name",
    "birth_date",
    "address",
    "phone",
    "email",
)
"""Fields whose ``exact`` weight is adjusted by the frequency of the agreeing value."""


def _address_values(features: _Features) -> list[object]:
    """Hashable forms of each address: street with postal code, and street with city."""
    values: list[object] = []
    for street, postal, city in features.addresses:
        if street:
            if postal:
                values.append(("z", street, postal))
            if city:
                values.append(("c", street, city))
    return values


def _field_values(features: _Features) -> tuple[Iterable[object], ...]:
    """The values of ``features`` counted for each of :data:`TERM_FREQUENCY_FIELDS`."""
    birth = features.birth
    full_birth = () if birth is None or birth[2] is None else (birth,)
    return (
        features.firsts,
        features.families,
        full_birth,
        _address_values(features),
        features.phones,
        features.emails,
    )


class _Frequencies:
    """How often each value of each frequency-adjusted field occurs in the linked records.

    Splink-style term-frequency adjustment, relative to the data's own average: for a
    field whose values occur with proportions ``p_v``, two random records agree with
    probability ``sum(p_v ** 2)``; agreeing on ``v`` in particular has probability
    ``p_v``. An exact agreement on ``v`` therefore gains
    ``log2(sum(p_w ** 2) / p_v)`` on top of its configured weight: negative for a common
    value (Smith, a household's shared address or landline), positive for a rare one, and
    zero on average, so the configured thresholds keep their meaning at every size.
    Each record counts each distinct value once. Values are hashed (``hash``) to keep
    memory small; a 64-bit collision merely shares a count.
    """

    __slots__ = ("counts", "high", "low", "records", "squares", "totals")

    def __init__(self, low: float, high: float) -> None:
        self.counts: tuple[dict[int, int], ...] = tuple({} for _ in TERM_FREQUENCY_FIELDS)
        self.squares = [0] * len(TERM_FREQUENCY_FIELDS)
        self.totals = [0] * len(TERM_FREQUENCY_FIELDS)
        self.records = 0
        self.low = low
        self.high = high

    @classmethod
    def from_table(cls, table: TermFrequencies, low: float, high: float) -> _Frequencies:
        """The hashed counts of a :class:`TermFrequencies` table (as ``add`` would count)."""
        freq = cls(low, high)
        freq.records = table.records
        for n, values in enumerate(table.counts):
            counts = freq.counts[n]
            for value, count in values.items():
                key = hash(value)
                counts[key] = counts.get(key, 0) + count
            freq.squares[n] = sum(count * count for count in counts.values())
            freq.totals[n] = sum(values.values())
        return freq

    def add(self, features: _Features) -> None:
        """Count the values of one more record."""
        self.records += 1
        squares, totals = self.squares, self.totals
        for n, values in enumerate(_field_values(features)):
            counts = self.counts[n]
            for value in values:
                key = hash(value)
                count = counts.get(key, 0)
                counts[key] = count + 1
                squares[n] += 2 * count + 1
                totals[n] += 1

    def add_all(self, features: Iterable[_Features]) -> None:
        """Count the values of many records (as :meth:`add` each would, in bulk).

        Each field's hashes are gathered in one list and counted by :class:`Counter`,
        which costs a fraction of updating the counts one value at a time.
        """
        if self.records:
            for one in features:
                self.add(one)
            return
        columns: tuple[list[object], ...] = tuple([] for _ in TERM_FREQUENCY_FIELDS)
        records = 0
        for one in features:
            records += 1
            for column, values in zip(columns, _field_values(one), strict=True):
                column.extend(values)
        self.records = records
        counted: list[dict[int, int]] = []
        for n, column in enumerate(columns):
            counts = Counter(map(hash, column))  # the counts are empty before a batch
            counted.append(counts)
            self.squares[n] = sum(count * count for count in counts.values())
            self.totals[n] = len(column)
            column.clear()
        self.counts = tuple(counted)

    def common(self, field: int, values: Iterable[object]) -> bool:
        """Whether each of ``values`` is at least :data:`_OWN_NAME_SHARE` times the average."""
        counts = self.counts[field]
        total = self.totals[field]
        if not total:
            return False
        floor = _OWN_NAME_SHARE * self.squares[field] / total
        return all(counts.get(hash(value), 0) >= floor for value in values)

    def personal(self, field: int, values: Iterable[object]) -> bool:
        """Whether each of ``values`` is no more common than the average value of ``field``."""
        counts = self.counts[field]
        total = self.totals[field]
        if not total:
            return False
        ceiling = self.squares[field] / total
        return all(counts.get(hash(value), 0) <= ceiling for value in values)

    def adjustment(self, field: int, values: Iterable[object]) -> float:
        """The adjustment of an exact agreement on the rarest of ``values`` (bounded)."""
        counts = self.counts[field]
        rarest = 0
        for value in values:
            count = counts.get(hash(value), 0) or 1
            if not rarest or count < rarest:
                rarest = count
        if not rarest:
            return 0.0
        total = self.totals[field]
        adjust = math.log2(self.squares[field] / (total * rarest)) if total else 0.0
        return min(self.high, max(self.low, adjust))


class TermFrequencies:
    """How often each value of each of :data:`TERM_FREQUENCY_FIELDS` occurs in some records.

    The table the term-frequency adjustments of :class:`MatchConfig` read, in a form that
    can be counted in pieces and added up: :meth:`of` counts some records, ``a + b`` (or
    :meth:`merged`) adds the counts of two disjoint sets of records, and the sum over
    the pieces of a population equals :meth:`of` the whole population. Values are kept
    as they are (not hashed), so a table pickles and means the same in every process;
    :meth:`IncrementalLinker.from_pairs` takes it so that linking spread over many
    machines weighs pairs by the whole population's frequencies, as
    :func:`link_records` does. It holds normalised values of names, birth dates,
    addresses, phones and e-mails: personal data, never shown in its repr.
    """

    __slots__ = ("_hashed", "counts", "records")

    def __init__(self) -> None:
        self.counts: tuple[dict[object, int], ...] = tuple({} for _ in TERM_FREQUENCY_FIELDS)
        """For each field of :data:`TERM_FREQUENCY_FIELDS`, each value's record count."""
        self.records = 0
        """How many records were counted."""
        self._hashed: dict[tuple[float, float], _Frequencies] = {}

    def __repr__(self) -> str:
        return f"TermFrequencies(records={self.records})"

    def __getstate__(self) -> dict[str, object]:
        return {"counts": self.counts, "records": self.records}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.counts = state["counts"]
        self.records = state["records"]
        self._hashed = {}

    def add(self, patient: Patient) -> None:
        """Count the values of one more record's patient."""
        self.records += 1
        for n, values in enumerate(_field_values(_Features(patient))):
            counts = self.counts[n]
            for value in values:
                counts[value] = counts.get(value, 0) + 1

    @classmethod
    def of(cls, records: Iterable[PatientRecord]) -> TermFrequencies:
        """The counts of ``records`` (each counted once per key, as linking counts them)."""
        table = cls()
        seen: set[RecordKey] = set()
        for record in records:
            if record.key not in seen:
                seen.add(record.key)
                table.add(record.patient)
        return table

    @classmethod
    def merged(cls, tables: Iterable[TermFrequencies]) -> TermFrequencies:
        """The sum of the counts of ``tables`` (of disjoint sets of records)."""
        total = cls()
        for table in tables:
            total.records += table.records
            for mine, theirs in zip(total.counts, table.counts, strict=True):
                for value, count in theirs.items():
                    mine[value] = mine.get(value, 0) + count
        return total

    def __add__(self, other: TermFrequencies) -> TermFrequencies:
        return TermFrequencies.merged((self, other))

    def _compiled(self, low: float, high: float) -> _Frequencies:
        """The hashed form the scorer reads (built once per process and bounds)."""
        found = self._hashed.get((low, high))
        if found is None:
            found = _Frequencies.from_table(self, low, high)
            self._hashed[low, high] = found
        return found


def _agreeing(a: _Features, b: _Features, name: str) -> list[object]:
    """The values of field ``name`` that both records hold (see :func:`_field_values`)."""
    if name == "given_name":
        return [value for value in a.firsts if value in b.firsts]
    if name == "family_name":
        return [value for value in a.families if value in b.families]
    if name == "birth_date":
        return [a.birth] if a.birth is not None and a.birth == b.birth else []
    if name == "phone":
        return [value for value in a.phones if value in b.phones]
    if name == "email":
        return [value for value in a.emails if value in b.emails]
    other = _address_values(b)
    return [value for value in _address_values(a) if value in other]


def _adjustments(
    a: _Features, b: _Features, outcomes: list[tuple[str, str]], freq: _Frequencies
) -> list[float]:
    """Term-frequency adjustments of each outcome (``0`` where none applies)."""
    adjust = [0.0] * len(outcomes)
    for n, (name, outcome) in enumerate(outcomes):
        if outcome == "exact" and name in _TF_INDEX:
            agreeing = _agreeing(a, b, name)
            if agreeing:
                adjust[n] = freq.adjustment(_TF_INDEX[name], agreeing)
    return adjust


_TF_INDEX: Final = {name: n for n, name in enumerate(TERM_FREQUENCY_FIELDS)}


# --------------------------------------------------------------------------- field comparisons

_GIVEN_ORDER: Final = ("exact", "nickname", "close", "middle", "initial", "disagree")
_GIVEN_RANK: Final = {outcome: n for n, outcome in enumerate(_GIVEN_ORDER)}
_FAMILY_ORDER: Final = ("exact", "partial", "close", "disagree")
_FAMILY_RANK: Final = {outcome: n for n, outcome in enumerate(_FAMILY_ORDER)}
_CLOSE_JARO_WINKLER: Final = 0.94


def _one_edit(x: str, y: str) -> bool:
    """Whether two different strings are one insertion, deletion, substitution or swap apart."""
    len_x, len_y = len(x), len(y)
    if len_x > len_y:
        x, y, len_x, len_y = y, x, len_y, len_x
    if len_y - len_x > 1:
        return False
    i = 0
    while i < len_x and x[i] == y[i]:
        i += 1
    if len_x < len_y:
        return x[i:] == y[i + 1 :]
    if x[i + 1 :] == y[i + 1 :]:
        return True
    return i + 1 < len_x and x[i] == y[i + 1] and x[i + 1] == y[i] and x[i + 2 :] == y[i + 2 :]


def _is_close(x: str, y: str) -> bool:
    """A typo apart: one edit (both at least 3 letters long), or Jaro-Winkler >= 0.94."""
    short, long = (len(x), len(y)) if len(x) <= len(y) else (len(y), len(x))
    if short >= 3 and _one_edit(x, y):
        return True
    # Jaro-Winkler >= 0.94 needs Jaro >= 0.9, impossible when the shorter string has less
    # than 70% of the longer one's length.
    return short >= 0.7 * long and jaro_winkler(x, y) >= _CLOSE_JARO_WINKLER


@lru_cache(maxsize=1 << 18)
def _given_pair(x: str, y: str) -> str:
    """Outcome of two normalised given-name tokens (``x < y``)."""
    if len(x) == 1 or len(y) == 1:
        return "initial" if x[0] == y[0] else "disagree"
    if are_nicknames(x, y):
        return "nickname"
    if _is_close(x, y):
        return "close"
    # A typo in a nickname ("Jiim" for James): one name a typo away from a form of the other.
    for name, other in ((x, y), (y, x)):
        start = other[0]
        for form in _name_forms(name):
            if form[0] == start and _is_close(form, other):
                return "close"
    return "disagree"


@lru_cache(maxsize=1 << 14)
def _name_forms(name: str) -> tuple[str, ...]:
    """The formal names ``name`` may stand for and their nicknames (without ``name``)."""
    forms: set[str] = set()
    for canonical in canonical_given_names(name):
        forms.add(canonical)
        forms.update(NICKNAMES.get(canonical, ()))
    forms.discard(name)
    return tuple(sorted(forms))


def _given_outcome(a: _Features, b: _Features) -> str:
    if not a.firsts or not b.firsts:
        return "missing"
    best = 5
    for x in a.firsts:
        for y in b.firsts:
            if x == y:
                return "exact"
            rank = _GIVEN_RANK[_given_pair(x, y) if x < y else _given_pair(y, x)]
            best = min(best, rank)
    if best > 3 and (
        any(x in b.middles for x in a.firsts) or any(y in a.middles for y in b.firsts)
    ):
        return "middle"
    return _GIVEN_ORDER[best]


@lru_cache(maxsize=1 << 18)
def _family_pair(x: str, y: str) -> str:
    """Outcome of two normalised family names (``x < y``)."""
    if " " in x or " " in y:
        if x.replace(" ", "") == y.replace(" ", ""):
            return "exact"
        if any(len(token) > 1 for token in set(x.split()) & set(y.split())):
            return "partial"
    if _is_close(x, y):
        return "close"
    return "disagree"


def _family_outcome(a: _Features, b: _Features) -> str:
    if not a.families or not b.families:
        return "missing"
    best = 3
    for x in a.families:
        for y in b.families:
            if x == y:
                return "exact"
            rank = _FAMILY_RANK[_family_pair(x, y) if x < y else _family_pair(y, x)]
            best = min(best, rank)
    return _FAMILY_ORDER[best]


def _given_like(firsts: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether a given name matches (exactly, as a nickname or a typo) one of ``names``."""
    for x in firsts:
        for name in names:
            y = name.replace(" ", "")
            if x == y or (_given_pair(x, y) if x < y else _given_pair(y, x)) in _TRANSPOSABLE:
                return True
    return False


def _family_like(families: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether a family name matches (exactly or by a typo) one of ``names``."""
    for x in families:
        for y in names:
            if x == y or (_family_pair(x, y) if x < y else _family_pair(y, x)) != "disagree":
                return True
    return False


_TRANSPOSABLE: Final = frozenset({"nickname", "close"})


def _initials_meet(names: tuple[str, ...], others: tuple[str, ...]) -> bool:
    return any(name[0] == other[0] for name in names for other in others)


def _transposed(a: _Features, b: _Features) -> bool:
    """Whether the given and family names of one record are the other's, swapped."""
    # Cheap screen first: nicknames and typos rarely change the first letter.
    if not (_initials_meet(a.firsts, b.families) or _initials_meet(b.firsts, a.families)):
        return False
    return (_given_like(a.firsts, b.families) and _family_like(a.families, b.firsts)) or (
        _given_like(b.firsts, a.families) and _family_like(b.families, a.firsts)
    )


def _digit_typo(x: int, y: int, width: int) -> bool:
    return damerau_levenshtein(f"{x:0{width}d}", f"{y:0{width}d}") <= 1


def _birth_outcome(
    a: tuple[int, int | None, int | None] | None, b: tuple[int, int | None, int | None] | None
) -> str:
    if a is None or b is None:
        return "missing"
    if a == b:
        # Equal partial dates are as strong as their precision allows.
        if a[2] is not None:
            return "exact"
        return "same-month" if a[1] is not None else "same-year"
    year_a, month_a, day_a = a
    year_b, month_b, day_b = b
    if month_a is None or month_b is None:
        return "same-year" if year_a == year_b else "disagree"
    if day_a is None or day_b is None:
        return "same-month" if (year_a, month_a) == (year_b, month_b) else "disagree"
    if year_a == year_b and month_a == day_b and day_a == month_b:
        return "swapped-day-month"
    differ = (year_a != year_b) + (month_a != month_b) + (day_a != day_b)
    if differ == 1:
        if year_a != year_b:
            return "close" if _digit_typo(year_a, year_b, 4) else "disagree"
        if month_a != month_b:
            return "close" if _digit_typo(month_a, month_b, 2) else "disagree"
        return "close" if _digit_typo(day_a, day_b, 2) else "disagree"
    return "disagree"


def _address_outcome(a: _Features, b: _Features) -> str:
    if not a.addresses or not b.addresses:
        return "missing"
    best = "disagree"
    for street_a, postal_a, city_a in a.addresses:
        for street_b, postal_b, city_b in b.addresses:
            if street_a and street_a == street_b:
                if (postal_a and postal_a == postal_b) or (city_a and city_a == city_b):
                    return "exact"
                best = "same-street"
            elif best == "disagree" and postal_a and postal_a == postal_b:
                best = "same-postal-code"
    return best


def _set_outcome(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    if not a or not b:
        return "missing"
    for value in a:
        if value in b:
            return "exact"
    return "disagree"


def _identifier_outcome(a: _Features, b: _Features, ignored: frozenset[str]) -> str | None:
    """``conflict``, ``shared`` or ``None`` (no system in common)."""
    a_ids, b_ids = a.ids, b.ids
    if not a_ids or not b_ids:
        return None
    if len(a_ids) == 1 and len(b_ids) == 1:  # the usual case: one system each
        system, values = a_ids[0]
        if system != b_ids[0][0]:
            return None
        if not _disjoint(values, b_ids[0][1]):
            return "shared"
        return None if system in ignored else "conflict"
    shared = False
    for system, values in a.ids:
        for other_system, others in b.ids:
            if other_system != system:
                continue
            if _disjoint(values, others):
                if system not in ignored:
                    return "conflict"
            else:
                shared = True
            break
    return "shared" if shared else None


def _ids_conflict(a: _Features, b: _Features, ignored: frozenset[str]) -> bool:
    for system, values in a.ids:
        if system in ignored:
            continue
        for other_system, others in b.ids:
            if other_system == system:
                if _disjoint(values, others):
                    return True
                break
    return False


_Outcomes = tuple[tuple[str, str], ...]

# Priorities of merge-eligible pairs in clustering: explicit links, identifiers, evidence.
_BY_LINK: Final = 0
_BY_IDENTIFIER: Final = 1
_BY_SCORE: Final = 2


def _evaluate(
    a: _Features,
    b: _Features,
    link: LinkKind | None,
    w: _Weights,
    *,
    full: bool,
    freq: _Frequencies | None = None,
    screened: bool = True,
) -> tuple[MatchGrade, float, _Outcomes, int, tuple[float, ...] | None]:
    """Grade, score, outcomes, merge priority and weights of a pair (``a``: smaller key).

    With ``full`` false, a pair already decided against by identifiers skips the fields.
    With ``freq``, exact agreements on frequency-adjusted fields weigh by the value's
    frequency; the weights are then returned (``None`` when they are the configured ones).
    With ``full`` false and ``screened`` (the default), a pair without a link or a shared
    identifier that cannot reach ``possible`` whatever its frequency adjustments is
    rejected as soon as that is certain, before the costlier fields and adjustments; the
    verdict on every pair kept is the same as unscreened.
    """
    identifier = _identifier_outcome(a, b, w.ignored_systems)
    if not full and link is None and identifier == "conflict":
        return _REJECTED
    weights = w.weights
    birth = _birth_outcome(a.birth, b.birth)
    sex = (
        "missing" if a.sex is None or b.sex is None else ("exact" if a.sex is b.sex else "disagree")
    )
    address = _address_outcome(a, b)
    phone = _set_outcome(a.phones, b.phones)
    email = _set_outcome(a.emails, b.emails)
    # Exact early rejection (linker only): a pair with no link and no shared identifier is
    # kept only when it can reach ``possible``. Bound its best score from the cheap fields
    # (names at their best, each exact agreement at its highest frequency adjustment).
    screen = screened and not full and link is None and identifier is None
    high = w.tf_bounds[1] if freq is not None else 0.0
    if screen:
        floor = w.possible - _MARGIN
        known = weights["birth_date", birth] + weights["sex", sex] + high * (birth == "exact")
        rest = (
            weights["address", address]
            + weights["phone", phone]
            + weights["email", email]
            + high * ((address == "exact") + (phone == "exact") + (email == "exact"))
        )
        if w.names_best[freq is not None] + known + rest < floor:
            return _REJECTED
        # Tighter: whether each name can agree exactly is cheap to see, and without an
        # exact agreement a name weighs at most its best inexact outcome.
        names = _names_bound(a, b, w, high)
        if names + known + rest < floor:
            return _REJECTED
        vetoes = w.vetoes
        vetoed = (
            (("birth_date", birth) in vetoes)
            + (("sex", sex) in vetoes)
            + (("address", address) in vetoes)
            + (("phone", phone) in vetoes)
            + (("email", email) in vetoes)
        )
        # Two vetoes, or one with an identity score (names, birth date, sex) that cannot
        # reach ``possible``, make the pair certainly-not (as in the grading below).
        if vetoed > 1 or (vetoed and names + known < floor):
            return _REJECTED
    given = _given_outcome(a, b)
    family = _family_outcome(a, b)
    if (
        given == "disagree"
        and family in ("disagree", "missing")
        and a.families
        and b.families
        and _transposed(a, b)
    ):
        given = family = "transposed"
    outcomes: list[tuple[str, str]] = [
        ("given_name", given),
        ("family_name", family),
        ("birth_date", birth),
        ("sex", sex),
        ("address", address),
        ("phone", phone),
        ("email", email),
    ]
    if identifier is not None:
        outcomes.append(("identifier", identifier))
    if screen and _cannot_reach(outcomes, w, high):
        return _REJECTED
    adjusted: tuple[float, ...] | None = None
    extra: list[float] = []
    if freq is None:
        identity = 0.0
        for outcome in outcomes[:4]:
            identity += weights[outcome]
        score = identity
        for outcome in outcomes[4:]:
            score += weights[outcome]
    else:
        extra = _adjustments(a, b, outcomes, freq)
        values = [weights[outcome] + more for outcome, more in zip(outcomes, extra, strict=True)]
        identity = sum(values[:4])
        score = identity + sum(values[4:])
        if any(extra):
            adjusted = tuple(values)
    priority = _BY_SCORE
    if link is LinkKind.NOT_SAME_PERSON:
        grade = MatchGrade.CERTAINLY_NOT
        outcomes.append(("link", "not-same-person"))
    elif link is LinkKind.SAME_PERSON:
        grade = MatchGrade.CERTAIN
        priority = _BY_LINK
        outcomes.append(("link", "same-person"))
    elif identifier == "conflict":
        grade = MatchGrade.CERTAINLY_NOT
    elif identifier == "shared":
        grade = MatchGrade.CERTAIN
        priority = _BY_IDENTIFIER
    else:
        if score >= w.certain:
            grade = MatchGrade.CERTAIN
        elif score >= w.probable:
            grade = MatchGrade.PROBABLE
        elif score >= w.possible:
            grade = MatchGrade.POSSIBLE
        else:
            grade = MatchGrade.CERTAINLY_NOT
        vetoed = 0
        if grade is not MatchGrade.CERTAINLY_NOT:
            vetoes = w.vetoes
            vetoed = sum(1 for outcome in outcomes if outcome in vetoes)
        if vetoed > 1 or (vetoed and identity < w.possible):
            # Households share contact details: once the person's own attributes conflict,
            # a shared address or phone no longer argues for the same person.
            grade = MatchGrade.CERTAINLY_NOT
        elif vetoed and grade.merges:
            grade = MatchGrade.POSSIBLE
        elif grade.merges and freq is not None and _twin_risk(a, b, outcomes, freq):
            grade = MatchGrade.POSSIBLE
            outcomes.append(("twins", "suspected"))
            if adjusted is not None:
                adjusted = (*adjusted, 0.0)
    return grade, score, tuple(outcomes), priority, adjusted


def _names_bound(a: _Features, b: _Features, w: _Weights, high: float) -> float:
    """The most the given and family names of a pair can weigh together.

    A name weighs its exact weight (plus at most ``high`` for its frequency) only when it
    agrees exactly: a shared given-name token, or family names equal once spaces are
    dropped (see :func:`_family_pair`); otherwise at most its best inexact outcome.
    """
    (given_exact, given_inexact), (family_exact, family_inexact) = w.inexact_names
    given = given_inexact
    for x in a.firsts:
        if x in b.firsts:
            given = given_exact + high
            break
    family = family_inexact
    for x in a.families:
        for y in b.families:
            if x == y or ((" " in x or " " in y) and x.replace(" ", "") == y.replace(" ", "")):
                family = family_exact + high
                break
    return given + family


_REJECTED: Final[tuple[MatchGrade, float, _Outcomes, int, None]] = (
    MatchGrade.CERTAINLY_NOT,
    0.0,
    (),
    _BY_SCORE,
    None,
)
_MARGIN: Final = 1e-6
"""How far below ``possible`` a pair's best score must be for early rejection (well above
the rounding of a sum of a dozen weights, so the rejection is exact)."""

_TF_OUTCOME_FIELDS: Final = frozenset(TERM_FREQUENCY_FIELDS)


def _cannot_reach(outcomes: list[tuple[str, str]], w: _Weights, high: float) -> bool:
    """Whether a pair with these outcomes (no link, no identifier) is surely certainly-not.

    Each exact agreement on a frequency-adjusted field counts at most ``high`` more than
    its configured weight; two vetoes, or one with an identity score that cannot reach
    ``possible``, make the pair certainly-not whatever its score (see :func:`_evaluate`).
    """
    weights = w.weights
    identity = 0.0
    for outcome in outcomes[:4]:
        identity += weights[outcome]
        if outcome[1] == "exact" and outcome[0] in _TF_OUTCOME_FIELDS:
            identity += high
    score = identity
    for outcome in outcomes[4:]:
        score += weights[outcome]
        if outcome[1] == "exact" and outcome[0] in _TF_OUTCOME_FIELDS:
            score += high
    floor = w.possible - _MARGIN
    if score < floor:
        return True
    vetoes = w.vetoes
    vetoed = sum(1 for outcome in outcomes if outcome in vetoes)
    return vetoed > 1 or (vetoed == 1 and identity < floor)


_OWN_NAME_SHARE: Final = 0.1
"""A given name is a name in its own right when its share of first given names is at least
this fraction of the average share (``sum(p ** 2)``): Lisa is, Liz (mostly a nickname
written for Elizabeth) is not."""


def _twin_risk(
    a: _Features,
    b: _Features,
    outcomes: list[tuple[str, str]],
    freq: _Frequencies,
) -> bool:
    """Whether a pair may be twins with nickname-related names rather than one person.

    Twins share the birth date and everything a household shares (family name, address,
    landline). When the given names are nicknames of each other (Elizabeth, Lisa), both
    are common as names in their own right in the linked records (Liz is not), and the
    records disagree on what each person keeps for themself (an e-mail address, or
    phones that are each no more common than an average number, unlike a shared
    landline), the pair is for review rather than merged.
    """
    found = dict(outcomes)
    if found.get("given_name") != "nickname" or found.get("birth_date") != "exact":
        return False
    personal_conflict = found.get("email") == "disagree" or (
        found.get("phone") == "disagree"
        and freq.personal(_TF_INDEX["phone"], a.phones)
        and freq.personal(_TF_INDEX["phone"], b.phones)
    )
    if not personal_conflict:
        return False
    given = _TF_INDEX["given_name"]
    return freq.common(given, a.firsts[:1]) and freq.common(given, b.firsts[:1])


def _evidence(
    outcomes: _Outcomes, w: _Weights, weights: Sequence[float] | None = None
) -> tuple[FieldEvidence, ...]:
    if weights is None:
        return tuple(w.evidence[outcome] for outcome in outcomes)
    return tuple(
        w.evidence[outcome]
        if n >= len(weights) or weights[n] == w.weights[outcome]
        else FieldEvidence(outcome[0], outcome[1], weights[n])
        for n, outcome in enumerate(outcomes)
    )


_WEIGHTS_CACHE: dict[MatchConfig, _Weights] = {}


def _compiled(config: MatchConfig) -> _Weights:
    try:
        return _WEIGHTS_CACHE[config]
    except (KeyError, TypeError):
        pass
    compiled = _Weights(config)
    if len(_WEIGHTS_CACHE) < 32:
        _WEIGHTS_CACHE[config] = compiled
    return compiled


def _link_between(
    a: Patient, a_source: str | None, b: Patient, b_source: str | None
) -> LinkKind | None:
    """The explicit link either patient holds about the other; ``NOT_SAME_PERSON`` wins."""
    kinds: set[LinkKind] = set()
    for holder, holder_source, other, other_source in (
        (a, a_source, b, b_source),
        (b, b_source, a, a_source),
    ):
        for link in holder.links:
            if link.other_id != other.id:
                continue
            target = link.other_source if link.other_source is not None else holder_source
            if target == other_source:
                kinds.add(link.kind)
    if LinkKind.NOT_SAME_PERSON in kinds:
        return LinkKind.NOT_SAME_PERSON
    return LinkKind.SAME_PERSON if kinds else None


def compare(
    a: Patient | PatientRecord,
    b: Patient | PatientRecord,
    config: MatchConfig | None = None,
) -> MatchResult:
    """Compare two patients (or records) and return the grade, score and per-field evidence.

    With records, explicit links are resolved against the records' sources; with bare
    patients, a link naming no source is taken to point into the same source, and a link
    naming a source is not resolved. The verdict is symmetric: ``compare(a, b)`` and
    ``compare(b, a)`` agree.
    """
    w = _compiled(config if config is not None else MatchConfig())
    pa, sa = (a.patient, a.source.id) if isinstance(a, PatientRecord) else (a, None)
    pb, sb = (b.patient, b.source.id) if isinstance(b, PatientRecord) else (b, None)
    link = _link_between(pa, sa, pb, sb)
    fa, fb = _Features(pa), _Features(pb)
    if (sb or "", pb.id) < (sa or "", pa.id):
        fa, fb = fb, fa
    grade, score, outcomes, _priority, _weights = _evaluate(fa, fb, link, w, full=True)
    return MatchResult(grade, score, _evidence(outcomes, w))


# --------------------------------------------------------------------------- linker


class _Edge:
    """A stored pair: grade, score, outcomes (shared between edges), merge priority."""

    __slots__ = ("grade", "outcomes", "priority", "score", "weights")

    def __init__(
        self,
        grade: MatchGrade,
        score: float,
        outcomes: _Outcomes,
        priority: int,
        *,
        weights: array[float] | None,
    ) -> None:
        self.grade = grade
        self.score = score
        self.outcomes = outcomes
        self.priority = priority
        self.weights = weights


_MergeOrder = tuple[int, float, RecordKey, RecordKey, int, int]


def _merge_order(keys: list[RecordKey], i: int, j: int, edge: _Edge) -> _MergeOrder:
    """A merging pair as clustering takes them: priority, best score, then record keys."""
    left, right = (keys[i], keys[j]) if keys[i] < keys[j] else (keys[j], keys[i])
    return (edge.priority, -edge.score, left, right, i, j)


def _pair(i: int, j: int) -> tuple[int, int]:
    return (i, j) if i < j else (j, i)


_Scored = tuple[int, int, MatchGrade, float, _Outcomes, int, tuple[float, ...] | None]

PARALLEL_MIN_RECORDS: Final = 50_000
"""Below this many records a batch is scored in one process (forking costs more)."""

_FORKED: IncrementalLinker | None = None
_SERIAL_RANGE: Final = 4096
"""Records scored per call of ``_score_range`` in one process."""
_MEMORY_SHARE: Final = 0.8
"""The share of the available memory forked processes may take (the rest is headroom)."""


def _available_memory() -> int | None:
    """Bytes of memory available for new allocations, or ``None`` where unknown.

    Linux's ``MemAvailable``, lowered to the headroom under this container's memory limit
    when there is one (cgroup v2 ``memory.max`` less ``memory.current``, or v1
    ``memory.limit_in_bytes`` less ``memory.usage_in_bytes``).
    """
    available: int | None = None
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        return None
    for limit_file, usage_file in _CGROUP_FILES:
        headroom = _cgroup_headroom(limit_file, usage_file)
        if headroom is not None:
            available = headroom if available is None else min(available, headroom)
            break
    return available


_CGROUP_FILES: Final = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)
_NO_LIMIT: Final = 1 << 60
"""Limits at least this large mean none (cgroup v1 writes about 2**63 for "unlimited")."""


def _cgroup_headroom(limit_file: str, usage_file: str) -> int | None:
    """The memory left under a cgroup's limit, or ``None`` without a (finite) limit."""
    try:
        with open(limit_file, "rb") as limit_text:
            raw = limit_text.read().strip()
        if not raw or raw == b"max":
            return None
        limit = int(raw)
        if limit >= _NO_LIMIT:
            return None
        with open(usage_file, "rb") as usage_text:
            usage = int(usage_text.read().strip())
    except (OSError, ValueError):
        return None
    return max(0, limit - usage)


def _resident_memory() -> int | None:
    """Bytes of this process resident in memory now (Linux ``/proc/self/statm``), or ``None``."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _affordable_forks(wanted: int) -> int:
    """How many of ``wanted`` forked processes the memory available can hold (0 to ``wanted``).

    A forked process shares its parent's pages until it writes to them, and Python writes
    to every object it reads (reference counts), so a forked scorer may copy as much as
    the parent holds. Each is counted at this process's resident size, against
    :data:`_MEMORY_SHARE` of the available memory: a million-record linker (about 6 GiB)
    forks once on a machine with 16 GiB free, not at all with 6 GiB free, where one
    process is slower but does not run the machine out of memory. Where the sizes
    cannot be read (not Linux), ``wanted``.
    """
    available = _available_memory()
    resident = _resident_memory()
    if available is None or not resident:
        return wanted
    return max(0, min(wanted, int(available * _MEMORY_SHARE) // resident))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


_FORKED_RECORDS: list[PatientRecord] = []
_FORKED_BLOCKING: tuple[str, ...] = ()


def _features_forked(bounds: tuple[int, int]) -> list[tuple[tuple[Any, ...], tuple[str, ...]]]:
    """Worker side of :meth:`IncrementalLinker._register_forked` (the records are inherited)."""
    found = []
    blocking = _FORKED_BLOCKING
    for record in _FORKED_RECORDS[bounds[0] : bounds[1]]:
        features = _Features(record.patient)
        found.append((features.state(), features.block_keys(blocking)))
    return found


_R = TypeVar("_R")


def _in_order(
    workers: int, ranges: list[tuple[int, int]], work: Callable[[tuple[int, int]], _R]
) -> Iterator[_R]:
    """``work`` of each range, in order, computed by ``workers`` processes in all.

    This process is one of them: it works out every ``workers``-th range itself while
    ``workers - 1`` forked processes work out the others, and it takes in everything
    they send back. (Giving it fewer ranges, for the time it spends taking results in,
    made it wait for the others: see ``docs/benchmarks.md``, "Two cores, a tighter screen,
    the collector".) Each forked process copies the pages of the parent's memory it
    touches (reference counts are written to), so one process fewer bounds the memory the
    parallel phase adds by one copy fewer, on a machine whose cores it already fills.
    """
    remote = [bounds for k, bounds in enumerate(ranges) if k % workers]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers - 1) as pool:
        results = pool.imap(work, remote)
        for k, bounds in enumerate(ranges):
            yield next(results) if k % workers else work(bounds)


def _score_forked(bounds: tuple[int, int]) -> list[_Scored]:
    """Worker side of :meth:`IncrementalLinker._score_all` (the linker is inherited)."""
    linker = _FORKED
    if linker is None:  # pragma: no cover - only reached in a forked worker
        return []
    return linker._score_range(bounds)


class IncrementalLinker:
    """Links patient records as they arrive, keeping blocking indexes and clusters.

    ``IncrementalLinker(config, records)`` loads ``records`` in one batch (scoring its
    pairs in ``workers`` processes, this one and forked ones, when there are at least
    :data:`PARALLEL_MIN_RECORDS` records, ``workers`` is above 1 and the memory
    available can hold the forked copies);
    :meth:`add` then links one more record at a cost that grows with the size of that
    record's blocks and of the clusters it touches, not with the population.
    :meth:`linkage` gives the same result as :func:`link_records` over every record added,
    whatever the order of the additions.
    """

    def __init__(
        self,
        config: MatchConfig | None = None,
        records: Iterable[PatientRecord] = (),
        *,
        workers: int = 1,
    ) -> None:
        count: object = workers
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UsageError("workers must be a positive integer")
        self._workers = workers
        self._config = config if config is not None else MatchConfig()
        self._w = _compiled(self._config)
        self._records: list[PatientRecord] = []
        self._keys: list[RecordKey] = []
        self._index: dict[RecordKey, int] = {}
        self._features: list[_Features] = []
        # Whether index order is key order (records registered in ascending key order, as
        # a batch registers them): ``linkage`` then lists clusters without sorting them.
        self._ascending = True
        # Each record's blocking keys while a batch loads (``None`` after: recomputed from
        # the features when needed, so memory stays lean).
        self._block_keys: list[tuple[str, ...] | None] = []
        self._blocks: dict[str, MutableSequence[int]] = {}
        # Blocks of one record after a batch load: the record's index, not a list.
        self._single: dict[str, int] = {}
        self._sub_blocks: dict[str, dict[str, list[int]]] = {}
        # Sub-block tokens by blocking key kind, then by record index (``None`` until
        # worked out): lists, not a dict keyed by pairs, which cost a hash insertion per
        # record and kind once most blocks outgrow the limit (a million records).
        self._tokens: dict[str, list[tuple[str, ...] | None]] = {}
        self._frequencies = _Frequencies(*self._w.tf_bounds)
        self._given_frequencies: _Frequencies | None = None
        self._edges: dict[tuple[int, int], _Edge] = {}
        # Every stored pair by record (merging pairs are those whose edge merges).
        self._incident: dict[int, list[int]] = {}
        self._outcomes: dict[_Outcomes, _Outcomes] = {}
        # Equal name tuples and birth dates of different records, stored once.
        self._shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._births: dict[_Birth, _Birth] = {}
        self._links: dict[tuple[int, int], LinkKind] = {}
        self._pending: dict[RecordKey, list[tuple[int, LinkKind]]] = {}
        self._cluster: list[int] = []
        self._members: dict[int, list[int]] = {}
        # While a batch is scored: each record's blocks and sub-blocks (see ``_load``).
        self._groups: list[list[Sequence[int]]] | None = None
        self._load(records)

    @property
    def config(self) -> MatchConfig:
        """The configuration the linker was built with."""
        return self._config

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    # ---------------------------------------------------------------- adding

    def _register(
        self,
        record: PatientRecord,
        computed: tuple[_Features, tuple[str, ...]] | None = None,
        *,
        count: bool = True,
    ) -> int | None:
        """Store a new record and return its index; ``None`` if it is already there.

        ``computed`` gives its features and blocking keys when already worked out; with
        ``count`` false its values are not counted in the frequencies (a batch counts
        them all at once, see :meth:`_Frequencies.add_all`).
        """
        key = record.key
        known = self._index.get(key)
        if known is not None:
            if self._records[known] != record:
                raise ValidationError(
                    Problem("key", "two different records share one (source, patient) key"),
                    what="linkage input",
                )
            return None
        index = len(self._records)
        if index and key < self._keys[-1]:
            self._ascending = False
        self._records.append(record)
        self._keys.append(key)
        self._index[key] = index
        if computed is None:
            features = _Features(record.patient)
            block_keys = features.block_keys(self._w.blocking)
        else:
            features, block_keys = computed
        shared = self._shared
        features.firsts = shared.setdefault(features.firsts, features.firsts)
        features.middles = shared.setdefault(features.middles, features.middles)
        features.families = shared.setdefault(features.families, features.families)
        features.postals = shared.setdefault(features.postals, features.postals)
        if features.birth is not None:
            features.birth = self._births.setdefault(features.birth, features.birth)
        self._features.append(features)
        if count and self._w.term_frequencies:
            self._frequencies.add(features)
        self._block_keys.append(block_keys)
        self._cluster.append(index)
        self._members[index] = [index]
        return index

    def _collect_links(self, index: int) -> list[int]:
        """Record the explicit links to and from a new record; return the linked indexes."""
        record = self._records[index]
        linked: list[int] = []
        for link in record.patient.links:
            target = (link.other_source or record.source.id, link.other_id)
            other = self._index.get(target)
            if other is None:
                self._pending.setdefault(target, []).append((index, link.kind))
            elif other != index:
                self._note_link(index, other, link.kind)
                linked.append(other)
        for other, kind in self._pending.pop(self._keys[index], ()):
            if other != index:
                self._note_link(index, other, kind)
                linked.append(other)
        return linked

    def _note_link(self, i: int, j: int, kind: LinkKind) -> None:
        pair = _pair(i, j)
        if self._links.get(pair) is not LinkKind.NOT_SAME_PERSON:
            self._links[pair] = kind

    def _score(self, i: int, j: int) -> None:
        """Compare two records and store the pair when it is at least possible or linked."""
        found = self._evaluate_pair(i, j)
        if found is not None:
            self._store(*found)

    def _evaluate_pair(self, i: int, j: int) -> _Scored | None:
        """The verdict on a pair, or ``None`` when it is not worth keeping."""
        link = self._links.get(_pair(i, j))
        if self._keys[i] > self._keys[j]:
            i, j = j, i
        grade, score, outcomes, priority, weights = _evaluate(
            self._features[i], self._features[j], link, self._w, full=False, freq=self._freq()
        )
        if grade is MatchGrade.CERTAINLY_NOT and link is None:
            return None
        return (i, j, grade, score, outcomes, priority, weights)

    def _store(  # noqa: PLR0917 - one scored pair, as _evaluate_pair returns it
        self,
        i: int,
        j: int,
        grade: MatchGrade,
        score: float,
        outcomes: _Outcomes,
        priority: int,
        weights: tuple[float, ...] | None,
    ) -> None:
        pair = _pair(i, j)
        outcomes = self._outcomes.setdefault(outcomes, outcomes)
        packed = None if weights is None else array("d", weights)
        edges = self._edges
        fresh = pair not in edges
        edges[pair] = _Edge(grade, score, outcomes, priority, weights=packed)
        if fresh:
            incident = self._incident
            incident.setdefault(i, []).append(j)
            incident.setdefault(j, []).append(i)

    def _score_range(self, bounds: tuple[int, int]) -> list[_Scored]:
        """Score every candidate pair of a batch whose later record is in ``range(*bounds)``.

        A batch registers its records in key order, so the earlier index of a pair is
        the smaller key (as :meth:`_evaluate_pair` orders it), and its candidates are
        read from the blocks and sub-blocks noted as they were filled (``_groups``).
        """
        found: list[_Scored] = []
        groups = self._groups
        if groups is None:  # pragma: no cover - only called while a batch is scored
            raise RuntimeError("_score_range outside a batch load")
        limit = self._w.max_block_size
        features = self._features
        links = self._links
        w = self._w
        freq = self._freq()
        rejected = MatchGrade.CERTAINLY_NOT
        for index in range(*bounds):
            candidates: set[int] = set()
            for group in groups[index]:
                if 1 < len(group) <= limit:
                    candidates.update(group[: bisect_left(group, index)])
            later = features[index]
            for other in sorted(candidates):
                link = links.get((other, index)) if links else None
                grade, score, outcomes, priority, weights = _evaluate(
                    features[other], later, link, w, full=False, freq=freq
                )
                if grade is not rejected or link is not None:
                    found.append((other, index, grade, score, outcomes, priority, weights))
        return found

    def _score_all(self, count: int) -> None:
        """Score the candidate pairs of a batch, in worker processes when it pays.

        With ``workers`` above 1, at least :data:`PARALLEL_MIN_RECORDS` records, the
        ``fork`` start method available and memory for the copies (see
        :meth:`_processes`), that many processes score ranges of records: this one and
        forked ones (they inherit the blocking index and the frequencies, and send back
        only the pairs worth keeping; see :func:`_in_order`); the parent stores them in
        the same order as a serial run, so the result is identical.
        """
        processes = self._processes(count)
        if processes > 1:
            step = max(1, count // (processes * 16))
            ranges = [(low, min(low + step, count)) for low in range(0, count, step)]
            global _FORKED  # noqa: PLW0603 - handed to forked workers, then cleared
            _FORKED = self
            try:
                for found in _in_order(processes, ranges, _score_forked):
                    for scored in found:
                        self._store(*scored)
            finally:
                _FORKED = None
            return
        for low in range(0, count, _SERIAL_RANGE):
            for scored in self._score_range((low, min(low + _SERIAL_RANGE, count))):
                self._store(*scored)

    def _processes(self, count: int) -> int:
        """How many processes work on a batch of ``count`` records (1: this one alone).

        More than one only with ``workers`` above 1, at least
        :data:`PARALLEL_MIN_RECORDS` records and the ``fork`` start method; and no more
        forked processes than the memory available can hold, each counted at this
        process's resident size (a forked process copies the pages it touches, at worst
        all of them; see :func:`_affordable_forks`).
        """
        if self._workers == 1 or count < PARALLEL_MIN_RECORDS or not _can_fork():
            return 1
        return 1 + _affordable_forks(self._workers - 1)

    def _register_forked(self, ordered: list[PatientRecord], processes: int) -> None:
        """Register records sorted by key, their features worked out in ``processes``.

        Duplicates are settled first (as :meth:`_register` settles them); the workers
        send back each record's features (:meth:`_Features.state`) and blocking keys, in
        order, so the result is the serial one.
        """
        unique: list[PatientRecord] = []
        last: PatientRecord | None = None
        for record in ordered:
            if last is not None and record.key == last.key:
                if record != last:
                    raise ValidationError(
                        Problem("key", "two different records share one (source, patient) key"),
                        what="linkage input",
                    )
                continue
            unique.append(record)
            last = record
        count = len(unique)
        step = max(1, count // (processes * 16))
        ranges = [(low, min(low + step, count)) for low in range(0, count, step)]
        global _FORKED_RECORDS, _FORKED_BLOCKING
        _FORKED_RECORDS, _FORKED_BLOCKING = unique, self._w.blocking
        try:
            position = 0
            for found in _in_order(processes, ranges, _features_forked):
                for state, block_keys in found:
                    record = unique[position]
                    position += 1
                    self._register(record, (_Features.restore(state), block_keys), count=False)
        finally:
            _FORKED_RECORDS, _FORKED_BLOCKING = [], ()

    def _drop_edge(self, pair: tuple[int, int]) -> None:
        del self._edges[pair]
        i, j = pair
        for node, other in ((i, j), (j, i)):
            others = self._incident.get(node)
            if others is not None and other in others:
                others.remove(other)

    def _load(self, records: Iterable[PatientRecord]) -> None:
        """Batch load into an empty linker: index every record, then compare within blocks."""
        ordered = sorted(records, key=lambda record: record.key)
        processes = self._processes(len(ordered))
        if processes == 1:
            for record in ordered:
                self._register(record, count=False)
        else:
            self._register_forked(ordered, processes)
        count = len(self._records)
        if self._w.term_frequencies:
            self._frequencies.add_all(self._features)
        # Each record's blocks and sub-blocks, noted as they are filled: scoring reads a
        # record's candidates from them without looking its keys and tokens up again.
        groups: list[list[Sequence[int]]] = [[] for _ in range(count)]
        self._index_blocks(count, groups)
        for index in range(count):
            self._collect_links(index)
        self._split_oversized(groups)
        # ``_score_range`` relies on this batch's order: records registered sorted by key
        # (duplicates dropped), so a pair's smaller index is its smaller key.
        self._groups = groups
        try:
            self._score_all(count)
        finally:
            self._groups = None
        del groups
        self._compact_blocks()
        self._lean()
        for i, j in sorted(self._links):
            if (i, j) not in self._edges:
                self._score(i, j)
        self._cluster_batch()

    def _index_blocks(self, count: int, groups: list[list[Sequence[int]]] | None = None) -> None:
        """Put each of the first ``count`` records in the blocks of its keys (a new linker).

        With ``groups``, each record's blocks are also appended to ``groups[index]``.
        """
        blocks: dict[str, MutableSequence[int]] = {}
        for index in range(count):
            mine = None if groups is None else groups[index]
            for key in self._keys_of(index):
                members = blocks.get(key)
                if members is None:
                    members = blocks[key] = [index]
                else:
                    members.append(index)
                if mine is not None:
                    mine.append(members)
        self._blocks = blocks  # lists until compacted

    def _split_oversized(self, groups: list[list[Sequence[int]]] | None = None) -> None:
        """Split every block of a batch larger than ``max_block_size`` (as :meth:`_split`).

        With ``groups``, each member's sub-blocks are also appended to ``groups[member]``.
        A member's tokens in a block are its tokens of each attribute the block's kind
        splits on (:func:`_attribute_tokens`), worked out once per record in index order:
        at a million records most records sit in three or more oversized blocks, and
        working each block's tokens out member by member, in scattered reads of the
        features, cost twice the time (``docs/benchmarks.md``, "The split at a million").
        """
        limit = self._w.max_block_size
        oversized = [
            (key, members) for key, members in self._blocks.items() if len(members) > limit
        ]
        if not oversized:
            return
        kinds = {key.partition("|")[0] for key, _members in oversized}
        by_attribute = _attribute_tokens(
            self._features, {attribute for kind in kinds for attribute in _refined_on(kind)}
        )
        sub_blocks = self._sub_blocks
        for key, members in oversized:
            lists = [by_attribute[attribute] for attribute in _refined_on(key.partition("|")[0])]
            sub: dict[str, list[int]] = {}
            for member in members:
                mine = None if groups is None else groups[member]
                tokens: tuple[str, ...] = ()
                for tokens_of in lists:
                    tokens += tokens_of[member]
                for token in tokens:
                    group = sub.get(token)
                    if group is None:
                        group = sub[token] = [member]
                    else:
                        group.append(member)
                    if mine is not None:
                        mine.append(group)
            sub_blocks[key] = sub

    def _compact_blocks(self) -> None:
        """Blocks of one record become that record's index, larger ones compact arrays."""
        blocks = self._blocks
        single = self._single
        for key in [key for key, members in blocks.items() if len(members) == 1]:
            single[key] = blocks.pop(key)[0]
        for key, members in blocks.items():
            blocks[key] = array("q", members)

    def _lean(self) -> None:
        """After a batch: forget what later additions recompute (blocking keys, tokens)."""
        self._tokens.clear()
        self._block_keys = [None] * len(self._block_keys)

    def _keys_of(self, index: int) -> tuple[str, ...]:
        """The blocking keys of record ``index``."""
        keys = self._block_keys[index]
        if keys is None:
            keys = self._features[index].block_keys(self._w.blocking)
        return keys

    def _freq(self) -> _Frequencies | None:
        """The frequencies to weigh pairs by, or ``None`` while too few records are linked."""
        w = self._w
        if not w.term_frequencies:
            return None
        freq = self._given_frequencies
        if freq is None:
            freq = self._frequencies
        return freq if freq.records >= max(1, w.tf_min_records) else None

    def _tokens_of_kind(self, kind: str) -> list[tuple[str, ...] | None]:
        """The cache of sub-block tokens for blocking keys of ``kind``, one slot per record.

        A kind's list, once made, has a slot for every record (8 bytes each) for the
        linker's lifetime (cleared by a batch's end, then made again by additions that
        reach an oversized block): at most eight kinds, 64 MB at a million records.
        """
        by_record = self._tokens.get(kind)
        if by_record is None:
            by_record = self._tokens[kind] = [None] * len(self._records)
        elif len(by_record) < len(self._records):
            by_record.extend([None] * (len(self._records) - len(by_record)))
        return by_record

    def _refinements(self, index: int, key: str) -> tuple[str, ...]:
        """Sub-block tokens of record ``index`` in the block ``key`` (cached)."""
        kind = key.partition("|")[0]
        by_record = self._tokens_of_kind(kind)
        cached = by_record[index]
        if cached is None:
            cached = by_record[index] = self._features[index].refinements(kind)
        return cached

    def _split(self, key: str, members: Iterable[int]) -> dict[str, list[int]]:
        """Split a block just grown too large into sub-blocks (members kept in index order)."""
        kind = key.partition("|")[0]
        by_record = self._tokens_of_kind(kind)
        features = self._features
        sub: dict[str, list[int]] = {}
        for member in members:
            tokens = by_record[member]
            if tokens is None:
                tokens = by_record[member] = features[member].refinements(kind)
            for token in tokens:
                sub.setdefault(token, []).append(member)
        return sub

    def _candidates_before(self, index: int) -> set[int]:
        """Records with a smaller index that share a usable block or sub-block with ``index``."""
        limit = self._w.max_block_size
        blocks = self._blocks
        candidates: set[int] = set()
        for key in self._keys_of(index):
            members = blocks.get(key)
            if members is None:  # a block of one record
                continue
            size = len(members)
            if size < 2:
                continue
            if size <= limit:
                candidates.update(members[: bisect_left(members, index)])
                continue
            sub = self._sub_blocks[key]
            for token in self._refinements(index, key):
                group = sub[token]
                if 1 < len(group) <= limit:
                    candidates.update(group[: bisect_left(group, index)])
        return candidates

    def _is_candidate(self, i: int, j: int) -> bool:
        """Whether two records share a block, or a sub-block, small enough to compare."""
        limit = self._w.max_block_size
        for key in set(self._keys_of(i)).intersection(self._keys_of(j)):
            if len(self._blocks[key]) <= limit:
                return True
            sub = self._sub_blocks[key]
            tokens = set(self._refinements(i, key)).intersection(self._refinements(j, key))
            if any(len(sub[token]) <= limit for token in tokens):
                return True
        return False

    def add(self, record: PatientRecord) -> tuple[tuple[RecordKey, ...], ...]:
        """Link one more record and return the clusters it changed (sorted).

        Adding a record that is already there changes nothing and returns its cluster.

        Raises:
            ValidationError: if a different record with the same key was added before.

        """
        index = self._register(record)
        if index is None:
            known = self._index[record.key]
            return (self._cluster_keys(self._cluster[known]),)
        return self._after_add(index)

    def _after_add(self, index: int) -> tuple[tuple[RecordKey, ...], ...]:
        limit = self._w.max_block_size
        grown: list[Sequence[int]] = []
        for key in self._keys_of(index):
            members = self._blocks.get(key)
            if members is None:
                alone = self._single.pop(key, None)
                members = self._blocks[key] = array("q", () if alone is None else (alone,))
            members.append(index)
            if len(members) == limit + 1:
                self._sub_blocks[key] = self._split(key, members)
                grown.append(members[:-1])
            elif len(members) > limit:
                sub = self._sub_blocks[key]
                for token in self._refinements(index, key):
                    group = sub.setdefault(token, [])
                    group.append(index)
                    if len(group) == limit + 1:
                        grown.append(group[:-1])
        candidates = self._candidates_before(index)
        candidates.update(self._collect_links(index))
        candidates.discard(index)
        for other in sorted(candidates):
            self._score(other, index)
        touched = {index}
        for grown_members in grown:
            touched.update(self._unblock(grown_members))
        self._block_keys[index] = None  # recomputed when needed
        return self._recluster(touched)

    def _unblock(self, members: Sequence[int]) -> set[int]:
        """A block or sub-block just grew too large: forget the pairs only it produced."""
        inside = set(members)
        touched: set[int] = set()
        for i in members:
            for j in sorted(self._incident.get(i, ())):
                pair = (i, j)
                if j <= i or j not in inside or pair not in self._edges or pair in self._links:
                    continue
                if not self._is_candidate(i, j):
                    self._drop_edge(pair)
                    touched.update(pair)
        return touched

    # ---------------------------------------------------------------- clustering

    def _component(self, seed: int, seen: set[int]) -> list[int]:
        stack = [seed]
        seen.add(seed)
        component: list[int] = []
        incident = self._incident
        edges = self._edges
        while stack:
            node = stack.pop()
            component.append(node)
            for other in incident.get(node, ()):
                if other not in seen and edges[_pair(node, other)].grade.merges:
                    seen.add(other)
                    stack.append(other)
        return component

    def _recluster(self, seeds: Iterable[int]) -> tuple[tuple[RecordKey, ...], ...]:
        """Re-run the clustering of the components holding ``seeds``; return their clusters."""
        seen: set[int] = set()
        components = [self._component(seed, seen) for seed in seeds if seed not in seen]
        # Reset every touched record first: an old cluster may span several components.
        for node in seen:
            self._members.pop(self._cluster[node], None)
        for node in seen:
            self._cluster[node] = node
            self._members[node] = [node]
        roots: set[int] = set()
        for component in components:
            roots.update(self._cluster_component(component))
        return tuple(sorted(self._cluster_keys(root) for root in roots))

    def _cluster_batch(self) -> None:
        """Cluster a batch of records, each still alone in its cluster, in one pass.

        The same greedy constrained clustering as :meth:`_cluster_component`, on every
        merging pair at once: the pairs taken from the edges in their order (no search
        for components through scattered records), sorted once, so each component's
        pairs keep their relative order and components do not meet (a merge and its
        checks involve one component only). The result is the per-component one.
        """
        keys = self._keys
        self._merge_greedily(
            sorted(
                _merge_order(keys, i, j, edge)
                for (i, j), edge in self._edges.items()
                if edge.grade.merges
            )
        )

    def _cannot_link(self, left: list[int], right: list[int]) -> bool:
        links = self._links
        features = self._features
        ignored = self._w.ignored_systems
        for i in left:
            for j in right:
                pair = _pair(i, j)
                link = links.get(pair)
                if link is LinkKind.NOT_SAME_PERSON:
                    return True
                if link is None and _ids_conflict(features[i], features[j], ignored):
                    return True
        return False

    def _cluster_component(self, component: list[int]) -> list[int]:
        """Greedy constrained clustering of one component of singletons; return the roots."""
        if len(component) == 1:
            return component
        keys = self._keys
        self._merge_greedily(
            sorted(
                _merge_order(keys, i, j, edge)
                for i in component
                for j in self._incident.get(i, ())
                if i < j and (edge := self._edges[i, j]).grade.merges
            )
        )
        return sorted({self._cluster[node] for node in component})

    def _merge_greedily(self, edges: list[_MergeOrder]) -> None:
        """Merge the clusters of each pair, in order, unless they cannot be one person."""
        cluster = self._cluster
        members = self._members
        for _priority, _score, _left, _right, i, j in edges:
            root_i, root_j = cluster[i], cluster[j]
            if root_i == root_j or self._cannot_link(members[root_i], members[root_j]):
                continue
            if len(members[root_i]) < len(members[root_j]):
                root_i, root_j = root_j, root_i
            moved = members.pop(root_j)
            for node in moved:
                cluster[node] = root_i
            members[root_i].extend(moved)

    def _cluster_keys(self, root: int) -> tuple[RecordKey, ...]:
        return tuple(sorted(self._keys[node] for node in self._members[root]))

    # ---------------------------------------------------------------- results

    def cluster_of(self, key: RecordKey) -> tuple[RecordKey, ...]:
        """The sorted keys of the cluster holding the record with ``key``.

        Raises:
            KeyError: if no record with that key was added.

        """
        return self._cluster_keys(self._cluster[self._index[key]])

    def linkage(self) -> Linkage:
        """Every cluster and the review list, as :func:`link_records` would give them."""
        clusters = self._clusters_in_order()
        review = [
            match
            for (i, j), edge in self._edges.items()
            if (match := self._review_entry(i, j, edge)) is not None
        ]
        review.sort(key=lambda match: (match.left, match.right))
        return Linkage(tuple(clusters), tuple(review))

    def _clusters_in_order(self) -> list[tuple[RecordKey, ...]]:
        """Every cluster's sorted keys, clusters sorted (by their smallest key).

        While index order is key order, a walk through the records meets each cluster
        first at its smallest key, so the clusters come out sorted without a sort of
        tuples (at a million records, the sort's comparisons and scattered reads took
        seconds).
        """
        if not self._ascending:
            return sorted(self._cluster_keys(root) for root in self._members)
        keys = self._keys
        members = self._members
        met = bytearray(len(keys))
        clusters: list[tuple[RecordKey, ...]] = []
        for root in self._cluster:
            if not met[root]:
                met[root] = 1
                group = members[root]
                clusters.append(
                    (keys[group[0]],)
                    if len(group) == 1
                    else tuple([keys[node] for node in sorted(group)])
                )
        return clusters

    def review_involving(self, keys: Iterable[RecordKey]) -> tuple[PossibleMatch, ...]:
        """The review entries with at least one side among ``keys``, sorted.

        Costs the number of candidate pairs of those records, not the population: this is
        how :meth:`carecoord.ProfileSet.add` refreshes its review list.
        """
        nodes = {self._index[key] for key in keys if key in self._index}
        found: dict[tuple[int, int], PossibleMatch] = {}
        for i in nodes:
            for j in self._incident.get(i, ()):
                pair = (i, j) if i < j else (j, i)
                edge = self._edges.get(pair)
                if edge is not None and pair not in found:
                    match = self._review_entry(pair[0], pair[1], edge)
                    if match is not None:
                        found[pair] = match
        return tuple(sorted(found.values(), key=lambda match: (match.left, match.right)))

    @classmethod
    def from_pairs(
        cls,
        config: MatchConfig | None,
        records: Iterable[PatientRecord],
        pairs: Iterable[tuple[RecordKey, RecordKey]],
        *,
        frequencies: TermFrequencies | None = None,
    ) -> IncrementalLinker:
        """A linker over ``records`` that compares exactly ``pairs`` (and explicit links).

        Blocking is done elsewhere: given every candidate pair the whole population gives
        these records (pairs naming a record not given are ignored; see
        :func:`refined_blocking_keys` and :func:`block_pairs`) and the whole population's
        ``frequencies`` (:meth:`TermFrequencies.of` it, or the sum of its pieces), the
        clusters and review entries are those :func:`link_records` gives these records
        within the whole population, when ``records`` are one or more whole connected
        components of merging pairs. Without ``frequencies`` the term frequencies are
        those of ``records`` alone. The given frequencies stay as they are when
        :meth:`add` adds records later (it blocks as usual).
        """
        return _from_pairs(config, records, pairs, frequencies)

    def scored_pairs(self) -> tuple[ScoredPair, ...]:
        """Every stored pair (at least possible, or explicitly linked), sorted by keys."""
        found = []
        keys = self._keys
        for (i, j), edge in self._edges.items():
            left, right = (keys[i], keys[j]) if keys[i] < keys[j] else (keys[j], keys[i])
            review = None
            if not edge.grade.merges and edge.grade is not MatchGrade.CERTAINLY_NOT:
                evidence = _evidence(edge.outcomes, self._w, edge.weights)
                review = PossibleMatch(left, right, edge.grade, edge.score, evidence)
            found.append(ScoredPair(left, right, edge.grade.merges, review))
        found.sort(key=lambda pair: (pair.left, pair.right))
        return tuple(found)

    def _review_entry(self, i: int, j: int, edge: _Edge) -> PossibleMatch | None:
        if edge.grade is MatchGrade.CERTAINLY_NOT or self._cluster[i] == self._cluster[j]:
            return None
        outcomes = edge.outcomes
        if edge.grade.merges:
            outcomes = (*outcomes, ("clustering", "refused"))
        keys = self._keys
        left, right = (keys[i], keys[j]) if keys[i] < keys[j] else (keys[j], keys[i])
        return PossibleMatch(
            left, right, edge.grade, edge.score, _evidence(outcomes, self._w, edge.weights)
        )


def blocking_keys(patient: Patient, config: MatchConfig | None = None) -> tuple[str, ...]:
    """The opaque blocking keys of ``patient`` under ``config`` (the default when ``None``).

    Two records are compared by :func:`link_records` only when they share a blocking key
    (in a block, or a sub-block of it, of at most ``config.max_block_size`` records; see
    :func:`refined_blocking_keys`) or an explicit link, so a
    store that indexes records by these keys finds every record a new one could match
    without scanning the population. Each key is a short hash (no personal data in clear),
    distinct keys stay distinct, and the same patient always gives the same keys.
    """
    config = config if config is not None else MatchConfig()
    raw = _Features(patient).block_keys(_compiled(config).blocking)
    return tuple(_opaque(key) for key in raw)


def _opaque(text: str) -> str:
    """A short hash of a blocking key or token: distinct texts stay distinct."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


_M = TypeVar("_M")


def _split_block(
    members: Iterable[_M], tokens_of: Callable[[_M], Iterable[str]]
) -> dict[str, list[_M]]:
    """Split an oversized block into sub-blocks, one per refinement token (members in order)."""
    sub: dict[str, list[_M]] = {}
    for member in members:
        for token in tokens_of(member):
            sub.setdefault(token, []).append(member)
    return sub


# --------------------------------------------------------------------------- building blocks
# For linking spread over many machines (carecoord.dask): blocking keys per record
# (:func:`blocking_keys`), the candidate pairs scored where they meet, and one connected
# component clustered from exactly the pairs the whole population gave it.


def link_keys(record: PatientRecord) -> tuple[RecordKey, ...]:
    """The keys of the records this record's explicit links name (compared whatever the blocks)."""
    source = record.source.id
    return tuple(
        dict.fromkeys((link.other_source or source, link.other_id) for link in record.patient.links)
    )


@attrs.frozen
class ScoredPair:
    """One compared pair, as :meth:`IncrementalLinker.scored_pairs` lists it.

    ``merges`` says whether the pair joins its records' component (a certain or
    probable match); ``review`` is the entry the review list holds for it when its records
    end in different clusters and it does not merge (``None`` when it would not be listed).
    """

    left: RecordKey
    right: RecordKey
    merges: bool
    review: PossibleMatch | None


def refined_blocking_keys(
    patient: Patient, config: MatchConfig | None = None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each of :func:`blocking_keys` with the refinement tokens of ``patient`` in its block.

    A block of more than ``config.max_block_size`` records is split into sub-blocks on
    attributes its key does not hold (see :class:`MatchConfig`); these tokens name the
    sub-blocks this patient falls in (short hashes, like the keys). Gathering the
    ``(record key, tokens)`` of every record sharing a key and handing them to
    :func:`block_pairs` gives exactly the candidate pairs that block gives
    :func:`link_records`.
    """
    config = config if config is not None else MatchConfig()
    features = _Features(patient)
    tokens: dict[str, tuple[str, ...]] = {}
    found = []
    for key in features.block_keys(_compiled(config).blocking):
        kind = key.split("|", 1)[0]
        if kind not in tokens:
            tokens[kind] = tuple(_opaque(token) for token in features.refinements(kind))
        found.append((_opaque(key), tokens[kind]))
    return tuple(found)


def block_pairs(
    members: Iterable[tuple[RecordKey, Iterable[str]]], config: MatchConfig | None = None
) -> list[tuple[RecordKey, RecordKey]]:
    """The candidate pairs of one block, from each member's key and refinement tokens.

    ``members`` are the ``(record key, tokens)`` of the records sharing one of
    :func:`refined_blocking_keys` (a key given twice counts once). A block of at most
    ``config.max_block_size`` records gives all its pairs; a larger one is split on the
    tokens, as :func:`link_records` splits it, and each sub-block of at most that size
    gives its pairs (larger sub-blocks give none). Pairs are ``(smaller key, larger
    key)``, sorted, without repeats.
    """
    config = config if config is not None else MatchConfig()
    limit = config.max_block_size
    tokens_of = {key: tuple(tokens) for key, tokens in members}
    keys = sorted(tokens_of)
    if len(keys) <= limit:
        groups = [keys]
    else:
        groups = list(_split_block(keys, tokens_of.__getitem__).values())
    pairs = {
        pair for group in groups if len(group) <= limit for pair in itertools.combinations(group, 2)
    }
    return sorted(pairs)


def _from_pairs(
    config: MatchConfig | None,
    records: Iterable[PatientRecord],
    pairs: Iterable[tuple[RecordKey, RecordKey]],
    frequencies: TermFrequencies | None = None,
) -> IncrementalLinker:
    linker = IncrementalLinker(config)
    if frequencies is not None:
        linker._given_frequencies = frequencies._compiled(*linker._w.tf_bounds)
    for record in sorted(records, key=lambda record: record.key):
        linker._register(record)
    count = len(linker._records)
    linker._index_blocks(count)
    linker._split_oversized()  # for later additions: ``add`` expects oversized blocks split
    linker._compact_blocks()
    for index in range(count):
        linker._collect_links(index)
    index_of = linker._index
    edges = linker._edges
    for a, b in sorted(pairs):
        i, j = index_of.get(a), index_of.get(b)
        if i is not None and j is not None and i != j and _pair(i, j) not in edges:
            linker._score(i, j)
    for i, j in sorted(linker._links):
        if (i, j) not in edges:
            linker._score(i, j)
    linker._lean()
    linker._cluster_batch()
    return linker


def link_records(records: Sequence[PatientRecord], config: MatchConfig | None = None) -> Linkage:
    """Group records that describe the same person, and list the pairs to review.

    The result depends only on the set of records: their order does not matter, and a
    record given twice counts once.

    Raises:
        ValidationError: if two different records share one ``(source, patient)`` key.

    """
    return IncrementalLinker(config, records).linkage()
