"""Side-by-side reconciliation of the medication, allergy and problem lists.

ONC 170.315(b)(2) asks a system to show at least two sources side by side, each with its
source and last-modification date, and to produce one reconciled list each of
medications, allergies and problems. :func:`reconciliation_view` shows every source of a
profile as a column and every (folded) item of the list as a row, with the
discrepancies found by the merge; :func:`record_reconciliation` turns the reconciler's
decisions into a :class:`~carecoord.Reconciliation` fact that gap rules can see, and
:func:`with_reconciliation` adds it to the profile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from carecoord.domain import (
    Allergy,
    Condition,
    FactId,
    ListKind,
    Medication,
    PatientId,
    Reconciliation,
    ReconciliationDecision,
    Ref,
    masked,
)
from carecoord.errors import ConflictError, Problem, ValidationError
from carecoord.profile._model import ConflictKind, Fact, FactConflict, PatientProfile, Provenance

__all__ = [
    "RECONCILIATION_ACTIONS",
    "ReconciliationEntry",
    "ReconciliationRow",
    "ReconciliationView",
    "SourceColumn",
    "reconciliation_item",
    "reconciliation_view",
    "record_reconciliation",
    "with_reconciliation",
]

RECONCILIATION_ACTIONS = frozenset({"keep", "stop", "change", "add", "remove"})
"""The actions a :class:`~carecoord.ReconciliationDecision` may take."""

_FIELDS = {
    ListKind.MEDICATIONS: ("medications", "Medication"),
    ListKind.ALLERGIES: ("allergies", "Allergy"),
    ListKind.PROBLEMS: ("conditions", "Condition"),
}

_ITEM_TYPES = {kind: item_type for kind, (_, item_type) in _FIELDS.items()}

_KINDS = {
    ListKind.MEDICATIONS: frozenset(
        {
            ConflictKind.MEDICATION_OMISSION,
            ConflictKind.MEDICATION_DOSE,
            ConflictKind.MEDICATION_FREQUENCY,
            ConflictKind.MEDICATION_ROUTE,
            ConflictKind.MEDICATION_STATUS,
        }
    ),
    ListKind.ALLERGIES: frozenset({ConflictKind.ALLERGY_VS_NKA}),
    ListKind.PROBLEMS: frozenset({ConflictKind.PROBLEM_STATUS}),
}


@attrs.frozen
class SourceColumn:
    """One source shown side by side: id, name, retrieval time and latest change in the list."""

    source: str
    name: str | None
    retrieved_at: dt.datetime | None
    last_modified: dt.datetime | None


@attrs.frozen
class ReconciliationEntry:
    """One source's version of a list item, with its last-modification date."""

    source: str
    record: str
    fact_id: str
    text: str = attrs.field(repr=masked)
    status: str
    last_modified: dt.datetime | None
    retrieved_at: dt.datetime | None


@attrs.frozen
class ReconciliationRow:
    """One item of the list: its key, each source's version (``None`` when absent), issues.

    ``entries`` has one cell per column of the view, in the same order.
    """

    fact: str
    list_kind: ListKind
    display: str = attrs.field(repr=masked)
    current: bool
    entries: tuple[ReconciliationEntry | None, ...]
    discrepancies: tuple[FactConflict, ...]

    @property
    def item(self) -> Ref:
        """The reference a :class:`~carecoord.ReconciliationDecision` uses for this row."""
        return Ref(_ITEM_TYPES[self.list_kind], self.fact)


@attrs.frozen
class ReconciliationView:
    """A list shown side by side across every source of a profile.

    ``columns`` are the profile's sources (each with source id and last-modified date);
    ``rows`` the folded items, current ones first; ``last_reconciled`` the latest recorded
    reconciliation of this list, if any.
    """

    list_kind: ListKind
    columns: tuple[SourceColumn, ...]
    rows: tuple[ReconciliationRow, ...]
    last_reconciled: Reconciliation | None = None

    @property
    def discrepancies(self) -> tuple[FactConflict, ...]:
        """Every discrepancy of every row."""
        return tuple(c for row in self.rows for c in row.discrepancies)

    def render(self) -> str:
        """A plain-text table: one column per source, one line per item and discrepancy."""
        headers = ["Item"] + [
            f"{c.source} ({_date(c.last_modified or c.retrieved_at)})" for c in self.columns
        ]
        table = [headers]
        table.extend([row.display, *(_cell(e) for e in row.entries)] for row in self.rows)
        widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in table
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.extend(
            f"! {row.display}: {conflict.kind.value}"
            for row in self.rows
            for conflict in row.discrepancies
        )
        return "\n".join(lines) + "\n"


def _cell(entry: ReconciliationEntry | None) -> str:
    if entry is None:
        return "-"
    return f"{entry.text} [{entry.status}, {_date(entry.last_modified)}]"


def _date(stamp: dt.datetime | None) -> str:
    return stamp.date().isoformat() if stamp is not None else "date unknown"


def _medication_text(med: Medication) -> str:
    parts = [str(med.code)]
    if med.dose is not None:
        parts.append(str(med.dose))
    if med.route is not None:
        parts.append(str(med.route))
    if med.frequency:
        parts.append(med.frequency)
    return " ".join(parts)


def _item_name(value: Any) -> str:
    if getattr(value, "no_known", False):
        return "No known allergies"
    return str(value.code)


def _describe(kind: ListKind, value: Any) -> tuple[str, str, bool]:
    """(text, status, current) of one version of an item."""
    if kind is ListKind.MEDICATIONS:
        med: Medication = value
        return _medication_text(med), med.status.value, med.status.is_current
    if kind is ListKind.ALLERGIES:
        allergy: Allergy = value
        text = "No known allergies" if allergy.no_known else str(allergy.code)
        if allergy.criticality:
            text += f" (criticality {allergy.criticality})"
        return text, allergy.clinical_status.value, allergy.clinical_status.is_active
    condition: Condition = value
    status = f"{condition.clinical_status.value}/{condition.verification_status.value}"
    return str(condition.code), status, condition.is_active


def reconciliation_view(profile: PatientProfile, list_kind: ListKind) -> ReconciliationView:
    """The ``list_kind`` list of ``profile`` with every source side by side.

    Every source that contributed a record is a column, including sources that say
    nothing about this list (so an omission shows as an empty cell). Each cell gives the
    source's text, status and last-modified date; each row lists its discrepancies.
    """
    field, _ = _FIELDS[list_kind]
    facts: tuple[Fact[Any], ...] = getattr(profile, field)
    sources: dict[str, SourceColumn] = {}
    for record in sorted(profile.records, key=lambda r: r.key):
        sources.setdefault(
            record.source.id,
            SourceColumn(record.source.id, record.source.name, record.source.retrieved_at, None),
        )
    retrieved = {r.key: r.source.retrieved_at for r in profile.records}
    conflicts: dict[str, list[FactConflict]] = {}
    for conflict in profile.conflicts:
        if conflict.kind in _KINDS[list_kind] and conflict.subject is not None:
            conflicts.setdefault(conflict.subject, []).append(conflict)
    rows = []
    latest: dict[str, dt.datetime] = {}
    for fact in facts:
        cells: dict[str, ReconciliationEntry] = {}
        for prov, variant in zip(fact.provenance, fact.variants, strict=True):
            if prov.source in cells:
                continue
            text, status, _ = _describe(list_kind, variant)
            cells[prov.source] = ReconciliationEntry(
                source=prov.source,
                record=prov.record,
                fact_id=prov.fact_id,
                text=text,
                status=status,
                last_modified=prov.last_modified,
                retrieved_at=retrieved.get((prov.source, prov.record)),
            )
            if prov.last_modified is not None:
                previous = latest.get(prov.source)
                latest[prov.source] = max(prov.last_modified, previous or prov.last_modified)
        _, _, current = _describe(list_kind, fact.value)
        display = _item_name(fact.value)
        rows.append(
            ReconciliationRow(
                fact=fact.key,
                list_kind=list_kind,
                display=display,
                current=any(_describe(list_kind, v)[2] for v in fact.variants) or current,
                entries=tuple(cells.get(source) for source in sources),
                discrepancies=tuple(conflicts.get(fact.key, ())),
            )
        )
    rows.sort(key=lambda r: (not r.current, r.display.casefold(), r.fact))
    columns = tuple(attrs.evolve(c, last_modified=latest.get(c.source)) for c in sources.values())
    done = [f.value for f in profile.reconciliations if f.value.list is list_kind]
    last = max(done, key=lambda r: (r.at, r.id), default=None)
    return ReconciliationView(list_kind, columns, tuple(rows), last)


def reconciliation_item(list_kind: ListKind, fact: Fact[Any]) -> Ref:
    """The reference a decision uses for ``fact``: ``Ref("Medication", fact.key)``..."""
    return Ref(_ITEM_TYPES[list_kind], fact.key)


def _check_aware(name: str, value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(Problem(name, "naive datetime (a time zone is required)"))


def record_reconciliation(
    profile: PatientProfile,
    list_kind: ListKind,
    *,
    performer: Ref,
    at: dt.datetime,
    decisions: Sequence[ReconciliationDecision] = (),
    id: str | None = None,
) -> Reconciliation:
    """A :class:`~carecoord.Reconciliation` of ``list_kind`` by ``performer`` at ``at``.

    Each decision's ``action`` must be one of :data:`RECONCILIATION_ACTIONS`; its ``item``
    must name an item of the list (``Ref("Medication", "<fact key>")``, see
    :func:`reconciliation_item`; any source's ``"<source>/<fact id>"`` is accepted), except
    for ``"add"``, which brings in something no source lists. ``sources`` records every
    source of the profile; the id defaults to ``reconciliation-<list>-<UTC instant>``.
    """
    _check_aware("at", at)
    field, item_type = _FIELDS[list_kind]
    known = {f"{p.source}/{p.fact_id}" for fact in getattr(profile, field) for p in fact.provenance}
    problems: list[Problem] = []
    for index, decision in enumerate(decisions):
        if decision.action not in RECONCILIATION_ACTIONS:
            problems.append(Problem(f"decisions[{index}].action", "not a reconciliation action"))
        if decision.action == "add":
            continue
        if decision.item.type != item_type:
            problems.append(Problem(f"decisions[{index}].item", f"expected a {item_type}"))
        elif decision.item.id not in known:
            problems.append(Problem(f"decisions[{index}].item", "not an item of this list"))
    if problems:
        raise ValidationError(problems, what="reconciliation")
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Reconciliation(
        id=FactId(id or f"reconciliation-{list_kind.value}-{stamp}"),
        patient=PatientId(profile.id),
        list=list_kind,
        performer=performer,
        at=at,
        decisions=tuple(decisions),
        sources=profile.sources,
        recorded_at=at,
    )


def with_reconciliation(
    profile: PatientProfile, reconciliation: Reconciliation, *, source: str = "carecoord"
) -> PatientProfile:
    """Return ``profile`` with ``reconciliation`` added to its reconciliations.

    The new fact's provenance names ``source`` (the system that recorded it), the profile
    id as the record, the performer as author and ``at`` as last modified. Adding the same
    reconciliation twice returns the profile unchanged; a different one with the same id
    raises :class:`~carecoord.ConflictError`.
    """
    key = f"{source}/{reconciliation.id}"
    for existing in profile.reconciliations:
        if existing.key == key:
            if existing.value == reconciliation:
                return profile
            raise ConflictError("a different reconciliation with this id is already recorded")
    fact = Fact(
        value=reconciliation,
        provenance=(
            Provenance(
                source=source,
                record=profile.id,
                fact_id=reconciliation.id,
                author=reconciliation.performer,
                last_modified=reconciliation.recorded_at or reconciliation.at,
            ),
        ),
        variants=(reconciliation,),
    )
    facts = sorted((*profile.reconciliations, fact), key=lambda f: f.key)
    return attrs.evolve(profile, reconciliations=tuple(facts))
