"""Pausing the cyclic garbage collector during bulk work, safely across threads.

A FHIR read holds every parsed JSON tree until it ends and allocates many model objects
meanwhile; linking and merging a population allocates millions of features, pairs and
frozen profiles. Each collection those allocations trigger walks the whole heap without
finding a cycle (JSON trees, frozen models and the linker's tuples have none). Pausing the
collector makes large reads about twice as fast and kept ``build_profiles`` linear (see
``docs/benchmarks.md``). The collector is process-wide, so the pause is shared:
:func:`gc_paused` counts the pauses in force (under a lock), disables the collector when
the first begins and re-enables it when the last ends, and only if it was enabled when
the first began.

When it re-enables the collector, it first moves everything allocated meanwhile to the
oldest generation without examining it (:func:`_promote_unexamined`): otherwise the first
allocation after the pause would trigger a collection of the youngest generation, which
then holds every object the pause let accumulate, and walk them all once more.
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
                _promote_unexamined()
                gc.enable()


def _promote_unexamined() -> None:
    """Move every object the collector tracks to its oldest generation, unexamined.

    ``gc.freeze()`` then ``gc.unfreeze()``: two splices of the collector's lists, whatever
    their length, where a young-generation collection would visit each object. Objects
    that survived the pause are long-lived in all likelihood (a read's records, a
    population's profiles); any cycle among them waits for the next full collection, as
    it would have after surviving a young one. Skipped when the process froze objects of
    its own (``gc.get_freeze_count()``, for instance before forking workers): unfreezing
    would thaw them.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
