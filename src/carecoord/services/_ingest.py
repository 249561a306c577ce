"""One ingest inside one unit of work: version checks, local re-linking, re-evaluation."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from carecoord.domain import LinkKind, PatientId, PatientLink, PatientRecord, Task
from carecoord.errors import CarecoordError
from carecoord.ports import (
    Event,
    GapState,
    LinkDecision,
    Person,
    RecordHead,
    RecordKey,
    StoredRecord,
    TaskEntry,
    TaskState,
    UnitOfWork,
)
from carecoord.profile import (
    MatchConfig,
    blocking_keys,
    compare,
    link_records,
    merge_records,
)
from carecoord.rules import Gap, GapStatus, detect_gaps, suggest_tasks, worklist_since
from carecoord.services._model import IngestChanges, Skipped
from carecoord.terminology import canonical_system

__all__ = [
    "ACTIVE",
    "ERASED_IDENTIFIER",
    "Evaluation",
    "Prepared",
    "Relinker",
    "gap_event",
    "identifier_keys",
    "prepare",
    "sensitivity",
]

ERASED_IDENTIFIER = "erased-identifier"
"""The ``source`` part of the tombstone keys that block an erased patient's identifiers."""

_TOMBSTONE_SALT = b"carecoord-tombstone-identifier"


def identifier_keys(record: PatientRecord) -> tuple[RecordKey, ...]:
    """Keys that block ``record``'s patient identifiers in a tombstone, one per identifier.

    Each is ``(ERASED_IDENTIFIER, digest)``: a keyed BLAKE2b digest of the identifier's
    canonical system and its value, so a tombstone recognises the same patient arriving
    under another source or patient id without keeping the identifier itself.
    """
    keys: list[RecordKey] = []
    for identifier in record.patient.identifiers:
        text = f"{canonical_system(identifier.system)}|{identifier.value.strip()}"
        digest = hashlib.blake2b(text.encode(), digest_size=16, key=_TOMBSTONE_SALT)
        keys.append((ERASED_IDENTIFIER, digest.hexdigest()))
    return tuple(dict.fromkeys(keys))


__all__ = [
    "ACTIVE",
    "Evaluation",
    "Prepared",
    "Relinker",
    "gap_event",
    "has_work",
    "prepare",
    "sensitivity",
]

ACTIVE = frozenset({GapStatus.OPEN, GapStatus.PROSPECTIVE})
"""Gap statuses that are work to do."""
_GONE_REASON = "no longer found by its rule"


@attrs.frozen
class Prepared:
    """An input record checked and ready: its digest, time and blocking keys."""

    index: int
    record: PatientRecord
    digest: str
    updated: dt.datetime | None
    blocks: tuple[str, ...]

    @property
    def key(self) -> RecordKey:
        """The record's key."""
        return self.record.key


def _link_block(key: RecordKey) -> str:
    text = f"link|{key[0]}|{key[1]}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def record_blocks(record: PatientRecord, config: MatchConfig) -> tuple[str, ...]:
    """Blocking keys, plus one key for the record itself and one per explicit link target.

    A record that names another (``Patient.link``) and the record it names then share a
    key, so either finds the other whichever arrives first.
    """
    own = _link_block(record.key)
    targets = (
        _link_block((link.other_source or record.source.id, link.other_id))
        for link in record.patient.links
    )
    return tuple(dict.fromkeys((*blocking_keys(record.patient, config), own, *targets)))


def digest_of(record: PatientRecord) -> str:
    """A fingerprint of ``record``'s content (equal records almost always share it).

    It only speeds up the "same record again" check, which falls back to comparing the
    records themselves, so a differing fingerprint never makes an unchanged record look
    new.
    """
    data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def prepare(items: Sequence[object], config: MatchConfig) -> tuple[list[Prepared], list[Skipped]]:
    """Check each input; return the records ready to ingest and the inputs skipped."""
    ready: list[Prepared] = []
    skipped: list[Skipped] = []
    for index, item in enumerate(items):
        if not isinstance(item, PatientRecord):
            skipped.append(Skipped(index, None, "invalid: not a PatientRecord"))
            continue
        try:
            blocks = record_blocks(item, config)
            digest = digest_of(item)
        except (CarecoordError, TypeError, ValueError, AttributeError) as exc:
            problems = getattr(exc, "problems", ())
            detail = "; ".join(str(p) for p in problems) or type(exc).__name__
            skipped.append(Skipped(index, item.key, f"invalid: {detail}"))
            continue
        ready.append(Prepared(index, item, digest, item.source.retrieved_at, blocks))
    return ready, skipped


def sensitivity(gap: Gap) -> tuple[str, ...]:
    """A gap's sensitivity labels as sorted codes."""
    return tuple(sorted(s.value for s in gap.sensitivity))


def gap_event(kind: str, state: GapState, at: dt.datetime, **data: str) -> Event:
    """The outbox event for a change of ``state``: ids, rule, status, sensitivity only."""
    gap = state.gap
    return Event(
        kind,
        state.person,
        state.key,
        at,
        rule=gap.rule,
        status=gap.status.value,
        sensitivity=sensitivity(gap),
        data={"severity": gap.severity.value, "family": gap.family, **data},
    )


def has_work(state: GapState) -> bool:
    """Whether ``state`` carries human work: assigned, a team, snoozed, dismissed or notes."""
    return bool(
        state.assigned_to
        or state.team
        or state.snoozed_until is not None
        or state.dismissed
        or state.notes
    )


def _signature(gap: Gap) -> tuple[object, ...]:
    return (gap.status, gap.due, gap.severity, gap.closed_at, gap.late, gap.sensitivity)


@attrs.define
class Evaluation:
    """The settings every evaluation uses (rules, calendar, value sets, task policy)."""

    rules: Any
    calendar: Any
    value_sets: Any
    since: dt.date | None
    source_ranking: tuple[str, ...]
    auto_accept: bool


@attrs.define
class _Collect:
    """The changes one run collects, in order."""

    added: list[RecordKey] = attrs.Factory(list)
    replaced: list[RecordKey] = attrs.Factory(list)
    unchanged: list[RecordKey] = attrs.Factory(list)
    created: list[str] = attrs.Factory(list)
    merged: list[tuple[str, str]] = attrs.Factory(list)
    changed: list[str] = attrs.Factory(list)
    opened: list[str] = attrs.Factory(list)
    closed: list[str] = attrs.Factory(list)
    gap_changed: list[str] = attrs.Factory(list)
    suggested: list[str] = attrs.Factory(list)
    withdrawn: list[str] = attrs.Factory(list)
    task_changed: list[str] = attrs.Factory(list)
    retired: list[str] = attrs.Factory(list)
    tasks: list[str] = attrs.Factory(list)
    skipped: list[Skipped] = attrs.Factory(list)

    def result(self) -> IngestChanges:
        return IngestChanges(
            records_added=tuple(self.added),
            records_replaced=tuple(self.replaced),
            records_unchanged=tuple(self.unchanged),
            persons_created=tuple(self.created),
            persons_merged=tuple(self.merged),
            persons_changed=tuple(dict.fromkeys(self.changed)),
            gaps_opened=tuple(self.opened),
            gaps_closed=tuple(self.closed),
            gaps_changed=tuple(self.gap_changed),
            tasks_suggested=tuple(self.suggested),
            tasks_created=tuple(self.tasks),
            gaps_retired=tuple(self.retired),
            tasks_withdrawn=tuple(self.withdrawn),
            tasks_changed=tuple(dict.fromkeys(self.task_changed)),
            skipped=tuple(sorted(self.skipped, key=lambda s: s.index)),
        )


def person_id_for(key: RecordKey, taken: set[str]) -> str:
    """A new opaque person id, derived from a record key, not in ``taken``."""
    text = f"{key[0]}\x1f{key[1]}"
    base = "person-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _with_decisions(
    records: Mapping[RecordKey, PatientRecord], decisions: Iterable[LinkDecision]
) -> list[PatientRecord]:
    """The records, each carrying the human link decisions about it as explicit links."""
    extra: dict[RecordKey, list[PatientLink]] = {}
    for decision in decisions:
        if decision.left not in records or decision.right not in records:
            continue
        kind = LinkKind.SAME_PERSON if decision.same_person else LinkKind.NOT_SAME_PERSON
        link = PatientLink(kind, PatientId(decision.right[1]), decision.right[0])
        extra.setdefault(decision.left, []).append(link)
    out = []
    for key, record in records.items():
        links = extra.get(key)
        if links:
            patient = attrs.evolve(record.patient, links=(*record.patient.links, *links))
            out.append(attrs.evolve(record, patient=patient))
        else:
            out.append(record)
    return out


class Relinker:
    """Re-links and re-evaluates the persons one change touches, in one unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        settings: Evaluation,
        match: MatchConfig,
        as_of: dt.datetime,
    ) -> None:
        self.uow = uow
        self.settings = settings
        self.match = match
        self.as_of = as_of
        self.out = _Collect()

    # ------------------------------------------------------------------ ingest

    def ingest(self, ready: Sequence[Prepared], skipped: Sequence[Skipped]) -> IngestChanges:
        """Store what is new or newer, re-link its neighbourhood, re-evaluate who changed."""
        self.out.skipped.extend(skipped)
        latest: dict[RecordKey, Prepared] = {}
        for item in ready:
            known = latest.get(item.key)
            if known is not None and _older(item.updated, known.updated):
                self.out.skipped.append(Skipped(item.index, item.key, "older than another copy"))
                continue
            if known is not None and known.digest != item.digest:
                self.out.skipped.append(
                    Skipped(known.index, known.key, "replaced by a later copy in the same input")
                )
            latest[item.key] = item
        identifiers = {key: identifier_keys(item.record) for key, item in latest.items()}
        wanted = [*latest, *{k for keys in identifiers.values() for k in keys}]
        blocked = self.uow.tombstones.blocking(wanted)
        heads = self.uow.records.heads(latest)
        changed: dict[RecordKey, Prepared] = {}
        for key, item in latest.items():
            head = heads.get(key)
            if key in blocked or any(k in blocked for k in identifiers[key]):
                self.out.skipped.append(Skipped(item.index, key, "erased on request"))
            elif head is not None and (head.digest == item.digest or self._same(item)):
                self.out.unchanged.append(key)
            elif head is not None and _older(item.updated, head.updated):
                self.out.skipped.append(Skipped(item.index, key, "older than the stored version"))
            else:
                changed[key] = item
                (self.out.replaced if head is not None else self.out.added).append(key)
        if changed:
            self.relink(changed, ())
        return self.out.result()

    def _same(self, item: Prepared) -> bool:
        """Whether the stored record equals ``item``'s (their fingerprints differ)."""
        stored = self.uow.records.get(item.key)
        return stored is not None and stored.record == item.record

    # ------------------------------------------------------------------ linking

    def relink(self, changed: Mapping[RecordKey, Prepared], seeds: Iterable[RecordKey]) -> None:
        """Re-link the records near ``changed`` and ``seeds``; store and re-evaluate.

        The neighbourhood is every record of the persons that hold a changed record or a
        seed, or a record that a changed record could merge with (sharing a blocking key
        and graded at least probable, or explicitly linked), or a record a human decision
        ties to one of them. Only the heads (patients) of the candidates are read; full
        records only for the persons in the neighbourhood.
        """
        uow = self.uow
        focus = set(changed) | set(seeds)
        limit = self.match.max_block_size
        near = {
            key: uow.records.with_blocks(item.blocks, limit=limit) for key, item in changed.items()
        }
        candidates = {k for keys in near.values() for k in keys} - set(changed)
        decided: set[RecordKey] = set()
        for decision in uow.decisions.involving(focus):
            decided.update((decision.left, decision.right))
        heads = uow.records.heads(candidates | decided | focus)
        persons = {heads[k].person for k in focus | decided if k in heads}
        for key, item in changed.items():
            for other in near[key]:
                head = heads.get(other)
                if (
                    head is not None
                    and other not in changed
                    and head.person not in persons
                    and self._related(item, head)
                ):
                    persons.add(head.person)
        every: dict[RecordKey, StoredRecord] = {}
        for person in sorted(persons):
            for stored in uow.records.of_person(person):
                every[stored.key] = stored
        records = {key: s.record for key, s in every.items()}
        records.update({key: fresh.record for key, fresh in changed.items()})
        decisions = uow.decisions.involving(records)
        linkage = link_records(_with_decisions(records, decisions), self.match)
        owners = self._owners(linkage.clusters, every)
        self._apply(linkage.clusters, owners, every, changed)

    def _related(self, item: Prepared, head: RecordHead) -> bool:
        """Whether ``item`` could merge with the stored record ``head``."""
        record = item.record
        for link in record.patient.links:
            if (link.other_source or record.source.id, link.other_id) == head.key:
                return True
        for link in head.patient.links:
            if (link.other_source or head.key[0], link.other_id) == record.key:
                return True
        return compare(record.patient, head.patient, self.match).grade.merges

    def _owners(
        self, clusters: Sequence[tuple[RecordKey, ...]], every: Mapping[RecordKey, StoredRecord]
    ) -> dict[int, list[str]]:
        """Which old persons each cluster continues: each person goes to its biggest share."""
        share: dict[str, list[tuple[int, RecordKey, int]]] = {}
        for n, cluster in enumerate(clusters):
            counts: dict[str, int] = {}
            first: dict[str, RecordKey] = {}
            for key in cluster:
                item = every.get(key)
                if item is not None:
                    counts[item.person] = counts.get(item.person, 0) + 1
                    first.setdefault(item.person, key)
            for person, count in counts.items():
                share.setdefault(person, []).append((-count, first[person], n))
        owners: dict[int, list[str]] = {}
        for person, options in share.items():
            owners.setdefault(min(options)[2], []).append(person)
        return owners

    def _apply(
        self,
        clusters: Sequence[tuple[RecordKey, ...]],
        owners: Mapping[int, list[str]],
        every: Mapping[RecordKey, StoredRecord],
        changed: Mapping[RecordKey, Prepared],
    ) -> None:
        uow = self.uow
        taken: set[str] = set()
        sizes: dict[str, int] = {}
        for item in every.values():
            sizes[item.person] = sizes.get(item.person, 0) + 1
        for n, cluster in enumerate(clusters):
            olds = owners.get(n, [])
            merged = False
            if olds:
                people = [uow.persons.get(p) for p in olds]
                ranked = sorted(
                    (p for p in people if p is not None), key=lambda p: (p.created, p.id)
                )
                survivor = ranked[0].id if ranked else olds[0]
                for alias in ranked[1:]:
                    uow.persons.put(attrs.evolve(alias, merged_into=survivor))
                    self._merge_into(alias.id, survivor)
                    merged = True
            else:
                survivor = self._new_person(cluster, every, taken)
            kept = sum(1 for k in cluster if k in every and every[k].person == survivor)
            moved = (
                merged
                or kept != sizes.get(survivor, 0)
                or any(k in changed or every[k].person != survivor for k in cluster)
            )
            if not moved:
                continue
            members: list[PatientRecord] = []
            for key in cluster:
                old = every.get(key)
                fresh = changed.get(key)
                if fresh is not None:
                    new = StoredRecord(
                        key,
                        fresh.record,
                        fresh.digest,
                        survivor,
                        fresh.updated,
                        fresh.blocks,
                        0 if old is None else old.version,
                    )
                    uow.records.put(new)
                    members.append(fresh.record)
                elif old is not None:
                    if old.person != survivor:
                        uow.records.put(attrs.evolve(old, person=survivor))
                    members.append(old.record)
            self.evaluate(survivor, members)

    def _new_person(
        self,
        cluster: tuple[RecordKey, ...],
        every: Mapping[RecordKey, StoredRecord],
        taken: set[str],
    ) -> str:
        uow = self.uow
        while True:
            pid = person_id_for(cluster[0], taken)
            taken.add(pid)
            if uow.persons.get(pid) is None:
                break
        uow.persons.put(Person(pid, self.as_of))
        self.out.created.append(pid)
        split = sorted({every[k].person for k in cluster if k in every})
        data = {"split_from": ",".join(split)} if split else {}
        uow.outbox.append(Event("person.created", pid, pid, self.as_of, data=data))
        return pid

    def _merge_into(self, alias: str, survivor: str) -> None:
        """Record a merge: the alias's gaps retired or moved, its proposals withdrawn.

        A gap state of the alias that carries human work (assigned, snoozed, dismissed,
        notes) moves to the survivor's key for the same rule and focus (joining the
        survivor's state there, if any); the others are retired, since the survivor's
        evaluation finds the gaps again under its own id. Open gaps of the alias are closed
        first (``gap.closed``), then retired (``gap.retired``). Proposals of the alias are
        withdrawn (``task.withdrawn``); accepted and rejected tasks move to the survivor,
        their gap key read through the merge, so the survivor's gap gets no second task.
        """
        uow = self.uow
        self.out.merged.append((alias, survivor))
        uow.outbox.append(Event("person.merged", alias, alias, self.as_of, data={"into": survivor}))
        moved: dict[str, str] = {}
        for state in uow.gaps.of_person(alias):
            gap = state.gap
            if gap.status in ACTIVE:
                uow.outbox.append(gap_event("gap.closed", state, self.as_of, into=survivor))
                self.out.closed.append(state.key)
            target = f"{gap.rule}|{survivor}|{gap.focus}"
            uow.outbox.append(gap_event("gap.retired", state, self.as_of, into=survivor))
            uow.gaps.delete(state.key)
            self.out.retired.append(state.key)
            moved[state.key] = target
            if has_work(state):
                self._move_work(state, survivor, target)
        for entry in uow.tasks.of_person(alias):
            if entry.state is TaskState.PROPOSED:
                self._withdraw(entry, "person merged")
            else:
                gap_key = moved.get(entry.gap or "", entry.gap)
                uow.tasks.put(attrs.evolve(entry, person=survivor, gap=gap_key))

    def _move_work(self, state: GapState, survivor: str, target: str) -> None:
        """Carry ``state``'s human work to the survivor's gap state ``target``."""
        uow = self.uow
        existing = uow.gaps.get(target)
        if existing is None:
            gap = attrs.evolve(state.gap, patient=PatientId(survivor))
            moved = attrs.evolve(state, key=target, person=survivor, gap=gap, version=0)
            put = uow.gaps.put(moved)
            if gap.status in ACTIVE:
                uow.outbox.append(gap_event("gap.opened", put, self.as_of, merged_from=state.key))
                self.out.opened.append(target)
            return
        joined = attrs.evolve(
            existing,
            assigned_to=existing.assigned_to or state.assigned_to,
            team=existing.team or state.team,
            snoozed_until=existing.snoozed_until or state.snoozed_until,
            snooze_reason=existing.snooze_reason or state.snooze_reason,
            dismissed=existing.dismissed or state.dismissed,
            dismiss_reason=existing.dismiss_reason or state.dismiss_reason,
            notes=tuple(sorted((*existing.notes, *state.notes), key=lambda n: n.at)),
        )
        if joined != existing:
            uow.gaps.put(joined)

    def _withdraw(self, entry: TaskEntry, reason: str) -> None:
        """Remove the proposal ``entry`` (its gap is no longer work): ``task.withdrawn``."""
        self.uow.tasks.delete(entry.id)
        event = _task_event(
            "task.withdrawn", entry.person, entry.task, entry.gap, self.as_of, reason=reason
        )
        self.uow.outbox.append(event)
        self.out.withdrawn.append(entry.id)

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, person: str, records: Sequence[PatientRecord]) -> None:
        """Merge ``records`` into ``person``'s profile, detect gaps and store the changes."""
        uow = self.uow
        settings = self.settings
        self.out.changed.append(person)
        profile = merge_records(records, profile_id=person, source_ranking=settings.source_ranking)
        report = detect_gaps(
            profile,
            as_of=self.as_of,
            rules=settings.rules,
            calendar=settings.calendar,
            value_sets=settings.value_sets,
            include_closed=True,
            since=settings.since,
            look_back_months=None,  # the store keeps every gap; Coordinator.worklist windows
        )
        stored = {s.key: s for s in uow.gaps.of_person(person)}
        active: dict[str, Gap] = {}
        seen: set[str] = set()
        for gap in report:
            key = gap.key
            if key in seen:
                continue
            seen.add(key)
            state = stored.get(key)
            if state is None:
                if gap.status in ACTIVE:
                    state = uow.gaps.put(GapState(key, person, gap))
                    uow.outbox.append(gap_event("gap.opened", state, self.as_of))
                    self.out.opened.append(key)
                    active[key] = gap
                continue
            old = state.gap
            if gap.status in ACTIVE:
                active[key] = gap
            if _signature(old) == _signature(gap):
                if old != gap:  # the details (summary, evidence...) moved on: kept quietly
                    state = uow.gaps.put(attrs.evolve(state, gap=gap))
                self._retire_if_done(state)
                continue
            state = uow.gaps.put(attrs.evolve(state, gap=gap))
            if old.status in ACTIVE and gap.status not in ACTIVE:
                kind, bucket = "gap.closed", self.out.closed
            elif old.status not in ACTIVE and gap.status in ACTIVE:
                kind, bucket = "gap.opened", self.out.opened
            else:
                kind, bucket = "gap.changed", self.out.gap_changed
            uow.outbox.append(gap_event(kind, state, self.as_of))
            bucket.append(key)
            self._retire_if_done(state)
        for key, left in stored.items():
            if key in seen:
                continue
            if left.gap.status in ACTIVE:
                gone = attrs.evolve(left.gap, status=GapStatus.NOT_APPLICABLE, reason=_GONE_REASON)
                left = uow.gaps.put(attrs.evolve(left, gap=gone))  # noqa: PLW2901
                uow.outbox.append(gap_event("gap.closed", left, self.as_of))
                self.out.closed.append(key)
            self._retire_if_done(left)
        self._proposals(person, active, profile)

    def _retire_if_done(self, state: GapState) -> None:
        """Remove a gap state that is no longer work and carries no human work."""
        if state.gap.status in ACTIVE or has_work(state):
            return
        self.uow.gaps.delete(state.key)
        self.uow.outbox.append(gap_event("gap.retired", state, self.as_of))
        self.out.retired.append(state.key)

    def _proposals(self, person: str, active: Mapping[str, Gap], profile: Any) -> None:
        """Keep the person's proposals in step with its open gaps and current profile.

        Only current gaps get proposals: prospective, standing, or due in the worklist
        window (:func:`~carecoord.rules.worklist_since`); an old gap stays in the store
        but asks nobody to act. A proposal whose gap is no longer work (closed, aged out
        of the window, or no longer suggested by the rules, say for a patient who died)
        is withdrawn; one whose suggestion changed (an owner
        found in a care team that arrived later, a new due date or priority) is brought
        up to date, keeping its id and when it was first suggested; a gap with no task
        entry at all gets a proposal (or a task, with ``auto_accept_tasks``). Accepted
        and rejected entries are never touched.
        """
        uow = self.uow
        settings = self.settings
        suggested: dict[str, Task] = {}
        since = worklist_since(self.as_of)
        zone = self.as_of.tzinfo
        current = sorted(k for k, gap in active.items() if gap.is_current(since, zone))
        current_keys = frozenset(current)
        if current:
            for task in suggest_tasks(
                [active[k] for k in current],
                profile,
                as_of=self.as_of,
                rules=settings.rules,
                calendar=settings.calendar,
                value_sets=settings.value_sets,
            ):
                if task.focus is not None:
                    suggested.setdefault(task.focus.id, task)
        covered: set[str] = set()
        for entry in uow.tasks.of_person(person):
            fresh = suggested.get(entry.gap) if entry.gap is not None else None
            if entry.state is TaskState.PROPOSED:
                if fresh is None:
                    self._withdraw(entry, _why_withdrawn(entry.gap, active, current_keys))
                    continue
                same = attrs.evolve(fresh, id=entry.task.id, authored_on=entry.task.authored_on)
                if same != entry.task:
                    uow.tasks.put(attrs.evolve(entry, task=same))
                    uow.outbox.append(
                        _task_event("task.changed", entry.person, same, entry.gap, self.as_of)
                    )
                    self.out.task_changed.append(entry.id)
            if entry.gap is not None:
                covered.add(entry.gap)
        for key, task in sorted(suggested.items()):
            if key in covered or uow.tasks.get(task.id) is not None:
                continue
            state = TaskState.ACCEPTED if settings.auto_accept else TaskState.PROPOSED
            uow.tasks.put(TaskEntry(task.id, person, task, state, key))
            kind = "task.created" if settings.auto_accept else "task.suggested"
            uow.outbox.append(_task_event(kind, person, task, key, self.as_of))
            (self.out.tasks if settings.auto_accept else self.out.suggested).append(task.id)


def _why_withdrawn(gap: str | None, active: Mapping[str, Gap], current: frozenset[str]) -> str:
    """Why a proposal goes: its gap closed, aged out of the window, or needs no task now."""
    if gap is None or gap not in active:
        return "gap no longer open"
    if gap not in current:
        return "gap no longer current"
    return "no task suggested for the gap"  # a task for it is recorded, or the rules say none


def _task_event(
    kind: str, person: str, task: Task, gap_key: str | None, at: dt.datetime, **data: str
) -> Event:
    """The outbox event for a task entry: ids, rule code, status, sensitivity only."""
    return Event(
        kind,
        person,
        task.id,
        at,
        rule=task.code.code if task.code is not None else None,
        status=task.status.value,
        sensitivity=tuple(sorted(s.value for s in task.sensitivity)),
        data={**({"gap": gap_key} if gap_key else {}), **data},
    )


def _older(new: dt.datetime | None, old: dt.datetime | None) -> bool:
    """Whether a copy last updated at ``new`` is older than one updated at ``old``."""
    return new is not None and old is not None and new < old
