"""``carecoord.dask``: the population pipeline on a local Dask cluster equals one machine."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carecoord import fhir
from carecoord.dask import local_tables, run_population
from carecoord.errors import UsageError
from carecoord.profile import MatchConfig
from carecoord.testing import (
    generate_population,
    make_condition,
    make_patient,
    make_record,
    write_bulk_export,
)

_HAVE_DASK = all(importlib.util.find_spec(m) for m in ("dask", "distributed", "pyarrow"))
if not _HAVE_DASK and os.environ.get("CI"):  # CI installs the test group: dask is there
    pytest.fail("the dask extra is missing in CI", pytrace=False)
pytestmark = pytest.mark.skipif(
    not _HAVE_DASK, reason="the dask extra is not installed (pip install 'carecoord[dask]')"
)

AS_OF = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A local cluster of three in-process workers (kept to seconds)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=3, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated population (with twins, households, typos) plus linked records."""
    folder = tmp_path_factory.mktemp("export")
    population = generate_population(120, seed=11, with_facts=True)
    extra = [
        make_record(
            patient=make_patient(id=f"x-{n}"),
            conditions=(make_condition(patient=f"x-{n}"),),
        )
        for n in range(2)
    ]
    write_bulk_export([*population.records, *extra], folder)
    return folder


def test_cluster_equals_one_machine(client: Any, export: Path, tmp_path: Path) -> None:
    """Gap, profile and review tables, issues and counts equal ``fhir.read`` + ``local_tables``.

    Small blocks make several scan tasks per file; the tables are written as Parquet.
    """
    import pyarrow.parquet as pq

    run = run_population(
        export, as_of=AS_OF, client=client, output=tmp_path / "out", block_bytes=20_000
    )
    full = fhir.read(export)
    gaps, members, review = local_tables(full.records, as_of=AS_OF)
    assert list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
    assert sorted(map(str, run.members)) == sorted(map(str, members))
    assert sorted(map(str, run.review)) == sorted(map(str, review))
    assert sorted(map(str, run.issues)) == sorted(map(str, full.issues))
    assert dict(run.counts) == dict(full.counts)
    assert run.records == len(full.records)
    assert run.profiles < run.records  # people in several sources were linked
    assert run.review  # the population has pairs to review
    assert pq.read_table(run.paths["gaps"]).num_rows == len(run.gaps)
    assert pq.read_table(run.paths["members"]).num_rows == run.records
    assert pq.read_table(run.paths["review"]).num_rows == len(run.review)


HARD = MatchConfig(term_frequency_min_records=50, max_block_size=4)
"""Term frequencies from 50 records and blocks split above 4: both bite at test size."""


@pytest.fixture(scope="module")
def hard_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nickname twins and namesakes, with blocks that overflow ``HARD.max_block_size``."""
    folder = tmp_path_factory.mktemp("hard")
    population = generate_population(
        150, seed=5, with_facts=True, nickname_twins=0.5, namesakes=0.5
    )
    write_bulk_export(population.records, folder)
    return folder


def test_cluster_equals_one_machine_with_split_blocks_and_frequencies(
    client: Any, hard_export: Path
) -> None:
    """Split blocks and population-wide term frequencies give the one-machine tables.

    Frequencies are counted over the whole population (not per component) and oversized
    blocks are split on the same refinements as ``build_profiles``, so the persons, gaps
    and review pairs are exactly those of one machine with the same config.
    """
    run = run_population(hard_export, as_of=AS_OF, client=client, match=HARD)
    full = fhir.read(hard_export)
    gaps, members, review = local_tables(full.records, as_of=AS_OF, match=HARD)
    assert sorted(map(str, run.members)) == sorted(map(str, members))
    assert list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
    assert sorted(map(str, run.review)) == sorted(map(str, review))
    default = local_tables(full.records, as_of=AS_OF)
    assert sorted(map(str, default[1])) != sorted(map(str, members))  # the config matters


def test_without_a_client_is_a_usage_error(export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No client given and none running: a clear error, before any work."""
    import distributed

    def no_client() -> None:
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "get_client", no_client)
    with pytest.raises(UsageError, match=r"distributed\.Client"):
        run_population(export, as_of=AS_OF)


def test_wrong_arguments(client: Any, export: Path) -> None:
    """A naive ``as_of`` type, a wrong client or block size: usage errors."""
    with pytest.raises(UsageError):
        run_population(export, as_of=dt.date(2024, 1, 1), client=client)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        run_population(export, as_of=AS_OF, client=object())
    with pytest.raises(UsageError):
        run_population(export, as_of=AS_OF, client=client, block_bytes=0)
