"""Import-time behaviour and layering, checked in fresh interpreters."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


class TestImportSideEffects:
    """Importing carecoord loads the core only and touches no environment, file or clock."""

    def test_domain_imports_no_cattrs_json_or_sqlite(self) -> None:
        """carecoord.domain pulls in none of cattrs, json, sqlite3."""
        baseline = _modules_after("")
        loaded = _modules_after("import carecoord.domain") - baseline

        assert not {m for m in loaded if m.split(".")[0] in {"cattrs", "json", "sqlite3"}}

    def test_top_level_import_loads_no_adapter(self) -> None:
        """Import carecoord loads no fhir, hl7v2, stores, serialization or cli module."""
        loaded = _modules_after("import carecoord")

        forbidden = {
            "carecoord.fhir",
            "carecoord.hl7v2",
            "carecoord.stores",
            "carecoord.serialization",
            "carecoord.cli",
            "cattrs",
            "sqlite3",
        }
        assert not (loaded & forbidden)

    def test_import_reads_no_environment_file_or_clock(self) -> None:
        """An audit hook sees no open(), os.environ access or clock reading during import."""
        code = """
import sys, time, datetime
events = []
def hook(event, args):
    if event == "open":
        path = str(args[0])
        if "carecoord" not in path and not path.endswith((".py", ".pyc", "__pycache__")):
            events.append(event)
sys.addaudithook(hook)
real_time = time.time
calls = []
time.time = lambda: calls.append("time") or real_time()
import os
def ours():
    return "/carecoord/" in sys._getframe(2).f_code.co_filename
class Env(dict):
    def __getitem__(self, key):
        if ours():
            calls.append("environ")
        return super().__getitem__(key)
    def get(self, key, default=None):
        if ours():
            calls.append("environ")
        return super().get(key, default)
os.environ = Env(os.environ)
import carecoord, carecoord.domain, carecoord.testing
print(events, calls)
"""
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.strip()

        assert out == "[] []"


LAYERS = {
    "errors.py": set(),
    "domain": {"carecoord.errors", "carecoord.domain"},
    "profile": {"carecoord.errors", "carecoord.domain", "carecoord.profile"},
    "rules": {"carecoord.errors", "carecoord.domain", "carecoord.profile", "carecoord.rules"},
}
THIRD_PARTY_CORE = {"attrs", "dateutil", "typing_extensions"}
SRC = Path(__file__).resolve().parents[1] / "src" / "carecoord"


def _imports(path: Path) -> set[str]:
    """Module-level imports (lazy imports inside functions are optional extras)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    top_level = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
    for node in (n for stmt in top_level for n in ast.walk(stmt)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


class TestLayers:
    """Dependencies point inward: each core layer imports only the layers below it."""

    @pytest.mark.parametrize("layer", sorted(LAYERS))
    def test_layer_imports_only_inner_layers(self, layer: str) -> None:
        """A core module imports the stdlib, attrs, dateutil, typing-extensions and inner layers."""
        target = SRC / layer
        files = [target] if target.is_file() else sorted(target.rglob("*.py"))
        allowed = LAYERS[layer]
        bad: list[str] = []
        for path in files:
            for name in _imports(path):
                top = name.split(".")[0]
                if top == "carecoord":
                    if not any(name == a or name.startswith(a + ".") for a in allowed):
                        bad.append(f"{path.name}: {name}")
                elif (
                    top not in sys.stdlib_module_names and top not in THIRD_PARTY_CORE
                ) or top in {"json", "sqlite3"}:
                    bad.append(f"{path.name}: {name}")

        assert bad == []
