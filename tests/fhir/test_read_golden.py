"""Golden output: the Synthea import and its profiles, byte for byte.

The hashes below are of the canonical JSON (``carecoord.serialization.dumps``, which is
deterministic: tested across hash seeds) of every record read from the shared
``synthea-smart-r4`` folder, and of every profile built from them. They were computed
before the reader and the merge were optimised, and pin that the optimisations changed
nothing. A deliberate change to the mapping, the merge or the document format changes
them: check the new output, then update the hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest

from carecoord import build_profiles
from carecoord.fhir._read import ImportResult, read
from carecoord.serialization import dumps

from ._shared import shared_data_dir

RECORDS_SHA256 = "f2334d6c5a86521142b4e9dc7dab07816eb30ccb7c8b749d888020a26b4a6e27"
PROFILES_SHA256 = "f88210140107f4ecf70c076c79e1b7470190499705b174ce964471c872e59674"


def digest(models: Iterable[object]) -> str:
    """SHA-256 of the canonical JSON of each model, one per line."""
    found = hashlib.sha256()
    for model in models:
        found.update(dumps(model).encode("utf-8"))
        found.update(b"\n")
    return found.hexdigest()


@pytest.fixture(scope="module")
def synthea() -> ImportResult:
    """The whole Synthea folder, read once for this module."""
    return read(shared_data_dir("synthea-smart-r4"))


class TestSyntheaGolden:
    """The Synthea import gives the same records, issues and profiles as before."""

    def test_records(self, synthea: ImportResult) -> None:
        """The 76 records serialise to the recorded hash."""
        assert len(synthea.records) == 76
        assert digest(synthea.records) == RECORDS_SHA256

    def test_issues(self, synthea: ImportResult) -> None:
        """The only issues are the four unsupported-type warnings, with every skipped one."""
        assert synthea.issue_codes() == {"unsupported-resource": 4}
        assert [(i.path, i.message.split(" ", 2)[:2]) for i in synthea.issues] == [
            ("Bundle.entry[5].resource", ["1704", "Claim"]),
            ("Bundle.entry[6].resource", ["1400", "ExplanationOfBenefit"]),
            ("Bundle.entry[14].resource", ["877", "Immunization"]),
            ("Bundle.entry[102].resource", ["32", "ImagingStudy"]),
        ]

    def test_profiles(self, synthea: ImportResult) -> None:
        """The 76 profiles built from the records serialise to the recorded hash."""
        profiles = build_profiles(synthea.records)
        assert len(profiles) == 76
        assert digest(profiles) == PROFILES_SHA256
