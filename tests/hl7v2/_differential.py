"""What the HL7 v2 reader and the FHIR reader (over FHIR-Converter's output) each make of a message.

Both sides are reduced to the same plain summary: patients (sex, birth date), stays
(kind, admission, discharge, disposition, facility present), appointments (status, start,
end), referrals (status, authored, priority) and results (their codes). Instants are
compared as instants (UTC), whatever offset each side wrote them with.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from carecoord import fhir, hl7v2
from carecoord.domain import PatientRecord

__all__ = ["ASPECTS", "differences", "summary"]

ASPECTS = ("patients", "transitions", "facility", "appointments", "referrals", "results")


def _utc(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def summary(records: tuple[PatientRecord, ...]) -> dict[str, Any]:
    """The comparable summary of what a read made."""
    return {
        "patients": sorted((r.patient.sex.value, str(r.patient.birth_date)) for r in records),
        "transitions": sorted(
            (
                t.kind.value,
                _utc(t.admitted_at),
                _utc(t.discharged_at),
                t.to_setting.value,
                t.discharge_disposition.code if t.discharge_disposition else None,
            )
            for r in records
            for t in r.transitions
        ),
        "facility": sorted(t.facility is not None for r in records for t in r.transitions),
        "appointments": sorted(
            (a.status.value, _utc(a.start), _utc(a.end)) for r in records for a in r.appointments
        ),
        "referrals": sorted(
            (f.status.value, _utc(f.authored_on), f.priority.value)
            for r in records
            for f in r.referrals
        ),
        "results": sorted({(x.code.system, x.code.code) for r in records for x in r.results}),
    }


def differences(message: Path, expected: Path) -> dict[str, tuple[Any, Any]]:
    """Aspect -> (HL7 v2 reading, FHIR-Converter reading) for each aspect they disagree on."""
    ours = summary(hl7v2.read(message, default_tz=dt.UTC).records)
    theirs = summary(fhir.read(expected, default_tz=dt.UTC).records)
    return {k: (ours[k], theirs[k]) for k in ASPECTS if ours[k] != theirs[k]}
