"""Small helpers several test modules share."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

__all__ = ["collector", "outputs_under_hash_seeds", "plain"]


def plain(value: object) -> bool:
    """Whether ``value`` is made of str, int, float, bool, None, lists and str-keyed dicts."""
    if value is None or isinstance(value, str | int | float | bool):
        return not isinstance(value, Enum)
    if isinstance(value, list):
        return all(plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    return False


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    """Run with the garbage collector ``enabled`` (or not), restoring its state afterwards."""
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def outputs_under_hash_seeds(code: str, seeds: tuple[str, ...] = ("1", "2", "3")) -> set[str]:
    """The distinct standard outputs of ``python -c code`` run under each ``PYTHONHASHSEED``."""
    return {
        subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in seeds
    }
