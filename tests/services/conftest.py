"""Fixtures for the coordinator tests: the demo data read once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from carecoord import fhir
from carecoord.demo_data import demo_files
from carecoord.domain import PatientRecord
from carecoord.ports import Store
from carecoord.stores import MemoryStore, SQLiteStore


@pytest.fixture(scope="session")
def demo_records() -> tuple[PatientRecord, ...]:
    """The demo data set's records, read once per session."""
    documents = [json.loads(item.read_bytes()) for item in demo_files()]
    return tuple(fhir.read(documents).records)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store the coordinator is tested on: in memory and in a SQLite file."""
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "cc.db")
    yield made
    made.close()
