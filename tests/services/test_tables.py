"""The coordinator's worklist, outbox events and ledger as rows, data frames and HTML."""

from __future__ import annotations

import json

import pytest

from carecoord.demo_data import DEMO_AS_OF
from carecoord.display import MAX_REPR
from carecoord.domain import ActivityKind, PatientRecord
from carecoord.ports import (
    EVENT_COLUMNS,
    GAP_STATE_COLUMNS,
    GAP_STATE_PERSONAL_COLUMNS,
    LEDGER_COLUMNS,
    Events,
    GapStates,
    LedgerEntries,
)
from carecoord.services import Coordinator
from carecoord.stores import MemoryStore

SECRET = "Mrs <b>Quartermaine</b> & co"


@pytest.fixture(scope="module")
def worked(demo_records: tuple[PatientRecord, ...]) -> Coordinator:
    """The demo data in a coordinator, one gap assigned, snoozed and noted with free text."""
    coordinator = Coordinator(MemoryStore())
    coordinator.ingest(demo_records, as_of=DEMO_AS_OF)
    top = coordinator.worklist(DEMO_AS_OF)[0]
    coordinator.assign(
        top.key, "nurse-1", actor="lead-1", at=DEMO_AS_OF, reason=SECRET,
        kind=ActivityKind.CHART_REVIEW, minutes=5,
    )  # fmt: skip
    coordinator.add_note(top.key, SECRET, actor="nurse-1", at=DEMO_AS_OF)
    return coordinator


def test_worklist_rows_have_the_documented_columns_and_are_json(worked: Coordinator) -> None:
    """Each worklist row has exactly GAP_STATE_COLUMNS and survives a JSON round trip."""
    work = worked.worklist(DEMO_AS_OF)
    rows = work.to_records()

    assert isinstance(work, GapStates)
    assert len(rows) == len(work) == 53
    assert all(tuple(r) == GAP_STATE_COLUMNS for r in rows)
    assert json.loads(json.dumps(rows)) == rows
    assigned = [r for r in rows if r["assigned_to"] == "nurse-1"]
    assert [(r["notes"], r["key"]) for r in assigned] == [(1, work[0].key)]


def test_worklist_rows_hide_free_text_unless_asked(worked: Coordinator) -> None:
    """Reasons and note texts appear only with show_personal_data=True."""
    work = worked.worklist(DEMO_AS_OF)

    assert SECRET not in json.dumps(work.to_records())
    rows = work.to_records(show_personal_data=True)
    assert all(tuple(r) == GAP_STATE_COLUMNS + GAP_STATE_PERSONAL_COLUMNS for r in rows)
    assert SECRET in json.dumps(rows)


def test_worklist_to_pandas_keeps_the_column_order(worked: Coordinator) -> None:
    """The data frame has one row per gap and the documented columns, in order."""
    frame = worked.worklist(DEMO_AS_OF).to_pandas()

    assert list(frame.columns) == list(GAP_STATE_COLUMNS)
    assert len(frame) == 53
    assert frame["status"].isin(["open", "prospective"]).all()


def test_worklist_html_is_masked_and_escaped(worked: Coordinator) -> None:
    """The notebook display hides free text by default and escapes it when shown."""
    work = worked.worklist(DEMO_AS_OF)
    masked = work._repr_html_()
    shown = work.display(show_personal_data=True)

    assert "Quartermaine" not in masked
    assert 'data-cc-kind="gap-states"' in masked
    assert "53 gaps of" in masked
    assert shown.personal
    assert "Mrs &lt;b&gt;Quartermaine&lt;/b&gt; &amp; co" in shown.html
    assert "<b>Quartermaine" not in shown.html


def test_event_rows_and_frame(worked: Coordinator) -> None:
    """Outbox events become JSON rows and a data frame with EVENT_COLUMNS."""
    events = worked.events()
    rows = events.to_records()

    assert isinstance(events, Events)
    assert all(tuple(r) == EVENT_COLUMNS for r in rows)
    assert [r["position"] for r in rows] == list(range(1, len(rows) + 1))
    assert json.loads(json.dumps(rows)) == rows
    assert list(events.to_pandas().columns) == list(EVENT_COLUMNS)
    assert SECRET not in json.dumps(rows)


def test_ledger_rows_hide_the_reason_unless_asked(worked: Coordinator) -> None:
    """Ledger rows have LEDGER_COLUMNS; the free-text reason only when asked."""
    person = worked.worklist(DEMO_AS_OF)[0].person
    ledger = worked.ledger(person)
    rows = ledger.to_records()

    assert isinstance(ledger, LedgerEntries)
    assert all(tuple(r) == LEDGER_COLUMNS for r in rows)
    assert {r["action"] for r in rows} == {"gap.assigned", "gap.noted"}
    assert SECRET not in json.dumps(rows)
    assert SECRET in json.dumps(ledger.to_records(show_personal_data=True))
    assert list(ledger.to_pandas(show_personal_data=True).columns) == [*LEDGER_COLUMNS, "reason"]


def test_result_reprs_count_and_stay_short(worked: Coordinator) -> None:
    """The worklist, events and ledger reprs are counts, short, with no free text."""
    person = worked.worklist(DEMO_AS_OF)[0].person
    texts = [
        repr(worked.worklist(DEMO_AS_OF)),
        repr(worked.events()),
        repr(worked.ledger(person)),
        repr(GapStates(list(worked.worklist(DEMO_AS_OF)) * 400)),
    ]

    assert texts[0] == "GapStates(53 gaps of 3 persons: 40 open, 13 prospective; 1 assigned)"
    assert texts[1].startswith(f"Events({len(worked.events())} events 1..")
    assert texts[2].startswith("LedgerEntries(2 entries, 5 minutes: ")
    assert all(len(t) <= MAX_REPR and "Quartermaine" not in t for t in texts)


def test_results_still_compare_as_tuples(worked: Coordinator) -> None:
    """The result types are tuples: an empty worklist equals ()."""
    assert worked.worklist(DEMO_AS_OF, owner="nobody") == ()
    assert worked.events(after=10**9) == ()
