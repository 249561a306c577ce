"""The rule catalogue: every family's rules, in order.

To add a family, write ``_<family>.py`` with ``FAMILY`` (its name), ``RULES`` (a tuple of
rules built by its public factories, with the published defaults) and the factories, then
add the module to :data:`FAMILIES` below and re-export the factories from
``carecoord.rules``. The documentation catalogue is generated from the rules' metadata
(``docs/gen_rule_catalogue.py``).
"""

from __future__ import annotations

import functools
from types import ModuleType

from carecoord.rules import (
    _activity,
    _care_plans,
    _care_team,
    _medications,
    _monitoring,
    _orders,
    _referrals,
    _results,
    _social,
    _tasks,
    _transitions,
)
from carecoord.rules._base import Rule
from carecoord.rules._ruleset import RuleSet

__all__ = ["FAMILIES", "default_rules", "family_rules"]

FAMILIES: tuple[ModuleType, ...] = (
    _referrals,
    _transitions,
    _results,
    _orders,
    _care_team,
    _medications,
    _tasks,
    _care_plans,
    _social,
    _monitoring,
    _activity,
)
"""The family modules, in catalogue order; each defines ``FAMILY`` and ``RULES``."""


def family_rules() -> dict[str, tuple[Rule, ...]]:
    """The default rules of each family, by family name, in catalogue order."""
    return {module.FAMILY: tuple(module.RULES) for module in FAMILIES}


@functools.cache
def default_rules() -> RuleSet:
    """The whole catalogue with the published default windows, as a :class:`RuleSet`."""
    return RuleSet(tuple(rule for rules in family_rules().values() for rule in rules))
