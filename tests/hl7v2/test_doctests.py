"""The examples in the HL7 v2 package's and the shared code tables' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["carecoord.hl7v2", "carecoord.terminology._tables"])
def test_doctests(name: str) -> None:
    """Every doctest of the module passes, and there is at least one."""
    result = doctest.testmod(importlib.import_module(name))

    assert result.attempted > 0
    assert result.failed == 0
