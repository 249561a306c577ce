"""Synthetic FHIR JSON for the reader's tests (no tests here: shared helpers only).

Every resource describes the same synthetic person as ``carecoord.testing`` (nobody real),
around the fixed instant ``AS_OF``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carecoord.domain import PatientRecord
from carecoord.fhir._read import ImportResult, read
from carecoord.testing import AS_OF, PATIENT_ID, days_before

__all__ = [
    "BASE",
    "NOW",
    "SUBJECT",
    "bundle",
    "iso",
    "only_record",
    "organization",
    "patient",
    "practitioner",
    "read_bundle",
    "ref",
    "when",
]

BASE = "http://fhir.example.org/r4"
"""The server base of every synthetic resource's fullUrl."""

SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
"""A reference to the synthetic patient."""


def iso(value: dt.datetime) -> str:
    """A FHIR dateTime for an aware datetime."""
    return value.isoformat()


def ref(kind: str, ident: str) -> dict[str, str]:
    """A relative FHIR Reference."""
    return {"reference": f"{kind}/{ident}"}


def patient(**extra: Any) -> dict[str, Any]:
    """A synthetic Patient resource (``extra`` replaces or adds elements)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "urn:example:clinic-mrn",
                "value": "MRN-0001",
            }
        ],
        "name": [{"family": "Testperson", "given": ["Alex"]}],
        "gender": "female",
        "birthDate": "1960-04",
    }
    resource.update(extra)
    return resource


def practitioner(ident: str = "pcp-1", **extra: Any) -> dict[str, Any]:
    """A synthetic Practitioner."""
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": ident,
        "name": [{"family": "Doctor", "given": ["Sam"]}],
    }
    resource.update(extra)
    return resource


def organization(ident: str = "clinic-1", **extra: Any) -> dict[str, Any]:
    """A synthetic Organization."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": ident,
        "name": "Synthetic Clinic",
    }
    resource.update(extra)
    return resource


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    """A Bundle of ``resources`` with RESTful fullUrls."""
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r.get('id', n)}", "resource": r}
            for n, r in enumerate(resources)
        ],
    }


def read_bundle(*resources: dict[str, Any], **options: Any) -> ImportResult:
    """Read the synthetic patient plus ``resources`` as one Bundle."""
    return read(bundle(patient(), *resources), **options)


def only_record(*resources: dict[str, Any], **options: Any) -> PatientRecord:
    """The one record read from the patient plus ``resources``."""
    result = read_bundle(*resources, **options)
    assert len(result.records) == 1, result.issues
    return result.records[0]


def when(days: float) -> str:
    """``days`` before AS_OF, as a FHIR dateTime."""
    return iso(days_before(days))


NOW = iso(AS_OF)
"""AS_OF as a FHIR dateTime."""
