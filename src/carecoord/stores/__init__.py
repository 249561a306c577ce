"""Stores: adapters that keep the coordinator's state behind the ports of :mod:`carecoord.ports`.

:class:`MemoryStore` keeps everything in memory (transactional and thread-safe; gone when
the process ends). Every store passes the same contract suite
(``carecoord.testing``), which third-party adapters run against their own store.
"""

from __future__ import annotations

from carecoord.stores.memory import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
