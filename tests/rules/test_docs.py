"""Tests that the rule documentation and example execute and the catalogue cannot drift."""

from __future__ import annotations

import importlib.util
import re
import runpy
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_generator() -> ModuleType:
    """Import docs/gen_rule_catalogue.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "gen_rule_catalogue", DOCS / "gen_rule_catalogue.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestCatalogue:
    """Tests for catalogue."""

    def test_committed_catalogue_equals_the_generated_one(self) -> None:
        """docs/rule-catalogue.md is exactly what the generator writes from the metadata."""
        committed = (DOCS / "rule-catalogue.md").read_text(encoding="utf-8")
        assert committed == load_generator().render(), (
            "docs/rule-catalogue.md is stale: run python docs/gen_rule_catalogue.py"
        )

    def test_check_mode_passes(self) -> None:
        """The generator's --check mode agrees the catalogue is current."""
        assert load_generator().main(["--check"]) == 0

    def test_every_rule_is_in_the_catalogue(self) -> None:
        """Each rule id has a section."""
        from carecoord.rules import default_rules

        text = (DOCS / "rule-catalogue.md").read_text(encoding="utf-8")
        for rule_id in default_rules().ids:
            assert f"### `{rule_id}`" in text


MEASURE_RULES = (
    "transition.admission-notice-missing",
    "transition.discharge-info-missing",
    "transition.tcm-contact",
    "transition.follow-up-visit",
    "transition.med-rec",
    "transition.mental-health-follow-up",
    "transition.ed-mental-health-follow-up",
    "transition.ed-chronic-follow-up",
    "referral.loop-open",
    "monitoring.overdue",
)
"""The rules that follow a measure: each exclusion says how it follows the measure."""


def section(text: str, rule_id: str) -> str:
    """The catalogue section of ``rule_id``."""
    start = text.index(f"### `{rule_id}`")
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else len(text)]


class TestExclusionsInTheCatalogue:
    """The catalogue says, for each rule, which exclusions apply and how they follow the measure."""

    def test_every_rule_lists_its_exclusions(self) -> None:
        """Every rule section has a "Not applicable" list with one item per exclusion."""
        from carecoord.rules import default_rules

        text = (DOCS / "rule-catalogue.md").read_text(encoding="utf-8")
        for rule in default_rules():
            shown = section(text, rule.id)
            assert "- **Not applicable:**" in shown, rule.id
            for description in rule.metadata.exclusions:
                assert f"  - {description}" in shown, (rule.id, description)

    @pytest.mark.parametrize("rule_id", MEASURE_RULES)
    def test_measure_rules_say_how_each_exclusion_follows_the_measure(self, rule_id: str) -> None:
        """Each exclusion of a measure rule has its measure wording and a citation."""
        from carecoord.rules import default_rules

        meta = default_rules().get(rule_id).metadata
        assert meta.exclusion_details
        text = section((DOCS / "rule-catalogue.md").read_text(encoding="utf-8"), rule_id)
        for exclusion in meta.exclusion_details:
            assert exclusion.follows, exclusion.description
            assert exclusion.sources, exclusion.description
            assert f"{exclusion.description} *Measure:* {exclusion.follows}" in text

    def test_every_measure_rule_excludes_the_dead(self) -> None:
        """Each measure rule names the death exclusion the engine applies to every rule."""
        from carecoord.rules import default_rules

        for rule_id in MEASURE_RULES:
            descriptions = default_rules().get(rule_id).metadata.exclusions
            assert "The patient has died (by as_of)." in descriptions, rule_id

    def test_sources_outside_the_rules_own_are_linked(self) -> None:
        """An exclusion citing a source the rule does not list links it inline."""
        from carecoord.rules import Citation, Exclusion, RuleMetadata

        other = Citation("Another measure", "https://example.org/measure")
        meta = RuleMetadata(
            id="practice.x",
            title="X",
            description="",
            exclusion_details=(Exclusion("When so.", "As the measure says.", (other,)),),
        )
        lines = load_generator()._exclusions(meta)
        assert lines == [
            "- **Not applicable:**",
            (
                "  - When so. *Measure:* As the measure says. "
                "([Another measure](https://example.org/measure))"
            ),
        ]


class TestDocs:
    """Tests for docs."""

    def test_python_blocks_in_rules_md_run(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Every python block of docs/rules.md runs, in order, in one namespace."""
        text = (DOCS / "rules.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        assert len(blocks) >= 8
        namespace: dict[str, object] = {"__name__": "rules_md"}
        for block in blocks:
            exec(compile(block, "docs/rules.md", "exec"), namespace)
        capsys.readouterr()


class TestExample:
    """Tests for example."""

    def test_custom_rule_example_runs(self, capsys: pytest.CaptureFixture[str]) -> None:
        """examples/custom_rule.py runs and tells its story."""
        runpy.run_path(str(ROOT / "examples" / "custom_rule.py"), run_name="__main__")
        out = capsys.readouterr().out
        assert "Tuesday:  open" in out
        assert "evaluated afterwards: open" in out
        assert "on the work list: False" in out
