"""The gaps of many patients as one FHIR collection Bundle (what ``carecoord gaps`` writes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from carecoord.domain import PatientRecord
from carecoord.fhir._usage import checked_items, checked_one
from carecoord.fhir._write import FhirExportError, write_bundle

if TYPE_CHECKING:
    from carecoord.profile import PatientProfile
    from carecoord.rules import GapReport

__all__ = ["write_gaps_bundle"]


def write_gaps_bundle(
    profiles: Iterable[PatientProfile], reports: Iterable[GapReport], *, timestamp: dt.datetime
) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle of the gaps in ``reports``, patient by patient.

    For each report with gaps, in order: the ``Patient`` of the record its profile's id
    names (its demographics only, no facts), then one Da Vinci DEQM ``DetectedIssue`` per
    gap, as :func:`write_bundle` writes them (evidence by fact key, as logical
    references, since the facts are not in the Bundle). A report is matched to its profile
    by id (:attr:`GapReport.patient <carecoord.rules.GapReport.patient>` is the profile
    id, as :func:`~carecoord.rules.detect_gaps_population` makes them). ``timestamp``
    (the evaluation instant, usually ``as_of``) is the Bundle's ``timestamp``.

    Raises:
        FhirExportError: a naive ``timestamp``, or a report with gaps whose profile is not
            in ``profiles``.
        UsageError: a profile, report or ``timestamp`` of the wrong type.
    """
    from carecoord.profile import PatientProfile  # noqa: PLC0415 - the classes, at run time
    from carecoord.rules import GapReport  # noqa: PLC0415

    if checked_one(timestamp, dt.datetime, "timestamp").utcoffset() is None:
        msg = "timestamp must be an aware datetime"
        raise FhirExportError(msg)
    by_id = {profile.id: profile for profile in checked_items(profiles, PatientProfile, "profiles")}
    entries: list[Any] = []
    for report in checked_items(reports, GapReport, "reports"):
        if not report.gaps:
            continue
        profile = by_id.get(report.patient)
        if profile is None:
            msg = "a gap report names a profile that is not given"
            raise FhirExportError(msg)
        anchor = next(
            (r for r in profile.records if f"{r.source.id}/{r.patient.id}" == profile.id),
            profile.records[0],
        )
        patient_only = PatientRecord(source=anchor.source, patient=anchor.patient)
        entries.extend(write_bundle([patient_only], gaps=report).get("entry", ()))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp.isoformat(),
    }
    if entries:
        bundle["entry"] = entries
    return bundle
