"""The population pipeline on a ``dask.distributed`` cluster.

Stages (each a Dask bag computation on the client's cluster; see ``docs/dask.md``):

1. **Blocks.** Every NDJSON file of the export is cut into byte blocks of about
   ``block_bytes`` (a gzip file is one block); one task counts each block's lines, so
   that lines keep the numbers (and issue labels) :func:`carecoord.fhir.read` gives them.
2. **Scan.** One task per block parses its lines and files each resource as
   :func:`carecoord.fhir._bulk.classify` says: a patient's, shared (parties, gathered
   on the client: their number is bounded by the export's organisations and people),
   an orphan (joined to its target's patient by a shuffle on the reference), or none.
3. **Records.** The lines are shuffled by patient id; each patient's lines are read by
   the passes of ``fhir.read`` with the shared resources they name.
4. **Frequencies and blocking.** The term frequencies of the whole population are
   counted per partition and added up (:class:`~carecoord.profile.TermFrequencies`),
   then broadcast to the workers. Each record's blocking keys, with its refinement
   tokens (:func:`~carecoord.profile.refined_blocking_keys`), are shuffled so that the
   records sharing a key meet; each block gives its candidate pairs as one machine does
   (:func:`~carecoord.profile.block_pairs`: split on the tokens when it holds more than
   ``max_block_size`` records), and explicit links give theirs.
5. **Scoring.** Pairs meet the identities of both their records (two shuffles; each
   identity packed once, :func:`_pack`) and are scored where they meet, one linker per
   partition, with the population's frequencies; the scored pairs go to the client.
6. **Components.** Union-find on the client over the merging pairs (their number is about
   the number of records); the component of each record is broadcast to the workers.
7. **Profiles and gaps.** Records are shuffled by component, the pairs inside each
   component go with them; the components of a partition are clustered by one linker
   from exactly those pairs (and the population's frequencies; components share no
   merging pair, so each is clustered as if alone), each cluster merged into a profile,
   and the rules run on it: the gap rows, profile rows and review rows.

The shuffles are this module's own (:func:`_shuffle`): keys placed by a checksum, the
same in every process, and only pickled buckets travel between workers.

The result equals :func:`~carecoord.dask.local_tables` over ``fhir.read`` of the same
folder: the same profiles (ids and members), the same gaps, the same review pairs.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import pickle
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs

from carecoord.dask._tables import (
    GAP_COLUMNS,
    MEMBER_COLUMNS,
    REVIEW_COLUMNS,
    gap_rows,
    member_rows,
    review_row,
)
from carecoord.domain import (
    Address,
    ContactPoint,
    ContactSystem,
    HumanName,
    Identifier,
    LinkKind,
    PartialDate,
    Patient,
    PatientId,
    PatientLink,
    PatientRecord,
    Sex,
    Source,
)
from carecoord.errors import MissingExtraError, UsageError
from carecoord.fhir import (
    BulkPlan,
    BulkTotals,
    ImportIssue,
    Limits,
    ResourceCounts,
    gc_paused,
    join_orphans,
)
from carecoord.profile import (
    IncrementalLinker,
    MatchConfig,
    PossibleMatch,
    TermFrequencies,
    block_pairs,
    dedupe_records,
    link_keys,
    merge_records,
    profile_id_for,
    refined_blocking_keys,
)
from carecoord.rules import WORKLIST_MONTHS, RuleSet, default_rules, detect_gaps

__all__ = ["PopulationRun", "run_population"]

RecordKey = tuple[str, str]
_P = ParamSpec("_P")
_T = TypeVar("_T")
_DEFAULT_BLOCK = 64 * 2**20

_BLOCKS_PER_PARTITION = 4
"""Blocks of input per shuffle partition by default: 256 MiB of NDJSON, about 80,000
records, so a task holds a few hundred MiB of records. The threads alone made 2 at a
million records on 2 workers: each held half the export in one task and was restarted;
one per block made 64, and the shuffles' small tasks grow with the product of the
partitions on both sides."""


@attrs.frozen
class PopulationRun:
    """What :func:`run_population` produced.

    ``gaps``, ``members`` and ``review`` are the three tables as lists of row dicts (see
    :data:`~carecoord.dask.GAP_COLUMNS` and the others), sorted; ``paths`` the Parquet
    folders written (empty without ``output``); ``issues`` and ``counts`` as
    :class:`~carecoord.fhir.ImportResult` has them; ``records`` and ``profiles`` how many;
    ``timings`` the wall time of each stage, in seconds.
    """

    gaps: tuple[dict[str, Any], ...]
    members: tuple[dict[str, Any], ...]
    review: tuple[dict[str, Any], ...]
    issues: tuple[ImportIssue, ...]
    counts: Mapping[str, ResourceCounts]
    records: int
    profiles: int
    rule_errors: int
    paths: Mapping[str, str] = attrs.field(factory=dict)
    timings: Mapping[str, float] = attrs.field(factory=dict, eq=False)


def _dask() -> tuple[Any, Any]:
    """``dask.bag`` and ``distributed``, or a clear error naming the extra."""
    try:
        import dask.bag as db  # noqa: PLC0415 - the optional extra, loaded when used
        import distributed  # noqa: PLC0415
    except ImportError as err:
        raise MissingExtraError(err.name or "dask", "dask") from None
    return db, distributed


def _gc_paused(func: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``func`` with the cyclic garbage collector paused (:func:`fhir.gc_paused`).

    A worker holds its partitions' records (millions of objects) while a task allocates
    millions more: each collection those allocations trigger walks the whole heap and
    finds no cycle (records, features and rows have none). Paused, a task costs what the
    same work costs in one process (``build_profiles`` and ``fhir.read`` pause it too).
    """

    @functools.wraps(func)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with gc_paused():
            return func(*args, **kwargs)

    return paused


# --------------------------------------------------------------------------- records


@_gc_paused
def _read_patients(
    groups: Iterable[tuple[str, list[tuple[Any, ...]]]], plan: BulkPlan
) -> list[tuple[Any, ...]]:
    """Each patient's records, then this partition's totals (a list: partitions persist)."""
    totals = BulkTotals()
    found: list[tuple[Any, ...]] = []
    for _patient, items in groups:
        result = plan.read_patient([(item[2], item[3]) for item in items], totals)
        found.extend(("R", record) for record in result.records)
    found.append(("X", totals))
    return found


def _identity(record: PatientRecord) -> tuple[str, RecordKey, bytes]:
    """``("I", key, identity)``: the part of a record linking reads, packed once.

    The identity (its source and patient) travels with every pair it is in: packed once
    here (:func:`_pack`), it moves as a few hundred bytes and is unpacked once per
    scoring partition (a patient costs about 40 us to pickle and 45 us to unpickle, more
    than scoring a pair, and pickles to 1.2 KiB).
    """
    identity = PatientRecord(source=record.source, patient=record.patient)
    return ("I", record.key, _pack(identity))


@functools.cache
def _zdict() -> bytes:
    """The preset dictionary of :func:`_pack`: the pickle of a made-up identity.

    A pickled patient is mostly class paths and field names, the same in every record;
    compressing against a dictionary that holds them makes an identity about 150 bytes
    instead of 1,240. Every process derives the same bytes from the same code.
    """
    sample = PatientRecord(
        source=Source(id="source", name="Source"),
        patient=Patient(
            id=PatientId("patient"),
            identifiers=(Identifier(system="urn:example:mrn", value="1"),),
            names=(HumanName(family="Family", given=("Given", "Middle"), use="official"),),
            birth_date=PartialDate(1970, 1, 1),
            sex=Sex.FEMALE,
            telecom=(
                ContactPoint(system=ContactSystem.PHONE, value="555-0100", use="home"),
                ContactPoint(system=ContactSystem.EMAIL, value="a@example.org"),
            ),
            addresses=(
                Address(lines=("1 Main St",), city="City", state="ST", postal_code="00000"),
            ),
            links=(PatientLink(kind=LinkKind.SAME_PERSON, other_id=PatientId("other")),),
        ),
    )
    return pickle.dumps(sample, protocol=pickle.HIGHEST_PROTOCOL)


@functools.cache
def _zdict_mark() -> bytes:
    """Four bytes naming :func:`_zdict` (its CRC-32), in front of every packed identity."""
    return zlib.crc32(_zdict()).to_bytes(4, "big")


def _pack(identity: PatientRecord) -> bytes:
    """An identity pickled and compressed against :func:`_zdict` (see :func:`_unpack`)."""
    packer = zlib.compressobj(1, zdict=_zdict())
    data = pickle.dumps(identity, protocol=pickle.HIGHEST_PROTOCOL)
    return _zdict_mark() + packer.compress(data) + packer.flush()


def _unpack(data: bytes) -> PatientRecord:
    """The identity :func:`_pack` packed (in this run, by the same code).

    Raises:
        UsageError: it was packed against another dictionary: the worker that packed it
            runs another version of carecoord, attrs or Python than this one.
    """
    if data[:4] != _zdict_mark():
        msg = (
            "the cluster's workers run different versions of carecoord, attrs or Python "
            "(a packed identity does not match this worker's); install the same versions "
            "on every worker and the client"
        )
        raise UsageError(msg)
    unpacker = zlib.decompressobj(zdict=_zdict())
    identity: PatientRecord = pickle.loads(unpacker.decompress(data[4:]))  # noqa: S301
    return identity


def _keys_of(
    record: PatientRecord, match: MatchConfig | None
) -> list[tuple[str, RecordKey, tuple[str, ...]]]:
    """``(block key, record key, refinement tokens)`` of each of the record's blocks."""
    return [
        (key, record.key, tokens) for key, tokens in refined_blocking_keys(record.patient, match)
    ]


def _block_pairs(
    group: tuple[str, list[tuple[str, RecordKey, tuple[str, ...]]]], match: MatchConfig | None
) -> list[tuple[RecordKey, RecordKey]]:
    """The candidate pairs of one block, split on refinements as one machine splits it."""
    _key, members = group
    if len(members) < 2:
        return []
    return block_pairs(((member, tokens) for _k, member, tokens in members), match)


def _count(records: Iterable[PatientRecord]) -> TermFrequencies:
    """The term frequencies of one partition's records."""
    return TermFrequencies.of(records)


def _link_pairs(record: PatientRecord) -> list[tuple[RecordKey, RecordKey]]:
    own = record.key
    return [(min(own, other), max(own, other)) for other in link_keys(record) if other != own]


def _first_side(group: tuple[RecordKey, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Pairs meet their left record's identity: ``("J", right, identity, left)`` items.

    ``right`` and ``left`` are the pair's record keys, ``identity`` the left record's as
    :func:`_identity` packs it.
    """
    key, items = group
    identity = next((item[2] for item in items if item[0] == "I"), None)
    if identity is None:  # a link to a record that is not in the input
        return []
    return [("J", item[2], identity, key) for item in items if item[0] == "Q"]


@_gc_paused
def _score_partition(
    groups: Iterable[tuple[RecordKey, list[tuple[Any, ...]]]],
    match: MatchConfig | None,
    frequencies: TermFrequencies | None,
) -> list[tuple[RecordKey, RecordKey, bool, PossibleMatch | None]]:
    """Score the pairs meeting at the right records of one partition, with one linker.

    Each group holds a right record's identity (``"I"``) and the identities of the left
    records of its pairs (``"J"``). One linker over every identity of the partition scores
    every pair: a pair's verdict depends only on its two records, their explicit links and
    the population's frequencies, so it is the verdict one machine gives; a linker per
    group cost more to build than its pairs cost to score. Link pairs between two left
    records of the partition are scored here too (their own group scores them again: the
    client keeps one of each). Returns ``(left, right, merges, review)`` tuples.
    """
    identities: dict[RecordKey, bytes] = {}
    pairs: list[tuple[RecordKey, RecordKey]] = []
    for key, items in groups:
        identity = next((item[2] for item in items if item[0] == "I"), None)
        if identity is None:  # a link to a record that is not in the input
            continue
        lefts = [item for item in items if item[0] == "J"]
        if not lefts:
            continue
        identities.setdefault(key, identity)
        for _tag, _right, left_identity, left in lefts:
            identities.setdefault(left, left_identity)
            pairs.append((left, key))
    if not pairs:
        return []
    linker = IncrementalLinker.from_pairs(
        match,
        [_unpack(data) for data in identities.values()],
        pairs,
        frequencies=frequencies,
    )
    return [(p.left, p.right, p.merges, p.review) for p in linker.scored_pairs()]


def _components(edges: Iterable[tuple[RecordKey, RecordKey]]) -> dict[RecordKey, RecordKey]:
    """Union-find: each record of a multi-record component -> its smallest key."""
    parent: dict[RecordKey, RecordKey] = {}

    def find(key: RecordKey) -> RecordKey:
        root = key
        while parent.get(root, root) != root:
            root = parent[root]
        while key != root:
            parent[key], key = root, parent[key]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            low, high = (ra, rb) if ra < rb else (rb, ra)
            parent[high] = low
            parent.setdefault(low, low)
    return {key: find(key) for key in parent}


@_gc_paused
def _pickled_partition(items: Iterable[Any]) -> list[bytes]:
    """A partition as one pickle (a list of rows travels to the client row by row)."""
    return [pickle.dumps(list(items), protocol=pickle.HIGHEST_PROTOCOL)]


def _profiles_of(
    groups: Iterable[tuple[RecordKey, list[tuple[Any, ...]]]],
    *,
    inside: Mapping[RecordKey, list[tuple[RecordKey, RecordKey]]],
    match: MatchConfig | None,
    frequencies: TermFrequencies | None,
    source_ranking: tuple[str, ...],
    as_of: dt.datetime,
    rules: RuleSet,
    look_back_months: int | None,
) -> list[tuple[Any, ...]]:
    """Cluster one partition's components, merge each cluster, run the rules.

    ``groups`` are each component's ``("R", record)`` items; ``inside`` the scored pairs
    inside each component. One linker clusters every multi-record component of the
    partition from its pairs (components share no merging pair, so each is clustered as
    if alone; a review entry between two components is the client's, not this one's).
    Returns the rows of each table, tagged.
    """
    component_of: dict[RecordKey, RecordKey] = {}
    records: dict[RecordKey, PatientRecord] = {}
    pairs: list[tuple[RecordKey, RecordKey]] = []
    lone: list[tuple[RecordKey, ...]] = []
    for component, items in groups:
        found = dedupe_records([item[1] for item in items if item[0] == "R"])
        if not found:
            continue
        own = inside.get(component, ())
        if len(found) == 1 and not own:  # a lone record is its own cluster
            lone.append((found[0].key,))
        for record in found:
            records[record.key] = record
            component_of[record.key] = component
        pairs.extend(own)
    clusters: list[tuple[RecordKey, ...]] = list(lone)
    review: Sequence[PossibleMatch] = ()
    loners = {keys[0] for keys in lone}
    linked = [r for key, r in records.items() if key not in loners]
    if linked:
        linker = IncrementalLinker.from_pairs(
            match,
            [PatientRecord(source=r.source, patient=r.patient) for r in linked],
            pairs,
            frequencies=frequencies,
        )
        linkage = linker.linkage()
        clusters.extend(linkage.clusters)
        review = [m for m in linkage.review if component_of[m.left] == component_of[m.right]]
    out: list[tuple[Any, ...]] = [("V", review_row(m)) for m in review]
    for cluster in clusters:
        profile = merge_records(
            [records[k] for k in cluster],
            profile_id=profile_id_for(cluster),
            source_ranking=source_ranking,
        )
        report = detect_gaps(profile, as_of=as_of, rules=rules, look_back_months=look_back_months)
        out.extend(("G", row) for row in gap_rows(profile, report))
        out.extend(("M", row) for row in member_rows(profile))
        out.append(("E!", len(report.errors)))
    return out


# --------------------------------------------------------------------------- the run


def run_population(
    export: str | os.PathLike[str],
    *,
    as_of: dt.datetime,
    client: Any = None,
    output: str | os.PathLike[str] | None = None,
    rules: RuleSet | None = None,
    match: MatchConfig | None = None,
    source_ranking: Sequence[str] = (),
    source_id: str | None = None,
    default_tz: dt.tzinfo | None = None,
    limits: Limits | None = None,
    name_files: bool = False,
    partitions: int | None = None,
    block_bytes: int = _DEFAULT_BLOCK,
    look_back_months: int | None = WORKLIST_MONTHS,
) -> PopulationRun:
    """Run read -> link -> profiles -> gaps over a bulk export on a Dask cluster.

    ``export`` is a folder of NDJSON files as :func:`carecoord.fhir.read_bulk` reads it,
    visible at the same path to every worker (a shared file system). ``client`` is a
    ``distributed.Client`` (default: the current one, ``distributed.get_client()``).
    ``output``, when given, is a folder that receives ``gaps.parquet``,
    ``members.parquet`` and ``review.parquet`` (Parquet datasets, one file per
    partition). ``as_of``, ``rules``, ``look_back_months``, ``match`` and
    ``source_ranking`` are those of :func:`~carecoord.build_profiles` and
    :func:`~carecoord.rules.detect_gaps` (``look_back_months=None`` for every gap the
    records hold, not only the last 12 months' and the standing ones);
    ``source_id``, ``default_tz``, ``limits`` and ``name_files`` those of
    :func:`~carecoord.fhir.read_bulk`. ``partitions`` is how many partitions each shuffle
    makes (default: one per 4 ``block_bytes`` of input, at least the workers' threads, so
    that a task holds a bounded share of the records at any size); ``block_bytes`` how
    large a piece of a file one task scans.

    The tables equal :func:`~carecoord.dask.local_tables` over ``fhir.read`` of the same
    folder, or over the records of :func:`~carecoord.fhir.read_bulk` when a file is
    larger than ``limits.max_file_bytes`` (which bounds a line here, a file in
    ``fhir.read``; see ``docs/dask.md``).

    Raises:
        MissingExtraError: the dask extra is not installed.
        UsageError: there is no client, or an argument has the wrong type.
        InteropError: ``export`` is not a readable folder.
    """
    db, distributed = _dask()
    if client is None:
        try:
            client = distributed.get_client()
        except ValueError as err:
            msg = "run_population needs a distributed.Client (none is running)"
            raise UsageError(msg) from err
    if not isinstance(client, distributed.Client):
        msg = f"client must be a distributed.Client, not {type(client).__name__}"
        raise UsageError(msg)
    when: object = as_of
    if not isinstance(when, dt.datetime):
        msg = f"as_of must be a datetime, not {type(when).__name__}"
        raise UsageError(msg)
    plan = BulkPlan(
        export,
        source_id=source_id,
        default_tz=default_tz,
        limits=limits,
        name_files=name_files,
        block_bytes=block_bytes,
    )
    ruleset = rules if rules is not None else default_rules()
    ranking = tuple(source_ranking)
    config = match if match is not None else MatchConfig()
    given: object = partitions
    if given is not None and (type(given) is not int or given < 1):
        msg = f"partitions must be a positive integer or None, not {given!r}"
        raise UsageError(msg)
    if partitions is None:  # a partition per 4 blocks of input: tasks stay small at any size
        threads = sum(client.nthreads().values()) or 1
        partitions = max(2, threads, -(-len(plan.blocks) // _BLOCKS_PER_PARTITION))

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def compute(*collections: Any) -> Any:
        return client.compute(list(collections), sync=True)

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    # 1. blocks and their first line numbers
    blocks = range(len(plan.blocks))
    spread = max(1, len(plan.blocks))
    (counts,) = compute(db.from_sequence(blocks, npartitions=spread).map(plan.count_lines))
    plan.set_line_counts(list(counts))

    lap("blocks")

    # 2. scan
    scanned = db.from_sequence(blocks, npartitions=spread).map(plan.scan).flatten()
    scanned = client.persist(scanned)
    shared_items, issue_items, orphan_count = compute(
        scanned.filter(lambda item: item[0] == "S"),
        scanned.filter(lambda item: item[0] == "I").map(lambda item: item[1]),
        scanned.filter(lambda item: item[0] == "O").count(),
    )
    plan.add_shared(shared_items)
    (plan_future,) = client.scatter([plan], broadcast=True, hash=False)

    patient_lines = scanned.filter(lambda item: item[0] == "P")
    if orphan_count:
        patient_lines = db.concat(
            [
                patient_lines,
                _shuffle(scanned.filter(lambda item: item[0] in ("T", "O")), 1, partitions)
                .map(lambda group: join_orphans(group[1]))
                .flatten(),
            ]
        )

    lap("scan")

    # 3. records
    read = _shuffle(patient_lines, 1, partitions).map_partitions(_read_patients, plan_future)
    read = client.persist(read)
    records = read.filter(lambda item: item[0] == "R").map(lambda item: item[1])
    (totals_parts,) = compute(read.filter(lambda item: item[0] == "X").map(lambda item: item[1]))
    # The scanned lines are read: drop every collection that holds their futures, so the
    # cluster frees them (a million records' NDJSON is 3 GiB).
    del scanned, patient_lines

    lap("records")

    # 4. frequencies and blocking
    frequencies_future = None
    if config.term_frequencies:
        (frequencies,) = compute(records.reduction(_count, TermFrequencies.merged))
        (frequencies_future,) = client.scatter([frequencies], broadcast=True, hash=False)
    # Packed once and kept: both shuffles of the scoring stage read them.
    identities = client.persist(records.map(_identity))
    block_candidates = (
        _shuffle(records.map(lambda r: _keys_of(r, config)).flatten(), 0, partitions)
        .map(lambda group: _block_pairs(group, config))
        .flatten()
    )
    candidates = db.concat([block_candidates, records.map(_link_pairs).flatten()])
    candidates = _shuffle(candidates.map(lambda pair: (pair,)), 0, partitions).map(
        lambda group: group[0]
    )  # distinct pairs, without a single task seeing them all

    # 5. scoring
    questions = candidates.map(lambda pair: ("Q", pair[0], pair[1]))
    lefts = _shuffle(db.concat([identities, questions]), 1, partitions).map(_first_side).flatten()
    scored = _shuffle(db.concat([identities, lefts]), 1, partitions).map_partitions(
        _score_partition, config, frequencies_future
    )
    scored_pairs = [
        pair
        for part in compute(scored.map_partitions(_pickled_partition))[0]
        for pair in pickle.loads(part)  # noqa: S301 - written by _pickled_partition
    ]
    del identities, lefts, scored  # their futures: the cluster frees the packed identities

    lap("blocking and scoring")

    # 6. components
    merging = sorted({(a, b) for a, b, merges, _review in scored_pairs if merges})
    component = _components(merging)
    inside: dict[RecordKey, list[tuple[RecordKey, RecordKey]]] = {}
    review = []
    for a, b, _merges, entry in sorted(set(scored_pairs), key=lambda p: (p[0], p[1])):
        ca, cb = component.get(a, a), component.get(b, b)
        if ca == cb:
            inside.setdefault(ca, []).append((a, b))
        elif entry is not None:
            review.append(review_row(entry))
    (component_future,) = client.scatter([component], broadcast=True, hash=False)

    lap("components")

    # 7. profiles and gaps
    def keyed(record: PatientRecord, mapping: dict[RecordKey, RecordKey]) -> tuple[Any, ...]:
        return (mapping.get(record.key, record.key), ("R", record))

    placed = records.map(keyed, component_future)
    # The pairs inside each component, broadcast (a shuffle's input would travel in the
    # task graph through the scheduler: 42 MiB at a million records).
    (inside_future,) = client.scatter([inside], broadcast=True, hash=False)
    rows = (
        _shuffle(placed, 0, partitions)
        .map(lambda group: (group[0], [item[1] for item in group[1]]))
        .map_partitions(
            _profiles_of,
            inside=inside_future,
            match=config,
            frequencies=frequencies_future,
            source_ranking=ranking,
            as_of=as_of,
            rules=ruleset,
            look_back_months=look_back_months,
        )
    )
    rows = client.persist(rows)
    del component_future, inside_future
    tables: dict[str, list[Any]] = {"G": [], "M": [], "V": [], "E!": []}
    for part in compute(rows.map_partitions(_pickled_partition))[0]:
        for tag, row in pickle.loads(part):  # noqa: S301 - written by _pickled_partition
            tables[tag].append(row)
    gaps, members, more_review = tables["G"], tables["M"], tables["V"]
    errors = sum(tables["E!"])
    lap("profiles and gaps")
    paths: dict[str, str] = {}
    if output is not None:
        paths = _write_parquet(Path(output), rows, client, review)
    summary = plan.finish(totals_parts, issue_items)
    lap("parquet and totals")
    profile_ids = {row["profile_id"] for row in members}
    return PopulationRun(
        gaps=tuple(_sorted_gaps(gaps)),
        members=tuple(_sorted_rows(members, MEMBER_COLUMNS)),
        review=tuple(_sorted_rows([*review, *more_review], REVIEW_COLUMNS)),
        issues=summary.issues,
        counts=summary.counts,
        records=len(members),
        profiles=len(profile_ids),
        rule_errors=int(errors or 0),
        paths=paths,
        timings=timings,
    )


def _shuffle(bag: Any, field: int, partitions: int) -> Any:
    """Group a bag's tuples by one field, across the cluster (``(value, [items])``).

    A hash shuffle of its own: each input partition is split into ``partitions`` buckets
    by a checksum of the field (:func:`_bucket`), and each output partition gathers its
    bucket from every input and groups it. ``Bag.groupby(shuffle="tasks")`` does the same
    with ``dask.base.tokenize`` of every item's key (about 25 us an item) and moves lists
    of small tuples between workers, which the cluster serialises item by item; here only
    pickled buckets travel. Items keep their input order within a group.
    """
    from dask.delayed import delayed  # noqa: PLC0415

    db, _distributed = _dask()
    # Split inside each input partition's own (fused) task, where its data is: only the
    # pickled buckets leave the worker.
    splits = bag.map_partitions(_split, field, partitions).to_delayed()
    return db.from_delayed(
        [
            delayed(_gather, pure=True)([split[n] for split in splits], field)
            for n in range(partitions)
        ]
    )


def _bucket(value: object, partitions: int) -> int:
    """The shuffle partition of a key: the same in every process (unlike ``hash``).

    Keys are strings or tuples of strings (patient ids, references, blocking keys, record
    keys); any other key is placed by its ``repr``, so equal keys must have equal reprs.
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, tuple) and all(isinstance(part, str) for part in value):
        text = "\x1f".join(value)
    else:
        text = repr(value)
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % partitions


@_gc_paused
def _split(items: Iterable[tuple[Any, ...]], field: int, partitions: int) -> list[bytes]:
    """One input partition's items, in the buckets of the output partitions, pickled.

    Pickled here so that a bucket travels between workers as one ``bytes``: the cluster
    serialises a list of many small tuples about thirty times slower.
    """
    buckets: list[list[Any]] = [[] for _ in range(partitions)]
    for item in items:
        buckets[_bucket(item[field], partitions)].append(item)
    return [pickle.dumps(bucket, protocol=pickle.HIGHEST_PROTOCOL) for bucket in buckets]


@_gc_paused
def _gather(pieces: Iterable[bytes], field: int) -> list[tuple[Any, list[Any]]]:
    """One output partition: its bucket of every input, grouped by key (first seen first)."""
    groups: dict[Any, list[Any]] = {}
    for piece in pieces:
        for item in pickle.loads(piece):  # noqa: S301 - written by _split, in this run
            key = item[field]
            group = groups.get(key)
            if group is None:
                groups[key] = [item]
            else:
                group.append(item)
    return list(groups.items())


def _sorted_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: tuple(str(row[c]) for c in columns))


def _sorted_gaps(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gap rows by profile id, each profile's rows in report order (a stable sort)."""
    return sorted(rows, key=lambda row: row["profile_id"])


def _schema(name: str) -> Any:
    import pyarrow as pa  # noqa: PLC0415 - the dask extra

    columns = {"gaps": GAP_COLUMNS, "members": MEMBER_COLUMNS, "review": REVIEW_COLUMNS}[name]
    kinds = {"bool": pa.bool_(), "int64": pa.int64(), "float64": pa.float64()}
    return pa.schema([(c, kinds.get(_dtype(name, c), pa.string())) for c in columns])


def _write_part(rows: Iterable[dict[str, Any]], path: str, name: str) -> int:
    """Write one partition's rows of one table as a Parquet file; how many rows."""
    import pyarrow as pa  # noqa: PLC0415 - the dask extra
    import pyarrow.parquet as pq  # noqa: PLC0415

    found = list(rows)
    pq.write_table(pa.Table.from_pylist(found, schema=_schema(name)), path)
    return len(found)


def _write_parquet(
    folder: Path, rows: Any, client: Any, review: list[dict[str, Any]]
) -> dict[str, str]:
    """Write each table as a Parquet dataset (one file per partition) under ``folder``.

    The workers write their partitions; the review pairs found on the client (across
    components) are one more file of the review table.
    """
    import shutil  # noqa: PLC0415

    from dask.delayed import delayed  # noqa: PLC0415 - the dask extra

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    writes = []
    for name, tag in (("gaps", "G"), ("members", "M"), ("review", "V")):
        target = folder / f"{name}.parquet"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        bag = rows.filter(lambda item, tag=tag: item[0] == tag).map(lambda item: item[1])
        for n, part in enumerate(bag.to_delayed()):
            writes.append(delayed(_write_part)(part, str(target / f"part-{n:05d}.parquet"), name))
        paths[name] = str(target)
    client.compute(writes, sync=True)
    _write_part(review, str(folder / "review.parquet" / "part-client.parquet"), "review")
    return paths


def _dtype(table: str, column: str) -> str:
    if table == "gaps" and column in ("late", "standing"):
        return "bool"
    if table == "gaps" and column == "evidence":
        return "int64"
    if table == "review" and column == "score":
        return "float64"
    return "object"
