"""The shared machinery of the FHIR writer: datatypes, references, and carecoord's own URIs.

Every ``write_*`` function of the resource modules takes a :class:`WriteContext`, which
knows the record being written and turns carecoord :class:`~carecoord.domain.Ref` values
into FHIR ``Reference`` objects written ``Type/id`` (a Bundle then points those that name
one of its entries at the entry's ``urn:uuid`` fullUrl). Nothing here reads a clock:
every time written comes from the model.

Where the model holds something FHIR R4 has no element for, the writer uses an extension
whose URL starts with :data:`~carecoord.fhir._codes.EXTENSION_BASE` (listed in
:class:`~carecoord.fhir._codes.ExtensionUrl`, shared with the reader), and codes carecoord
defines itself use :data:`~carecoord.fhir._codes.CARECOORD_CODE_SYSTEM_BASE`. Those names
are re-exported here for the writer's callers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable
from typing import Any

from carecoord.domain import (
    Code,
    Identifier,
    MedicationKind,
    PartialDate,
    PatientRecord,
    Period,
    Quantity,
    Ref,
    Sensitivity,
    StatusChange,
    System,
)
from carecoord.errors import InteropError
from carecoord.fhir._codes import (
    DISCIPLINE_SYSTEM,
    EXTENSION_BASE,
    ORGANIZATION_KIND_SYSTEM,
    ORIGIN_SYSTEM,
    REFERRAL_STATUS_SYSTEM,
    SENSITIVITY_TO_CODE,
    CareCodes,
    ExtensionUrl,
    security_coding,
)

__all__ = [
    "DISCIPLINE_SYSTEM",
    "EXTENSION_BASE",
    "FHIR_TYPES",
    "ORGANIZATION_KIND_SYSTEM",
    "ORIGIN_TAG",
    "REFERRAL_STATUS_SYSTEM",
    "ExtensionUrl",
    "FhirExportError",
    "Json",
    "WriteContext",
    "clinical_time",
    "coding",
    "concept",
    "extension",
    "generated_id",
    "instant",
    "is_fhir_id",
    "period",
    "quantity",
    "safe_id",
    "security",
    "status_history",
    "text_or_none",
    "utf8",
]

Json = dict[str, Any]
"""A FHIR JSON object, as the writer builds it."""

ORIGIN_TAG: Json = {"system": ORIGIN_SYSTEM, "code": "carecoord", "display": "Written by carecoord"}
"""The ``meta.tag`` on every resource the writer makes: its elements are literal values of
the model (nothing inferred), so a reader may take them as they are."""


class FhirExportError(InteropError):
    """The model holds something the writer cannot put in valid FHIR.

    Raised for two facts that would become the same FHIR resource (the same type and id,
    for example an encounter and a care transition sharing an id), or an unsupported
    Bundle type. The message names FHIR types and counts, never values.
    """


_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://carecoord.example/fhir")
_MAX_OFFSET = dt.timedelta(hours=14)

FHIR_TYPES: dict[str, str] = {
    "Referral": "ServiceRequest",
    "Order": "ServiceRequest",
    "CareTransition": "Encounter",
    "Result": "Observation",
    "Allergy": "AllergyIntolerance",
    "Enrollment": "EpisodeOfCare",
    "SocialNeed": "Condition",
    "Reconciliation": "List",
    "CoordinationActivity": "Task",
    "Document": "DocumentReference",
}
"""carecoord reference type -> the FHIR resource type the writer makes of it.

``Medication`` becomes ``MedicationRequest`` or ``MedicationStatement`` by the
medication's kind; every other type keeps its name."""


def is_fhir_id(value: str) -> bool:
    """Whether ``value`` is a valid FHIR ``id`` (1-64 of ``A-Z a-z 0-9 - .``)."""
    return bool(_ID_RE.match(value))


def safe_id(value: str) -> str:
    """``value`` when it is a valid FHIR id, else a stable valid stand-in (``id-<hash>``)."""
    return value if is_fhir_id(value) else generated_id("id", value)


def utf8(text: str) -> bytes:
    """``text`` as UTF-8 for hashing; a lone surrogate (which UTF-8 cannot hold) is kept.

    Model strings may hold lone surrogates (from parsed objects given to the reader, or
    built by hand); hashing them must give a stable id, not a ``UnicodeEncodeError``.
    """
    return text.encode("utf-8", "surrogatepass")


def generated_id(prefix: str, *parts: str) -> str:
    """A stable, valid id for a resource the writer adds (``prefix-<16 hex digits>``)."""
    digest = hashlib.sha256(utf8("\x1f".join(parts))).hexdigest()[:16]
    return f"{prefix}-{digest}"


def full_url(source: str, fhir_type: str, ident: str) -> str:
    """The deterministic ``urn:uuid`` fullUrl of a resource of one source.

    ``uuid.uuid5`` of carecoord's namespace and ``source|type|id``, computed on
    :func:`utf8` bytes so that any string has one.
    """
    name = utf8(f"{source}|{fhir_type}|{ident}")
    digest = hashlib.sha1(_NAMESPACE.bytes + name, usedforsecurity=False).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}"


# --------------------------------------------------------------------------- primitives


def instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR ``instant``/``dateTime``, to the microsecond.

    Written with its own UTC offset (``Z`` for UTC); an offset FHIR cannot write (seconds,
    or beyond 14 hours) is converted to UTC first.
    """
    offset = value.utcoffset()
    if offset is None:
        msg = "a naive datetime cannot be written to FHIR"
        raise FhirExportError(msg)
    if offset % dt.timedelta(minutes=1) or abs(offset) > _MAX_OFFSET:
        value, offset = value.astimezone(dt.UTC), dt.timedelta(0)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    if not offset:
        return text + "Z"
    minutes = int(abs(offset).total_seconds()) // 60
    sign = "-" if offset < dt.timedelta(0) else "+"
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def clinical_time(value: dt.datetime | PartialDate) -> str:
    """A clinical time as a FHIR ``dateTime``: an instant, or a date of its precision."""
    if isinstance(value, PartialDate):
        return value.isoformat()
    return instant(value)


def text_or_none(value: str | None) -> str | None:
    """``value`` when it holds a non-blank string (FHIR strings cannot be empty)."""
    return value if value is not None and value.strip() else None


def period(value: Period | None) -> Json | None:
    """A ``Period``, or ``None`` when both ends are open."""
    if value is None or (value.start is None and value.end is None):
        return None
    found: Json = {}
    if value.start is not None:
        found["start"] = instant(value.start)
    if value.end is not None:
        found["end"] = instant(value.end)
    return found


def coding(code: Code) -> Json:
    """A ``Coding`` (system, code, and the display when there is one)."""
    found: Json = {"system": code.system, "code": code.code}
    display = text_or_none(code.display)
    if display is not None:
        found["display"] = display
    return found


def concept(code: Code) -> Json:
    """A ``CodeableConcept`` of one code, then its other codings (``Code.also``), in order.

    A text-only code becomes ``text`` (with the other codings, if it has any).
    """
    others = [coding(other) for other in code.also]
    if code.system == CareCodes.TEXT_ONLY:
        return {"coding": others, "text": code.code} if others else {"text": code.code}
    return {"coding": [coding(code), *others]}


def quantity(value: Quantity) -> Json:
    """A ``Quantity``; a unit is written as a UCUM code."""
    found: Json = {"value": value.value}
    if value.unit is not None:
        found.update({"unit": value.unit, "system": System.UNITS, "code": value.unit})
    return found


def identifier(value: Identifier) -> Json:
    """An ``Identifier``."""
    return {"system": value.system, "value": value.value}


def extension(url: str, **values: Any) -> Json:
    """An extension ``{"url": url, "value<Type>": value}`` from one keyword (``valueCode=...``)."""
    found: Json = {"url": url}
    found.update(values)
    return found


def complex_extension(url: str, parts: Iterable[tuple[str, str, Any]]) -> Json | None:
    """A complex extension from ``(name, value type, value)`` parts; ``None`` values are left out.

    ``None`` when every part is ``None``.
    """
    found = [
        {"url": name, f"value{kind}": value} for name, kind, value in parts if value is not None
    ]
    return {"url": url, "extension": found} if found else None


def security(labels: Iterable[Sensitivity]) -> list[Json]:
    """``meta.security`` codings for sensitivity classes, in code order.

    v3-ActCode codes, and v3-Confidentiality ``R`` for :attr:`Sensitivity.RESTRICTED`.
    """
    ordered = sorted(labels, key=lambda label: SENSITIVITY_TO_CODE[label])
    return [security_coding(label) for label in ordered]


# --------------------------------------------------------------------------- the context


class WriteContext:
    """What the writer of one record needs: its source, its patient, and references.

    References are written ``Type/id``; :func:`~carecoord.fhir._write.write_bundle` turns
    those that point into the Bundle into ``urn:uuid`` fullUrls afterwards.
    """

    def __init__(self, record: PatientRecord) -> None:
        self.record = record
        self.source = record.source.id
        self._medication_kinds: dict[str, MedicationKind] = {
            m.id: m.kind for m in record.medications
        }

    def fhir_type(self, ref: Ref) -> str:
        """The FHIR resource type a carecoord reference points to."""
        if ref.type == "Medication":
            kind = self._medication_kinds.get(ref.id)
            return "MedicationRequest" if kind is MedicationKind.ORDER else "MedicationStatement"
        return FHIR_TYPES.get(ref.type, ref.type)

    def reference(self, ref: Ref, display: str | None = None) -> Json:
        """A FHIR ``Reference`` ``Type/id`` to what ``ref`` names (``display`` added when given).

        An id that is not a valid FHIR id is written as its stand-in (:func:`safe_id`),
        as the resource it names is.
        """
        found: Json = {"reference": f"{self.fhir_type(ref)}/{safe_id(ref.id)}"}
        if display is not None:
            found["display"] = display
        return found

    def patient(self) -> Json:
        """A reference to the record's patient."""
        return self.reference(Ref("Patient", self.record.patient.id))

    def meta(
        self,
        recorded_at: dt.datetime | None = None,
        sensitivity: Iterable[Sensitivity] = (),
        profile: str | None = None,
    ) -> Json:
        """``meta``: the source, ``lastUpdated`` (when the source recorded it), labels, tag."""
        found: Json = {"source": self.source}
        if recorded_at is not None:
            found["lastUpdated"] = instant(recorded_at)
        if profile is not None:
            found["profile"] = [profile]
        labels = security(sensitivity)
        if labels:
            found["security"] = labels
        found["tag"] = [dict(ORIGIN_TAG)]
        return found


def status_history(ctx: WriteContext, history: Iterable[StatusChange]) -> list[Json]:
    """One ``status-history`` extension per status change, in order."""
    found: list[Json] = []
    for change in history:
        parts: list[tuple[str, str, Any]] = [
            ("from", "Code", change.from_status),
            ("to", "Code", change.to_status),
            ("at", "DateTime", instant(change.at)),
            ("by", "Reference", ctx.reference(change.by) if change.by is not None else None),
            ("reason", "String", text_or_none(change.reason)),
        ]
        item = complex_extension(ExtensionUrl.STATUS_HISTORY, parts)
        assert item is not None  # "to" and "at" are always there
        found.append(item)
    return found
