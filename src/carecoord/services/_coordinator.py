"""The coordinator: the application service that keeps a living worklist in a store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from carecoord.domain import (
    ActivityKind,
    CoordinationActivity,
    FactId,
    PatientId,
    PatientRecord,
    Ref,
    Task,
)
from carecoord.errors import (
    InvalidTransition,
    NotFound,
    Problem,
    UsageError,
    ValidationError,
)
from carecoord.ports import (
    AccessEntry,
    Event,
    Events,
    GapNote,
    GapQuery,
    GapState,
    GapStates,
    LedgerEntries,
    LedgerEntry,
    LinkDecision,
    RecordKey,
    Store,
    TaskEntry,
    TaskState,
    Tombstone,
    UnitOfWork,
    sorted_pair,
)
from carecoord.profile import (
    MatchConfig,
    PatientProfile,
    Viewer,
    merge_records,
    view_for,
    visibility,
)
from carecoord.rules import BusinessCalendar, RuleSet, visible_gaps, worklist_since
from carecoord.services._ingest import (
    ACTIVE,
    Evaluation,
    Relinker,
    gap_event,
    identifier_keys,
    prepare,
)
from carecoord.services._model import IngestChanges, OnInvalid
from carecoord.terminology import ValueSets

__all__ = ["Coordinator"]

_TASK_ACTIONS = frozenset(
    {"receive", "accept", "make_ready", "start", "complete", "fail", "cancel", "hold", "resume"}
)
_WITH_REASON = frozenset({"fail", "cancel", "hold"})


def _aware(name: str, value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise UsageError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(Problem(name, "naive datetime (a time zone is required)"))
    return value


def _records_of(data: object) -> list[object]:
    records = getattr(data, "records", None)
    if records is not None:
        return list(records)
    if isinstance(data, PatientRecord):
        return [data]
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        return list(data)
    raise UsageError("ingest takes a read result, a PatientRecord or an iterable of them")


class Coordinator:
    """Keeps persons, gaps, tasks and their human state in a store, across runs.

    ``Coordinator(store)`` uses the default rules, a weekends-only calendar and the shipped
    value sets; pass ``rules``, ``calendar``, ``value_sets`` and ``match`` (a
    :class:`~carecoord.profile.MatchConfig`) as to :func:`carecoord.detect_gaps` and
    :func:`carecoord.link_records`. With ``auto_accept_tasks=True`` suggested tasks become
    tasks at once instead of proposals. ``since`` bounds when gap clocks started (see
    :func:`carecoord.detect_gaps`).

    Every call that changes something runs in one unit of work (or in the one passed as
    ``unit_of_work``, which the caller then commits), records its events in the outbox in
    that same unit, and records human actions in the activity ledger.
    """

    def __init__(
        self,
        store: Store,
        *,
        rules: RuleSet | Sequence[Any] | None = None,
        calendar: BusinessCalendar | None = None,
        value_sets: ValueSets | None = None,
        match: MatchConfig | None = None,
        source_ranking: Sequence[str] = (),
        auto_accept_tasks: bool = False,
        since: dt.date | None = None,
    ) -> None:
        if not callable(getattr(store, "unit_of_work", None)):
            raise UsageError("store must provide unit_of_work() (see carecoord.ports.Store)")
        self._store = store
        self._match = match if match is not None else MatchConfig()
        self._settings = Evaluation(
            rules, calendar, value_sets, since, tuple(source_ranking), auto_accept_tasks
        )

    def __repr__(self) -> str:
        return f"Coordinator({type(self._store).__name__})"

    @property
    def store(self) -> Store:
        """The store this coordinator keeps its state in."""
        return self._store

    @contextmanager
    def _work(self, unit_of_work: UnitOfWork | None) -> Iterator[UnitOfWork]:
        if unit_of_work is not None:
            yield unit_of_work
            return
        with self._store.unit_of_work() as uow:
            yield uow
            uow.commit()

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        data: object,
        *,
        as_of: dt.datetime,
        on_invalid: OnInvalid = "skip",
        unit_of_work: UnitOfWork | None = None,
    ) -> IngestChanges:
        """Take records (what ``fhir.read`` returns, or patient records); say what changed.

        A record seen before with the same content changes nothing; a newer version
        (its source's ``retrieved_at``) replaces the stored one, an older one is skipped.
        Only the persons the records touch are re-linked (the stored records sharing a
        blocking key or an explicit link with them, and their persons) and re-evaluated at
        ``as_of``. A person keeps its id as records join it; when records bring two
        persons together the one created first survives and the other becomes its alias.
        Human link decisions are honoured every time. Inputs that are not valid records
        are skipped and reported (``on_invalid="skip"``), or the whole input is refused
        with a :class:`~carecoord.errors.ValidationError` before anything is stored
        (``on_invalid="refuse"``); records of an erased person are skipped as
        ``"erased on request"``.
        """
        as_of = _aware("as_of", as_of)
        if on_invalid not in ("skip", "refuse"):
            raise UsageError("on_invalid must be 'skip' or 'refuse'")
        items = _records_of(data)
        ready, skipped = prepare(items, self._match)
        if skipped and on_invalid == "refuse":
            problems = [Problem(f"[{s.index}]", s.reason) for s in skipped]
            raise ValidationError(problems, what="input (nothing was stored)")
        with self._work(unit_of_work) as uow:
            return Relinker(uow, self._settings, self._match, as_of).ingest(ready, skipped)

    def refresh(
        self,
        as_of: dt.datetime,
        *,
        persons: Iterable[str] | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> IngestChanges:
        """Re-evaluate ``persons`` (every person when ``None``) at ``as_of``: time passes.

        Prospective gaps whose due date passed open, and so on; nothing is re-linked.
        """
        as_of = _aware("as_of", as_of)
        with self._work(unit_of_work) as uow:
            relinker = Relinker(uow, self._settings, self._match, as_of)
            wanted = uow.persons.ids() if persons is None else tuple(persons)
            for given in wanted:
                person = self._resolve(uow, given)
                records = [s.record for s in uow.records.of_person(person)]
                if records:
                    relinker.evaluate(person, records)
            return relinker.out.result()

    def decide_link(
        self,
        left: RecordKey,
        right: RecordKey,
        *,
        same_person: bool,
        actor: str,
        as_of: dt.datetime,
        reason: str = "",
        unit_of_work: UnitOfWork | None = None,
    ) -> IngestChanges:
        """Record a human decision that two records are (or are not) the same person.

        The decision is kept and honoured by every later ingest; the persons holding the
        two records are re-linked now (``same_person=False`` splits them, keeping the
        person's id with the larger part). Recorded in the ledger (``link.decide``, under
        the person of the first record) without the reason: a reason about two people is
        kept with the decision only, so erasing either person erases it.

        Raises:
            NotFound: if either record is not stored.

        """
        as_of = _aware("as_of", as_of)
        a, b = sorted_pair(tuple(left), tuple(right))  # type: ignore[arg-type]
        if a == b:
            raise UsageError("a link decision needs two different records")
        with self._work(unit_of_work) as uow:
            found = uow.records.get_many((a, b))
            if len(found) != 2:
                raise NotFound("no stored record with that key")
            uow.decisions.put(LinkDecision(a, b, same_person, actor, as_of, reason))
            person = found[a].person
            uow.ledger.append(
                LedgerEntry(
                    person,
                    "link.decide",
                    person,
                    actor,
                    as_of,
                    ActivityKind.RECORD_REVIEW,
                    detail={"same_person": "yes" if same_person else "no"},
                )
            )
            relinker = Relinker(uow, self._settings, self._match, as_of)
            relinker.relink({}, (a, b))
            return relinker.out.result()

    # ------------------------------------------------------------------ reading

    def _resolve(self, uow: UnitOfWork, person: str) -> str:
        current = uow.persons.resolve(person)
        if current is None:
            raise NotFound("no person with that id")
        return current

    def resolve(self, person: str) -> str:
        """The current id of ``person`` (the survivor, for an alias).

        Raises:
            NotFound: if no person has that id.

        """
        with self._store.unit_of_work() as uow:
            return self._resolve(uow, person)

    def persons(self) -> tuple[str, ...]:
        """Every current person id (aliases left out), sorted."""
        with self._store.unit_of_work() as uow:
            return uow.persons.ids()

    def records_of(self, person: str) -> tuple[RecordKey, ...]:
        """The keys of ``person``'s records (after following an alias), sorted."""
        with self._store.unit_of_work() as uow:
            return tuple(s.key for s in uow.records.of_person(self._resolve(uow, person)))

    def profile(
        self, person: str, *, as_of: dt.datetime, viewer: Viewer | None = None, actor: str = ""
    ) -> PatientProfile:
        """``person``'s profile, as ``viewer`` may see it at ``as_of`` (all of it without one).

        The read is written to the access log (viewer, or ``actor``, person, ``"profile"``).

        Raises:
            NotFound: if no person has that id.
            ConsentError: the viewer may not look in the role they ask for.

        """
        as_of = _aware("as_of", as_of)
        with self._store.unit_of_work() as uow:
            pid = self._resolve(uow, person)
            profile = self._profile(uow, pid)
            if viewer is not None:
                profile = view_for(profile, viewer, at=as_of, value_sets=self._settings.value_sets)
            uow.access.append(AccessEntry(_who(viewer, actor), pid, "profile", as_of))
            uow.commit()
        return profile

    def _profile(self, uow: UnitOfWork, person: str) -> PatientProfile:
        records = [s.record for s in uow.records.of_person(person)]
        if not records:
            raise NotFound("the person has no records")
        return merge_records(
            records, profile_id=person, source_ranking=self._settings.source_ranking
        )

    def worklist(
        self,
        as_of: dt.datetime,
        *,
        viewer: Viewer | None = None,
        actor: str = "",
        owner: str | None = None,
        team: str | None = None,
        family: str | Iterable[str] | None = None,
        severity: str | Iterable[str] | None = None,
        due_before: dt.date | None = None,
        due_since: dt.date | None = None,
        persons: Iterable[str] | None = None,
        include_snoozed: bool = False,
        include_dismissed: bool = False,
        include_closed: bool = False,
    ) -> GapStates:
        """The gaps to work at ``as_of``, most urgent first (due date, then severity).

        Open and prospective gaps (closed ones too with ``include_closed``), filtered by
        ``owner`` (assigned to), ``team``, rule ``family`` and ``severity`` (a value or
        several), ``due_before`` and ``persons``. Gaps snoozed past ``as_of``'s date and
        dismissed gaps are left out unless asked for. ``due_since`` (default: twelve
        months before ``as_of``, as :func:`carecoord.rules.worklist` does) hides older
        gaps that are not prospective or standing. Given a ``viewer``, a gap is shown only
        when the viewer may see every fact it rests on (the consent views), and every
        person shown is written to the access log (``"worklist"``).

        A :class:`~carecoord.ports.GapStates` tuple: ``.to_records()``, ``.to_pandas()``
        (:data:`~carecoord.ports.GAP_STATE_COLUMNS`) and ``.display()`` in a notebook (the
        reasons and note texts people wrote masked unless ``show_personal_data=True``).
        """
        as_of = _aware("as_of", as_of)
        query = GapQuery(
            persons=None if persons is None else frozenset(persons),
            statuses=None if include_closed else frozenset(s.value for s in ACTIVE),
            owner=owner,
            team=team,
            families=_names(family),
            severities=_names(severity),
            due_before=due_before,
            include_dismissed=include_dismissed,
        )
        today = as_of.date()
        since = due_since if due_since is not None else worklist_since(as_of)
        with self._store.unit_of_work() as uow:
            states = [
                s
                for s in uow.gaps.query(query)
                if (include_snoozed or not _snoozed(s, today)) and _recent(s, since)
            ]
            if viewer is not None:
                states = self._visible(uow, states, viewer, as_of)
                for pid in sorted({s.person for s in states}):
                    uow.access.append(AccessEntry(_who(viewer, actor), pid, "worklist", as_of))
                uow.commit()
        states.sort(key=lambda s: (_due(s), -s.gap.severity.rank, s.key))
        return GapStates(states)

    def _visible(
        self, uow: UnitOfWork, states: list[GapState], viewer: Viewer, as_of: dt.datetime
    ) -> list[GapState]:
        """The states whose gaps ``viewer`` may see (see ``rules.visible_gaps``).

        A gap is left out when its focus or evidence names a fact hidden from the viewer
        or its sensitivity holds a class the viewer may not see.
        """
        kept: list[GapState] = []
        for pid in sorted({s.person for s in states}):
            seen = visibility(
                self._profile(uow, pid), viewer, at=as_of, value_sets=self._settings.value_sets
            )
            mine = [s for s in states if s.person == pid]
            shown = {id(g) for g in visible_gaps([s.gap for s in mine], seen)}
            kept.extend(s for s in mine if id(s.gap) in shown)
        order = {id(s): i for i, s in enumerate(states)}
        return sorted(kept, key=lambda s: order[id(s)])

    def gap(
        self,
        key: str,
        *,
        viewer: Viewer | None = None,
        as_of: dt.datetime | None = None,
        actor: str = "",
    ) -> GapState:
        """The state of the gap with ``key``.

        Given a ``viewer`` (and ``as_of``), a gap resting on a fact the viewer may not see
        is reported as not found, and the read is written to the access log (``"gap"``).

        Raises:
            NotFound: if there is none (or the viewer may not see it).

        """
        # A viewer's as_of is checked before the lookup, so the error does not say whether
        # the gap exists.
        when = _aware("as_of", as_of) if viewer is not None else None
        with self._store.unit_of_work() as uow:
            state = uow.gaps.get(key)
            if state is None:
                raise NotFound("no gap with that key")
            if viewer is not None and when is not None:
                if not self._visible(uow, [state], viewer, when):
                    raise NotFound("no gap with that key")
                uow.access.append(AccessEntry(_who(viewer, actor), state.person, "gap", when))
                uow.commit()
        return state

    def events(self, *, after: int = 0, limit: int | None = None) -> Events:
        """The outbox events after position ``after`` (a consumer's cursor), in order.

        An :class:`~carecoord.ports.Events` tuple: ``.to_records()`` and ``.to_pandas()``
        give rows (:data:`~carecoord.ports.EVENT_COLUMNS`).

        Delivery is at least once: a consumer stores the last position it handled and
        reads after it; events about one person are in the order they happened.
        """
        if after < 0:
            raise UsageError("after must be a position (0 or more)")
        with self._store.unit_of_work() as uow:
            return Events(uow.outbox.read(after=after, limit=limit))

    def access_log(self, *, person: str | None = None) -> tuple[AccessEntry, ...]:
        """Who viewed what through this coordinator (about ``person`` when given)."""
        with self._store.unit_of_work() as uow:
            return uow.access.read(person=person)

    def ledger(self, person: str) -> LedgerEntries:
        """The activity ledger of ``person`` (after following an alias), oldest first.

        A :class:`~carecoord.ports.LedgerEntries` tuple: ``.to_records()`` and
        ``.to_pandas()`` give rows (:data:`~carecoord.ports.LEDGER_COLUMNS`).
        """
        with self._store.unit_of_work() as uow:
            return LedgerEntries(uow.ledger.of_person(uow.persons.resolve(person) or person))

    def activities(self, person: str) -> tuple[CoordinationActivity, ...]:
        """``person``'s ledger as coordination activities, for the existing summaries.

        Pass them to :func:`carecoord.minutes_by_kind`, or add them to a record to have
        :func:`carecoord.profile.patient_summary` count them.
        """
        out = []
        for entry in self.ledger(person):
            performer = Ref("Practitioner", entry.actor) if entry.actor else _REDACTED
            out.append(
                CoordinationActivity(
                    id=FactId(f"ledger-{entry.id}"),
                    patient=PatientId(entry.person),
                    kind=entry.kind,
                    performer=performer,
                    at=entry.at,
                    minutes=entry.minutes,
                    note=None,
                )
            )
        return tuple(out)

    # ------------------------------------------------------------------ gap state

    def _change_gap(
        self,
        key: str,
        action: str,
        change: Callable[[GapState], GapState],
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        kind: ActivityKind,
        minutes: int,
        expected_version: int | None,
        unit_of_work: UnitOfWork | None,
        detail: dict[str, str] | None = None,
    ) -> GapState:
        at = _aware("at", at)
        if not actor:
            raise UsageError("actor must name who acts")
        with self._work(unit_of_work) as uow:
            state = uow.gaps.get(key)
            if state is None:
                raise NotFound("no gap with that key")
            if expected_version is not None:
                state = attrs.evolve(state, version=expected_version)
            state = uow.gaps.put(change(state))
            uow.ledger.append(
                LedgerEntry(
                    state.person,
                    action,
                    key,
                    actor,
                    at,
                    kind,
                    minutes,
                    reason=reason,
                    detail=detail or {},
                )
            )
            uow.outbox.append(gap_event(action, state, at))
            return state

    def assign(
        self,
        key: str,
        to: str | None,
        *,
        actor: str,
        at: dt.datetime,
        team: str | None = None,
        reason: str = "",
        kind: ActivityKind = ActivityKind.OTHER,
        minutes: int = 0,
        expected_version: int | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> GapState:
        """Assign the gap ``key`` to ``to`` (``None`` unassigns), within ``team``.

        Recorded in the ledger and the outbox as ``gap.assigned``. With
        ``expected_version`` (the version the caller read), a gap changed since raises
        :class:`~carecoord.errors.ConflictError`.
        """
        return self._change_gap(
            key,
            "gap.assigned",
            lambda s: attrs.evolve(s, assigned_to=to, team=team if team else s.team),
            actor=actor,
            at=at,
            reason=reason,
            kind=kind,
            minutes=minutes,
            expected_version=expected_version,
            unit_of_work=unit_of_work,
        )

    def snooze(
        self,
        key: str,
        until: dt.date,
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        kind: ActivityKind = ActivityKind.OTHER,
        minutes: int = 0,
        expected_version: int | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> GapState:
        """Hide the gap from the worklist until ``until`` (a date), saying why."""
        given: object = until
        if not isinstance(given, dt.date) or isinstance(given, dt.datetime):
            raise UsageError("until must be a date")
        if not reason:
            raise ValidationError(Problem("reason", "a snooze needs a reason"))
        return self._change_gap(
            key,
            "gap.snoozed",
            lambda s: attrs.evolve(s, snoozed_until=until, snooze_reason=reason),
            actor=actor,
            at=at,
            reason=reason,
            kind=kind,
            minutes=minutes,
            expected_version=expected_version,
            unit_of_work=unit_of_work,
        )

    def dismiss(
        self,
        key: str,
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        kind: ActivityKind = ActivityKind.OTHER,
        minutes: int = 0,
        expected_version: int | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> GapState:
        """Dismiss the gap (it leaves the worklist; the rule may still find it), saying why."""
        if not reason:
            raise ValidationError(Problem("reason", "a dismissal needs a reason"))
        return self._change_gap(
            key,
            "gap.dismissed",
            lambda s: attrs.evolve(s, dismissed=True, dismiss_reason=reason),
            actor=actor,
            at=at,
            reason=reason,
            kind=kind,
            minutes=minutes,
            expected_version=expected_version,
            unit_of_work=unit_of_work,
        )

    def reopen(
        self,
        key: str,
        *,
        actor: str,
        at: dt.datetime,
        reason: str = "",
        expected_version: int | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> GapState:
        """Undo a dismissal and a snooze: the gap is back on the worklist."""
        return self._change_gap(
            key,
            "gap.reopened",
            lambda s: attrs.evolve(
                s, dismissed=False, dismiss_reason=None, snoozed_until=None, snooze_reason=None
            ),
            actor=actor,
            at=at,
            reason=reason,
            kind=ActivityKind.OTHER,
            minutes=0,
            expected_version=expected_version,
            unit_of_work=unit_of_work,
        )

    def add_note(
        self,
        key: str,
        text: str,
        *,
        actor: str,
        at: dt.datetime,
        kind: ActivityKind = ActivityKind.OTHER,
        minutes: int = 0,
        expected_version: int | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> GapState:
        """Add a note to the gap (kept with it across runs; never in events)."""
        if not text.strip():
            raise ValidationError(Problem("text", "a note needs text"))
        at = _aware("at", at)
        return self._change_gap(
            key,
            "gap.noted",
            lambda s: attrs.evolve(s, notes=(*s.notes, GapNote(actor, at, text))),
            actor=actor,
            at=at,
            reason="",
            kind=kind,
            minutes=minutes,
            expected_version=expected_version,
            unit_of_work=unit_of_work,
        )

    # ------------------------------------------------------------------ tasks

    def tasks(
        self,
        *,
        person: str | None = None,
        state: TaskState | None = None,
        viewer: Viewer | None = None,
        as_of: dt.datetime | None = None,
    ) -> tuple[TaskEntry, ...]:
        """Task proposals and tasks, of ``person`` and/or in ``state``, sorted by id.

        Given a ``viewer`` (and ``as_of``), the tasks of gaps the viewer may not see are
        left out (see :meth:`worklist`).
        """
        # Checked before any lookup, so the error does not say whether the person exists.
        when = _aware("as_of", as_of) if viewer is not None else None
        with self._store.unit_of_work() as uow:
            if person is not None:
                entries = uow.tasks.of_person(self._resolve(uow, person))
                found = tuple(e for e in entries if state is None or e.state is state)
            elif state is not None:
                found = uow.tasks.with_state(state)
            else:
                found = tuple(e for s in TaskState for e in uow.tasks.with_state(s))
                found = tuple(sorted(found, key=lambda e: e.id))
            if viewer is None or when is None:
                return found
            states = [g for e in found if e.gap and (g := uow.gaps.get(e.gap)) is not None]
            shown = {g.key for g in self._visible(uow, states, viewer, when)}
            kept = tuple(e for e in found if e.gap is None or e.gap in shown)
            for pid in sorted({e.person for e in kept}):
                uow.access.append(AccessEntry(_who(viewer, ""), pid, "tasks", when))
            uow.commit()
            return kept

    def _change_task(
        self,
        task_id: str,
        action: str,
        change: Callable[[TaskEntry], TaskEntry],
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        kind: ActivityKind,
        minutes: int,
        unit_of_work: UnitOfWork | None,
    ) -> TaskEntry:
        at = _aware("at", at)
        if not actor:
            raise UsageError("actor must name who acts")
        with self._work(unit_of_work) as uow:
            entry = uow.tasks.get(task_id)
            if entry is None:
                raise NotFound("no task with that id")
            entry = uow.tasks.put(change(entry))
            uow.ledger.append(
                LedgerEntry(entry.person, action, task_id, actor, at, kind, minutes, reason)
            )
            uow.outbox.append(
                Event(
                    action,
                    entry.person,
                    task_id,
                    at,
                    rule=entry.task.code.code if entry.task.code is not None else None,
                    status=entry.task.status.value,
                    sensitivity=tuple(sorted(s.value for s in entry.task.sensitivity)),
                    data={"state": entry.state.value},
                )
            )
            return entry

    def accept_task(
        self,
        task_id: str,
        *,
        actor: str,
        at: dt.datetime,
        owner: Ref | None = None,
        unit_of_work: UnitOfWork | None = None,
    ) -> TaskEntry:
        """Turn a proposal into a task (event ``task.created``), owned by ``owner`` if given.

        Raises:
            InvalidTransition: if the entry is not a proposal.

        """

        def accept(entry: TaskEntry) -> TaskEntry:
            _expect(entry, TaskState.PROPOSED, TaskState.ACCEPTED)
            task = entry.task
            if owner is not None:
                task = task.assign(owner, at=at, by=Ref("Practitioner", actor))
            return attrs.evolve(entry, task=task, state=TaskState.ACCEPTED)

        return self._change_task(
            task_id,
            "task.created",
            accept,
            actor=actor,
            at=at,
            reason="",
            kind=ActivityKind.OTHER,
            minutes=0,
            unit_of_work=unit_of_work,
        )

    def reject_task(
        self,
        task_id: str,
        *,
        actor: str,
        at: dt.datetime,
        reason: str,
        unit_of_work: UnitOfWork | None = None,
    ) -> TaskEntry:
        """Decline a proposal (event ``task.rejected``); it is not suggested again."""

        def reject(entry: TaskEntry) -> TaskEntry:
            _expect(entry, TaskState.PROPOSED, TaskState.REJECTED)
            return attrs.evolve(entry, state=TaskState.REJECTED)

        return self._change_task(
            task_id,
            "task.rejected",
            reject,
            actor=actor,
            at=at,
            reason=reason,
            kind=ActivityKind.OTHER,
            minutes=0,
            unit_of_work=unit_of_work,
        )

    def update_task(
        self,
        task_id: str,
        action: str,
        *,
        actor: str,
        at: dt.datetime,
        reason: str = "",
        kind: ActivityKind = ActivityKind.OTHER,
        minutes: int = 0,
        unit_of_work: UnitOfWork | None = None,
    ) -> TaskEntry:
        """Move an accepted task through its lifecycle: ``action`` is a :class:`Task` method.

        One of ``receive``, ``accept``, ``make_ready``, ``start``, ``complete``, ``fail``,
        ``cancel``, ``hold``, ``resume``; event ``task.updated``.

        Raises:
            InvalidTransition: if the task's lifecycle does not allow it, or the entry is a
                proposal not yet accepted.

        """
        if action not in _TASK_ACTIONS:
            allowed = ", ".join(sorted(_TASK_ACTIONS))
            raise UsageError(f"unknown task action: expected one of {allowed}")

        def update(entry: TaskEntry) -> TaskEntry:
            _expect(entry, TaskState.ACCEPTED, TaskState.ACCEPTED)
            method: Callable[..., Task] = getattr(entry.task, action)
            by = Ref("Practitioner", actor)
            if action in _WITH_REASON:
                task = method(at=at, by=by, reason=reason or None)
            else:
                task = method(at=at, by=by)
            return attrs.evolve(entry, task=task)

        return self._change_task(
            task_id,
            "task.updated",
            update,
            actor=actor,
            at=at,
            reason=reason,
            kind=kind,
            minutes=minutes,
            unit_of_work=unit_of_work,
        )

    # ------------------------------------------------------------------ privacy

    def erase_person(
        self,
        person: str,
        *,
        actor: str,
        reason: str,
        at: dt.datetime,
        unit_of_work: UnitOfWork | None = None,
    ) -> Tombstone:
        """Erase ``person``'s data on request, leaving a tombstone.

        Removes the records, link decisions, worklist state, tasks and the person (and its
        aliases); redacts the content of their outbox events and ledger entries, which keep
        their positions and ids so cursors and counts stay consistent; emits
        ``person.erased``. A later ingest of the erased records is skipped as
        ``"erased on request"`` until :meth:`lift_tombstone`.

        Raises:
            NotFound: if no person has that id.

        """
        at = _aware("at", at)
        if not actor or not reason:
            raise UsageError("erasure needs an actor and a reason")
        with self._work(unit_of_work) as uow:
            pid = self._resolve(uow, person)
            ids = (pid, *uow.persons.aliases(pid))
            stored = uow.records.of_person(pid)
            keys = tuple(s.key for s in stored)
            blocked = (*keys, *dict.fromkeys(k for s in stored for k in identifier_keys(s.record)))
            for key in keys:
                uow.records.delete(key)
            uow.decisions.delete_involving(keys)
            positions: list[int] = []
            for each in ids:
                uow.gaps.delete_person(each)
                uow.tasks.delete_person(each)
                uow.ledger.redact_person(each)
                positions.extend(uow.outbox.redact_person(each))
                uow.persons.delete(each)
            tombstone = Tombstone(pid, blocked, at, actor, reason, tuple(sorted(positions)))
            uow.tombstones.put(tombstone)
            uow.ledger.append(
                LedgerEntry(pid, "person.erase", pid, actor, at, ActivityKind.OTHER, reason="")
            )
            uow.outbox.append(Event("person.erased", pid, pid, at))
            return tombstone

    def lift_tombstone(
        self,
        person: str,
        *,
        actor: str,
        reason: str,
        at: dt.datetime,
        unit_of_work: UnitOfWork | None = None,
    ) -> None:
        """Allow the erased person's records to be ingested again.

        Raises:
            NotFound: if there is no tombstone for ``person``.

        """
        at = _aware("at", at)
        with self._work(unit_of_work) as uow:
            if not uow.tombstones.delete(person):
                raise NotFound("no tombstone for that person")
            uow.ledger.append(
                LedgerEntry(person, "tombstone.lift", person, actor, at, reason=reason)
            )
            uow.outbox.append(Event("person.tombstone-lifted", person, person, at))


_REDACTED = Ref("Organization", "redacted")


def _expect(entry: TaskEntry, state: TaskState, to: TaskState) -> None:
    if entry.state is not state:
        raise InvalidTransition("TaskEntry", entry.state.value, to.value, (state.value,))


def _who(viewer: Viewer | None, actor: str) -> str:
    if viewer is not None:
        return str(viewer.ref)
    return actor or "unspecified"


def _shown(state: GapState, hidden: set[str] | None) -> bool:
    if hidden is None:
        return False
    return not any(e.ref.id in hidden for e in state.gap.evidence)


def _names(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def _snoozed(state: GapState, today: dt.date) -> bool:
    until = state.snoozed_until or state.gap.snoozed_until
    return until is not None and until > today


def _due(state: GapState) -> dt.date:
    due = state.gap.due
    return due.date() if isinstance(due, dt.datetime) else due


def _recent(state: GapState, since: dt.date) -> bool:
    gap = state.gap
    return gap.status.value == "prospective" or gap.standing or _due(state) >= since
