"""Order rules: the same test ordered twice by different clinicians.

Orders carry no status history, so the rules read their status as it stands in the
profile; drafts and orders entered in error are ignored. ``order.duplicate`` watches a state
(an "at once" rule): it reports a duplicate only while it stands at ``as_of``, due on the
local date the second order was placed, and a resolved duplicate leaves no gap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from carecoord.domain import Code, Discipline, Order, OrderStatus
from carecoord.profile import Fact
from carecoord.rules._base import Rule, RuleBase, define_rule, param
from carecoord.rules._context import RuleContext
from carecoord.rules._model import Citation, Gap, RuleMetadata, Severity

__all__ = ["FAMILY", "RULES", "order_duplicate"]

FAMILY = "orders"

_ATLAS = Citation(
    "AHRQ Care Coordination Measures Atlas: communicate and share knowledge among "
    "participants (duplicate testing as a coordination failure)",
    "https://www.ahrq.gov/ncepcr/care/coordination/atlas.html",
)
_SERVICE_REQUEST = Citation(
    "HL7 FHIR R4 ServiceRequest (status active, revoked; reasonCode for a repeat)",
    "https://hl7.org/fhir/R4/servicerequest.html",
)

_IGNORED = frozenset({OrderStatus.DRAFT, OrderStatus.ENTERED_IN_ERROR})


def _meta(**fields: Any) -> RuleMetadata:
    return RuleMetadata(family=FAMILY, **fields)


def _orders(ctx: RuleContext) -> list[Fact[Order]]:
    found = [f for f in ctx.profile.orders if f.value.status not in _IGNORED]
    return sorted(found, key=lambda f: (f.value.authored_on, f.key))


@define_rule(
    _meta(
        id="order.duplicate",
        title="Same test ordered by two clinicians",
        description=(
            "A second clinician ordered a test (same code) that another clinician had "
            "already ordered within the look-back window: one of them likely did not see "
            "the other's order. Earlier orders count whatever their status (a completed "
            "one has a result to look at) except drafts, orders entered in error, and "
            "revoked ones, whose revocation resolves the duplicate. No standard measure "
            "exists for duplicate ordering; the window is a parameter."
        ),
        opens="An order whose code matches an order by a different requester placed up to "
        "30 days before it.",
        due="At once: the local date the second order was placed.",
        closes="Reported only while the duplicate stands: the gap goes away when the first "
        "order is revoked, the second order is revoked, or the second order carries a "
        "justification for the repeat.",
        exclusions=("Patient died.",),
        sources=(_ATLAS, _SERVICE_REQUEST),
        reads=frozenset({"orders", "patient"}),
        discipline=Discipline.PRIMARY_CARE,
        severity=Severity.MEDIUM,
    )
)
@attrs.frozen(repr=False)
class _Duplicate(RuleBase):
    look_back_days: int = param(
        30, "How many days before an order an earlier order of the same test counts.", unit="days"
    )

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        by_code: dict[Code, list[Fact[Order]]] = {}
        for fact in _orders(ctx):
            by_code.setdefault(fact.value.code, []).append(fact)
        for same_test in by_code.values():
            yield from self._duplicates(ctx, same_test)

    def _duplicates(self, ctx: RuleContext, orders: list[Fact[Order]]) -> Iterator[Gap]:
        """The duplicate gaps among orders of one test, earliest first."""
        for index, fact in enumerate(orders):
            order = fact.value
            if order.requester is None:
                continue
            day = ctx.local_date(order.authored_on)
            earlier = []
            for previous in reversed(orders[:index]):
                gap_days = (day - ctx.local_date(previous.value.authored_on)).days
                if gap_days > self.look_back_days:
                    break
                requester = previous.value.requester
                if requester is not None and requester != order.requester:
                    earlier.append(previous)
            earlier.reverse()
            if not earlier:
                continue
            first = earlier[0]
            live = [e for e in earlier if e.value.status is not OrderStatus.REVOKED]
            if order.justification or order.status is OrderStatus.REVOKED or not live:
                continue
            yield ctx.gap(
                focus=fact.key,
                due=day,
                opened=order.authored_on,
                summary=f"Test ordered {day.isoformat()} was already ordered by another "
                f"clinician on {ctx.local_date(first.value.authored_on).isoformat()}.",
                action="Tell both ordering clinicians; cancel one order or document why the "
                "repeat is needed.",
                evidence=(
                    ctx.trigger(fact, "second order of the same test"),
                    ctx.context(first, "earlier order by another clinician"),
                ),
                not_applicable="patient died" if ctx.died_by(day) else None,
            )


def order_duplicate(*, look_back_days: int = 30) -> Rule:
    """``order.duplicate``: the same test ordered by a second clinician within 30 days."""
    return _Duplicate(look_back_days=look_back_days)


RULES: tuple[Rule, ...] = (order_duplicate(),)
"""The order family with its published defaults, in catalogue order."""
