"""Stores: adapters that keep the coordinator's state behind the ports of :mod:`carecoord.ports`.

:class:`MemoryStore` keeps everything in memory (transactional and thread-safe; gone when
the process ends). :class:`SQLiteStore` keeps it in one SQLite file that several
processes may share (standard-library ``sqlite3``, WAL, a versioned schema). Every store
passes the same contract suite (:mod:`carecoord.testing.contracts`), which third-party
adapters run against their own store.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes
from carecoord.stores.memory import MemoryStore, MemoryUnitOfWork
from carecoord.stores.sqlite import SQLiteStore, SQLiteUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork", "SQLiteStore", "SQLiteUnitOfWork"]

_bound_reprs(globals()[name] for name in __all__)
checked_classes(
    globals(),
    (
        "MemoryUnitOfWork",
        "SQLiteStore",
        "SQLiteUnitOfWork",
    ),
)
del checked_classes
