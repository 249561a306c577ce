"""``carecoord.dask``: the population pipeline on a local Dask cluster equals one machine."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
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
from tests._helpers import outputs_under_hash_seeds

_HAVE_DASK = all(importlib.util.find_spec(m) for m in ("dask", "distributed", "pyarrow"))
if not _HAVE_DASK and os.environ.get("CI"):  # CI installs the test group: dask is there
    pytest.fail("the dask extra is missing in CI", pytrace=False)
pytestmark = pytest.mark.skipif(
    not _HAVE_DASK, reason="the dask extra is not installed (pip install 'carecoord[dask]')"
)

AS_OF = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)


@contextmanager
def _local_client(workers: int, *, processes: bool) -> Iterator[Any]:
    """A client of a local cluster of ``workers`` single-threaded workers."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A local cluster of three in-process workers (kept to seconds)."""
    with _local_client(3, processes=False) as running:
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
    for partitions in (0, -1, 2.0, True):
        with pytest.raises(UsageError, match="partitions"):
            run_population(export, as_of=AS_OF, client=client, partitions=partitions)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def process_client() -> Iterator[Any]:
    """A local cluster of two worker processes: data crosses process boundaries."""
    with _local_client(2, processes=True) as running:
        yield running


@pytest.fixture(scope="module")
def linked_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Records whose explicit links decide, among a generated population.

    A SAME_PERSON link joins two strangers' records, a NOT_SAME_PERSON link keeps a
    look-alike apart, and one link names a record that is not in the export.
    """
    from carecoord.domain import HumanName, LinkKind, PartialDate, PatientId, PatientLink
    from carecoord.testing import make_source

    folder = tmp_path_factory.mktemp("linked")
    alex = make_record(source=make_source(id="s1"), patient=make_patient(id="a-1"))
    stranger = make_record(
        source=make_source(id="s2"),
        patient=make_patient(
            id="b-1",
            names=(HumanName(family="Otherperson", given=("Jordan",)),),
            birth_date=PartialDate(1990, 2, 3),
            telecom=(),
            addresses=(),
            identifiers=(),
            links=(PatientLink(LinkKind.SAME_PERSON, PatientId("a-1"), "s1"),),
        ),
    )
    look_alike = make_record(
        source=make_source(id="s3"),
        patient=make_patient(
            id="c-1",
            identifiers=(),
            links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("a-1"), "s1"),),
        ),
    )
    dangling = make_record(
        source=make_source(id="s3"),
        patient=make_patient(
            id="d-1",
            names=(HumanName(family="Elsewhere", given=("Robin",)),),
            links=(PatientLink(LinkKind.SAME_PERSON, PatientId("gone"), "s9"),),
        ),
    )
    population = generate_population(40, seed=3, with_facts=True)
    write_bulk_export([alex, stranger, look_alike, dangling, *population.records], folder)
    return folder


def test_process_workers_and_explicit_links_equal_one_machine(
    process_client: Any, linked_export: Path
) -> None:
    """Worker processes and explicit links: the one-machine tables, the links obeyed.

    Identities, pairs and records travel between processes (packed, pickled buckets), and
    a partition's one linker sees links between records of several groups.
    """
    run = run_population(linked_export, as_of=AS_OF, client=process_client, partitions=5)
    full = fhir.read(linked_export)
    gaps, members, review = local_tables(full.records, as_of=AS_OF)
    assert sorted(map(str, run.members)) == sorted(map(str, members))
    assert list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
    assert sorted(map(str, run.review)) == sorted(map(str, review))
    profile_of = {(row["source_id"], row["patient_id"]): row["profile_id"] for row in run.members}
    assert profile_of["s1", "a-1"] == profile_of["s2", "b-1"]  # linked, though strangers
    assert profile_of["s1", "a-1"] != profile_of["s3", "c-1"]  # alike, but linked apart


def test_split_blocks_on_worker_processes(process_client: Any, hard_export: Path) -> None:
    """Split blocks and frequencies through worker processes, with several partitions."""
    run = run_population(hard_export, as_of=AS_OF, client=process_client, match=HARD, partitions=4)
    full = fhir.read(hard_export)
    gaps, members, review = local_tables(full.records, as_of=AS_OF, match=HARD)
    assert sorted(map(str, run.members)) == sorted(map(str, members))
    assert list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
    assert sorted(map(str, run.review)) == sorted(map(str, review))


def test_shuffle_partition_and_packing_are_the_same_in_every_process() -> None:
    """The shuffle's partition of a key and the packing dictionary ignore the hash seed."""
    code = (
        "from carecoord.dask._pipeline import _bucket, _zdict_mark;"
        "print([_bucket(k, 7) for k in ('a', ('s1', 'p-1'), ('', ''), 'x' * 40)]);"
        "print(_zdict_mark().hex())"
    )
    assert len(outputs_under_hash_seeds(code)) == 1


def test_packed_identity_round_trips() -> None:
    """A packed identity unpacks equal, every patient field kept; it is small."""
    import pickle

    from carecoord.dask._pipeline import _identity, _unpack
    from carecoord.domain import LinkKind, PatientId, PatientLink, PatientRecord, Ref

    record = make_record(
        patient=make_patient(
            id="p-9",
            deceased=True,
            deceased_at=dt.datetime(2023, 5, 1, 8, tzinfo=dt.UTC),
            links=(PatientLink(LinkKind.NOT_SAME_PERSON, PatientId("p-8"), "other"),),
            language="es",
            general_practitioner=(Ref("Practitioner", "pcp-1"),),
        ),
        conditions=(make_condition(patient="p-9"),),
    )
    tag, key, packed = _identity(record)
    identity = _unpack(packed)
    assert (tag, key) == ("I", record.key)
    assert identity == PatientRecord(source=record.source, patient=record.patient)
    assert len(packed) < len(pickle.dumps(identity)) / 3
    with pytest.raises(UsageError, match="different versions"):  # packed by another version
        _unpack(b"\0\0\0\0" + packed[4:])


def test_components_and_links_in_one_partition(client: Any, tmp_path: Path) -> None:
    """Several linked components in one partition (or a few): the one-machine tables.

    Records identical across sources, a NOT_SAME_PERSON link inside a component and
    across components, a SAME_PERSON chain joining two components, a self link, a link
    to a missing record and a look-alike left for review; one linker clusters them all.
    """
    from carecoord.domain import HumanName, Identifier, LinkKind, PartialDate, PatientId
    from carecoord.domain import PatientLink as Link
    from carecoord.testing import make_source

    def record(source: str, patient: str, **fields: Any) -> Any:
        return make_record(
            source=make_source(id=source), patient=make_patient(id=patient, **fields)
        )

    same, apart = LinkKind.SAME_PERSON, LinkKind.NOT_SAME_PERSON
    quimby = (HumanName(family="Quimby", given=("Quentin",)),)
    born = PartialDate(1950, 5, 5)
    records = [
        record("s1", "a-1"),
        record("s2", "a-2"),
        record("s3", "a-3", links=(Link(apart, PatientId("a-1"), "s1"),)),
        record(
            "s4",
            "a-4",
            names=(HumanName(family="Stranger", given=("Sam",)),),
            identifiers=(),
            telecom=(),
            addresses=(),
            birth_date=PartialDate(1990, 1, 1),
            links=(Link(same, PatientId("a-3"), "s3"),),
        ),
        record(
            "s1",
            "q-1",
            names=quimby,
            birth_date=born,
            identifiers=(Identifier("urn:example:mrn", "Q1"),),
        ),
        record(
            "s2",
            "q-2",
            names=quimby,
            birth_date=born,
            identifiers=(Identifier("urn:example:mrn", "Q1"),),
            links=(Link(apart, PatientId("a-1"), "s1"), Link(same, PatientId("q-2"))),
        ),
        record("s2", "r-1", identifiers=(), birth_date=PartialDate(1961, 4, 13)),
        record(
            "s1",
            "z-1",
            names=(HumanName(family="Zed", given=("Zoe",)),),
            identifiers=(),
            links=(Link(same, PatientId("gone"), "s9"), Link(apart, PatientId("q-1"))),
        ),
        record(
            "s3",
            "q-3",
            names=quimby,
            birth_date=born,
            identifiers=(),
            links=(Link(same, PatientId("a-4"), "s4"),),
        ),
    ]
    folder = tmp_path / "export"
    write_bulk_export([*records, *generate_population(30, seed=5).records], folder)
    full = fhir.read(folder)
    gaps, members, review = local_tables(full.records, as_of=AS_OF)
    for partitions in (1, 3):
        run = run_population(folder, as_of=AS_OF, client=client, partitions=partitions)
        assert sorted(map(str, run.members)) == sorted(map(str, members))
        assert list(run.gaps) == sorted(gaps, key=lambda row: row["profile_id"])
        assert sorted(map(str, run.review)) == sorted(map(str, review))
    profile_of = {(row["source_id"], row["patient_id"]): row["profile_id"] for row in members}
    assert profile_of["s3", "a-3"] == profile_of["s4", "a-4"]  # joined by their link
    assert profile_of["s1", "a-1"] != profile_of["s3", "a-3"]  # kept apart by theirs
