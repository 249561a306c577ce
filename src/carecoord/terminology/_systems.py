"""Code systems as value sets compare them: one canonical URI per system, normal code text.

FHIR sources and value-set publishers name the same code system in several ways (VSAC
writes HCPCS as ``http://www.nlm.nih.gov/research/umls/hcpcs``, carecoord as
``urn:oid:2.16.840.1.113883.6.285``; CDA-derived data uses OIDs), and write ICD-10-CM
codes with or without the dot. Membership compares the canonical forms.
"""

from __future__ import annotations

from typing import ClassVar

from carecoord.domain import System

__all__ = [
    "ATC",
    "HIERARCHICAL_SYSTEMS",
    "SYSTEM_ALIASES",
    "canonical_system",
    "normal_code",
]

ATC = "http://www.whocc.no/atc"
"""The WHO Anatomical Therapeutic Chemical classification (hierarchical: ``N06A`` is under
``N06``)."""


class _Oid:
    SNOMED: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.96"
    LOINC: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.1"
    RXNORM: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.88"
    ICD10CM: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.90"
    ICD10: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.3"
    CPT: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.12"
    ATC: ClassVar[str] = "urn:oid:2.16.840.1.113883.6.73"


SYSTEM_ALIASES: tuple[tuple[str, str], ...] = (
    (_Oid.SNOMED, System.SNOMED),
    ("http://snomed.info/sct/", System.SNOMED),
    (_Oid.LOINC, System.LOINC),
    ("https://loinc.org", System.LOINC),
    (_Oid.RXNORM, System.RXNORM),
    (_Oid.ICD10CM, System.ICD10CM),
    (System.ICD10, System.ICD10CM),
    (_Oid.ICD10, System.ICD10CM),
    (_Oid.CPT, System.CPT),
    ("http://www.nlm.nih.gov/research/umls/hcpcs", System.HCPCS),
    ("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", System.HCPCS),
    ("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", System.HCPCS),
    (_Oid.ATC, ATC),
)
"""Other names of a code system and the URI value sets compare it under.

ICD-10 (WHO) codes are compared as ICD-10-CM codes, as carecoord's rules always did: the
categories the value sets use (``F32``, ``I50``...) are the same in both.
"""

_CANONICAL = dict(SYSTEM_ALIASES)

HIERARCHICAL_SYSTEMS = frozenset({System.ICD10CM, ATC})
"""Canonical systems whose codes nest by prefix, so a value set may list a category
(:class:`~carecoord.terminology.CodePattern`) rather than every code under it."""

_UPPER = frozenset({System.ICD10CM, System.CPT, System.HCPCS, ATC})


def canonical_system(system: str) -> str:
    """The URI value sets compare ``system`` under (itself when it has no other name)."""
    stripped = system.strip()
    return _CANONICAL.get(stripped, stripped)


def normal_code(system: str, code: str) -> str:
    """``code`` as value sets compare it in canonical ``system``.

    Surrounding spaces are dropped; ICD-10-CM, CPT, HCPCS and ATC codes are upper-cased,
    and ICD-10-CM codes lose their dot (``f32.9`` and ``F329`` are both ``F329``).
    """
    text = code.strip()
    if system in _UPPER:
        text = text.upper()
    if system == System.ICD10CM:
        text = text.replace(".", "")
    return text
