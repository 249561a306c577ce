"""Writing parties: Patient, Practitioner (with a PractitionerRole), Organization."""

from __future__ import annotations

from carecoord.domain import (
    Address,
    ContactPoint,
    Discipline,
    HumanName,
    LinkKind,
    Organization,
    OrganizationKind,
    Patient,
    Practitioner,
    Ref,
    RelatedPerson,
)
from carecoord.fhir._codes import DISCIPLINE_SYSTEM, ORGANIZATION_KIND_SYSTEM, CareCodes
from carecoord.fhir._write_base import (
    ExtensionUrl,
    FhirExportError,
    Json,
    WriteContext,
    clinical_time,
    complex_extension,
    concept,
    extension,
    generated_id,
    identifier,
    instant,
    period,
    text_or_none,
)

__all__ = [
    "ORGANIZATION_KIND_TO_TYPE",
    "write_organization",
    "write_patient",
    "write_practitioner",
    "write_related_person",
]

ORGANIZATION_KIND_TO_TYPE: dict[OrganizationKind, str] = {
    OrganizationKind.HOSPITAL: "prov",
    OrganizationKind.PRACTICE: "prov",
    OrganizationKind.PAYER: "pay",
    OrganizationKind.COMMUNITY: "cg",
    OrganizationKind.PHARMACY: "prov",
    OrganizationKind.LABORATORY: "prov",
    OrganizationKind.SKILLED_NURSING: "prov",
    OrganizationKind.OTHER: "other",
}
""":class:`OrganizationKind` -> HL7 ``organization-type`` code (every care provider is
``prov``; the exact kind travels in a carecoord coding beside it)."""

_BCP47 = "urn:ietf:bcp:47"


def _name(name: HumanName) -> Json:
    found: Json = {}
    if name.use is not None:
        found["use"] = name.use
    family = text_or_none(name.family)
    if family is not None:
        found["family"] = family
    for key, parts in (("given", name.given), ("prefix", name.prefix), ("suffix", name.suffix)):
        kept = [p for p in parts if text_or_none(p) is not None]
        if kept:
            found[key] = kept
    return found


def _telecom(point: ContactPoint) -> Json:
    found: Json = {"system": point.system.value, "value": point.value}
    if point.use is not None:
        found["use"] = point.use
    return found


def _address(address: Address) -> Json:
    found: Json = {}
    if address.use is not None:
        found["use"] = address.use
    lines = [line for line in address.lines if text_or_none(line) is not None]
    if lines:
        found["line"] = lines
    for key, value in (
        ("city", address.city),
        ("state", address.state),
        ("postalCode", address.postal_code),
        ("country", address.country),
    ):
        if text_or_none(value) is not None:
            found[key] = value
    return found


def write_patient(ctx: WriteContext, patient: Patient) -> Json:
    """A ``Patient``, with the record's source on its ``meta``."""
    resource: Json = {"resourceType": "Patient", "id": patient.id}
    meta = ctx.meta()
    source = ctx.record.source
    described = complex_extension(
        ExtensionUrl.SOURCE,
        [
            ("name", "String", text_or_none(source.name)),
            ("kind", "Code", source.kind.value),
            (
                "retrievedAt",
                "DateTime",
                instant(source.retrieved_at) if source.retrieved_at is not None else None,
            ),
        ],
    )
    if described is not None:
        meta["extension"] = [described]
    resource["meta"] = meta
    if patient.timezone is not None:
        resource["extension"] = [
            extension(CareCodes.TIMEZONE_EXTENSION, valueCode=patient.timezone)
        ]
    if patient.identifiers:
        resource["identifier"] = [identifier(i) for i in patient.identifiers]
    if patient.names:
        resource["name"] = [_name(n) for n in patient.names]
    if patient.telecom:
        resource["telecom"] = [_telecom(t) for t in patient.telecom]
    resource["gender"] = patient.sex.value
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    if patient.deceased_at is not None:
        resource["deceasedDateTime"] = clinical_time(patient.deceased_at)
    elif patient.deceased:
        resource["deceasedBoolean"] = True
    if patient.addresses:
        resource["address"] = [_address(a) for a in patient.addresses]
    if patient.language is not None:
        resource["communication"] = [
            {
                "language": {"coding": [{"system": _BCP47, "code": patient.language}]},
                "preferred": True,
            }
        ]
    if patient.general_practitioner:
        resource["generalPractitioner"] = [ctx.reference(r) for r in patient.general_practitioner]
    links: list[Json] = []
    for link in patient.links:
        other: object = link.other_id  # not validated by PatientLink
        if not isinstance(other, str) or not other.strip():
            msg = "a patient link names no patient (its other_id is blank)"
            raise FhirExportError(msg)
        item: Json = {
            "other": ctx.reference(Ref("Patient", link.other_id)),
            "type": "seealso",
        }
        described_link = complex_extension(
            ExtensionUrl.LINK,
            [("kind", "Code", link.kind.value), ("source", "String", link.other_source)],
        )
        if link.kind is not LinkKind.SAME_PERSON or link.other_source is not None:
            item["extension"] = [described_link]
        links.append(item)
    if links:
        resource["link"] = links
    return resource


def _discipline(discipline: Discipline) -> Json:
    return {"coding": [{"system": DISCIPLINE_SYSTEM, "code": discipline.value}]}


def write_practitioner(ctx: WriteContext, practitioner: Practitioner) -> list[Json]:
    """A ``Practitioner``, and a ``PractitionerRole`` for its discipline, specialty and employer.

    The role's id is generated from the practitioner's; it is written only when the
    practitioner has a discipline other than ``other``, a specialty or an organisation.
    """
    resource: Json = {
        "resourceType": "Practitioner",
        "id": practitioner.id,
        "meta": ctx.meta(),
    }
    if practitioner.identifiers:
        resource["identifier"] = [identifier(i) for i in practitioner.identifiers]
    if practitioner.names:
        resource["name"] = [_name(n) for n in practitioner.names]
    if practitioner.telecom:
        resource["telecom"] = [_telecom(t) for t in practitioner.telecom]
    found = [resource]
    if (
        practitioner.discipline is Discipline.OTHER
        and practitioner.specialty is None
        and practitioner.organization is None
    ):
        return found
    role: Json = {
        "resourceType": "PractitionerRole",
        "id": role_id(practitioner),
        "meta": ctx.meta(),
        "practitioner": ctx.reference(practitioner.ref),
    }
    if practitioner.organization is not None:
        role["organization"] = ctx.reference(Ref("Organization", practitioner.organization))
    if practitioner.discipline is not Discipline.OTHER:
        role["code"] = [_discipline(practitioner.discipline)]
    if practitioner.specialty is not None:
        role["specialty"] = [concept(practitioner.specialty)]
    found.append(role)
    return found


def role_id(practitioner: Practitioner) -> str:
    """The id of the PractitionerRole written for ``practitioner``."""
    return generated_id("role", practitioner.id)


def write_organization(ctx: WriteContext, organization: Organization) -> Json:
    """An ``Organization``: HL7 type, and carecoord kind and discipline codings."""
    resource: Json = {
        "resourceType": "Organization",
        "id": organization.id,
        "meta": ctx.meta(),
    }
    if organization.timezone is not None:
        resource["extension"] = [
            extension(CareCodes.TIMEZONE_EXTENSION, valueCode=organization.timezone)
        ]
    if organization.identifiers:
        resource["identifier"] = [identifier(i) for i in organization.identifiers]
    codings: list[Json] = [
        {
            "system": CareCodes.ORGANIZATION_TYPE,
            "code": ORGANIZATION_KIND_TO_TYPE[organization.kind],
        },
        {"system": ORGANIZATION_KIND_SYSTEM, "code": organization.kind.value},
    ]
    types: list[Json] = [{"coding": codings}]
    if organization.discipline is not Discipline.OTHER:
        types.append(_discipline(organization.discipline))
    resource["type"] = types
    name = text_or_none(organization.name)
    if name is not None:
        resource["name"] = name
    if organization.part_of is not None:
        resource["partOf"] = ctx.reference(Ref("Organization", organization.part_of))
    return resource


def write_related_person(ctx: WriteContext, person: RelatedPerson) -> Json:
    """A ``RelatedPerson`` of the record's patient.

    ``active``, ``patient``, ``relationship`` (each code with its other codings), names,
    telecom and ``period``; a stated representative has carecoord's
    ``personal-representative`` extension.
    """
    resource: Json = {"resourceType": "RelatedPerson", "id": person.id, "meta": ctx.meta()}
    if person.representative:
        resource["extension"] = [extension(ExtensionUrl.REPRESENTATIVE, valueBoolean=True)]
    resource["active"] = person.active
    resource["patient"] = ctx.patient()
    if person.relationships:
        resource["relationship"] = [concept(c) for c in person.relationships]
    if person.names:
        resource["name"] = [_name(n) for n in person.names]
    if person.telecom:
        resource["telecom"] = [_telecom(t) for t in person.telecom]
    span = period(person.period)
    if span is not None:
        resource["period"] = span
    return resource
