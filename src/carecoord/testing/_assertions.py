"""Assertion helpers over gap reports, for tests written with any runner (pytest reads them best).

They check the rule id first: a typo (``"referral.unacknowledgd"``) raises
:class:`~carecoord.errors.NotFound` with the closest ids instead of passing as "no gap"
or failing as "found: none". Their frames are hidden from pytest tracebacks
(``__tracebackhide__``), so a failure points at the test line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from carecoord.errors import NotFound
from carecoord.rules import Gap, GapStatus, Rule, RuleSet, default_rules

__all__ = ["assert_gap", "assert_no_gap", "known_rule"]


def known_rule(rule_id: str, rules: RuleSet | Iterable[Rule] | None = None) -> str:
    """``rule_id`` when ``rules`` (default: the catalogue) has it; else :class:`NotFound`.

    The message lists up to three close ids (``did you mean referral.unacknowledged?``).
    """
    __tracebackhide__ = True
    ids = (rules if isinstance(rules, RuleSet) else RuleSet(rules or default_rules())).ids
    if rule_id in ids:
        return rule_id
    close = difflib.get_close_matches(rule_id, ids, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; see carecoord rules"
    raise NotFound(f"unknown rule {rule_id!r}{hint}")


def _matching(gaps: Iterable[Gap], rule_id: str, focus: str | None) -> list[Gap]:
    return [
        g
        for g in gaps
        if g.rule == rule_id and (focus is None or focus in {g.focus, g.focus.split("#", 1)[0]})
    ]


def assert_gap(
    gaps: Iterable[Gap],
    rule_id: str,
    status: GapStatus | None = None,
    *,
    focus: str | None = None,
    rules: RuleSet | Iterable[Rule] | None = None,
) -> Gap:
    """Assert ``gaps`` hold one gap of ``rule_id`` (in ``status`` when given); return it.

    ``gaps`` is a :class:`~carecoord.rules.GapReport` or any gaps; ``focus`` narrows to
    one focus (a fact key, with or without its ``#`` suffix). ``rule_id`` must be a rule
    of ``rules`` (default: the catalogue; pass your rule set for custom rules). The
    failure message lists the rule's gaps found, by focus and status.
    """
    __tracebackhide__ = True
    known_rule(rule_id, rules)
    found = _matching(gaps, rule_id, focus)
    if len(found) != 1:
        states = ", ".join(f"{g.focus}={g.status.value}" for g in found) or "no gap of that rule"
        raise AssertionError(f"expected one {rule_id} gap, found: {states}")
    gap = found[0]
    if status is not None and gap.status is not status:
        msg = f"{rule_id}: expected {status.value}, got {gap.status.value} (due {gap.due})"
        raise AssertionError(msg)
    return gap


def assert_no_gap(
    gaps: Iterable[Gap],
    rule_id: str,
    *,
    focus: str | None = None,
    rules: RuleSet | Iterable[Rule] | None = None,
) -> None:
    """Assert ``gaps`` hold no gap of ``rule_id`` (and ``focus``), in any status."""
    __tracebackhide__ = True
    known_rule(rule_id, rules)
    found = _matching(gaps, rule_id, focus)
    if found:
        states = ", ".join(f"{g.focus}={g.status.value}" for g in found)
        raise AssertionError(f"expected no {rule_id} gap, found: {states}")
