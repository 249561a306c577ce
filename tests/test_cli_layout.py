"""The command line is a thin package over the public library: no private imports."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "carecoord" / "cli"


def private_imports(path: Path) -> list[str]:
    """Every import in ``path`` (at any depth) of a module or name with a ``_`` segment.

    ``from carecoord.fhir._read import x`` and ``from carecoord.fhir import _read`` are
    both private; ``from __future__ import annotations`` is not. Relative imports count
    with their dots stripped.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [f"{module}.{alias.name}".lstrip(".") for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("__future__."):
                continue
            if any(part.startswith("_") for part in name.split(".")):
                found.append(f"{path.name}:{node.lineno}: {name}")
    return found


class TestCliImports:
    """The ``carecoord.cli`` package imports public names only."""

    def test_the_cli_is_a_package_of_modules(self) -> None:
        """One module per command, plus the shared ones."""
        modules = {p.stem for p in CLI.glob("*.py")}

        assert {"gaps", "profile", "rules", "demo", "app", "common"} <= modules

    def test_no_module_imports_a_private_name(self) -> None:
        """No ``carecoord.<pkg>._private`` import (or private name) anywhere in the CLI."""
        found = [hit for path in sorted(CLI.glob("*.py")) for hit in private_imports(path)]

        assert found == []

    def test_the_check_sees_private_imports(self, tmp_path: Path) -> None:
        """The check itself flags private modules and names, lazy imports included."""
        sample = tmp_path / "sample.py"
        sample.write_text(
            "from __future__ import annotations\n"
            "import carecoord.fhir._read\n"
            "from carecoord.fhir import _issues, read\n"
            "def f():\n"
            "    from carecoord.fhir._input import iter_documents\n",
            encoding="utf-8",
        )

        assert private_imports(sample) == [
            "sample.py:2: carecoord.fhir._read",
            "sample.py:3: carecoord.fhir._issues",
            "sample.py:5: carecoord.fhir._input.iter_documents",
        ]


COMMAND_MODULE_LIMIT = 200
"""Lines a command's module may have: parsing options and printing what the library returns."""


class TestCliIsThin:
    """Each command stays a thin module over library functions, as later ones are added."""

    def test_every_module_is_short(self) -> None:
        """No module of the command-line package exceeds the limit."""
        long = {
            p.name: n
            for p in sorted(CLI.glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > COMMAND_MODULE_LIMIT
        }

        assert long == {}
