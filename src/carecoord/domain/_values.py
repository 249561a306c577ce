"""Value objects: identifiers, codes, references, partial dates, aware instants, periods."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, ClassVar, NewType, TypeAlias

import attrs

from carecoord.errors import Problem, ValidationError

__all__ = [
    "AllergyId",
    "AppointmentId",
    "CarePlanId",
    "CareTeamId",
    "ClinicalTime",
    "Code",
    "CommunicationId",
    "ConditionId",
    "ConsentId",
    "DocumentId",
    "EncounterId",
    "FactId",
    "GoalId",
    "Identifier",
    "MedicationId",
    "OrderId",
    "OrganizationId",
    "PartialDate",
    "PatientId",
    "Period",
    "PractitionerId",
    "Precision",
    "Quantity",
    "Ref",
    "ReferralId",
    "RelatedPersonId",
    "ResultId",
    "Sensitivity",
    "System",
    "TaskId",
    "TransitionId",
    "aware",
    "masked",
    "optional_aware",
    "to_local_date",
]

PatientId = NewType("PatientId", str)
"""Id of a patient within one source (or of a unified profile)."""
PractitionerId = NewType("PractitionerId", str)
"""Id of a practitioner."""
OrganizationId = NewType("OrganizationId", str)
"""Id of an organisation."""
RelatedPersonId = NewType("RelatedPersonId", str)
"""Id of a related person (a relative, a guardian, an agent under a power of attorney)."""
CareTeamId = NewType("CareTeamId", str)
"""Id of a care team."""
ReferralId = NewType("ReferralId", str)
"""Id of a referral."""
TaskId = NewType("TaskId", str)
"""Id of a task."""
TransitionId = NewType("TransitionId", str)
"""Id of a care transition."""
EncounterId = NewType("EncounterId", str)
"""Id of an encounter."""
ConditionId = NewType("ConditionId", str)
"""Id of a condition."""
MedicationId = NewType("MedicationId", str)
"""Id of a medication statement or order."""
AllergyId = NewType("AllergyId", str)
"""Id of an allergy or intolerance."""
OrderId = NewType("OrderId", str)
"""Id of a diagnostic order."""
ResultId = NewType("ResultId", str)
"""Id of a result."""
AppointmentId = NewType("AppointmentId", str)
"""Id of an appointment."""
CarePlanId = NewType("CarePlanId", str)
"""Id of a care plan."""
GoalId = NewType("GoalId", str)
"""Id of a goal."""
CommunicationId = NewType("CommunicationId", str)
"""Id of a communication."""
ConsentId = NewType("ConsentId", str)
"""Id of a consent."""
DocumentId = NewType("DocumentId", str)
"""Id of a clinical document (a discharge summary, a consult note...)."""
FactId = NewType("FactId", str)
"""Id of any other fact (procedure, social need, reconciliation, activity, enrollment)."""


def masked(value: object) -> str:
    """Repr used for fields that may hold personal data: shows only whether it is set."""
    if value is None:
        return "None"
    if value in ((), "", frozenset()):
        return repr(value)
    return "<masked>"


def _problem(path: str, message: str) -> ValidationError:
    return ValidationError(Problem(path, message))


def aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``value`` must be a timezone-aware :class:`datetime.datetime`."""
    if not isinstance(value, dt.datetime):
        raise _problem(attribute.name, f"expected datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _problem(attribute.name, "naive datetime (a time zone is required)")


def optional_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``None`` or a timezone-aware datetime."""
    if value is not None:
        aware(instance, attribute, value)


def non_empty(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise _problem(attribute.name, "must be a non-empty string")


def before(a: dt.datetime, b: dt.datetime) -> bool:
    """Whether instant ``a`` is strictly earlier than ``b``.

    Compares real instants (in UTC), so two wall-clock times in the same ``ZoneInfo``
    around a daylight-saving change compare by what happened first, not by clock reading.
    """
    return a.astimezone(dt.UTC) < b.astimezone(dt.UTC)


def to_local_date(instant: dt.datetime, tz: dt.tzinfo | None = None) -> dt.date:
    """The calendar date of ``instant`` in ``tz`` (the instant's own offset when ``None``)."""
    return instant.astimezone(tz).date() if tz is not None else instant.date()


class System:
    """URIs of the code and identifier systems carecoord uses."""

    SNOMED: ClassVar[str] = "http://snomed.info/sct"
    LOINC: ClassVar[str] = "http://loinc.org"
    RXNORM: ClassVar[str] = "http://www.nlm.nih.gov/research/umls/rxnorm"
    ICD10CM: ClassVar[str] = "http://hl7.org/fhir/sid/icd-10-cm"
    ICD10: ClassVar[str] = "http://hl7.org/fhir/sid/icd-10"
    CPT: ClassVar[str] = "http://www.ama-assn.org/go/cpt"
    HCPCS: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.285"
    NUCC: ClassVar[str] = "http://nucc.org/provider-taxonomy"
    NPI: ClassVar[str] = "http://hl7.org/fhir/sid/us-npi"
    SSN: ClassVar[str] = "http://hl7.org/fhir/sid/us-ssn"
    V3_ACT_CODE: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    V3_CONFIDENTIALITY: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
    V3_ROLE_CODE: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
    DISCHARGE_DISPOSITION: ClassVar[str] = "http://www.nubc.org/patient-discharge"
    HL7_DISCHARGE_DISPOSITION: ClassVar[str] = (
        "http://terminology.hl7.org/CodeSystem/discharge-disposition"
    )
    CONDITION_CATEGORY: ClassVar[str] = "http://terminology.hl7.org/CodeSystem/condition-category"
    SDOH_CATEGORY: ClassVar[str] = (
        "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
    )
    UNITS: ClassVar[str] = "http://unitsofmeasure.org"


def _other_codings(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: a tuple of :class:`Code` (the other codings of one concept)."""
    if not isinstance(value, tuple):
        raise _problem(attribute.name, f"expected a tuple, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, Code):
            raise _problem(f"{attribute.name}[{index}]", "expected a Code")


@attrs.frozen(order=True)
class Code:
    """A coded concept: ``system`` URI, ``code`` and an optional human ``display``.

    ``also`` holds the concept's other codings, in their order (the ICD-10-CM code a
    source sent beside the SNOMED CT one it was read as, say): they say the same thing in
    other code systems, so membership tests that should see every coding read them
    (``ValueSet.contains_concept``, the consent views).

    Equality and hashing use system and code only; the display and ``also`` are labels.
    """

    system: str = attrs.field(validator=non_empty)
    code: str = attrs.field(validator=non_empty)
    display: str | None = attrs.field(default=None, eq=False, order=False)
    also: tuple[Code, ...] = attrs.field(
        default=(), eq=False, order=False, validator=_other_codings
    )

    def is_in(self, system: str, *codes: str) -> bool:
        """Whether this code belongs to ``system`` and, when given, is one of ``codes``."""
        return self.system == system and (not codes or self.code in codes)

    @property
    def codings(self) -> tuple[Code, ...]:
        """This code and its other codings (``also``), in order."""
        return (self, *self.also) if self.also else (self,)

    def __str__(self) -> str:
        return self.display or f"{self.system}|{self.code}"


class Sensitivity(Enum):
    """Sensitive-information classes that need consent to share.

    The values are HL7 v3 ActCode sensitivity codes, but :attr:`RESTRICTED`, which is the
    v3 Confidentiality code ``R`` (``V``, very restricted, reads as it too).
    """

    MENTAL_HEALTH = "PSY"
    SUBSTANCE_USE = "ETH"
    HIV = "HIV"
    SEXUAL_DOMESTIC_VIOLENCE = "SDV"
    PSYCHOTHERAPY_NOTE = "PSYTHPN"
    """Psychotherapy notes are never shared, whatever the consent says."""
    RESTRICTED = "R"
    """Labelled restricted (v3 Confidentiality ``R`` or ``V``): shared only with someone a
    consent names, never by a care-team-wide permit."""


@attrs.frozen(order=True)
class Identifier:
    """A business identifier (MRN, NPI, member id...): a ``system`` URI and a ``value``.

    The value is masked in ``repr``.
    """

    system: str = attrs.field(validator=non_empty)
    value: str = attrs.field(validator=non_empty, repr=masked)


@attrs.frozen(order=True)
class Ref:
    """A typed reference to another object: ``Ref("Practitioner", "p1")``."""

    type: str = attrs.field(validator=non_empty)
    id: str = attrs.field(validator=non_empty)

    def __str__(self) -> str:
        return f"{self.type}/{self.id}"

    @classmethod
    def parse(cls, text: str) -> Ref:
        """Parse ``"Type/id"``."""
        type_, sep, id_ = text.partition("/")
        if not sep or not type_ or not id_:
            raise _problem("", "a reference is written Type/id")
        return cls(type_, id_)


def _finite_number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(attribute.name, "expected a finite number")


@attrs.frozen
class Quantity:
    """A measured amount with its UCUM unit (``unit`` may be ``None`` for counts)."""

    value: float = attrs.field(validator=_finite_number)
    unit: str | None = None

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number} {self.unit}" if self.unit else number


class Precision(Enum):
    """How much of a clinical date is known."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


_PARTIAL_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@attrs.frozen(eq=True, order=False, repr=False)
class PartialDate:
    """A clinical date known to the year, the month or the day (FHIR ``date``).

    ``PartialDate(1985, 6)`` is June 1985, not the 1st of June. Comparisons order partial
    dates by their earliest possible day, and a less precise date sorts before a more
    precise one on the same earliest day.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __attrs_post_init__(self) -> None:
        year: object = self.year
        month: object = self.month
        if not isinstance(year, int) or not isinstance(month, int | None):
            field = "year" if not isinstance(year, int) else "month"
            raise _problem(field, f"expected an int, got {type(getattr(self, field)).__name__}")
        if not 1 <= self.year <= 9999:
            raise _problem("year", "out of range")
        if self.month is None:
            if self.day is not None:
                raise _problem("day", "a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise _problem("month", "out of range")
        if self.day is not None:
            try:
                dt.date(self.year, self.month, self.day)
            except TypeError:
                raise _problem("day", f"expected an int, got {type(self.day).__name__}") from None
            except ValueError:
                raise _problem("day", "no such day in that month") from None

    @property
    def precision(self) -> Precision:
        """The precision: year, month or day."""
        if self.month is None:
            return Precision.YEAR
        return Precision.MONTH if self.day is None else Precision.DAY

    @classmethod
    def parse(cls, text: object) -> PartialDate:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        match = _PARTIAL_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise _problem("", "expected a date written YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = match.groups()
        return cls(int(year), int(month) if month else None, int(day) if day else None)

    @classmethod
    def from_date(cls, value: dt.date) -> PartialDate:
        """A day-precision partial date."""
        return cls(value.year, value.month, value.day)

    def earliest(self) -> dt.date:
        """The first day this date can mean."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last day this date can mean."""
        if self.day is not None:
            return self.earliest()
        if self.month is None:
            return dt.date(self.year, 12, 31)
        following = dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def contains(self, value: dt.date) -> bool:
        """Whether ``value`` is one of the days this date can mean."""
        return self.earliest() <= value <= self.latest()

    def isoformat(self) -> str:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, keeping the precision."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def _key(self) -> tuple[dt.date, int]:
        return (self.earliest(), (self.month is not None) + (self.day is not None))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() >= other._key()

    def __str__(self) -> str:
        return self.isoformat()

    def __repr__(self) -> str:
        return f"PartialDate({self.isoformat()!r})"


ClinicalTime: TypeAlias = dt.datetime | PartialDate
"""When something clinical happened: an aware instant, or a date of known precision."""


def clinical_time(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: ``None``, a :class:`PartialDate` or an aware datetime."""
    if value is None or isinstance(value, PartialDate):
        return
    aware(_instance, attribute, value)


def earliest_date(value: dt.datetime | PartialDate, tz: dt.tzinfo | None = None) -> dt.date:
    """The first calendar day a clinical time can mean (local to ``tz`` for instants)."""
    if isinstance(value, PartialDate):
        return value.earliest()
    return to_local_date(value, tz)


def sort_key(value: dt.datetime | PartialDate | None) -> tuple[int, dt.datetime]:
    """A total order over clinical times: unknown first, partial dates at their first instant."""
    if value is None:
        return (0, dt.datetime.min.replace(tzinfo=dt.UTC))
    if isinstance(value, PartialDate):
        day = value.earliest()
        return (1, dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    return (1, value.astimezone(dt.UTC))


@attrs.frozen
class Period:
    """A span of time between two aware instants; either end may be open (``None``)."""

    start: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    end: dt.datetime | None = attrs.field(default=None, validator=optional_aware)

    def __attrs_post_init__(self) -> None:
        if self.start is not None and self.end is not None and before(self.end, self.start):
            raise _problem("end", "a period cannot end before it starts")

    def contains(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls inside the period (start inclusive, end exclusive)."""
        if self.start is not None and before(at, self.start):
            return False
        return self.end is None or before(at, self.end)

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share any instant."""
        starts_before_other_ends = (
            self.start is None or other.end is None or before(self.start, other.end)
        )
        ends_after_other_starts = (
            self.end is None or other.start is None or before(other.start, self.end)
        )
        return starts_before_other_ends and ends_after_other_starts


def choice(enum: type[Enum]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Attrs validator: the value must be a member of ``enum``."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, enum):
            raise _problem(attribute.name, f"expected one of {enum.__name__}")

    return check


def is_tuple(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the value must be a tuple (immutable, hashable)."""
    if not isinstance(value, tuple):
        raise _problem(attribute.name, f"expected a tuple, got {type(value).__name__}")


def is_frozenset(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Attrs validator: the value must be a frozenset."""
    if not isinstance(value, frozenset):
        raise _problem(attribute.name, f"expected a frozenset, got {type(value).__name__}")
