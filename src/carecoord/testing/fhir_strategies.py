"""Hypothesis strategies for FHIR R4 input: the Bundles a care-coordination app consumes.

Where :mod:`carecoord.testing.strategies` draws carecoord's own models, these draw the
JSON that arrives from an EHR: ``Patient``, ``Encounter``, referrals and lab orders
(``ServiceRequest``), results (``Observation``, grouped by a ``DiagnosticReport``), the
``Practitioner`` and ``Organization`` they name, in a ``collection`` Bundle whose
references all resolve (``urn:uuid`` full URLs or ``Type/id``, drawn per Bundle). Every
Bundle drawn is valid FHIR R4 that :func:`carecoord.fhir.read` reads with no error issue;
carecoord's own tests check that property. Names are synthetic, nobody real.

>>> from hypothesis import given
>>> from carecoord.testing.fhir_strategies import fhir_bundles
>>> @given(fhir_bundles())
... def test_my_ingest(bundle):
...     my_app.ingest(bundle)

Needs Hypothesis: ``pip install 'carecoord[testing]'``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs

from carecoord.errors import MissingExtraError

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise MissingExtraError("hypothesis", "testing") from exc

__all__ = [
    "LAB_TESTS",
    "SPECIALTIES",
    "FhirBundleShape",
    "fhir_bundles",
    "fhir_instants",
    "fhir_patients",
]

Json = dict[str, Any]

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"

SPECIALTIES: tuple[tuple[str, str], ...] = (
    ("394579002", "Cardiology"),
    ("394585009", "Obstetrics and gynecology"),
    ("394589003", "Nephrology"),
    ("394591006", "Neurology"),
    ("394587001", "Psychiatry"),
    ("394583002", "Endocrinology"),
)
"""SNOMED CT specialties a drawn referral asks for (code, display)."""

LAB_TESTS: tuple[tuple[str, str, str], ...] = (
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL"),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL"),
)
"""LOINC lab tests a drawn order and its results are about (code, display, UCUM unit)."""

_FAMILY = ("Testperson", "Sampleton", "Exampleby", "Fakename", "Mockwell", "Placeholder")
_GIVEN = ("Alex", "Sam", "Robin", "Kim", "Jo", "Noor")
_OFFSETS = (0, -5 * 60, -4 * 60, -8 * 60, 60, 5 * 60 + 30)
_EARLIEST = dt.datetime(2018, 1, 1)  # noqa: DTZ001 - a bound for drawing, given a zone below
_LATEST = dt.datetime(2026, 6, 30)  # noqa: DTZ001


@attrs.frozen
class FhirBundleShape:
    """How many of each resource a drawn Bundle holds, at most (each drawn from 0).

    ``patients`` is the number of patients (at least 1); the others are per patient.
    """

    patients: int = 2
    encounters: int = 3
    referrals: int = 2
    orders: int = 2
    results_per_order: int = 3


def fhir_instants(
    *, after: dt.datetime | None = None, days: int = 60
) -> st.SearchStrategy[dt.datetime]:
    """Aware instants to the second, in a few fixed offsets (2018 to mid-2026).

    With ``after``, an instant from ``after`` to ``days`` days later.
    """
    zones = st.sampled_from([dt.timezone(dt.timedelta(minutes=m)) for m in _OFFSETS])
    if after is None:
        naive = st.datetimes(min_value=_EARLIEST, max_value=_LATEST)
        return st.builds(lambda d, z: d.replace(microsecond=0, tzinfo=z), naive, zones)
    seconds = st.integers(min_value=0, max_value=days * 86_400)
    return st.builds(
        lambda s, z: (after + dt.timedelta(seconds=s)).astimezone(z).replace(microsecond=0),
        seconds,
        zones,
    )


def _stamp(instant: dt.datetime) -> str:
    return instant.isoformat(timespec="seconds")


def _coding(system: str, code: str, display: str | None = None) -> Json:
    coding: Json = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


@st.composite
def fhir_patients(draw: st.DrawFn, patient_id: str | None = None) -> Json:
    """A ``Patient`` with an MRN, a synthetic name, a gender and a birth date."""
    pid = patient_id or f"pat-{draw(st.integers(min_value=1, max_value=10**9))}"
    born = draw(st.dates(min_value=dt.date(1925, 1, 1), max_value=dt.date(2017, 12, 31)))
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {
                "system": "urn:example:mrn",
                "value": f"MRN-{draw(st.integers(min_value=1, max_value=10**8)):08d}",
            }
        ],
        "name": [
            {"family": draw(st.sampled_from(_FAMILY)), "given": [draw(st.sampled_from(_GIVEN))]}
        ],
        "gender": draw(st.sampled_from(("female", "male", "other", "unknown"))),
        "birthDate": born.isoformat(),
    }


class _Bundle:
    """The entries of a Bundle being drawn, and how its references are written."""

    def __init__(self, draw: st.DrawFn, *, urn: bool) -> None:
        self.draw, self.urn = draw, urn
        self.entries: list[Json] = []
        self._n = 0
        self._urls: dict[tuple[str, str], str] = {}

    def next_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def add(self, resource: Json) -> Json:
        key = (resource["resourceType"], resource["id"])
        if self.urn:
            seed = self.draw(st.integers(min_value=0, max_value=2**64 - 1))
            url = f"urn:uuid:{uuid.UUID(int=(seed << 32 | self._n) % 2**128, version=4)}"
        else:
            url = f"https://ehr.example.org/fhir/{key[0]}/{key[1]}"
        self._urls[key] = url
        self.entries.append({"fullUrl": url, "resource": resource})
        return resource

    def ref(self, resource: Json) -> Json:
        key = (resource["resourceType"], resource["id"])
        return {"reference": self._urls[key] if self.urn else f"{key[0]}/{key[1]}"}


@st.composite
def fhir_bundles(
    draw: st.DrawFn,
    shape: FhirBundleShape | None = None,
) -> Json:
    """A ``collection`` Bundle of FHIR R4 patients and what a coordination app reads.

    For each patient (1 to ``shape.patients``): ambulatory or virtual encounters with a
    practitioner and the organisation; referrals (``ServiceRequest`` with the SNOMED
    "patient referral" category, a specialty, a requester and a performer) in
    ``draft``, ``active``, ``completed`` or ``revoked``; lab orders (``ServiceRequest``,
    SNOMED "laboratory procedure") with final ``Observation`` results that cite them
    (``basedOn``), issued after they were ordered, and a ``DiagnosticReport`` grouping
    them. Every reference resolves inside the Bundle.
    """
    shape = shape or FhirBundleShape()
    bundle = _Bundle(draw, urn=draw(st.booleans()))
    organization = bundle.add(
        {
            "resourceType": "Organization",
            "id": bundle.next_id("org"),
            "name": "Synthetic Health Clinic",
        }
    )
    practitioners = [
        bundle.add(
            {
                "resourceType": "Practitioner",
                "id": bundle.next_id("prac"),
                "name": [{"family": draw(st.sampled_from(_FAMILY)), "prefix": ["Dr."]}],
            }
        )
        for _ in range(draw(st.integers(min_value=1, max_value=3)))
    ]
    for _ in range(draw(st.integers(min_value=1, max_value=max(1, shape.patients)))):
        patient = bundle.add(draw(fhir_patients(bundle.next_id("pat"))))
        subject = bundle.ref(patient)
        _encounters(
            draw, bundle, shape, subject, practitioners=practitioners, organization=organization
        )
        _referrals(draw, bundle, shape, subject, practitioners)
        _lab_orders(draw, bundle, shape, subject, practitioners)
    return {"resourceType": "Bundle", "type": "collection", "entry": bundle.entries}


def _encounters(
    draw: st.DrawFn,
    bundle: _Bundle,
    shape: FhirBundleShape,
    subject: Json,
    *,
    practitioners: list[Json],
    organization: Json,
) -> None:
    for _ in range(draw(st.integers(min_value=0, max_value=shape.encounters))):
        start = draw(fhir_instants())
        end = start + dt.timedelta(minutes=draw(st.integers(min_value=10, max_value=90)))
        klass = draw(st.sampled_from((("AMB", "ambulatory"), ("VR", "virtual"))))
        bundle.add(
            {
                "resourceType": "Encounter",
                "id": bundle.next_id("enc"),
                "status": "finished",
                "class": _coding(V3_ACT_CODE, *klass),
                "subject": subject,
                "period": {"start": _stamp(start), "end": _stamp(end)},
                "participant": [{"individual": bundle.ref(draw(st.sampled_from(practitioners)))}],
                "serviceProvider": bundle.ref(organization),
            }
        )


def _referrals(
    draw: st.DrawFn,
    bundle: _Bundle,
    shape: FhirBundleShape,
    subject: Json,
    practitioners: list[Json],
) -> None:
    for _ in range(draw(st.integers(min_value=0, max_value=shape.referrals))):
        code, display = draw(st.sampled_from(SPECIALTIES))
        authored = draw(fhir_instants())
        referral: Json = {
            "resourceType": "ServiceRequest",
            "id": bundle.next_id("ref"),
            "status": draw(st.sampled_from(("draft", "active", "completed", "revoked"))),
            "intent": "order",
            "category": [{"coding": [_coding(SNOMED, "3457005", "Patient referral")]}],
            "code": {"coding": [_coding(SNOMED, code, display)]},
            "priority": draw(st.sampled_from(("routine", "urgent"))),
            "subject": subject,
            "authoredOn": _stamp(authored),
            "requester": bundle.ref(draw(st.sampled_from(practitioners))),
            "performer": [bundle.ref(draw(st.sampled_from(practitioners)))],
        }
        bundle.add(referral)


def _lab_orders(
    draw: st.DrawFn,
    bundle: _Bundle,
    shape: FhirBundleShape,
    subject: Json,
    practitioners: list[Json],
) -> None:
    for _ in range(draw(st.integers(min_value=0, max_value=shape.orders))):
        code, display, unit = draw(st.sampled_from(LAB_TESTS))
        authored = draw(fhir_instants())
        order = bundle.add(
            {
                "resourceType": "ServiceRequest",
                "id": bundle.next_id("ord"),
                "status": "active",
                "intent": "order",
                "category": [{"coding": [_coding(SNOMED, "108252007", "Laboratory procedure")]}],
                "code": {"coding": [_coding(LOINC, code, display)]},
                "subject": subject,
                "authoredOn": _stamp(authored),
                "requester": bundle.ref(draw(st.sampled_from(practitioners))),
            }
        )
        observations: list[Json] = []
        issued_at: list[dt.datetime] = []
        for _ in range(draw(st.integers(min_value=0, max_value=shape.results_per_order))):
            taken = draw(fhir_instants(after=authored, days=14))
            issued = draw(fhir_instants(after=taken, days=3))
            issued_at.append(issued)
            value = draw(st.decimals(min_value=0, max_value=400, places=1, allow_nan=False))
            observations.append(
                bundle.add(
                    {
                        "resourceType": "Observation",
                        "id": bundle.next_id("obs"),
                        "status": "final",
                        "category": [
                            {"coding": [_coding(OBSERVATION_CATEGORY, "laboratory", "Laboratory")]}
                        ],
                        "code": {"coding": [_coding(LOINC, code, display)]},
                        "subject": subject,
                        "effectiveDateTime": _stamp(taken),
                        "issued": _stamp(issued),
                        "valueQuantity": {
                            "value": float(value),
                            "unit": unit,
                            "system": UCUM,
                            "code": unit,
                        },
                        "basedOn": [bundle.ref(order)],
                    }
                )
            )
        if observations:
            latest = _stamp(max(issued_at))
            bundle.add(
                {
                    "resourceType": "DiagnosticReport",
                    "id": bundle.next_id("rep"),
                    "status": "final",
                    "category": [{"coding": [_coding(V2_0074, "LAB", "Laboratory")]}],
                    "code": {"coding": [_coding(LOINC, code, display)]},
                    "subject": subject,
                    "effectiveDateTime": observations[0]["effectiveDateTime"],
                    "issued": latest,
                    "basedOn": [bundle.ref(order)],
                    "result": [bundle.ref(o) for o in observations],
                }
            )
