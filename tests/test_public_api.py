"""The curated public API."""

from __future__ import annotations

import importlib
import inspect

import pytest

import carecoord


class TestPublicApi:
    """__all__ is sorted, complete and documented."""

    @pytest.mark.parametrize("module", ["carecoord", "carecoord.domain", "carecoord.testing"])
    def test_all_is_sorted_and_importable(self, module: str) -> None:
        """Every name in __all__ exists, and the list is sorted without duplicates."""
        mod = importlib.import_module(module)
        names = list(mod.__all__)

        assert names == sorted(set(names), key=names.index)
        for name in names:
            assert hasattr(mod, name), name

    @pytest.mark.parametrize("module", ["carecoord", "carecoord.domain", "carecoord.testing"])
    def test_every_public_name_is_documented(self, module: str) -> None:
        """Every public class and function has a docstring."""
        mod = importlib.import_module(module)
        undocumented = [
            name
            for name in mod.__all__
            if (inspect.isclass(getattr(mod, name)) or inspect.isfunction(getattr(mod, name)))
            and not (inspect.getdoc(getattr(mod, name)) or "").strip()
        ]

        assert undocumented == []

    def test_version_is_available_lazily(self) -> None:
        """__version__ comes from the installed metadata."""
        assert carecoord.__version__ == "0.1.0"
