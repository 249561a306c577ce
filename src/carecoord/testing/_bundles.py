"""FHIR R4 input for tests: the builders' records written as Bundles, as dicts or files."""

from __future__ import annotations

import json
from pathlib import Path

from carecoord.domain import PatientRecord
from carecoord.errors import UsageError
from carecoord.fhir import write_bundle
from carecoord.profile import PatientProfile
from carecoord.testing._builders import (
    make_encounter,
    make_order,
    make_record,
    make_referral,
    make_result,
    make_task,
)

__all__ = ["FhirBundles", "default_bundle_record"]


def default_bundle_record() -> PatientRecord:
    """The builders' patient with what a coordination app consumes from FHIR.

    An office visit (Encounter), a cardiology referral (ServiceRequest), a task, an HbA1c
    order (ServiceRequest) and its result (Observation), all in ``clinic-ehr``.
    """
    return make_record(
        encounters=(make_encounter(),),
        referrals=(make_referral(),),
        tasks=(make_task(),),
        orders=(make_order(),),
        results=(make_result(),),
    )


class FhirBundles:
    """A factory of FHIR R4 Bundles (JSON objects) from records or profiles.

    ``bundles()`` is a Bundle of :func:`default_bundle_record`; ``bundles(record, ...)``
    one of the records given (written by :func:`carecoord.fhir.write_bundle`, so
    :func:`carecoord.fhir.read` reads them back with no error issue).
    ``bundles.file(...)`` writes the Bundle as a JSON file in ``folder`` and returns its
    path, for code (or the CLI) that reads files. The pytest fixture
    ``carecoord_fhir_bundle`` is one of these, writing into the test's ``tmp_path``.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._count = 0

    def __repr__(self) -> str:
        return f"FhirBundles(files written: {self._count})"

    def __call__(
        self,
        *records: PatientRecord | PatientProfile,
        bundle_type: str = "collection",
    ) -> dict[str, object]:
        """A Bundle of ``records`` (default: :func:`default_bundle_record`)."""
        return write_bundle(records or (default_bundle_record(),), bundle_type=bundle_type)

    def file(
        self,
        *records: PatientRecord | PatientProfile,
        name: str | None = None,
        bundle_type: str = "collection",
    ) -> Path:
        """Write the Bundle of ``records`` to ``folder/name`` (default ``bundle-N.json``)."""
        if self.folder is None:
            raise UsageError("FhirBundles.file() needs a folder: FhirBundles(folder=tmp_path)")
        self._count += 1
        path = Path(self.folder) / (name or f"bundle-{self._count}.json")
        bundle = self(*records, bundle_type=bundle_type)
        path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
        return path
