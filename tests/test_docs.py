"""The Python snippets in README.md and docs/*.md run as written.

Blocks fenced as ```` ```python ```` are executed in order, sharing one namespace per
page; blocks fenced as ```` ```text ```` or ```` ```console ```` are not code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


class TestDocs:
    """Documentation is executable."""

    @pytest.mark.parametrize(
        "page",
        [p for p in PAGES if _blocks(p)],
        ids=lambda p: p.name,
    )
    def test_snippets_run(self, page: Path) -> None:
        """Every python block on the page runs without an exception."""
        namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
        for index, block in enumerate(_blocks(page)):
            code = compile(block, f"{page.name}[block {index}]", "exec")
            exec(code, namespace)

    def test_error_tree_matches_the_errors_module(self) -> None:
        """docs/model.md draws the same exception tree as carecoord/errors.py's docstring."""
        import carecoord.errors

        def tree(text: str) -> list[str]:
            start = text.index("CarecoordError\n")
            lines = []
            for line in text[start:].splitlines():
                if not line.strip() or line.strip().startswith("```"):
                    break
                lines.append(line.strip())
            return lines

        documented = tree((ROOT / "docs" / "model.md").read_text(encoding="utf-8"))
        assert documented == tree(carecoord.errors.__doc__ or "")
        assert any("UsageError" in line for line in documented)
