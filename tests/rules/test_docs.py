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
