"""Tests for the order rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.domain import Code, Order, OrderStatus, Ref, System
from carecoord.rules import order_duplicate
from carecoord.testing import CARDIOLOGIST, PCP, Scenario, make_order

NY = ZoneInfo("America/New_York")
FIRST_DAY = dt.date(2026, 1, 20)
SECOND_DAY = dt.date(2026, 2, 4)
DUPLICATE = "order.duplicate"


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A New York local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def first(**changes: Any) -> Order:
    """The PCP's HbA1c order on 20 January."""
    return make_order(**{"id": "order-1", "authored_on": at(FIRST_DAY), **changes})


def second(**changes: Any) -> Order:
    """The cardiologist's HbA1c order on 4 February."""
    fields = {"id": "order-2", "authored_on": at(SECOND_DAY), "requester": CARDIOLOGIST}
    return make_order(**{**fields, **changes})


def start_after(day: dt.date) -> dt.datetime:
    """The first instant of the day after ``day`` in New York."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=NY)


def scenario(*orders: Order, now: dt.datetime | None = None) -> Scenario:
    """A scenario with the given orders (by default both)."""
    s = Scenario(start=now or at(SECOND_DAY, 12))
    s.add("orders", *(orders or (first(), second())))
    return s


class TestOrderDuplicate:
    """Tests for order.duplicate."""

    def test_the_second_order_is_the_focus_and_due_at_once(self) -> None:
        """The gap is about the second order and due on the local day it was placed."""
        gap = scenario().gap(DUPLICATE)
        assert gap.focus == "clinic-ehr/order-2"
        assert gap.due == SECOND_DAY
        assert gap.opened == at(SECOND_DAY)

    def test_both_sides_of_the_edge(self) -> None:
        """Prospective through the day of the second order, open from the next midnight."""
        s = scenario()
        s.set_now(at(SECOND_DAY)).assert_prospective(DUPLICATE)
        end = dt.datetime.combine(SECOND_DAY, dt.time.max, tzinfo=NY)
        s.set_now(end).assert_prospective(DUPLICATE)
        s.set_now(start_after(SECOND_DAY)).assert_open(DUPLICATE)

    def test_no_gap_before_the_second_order(self) -> None:
        """Before the second order exists there is nothing to duplicate."""
        scenario(now=at(SECOND_DAY, 9)).assert_no_gap(DUPLICATE)

    def test_the_earlier_order_is_context(self) -> None:
        """The first order is named as context evidence."""
        gap = scenario().gap(DUPLICATE)
        assert gap.evidence[1].ref == Ref("Order", "clinic-ehr/order-1")

    def test_look_back_30_days_inclusive(self) -> None:
        """An earlier order 30 days before counts."""
        scenario(first(authored_on=at(SECOND_DAY - dt.timedelta(days=30)))).add(
            "orders", second()
        ).assert_prospective(DUPLICATE)

    def test_look_back_31_days_is_too_old(self) -> None:
        """An earlier order 31 days before does not count."""
        s = scenario(first(authored_on=at(SECOND_DAY - dt.timedelta(days=31))), second())
        s.assert_no_gap(DUPLICATE)

    def test_same_requester_is_not_a_duplicate_here(self) -> None:
        """The same clinician ordering twice is not this rule's concern."""
        scenario(first(), second(requester=PCP)).assert_no_gap(DUPLICATE)

    def test_different_tests_are_not_duplicates(self) -> None:
        """Orders of different codes do not match."""
        other = Code(System.LOINC, "2160-0", "Creatinine")
        scenario(first(), second(code=other)).assert_no_gap(DUPLICATE)

    def test_no_gap_for_a_justified_repeat(self) -> None:
        """A justified repeat is no duplicate: no gap (not a closed one)."""
        s = scenario(first(), second(justification="Repeat after therapy change"))
        s.assert_no_gap(DUPLICATE)

    def test_no_gap_once_the_first_order_is_revoked(self) -> None:
        """Revoking the first order resolves the duplicate: no gap."""
        scenario(first(status=OrderStatus.REVOKED), second()).assert_no_gap(DUPLICATE)

    def test_no_gap_once_the_duplicate_is_revoked(self) -> None:
        """Revoking the second order resolves it too."""
        scenario(first(), second(status=OrderStatus.REVOKED)).assert_no_gap(DUPLICATE)

    def test_a_second_order_recorded_after_as_of_is_not_known(self) -> None:
        """Time travel: a second order recorded later does not exist yet."""
        s = scenario(first(), second(recorded_at=at(SECOND_DAY, 15)))
        s.set_now(at(SECOND_DAY, 14)).assert_no_gap(DUPLICATE)
        s.set_now(at(SECOND_DAY, 15)).assert_prospective(DUPLICATE)
        s.set_now(start_after(SECOND_DAY)).assert_open(DUPLICATE)

    def test_entered_in_error_orders_are_ignored(self) -> None:
        """An earlier order entered in error is no duplicate."""
        scenario(first(status=OrderStatus.ENTERED_IN_ERROR), second()).assert_no_gap(DUPLICATE)

    def test_patient_died_is_not_applicable(self) -> None:
        """A patient who died on or before the second order: not applicable."""
        s = scenario(now=at(dt.date(2026, 2, 10)))
        s.update_patient(deceased_at=at(SECOND_DAY, 9))
        s.assert_not_applicable(DUPLICATE)

    def test_look_back_is_configurable(self) -> None:
        """look_back_days shortens the window."""
        s = Scenario(start=at(SECOND_DAY, 12), rules=[order_duplicate(look_back_days=7)])
        s.add("orders", first(), second())
        s.assert_no_gap(DUPLICATE)
