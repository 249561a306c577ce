"""Tests for the rule protocol, the helpers rules are written with, and the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import pytest

import carecoord.rules as rules_api
from carecoord.errors import ValidationError
from carecoord.profile._model import profile_from_record
from carecoord.rules import (
    Gap,
    Rule,
    RuleBase,
    RuleContext,
    RuleMetadata,
    configure_rule,
    default_rules,
    define_rule,
    detect_gaps,
    family_rules,
    param,
)
from carecoord.rules._catalogue import FAMILIES
from carecoord.testing import AS_OF, make_record

ALL = list(default_rules())


def factory_name(rule: Rule) -> str:
    """The public factory name for a rule id."""
    return rule.id.replace(".", "_").replace("-", "_")


class TestCatalogue:
    """Tests for catalogue."""

    def test_families_in_order(self) -> None:
        """The catalogue lists the families in DOMAIN.md's order."""
        assert list(family_rules()) == [
            "referrals",
            "transitions",
            "results",
            "orders",
            "care-teams",
            "medications",
            "tasks",
            "care-plans",
            "social",
            "monitoring",
            "activity",
        ]

    def test_every_family_module_declares_family_and_rules(self) -> None:
        """Each family module has FAMILY and a RULES tuple."""
        for module in FAMILIES:
            assert isinstance(module.FAMILY, str)
            assert isinstance(module.RULES, tuple)

    def test_the_whole_catalogue(self) -> None:
        """Every rule of DOMAIN.md's table, with its stable id, in catalogue order."""
        assert default_rules().ids == (
            "referral.unacknowledged",
            "referral.unscheduled",
            "referral.missed-appointment",
            "referral.report-missing",
            "referral.loop-open",
            "referral.declined-no-alternative",
            "referral.prior-auth-overdue",
            "transition.admission-notice-missing",
            "transition.discharge-info-missing",
            "transition.tcm-contact",
            "transition.follow-up-visit",
            "transition.med-rec",
            "transition.mental-health-follow-up",
            "transition.ed-mental-health-follow-up",
            "transition.ed-chronic-follow-up",
            "result.missing",
            "result.unacknowledged",
            "result.abnormal-no-follow-up",
            "order.duplicate",
            "care-team.no-primary-care",
            "care-team.no-lead",
            "care-team.behavioral-health-missing",
            "care-team.inactive-owner",
            "medication.discrepancy",
            "medication.change-not-shared",
            "task.overdue",
            "task.unassigned",
            "task.stalled",
            "care-plan.missing",
            "care-plan.review-overdue",
            "care-plan.goal-without-activity",
            "social.need-unaddressed",
            "social.referral-outcome-missing",
            "monitoring.overdue",
            "activity.ccm-time",
        )

    def test_default_rules_is_shared_and_immutable(self) -> None:
        """default_rules returns the same immutable set each time."""
        assert default_rules() is default_rules()


class TestEveryRule:
    """Tests for every rule."""

    @pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
    def test_has_a_public_factory_with_the_defaults(self, rule: Rule) -> None:
        """carecoord.rules.<factory>() builds the catalogue's rule (same defaults)."""
        factory = getattr(rules_api, factory_name(rule))
        assert factory() == rule

    @pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
    def test_repr_reads_like_the_factory_call(self, rule: Rule) -> None:
        """The repr starts with the factory name and shows the parameters."""
        assert repr(rule).startswith(factory_name(rule) + "(")

    @pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
    def test_metadata_is_complete(self, rule: Rule) -> None:
        """Title, description, clock, sources with addresses, reads and discipline are set."""
        meta = rule.metadata
        assert meta.id == rule.id
        assert all((meta.title, meta.description, meta.opens, meta.due, meta.closes))
        assert meta.sources
        assert all(s.url for s in meta.sources)
        assert meta.reads
        assert meta.discipline is not None
        assert rule.id.startswith(meta.family.rstrip("s") + ".")

    @pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
    def test_parameters_match_the_fields(self, rule: Rule) -> None:
        """Every parameter is described, and its default is the rule's current value."""
        for parameter in rule.metadata.parameters:
            assert parameter.description
            assert getattr(rule, parameter.name) == parameter.default

    @pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
    def test_an_empty_profile_has_no_gaps(self, rule: Rule) -> None:
        """With no facts, no rule finds anything (and none raises)."""
        report = detect_gaps(profile_from_record(make_record()), as_of=AS_OF, rules=[rule])
        assert report.ok
        assert len(report) == 0


@define_rule(RuleMetadata(id="test.sample", title="Sample", description="A test rule."))
@attrs.frozen(repr=False)
class Sample(RuleBase):
    """A rule written with the RuleBase helpers."""

    within_days: int = param(3, "Days.", unit="days")
    label: str = param("x", "A label.")

    def evaluate(self, ctx: RuleContext) -> Iterator[Gap]:
        """Return the rule's gaps."""
        return iter(())


class TestDefineRule:
    """Tests for define rule."""

    def test_parameters_come_from_the_fields(self) -> None:
        """define_rule fills the metadata's parameters from param() fields."""
        params = Sample().metadata.parameters
        assert [(p.name, p.default, p.unit) for p in params] == [
            ("within_days", 3, "days"),
            ("label", "x", None),
        ]

    def test_only_attrs_classes(self) -> None:
        """define_rule refuses a class that is not an attrs class."""
        with pytest.raises(TypeError, match="attrs"):
            define_rule(RuleMetadata(id="a.b", title="A", description=""))(object)

    def test_configure_changes_a_parameter(self) -> None:
        """A RuleBase rule's configure returns a copy with the new value."""
        assert Sample().configure(within_days=5).within_days == 5

    def test_int_parameters_must_be_non_negative(self) -> None:
        """param() checks integer windows."""
        with pytest.raises(ValidationError, match="0 or more"):
            Sample(within_days=-2)

    def test_bool_is_not_an_int_window(self) -> None:
        """True is not accepted as a number of days."""
        with pytest.raises(ValidationError):
            Sample(within_days=True)

    def test_is_a_rule(self) -> None:
        """A RuleBase attrs class satisfies the Rule protocol."""
        assert isinstance(Sample(), Rule)


class Plain:
    """A rule that is not an attrs class and has no parameters."""

    id = "test.plain"
    metadata = RuleMetadata(id="test.plain", title="Plain", description="")

    def evaluate(self, ctx: RuleContext) -> list[Gap]:
        """Return the rule's gaps."""
        return []


class OwnConfigure(Plain):
    """A rule with its own configure method."""

    def __init__(self, days: int = 1) -> None:
        self.days = days

    def configure(self, **params: Any) -> OwnConfigure:
        """Return a copy with new parameters."""
        return OwnConfigure(**params)


class TestConfigureRule:
    """Tests for configure rule."""

    def test_plain_rules_have_nothing_to_configure(self) -> None:
        """A non-attrs rule without configure cannot be configured."""
        with pytest.raises(ValidationError, match="no parameters"):
            configure_rule(Plain(), days=1)

    def test_a_rules_own_configure_is_used(self) -> None:
        """A rule's own configure method wins."""
        configured = configure_rule(OwnConfigure(), days=4)
        assert isinstance(configured, OwnConfigure)
        assert configured.days == 4

    def test_attrs_rules_without_rulebase(self) -> None:
        """A plain attrs rule (not RuleBase) is configured with attrs.evolve."""

        @attrs.frozen
        class Attrsy:
            id: ClassVar[str] = "test.attrsy"
            metadata: ClassVar[RuleMetadata] = RuleMetadata(
                id="test.attrsy", title="A", description=""
            )
            days: int = 1

            def evaluate(self, ctx: RuleContext) -> list[Gap]:
                """Return the rule's gaps."""
                return []

        assert configure_rule(Attrsy(), days=2) == Attrsy(days=2)
