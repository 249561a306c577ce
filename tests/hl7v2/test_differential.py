"""The HL7 v2 reader against Microsoft FHIR-Converter, message by message.

For every shared sample with an expected output, ``hl7v2.read(message)`` and
``fhir.read(expected output)`` must agree on patients, stays (admission, discharge,
disposition, facility), appointments, referrals and results, except for the differences
listed in :data:`KNOWN`, each with its reason (and in ``docs/hl7v2.md``). A difference that
goes away fails too, so the list stays exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fhir._shared import shared_data_dir
from tests.hl7v2._differential import differences

ROOT = Path(__file__).resolve().parents[2]

_ACC = "results: FHIR-Converter makes an injury Observation from the ACC segment"
_FACILITY = "facility: FHIR-Converter leaves Encounter.serviceProvider empty"
_LINKAGE = "patients: FHIR-Converter writes the merge as a Linkage, with no Patient"
_OBR_TIME = (
    "results: an OBR without any time is dated by MSH-7 here, and skipped by the FHIR reader"
)
_A29 = "patients: A29 (delete person) is not applied here"
_I14 = "referrals: I14 cancels the referral here, where FHIR-Converter writes entered-in-error"

KNOWN: dict[str, dict[str, str]] = {
    **{
        name: {"results": _ACC}
        for name in (
            "ADT-A01-01",
            "ADT-A03-01",
            "ADT-A04-01",
            "ADT-A05-01",
            "ADT-A07-01",
            "ADT-A08-01",
            "ADT-A13-01",
            "ADT-A14-01",
            "ADT-A16-01",
            "ADT-A28-01",
            "ADT-A31-01",
        )
    },
    "ADT-A06-01": {"facility": _FACILITY, "results": _ACC},
    **{
        name: {"facility": _FACILITY}
        for name in (
            "ADT-A06-02",
            "ADT-A09-01",
            "ADT-A09-02",
            "ADT-A10-01",
            "ADT-A10-02",
            "ADT01-23",
            "ADT04-251",
            "ADT04-28",
        )
    },
    "ADT-A29-01": {"patients": _A29, "results": _A29},
    "ADT-A29-02": {"patients": _A29},
    **{
        name: {"patients": _LINKAGE}
        for name in (
            "ADT-A40-01",
            "ADT-A41-01",
            "ADT-A41-02",
            "ADT-A45-01",
            "ADT-A45-02",
            "ADT-A47-01",
            "ADT-A47-02",
        )
    },
    "ADT01-28": {
        "transitions": "transitions: no PV1-44, so the event time (EVN-2) is the admission here",
        "facility": (
            "facility: FHIR-Converter's Encounter has no period, so the FHIR reader skips the stay"
        ),
    },
    "REF-I12-01": {"facility": _FACILITY, "results": _ACC},
    "REF-I12-02": {"facility": _FACILITY, "results": _ACC + "; " + _OBR_TIME},
    "REF-I14-01": {
        "facility": _FACILITY,
        "results": _ACC,
        "referrals": _I14,
    },
    "REF-I14-02": {
        "facility": _FACILITY,
        "results": _ACC + "; " + _OBR_TIME,
        "referrals": _I14,
    },
}
"""Message -> aspect -> why the two readings differ."""


def _pairs() -> list[tuple[Path, Path]]:
    folder = shared_data_dir("hl7v2-fhir-converter")
    found = []
    for message in sorted(folder.glob("*.hl7")):
        expected = folder / "expected-fhir" / f"{message.stem}-expected.json"
        if expected.exists():
            found.append((message, expected))
    return found


class TestAgainstFhirConverter:
    """Both readings agree on everything but the listed differences."""

    def test_sixty_nine_pairs(self) -> None:
        """69 of the 71 shared messages have an expected output."""
        assert len(_pairs()) == 69

    def test_every_message(self) -> None:
        """Each message differs exactly in its listed aspects."""
        found = {
            message.stem: sorted(differences(message, expected)) for message, expected in _pairs()
        }
        found = {k: v for k, v in found.items() if v}

        assert found == {k: sorted(v) for k, v in KNOWN.items()}

    @pytest.mark.parametrize("reason", sorted({r for v in KNOWN.values() for r in v.values()}))
    def test_every_reason_is_documented(self, reason: str) -> None:
        """docs/hl7v2.md explains each kind of difference (its text after the aspect)."""
        text = (ROOT / "docs" / "hl7v2.md").read_text(encoding="utf-8")

        for part in reason.split("; "):
            assert part.split(": ", 1)[1] in text
