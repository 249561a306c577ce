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


CORE = {
    "carecoord",
    "carecoord.errors",
    "carecoord.display",
    "carecoord.collector",
    "carecoord.domain",
    "carecoord.terminology",
    "carecoord.profile",
    "carecoord.rules",
    "carecoord.interop",
}
LEAVES = {"carecoord.errors", "carecoord.display", "carecoord.collector"}
TERMINOLOGY = LEAVES | {"carecoord.domain", "carecoord.terminology"}
LAYERS: dict[str, set[str]] = {
    "errors.py": set(),
    "display.py": {"carecoord.errors"},
    "collector.py": set(),
    "domain": LEAVES | {"carecoord.domain"},
    "terminology": TERMINOLOGY,
    "profile": TERMINOLOGY | {"carecoord.profile"},
    "rules": TERMINOLOGY | {"carecoord.profile", "carecoord.rules"},
    "interop.py": LEAVES | {"carecoord.domain", "carecoord.interop"},
    "serialization.py": {"carecoord.errors", "carecoord.domain", "carecoord.serialization"},
    "fhir": CORE | {"carecoord.serialization", "carecoord.fhir"},
    "hl7v2": CORE | {"carecoord.serialization", "carecoord.hl7v2"},
    "demo_data": {"carecoord.demo_data"},
    "plot.py": CORE | {"carecoord.plot"},
    "testing": CORE
    | {"carecoord.testing", "carecoord.fhir", "carecoord.serialization", "carecoord.ports"},
    "ports.py": CORE | {"carecoord.ports"},
    "stores": CORE | {"carecoord.serialization", "carecoord.ports", "carecoord.stores"},
    "services": CORE | {"carecoord.ports", "carecoord.services"},
    "cli": CORE
    | {
        "carecoord.cli",
        "carecoord.fhir",
        "carecoord.hl7v2",
        "carecoord.demo_data",
        "carecoord.ports",
        "carecoord.services",
        "carecoord.stores",
    },
    "dask": CORE | {"carecoord.dask", "carecoord.fhir"},
    "__main__.py": {"carecoord.cli"},
    "__init__.py": CORE,
}
"""What each part of the package may import: dependencies point inward; adapters never
import each other; the command line and the test kit sit on top."""
CORE_LAYERS = (
    "errors.py",
    "display.py",
    "collector.py",
    "domain",
    "terminology",
    "profile",
    "rules",
    "interop.py",
)
THIRD_PARTY_CORE = {"attrs", "dateutil", "typing_extensions"}
OPTIONAL_EXTRAS = {
    "holidays",
    "hypothesis",
    "orjson",
    "pandas",
    "polars",
    "matplotlib",
    "dask",
    "distributed",
    "pyarrow",
}
"""Packages of the optional extras: imported lazily, where a feature needs them."""
SRC = Path(__file__).resolve().parents[1] / "src" / "carecoord"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, lazy: bool = True) -> set[str]:
    """Every module ``path`` imports at run time (inside functions too when ``lazy``).

    Imports under ``if TYPE_CHECKING:`` are for the type checker only and do not count;
    ``from package import submodule`` counts as importing the submodule.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if not lazy and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                subs = [f"{child.module}.{a.name}" for a in child.names]
                submodules = [s for s in subs if _is_module(s)]
                found.update(submodules)
                if len(submodules) < len(subs):
                    found.add(child.module)
            visit(child)

    visit(tree)
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("carecoord."):
        return False
    rel = Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def _allowed(name: str, allowed: set[str]) -> bool:
    """Whether importing ``name`` is allowed by ``allowed`` (a layer's entry of LAYERS).

    An entry allows itself and its submodules; ``carecoord`` (the curated top level)
    allows only itself.
    """
    return any(name == a or (a != "carecoord" and name.startswith(a + ".")) for a in allowed)


def _layer_files(layer: str) -> list[Path]:
    target = SRC / layer
    return [target] if target.is_file() else sorted(target.rglob("*.py"))


class TestLayers:
    """Dependencies point inward, adapters never import each other, nothing reaches in."""

    def test_every_module_belongs_to_a_layer(self) -> None:
        """Each file of the package is covered by one entry of LAYERS."""
        covered = {p for layer in LAYERS for p in _layer_files(layer)}

        assert sorted(p.name for p in SRC.rglob("*.py") if p not in covered) == []

    @pytest.mark.parametrize("layer", sorted(LAYERS))
    def test_layer_imports_only_what_it_may(self, layer: str) -> None:
        """A module imports only the carecoord layers its entry allows, lazily or not."""
        allowed = LAYERS[layer]
        bad = [
            f"{path.relative_to(SRC)}: {name}"
            for path in _layer_files(layer)
            for name in _imports(path)
            if name.split(".")[0] == "carecoord" and not _allowed(name, allowed)
        ]

        assert bad == []

    def test_the_layer_check_can_fail(self) -> None:
        """The top-level entry ``carecoord`` allows ``from carecoord import X`` only.

        A prefix match on it would let every layer import every other (an adapter the
        other adapters, the core the coordinator): the check must see through it.
        """
        for name in ("carecoord.hl7v2", "carecoord.stores", "carecoord.services"):
            assert not _allowed(name, LAYERS["fhir"])
        assert _allowed("carecoord", LAYERS["fhir"])
        assert _allowed("carecoord.fhir._read", LAYERS["fhir"])

    @pytest.mark.parametrize("layer", CORE_LAYERS)
    def test_core_uses_only_its_four_dependencies(self, layer: str) -> None:
        """The core imports the stdlib, attrs, dateutil and typing-extensions only.

        No json and no sqlite3; an optional extra only inside the function that needs it.
        """
        eager = {p: _imports(p, lazy=False) for p in _layer_files(layer)}
        bad = [
            f"{path.name}: {name}"
            for path in _layer_files(layer)
            for name in _imports(path)
            if (top := name.split(".")[0]) != "carecoord"
            and (
                top in {"json", "sqlite3"}
                or (
                    top not in sys.stdlib_module_names
                    and top not in THIRD_PARTY_CORE
                    and (top not in OPTIONAL_EXTRAS or name in eager[path])
                )
            )
        ]

        assert bad == []

    def test_no_private_reach_ins(self) -> None:
        """No module imports a private module (``_name``) of another package."""
        bad = []
        for path in SRC.rglob("*.py"):
            here = _module_name(path)
            package = here if path.name == "__init__.py" else here.rpartition(".")[0]
            for name in _imports(path):
                parts = name.split(".")
                private = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
                if private is None or parts[0] != "carecoord":
                    continue
                owner = ".".join(parts[:private])
                if owner != package:
                    bad.append(f"{here}: {name}")

        assert bad == []

    def test_no_import_cycles(self) -> None:
        """The module import graph (lazy imports included) has no cycle."""
        graph = {
            _module_name(p): {n for n in _imports(p) if _is_module(n)} for p in SRC.rglob("*.py")
        }
        cycles = _cycles(graph)

        assert cycles == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found
