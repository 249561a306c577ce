"""The curated public API: every package's ``__all__`` is sorted, complete and documented."""

from __future__ import annotations

import importlib
import inspect
import re
import types
from pathlib import Path
from typing import TypeVar

import pytest

import carecoord

PUBLIC_MODULES = [
    "carecoord",
    "carecoord.domain",
    "carecoord.errors",
    "carecoord.display",
    "carecoord.plot",
    "carecoord.terminology",
    "carecoord.profile",
    "carecoord.rules",
    "carecoord.fhir",
    "carecoord.hl7v2",
    "carecoord.interop",
    "carecoord.ports",
    "carecoord.services",
    "carecoord.stores",
    "carecoord.serialization",
    "carecoord.testing",
    "carecoord.testing.contracts",
    "carecoord.stores",
    "carecoord.stores.sqlite",
    "carecoord.demo_data",
]
"""Every public module with an ``__all__`` (the test kit's strategies need Hypothesis)."""

TOP_LEVEL_LIMIT = 70
"""The top level stays small: the read -> profiles -> gaps -> tasks path and main models."""


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper() or re.fullmatch(r"[A-Z0-9_]+", name):
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _public_names(module: types.ModuleType) -> set[str]:
    """Names a user would take for public: no underscore, no module, no typing helper.

    A package's ``__init__`` re-exports carecoord objects; a plain module's own objects are
    those defined in it (what it imports for its own use is not its API).
    """
    package = hasattr(module, "__path__")
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | TypeVar)
        and name not in {"annotations", "TYPE_CHECKING", "Any", "TypeVar", "Generic"}
        and (
            getattr(value, "__module__", module.__name__).startswith("carecoord")
            if package
            else getattr(value, "__module__", module.__name__) == module.__name__
        )
    }


class TestPublicApi:
    """Each public module's ``__all__`` for real."""

    @pytest.mark.parametrize("name", PUBLIC_MODULES)
    def test_all_is_sorted_unique_and_importable(self, name: str) -> None:
        """__all__ is in RUF022 order without duplicates, and every name exists."""
        module = importlib.import_module(name)
        names = list(module.__all__)

        assert names == sorted(names, key=_isort_key)
        assert len(set(names)) == len(names)
        assert [n for n in names if not hasattr(module, n)] == []

    @pytest.mark.parametrize("name", PUBLIC_MODULES)
    def test_no_public_name_is_left_out(self, name: str) -> None:
        """Every public-looking carecoord object a module holds is listed in __all__."""
        module = importlib.import_module(name)

        assert sorted(_public_names(module) - set(module.__all__)) == []

    @pytest.mark.parametrize("name", PUBLIC_MODULES)
    def test_every_public_name_is_documented(self, name: str) -> None:
        """Every exported class and function has its own docstring."""
        module = importlib.import_module(name)
        undocumented = [
            n
            for n in module.__all__
            if (inspect.isclass(obj := getattr(module, n)) or inspect.isfunction(obj))
            and not (obj.__doc__ or "").strip()
        ]

        assert undocumented == []

    def test_top_level_is_curated(self) -> None:
        """The top level keeps the main path and models; ids and tables stay in subpackages."""
        names = set(carecoord.__all__)

        assert len(names) <= TOP_LEVEL_LIMIT
        assert {"build_profiles", "detect_gaps", "suggest_tasks", "PatientRecord"} <= names
        assert not {"TASK_TRANSITIONS", "REFERRAL_TRANSITIONS", "FACT_FIELDS", "TaskId"} & names

    def test_every_exported_error_is_raised_somewhere(self) -> None:
        """An error class exported by carecoord.errors is raised (or subclassed) in the library."""
        source = "\n".join(
            p.read_text(encoding="utf-8") for p in Path(carecoord.__file__).parent.rglob("*.py")
        )
        errors = importlib.import_module("carecoord.errors")
        unused = [
            n
            for n in errors.__all__
            if inspect.isclass(getattr(errors, n))
            and issubclass(getattr(errors, n), Exception)
            and n != "CarecoordError"
            and not re.search(rf"raise {n}\b|\({n}[,)]|{n}\(", source.replace(f"class {n}(", ""))
        ]

        assert unused == []

    def test_version_is_available_lazily(self) -> None:
        """__version__ comes from the installed metadata."""
        assert carecoord.__version__ == "0.1.0"
