"""Pausing the cyclic garbage collector while FHIR input is read, safely across threads.

A read holds every parsed JSON tree until it ends and allocates many model objects
meanwhile: each collection those allocations trigger walks the whole heap without
finding a cycle (JSON trees and frozen models have none). Pausing the collector makes
large reads about twice as fast (see ``docs/benchmarks.md``). The collector is
process-wide, so the pause is shared: :func:`gc_paused` counts the pauses in force
(under a lock), disables the collector when the first begins and re-enables it when the
last ends, and only if it was enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


class _Pauses:
    """The process-wide count of pauses in force."""

    lock = threading.Lock()
    depth = 0
    reenable = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Context manager: the cyclic garbage collector is paused inside it.

    Reference-counted and lock-protected: when several threads (or nested calls) pause
    at once, the collector stays disabled until the last of them ends, and is then
    re-enabled only if it was enabled when the first began. A caller that disabled it
    itself keeps it disabled. Garbage made meanwhile is freed by reference counting as
    usual; cycles wait for the next collection after the pause.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    with _Pauses.lock:
        if _Pauses.depth == 0:
            _Pauses.reenable = gc.isenabled()
            if _Pauses.reenable:
                gc.disable()
        _Pauses.depth += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.reenable:
                _Pauses.reenable = False
                gc.enable()
