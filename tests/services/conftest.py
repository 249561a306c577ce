"""Fixtures for the coordinator tests: the demo data read once."""

from __future__ import annotations

import json

import pytest

from carecoord import fhir
from carecoord.demo_data import demo_files
from carecoord.domain import PatientRecord


@pytest.fixture(scope="session")
def demo_records() -> tuple[PatientRecord, ...]:
    """The demo data set's records, read once per session."""
    documents = [json.loads(item.read_bytes()) for item in demo_files()]
    return tuple(fhir.read(documents).records)
