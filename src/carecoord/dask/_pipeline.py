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
5. **Scoring.** Pairs meet the identities of both their records (two shuffles) and are
   scored where they meet, with the population's frequencies; the merging pairs go to
   the client.
6. **Components.** Union-find on the client over the merging pairs (their number is about
   the number of records); the component of each record is broadcast to the workers.
7. **Profiles and gaps.** Records and the pairs inside each component are shuffled by
   component; each component is clustered from exactly those pairs (and the population's
   frequencies), each cluster merged
   into a profile, and the rules run on it: the gap rows, profile rows and review rows.

The result equals :func:`~carecoord.dask.local_tables` over ``fhir.read`` of the same
folder: the same profiles (ids and members), the same gaps, the same review pairs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from carecoord.dask._tables import (
    GAP_COLUMNS,
    MEMBER_COLUMNS,
    REVIEW_COLUMNS,
    gap_rows,
    member_rows,
    review_row,
)
from carecoord.domain import PatientRecord
from carecoord.errors import MissingExtraError, UsageError
from carecoord.fhir import (
    BulkPlan,
    BulkTotals,
    ImportIssue,
    Limits,
    ResourceCounts,
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
_DEFAULT_BLOCK = 64 * 2**20

_BLOCKS_PER_PARTITION = 4
"""Blocks of input per shuffle partition by default: 256 MiB of NDJSON, about 80,000
records, so a task holds a few hundred MiB of records. One per block made 64 partitions
of a million-record export, and a task shuffle's tasks grow with the square of the
partitions (8,101 tasks in scoring alone, 45 a minute on 2 workers); the threads alone
made 2, and each worker held half the export in one task and was restarted."""


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


# --------------------------------------------------------------------------- records


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


def _identity(record: PatientRecord) -> PatientRecord:
    """The part of a record linking reads: its source and patient."""
    return PatientRecord(source=record.source, patient=record.patient)


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
    """Pairs meet their left record's identity: ``(right key, left identity)`` items."""
    _key, items = group
    identity = next((item[2] for item in items if item[0] == "I"), None)
    if identity is None:  # a link to a record that is not in the input
        return []
    return [("J", item[2], identity) for item in items if item[0] == "Q"]


def _score_group(
    group: tuple[RecordKey, list[tuple[Any, ...]]],
    match: MatchConfig | None,
    frequencies: TermFrequencies | None,
) -> list[tuple[RecordKey, RecordKey, bool, PossibleMatch | None]]:
    """Score the pairs meeting at their right record: ``(left, right, merges, review)``."""
    key, items = group
    identity = next((item[2] for item in items if item[0] == "I"), None)
    if identity is None:
        return []
    lefts = {item[2].key: item[2] for item in items if item[0] == "J"}
    if not lefts:
        return []
    linker = IncrementalLinker.from_pairs(
        match,
        [identity, *lefts.values()],
        [(left, key) for left in lefts],
        frequencies=frequencies,
    )
    return [
        (p.left, p.right, p.merges, p.review)
        for p in linker.scored_pairs()
        if key in (p.left, p.right)
    ]


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


def _profiles_of(
    group: tuple[RecordKey, list[tuple[Any, ...]]],
    *,
    match: MatchConfig | None,
    frequencies: TermFrequencies | None,
    source_ranking: tuple[str, ...],
    as_of: dt.datetime,
    rules: RuleSet,
    look_back_months: int | None,
) -> list[tuple[Any, ...]]:
    """Cluster one component, merge each cluster, run the rules: the rows of each table."""
    _component, items = group
    records = {r.key: r for r in dedupe_records([item[1] for item in items if item[0] == "R"])}
    pairs = [pair for item in items if item[0] == "E" for pair in item[1]]
    clusters: Sequence[tuple[RecordKey, ...]] = [tuple(records)]
    review: Sequence[PossibleMatch] = ()
    if len(records) > 1 or pairs:  # a lone record is its own cluster
        linker = IncrementalLinker.from_pairs(
            match,
            [PatientRecord(source=r.source, patient=r.patient) for r in records.values()],
            pairs,
            frequencies=frequencies,
        )
        linkage = linker.linkage()
        clusters, review = linkage.clusters, linkage.review
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
    folder (see ``docs/dask.md``).

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
    identities = records.map(lambda r: ("I", r.key, _identity(r)))
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
    scored = (
        _shuffle(db.concat([identities, lefts]), 1, partitions)
        .map(_score_group, config, frequencies_future)
        .flatten()
    )
    (scored_pairs,) = compute(scored)

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
    pair_items = db.from_sequence(
        [(comp, ("E", pairs)) for comp, pairs in inside.items()] or [(("", ""), ("E", []))],
        npartitions=max(1, min(partitions, len(inside) or 1)),
    )
    rows = (
        _shuffle(db.concat([placed, pair_items]), 0, partitions)
        .map(lambda group: (group[0], [item[1] for item in group[1]]))
        .filter(lambda group: any(item[0] == "R" for item in group[1]))
        .map(
            _profiles_of,
            match=config,
            frequencies=frequencies_future,
            source_ranking=ranking,
            as_of=as_of,
            rules=ruleset,
            look_back_months=look_back_months,
        )
        .flatten()
    )
    rows = client.persist(rows)
    gaps, members, more_review, errors = compute(
        rows.filter(lambda item: item[0] == "G").map(lambda item: item[1]),
        rows.filter(lambda item: item[0] == "M").map(lambda item: item[1]),
        rows.filter(lambda item: item[0] == "V").map(lambda item: item[1]),
        rows.filter(lambda item: item[0] == "E!").map(lambda item: item[1]).sum(),
    )
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

    The bag is first cut down to ``partitions`` partitions (concatenated, no shuffle):
    a task shuffle costs tasks in proportion to the partitions on both sides.
    """
    if bag.npartitions > partitions:
        bag = bag.repartition(npartitions=partitions)
    return bag.groupby(lambda item: item[field], npartitions=partitions, shuffle="tasks")


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
