"""Parties: patients, practitioners and organisations, each with a discipline."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import ClassVar

import attrs

from carecoord.domain._values import (
    Code,
    Identifier,
    OrganizationId,
    PartialDate,
    PatientId,
    Period,
    PractitionerId,
    Ref,
    RelatedPersonId,
    System,
    choice,
    clinical_time,
    is_tuple,
    masked,
    non_empty,
)

__all__ = [
    "Address",
    "ContactPoint",
    "ContactSystem",
    "Discipline",
    "HumanName",
    "LinkKind",
    "Organization",
    "OrganizationKind",
    "Patient",
    "PatientLink",
    "Practitioner",
    "RelatedPerson",
    "Sex",
]


class Discipline(Enum):
    """The kind of care a party gives; drives care-team rules and consent views."""

    PRIMARY_CARE = "primary-care"
    SPECIALIST = "specialist"
    BEHAVIORAL_HEALTH = "behavioral-health"
    NURSING = "nursing"
    PHARMACY = "pharmacy"
    SOCIAL_WORK = "social-work"
    COMMUNITY_SERVICE = "community-service"
    CARE_COORDINATION = "care-coordination"
    HOSPITAL = "hospital"
    OTHER = "other"


class Sex(Enum):
    """Administrative sex (FHIR ``AdministrativeGender``)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class ContactSystem(Enum):
    """Kind of contact point."""

    PHONE = "phone"
    EMAIL = "email"
    FAX = "fax"
    SMS = "sms"
    OTHER = "other"


@attrs.frozen
class HumanName:
    """A person's name. Every part is masked in ``repr``."""

    family: str | None = attrs.field(default=None, repr=masked)
    given: tuple[str, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    prefix: tuple[str, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    suffix: tuple[str, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    use: str | None = None

    def full(self) -> str:
        """Given names then family name, separated by spaces."""
        return " ".join([*self.given, *([self.family] if self.family else [])])


@attrs.frozen
class ContactPoint:
    """A phone number, email address, fax... The value is masked in ``repr``."""

    system: ContactSystem = attrs.field(validator=choice(ContactSystem))
    value: str = attrs.field(validator=non_empty, repr=masked)
    use: str | None = None


@attrs.frozen
class Address:
    """A postal address. Every part is masked in ``repr``."""

    lines: tuple[str, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    city: str | None = attrs.field(default=None, repr=masked)
    state: str | None = attrs.field(default=None, repr=masked)
    postal_code: str | None = attrs.field(default=None, repr=masked)
    country: str | None = None
    use: str | None = None


class LinkKind(Enum):
    """How two patient records are asserted to relate (FHIR ``Patient.link.type``)."""

    SAME_PERSON = "same-person"
    """The two records are the same person (``seealso``/``replaces``, ADT A40 merge)."""
    NOT_SAME_PERSON = "not-same-person"
    """A reviewer asserted the records are different people."""


@attrs.frozen
class PatientLink:
    """An explicit assertion about another patient record, which identity matching obeys.

    ``other_source`` ``None`` means the same source as the record holding the link.
    """

    kind: LinkKind = attrs.field(validator=choice(LinkKind))
    other_id: PatientId
    other_source: str | None = None


@attrs.frozen
class Patient:
    """The person, as one source knows them.

    Names, birth date, addresses, telecom and identifiers are masked in ``repr``.
    ``timezone`` is an IANA name (``"America/New_York"``) for evaluating day windows in the
    patient's local date.
    """

    id: PatientId = attrs.field(validator=non_empty)
    identifiers: tuple[Identifier, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    names: tuple[HumanName, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    birth_date: PartialDate | None = attrs.field(default=None, repr=masked)
    sex: Sex = attrs.field(default=Sex.UNKNOWN, validator=choice(Sex))
    telecom: tuple[ContactPoint, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    addresses: tuple[Address, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    deceased: bool = False
    deceased_at: dt.datetime | PartialDate | None = attrs.field(
        default=None, validator=clinical_time, repr=masked
    )
    links: tuple[PatientLink, ...] = attrs.field(default=(), validator=is_tuple)
    language: str | None = None
    timezone: str | None = None
    general_practitioner: tuple[Ref, ...] = attrs.field(default=(), validator=is_tuple)

    @property
    def is_deceased(self) -> bool:
        """Whether the patient is known to have died."""
        return self.deceased or self.deceased_at is not None

    @property
    def name(self) -> HumanName | None:
        """The first (preferred) name, if any."""
        return self.names[0] if self.names else None


@attrs.frozen
class Practitioner:
    """A clinician or other professional. The name and identifiers are masked in ``repr``."""

    id: PractitionerId = attrs.field(validator=non_empty)
    names: tuple[HumanName, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    discipline: Discipline = attrs.field(default=Discipline.OTHER, validator=choice(Discipline))
    specialty: Code | None = None
    organization: OrganizationId | None = None
    identifiers: tuple[Identifier, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    telecom: tuple[ContactPoint, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)

    @property
    def ref(self) -> Ref:
        """A reference to this practitioner."""
        return Ref("Practitioner", self.id)


class OrganizationKind(Enum):
    """What kind of organisation."""

    HOSPITAL = "hospital"
    PRACTICE = "practice"
    PAYER = "payer"
    COMMUNITY = "community"
    PHARMACY = "pharmacy"
    LABORATORY = "laboratory"
    SKILLED_NURSING = "skilled-nursing"
    OTHER = "other"


@attrs.frozen
class Organization:
    """A hospital, practice, payer, community-based organisation...

    ``timezone`` is the facility's IANA time zone, used for day windows.
    """

    id: OrganizationId = attrs.field(validator=non_empty)
    name: str | None = None
    kind: OrganizationKind = attrs.field(
        default=OrganizationKind.OTHER, validator=choice(OrganizationKind)
    )
    discipline: Discipline = attrs.field(default=Discipline.OTHER, validator=choice(Discipline))
    identifiers: tuple[Identifier, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    timezone: str | None = None
    part_of: OrganizationId | None = None

    @property
    def ref(self) -> Ref:
        """A reference to this organisation."""
        return Ref("Organization", self.id)


@attrs.frozen
class RelatedPerson:
    """Someone related to the patient: a parent, a partner, a guardian, an agent.

    ``relationships`` are the coded relationships (HL7 v3 RoleCode: ``MTH``, ``SPS``,
    ``GUARD``, ``HPOWATT``...); ``period`` is when the relationship holds and ``active``
    whether the record is in use. A **personal representative** (45 CFR 164.502(g)) may
    act for the patient and sees what the patient sees: a guardian or an agent under a
    power of attorney (the codes of :attr:`REPRESENTATIVE_ROLES`), or anyone the source
    states to be one (``representative``, for a parent of a minor, say). Names and
    telecom are masked in ``repr``.
    """

    REPRESENTATIVE_ROLES: ClassVar[frozenset[str]] = frozenset(
        {"GUARD", "POWATT", "DPOWATT", "HPOWATT", "SPOWATT"}
    )
    """v3 RoleCode codes that make a related person a personal representative: guardian,
    power of attorney, durable, healthcare and special power of attorney."""

    id: RelatedPersonId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    relationships: tuple[Code, ...] = attrs.field(default=(), validator=is_tuple)
    names: tuple[HumanName, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    telecom: tuple[ContactPoint, ...] = attrs.field(default=(), validator=is_tuple, repr=masked)
    period: Period = attrs.Factory(Period)
    active: bool = True
    representative: bool = False

    @property
    def ref(self) -> Ref:
        """A reference to this related person (how they appear as a viewer or actor)."""
        return Ref("RelatedPerson", self.id)

    @property
    def is_representative(self) -> bool:
        """Stated a representative, or related by a representative role (any coding)."""
        return self.representative or any(
            coding.is_in(System.V3_ROLE_CODE, *self.REPRESENTATIVE_ROLES)
            for code in self.relationships
            for coding in code.codings
        )

    def represents_at(self, at: dt.datetime) -> bool:
        """Whether this person is the patient's representative at ``at``.

        A representative (:attr:`is_representative`) whose record is active and whose
        relationship period covers ``at``.
        """
        return self.active and self.is_representative and self.period.contains(at)
