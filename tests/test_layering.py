"""Import-time behaviour and layering, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

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
class Env(dict):
    def __getitem__(self, key):
        calls.append("environ")
        return super().__getitem__(key)
    def get(self, key, default=None):
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

    @pytest.mark.parametrize("module", ["carecoord.domain", "carecoord.errors"])
    def test_inner_layers_import_nothing_outward(self, module: str) -> None:
        """The domain layer imports only carecoord.errors from carecoord."""
        loaded = _modules_after(f"import {module}")
        ours = {m for m in loaded if m.startswith("carecoord.")}

        assert ours <= {
            "carecoord.errors",
            "carecoord.domain",
            *{m for m in ours if m.startswith("carecoord.domain.")},
        }
