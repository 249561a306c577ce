"""Synthetic populations for identity matching: people, households, sources and errors.

:func:`generate_population` invents ``n_people`` synthetic people living in households,
registers each of them with one to ``sources`` sources (one record per person and
source), and copies their demographics into each record with the mistakes real
registration desks make, at the rates of :class:`ErrorMix`. It returns the records with
the truth (which person each record belongs to), so a matcher can be scored against it
(:meth:`Population.score`).

Everything is drawn from one ``random.Random(seed)``: the same arguments give the same
population on every platform and Python version. Names come from weighted lists of
common given names and of invented family names; phone numbers use the fictional
``555`` exchange, e-mail addresses the reserved ``example`` domains, national ids the
never-issued ``9xx`` area, and identifier systems ``urn:example:`` URIs. Nobody real is
described.

Households share an address, usually a family name and often a landline; some children
are twins (same birth date, different given names), so a matcher must tell relatives
apart. Children never share a parent's given name (no "junior"), and twins' given names
are neither nicknames nor typos of each other: those cases are undecidable from
demographics alone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

import attrs

from carecoord.domain import (
    Address,
    Code,
    Condition,
    ConditionId,
    ContactPoint,
    ContactSystem,
    HumanName,
    Identifier,
    Medication,
    MedicationId,
    PartialDate,
    Patient,
    PatientId,
    PatientRecord,
    Period,
    Quantity,
    Sex,
    Source,
    SourceKind,
    System,
)
from carecoord.errors import NotFound, Problem, ValidationError
from carecoord.profile import NICKNAMES, are_nicknames, damerau_levenshtein, jaro_winkler

__all__ = [
    "HARD_CASES",
    "NATIONAL_ID_SYSTEM",
    "PAYER_MEMBER_SYSTEM",
    "ErrorMix",
    "LinkageScore",
    "Population",
    "generate_population",
    "mrn_system",
]

NATIONAL_ID_SYSTEM = "urn:example:national-id"
"""Identifier system of the synthetic national (SSN-like) id some records carry."""
PAYER_MEMBER_SYSTEM = "urn:example:payer-member-id"
"""Identifier system of the synthetic payer member id some records carry."""

_REFERENCE_DAY = dt.date(2026, 1, 1)
"""Ages are computed against this fixed day (never the clock)."""


def mrn_system(source_id: str) -> str:
    """The medical record number system of one generated source."""
    return f"urn:example:{source_id}:mrn"


def _rate(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValidationError(Problem(attribute.name, "must be a rate between 0 and 1"))


def _rate_field(default: float) -> float:
    return attrs.field(default=default, validator=_rate)


@attrs.frozen
class ErrorMix:
    """Per-record rates of the mistakes copied into each record (each between 0 and 1).

    Each rate is the probability that one record shows that mistake, independently of
    the others; the defaults are in line with published duplicate-record audits.
    """

    given_typo: float = _rate_field(0.03)
    """One-letter typo in the given name (substitution, insertion, deletion, swap)."""
    given_nickname: float = _rate_field(0.08)
    """A nickname instead of the formal given name (Bill for William), where one exists."""
    given_initial: float = _rate_field(0.005)
    """The given name reduced to its initial."""
    middle_name_dropped: float = _rate_field(0.5)
    """A middle name the person has is left out."""
    family_typo: float = _rate_field(0.03)
    """One-letter typo in the family name."""
    family_changed: float = _rate_field(0.005)
    """A former or later family name (marriage, divorce)."""
    name_transposed: float = _rate_field(0.005)
    """Given and family names entered in each other's fields."""
    birth_swapped: float = _rate_field(0.01)
    """Day and month of birth swapped (only possible when the day is 12 or less)."""
    birth_typo: float = _rate_field(0.01)
    """One digit of the birth day, month or year mistyped."""
    birth_partial: float = _rate_field(0.015)
    """Birth date known to the month or to the year only."""
    birth_missing: float = _rate_field(0.01)
    """No birth date."""
    sex_unknown: float = _rate_field(0.02)
    """Sex recorded as unknown."""
    address_moved: float = _rate_field(0.1)
    """A different (older or newer) address."""
    address_missing: float = _rate_field(0.08)
    """No address."""
    phone_missing: float = _rate_field(0.2)
    """No phone number."""
    phone_changed: float = _rate_field(0.08)
    """A different (older or newer) phone number."""
    email_missing: float = _rate_field(0.4)
    """No e-mail address (for people who have one)."""
    national_id: float = _rate_field(0.1)
    """The record carries the person's national id (shared across sources)."""
    payer_member_id: float = _rate_field(0.1)
    """The record carries the person's payer member id (shared across sources)."""
    formatting: float = _rate_field(0.3)
    """Harmless formatting differences: case, abbreviations, ZIP+4, phone layout, initials."""


@attrs.frozen
class LinkageScore:
    """Pairwise accuracy of predicted clusters against the truth.

    A pair is two records in one predicted cluster; it is correct when both belong to one
    person. ``precision`` is correct pairs over predicted pairs, ``recall`` correct pairs
    over true pairs (``1.0`` when there are none).
    """

    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Correct pairs over predicted pairs."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Correct pairs over true pairs."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


HARD_CASES: Final = ("nickname-twins", "namesakes")
"""The hard cases :func:`generate_population` can add.

* ``nickname-twins``: twins in one household (same birth date, family name, address and
  landline) whose given names are nicknames of each other (Elizabeth and Lisa);
* ``namesakes``: two strangers with the same given name, family name, sex and birth date,
  living apart (different address and phone). Their names are drawn with probability
  proportional to the square of their frequency, as chance coincidences are.
"""


def _frozen_cases(
    value: Mapping[str, Iterable[Iterable[str]]],
) -> Mapping[str, tuple[tuple[str, ...], ...]]:
    return MappingProxyType(
        {name: tuple(tuple(g) for g in groups) for name, groups in value.items()}
    )


def _frozen_truth(value: Mapping[tuple[str, str], str]) -> Mapping[tuple[str, str], str]:
    return MappingProxyType(dict(value))


@attrs.frozen(eq=False)
class Population:
    """Generated records and the truth: the person each record key belongs to."""

    records: tuple[PatientRecord, ...]
    truth: Mapping[tuple[str, str], str] = attrs.field(converter=_frozen_truth)
    people: int
    cases: Mapping[str, tuple[tuple[str, ...], ...]] = attrs.field(
        factory=dict, converter=_frozen_cases
    )
    """Hard cases by name (see :data:`HARD_CASES`): groups of person ids, each a set of
    different people a matcher must keep apart (twins, namesakes)."""

    def score_case(self, case: str, clusters: Iterable[Iterable[tuple[str, str]]]) -> LinkageScore:
        """Pairwise precision and recall of ``clusters`` on the records of one hard case.

        Only the records of the case's people count: a predicted pair is two of them in
        one cluster, a true pair two records of one of them. Precision falls when two
        people of a group are merged; recall when one of them is split.

        Raises:
            NotFound: if the population has no case of that name.

        """
        groups = self.cases.get(case)
        if groups is None:
            raise NotFound("no hard case of that name")
        people = {person for group in groups for person in group}
        truth = self.truth
        inside = [[key for key in cluster if truth.get(key) in people] for cluster in clusters]
        predicted = correct = 0
        for keys in inside:
            predicted += _pairs(len(keys))
            correct += sum(_pairs(n) for n in Counter(truth[key] for key in keys).values())
        true = sum(_pairs(n) for n in Counter(p for p in truth.values() if p in people).values())
        return LinkageScore(predicted, true, correct)

    def score(self, clusters: Iterable[Iterable[tuple[str, str]]]) -> LinkageScore:
        """Pairwise precision and recall of ``clusters`` (groups of record keys)."""
        truth = self.truth
        predicted = correct = 0
        for cluster in clusters:
            keys = list(cluster)
            predicted += _pairs(len(keys))
            correct += sum(_pairs(n) for n in Counter(truth[key] for key in keys).values())
        true = sum(_pairs(n) for n in Counter(truth.values()).values())
        return LinkageScore(predicted, true, correct)

    def true_clusters(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """The true clusters: the sorted record keys of each person, sorted."""
        by_person: dict[str, list[tuple[str, str]]] = {}
        for key, person in self.truth.items():
            by_person.setdefault(person, []).append(key)
        return tuple(sorted(tuple(sorted(keys)) for keys in by_person.values()))


# --------------------------------------------------------------------------- vocabulary

_FEMALE = """
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah
Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma
Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria
Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan
Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison
Frances Kathryn Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn
Danielle Beverly Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori
Rosalind Imogen Priya Leilani Noor Ines Yara Zofia Esme Thea Wren Maeve Ingrid Solene
"""
_MALE = """
James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel
Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy
Ronald Jason Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry
Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter
Christian Keith Roger Terry Austin Sean Gerald Carl Harold Dylan Arthur Lawrence Jordan
Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy Vincent
Mason Roy Ralph Bobby Russell Bradley Philip Eugene Louis Martin Howard Oliver Victor
Tobias Anselm Ravi Kenji Mateo Idris Lucan Soren Emeric Caspian Osric Bastian Florian
"""

_FAMILY_HEADS = [
    "Ash",
    "Bar",
    "Bel",
    "Black",
    "Bram",
    "Brook",
    "Cal",
    "Carr",
    "Cold",
    "Cor",
    "Dal",
    "Dun",
    "East",
    "Fair",
    "Fen",
    "Frost",
    "Gar",
    "Glen",
    "Gold",
    "Gray",
    "Green",
    "Hal",
    "Har",
    "Hart",
    "Haw",
    "Hol",
    "Kings",
    "Lang",
    "Lin",
    "Mar",
    "Mill",
    "Nor",
    "Oak",
    "Pen",
    "Red",
    "Ros",
    "Rut",
    "Stan",
    "Stone",
    "Thorn",
    "Wal",
    "West",
    "Whit",
    "Wick",
    "Wil",
    "Wood",
]
_FAMILY_TAILS = [
    "ford",
    "ley",
    "wood",
    "well",
    "worth",
    "ton",
    "by",
    "more",
    "field",
    "ridge",
    "brook",
    "wick",
    "stead",
    "hurst",
    "combe",
    "den",
    "hill",
    "mont",
    "ham",
    "vale",
    "gate",
]

_STREETS = [
    "Maple",
    "Cedar",
    "Oak",
    "Pine",
    "Elm",
    "Birch",
    "Willow",
    "Aspen",
    "Chestnut",
    "Laurel",
    "Juniper",
    "Magnolia",
    "Hawthorn",
    "Sycamore",
    "Poplar",
    "Alder",
    "Linden",
    "Spruce",
    "Hazel",
    "Rowan",
    "Meadow",
    "Orchard",
    "Harbor",
    "Lake",
    "River",
    "Valley",
    "Ridge",
    "Summit",
    "Prairie",
    "Canyon",
    "Forest",
    "Garden",
    "Park",
    "Mill",
    "Church",
    "School",
    "Market",
    "Bridge",
    "Station",
    "Union",
    "Liberty",
    "Franklin",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Washington",
    "Highland",
    "Sunset",
    "Sunrise",
    "Hillcrest",
    "Fairview",
    "Lakeview",
    "Riverside",
    "Brookside",
    "Woodland",
    "Greenway",
    "Kingsley",
    "Ashbury",
    "Lancaster",
    "Windsor",
    "Devon",
    "Somerset",
    "Carlton",
    "Beacon",
    "Harvest",
    "Clover",
    "Heather",
    "Ivy",
]
_STREET_KINDS = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Lane", "Ln"),
    ("Drive", "Dr"),
    ("Court", "Ct"),
    ("Place", "Pl"),
    ("Boulevard", "Blvd"),
    ("Terrace", "Ter"),
    ("Way", "Way"),
)
_CITY_PARTS = [
    "Spring",
    "Mill",
    "River",
    "Lake",
    "Oak",
    "Elm",
    "Ash",
    "Fair",
    "Green",
    "Red",
    "Stone",
    "Clear",
    "Bright",
    "Maple",
    "Pine",
    "Cedar",
    "Wil",
    "Brook",
    "Glen",
    "Har",
]
_CITY_TAILS = ["field", "ton", "ville", "burg", "dale", "port", "wood", "haven", "view", "crest"]

_CONDITIONS = (
    ("I10", "Essential hypertension"),
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("J45.909", "Unspecified asthma, uncomplicated"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("I50.9", "Heart failure, unspecified"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("N18.3", "Chronic kidney disease, stage 3"),
    ("M17.9", "Osteoarthritis of knee, unspecified"),
    ("E66.9", "Obesity, unspecified"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("G47.33", "Obstructive sleep apnea"),
)
_MEDICATIONS = (
    ("314076", "lisinopril 10 MG Oral Tablet", "29046", "lisinopril", 10.0, "QD"),
    ("860975", "metformin hydrochloride 500 MG Oral Tablet", "6809", "metformin", 500.0, "BID"),
    ("617312", "atorvastatin 20 MG Oral Tablet", "83367", "atorvastatin", 20.0, "QD"),
    ("197361", "amlodipine 5 MG Oral Tablet", "17767", "amlodipine", 5.0, "QD"),
    ("310965", "ibuprofen 200 MG Oral Tablet", "5640", "ibuprofen", 200.0, "PRN"),
    ("198211", "simvastatin 40 MG Oral Tablet", "36567", "simvastatin", 40.0, "QHS"),
    ("311036", "omeprazole 20 MG Delayed Release Oral Capsule", "7646", "omeprazole", 20.0, "QD"),
    ("200031", "carvedilol 6.25 MG Oral Tablet", "20352", "carvedilol", 6.25, "BID"),
    ("310798", "hydrochlorothiazide 25 MG Oral Tablet", "5487", "hydrochlorothiazide", 25.0, "QD"),
    ("966247", "levothyroxine sodium 0.05 MG Oral Tablet", "10582", "levothyroxine", 0.05, "QD"),
)
_SOURCE_KINDS = (
    SourceKind.EHR,
    SourceKind.EHR,
    SourceKind.CLAIMS,
    SourceKind.HIE,
    SourceKind.LAB,
    SourceKind.PHARMACY,
    SourceKind.COMMUNITY,
)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _weighted(names: Sequence[str], exponent: float) -> tuple[list[str], list[float]]:
    """Names with Zipf-like weights: the first is the most common."""
    return list(names), [1.0 / (rank + 1) ** exponent for rank in range(len(names))]


def _family_names() -> list[str]:
    names: list[str] = []
    for tail in _FAMILY_TAILS:
        for head in _FAMILY_HEADS:
            joiner = "" if head[-1] != tail[0] else "e"
            names.append(f"{head}{joiner}{tail}")
    # Interleave so that frequency ranks mix heads and tails.
    mixer = random.Random(1979)  # noqa: S311 - synthetic data, not security
    mixer.shuffle(names)
    return names


def _nickname_pairs(names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Pairs of listed given names that are nicknames of each other (Elizabeth, Lisa)."""
    return tuple(
        (a, b)
        for n, a in enumerate(names)
        for b in names[n + 1 :]
        if are_nicknames(a, b)
        and damerau_levenshtein(a.lower(), b.lower()) > 2
        # Not mere spellings of one name (Sarah, Sara; Steven, Stephen): parents do not
        # give those to twins.
        and jaro_winkler(a.lower(), b.lower()) < 0.85
    )


_NICKNAME_TWINS: Final = {
    Sex.FEMALE: _nickname_pairs(_FEMALE.split()),
    Sex.MALE: _nickname_pairs(_MALE.split()),
}
_GIVEN_FEMALE = _weighted(_FEMALE.split(), 0.5)
_GIVEN_MALE = _weighted(_MALE.split(), 0.5)
_FAMILY = _weighted(_family_names(), 0.5)
_CITIES = [f"{head}{tail}" for head in _CITY_PARTS for tail in _CITY_TAILS]


# --------------------------------------------------------------------------- people


@attrs.define
class _Home:
    number: int
    street: str
    kind: int
    unit: str | None
    city: str
    postal_code: str


@attrs.define
class _Person:
    id: str
    sex: Sex
    given: str
    middle: str | None
    family: str
    other_family: str
    birth: dt.date
    home: _Home
    old_home: _Home
    landline: str | None
    mobile: str | None
    old_phone: str
    email: str | None
    national_id: str
    member_id: str
    conditions: tuple[int, ...] = ()
    medications: tuple[int, ...] = ()


class _Generator:
    def __init__(self, seed: int, sources: int, mix: ErrorMix, with_facts: bool) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.sources = sources
        self.mix = mix
        self.with_facts = with_facts
        self.postal_codes = [
            f"{self.rng.randrange(10, 99)}{self.rng.randrange(0, 1000):03d}"
            for _ in range(max(40, len(_CITIES)))
        ]
        self.city_postal = {
            city: self.rng.sample(self.postal_codes, 3) for city in _CITIES
        }  # each city has a few postal codes
        self.used_phones: set[str] = set()
        self.used_ids: set[str] = set()
        self.people: list[_Person] = []

    # ------------------------------------------------------------ attributes

    def home(self) -> _Home:
        rng = self.rng
        city = rng.choice(_CITIES)
        return _Home(
            number=rng.randrange(1, 9999),
            street=rng.choice(_STREETS),
            kind=rng.randrange(len(_STREET_KINDS)),
            unit=f"{rng.randrange(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.2 else None,
            city=city,
            postal_code=rng.choice(self.city_postal[city]),
        )

    def phone(self) -> str:
        while True:
            number = f"{self.rng.randrange(201, 990)}555{self.rng.randrange(0, 10000):04d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def unique(self, make: str) -> str:
        while True:
            digits = "".join(self.rng.choice("0123456789") for _ in range(8))
            value = f"9{digits[0:2]}-{digits[2:4]}-{digits[4:8]}" if make == "ssn" else f"M{digits}"
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def given_name(self, sex: Sex, avoid: Sequence[str]) -> str:
        names, weights = _GIVEN_FEMALE if sex is Sex.FEMALE else _GIVEN_MALE
        while True:
            name = self.rng.choices(names, weights)[0]
            if all(_distinct(name, other) for other in avoid):
                return name

    def family_name(self) -> str:
        names, weights = _FAMILY
        return self.rng.choices(names, weights)[0]

    def birth(self, age_low: int, age_high: int) -> dt.date:
        days = self.rng.randrange(age_low * 365, age_high * 365 + 364)
        return _REFERENCE_DAY - dt.timedelta(days=days)

    def person(
        self,
        *,
        sex: Sex,
        family: str,
        birth: dt.date,
        home: _Home,
        landline: str | None,
        avoid: Sequence[str],
        given: str | None = None,
    ) -> _Person:
        rng = self.rng
        if given is None:
            given = self.given_name(sex, avoid)
        age = (_REFERENCE_DAY - birth).days // 365
        middle = self.given_name(sex, (given, *avoid)) if rng.random() < 0.4 else None
        email = None
        if age >= 14 and rng.random() < 0.7:
            handle = f"{given.lower()}.{family.lower().replace('-', '')}{rng.randrange(1, 999)}"
            email = f"{handle}@{rng.choice(_EMAIL_DOMAINS)}"
        person = _Person(
            id=f"person-{len(self.people) + 1:06d}",
            sex=sex,
            given=given,
            middle=middle,
            family=family,
            other_family=self.family_name(),
            birth=birth,
            home=home,
            old_home=self.home(),
            landline=landline,
            mobile=self.phone() if age >= 12 and rng.random() < 0.85 else None,
            old_phone=self.phone(),
            email=email,
            national_id=self.unique("ssn"),
            member_id=self.unique("member"),
        )
        if self.with_facts:
            person.conditions = tuple(
                sorted(rng.sample(range(len(_CONDITIONS)), rng.randrange(0, 4)))
            )
            person.medications = tuple(
                sorted(rng.sample(range(len(_MEDICATIONS)), rng.randrange(0, 4)))
            )
        self.people.append(person)
        return person

    def nickname_twins(self) -> tuple[str, ...]:
        """A parent and twins whose given names are nicknames of each other."""
        rng = self.rng
        home = self.home()
        landline = self.phone() if rng.random() < 0.5 else None
        family = self.family_name()
        parent_birth = self.birth(24, 55)
        parent = self.person(
            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
            family=family,
            birth=parent_birth,
            home=home,
            landline=landline,
            avoid=(),
        )
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        first, second = rng.choice(_NICKNAME_TWINS[sex])
        earliest = max(
            parent_birth + dt.timedelta(days=18 * 365),
            _REFERENCE_DAY - dt.timedelta(days=30 * 365),
        )
        span = (_REFERENCE_DAY - earliest).days
        birth = earliest + dt.timedelta(days=rng.randrange(max(span, 1)))
        twins = tuple(
            self.person(
                sex=sex,
                family=family,
                birth=birth,
                home=home,
                landline=landline,
                avoid=(parent.given,),
                given=name,
            )
            for name in (first, second)
        )
        return tuple(twin.id for twin in twins)

    def namesakes(self) -> tuple[str, ...]:
        """Two strangers, living apart, with one given name, family name, sex and birth."""
        rng = self.rng
        sex = rng.choice((Sex.FEMALE, Sex.MALE))
        names, weights = _GIVEN_FEMALE if sex is Sex.FEMALE else _GIVEN_MALE
        given = rng.choices(names, [weight * weight for weight in weights])[0]
        family_names, family_weights = _FAMILY
        family = rng.choices(family_names, [weight * weight for weight in family_weights])[0]
        birth = self.birth(20, 90)
        people = tuple(
            self.person(
                sex=sex,
                family=family,
                birth=birth,
                home=self.home(),
                landline=self.phone() if rng.random() < 0.5 else None,
                avoid=(),
                given=given,
            )
            for _ in range(2)
        )
        return tuple(person.id for person in people)

    def household(self, room: int) -> None:
        rng = self.rng
        size = min(room, rng.choices((1, 2, 3, 4, 5, 6), (28, 34, 15, 13, 7, 3))[0])
        home = self.home()
        landline = self.phone() if rng.random() < 0.5 else None
        family = self.family_name()
        if rng.random() < 0.03:
            family = f"{family}-{self.family_name()}"  # double-barrelled
        head_sex = rng.choice((Sex.FEMALE, Sex.MALE))
        head_birth = self.birth(20 if size == 1 else 24, 95 if size <= 2 else 55)
        head = self.person(
            sex=head_sex, family=family, birth=head_birth, home=home, landline=landline, avoid=()
        )
        adults = [head]
        children = size - 1
        if size >= 2 and rng.random() < 0.85:
            partner_sex = (
                (Sex.MALE if head_sex is Sex.FEMALE else Sex.FEMALE)
                if rng.random() < 0.9
                else head_sex
            )
            partner_family = family if rng.random() < 0.75 else self.family_name()
            offset = dt.timedelta(days=rng.randrange(-6 * 365, 6 * 365))
            partner_birth = min(head_birth + offset, _REFERENCE_DAY - dt.timedelta(days=18 * 365))
            adults.append(
                self.person(
                    sex=partner_sex,
                    family=partner_family,
                    birth=partner_birth,
                    home=home,
                    landline=landline,
                    avoid=(),
                )
            )
            children -= 1
        youngest_parent = max(person.birth for person in adults)
        names = [person.given for person in adults]
        previous: _Person | None = None
        for _ in range(children):
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            if previous is not None and rng.random() < 0.04:
                birth = previous.birth  # a twin
            else:
                earliest = max(
                    youngest_parent + dt.timedelta(days=18 * 365),
                    _REFERENCE_DAY - dt.timedelta(days=30 * 365),
                )
                span = (_REFERENCE_DAY - earliest).days
                birth = earliest + dt.timedelta(days=rng.randrange(max(span, 1)))
            child_family = family if rng.random() < 0.9 else adults[-1].family
            child = self.person(
                sex=sex, family=child_family, birth=birth, home=home, landline=landline, avoid=names
            )
            names.append(child.given)
            previous = child

    # ------------------------------------------------------------ records

    def records(self) -> tuple[list[PatientRecord], dict[tuple[str, str], str]]:
        rng = self.rng
        sources = [
            Source(
                id=f"source-{n + 1}",
                name=f"Synthetic source {n + 1}",
                kind=_SOURCE_KINDS[n % len(_SOURCE_KINDS)],
            )
            for n in range(self.sources)
        ]
        placements: list[tuple[int, _Person]] = []
        for person in self.people:
            count = rng.randint(1, self.sources)
            placements.extend((n, person) for n in sorted(rng.sample(range(self.sources), count)))
        rng.shuffle(placements)  # patient ids say nothing about who is who
        counters = [0] * self.sources
        records: list[PatientRecord] = []
        truth: dict[tuple[str, str], str] = {}
        for n, person in placements:
            counters[n] += 1
            source = sources[n]
            patient_id = PatientId(f"pt-{counters[n]:07d}")
            record = self.record(source, patient_id, f"{n + 1}{counters[n]:07d}", person)
            records.append(record)
            truth[record.key] = person.id
        records.sort(key=lambda record: record.key)
        return records, truth

    def record(self, source: Source, patient_id: PatientId, mrn: str, p: _Person) -> PatientRecord:
        rng = self.rng
        mix = self.mix
        identifiers = [Identifier(mrn_system(source.id), mrn)]
        if rng.random() < mix.national_id:
            identifiers.append(Identifier(NATIONAL_ID_SYSTEM, p.national_id))
        if rng.random() < mix.payer_member_id:
            identifiers.append(Identifier(PAYER_MEMBER_SYSTEM, p.member_id))
        patient = Patient(
            id=patient_id,
            identifiers=tuple(identifiers),
            names=(self.name(p),),
            birth_date=self.birth_date(p.birth),
            sex=Sex.UNKNOWN if rng.random() < mix.sex_unknown else p.sex,
            telecom=self.telecom(p),
            addresses=self.addresses(p),
        )
        record = PatientRecord(source=source, patient=patient)
        if self.with_facts:
            record = self.facts(record, p)
        return record

    def name(self, p: _Person) -> HumanName:
        rng = self.rng
        mix = self.mix
        given = p.given
        if rng.random() < mix.given_nickname:
            nicknames = sorted(NICKNAMES.get(given.lower(), ()))
            if nicknames:
                given = rng.choice(nicknames).capitalize()
        if rng.random() < mix.given_typo:
            given = _typo(rng, given)
        if rng.random() < mix.given_initial:
            given = given[0]
        family = p.other_family if rng.random() < mix.family_changed else p.family
        if rng.random() < mix.family_typo:
            family = _typo(rng, family)
        if rng.random() < mix.formatting:
            given, family = self.reformat(given), self.reformat(family)
        parts = [given]
        if p.middle is not None and rng.random() >= mix.middle_name_dropped:
            parts.append(p.middle[0] if rng.random() < mix.formatting else p.middle)
        if rng.random() < mix.name_transposed:
            return HumanName(family=given, given=(family, *parts[1:]))
        return HumanName(family=family, given=tuple(parts))

    def reformat(self, text: str) -> str:
        return text.upper() if self.rng.random() < 0.5 else text.lower()

    def birth_date(self, birth: dt.date) -> PartialDate | None:
        rng = self.rng
        mix = self.mix
        draw = rng.random()
        if draw < mix.birth_missing:
            return None
        draw -= mix.birth_missing
        if draw < mix.birth_partial:
            return PartialDate(birth.year, birth.month if rng.random() < 0.6 else None)
        draw -= mix.birth_partial
        if draw < mix.birth_swapped:
            if birth.day <= 12 and birth.day != birth.month:
                return PartialDate(birth.year, birth.day, birth.month)
            return PartialDate.from_date(birth)
        draw -= mix.birth_swapped
        if draw < mix.birth_typo:
            return _date_typo(rng, birth)
        return PartialDate.from_date(birth)

    def phone_text(self, number: str) -> str:
        area, exchange, line = number[:3], number[3:6], number[6:]
        if self.rng.random() >= self.mix.formatting:
            return f"({area}) {exchange}-{line}"
        return self.rng.choice(
            (
                f"{area}-{exchange}-{line}",
                number,
                f"+1 {area} {exchange} {line}",
                f"{area}.{exchange}.{line}",
            )
        )

    def telecom(self, p: _Person) -> tuple[ContactPoint, ...]:
        rng = self.rng
        mix = self.mix
        points: list[ContactPoint] = []
        if rng.random() >= mix.phone_missing:
            if rng.random() < mix.phone_changed:
                phones = [p.old_phone]
            else:
                phones = [number for number in (p.mobile, p.landline) if number is not None]
                if len(phones) == 2 and rng.random() < 0.5:
                    phones = [phones[rng.randrange(2)]]
            points.extend(
                ContactPoint(ContactSystem.PHONE, self.phone_text(number)) for number in phones
            )
        if p.email is not None and rng.random() >= mix.email_missing:
            email = p.email.upper() if rng.random() < mix.formatting / 3 else p.email
            points.append(ContactPoint(ContactSystem.EMAIL, email))
        return tuple(points)

    def addresses(self, p: _Person) -> tuple[Address, ...]:
        rng = self.rng
        mix = self.mix
        if rng.random() < mix.address_missing:
            return ()
        home = p.old_home if rng.random() < mix.address_moved else p.home
        long_kind, short_kind = _STREET_KINDS[home.kind]
        styled = rng.random() < mix.formatting
        kind = short_kind if styled else long_kind
        line = f"{home.number} {home.street} {kind}"
        if styled and rng.random() < 0.5:
            line = line.upper()
        lines = [line]
        if home.unit is not None:
            lines.append(f"Apt {home.unit}" if styled else f"Apartment {home.unit}")
        postal = home.postal_code
        if styled and rng.random() < 0.3:
            postal = f"{postal}-{rng.randrange(0, 10000):04d}"
        return (
            Address(lines=tuple(lines), city=home.city, state="XS", postal_code=postal, use="home"),
        )

    def facts(self, record: PatientRecord, p: _Person) -> PatientRecord:
        rng = self.rng
        recorded = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC) - dt.timedelta(
            days=rng.randrange(0, 700)
        )
        conditions = [
            Condition(
                id=ConditionId(f"condition-{n + 1}"),
                patient=record.patient.id,
                code=Code(System.ICD10CM, _CONDITIONS[index][0], _CONDITIONS[index][1]),
                onset=PartialDate(max(p.birth.year, 2000 + index)),
                recorded_at=recorded,
            )
            for n, index in enumerate(i for i in p.conditions if rng.random() < 0.75)
        ]
        medications = []
        for n, index in enumerate(i for i in p.medications if rng.random() < 0.75):
            code, display, ingredient, name, dose, frequency = _MEDICATIONS[index]
            medications.append(
                Medication(
                    id=MedicationId(f"medication-{n + 1}"),
                    patient=record.patient.id,
                    code=Code(System.RXNORM, code, display),
                    ingredients=(Code(System.RXNORM, ingredient, name),),
                    dose=Quantity(dose, "mg"),
                    frequency=frequency,
                    period=Period(recorded - dt.timedelta(days=rng.randrange(0, 400))),
                    recorded_at=recorded,
                )
            )
        return record.with_facts(conditions=conditions, medications=medications)


def _distinct(a: str, b: str) -> bool:
    """Whether two given names are told apart even by a typo-tolerant matcher."""
    x, y = a.lower(), b.lower()
    if x == y or are_nicknames(x, y):
        return False
    return damerau_levenshtein(x, y) > 1 and jaro_winkler(x, y) < 0.85


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard-style edit anywhere but the first letter."""
    if len(text) < 3:
        return text + rng.choice(_LETTERS)
    position = rng.randrange(1, len(text))
    kind = rng.randrange(4)
    letter = rng.choice(_LETTERS)
    if text[position - 1].isupper() and text[position - 1 :].isupper():
        letter = letter.upper()
    if kind == 0:  # substitution
        replaced = text[:position] + letter + text[position + 1 :]
    elif kind == 1:  # insertion
        replaced = text[:position] + letter + text[position:]
    elif kind == 2:  # deletion
        replaced = text[:position] + text[position + 1 :]
    else:  # transposition of two neighbours
        position = min(position, len(text) - 2)
        replaced = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return replaced if replaced.lower() != text.lower() else text + letter


def _date_typo(rng: random.Random, birth: dt.date) -> PartialDate:
    """Mistype one digit of the day, month or year (keeping a valid date)."""
    for _ in range(20):
        part = rng.randrange(3)
        year, month, day = birth.year, birth.month, birth.day
        if part == 0:
            year = int(str(year)[:3] + rng.choice("0123456789"))
        elif part == 1:
            month = int(f"{month:02d}"[0] + rng.choice("0123456789"))
        else:
            text = f"{day:02d}"
            day = (
                int(text[0] + rng.choice("0123456789"))
                if rng.random() < 0.5
                else int(rng.choice("0123") + text[1])
            )
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate != birth and candidate <= _REFERENCE_DAY:
            return PartialDate.from_date(candidate)
    return PartialDate.from_date(birth)


def generate_population(
    n_people: int,
    *,
    seed: int = 0,
    sources: int = 3,
    error_mix: ErrorMix | None = None,
    with_facts: bool = False,
    nickname_twins: float = 0.0,
    namesakes: float = 0.0,
) -> Population:
    """Invent ``n_people`` people and their records in 1 to ``sources`` sources each.

    Each person appears in a uniformly drawn number of sources (so about
    ``(sources + 1) / 2`` records per person), once per source, with that source's MRN and
    the errors of ``error_mix`` (default :class:`ErrorMix`). With ``with_facts`` each
    record also holds a few of the person's conditions and medications. Records are
    returned sorted by key.

    ``nickname_twins`` and ``namesakes`` add the hard cases of :data:`HARD_CASES`: each
    step that would invent a household makes, with that probability, a pair of twins
    with nickname-related given names (and a parent) or a pair of namesakes instead.
    :attr:`Population.cases` lists them and :meth:`Population.score_case` scores a
    matcher on them. With both at ``0`` (the default) the population is exactly the one
    earlier versions made.

    Raises:
        ValidationError: if ``n_people`` is negative, ``sources`` is less than 1, or a
            hard-case rate is not between 0 and 1.

    """
    if n_people < 0:
        raise ValidationError(Problem("n_people", "must not be negative"))
    if sources < 1:
        raise ValidationError(Problem("sources", "must be at least 1"))
    for name, rate in (("nickname_twins", nickname_twins), ("namesakes", namesakes)):
        if not 0.0 <= rate <= 1.0:
            raise ValidationError(Problem(name, "must be a rate between 0 and 1"))
    generator = _Generator(seed, sources, error_mix or ErrorMix(), with_facts)
    cases: dict[str, list[tuple[str, ...]]] = {case: [] for case in HARD_CASES}
    rng = generator.rng
    while len(generator.people) < n_people:
        room = n_people - len(generator.people)
        # Only draw for a hard case when one was asked for, so populations without them
        # stay exactly as they were.
        if nickname_twins and room >= 2 and rng.random() < nickname_twins:
            cases["nickname-twins"].append(generator.nickname_twins())
        elif namesakes and room >= 2 and rng.random() < namesakes:
            cases["namesakes"].append(generator.namesakes())
        else:
            generator.household(room)
    records, truth = generator.records()
    return Population(
        records=tuple(records),
        truth=truth,
        people=len(generator.people),
        cases={case: groups for case, groups in cases.items() if groups},
    )
