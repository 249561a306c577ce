"""The registry of fact kinds: declared once in the core, one part per kind in every layer."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import carecoord as cc
from carecoord.domain import (
    FACT_FIELDS,
    FACT_KINDS,
    KindTable,
    PartialDate,
    PatientRecord,
    ReferralStatus,
    StatusChange,
    TaskStatus,
    fact_kind,
)
from carecoord.domain._kinds import check_fact_fields
from carecoord.fhir._kinds import FHIR_KINDS
from carecoord.fhir._read_passes import _SELECTED_MAPPERS, FACT_TYPES
from carecoord.profile import PatientProfile
from carecoord.profile._merge import _RULES
from carecoord.profile._timeline import _EXTRACTORS
from carecoord.rules._asof import _PROJECT, referral_status_at, task_status_at
from carecoord.testing import AS_OF, days_before, make_referral, make_task
from carecoord.testing import strategies as cst
from carecoord.testing.strategies import _FACT_STRATEGIES

SRC = Path(cc.__file__).parent

LAYER_TABLES: dict[str, KindTable[Any]] = {
    "profile/_merge.py": _RULES,
    "profile/_timeline.py": _EXTRACTORS,
    "rules/_asof.py": _PROJECT,
    "fhir/_kinds.py": FHIR_KINDS,
    "testing/strategies.py": _FACT_STRATEGIES,
}
"""Every layer's part of the fact kinds. A new layer table must be listed here."""


def _modules_building_tables() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        if path.name == "_kinds.py" and path.parent.name == "domain":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "KindTable"
            ):
                found.add(path.relative_to(SRC).as_posix())
    return found


class TestRegistry:
    """The core declaration of the kinds."""

    def test_names_are_the_record_fields_in_order(self) -> None:
        """FACT_FIELDS is derived from FACT_KINDS, one name per kind, no repeats."""
        assert tuple(k.name for k in FACT_KINDS) == FACT_FIELDS
        assert len(set(FACT_FIELDS)) == len(FACT_FIELDS)

    def test_record_and_profile_declare_every_kind(self) -> None:
        """PatientRecord and PatientProfile hold one field per kind, typed by its model."""
        for cls in (PatientRecord, PatientProfile):
            names = [f.name for f in attrs.fields(cls) if f.name in FACT_FIELDS]
            assert tuple(names) == FACT_FIELDS

    def test_a_class_missing_a_kind_is_refused(self) -> None:
        """The field check names the kind a record-like class lacks."""

        @attrs.frozen
        class Partial:
            care_teams: tuple[Any, ...] = ()

        with pytest.raises(LookupError, match="referrals"):
            check_fact_fields(Partial)

    def test_lookup_by_name(self) -> None:
        """fact_kind finds a kind; an unknown name is a NotFound naming the known kinds."""
        assert fact_kind("results").model is cc.Result
        with pytest.raises(cc.NotFound, match="referrals"):
            fact_kind("referal")

    @settings(max_examples=10, deadline=None)
    @given(data=st.data())
    def test_natural_dates_are_dates(self, data: st.DataObject) -> None:
        """Every kind's natural date is an aware datetime, a partial date or None."""
        for kind in FACT_KINDS:
            fact = data.draw(_FACT_STRATEGIES[kind.name]())
            value = kind.date_of(fact)
            assert value is None or isinstance(value, PartialDate) or value.tzinfo is not None


class TestKindTable:
    """A layer's table must cover the kinds exactly."""

    def test_every_layer_has_a_part_for_every_kind(self) -> None:
        """Each layer's table is complete and in registry order."""
        for layer, table in LAYER_TABLES.items():
            assert tuple(table) == FACT_FIELDS, layer

    def test_every_table_in_the_source_is_checked_here(self) -> None:
        """No module builds a KindTable that this test does not list."""
        assert _modules_building_tables() == set(LAYER_TABLES)

    def test_missing_kind_is_refused(self) -> None:
        """A table without a part for a kind cannot be built; the message names it."""
        parts = dict.fromkeys(FACT_FIELDS[1:], 1)
        with pytest.raises(LookupError, match="care_teams"):
            KindTable("example", parts)

    def test_unknown_kind_is_refused(self) -> None:
        """A table with a part for an unregistered kind cannot be built.

        (The example kind was ``documents`` until documents became a registered kind.)
        """
        parts = dict.fromkeys((*FACT_FIELDS, "letters"), 1)
        with pytest.raises(LookupError, match="letters"):
            KindTable("example", parts)

    def test_a_table_is_read_only(self) -> None:
        """Once built, a table refuses changes (its parts are the layer's, fixed)."""
        table = KindTable("example", dict.fromkeys(FACT_FIELDS, 1))
        with pytest.raises(TypeError, match="read-only"):
            table["care_teams"] = 2
        with pytest.raises(TypeError, match="read-only"):
            table.update({"care_teams": 2})
        assert table["care_teams"] == 1

    def test_fhir_read_types_are_mapped_by_the_reader(self) -> None:
        """Every resource type a kind says it is read from has a reader mapper."""
        mapped = {*FACT_TYPES, *_SELECTED_MAPPERS}
        for name, part in FHIR_KINDS.items():
            assert part.read_from, name
            assert set(part.read_from) <= mapped, name


class TestOneStatusReplay:
    """The domain and the rules answer the same status at a time (one replay)."""

    def test_no_history_before_sending_is_draft_in_both(self) -> None:
        """A sent referral without history, asked before it was sent, was a draft."""
        referral = make_referral(
            history=(), authored_on=days_before(10), sent_at=days_before(5), last_modified=None
        )
        at = days_before(7)
        assert referral.status_at(at) is ReferralStatus.DRAFT
        assert referral_status_at(referral, at) is ReferralStatus.DRAFT

    def test_creation_entry_in_both(self) -> None:
        """Before a creation entry (no from-status) the referral is in its created status."""
        referral = make_referral(history=(StatusChange(None, "sent", days_before(5)),))
        at = days_before(6)
        assert referral.status_at(at) is ReferralStatus.SENT
        assert referral_status_at(referral, at) is ReferralStatus.SENT

    def test_task_replay_in_both(self) -> None:
        """A task started later was requested before; both layers say so."""
        task = make_task().transition_to(TaskStatus.IN_PROGRESS, at=AS_OF + dt.timedelta(days=1))
        assert task.status_at(AS_OF) is TaskStatus.REQUESTED
        assert task_status_at(task, AS_OF) is TaskStatus.REQUESTED

    @settings(max_examples=40, deadline=None)
    @given(referral=cst.referrals(), task=cst.tasks(), at=cst.aware_datetimes())
    def test_domain_and_rules_agree(self, referral: Any, task: Any, at: dt.datetime) -> None:
        """For any referral, task and instant, the two layers give the same status."""
        assert referral.status_at(at) is referral_status_at(referral, at)
        assert task.status_at(at) is task_status_at(task, at)
