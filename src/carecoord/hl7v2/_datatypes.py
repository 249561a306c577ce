"""HL7 v2 data types read into the model's values.

CWE codes, CX identifiers, XPN names, XAD addresses, XTN telecoms, XCN practitioners and
HD facilities.

Each reader takes one repetition of a field (a :class:`~carecoord.hl7v2.Field` of one
repetition) and returns the model's value, or None when the repetition holds nothing the
model can keep. None of them reports: the mapping decides what is worth an issue.
"""

from __future__ import annotations

import re

from carecoord.domain import (
    Address,
    Code,
    ContactPoint,
    ContactSystem,
    HumanName,
    Identifier,
    System,
)
from carecoord.hl7v2._er7 import Field

__all__ = [
    "CODING_SYSTEMS",
    "IDENTIFIER_BASE",
    "LOCAL_SYSTEM_BASE",
    "V2_TABLE_BASE",
    "address",
    "code",
    "code_system",
    "hd",
    "identifier",
    "identifier_system",
    "name",
    "practitioner_key",
    "telecom",
]

V2_TABLE_BASE = "http://terminology.hl7.org/CodeSystem/v2-"
"""HL7's code system URL for the v2 table ``nnnn`` is this plus the four digits."""

LOCAL_SYSTEM_BASE = "urn:carecoord:hl7v2:code-system:"
"""The system given to codes of a local or unnamed coding system: this plus its name."""

IDENTIFIER_BASE = "urn:carecoord:hl7v2:assigner:"
"""The system of an identifier whose assigning authority has no OID: this plus its name."""

CODING_SYSTEMS: dict[str, str] = {
    "LN": System.LOINC,
    "LOINC": System.LOINC,
    "SCT": System.SNOMED,
    "SNM": System.SNOMED,
    "SNOMED": System.SNOMED,
    "SNOMEDCT": System.SNOMED,
    "SNOMED-CT": System.SNOMED,
    "I10": System.ICD10,
    "ICD10": System.ICD10,
    "I10C": System.ICD10CM,
    "ICD10CM": System.ICD10CM,
    "ICD-10-CM": System.ICD10CM,
    "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
    "I9": "http://hl7.org/fhir/sid/icd-9-cm",
    "RXN": System.RXNORM,
    "RXNORM": System.RXNORM,
    "C4": System.CPT,
    "CPT": System.CPT,
    "CPT4": System.CPT,
    "HCPCS": System.HCPCS,
    "HCPT": System.HCPCS,
    "UCUM": System.UNITS,
    "NUBC": System.DISCHARGE_DISPOSITION,
    "NPI": System.NPI,
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "NDC": "http://hl7.org/fhir/sid/ndc",
}
"""HL7 table 0396 coding system names (CWE.3) -> code system URLs. ``HLnnnn`` and
``HL7nnnn`` name HL7 table ``nnnn``; any other name is a local system."""

_HL7_TABLE = re.compile(r"HL7?(\d{4})\Z")
_OID = re.compile(r"[0-2](?:\.\d+)+\Z")


def code_system(name: str) -> str:
    """The URL of a coding system named as HL7 v2 names it (CWE.3, CWE.6)."""
    key = name.strip().upper()
    if key in CODING_SYSTEMS:
        return CODING_SYSTEMS[key]
    table = _HL7_TABLE.match(key)
    if table:
        return V2_TABLE_BASE + table[1]
    if _OID.match(name.strip()):
        return "urn:oid:" + name.strip()
    return LOCAL_SYSTEM_BASE + (name.strip() or "unnamed")


def _texts(field: Field, repetition: int, count: int, start: int = 1) -> list[str]:
    """Components ``start`` .. ``start + count - 1`` of one repetition, stripped.

    The first subcomponent of each (counted from 1), ``""`` where the message has none:
    one read of the field for all of a data type's components.
    """
    reps = field.repetitions
    if repetition < 1 or repetition > len(reps):
        return [""] * count
    found = [c[0].strip() if c else "" for c in reps[repetition - 1][start - 1 : start - 1 + count]]
    if len(found) < count:
        found += [""] * (count - len(found))
    return found


def code(field: Field, *, table: str | None = None, repetition: int = 1) -> Code | None:
    """A CWE/CE/CNE (or a plain ID/IS code) as a :class:`Code`, with its alternate coding.

    ``table`` names the HL7 table to use when the value names no coding system (PV1-36
    is table 0112, for example).
    """
    value, text_value, system_name, alt_value, alt_text, alt_system = _texts(field, repetition, 6)
    text = text_value or None
    alt = None
    if alt_value:
        alt = Code(code_system(alt_system), alt_value, alt_text or None)
    if not value:
        return alt
    if system_name:
        system = code_system(system_name)
    elif table:
        system = V2_TABLE_BASE + table
    else:
        system = LOCAL_SYSTEM_BASE + "unnamed"
    return Code(system, value, text, also=(alt,) if alt is not None and alt.code != value else ())


def hd(field: Field, component: int = 1, repetition: int = 1) -> str:
    """The name of an HD (namespace^universal id^type) starting at ``component``.

    The namespace id, or the universal id when there is no namespace, read from
    subcomponents when the HD is itself a component (CX.4, PL.4).
    """
    if component == 1:
        return field.get(repetition, 1).strip() or field.get(repetition, 2).strip()
    return (
        field.get(repetition, component, 1).strip() or field.get(repetition, component, 2).strip()
    )


def identifier_system(namespace: str, universal: str, universal_type: str, kind: str) -> str:
    """The system of an identifier from its assigning authority (and type, for SSNs)."""
    if kind.upper() in ("SS", "SB") and namespace.upper() in ("", "SSA", "USSSA", "US SSA"):
        return System.SSN
    if universal and (universal_type.upper() == "ISO" or _OID.match(universal)):
        return "urn:oid:" + universal
    if universal and universal_type.upper() in ("URI", "URL"):
        return universal
    if kind.upper() == "NPI" or namespace.upper() == "NPI":
        return System.NPI
    return IDENTIFIER_BASE + (namespace or universal or kind or "unknown")


def identifier(field: Field, repetition: int = 1) -> tuple[Identifier, str] | None:
    """A CX (id^check digit^scheme^authority^type...) as an Identifier and its type code."""
    reps = field.repetitions
    if repetition < 1 or repetition > len(reps):
        return None
    comps = reps[repetition - 1]
    value = comps[0][0].strip() if comps and comps[0] else ""
    if not value:
        return None
    kind = comps[4][0].strip() if len(comps) > 4 and comps[4] else ""
    authority = comps[3] if len(comps) > 3 else ()
    namespace, universal, universal_type = (
        (*(a.strip() for a in authority[:3]), "", "", "")[:3] if authority else ("", "", "")
    )
    system = identifier_system(namespace, universal, universal_type, kind)
    return Identifier(system, value), kind.upper()


_NAME_USE = {
    "L": "official",
    "D": "usual",
    "A": "nickname",
    "M": "maiden",
    "B": "old",
    "C": "old",
    "N": "nickname",
    "P": "usual",
    "T": "temp",
    "TEMP": "temp",
    "S": "anonymous",
    "U": "old",
}


def name(field: Field, repetition: int = 1, *, start: int = 1) -> HumanName | None:
    """An XPN (family^given^middle^suffix^prefix^degree^type) as a :class:`HumanName`.

    ``start`` is the component where the name begins (2 in an XCN, after the id).
    """
    family, first, middle, suffix, prefix, _degree, use_code = _texts(field, repetition, 7, start)
    given = (first, *middle.split()) if first else tuple(middle.split())
    if not family and not given:
        return None
    return HumanName(
        family=family or None,
        given=given,
        prefix=(prefix,) if prefix else (),
        suffix=(suffix,) if suffix else (),
        use=_NAME_USE.get(use_code.upper()),
    )


_ADDRESS_USE = {"H": "home", "M": "home", "C": "temp", "B": "work", "O": "work", "BA": "billing"}


def address(field: Field, repetition: int = 1) -> Address | None:
    """An XAD (street^other^city^state^zip^country^type) as an :class:`Address`."""
    street, other, city, state, postal, country, use_code = _texts(field, repetition, 7)
    lines = tuple(p for p in (street, other) if p)
    if not (lines or city or state or postal or country):
        return None
    return Address(
        lines=lines,
        city=city or None,
        state=state or None,
        postal_code=postal or None,
        country=country or None,
        use=_ADDRESS_USE.get(use_code.upper()),
    )


_TELECOM_SYSTEM = {
    "PH": ContactSystem.PHONE,
    "CP": ContactSystem.PHONE,
    "FX": ContactSystem.FAX,
    "INTERNET": ContactSystem.EMAIL,
    "X.400": ContactSystem.EMAIL,
    "BP": ContactSystem.OTHER,
    "TDD": ContactSystem.OTHER,
    "TTY": ContactSystem.OTHER,
    "MD": ContactSystem.OTHER,
}
_TELECOM_USE = {"PRN": "home", "ORN": "home", "WPN": "work", "VHN": "home", "ASN": "temp"}


def telecom(field: Field, repetition: int = 1, *, use: str | None = None) -> ContactPoint | None:
    """An XTN as a :class:`ContactPoint`.

    The e-mail (XTN.4), the unformatted number (XTN.12), the number from its parts, or
    the number as written (XTN.1).
    """
    parts = _texts(field, repetition, 12)
    equipment = parts[2].upper()
    system = _TELECOM_SYSTEM.get(equipment, ContactSystem.PHONE)
    email = parts[3]
    if email and (equipment in ("INTERNET", "X.400") or "@" in email):
        value, system = email, ContactSystem.EMAIL
    else:
        value = parts[11] or parts[4] + parts[5] + parts[6] or parts[0]
    if not value:
        return None
    return ContactPoint(system=system, value=value, use=_TELECOM_USE.get(parts[1].upper(), use))


def practitioner_key(field: Field, repetition: int = 1) -> str | None:
    """The id of a practitioner named in an XCN: its id number, else None."""
    value = field.get(repetition, 1).strip()
    return value or None
